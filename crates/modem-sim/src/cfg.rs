//! `AT+QMTCFG`: the per-client options, their ranges, query texts and the test listing.

use crate::api::Will;
use crate::parser::{Args, ParseError};

/// Which firmware's texts and ranges the module imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The guide (EC200x/EC600S/EG912Y MQTT 应用指导 v1.0): its ranges (`pkt_timeout` 1–60,
    /// `retry_times` 0–10) and its 17-line `AT+QMTCFG=?` listing, plus `"edit/timeout"`
    /// (1–120 s, from the later v1.6 guide), which the emulator implements.
    #[default]
    Guide,
    /// A real EC600S: the 19-line `AT+QMTCFG=?` capture (with `"CTWing"` and
    /// `"edit/timeout"` 1–180 s), `pkt_timeout` 1–1200 and `retry_times` 1–10.
    Ec600s,
    /// The guide v1.0 to the letter: as [`Profile::Guide`] but without `"edit/timeout"`, which
    /// that guide does not have: setting it answers `ERROR`, and a `>` (or `CONNECT`) state
    /// waits for its bytes for as long as they take, as deltas §6 says older firmware does.
    GuideV10,
}

impl Profile {
    /// The firmware has `"edit/timeout"`.
    pub fn has_edit_timeout(self) -> bool {
        self != Profile::GuideV10
    }

    fn timeout_ranges(self) -> ((i64, i64), (i64, i64)) {
        match self {
            Profile::Guide | Profile::GuideV10 => ((1, 60), (0, 10)),
            Profile::Ec600s => ((1, 1200), (1, 10)),
        }
    }

    fn edit_time_max(self) -> i64 {
        match self {
            Profile::Guide | Profile::GuideV10 => 120,
            Profile::Ec600s => 180,
        }
    }
}

/// The cloud credentials configured on a client (the last one set wins at `AT+QMTCONN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudAuth {
    /// `"aliauth"`: product key, device name, device secret.
    Aliyun {
        /// ProductKey.
        product_key: String,
        /// DeviceName.
        device_name: String,
        /// DeviceSecret.
        device_secret: String,
    },
    /// `"onenet"`: product id, access key.
    OneNet {
        /// Product id.
        product_id: String,
        /// Access key (base64).
        access_key: String,
    },
    /// `"hwauth"`: device id, device secret, optional timestamp check.
    HuaweiDevice {
        /// Device id.
        device_id: String,
        /// Device secret.
        secret: String,
        /// `<hw_time_enable>` when given.
        time_check: Option<bool>,
    },
    /// `"hwprodid"`: product id, product secret, node id, optional timestamp check.
    HuaweiProduct {
        /// Product id.
        product_id: String,
        /// Product secret.
        secret: String,
        /// Node id.
        node_id: String,
        /// `<hw_time_enable>` when given.
        time_check: Option<bool>,
    },
    /// `"CTWing"` (EC600S): client id and feature string.
    CtWing {
        /// Client id.
        client_id: String,
        /// Feature string.
        feature: String,
    },
}

impl CloudAuth {
    /// The `AT+QMTCFG` option name that configures this kind.
    pub fn option(&self) -> &'static str {
        match self {
            CloudAuth::Aliyun { .. } => "aliauth",
            CloudAuth::OneNet { .. } => "onenet",
            CloudAuth::HuaweiDevice { .. } => "hwauth",
            CloudAuth::HuaweiProduct { .. } => "hwprodid",
            CloudAuth::CtWing { .. } => "CTWing",
        }
    }
}

