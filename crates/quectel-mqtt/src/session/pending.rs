//! The bookkeeping of one command on its way through the session, and what its completion
//! means for the client it addresses.

use std::time::Instant;

use bytes::Bytes;

use crate::error::Error;
use crate::request::{Completion, Request, Response, UrcKey};
use crate::urc::{Message, Urc, UrcKind};

use super::{ClientState, RequestId};

#[derive(Debug)]
pub(super) struct Pending {
    pub(super) id: RequestId,
    pub(super) request: Request,
    pub(super) info: Vec<String>,
    pub(super) messages: Vec<Message>,
    pub(super) urc: Option<Urc>,
    pub(super) deadline: Instant,
    pub(super) data_sent: bool,
    pub(super) echo_seen: bool,
}

impl Pending {
    pub(super) fn response(&mut self) -> Response {
        Response {
            info: std::mem::take(&mut self.info),
            messages: std::mem::take(&mut self.messages),
            urc: self.urc.take(),
        }
    }

    pub(super) fn key(&self) -> Option<UrcKey> {
        match self.request.completion {
            Completion::Urc(key) => Some(key),
            Completion::Final => None,
        }
    }
}

/// What occupies the AT channel.
#[derive(Debug)]
pub(super) enum Channel {
    Idle,
    Busy(Box<Pending>),
    /// Sorting out a timed-out command's late answer (see the module docs).
    Probing {
        prefix: &'static str,
        answered: bool,
        deadline: Instant,
    },
    /// A command with data timed out before its `>` prompt (or `CONNECT`): the module may
    /// still enter its input, where any byte becomes data. Nothing is written until it shows
    /// its state or `deadline` passes (see the module docs).
    Input {
        data: Bytes,
        /// `CONNECT` (file upload) rather than `>`.
        connect: bool,
        deadline: Instant,
    },
}

/// A client's state once a command that waits for its result URC completes.
pub(super) fn state_after(
    kind: UrcKind,
    result: &Result<Response, Error>,
    current: ClientState,
) -> ClientState {
    match (kind, result) {
        (UrcKind::Open, Ok(_)) => ClientState::Open,
        (UrcKind::Open, Err(_)) => ClientState::Closed,
        (UrcKind::Conn, Ok(_)) => ClientState::Connected,
        (UrcKind::Conn, Err(Error::LinkDown { .. })) => ClientState::Closed,
        (UrcKind::Conn, Err(_)) => ClientState::Open,
        (UrcKind::Disc | UrcKind::Close, Ok(_)) => ClientState::Closed,
        (UrcKind::Disc, Err(_)) => ClientState::Connected,
        _ => current,
    }
}

pub(super) fn is_publish_of(p: &Pending, client: u8) -> bool {
    matches!(p.request.completion, Completion::Urc(UrcKey { kind: UrcKind::PubEx, client: c, .. }) if c == client)
}

/// Turns a failure reported by the completing URC into an error, so every caller sees it the
/// same way; the typed command's `parse` then reads only successes.
pub(super) fn check_urc(request: &Request, response: Response) -> Result<Response, Error> {
    use crate::urc::{OpenResult, PacketResult};
    let command = request.name;
    match &response.urc {
        Some(Urc::Open { result, .. }) if *result != OpenResult::Opened => {
            Err(Error::Open(*result))
        }
        Some(Urc::Conn {
            result, ret_code, ..
        }) if *result != PacketResult::Acked || ret_code.is_some_and(|c| c.code() != 0) => {
            Err(Error::Connect {
                result: *result,
                ret_code: *ret_code,
            })
        }
        Some(Urc::Sub { result, .. } | Urc::Uns { result, .. } | Urc::PubEx { result, .. })
            if *result == PacketResult::Failed =>
        {
            Err(Error::Packet {
                command,
                result: *result,
            })
        }
        Some(Urc::Close { result, .. } | Urc::Disc { result, .. }) if *result != 0 => {
            Err(Error::Failed { command })
        }
        _ => Ok(response),
    }
}
