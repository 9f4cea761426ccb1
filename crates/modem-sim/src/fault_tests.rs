//! Unit tests of the field causes in the sans-IO core: each injected fault, what the host
//! sees, and which recovery clears it.

use std::time::Duration;

use crate::api::{Action, BackendCmd, BackendEvent, Step, TimerId};
use crate::faults::{Fault, UNTIL_CLEARED};
use crate::module::{ConnState, Module, ModuleConfig};

fn module() -> Module {
    let mut m = Module::new(ModuleConfig::default());
    m.power_up();
    assert_eq!(text(&cmd(&mut m, "ATE0")), "ATE0\r\r\nOK\r\n");
    m
}

fn text(s: &Step) -> String {
    String::from_utf8_lossy(&s.out).into_owned()
}

fn cmd(m: &mut Module, line: &str) -> Step {
    m.feed(format!("{line}\r").as_bytes())
}

fn backend(s: &Step) -> Vec<BackendCmd> {
    s.actions
        .iter()
        .filter_map(|a| match a {
            Action::Backend(_, c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn open(m: &mut Module) -> Step {
    cmd(m, r#"AT+QMTOPEN=0,"127.0.0.1",1883"#)
}

/// Opens and connects client 0 (the backend answers as a broker would).
fn connect(m: &mut Module) -> Step {
    let s = open(m);
    assert!(
        matches!(&backend(&s)[..], [BackendCmd::Open { .. }]),
        "{s:?}"
    );
    m.on_backend(0, BackendEvent::Opened(0));
    let s = cmd(m, r#"AT+QMTCONN=0,"dev1","u","p""#);
    assert!(
        matches!(&backend(&s)[..], [BackendCmd::Connect(_)]),
        "{s:?}"
    );
    let s = m.on_backend(0, BackendEvent::ConnAck(0));
    assert_eq!(m.state(0), ConnState::Connected);
    s
}

#[test]
fn silent_drop_goes_to_the_backend_and_the_host_hears_nothing() {
    let mut m = module();
    // No link: nothing to kill.
    assert_eq!(m.inject(Fault::SilentDrop(0)), Step::default());
    connect(&mut m);
    let s = m.inject(Fault::SilentDrop(0));
    assert_eq!(s.actions, vec![Action::Fault(Fault::SilentDrop(0))]);
    assert!(s.out.is_empty());
    // The module still believes it is connected.
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTCONN?")),
        "\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"
    );
}

#[test]
fn nat_idle_reaches_open_links_and_later_opens() {
    let mut m = module();
    let s = m.inject(Fault::NatIdle(30));
    assert_eq!(s.actions, vec![Action::Fault(Fault::NatIdle(30))]);
    let s = open(&mut m);
    let [BackendCmd::Open { nat_idle, .. }] = &backend(&s)[..] else {
        panic!("{s:?}");
    };
    assert_eq!(*nat_idle, Some(Duration::from_secs(30)));
    m.inject(Fault::NatIdle(0));
    cmd(&mut m, "AT+QMTCLOSE=0");
    m.on_backend(0, BackendEvent::Closed);
    let s = open(&mut m);
    assert!(matches!(
        &backend(&s)[..],
        [BackendCmd::Open { nat_idle: None, .. }]
    ));
    // A configured timeout applies from the start.
    let mut m = Module::new(ModuleConfig {
        nat_idle: Some(Duration::from_secs(90)),
        ..ModuleConfig::default()
    });
    m.power_up();
    let s = open(&mut m);
    assert!(matches!(
        &backend(&s)[..],
        [BackendCmd::Open { nat_idle: Some(d), .. }] if *d == Duration::from_secs(90)
    ));
}

#[test]
fn dup_id_kicks_each_accepted_login_shortly_after() {
    let mut m = module();
    m.inject(Fault::DupId(2));
    for round in 0..3 {
        let s = connect(&mut m);
        let kick = Action::StartTimer {
            id: TimerId::Kick(0),
            after: ModuleConfig::default().kick_delay,
        };
        if round == 2 {
            // Two kicks were asked for: the third login stays.
            assert!(!s.actions.contains(&kick), "{s:?}");
            break;
        }
        assert!(s.actions.contains(&kick), "round {round}: {s:?}");
        let s = m.on_timer(TimerId::Kick(0));
        assert_eq!(s.actions, vec![Action::Fault(Fault::DropLink(0))]);
        assert_eq!(
            text(&m.on_backend(0, BackendEvent::LinkLost(1))),
            "\r\n+QMTSTAT: 0,1\r\n"
        );
        assert_eq!(m.state(0), ConnState::Idle);
    }
    // A kick timer that fires after the link is gone does nothing.
    assert_eq!(m.on_timer(TimerId::Kick(3)), Step::default());
    // Until cleared: every login is kicked.
    m.inject(Fault::DupId(UNTIL_CLEARED));
    cmd(&mut m, "AT+QMTDISC=0");
    m.on_backend(0, BackendEvent::Disconnected);
    for _ in 0..3 {
        let s = connect(&mut m);
        assert!(s.actions.iter().any(|a| matches!(
            a,
            Action::StartTimer {
                id: TimerId::Kick(0),
                ..
            }
        )));
        m.on_timer(TimerId::Kick(0));
        m.on_backend(0, BackendEvent::LinkLost(1));
    }
}

#[test]
fn open_fail_reports_the_result_without_touching_the_network() {
    let mut m = module();
    m.inject(Fault::OpenFail {
        result: 4,
        count: 1,
    });
    let s = open(&mut m);
    assert_eq!(text(&s), "\r\nOK\r\n\r\n+QMTOPEN: 0,4\r\n");
    assert!(backend(&s).is_empty());
    assert_eq!(m.state(0), ConnState::Idle);
    // Only one: the next open reaches the network.
    assert!(matches!(
        &backend(&open(&mut m))[..],
        [BackendCmd::Open { .. }]
    ));
}

#[test]
fn sticky_open_fail_is_cleared_by_each_recovery() {
    let recoveries: [&[&str]; 4] = [
        &["AT+CGACT=0,1", "AT+CGACT=1,1"],
        &["AT+QIDEACT=1", "AT+QIACT=1"],
        &["AT+CFUN=0", "AT+CFUN=1"],
        &["AT+CFUN=4", "AT+CFUN=1"],
    ];
    for steps in recoveries {
        let mut m = module();
        m.inject(Fault::OpenFail {
            result: 3,
            count: UNTIL_CLEARED,
        });
        for _ in 0..3 {
            assert_eq!(text(&open(&mut m)), "\r\nOK\r\n\r\n+QMTOPEN: 0,3\r\n");
        }
        for line in steps {
            assert_eq!(text(&cmd(&mut m, line)), "\r\nOK\r\n", "{line}");
        }
        assert!(
            matches!(&backend(&open(&mut m))[..], [BackendCmd::Open { .. }]),
            "{steps:?}"
        );
    }
    // A module reset clears it too; `open-fail R 0` turns it off.
    let mut m = module();
    m.inject(Fault::OpenFail {
        result: 5,
        count: UNTIL_CLEARED,
    });
    m.inject(Fault::Reboot);
    m.on_timer(TimerId::RebootDone);
    assert!(matches!(
        &backend(&open(&mut m))[..],
        [BackendCmd::Open { .. }]
    ));
    let mut m = module();
    m.inject(Fault::OpenFail {
        result: 4,
        count: UNTIL_CLEARED,
    });
    m.inject(Fault::OpenFail {
        result: 4,
        count: 0,
    });
    assert!(matches!(
        &backend(&open(&mut m))[..],
        [BackendCmd::Open { .. }]
    ));
}

#[test]
fn refuse_answers_the_connack_code_and_closes_the_link() {
    let mut m = module();
    m.inject(Fault::Refuse { code: 5, count: 1 });
    open(&mut m);
    m.on_backend(0, BackendEvent::Opened(0));
    let s = cmd(&mut m, r#"AT+QMTCONN=0,"dev1","u","p""#);
    assert_eq!(
        text(&s),
        "\r\nOK\r\n\r\n+QMTCONN: 0,0,5\r\n\r\n+QMTSTAT: 0,4\r\n"
    );
    assert_eq!(backend(&s), vec![BackendCmd::Close]);
    assert_eq!(m.state(0), ConnState::Idle);
    // The backend's own close report is not repeated to the host.
    assert!(m.on_backend(0, BackendEvent::Closed).out.is_empty());
    // One refusal only: the next login goes to the broker.
    connect(&mut m);
    // Until cleared, and `refuse 0` clears.
    cmd(&mut m, "AT+QMTDISC=0");
    m.on_backend(0, BackendEvent::Disconnected);
    m.inject(Fault::Refuse {
        code: 4,
        count: UNTIL_CLEARED,
    });
    m.inject(Fault::Reboot);
    m.on_timer(TimerId::RebootDone);
    cmd(&mut m, "ATE0");
    for _ in 0..2 {
        open(&mut m);
        m.on_backend(0, BackendEvent::Opened(0));
        let s = cmd(&mut m, r#"AT+QMTCONN=0,"dev1""#);
        assert!(
            text(&s).contains("+QMTCONN: 0,0,4"),
            "refusals outlive a reboot"
        );
    }
    m.inject(Fault::Refuse {
        code: 0,
        count: UNTIL_CLEARED,
    });
    connect(&mut m);
}

#[test]
fn dead_channel_answers_nothing_until_a_power_cycle() {
    let mut m = module();
    connect(&mut m);
    m.inject(Fault::Dead);
    assert!(cmd(&mut m, "AT").out.is_empty());
    assert!(m.feed(b"AT+CFUN=1,1\r").out.is_empty(), "no echo, no reset");
    assert!(m.on_backend(0, BackendEvent::LinkLost(1)).out.is_empty());
    // A reboot fault or a power cycle brings it back.
    let s = m.inject(Fault::PowerCycle);
    assert!(s.actions.contains(&Action::Rebooted));
    assert!(cmd(&mut m, "AT").out.is_empty(), "input ignored until RDY");
    assert_eq!(text(&m.on_timer(TimerId::RebootDone)), "\r\nRDY\r\n");
    assert_eq!(text(&cmd(&mut m, "AT")), "AT\r\r\nOK\r\n");
}

#[test]
fn cfun_reset_and_qpowd() {
    let mut m = module();
    connect(&mut m);
    let s = cmd(&mut m, "AT+CFUN=1,1");
    assert_eq!(text(&s), "\r\nOK\r\n");
    assert!(s.actions.contains(&Action::Rebooted));
    assert_eq!(text(&m.on_timer(TimerId::RebootDone)), "\r\nRDY\r\n");
    assert_eq!(m.state(0), ConnState::Idle);
    cmd(&mut m, "ATE0");
    let s = cmd(&mut m, "AT+QPOWD=1");
    assert_eq!(text(&s), "\r\nOK\r\n\r\nPOWERED DOWN\r\n");
    assert!(cmd(&mut m, "AT").out.is_empty());
    assert!(m.on_timer(TimerId::RebootDone).out.is_empty(), "stays off");
    m.inject(Fault::PowerCycle);
    assert_eq!(text(&m.on_timer(TimerId::RebootDone)), "\r\nRDY\r\n");
}

#[test]
fn radio_off_drops_links_and_registration() {
    let mut m = module();
    connect(&mut m);
    assert_eq!(text(&cmd(&mut m, "AT+CFUN?")), "\r\n+CFUN: 1\r\n\r\nOK\r\n");
    let s = cmd(&mut m, "AT+CFUN=4");
    assert_eq!(text(&s), "\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n");
    assert_eq!(backend(&s), vec![BackendCmd::Close]);
    assert_eq!(text(&cmd(&mut m, "AT+CFUN?")), "\r\n+CFUN: 4\r\n\r\nOK\r\n");
    assert_eq!(
        text(&cmd(&mut m, "AT+CEREG?")),
        "\r\n+CEREG: 0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CSQ")),
        "\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CGACT?")),
        "\r\n+CGACT: 1,0\r\n\r\nOK\r\n"
    );
    assert_eq!(text(&cmd(&mut m, "AT+CGACT=1,1")), "\r\nERROR\r\n");
    assert_eq!(text(&open(&mut m)), "\r\nOK\r\n\r\n+QMTOPEN: 0,3\r\n");
    cmd(&mut m, "AT+CFUN=1");
    assert_eq!(
        text(&cmd(&mut m, "AT+CEREG?")),
        "\r\n+CEREG: 0,1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CGPADDR=1")),
        "\r\n+CGPADDR: 1,\"10.0.1.2\"\r\n\r\nOK\r\n"
    );
    connect(&mut m);
}

#[test]
fn pdp_deactivation_drops_the_links_on_that_context() {
    let mut m = module();
    connect(&mut m);
    let s = cmd(&mut m, "AT+CGACT=0,1");
    assert_eq!(text(&s), "\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n");
    assert_eq!(
        text(&cmd(&mut m, "AT+CGACT?")),
        "\r\n+CGACT: 1,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CGPADDR=1")),
        "\r\n+CGPADDR: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(text(&cmd(&mut m, "AT+QIACT?")), "\r\nOK\r\n");
    assert_eq!(text(&open(&mut m)), "\r\nOK\r\n\r\n+QMTOPEN: 0,3\r\n");
    cmd(&mut m, "AT+CGACT=1,1");
    assert_eq!(
        text(&cmd(&mut m, "AT+QIACT?")),
        "\r\n+QIACT: 1,1,1,\"10.0.1.2\"\r\n\r\nOK\r\n"
    );
    connect(&mut m);
    // Another context going down leaves this link alone.
    cmd(&mut m, "AT+CGACT=1,2");
    assert_eq!(text(&cmd(&mut m, "AT+CGACT=0,2")), "\r\nOK\r\n");
    assert_eq!(m.state(0), ConnState::Connected);
}

#[test]
fn clock_offset_moves_the_network_clock() {
    let mut m = module();
    m.set_time(1_597_190_400_000);
    m.inject(Fault::ClockOffset(-3600));
    assert_eq!(m.clock_ms(), 1_597_190_400_000 - 3_600_000);
    assert_eq!(
        text(&cmd(&mut m, "AT+QLTS=2")),
        "\r\n+QLTS: \"2020/08/12,07:00:00+32,0\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CCLK?")),
        "\r\n+CCLK: \"20/08/12,07:00:00+32\"\r\n\r\nOK\r\n"
    );
    // A network condition: a module reset does not fix it.
    m.inject(Fault::Reboot);
    m.on_timer(TimerId::RebootDone);
    assert_eq!(m.clock_ms(), 1_597_190_400_000 - 3_600_000);
    m.inject(Fault::ClockOffset(0));
    assert_eq!(m.clock_ms(), 1_597_190_400_000);
}
