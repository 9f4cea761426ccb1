//! The untyped form every command takes on its way to the state machine: the bytes of the
//! command line, what follows a prompt, how the command completes, its time limit, and what
//! it changes in the state machine when it succeeds.
//!
//! Typed commands ([`crate::Command`]) build a [`Request`] and parse a [`Response`].

use std::time::Duration;

use bytes::Bytes;

use crate::urc::{Message, Urc, UrcKind};

/// An encoded AT command, ready for [`crate::Session::submit`].
///
/// `Debug` shows the line as text, or only the command's name when the line is secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The command's name for errors and logs, e.g. `"AT+QMTOPEN"`.
    pub name: &'static str,
    /// The command line, starting with `AT`, without the terminating CR.
    pub line: Vec<u8>,
    /// Bytes the command sends after the module asks for them.
    pub data: Option<Data>,
    /// Which information lines belong to this command's response.
    pub info: Info,
    /// How the command completes.
    pub completion: Completion,
    /// The longest the module may take, from the moment the line is written until completion.
    pub timeout: Duration,
    /// What a success changes in the state machine's view of the module.
    pub effect: Option<Effect>,
    /// The line, its data or its reply carries a secret (a password, a device secret, a key):
    /// logs and transcripts show only the command's name.
    pub secret: bool,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = if self.secret {
            format!("{} (secret line withheld)", self.name)
        } else {
            String::from_utf8_lossy(&self.line).into_owned()
        };
        f.debug_struct("Request")
            .field("name", &self.name)
            .field("line", &line)
            .field(
                "data",
                &DataSummary {
                    data: &self.data,
                    secret: self.secret,
                },
            )
            .field("info", &self.info)
            .field("completion", &self.completion)
            .field("timeout", &self.timeout)
            .field("effect", &self.effect)
            .field("secret", &self.secret)
            .finish()
    }
}

/// `Debug` of [`Request::data`]: the bytes, or only their count when the request is secret.
struct DataSummary<'a> {
    data: &'a Option<Data>,
    secret: bool,
}

impl std::fmt::Debug for DataSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.data, self.secret) {
            (Some(Data::Prompt(bytes) | Data::Connect(bytes)), true) => {
                write!(f, "<{} bytes withheld>", bytes.len())
            }
            (data, _) => data.fmt(f),
        }
    }
}

/// Data sent after the module asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// Sent after the `>` prompt (`AT+QMTPUBEX`, `AT+QMTCFG="willex"`): exactly these bytes,
    /// with no line ending.
    Prompt(Bytes),
    /// Sent after the `CONNECT` line (`AT+QFUPL`, guide §5.2).
    Connect(Bytes),
}

/// Which lines received while the command is in flight are its information response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Info {
    /// None: any line is a URC or unsolicited.
    None,
    /// Lines starting with this prefix (e.g. `"+QMTCFG:"`), even when the same prefix is also
    /// a URC (`+QMTOPEN:` answers `AT+QMTOPEN?` and completes `AT+QMTOPEN=`).
    Prefix(&'static str),
    /// Every line that is not a known URC (`ATI`, `AT+CGSN`: bare text lines).
    Text,
}

/// How a command completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// At its final result code (`OK`, `ERROR`, `+CME ERROR`).
    Final,
    /// At `OK` and the URC matching this key, which may arrive before or after the `OK`.
    /// The AT channel is free for the next command as soon as `OK` arrives.
    Urc(UrcKey),
}

/// Identifies the URC that completes a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UrcKey {
    pub kind: UrcKind,
    pub client: u8,
    /// Set for SUB, UNS and PUBEX, whose URCs carry the msgid.
    pub msgid: Option<u16>,
}

/// What a successful command changes in the session's view of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `ATE0` / `ATE1`.
    Echo(bool),
    /// `AT+QMTCFG="timeout",idx,pkt_timeout,retry_times,…`: later time limits use these.
    Timing {
        client: u8,
        pkt_timeout: u16,
        retry_times: u8,
    },
    /// `AT+QMTCFG="recv/mode",idx,mode,len`: how `+QMTRECV` lines are framed.
    RecvLength { client: u8, with_length: bool },
    /// `AT+QMTCFG="dataformat"` / `"send/mode"`: payloads in hex.
    HexPayloads {
        client: u8,
        send: Option<bool>,
        recv: Option<bool>,
    },
}

/// What the module answered to a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order, without their CR LF.
    pub info: Vec<String>,
    /// `+QMTRECV` messages read with `AT+QMTRECV=<idx>[,<recv_id>]`.
    pub messages: Vec<Message>,
    /// The URC that completed the command, for [`Completion::Urc`].
    pub urc: Option<Urc>,
}

/// The time limits of a client, from `AT+QMTCFG="timeout"` (defaults 5 s and 3 retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub pkt_timeout: u16,
    pub retry_times: u8,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            pkt_timeout: 5,
            retry_times: 3,
        }
    }
}

impl Timing {
    /// `AT+QMTCONN`: `<pkt_timeout>`.
    pub fn connect(&self) -> Duration {
        Duration::from_secs(self.pkt_timeout.into())
    }

    /// SUB, UNS and PUBEX: `<pkt_timeout> × <retry_times>` (guide §3.2.6–3.2.8), and at least
    /// one `<pkt_timeout>` when retries are off.
    pub fn packet(&self) -> Duration {
        Duration::from_secs(u64::from(self.pkt_timeout) * u64::from(self.retry_times.max(1)))
    }
}
