//! OneNET security tokens (`version=…&res=…&et=…&method=…&sign=…`).
//!
//! ```text
//! sign  = base64(HMAC_method(key = base64decode(access_key),
//!                            msg = et "\n" method "\n" res "\n" version))
//! token = "version=" V "&res=" pct(res) "&et=" et "&method=" method "&sign=" pct(sign)
//! ```
//!
//! The clock is never read here: callers pass `now` (Unix seconds). Keys are
//! arbitrary bytes (no C-string handling) and nothing has a fixed size, unlike
//! the public C code the notes warn about (a 64-byte string-to-sign buffer in
//! OneNET_AIO_c, a 64-byte `res` in LuatOS).
//!
//! ```
//! use cloud_onenet::token::{AccessKey, Expiry, Resource, SignMethod, TokenSpec, TokenVersion};
//! let key = AccessKey::from_base64("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=")?;
//! let res = Resource::device("Aw9oB4n7zB", "dev-001")?;
//! let now = 1_700_000_000;
//! let spec = TokenSpec::new(TokenVersion::V2018_10_31, res, SignMethod::Sha1, Expiry::Lifetime(3600), now)?;
//! let token = spec.sign(&key);
//! assert!(token.expose().starts_with("version=2018-10-31&res=products%2FAw9oB4n7zB%2Fdevices%2Fdev-001&et=1700003600&method=sha1&sign="));
//! // The password round-trips through the verifier.
//! cloud_onenet::token::verify(&token.expose(), &key, now)?;
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};

use crate::codes::AccessCode;
use crate::error::{Error, Result};
use crate::names::{validate_device_name, validate_product_id};

/// The HMAC used for `sign`. The lower-case name is signed verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignMethod {
    /// HMAC-MD5 (`md5`).
    Md5,
    /// HMAC-SHA1 (`sha1`), what the official C SDK uses.
    Sha1,
    /// HMAC-SHA256 (`sha256`).
    #[default]
    Sha256,
}

impl SignMethod {
    /// The string put in the token and signed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }

    /// Length of the raw HMAC output in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    fn hmac(self, key: &[u8], msg: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so this cannot fail.
            let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::Md5 => run::<Hmac<md5::Md5>>(key, msg),
            Self::Sha1 => run::<Hmac<sha1::Sha1>>(key, msg),
            Self::Sha256 => run::<Hmac<sha2::Sha256>>(key, msg),
        }
    }
}

impl FromStr for SignMethod {
    type Err = Error;
    /// Accepts exactly `md5`, `sha1` or `sha256` (the method string is signed
    /// verbatim, so `SHA1` would give a different signature).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "md5" => Ok(Self::Md5),
            "sha1" => Ok(Self::Sha1),
            "sha256" => Ok(Self::Sha256),
            _ => Err(Error::InvalidConfig {
                field: "method",
                reason: format!("{s:?} is not one of \"md5\", \"sha1\", \"sha256\" (lower case)"),
            }),
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The token `version` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TokenVersion {
    /// `2018-10-31`: device and product tokens (MQTT login).
    #[default]
    V2018_10_31,
    /// `2020-05-29`: Studio user-level OpenAPI tokens.
    V2020_05_29,
    /// `2022-05-01`: current platform user-level OpenAPI tokens.
    V2022_05_01,
}

impl TokenVersion {
    /// The string put in the token and signed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2018_10_31 => "2018-10-31",
            Self::V2020_05_29 => "2020-05-29",
            Self::V2022_05_01 => "2022-05-01",
        }
    }
}

impl FromStr for TokenVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "2018-10-31" => Ok(Self::V2018_10_31),
            "2020-05-29" => Ok(Self::V2020_05_29),
            "2022-05-01" => Ok(Self::V2022_05_01),
            _ => Err(Error::InvalidConfig {
                field: "version",
                reason: format!("{s:?} is not one of 2018-10-31, 2020-05-29, 2022-05-01"),
            }),
        }
    }
}

