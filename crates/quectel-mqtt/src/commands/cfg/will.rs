//! The last-will options of `AT+QMTCFG`: "will" (message on the line) and "willex" (message
//! sent after the `>` prompt, so it may hold any bytes).

use bytes::Bytes;

use super::connection::set_command;
use super::{option_line, set_request, CfgOption};
use crate::commands::reply::Field;
use crate::commands::{flag, Qos};
use crate::error::{Error, ParamError};
use crate::params::{check_quoted, check_range, push_arg_int, push_arg_quoted};
use crate::request::{Data, Request, Response, Timing};
use crate::Command;

/// `<will_topic>`: 1–256 bytes.
const WILL_TOPIC_MAX: usize = 256;
/// `<will_msg>` and `<will_len>`: 0–256 bytes.
const WILL_MESSAGE_MAX: usize = 256;

/// A will whose message goes on the AT line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub qos: Qos,
    pub retain: bool,
    /// 1–256 bytes.
    pub topic: String,
    /// 0–256 bytes; no `"`, CR, LF or NUL (use [`CfgWillEx`] for such messages).
    pub message: String,
}

/// `AT+QMTCFG="will",<client_idx>,<will_fg>[,<will_qos>,<will_retain>,"<will_topic>","<will_msg>"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgWill {
    pub client: u8,
    /// `None` writes `<will_fg>` 0 (no will); the guide then omits the other values.
    pub will: Option<Will>,
}

/// The fields after `<will_fg>` that both will options share: `<will_qos>,<will_retain>,<will_topic>`.
fn will_header(
    qos: &Field<'_>,
    retain: &Field<'_>,
    topic: &Field<'_>,
) -> Option<(Qos, bool, String)> {
    Some((
        Qos::from_code(qos.int()?)?,
        retain.flag()?,
        topic.text().to_owned(),
    ))
}

impl CfgOption for CfgWill {
    const NAME: &'static str = "will";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"will\",<will_fg>[,<will_qos>,<will_retain>,<will_topic>,<will_msg>]";
    type Reply = Option<Will>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<Will>> {
        match fields {
            // With the flag off some firmware still prints the old values: they do not apply.
            [will_fg, ..] if !will_fg.flag()? => Some(None),
            [_, qos, retain, topic, message] => {
                let (qos, retain, topic) = will_header(qos, retain, topic)?;
                Some(Some(Will {
                    qos,
                    retain,
                    topic,
                    message: message.text().to_owned(),
                }))
            }
            _ => None,
        }
    }
}

set_command!(CfgWill, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    match &self.will {
        None => push_arg_int(&mut line, 0),
        Some(will) => {
            check_quoted("will_topic", &will.topic, 1, WILL_TOPIC_MAX)?;
            check_quoted("will_msg", &will.message, 0, WILL_MESSAGE_MAX)?;
            push_arg_int(&mut line, 1);
            push_arg_int(&mut line, will.qos.code());
            push_arg_int(&mut line, flag(will.retain));
            push_arg_quoted(&mut line, &will.topic);
            push_arg_quoted(&mut line, &will.message);
        }
    }
    Ok(set_request(line))
});

/// A will whose message is sent after the `>` prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillEx {
    pub qos: Qos,
    pub retain: bool,
    /// 1–256 bytes.
    pub topic: String,
    /// 0–256 bytes, sent as they are (CR, LF and quotes included).
    pub message: Bytes,
}

/// `AT+QMTCFG="willex",<client_idx>,<will_fg>[,<will_qos>,<will_retain>,"<will_topic>",<will_len>]`,
/// then the message after `>`.
///
/// `<will_len>` is always the message's length in bytes: the module would cut a longer input
/// to `<will_len>` bytes, so a message over 256 bytes is refused rather than cut. With no will
/// (`<will_fg>` 0) nothing is sent after the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfgWillEx {
    pub client: u8,
    pub will: Option<WillEx>,
}

/// The query reply of "willex": the message itself is not echoed, only its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillExConfig {
    pub qos: Qos,
    pub retain: bool,
    pub topic: String,
    /// `<will_len>`.
    pub len: u16,
}

impl CfgOption for CfgWillEx {
    const NAME: &'static str = "willex";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"willex\",<will_fg>[,<will_qos>,<will_retain>,<will_topic>,<will_len>]";
    type Reply = Option<WillExConfig>;

    fn parse_reply(fields: &[Field<'_>]) -> Option<Option<WillExConfig>> {
        match fields {
            [will_fg, ..] if !will_fg.flag()? => Some(None),
            [_, qos, retain, topic, len] => {
                let (qos, retain, topic) = will_header(qos, retain, topic)?;
                Some(Some(WillExConfig {
                    qos,
                    retain,
                    topic,
                    len: len.int()?,
                }))
            }
            _ => None,
        }
    }
}

set_command!(CfgWillEx, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    let Some(will) = &self.will else {
        push_arg_int(&mut line, 0);
        return Ok(set_request(line));
    };
    check_quoted("will_topic", &will.topic, 1, WILL_TOPIC_MAX)?;
    let will_len = i64::try_from(will.message.len()).unwrap_or(i64::MAX);
    check_range("will_len", will_len, 0, WILL_MESSAGE_MAX as i64)?;
    push_arg_int(&mut line, 1);
    push_arg_int(&mut line, will.qos.code());
    push_arg_int(&mut line, flag(will.retain));
    push_arg_quoted(&mut line, &will.topic);
    push_arg_int(&mut line, will_len);
    Ok(Request {
        data: Some(Data::Prompt(will.message.clone())),
        ..set_request(line)
    })
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, refused_param, request};
    use crate::commands::CfgQuery;
    use crate::error::ParamError;

