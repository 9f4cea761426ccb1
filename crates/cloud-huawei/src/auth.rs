//! `hwauth`: IoTDA device-secret login (一机一密), computed on the host.
//!
//! ```text
//! client_id = {device_id}_0_{sign_type}_{YYYYMMDDHH}     (UTC hour)
//! username  = {device_id}
//! password  = lowercase_hex(HMAC-SHA256(key = "YYYYMMDDHH", msg = secret))
//! ```
//!
//! This is what Huawei's Python and Java SDKs (and LiteOS agent_tiny) send for
//! every timestamp. Huawei's C SDK differs about one time in eight: it runs
//! `strlen` over the binary HMAC and, when the HMAC holds a 0x00 byte, bumps the
//! timestamp by one (numerically, so `…23` can become the invalid hour `…24`) and
//! recomputes. We do not copy that; see [`hmac_has_zero_byte`] and the vectors.

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{check_ident, Error, Result};
use crate::Secret;

/// Longest device ID IoTDA accepts (AddDevice: 128 chars of `[A-Za-z0-9_-]`).
pub const DEVICE_ID_MAX: usize = 128;
/// Longest client ID / username IoTDA accepts.
pub const CLIENT_ID_MAX: usize = 256;

/// A UTC hour as IoTDA writes it in client IDs: `YYYYMMDDHH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourStamp {
    start: DateTime<Utc>,
}

impl HourStamp {
    /// The hour containing `time` (minutes and seconds are dropped).
    pub fn from_datetime(time: DateTime<Utc>) -> Self {
        let start = time
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(time);
        Self { start }
    }

    /// The hour containing `unix_ms` milliseconds since the epoch.
    pub fn from_unix_ms(unix_ms: i64) -> Result<Self> {
        let time = Utc
            .timestamp_millis_opt(unix_ms)
            .single()
            .ok_or_else(|| Error::Invalid {
                field: "timestamp",
                reason: format!("{unix_ms} ms is outside the representable range"),
            })?;
        Ok(Self::from_datetime(time))
    }

    /// Parses `YYYYMMDDHH` (exactly 10 digits, a real date, hour 00..=23).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Invalid {
            field: "timestamp",
            reason: format!("{text:?} is not YYYYMMDDHH: {reason}"),
        };
        if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected exactly 10 digits"));
        }
        let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(0);
        let (year, month, day, hour) = (num(0..4), num(4..6), num(6..8), num(8..10));
        if hour > 23 {
            return Err(bad("hour must be 00..=23"));
        }
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)
            .ok_or_else(|| bad("no such calendar date"))?;
        let naive = date
            .and_hms_opt(hour, 0, 0)
            .ok_or_else(|| bad("hour must be 00..=23"))?;
        Ok(Self {
            start: Utc.from_utc_datetime(&naive),
        })
    }

    /// The start of the hour.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
}

impl fmt::Display for HourStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start.format("%Y%m%d%H"))
    }
}

/// The third client-ID field: how the password is signed and whether the
/// platform checks the timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SignType {
    /// `0`: HMAC-SHA256, timestamp not checked (only the password is).
    #[default]
    NoTimestampCheck,
    /// `1`: HMAC-SHA256, the platform first checks the timestamp against its clock.
    TimestampCheck,
    /// `2`: HMAC-SM3. A constant in the C and Java SDKs only; not in the public
    /// IoTDA table. Supported so the C SDK vector can be reproduced.
    Sm3,
}

impl SignType {
    /// The digit used in the client ID.
    pub fn digit(self) -> char {
        match self {
            Self::NoTimestampCheck => '0',
            Self::TimestampCheck => '1',
            Self::Sm3 => '2',
        }
    }

    /// Parses the client-ID digit.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "0" => Ok(Self::NoTimestampCheck),
            "1" => Ok(Self::TimestampCheck),
            "2" => Ok(Self::Sm3),
            other => Err(Error::Invalid {
                field: "sign_type",
                reason: format!("{other:?} is not one of 0, 1, 2"),
            }),
        }
    }
}

/// MQTT CONNECT credentials. `Debug` masks the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The MQTT client identifier.
    pub client_id: String,
    /// The MQTT username.
    pub username: String,
    /// The MQTT password (64 lowercase hex characters for every IoTDA mode here).
    pub password: Secret,
}

/// A device's own identity: device ID and device secret (一机一密).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSecretAuth {
    device_id: String,
    secret: Secret,
    sign_type: SignType,
}

