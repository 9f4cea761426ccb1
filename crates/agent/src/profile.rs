//! The device profile (TOML, read with figment; `CELLAGENT_…` environment overrides with `__`
//! between levels; every secret may also come from a `…_file` field).
//!
//! The names here are a user contract (see `docs/agent.md`). Validation errors name the field
//! (its dotted path) and never carry a secret value.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;
use thing_model::Secret;

/// A profile error: the dotted field path and what is wrong. Never carries a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile field `{field}`: {reason}")]
pub struct ProfileError {
    /// Dotted path, e.g. `cloud.aliyun.product_key`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl ProfileError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ProfileError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// `[module]`: the serial port and the module's client slot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSection {
    /// Serial device, e.g. `/dev/ttyUSB2`.
    pub port: String,
    /// Baud rate (default 115200).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// MQTT client index 0–5 (default 0).
    #[serde(default)]
    pub client_index: u8,
    /// APN for `AT+QICSGP` (optional; without it the module's default context is used).
    #[serde(default)]
    pub apn: Option<String>,
    /// Seconds to wait for network registration during bring-up (default 60).
    #[serde(default = "default_reg_wait")]
    pub registration_timeout_s: u64,
}

fn default_baud() -> u32 {
    115_200
}
fn default_reg_wait() -> u64 {
    60
}
/// Below the 2–3 minute idle timeout of carrier NATs, so the pings keep the mapping alive.
fn default_keepalive() -> u16 {
    60
}
fn default_reply_timeout() -> u64 {
    30
}
fn default_max_messages() -> u64 {
    10_000
}
fn default_max_bytes() -> u64 {
    16 * 1024 * 1024
}

/// Which cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudKind {
    /// Alibaba Cloud IoT Platform.
    Aliyun,
    /// China Mobile OneNET.
    Onenet,
    /// Huawei Cloud IoTDA.
    Huawei,
}

impl CloudKind {
    /// The profile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudKind::Aliyun => "aliyun",
            CloudKind::Onenet => "onenet",
            CloudKind::Huawei => "huawei",
        }
    }
}

/// Who computes the MQTT credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// cellagent signs (fresh timestamps / tokens per connect).
    #[default]
    Host,
    /// The module signs: `AT+QMTCFG="aliauth"|"onenet"|"hwauth"|"hwprodid"`.
    Module,
}

/// `[cloud.aliyun]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AliyunSection {
    /// ProductKey.
    pub product_key: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// DeviceSecret.
    pub device_secret: Option<Secret>,
    /// File holding the DeviceSecret.
    pub device_secret_file: Option<PathBuf>,
    /// `hmacsha256` (default), `hmacsha1`, `hmacmd5`.
    pub sign_method: Option<String>,
    /// Free client-id part.
    pub client_id: Option<String>,
    /// Region (legacy public instance).
    pub region: Option<String>,
    /// Instance id (new public / enterprise instances).
    pub instance_id: Option<String>,
    /// ProductSecret (dynamic registration).
    pub product_secret: Option<Secret>,
    /// File holding the ProductSecret.
    pub product_secret_file: Option<PathBuf>,
    /// Dynamic registration mode: `register` or `regnwl`.
    pub register: Option<String>,
    /// Ask the cloud to reply to posts (`sys.ack`; default true): the replies become `ack`
    /// lines. Without them the serial line carries only the window's results.
    pub ack: Option<bool>,
}

/// `[cloud.onenet]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OnenetSection {
    /// Product id.
    pub product_id: Option<String>,
    /// Device name.
    pub device_name: Option<String>,
    /// Access key (base64, as the console shows it).
    pub access_key: Option<Secret>,
    /// File holding the access key.
    pub access_key_file: Option<PathBuf>,
    /// `device` (default) or `product`: which key `access_key` is.
    pub key_level: Option<String>,
    /// `sha256` (default), `sha1`, `md5`.
    pub method: Option<String>,
    /// Absolute token expiry, Unix seconds.
    pub expires_at: Option<u64>,
    /// Token lifetime in seconds from each connect (default 86400).
    pub token_ttl: Option<u64>,
}

