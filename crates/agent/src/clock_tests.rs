//! Unit tests of the clock choice, with injected host and network times.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::*;

/// 2025-06-01T00:00:00Z.
const GOOD: i64 = 1_748_736_000_000;
/// 2020-01-01T00:00:00Z: a host with no RTC that was never set right.
const STALE: i64 = 1_577_836_800_000;
const HOUR: i64 = 3_600_000;

fn clock_at(host: &Arc<AtomicI64>) -> Clock {
    let h = host.clone();
    Clock::with_host(Box::new(move || h.load(Ordering::SeqCst)))
}

#[test]
fn a_sane_host_clock_that_agrees_with_the_network_is_used() {
    let c = choose(GOOD, Some(GOOD + 90_000));
    assert_eq!((c.source, c.offset_ms), (ClockSource::Host, 0));
    assert!(c.reason.contains("agrees"), "{}", c.reason);
    let c = choose(GOOD, None);
    assert_eq!((c.source, c.offset_ms), (ClockSource::Host, 0));
}

#[test]
fn a_host_clock_before_the_floor_gives_way_to_the_network() {
    let c = choose(STALE, Some(GOOD));
    assert_eq!(
        (c.source, c.offset_ms),
        (ClockSource::Network, GOOD - STALE)
    );
    assert!(c.reason.contains("2020-01-01T00:00:00Z"), "{}", c.reason);
    assert!(c.reason.contains("2025-01-01"), "{}", c.reason);
}

#[test]
fn a_host_clock_that_disagrees_with_the_network_gives_way() {
    let c = choose(GOOD, Some(GOOD + 2 * HOUR));
    assert_eq!((c.source, c.offset_ms), (ClockSource::Network, 2 * HOUR));
    assert!(c.reason.contains("+2h 0m 0s"), "{}", c.reason);
    // Just inside the tolerance: the host clock stays.
    let c = choose(GOOD, Some(GOOD - AGREEMENT_TOLERANCE_MS));
    assert_eq!(c.source, ClockSource::Host);
}

#[test]
fn an_unsynced_module_clock_is_not_believed() {
    // AT+CCLK? of a module that never saw NITZ: 1980.
    let c = choose(GOOD, Some(315_964_800_000));
    assert_eq!((c.source, c.offset_ms), (ClockSource::Host, 0));
    assert!(c.reason.contains("is not"), "{}", c.reason);
    let c = choose(STALE, Some(315_964_800_000));
    assert_eq!((c.source, c.offset_ms), (ClockSource::HostUnverified, 0));
    let c = choose(STALE, None);
    assert_eq!(c.source, ClockSource::HostUnverified);
}

#[test]
fn the_clock_keeps_the_offset_as_the_host_clock_runs() {
    let host = Arc::new(AtomicI64::new(STALE));
    let mut clock = clock_at(&host);
    assert_eq!(clock.source(), ClockSource::HostUnverified);
    assert_eq!(clock.now_ms(), STALE);
    let s = clock.on_network_time(Some(GOOD));
    assert_eq!(s.source, ClockSource::Network);
    assert_eq!(
        (s.skew_ms, s.network_skew_ms),
        (GOOD - STALE, Some(GOOD - STALE))
    );
    host.fetch_add(5_000, Ordering::SeqCst);
    assert_eq!(clock.now_ms(), GOOD + 5_000);
    assert_eq!(clock.host_now_ms(), STALE + 5_000);
}

#[test]
fn the_cloud_wins_over_the_network_from_then_on() {
    let host = Arc::new(AtomicI64::new(STALE));
    let mut clock = clock_at(&host);
    // The network clock is two hours fast.
    clock.on_network_time(Some(GOOD + 2 * HOUR));
    assert_eq!(clock.now_ms(), GOOD + 2 * HOUR);
    let s = clock.on_cloud_time(GOOD);
    assert_eq!((s.source, s.skew_ms), (ClockSource::Cloud, GOOD - STALE));
    assert!(s.reason.contains("-2h 0m 0s"), "{}", s.reason);
    // A later network reading is recorded, not followed.
    let s = clock.on_network_time(Some(GOOD + 2 * HOUR));
    assert_eq!(s.source, ClockSource::Cloud);
    assert_eq!(s.network_skew_ms, Some(GOOD + 2 * HOUR - STALE));
    assert_eq!(clock.now_ms(), GOOD);
}

#[test]
fn a_time_sync_answer_is_read_on_the_corrected_clock() {
    let host = Arc::new(AtomicI64::new(GOOD));
    let mut clock = clock_at(&host);
    // The request left at 0 on the corrected clock; the answer came back 200 ms later; the
    // server's clock was 10 s ahead of ours.
    let sync = thing_model::TimeSync {
        device_send_ms: Some(GOOD - 200),
        server_recv_ms: GOOD + 10_000 - 100,
        server_send_ms: GOOD + 10_000 - 100,
    };
    let s = clock.on_time_sync(&sync);
    assert_eq!((s.source, s.skew_ms), (ClockSource::Cloud, 10_000));
}

#[test]
fn module_times_convert_to_utc() {
    // +QLTS: "2025/06/01,08:00:00+32,0" (mode 2, local time in UTC+8) is midnight UTC.
    let t = ModuleTime::parse("2025/06/01,08:00:00+32,0").unwrap();
    assert_eq!(module_time_utc_ms(&t), Some(GOOD));
    let t = ModuleTime::parse("25/05/31,20:00:00-16").unwrap();
    assert_eq!(module_time_utc_ms(&t), Some(GOOD));
    let t = ModuleTime::parse("25/02/31,00:00:00+00").unwrap();
    assert_eq!(module_time_utc_ms(&t), None, "31 February");
}

#[test]
fn skews_read_plainly() {
    assert_eq!(format_skew(0), "+0.0s");
    assert_eq!(format_skew(-800), "-0.8s");
    assert_eq!(format_skew(65_000), "+1m 5s");
    assert_eq!(format_skew(-2 * HOUR - 5_000), "-2h 0m 5s");
    assert_eq!(format_skew(GOOD - STALE), "+1978d 0h");
    assert_eq!(format_ms(GOOD), "2025-06-01T00:00:00Z");
}
