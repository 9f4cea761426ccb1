//! TLS end to end: `cellagent run` uploads a test CA to modem-sim (`AT+QFUPL`), configures the
//! SSL context (`AT+QSSLCFG`) and `AT+QMTCFG="ssl"`; modem-sim's link to mosquitto is TLS,
//! verified against the uploaded CA; a telemetry line reaches the broker. With a CA that did
//! not sign the broker's certificate the agent reports, on every attempt, an error that names
//! `tls.ca_file`.
//!
//! cloud-sim has no TLS, so the broker is mosquitto itself (anonymous: it accepts the Aliyun
//! credentials the agent signs without checking them). A second, plain listener on the same
//! broker lets the test subscribe. Skipped when mosquitto is missing, a failure when `CI` is set.

#[path = "../src/chain.rs"]
mod chain;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chain::{is_status, AgentProc};
use modem_sim::{SimConfig, Simulator};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);
const POST_TOPIC: &str = "/sys/a1B2c3D4e5F/dev-001/thing/event/property/post";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn make_ca() -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(params, key),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_mosquitto() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("mosquitto"))
        .chain([PathBuf::from("/usr/sbin/mosquitto")])
        .find(|p| p.is_file())
}

/// mosquitto with a TLS listener (`tls_port`, the certificate signed by `ca`) and a plain one
/// (`plain_port`) for the test's subscriber. Killed on drop.
struct Broker {
    child: std::process::Child,
    tls_port: u16,
    plain_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn broker(ca: &Ca) -> Option<Broker> {
    let Some(bin) = find_mosquitto() else {
        if std::env::var_os("CI").is_some() {
            panic!("mosquitto is not installed (PATH, /usr/sbin) but CI is set: apt-get install -y mosquitto");
        }
        eprintln!("skip: mosquitto is not installed (apt-get install -y mosquitto)");
        return None;
    };
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca.issuer)
        .unwrap();
    let mut dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    // A free port can be taken by another test before mosquitto binds it: then mosquitto
    // exits, and the broker is started again on new ports.
    let mut why = String::new();
    for _attempt in 0..3 {
        let (tls_port, plain_port) = (free_port(), free_port());
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "per_listener_settings false\nallow_anonymous true\npersistence false\nuser root\n\
                 log_dest stderr\n\
                 listener {tls_port} 127.0.0.1\ncertfile {}\nkeyfile {}\n\
                 listener {plain_port} 127.0.0.1\n",
                cert_file.display(),
                key_file.display()
            ),
        )
        .unwrap();
        let log = dir.path().join("mosquitto.log");
        let child = std::process::Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut b = Broker {
            child,
            tls_port,
            plain_port,
            _dir: dir,
        };
        if listening(&mut b, Duration::from_secs(10)).await {
            return Some(b);
        }
        why = format!(
            "mosquitto did not listen on {tls_port} and {plain_port}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        // Keep the certificates' directory; dropping the broker stops mosquitto.
        dir = std::mem::replace(&mut b._dir, tempfile::tempdir().unwrap());
        drop(b);
    }
    panic!("{why}");
}