/// The resource a token grants (`res`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `products/{pid}/devices/{dn}`: device login (signed with the device
    /// key or the product access key).
    Device {
        /// Product id.
        product_id: String,
        /// Device name.
        device_name: String,
    },
    /// `products/{pid}`: product level (signed with the product access key).
    Product {
        /// Product id.
        product_id: String,
    },
    /// `userid/{uid}`: user-level OpenAPI access (HTTP, not MQTT).
    User {
        /// User id.
        user_id: String,
    },
}

impl Resource {
    /// A device-level resource; both names are validated.
    pub fn device(product_id: &str, device_name: &str) -> Result<Self> {
        validate_product_id(product_id)?;
        validate_device_name(device_name)?;
        Ok(Self::Device {
            product_id: product_id.to_owned(),
            device_name: device_name.to_owned(),
        })
    }

    /// A product-level resource; the product id is validated.
    pub fn product(product_id: &str) -> Result<Self> {
        validate_product_id(product_id)?;
        Ok(Self::Product {
            product_id: product_id.to_owned(),
        })
    }

    /// A user-level resource (`userid/{uid}`, decimal user id).
    pub fn user(user_id: &str) -> Result<Self> {
        if user_id.is_empty() || user_id.len() > 20 || !user_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::InvalidName {
                field: "user_id",
                reason: "must be 1 to 20 decimal digits".into(),
            });
        }
        Ok(Self::User {
            user_id: user_id.to_owned(),
        })
    }

    /// Parses the unencoded form (`products/P/devices/D`, `products/P`, `userid/U`).
    pub fn parse(res: &str) -> Result<Self> {
        let parts: Vec<&str> = res.split('/').collect();
        match parts.as_slice() {
            ["products", pid, "devices", dn] => Self::device(pid, dn),
            ["products", pid] => Self::product(pid),
            ["userid", uid] => Self::user(uid),
            _ => Err(Error::InvalidConfig {
                field: "res",
                reason: format!(
                    "{res:?} is not products/{{pid}}/devices/{{name}}, products/{{pid}} or userid/{{uid}}"
                ),
            }),
        }
    }

    /// The product id, for product and device resources.
    pub fn product_id(&self) -> Option<&str> {
        match self {
            Self::Device { product_id, .. } | Self::Product { product_id } => Some(product_id),
            Self::User { .. } => None,
        }
    }

    /// The device name, for device resources.
    pub fn device_name(&self) -> Option<&str> {
        match self {
            Self::Device { device_name, .. } => Some(device_name),
            _ => None,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Device {
                product_id,
                device_name,
            } => write!(f, "products/{product_id}/devices/{device_name}"),
            Self::Product { product_id } => write!(f, "products/{product_id}"),
            Self::User { user_id } => write!(f, "userid/{user_id}"),
        }
    }
}

/// When a token stops being accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expiry {
    /// At this absolute Unix time (seconds); 64-bit, so dates past 2106 work.
    At(u64),
    /// This many seconds after `now`.
    Lifetime(u64),
}

impl Expiry {
    /// The absolute `et` for a token made at `now`, refusing any that is not
    /// in the future (the platform refuses `et < now` with code 1104).
    pub fn resolve(self, now: u64) -> Result<u64> {
        let et = match self {
            Self::At(et) => et,
            Self::Lifetime(0) => {
                return Err(Error::InvalidConfig {
                    field: "lifetime",
                    reason: "is 0 seconds; it must be at least 1".into(),
                })
            }
            Self::Lifetime(secs) => now.checked_add(secs).ok_or_else(|| Error::InvalidConfig {
                field: "lifetime",
                reason: format!("{secs} s after {now} overflows a 64-bit Unix time"),
            })?,
        };
        if et <= now {
            return Err(Error::Expired { et, now });
        }
        Ok(et)
    }
}

