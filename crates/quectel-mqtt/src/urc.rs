//! Unsolicited result codes (guide chapter 4) and the result URCs that complete commands,
//! with the guide's meaning of every code.

use bytes::Bytes;

pub use crate::codes::{ConnectReturnCode, OpenResult, PacketResult, StatCode};

/// A message the broker sent to the device (`+QMTRECV` with a topic and a payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub client: u8,
    /// 0 for QoS 0 deliveries.
    pub msgid: u16,
    pub topic: String,
    /// The payload bytes exactly as the module delivered them (CR, LF, quotes and commas
    /// included; hex text when `dataformat` receives in hex).
    pub payload: Bytes,
}

/// The kinds of result URC that complete a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrcKind {
    Open,
    Close,
    Conn,
    Disc,
    Sub,
    Uns,
    PubEx,
}

impl UrcKind {
    /// The URC's prefix, colon included.
    pub fn prefix(self) -> &'static str {
        match self {
            UrcKind::Open => "+QMTOPEN:",
            UrcKind::Close => "+QMTCLOSE:",
            UrcKind::Conn => "+QMTCONN:",
            UrcKind::Disc => "+QMTDISC:",
            UrcKind::Sub => "+QMTSUB:",
            UrcKind::Uns => "+QMTUNS:",
            UrcKind::PubEx => "+QMTPUBEX:",
        }
    }
}

/// A URC from the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urc {
    /// `+QMTOPEN: <idx>,<result>`.
    Open { client: u8, result: OpenResult },
    /// `+QMTCLOSE: <idx>,<result>`: 0 closed, -1 failed.
    Close { client: u8, result: i32 },
    /// `+QMTCONN: <idx>,<result>[,<ret_code>]`.
    Conn {
        client: u8,
        result: PacketResult,
        ret_code: Option<ConnectReturnCode>,
    },
    /// `+QMTDISC: <idx>,<result>`: 0 disconnected, -1 failed.
    Disc { client: u8, result: i32 },
    /// `+QMTSUB: <idx>,<msgid>,<result>[,<value>…]`: granted QoS levels when result is 0,
    /// the retransmission count when it is 1.
    Sub {
        client: u8,
        msgid: u16,
        result: PacketResult,
        values: Vec<i32>,
    },
    /// `+QMTUNS: <idx>,<msgid>,<result>[,<value>…]`.
    Uns {
        client: u8,
        msgid: u16,
        result: PacketResult,
        values: Vec<i32>,
    },
    /// `+QMTPUBEX: <idx>,<msgid>,<result>[,<value>]`: value is the retransmission count.
    PubEx {
        client: u8,
        msgid: u16,
        result: PacketResult,
        value: Option<i32>,
    },
    /// `+QMTSTAT: <idx>,<err_code>`: the MQTT link went down.
    Stat { client: u8, code: StatCode },
    /// `+QMTRECV: <idx>,<msgid>,<topic>[,<len>],<payload>`.
    Recv(Message),
    /// `+QMTRECV: <idx>,<recv_id>`: a message was stored in buffer slot `recv_id` (0–4).
    Stored { client: u8, recv_id: u8 },
    /// `+QMTPING: <idx>,<result>`: the keep-alive ping failed (result 1).
    Ping { client: u8, result: i32 },
    /// `RDY`: the module (re)started; every client is closed.
    Ready,
    /// Any other unsolicited line (`+CPIN: READY`, `+QIND: …`, `+QUSIM: 1`, `POWERED DOWN`…).
    Other(String),
}

impl Urc {
    /// The key a pending command waits for, if this URC completes one.
    pub fn key(&self) -> Option<crate::request::UrcKey> {
        use crate::request::UrcKey;
        let (kind, client, msgid) = match *self {
            Urc::Open { client, .. } => (UrcKind::Open, client, None),
            Urc::Close { client, .. } => (UrcKind::Close, client, None),
            Urc::Conn { client, .. } => (UrcKind::Conn, client, None),
            Urc::Disc { client, .. } => (UrcKind::Disc, client, None),
            Urc::Sub { client, msgid, .. } => (UrcKind::Sub, client, Some(msgid)),
            Urc::Uns { client, msgid, .. } => (UrcKind::Uns, client, Some(msgid)),
            Urc::PubEx { client, msgid, .. } => (UrcKind::PubEx, client, Some(msgid)),
            _ => return None,
        };
        Some(UrcKey {
            kind,
            client,
            msgid,
        })
    }

