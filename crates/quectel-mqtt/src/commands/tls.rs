//! TLS set-up (guide §5.2): `AT+QSSLCFG` (an SSL context's certificates and parameters) and
//! `AT+QFUPL` (uploading a certificate or key to the module's file system) and `AT+QFDEL`.

use std::time::Duration;

use bytes::Bytes;

use super::reply::{Field, ReplyShape};
use super::{final_request, flag, line, QUICK_TIMEOUT};
use crate::error::{Error, ParamError};
use crate::params::{check_quoted, check_range, push_arg_int, push_arg_quoted, push_quoted};
use crate::request::{Data, Info, Request, Response, Timing};
use crate::Command;

/// A file name on the module (`"UFS:cacert.pem"`): at most 80 bytes, Quectel's file system
/// limit.
const FILE_NAME_MAX: usize = 80;
/// The largest upload accepted: 1 MiB (our bound; certificates and keys are a few KB and the
/// module's user file system is small).
const UPLOAD_MAX: usize = 1 << 20;
/// `<timeout>` of `AT+QFUPL` when omitted: 5 s.
const UPLOAD_INPUT_DEFAULT_SECS: u16 = 5;
/// Bytes per second on the slowest UART this crate allows for: 9600 baud, 10 bits a byte.
const SLOW_UART_BYTES_PER_SEC: u64 = 960;

/// `<seclevel>`: who is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecLevel {
    /// 0: no authentication.
    None = 0,
    /// 1: the server is authenticated (needs "cacert").
    Server = 1,
    /// 2: the server and the client (needs "cacert", "clientcert" and "clientkey").
    Mutual = 2,
}

/// `<sslversion>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslVersion {
    /// 0.
    Ssl3_0 = 0,
    /// 1.
    Tls1_0 = 1,
    /// 2.
    Tls1_1 = 2,
    /// 3.
    Tls1_2 = 3,
    /// 4: any of them.
    All = 4,
}

/// `<ciphersuite>`: a TLS cipher suite number such as 0x0035, or 0xFFFF for all of them.
pub type CipherSuite = u16;

/// One `AT+QSSLCFG` setting and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslSetting {
    /// "cacert": the CA certificate's file name.
    CaCert(String),
    /// "clientcert": the client certificate's file name.
    ClientCert(String),
    /// "clientkey": the client key's file name.
    ClientKey(String),
    /// "seclevel".
    SecLevel(SecLevel),
    /// "sslversion".
    Version(SslVersion),
    /// "ciphersuite", written in hex (`0xFFFF`).
    CipherSuite(CipherSuite),
    /// "ignorelocaltime": skip the certificate validity check against the module's clock.
    IgnoreLocalTime(bool),
}

/// The name of an `AT+QSSLCFG` setting, for queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslOption {
    CaCert,
    ClientCert,
    ClientKey,
    SecLevel,
    Version,
    CipherSuite,
    IgnoreLocalTime,
}

impl SslOption {
    pub fn name(self) -> &'static str {
        match self {
            SslOption::CaCert => "cacert",
            SslOption::ClientCert => "clientcert",
            SslOption::ClientKey => "clientkey",
            SslOption::SecLevel => "seclevel",
            SslOption::Version => "sslversion",
            SslOption::CipherSuite => "ciphersuite",
            SslOption::IgnoreLocalTime => "ignorelocaltime",
        }
    }

    /// Reads the setting's value from a query reply field.
    fn parse_value(self, value: &Field<'_>) -> Option<SslSetting> {
        Some(match self {
            SslOption::CaCert => SslSetting::CaCert(value.text().to_owned()),
            SslOption::ClientCert => SslSetting::ClientCert(value.text().to_owned()),
            SslOption::ClientKey => SslSetting::ClientKey(value.text().to_owned()),
            SslOption::SecLevel => SslSetting::SecLevel(match value.int::<u8>()? {
                0 => SecLevel::None,
                1 => SecLevel::Server,
                2 => SecLevel::Mutual,
                _ => return None,
            }),
            SslOption::Version => SslSetting::Version(match value.int::<u8>()? {
                0 => SslVersion::Ssl3_0,
                1 => SslVersion::Tls1_0,
                2 => SslVersion::Tls1_1,
                3 => SslVersion::Tls1_2,
                4 => SslVersion::All,
                _ => return None,
            }),
            // Firmware writes 0XFFFF, 0xffff or, quoted, "0xFFFF".
            SslOption::CipherSuite => {
                let text = value.text();
                let hex = text
                    .strip_prefix("0x")
                    .or_else(|| text.strip_prefix("0X"))?;
                SslSetting::CipherSuite(u16::from_str_radix(hex, 16).ok()?)
            }
            SslOption::IgnoreLocalTime => SslSetting::IgnoreLocalTime(value.flag()?),
        })
    }
}

