//! The publish path over a tapped serial line (`[publish] window`, `[publish] batch`, a
//! publish the module refuses): `cellagent run` ⇄ modem-sim (115200 baud, 100 ms RTT) ⇄
//! cloud-sim. What is checked is what crossed the line and what reached the cloud, never how
//! long anything took.

#[path = "../src/chain.rs"]
mod chain;
#[path = "../src/line_tap.rs"]
mod line_tap;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chain::{is_status, start, AgentProc, Chain, Which};
use cloud_sim::{Kind, Record};
use line_tap::{append_profile, attach_modem, LineStats};
use modem_sim::{Fault, SimConfig, Simulator};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// A chain whose module is paced at 115200 baud with 100 ms RTT, its line tapped, and the
/// profile extended with `extra`.
async fn tapped_chain(which: Which, extra: &str) -> (Chain, Simulator, Arc<Mutex<LineStats>>) {
    let c = start(which, 0, None).await.unwrap();
    let config = SimConfig {
        baud: 115_200,
        rtt: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let (modem, stats) = attach_modem(&c.profile, &c.pty, config).unwrap();
    append_profile(&c.profile, extra).unwrap();
    (c, modem, stats)
}

async fn all_delivered(a: &mut AgentProc, ids: &[String]) {
    for id in ids {
        a.wait(T, &format!("delivered {id}"), |v| {
            v["delivered"] == id.as_str()
        })
        .await
        .unwrap();
    }
}

fn delivered_order(a: &AgentProc) -> Vec<String> {
    a.seen
        .iter()
        .filter_map(|v| v["delivered"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_one_is_stop_and_wait_and_the_default_window_pipelines() {
    for (extra, window) in [("[publish]\nwindow = 1\n", 1), ("", 5)] {
        let (c, _modem, stats) = tapped_chain(Which::Aliyun, extra).await;
        let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
        a.wait(T, "connected", |v| is_status(v, "connected"))
            .await
            .unwrap();
        // The time request after connecting is a QoS 0 publish outside the store's window.
        a.wait(T, "the cloud's time", |v| v.get("time").is_some())
            .await
            .unwrap();
        let ids: Vec<String> = (1..=12).map(|i| format!("w{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            a.send(&format!(
                r#"{{"properties":{{"Brightness":{i}}},"id":"{id}"}}"#
            ))
            .await
            .unwrap();
        }
        all_delivered(&mut a, &ids).await;
        let s = stats.lock().unwrap().clone();
        assert!(s.publishes >= 12, "{s:?}");
        if window == 1 {
            assert_eq!(s.max_outstanding, 1, "window = 1: {s:?}");
        } else {
            // Twelve lines queued at once with a 100 ms round trip: the window fills.
            assert!(
                (2..=5).contains(&s.max_outstanding),
                "window = 5 must pipeline, never past 5: {s:?}"
            );
        }
        assert_eq!(delivered_order(&a), ids, "delivered in store order");
        assert_eq!(a.terminate(T).await.unwrap(), 0);
    }
}

/// The property values of `name` in every property uplink the cloud logged, in order, and
/// how many of those uplinks carried more than one line.
fn cloud_values(which: Which, records: &[Record], name: &str) -> (Vec<Value>, usize) {
    let mut values = Vec::new();
    let mut batches = 0;
    for r in records.iter().filter(|r| r.kind == Kind::Uplink) {
        let p = r.payload.clone().unwrap_or_default();
        let before = values.len();
        match (which, r.what.as_deref()) {
            (Which::Aliyun, Some("batch_post")) => {
                for point in p["params"]["properties"][name].as_array().unwrap() {
                    assert!(
                        point["time"].is_i64(),
                        "a batched value keeps its time: {p}"
                    );
                    values.push(point["value"].clone());
                }
            }
            (Which::Onenet, Some("pack_post")) => {
                for entry in p["params"].as_array().unwrap() {
                    values.push(entry["properties"][name]["value"].clone());
                }
            }
            (Which::Huawei, Some("property_post")) => {
                for s in p["services"].as_array().unwrap() {
                    assert!(s["event_time"].is_string(), "{p}");
                    values.push(s["properties"][name].clone());
                }
            }
            (Which::Aliyun | Which::Onenet, Some("property_post")) => {
                let v = &p["params"][name];
                values.push(v.get("value").cloned().unwrap_or_else(|| v.clone()));
            }
            _ => continue,
        }
        if values.len() - before > 1 {
            batches += 1;
        }
    }
    (values, batches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_packs_lines_into_the_clouds_batch_message_and_answers_every_line() {
    for (which, name, acks) in [
        (Which::Aliyun, "Brightness", true),
        (Which::Onenet, "temp", true),
        (Which::Huawei, "temperature", false),
    ] {
        let (c, _modem, stats) = tapped_chain(which, "[publish]\nbatch = 4\n").await;
        let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
        // Queued before the link is up: the first fill finds them all in the store.
        let ids: Vec<String> = (1..=10).map(|i| format!("b{i}")).collect();
        for (i, id) in ids.iter().enumerate() {
            a.send(&format!(
                r#"{{"properties":{{"{name}":{}}},"id":"{id}"}}"#,
                20 + i
            ))
            .await
            .unwrap();
        }
        all_delivered(&mut a, &ids).await;
        if acks {
            for id in &ids {
                a.wait(T, &format!("ack {id}"), |v| v["ack"] == id.as_str())
                    .await
                    .unwrap();
            }
        }
        let (values, batches) = cloud_values(which, &c.sim.records(), name);
        let want: Vec<Value> = (0..10).map(|i| Value::from(20 + i)).collect();
        let got: Vec<Value> = values
            .iter()
            .map(|v| Value::from(v.as_f64().unwrap() as i64))
            .collect();
        assert_eq!(got, want, "{}: every line once, in order", which.name());
        assert!(batches >= 1, "{}: no batched publish", which.name());
        let s = stats.lock().unwrap().clone();
        assert!(
            s.publishes < 10,
            "{}: 10 lines took {} publishes",
            which.name(),
            s.publishes
        );
        assert_eq!(a.terminate(T).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_publish_is_sent_again_without_reconnecting_or_duplicating() {
    let (c, modem, stats) = tapped_chain(Which::Aliyun, "").await;
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    // The time request (a publish too) is answered before the fault is armed.
    a.wait(T, "the cloud's time", |v| v.get("time").is_some())
        .await
        .unwrap();
    modem.inject(Fault::Error(1));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ids: Vec<String> = (1..=8).map(|i| format!("r{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        a.send(&format!(
            r#"{{"properties":{{"Brightness":{}}},"id":"{id}"}}"#,
            40 + i
        ))
        .await
        .unwrap();
    }
    all_delivered(&mut a, &ids).await;
    let s = stats.lock().unwrap().clone();
    assert_eq!(s.errors, 1, "the module refused one publish: {s:?}");
    let (mut values, _) = cloud_values(Which::Aliyun, &c.sim.records(), "Brightness");
    values.sort_by_key(|v| v.as_i64());
    let want: Vec<Value> = (0..8).map(|i| Value::from(40 + i)).collect();
    assert_eq!(values, want, "each line reached the cloud exactly once");
    assert!(
        !a.seen.iter().any(|v| is_status(v, "disconnected")),
        "a refused publish is no reason to reconnect: {:?}",
        a.seen
    );
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

/// The port path `attach_modem` wrote into the profile.
fn port_of(profile: &Path) -> String {
    let text = std::fs::read_to_string(profile).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("port = "))
        .expect("a port line");
    line["port = ".len()..].trim_matches('"').to_string()
}

/// Each connect sets the module's `edit/timeout` 5 s inside `agent.input_quiet_s`, so a `>`
/// input the agent gave up on has ended when the transport writes again; firmware without
/// the option (the guide v1.0) answers `ERROR`, which is only warned about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_connect_sets_the_modules_edit_timeout_where_the_firmware_has_it() {
    use quectel_mqtt::commands::{CfgEditTimeout, CfgQuery};
    for profile in [modem_sim::Profile::Guide, modem_sim::Profile::GuideV10] {
        let c = start(Which::Huawei, 0, None).await.unwrap();
        let config = SimConfig {
            baud: 0,
            module: modem_sim::ModuleConfig {
                profile,
                ..Default::default()
            },
            ..SimConfig::default()
        };
        let (_modem, _stats) = attach_modem(&c.profile, &c.pty, config).unwrap();
        append_profile(&c.profile, "[agent]\ninput_quiet_s = 12\n").unwrap();
        let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
        a.send(r#"{"properties":{"temperature":21},"id":"e1"}"#)
            .await
            .unwrap();
        all_delivered(&mut a, &["e1".to_string()]).await;
        let stderr = a.stderr.clone();
        assert_eq!(a.terminate(T).await.unwrap(), 0);
        let stderr = stderr.lock().unwrap().clone();
        let warned = stderr.contains("does not take edit/timeout");
        assert_eq!(warned, profile == modem_sim::Profile::GuideV10, "{stderr}");
        // The module keeps the setting after the agent is gone: ask it.
        let port = quectel_mqtt::driver::open_serial_async(&port_of(&c.profile), 115_200)
            .await
            .unwrap();
        let (module, _task) = quectel_mqtt::driver::Client::spawn(port);
        let asked = module.execute(CfgQuery::<CfgEditTimeout>::new(0)).await;
        match profile {
            modem_sim::Profile::Guide => assert_eq!(asked.unwrap(), (true, 7)),
            _ => assert!(asked.is_err(), "{asked:?}"),
        }
    }
}
