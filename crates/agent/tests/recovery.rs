//! The connection supervisor end to end (`cellagent run` ⇄ modem-sim over a pty ⇄ cloud-sim):
//! every rung of the recovery ladder, the hold-off on bad credentials, the duplicate-client-id
//! alarm, the liveness probe for a link that dies without a URC, the watchdog for a dead
//! AT channel, and a carrier NAT's idle timeout against the keepalive — each time checking the
//! agent recovers and its subscriptions work again.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::time::Duration;

use chain::{is_status, start, AgentProc, Chain, Which};
use cloud_sim::Kind;
use modem_sim::{Fault, UNTIL_CLEARED};
use serde_json::Value;
use thing_model::Downlink;

const T: Duration = Duration::from_secs(30);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// Quick timers, so that each failure costs about a second.
const QUICK: [(&str, &str); 4] = [
    ("CELLAGENT_AGENT__PKT_TIMEOUT_S", "1"),
    ("CELLAGENT_AGENT__RETRY_TIMES", "1"),
    ("CELLAGENT_AGENT__BACKOFF_MAX_S", "1"),
    ("RUST_LOG", "info"),
];

/// Appends a `[recovery]` section to the chain's profile.
fn recovery_section(c: &Chain, body: &str) {
    let mut text = std::fs::read_to_string(&c.profile).unwrap();
    text.push_str("\n[recovery]\n");
    text.push_str(body);
    std::fs::write(&c.profile, text).unwrap();
}

/// A power-cycle command that asks the emulator, over its control port, to cycle power.
async fn power_cycle_command(c: &Chain) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let modem = c.modem.clone();
    tokio::spawn(async move { modem.serve_control_tcp(listener).await });
    format!(
        "power_cycle_command = [\"bash\", \"-c\", \"printf 'power-cycle\\\\n' > /dev/tcp/127.0.0.1/{port}\"]\n"
    )
}

/// Login attempts the cloud saw (accepted or refused).
fn logins(c: &Chain) -> usize {
    c.sim
        .records()
        .into_iter()
        .filter(|r| matches!(r.kind, Kind::Connect | Kind::Refused))
        .count()
}

/// A downlink reaches the app: the subscriptions were restored.
async fn downlink_arrives(c: &Chain, a: &mut AgentProc) {
    get_arrives(c, a, Which::Aliyun, "Brightness").await;
}

/// A property get of `name` from `which`'s cloud reaches the app.
async fn get_arrives(c: &Chain, a: &mut AgentProc, which: Which, name: &str) {
    c.sim
        .send_downlink(
            which.device(),
            Downlink::Get {
                id: String::new(),
                names: vec![name.into()],
                service: None,
            },
        )
        .await
        .unwrap();
    a.wait(T, "a downlink", |v| v.get("get").is_some())
        .await
        .unwrap();
}