impl SslSetting {
    pub fn option(&self) -> SslOption {
        match self {
            SslSetting::CaCert(_) => SslOption::CaCert,
            SslSetting::ClientCert(_) => SslOption::ClientCert,
            SslSetting::ClientKey(_) => SslOption::ClientKey,
            SslSetting::SecLevel(_) => SslOption::SecLevel,
            SslSetting::Version(_) => SslOption::Version,
            SslSetting::CipherSuite(_) => SslOption::CipherSuite,
            SslSetting::IgnoreLocalTime(_) => SslOption::IgnoreLocalTime,
        }
    }
}

/// `AT+QSSLCFG="<option>",<SSL_ctx_idx>` with the context checked (0–5).
fn ssl_line(option: SslOption, context: u8) -> Result<Vec<u8>, ParamError> {
    check_range("SSL_ctx_idx", context.into(), 0, 5)?;
    let mut line = line("AT+QSSLCFG=");
    push_quoted(&mut line, option.name());
    push_arg_int(&mut line, context);
    Ok(line)
}

/// `AT+QSSLCFG="<option>",<SSL_ctx_idx>,<value>`: sets one setting of an SSL context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslConfigSet {
    /// 0–5.
    pub context: u8,
    pub setting: SslSetting,
}

impl Command for SslConfigSet {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let mut line = ssl_line(self.setting.option(), self.context)?;
        match &self.setting {
            SslSetting::CaCert(path)
            | SslSetting::ClientCert(path)
            | SslSetting::ClientKey(path) => {
                check_quoted("file_name", path, 1, FILE_NAME_MAX)?;
                push_arg_quoted(&mut line, path);
            }
            SslSetting::SecLevel(level) => push_arg_int(&mut line, *level as u8),
            SslSetting::Version(version) => push_arg_int(&mut line, *version as u8),
            SslSetting::CipherSuite(suite) => {
                line.extend_from_slice(format!(",0x{suite:04X}").as_bytes())
            }
            SslSetting::IgnoreLocalTime(ignore) => push_arg_int(&mut line, flag(*ignore)),
        }
        Ok(final_request("AT+QSSLCFG", line, Info::None, QUICK_TIMEOUT))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

/// `AT+QSSLCFG="<option>",<SSL_ctx_idx>`: reads one setting of an SSL context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SslConfigQuery {
    /// 0–5.
    pub context: u8,
    pub option: SslOption,
}

impl Command for SslConfigQuery {
    type Output = SslSetting;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        let line = ssl_line(self.option, self.context)?;
        Ok(final_request(
            "AT+QSSLCFG",
            line,
            Info::Prefix("+QSSLCFG:"),
            QUICK_TIMEOUT,
        ))
    }

    /// The reply repeats the option and the context: `+QSSLCFG: "<option>",<ctx>,<value>`.
    fn parse(&self, response: Response) -> Result<SslSetting, Error> {
        let shape = ReplyShape {
            command: "AT+QSSLCFG",
            prefix: "+QSSLCFG:",
            shape: "+QSSLCFG: \"<option>\",<SSL_ctx_idx>,<value>",
            secret: false,
        };
        shape.parse_first(&response, |fields| match fields {
            [name, context, value]
                if name.text().eq_ignore_ascii_case(self.option.name())
                    && context.int() == Some(self.context) =>
            {
                self.option.parse_value(value)
            }
            _ => None,
        })
    }
}

