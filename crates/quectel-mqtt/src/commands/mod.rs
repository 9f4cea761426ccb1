//! Typed AT commands: one type per command form, each implementing [`crate::Command`].
//!
//! Every type validates its parameters against the limits of Quectel's *EC200x&EC600S&EG912Y
//! MQTT 应用指导* v1.0 (ranges and byte lengths; no `"`, CR, LF or NUL inside a quoted string)
//! before a byte is written, knows how long the module may take and how the command completes,
//! and parses the module's answer into typed values. `docs/at-commands.md` is the coverage
//! table.
//!
//! # Time limits
//!
//! The guide gives maximum response times for the `AT+QMT*` commands that talk to the network
//! (OPEN 120 s, CLOSE and DISC 30 s, CONN `<pkt_timeout>`, SUB/UNS/PUBEX
//! `<pkt_timeout>` × `<retry_times>`); those are used as given. Commands the module answers
//! by itself (`AT+QMTCFG`, whose limit the v1.6 guide puts at 300 ms, and the bring-up
//! commands, 300 ms in Quectel's AT manuals) get [`QUICK_TIMEOUT`] instead: on a 9600-baud
//! UART the 19-line `AT+QMTCFG=?` listing alone takes about 1.3 s to arrive, and a module busy
//! with a network event answers late without being broken.

use std::time::Duration;

use crate::request::{Completion, Info, Request};

mod basic;
mod cfg;
mod clock;
mod mqtt;
mod packets;
mod pdp;
mod radio;
mod reply;
mod secret;
mod tls;

pub use basic::{
    At, DeviceInfo, EpsRegistration, Identify, RegStatus, RegistrationQuery, SetEcho, Signal,
    SignalQuality, SimState, SimStatusQuery, CPIN_TIMEOUT,
};
pub use cfg::{
    AliAuth, CfgAliAuth, CfgDataFormat, CfgEditTimeout, CfgHwAuth, CfgHwProdId, CfgKeepalive,
    CfgOneNet, CfgOption, CfgPdpCid, CfgQmtPing, CfgQuery, CfgRecvMode, CfgSendMode, CfgSession,
    CfgSsl, CfgTest, CfgTimeout, CfgVersion, CfgViewMode, CfgWill, CfgWillEx, DataFormat, HwAuth,
    HwAuthConfig, HwProduct, HwProductConfig, MqttVersion, OneNetAuth, PacketTimeouts, RecvMode,
    SslMode, SupportedOption, Will, WillEx, WillExConfig, MAX_CREDENTIAL_LEN,
};
pub use clock::{ClockQuery, ModuleTime, NetworkTimeQuery, TimeMode};
pub use mqtt::{
    ClientState, Close, ConnState, ConnStateQuery, Connect, Credentials, Disconnect, MqttTest,
    Open, OpenEndpoint, OpenQuery, CLOSE_TIMEOUT, DISC_TIMEOUT, OPEN_TIMEOUT,
};
pub use packets::{
    Publish, RecvRead, RecvSlots, RecvStatusQuery, SubAck, Subscribe, TopicFilter, Unsubscribe,
    RECV_READ_TIMEOUT,
};
pub use pdp::{ContextType, PdpAuth, PdpContext, PdpContextQuery, PdpContextSet};
pub use radio::{
    Functionality, PdpActivate, PowerDown, SetFunctionality, CFUN_TIMEOUT, CGACT_TIMEOUT,
    QPOWD_TIMEOUT,
};
pub use reply::{split_fields, Field};
pub use secret::Secret;
pub use tls::{
    CipherSuite, FileDelete, FileUpload, SecLevel, SslConfigQuery, SslConfigSet, SslOption,
    SslSetting, SslVersion, Uploaded,
};

/// The limit for commands the module answers without the network (300 ms in Quectel's
/// manuals), widened for UART pacing and a busy module: see the module documentation.
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest topic (name or filter) accepted, in bytes. The EC200x guide gives a length only
/// for the will topic (1–256 bytes); the same bound is used for every topic.
pub const MAX_TOPIC_LEN: usize = 256;

/// The longest MQTT client id, user name or password accepted, in bytes. The guide gives
/// none; 256 bytes holds every cloud's derived credentials (a OneNET token is about 200).
pub const MAX_CONNECT_FIELD_LEN: usize = 256;

/// A QoS level (`<qos>`, `<will_qos>`: 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Qos {
    /// 0: at most once.
    AtMostOnce,
    /// 1: at least once.
    AtLeastOnce,
    /// 2: exactly once.
    ExactlyOnce,
}

impl Qos {
    /// The number written on the AT line.
    pub fn code(self) -> u8 {
        match self {
            Qos::AtMostOnce => 0,
            Qos::AtLeastOnce => 1,
            Qos::ExactlyOnce => 2,
        }
    }

    /// The level for a code, or `None` outside 0–2.
    pub fn from_code(code: i64) -> Option<Qos> {
        match code {
            0 => Some(Qos::AtMostOnce),
            1 => Some(Qos::AtLeastOnce),
            2 => Some(Qos::ExactlyOnce),
            _ => None,
        }
    }
}

/// A command line starting with `text`, e.g. `line("AT+QMTOPEN=")`.
pub(crate) fn line(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// A request that completes at its final result code, carries no data, changes nothing in the
/// session and holds no secret; callers adjust the rest with struct update syntax.
pub(crate) fn final_request(
    name: &'static str,
    line: Vec<u8>,
    info: Info,
    timeout: Duration,
) -> Request {
    Request {
        name,
        line,
        data: None,
        info,
        completion: Completion::Final,
        timeout,
        effect: None,
        secret: false,
    }
}

/// `0`/`1` for a flag.
pub(crate) fn flag(value: bool) -> u8 {
    u8::from(value)
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::request::{Request, Response, Timing};
    use crate::Command;

    /// The command line as text (every line this crate builds is ASCII or UTF-8).
    pub fn encode<C: Command>(command: &C) -> String {
        let request = command
            .request(&Timing::default())
            .expect("valid parameters");
        String::from_utf8(request.line).expect("UTF-8 line")
    }

    /// The request for the default timing.
    pub fn request<C: Command>(command: &C) -> Request {
        command
            .request(&Timing::default())
            .expect("valid parameters")
    }

    /// A response holding these information lines.
    pub fn info(lines: &[&str]) -> Response {
        Response {
            info: lines.iter().map(|l| (*l).to_owned()).collect(),
            ..Response::default()
        }
    }

    /// The parameter a refused command names.
    pub fn refused_param<C: Command>(command: &C) -> &'static str {
        use crate::error::ParamError;
        match command
            .request(&Timing::default())
            .expect_err("the parameters must be refused")
        {
            ParamError::OutOfRange { param, .. }
            | ParamError::Length { param, .. }
            | ParamError::Forbidden { param, .. }
            | ParamError::Invalid { param, .. } => param,
        }
    }
}
