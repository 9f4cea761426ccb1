//! `cloud-onenet`: China Mobile OneNET for `cellagent`.
//!
//! * [`token`] — the OneNET security token (`version=2018-10-31&res=…&et=…&method=…&sign=…`),
//!   generation and verification, with explicit time input.
//! * [`connect`] — device configuration and CONNECT parameters (client id = device name,
//!   username = product id, password = token), endpoints and the OneNET CA.
//! * [`topics`] — `$sys/{pid}/{dn}/thing/…` topics and classification of incoming ones.
//! * [`onejson`] — OneJSON request/reply payloads and id correlation.
//! * [`codes`] — OneNET access-layer and reply codes.
//! * [`model`] — OneNET thing-model export loader (into [`thing_model::ThingModel`]).
//! * [`module`] — the module-side `AT+QMTCFG="onenet"` mode.
//! * [`provision`] — what can be provisioned over MQTT alone.
//! * [`OneNet`] — the [`thing_model::Platform`] implementation.
//!
//! See `docs/clouds/onenet.md` for sources and open questions.
//!
//! ```
//! use cloud_onenet::{connect::DeviceConfig, token::AccessKey, OneNet};
//! use thing_model::Platform;
//! let key = AccessKey::from_base64("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=")?;
//! let onenet = OneNet::new(DeviceConfig::new("Aw9oB4n7zB", "dev-001", key)?)?;
//! let c = onenet.connect(1_700_000_000_000).unwrap();
//! assert_eq!((c.client_id.as_str(), c.username.as_str()), ("dev-001", "Aw9oB4n7zB"));
//! assert!(c.password.expose().starts_with("version=2018-10-31&res=products%2FAw9oB4n7zB%2Fdevices%2Fdev-001&et=1700086400&method=sha256&sign="));
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

#![warn(missing_docs)]

pub mod codes;
pub mod connect;
pub mod error;
pub mod model;
pub mod module;
pub mod names;
pub mod onejson;
mod platform;
pub mod provision;
pub mod token;
pub mod topics;

pub use error::{Error, Result};
pub use platform::OneNet;
