//! The `AT+QMTCFG` options that shape the connection: "version", "pdpcid", "ssl",
//! "keepalive", "session", "timeout" and "qmtping".

use super::{option_line, set_request, CfgOption};
use crate::commands::flag;
use crate::commands::reply::Field;
use crate::error::{Error, ParamError};
use crate::params::{check_range, push_arg_int};
use crate::request::{Effect, Request, Response, Timing};
use crate::Command;

/// Implements [`Command`] for a set form whose only reply is `OK`.
macro_rules! set_command {
    ($type:ty, |$self:ident| $build:expr) => {
        impl Command for $type {
            type Output = ();

            fn request(&$self, _timing: &Timing) -> Result<Request, ParamError> {
                $build
            }

            fn parse(&self, _response: Response) -> Result<(), Error> {
                Ok(())
            }

            fn client(&self) -> Option<u8> {
                Some(self.client)
            }
        }
    };
}
pub(super) use set_command;

/// `<vsn>`: the MQTT protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttVersion {
    /// 3: MQTT 3.1.
    V3_1,
    /// 4: MQTT 3.1.1.
    V3_1_1,
}

impl MqttVersion {
    pub fn code(self) -> u8 {
        match self {
            MqttVersion::V3_1 => 3,
            MqttVersion::V3_1_1 => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            3 => Some(MqttVersion::V3_1),
            4 => Some(MqttVersion::V3_1_1),
            _ => None,
        }
    }
}

/// `AT+QMTCFG="version",<client_idx>,<vsn>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgVersion {
    pub client: u8,
    pub version: MqttVersion,
}

impl CfgOption for CfgVersion {
    const NAME: &'static str = "version";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"version\",<vsn>";
    type Reply = MqttVersion;

    fn parse_reply(fields: &[Field<'_>]) -> Option<MqttVersion> {
        match fields {
            [vsn] => MqttVersion::from_code(vsn.int()?),
            _ => None,
        }
    }
}

set_command!(CfgVersion, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, self.version.code());
    Ok(set_request(line))
});

/// `AT+QMTCFG="pdpcid",<client_idx>,<cid>`: the PDP context (1–15) the client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgPdpCid {
    pub client: u8,
    pub cid: u8,
}

impl CfgOption for CfgPdpCid {
    const NAME: &'static str = "pdpcid";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"pdpcid\",<cid>";
    type Reply = u8;

    fn parse_reply(fields: &[Field<'_>]) -> Option<u8> {
        match fields {
            [cid] => cid.int(),
            _ => None,
        }
    }
}

set_command!(CfgPdpCid, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    check_range("cid", self.cid.into(), 1, 15)?;
    push_arg_int(&mut line, self.cid);
    Ok(set_request(line))
});

/// `AT+QMTCFG="ssl",<client_idx>,<SSL_enable>[,<SSL_ctx_idx>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgSsl {
    pub client: u8,
    /// `None`: plain TCP (`,0`). `Some(ctx)`: TLS with the SSL context `ctx` (0–5) configured
    /// by `AT+QSSLCFG` (`,1,ctx`; the guide requires the context when SSL is on).
    pub context: Option<u8>,
}

/// The query reply of "ssl": `<SSL_enable>[,<SSL_ctx_idx>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SslMode {
    pub enabled: bool,
    pub context: Option<u8>,
}

impl CfgOption for CfgSsl {
    const NAME: &'static str = "ssl";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"ssl\",<SSL_enable>[,<SSL_ctx_idx>]";
    type Reply = SslMode;

    fn parse_reply(fields: &[Field<'_>]) -> Option<SslMode> {
        match fields {
            [enabled] => Some(SslMode {
                enabled: enabled.flag()?,
                context: None,
            }),
            [enabled, ctx] => Some(SslMode {
                enabled: enabled.flag()?,
                context: Some(ctx.int()?),
            }),
            _ => None,
        }
    }
}

set_command!(CfgSsl, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    match self.context {
        None => push_arg_int(&mut line, 0),
        Some(ctx) => {
            check_range("SSL_ctx_idx", ctx.into(), 0, 5)?;
            push_arg_int(&mut line, 1);
            push_arg_int(&mut line, ctx);
        }
    }
    Ok(set_request(line))
});

