//! The simulator in front of an external broker (mosquitto as `upstream`).

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use cloud_sim::broker::free_port;
use cloud_sim::{Clock, Cloud, CloudSim, Config, Kind, Registry};
use common::{connect, record};
use serde_json::json;
use thing_model::Downlink;

/// A mosquitto started for this test, killed on drop.
struct Mosquitto {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_mosquitto() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("mosquitto"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin/mosquitto")])
        .find(|p| p.is_file())
}

/// Starts mosquitto, or returns `None` (skip) when it is not installed and `CI` is unset.
async fn mosquitto() -> Option<Mosquitto> {
    let Some(bin) = find_mosquitto() else {
        if std::env::var_os("CI").is_some() {
            panic!("mosquitto is not installed (PATH, /usr/sbin) but CI is set: install it (apt-get install -y mosquitto)");
        }
        eprintln!("skip: mosquitto is not installed (apt-get install -y mosquitto)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest stderr\n"),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let m = Mosquitto {
        child,
        port,
        _dir: dir,
    };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(m);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("mosquitto did not listen on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_through_mosquitto() {
    let Some(m) = mosquitto().await else { return };
    let text =
        "[[device]]\nproduct = \"5f1a2b3c4d\"\nname = \"dev001\"\nsecret = \"s3cr3t-Passw0rd\"\n";
    let mut config = Config::new(
        Cloud::Huawei,
        Registry::from_toml(text, Cloud::Huawei, ".".as_ref()).unwrap(),
    );
    config.upstream = Some(format!("127.0.0.1:{}", m.port));
    let now = cloud_huawei::auth::HourStamp::parse("2026112417")
        .unwrap()
        .start()
        .timestamp_millis();
    config.clock = Clock::fixed(now);
    let sim = CloudSim::start(config).await.unwrap();
    assert_eq!(sim.upstream().port(), m.port);

    let dev_id = "5f1a2b3c4d_dev001";
    let (cid, pw) = (
        format!("{dev_id}_0_0_2026112417"),
        "33f6ffb857a32d7f590e69972ad908e23ad563e600aece5eeaee42f74e981b3f",
    );
    assert_eq!(
        connect(sim.addr(), &cid, dev_id, &pw.replace('f', "e"), 120)
            .await
            .err(),
        Some(4)
    );
    let mut dev = connect(sim.addr(), &cid, dev_id, pw, 120)
        .await
        .expect("accepted through mosquitto");
    let t = format!("$oc/devices/{dev_id}/sys");
    dev.subscribe(&format!("{t}/commands/+")).await;
    dev.subscribe(&format!("{t}/events/down")).await;

    dev.publish(&format!("{t}/events/up"), r#"{"services":[{"service_id":"$time_sync","event_type":"time_sync_request","paras":{"device_send_time":5}}]}"#).await;
    let (topic, body) = dev.next_json().await;
    assert_eq!(
        (
            topic,
            body["services"][0]["paras"]["server_recv_time"].clone()
        ),
        (format!("{t}/events/down"), json!(now))
    );

    let call = Downlink::Call {
        id: String::new(),
        name: "REBOOT".into(),
        params: Default::default(),
        service: Some("Ctl".into()),
    };
    let sent = sim.send_downlink(dev_id, call).await.unwrap();
    let (topic, _) = dev.next_json().await;
    assert_eq!(topic, format!("{t}/commands/request_id={}", sent.id));
    dev.publish(
        &format!("{t}/commands/response/request_id={}", sent.id),
        r#"{"result_code":0}"#,
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(answer.code, Some(0));
    dev.bye().await;
}
