//! The device profile: what the console gives you, and the connection options.

use std::collections::BTreeMap;

use thing_model::{PlatformError, Secret};

use crate::auth::{HexCase, SignMethod};
use crate::dynreg::RegisterMode;
use crate::topics::{check_client_id, check_device_name, check_product_key};

/// How the client id's `timestamp` is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampMode {
    /// `now_ms` (the doc's unit).
    #[default]
    Millis,
    /// `now_ms / 1000` (what the Python SDK sends).
    Seconds,
    /// No timestamp (not signed either).
    Omit,
}

fn yes() -> bool {
    true
}
fn default_region() -> String {
    "cn-shanghai".into()
}
fn default_keepalive() -> u16 {
    300
}
fn default_ext() -> Option<u8> {
    Some(1)
}
fn default_register_securemode() -> i8 {
    2
}

/// An Aliyun device profile. Only `product_key`, `device_name` and one secret are required.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliyunProfile {
    /// ProductKey (console: device details).
    pub product_key: String,
    /// DeviceName.
    pub device_name: String,
    /// DeviceSecret (one device one secret). Absent with dynamic registration.
    #[serde(default)]
    pub device_secret: Option<Secret>,
    /// ProductSecret (one product one secret) for dynamic registration.
    #[serde(default)]
    pub product_secret: Option<Secret>,
    /// Dynamic registration: `register` (pre-registered device) or `regnwl` (registration-free).
    #[serde(default)]
    pub register: Option<RegisterMode>,
    /// Region id of a legacy public instance, e.g. `cn-shanghai`.
    #[serde(default = "default_region")]
    pub region: String,
    /// Instance id (new public / Enterprise instances), e.g. `iot-06z00xxxx`: the host becomes
    /// `{instance_id}.mqtt.iothub.aliyuncs.com`.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Explicit host (overrides region / instance).
    #[serde(default)]
    pub host: Option<String>,
    /// Port (default 8883 with TLS, 1883 without).
    #[serde(default)]
    pub port: Option<u16>,
    /// TLS (`securemode=2`); without it `securemode=3` (refused for new devices since 2022).
    #[serde(default = "yes")]
    pub tls: bool,
    /// Free client id part (default `{product_key}.{device_name}`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// `hmacsha256` (default), `hmacsha1` or `hmacmd5`.
    #[serde(default)]
    pub sign_method: SignMethod,
    /// Password hex case: `lower` (default) or `upper`.
    #[serde(default)]
    pub hex_case: HexCase,
    /// `millis` (default), `seconds` or `omit`.
    #[serde(default)]
    pub timestamp: TimestampMode,
    /// Send `_ss=1` (server-side subscription of system topics).
    #[serde(default = "yes")]
    pub server_subscribe: bool,
    /// `ext=` value (1 = RRPC on custom topics; the Link SDK sends 3). `None` omits it.
    #[serde(default = "default_ext")]
    pub ext: Option<u8>,
    /// Extra client-id parameters, e.g. `mid`, `pid`, `os` (not signed).
    #[serde(default)]
    pub client_id_params: BTreeMap<String, String>,
    /// Keep-alive, 30–1200 s.
    #[serde(default = "default_keepalive")]
    pub keepalive_s: u16,
    /// Clean session.
    #[serde(default = "yes")]
    pub clean_session: bool,
    /// Ask the cloud to reply to posts (`sys.ack`); replies become `ack` lines.
    #[serde(default = "yes")]
    pub ack: bool,
    /// Custom topics to subscribe: a full topic, or a name under `/{pk}/{dn}/user/`.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Custom topics to receive RRPC on (`/ext/rrpc/+/{topic}`); needs `ext` 1 or 3.
    #[serde(default)]
    pub rrpc_topics: Vec<String>,
    /// `securemode` of the registration login: 2 (what the SDKs send) or -2 (the doc).
    #[serde(default = "default_register_securemode")]
    pub register_securemode: i8,
}

/// Client-id keys the crate sets itself.
pub const RESERVED_KEYS: &[&str] = &[
    "securemode",
    "signmethod",
    "timestamp",
    "_ss",
    "ext",
    "authType",
    "random",
    "instanceId",
];

