//! Validation of product ids, device names and thing-model identifiers.
//!
//! OneNET allows device names made of `A-Z a-z 0-9 _ -`, 1 to 64 characters
//! ("仅支持英文、数字、'_'、'-'，长度1-64"). Product ids are 10-character
//! alphanumeric strings (Studio) or decimal numbers (the older MQTTS kit); the
//! same character set and length cap is applied to them. Other characters
//! would be percent-encoded differently by the official SDKs, so they are
//! refused here rather than guessed at.

use crate::error::{Error, Result};

/// Longest device name (and product id) accepted, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Longest thing-model identifier accepted, in bytes.
pub const MAX_IDENTIFIER_LEN: usize = 64;

fn check_charset(field: &'static str, value: &str, max: usize, extra: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::InvalidName {
            field,
            reason: format!("is empty; it must be 1 to {max} characters"),
        });
    }
    if value.len() > max {
        return Err(Error::InvalidName {
            field,
            reason: format!("is {} bytes long; the limit is {max}", value.len()),
        });
    }
    if let Some((pos, ch)) = value
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(c)))
    {
        return Err(Error::InvalidName {
            field,
            reason: format!(
                "character {ch:?} at byte {pos} is not allowed; allowed are A-Z a-z 0-9 _ -{extra}"
            ),
        });
    }
    Ok(())
}

/// Checks a product id (`[A-Za-z0-9_-]{1,64}`).
pub fn validate_product_id(pid: &str) -> Result<()> {
    check_charset("product_id", pid, MAX_NAME_LEN, "")
}

/// Checks a device name (`[A-Za-z0-9_-]{1,64}`).
pub fn validate_device_name(dn: &str) -> Result<()> {
    check_charset("device_name", dn, MAX_NAME_LEN, "")
}

/// Checks a thing-model identifier used inside a topic (service identifiers).
///
/// `$` is allowed because system identifiers start with it (`$SyncGetFile`);
/// MQTT wildcards and `/` are not.
pub fn validate_identifier(field: &'static str, id: &str) -> Result<()> {
    check_charset(field, id, MAX_IDENTIFIER_LEN, "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_documented_charset() {
        validate_product_id("Aw9oB4n7zB").unwrap();
        validate_device_name("dev-001_A").unwrap();
        validate_device_name(&"a".repeat(64)).unwrap();
        validate_identifier("service", "$SyncGetFile").unwrap();
    }

    #[test]
    fn refuses_forbidden_characters_naming_field_and_rule() {
        let err = validate_device_name("dev.001").unwrap_err().to_string();
        assert!(err.starts_with("device_name:"), "{err}");
        assert!(err.contains("'.'") && err.contains("byte 3"), "{err}");
        for bad in [
            "a b", "a/b", "a+b", "a#b", "a&b", "a=b", "a%b", "a?b", "设备",
        ] {
            assert!(validate_device_name(bad).is_err(), "{bad}");
            assert!(validate_product_id(bad).is_err(), "{bad}");
        }
        let err = validate_product_id("").unwrap_err().to_string();
        assert!(
            err.starts_with("product_id:") && err.contains("empty"),
            "{err}"
        );
        let err = validate_device_name(&"a".repeat(65))
            .unwrap_err()
            .to_string();
        assert!(err.contains("65 bytes") && err.contains("64"), "{err}");
        assert!(validate_identifier("service", "a/#").is_err());
    }
}
