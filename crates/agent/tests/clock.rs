//! The agent signs with a trustworthy time: with its host clock set 700 days back (libfaketime,
//! Debian's `faketime`), a OneNET token signed on the host clock has long expired and the cloud
//! refuses it; the agent takes the module's network time instead and logs in.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which};
use cloud_sim::Kind;

const T: Duration = Duration::from_secs(30);
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// libfaketime is needed; CI installs it (`.ci/run`), elsewhere the test says why it skips.
fn faketime() -> Option<&'static str> {
    if Path::new(LIBFAKETIME).exists() {
        return Some(LIBFAKETIME);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{LIBFAKETIME} is missing: apt-get install faketime"
    );
    eprintln!("skipped: {LIBFAKETIME} is missing (apt-get install faketime)");
    None
}

fn env_with_host_clock_700_days_back(lib: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("LD_PRELOAD", lib),
        ("FAKETIME", "-700d"),
        // Timers and timeouts keep real time; only the wall clock is wrong.
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ("CELLAGENT_AGENT__BACKOFF_MAX_S", "1"),
        ("RUST_LOG", "info"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_host_clock_is_replaced_by_the_network_time() {
    let Some(lib) = faketime() else { return };
    let c = start(Which::Onenet, 0, None).await.unwrap();
    let env = env_with_host_clock_700_days_back(lib);
    let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
    let up = a
        .wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    assert_eq!(up["clock"]["source"], "network", "{up}");
    let skew = up["clock"]["skew_ms"].as_i64().unwrap();
    let days = skew / 86_400_000;
    assert!((699..=700).contains(&days), "skew {skew} ms: {up}");
    assert_eq!(up["connects"], 1, "logged in at the first attempt: {up}");
    assert!(
        c.sim.records().iter().all(|r| r.kind != Kind::Refused),
        "no refused login"
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_network_time_the_stale_token_is_refused_and_held_off() {
    let Some(lib) = faketime() else { return };
    let c = start(Which::Onenet, 0, None).await.unwrap();
    let mut env = env_with_host_clock_700_days_back(lib);
    // No bring-up checks: no `AT+QLTS`, so the host clock is all the agent has.
    env.push(("CELLAGENT_AGENT__SKIP_NETWORK_CHECKS", "true"));
    let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
    let alarm = a
        .wait(T, "an alarm", |v| v.get("alarm").is_some())
        .await
        .unwrap();
    assert_eq!(alarm["clock"]["source"], "host_unverified", "{alarm}");
    assert_eq!(alarm["reconnects"]["refused"], 2, "{alarm}");
    let refused = c
        .sim
        .records()
        .into_iter()
        .filter(|r| r.kind == Kind::Refused)
        .count();
    assert_eq!(refused, 2);
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}
