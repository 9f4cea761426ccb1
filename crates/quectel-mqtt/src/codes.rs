//! The result and error codes the module reports, with the guide's meaning of each and what to
//! do about it.

use std::fmt;

/// `<result>` of `+QMTOPEN` (guide §3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenResult {
    /// -1: failed to open the network.
    Failed,
    /// 0: opened.
    Opened,
    /// 1: wrong parameter.
    WrongParameter,
    /// 2: the MQTT client identifier is occupied.
    Occupied,
    /// 3: failed to activate PDP.
    PdpActivationFailed,
    /// 4: failed to parse the domain name.
    DnsFailed,
    /// 5: network connection error.
    NetworkDisconnected,
    /// A code the guide does not define.
    Other(i32),
}

impl OpenResult {
    pub fn from_code(code: i32) -> Self {
        match code {
            -1 => OpenResult::Failed,
            0 => OpenResult::Opened,
            1 => OpenResult::WrongParameter,
            2 => OpenResult::Occupied,
            3 => OpenResult::PdpActivationFailed,
            4 => OpenResult::DnsFailed,
            5 => OpenResult::NetworkDisconnected,
            other => OpenResult::Other(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            OpenResult::Failed => -1,
            OpenResult::Opened => 0,
            OpenResult::WrongParameter => 1,
            OpenResult::Occupied => 2,
            OpenResult::PdpActivationFailed => 3,
            OpenResult::DnsFailed => 4,
            OpenResult::NetworkDisconnected => 5,
            OpenResult::Other(c) => c,
        }
    }

    /// What to check, in the guide's terms and from field experience.
    pub fn hint(self) -> &'static str {
        match self {
            OpenResult::Failed => {
                "the network could not be opened: check signal, registration and the host/port"
            }
            OpenResult::Opened => "opened",
            OpenResult::WrongParameter => {
                "a parameter was wrong: check the host name (≤100 bytes) and port"
            }
            OpenResult::Occupied => "the client index is already open: AT+QMTCLOSE it first",
            OpenResult::PdpActivationFailed => {
                "PDP activation failed: check the APN (AT+QICSGP) and AT+QIACT"
            }
            OpenResult::DnsFailed => "DNS lookup failed: check the host name and the carrier's DNS",
            OpenResult::NetworkDisconnected => {
                "the network is disconnected: check registration (AT+CEREG?)"
            }
            OpenResult::Other(_) => "a result code the guide does not define",
        }
    }
}

impl fmt::Display for OpenResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "result {} ({})", self.code(), self.hint())
    }
}

/// `<result>` of CONN, SUB, UNS and PUBEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketResult {
    /// 0: sent and acknowledged by the server (for QoS 0 publishes: sent).
    Acked,
    /// 1: being retransmitted.
    Retransmitting,
    /// 2: failed to send.
    Failed,
    Other(i32),
}

impl PacketResult {
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => PacketResult::Acked,
            1 => PacketResult::Retransmitting,
            2 => PacketResult::Failed,
            other => PacketResult::Other(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            PacketResult::Acked => 0,
            PacketResult::Retransmitting => 1,
            PacketResult::Failed => 2,
            PacketResult::Other(c) => c,
        }
    }
}

impl fmt::Display for PacketResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            PacketResult::Acked => "acknowledged",
            PacketResult::Retransmitting => "being retransmitted",
            PacketResult::Failed => "failed to send",
            PacketResult::Other(_) => "undefined result",
        };
        write!(f, "result {} ({text})", self.code())
    }
}

/// `<ret_code>` of `+QMTCONN`: the CONNACK return code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    Accepted,
    UnacceptableProtocolVersion,
    IdentifierRejected,
    ServerUnavailable,
    BadUserNameOrPassword,
    NotAuthorized,
    Other(i32),
}

impl ConnectReturnCode {
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => ConnectReturnCode::Accepted,
            1 => ConnectReturnCode::UnacceptableProtocolVersion,
            2 => ConnectReturnCode::IdentifierRejected,
            3 => ConnectReturnCode::ServerUnavailable,
            4 => ConnectReturnCode::BadUserNameOrPassword,
            5 => ConnectReturnCode::NotAuthorized,
            other => ConnectReturnCode::Other(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            ConnectReturnCode::Accepted => 0,
            ConnectReturnCode::UnacceptableProtocolVersion => 1,
            ConnectReturnCode::IdentifierRejected => 2,
            ConnectReturnCode::ServerUnavailable => 3,
            ConnectReturnCode::BadUserNameOrPassword => 4,
            ConnectReturnCode::NotAuthorized => 5,
            ConnectReturnCode::Other(c) => c,
        }
    }

    /// Refusals that retrying with the same credentials will not fix.
    pub fn is_credential_refusal(self) -> bool {
        matches!(
            self,
            ConnectReturnCode::IdentifierRejected
                | ConnectReturnCode::BadUserNameOrPassword
                | ConnectReturnCode::NotAuthorized
        )
    }
}

