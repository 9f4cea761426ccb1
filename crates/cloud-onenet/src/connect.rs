//! Device configuration and MQTT CONNECT parameters.
//!
//! client id = device name, username = product id, password = token
//! (MQTT 3.1.1, clean session, no will). Host, port, TLS and CA are
//! configuration; the defaults are the ones in `shared/clouds/onenet.md` §1.
//!
//! ```
//! use cloud_onenet::connect::DeviceConfig;
//! use cloud_onenet::token::AccessKey;
//! let key = AccessKey::from_base64("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=")?;
//! let cfg = DeviceConfig::new("Aw9oB4n7zB", "dev-001", key)?;
//! let params = cfg.connect_params(1_700_000_000)?;
//! assert_eq!(params.client_id, "dev-001");
//! assert_eq!(params.username, "Aw9oB4n7zB");
//! assert_eq!((params.host.as_str(), params.port), ("mqtts.heclouds.com", 1883));
//! assert!(!format!("{params:?}").contains("sign="), "Debug hides the password");
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use std::fmt;

use crate::error::{Error, Result};
use crate::names::{validate_device_name, validate_product_id};
use crate::token::{AccessKey, Expiry, Resource, SignMethod, Token, TokenSpec, TokenVersion};

/// Plain MQTT host (MQTTS kit and the current platform, per the notes).
pub const DEFAULT_HOST: &str = "mqtts.heclouds.com";
/// Plain MQTT port.
pub const DEFAULT_PORT: u16 = 1883;
/// TLS host of the MQTTS kit (the current platform's TLS host is unconfirmed).
pub const DEFAULT_TLS_HOST: &str = "mqttstls.heclouds.com";
/// TLS port.
pub const DEFAULT_TLS_PORT: u16 = 8883;
/// The self-signed CA embedded in OneNET's official SDKs
/// (`C=CN, O=CMIOT, CN=OneNET MQTTS`, 2019-05-29 → 2049-05-21).
/// The official Java SDK does not verify the server host name.
pub const CA_PEM: &str = include_str!("../certs/onenet-mqtts-ca.pem");
/// Keep-alive range OneNET accepts, seconds.
pub const KEEPALIVE_RANGE: std::ops::RangeInclusive<u16> = 10..=1800;
/// Default token lifetime: one day from each CONNECT.
pub const DEFAULT_LIFETIME_SECS: u64 = 86_400;

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Use TLS (with [`Endpoint::ca_pem`] as trust anchor).
    pub tls: bool,
    /// CA certificate in PEM for TLS; [`CA_PEM`] by default.
    pub ca_pem: Option<String>,
}

impl Endpoint {
    /// `mqtts.heclouds.com:1883`, no TLS.
    pub fn plain() -> Self {
        Self {
            host: DEFAULT_HOST.into(),
            port: DEFAULT_PORT,
            tls: false,
            ca_pem: None,
        }
    }

    /// `mqttstls.heclouds.com:8883`, TLS with OneNET's CA.
    pub fn tls() -> Self {
        Self {
            host: DEFAULT_TLS_HOST.into(),
            port: DEFAULT_TLS_PORT,
            tls: true,
            ca_pem: Some(CA_PEM.into()),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.host.is_empty() || self.host.len() > 100 {
            return Err(Error::InvalidConfig {
                field: "host",
                reason: format!(
                    "is {} bytes; it must be 1 to 100 (Quectel QMTOPEN limit)",
                    self.host.len()
                ),
            });
        }
        if self.port == 0 {
            return Err(Error::InvalidConfig {
                field: "port",
                reason: "is 0; it must be 1 to 65535".into(),
            });
        }
        Ok(())
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::plain()
    }
}

/// Which key the device holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyScope {
    /// The device's own key.
    #[default]
    Device,
    /// The product access key (one key burnt into every device of a product).
    Product,
}

/// Which `res` the login token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthLevel {
    /// `products/{pid}/devices/{dn}`: the documented device login; works with
    /// a device key or the product access key.
    #[default]
    Device,
    /// `products/{pid}`: product-level ("一型一密") login as LuatOS does it;
    /// needs the product key. Unconfirmed by an official document.
    Product,
}

/// Everything a device needs to log in.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// Product id (MQTT username).
    pub product_id: String,
    /// Device name (MQTT client id).
    pub device_name: String,
    /// The access key (`Debug` redacts it).
    pub access_key: AccessKey,
    /// Whose key [`Self::access_key`] is.
    pub key_scope: KeyScope,
    /// Which `res` to sign.
    pub auth_level: AuthLevel,
    /// HMAC.
    pub method: SignMethod,
    /// Token expiry (absolute or a lifetime from each CONNECT).
    pub expiry: Expiry,
    /// Where to connect.
    pub endpoint: Endpoint,
    /// MQTT keep-alive, seconds (10 to 1800).
    pub keepalive_secs: u16,
}

impl DeviceConfig {
    /// A device-key configuration with the defaults: sha256, one-day
    /// lifetime, plain endpoint, 120 s keep-alive.
    pub fn new(product_id: &str, device_name: &str, access_key: AccessKey) -> Result<Self> {
        validate_product_id(product_id)?;
        validate_device_name(device_name)?;
        Ok(Self {
            product_id: product_id.into(),
            device_name: device_name.into(),
            access_key,
            key_scope: KeyScope::Device,
            auth_level: AuthLevel::Device,
            method: SignMethod::Sha256,
            expiry: Expiry::Lifetime(DEFAULT_LIFETIME_SECS),
            endpoint: Endpoint::plain(),
            keepalive_secs: 120,
        })
    }