    fn will(topic: &str, message: &str) -> CfgWill {
        let will = Will {
            qos: Qos::AtLeastOnce,
            retain: true,
            topic: topic.into(),
            message: message.into(),
        };
        CfgWill {
            client: 0,
            will: Some(will),
        }
    }

    fn willex(topic: &str, message: Vec<u8>) -> CfgWillEx {
        let will = WillEx {
            qos: Qos::ExactlyOnce,
            retain: false,
            topic: topic.into(),
            message: message.into(),
        };
        CfgWillEx {
            client: 1,
            will: Some(will),
        }
    }

    #[test]
    fn will_writes_topic_and_message_on_the_line() {
        assert_eq!(
            encode(&will("dev/lwt", "offline")),
            "AT+QMTCFG=\"will\",0,1,1,1,\"dev/lwt\",\"offline\""
        );
        assert_eq!(
            encode(&CfgWill {
                client: 0,
                will: None
            }),
            "AT+QMTCFG=\"will\",0,0"
        );
        assert_eq!(
            encode(&will("t", "")),
            "AT+QMTCFG=\"will\",0,1,1,1,\"t\",\"\""
        );
        let topic_256 = "t".repeat(256);
        assert!(will(&topic_256, &"m".repeat(256))
            .request(&Timing::default())
            .is_ok());
        assert_eq!(refused_param(&will("", "m")), "will_topic");
        assert_eq!(refused_param(&will(&"t".repeat(257), "m")), "will_topic");
        assert_eq!(refused_param(&will("t", &"m".repeat(257))), "will_msg");
    }

    #[test]
    fn will_refuses_framing_characters_without_quoting_them() {
        for bad in ["a\"b", "a\rb", "a\nb", "a\0b"] {
            let err = will("t", bad).request(&Timing::default()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ParamError::Forbidden {
                        param: "will_msg",
                        ..
                    }
                ),
                "{bad:?}"
            );
            let err = will(bad, "m").request(&Timing::default()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ParamError::Forbidden {
                        param: "will_topic",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn will_query_reply() {
        let query = CfgQuery::<CfgWill>::new(0);
        let reply = query
            .parse(info(&["+QMTCFG: \"will\",1,1,1,\"dev/lwt\",\"off, line\""]))
            .unwrap();
        assert_eq!(reply, will("dev/lwt", "off, line").will);
        assert_eq!(query.parse(info(&["+QMTCFG: \"will\",0"])).unwrap(), None);
        assert_eq!(
            query
                .parse(info(&["+QMTCFG: \"will\",0,0,0,\"\",\"\""]))
                .unwrap(),
            None
        );
        assert!(query
            .parse(info(&["+QMTCFG: \"will\",1,3,0,\"t\",\"m\""]))
            .is_err());
        assert!(query
            .parse(info(&["+QMTCFG: \"will\",1,1,0,\"t\""]))
            .is_err());
    }

    #[test]
    fn willex_sends_the_message_after_the_prompt() {
        let message = b"gone\r\n\"bye\"".to_vec();
        let req = request(&willex("dev/lwt", message.clone()));
        assert_eq!(req.line, b"AT+QMTCFG=\"willex\",1,1,2,0,\"dev/lwt\",11");
        assert_eq!(req.data, Some(Data::Prompt(Bytes::from(message))));
        assert_eq!(
            encode(&willex("t", vec![])),
            "AT+QMTCFG=\"willex\",1,1,2,0,\"t\",0"
        );
        assert_eq!(
            encode(&willex("t", vec![b'x'; 256])),
            "AT+QMTCFG=\"willex\",1,1,2,0,\"t\",256"
        );
        let err = willex("t", vec![b'x'; 257])
            .request(&Timing::default())
            .unwrap_err();
        assert_eq!(
            err,
            ParamError::OutOfRange {
                param: "will_len",
                value: 257,
                min: 0,
                max: 256
            }
        );
        assert_eq!(refused_param(&willex("", vec![])), "will_topic");
        let off = request(&CfgWillEx {
            client: 1,
            will: None,
        });
        assert_eq!(
            (off.line.as_slice(), off.data),
            (&b"AT+QMTCFG=\"willex\",1,0"[..], None)
        );
    }

    #[test]
    fn willex_query_reply() {
        let query = CfgQuery::<CfgWillEx>::new(1);
        let reply = query
            .parse(info(&["+QMTCFG: \"willex\",1,2,0,\"dev/lwt\",11"]))
            .unwrap();
        let expected = WillExConfig {
            qos: Qos::ExactlyOnce,
            retain: false,
            topic: "dev/lwt".into(),
            len: 11,
        };
        assert_eq!(reply, Some(expected));
        assert_eq!(query.parse(info(&["+QMTCFG: \"willex\",0"])).unwrap(), None);
        assert!(query
            .parse(info(&["+QMTCFG: \"willex\",1,2,0,\"t\",-1"]))
            .is_err());
    }
}
