//! What a completed command changes in the session's view of the module: settings a success
//! applies, and the fate of commands waiting on a client whose link went down.

use crate::decoder::RecvFraming;
use crate::error::Error;
use crate::request::{Effect, Timing};
use crate::urc::StatCode;

use super::{ClientState, Session};

impl Session {
    /// The client's MQTT link is gone: what waited for its results will not get them.
    pub(super) fn link_down(&mut self, client: u8, code: StatCode) {
        if let Some(state) = self.clients.get_mut(usize::from(client)) {
            *state = ClientState::Closed;
        }
        let (lost, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.awaiting)
            .into_iter()
            .partition(|p| p.key().is_some_and(|k| k.client == client));
        self.awaiting = rest;
        for p in lost {
            let command = p.request.name;
            self.settle(p, Err(Error::LinkDown { command, code }));
        }
    }

    pub(super) fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Echo(on) => self.echo = on,
            Effect::Timing {
                client,
                pkt_timeout,
                retry_times,
            } => {
                if let Some(t) = self.timing.get_mut(usize::from(client)) {
                    *t = Timing {
                        pkt_timeout,
                        retry_times,
                    };
                }
            }
            Effect::RecvLength {
                client,
                with_length,
            } => self.decoder.set_recv_framing(
                client,
                if with_length {
                    RecvFraming::WithLength
                } else {
                    RecvFraming::WithoutLength
                },
            ),
            Effect::HexPayloads { .. } => {}
        }
    }
}
