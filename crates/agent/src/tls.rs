//! TLS for the module's MQTT link: the `[tls]` profile section (the CA certificate, an optional
//! client certificate and key, the SSL context, the verification level, version and cipher
//! suites) and the script steps that put them on the module as in the guide's §5.2 example:
//! `AT+QFUPL` of each file, `AT+QSSLCFG` of the context, then `AT+QMTCFG="ssl",<client>,1,<ctx>`.
//!
//! The files are uploaded again at every connect (after an `AT+QFDEL`, because `AT+QFUPL`
//! refuses an existing name). Skipping an identical file would need its content: the module
//! reports only a size and a 16-bit XOR checksum, which cannot tell two certificates of the same
//! size apart reliably, and reading the file back (`AT+QFDWL`) costs as much as writing it. A few
//! KB per connect is the price of never running with a stale CA.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use quectel_mqtt::commands::{
    CfgSsl, FileDelete, FileUpload, SecLevel, SslConfigSet, SslSetting, SslVersion,
};
use serde::Deserialize;

use crate::profile::{Profile, ProfileError};
use crate::script::Step;

/// Largest certificate or key file accepted (the module's user file system is small; real
/// certificates and keys are a few KB).
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Seconds the module waits for an upload's bytes after `CONNECT` (the guide's example: 100).
const UPLOAD_INPUT_SECS: u16 = 100;

/// `tls.verify`: who is authenticated (`AT+QSSLCFG="seclevel"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// 0: nobody (the broker's certificate is not checked; not recommended).
    None,
    /// 1: the broker, against `ca_file`.
    Server,
    /// 2: the broker and this device (`client_cert_file`, `client_key_file`).
    Mutual,
}

/// `tls.version` (`AT+QSSLCFG="sslversion"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum TlsVersion {
    /// 0.
    #[serde(rename = "ssl3.0")]
    Ssl3_0,
    /// 1.
    #[serde(rename = "tls1.0")]
    Tls1_0,
    /// 2.
    #[serde(rename = "tls1.1")]
    Tls1_1,
    /// 3.
    #[serde(rename = "tls1.2")]
    Tls1_2,
    /// 4: whatever both sides support (default).
    #[default]
    #[serde(rename = "any")]
    Any,
}

/// The files' contents, read and checked when the profile is loaded. `Debug` shows sizes only
/// (the key is a secret).
#[derive(Clone, Default)]
pub struct TlsFiles {
    /// The CA certificate (PEM).
    pub ca: Option<Bytes>,
    /// The client certificate (PEM).
    pub client_cert: Option<Bytes>,
    /// The client's private key (PEM). A secret.
    pub client_key: Option<Bytes>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = |b: &Option<Bytes>| b.as_ref().map(Bytes::len);
        f.debug_struct("TlsFiles")
            .field("ca_bytes", &size(&self.ca))
            .field("client_cert_bytes", &size(&self.client_cert))
            .field("client_key", &self.client_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `[tls]`: used when `cloud.tls = true`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM file of the CA that signed the broker's certificate.
    pub ca_file: Option<PathBuf>,
    /// PEM file of this device's certificate (mutual TLS).
    pub client_cert_file: Option<PathBuf>,
    /// PEM file of this device's private key (mutual TLS). A secret.
    pub client_key_file: Option<PathBuf>,
    /// The module's SSL context 0–5 (default 1).
    #[serde(default = "default_context")]
    pub context: u8,
    /// `none`, `server` or `mutual`; default `mutual` with a client certificate, else `server`.
    pub verify: Option<Verify>,
    /// `ssl3.0`, `tls1.0`, `tls1.1`, `tls1.2` or `any` (default).
    #[serde(default)]
    pub version: TlsVersion,
    /// A cipher suite number such as 0x0035, or 0xFFFF for all of them (default).
    #[serde(default = "all_cipher_suites")]
    pub ciphersuite: u16,
    /// Skip checking certificate validity against the module's clock (default true, as in
    /// the guide: the clock is often unset right after power-up).
    #[serde(default = "yes")]
    pub ignore_local_time: bool,
    /// The files' contents (not TOML keys).
    #[serde(skip)]
    pub files: TlsFiles,
}

fn default_context() -> u8 {
    1
}
fn all_cipher_suites() -> u16 {
    0xFFFF
}
fn yes() -> bool {
    true
}

impl Default for TlsSection {
    fn default() -> Self {
        TlsSection {
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            context: default_context(),
            verify: None,
            version: TlsVersion::Any,
            ciphersuite: all_cipher_suites(),
            ignore_local_time: true,
            files: TlsFiles::default(),
        }
    }
}

impl TlsSection {
    /// The verification level in effect.
    pub fn verify(&self) -> Verify {
        self.verify.unwrap_or(if self.client_cert_file.is_some() {
            Verify::Mutual
        } else {
            Verify::Server
        })
    }