/// `AT+QMTCFG="keepalive",<client_idx>,<keep_alive_time>`: 0–3600 s (0: never time out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgKeepalive {
    pub client: u8,
    pub seconds: u16,
}

impl CfgOption for CfgKeepalive {
    const NAME: &'static str = "keepalive";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"keepalive\",<keep_alive_time>";
    type Reply = u16;

    fn parse_reply(fields: &[Field<'_>]) -> Option<u16> {
        match fields {
            [seconds] => seconds.int(),
            _ => None,
        }
    }
}

set_command!(CfgKeepalive, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    check_range("keep_alive_time", self.seconds.into(), 0, 3600)?;
    push_arg_int(&mut line, self.seconds);
    Ok(set_request(line))
});

/// `AT+QMTCFG="session",<client_idx>,<clean_session>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgSession {
    pub client: u8,
    /// 1: the server discards earlier session state. 0 keeps it (if the server supports it).
    pub clean: bool,
}

impl CfgOption for CfgSession {
    const NAME: &'static str = "session";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"session\",<clean_session>";
    type Reply = bool;

    fn parse_reply(fields: &[Field<'_>]) -> Option<bool> {
        match fields {
            [clean] => clean.flag(),
            _ => None,
        }
    }
}

set_command!(CfgSession, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    push_arg_int(&mut line, flag(self.clean));
    Ok(set_request(line))
});

/// `<pkt_timeout>,<retry_times>,<timeout_notice>` of "timeout".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketTimeouts {
    /// 1–60 s (default 5).
    pub pkt_timeout: u16,
    /// 0–10 (default 3).
    pub retry_times: u8,
    /// `<timeout_notice>`: report packet timeouts.
    pub report_timeouts: bool,
}

impl PacketTimeouts {
    /// The time limits these settings give CONN, SUB, UNS and PUBEX.
    pub fn timing(&self) -> Timing {
        Timing {
            pkt_timeout: self.pkt_timeout,
            retry_times: self.retry_times,
        }
    }
}

/// `AT+QMTCFG="timeout",<client_idx>,<pkt_timeout>,<retry_times>,<timeout_notice>`.
///
/// On success the session uses the new values for the client's later time limits
/// ([`Effect::Timing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgTimeout {
    pub client: u8,
    pub timeouts: PacketTimeouts,
}

impl CfgOption for CfgTimeout {
    const NAME: &'static str = "timeout";
    const REPLY_SHAPE: &'static str =
        "+QMTCFG: \"timeout\",<pkt_timeout>,<retry_times>,<timeout_notice>";
    type Reply = PacketTimeouts;

    fn parse_reply(fields: &[Field<'_>]) -> Option<PacketTimeouts> {
        match fields {
            [pkt_timeout, retry_times, notice] => Some(PacketTimeouts {
                pkt_timeout: pkt_timeout.int()?,
                retry_times: retry_times.int()?,
                report_timeouts: notice.flag()?,
            }),
            _ => None,
        }
    }
}

set_command!(CfgTimeout, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    let PacketTimeouts {
        pkt_timeout,
        retry_times,
        report_timeouts,
    } = self.timeouts;
    check_range("pkt_timeout", pkt_timeout.into(), 1, 60)?;
    check_range("retry_times", retry_times.into(), 0, 10)?;
    push_arg_int(&mut line, pkt_timeout);
    push_arg_int(&mut line, retry_times);
    push_arg_int(&mut line, flag(report_timeouts));
    let effect = Effect::Timing {
        client: self.client,
        pkt_timeout,
        retry_times,
    };
    Ok(Request {
        effect: Some(effect),
        ..set_request(line)
    })
});

/// `AT+QMTCFG="qmtping",<client_idx>,<qmtping_interval>`: 5–60 s (default 5).
///
/// Later guides (v1.5+) rename this option "close/time" and drop the client index; an EC600S
/// still lists "qmtping", which is what this type sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CfgQmtPing {
    pub client: u8,
    pub seconds: u8,
}

