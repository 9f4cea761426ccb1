//! Errors of the transport: bad parameters (refused before a byte is written), module replies,
//! timeouts and a lost port.

use std::time::Duration;

use crate::urc::{ConnectReturnCode, OpenResult, PacketResult};

/// A command parameter the guide does not allow. Nothing was sent.
///
/// String values are never included: a refused parameter may be a password or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("{param}: {value} is outside the range {min}..={max}")]
    OutOfRange {
        param: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{param}: {len} bytes is outside the allowed length {min}..={max} bytes")]
    Length {
        param: &'static str,
        len: usize,
        min: usize,
        max: usize,
    },
    #[error("{param}: holds {what}, which would break AT command framing")]
    Forbidden {
        param: &'static str,
        what: &'static str,
    },
    #[error("{param}: {reason}")]
    Invalid {
        param: &'static str,
        reason: &'static str,
    },
}

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A parameter was refused before anything reached the wire.
    #[error("invalid parameter: {0}")]
    Param(#[from] ParamError),
    /// The module answered `ERROR`.
    #[error("{command}: the module answered ERROR")]
    Module { command: &'static str },
    /// The module answered `+CME ERROR: <err>` (a number, or text after `AT+CMEE=2`).
    #[error("{command}: the module answered +CME ERROR: {detail}")]
    Cme {
        command: &'static str,
        detail: String,
    },
    /// No final result code or completing URC within the command's maximum response time.
    #[error("{command}: no answer within {after:?}")]
    Timeout {
        command: &'static str,
        after: Duration,
    },
    /// `+QMTOPEN: <idx>,<result>` with a result other than 0.
    #[error("AT+QMTOPEN failed: {0}")]
    Open(OpenResult),
    /// `+QMTCONN: <idx>,<result>[,<ret_code>]` other than `0,0`.
    #[error("AT+QMTCONN failed: {result}{}", .ret_code.map(|c| format!(", {c}")).unwrap_or_default())]
    Connect {
        result: PacketResult,
        ret_code: Option<ConnectReturnCode>,
    },
    /// A SUB/UNS/PUBEX/DISC/CLOSE completion URC reported a failure.
    #[error("{command} failed: {result}")]
    Packet {
        command: &'static str,
        result: PacketResult,
    },
    /// CLOSE or DISC reported -1.
    #[error("{command} failed (result -1)")]
    Failed { command: &'static str },
    /// The module's reply did not have the shape the guide gives.
    #[error("{command}: unexpected reply: {detail}")]
    Reply {
        command: &'static str,
        detail: String,
    },
    /// The module rebooted (`RDY`) while the command was pending.
    #[error("{command}: the module restarted before answering")]
    Restarted { command: &'static str },
    /// The client's link went down (`+QMTSTAT`, `+QMTPING`) before the command's result came.
    #[error("{command}: the MQTT link went down first: {code}")]
    LinkDown {
        command: &'static str,
        code: crate::urc::StatCode,
    },
    /// The AT channel stopped answering: the command was never written.
    #[error("{command}: the module does not answer AT commands")]
    Unresponsive { command: &'static str },
    /// The port is gone (closed, I/O error, or the driver stopped).
    #[error("the serial port is closed: {0}")]
    PortClosed(String),
}
