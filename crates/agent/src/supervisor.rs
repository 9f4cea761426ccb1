//! The connection supervisor's decisions, as a pure state machine (no I/O, no clock: the
//! caller passes `Instant`s and a random unit for jitter).
//!
//! `run` reports what happened to the link — a connect attempt failed, an established link
//! was lost, the link came up — and the supervisor answers with what to do next: how long to
//! wait, which recovery step (if any) to take first, and whether to raise an alarm. It keeps
//! the counters the app sees in its `status` lines.
//!
//! Causes are classified. Transient ones (a dropped link, a failed ping, a module that
//! restarted, an open that failed) are retried with jittered exponential backoff, forever,
//! and climb the recovery ladder when retrying does not help. Refusals for credentials
//! (CONNACK 4 "bad user name or password", 5 "not authorized", also 1 and 2) are
//! fatal-for-now: after one quick retry (with time taken afresh, for clock-bound tokens) the
//! supervisor holds off for `refused_retry_s` and raises an alarm instead of hammering the
//! cloud. A link that keeps dropping within seconds of each good CONNACK is reported as a
//! duplicate-client-id kick.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;

/// Why a link went down or a connect attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The broker refused the login: CONNACK / `+QMTCONN` ret_code 1–5.
    Refused(i32),
    /// `+QMTOPEN` result ≠ 0 (the guide's -1…5: network, parameters, index in use, PDP, DNS).
    OpenFailed(i32),
    /// `+QMTSTAT: <idx>,<code>`: the module reports the link closed.
    Dropped(i32),
    /// `+QMTPING`: the keep-alive ping failed.
    PingFailed,
    /// Nothing came back within the liveness window (a link dead without any URC).
    Silent,
    /// `RDY`: the module restarted.
    ModuleRestarted,
    /// The AT channel stopped answering (a probe, or `AT` itself, went unanswered).
    AtChannelDead,
    /// The serial port closed or could not be opened.
    Port,
    /// A publish failed (no `+QMTPUBEX` result, or result 2).
    PublishFailed,
    /// Anything else during bring-up (SIM, registration, a command's ERROR).
    BringUp,
}

impl Cause {
    /// The counter name.
    pub fn name(&self) -> &'static str {
        match self {
            Cause::Refused(_) => "refused",
            Cause::OpenFailed(_) => "open_failed",
            Cause::Dropped(_) => "dropped",
            Cause::PingFailed => "ping_failed",
            Cause::Silent => "silent",
            Cause::ModuleRestarted => "module_restarted",
            Cause::AtChannelDead => "at_channel_dead",
            Cause::Port => "port",
            Cause::PublishFailed => "publish_failed",
            Cause::BringUp => "bring_up",
        }
    }

    /// The cause of a failed command (`at_step`: the command was the bring-up's `AT`).
    pub fn of_error(e: &quectel_mqtt::Error, at_step: bool) -> Cause {
        use quectel_mqtt::Error as E;
        match e {
            E::Open(result) => Cause::OpenFailed(result.code()),
            E::Connect {
                ret_code: Some(rc), ..
            } if rc.code() != 0 => Cause::Refused(rc.code()),
            E::LinkDown { code, .. } => Cause::Dropped(code.code()),
            E::Restarted { .. } => Cause::ModuleRestarted,
            E::Unresponsive { .. } => Cause::AtChannelDead,
            E::Timeout { .. } if at_step => Cause::AtChannelDead,
            E::PortClosed(_) => Cause::Port,
            _ => Cause::BringUp,
        }
    }

    /// Credentials or authorisation: retrying soon cannot help.
    pub fn is_fatal_for_now(&self) -> bool {
        matches!(self, Cause::Refused(1 | 2 | 4 | 5))
    }

    /// A loss of an established link that a kick by another login looks like.
    fn is_drop(&self) -> bool {
        matches!(
            self,
            Cause::Dropped(_) | Cause::PingFailed | Cause::Silent | Cause::PublishFailed
        )
    }
}

/// A recovery step, in the order the ladder climbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rung {
    /// `AT+CGACT=0` / `=1` on the profile's context.
    PdpReset,
    /// `AT+CFUN=0` then `AT+CFUN=1`.
    RadioReset,
    /// `AT+CFUN=1,1`, then wait for `RDY`.
    ModuleReset,
    /// The profile's `recovery.power_cycle_command`, then wait for the module.
    PowerCycle,
}

impl Rung {
    /// The counter name.
    pub fn name(self) -> &'static str {
        match self {
            Rung::PdpReset => "pdp_reset",
            Rung::RadioReset => "radio_reset",
            Rung::ModuleReset => "module_reset",
            Rung::PowerCycle => "power_cycle",
        }
    }
}