/// `[cloud.huawei]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HuaweiSection {
    /// Device id (`hwauth`).
    pub device_id: Option<String>,
    /// Device secret (`hwauth`).
    pub secret: Option<Secret>,
    /// File holding the device secret.
    pub secret_file: Option<PathBuf>,
    /// 0: timestamp not checked (default); 1: checked.
    #[serde(default)]
    pub sign_type: u8,
    /// Product id (`hwprodid`).
    pub product_id: Option<String>,
    /// Node id (`hwprodid`).
    pub node_id: Option<String>,
    /// Product secret (`hwprodid`).
    pub product_secret: Option<Secret>,
    /// File holding the product secret.
    pub product_secret_file: Option<PathBuf>,
    /// Service for properties the model does not place.
    pub default_service: Option<String>,
}

/// `[cloud]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudSection {
    /// `aliyun`, `onenet` or `huawei`.
    pub platform: CloudKind,
    /// `host` (default) or `module`.
    #[serde(default)]
    pub auth: AuthMode,
    /// Broker host (default: the cloud's).
    pub host: Option<String>,
    /// Broker port (default: the cloud's).
    pub port: Option<u16>,
    /// TLS (default false).
    #[serde(default)]
    pub tls: bool,
    /// Keep-alive seconds (default 120).
    #[serde(default = "default_keepalive")]
    pub keepalive: u16,
    /// Aliyun settings.
    #[serde(default)]
    pub aliyun: Option<AliyunSection>,
    /// OneNET settings.
    #[serde(default)]
    pub onenet: Option<OnenetSection>,
    /// Huawei settings.
    #[serde(default)]
    pub huawei: Option<HuaweiSection>,
}

/// `[thing_model]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ThingModelSection {
    /// The console's export (relative paths are relative to the profile file).
    pub file: Option<PathBuf>,
}

/// `[store]`: the on-disk queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// The redb file.
    pub path: PathBuf,
    /// At most this many messages waiting (default 10000).
    #[serde(default = "default_max_messages")]
    pub max_messages: u64,
    /// At most this many payload bytes waiting (default 16 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

/// `[agent]`: run-time behaviour (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// Seconds the app has to answer a `set` / `get` / `call` before the agent answers with an
    /// error code (default 30).
    #[serde(default = "default_reply_timeout")]
    pub reply_timeout_s: u64,
    /// Longest backoff between reconnect attempts, seconds (default 60).
    #[serde(default = "default_backoff_max")]
    pub backoff_max_s: u64,
    /// Skip SIM / registration / APN checks (emulators without a SIM). Default false.
    #[serde(default)]
    pub skip_network_checks: bool,
    /// `AT+QMTCFG="timeout"` packet timeout, 1–60 s (default 10): how long the module waits
    /// for a PUBACK / SUBACK / PINGRESP before resending or giving up.
    #[serde(default = "default_pkt_timeout")]
    pub pkt_timeout_s: u16,
    /// `AT+QMTCFG="timeout"` retries, 0–10 (default 3).
    #[serde(default = "default_retry_times")]
    pub retry_times: u8,
    /// Seconds the transport writes nothing after a publish timed out before its `>` prompt
    /// (the module may still print it and take any byte as the payload), 1–300 (default 35:
    /// past the module's 30 s `edit/timeout`).
    #[serde(default = "default_input_quiet")]
    pub input_quiet_s: u16,
}

fn default_input_quiet() -> u16 {
    35
}

fn default_pkt_timeout() -> u16 {
    10
}
fn default_retry_times() -> u8 {
    3
}

fn default_backoff_max() -> u64 {
    60
}

impl Default for AgentSection {
    fn default() -> Self {
        AgentSection {
            reply_timeout_s: default_reply_timeout(),
            backoff_max_s: default_backoff_max(),
            skip_network_checks: false,
            pkt_timeout_s: default_pkt_timeout(),
            retry_times: default_retry_times(),
            input_quiet_s: default_input_quiet(),
        }
    }
}