impl DeviceSecretAuth {
    /// Checks the device ID (1..=128 of `[A-Za-z0-9_-]`) and that the secret is non-empty.
    pub fn new(device_id: &str, secret: Secret, sign_type: SignType) -> Result<Self> {
        check_ident("device_id", device_id, DEVICE_ID_MAX)?;
        crate::error::require_secret("device_secret", &secret)?;
        Ok(Self {
            device_id: device_id.to_owned(),
            secret,
            sign_type,
        })
    }

    /// The device ID.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The sign type.
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The device secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The CONNECT credentials for the hour `at`.
    pub fn credentials(&self, at: HourStamp) -> Credentials {
        let ts = at.to_string();
        Credentials {
            client_id: format!("{}_0_{}_{ts}", self.device_id, self.sign_type.digit()),
            username: self.device_id.clone(),
            password: password(self.sign_type, &ts, self.secret.expose()),
        }
    }
}

/// `lowercase_hex(HMAC(key = ts, msg = secret))`, SHA-256 or SM3 by `sign`.
pub fn password(sign: SignType, ts: &str, secret: &str) -> Secret {
    let mac = match sign {
        SignType::Sm3 => hmac_sm3(ts.as_bytes(), secret.as_bytes()),
        _ => hmac_sha256(ts.as_bytes(), secret.as_bytes()),
    };
    Secret::new(hex::encode(mac))
}

/// True when HMAC-SHA256(`key`, `msg`) contains a 0x00 byte: the case where
/// Huawei's C SDK (`EncryptWithHMac`, `strlen` on binary data) replaces the key
/// buffer with `strtol(key) + 1` and recomputes — the timestamp of a secret
/// login, or the *device ID* of a registration-group login.
pub fn hmac_has_zero_byte(key: &[u8], msg: &[u8]) -> bool {
    hmac_sha256(key, msg).contains(&0)
}

pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn hmac_sm3(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<sm3::Sm3> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The second client-ID field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdType {
    /// `0`: device ID login (the only value IoTDA v5 documents).
    DeviceId,
    /// `1`: legacy OceanConnect product-secret login (`hwprodid`), username = product ID.
    ProductSecret,
    /// `3`: bridge login (SDK code only).
    Bridge,
}

/// A client ID split into its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientId {
    /// Everything before the ID type: the device ID, or `{product_id}_{node_id}`
    /// for [`IdType::ProductSecret`].
    pub device_id: String,
    /// The ID type.
    pub id_type: IdType,
    /// The IoTDP registration group's scope ID, for group logins.
    pub scope_id: Option<String>,
    /// The sign type.
    pub sign_type: SignType,
    /// The hour.
    pub timestamp: HourStamp,
}

impl ClientId {
    /// Parses `{device_id}_{id_type}[_{scope_id}]_{sign}_{YYYYMMDDHH}` from the right,
    /// so device IDs may contain `_`. A single digit before the sign is the ID
    /// type; anything longer is a registration-group scope ID.
    pub fn parse(client_id: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Invalid {
            field: "client_id",
            reason: format!("{client_id:?}: {reason}"),
        };
        if client_id.chars().count() > CLIENT_ID_MAX {
            return Err(Error::TooLong {
                field: "client_id",
                len: client_id.chars().count(),
                max: CLIENT_ID_MAX,
            });
        }
        let mut parts = client_id.rsplitn(4, '_');
        let ts = parts.next().unwrap_or_default();
        let sign = parts
            .next()
            .ok_or_else(|| bad("expected 4 '_'-separated fields"))?;
        let third = parts
            .next()
            .ok_or_else(|| bad("expected 4 '_'-separated fields"))?;
        let rest = parts
            .next()
            .ok_or_else(|| bad("expected 4 '_'-separated fields"))?;
        let timestamp = HourStamp::parse(ts)?;
        let sign_type = SignType::parse(sign)?;
        let id_type_of = |t: &str| match t {
            "0" => Ok(IdType::DeviceId),
            "1" => Ok(IdType::ProductSecret),
            "3" => Ok(IdType::Bridge),
            _ => Err(bad("the ID type must be 0, 1 or 3")),
        };
        let (device_id, id_type, scope_id) = if third.len() == 1 {
            (rest.to_owned(), id_type_of(third)?, None)
        } else {
            let (device, id_type) = rest
                .rsplit_once('_')
                .ok_or_else(|| bad("a scope ID must follow '{device_id}_0_'"))?;
            if id_type != "0" {
                return Err(bad("a registration-group client ID has ID type 0"));
            }
            (device.to_owned(), IdType::DeviceId, Some(third.to_owned()))
        };
        check_ident("device_id", &device_id, CLIENT_ID_MAX)?;
        Ok(Self {
            device_id,
            id_type,
            scope_id,
            sign_type,
            timestamp,
        })
    }
}
