//! The sans-IO state machine of one AT port.
//!
//! [`Session`] keeps one command on the AT channel at a time, in submission order; answers the
//! `>` prompt and `CONNECT` with the command's data; recognises URCs wherever they appear
//! (between a command and its `OK` too); completes commands whose result is a URC (`+QMTOPEN`,
//! `+QMTCONN`, `+QMTPUBEX`, …) whether that URC comes before or after the `OK`; tracks each
//! client's connection state and publish window; and never hands a late `OK`/`ERROR` of a
//! timed-out command to the next one.
//!
//! It reads no clock and does no I/O: the caller passes `Instant`s in, feeds received bytes to
//! [`Session::handle_input`], writes what [`Session::poll_transmit`] returns, calls
//! [`Session::handle_timeout`] at [`Session::poll_timeout`], and drains [`Session::poll_event`].
//!
//! ## Late answers
//! When a command times out, its final result code may still come. The session then sends a
//! probe (`AT+CSQ`, whose `+CSQ:` line no other pending command produces) before anything else:
//! final codes that arrive before the probe's `+CSQ:` line belong to the timed-out command and
//! are dropped. If the probe is not answered either, queued commands fail with
//! [`Error::Unresponsive`] and the session keeps probing until the module answers.
//!
//! A command with data (`AT+QMTPUBEX`, `AT+QFUPL`) that times out before its `>`/`CONNECT`
//! is different: a late prompt would make the probe the message's payload. The session then
//! writes nothing until the module shows its state (see `session/input.rs`).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::decoder::{Decoder, FinalCode, Frame, RecvFraming};
use crate::error::Error;
use crate::request::{Completion, Data, Info, Request, Response, Timing, UrcKey};
use crate::urc::{StatCode, Urc, UrcKind};
use crate::{MAX_CLIENT, PUBLISH_WINDOW};

const CLIENTS: usize = MAX_CLIENT as usize + 1;

