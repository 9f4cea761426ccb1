//! `[publish]`: how `run` uses the module's publish window, and batching.

use serde::Deserialize;

use super::ProfileError;

/// Most app lines in one batched publish (`publish.batch`).
pub const MAX_BATCH: usize = 100;

/// `[publish]` (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishSection {
    /// Publishes awaiting their `+QMTPUBEX` result at once, 1–5 (default 5, the module's
    /// window; 1 = stop-and-wait, one network round trip per message).
    #[serde(default = "default_window")]
    pub window: usize,
    /// Most app lines packed into one publish where the cloud has a batch message (property
    /// reports only), 1–100 (default 1 = off). Always within the module's 1500 bytes.
    #[serde(default = "default_batch")]
    pub batch: usize,
}

fn default_window() -> usize {
    quectel_mqtt::PUBLISH_WINDOW
}

fn default_batch() -> usize {
    1
}

impl Default for PublishSection {
    fn default() -> Self {
        PublishSection {
            window: default_window(),
            batch: default_batch(),
        }
    }
}

impl PublishSection {
    /// Checks the ranges; the error names the field and its limit.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if !(1..=quectel_mqtt::PUBLISH_WINDOW).contains(&self.window) {
            return Err(ProfileError::new(
                "publish.window",
                format!(
                    "{} is outside 1..={} (the module's publish window)",
                    self.window,
                    quectel_mqtt::PUBLISH_WINDOW
                ),
            ));
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(ProfileError::new(
                "publish.batch",
                format!("{} is outside 1..={MAX_BATCH}", self.batch),
            ));
        }
        Ok(())
    }
}