impl fmt::Display for Rung {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The supervisor's settings (from the profile's `[agent]` and `[recovery]`).
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff for transient causes.
    pub backoff_max: Duration,
    /// The hold-off after a repeated refusal (bad credentials, disabled device).
    pub refused_retry: Duration,
    /// A link that lasts less than this after a good CONNACK counts as a short session.
    pub kick_window: Duration,
    /// Short sessions in a row that mean "duplicate client id".
    pub kick_count: u32,
    /// A link that lasted this long resets the backoff and the ladder.
    pub stable_after: Duration,
    /// Consecutive failures before each rung (0 disables the rung).
    pub pdp_after: u32,
    /// See `pdp_after`.
    pub radio_after: u32,
    /// See `pdp_after`.
    pub module_after: u32,
    /// See `pdp_after`; only when a power-cycle command is configured.
    pub power_cycle_after: u32,
    /// Whether a power-cycle command is configured.
    pub can_power_cycle: bool,
    /// Consecutive "AT channel dead" failures before the watchdog power-cycles (or resets).
    pub watchdog_after: u32,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            refused_retry: Duration::from_secs(600),
            kick_window: Duration::from_secs(15),
            kick_count: 3,
            stable_after: Duration::from_secs(60),
            pdp_after: 3,
            radio_after: 5,
            module_after: 7,
            power_cycle_after: 9,
            can_power_cycle: false,
            watchdog_after: 2,
        }
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Wait this long before the next attempt (after the rung, if any).
    pub delay: Duration,
    /// Take this recovery step first.
    pub rung: Option<Rung>,
    /// Something an operator must act on (bad credentials, a duplicate client id).
    pub alarm: Option<String>,
    /// Take the time afresh (module / network clock) before signing the next attempt.
    pub recheck_clock: bool,
}

/// The counters shown in `status` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Failures by cause name.
    pub by_cause: BTreeMap<&'static str, u64>,
    /// The last cause, in words.
    pub last_cause: Option<String>,
    /// Recovery steps taken, by rung name.
    pub rungs: BTreeMap<&'static str, u64>,
    /// Successful connects.
    pub connects: u64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Supervisor {
    config: SupervisorConfig,
    backoff: Backoff,
    /// Consecutive failures since the link was last stable (drives the ladder).
    failures: u32,
    /// Consecutive refusals.
    refusals: u32,
    /// Consecutive AT-channel-dead failures.
    dead_channel: u32,
    /// Consecutive links that dropped within `kick_window`.
    short_sessions: u32,
    up_since: Option<Instant>,
    counters: Counters,
}

impl Supervisor {
    /// A supervisor with these settings.
    pub fn new(config: SupervisorConfig) -> Self {
        Supervisor {
            backoff: Backoff::new(config.backoff_base, config.backoff_max),
            config,
            failures: 0,
            refusals: 0,
            dead_channel: 0,
            short_sessions: 0,
            up_since: None,
            counters: Counters::default(),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Whether the link is up.
    pub fn is_up(&self) -> bool {
        self.up_since.is_some()
    }

    /// The link came up (CONNACK accepted, subscriptions restored).
    pub fn connected(&mut self, now: Instant) {
        self.up_since = Some(now);
        self.refusals = 0;
        self.dead_channel = 0;
        self.counters.connects += 1;
    }

    /// The link, or an attempt to make it, failed. `detail` is the cause in words (no secret).
    pub fn failed(&mut self, cause: Cause, detail: &str, now: Instant, unit: f64) -> Decision {
        *self.counters.by_cause.entry(cause.name()).or_default() += 1;
        self.counters.last_cause = Some(detail.to_owned());
        let mut alarm = None;
        if let Some(since) = self.up_since.take() {
            let lasted = now.saturating_duration_since(since);
            if lasted >= self.config.stable_after {
                self.backoff.reset();
                self.failures = 0;
            }
            if cause.is_drop() && lasted < self.config.kick_window {
                self.short_sessions += 1;
                if self.short_sessions >= self.config.kick_count {
                    alarm = Some(format!(
                        "duplicate client id suspected: the link dropped within {} s of each of the last {} logins — another device or process may be using this device's client id",
                        self.config.kick_window.as_secs(),
                        self.short_sessions
                    ));
                }
            } else {
                self.short_sessions = 0;
            }
        }
        if cause.is_fatal_for_now() {
            self.refusals += 1;
            let delay = if self.refusals == 1 {
                self.backoff.next_delay(unit)
            } else {
                self.config.refused_retry
            };
            let alarm = (self.refusals > 1).then(|| {
                format!(
                    "login refused {} times in a row ({detail}): check the device credentials, sign method and whether the device is enabled; next try in {} s",
                    self.refusals,
                    delay.as_secs()
                )
            });
            return Decision {
                delay,
                rung: None,
                alarm,
                recheck_clock: true,
            };
        }
        self.refusals = 0;
        self.failures += 1;
        let rung = if cause == Cause::AtChannelDead {
            self.dead_channel += 1;
            (self.dead_channel >= self.config.watchdog_after).then_some(
                if self.config.can_power_cycle {
                    Rung::PowerCycle
                } else {
                    Rung::ModuleReset
                },
            )
        } else {
            self.dead_channel = 0;
            self.ladder_rung()
        };
        if let Some(rung) = rung {
            *self.counters.rungs.entry(rung.name()).or_default() += 1;
            if rung == Rung::PowerCycle
                || (rung == Rung::ModuleReset && !self.config.can_power_cycle)
            {
                // Top of the ladder: start over, so a long outage repeats it.
                self.failures = 0;
                self.dead_channel = 0;
            }
        }
        let mut delay = self.backoff.next_delay(unit);
        if alarm.is_some() {
            // Fighting another login only gets both kicked: slow down.
            delay = delay.max(self.config.backoff_max);
        }
        Decision {
            delay,
            rung,
            alarm,
            recheck_clock: false,
        }
    }

    fn ladder_rung(&self) -> Option<Rung> {
        let c = &self.config;
        let steps = [
            (c.pdp_after, Rung::PdpReset),
            (c.radio_after, Rung::RadioReset),
            (c.module_after, Rung::ModuleReset),
            (
                if c.can_power_cycle {
                    c.power_cycle_after
                } else {
                    0
                },
                Rung::PowerCycle,
            ),
        ];
        steps
            .iter()
            .find(|(after, _)| *after != 0 && *after == self.failures)
            .map(|(_, rung)| *rung)
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
