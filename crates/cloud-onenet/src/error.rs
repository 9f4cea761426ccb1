//! The crate's error type.
//!
//! Every variant names the field it is about and, where there is one, the
//! limit that was broken. No variant ever carries key material or a token's
//! signature: errors are meant to be logged.

use crate::codes::{AccessCode, ServiceCode};

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A product id, device name, identifier or message id broke its rule.
    #[error("{field}: {reason}")]
    InvalidName {
        /// Which input (`product_id`, `device_name`, `id`, …).
        field: &'static str,
        /// What is wrong, with the limit.
        reason: String,
    },
    /// The access key could not be used. The key itself is never included.
    #[error("access_key: {0}")]
    InvalidKey(String),
    /// The token expiry is not in the future.
    #[error(
        "et: expiry {et} is not after the current time {now} (Unix seconds); \
         OneNET rejects it with log code 1104 (token expired)"
    )]
    Expired {
        /// The requested expiry (Unix seconds).
        et: u64,
        /// The time it was checked against (Unix seconds).
        now: u64,
    },
    /// A configuration value is out of range.
    #[error("{field}: {reason}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// What is wrong, with the limit.
        reason: String,
    },
    /// A token presented for verification was refused, as the OneNET access
    /// layer would refuse it.
    #[error("token refused ({code}): {detail}")]
    Refused {
        /// The OneNET access-layer log code.
        code: AccessCode,
        /// Which part failed (no secrets).
        detail: String,
    },
    /// A OneJSON payload could not be parsed or has the wrong shape.
    #[error("payload on {context}: {reason}")]
    BadPayload {
        /// The message kind or topic being parsed.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// A topic is not one of OneNET's `$sys/{pid}/{dn}/…` topics for this device.
    #[error("topic `{topic}`: {reason}")]
    UnknownTopic {
        /// The topic as received.
        topic: String,
        /// Why it was not recognised.
        reason: String,
    },
    /// The platform answered a request with a code other than 200.
    #[error("OneNET replied to id {id} with code {code} ({meaning}){}", msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Platform {
        /// The request id the reply refers to.
        id: String,
        /// The numeric code from the reply.
        code: i64,
        /// What the code means, when the notes list it.
        meaning: ServiceCode,
        /// The platform's `msg`, when present.
        msg: Option<String>,
    },
    /// A value does not fit the thing model.
    #[error("{path}: {reason}")]
    Model {
        /// Where in the model or payload (`property BatteryLevel`, `event Error.teststru.json1`).
        path: String,
        /// What is wrong, with the limit.
        reason: String,
    },
    /// A thing-model export could not be loaded.
    #[error("thing-model export at {path}: {reason}")]
    BadModel {
        /// JSON path inside the export.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A feature this crate deliberately does not provide.
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
}

/// Shorthand for `Result<T, cloud_onenet::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