    /// Checks every field against its limit.
    pub fn validate(&self) -> Result<()> {
        validate_product_id(&self.product_id)?;
        validate_device_name(&self.device_name)?;
        self.endpoint.validate()?;
        if !KEEPALIVE_RANGE.contains(&self.keepalive_secs) {
            return Err(Error::InvalidConfig {
                field: "keepalive_secs",
                reason: format!(
                    "{} is outside OneNET's {}..={} seconds",
                    self.keepalive_secs,
                    KEEPALIVE_RANGE.start(),
                    KEEPALIVE_RANGE.end()
                ),
            });
        }
        if self.auth_level == AuthLevel::Product && self.key_scope != KeyScope::Product {
            return Err(Error::InvalidConfig {
                field: "auth_level",
                reason: "product-level login (res=products/{pid}) needs the product access key, \
                         but key_scope is Device"
                    .into(),
            });
        }
        Ok(())
    }

    /// The `res` the login token names.
    pub fn resource(&self) -> Result<Resource> {
        match self.auth_level {
            AuthLevel::Device => Resource::device(&self.product_id, &self.device_name),
            AuthLevel::Product => Resource::product(&self.product_id),
        }
    }

    /// The login token for a CONNECT at `now` (Unix seconds).
    pub fn token(&self, now: u64) -> Result<Token> {
        self.validate()?;
        let spec = TokenSpec::new(
            TokenVersion::V2018_10_31,
            self.resource()?,
            self.method,
            self.expiry,
            now,
        )?;
        Ok(spec.sign(&self.access_key))
    }

    /// CONNECT parameters for a connection made at `now` (Unix seconds).
    pub fn connect_params(&self, now: u64) -> Result<ConnectParams> {
        let token = self.token(now)?;
        Ok(ConnectParams {
            client_id: self.device_name.clone(),
            username: self.product_id.clone(),
            expires_at: token.spec().et,
            password: token,
            host: self.endpoint.host.clone(),
            port: self.endpoint.port,
            tls: self.endpoint.tls,
            keepalive_secs: self.keepalive_secs,
        })
    }
}

/// One CONNECT's parameters. `Debug` shows everything but the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    /// Client identifier = device name.
    pub client_id: String,
    /// User name = product id.
    pub username: String,
    /// Password = token (secret).
    pub password: Token,
    /// When the token expires (Unix seconds); reconnect with a fresh token before.
    pub expires_at: u64,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS.
    pub tls: bool,
    /// Keep-alive, seconds.
    pub keepalive_secs: u16,
}

impl fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("keepalive_secs", &self.keepalive_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AccessKey {
        AccessKey::from_bytes(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    #[test]
    fn lifetime_is_counted_from_each_connect() {
        let cfg = DeviceConfig::new("pid1", "dev1", key()).unwrap();
        assert_eq!(
            cfg.connect_params(1000).unwrap().expires_at,
            1000 + DEFAULT_LIFETIME_SECS
        );
        assert_eq!(
            cfg.connect_params(5000).unwrap().expires_at,
            5000 + DEFAULT_LIFETIME_SECS
        );
    }

    #[test]
    fn past_absolute_expiry_is_refused() {
        let mut cfg = DeviceConfig::new("pid1", "dev1", key()).unwrap();
        cfg.expiry = Expiry::At(999);
        let err = cfg.connect_params(1000).unwrap_err();
        assert_eq!(err, Error::Expired { et: 999, now: 1000 });
        assert!(err.to_string().contains("1104"));
    }

    #[test]
    fn keepalive_and_auth_level_limits() {
        let mut cfg = DeviceConfig::new("pid1", "dev1", key()).unwrap();
        cfg.keepalive_secs = 5;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("keepalive_secs:") && err.contains("10..=1800"),
            "{err}"
        );
        cfg.keepalive_secs = 60;
        cfg.auth_level = AuthLevel::Product;
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("auth_level:"));
        cfg.key_scope = KeyScope::Product;
        let p = cfg.connect_params(10).unwrap();
        assert_eq!(p.password.spec().res, Resource::product("pid1").unwrap());
    }

    #[test]
    fn debug_never_shows_key_or_token() {
        let cfg = DeviceConfig::new("pid1", "dev1", key()).unwrap();
        let p = cfg.connect_params(10).unwrap();
        let sign = p.password.expose_sign().to_owned();
        for dbg in [
            format!("{cfg:?}"),
            format!("{p:?}"),
            format!("{:?}", p.password),
        ] {
            assert!(!dbg.contains(&sign), "{dbg}");
            assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
            assert!(!dbg.contains(&cfg.access_key.to_base64()), "{dbg}");
        }
    }

    #[test]
    fn tls_endpoint_carries_the_onenet_ca() {
        let e = Endpoint::tls();
        assert_eq!((e.port, e.tls), (DEFAULT_TLS_PORT, true));
        assert!(e.ca_pem.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