/// The options of one client. Defaults are the guide's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCfg {
    /// `"version"`: 3 or 4 (default 4).
    pub version: u8,
    /// `"pdpcid"`: 1–15 (default 1).
    pub pdpcid: u8,
    /// `"ssl"` enable.
    pub ssl: bool,
    /// `"ssl"` context 0–5.
    pub ssl_ctx: u8,
    /// `"keepalive"` seconds (default 120).
    pub keepalive: u16,
    /// `"session"` clean flag (default 1).
    pub clean_session: bool,
    /// `"timeout"` pkt_timeout seconds (default 5).
    pub pkt_timeout: u16,
    /// `"timeout"` retry_times (default 3).
    pub retry_times: u8,
    /// `"timeout"` timeout_notice (default 0).
    pub timeout_notice: bool,
    /// `"will"`/`"willex"`.
    pub will: Option<Will>,
    /// `"recv/mode"` msg_rcv_mode: 1 = store in the 5 buffers, 0 = report as URC.
    pub recv_buffered: bool,
    /// `"recv/mode"` msg_len_enable.
    pub recv_len: bool,
    /// `"qmtping"` interval (default 5; stored and reported only).
    pub qmtping: u8,
    /// `"send/mode"` / `"dataformat"` send format: hex when true.
    pub send_hex: bool,
    /// `"dataformat"` receive format: hex when true.
    pub recv_hex: bool,
    /// `"view/mode"` (stored and reported only).
    pub view_mode: u8,
    /// `"edit/timeout"` mode (default 1 = on, so the `>` state cannot wait forever).
    pub edit_mode: bool,
    /// `"edit/timeout"` seconds (default 30).
    pub edit_time: u16,
    /// Cloud credentials, each kind kept separately for its query.
    pub auths: Vec<CloudAuth>,
}

impl Default for ClientCfg {
    fn default() -> Self {
        ClientCfg {
            version: 4,
            pdpcid: 1,
            ssl: false,
            ssl_ctx: 0,
            keepalive: 120,
            clean_session: true,
            pkt_timeout: 5,
            retry_times: 3,
            timeout_notice: false,
            will: None,
            recv_buffered: false,
            recv_len: false,
            qmtping: 5,
            send_hex: false,
            recv_hex: false,
            view_mode: 0,
            edit_mode: true,
            edit_time: 30,
            auths: Vec::new(),
        }
    }
}

impl ClientCfg {
    /// The credentials that apply at `AT+QMTCONN` (the last kind configured).
    pub fn active_auth(&self) -> Option<&CloudAuth> {
        self.auths.last()
    }

    fn set_auth(&mut self, a: CloudAuth) {
        self.auths.retain(|x| x.option() != a.option());
        self.auths.push(a);
    }

    fn auth(&self, option: &str) -> Option<&CloudAuth> {
        self.auths.iter().find(|a| a.option() == option)
    }
}

/// What a `AT+QMTCFG` set/query did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfgOutcome {
    /// A query: the information line(s) to print before `OK` (may be empty).
    Query(Vec<String>),
    /// A setting was changed (`OK`).
    Set,
    /// `"willex"`: print `>` and read `len` bytes of will message.
    WillexPrompt {
        /// QoS.
        qos: u8,
        /// Retain.
        retain: bool,
        /// Topic.
        topic: String,
        /// Bytes to read.
        len: usize,
    },
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// Canonical (lower-case, except `CTWing`) option name, or `None` if unknown.
pub fn canonical_option(name: &str) -> Option<&'static str> {
    const ALL: [&str; 19] = [
        "version",
        "pdpcid",
        "ssl",
        "keepalive",
        "session",
        "timeout",
        "will",
        "willex",
        "recv/mode",
        "aliauth",
        "qmtping",
        "send/mode",
        "onenet",
        "hwauth",
        "hwprodid",
        "dataformat",
        "view/mode",
        "edit/timeout",
        "CTWing",
    ];
    ALL.into_iter().find(|o| o.eq_ignore_ascii_case(name))
}

