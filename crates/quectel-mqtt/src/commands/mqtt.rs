//! The connection commands: `AT+QMTOPEN` (§3.2.2), `AT+QMTCLOSE` (§3.2.3), `AT+QMTCONN`
//! (§3.2.4) and `AT+QMTDISC` (§3.2.5), their query forms, and the test form (`=?`) of every
//! `AT+QMT*` command but `AT+QMTCFG` (which has [`CfgTest`](super::CfgTest)).
//!
//! The set forms answer `OK` at once and complete with a result URC
//! ([`Completion::Urc`]), which may arrive before or after the `OK`.

use std::time::Duration;

use super::reply::{Field, ReplyShape};
use super::{final_request, line, Secret, MAX_CONNECT_FIELD_LEN, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::params::{check_client, check_quoted, check_range, push_arg_int, push_arg_quoted};
use crate::request::{Completion, Info, Request, Response, Timing, UrcKey};
use crate::urc::{ConnectReturnCode, OpenResult, PacketResult, Urc, UrcKind};
use crate::Command;

/// `AT+QMTOPEN`: 120 s, "受网络状态影响" (DNS, PDP activation and the TCP/TLS handshake).
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(120);
/// `AT+QMTCLOSE`: 30 s.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// `AT+QMTDISC`: 30 s.
pub const DISC_TIMEOUT: Duration = Duration::from_secs(30);

/// `<host_name>`: at most 100 bytes.
const HOST_MAX: usize = 100;

/// A request completed by `OK` and the result URC `key`.
pub(super) fn urc_request(
    name: &'static str,
    line: Vec<u8>,
    key: UrcKey,
    timeout: Duration,
) -> Request {
    Request {
        completion: Completion::Urc(key),
        ..final_request(name, line, Info::None, timeout)
    }
}

/// The URC that completed the command.
pub(super) fn completing_urc<'a>(
    command: &'static str,
    response: &'a Response,
) -> Result<&'a Urc, Error> {
    response.urc.as_ref().ok_or_else(|| Error::Reply {
        command,
        detail: "no result URC".to_owned(),
    })
}

/// An error for a completing URC of another kind than the command's.
pub(super) fn unexpected_urc(command: &'static str, expected: UrcKind) -> Error {
    Error::Reply {
        command,
        detail: format!("completed by a URC other than {}", expected.prefix()),
    }
}

/// `<client_idx>` as a line's start: `AT+QMTxxx=<client_idx>`.
pub(super) fn client_line(text: &str, client: u8) -> Result<Vec<u8>, ParamError> {
    check_client(client)?;
    let mut line = line(text);
    line.extend_from_slice(client.to_string().as_bytes());
    Ok(line)
}

/// `AT+QMTOPEN=<client_idx>,"<host_name>",<port>`: opens the client's network connection.
///
/// Fails with [`Error::Open`] when `+QMTOPEN: <idx>,<result>` reports a result other than 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub client: u8,
    /// An IP address or a domain name, 1–100 bytes.
    pub host: String,
    /// 1–65535.
    pub port: u16,
}

impl Command for Open {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTOPEN=", self.client)?;
        check_quoted("host_name", &self.host, 1, HOST_MAX)?;
        check_range("port", self.port.into(), 1, 65535)?;
        push_arg_quoted(&mut line, &self.host);
        push_arg_int(&mut line, self.port);
        let key = UrcKey {
            kind: UrcKind::Open,
            client: self.client,
            msgid: None,
        };
        Ok(urc_request("AT+QMTOPEN", line, key, OPEN_TIMEOUT))
    }

    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTOPEN", &response)? {
            Urc::Open {
                result: OpenResult::Opened,
                ..
            } => Ok(()),
            Urc::Open { result, .. } => Err(Error::Open(*result)),
            _ => Err(unexpected_urc("AT+QMTOPEN", UrcKind::Open)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `AT+QMTOPEN?`: the clients whose network is open, and where to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenQuery;

/// One `+QMTOPEN: <client_idx>,"<host_name>",<port>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEndpoint {
    pub client: u8,
    pub host: String,
    pub port: u16,
}

