//! The control interface: the unix socket, the `cloud-sim send` command, the JSON Lines
//! log file, a CSV registry, and MQTT 3.1 devices.

mod common;

use cloud_sim::{control, Cloud, CloudSim, Config, Kind, Record, Registry};
use common::{connect, file, record};
use serde_json::{json, Value};

const PK: &str = "a1B2c3D4e5F";
const CID: &str =
    "dev-001|securemode=3,signmethod=hmacsha1,timestamp=1700000000000,lan=NodeJS,_v=1.2.4|";
const PW: &str = "7feb9efe445ec8a37141f2e327a70397c6d20f9e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_over_the_socket_and_the_cli_and_read_the_log_file() {
    let (dir, csv) = file(
        "devices.csv",
        &format!(
            "ProductKey,DeviceName,DeviceSecret\n{PK},dev-001,0123456789abcdef0123456789abcdef\n"
        ),
    );
    let sock = dir.path().join("ctl.sock");
    let log_path = dir.path().join("log.jsonl");
    let mut config = Config::new(
        Cloud::Aliyun,
        Registry::load(&csv, Cloud::Aliyun, None).unwrap(),
    );
    config.control = Some(sock.clone());
    config.log_file = Some(log_path.clone());
    let sim = CloudSim::start(config).await.unwrap();

    let mut dev = connect(sim.addr(), CID, &format!("dev-001&{PK}"), PW, 60)
        .await
        .unwrap();
    let get_topic = format!("/sys/{PK}/dev-001/thing/service/property/get");
    dev.subscribe(&get_topic).await;

    // The library-level client of the socket, with a bad request first.
    let mut lines = Vec::new();
    control::request(&sock, r#"{"device":"nobody","get":[]}"#, |l| {
        lines.push(l.to_owned())
    })
    .await
    .unwrap();
    assert_eq!(
        lines,
        vec![r#"{"error":"unknown device `nobody` (use product/name, or the Huawei device id)"}"#]
    );

    // The CLI, waiting for the answer while the device replies.
    let exe = env!("CARGO_BIN_EXE_cloud-sim");
    let sock_arg = sock.clone();
    let cli = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "send",
                "--device",
                "a1B2c3D4e5F/dev-001",
                "--get",
                "LightSwitch",
                "--wait",
                "10",
                "--control",
            ])
            .arg(&sock_arg)
            .output()
            .unwrap()
    });
    let (topic, req) = dev.next_json().await;
    assert_eq!(
        (topic, req["params"].clone()),
        (get_topic, json!(["LightSwitch"]))
    );
    let id = req["id"].as_str().unwrap().to_owned();
    dev.publish(
        &format!("/sys/{PK}/dev-001/thing/service/property/get_reply"),
        json!({"id": id, "code": 200, "data": {"LightSwitch": 1}}).to_string(),
    )
    .await;
    let out = cli.await.unwrap();
    assert!(
        out.status.success(),
        "cloud-sim send failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed[0]["sent"], json!(id));
    assert_eq!(
        (
            printed[1]["kind"].clone(),
            printed[1]["payload"]["data"].clone()
        ),
        (json!("answer"), json!({"LightSwitch": 1}))
    );
    dev.bye().await;

    // Everything is in the JSON Lines file too.
    record(&sim, Kind::Disconnect, |_| true).await;
    let file_records: Vec<Record> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<Kind> = file_records.iter().map(|r| r.kind).collect();
    for k in [Kind::Connect, Kind::Downlink, Kind::Answer] {
        assert!(
            kinds.contains(&k),
            "{k:?} missing from the log file: {kinds:?}"
        );
    }
    assert!(!std::fs::read_to_string(&log_path).unwrap().contains(PW));
}

/// A raw MQTT 3.1 (`MQIsdp`) CONNECT is accepted (and carried to rumqttd as 3.1.1), and
/// a CONNECT that is MQTT 5 gets CONNACK 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_31_devices_are_carried_and_mqtt_5_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let text =
        "[[device]]\nproduct = \"5f1a2b3c4d\"\nname = \"dev001\"\nsecret = \"s3cr3t-Passw0rd\"\n";
    let mut config = Config::new(
        Cloud::Huawei,
        Registry::from_toml(text, Cloud::Huawei, ".".as_ref()).unwrap(),
    );
    config.clock = cloud_sim::Clock::fixed(
        cloud_huawei::auth::HourStamp::parse("2026112417")
            .unwrap()
            .start()
            .timestamp_millis(),
    );
    let sim = CloudSim::start(config).await.unwrap();
    let connect_packet = |name: &str, level: u8| {
        let mut body = Vec::new();
        let mut s = |b: &[u8]| {
            body.extend_from_slice(&(b.len() as u16).to_be_bytes());
            body.extend_from_slice(b);
        };
        s(name.as_bytes());
        body.extend_from_slice(&[level, 0xC2, 0, 120]);
        let mut s = |b: &[u8]| {
            body.extend_from_slice(&(b.len() as u16).to_be_bytes());
            body.extend_from_slice(b);
        };
        s(b"5f1a2b3c4d_dev001_0_0_2026112417");
        s(b"5f1a2b3c4d_dev001");
        s(b"33f6ffb857a32d7f590e69972ad908e23ad563e600aece5eeaee42f74e981b3f");
        cloud_sim::mqtt::RawPacket { header: 0x10, body }.encode()
    };
    for (name, level, code) in [("MQIsdp", 3u8, 0u8), ("MQTT", 5, 1)] {
        let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        s.write_all(&connect_packet(name, level)).await.unwrap();
        let mut ack = [0u8; 4];
        tokio::time::timeout(common::WAIT, s.read_exact(&mut ack))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ack[0], ack[3]), (0x20, code), "{name} {level}");
    }
}