    /// Parses one URC line (without CR LF). `+QMTRECV` lines with a payload are framed by the
    /// decoder and never reach this function; a `+QMTRECV:` line with two numbers is
    /// [`Urc::Stored`].
    ///
    /// Lines that start with a known prefix but do not have the guide's shape become
    /// [`Urc::Other`]: unknown input never stops the port.
    pub fn parse(line: &str) -> Urc {
        parse_known(line).unwrap_or_else(|| {
            if line == "RDY" {
                Urc::Ready
            } else {
                Urc::Other(line.to_owned())
            }
        })
    }

    /// True when the line starts with a prefix this crate parses as a URC.
    pub fn is_known_prefix(line: &str) -> bool {
        line == "RDY" || URC_PREFIXES.iter().any(|p| line.starts_with(p))
    }
}

/// Every prefix that may arrive unsolicited. Lines with these prefixes are never taken for a
/// command's information response unless the command claims the prefix ([`crate::Info`]).
pub const URC_PREFIXES: &[&str] = &[
    "+QMTOPEN:",
    "+QMTCLOSE:",
    "+QMTCONN:",
    "+QMTDISC:",
    "+QMTSUB:",
    "+QMTUNS:",
    "+QMTPUBEX:",
    "+QMTPUB:",
    "+QMTSTAT:",
    "+QMTRECV:",
    "+QMTPING:",
    "+CPIN:",
    "+QIND:",
    "+QUSIM:",
    "+CREG:",
    "+CGREG:",
    "+CEREG:",
    "+QIURC:",
    "+CFUN:",
    "POWERED DOWN",
    "NORMAL POWER DOWN",
];

fn ints(rest: &str) -> Option<Vec<i32>> {
    rest.split(',')
        .map(|f| f.trim().parse::<i32>().ok())
        .collect()
}

fn idx(v: i32) -> Option<u8> {
    u8::try_from(v).ok().filter(|c| *c <= crate::MAX_CLIENT)
}

fn msgid(v: i32) -> Option<u16> {
    u16::try_from(v).ok()
}

