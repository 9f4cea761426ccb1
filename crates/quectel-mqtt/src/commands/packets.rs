//! The packet commands: `AT+QMTSUB` (§3.2.6), `AT+QMTUNS` (§3.2.7), `AT+QMTPUBEX` (§3.2.8)
//! and `AT+QMTRECV` (§3.2.9).
//!
//! SUB, UNS and PUBEX answer `OK` and complete with a result URC carrying their `<msgid>`,
//! within `<pkt_timeout>` × `<retry_times>` ([`Timing::packet`]).

use std::time::Duration;

use bytes::Bytes;

use super::mqtt::{client_line, completing_urc, unexpected_urc, urc_request};
use super::reply::ReplyShape;
use super::{final_request, line, Qos, MAX_TOPIC_LEN, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::params::{check_quoted, check_range, push_arg_int, push_arg_quoted};
use crate::request::{Data, Info, Request, Response, Timing, UrcKey};
use crate::urc::{Message, PacketResult, Urc, UrcKind};
use crate::{Command, MAX_PAYLOAD};

/// `AT+QMTRECV=<idx>[,<recv_id>]`: the guide gives no limit. Five buffered messages of
/// [`MAX_PAYLOAD`] bytes take about 8 s on a 9600-baud UART.
pub const RECV_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks `<msgid>` of SUB and UNS (1–65535) and that there is a topic, and appends the msgid.
fn push_msgid(line: &mut Vec<u8>, msgid: u16, topics: usize) -> Result<(), ParamError> {
    check_range("msgid", msgid.into(), 1, 65535)?;
    if topics == 0 {
        return Err(ParamError::Invalid {
            param: "topic",
            reason: "at least one topic is required",
        });
    }
    push_arg_int(line, msgid);
    Ok(())
}

/// A topic filter and the QoS asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFilter {
    /// 1–[`MAX_TOPIC_LEN`] bytes.
    pub topic: String,
    pub qos: Qos,
}

/// A granted QoS value of `+QMTSUB: <idx>,<msgid>,0,<value>…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubAck {
    Granted(Qos),
    /// 128 (SUBACK 0x80): the broker refused the filter.
    Refused,
}

/// `AT+QMTSUB=<client_idx>,<msgid>,"<topic1>",<qos1>[,"<topic2>",<qos2>…]`.
///
/// Yields the granted QoS values in the order of the filters. A result other than 0 is
/// [`Error::Packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub client: u8,
    /// 1–65535.
    pub msgid: u16,
    /// At least one.
    pub topics: Vec<TopicFilter>,
}

impl Command for Subscribe {
    type Output = Vec<SubAck>;

    fn request(&self, timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTSUB=", self.client)?;
        push_msgid(&mut line, self.msgid, self.topics.len())?;
        for filter in &self.topics {
            check_quoted("topic", &filter.topic, 1, MAX_TOPIC_LEN)?;
            push_arg_quoted(&mut line, &filter.topic);
            push_arg_int(&mut line, filter.qos.code());
        }
        let key = UrcKey {
            kind: UrcKind::Sub,
            client: self.client,
            msgid: Some(self.msgid),
        };
        Ok(urc_request("AT+QMTSUB", line, key, timing.packet()))
    }

