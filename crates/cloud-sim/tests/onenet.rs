//! OneNET: token checks (signature, expiry, res mismatch), OneJSON replies, downlinks, and
//! product-level logins that register the device.

mod common;

use cloud_onenet::connect::{AuthLevel, DeviceConfig, KeyScope};
use cloud_onenet::token::{AccessKey, Expiry};
use cloud_sim::{Clock, Cloud, CloudSim, Config, Kind, Registry};
use common::{connect, file, record};
use serde_json::json;
use thing_model::Downlink;

const PID: &str = "Aw9oB4n7zB";
const KEY: &str = "Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=";
const PRODUCT_KEY: &str = "cHJvZHVjdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==";
const NOW: i64 = 1_764_000_000_000;
// Known answer (shared/clouds/onenet.md §8, vector dev-sha1; et = 1893456000).
const TOKEN: &str = "version=2018-10-31&res=products%2FAw9oB4n7zB%2Fdevices%2Fdev-001&et=1893456000&method=sha1&sign=lL3Hw%2BjEzWwczHwmMvfugkxdlkI%3D";

const MODEL: &str = r#"{
  "properties": [
    {"identifier": "temp", "name": "t", "functionType": "u", "accessMode": "rw", "functionMode": "property", "desc": null,
     "dataType": {"type": "float", "specs": {"min": "-40", "max": "120", "unit": null, "step": null}}},
    {"identifier": "Power", "name": "p", "functionType": "u", "accessMode": "rw", "functionMode": "property", "desc": null,
     "dataType": {"type": "bool", "specs": {"true": "on", "false": "off"}}}
  ],
  "events": [],
  "services": []
}"#;

async fn sim() -> (tempfile::TempDir, CloudSim) {
    let (dir, _) = file("model.json", MODEL);
    let path = dir.path().join("registry.toml");
    std::fs::write(
        &path,
        format!(
            "[[product]]\nid = \"{PID}\"\nsecret = \"{PRODUCT_KEY}\"\ndynamic_registration = true\nmodel = \"model.json\"\n\
             [[device]]\nproduct = \"{PID}\"\nname = \"dev-001\"\nsecret = \"{KEY}\"\n"
        ),
    )
    .unwrap();
    let mut config = Config::new(
        Cloud::Onenet,
        Registry::load(&path, Cloud::Onenet, None).unwrap(),
    );
    config.clock = Clock::fixed(NOW);
    (dir, CloudSim::start(config).await.unwrap())
}