/// `AT+QFUPL="<name>",<file_size>[,<timeout>]`, then the file's bytes after `CONNECT`.
///
/// The time limit allows for the module's answer ([`QUICK_TIMEOUT`]), its wait for the data
/// (`<timeout>`, 5 s when omitted) and sending the bytes at 9600 baud. The request is marked
/// secret because the data may be a private key ("clientkey").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    /// 1–80 bytes, e.g. `"UFS:cacert.pem"`.
    pub name: String,
    /// 1 byte to 1 MiB.
    pub data: Bytes,
    /// `<timeout>`: seconds the module waits for the data (1–65535); `None` leaves it out.
    pub input_timeout: Option<u16>,
}

/// `+QFUPL: <upload_size>,<checksum>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    pub size: u32,
    /// The module's 16-bit checksum of the data, written in hex.
    pub checksum: u16,
}

impl Command for FileUpload {
    type Output = Uploaded;

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        check_quoted("file_name", &self.name, 1, FILE_NAME_MAX)?;
        let size = i64::try_from(self.data.len()).unwrap_or(i64::MAX);
        check_range("file_size", size, 1, UPLOAD_MAX as i64)?;
        let mut line = line("AT+QFUPL=");
        push_quoted(&mut line, &self.name);
        push_arg_int(&mut line, size);
        if let Some(seconds) = self.input_timeout {
            check_range("timeout", seconds.into(), 1, 65535)?;
            push_arg_int(&mut line, seconds);
        }
        let input_wait = self.input_timeout.unwrap_or(UPLOAD_INPUT_DEFAULT_SECS);
        let transfer = (self.data.len() as u64).div_ceil(SLOW_UART_BYTES_PER_SEC);
        let timeout = QUICK_TIMEOUT + Duration::from_secs(u64::from(input_wait) + transfer);
        let request = final_request("AT+QFUPL", line, Info::Prefix("+QFUPL:"), timeout);
        Ok(Request {
            data: Some(Data::Connect(self.data.clone())),
            secret: true,
            ..request
        })
    }

    /// Fails with [`Error::Reply`] when the module stored another number of bytes than sent.
    fn parse(&self, response: Response) -> Result<Uploaded, Error> {
        let shape = ReplyShape {
            command: "AT+QFUPL",
            prefix: "+QFUPL:",
            shape: "+QFUPL: <upload_size>,<checksum>",
            secret: false,
        };
        let uploaded = shape.parse_first(&response, |fields| match fields {
            [size, Field::Bare(checksum)] => Some(Uploaded {
                size: size.int()?,
                checksum: u16::from_str_radix(checksum, 16).ok()?,
            }),
            _ => None,
        })?;
        if uploaded.size as usize != self.data.len() {
            return Err(Error::Reply {
                command: "AT+QFUPL",
                detail: format!(
                    "the module stored {} bytes of the {} sent",
                    uploaded.size,
                    self.data.len()
                ),
            });
        }
        Ok(uploaded)
    }
}

/// `AT+QFDEL="<name>"`: deletes a file from the module's file system. `AT+QFUPL` refuses a
/// name that already exists (`+CME ERROR: 407` on the modules), so a re-upload deletes first;
/// deleting a file that is not there fails (`+CME ERROR: 405`), which callers may ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDelete {
    /// 1–80 bytes, e.g. `"UFS:cacert.pem"`.
    pub name: String,
}

impl Command for FileDelete {
    type Output = ();

    fn request(&self, _timing: &Timing) -> Result<Request, ParamError> {
        check_quoted("file_name", &self.name, 1, FILE_NAME_MAX)?;
        let mut line = line("AT+QFDEL=");
        push_quoted(&mut line, &self.name);
        Ok(final_request("AT+QFDEL", line, Info::None, QUICK_TIMEOUT))
    }

    fn parse(&self, _response: Response) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
