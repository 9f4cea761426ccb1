//! Module-side authentication: `AT+QMTCFG="onenet",<idx>,"<product id>","<access key>"`,
//! then `AT+QMTCONN=<idx>,"<device name>"`.
//!
//! No Quectel or OneNET document describes how the module builds the password
//! from these (which `res`, `method`, `et`, whether it ever renews it). One
//! community note asserts device-level `res`, `method=sha1` and
//! `et=2524579200` (2050-01-01), the values hard-coded in OneNET's official C
//! SDK; that is plausible but **unverified**. Prefer the host-computed token
//! ([`crate::connect::DeviceConfig::connect_params`]) passed as
//! `AT+QMTCONN=<idx>,"<dn>","<pid>","<token>"`; this mode exists for modules
//! whose firmware is set up for it.
//!
//! ```
//! use cloud_onenet::{module, token::AccessKey};
//! let key = AccessKey::from_base64("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=")?;
//! let cfg = module::qmtcfg_onenet(0, "Aw9oB4n7zB", &key)?;
//! assert_eq!(format!("{cfg:?}"), "Secret(***)");
//! assert!(cfg.expose().starts_with(r#"AT+QMTCFG="onenet",0,"Aw9oB4n7zB","#));
//! assert_eq!(module::qmtconn(0, "dev-001")?, r#"AT+QMTCONN=0,"dev-001""#);
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use thing_model::Secret;

use crate::error::{Error, Result};
use crate::names::{validate_device_name, validate_product_id};
use crate::token::AccessKey;

/// Highest MQTT client index of a Quectel module.
pub const MAX_CLIENT_IDX: u8 = 5;

fn check_idx(client_idx: u8) -> Result<()> {
    if client_idx > MAX_CLIENT_IDX {
        return Err(Error::InvalidConfig {
            field: "client_idx",
            reason: format!("{client_idx} is above {MAX_CLIENT_IDX}"),
        });
    }
    Ok(())
}

/// `AT+QMTCFG="onenet",<idx>,"<pid>","<key>"`. The command holds the access
/// key, so it comes back as a [`Secret`] (masked in `Debug`).
pub fn qmtcfg_onenet(client_idx: u8, product_id: &str, access_key: &AccessKey) -> Result<Secret> {
    check_idx(client_idx)?;
    validate_product_id(product_id)?;
    Ok(Secret::new(format!(
        "AT+QMTCFG=\"onenet\",{client_idx},\"{product_id}\",\"{}\"",
        access_key.to_base64()
    )))
}

/// `AT+QMTCONN=<idx>,"<device name>"`: the module supplies username and password.
pub fn qmtconn(client_idx: u8, device_name: &str) -> Result<String> {
    check_idx(client_idx)?;
    validate_device_name(device_name)?;
    Ok(format!("AT+QMTCONN={client_idx},\"{device_name}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_index_and_names() {
        let key = AccessKey::from_bytes(vec![1; 32]).unwrap();
        let err = qmtcfg_onenet(6, "p", &key).unwrap_err().to_string();
        assert!(err.starts_with("client_idx:") && err.contains('5'), "{err}");
        assert!(
            qmtcfg_onenet(0, "p\"x", &key).is_err(),
            "quotes would break the AT line"
        );
        assert!(qmtconn(0, "d,1").is_err());
        assert!(qmtcfg_onenet(5, "p", &key)
            .unwrap()
            .expose()
            .ends_with(&format!("\"{}\"", key.to_base64())));
    }
}
