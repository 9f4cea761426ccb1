//! A trustworthy time for signing: the host clock when it is sane, else the module's network
//! time (`AT+QLTS=2` / `AT+CCLK?`), and the cloud's time service once connected.
//!
//! A device whose only uplink is the module has no NTP: its host clock is whatever its RTC
//! (if any) kept, and boards without one boot in 1970. Signing with that clock gets Huawei
//! (`sign_type` 1) and expired OneNET tokens refused, so the time used for credentials is
//! chosen here. The choice is pure ([`choose`]); [`Clock`] keeps the chosen offset from the
//! host clock and reports where it came from and how far the host clock is off.
//!
//! The rules, in order:
//! 1. the cloud's time, once one has been fed in ([`Clock::on_cloud_time`]), wins;
//! 2. the host clock, when it is past [`HOST_CLOCK_FLOOR_MS`] and within
//!    [`AGREEMENT_TOLERANCE_MS`] of the network time (or there is no network time);
//! 3. the network time, when it is past the floor;
//! 4. otherwise the host clock anyway ([`ClockSource::HostUnverified`]): nothing better.

use chrono::{DateTime, NaiveDate};
use quectel_mqtt::commands::ModuleTime;
use serde::Serialize;

/// No clock before 2025-01-01T00:00:00Z is believed: this build is younger than that.
pub const HOST_CLOCK_FLOOR_MS: i64 = 1_735_689_600_000;

/// The host clock is trusted when it is this close to the network time (5 minutes: NITZ is
/// coarse, and the network time was read a moment before or after).
pub const AGREEMENT_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// Where the time used for signing comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The host clock: past the floor and in line with the network time.
    Host,
    /// The module's network time (the host clock failed the checks).
    Network,
    /// The cloud's time service (Aliyun NTP, Huawei time sync).
    Cloud,
    /// The host clock although it failed the checks: nothing better was available.
    HostUnverified,
}

impl ClockSource {
    /// The name used in reports and status lines.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockSource::Host => "host",
            ClockSource::Network => "network",
            ClockSource::Cloud => "cloud",
            ClockSource::HostUnverified => "host_unverified",
        }
    }
}

/// The outcome of [`choose`]: which clock, its offset from the host clock, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The chosen source.
    pub source: ClockSource,
    /// Chosen time minus host time, in ms.
    pub offset_ms: i64,
    /// Why, in plain words (for logs and `doctor`).
    pub reason: String,
}

/// Whether a time is past the floor.
fn sane(ms: i64) -> bool {
    ms >= HOST_CLOCK_FLOOR_MS
}

/// Chooses between the host clock and the module's network time (both UTC ms, read at the
/// same moment; `network_ms` is `None` when the module has no network time).
pub fn choose(host_ms: i64, network_ms: Option<i64>) -> Choice {
    let network = network_ms.filter(|n| sane(*n));
    let host_ok = sane(host_ms);
    let agrees = |n: i64| (n - host_ms).abs() <= AGREEMENT_TOLERANCE_MS;
    match (host_ok, network) {
        (true, None) => Choice {
            source: ClockSource::Host,
            offset_ms: 0,
            reason: match network_ms {
                Some(n) => format!(
                    "the host clock is past {}; the network time ({}) is not",
                    format_ms(HOST_CLOCK_FLOOR_MS),
                    format_ms(n)
                ),
                None => format!(
                    "the host clock is past {}; the module has no network time to check it against",
                    format_ms(HOST_CLOCK_FLOOR_MS)
                ),
            },
        },
        (true, Some(n)) if agrees(n) => Choice {
            source: ClockSource::Host,
            offset_ms: 0,
            reason: format!(
                "the host clock agrees with the network time (within {})",
                format_skew(AGREEMENT_TOLERANCE_MS)
            ),
        },
        (host_ok, Some(n)) => Choice {
            source: ClockSource::Network,
            offset_ms: n - host_ms,
            reason: if host_ok {
                format!(
                    "the host clock disagrees with the network time by {}",
                    format_skew(n - host_ms)
                )
            } else {
                format!(
                    "the host clock ({}) is before {}",
                    format_ms(host_ms),
                    format_ms(HOST_CLOCK_FLOOR_MS)
                )
            },
        },
        (false, None) => Choice {
            source: ClockSource::HostUnverified,
            offset_ms: 0,
            reason: format!(
                "the host clock ({}) is before {} and the module has no usable network time",
                format_ms(host_ms),
                format_ms(HOST_CLOCK_FLOOR_MS)
            ),
        },
    }
}

/// A module time (`AT+QLTS=2` or `AT+CCLK?`: local time and its zone) as UTC ms. `None` for
/// a date that does not exist. The `<dst>` of `AT+QLTS` is not applied: the zone already
/// includes daylight saving in TS 27.007's `+CCLK` and Quectel's local-time mode.
pub fn module_time_utc_ms(t: &ModuleTime) -> Option<i64> {
    let local = NaiveDate::from_ymd_opt(i32::from(t.year), u32::from(t.month), u32::from(t.day))?
        .and_hms_opt(u32::from(t.hour), u32::from(t.minute), u32::from(t.second))?;
    let local_ms = local.and_utc().timestamp_millis();
    Some(local_ms - i64::from(t.utc_offset_minutes()) * 60_000)
}