impl Command for OpenQuery {
    /// Empty when no client is open (the module answers a bare `OK`).
    type Output = Vec<OpenEndpoint>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+QMTOPEN",
            line("AT+QMTOPEN?"),
            Info::Prefix("+QMTOPEN:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Vec<OpenEndpoint>, Error> {
        let shape = ReplyShape {
            command: "AT+QMTOPEN",
            prefix: "+QMTOPEN:",
            shape: "+QMTOPEN: <client_idx>,<host_name>,<port>",
            secret: false,
        };
        let endpoints = shape.parse_all(&response, |fields| match fields {
            // A `+QMTOPEN: <idx>,<result>` URC of an earlier AT+QMTOPEN=, caught in passing.
            [Field::Bare(_), Field::Bare(_)] => Some(None),
            [client, host, port] => Some(Some(OpenEndpoint {
                client: client.int()?,
                host: host.quoted()?.to_owned(),
                port: port.int()?,
            })),
            _ => None,
        })?;
        Ok(endpoints.into_iter().flatten().collect())
    }
}

/// `AT+QMTCLOSE=<client_idx>`: closes the client's network connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    pub client: u8,
}

impl Command for Close {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let line = client_line("AT+QMTCLOSE=", self.client)?;
        let key = UrcKey {
            kind: UrcKind::Close,
            client: self.client,
            msgid: None,
        };
        Ok(urc_request("AT+QMTCLOSE", line, key, CLOSE_TIMEOUT))
    }

    /// `+QMTCLOSE: <idx>,0` succeeds; -1 (or any other result) is [`Error::Failed`].
    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTCLOSE", &response)? {
            Urc::Close { result: 0, .. } => Ok(()),
            Urc::Close { .. } => Err(Error::Failed {
                command: "AT+QMTCLOSE",
            }),
            _ => Err(unexpected_urc("AT+QMTCLOSE", UrcKind::Close)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// The user name and password of `AT+QMTCONN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// 0–[`MAX_CONNECT_FIELD_LEN`] bytes.
    pub username: String,
    /// 0–[`MAX_CONNECT_FIELD_LEN`] bytes.
    pub password: Secret,
}

/// `AT+QMTCONN=<client_idx>,"<clientid>"[,"<username>","<password>"]`: the MQTT CONNECT.
///
/// Its limit is the client's `<pkt_timeout>` ([`Timing::connect`]). Succeeds on
/// `+QMTCONN: <idx>,0[,0]`; any other result or return code is [`Error::Connect`]. With
/// credentials, the request is marked secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    pub client: u8,
    /// 1–[`MAX_CONNECT_FIELD_LEN`] bytes (the guide gives no bound).
    pub client_id: String,
    /// `None` when the module derives them (`AT+QMTCFG="aliauth"` and the like).
    pub credentials: Option<Credentials>,
}

impl Command for Connect {
    type Output = ();