fn steps(v: &Value) -> Vec<(String, u64)> {
    v.get("recovery_steps")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ladder_climbs_every_rung_and_the_link_recovers() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let cycle = power_cycle_command(&c).await;
    recovery_section(
        &c,
        &format!(
            "pdp_after = 1\nradio_after = 2\nmodule_after = 3\npower_cycle_after = 4\npower_cycle_wait_s = 20\n{cycle}"
        ),
    );
    // "Server unavailable" (CONNACK 3) is transient: four refusals, one per rung.
    c.modem.inject(Fault::Refuse { code: 3, count: 4 });
    let mut a = AgentProc::spawn(bin(), &c.profile, &QUICK, &[]).unwrap();
    let up = a
        .wait(Duration::from_secs(90), "connected after the ladder", |v| {
            is_status(v, "connected")
        })
        .await
        .unwrap();
    assert_eq!(
        steps(&up),
        [
            ("module_reset".to_string(), 1),
            ("pdp_reset".to_string(), 1),
            ("power_cycle".to_string(), 1),
            ("radio_reset".to_string(), 1),
        ],
        "{up}"
    );
    assert_eq!(up["reconnects"]["refused"], 4, "{up}");
    assert_eq!(up["connects"], 1, "{up}");
    let stderr = a.stderr();
    for step in ["pdp_reset", "radio_reset", "module_reset", "power_cycle"] {
        assert!(
            stderr.contains(&format!("recovery step done step={step}")),
            "{step} not done:\n{stderr}"
        );
    }
    // The transcript went to the log, masked.
    assert!(
        stderr.contains("AT+QMTCONN (parameters masked)"),
        "{stderr}"
    );
    assert!(stderr.contains("+QMTCONN: 0,0,3"), "{stderr}");
    for secret in chain::SECRETS {
        assert!(!stderr.contains(secret), "secret in the log");
    }
    downlink_arrives(&c, &mut a).await;
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_hold_off_with_an_alarm_instead_of_hammering() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    recovery_section(&c, "refused_retry_s = 60\npdp_after = 1\n");
    let mut env = QUICK.to_vec();
    env.push((
        "CELLAGENT_CLOUD__ALIYUN__DEVICE_SECRET",
        "ffffffffffffffffffffffffffffffff",
    ));
    let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
    let alarm = a
        .wait(T, "an alarm", |v| v.get("alarm").is_some())
        .await
        .unwrap();
    let text = alarm["alarm"].as_str().unwrap();
    assert!(text.contains("check the device credentials"), "{alarm}");
    assert!(text.contains("next try in 60 s"), "{alarm}");
    assert_eq!(alarm["reconnects"]["refused"], 2, "{alarm}");
    assert!(alarm.get("recovery_steps").is_none(), "no ladder: {alarm}");
    let before = logins(&c);
    assert_eq!(before, 2, "one quick retry, then the hold-off");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(logins(&c), before, "no login during the hold-off");
    assert!(
        !a.stderr().contains("ffffffffffffffff"),
        "secret in the log"
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_client_id_kick_is_reported_and_the_link_recovers_when_it_stops() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    c.modem.inject(Fault::DupId(UNTIL_CLEARED));
    let mut a = AgentProc::spawn(bin(), &c.profile, &QUICK, &[]).unwrap();
    let alarm = a
        .wait(Duration::from_secs(60), "a duplicate-id alarm", |v| {
            v["alarm"]
                .as_str()
                .is_some_and(|s| s.contains("duplicate client id"))
        })
        .await
        .unwrap();
    assert!(
        alarm["reconnects"]["dropped"].as_u64().unwrap() >= 3,
        "{alarm}"
    );
    c.modem.inject(Fault::DupId(0));
    // Stable again: connected, and the alarm is gone from the status lines.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = a
            .wait(T, "connected", |v| is_status(v, "connected"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let dropped_since = a
            .seen
            .iter()
            .rev()
            .take_while(|s| *s != &v)
            .any(|s| is_status(s, "disconnected"));
        if !dropped_since {
            assert!(v.get("alarm").is_none(), "{v}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never stable");
    }
    downlink_arrives(&c, &mut a).await;
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_dead_without_any_urc_is_found_by_the_liveness_probe() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    recovery_section(&c, "liveness_s = 2\n");
    let mut a = AgentProc::spawn(bin(), &c.profile, &QUICK, &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    c.modem.inject(Fault::SilentDrop(0));
    let down = a
        .wait(T, "disconnected", |v| is_status(v, "disconnected"))
        .await
        .unwrap();
    assert!(
        down["reason"].as_str().unwrap().contains("liveness probe"),
        "{down}"
    );
    assert_eq!(down["reconnects"]["silent"], 1, "{down}");
    a.wait(T, "connected again", |v| is_status(v, "connected"))
        .await
        .unwrap();
    downlink_arrives(&c, &mut a).await;
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_at_channel_is_power_cycled_by_the_watchdog() {
    let c = start(Which::Aliyun, 0, None).await.unwrap();
    let cycle = power_cycle_command(&c).await;
    recovery_section(
        &c,
        &format!("liveness_s = 2\nwatchdog_after = 2\npower_cycle_wait_s = 20\n{cycle}"),
    );
    let mut a = AgentProc::spawn(bin(), &c.profile, &QUICK, &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    c.modem.inject(Fault::Dead);
    let up = a
        .wait(
            Duration::from_secs(90),
            "connected after the watchdog",
            |v| is_status(v, "connected") && v["connects"] == 2,
        )
        .await
        .unwrap();
    assert_eq!(up["recovery_steps"]["power_cycle"], 1, "{up}");
    assert!(
        up["reconnects"]["at_channel_dead"].as_u64().unwrap() >= 2,
        "{up}"
    );
    downlink_arrives(&c, &mut a).await;
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

/// A carrier NAT that forgets a mapping idle for longer than its timeout: the module's
/// keepalive pings are the traffic that keeps it. The liveness probe is pushed out of the way
/// (`liveness_s = 600`), so only the keepalive matters. OneNET, whose keepalive may be as low
/// as 10 s; both cases run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keepalive_below_the_nat_idle_timeout_holds_the_link_and_one_above_is_healed() {
    tokio::join!(nat_below_keepalive(), nat_above_keepalive());
}

/// `nat` s of NAT idle timeout, keepalive 10 s: a running agent, connected.
async fn nat_chain(nat: u32) -> (Chain, AgentProc) {
    let c = start(Which::Onenet, 0, None).await.unwrap();
    recovery_section(&c, "liveness_s = 600\n");
    c.modem.inject(Fault::NatIdle(nat));
    let mut env = QUICK.to_vec();
    env.push(("CELLAGENT_CLOUD__KEEPALIVE", "10"));
    let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    (c, a)
}

/// Keepalive 10 s under a NAT that forgets after 15 s: 25 idle seconds, no drop.
async fn nat_below_keepalive() {
    let (c, mut a) = nat_chain(15).await;
    tokio::time::sleep(Duration::from_secs(25)).await;
    get_arrives(&c, &mut a, Which::Onenet, "temp").await;
    assert!(
        !a.seen.iter().any(|v| is_status(v, "disconnected")),
        "the pings kept the mapping: {:?}",
        a.seen
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

/// Keepalive 10 s over a NAT that forgets after 4 s: the first ping meets a black hole; the
/// link is found dead and made again.
async fn nat_above_keepalive() {
    let (c, mut a) = nat_chain(4).await;
    let down = a
        .wait(T, "disconnected", |v| is_status(v, "disconnected"))
        .await
        .unwrap();
    let causes = down["reconnects"].as_object().unwrap();
    assert!(
        causes.contains_key("ping_failed") || causes.contains_key("dropped"),
        "{down}"
    );
    c.modem.inject(Fault::NatIdle(0));
    a.wait(T, "connected again", |v| is_status(v, "connected"))
        .await
        .unwrap();
    get_arrives(&c, &mut a, Which::Onenet, "temp").await;
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

/// The radio reset turns the radio back on even when the first `AT+CFUN=1` is refused: a
/// radio left off would keep every connect waiting out the registration timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_radio_reset_retries_the_radio_on() {
    use quectel_mqtt::commands::RegistrationQuery;
    let c = start(Which::Huawei, 0, None).await.unwrap();
    let profile = agent::profile::Profile::load(&c.profile).unwrap();
    let step = tokio::spawn(async move {
        agent::recovery::take(&profile, agent::supervisor::Rung::RadioReset).await
    });
    // The step sleeps 2 s between AT+CFUN=0 and AT+CFUN=1: refuse the next command then.
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.modem.inject(Fault::Error(1));
    step.await.unwrap().unwrap();
    let port = quectel_mqtt::driver::open_serial_async(&c.pty, 115_200)
        .await
        .unwrap();
    let (module, _task) = quectel_mqtt::driver::Client::spawn(port);
    // The emulated network registers the module while its radio is on, and only then.
    let reg = module.execute(RegistrationQuery).await.unwrap();
    assert!(reg.status.is_registered(), "{reg:?}");
}