/// Applies a `AT+QMTCFG=<option>,<idx>[,…]` (`args[0]` is the option, `args[1]` the index,
/// checked by the caller). Errors make the module answer `ERROR`.
pub fn apply(
    cfg: &mut ClientCfg,
    profile: Profile,
    option: &'static str,
    a: &Args,
) -> Result<CfgOutcome, ParseError> {
    let query = a.len() == 2;
    let line = |rest: String| CfgOutcome::Query(vec![format!("+QMTCFG: \"{option}\",{rest}")]);
    let bool_at = |i: usize| a.int_in(i, 0, 1).map(|v| v == 1);
    let max = |n: usize| {
        if a.len() > n {
            Err(ParseError::TooMany)
        } else {
            Ok(())
        }
    };
    match option {
        "version" => {
            if query {
                return Ok(line(cfg.version.to_string()));
            }
            max(3)?;
            cfg.version = a.int_in(2, 3, 4)? as u8;
        }
        "pdpcid" => {
            if query {
                return Ok(line(cfg.pdpcid.to_string()));
            }
            max(3)?;
            cfg.pdpcid = a.int_in(2, 1, 15)? as u8;
        }
        "ssl" => {
            if query {
                return Ok(line(if cfg.ssl {
                    format!("1,{}", cfg.ssl_ctx)
                } else {
                    "0".into()
                }));
            }
            max(4)?;
            let on = bool_at(2)?;
            // Note 3: SSL mode needs a context index.
            let ctx = if a.len() > 3 {
                a.int_in(3, 0, 5)? as u8
            } else if on {
                return Err(ParseError::BadArg(3));
            } else {
                cfg.ssl_ctx
            };
            cfg.ssl = on;
            cfg.ssl_ctx = ctx;
        }
        "keepalive" => {
            if query {
                return Ok(line(cfg.keepalive.to_string()));
            }
            max(3)?;
            cfg.keepalive = a.int_in(2, 0, 3600)? as u16;
        }
        "session" => {
            if query {
                return Ok(line(u8::from(cfg.clean_session).to_string()));
            }
            max(3)?;
            cfg.clean_session = bool_at(2)?;
        }
        "timeout" => {
            if query {
                return Ok(line(format!(
                    "{},{},{}",
                    cfg.pkt_timeout,
                    cfg.retry_times,
                    u8::from(cfg.timeout_notice)
                )));
            }
            max(5)?;
            let ((tlo, thi), (rlo, rhi)) = profile.timeout_ranges();
            let t = a.int_in(2, tlo, thi)? as u16;
            let r = a.int_in(3, rlo, rhi)? as u8;
            let n = bool_at(4)?;
            (cfg.pkt_timeout, cfg.retry_times, cfg.timeout_notice) = (t, r, n);
        }
        "will" | "willex" => {
            if query {
                return Ok(line(match &cfg.will {
                    None => "0".into(),
                    Some(w) if option == "will" => format!(
                        "1,{},{},{},{}",
                        w.qos,
                        u8::from(w.retain),
                        q(&w.topic),
                        q(&String::from_utf8_lossy(&w.message))
                    ),
                    Some(w) => format!(
                        "1,{},{},{},{}",
                        w.qos,
                        u8::from(w.retain),
                        q(&w.topic),
                        w.message.len()
                    ),
                }));
            }
            if !bool_at(2)? {
                // Note 1: with will_fg 0 the other parameters are ignored.
                cfg.will = None;
                return Ok(CfgOutcome::Set);
            }
            max(7)?;
            let qos = a.int_in(3, 0, 2)? as u8;
            let retain = bool_at(4)?;
            let topic = a.string_len(5, 1, 256)?;
            if option == "willex" {
                let len = a.int_in(6, 0, 256)? as usize;
                return Ok(CfgOutcome::WillexPrompt {
                    qos,
                    retain,
                    topic,
                    len,
                });
            }
            let msg = a.string_len(6, 0, 256)?;
            cfg.will = Some(Will {
                qos,
                retain,
                topic,
                message: msg.into_bytes(),
            });
        }
        "recv/mode" => {
            if query {
                return Ok(line(format!(
                    "{},{}",
                    u8::from(cfg.recv_buffered),
                    u8::from(cfg.recv_len)
                )));
            }
            max(4)?;
            cfg.recv_buffered = bool_at(2)?;
            if a.len() > 3 {
                cfg.recv_len = bool_at(3)?;
            }
        }
        "qmtping" => {
            if query {
                return Ok(line(cfg.qmtping.to_string()));
            }
            max(3)?;
            cfg.qmtping = a.int_in(2, 5, 60)? as u8;
        }
        "send/mode" => {
            if query {
                return Ok(line(u8::from(cfg.send_hex).to_string()));
            }
            max(3)?;
            cfg.send_hex = bool_at(2)?;
        }
        "dataformat" => {
            if query {
                return Ok(line(format!(
                    "{},{}",
                    u8::from(cfg.send_hex),
                    u8::from(cfg.recv_hex)
                )));
            }
            max(4)?;
            let (s, r) = (bool_at(2)?, bool_at(3)?);
            (cfg.send_hex, cfg.recv_hex) = (s, r);
        }
        "view/mode" => {
            if query {
                return Ok(line(cfg.view_mode.to_string()));
            }
            max(3)?;
            cfg.view_mode = a.int_in(2, 0, 1)? as u8;
        }
        "edit/timeout" if !profile.has_edit_timeout() => return Err(ParseError::BadArg(0)),
        "edit/timeout" => {
            if query {
                return Ok(line(format!(
                    "{},{}",
                    u8::from(cfg.edit_mode),
                    cfg.edit_time
                )));
            }
            max(4)?;
            let m = bool_at(2)?;
            if a.len() > 3 {
                cfg.edit_time = a.int_in(3, 1, profile.edit_time_max())? as u16;
            }
            cfg.edit_mode = m;
        }
        _ => return apply_auth(cfg, option, a, query),
    }
    Ok(CfgOutcome::Set)
}