/// The state machine. See the module documentation.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    decoder: Decoder,
    rx: BytesMut,
    queue: VecDeque<(RequestId, Request)>,
    channel: Channel,
    /// Commands whose `OK` came and whose result URC has not.
    awaiting: Vec<Pending>,
    clients: [ClientState; CLIENTS],
    timing: [Timing; CLIENTS],
    next_msgid: [u16; CLIENTS],
    echo: bool,
    unresponsive: bool,
    last_line: Option<Vec<u8>>,
    events: VecDeque<Event>,
    transmit: VecDeque<Bytes>,
    next_id: u64,
    transcript: Transcript,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionConfig::default())
    }
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        Session {
            decoder: Decoder::with_max_frame(config.max_frame),
            transcript: Transcript::new(config.transcript_lines),
            config,
            rx: BytesMut::new(),
            queue: VecDeque::new(),
            channel: Channel::Idle,
            awaiting: Vec::new(),
            clients: [ClientState::Closed; CLIENTS],
            timing: [Timing::default(); CLIENTS],
            next_msgid: [0; CLIENTS],
            // Modules power up with echo on (ATE1).
            echo: true,
            unresponsive: false,
            last_line: None,
            events: VecDeque::new(),
            transmit: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Queues a request; it is written when the channel is free (and, for a publish, when the
    /// client's window has room).
    pub fn submit(&mut self, request: Request, now: Instant) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        self.queue.push_back((id, request));
        self.pump(now);
        id
    }

    /// Feeds bytes read from the port.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) {
        self.rx.extend_from_slice(bytes);
        loop {
            match self.decoder.decode(&mut self.rx) {
                Ok(Some(frame)) => self.handle_frame(frame, now),
                Ok(None) => break,
                Err(e) => {
                    self.transcript
                        .push(now, Direction::Note, format!("skipped: {e}"));
                    self.events.push_back(Event::Garbled(e));
                }
            }
        }
        self.pump(now);
    }

    /// Expires whatever is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &self.channel {
            Channel::Busy(p) if p.deadline <= now => {
                let Channel::Busy(p) = std::mem::replace(&mut self.channel, Channel::Idle) else {
                    unreachable!()
                };
                let p = *p;
                let (command, after) = (p.request.name, p.request.timeout + self.config.slack);
                self.note(now, format!("{command}: no final result within {after:?}"));
                let unsent = p.request.data.clone().filter(|_| !p.data_sent);
                self.settle(p, Err(Error::Timeout { command, after }));
                match unsent {
                    Some(data) => self.await_input(data, now),
                    None => self.start_probe(now),
                }
            }
            Channel::Input { deadline, .. } if *deadline <= now => self.quiet_over(now),
            Channel::Probing { deadline, .. } if *deadline <= now => {
                if !self.unresponsive {
                    self.unresponsive = true;
                    self.note(now, "the probe went unanswered: module unresponsive".into());
                    self.events.push_back(Event::Unresponsive);
                }
                for (id, request) in std::mem::take(&mut self.queue) {
                    self.complete(
                        id,
                        Err(Error::Unresponsive {
                            command: request.name,
                        }),
                    );
                }
                self.start_probe(now);
            }
            _ => {}
        }
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.awaiting)
            .into_iter()
            .partition(|p| p.deadline <= now);
        self.awaiting = rest;
        for p in due {
            let (command, after) = (p.request.name, p.request.timeout + self.config.slack);
            self.note(now, format!("{command}: no result URC within {after:?}"));
            self.settle(p, Err(Error::Timeout { command, after }));
        }
        self.pump(now);
    }

    /// When [`Session::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let channel = match &self.channel {
            Channel::Busy(p) => Some(p.deadline),
            Channel::Probing { deadline, .. } | Channel::Input { deadline, .. } => Some(*deadline),
            Channel::Idle => None,
        };
        channel
            .into_iter()
            .chain(self.awaiting.iter().map(|p| p.deadline))
            .min()
    }

    /// Bytes to write to the port, in order.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn client_state(&self, client: u8) -> ClientState {
        self.clients
            .get(usize::from(client))
            .copied()
            .unwrap_or_default()
    }

    /// The client's `pkt_timeout`/`retry_times` as last configured through this session.
    pub fn timing(&self, client: u8) -> Timing {
        self.timing
            .get(usize::from(client))
            .copied()
            .unwrap_or_default()
    }

    /// Whether the module echoes commands, as last seen.
    pub fn echo(&self) -> bool {
        self.echo
    }

    /// Publishes of `client` written and not yet reported by `+QMTPUBEX`.
    pub fn publishes_in_flight(&self, client: u8) -> usize {
        let busy = match &self.channel {
            Channel::Busy(p) => is_publish_of(p, client) as usize,
            _ => 0,
        };
        busy + self
            .awaiting
            .iter()
            .filter(|p| is_publish_of(p, client))
            .count()
    }

    /// The last AT lines, secrets masked (see [`Transcript`]).
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Commands queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// A msgid (1–65535) for `client` that no queued or pending command uses.
    pub fn next_msgid(&mut self, client: u8) -> u16 {
        let slot = usize::from(client.min(MAX_CLIENT));
        loop {
            self.next_msgid[slot] = self.next_msgid[slot].checked_add(1).unwrap_or(1);
            let candidate = self.next_msgid[slot];
            if !self.msgid_in_use(client, candidate) {
                return candidate;
            }
        }
    }

    fn msgid_in_use(&self, client: u8, msgid: u16) -> bool {
        let uses = |r: &Request| matches!(r.completion, Completion::Urc(k) if k.client == client && k.msgid == Some(msgid));
        self.queue.iter().any(|(_, r)| uses(r))
            || self.awaiting.iter().any(|p| uses(&p.request))
            || matches!(&self.channel, Channel::Busy(p) if uses(&p.request))
    }

    /// Writes the next queued command if the channel is free.
    fn pump(&mut self, now: Instant) {
        if !matches!(self.channel, Channel::Idle) {
            return;
        }
        let Some((_, front)) = self.queue.front() else {
            return;
        };
        if let Completion::Urc(UrcKey {
            kind: UrcKind::PubEx,
            client,
            ..
        }) = front.completion
        {
            if self.publishes_in_flight(client) >= PUBLISH_WINDOW {
                return;
            }
        }
        let (id, request) = self.queue.pop_front().expect("front exists");
        if let Completion::Urc(key) = request.completion {
            let state = &mut self.clients[usize::from(key.client.min(MAX_CLIENT))];
            match key.kind {
                UrcKind::Open => *state = ClientState::Opening,
                UrcKind::Conn => *state = ClientState::Connecting,
                UrcKind::Disc => *state = ClientState::Disconnecting,
                _ => {}
            }
        }
        let mut line = request.line.clone();
        line.push(b'\r');
        self.decoder
            .expect_prompt(matches!(request.data, Some(Data::Prompt(_))));
        self.last_line = Some(request.line.clone());
        let shown = if request.secret {
            format!("{} (parameters masked)", request.name)
        } else {
            printable(&request.line)
        };
        self.transcript.push(now, Direction::Sent, shown);
        self.transmit.push_back(Bytes::from(line));
        let deadline = now + request.timeout + self.config.slack;
        self.channel = Channel::Busy(Box::new(Pending {
            id,
            request,
            info: Vec::new(),
            messages: Vec::new(),
            urc: None,
            deadline,
            data_sent: false,
            echo_seen: false,
        }));
    }

    fn start_probe(&mut self, now: Instant) {
        let stale = self.last_line.as_deref().unwrap_or_default();
        let (line, prefix): (&[u8], &'static str) = if stale.starts_with(b"AT+CSQ") {
            (b"AT+CEREG?\r", "+CEREG:")
        } else {
            (b"AT+CSQ\r", "+CSQ:")
        };
        self.last_line = Some(line[..line.len() - 1].to_vec());
        self.decoder.expect_prompt(false);
        self.transcript.push(
            now,
            Direction::Sent,
            format!("{} (probe)", printable(&line[..line.len() - 1])),
        );
        self.transmit.push_back(Bytes::from_static(line));
        self.channel = Channel::Probing {
            prefix,
            answered: false,
            deadline: now + self.config.probe_timeout,
        };
    }

    fn handle_frame(&mut self, frame: Frame, now: Instant) {
        self.record(&frame, now);
        match frame {
            Frame::Final(code) => self.handle_final(code, now),
            Frame::Prompt => self.handle_prompt(now),
            Frame::Line(line) => self.handle_line(line, now),
            Frame::Message(message) => match &mut self.channel {
                Channel::Busy(p) if p.request.info == Info::Prefix("+QMTRECV:") => {
                    p.messages.push(message)
                }
                _ => self.events.push_back(Event::Urc(Urc::Recv(message))),
            },
        }
    }

    fn handle_prompt(&mut self, now: Instant) {
        if self.late_prompt(false, now) {
            return;
        }
        if let Channel::Busy(p) = &mut self.channel {
            if let (Some(Data::Prompt(data)), false) = (&p.request.data, p.data_sent) {
                p.data_sent = true;
                self.transcript.push(
                    now,
                    Direction::Sent,
                    format!("<{} bytes of data>", data.len()),
                );
                if self.echo {
                    self.decoder.expect_echo(data.clone());
                }
                self.transmit.push_back(data.clone());
            }
        }
    }

    fn handle_final(&mut self, code: FinalCode, now: Instant) {
        match std::mem::replace(&mut self.channel, Channel::Idle) {
            Channel::Busy(p) => {
                let mut p = *p;
                self.decoder.expect_prompt(false);
                if !p.echo_seen {
                    self.echo = false;
                }
                let result = match code {
                    FinalCode::Ok => Ok(()),
                    FinalCode::Error => Err(Error::Module {
                        command: p.request.name,
                    }),
                    FinalCode::CmeError(detail) => Err(Error::Cme {
                        command: p.request.name,
                        detail,
                    }),
                };
                match (result, p.key()) {
                    (Err(e), _) => self.settle(p, Err(e)),
                    (Ok(()), Some(_)) if p.urc.is_none() => self.awaiting.push(p),
                    (Ok(()), _) => {
                        let response = p.response();
                        self.settle(p, Ok(response));
                    }
                }
            }
            Channel::Probing { answered: true, .. } => {
                if self.unresponsive {
                    self.unresponsive = false;
                    self.events.push_back(Event::Responsive);
                }
            }
            // A late answer of the timed-out command: drop it, keep probing.
            probing @ Channel::Probing { .. } => self.channel = probing,
            Channel::Input { .. } => self.final_while_quiet(&code, now),
            // A final code nobody waits for (a command of an earlier run, a glitch).
            Channel::Idle => {
                tracing::debug!("final result code with no command in flight: {code:?}")
            }
        }
        self.pump(now);
    }

    fn handle_line(&mut self, line: String, now: Instant) {
        match &mut self.channel {
            Channel::Busy(p) => {
                if line.as_bytes() == p.request.line.as_slice() {
                    p.echo_seen = true;
                    self.echo = true;
                    return;
                }
                if let Some(Data::Connect(data)) = &p.request.data {
                    if !p.data_sent && line == "CONNECT" {
                        p.data_sent = true;
                        self.transcript.push(
                            now,
                            Direction::Sent,
                            format!("<{} bytes of file data>", data.len()),
                        );
                        self.transmit.push_back(data.clone());
                        return;
                    }
                }
                let claimed = match p.request.info {
                    // A result URC that an earlier command awaits is that command's, even
                    // when this query claims the prefix (`+QMTOPEN: 0,0` during `AT+QMTOPEN?`).
                    Info::Prefix(prefix) => {
                        line.starts_with(prefix)
                            && !Urc::parse(&line)
                                .key()
                                .is_some_and(|k| self.awaiting.iter().any(|a| a.key() == Some(k)))
                    }
                    Info::Text => !Urc::is_known_prefix(&line),
                    Info::None => false,
                };
                if claimed {
                    p.info.push(line);
                    return;
                }
            }
            Channel::Probing {
                prefix, answered, ..
            } => {
                if line.starts_with(*prefix) {
                    *answered = true;
                    return;
                }
                if self.last_line.as_deref() == Some(line.as_bytes()) {
                    return;
                }
            }
            Channel::Input { connect: true, .. } if line == "CONNECT" => {
                self.late_prompt(true, now);
                return;
            }
            Channel::Input { .. } | Channel::Idle => {}
        }
        self.handle_urc(Urc::parse(&line), now);
    }

    fn handle_urc(&mut self, urc: Urc, now: Instant) {
        // "Being retransmitted" is progress, not the outcome: the final result follows.
        let interim = matches!(
            urc,
            Urc::Conn {
                result: crate::urc::PacketResult::Retransmitting,
                ..
            } | Urc::Sub {
                result: crate::urc::PacketResult::Retransmitting,
                ..
            } | Urc::Uns {
                result: crate::urc::PacketResult::Retransmitting,
                ..
            } | Urc::PubEx {
                result: crate::urc::PacketResult::Retransmitting,
                ..
            }
        );
        if let Some(key) = urc.key().filter(|_| !interim) {
            if let Channel::Busy(p) = &mut self.channel {
                if p.key() == Some(key) && p.urc.is_none() {
                    p.urc = Some(urc);
                    return;
                }
            }
            if let Some(pos) = self.awaiting.iter().position(|p| p.key() == Some(key)) {
                let mut p = self.awaiting.remove(pos);
                p.urc = Some(urc);
                let response = p.response();
                self.settle(p, Ok(response));
                return;
            }
        }
        match urc {
            Urc::Stat { client, code } => self.link_down(client, code),
            Urc::Ping { client, .. } => self.link_down(client, StatCode::PingFailed),
            Urc::Ready => self.restarted(now),
            _ => {}
        }
        self.events.push_back(Event::Urc(urc));
    }

    /// `RDY`: the module restarted; every pending command is lost, and its settings are back
    /// to their defaults (echo on).
    ///
    /// A command in flight may have been written while the module was booting and still be
    /// answered after `RDY`: the session probes before writing the next command, so that late
    /// answer is not taken for the next command's.
    fn restarted(&mut self, now: Instant) {
        let interrupted = match std::mem::replace(&mut self.channel, Channel::Idle) {
            Channel::Busy(p) => {
                let command = p.request.name;
                self.settle(*p, Err(Error::Restarted { command }));
                true
            }
            Channel::Probing { .. } | Channel::Input { .. } => true,
            Channel::Idle => false,
        };
        for p in std::mem::take(&mut self.awaiting) {
            let command = p.request.name;
            self.settle(p, Err(Error::Restarted { command }));
        }
        self.clients = [ClientState::Closed; CLIENTS];
        self.timing = [Timing::default(); CLIENTS];
        self.echo = true;
        for client in 0..=MAX_CLIENT {
            self.decoder.set_recv_framing(client, RecvFraming::Auto);
        }
        self.decoder.expect_prompt(false);
        if interrupted {
            self.start_probe(now);
        }
    }

    fn note(&mut self, now: Instant, text: String) {
        self.transcript.push(now, Direction::Note, text);
    }

    /// Adds a received frame to the transcript, masked (see [`Transcript`]).
    fn record(&mut self, frame: &Frame, now: Instant) {
        let secret_on_channel = match &self.channel {
            Channel::Busy(p) if p.request.secret => Some(p.request.name),
            _ => None,
        };
        let text = transcript::received(frame, secret_on_channel);
        self.transcript.push(now, Direction::Received, text);
    }

    /// Completes a command: applies what its success changes, then reports it.
    fn settle(&mut self, p: Pending, result: Result<Response, Error>) {
        let result = result.and_then(|response| check_urc(&p.request, response));
        if let Some(key) = p.key() {
            let state = &mut self.clients[usize::from(key.client.min(MAX_CLIENT))];
            *state = state_after(key.kind, &result, *state);
        }
        if result.is_ok() {
            if let Some(effect) = p.request.effect {
                self.apply(effect);
            }
        }
        self.complete(p.id, result);
    }

    fn complete(&mut self, id: RequestId, result: Result<Response, Error>) {
        self.events.push_back(Event::Completed { id, result });
    }
}

mod effects;
mod input;
mod pending;
mod transcript;
mod types;

pub use transcript::{Direction, Transcript, TranscriptLine};
pub use types::{ClientState, Event, RequestId, SessionConfig};

use transcript::printable;

use pending::{check_urc, is_publish_of, state_after, Channel, Pending};

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "session_split_tests.rs"]
mod split_tests;

#[cfg(test)]
#[path = "session_late_tests.rs"]
mod late_tests;