impl CfgOption for CfgQmtPing {
    const NAME: &'static str = "qmtping";
    const REPLY_SHAPE: &'static str = "+QMTCFG: \"qmtping\",<qmtping_interval>";
    type Reply = u8;

    fn parse_reply(fields: &[Field<'_>]) -> Option<u8> {
        match fields {
            [seconds] => seconds.int(),
            _ => None,
        }
    }
}

set_command!(CfgQmtPing, |self| {
    let mut line = option_line(Self::NAME, self.client)?;
    check_range("qmtping_interval", self.seconds.into(), 5, 60)?;
    push_arg_int(&mut line, self.seconds);
    Ok(set_request(line))
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_support::{encode, info, refused_param, request};
    use crate::commands::{CfgQuery, QUICK_TIMEOUT};
    use crate::request::Info;

    #[test]
    fn version_and_pdpcid() {
        assert_eq!(
            encode(&CfgVersion {
                client: 0,
                version: MqttVersion::V3_1_1
            }),
            "AT+QMTCFG=\"version\",0,4"
        );
        assert_eq!(
            encode(&CfgVersion {
                client: 5,
                version: MqttVersion::V3_1
            }),
            "AT+QMTCFG=\"version\",5,3"
        );
        assert_eq!(
            refused_param(&CfgVersion {
                client: 6,
                version: MqttVersion::V3_1
            }),
            "client_idx"
        );
        assert_eq!(
            encode(&CfgPdpCid { client: 1, cid: 1 }),
            "AT+QMTCFG=\"pdpcid\",1,1"
        );
        assert_eq!(
            encode(&CfgPdpCid { client: 1, cid: 15 }),
            "AT+QMTCFG=\"pdpcid\",1,15"
        );
        assert_eq!(refused_param(&CfgPdpCid { client: 1, cid: 0 }), "cid");
        assert_eq!(refused_param(&CfgPdpCid { client: 1, cid: 16 }), "cid");
        assert_eq!(
            CfgQuery::<CfgVersion>::new(0)
                .parse(info(&["+QMTCFG: \"version\",4"]))
                .unwrap(),
            MqttVersion::V3_1_1
        );
        assert!(CfgQuery::<CfgVersion>::new(0)
            .parse(info(&["+QMTCFG: \"version\",5"]))
            .is_err());
        assert_eq!(
            CfgQuery::<CfgPdpCid>::new(0)
                .parse(info(&["+QMTCFG: \"pdpcid\",1"]))
                .unwrap(),
            1
        );
    }

    #[test]
    fn ssl_writes_the_context_only_when_enabled() {
        // The guide's example writes the option in capitals; the module accepts either.
        assert_eq!(
            encode(&CfgSsl {
                client: 0,
                context: Some(2)
            }),
            "AT+QMTCFG=\"ssl\",0,1,2"
        );
        assert_eq!(
            encode(&CfgSsl {
                client: 0,
                context: Some(0)
            }),
            "AT+QMTCFG=\"ssl\",0,1,0"
        );
        assert_eq!(
            encode(&CfgSsl {
                client: 0,
                context: Some(5)
            }),
            "AT+QMTCFG=\"ssl\",0,1,5"
        );
        assert_eq!(
            encode(&CfgSsl {
                client: 0,
                context: None
            }),
            "AT+QMTCFG=\"ssl\",0,0"
        );
        assert_eq!(
            refused_param(&CfgSsl {
                client: 0,
                context: Some(6)
            }),
            "SSL_ctx_idx"
        );
        let query = CfgQuery::<CfgSsl>::new(0);
        assert_eq!(
            query.parse(info(&["+QMTCFG: \"SSL\",1,2"])).unwrap(),
            SslMode {
                enabled: true,
                context: Some(2)
            }
        );
        assert_eq!(
            query.parse(info(&["+QMTCFG: \"ssl\",0"])).unwrap(),
            SslMode {
                enabled: false,
                context: None
            }
        );
        assert!(query.parse(info(&["+QMTCFG: \"ssl\",2,1"])).is_err());
    }

    #[test]
    fn keepalive_session_and_qmtping_bounds() {
        assert_eq!(
            encode(&CfgKeepalive {
                client: 0,
                seconds: 0
            }),
            "AT+QMTCFG=\"keepalive\",0,0"
        );
        assert_eq!(
            encode(&CfgKeepalive {
                client: 0,
                seconds: 3600
            }),
            "AT+QMTCFG=\"keepalive\",0,3600"
        );
        assert_eq!(
            refused_param(&CfgKeepalive {
                client: 0,
                seconds: 3601
            }),
            "keep_alive_time"
        );
        assert_eq!(
            encode(&CfgSession {
                client: 2,
                clean: true
            }),
            "AT+QMTCFG=\"session\",2,1"
        );
        assert_eq!(
            encode(&CfgSession {
                client: 2,
                clean: false
            }),
            "AT+QMTCFG=\"session\",2,0"
        );
        assert!(CfgQuery::<CfgSession>::new(2)
            .parse(info(&["+QMTCFG: \"session\",1"]))
            .unwrap());
        assert_eq!(
            encode(&CfgQmtPing {
                client: 0,
                seconds: 5
            }),
            "AT+QMTCFG=\"qmtping\",0,5"
        );
        assert_eq!(
            encode(&CfgQmtPing {
                client: 0,
                seconds: 60
            }),
            "AT+QMTCFG=\"qmtping\",0,60"
        );
        assert_eq!(
            refused_param(&CfgQmtPing {
                client: 0,
                seconds: 4
            }),
            "qmtping_interval"
        );
        assert_eq!(
            refused_param(&CfgQmtPing {
                client: 0,
                seconds: 61
            }),
            "qmtping_interval"
        );
        assert_eq!(
            CfgQuery::<CfgQmtPing>::new(0)
                .parse(info(&["+QMTCFG: \"qmtping\",5"]))
                .unwrap(),
            5
        );
    }

    #[test]
    fn timeout_sets_the_sessions_timing() {
        let set = |pkt_timeout, retry_times| CfgTimeout {
            client: 1,
            timeouts: PacketTimeouts {
                pkt_timeout,
                retry_times,
                report_timeouts: false,
            },
        };
        let req = request(&set(10, 2));
        assert_eq!(req.line, b"AT+QMTCFG=\"timeout\",1,10,2,0");
        assert_eq!(
            req.effect,
            Some(Effect::Timing {
                client: 1,
                pkt_timeout: 10,
                retry_times: 2
            })
        );
        assert_eq!(
            (req.info, req.timeout, req.secret),
            (Info::None, QUICK_TIMEOUT, false)
        );
        assert_eq!(encode(&set(1, 0)), "AT+QMTCFG=\"timeout\",1,1,0,0");
        assert_eq!(encode(&set(60, 10)), "AT+QMTCFG=\"timeout\",1,60,10,0");
        assert_eq!(refused_param(&set(0, 3)), "pkt_timeout");
        assert_eq!(refused_param(&set(61, 3)), "pkt_timeout");
        assert_eq!(refused_param(&set(5, 11)), "retry_times");
        let reply = CfgQuery::<CfgTimeout>::new(1)
            .parse(info(&["+QMTCFG: \"timeout\",5,3,1"]))
            .unwrap();
        assert_eq!(
            reply,
            PacketTimeouts {
                pkt_timeout: 5,
                retry_times: 3,
                report_timeouts: true
            }
        );
        assert_eq!(reply.timing(), Timing::default());
        assert!(CfgQuery::<CfgTimeout>::new(1)
            .parse(info(&["+QMTCFG: \"timeout\",5,3"]))
            .is_err());
    }

    #[test]
    fn out_of_range_errors_name_the_limit() {
        let err = CfgKeepalive {
            client: 0,
            seconds: 3601,
        }
        .request(&Timing::default())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "keep_alive_time: 3601 is outside the range 0..=3600"
        );
    }
}
