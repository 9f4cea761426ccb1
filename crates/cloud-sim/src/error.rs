//! The crate's error type. No variant carries a secret.

use crate::registry::RegistryError;

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The registry cannot be loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An I/O operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// No such device in the registry.
    #[error("unknown device `{0}` (use product/name, or the Huawei device id)")]
    UnknownDevice(String),
    /// A downlink that cannot be sent as given.
    #[error("downlink: {0}")]
    Downlink(String),
    /// The broker cannot be reached or started.
    #[error("broker {addr}: {reason}")]
    Broker {
        /// Address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The control socket protocol failed.
    #[error("control: {0}")]
    Control(String),
    /// Not implemented by the simulator.
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

impl SimError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        SimError::Io {
            what: what.into(),
            source,
        }
    }
}
