//! What the session reports and how it is tuned.

use std::time::Duration;

use crate::decoder::DecodeError;
use crate::error::Error;
use crate::request::Response;
use crate::urc::Urc;

/// Identifies a submitted request in [`Event::Completed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What the session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A submitted request finished.
    Completed {
        id: RequestId,
        result: Result<Response, Error>,
    },
    /// A URC that completed no command: messages, link state, pings, `RDY`, unknown lines.
    Urc(Urc),
    /// The decoder skipped an over-long frame.
    Garbled(DecodeError),
    /// The AT channel stopped answering: a probe got no answer.
    Unresponsive,
    /// The AT channel answers again after [`Event::Unresponsive`].
    Responsive,
}

/// A client's connection state as the session has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientState {
    /// No network connection (initially, after `+QMTSTAT`, `QMTCLOSE`, `QMTDISC`, `RDY`).
    #[default]
    Closed,
    Opening,
    /// `+QMTOPEN: <idx>,0`: the network is open; not yet connected.
    Open,
    Connecting,
    /// `+QMTCONN: <idx>,0,0`.
    Connected,
    Disconnecting,
}

/// Tunables of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Added to every command's maximum response time, for UART pacing and host scheduling.
    pub slack: Duration,
    /// How long the probe after a timeout may take.
    pub probe_timeout: Duration,
    /// The decoder's bound on one frame.
    pub max_frame: usize,
    /// How many AT lines the [`Transcript`](super::Transcript) keeps (0: none).
    pub transcript_lines: usize,
    /// How long the session writes nothing after a command with data (`AT+QMTPUBEX`,
    /// `AT+QFUPL`) timed out before its `>`/`CONNECT`, unless the module shows its state
    /// first: longer than the module's `edit/timeout` (30 s by default), after which a late
    /// input has been dropped by the module itself.
    pub input_quiet: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            slack: Duration::from_secs(2),
            probe_timeout: Duration::from_secs(3),
            max_frame: crate::decoder::DEFAULT_MAX_FRAME,
            transcript_lines: 300,
            input_quiet: Duration::from_secs(35),
        }
    }
}