fn params(dn: &str, key: &str, now_s: u64, lifetime: u64) -> cloud_onenet::connect::ConnectParams {
    let mut cfg = DeviceConfig::new(PID, dn, AccessKey::from_base64(key).unwrap()).unwrap();
    cfg.expiry = Expiry::Lifetime(lifetime);
    cfg.connect_params(now_s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_checked_for_signature_expiry_and_names() {
    let (_d, sim) = sim().await;
    let a = sim.addr();
    connect(a, "dev-001", PID, TOKEN, 120)
        .await
        .expect("published vector")
        .bye()
        .await;
    // A token signed with the product key for a device resource is accepted too.
    let p = params("dev-001", PRODUCT_KEY, 1_764_000_000, 3600);
    connect(a, &p.client_id, &p.username, &p.password.expose(), 120)
        .await
        .expect("product key")
        .bye()
        .await;

    let wrong = params(
        "dev-001",
        PRODUCT_KEY.replace('c', "d").as_str(),
        1_764_000_000,
        3600,
    );
    assert_eq!(
        connect(a, "dev-001", PID, &wrong.password.expose(), 120)
            .await
            .err(),
        Some(4),
        "wrong key"
    );
    assert_eq!(
        connect(a, "dev-002", PID, TOKEN, 120).await.err(),
        Some(4),
        "client id differs from res"
    );
    assert_eq!(
        connect(a, "dev-001", PID, "version=2018-10-31", 120)
            .await
            .err(),
        Some(4),
        "malformed token"
    );
    assert_eq!(
        connect(a, "dev-001", PID, TOKEN, 5).await.err(),
        Some(2),
        "keep-alive below 10 s"
    );
    let short = params("dev-001", KEY, 1_764_000_000, 60);
    sim.clock().set(NOW + 3_600_000);
    assert_eq!(
        connect(a, "dev-001", PID, &short.password.expose(), 120)
            .await
            .err(),
        Some(4),
        "expired"
    );

    let why = |code: &str| {
        let code = code.to_owned();
        move |r: &cloud_sim::Record| r.message.as_deref().is_some_and(|m| m.starts_with(&code))
    };
    record(&sim, Kind::Refused, why("1106")).await;
    record(&sim, Kind::Refused, why("1114")).await;
    record(&sim, Kind::Refused, why("1104")).await;
    let text = serde_json::to_string(&sim.records()).unwrap();
    assert!(
        !text.contains("lL3Hw") && !text.contains(KEY),
        "a token or key reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_get_onejson_replies_and_set_answers_are_logged() {
    let (_d, sim) = sim().await;
    let mut dev = connect(sim.addr(), "dev-001", PID, TOKEN, 120)
        .await
        .unwrap();
    let p = format!("$sys/{PID}/dev-001/thing");
    dev.subscribe(&format!("{p}/property/post/reply")).await;
    dev.subscribe(&format!("{p}/property/set")).await;

    dev.publish(
        &format!("{p}/property/post"),
        r#"{"id":"123","version":"1.0","params":{"temp":{"value":23.6,"time":1599534283111}}}"#,
    )
    .await;
    let (topic, reply) = dev.next_json().await;
    assert_eq!(topic, format!("{p}/property/post/reply"));
    assert_eq!(reply, json!({"id":"123","code":200,"msg":"success"}));

    dev.publish(
        &format!("{p}/property/post"),
        r#"{"id":"124","version":"1.0","params":{"humidity":{"value":3}}}"#,
    )
    .await;
    assert_eq!(
        dev.next_json().await.1,
        json!({"id":"124","code":309,"msg":"identifier not exist"})
    );
    dev.publish(
        &format!("{p}/property/post"),
        r#"{"id":"125","params":{"temp":{"value":"hot"}}}"#,
    )
    .await;
    assert_eq!(dev.next_json().await.1["code"], 302);
    dev.publish(
        &format!("{p}/property/post"),
        r#"{"id":"12345678901234","params":{}}"#,
    )
    .await;
    assert_eq!(
        dev.next_json().await.1["code"],
        312,
        "ids are at most 13 digits"
    );

    let mut values = serde_json::Map::new();
    values.insert("Power".into(), json!(true));
    let sent = sim
        .send_downlink(
            "Aw9oB4n7zB/dev-001",
            Downlink::Set {
                id: String::new(),
                values,
                service: None,
            },
        )
        .await
        .unwrap();
    let (topic, req) = dev.next_json().await;
    assert_eq!(
        (topic, req),
        (
            format!("{p}/property/set"),
            json!({"id": sent.id, "version":"1.0","params":{"Power":true}})
        )
    );
    dev.publish(
        &format!("{p}/property/set_reply"),
        json!({"id": sent.id, "code": 200, "msg": "ok"}).to_string(),
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(
        (answer.code, answer.what.as_deref()),
        (Some(200), Some("set"))
    );
    dev.bye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_level_token_registers_a_new_device() {
    let (_d, sim) = sim().await;
    let mut cfg =
        DeviceConfig::new(PID, "auto-7", AccessKey::from_base64(PRODUCT_KEY).unwrap()).unwrap();
    cfg.key_scope = KeyScope::Product;
    cfg.auth_level = AuthLevel::Product;
    let p = cfg.connect_params(1_764_000_000).unwrap();
    connect(
        sim.addr(),
        &p.client_id,
        &p.username,
        &p.password.expose(),
        120,
    )
    .await
    .expect("product token")
    .bye()
    .await;
    record(&sim, Kind::Registered, |r| {
        r.device.as_deref() == Some("Aw9oB4n7zB/auto-7")
    })
    .await;
    assert!(sim.registry().device(PID, "auto-7").is_some());
    // A device-level token for an unknown device is refused (1107).
    let p = params("ghost", PRODUCT_KEY, 1_764_000_000, 3600);
    assert_eq!(
        connect(
            sim.addr(),
            &p.client_id,
            &p.username,
            &p.password.expose(),
            120
        )
        .await
        .err(),
        Some(4)
    );
    record(&sim, Kind::Refused, |r| {
        r.message.as_deref().is_some_and(|m| m.starts_with("1107"))
    })
    .await;
}
