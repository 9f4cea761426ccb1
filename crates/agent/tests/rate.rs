//! `[publish] rate_per_s` / `burst`: a backlog drains at the cloud's per-device rate, judged
//! by when the cloud logged each uplink (`cellagent run` ⇄ modem-sim ⇄ cloud-sim, Aliyun).

#[path = "../src/chain.rs"]
mod chain;
#[path = "../src/line_tap.rs"]
mod line_tap;

use std::path::Path;
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which};
use cloud_sim::Kind;
use line_tap::append_profile;

const T: Duration = Duration::from_secs(30);
const LINES: usize = 12;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// Sends `LINES` property lines at once with `publish` as the profile's `[publish]` section;
/// returns the cloud's receive times (ms) of the property posts, in order.
async fn uplink_times(publish: &str) -> Vec<i64> {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    append_profile(&c.profile, &format!("[publish]\n{publish}\n")).unwrap();
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    let ids: Vec<String> = (1..=LINES).map(|i| format!("r{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        a.send(&format!(
            r#"{{"properties":{{"Brightness":{i}}},"id":"{id}"}}"#
        ))
        .await
        .unwrap();
    }
    for id in &ids {
        a.wait(T, &format!("delivered {id}"), |v| {
            v["delivered"] == id.as_str()
        })
        .await
        .unwrap();
    }
    assert_eq!(a.terminate(T).await.unwrap(), 0);
    let times: Vec<i64> = c
        .uplinks()
        .iter()
        .filter(|r| r.kind == Kind::Uplink && r.what.as_deref() == Some("property_post"))
        .map(|r| r.ts)
        .collect();
    assert_eq!(times.len(), LINES, "one post per line");
    times
}

/// Slack for the network and scheduling between the agent's start of a publish and the
/// cloud's log of it (both sides run on this machine).
const SLACK_MS: i64 = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_goes_out_at_the_profiles_rate_after_its_burst() {
    let (rate, burst) = (5.0, 2usize);
    let times = uplink_times(&format!("rate_per_s = {rate}\nburst = {burst}")).await;
    let t0 = times[0];
    for (k, t) in times.iter().enumerate().skip(burst) {
        // A token bucket lets `burst` go at once, then one every 1/rate s.
        let earliest = ((k + 1 - burst) as f64 / rate * 1000.0) as i64;
        assert!(
            t - t0 >= earliest - SLACK_MS,
            "post {k} came {} ms after the first; the bucket allows it at {earliest} ms: {times:?}",
            t - t0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_is_unlimited() {
    // The same backlog with the limit off comes faster than the limit above would allow,
    // so the spacing above is the bucket's doing.
    let times = uplink_times("rate_per_s = 0").await;
    let limited_span = ((LINES - 2) as f64 / 5.0 * 1000.0) as i64;
    let span = times[LINES - 1] - times[0];
    assert!(
        span < limited_span - SLACK_MS,
        "unlimited: {span} ms for {LINES} posts: {times:?}"
    );
}
