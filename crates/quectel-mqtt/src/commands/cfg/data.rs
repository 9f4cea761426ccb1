//! The `AT+QMTCFG` options that shape message data: "recv/mode", "send/mode", "dataformat",
//! "view/mode", and "edit/timeout" (later firmware) for the data input after a `>`.

use super::connection::set_command;
use super::{option_line, set_request, CfgOption};
use crate::commands::flag;
use crate::commands::reply::Field;
use crate::error::{Error, ParamError};
use crate::params::{check_range, push_arg_int};
use crate::request::{Effect, Request, Response, Timing};
use crate::Command;

/// `<msg_rcv_mode>,<msg_len_enable>` of "recv/mode".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMode {
    /// `<msg_rcv_mode>` 1: messages are kept in the module's five buffers and announced by
    /// `+QMTRECV: <idx>,<recv_id>` (read them with [`RecvRead`](crate::commands::RecvRead));
    /// 0: each message arrives in a `+QMTRECV` URC.
    pub buffered: bool,
    /// `<msg_len_enable>` 1: `+QMTRECV` carries `<payload_len>`, so payloads holding CR LF,
    /// quotes or commas are framed by length.
    pub with_length: bool,
}

/// `AT+QMTCFG="recv/mode",<client_idx>,<msg_rcv_mode>,<msg_len_enable>`.
///
/// Both values are always written (the guide lets the last ones be omitted, keeping earlier
/// values), so the session knows how `+QMTRECV` lines are framed afterwards
/// ([`Effect::RecvLength`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgRecvMode {
    pub client: u8,
    pub mode: RecvMode,
}

impl CfgOption for CfgRecvMode {
    const NAME: &'static str = "recv/mode";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"recv/mode\",<msg_rcv_mode>,<msg_len_enable>";
    type Reply = RecvMode;

    fn parse_reply(fields: &[Field<'_>]) -> Option<RecvMode> {
        match fields {
            [mode, len] => Some(RecvMode {
                buffered: mode.flag()?,
                with_length: len.flag()?,
            }),
            _ => None,
        }
    }
}

set_command!(CfgRecvMode, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, flag(self.mode.buffered));
    push_arg_int(&mut line, flag(self.mode.with_length));
    let effect = Effect::RecvLength {
        client: self.client,
        with_length: self.mode.with_length,
    };
    Ok(Request {
        effect: Some(effect),
        ..set_request(line)
    })
});

/// `AT+QMTCFG="send/mode",<client_idx>,<send_mode>`: 1 sends payloads as hex text.
///
/// Whether `AT+QMTPUBEX`'s `<length>` then counts bytes or hex characters is documented
/// nowhere; [`Publish`](crate::commands::Publish) always writes the length of the bytes it
/// sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgSendMode {
    pub client: u8,
    pub hex: bool,
}

impl CfgOption for CfgSendMode {
    const NAME: &'static str = "send/mode";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"send/mode\",<send_mode>";
    type Reply = bool;

    fn parse_reply(fields: &[Field<'_>]) -> Option<bool> {
        match fields {
            [hex] => hex.flag(),
            _ => None,
        }
    }
}

set_command!(CfgSendMode, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, flag(self.hex));
    let effect = Effect::HexPayloads {
        client: self.client,
        send: Some(self.hex),
        recv: None,
    };
    Ok(Request {
        effect: Some(effect),
        ..set_request(line)
    })
});

/// `<send_mode>,<recv_mode>` of "dataformat": hex text (true) or plain bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFormat {
    pub send_hex: bool,
    pub recv_hex: bool,
}

/// `AT+QMTCFG="dataformat",<client_idx>,<send_mode>,<recv_mode>` ([`Effect::HexPayloads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgDataFormat {
    pub client: u8,
    pub format: DataFormat,
}

impl CfgOption for CfgDataFormat {
    const NAME: &'static str = "dataformat";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"dataformat\",<send_mode>,<recv_mode>";
    type Reply = DataFormat;

    fn parse_reply(fields: &[Field<'_>]) -> Option<DataFormat> {
        match fields {
            [send, recv] => Some(DataFormat {
                send_hex: send.flag()?,
                recv_hex: recv.flag()?,
            }),
            _ => None,
        }
    }
}

set_command!(CfgDataFormat, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, flag(self.format.send_hex));
    push_arg_int(&mut line, flag(self.format.recv_hex));
    let effect = Effect::HexPayloads {
        client: self.client,
        send: Some(self.format.send_hex),
        recv: Some(self.format.recv_hex),
    };
    Ok(Request {
        effect: Some(effect),
        ..set_request(line)
    })
});

/// `AT+QMTCFG="view/mode",<client_idx>,<view_mode>`: echo of data in transparent mode.
///
/// No documented command enters an MQTT transparent mode (delta 13), so the module only
/// stores this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgViewMode {
    pub client: u8,
    pub echo: bool,
}

impl CfgOption for CfgViewMode {
    const NAME: &'static str = "view/mode";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"view/mode\",<view_mode>";
    type Reply = bool;

    fn parse_reply(fields: &[Field<'_>]) -> Option<bool> {
        match fields {
            [echo] => echo.flag(),
            _ => None,
        }
    }
}

set_command!(CfgViewMode, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, flag(self.echo));
    Ok(set_request(line))
});

