//! `cellagent doctor` against modem-sim (over a pty) and cloud-sim: a healthy chain, a DNS
//! fault, a wrong secret and wrong clocks — each probe's verdict, the hints, the exit code,
//! and that no secret is ever printed.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::process::Output;

use chain::{start, Which, SECRETS};
use modem_sim::{Fault, UNTIL_CLEARED};
use serde_json::Value;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

async fn doctor(profile: &Path, json: bool) -> Output {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.arg("doctor").arg("--profile").arg(profile);
    if json {
        cmd.arg("--json");
    }
    let run = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output());
    run.await.expect("doctor finished").expect("doctor ran")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn no_secret(out: &str, extra: &[&str]) {
    for s in SECRETS.iter().chain(extra) {
        assert!(!out.contains(s), "a secret was printed:\n{out}");
    }
}

fn probe<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_chain_passes_every_probe_in_text_and_json() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let o = doctor(&c.profile, false).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for name in agent::doctor::PROBES {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no {name} line:\n{out}"));
        assert!(line.starts_with("PASS"), "{line}\n{out}");
    }
    assert!(out.contains("rssi 31 (-51 dBm): excellent"), "{out}");
    assert!(out.contains("registered, home network"), "{out}");
    assert!(out.contains("source host"), "{out}");
    assert!(out.contains("result: OK"), "{out}");
    no_secret(&out, &[]);

    let o = doctor(&c.profile, true).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let report: Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["probes"].as_array().unwrap().len(),
        agent::doctor::PROBES.len()
    );
    for name in agent::doctor::PROBES {
        assert_eq!(probe(&report, name)["outcome"], "pass", "{report}");
    }
    assert_eq!(report["clock"]["source"], "host");
    no_secret(&out, &[]);
    // The doctor closed its session: the module's client index is free again.
    c.modem.inject(Fault::DropLink(0));
    let o = doctor(&c.profile, true).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_failure_fails_the_open_with_the_dns_hint() {
    let c = start(Which::Onenet, 0, None).await.unwrap();
    c.modem.inject(Fault::OpenFail {
        result: 4,
        count: UNTIL_CLEARED,
    });
    let o = doctor(&c.profile, false).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let open = out.lines().find(|l| l.contains("mqtt_open")).unwrap();
    assert!(open.starts_with("FAIL"), "{out}");
    assert!(
        open.contains("+QMTOPEN result 4: failed to parse the domain name"),
        "{out}"
    );
    assert!(out.contains("fix: DNS failed"), "{out}");
    let conn = out.lines().find(|l| l.contains("mqtt_connect")).unwrap();
    assert!(conn.starts_with("SKIP"), "{out}");
    assert!(out.contains("result: FAILED"), "{out}");
    no_secret(&out, &[]);
    let o = doctor(&c.profile, true).await;
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(probe(&report, "mqtt_open")["hint"]
        .as_str()
        .unwrap()
        .contains("DNS"));
    no_secret(&text(&o), &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_fails_the_login_with_the_clouds_hint() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let wrong = "fedcba9876543210fedcba9876543210";
    let profile = std::fs::read_to_string(&c.profile)
        .unwrap()
        .replace(SECRETS[0], wrong);
    std::fs::write(&c.profile, profile).unwrap();
    for json in [false, true] {
        let o = doctor(&c.profile, json).await;
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("ret_code"), "{out}");
        assert!(out.contains("refused"), "{out}");
        assert!(out.contains("check the device secret"), "{out}");
        assert!(out.contains("sign method"), "{out}");
        no_secret(&out, &[wrong]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_network_clock_and_stale_host_clock_report_the_skew() {
    let c = start(Which::Huawei, 0, None).await.unwrap();
    // The network clock is two hours fast; the host clock says 2020.
    c.modem.inject(Fault::ClockOffset(7200));
    let stale: i64 = 1_577_836_800_000;
    let report = agent::doctor::run(&c.profile, Some(Box::new(move || stale)))
        .await
        .unwrap();
    let clock = report.clock.clone().expect("the module was reached");
    assert_eq!(clock.source, agent::clock::ClockSource::Network);
    let real_skew = agent::now_ms() - stale;
    // The network's two hours show in the skew (bounded by the test's own run time).
    let extra = clock.skew_ms - real_skew;
    assert!((7_000_000..7_300_000).contains(&extra), "{clock:?}");
    let p = report.probes.iter().find(|p| p.name == "clock").unwrap();
    assert_eq!(p.outcome, agent::doctor::Outcome::Warn);
    assert!(p.detail.contains("is before 2025-01-01"), "{}", p.detail);
    assert!(p.detail.contains("host clock 2020-01-01"), "{}", p.detail);
    assert!(p.detail.contains("network − host +"), "{}", p.detail);
    let out = agent::doctor::render_text(&report) + &serde_json::to_string(&report).unwrap();
    no_secret(&out, &[]);
}
