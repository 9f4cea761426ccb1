//! `[recovery]`: how `run` decides a link is dead and what it tries when reconnecting does
//! not help (see `docs/operations.md`).

use std::time::Duration;

use serde::Deserialize;

use super::{AgentSection, ProfileError};
use crate::supervisor::SupervisorConfig;

/// `[recovery]` (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySection {
    /// With the link up and nothing heard from the module for this long, probe the broker
    /// (re-subscribe to the first subscription); no answer = a dead link. 0 = twice the
    /// keepalive (default).
    #[serde(default)]
    pub liveness_s: u64,
    /// The hold-off after a repeated login refusal (bad credentials, disabled device),
    /// seconds (default 600).
    #[serde(default = "default_refused_retry")]
    pub refused_retry_s: u64,
    /// Links that drop within this many seconds of a good CONNACK count as short sessions
    /// (default 15); `kick_count` of them in a row raise a duplicate-client-id alarm.
    #[serde(default = "default_kick_window")]
    pub kick_window_s: u64,
    /// See `kick_window_s` (default 3).
    #[serde(default = "default_kick_count")]
    pub kick_count: u32,
    /// A link up this long resets the backoff and the ladder (default 60).
    #[serde(default = "default_stable_after")]
    pub stable_after_s: u64,
    /// Consecutive failures before a PDP context reset (`AT+CGACT`), 0 = never (default 3).
    #[serde(default = "default_pdp_after")]
    pub pdp_after: u32,
    /// … before a radio reset (`AT+CFUN=0`/`1`), 0 = never (default 5).
    #[serde(default = "default_radio_after")]
    pub radio_after: u32,
    /// … before a module reset (`AT+CFUN=1,1`), 0 = never (default 7).
    #[serde(default = "default_module_after")]
    pub module_after: u32,
    /// … before running `power_cycle_command` (default 9).
    #[serde(default = "default_power_cycle_after")]
    pub power_cycle_after: u32,
    /// A program and its arguments that power-cycle the module (a GPIO script, say); run
    /// without a shell. Unset: the ladder stops at the module reset.
    #[serde(default)]
    pub power_cycle_command: Option<Vec<String>>,
    /// How long the power-cycle command may run, and then how long the module may take to
    /// answer `AT` again, seconds each (default 60).
    #[serde(default = "default_power_cycle_wait")]
    pub power_cycle_wait_s: u64,
    /// Consecutive "AT channel dead" failures before the watchdog power-cycles (or, without
    /// a command, resets) the module (default 2).
    #[serde(default = "default_watchdog_after")]
    pub watchdog_after: u32,
    /// The PDP context `AT+CGACT` resets, 1–15 (default 1).
    #[serde(default = "default_pdp_context")]
    pub pdp_context: u8,
}

fn default_refused_retry() -> u64 {
    600
}
fn default_kick_window() -> u64 {
    15
}
fn default_kick_count() -> u32 {
    3
}
fn default_stable_after() -> u64 {
    60
}
fn default_pdp_after() -> u32 {
    3
}
fn default_radio_after() -> u32 {
    5
}
fn default_module_after() -> u32 {
    7
}
fn default_power_cycle_after() -> u32 {
    9
}
fn default_power_cycle_wait() -> u64 {
    60
}
fn default_watchdog_after() -> u32 {
    2
}
fn default_pdp_context() -> u8 {
    1
}

impl Default for RecoverySection {
    fn default() -> Self {
        RecoverySection {
            liveness_s: 0,
            refused_retry_s: default_refused_retry(),
            kick_window_s: default_kick_window(),
            kick_count: default_kick_count(),
            stable_after_s: default_stable_after(),
            pdp_after: default_pdp_after(),
            radio_after: default_radio_after(),
            module_after: default_module_after(),
            power_cycle_after: default_power_cycle_after(),
            power_cycle_command: None,
            power_cycle_wait_s: default_power_cycle_wait(),
            watchdog_after: default_watchdog_after(),
            pdp_context: default_pdp_context(),
        }
    }
}

impl RecoverySection {
    /// Checks the ranges; the error names the field and its limit.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let range = |field: &str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ProfileError::new(
                    format!("recovery.{field}"),
                    format!("{value} is outside {min}..={max}"),
                ))
            }
        };
        range("refused_retry_s", self.refused_retry_s, 1, 86_400)?;
        range("kick_window_s", self.kick_window_s, 1, 3_600)?;
        range("kick_count", u64::from(self.kick_count), 1, 100)?;
        range("stable_after_s", self.stable_after_s, 1, 86_400)?;
        range("power_cycle_wait_s", self.power_cycle_wait_s, 1, 3_600)?;
        range("watchdog_after", u64::from(self.watchdog_after), 1, 100)?;
        range("pdp_context", u64::from(self.pdp_context), 1, 15)?;
        if self.liveness_s != 0 {
            range("liveness_s", self.liveness_s, 2, 86_400)?;
        }
        if let Some(cmd) = &self.power_cycle_command {
            if cmd.first().is_none_or(|p| p.trim().is_empty()) {
                return Err(ProfileError::new(
                    "recovery.power_cycle_command",
                    "is empty; give the program and its arguments, e.g. [\"/usr/local/bin/modem-power\", \"cycle\"]",
                ));
            }
        }
        Ok(())
    }

    /// The liveness window given the MQTT keepalive.
    pub fn liveness(&self, keepalive_s: u16) -> Duration {
        if self.liveness_s == 0 {
            Duration::from_secs(u64::from(keepalive_s) * 2)
        } else {
            Duration::from_secs(self.liveness_s)
        }
    }

    /// The supervisor's settings.
    pub fn supervisor(&self, agent: &AgentSection) -> SupervisorConfig {
        SupervisorConfig {
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(agent.backoff_max_s.max(1)),
            refused_retry: Duration::from_secs(self.refused_retry_s),
            kick_window: Duration::from_secs(self.kick_window_s),
            kick_count: self.kick_count,
            stable_after: Duration::from_secs(self.stable_after_s),
            pdp_after: self.pdp_after,
            radio_after: self.radio_after,
            module_after: self.module_after,
            power_cycle_after: self.power_cycle_after,
            can_power_cycle: self.power_cycle_command.is_some(),
            watchdog_after: self.watchdog_after,
        }
    }
}
