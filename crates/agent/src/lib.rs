//! `agent`: the `cellagent` binary's library — profiles, the bring-up script, the store,
//! the bridge between the app's JSON Lines and the cloud, and the run loop.
//!
//! * [`profile`]: the TOML profile (figment, `CELLAGENT_…` overrides, `…_file` secrets).
//! * [`cloud`]: builds the cloud's [`thing_model::Platform`] from a profile.
//! * [`script`]: the AT command script as data (`check` prints it, `run` executes it).
//! * [`tls`]: the `[tls]` section and the certificate upload / `AT+QSSLCFG` steps.
//! * [`store`]: the redb store-and-forward queue (bounded; refuses when full).
//! * [`bridge`]: app lines ⇄ publishes/downlinks, reply correlation (pure).
//! * [`backoff`]: exponential backoff with jitter (pure).
//! * [`supervisor`]: causes, backoff, the recovery ladder and counters (pure).
//! * [`recovery`]: the ladder's steps (PDP, radio, module reset, power cycle).
//! * [`rate`]: the token bucket behind `publish.rate_per_s` (pure).
//! * [`perms`]: the warning about secret files other users can read.
//! * [`commands`]: `sign`, `check`, `encode`, `decode`.
//! * [`clock`]: the trustworthy time for signing (host, network or cloud clock) and its skew.
//! * [`doctor`]: `cellagent doctor`, the field engineer's probe sequence.
//! * [`run`]: the `run` supervisor (tokio); its publish window and batching in `publish`.
//! * [`provision`]: console CSV → one profile per device.
//! * [`register`]: registration through the module, issued secret written to the profile.
//!
//! See `docs/agent.md`.

#![warn(missing_docs)]

pub mod backoff;
pub mod bridge;
#[cfg(feature = "demo")]
pub mod chain;
pub mod clock;
pub mod cloud;
pub mod commands;
pub mod data_mode;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
#[cfg(feature = "demo")]
pub mod line_tap;
pub mod link;
pub mod perms;
pub mod profile;
pub mod provision;
pub mod rate;
pub mod recovery;
pub mod register;
pub mod run;
pub mod script;
pub mod store;
pub mod supervisor;
pub mod tls;

/// A failure of a subcommand, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A bad profile or bad usage: exit code 2.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// Bad usage: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// A runtime failure: exit code 1.
    #[error("{0}")]
    Runtime(String),
}

impl AgentError {
    /// The process exit code: 2 for profile / usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            AgentError::Profile(_) | AgentError::Usage(_) => 2,
            AgentError::Runtime(_) => 1,
        }
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