fn apply_auth(
    cfg: &mut ClientCfg,
    option: &'static str,
    a: &Args,
    query: bool,
) -> Result<CfgOutcome, ParseError> {
    let s = |i: usize| a.string_len(i, 1, 256);
    let time = |i: usize| -> Result<Option<bool>, ParseError> {
        if a.len() > i {
            Ok(Some(a.int_in(i, 0, 1)? == 1))
        } else {
            Ok(None)
        }
    };
    if query {
        let body = match cfg.auth(option) {
            // Not configured: the guide's reply shape with empty strings (a reply line is
            // always printed; a bare `OK` would not say which option was asked).
            None => match option {
                "aliauth" | "hwprodid" => r#""","","""#.to_string(),
                _ => r#""","""#.to_string(),
            },
            Some(CloudAuth::Aliyun {
                product_key,
                device_name,
                device_secret,
            }) => format!("{},{},{}", q(product_key), q(device_name), q(device_secret)),
            Some(CloudAuth::OneNet {
                product_id,
                access_key,
            }) => format!("{},{}", q(product_id), q(access_key)),
            Some(CloudAuth::HuaweiDevice {
                device_id,
                secret,
                time_check,
            }) => {
                let t = time_check.map(|t| format!(",{}", u8::from(t)));
                format!("{},{}{}", q(device_id), q(secret), t.unwrap_or_default())
            }
            Some(CloudAuth::HuaweiProduct {
                product_id,
                secret,
                node_id,
                time_check,
            }) => {
                let t = time_check.map(|t| format!(",{}", u8::from(t)));
                format!(
                    "{},{},{}{}",
                    q(product_id),
                    q(secret),
                    q(node_id),
                    t.unwrap_or_default()
                )
            }
            Some(CloudAuth::CtWing { client_id, feature }) => {
                format!("{},{}", q(client_id), q(feature))
            }
        };
        return Ok(CfgOutcome::Query(vec![format!(
            "+QMTCFG: \"{option}\",{body}"
        )]));
    }
    let (auth, max) = match option {
        "aliauth" => (
            CloudAuth::Aliyun {
                product_key: s(2)?,
                device_name: s(3)?,
                device_secret: s(4)?,
            },
            5,
        ),
        "onenet" => (
            CloudAuth::OneNet {
                product_id: s(2)?,
                access_key: s(3)?,
            },
            4,
        ),
        "hwauth" => (
            CloudAuth::HuaweiDevice {
                device_id: s(2)?,
                secret: s(3)?,
                time_check: time(4)?,
            },
            5,
        ),
        "hwprodid" => (
            CloudAuth::HuaweiProduct {
                product_id: s(2)?,
                secret: s(3)?,
                node_id: s(4)?,
                time_check: time(5)?,
            },
            6,
        ),
        "CTWing" => (
            CloudAuth::CtWing {
                client_id: s(2)?,
                feature: s(3)?,
            },
            4,
        ),
        _ => return Err(ParseError::BadArg(0)),
    };
    if a.len() > max {
        return Err(ParseError::TooMany);
    }
    cfg.set_auth(auth);
    Ok(CfgOutcome::Set)
}

#[path = "cfg_listing.rs"]
mod listing;
pub use listing::test_lines;

#[cfg(test)]
#[path = "cfg_tests.rs"]
mod tests;
