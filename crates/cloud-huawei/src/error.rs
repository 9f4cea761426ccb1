//! The crate's error type. No variant ever carries a secret: fields that hold
//! secrets are reported by name only.

use thiserror::Error;

/// Everything that can go wrong in `cloud-huawei`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A required text field is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field, e.g. `device_id`.
        field: &'static str,
    },
    /// A text field is longer than its limit.
    #[error("{field} is {len} characters long; the limit is {max}")]
    TooLong {
        /// The field, e.g. `node_id`.
        field: &'static str,
        /// The length found.
        len: usize,
        /// The documented maximum.
        max: usize,
    },
    /// A text field holds a character outside its allowed set.
    #[error("{field} contains {found:?}; only {allowed} are allowed")]
    BadChar {
        /// The field.
        field: &'static str,
        /// The offending character (never taken from a secret field).
        found: char,
        /// A description of the allowed set.
        allowed: &'static str,
    },
    /// A field is malformed for a reason other than length or characters.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A JSON payload did not parse into the expected shape.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// What was being parsed, e.g. `command payload`.
        what: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A topic does not belong to this device or is not a known IoTDA topic.
    #[error("topic {topic:?}: {reason}")]
    Topic {
        /// The topic.
        topic: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The product model is inconsistent or malformed.
    #[error("product model: {path}: {reason}")]
    Model {
        /// Where in the model, e.g. `services[Temperature].properties[value].max`.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A value does not fit the product model.
    #[error("{path}: {reason}")]
    Value {
        /// Which value, e.g. `Temperature.value`.
        path: String,
        /// What is wrong, naming the limit.
        reason: String,
    },
    /// Reading a model file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Something the crate deliberately does not implement (yet).
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
}

/// Shorthand for `Result<T, cloud_huawei::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks an identifier: 1..=`max` characters of `[A-Za-z0-9_-]`.
pub(crate) fn check_ident(field: &'static str, value: &str, max: usize) -> Result<()> {
    check_text(field, value, max)?;
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(Error::BadChar {
            field,
            found,
            allowed: "ASCII letters, digits, '_' and '-'",
        });
    }
    Ok(())
}

/// Checks that a non-secret text field is non-empty and at most `max` characters.
pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() {
        return Err(Error::Empty { field });
    }
    let len = value.chars().count();
    if len > max {
        return Err(Error::TooLong { field, len, max });
    }
    Ok(())
}

/// Fails with [`Error::Empty`] naming `field` when the secret is empty.
pub(crate) fn require_secret(field: &'static str, secret: &crate::Secret) -> Result<()> {
    if secret.is_empty() {
        return Err(Error::Empty { field });
    }
    Ok(())
}