    /// The files this section reads, with their field names (for the permission check).
    pub fn paths(&self) -> Vec<(&'static str, &Path)> {
        [
            ("tls.ca_file", &self.ca_file),
            ("tls.client_cert_file", &self.client_cert_file),
            ("tls.client_key_file", &self.client_key_file),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect()
    }
}

/// Checks `[tls]` against `cloud.tls` and reads the files (relative to the profile). Errors name
/// the field and never quote a file's content.
pub fn resolve(profile: &mut Profile) -> Result<(), ProfileError> {
    if !profile.cloud.tls {
        if profile.tls.is_some() {
            return Err(ProfileError::new(
                "tls",
                "is given but `cloud.tls` is false: set `cloud.tls = true` or remove [tls]",
            ));
        }
        return Ok(());
    }
    let mut section = profile.tls.take().unwrap_or_default();
    if section.context > 5 {
        return Err(ProfileError::new(
            "tls.context",
            format!("{} is outside 0..=5", section.context),
        ));
    }
    let verify = section.verify();
    if verify != Verify::None && section.ca_file.is_none() {
        return Err(ProfileError::new(
            "tls.ca_file",
            "is missing: `cloud.tls = true` needs the PEM file of the CA that signed the broker's \
             certificate (or `tls.verify = \"none\"`, which does not authenticate the broker)",
        ));
    }
    match (&section.client_cert_file, &section.client_key_file) {
        (Some(_), None) => {
            return Err(ProfileError::new(
                "tls.client_key_file",
                "is missing: a client certificate needs its private key",
            ))
        }
        (None, Some(_)) => {
            return Err(ProfileError::new(
                "tls.client_cert_file",
                "is missing: a client key needs its certificate",
            ))
        }
        (None, None) if verify == Verify::Mutual => return Err(ProfileError::new(
            "tls.client_cert_file",
            "is missing: `tls.verify = \"mutual\"` needs `client_cert_file` and `client_key_file`",
        )),
        _ => {}
    }
    let read = |field: &str, path: &Option<PathBuf>, marker: &str| {
        let Some(path) = path else { return Ok(None) };
        let path = profile.resolve(path);
        let data = std::fs::read(&path).map_err(|e| {
            ProfileError::new(field, format!("cannot read {}: {e}", path.display()))
        })?;
        if data.is_empty() || data.len() > MAX_FILE_BYTES {
            return Err(ProfileError::new(
                field,
                format!(
                    "{} is {} bytes; expected 1 to {MAX_FILE_BYTES}",
                    path.display(),
                    data.len()
                ),
            ));
        }
        let text = String::from_utf8_lossy(&data);
        if !text.contains(marker) {
            return Err(ProfileError::new(
                field,
                format!("{} is not a PEM file holding `{marker}`", path.display()),
            ));
        }
        Ok(Some(Bytes::from(data)))
    };
    section.files = TlsFiles {
        ca: read(
            "tls.ca_file",
            &section.ca_file,
            "-----BEGIN CERTIFICATE-----",
        )?,
        client_cert: read(
            "tls.client_cert_file",
            &section.client_cert_file,
            "-----BEGIN CERTIFICATE-----",
        )?,
        client_key: read(
            "tls.client_key_file",
            &section.client_key_file,
            "PRIVATE KEY-----",
        )?,
    };
    profile.tls = Some(section);
    Ok(())
}

/// The file name a context's CA, certificate or key gets on the module.
pub fn module_file(context: u8, what: &str) -> String {
    format!("UFS:cellagent-ctx{context}-{what}.pem")
}

/// The steps that configure TLS (or switch it off) for `client`, ending with
/// `AT+QMTCFG="ssl"`: upload each file, `AT+QSSLCFG` the context.
pub fn steps(profile: &Profile, client: u8, tls: bool) -> Vec<Step> {
    let section = match (&profile.tls, tls) {
        (Some(s), true) => s,
        _ => {
            return vec![Step::Ssl(CfgSsl {
                client,
                context: None,
            })]
        }
    };
    let ctx = section.context;
    let mut steps = Vec::new();
    let mut settings = Vec::new();
    let files = &section.files;
    for (what, data, setting) in [
        (
            "ca",
            &files.ca,
            SslSetting::CaCert as fn(String) -> SslSetting,
        ),
        ("cert", &files.client_cert, SslSetting::ClientCert),
        ("key", &files.client_key, SslSetting::ClientKey),
    ] {
        if let Some(data) = data {
            let name = module_file(ctx, what);
            steps.push(Step::DeleteFile(FileDelete { name: name.clone() }));
            steps.push(Step::Upload(Upload(FileUpload {
                name: name.clone(),
                data: data.clone(),
                input_timeout: Some(UPLOAD_INPUT_SECS),
            })));
            settings.push(setting(name));
        }
    }
    settings.extend([
        SslSetting::SecLevel(match section.verify() {
            Verify::None => SecLevel::None,
            Verify::Server => SecLevel::Server,
            Verify::Mutual => SecLevel::Mutual,
        }),
        SslSetting::Version(match section.version {
            TlsVersion::Ssl3_0 => SslVersion::Ssl3_0,
            TlsVersion::Tls1_0 => SslVersion::Tls1_0,
            TlsVersion::Tls1_1 => SslVersion::Tls1_1,
            TlsVersion::Tls1_2 => SslVersion::Tls1_2,
            TlsVersion::Any => SslVersion::All,
        }),
        SslSetting::CipherSuite(section.ciphersuite),
        SslSetting::IgnoreLocalTime(section.ignore_local_time),
    ]);
    steps.extend(settings.into_iter().map(|setting| {
        Step::SslConfig(SslConfigSet {
            context: ctx,
            setting,
        })
    }));
    steps.push(Step::Ssl(CfgSsl {
        client,
        context: Some(ctx),
    }));
    steps
}

/// An `AT+QFUPL` step. `Debug` shows the name and size only (the data may be a private key).
#[derive(Clone)]
pub struct Upload(pub FileUpload);

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Upload({}, {} bytes)", self.0.name, self.0.data.len())
    }
}

/// The error text for a failed `AT+QMTOPEN` over TLS: `-1` is what the module reports for a
/// failed handshake (and for an unreachable broker), so name the fields to check.
pub fn open_failure_hint(profile: &Profile) -> Option<String> {
    let section = profile.tls.as_ref().filter(|_| profile.cloud.tls)?;
    let fields = match section.verify() {
        Verify::None => "cloud.host / cloud.port",
        Verify::Server => {
            "the CA certificate (tls.ca_file) and cloud.host (the name in the broker's certificate)"
        }
        Verify::Mutual => {
            "the CA certificate (tls.ca_file), the client certificate and key \
             (tls.client_cert_file, tls.client_key_file) and cloud.host"
        }
    };
    Some(format!(
        "TLS handshake failed or the broker is unreachable: check {fields}"
    ))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
