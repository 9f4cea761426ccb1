//! Module-side derivation of MQTT credentials from `aliauth` / `onenet` / `hwauth` /
//! `hwprodid` / `CTWing`, as the firmware would compute them at `AT+QMTCONN`.
//!
//! The firmware's formulas are undocumented. Each kind is one entry of a [`Derivers`] table
//! of plain functions (the built-in ones, in [`crate::derive`], call the cloud crates); an
//! entry that is `None` means "not implemented": `AT+QMTCONN` with that credential kind
//! answers `ERROR` and logs why. Nothing is ever faked.

use crate::cfg::CloudAuth;
use thiserror::Error;

/// The MQTT credentials sent in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Client identifier.
    pub client_id: String,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
}

/// What the derivation is given besides the configured credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveInput<'a> {
    /// The configured credentials.
    pub auth: &'a CloudAuth,
    /// The `<clientid>` argument of `AT+QMTCONN`.
    pub client_id: &'a str,
    /// `<username>` of `AT+QMTCONN`, if given.
    pub username: Option<&'a str>,
    /// `<password>` of `AT+QMTCONN`, if given.
    pub password: Option<&'a str>,
    /// True when the link is TLS (Aliyun's `securemode` depends on it).
    pub tls: bool,
    /// The module clock, milliseconds since the Unix epoch.
    pub now_unix_ms: i64,
}

/// Why credentials could not be derived.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeriveError {
    /// No signing function is wired in for this kind yet.
    #[error("credential derivation for QMTCFG \"{0}\" is not implemented yet")]
    NotImplemented(&'static str),
    /// The signing function refused the input.
    #[error("credential derivation for QMTCFG \"{0}\" failed: {1}")]
    Failed(&'static str, String),
}

/// A derivation function for one credential kind.
pub type DeriveFn = fn(&DeriveInput<'_>) -> Result<Credentials, DeriveError>;

/// The table of derivation functions, one per credential kind.
#[derive(Debug, Clone, Copy)]
pub struct Derivers {
    /// `"aliauth"`.
    pub aliyun: Option<DeriveFn>,
    /// `"onenet"`.
    pub onenet: Option<DeriveFn>,
    /// `"hwauth"`.
    pub huawei_device: Option<DeriveFn>,
    /// `"hwprodid"`.
    pub huawei_product: Option<DeriveFn>,
    /// `"CTWing"`.
    pub ctwing: Option<DeriveFn>,
}

impl Default for Derivers {
    /// The built-in table: the cloud crates' signing functions (see [`crate::derive`]);
    /// `CTWing` has none yet.
    fn default() -> Self {
        Derivers {
            aliyun: Some(crate::derive::aliyun),
            onenet: Some(crate::derive::onenet),
            huawei_device: Some(crate::derive::huawei_device),
            huawei_product: Some(crate::derive::huawei_product),
            ctwing: None,
        }
    }
}

impl Derivers {
    /// Derives the credentials for `input.auth`, or says why not.
    pub fn derive(&self, input: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
        let f = match input.auth {
            CloudAuth::Aliyun { .. } => self.aliyun,
            CloudAuth::OneNet { .. } => self.onenet,
            CloudAuth::HuaweiDevice { .. } => self.huawei_device,
            CloudAuth::HuaweiProduct { .. } => self.huawei_product,
            CloudAuth::CtWing { .. } => self.ctwing,
        };
        match f {
            Some(f) => f(input),
            None => Err(DeriveError::NotImplemented(input.auth.option())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_entries_are_reported_not_faked() {
        let auth = CloudAuth::OneNet {
            product_id: "p".into(),
            access_key: "k".into(),
        };
        let input = DeriveInput {
            auth: &auth,
            client_id: "dev",
            username: None,
            password: None,
            tls: false,
            now_unix_ms: 0,
        };
        let d = Derivers {
            onenet: None,
            ..Derivers::default()
        };
        assert_eq!(d.derive(&input), Err(DeriveError::NotImplemented("onenet")));
        fn fixed(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
            Ok(Credentials {
                client_id: i.client_id.to_uppercase(),
                username: Some("u".into()),
                password: None,
            })
        }
        let d = Derivers {
            onenet: Some(fixed),
            ..Derivers::default()
        };
        assert_eq!(d.derive(&input).unwrap().client_id, "DEV");
    }
}