    fn parse(&self, response: Response) -> Result<Vec<SubAck>, Error> {
        let values = match completing_urc("AT+QMTSUB", &response)? {
            Urc::Sub {
                result: PacketResult::Acked,
                values,
                ..
            } => values,
            Urc::Sub { result, .. } => {
                return Err(Error::Packet {
                    command: "AT+QMTSUB",
                    result: *result,
                })
            }
            _ => return Err(unexpected_urc("AT+QMTSUB", UrcKind::Sub)),
        };
        values
            .iter()
            .map(|value| match *value {
                128 => Ok(SubAck::Refused),
                code => Qos::from_code(code.into())
                    .map(SubAck::Granted)
                    .ok_or_else(|| Error::Reply {
                        command: "AT+QMTSUB",
                        detail: format!("granted QoS {code} is neither 0-2 nor 128"),
                    }),
            })
            .collect()
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `AT+QMTUNS=<client_idx>,<msgid>,"<topic1>"[,"<topic2>"…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub client: u8,
    /// 1–65535.
    pub msgid: u16,
    /// At least one, each 1–[`MAX_TOPIC_LEN`] bytes.
    pub topics: Vec<String>,
}

impl Command for Unsubscribe {
    type Output = ();

    fn request(&self, timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTUNS=", self.client)?;
        push_msgid(&mut line, self.msgid, self.topics.len())?;
        for topic in &self.topics {
            check_quoted("topic", topic, 1, MAX_TOPIC_LEN)?;
            push_arg_quoted(&mut line, topic);
        }
        let key = UrcKey {
            kind: UrcKind::Uns,
            client: self.client,
            msgid: Some(self.msgid),
        };
        Ok(urc_request("AT+QMTUNS", line, key, timing.packet()))
    }

    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTUNS", &response)? {
            Urc::Uns {
                result: PacketResult::Acked,
                ..
            } => Ok(()),
            Urc::Uns { result, .. } => Err(Error::Packet {
                command: "AT+QMTUNS",
                result: *result,
            }),
            _ => Err(unexpected_urc("AT+QMTUNS", UrcKind::Uns)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `AT+QMTPUBEX=<client_idx>,<msgid>,<qos>,<retain>,"<topic>",<length>`, then the payload
/// after `>`.
///
/// `<length>` is the payload's length in bytes (UTF-8 text counts bytes, not characters), and
/// exactly those bytes follow the prompt, with no line ending. A result other than 0 is
/// [`Error::Packet`]. In hex send mode the payload must already be hex text; its length is
/// still written in bytes (the guide does not say which the module expects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub client: u8,
    /// 0 for QoS 0, 1–65535 for QoS 1 and 2.
    pub msgid: u16,
    pub qos: Qos,
    pub retain: bool,
    /// 1–[`MAX_TOPIC_LEN`] bytes.
    pub topic: String,
    /// At most [`MAX_PAYLOAD`] (1500) bytes.
    pub payload: Bytes,
}

impl Command for Publish {
    type Output = ();

    fn request(&self, timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTPUBEX=", self.client)?;
        match self.qos {
            Qos::AtMostOnce => check_range("msgid", self.msgid.into(), 0, 0)?,
            Qos::AtLeastOnce | Qos::ExactlyOnce => {
                check_range("msgid", self.msgid.into(), 1, 65535)?
            }
        }
        check_quoted("topic", &self.topic, 1, MAX_TOPIC_LEN)?;
        if self.payload.len() > MAX_PAYLOAD {
            return Err(ParamError::Length {
                param: "payload",
                len: self.payload.len(),
                min: 0,
                max: MAX_PAYLOAD,
            });
        }
        push_arg_int(&mut line, self.msgid);
        push_arg_int(&mut line, self.qos.code());
        push_arg_int(&mut line, u8::from(self.retain));
        push_arg_quoted(&mut line, &self.topic);
        push_arg_int(
            &mut line,
            i64::try_from(self.payload.len()).unwrap_or(i64::MAX),
        );
        let key = UrcKey {
            kind: UrcKind::PubEx,
            client: self.client,
            msgid: Some(self.msgid),
        };
        let request = urc_request("AT+QMTPUBEX", line, key, timing.packet());
        Ok(Request {
            data: Some(Data::Prompt(self.payload.clone())),
            ..request
        })
    }

    fn parse(&self, response: Response) -> Result<(), Error> {
        match completing_urc("AT+QMTPUBEX", &response)? {
            Urc::PubEx {
                result: PacketResult::Acked,
                ..
            } => Ok(()),
            Urc::PubEx { result, .. } => Err(Error::Packet {
                command: "AT+QMTPUBEX",
                result: *result,
            }),
            _ => Err(unexpected_urc("AT+QMTPUBEX", UrcKind::PubEx)),
        }
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

/// `AT+QMTRECV?`: which of the five receive buffers of each client hold a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecvStatusQuery;

/// One `+QMTRECV: <client_idx>,<store_status_0>,…,<store_status_4>` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvSlots {
    pub client: u8,
    /// `stored[n]`: buffer `n` (the `<recv_id>` of [`RecvRead`]) holds a message.
    pub stored: [bool; 5],
}

impl Command for RecvStatusQuery {
    /// Empty when no client is connected (the module answers a bare `OK`).
    type Output = Vec<RecvSlots>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        Ok(final_request(
            "AT+QMTRECV",
            line("AT+QMTRECV?"),
            Info::Prefix("+QMTRECV:"),
            QUICK_TIMEOUT,
        ))
    }

    fn parse(&self, response: Response) -> Result<Vec<RecvSlots>, Error> {
        let shape = ReplyShape {
            command: "AT+QMTRECV",
            prefix: "+QMTRECV:",
            shape: "+QMTRECV: <client_idx>,<store_status_0>,…,<store_status_4>",
            secret: false,
        };
        shape.parse_all(&response, |fields| match fields {
            [client, slots @ ..] if slots.len() == 5 => {
                let mut stored = [false; 5];
                for (flag, field) in stored.iter_mut().zip(slots) {
                    *flag = field.flag()?;
                }
                Some(RecvSlots {
                    client: client.int()?,
                    stored,
                })
            }
            _ => None,
        })
    }
}

/// `AT+QMTRECV=<client_idx>[,<recv_id>]`: reads buffered messages (`recv/mode` 1), all of
/// them or the one in buffer `recv_id` (0–4).
///
/// The decoder frames each `+QMTRECV: <idx>,<msgid>,"<topic>"[,<len>],<payload>` line as a
/// message ([`Response::messages`]). The module answers `ERROR` when the client is not
/// connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvRead {
    pub client: u8,
    pub recv_id: Option<u8>,
}

impl Command for RecvRead {
    type Output = Vec<Message>;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let mut line = client_line("AT+QMTRECV=", self.client)?;
        if let Some(recv_id) = self.recv_id {
            check_range("recv_id", recv_id.into(), 0, 4)?;
            push_arg_int(&mut line, recv_id);
        }
        Ok(final_request(
            "AT+QMTRECV",
            line,
            Info::Prefix("+QMTRECV:"),
            RECV_READ_TIMEOUT,
        ))
    }

    /// The messages read. Stray `+QMTRECV: <idx>,<recv_id>` notices caught with the reply are
    /// not messages and are left out.
    fn parse(&self, response: Response) -> Result<Vec<Message>, Error> {
        Ok(response.messages)
    }

    fn client(&self) -> Option<u8> {
        Some(self.client)
    }
}

#[cfg(test)]
#[path = "packets_tests.rs"]
mod tests;