/// A whole profile, secrets resolved from `…_file` fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `[module]`.
    pub module: ModuleSection,
    /// `[cloud]`.
    pub cloud: CloudSection,
    /// `[thing_model]`.
    #[serde(default)]
    pub thing_model: ThingModelSection,
    /// `[store]`.
    pub store: Option<StoreSection>,
    /// `[agent]`.
    #[serde(default)]
    pub agent: AgentSection,
    /// `[publish]`.
    #[serde(default)]
    pub publish: PublishSection,
    /// `[recovery]`: liveness, refusals, the recovery ladder.
    #[serde(default)]
    pub recovery: RecoverySection,
    /// `[tls]`: certificates and settings when `cloud.tls = true` (see [`crate::tls`]).
    #[serde(default)]
    pub tls: Option<crate::tls::TlsSection>,
    /// The directory relative paths are resolved against (not a TOML key).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn figment_error(e: figment::Error) -> ProfileError {
    let e = e.into_iter().next().expect("a figment error has one entry");
    let mut path: Vec<String> = e.path.clone();
    use figment::error::Kind;
    let reason = match &e.kind {
        Kind::MissingField(f) => {
            path.push(f.to_string());
            "is missing".to_string()
        }
        Kind::UnknownField(f, expected) => {
            // figment sometimes already ends the path with the key (an optional table).
            if path.last() != Some(f) {
                path.push(f.clone());
            }
            format!("unknown field; expected one of {}", expected.join(", "))
        }
        Kind::InvalidType(_, exp) => format!("wrong type; expected {exp}"),
        Kind::InvalidValue(_, exp) => format!("invalid value; expected {exp}"),
        Kind::UnknownVariant(v, exp) if !is_secret_path(&path) => {
            format!("unknown value `{v}`; expected one of {}", exp.join(", "))
        }
        Kind::Message(m) if !is_secret_path(&path) => m.clone(),
        _ => "invalid value".to_string(),
    };
    let field = if path.is_empty() {
        "(profile)".to_string()
    } else {
        path.join(".")
    };
    ProfileError::new(field, reason)
}

fn is_secret_path(path: &[String]) -> bool {
    path.last()
        .is_some_and(|f| f.contains("secret") || f.contains("key") || f.contains("password"))
}