fn parse_known(line: &str) -> Option<Urc> {
    let (prefix, rest) = line.split_once(':')?;
    let v = ints(rest)?;
    let urc = match (prefix, v.as_slice()) {
        ("+QMTOPEN", [c, r]) => Urc::Open {
            client: idx(*c)?,
            result: OpenResult::from_code(*r),
        },
        ("+QMTCLOSE", [c, r]) => Urc::Close {
            client: idx(*c)?,
            result: *r,
        },
        ("+QMTCONN", [c, r]) => Urc::Conn {
            client: idx(*c)?,
            result: PacketResult::from_code(*r),
            ret_code: None,
        },
        ("+QMTCONN", [c, r, rc]) => Urc::Conn {
            client: idx(*c)?,
            result: PacketResult::from_code(*r),
            ret_code: Some(ConnectReturnCode::from_code(*rc)),
        },
        ("+QMTDISC", [c, r]) => Urc::Disc {
            client: idx(*c)?,
            result: *r,
        },
        ("+QMTSUB", [c, m, r, values @ ..]) => Urc::Sub {
            client: idx(*c)?,
            msgid: msgid(*m)?,
            result: PacketResult::from_code(*r),
            values: values.to_vec(),
        },
        ("+QMTUNS", [c, m, r, values @ ..]) => Urc::Uns {
            client: idx(*c)?,
            msgid: msgid(*m)?,
            result: PacketResult::from_code(*r),
            values: values.to_vec(),
        },
        ("+QMTPUBEX" | "+QMTPUB", [c, m, r, value @ ..]) if value.len() <= 1 => Urc::PubEx {
            client: idx(*c)?,
            msgid: msgid(*m)?,
            result: PacketResult::from_code(*r),
            value: value.first().copied(),
        },
        ("+QMTSTAT", [c, e]) => Urc::Stat {
            client: idx(*c)?,
            code: StatCode::from_code(*e),
        },
        ("+QMTRECV", [c, r]) => Urc::Stored {
            client: idx(*c)?,
            recv_id: u8::try_from(*r).ok().filter(|r| *r <= 4)?,
        },
        ("+QMTPING", [c, r]) => Urc::Ping {
            client: idx(*c)?,
            result: *r,
        },
        _ => return None,
    };
    Some(urc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_guides_result_urcs() {
        assert_eq!(
            Urc::parse("+QMTOPEN: 0,0"),
            Urc::Open {
                client: 0,
                result: OpenResult::Opened
            }
        );
        assert_eq!(
            Urc::parse("+QMTOPEN: 1,-1"),
            Urc::Open {
                client: 1,
                result: OpenResult::Failed
            }
        );
        assert_eq!(
            Urc::parse("+QMTCONN: 0,0,0"),
            Urc::Conn {
                client: 0,
                result: PacketResult::Acked,
                ret_code: Some(ConnectReturnCode::Accepted)
            }
        );
        assert_eq!(
            Urc::parse("+QMTCONN: 0,0"),
            Urc::Conn {
                client: 0,
                result: PacketResult::Acked,
                ret_code: None
            }
        );
        assert_eq!(
            Urc::parse("+QMTSUB: 0,1,0,2"),
            Urc::Sub {
                client: 0,
                msgid: 1,
                result: PacketResult::Acked,
                values: vec![2]
            }
        );
        assert_eq!(
            Urc::parse("+QMTUNS: 0,2,0"),
            Urc::Uns {
                client: 0,
                msgid: 2,
                result: PacketResult::Acked,
                values: vec![]
            }
        );
        assert_eq!(
            Urc::parse("+QMTPUBEX: 0,1,1,2"),
            Urc::PubEx {
                client: 0,
                msgid: 1,
                result: PacketResult::Retransmitting,
                value: Some(2)
            }
        );
        assert_eq!(
            Urc::parse("+QMTSTAT: 0,4"),
            Urc::Stat {
                client: 0,
                code: StatCode::ConnackFailed
            }
        );
        assert_eq!(
            Urc::parse("+QMTRECV: 2,4"),
            Urc::Stored {
                client: 2,
                recv_id: 4
            }
        );
        assert_eq!(
            Urc::parse("+QMTPING: 0,1"),
            Urc::Ping {
                client: 0,
                result: 1
            }
        );
        assert_eq!(
            Urc::parse("+QMTDISC: 0,0"),
            Urc::Disc {
                client: 0,
                result: 0
            }
        );
        assert_eq!(
            Urc::parse("+QMTCLOSE: 0,0"),
            Urc::Close {
                client: 0,
                result: 0
            }
        );
        assert_eq!(Urc::parse("RDY"), Urc::Ready);
    }

    #[test]
    fn malformed_known_prefixes_become_other() {
        for line in [
            "+QMTOPEN: 9,0",
            "+QMTSTAT: x",
            "+QMTSUB: 0",
            "+QMTRECV: 0,7",
            "+QMTOPEN: 0,\"h\",1883",
        ] {
            assert_eq!(Urc::parse(line), Urc::Other(line.to_owned()), "{line}");
        }
    }

    #[test]
    fn codes_round_trip_and_explain_themselves() {
        for code in -1..=6 {
            assert_eq!(OpenResult::from_code(code).code(), code);
        }
        for code in 1..=9 {
            assert_eq!(StatCode::from_code(code).code(), code);
        }
        assert!(StatCode::PingFailed.to_string().contains("PDP"));
        assert!(ConnectReturnCode::from_code(4).is_credential_refusal());
        assert!(!ConnectReturnCode::from_code(3).is_credential_refusal());
    }
}
