//! End to end with mosquitto as the broker behind cloud-sim: `cellagent run` ⇄ modem-sim
//! (pty) ⇄ cloud-sim ⇄ mosquitto. Skipped (with a line saying so) when mosquitto is not
//! installed, unless `CI` is set.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which};
use cloud_sim::Kind;
use serde_json::json;
use thing_model::Downlink;

const T: Duration = Duration::from_secs(20);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// A mosquitto started for this test, killed on drop.
struct Mosquitto {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts mosquitto (anonymous, loopback), or `None` (skip) when it is not installed and `CI`
/// is unset.
async fn mosquitto() -> Option<Mosquitto> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("mosquitto"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let Some(bin) = on_path
        .into_iter()
        .chain([std::path::PathBuf::from("/usr/sbin/mosquitto")])
        .find(|p| p.is_file())
    else {
        if std::env::var_os("CI").is_some() {
            panic!("mosquitto is not installed (PATH, /usr/sbin) but CI is set: apt-get install -y mosquitto");
        }
        eprintln!("skip: mosquitto is not installed (apt-get install -y mosquitto)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = cloud_sim::broker::free_port().unwrap();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest stderr\n"),
    )
    .unwrap();
    let child = std::process::Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
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
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("mosquitto did not listen on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_through_mosquitto() {
    let Some(m) = mosquitto().await else { return };
    let c = start(Which::Aliyun, 0, Some(format!("127.0.0.1:{}", m.port)))
        .await
        .unwrap();
    let mut a = AgentProc::spawn(bin(), &c.profile, &[], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    a.send(r#"{"event":"Error","params":{"ErrorCode":3},"id":"m1"}"#)
        .await
        .unwrap();
    a.wait(T, "delivered m1", |v| v["delivered"] == "m1")
        .await
        .unwrap();
    let up = c
        .record(T, "the event", |r| {
            r.kind == Kind::Uplink && r.what.as_deref() == Some("event_post")
        })
        .await
        .unwrap();
    assert_eq!(
        up.topic.as_deref(),
        Some("/sys/a1B2c3D4e5F/dev-001/thing/event/Error/post")
    );
    assert_eq!(
        up.payload.unwrap()["params"]["value"],
        json!({"ErrorCode": 3})
    );
    let sent = c
        .sim
        .send_downlink(
            Which::Aliyun.device(),
            Downlink::Call {
                id: String::new(),
                name: "Reboot".into(),
                params: Default::default(),
                service: None,
            },
        )
        .await
        .unwrap();
    let call = a
        .wait(T, "the service call", |v| v["call"] == "Reboot")
        .await
        .unwrap();
    a.send(&format!(
        r#"{{"reply":"{}","code":200,"data":{{}}}}"#,
        call["id"].as_str().unwrap()
    ))
    .await
    .unwrap();
    c.record(T, "the service reply", |r| {
        r.kind == Kind::Answer && r.id.as_deref() == Some(&sent.id)
    })
    .await
    .unwrap();
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}
