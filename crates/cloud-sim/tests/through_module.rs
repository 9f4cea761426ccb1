//! Logins through the module emulator (issue 7): `quectel-mqtt`'s driver talks AT to
//! `modem-sim`, which carries the MQTT connection to `cloud-sim`. A login the cloud refuses
//! ends as `+QMTCONN: <idx>,0,<code>` (4 bad user name or password, 5 not authorised) then
//! `+QMTSTAT: <idx>,4`, as hardware reports it; the right credentials — signed on the host by
//! the cloud crate, or derived by the module from `AT+QMTCFG="aliauth"` / `"hwauth"` — connect,
//! and the cloud's replies come back as `+QMTRECV`.

mod common;

use std::net::SocketAddr;

use cloud_aliyun::{AliyunPlatform, AliyunProfile};
use cloud_huawei::auth::{DeviceSecretAuth, SignType};
use cloud_huawei::{HuaweiPlatform, Login};
use cloud_sim::{Clock, Cloud, CloudSim, Config, Kind, Registry};
use common::{record, WAIT};
use modem_sim::{ModuleConfig, SimConfig, Simulator};
use quectel_mqtt::commands::{
    AliAuth, CfgAliAuth, CfgHwAuth, CfgKeepalive, CfgRecvMode, CfgSession, Connect, Credentials,
    Disconnect, HwAuth, Open, Qos, RecvMode, Secret as AtSecret, TopicFilter,
};
use quectel_mqtt::driver::{Client, DriverEvent};
use quectel_mqtt::{ConnectReturnCode, Error, Message, PacketResult, StatCode, Urc};
use serde_json::json;
use thing_model::{Downlink, MqttConnect, Platform, Secret, Uplink};
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast::Receiver;

const PK: &str = "a1B2c3D4e5F";
const DS: &str = "0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_764_000_000_000;

/// Runs `fut` within the hang guard (not a speed assertion).
async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(WAIT * 2, fut)
        .await
        .expect("no result within the hang guard")
}

/// A fresh emulated module (unpaced) on TCP, with the driver on it. The power-up `RDY` is
/// read before the driver starts, so it cannot interrupt the first command.
async fn module() -> (Client, Receiver<DriverEvent>) {
    let sim = Simulator::new(SimConfig {
        baud: 0,
        module: ModuleConfig::default(),
        ..SimConfig::default()
    });
    let addr = sim.spawn_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut seen = Vec::new();
    bounded(async {
        while !seen.ends_with(b"\r\nRDY\r\n") {
            let mut b = [0u8; 64];
            let n = tcp.read(&mut b).await.unwrap();
            assert!(n > 0, "module closed before RDY");
            seen.extend_from_slice(&b[..n]);
        }
    })
    .await;
    let (client, _task) = Client::spawn(tcp);
    let events = client.events();
    (client, events)
}

/// `recv/mode` 0,1 (messages as URCs, with their length), then `AT+QMTOPEN` to the cloud.
async fn open(c: &Client, client: u8, cloud: SocketAddr) {
    let mode = RecvMode {
        buffered: false,
        with_length: true,
    };
    bounded(c.execute(CfgRecvMode { client, mode }))
        .await
        .unwrap();
    bounded(c.execute(Open {
        client,
        host: cloud.ip().to_string(),
        port: cloud.port(),
    }))
    .await
    .unwrap();
}

fn conn(client: u8, client_id: &str, user_pass: Option<(&str, &str)>) -> Connect {
    Connect {
        client,
        client_id: client_id.into(),
        credentials: user_pass.map(|(u, p)| Credentials {
            username: u.into(),
            password: AtSecret::new(p),
        }),
    }
}