fn config(field: &'static str, reason: impl Into<String>) -> PlatformError {
    PlatformError::Config {
        field,
        reason: reason.into(),
    }
}

impl AliyunProfile {
    /// A profile with defaults for everything but the identity.
    pub fn new(product_key: &str, device_name: &str, device_secret: Option<Secret>) -> Self {
        AliyunProfile {
            product_key: product_key.into(),
            device_name: device_name.into(),
            device_secret,
            product_secret: None,
            register: None,
            region: default_region(),
            instance_id: None,
            host: None,
            port: None,
            tls: true,
            client_id: None,
            sign_method: SignMethod::default(),
            hex_case: HexCase::default(),
            timestamp: TimestampMode::default(),
            server_subscribe: true,
            ext: default_ext(),
            client_id_params: BTreeMap::new(),
            keepalive_s: default_keepalive(),
            clean_session: true,
            ack: true,
            subscribe: Vec::new(),
            rrpc_topics: Vec::new(),
            register_securemode: default_register_securemode(),
        }
    }

    /// Checks every field; errors name the field and the rule, never a secret.
    pub fn check(&self) -> Result<(), PlatformError> {
        check_product_key(&self.product_key)?;
        check_device_name(&self.device_name)?;
        if let Some(cid) = &self.client_id {
            check_client_id(cid)?;
        }
        let host_part = |what: &'static str, s: &str| {
            thing_model::check_name(what, s, 64, "ASCII letters, digits, - and .", |c| {
                c.is_ascii_alphanumeric() || c == '-' || c == '.'
            })
        };
        host_part("region", &self.region)?;
        if let Some(iid) = &self.instance_id {
            host_part("instance_id", iid)?;
        }
        if let Some(h) = &self.host {
            host_part("host", h)?;
        }
        if !(30..=1200).contains(&self.keepalive_s) {
            return Err(config(
                "keepalive_s",
                format!(
                    "{} is outside 30..=1200 s (the server refuses it)",
                    self.keepalive_s
                ),
            ));
        }
        if self.device_secret.as_ref().is_some_and(Secret::is_empty) {
            return Err(config("device_secret", "is empty"));
        }
        for (k, v) in &self.client_id_params {
            if RESERVED_KEYS.contains(&k.as_str()) {
                return Err(config(
                    "client_id_params",
                    format!("`{k}` is set by the crate; remove it"),
                ));
            }
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_graphic() && !"|,=".contains(c))
            };
            if !ok(k) || !ok(v) {
                return Err(config(
                    "client_id_params",
                    format!("`{k}={v}`: keys and values are printable ASCII without | , ="),
                ));
            }
        }
        if !matches!(self.register_securemode, 2 | -2) {
            return Err(config("register_securemode", "must be 2 or -2"));
        }
        match (&self.device_secret, &self.product_secret, self.register) {
            (Some(_), _, _) => {}
            (None, Some(_), Some(_)) if !self.tls => {
                return Err(config(
                    "tls",
                    "dynamic registration over MQTT works only with TLS",
                ))
            }
            (None, Some(_), Some(_)) => {}
            (None, Some(_), None) => {
                return Err(config(
                    "register",
                    "a product_secret needs `register = \"register\"` or `\"regnwl\"`",
                ))
            }
            (None, None, _) => {
                return Err(config(
                    "device_secret",
                    "missing (or give product_secret + register)",
                ))
            }
        }
        if self.ext.is_none() && !self.rrpc_topics.is_empty() {
            return Err(config(
                "rrpc_topics",
                "custom-topic RRPC needs `ext` = 1 or 3",
            ));
        }
        Ok(())
    }

    /// The broker host.
    pub fn host(&self) -> String {
        if let Some(h) = &self.host {
            h.clone()
        } else if let Some(iid) = &self.instance_id {
            format!("{iid}.mqtt.iothub.aliyuncs.com")
        } else {
            format!(
                "{}.iot-as-mqtt.{}.aliyuncs.com",
                self.product_key, self.region
            )
        }
    }

    /// The broker port.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 8883 } else { 1883 })
    }
}