/// A decoded access key (device key, product access key or user key).
///
/// The bytes are never shown by `Debug` and are overwritten on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(Vec<u8>);

impl AccessKey {
    /// Decodes a key as the console shows it: standard-alphabet base64 with
    /// padding (RFC 4648). The error never contains the key.
    pub fn from_base64(b64: &str) -> Result<Self> {
        let trimmed = b64.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidKey("is empty".into()));
        }
        let bytes = STANDARD.decode(trimmed).map_err(|e| {
            let what = match e {
                base64::DecodeError::InvalidByte(offset, _) => {
                    format!("invalid character at offset {offset}")
                }
                base64::DecodeError::InvalidLength(len) => {
                    format!("{len} base64 symbols cannot encode whole bytes")
                }
                base64::DecodeError::InvalidLastSymbol { offset, .. } => {
                    format!("non-canonical last symbol at offset {offset}")
                }
                base64::DecodeError::InvalidPadding => "missing or wrong '=' padding".to_owned(),
            };
            Error::InvalidKey(format!(
                "is not standard base64 (RFC 4648, padded): {what} (key of {} characters)",
                trimmed.len()
            ))
        })?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes (already decoded).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::InvalidKey("decodes to 0 bytes".into()));
        }
        Ok(Self(bytes))
    }

    /// The key as base64 again (for the module-side `AT+QMTCFG="onenet"` form).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// Number of key bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an empty key cannot be built.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKey(<redacted, {} bytes>)", self.0.len())
    }
}

impl Drop for AccessKey {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

/// Everything that is signed: version, res, et, method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// `version`.
    pub version: TokenVersion,
    /// `res`.
    pub res: Resource,
    /// `et`, absolute Unix seconds.
    pub et: u64,
    /// `method`.
    pub method: SignMethod,
}

impl TokenSpec {
    /// A spec whose expiry is resolved against `now` and must lie after it.
    pub fn new(
        version: TokenVersion,
        res: Resource,
        method: SignMethod,
        expiry: Expiry,
        now: u64,
    ) -> Result<Self> {
        Ok(Self {
            version,
            res,
            et: expiry.resolve(now)?,
            method,
        })
    }

    /// `et "\n" method "\n" res "\n" version`, the exact bytes fed to HMAC.
    pub fn string_to_sign(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.et,
            self.method,
            self.res,
            self.version.as_str()
        )
    }

    /// The raw HMAC over [`Self::string_to_sign`].
    pub fn hmac(&self, key: &AccessKey) -> Vec<u8> {
        self.method.hmac(&key.0, self.string_to_sign().as_bytes())
    }

    /// Signs the spec. No time check: the expiry was checked by [`Self::new`]
    /// (known-answer tests build the struct directly with past `et`s).
    pub fn sign(&self, key: &AccessKey) -> Token {
        Token {
            spec: self.clone(),
            sign: STANDARD.encode(self.hmac(key)),
        }
    }
}

/// A signed token. `Debug` hides the signature; use [`Token::expose`] to get
/// the password string.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    spec: TokenSpec,
    sign: String,
}

impl Token {
    /// What was signed.
    pub fn spec(&self) -> &TokenSpec {
        &self.spec
    }

    /// The signature, standard base64 with padding (not URL-encoded). Secret.
    pub fn expose_sign(&self) -> &str {
        &self.sign
    }

    /// The full token as sent in the MQTT password field. Secret.
    pub fn expose(&self) -> String {
        format!(
            "version={}&res={}&et={}&method={}&sign={}",
            self.spec.version.as_str(),
            percent_encode(&self.spec.res.to_string()),
            self.spec.et,
            self.spec.method,
            percent_encode(&self.sign)
        )
    }

