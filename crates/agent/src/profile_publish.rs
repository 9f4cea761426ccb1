//! `[publish]`: how `run` uses the module's publish window, batching, and the per-device
//! publish rate the cloud allows.

use serde::Deserialize;

use super::{CloudKind, ProfileError};

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
    /// Most publishes started per second, smoothing a backlog drained after an outage
    /// (0 = unlimited; at most [`MAX_RATE`]). Default: the cloud's per-device uplink limit,
    /// [`default_rate`].
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    /// Publishes that may go at once after an idle spell, 1–[`MAX_BURST`] (default: one
    /// second's worth of `rate_per_s`, at least 1).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// Highest `publish.rate_per_s` (the module cannot publish nearly this fast anyway).
pub const MAX_RATE: f64 = 1000.0;
/// Highest `publish.burst`.
pub const MAX_BURST: u32 = 1000;

/// Each cloud's per-device uplink limit, in publishes per second: OneNET Studio 1 (its MQTT
/// limits page: excess is delayed), Huawei IoTDA 50 per connection. For Aliyun the limit is
/// not in our sources (`shared/clouds/aliyun.md` only names the `429` throttled reply);
/// 30/s is the figure usually quoted for its per-device message throttling, unverified.
pub fn default_rate(cloud: CloudKind) -> f64 {
    match cloud {
        CloudKind::Onenet => 1.0,
        CloudKind::Huawei => 50.0,
        CloudKind::Aliyun => 30.0,
    }
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
            rate_per_s: None,
            burst: None,
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
        if let Some(rate) = self.rate_per_s {
            if !(0.0..=MAX_RATE).contains(&rate) {
                return Err(ProfileError::new(
                    "publish.rate_per_s",
                    format!("{rate} is outside 0..={MAX_RATE} (0 = unlimited)"),
                ));
            }
        }
        if let Some(burst) = self.burst {
            if !(1..=MAX_BURST).contains(&burst) {
                return Err(ProfileError::new(
                    "publish.burst",
                    format!("{burst} is outside 1..={MAX_BURST}"),
                ));
            }
        }
        Ok(())
    }

    /// The publish rate and burst in force for `cloud`: `(publishes per second, burst)`,
    /// rate 0 = unlimited.
    pub fn rate(&self, cloud: CloudKind) -> (f64, u32) {
        let rate = self.rate_per_s.unwrap_or_else(|| default_rate(cloud));
        let burst = self
            .burst
            .unwrap_or((rate.ceil() as u32).clamp(1, MAX_BURST));
        (rate, burst)
    }
}