/// `2025-01-01T00:00:00Z`.
pub fn format_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// A signed duration in plain words: `+2h 0m 5s`, `-3d 4h`, `+0.8s`.
pub fn format_skew(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let a = ms.unsigned_abs();
    let s = a / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d {h}h")
    } else if h > 0 {
        format!("{sign}{h}h {m}m {sec}s")
    } else if m > 0 {
        format!("{sign}{m}m {sec}s")
    } else {
        format!("{sign}{}.{}s", sec, a % 1000 / 100)
    }
}

/// What the clock reports (status lines, `doctor --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockStatus {
    /// Where the time comes from.
    pub source: ClockSource,
    /// Corrected time minus host time, ms: positive when the host clock is behind.
    pub skew_ms: i64,
    /// Network time minus host time at the last reading, if the module had one.
    pub network_skew_ms: Option<i64>,
    /// Why this source, in plain words.
    pub reason: String,
}

/// The host clock, injectable for tests.
pub type HostClock = Box<dyn Fn() -> i64 + Send + Sync>;

/// The agent's clock: the host clock plus the offset of the chosen source.
pub struct Clock {
    host: HostClock,
    offset_ms: i64,
    source: ClockSource,
    network_skew_ms: Option<i64>,
    reason: String,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("offset_ms", &self.offset_ms)
            .field("source", &self.source)
            .finish()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::with_host(Box::new(crate::now_ms))
    }
}

impl Clock {
    /// A clock over the system clock, judged before any network time is known.
    pub fn new() -> Self {
        Clock::default()
    }

    /// A clock over `host` (ms since the Unix epoch), judged before any network time is
    /// known: [`ClockSource::Host`] when it is past the floor, else
    /// [`ClockSource::HostUnverified`].
    pub fn with_host(host: HostClock) -> Self {
        let choice = choose(host(), None);
        Clock {
            host,
            offset_ms: choice.offset_ms,
            source: choice.source,
            network_skew_ms: None,
            reason: choice.reason,
        }
    }

    /// The corrected time (ms since the Unix epoch): use it for every credential.
    pub fn now_ms(&self) -> i64 {
        (self.host)().saturating_add(self.offset_ms)
    }

    /// The host clock as it is.
    pub fn host_now_ms(&self) -> i64 {
        (self.host)()
    }

    /// Where the time comes from.
    pub fn source(&self) -> ClockSource {
        self.source
    }

    /// Corrected time minus host time, ms (positive: the host clock is behind).
    pub fn skew_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Feeds the module's network time as read just now (`AT+QLTS=2` or `AT+CCLK?`, see
    /// [`module_time_utc_ms`]); `None` when the module has none (`+QLTS: ""`). Re-chooses
    /// unless the cloud's time is already in use. Returns the status after.
    pub fn on_network_time(&mut self, network_utc_ms: Option<i64>) -> ClockStatus {
        let host = self.host_now_ms();
        self.network_skew_ms = network_utc_ms.map(|n| n - host);
        if self.source != ClockSource::Cloud {
            let c = choose(host, network_utc_ms);
            self.source = c.source;
            self.offset_ms = c.offset_ms;
            self.reason = c.reason;
        }
        self.status()
    }

    /// Feeds the cloud's time (UTC ms as of now: e.g. `TimeSync::utc_ms(clock.now_ms())`
    /// when the request was stamped with [`Clock::now_ms`]). The cloud wins over every other
    /// source from then on. Returns the status after.
    pub fn on_cloud_time(&mut self, cloud_utc_ms: i64) -> ClockStatus {
        let host = self.host_now_ms();
        let previous = self.now_ms();
        self.offset_ms = cloud_utc_ms - host;
        self.source = ClockSource::Cloud;
        self.reason = format!(
            "the cloud's time service; the clock used before was off by {}",
            format_skew(cloud_utc_ms - previous)
        );
        self.status()
    }

    /// Feeds a cloud time-sync answer ([`thing_model::TimeSync`]) received just now; the
    /// request must have been stamped with [`Clock::now_ms`].
    pub fn on_time_sync(&mut self, sync: &thing_model::TimeSync) -> ClockStatus {
        let cloud = sync.utc_ms(self.now_ms());
        self.on_cloud_time(cloud)
    }

    /// The status to report.
    pub fn status(&self) -> ClockStatus {
        ClockStatus {
            source: self.source,
            skew_ms: self.offset_ms,
            network_skew_ms: self.network_skew_ms,
            reason: self.reason.clone(),
        }
    }
}

/// The module's network time in UTC ms: `AT+QLTS=2` (the network's time now), else
/// `AT+CCLK?` (the real-time clock, which the network sets); `None` when neither answers.
pub async fn module_network_time(client: &quectel_mqtt::driver::Client) -> Option<i64> {
    use quectel_mqtt::commands::{ClockQuery, NetworkTimeQuery, TimeMode};
    match client
        .execute(NetworkTimeQuery {
            mode: Some(TimeMode::CurrentLocal),
        })
        .await
    {
        Ok(Some(t)) => module_time_utc_ms(&t),
        _ => match client.execute(ClockQuery).await {
            Ok(t) => module_time_utc_ms(&t),
            Err(_) => None,
        },
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
