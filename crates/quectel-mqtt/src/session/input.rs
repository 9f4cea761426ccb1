//! A command with data that timed out before the module asked for the data.
//!
//! `AT+QMTPUBEX=…,<length>` (and `AT+QFUPL`) make the module print `>` (`CONNECT`) and then
//! take the next `<length>` bytes as data, whatever they are. A module that is slow to
//! print the prompt — busy, or stalled for seconds — may do so after the command timed out.
//! The probe that normally follows a timeout (`AT+CSQ\r`), and every command after it, would
//! then become that message's payload and be published (the soak found AT text published as
//! a property report this way).
//!
//! So after such a timeout the session writes nothing until the module shows its state:
//! * the late `>` / `CONNECT`: the module is taking data, so it gets the command's own data —
//!   the message goes out as it was meant to (the caller already has the timeout, so a
//!   resend may duplicate it, as QoS 1 allows) — and a probe follows;
//! * a final result code (`ERROR` when it refused the command or its `edit/timeout` fired,
//!   or a late `OK`): the module is in command mode;
//! * nothing for [`SessionConfig::input_quiet`](super::SessionConfig): by then the module has
//!   dropped any input (`edit/timeout`), and the usual probe follows.

use std::time::Instant;

use bytes::Bytes;

use super::transcript::Direction;
use super::{Channel, Data, Session};
use crate::decoder::FinalCode;

impl Session {
    /// Whether the module may be in (or about to enter) a command's data input, where every
    /// byte written becomes that data: a command with data is on the channel and its data has
    /// not been written, or one timed out before its prompt, which may still come. A host that
    /// gives this port up now should let the next user of the port settle it first.
    pub fn may_be_taking_data(&self) -> bool {
        match &self.channel {
            Channel::Busy(p) => p.request.data.is_some() && !p.data_sent,
            Channel::Input { .. } => true,
            Channel::Idle | Channel::Probing { .. } => false,
        }
    }

    /// Enters the quiet state for `data` of a command that timed out before its prompt.
    pub(super) fn await_input(&mut self, data: Data, now: Instant) {
        let (data, connect) = match data {
            Data::Prompt(d) => (d, false),
            Data::Connect(d) => (d, true),
        };
        // Keep recognising a bare `>` while the module may still print it.
        self.decoder.expect_prompt(!connect);
        self.note(
            now,
            format!(
                "its data was not asked for yet; writing nothing for up to {:?} (a late {} would \
                 take any byte as data)",
                self.config.input_quiet,
                if connect { "CONNECT" } else { "`>`" }
            ),
        );
        self.channel = Channel::Input {
            data,
            connect,
            deadline: now + self.config.input_quiet,
        };
    }

    /// The late prompt (`connect`: the `CONNECT` line) while quiet: hands the module the data
    /// it is waiting for, then probes. False when not quiet for that kind of prompt.
    pub(super) fn late_prompt(&mut self, connect: bool, now: Instant) -> bool {
        let data: Bytes = match &self.channel {
            Channel::Input {
                data, connect: c, ..
            } if *c == connect => data.clone(),
            _ => return false,
        };
        self.transcript.push(
            now,
            Direction::Sent,
            format!(
                "<{} bytes of data> (the prompt came after the timeout)",
                data.len()
            ),
        );
        self.transmit.push_back(data);
        self.decoder.expect_prompt(false);
        self.channel = Channel::Idle;
        self.start_probe(now);
        true
    }

    /// A final result code while quiet: the module is in command mode (the code is the
    /// timed-out command's late answer, or the end of a dropped input).
    pub(super) fn final_while_quiet(&mut self, code: &FinalCode, now: Instant) {
        self.note(
            now,
            format!("{code:?} while waiting for a late prompt: the module is in command mode"),
        );
        self.decoder.expect_prompt(false);
        self.channel = Channel::Idle;
    }

    /// Nothing came for `input_quiet`: any input has been dropped by now; probe as usual.
    pub(super) fn quiet_over(&mut self, now: Instant) {
        self.decoder.expect_prompt(false);
        self.channel = Channel::Idle;
        self.start_probe(now);
    }
}