/// `AT+QMTCFG="edit/timeout",<client_idx>,<edit_mode>,<edit_time>`: how long the module
/// waits in the `>` (or `CONNECT`) input for the bytes a command announced before it gives up
/// and returns to command mode.
///
/// Not in the guide v1.0: later guides and firmware have it (deltas §6; v1.6 and the S4 crate
/// give 1–120 s, a real EC600S lists 1–180, the module's default is 30 s). Without it, a
/// module whose payload bytes were lost waits for them forever, and every later command line
/// is taken as payload. Older firmware answers `ERROR`. What the module prints when the time
/// runs out is documented nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgEditTimeout {
    pub client: u8,
    /// `<edit_mode>` 1: leave the input after `seconds`; 0: wait for the bytes.
    pub enabled: bool,
    /// `<edit_time>`, 1–180 s (the widest range seen; some firmware takes only 1–120).
    pub seconds: u16,
}

impl CfgOption for CfgEditTimeout {
    const NAME: &'static str = "edit/timeout";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"edit/timeout\",<edit_mode>,<edit_time>";
    type Reply = (bool, u16);

    fn parse_reply(fields: &[Field<'_>]) -> Option<(bool, u16)> {
        match fields {
            [mode, time] => Some((mode.flag()?, time.int()?)),
            _ => None,
        }
    }
}

set_command!(CfgEditTimeout, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    check_range("edit_time", self.seconds.into(), 1, 180)?;
    push_arg_int(&mut line, flag(self.enabled));
    push_arg_int(&mut line, self.seconds);
    Ok(set_request(line))
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, refused_param, request};
    use crate::commands::CfgQuery;

    #[test]
    fn recv_mode_matches_the_guide_and_tells_the_session_about_lengths() {
        let set = CfgRecvMode {
            client: 0,
            mode: RecvMode {
                buffered: false,
                with_length: true,
            },
        };
        let req = request(&set);
        assert_eq!(req.line, b"AT+QMTCFG=\"recv/mode\",0,0,1");
        assert_eq!(
            req.effect,
            Some(Effect::RecvLength {
                client: 0,
                with_length: true
            })
        );
        let buffered = CfgRecvMode {
            client: 5,
            mode: RecvMode {
                buffered: true,
                with_length: false,
            },
        };
        assert_eq!(
            request(&buffered).effect,
            Some(Effect::RecvLength {
                client: 5,
                with_length: false
            })
        );
        assert_eq!(encode(&buffered), "AT+QMTCFG=\"recv/mode\",5,1,0");
        assert_eq!(
            refused_param(&CfgRecvMode { client: 6, ..set }),
            "client_idx"
        );
        let reply = CfgQuery::<CfgRecvMode>::new(0)
            .parse(info(&["+QMTCFG: \"recv/mode\",0,1"]))
            .unwrap();
        assert_eq!(reply, set.mode);
        assert!(CfgQuery::<CfgRecvMode>::new(0)
            .parse(info(&["+QMTCFG: \"recv/mode\",0"]))
            .is_err());
    }

    #[test]
    fn send_mode_and_dataformat_switch_hex_payloads() {
        let req = request(&CfgSendMode {
            client: 2,
            hex: true,
        });
        assert_eq!(req.line, b"AT+QMTCFG=\"send/mode\",2,1");
        assert_eq!(
            req.effect,
            Some(Effect::HexPayloads {
                client: 2,
                send: Some(true),
                recv: None
            })
        );
        let format = DataFormat {
            send_hex: false,
            recv_hex: true,
        };
        let req = request(&CfgDataFormat { client: 3, format });
        assert_eq!(req.line, b"AT+QMTCFG=\"dataformat\",3,0,1");
        assert_eq!(
            req.effect,
            Some(Effect::HexPayloads {
                client: 3,
                send: Some(false),
                recv: Some(true)
            })
        );
        assert!(!CfgQuery::<CfgSendMode>::new(2)
            .parse(info(&["+QMTCFG: \"send/mode\",0"]))
            .unwrap());
        let reply = CfgQuery::<CfgDataFormat>::new(3)
            .parse(info(&["+QMTCFG: \"dataformat\",0,1"]))
            .unwrap();
        assert_eq!(reply, format);
        assert!(CfgQuery::<CfgDataFormat>::new(3)
            .parse(info(&["+QMTCFG: \"dataformat\",0,2"]))
            .is_err());
    }

    #[test]
    fn view_mode() {
        let req = request(&CfgViewMode {
            client: 0,
            echo: true,
        });
        assert_eq!(
            (req.line.as_slice(), req.effect),
            (&b"AT+QMTCFG=\"view/mode\",0,1"[..], None)
        );
        assert!(CfgQuery::<CfgViewMode>::new(0)
            .parse(info(&["+QMTCFG: \"view/mode\",1"]))
            .unwrap());
    }

    #[test]
    fn edit_timeout_of_later_firmware() {
        let set = CfgEditTimeout {
            client: 1,
            enabled: true,
            seconds: 30,
        };
        let req = request(&set);
        assert_eq!(
            (req.line.as_slice(), req.effect),
            (&b"AT+QMTCFG=\"edit/timeout\",1,1,30"[..], None)
        );
        assert_eq!(
            refused_param(&CfgEditTimeout { seconds: 0, ..set }),
            "edit_time"
        );
        assert_eq!(
            refused_param(&CfgEditTimeout {
                seconds: 181,
                ..set
            }),
            "edit_time"
        );
        assert_eq!(
            CfgQuery::<CfgEditTimeout>::new(1)
                .parse(info(&["+QMTCFG: \"edit/timeout\",1,180"]))
                .unwrap(),
            (true, 180)
        );
        assert!(CfgQuery::<CfgEditTimeout>::new(1)
            .parse(info(&["+QMTCFG: \"edit/timeout\",1"]))
            .is_err());
    }
}