    /// Parses a token string. Refusals carry the access-layer code OneNET
    /// would log (1103 malformed, 1110 method, 1111 version).
    pub fn parse(token: &str) -> Result<Self> {
        let refuse = |code, detail: String| Error::Refused { code, detail };
        let mut fields: [Option<String>; 5] = Default::default();
        const NAMES: [&str; 5] = ["version", "res", "et", "method", "sign"];
        for pair in token.split('&') {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| refuse(AccessCode::InvalidToken, "a field has no '='".into()))?;
            let idx = NAMES.iter().position(|n| *n == k).ok_or_else(|| {
                refuse(
                    AccessCode::InvalidToken,
                    format!("unknown field {k:?}; expected only {NAMES:?}"),
                )
            })?;
            if fields[idx].is_some() {
                return Err(refuse(
                    AccessCode::InvalidToken,
                    format!("field {k:?} appears twice"),
                ));
            }
            fields[idx] = Some(percent_decode(v).ok_or_else(|| {
                refuse(
                    AccessCode::InvalidToken,
                    format!("field {k:?} has a bad %-escape"),
                )
            })?);
        }
        let mut take = |i: usize| {
            fields[i].take().ok_or_else(|| {
                refuse(
                    AccessCode::InvalidToken,
                    format!("field {:?} is missing", NAMES[i]),
                )
            })
        };
        let (version, res, et, method, sign) = (take(0)?, take(1)?, take(2)?, take(3)?, take(4)?);
        let version = version
            .parse()
            .map_err(|e: Error| refuse(AccessCode::InvalidVersion, e.to_string()))?;
        let method: SignMethod = method
            .parse()
            .map_err(|e: Error| refuse(AccessCode::MethodNotSupported, e.to_string()))?;
        let et = if !et.is_empty() && et.bytes().all(|b| b.is_ascii_digit()) {
            et.parse::<u64>().ok()
        } else {
            None
        }
        .ok_or_else(|| refuse(AccessCode::InvalidToken, "et: not a decimal u64".into()))?;
        let res =
            Resource::parse(&res).map_err(|e| refuse(AccessCode::InvalidToken, e.to_string()))?;
        Ok(Self {
            spec: TokenSpec {
                version,
                res,
                et,
                method,
            },
            sign,
        })
    }

    /// Checks the signature with `key` and the expiry against `now`.
    pub fn verify(&self, key: &AccessKey, now: u64) -> Result<()> {
        if self.spec.et < now {
            return Err(Error::Refused {
                code: AccessCode::TokenExpired,
                detail: format!("et {} is before now {now}", self.spec.et),
            });
        }
        let expected = self.spec.hmac(key);
        let given = STANDARD.decode(&self.sign).unwrap_or_default();
        if !constant_time_eq(&expected, &given) {
            return Err(Error::Refused {
                code: AccessCode::SignNotMatch,
                detail: format!(
                    "sign does not match a {} HMAC of the fields",
                    self.spec.method
                ),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("version", &self.spec.version.as_str())
            .field("res", &self.spec.res.to_string())
            .field("et", &self.spec.et)
            .field("method", &self.spec.method)
            .field("sign", &"<redacted>")
            .finish()
    }
}

/// Parses `token` and verifies it with `key` at `now`; returns what was signed.
pub fn verify(token: &str, key: &AccessKey, now: u64) -> Result<TokenSpec> {
    let t = Token::parse(token)?;
    t.verify(key, now)?;
    Ok(t.spec)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes a token value with OneNET's table: `+ space / ? % # & =`
/// become `%2B %20 %2F %3F %25 %23 %26 %3D`; control and non-ASCII bytes are
/// encoded too (upper-case hex). Everything else is left as is.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for &b in value.as_bytes() {
        if matches!(b, b'+' | b' ' | b'/' | b'?' | b'%' | b'#' | b'&' | b'=')
            || !b.is_ascii_graphic()
        {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Reverses [`percent_encode`] (any `%XX`, either hex case). `None` for a
/// truncated or non-hex escape or a result that is not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let s = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(s, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