/// `AT+QMTCONN` refused with `code`: the driver's error, then `+QMTSTAT: <idx>,4`.
async fn refused(
    c: &Client,
    events: &mut Receiver<DriverEvent>,
    connect: Connect,
    code: ConnectReturnCode,
) {
    let client = connect.client;
    assert_eq!(
        bounded(c.execute(connect)).await,
        Err(Error::Connect {
            result: PacketResult::Acked,
            ret_code: Some(code)
        })
    );
    let stat = bounded(async {
        loop {
            if let DriverEvent::Urc(Urc::Stat { client: k, code }) = events.recv().await.unwrap() {
                if k == client {
                    return code;
                }
            }
        }
    })
    .await;
    assert_eq!(stat, StatCode::ConnackFailed);
}

/// The next `+QMTRECV` message on `topic`.
async fn message_on(events: &mut Receiver<DriverEvent>, topic: &str) -> Message {
    bounded(async {
        loop {
            if let DriverEvent::Urc(Urc::Recv(m)) = events.recv().await.unwrap() {
                if m.topic == topic {
                    return m;
                }
            }
        }
    })
    .await
}

/// Subscribes `client` to the platform's downlink filters in one `AT+QMTSUB`.
async fn subscribe_all(c: &Client, client: u8, platform: &dyn Platform) {
    let filters: Vec<TopicFilter> = platform
        .subscriptions()
        .into_iter()
        .map(|s| TopicFilter {
            topic: s.topic,
            qos: Qos::from_code(s.qos.into()).unwrap(),
        })
        .collect();
    let n = filters.len();
    let acks = bounded(c.subscribe(client, filters)).await.unwrap();
    assert_eq!(acks.len(), n);
}

async fn aliyun_sim() -> CloudSim {
    let text = format!(
        "cloud = \"aliyun\"\n\
         [[product]]\nid = \"{PK}\"\nsecret = \"ProdSecret012345\"\ndynamic_registration = false\n\
         [[device]]\nproduct = \"{PK}\"\nname = \"dev-001\"\nsecret = \"{DS}\"\n\
         [[device]]\nproduct = \"{PK}\"\nname = \"fresh-01\"\n"
    );
    let reg = Registry::from_toml(&text, Cloud::Aliyun, ".".as_ref()).unwrap();
    let mut config = Config::new(Cloud::Aliyun, reg);
    config.clock = Clock::fixed(NOW);
    CloudSim::start(config).await.unwrap()
}

fn aliyun(device: &str, secret: &str, cloud: SocketAddr) -> AliyunPlatform {
    let mut profile = AliyunProfile::new(PK, device, Some(Secret::new(secret)));
    profile.host = Some(cloud.ip().to_string());
    profile.port = Some(cloud.port());
    profile.tls = false;
    AliyunPlatform::new(profile).unwrap()
}