impl fmt::Display for ConnectReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ConnectReturnCode::Accepted => "connection accepted",
            ConnectReturnCode::UnacceptableProtocolVersion => {
                "refused: unacceptable protocol version"
            }
            ConnectReturnCode::IdentifierRejected => "refused: identifier rejected",
            ConnectReturnCode::ServerUnavailable => "refused: server unavailable",
            ConnectReturnCode::BadUserNameOrPassword => "refused: bad user name or password",
            ConnectReturnCode::NotAuthorized => "refused: not authorized",
            ConnectReturnCode::Other(_) => "undefined return code",
        };
        write!(f, "ret_code {} ({text})", self.code())
    }
}

/// `<err_code>` of `+QMTSTAT` (guide table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatCode {
    /// 1: the server closed or reset the connection.
    ClosedByServer,
    /// 2: sending PINGREQ timed out or failed.
    PingFailed,
    /// 3: sending CONNECT timed out or failed.
    ConnectSendFailed,
    /// 4: receiving CONNACK timed out or failed.
    ConnackFailed,
    /// 5: the client sent DISCONNECT and the server closed the connection (normal).
    Disconnected,
    /// 6: the client closed the connection because sending packets kept failing.
    SendFailures,
    /// 7: the link is not working or the server is unavailable.
    LinkDown,
    /// 8: the client closed the connection.
    ClosedByClient,
    /// 9–255: reserved.
    Reserved(i32),
}

impl StatCode {
    pub fn from_code(code: i32) -> Self {
        match code {
            1 => StatCode::ClosedByServer,
            2 => StatCode::PingFailed,
            3 => StatCode::ConnectSendFailed,
            4 => StatCode::ConnackFailed,
            5 => StatCode::Disconnected,
            6 => StatCode::SendFailures,
            7 => StatCode::LinkDown,
            8 => StatCode::ClosedByClient,
            other => StatCode::Reserved(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            StatCode::ClosedByServer => 1,
            StatCode::PingFailed => 2,
            StatCode::ConnectSendFailed => 3,
            StatCode::ConnackFailed => 4,
            StatCode::Disconnected => 5,
            StatCode::SendFailures => 6,
            StatCode::LinkDown => 7,
            StatCode::ClosedByClient => 8,
            StatCode::Reserved(c) => c,
        }
    }

    /// The guide's remedy (table 3).
    pub fn remedy(self) -> &'static str {
        match self {
            StatCode::ClosedByServer => "reopen the MQTT connection with AT+QMTOPEN",
            StatCode::PingFailed => "deactivate and reactivate the PDP context, then reopen the MQTT connection",
            StatCode::ConnectSendFailed | StatCode::ConnackFailed => {
                "check the user name and password, make sure the client id is not in use, then reopen and reconnect"
            }
            StatCode::Disconnected => "normal: the client disconnected",
            StatCode::SendFailures => "check the data; the network may be congested: reopen the MQTT connection",
            StatCode::LinkDown => "make sure the link and the server are available",
            StatCode::ClosedByClient => "reopen the connection",
            StatCode::Reserved(_) => "reserved code: reopen the connection",
        }
    }
}

impl fmt::Display for StatCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            StatCode::ClosedByServer => "connection closed or reset by the server",
            StatCode::PingFailed => "PINGREQ timed out or failed",
            StatCode::ConnectSendFailed => "sending CONNECT timed out or failed",
            StatCode::ConnackFailed => "receiving CONNACK timed out or failed",
            StatCode::Disconnected => "DISCONNECT sent and the server closed the connection",
            StatCode::SendFailures => {
                "sending packets kept failing: the client closed the connection"
            }
            StatCode::LinkDown => "the link is not working or the server is unavailable",
            StatCode::ClosedByClient => "the client closed the connection",
            StatCode::Reserved(_) => "reserved code",
        };
        write!(
            f,
            "+QMTSTAT code {} ({text}; remedy: {})",
            self.code(),
            self.remedy()
        )
    }
}