impl Profile {
    /// Loads `path` and the `CELLAGENT_…` environment, resolves secret files and validates.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        if !path.exists() {
            return Err(ProfileError::new(
                "--profile",
                format!("{} does not exist", path.display()),
            ));
        }
        // Only nested keys (`CELLAGENT_SECTION__FIELD`): other CELLAGENT_ variables are not
        // profile fields. (The filter sees the key after `__` became `.`.)
        let env = Env::prefixed("CELLAGENT_")
            .split("__")
            .filter(|k| k.as_str().contains('.'));
        Self::from_figment(
            Figment::new().merge(Toml::file(path)).merge(env),
            path.parent().unwrap_or(Path::new(".")),
        )
    }

    /// Loads a profile from TOML text (no environment); `base_dir` resolves relative paths.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Profile, ProfileError> {
        Self::from_figment(Figment::new().merge(Toml::string(text)), base_dir)
    }

    fn from_figment(fig: Figment, base_dir: &Path) -> Result<Profile, ProfileError> {
        let mut p: Profile = fig.extract().map_err(figment_error)?;
        p.base_dir = base_dir.to_path_buf();
        p.resolve_secret_files()?;
        crate::tls::resolve(&mut p)?;
        p.validate()?;
        Ok(p)
    }

    /// A path from the profile, resolved against the profile's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    fn resolve_secret_files(&mut self) -> Result<(), ProfileError> {
        let base = self.base_dir.clone();
        let read = |field: &str, file: &Option<PathBuf>, value: &mut Option<Secret>| {
            if let Some(f) = file {
                if value.is_some() {
                    return Err(ProfileError::new(
                        field,
                        "given twice (both the value and a `_file`)",
                    ));
                }
                let f = if f.is_absolute() {
                    f.clone()
                } else {
                    base.join(f)
                };
                let text = std::fs::read_to_string(&f).map_err(|e| {
                    ProfileError::new(
                        format!("{field}_file"),
                        format!("cannot read {}: {e}", f.display()),
                    )
                })?;
                *value = Some(Secret::new(text.trim()));
            }
            Ok(())
        };
        if let Some(a) = &mut self.cloud.aliyun {
            read(
                "cloud.aliyun.device_secret",
                &a.device_secret_file,
                &mut a.device_secret,
            )?;
            read(
                "cloud.aliyun.product_secret",
                &a.product_secret_file,
                &mut a.product_secret,
            )?;
        }
        if let Some(o) = &mut self.cloud.onenet {
            read(
                "cloud.onenet.access_key",
                &o.access_key_file,
                &mut o.access_key,
            )?;
        }
        if let Some(h) = &mut self.cloud.huawei {
            read("cloud.huawei.secret", &h.secret_file, &mut h.secret)?;
            read(
                "cloud.huawei.product_secret",
                &h.product_secret_file,
                &mut h.product_secret,
            )?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let m = &self.module;
        if m.port.is_empty() {
            return Err(ProfileError::new("module.port", "is empty"));
        }
        if m.client_index > quectel_mqtt::MAX_CLIENT {
            return Err(ProfileError::new(
                "module.client_index",
                format!("{} is outside 0..=5", m.client_index),
            ));
        }
        if let Some(apn) = &m.apn {
            if apn.len() > 64 || apn.contains(['"', '\r', '\n']) {
                return Err(ProfileError::new(
                    "module.apn",
                    "must be at most 64 bytes without `\"`, CR or LF",
                ));
            }
        }
        let section_present = match self.cloud.platform {
            CloudKind::Aliyun => self.cloud.aliyun.is_some(),
            CloudKind::Onenet => self.cloud.onenet.is_some(),
            CloudKind::Huawei => self.cloud.huawei.is_some(),
        };
        if !section_present {
            let name = self.cloud.platform.as_str();
            return Err(ProfileError::new(
                format!("cloud.{name}"),
                format!("is missing; `cloud.platform = \"{name}\"` needs a [cloud.{name}] table"),
            ));
        }
        if let Some(h) = &self.cloud.host {
            if h.is_empty() || h.len() > 100 || h.contains(['"', '\r', '\n', ' ']) {
                return Err(ProfileError::new(
                    "cloud.host",
                    "must be 1 to 100 bytes without spaces, `\"`, CR or LF",
                ));
            }
        }
        if self.cloud.keepalive == 0 || self.cloud.keepalive > 3600 {
            return Err(ProfileError::new(
                "cloud.keepalive",
                format!("{} is outside 1..=3600 s", self.cloud.keepalive),
            ));
        }
        if let Some(s) = &self.store {
            if s.max_messages == 0 {
                return Err(ProfileError::new(
                    "store.max_messages",
                    "must be at least 1",
                ));
            }
            if s.max_bytes < quectel_mqtt::MAX_PAYLOAD as u64 {
                return Err(ProfileError::new(
                    "store.max_bytes",
                    "must be at least 1500 (one full payload)",
                ));
            }
        }
        if !(1..=60).contains(&self.agent.pkt_timeout_s) {
            return Err(ProfileError::new(
                "agent.pkt_timeout_s",
                format!("{} is outside 1..=60 s", self.agent.pkt_timeout_s),
            ));
        }
        if !(1..=300).contains(&self.agent.input_quiet_s) {
            return Err(ProfileError::new(
                "agent.input_quiet_s",
                format!("{} is outside 1..=300 s", self.agent.input_quiet_s),
            ));
        }
        if self.agent.retry_times > 10 {
            return Err(ProfileError::new(
                "agent.retry_times",
                format!("{} is outside 0..=10", self.agent.retry_times),
            ));
        }
        self.publish.validate()?;
        self.recovery.validate()?;
        if self.agent.reply_timeout_s == 0 {
            return Err(ProfileError::new(
                "agent.reply_timeout_s",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Every secret in the profile (for masking).
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |s: &Option<Secret>| {
            if let Some(s) = s {
                if !s.is_empty() {
                    out.push(s.expose().to_string());
                }
            }
        };
        if let Some(a) = &self.cloud.aliyun {
            push(&a.device_secret);
            push(&a.product_secret);
        }
        if let Some(o) = &self.cloud.onenet {
            push(&o.access_key);
        }
        if let Some(h) = &self.cloud.huawei {
            push(&h.secret);
            push(&h.product_secret);
        }
        out
    }
}

/// Replaces every occurrence of each secret in `text` with `***`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if s.len() >= 4 {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

#[path = "profile_publish.rs"]
mod publish;
#[path = "profile_recovery.rs"]
mod recovery;
pub use publish::{PublishSection, MAX_BATCH};
pub use recovery::RecoverySection;

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