/// `AT+QMTCFG` from what the platform computed: keep-alive and clean session.
async fn cfg_from(c: &Client, client: u8, mc: &MqttConnect) {
    bounded(c.execute(CfgKeepalive {
        client,
        seconds: mc.keepalive_s,
    }))
    .await
    .unwrap();
    bounded(c.execute(CfgSession {
        client,
        clean: mc.clean_session,
    }))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_refusals_and_logins_through_the_module() {
    let sim = aliyun_sim().await;
    let cloud = sim.addr();
    let (c, mut events) = module().await;

    // Host-side signing by the cloud crate, then a wrong password: CONNACK 4.
    let dev = aliyun("dev-001", DS, cloud);
    let mc = dev.connect(NOW).unwrap();
    assert_eq!(
        (mc.host.as_str(), mc.port, mc.tls),
        ("127.0.0.1", cloud.port(), false)
    );
    cfg_from(&c, 0, &mc).await;
    open(&c, 0, cloud).await;
    let wrong = mc.password.expose().replace(['0', '7', 'a'], "1");
    assert_ne!(wrong, mc.password.expose());
    refused(
        &c,
        &mut events,
        conn(0, &mc.client_id, Some((&mc.username, &wrong))),
        ConnectReturnCode::BadUserNameOrPassword,
    )
    .await;
    let r = record(&sim, Kind::Refused, |r| r.code == Some(4)).await;
    assert_eq!(r.client_id.as_deref(), Some(mc.client_id.as_str()));

    // A registered device with no secret yet, dynamic registration off: CONNACK 5.
    let fresh = aliyun("fresh-01", DS, cloud).connect(NOW).unwrap();
    open(&c, 0, cloud).await;
    refused(
        &c,
        &mut events,
        conn(
            0,
            &fresh.client_id,
            Some((&fresh.username, fresh.password.expose())),
        ),
        ConnectReturnCode::NotAuthorized,
    )
    .await;
    record(&sim, Kind::Refused, |r| r.code == Some(5)).await;

    // The right credentials: connected; a property post gets cloud-sim's post_reply back as
    // a +QMTRECV, which the cloud crate decodes as the ack of this uplink.
    open(&c, 0, cloud).await;
    bounded(c.execute(conn(
        0,
        &mc.client_id,
        Some((&mc.username, mc.password.expose())),
    )))
    .await
    .unwrap();
    record(&sim, Kind::Connect, |r| {
        r.device.as_deref() == Some("a1B2c3D4e5F/dev-001")
    })
    .await;
    subscribe_all(&c, 0, &dev).await;
    let post = dev
        .encode(
            &Uplink::properties(
                json!({"LightSwitch": 1, "Brightness": 42})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            7,
        )
        .unwrap();
    assert!(post.expects_ack);
    let qos = Qos::from_code(post.qos.into()).unwrap();
    bounded(c.publish(0, &post.topic, qos, false, post.payload.clone()))
        .await
        .unwrap();
    let reply_topic = format!("{}_reply", post.topic);
    let reply = message_on(&mut events, &reply_topic).await;
    match dev.decode(&reply.topic, &reply.payload).unwrap() {
        Some(Downlink::Ack { id, code, .. }) => assert_eq!((id.as_str(), code), ("7", 200)),
        other => panic!("not an ack: {other:?}"),
    }
    let up = record(&sim, Kind::Uplink, |r| {
        r.what.as_deref() == Some("property_post")
    })
    .await;
    assert_eq!(up.code, Some(200));
    bounded(c.execute(Disconnect { client: 0 })).await.unwrap();

    // Module-side auth: the module derives the login from AT+QMTCFG="aliauth" with the cloud
    // crate; the AT+QMTCONN client id is the device's (no user name or password given).
    let mc1 = dev.module_connect().unwrap();
    let thing_model::ModuleAuth::Aliyun {
        product_key,
        device_name,
        device_secret,
    } = mc1.auth
    else {
        panic!("aliyun module auth");
    };
    let auth = AliAuth {
        product_key,
        device_name,
        device_secret: AtSecret::new(device_secret.expose()),
    };
    bounded(c.execute(CfgAliAuth {
        client: 1,
        auth: auth.clone(),
    }))
    .await
    .unwrap();
    open(&c, 1, cloud).await;
    bounded(c.execute(conn(1, &mc1.client_id, None)))
        .await
        .unwrap();
    let login = record(&sim, Kind::Connect, |r| {
        r.client_id
            .as_deref()
            .is_some_and(|id| id.starts_with("dev-001|") && id.contains("securemode=3"))
    })
    .await;
    assert_eq!(login.device.as_deref(), Some("a1B2c3D4e5F/dev-001"));
    bounded(c.execute(Disconnect { client: 1 })).await.unwrap();

    // The same with a wrong device secret: the cloud refuses the module's signature with 4.
    let bad = AliAuth {
        device_secret: AtSecret::new("ffffffffffffffffffffffffffffffff"),
        ..auth
    };
    bounded(c.execute(CfgAliAuth {
        client: 2,
        auth: bad,
    }))
    .await
    .unwrap();
    open(&c, 2, cloud).await;
    refused(
        &c,
        &mut events,
        conn(2, "dev-001", None),
        ConnectReturnCode::BadUserNameOrPassword,
    )
    .await;
    let log = serde_json::to_string(&sim.records()).unwrap();
    assert!(
        !log.contains(DS) && !log.contains(mc.password.expose()),
        "a secret reached the log"
    );
}

const HW_PRODUCT: &str = "5f1a2b3c4d";
const HW_DEV: &str = "5f1a2b3c4d_dev001";
const HW_SECRET: &str = "s3cr3t-Passw0rd";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_refusals_and_logins_through_the_module() {
    let text = format!(
        "cloud = \"huawei\"\n\
         [[product]]\nid = \"{HW_PRODUCT}\"\nsecret = \"pr0duct-Secret\"\n\
         [[device]]\nproduct = \"{HW_PRODUCT}\"\nname = \"dev001\"\nsecret = \"{HW_SECRET}\"\n"
    );
    let reg = Registry::from_toml(&text, Cloud::Huawei, ".".as_ref()).unwrap();
    // The module signs with the host clock: the cloud's clock is the host clock too.
    let mut config = Config::new(Cloud::Huawei, reg);
    config.clock = Clock::system();
    let sim = CloudSim::start(config).await.unwrap();
    let cloud = sim.addr();
    let (c, mut events) = module().await;

    let login = |secret: &str| {
        let auth =
            DeviceSecretAuth::new(HW_DEV, Secret::new(secret), SignType::NoTimestampCheck).unwrap();
        HuaweiPlatform::new(&cloud.ip().to_string(), cloud.port(), Login::Device(auth))
            .unwrap()
            .with_tls(false)
    };
    let now = sim.clock().now_ms();

    // Host-side signing with the wrong secret: CONNACK 4.
    let bad = login("not-the-secret").connect(now).unwrap();
    cfg_from(&c, 0, &bad).await;
    open(&c, 0, cloud).await;
    refused(
        &c,
        &mut events,
        conn(
            0,
            &bad.client_id,
            Some((&bad.username, bad.password.expose())),
        ),
        ConnectReturnCode::BadUserNameOrPassword,
    )
    .await;

    // The right secret: connected; a time-sync request is answered on events/down.
    let dev = login(HW_SECRET);
    let mc = dev.connect(now).unwrap();
    open(&c, 0, cloud).await;
    bounded(c.execute(conn(
        0,
        &mc.client_id,
        Some((&mc.username, mc.password.expose())),
    )))
    .await
    .unwrap();
    subscribe_all(&c, 0, &dev).await;
    let req = dev.time_request(now, 1).unwrap();
    bounded(c.publish(
        0,
        &req.topic,
        Qos::from_code(req.qos.into()).unwrap(),
        false,
        req.payload,
    ))
    .await
    .unwrap();
    let down = message_on(
        &mut events,
        &format!("$oc/devices/{HW_DEV}/sys/events/down"),
    )
    .await;
    assert!(
        matches!(
            dev.decode(&down.topic, &down.payload),
            Ok(Some(Downlink::Time(_)))
        ),
        "{:?}",
        String::from_utf8_lossy(&down.payload)
    );
    bounded(c.execute(Disconnect { client: 0 })).await.unwrap();

    // Module-side: AT+QMTCFG="hwauth" (the module signs with the cloud crate); a wrong secret
    // is refused with 4, the right one accepted.
    for (client, secret, accepted) in [(1u8, "wrong-one", false), (2, HW_SECRET, true)] {
        let auth = HwAuth {
            device_id: HW_DEV.into(),
            device_secret: AtSecret::new(secret),
        };
        bounded(c.execute(CfgHwAuth { client, auth }))
            .await
            .unwrap();
        open(&c, client, cloud).await;
        let connect = conn(client, "ignored-by-hwauth", None);
        if accepted {
            bounded(c.execute(connect)).await.unwrap();
            let r = record(&sim, Kind::Connect, |r| {
                r.client_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with(&format!("{HW_DEV}_0_0_")))
            })
            .await;
            assert_eq!(r.device.as_deref(), Some(HW_DEV));
        } else {
            refused(
                &c,
                &mut events,
                connect,
                ConnectReturnCode::BadUserNameOrPassword,
            )
            .await;
        }
    }
}
