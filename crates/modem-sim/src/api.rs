//! The boundary between the sans-IO module core and the I/O shell: the actions the core asks
//! for ([`Action`], [`BackendCmd`]) and the events the shell feeds back ([`BackendEvent`]).

use std::time::Duration;

/// The client index (`<client_idx>`, 0–5).
pub type ClientIdx = u8;

/// TLS settings of one connection, resolved from `AT+QMTCFG="ssl"`, `AT+QSSLCFG` and the
/// files uploaded with `AT+QFUPL`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// `seclevel`: 0 = no server authentication, 1 = server authentication,
    /// 2 = server and client authentication.
    pub sec_level: u8,
    /// The CA certificate(s) (PEM) named by `"cacert"`, if any.
    pub ca_pem: Option<Vec<u8>>,
    /// The client certificate (PEM) named by `"clientcert"`, if any.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client key (PEM) named by `"clientkey"`, if any.
    pub client_key_pem: Option<Vec<u8>>,
}

/// A last will, from `"will"` or `"willex"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// QoS 0–2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Topic.
    pub topic: String,
    /// Message bytes.
    pub message: Vec<u8>,
}

/// Everything the backend needs to send CONNECT.
/// `Debug` masks the password: backend commands are logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    /// 3 = MQTT 3.1, 4 = MQTT 3.1.1.
    pub version: u8,
    /// Client identifier sent in CONNECT (possibly derived from cloud credentials).
    pub client_id: String,
    /// User name, if any.
    pub username: Option<String>,
    /// Password, if any.
    pub password: Option<String>,
    /// Keep-alive in seconds (0 = none).
    pub keepalive: u16,
    /// Clean session flag.
    pub clean_session: bool,
    /// Last will.
    pub will: Option<Will>,
    /// Packet timeout.
    pub pkt_timeout: Duration,
    /// Retransmissions before a packet is reported failed.
    pub retry_times: u8,
    /// Report each retransmission (`<result>`=1) when true.
    pub timeout_notice: bool,
}

/// A request from the core to the MQTT backend of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendCmd {
    /// Open the network link (TCP, then TLS when `tls` is set).
    Open {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
        /// TLS settings when `"ssl"` is on.
        tls: Option<TlsSettings>,
        /// A carrier NAT idle timeout on the path ([`crate::Fault::NatIdle`]).
        nat_idle: Option<Duration>,
    },
    /// Send CONNECT.
    Connect(ConnectParams),
    /// Send SUBSCRIBE with packet id `msgid`.
    Subscribe {
        /// Packet identifier.
        msgid: u16,
        /// Topic filters and QoS.
        topics: Vec<(String, u8)>,
    },
    /// Send UNSUBSCRIBE with packet id `msgid`.
    Unsubscribe {
        /// Packet identifier.
        msgid: u16,
        /// Topic filters.
        topics: Vec<String>,
    },
    /// Send PUBLISH.
    Publish {
        /// Packet identifier (0 for QoS 0).
        msgid: u16,
        /// QoS 0–2.
        qos: u8,
        /// Retain flag.
        retain: bool,
        /// Topic.
        topic: String,
        /// Payload bytes.
        payload: Vec<u8>,
    },
    /// Send DISCONNECT and close the link.
    Disconnect,
    /// Close the link without DISCONNECT.
    Close,
}

/// What the backend reports back to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendEvent {
    /// Result of [`BackendCmd::Open`]: `+QMTOPEN: idx,<result>`.
    Opened(i8),
    /// CONNACK received with this return code.
    ConnAck(u8),
    /// SUBACK: result (0 ok, 1 retransmitted, 2 failed) and granted QoS values.
    SubAck {
        /// Packet identifier.
        msgid: u16,
        /// `<result>`.
        result: u8,
        /// `<value>`s: granted QoS (or 128) when result 0, retransmission count when 1.
        values: Vec<u32>,
    },
    /// UNSUBACK or its failure.
    UnsubAck {
        /// Packet identifier.
        msgid: u16,
        /// `<result>`.
        result: u8,
        /// Retransmission count when result is 1.
        value: Option<u32>,
    },
    /// Outcome of a publish (final when result is 0 or 2).
    PubDone {
        /// Packet identifier.
        msgid: u16,
        /// `<result>`.
        result: u8,
        /// Retransmission count when result is 1.
        value: Option<u32>,
    },
    /// A PUBLISH from the broker.
    Message {
        /// Packet identifier (0 for QoS 0).
        msgid: u16,
        /// Topic.
        topic: String,
        /// Payload bytes.
        payload: Vec<u8>,
    },
    /// DISCONNECT sent and the link closed.
    Disconnected,
    /// The link was closed on request.
    Closed,
    /// A keep-alive ping got no answer (`+QMTPING: idx,1`; followed by `LinkLost(2)`).
    PingFailed,
    /// The link went down: `+QMTSTAT: idx,<code>`.
    LinkLost(u8),
}

/// An effect the core asks the shell to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a command to client `idx`'s backend.
    Backend(ClientIdx, BackendCmd),
    /// Arm (or re-arm) timer `id` to fire after `after`; the shell then calls
    /// [`crate::Module::on_timer`].
    StartTimer {
        /// Timer id.
        id: TimerId,
        /// Delay.
        after: Duration,
    },
    /// Cancel timer `id`.
    CancelTimer(TimerId),
    /// The module rebooted: drop every backend and all state; `RDY` follows.
    Rebooted,
    /// A link fault for the backend of the client it names ([`crate::Fault::DropLink`],
    /// [`crate::Fault::PingFail`], [`crate::Fault::SilentDrop`]) or for every backend
    /// ([`crate::Fault::NatIdle`]).
    Fault(crate::faults::Fault),
}

/// The core's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerId {
    /// `edit/timeout` of the `>` data mode (or the QFUPL timeout).
    DataInput,
    /// The reboot delay ends: print `RDY`.
    RebootDone,
    /// A duplicate-client-id login kicks this client ([`crate::Fault::DupId`]).
    Kick(ClientIdx),
}

/// The result of feeding the core: bytes for the host and actions for the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Bytes to write to the host, in order.
    pub out: Vec<u8>,
    /// Actions to perform, in order.
    pub actions: Vec<Action>,
}

impl Step {
    /// Appends another step.
    pub fn extend(&mut self, other: Step) {
        self.out.extend(other.out);
        self.actions.extend(other.actions);
    }
}

impl std::fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("version", &self.version)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("keepalive", &self.keepalive)
            .field("clean_session", &self.clean_session)
            .field("will", &self.will)
            .field("pkt_timeout", &self.pkt_timeout)
            .field("retry_times", &self.retry_times)
            .field("timeout_notice", &self.timeout_notice)
            .finish()
    }
}