    fn request(&self, timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTCONN=", self.client)?;
        check_quoted("clientid", &self.client_id, 1, MAX_CONNECT_FIELD_LEN)?;
        push_arg_quoted(&mut line, &self.client_id);
        if let Some(credentials) = &self.credentials {
            check_quoted("username", &credentials.username, 0, MAX_CONNECT_FIELD_LEN)?;
            check_quoted(
                "password",
                credentials.password.expose(),
                0,
                MAX_CONNECT_FIELD_LEN,
            )?;
            push_arg_quoted(&mut line, &credentials.username);
            push_arg_quoted(&mut line, credentials.password.expose());
        }
        let key = UrcKey {
            kind: UrcKind::Conn,
            client: self.client,
            msgid: None,
        };
        let request = urc_request("AT+QMTCONN", line, key, timing.connect());
        Ok(Request {
            secret: self.credentials.is_some(),
            ..request
        })
    }

    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTCONN", &response)? {
            Urc::Conn {
                result: PacketResult::Acked,
                ret_code: None | Some(ConnectReturnCode::Accepted),
                ..
            } => Ok(()),
            Urc::Conn {
                result, ret_code, ..
            } => Err(Error::Connect {
                result: *result,
                ret_code: *ret_code,
            }),
            _ => Err(unexpected_urc("AT+QMTCONN", UrcKind::Conn)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `<state>` of `AT+QMTCONN?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// 1: initializing.
    Initializing,
    /// 2: connecting.
    Connecting,
    /// 3: connected.
    Connected,
    /// 4: disconnecting.
    Disconnecting,
}

impl ConnState {
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(ConnState::Initializing),
            2 => Some(ConnState::Connecting),
            3 => Some(ConnState::Connected),
            4 => Some(ConnState::Disconnecting),
            _ => None,
        }
    }
}

/// One `+QMTCONN: <client_idx>,<state>` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState {
    pub client: u8,
    pub state: ConnState,
}

/// `AT+QMTCONN?`: the MQTT state of every open client.
///
/// Claims `+QMTCONN:` lines as its information response while in flight
/// ([`Info::Prefix`]). A `+QMTCONN: <idx>,<result>,<ret_code>` result URC caught in passing is
/// skipped; one without `<ret_code>` cannot be told from a state line (delta 18).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnStateQuery;

impl Command for ConnStateQuery {
    /// Empty when no client is open.
    type Output = Vec<ClientState>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+QMTCONN",
            line("AT+QMTCONN?"),
            Info::Prefix("+QMTCONN:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Vec<ClientState>, Error> {
        let shape = ReplyShape {
            command: "AT+QMTCONN",
            prefix: "+QMTCONN:",
            shape: "+QMTCONN: <client_idx>,<state>",
            secret: false,
        };
        let states = shape.parse_all(&response, |fields| match fields {
            [_, _, _] => Some(None),
            [client, state] => Some(Some(ClientState {
                client: client.int()?,
                state: ConnState::from_code(state.int()?)?,
            })),
            _ => None,
        })?;
        Ok(states.into_iter().flatten().collect())
    }
}

/// `AT+QMTDISC=<client_idx>`: sends DISCONNECT and closes the client's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect {
    pub client: u8,
}

impl Command for Disconnect {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let line = client_line("AT+QMTDISC=", self.client)?;
        let key = UrcKey {
            kind: UrcKind::Disc,
            client: self.client,
            msgid: None,
        };
        Ok(urc_request("AT+QMTDISC", line, key, DISC_TIMEOUT))
    }

    /// `+QMTDISC: <idx>,0` succeeds; -1 (or any other result) is [`Error::Failed`].
    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTDISC", &response)? {
            Urc::Disc { result: 0, .. } => Ok(()),
            Urc::Disc { .. } => Err(Error::Failed {
                command: "AT+QMTDISC",
            }),
            _ => Err(unexpected_urc("AT+QMTDISC", UrcKind::Disc)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// The test form `AT+QMT<cmd>=?` of an MQTT command: the module's supported ranges, e.g.
/// `(0-5),"hostname",(1-65535)` for OPEN. `AT+QMTRECV=?` answers a bare `OK` (no lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttTest {
    Open,
    Close,
    Conn,
    Disc,
    Sub,
    Uns,
    PubEx,
    Recv,
}

impl MqttTest {
    /// The command's name, which is also its reply prefix without the `:`.
    fn name(self) -> &'static str {
        match self {
            MqttTest::Open => "AT+QMTOPEN",
            MqttTest::Close => "AT+QMTCLOSE",
            MqttTest::Conn => "AT+QMTCONN",
            MqttTest::Disc => "AT+QMTDISC",
            MqttTest::Sub => "AT+QMTSUB",
            MqttTest::Uns => "AT+QMTUNS",
            MqttTest::PubEx => "AT+QMTPUBEX",
            MqttTest::Recv => "AT+QMTRECV",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            MqttTest::Open => "+QMTOPEN:",
            MqttTest::Close => "+QMTCLOSE:",
            MqttTest::Conn => "+QMTCONN:",
            MqttTest::Disc => "+QMTDISC:",
            MqttTest::Sub => "+QMTSUB:",
            MqttTest::Uns => "+QMTUNS:",
            MqttTest::PubEx => "+QMTPUBEX:",
            MqttTest::Recv => "+QMTRECV:",
        }
    }
}

impl Command for MqttTest {
    /// The listed lines without their prefix.
    type Output = Vec<String>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let mut line = line(self.name());
        line.extend_from_slice(b"=?");
        Ok(final_request(
            self.name(),
            line,
            Info::Prefix(self.prefix()),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Vec<String>, Error> {
        let shape = ReplyShape {
            command: self.name(),
            prefix: self.prefix(),
            shape: "",
            secret: false,
        };
        Ok(shape
            .lines(&response)
            .map(|(_, body)| body.to_owned())
            .collect())
    }
}

#[cfg(test)]
#[path = "mqtt_tests.rs"]
mod tests;
