use super::*;

fn sup(can_power_cycle: bool) -> Supervisor {
    Supervisor::new(SupervisorConfig {
        can_power_cycle,
        ..SupervisorConfig::default()
    })
}

#[test]
fn transient_causes_back_off_exponentially_and_never_give_up() {
    let mut s = sup(false);
    let t0 = Instant::now();
    let delays: Vec<_> = (0..12)
        .map(|_| s.failed(Cause::OpenFailed(4), "dns", t0, 0.0).delay)
        .collect();
    assert_eq!(delays[0], Duration::from_millis(250));
    assert_eq!(delays[1], Duration::from_millis(500));
    assert!(delays.windows(2).all(|w| w[1] >= w[0]));
    assert_eq!(
        delays[11],
        Duration::from_secs(30),
        "capped at half of 60 s + jitter 0"
    );
    assert_eq!(s.counters().by_cause["open_failed"], 12);
}

#[test]
fn the_ladder_climbs_step_by_step_and_starts_over_at_the_top() {
    let mut s = sup(true);
    let t0 = Instant::now();
    let rungs: Vec<_> = (1..=20)
        .map(|_| s.failed(Cause::Dropped(1), "+QMTSTAT: 0,1", t0, 0.5).rung)
        .collect();
    let fired: Vec<_> = rungs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (i + 1, r)))
        .collect();
    assert_eq!(
        fired,
        [
            (3, Rung::PdpReset),
            (5, Rung::RadioReset),
            (7, Rung::ModuleReset),
            (9, Rung::PowerCycle),
            (12, Rung::PdpReset),
            (14, Rung::RadioReset),
            (16, Rung::ModuleReset),
            (18, Rung::PowerCycle),
        ]
    );
    assert_eq!(s.counters().rungs["power_cycle"], 2);
}

#[test]
fn without_a_power_cycle_command_the_module_reset_is_the_top() {
    let mut s = sup(false);
    let t0 = Instant::now();
    let fired: Vec<_> = (1..=14)
        .filter_map(|n| {
            s.failed(Cause::Silent, "silent", t0, 0.5)
                .rung
                .map(|r| (n, r))
        })
        .collect();
    assert_eq!(
        fired,
        [
            (3, Rung::PdpReset),
            (5, Rung::RadioReset),
            (7, Rung::ModuleReset),
            (10, Rung::PdpReset),
            (12, Rung::RadioReset),
            (14, Rung::ModuleReset),
        ]
    );
}

#[test]
fn a_stable_link_resets_backoff_and_ladder() {
    let mut s = sup(false);
    let t0 = Instant::now();
    for _ in 0..4 {
        s.failed(Cause::PingFailed, "ping", t0, 0.0);
    }
    s.connected(t0);
    let d = s.failed(
        Cause::PingFailed,
        "ping",
        t0 + Duration::from_secs(120),
        0.0,
    );
    assert_eq!(d.delay, Duration::from_millis(250));
    assert_eq!(d.rung, None);
    // A short-lived link does not reset them.
    s.connected(t0 + Duration::from_secs(121));
    let d = s.failed(
        Cause::PingFailed,
        "ping",
        t0 + Duration::from_secs(150),
        0.0,
    );
    assert_eq!(d.delay, Duration::from_millis(500));
}

#[test]
fn refused_logins_hold_off_and_alarm_instead_of_hammering() {
    let mut s = sup(true);
    let t0 = Instant::now();
    let first = s.failed(Cause::Refused(4), "CONNACK 4", t0, 0.0);
    assert!(
        first.recheck_clock,
        "a clock-bound token is retried with fresh time"
    );
    assert!(first.alarm.is_none());
    assert!(first.delay < Duration::from_secs(1));
    for _ in 0..10 {
        let d = s.failed(Cause::Refused(5), "CONNACK 5", t0, 0.0);
        assert_eq!(d.delay, Duration::from_secs(600));
        assert_eq!(d.rung, None, "a module reset cannot fix credentials");
        let alarm = d.alarm.expect("alarm");
        assert!(alarm.contains("check the device credentials"), "{alarm}");
    }
    // A server-unavailable refusal (3) is transient.
    let d = s.failed(Cause::Refused(3), "CONNACK 3", t0, 0.0);
    assert!(d.alarm.is_none() && d.delay < Duration::from_secs(600));
}

#[test]
fn drops_right_after_each_login_are_reported_as_a_duplicate_client_id() {
    let mut s = sup(false);
    let mut now = Instant::now();
    let mut alarms = Vec::new();
    for _ in 0..4 {
        s.connected(now);
        now += Duration::from_secs(3);
        alarms.push(s.failed(Cause::Dropped(1), "+QMTSTAT: 0,1", now, 0.0).alarm);
        now += Duration::from_secs(1);
    }
    assert!(alarms[0].is_none() && alarms[1].is_none());
    let alarm = alarms[2].as_deref().expect("third short session");
    assert!(alarm.contains("duplicate client id"), "{alarm}");
    assert!(alarms[3].is_some());
    // A link that lasts breaks the pattern.
    s.connected(now);
    let d = s.failed(Cause::Dropped(1), "x", now + Duration::from_secs(40), 0.0);
    assert!(d.alarm.is_none());
}

#[test]
fn a_dead_at_channel_goes_to_the_watchdog_step() {
    let mut s = sup(true);
    let t0 = Instant::now();
    assert_eq!(s.failed(Cause::AtChannelDead, "AT", t0, 0.0).rung, None);
    assert_eq!(
        s.failed(Cause::AtChannelDead, "AT", t0, 0.0).rung,
        Some(Rung::PowerCycle)
    );
    let mut s = sup(false);
    s.failed(Cause::AtChannelDead, "AT", t0, 0.0);
    assert_eq!(
        s.failed(Cause::AtChannelDead, "AT", t0, 0.0).rung,
        Some(Rung::ModuleReset)
    );
    assert_eq!(s.counters().last_cause.as_deref(), Some("AT"));
}