/// Waits until both of the broker's ports accept connections; false when it exited or
/// `limit` passed.
async fn listening(b: &mut Broker, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    for port in [b.tls_port, b.plain_port] {
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if !matches!(b.child.try_wait(), Ok(None)) || tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    true
}

/// modem-sim on a pty; returns the pty path the agent opens.
fn module() -> String {
    let sim = Simulator::new(SimConfig {
        baud: 0,
        ..SimConfig::default()
    });
    let (master, pty) = Simulator::open_pty().unwrap();
    tokio::spawn(async move { sim.run_session(master).await });
    pty
}

/// An Aliyun profile (host-side signing) for the broker's TLS port, trusting `ca_pem`.
fn profile(dir: &Path, pty: &str, port: u16, ca_pem: &str) -> PathBuf {
    std::fs::write(dir.join("ca.pem"), ca_pem).unwrap();
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(
        models.join("light.tsl.json"),
        include_str!("../../../profiles/models/light.tsl.json"),
    )
    .unwrap();
    let text = format!(
        "[module]\nport = {pty:?}\n\
         [cloud]\nplatform = \"aliyun\"\nhost = \"localhost\"\nport = {port}\ntls = true\n\
         [cloud.aliyun]\nproduct_key = \"a1B2c3D4e5F\"\ndevice_name = \"dev-001\"\n\
         device_secret = \"0123456789abcdef0123456789abcdef\"\n\
         [tls]\nca_file = \"ca.pem\"\n\
         [thing_model]\nfile = \"models/light.tsl.json\"\n\
         [store]\npath = \"queue.redb\"\n\
         [agent]\nskip_network_checks = true\nbackoff_max_s = 1\n"
    );
    let path = dir.join("aliyun-tls.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A subscriber on the plain listener; returns the client (keep it alive) and its publishes.
async fn subscriber(
    port: u16,
) -> (
    AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    let (client, mut events) =
        AsyncClient::new(MqttOptions::new("tls-test-sub", "127.0.0.1", port), 16);
    client.subscribe("/sys/#", QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    let mut subscribed_tx = Some(subscribed_tx);
    tokio::spawn(async move {
        while let Ok(ev) = events.poll().await {
            match ev {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(s) = subscribed_tx.take() {
                        let _ = s.send(());
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let _ = tx.send((p.topic.clone(), p.payload.to_vec()));
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(T, subscribed)
        .await
        .expect("SUBACK from mosquitto")
        .unwrap();
    (client, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_reaches_mosquitto_over_tls_with_the_uploaded_ca() {
    let ca = make_ca();
    let Some(b) = broker(&ca).await else { return };
    let (_sub, mut received) = subscriber(b.plain_port).await;
    let dir = tempfile::tempdir().unwrap();
    let path = profile(dir.path(), &module(), b.tls_port, &ca.pem);

    // `check` shows the upload and the SSL context the agent will configure.
    let o = std::process::Command::new(bin())
        .args(["check", "--profile"])
        .arg(&path)
        .output()
        .unwrap();
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{script}");
    for line in [
        format!(
            "AT+QFUPL=\"UFS:cellagent-ctx1-ca.pem\",{},100",
            ca.pem.len()
        ),
        "AT+QSSLCFG=\"cacert\",1,\"UFS:cellagent-ctx1-ca.pem\"".into(),
        "AT+QSSLCFG=\"seclevel\",1,1".into(),
        "AT+QMTCFG=\"ssl\",0,1,1".into(),
    ] {
        assert!(script.lines().any(|l| l == line), "{line} in\n{script}");
    }

    let mut a = AgentProc::spawn(bin(), &path, &[("RUST_LOG", "debug")], &[]).unwrap();
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await
        .unwrap();
    a.send(r#"{"properties":{"Brightness":42},"id":"tls-1"}"#)
        .await
        .unwrap();
    a.wait(T, "delivered tls-1", |v| v["delivered"] == "tls-1")
        .await
        .unwrap();
    let (topic, payload) = loop {
        let (topic, payload) = tokio::time::timeout(T, received.recv())
            .await
            .expect("the telemetry at mosquitto")
            .unwrap();
        if topic == POST_TOPIC {
            break (topic, payload);
        }
    };
    let v: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        (topic.as_str(), &v["params"]["Brightness"]),
        (POST_TOPIC, &Value::from(42))
    );
    assert!(a.stderr().contains("uploaded"), "{}", a.stderr());
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_reported_on_every_attempt_naming_tls_ca_file() {
    let ca = make_ca();
    let Some(b) = broker(&ca).await else { return };
    let other = make_ca();
    let dir = tempfile::tempdir().unwrap();
    let path = profile(dir.path(), &module(), b.tls_port, &other.pem);
    let mut a = AgentProc::spawn(bin(), &path, &[], &[]).unwrap();
    let is_tls_failure = |v: &Value| {
        is_status(v, "disconnected")
            && v["reason"].as_str().is_some_and(|r| {
                r.contains("AT+QMTOPEN failed: result -1")
                    && r.contains("TLS handshake failed")
                    && r.contains("tls.ca_file")
            })
    };
    // Two attempts, each reported: the agent retries but never silently.
    for attempt in 1..=2 {
        a.wait(
            T,
            &format!("the TLS failure of attempt {attempt}"),
            is_tls_failure,
        )
        .await
        .unwrap();
    }
    assert!(
        a.stderr().contains("tls.ca_file"),
        "the log names the field too:\n{}",
        a.stderr()
    );
    assert!(!a.seen.iter().any(|v| is_status(v, "connected")));
    assert_eq!(a.terminate(T).await.unwrap(), 0);
}
