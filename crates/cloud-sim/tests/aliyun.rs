//! Aliyun: login checks, Alink replies, NTP, downlinks and dynamic registration.

mod common;

use cloud_aliyun::auth::{dynreg_credentials, ClientId, HexCase, SignMethod};
use cloud_aliyun::dynreg::{connwl_client_id, register_client_id, RegisterMode};
use cloud_sim::{Clock, Cloud, CloudSim, Config, Kind, Registry};
use common::{connect, file, record};
use serde_json::{json, Value};
use thing_model::{Downlink, Secret};

const PK: &str = "a1B2c3D4e5F";
const DS: &str = "0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_764_000_000_000;
// Known answer from the Node SDK 1.2.4 (shared/clouds/aliyun.md §6).
const CID: &str =
    "dev-001|securemode=3,signmethod=hmacsha1,timestamp=1700000000000,lan=NodeJS,_v=1.2.4|";
const PW: &str = "7feb9efe445ec8a37141f2e327a70397c6d20f9e";

const TSL: &str = r#"{
  "schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
  "profile": {"productKey": "a1B2c3D4e5F"},
  "properties": [
    {"identifier": "LightSwitch", "name": "switch", "accessMode": "rw", "required": false,
     "dataType": {"type": "bool", "specs": {"0": "off", "1": "on"}}},
    {"identifier": "Brightness", "name": "brightness", "accessMode": "rw", "required": false,
     "dataType": {"type": "int", "specs": {"min": "0", "max": "100", "step": "1"}}}
  ],
  "events": [
    {"identifier": "post", "name": "post", "type": "info", "required": true,
     "method": "thing.event.property.post", "outputData": []},
    {"identifier": "Error", "name": "error", "type": "error", "required": false,
     "method": "thing.event.Error.post",
     "outputData": [{"identifier": "ErrorCode", "name": "code", "dataType": {"type": "int", "specs": {"min": "0", "max": "9"}}}]}
  ],
  "services": [
    {"identifier": "Reboot", "name": "reboot", "required": false, "callType": "async",
     "method": "thing.service.Reboot", "inputData": [], "outputData": []}
  ]
}"#;

async fn sim() -> (tempfile::TempDir, CloudSim) {
    let (dir, _) = file("light.tsl.json", TSL);
    let reg_text = format!(
        r#"
        cloud = "aliyun"
        [[product]]
        id = "{PK}"
        secret = "ProdSecret012345"
        dynamic_registration = true
        model = "light.tsl.json"
        [[device]]
        product = "{PK}"
        name = "dev-001"
        secret = "{DS}"
        [[device]]
        product = "{PK}"
        name = "fresh-01"
        "#
    );
    let path = dir.path().join("registry.toml");
    std::fs::write(&path, reg_text).unwrap();
    let reg = Registry::load(&path, Cloud::Aliyun, None).unwrap();
    let mut config = Config::new(Cloud::Aliyun, reg);
    config.clock = Clock::fixed(NOW);
    (dir, CloudSim::start(config).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accepts_the_right_signature_and_refuses_with_the_cloud_codes() {
    let (_d, sim) = sim().await;
    let a = sim.addr();
    let user = format!("dev-001&{PK}");
    connect(a, CID, &user, PW, 60)
        .await
        .expect("right credentials")
        .bye()
        .await;
    record(&sim, Kind::Connect, |r| {
        r.device.as_deref() == Some("a1B2c3D4e5F/dev-001")
    })
    .await;

    let wrong_pw = PW.replace('7', "8");
    assert_eq!(
        connect(a, CID, &user, &wrong_pw, 60).await.err(),
        Some(4),
        "wrong password"
    );
    // Signed for another client id: the signature no longer matches.
    let other_cid = CID.replace("dev-001|", "dev-002|");
    assert_eq!(
        connect(a, &other_cid, &user, PW, 60).await.err(),
        Some(4),
        "mismatched client id"
    );
    assert_eq!(
        connect(a, CID, &format!("dev-009&{PK}"), PW, 60)
            .await
            .err(),
        Some(4),
        "unknown device"
    );
    assert_eq!(
        connect(a, CID, "dev-001", PW, 60).await.err(),
        Some(4),
        "user name without &"
    );
    assert_eq!(
        connect(a, CID, &user, PW, 10).await.err(),
        Some(2),
        "keep-alive below 30 s"
    );
    // A device with no secret cannot log in with one.
    let cid = ClientId::parse("x|securemode=3,signmethod=hmacsha1|").unwrap();
    let creds = cloud_aliyun::auth::device_credentials(
        PK,
        "fresh-01",
        &Secret::new(DS),
        &cid,
        HexCase::Lower,
    );
    assert_eq!(
        connect(
            a,
            &creds.client_id,
            &creds.username,
            creds.password.expose(),
            60
        )
        .await
        .err(),
        Some(5)
    );

    let refused = record(&sim, Kind::Refused, |r| r.code == Some(4)).await;
    assert!(refused.message.is_some());
    let log = serde_json::to_string(&sim.records()).unwrap();
    assert!(
        !log.contains(PW) && !log.contains(&wrong_pw) && !log.contains(DS),
        "a secret reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_get_post_reply_checked_against_the_tsl() {
    let (_d, sim) = sim().await;
    let mut dev = connect(sim.addr(), CID, &format!("dev-001&{PK}"), PW, 60)
        .await
        .unwrap();
    let base = format!("/sys/{PK}/dev-001/thing/event");
    dev.subscribe(&format!("{base}/+/post_reply")).await;

    dev.publish(&format!("{base}/property/post"), r#"{"id":"1","version":"1.0","params":{"LightSwitch":1,"Brightness":{"value":55,"time":1}},"method":"thing.event.property.post"}"#).await;
    let (topic, reply) = dev.next_json().await;
    assert_eq!(topic, format!("{base}/property/post_reply"));
    assert_eq!(
        reply,
        json!({"code":200,"data":{},"id":"1","message":"success","method":"thing.event.property.post","version":"1.0"})
    );
    assert_eq!(
        serde_json::to_string(&reply).unwrap(),
        r#"{"code":200,"data":{},"id":"1","message":"success","method":"thing.event.property.post","version":"1.0"}"#
    );

    dev.publish(
        &format!("{base}/property/post"),
        r#"{"id":"2","version":"1.0","params":{"Brightness":101}}"#,
    )
    .await;
    let (_, reply) = dev.next_json().await;
    assert_eq!(
        (reply["id"].clone(), reply["code"].clone()),
        (json!("2"), json!(6813))
    );
    assert_eq!(reply["message"], "The format of result is error!");
    let logged = record(&sim, Kind::Uplink, |r| r.code == Some(6813)).await;
    assert!(
        logged.message.unwrap().contains("Brightness"),
        "the log says which property broke the model"
    );

    dev.publish(
        &format!("{base}/property/post"),
        r#"{"id":"3","version":"1.0","params":[]}"#,
    )
    .await;
    assert_eq!(dev.next_json().await.1["code"], 460);

    dev.publish(
        &format!("{base}/Error/post"),
        r#"{"id":"4","version":"1.0","params":{"value":{"ErrorCode":3}}}"#,
    )
    .await;
    let (topic, reply) = dev.next_json().await;
    assert_eq!(
        (topic, reply["code"].clone(), reply["method"].clone()),
        (
            format!("{base}/Error/post_reply"),
            json!(200),
            json!("thing.event.Error.post")
        )
    );

    // sys.ack = 0: no reply; the next answer is the NTP one.
    dev.publish(
        &format!("{base}/property/post"),
        r#"{"id":"5","version":"1.0","sys":{"ack":0},"params":{"LightSwitch":0}}"#,
    )
    .await;
    dev.subscribe(&format!("/ext/ntp/{PK}/dev-001/response"))
        .await;
    dev.publish(
        &format!("/ext/ntp/{PK}/dev-001/request"),
        r#"{"deviceSendTime":"1234"}"#,
    )
    .await;
    let (topic, ntp) = dev.next_json().await;
    assert_eq!(topic, format!("/ext/ntp/{PK}/dev-001/response"));
    assert_eq!(
        ntp,
        json!({"deviceSendTime":"1234","serverRecvTime":NOW.to_string(),"serverSendTime":NOW.to_string()})
    );
    dev.bye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downlinks_reach_the_device_and_answers_are_logged() {
    let (_d, sim) = sim().await;
    let mut dev = connect(sim.addr(), CID, &format!("dev-001&{PK}"), PW, 60)
        .await
        .unwrap();
    let svc = format!("/sys/{PK}/dev-001/thing/service");
    dev.subscribe(&format!("{svc}/property/set")).await;
    dev.subscribe(&format!("{svc}/Reboot")).await;

    let mut values = serde_json::Map::new();
    values.insert("LightSwitch".into(), json!(1));
    let sent = sim
        .send_downlink(
            "a1B2c3D4e5F/dev-001",
            Downlink::Set {
                id: String::new(),
                values,
                service: None,
            },
        )
        .await
        .unwrap();
    let (topic, req) = dev.next_json().await;
    assert_eq!(topic, format!("{svc}/property/set"));
    assert_eq!(
        req,
        json!({"id": sent.id, "version":"1.0","params":{"LightSwitch":1},"method":"thing.service.property.set"})
    );
    dev.publish(
        &format!("{svc}/property/set_reply"),
        json!({"id": sent.id, "code": 200, "data": {}}).to_string(),
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(
        (
            answer.code,
            answer.what.as_deref(),
            answer.device.as_deref()
        ),
        (Some(200), Some("set"), Some("a1B2c3D4e5F/dev-001"))
    );

    let sent = sim
        .send_downlink(
            "dev-001",
            Downlink::Call {
                id: String::new(),
                name: "Reboot".into(),
                params: Default::default(),
                service: None,
            },
        )
        .await
        .unwrap();
    let (topic, req) = dev.next_json().await;
    assert_eq!(
        (topic, req["method"].clone()),
        (format!("{svc}/Reboot"), json!("thing.service.Reboot"))
    );
    dev.publish(
        &format!("{svc}/Reboot_reply"),
        json!({"id": sent.id, "code": 200, "data": {"Result": 1}}).to_string(),
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(
        (
            answer.what.as_deref(),
            answer.payload.unwrap()["data"]["Result"].clone()
        ),
        (Some("call"), json!(1))
    );

    let err = sim
        .send_downlink(
            "nobody",
            Downlink::Get {
                id: String::new(),
                names: vec![],
                service: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("unknown device `nobody`"),
        "{err}"
    );
    dev.bye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_registration_issues_secrets_that_then_log_in() {
    let (_d, sim) = sim().await;
    let ps = Secret::new("ProdSecret012345");
    // register: a pre-registered device without a secret gets one.
    let cid = register_client_id(
        PK,
        "fresh-01",
        RegisterMode::Register,
        "123456789",
        2,
        SignMethod::HmacSha256,
        None,
    );
    let creds = dynreg_credentials(PK, "fresh-01", &ps, &cid, HexCase::Upper);
    let mut dev = connect(
        sim.addr(),
        &creds.client_id,
        &creds.username,
        creds.password.expose(),
        0,
    )
    .await
    .unwrap();
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, "/ext/register");
    let secret = body["deviceSecret"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            body["productKey"].clone(),
            body["deviceName"].clone(),
            secret.len()
        ),
        (json!(PK), json!("fresh-01"), 32)
    );
    dev.bye().await;
    record(&sim, Kind::Registered, |r| {
        r.device.as_deref() == Some("a1B2c3D4e5F/fresh-01")
    })
    .await;
    let login =
        ClientId::parse("fresh-01|securemode=3,signmethod=hmacsha256,timestamp=1|").unwrap();
    let c = cloud_aliyun::auth::device_credentials(
        PK,
        "fresh-01",
        &Secret::new(secret.as_str()),
        &login,
        HexCase::Lower,
    );
    connect(
        sim.addr(),
        &c.client_id,
        &c.username,
        c.password.expose(),
        60,
    )
    .await
    .expect("login with the issued secret")
    .bye()
    .await;

    // A wrong product-secret signature is refused.
    let bad = dynreg_credentials(PK, "fresh-01", &Secret::new("wrong"), &cid, HexCase::Upper);
    assert_eq!(
        connect(
            sim.addr(),
            &bad.client_id,
            &bad.username,
            bad.password.expose(),
            60
        )
        .await
        .err(),
        Some(4)
    );

    // regnwl: an unknown device gets a client id and token, then logs in with connwl.
    let cid = register_client_id(
        PK,
        "new-02",
        RegisterMode::Regnwl,
        "42",
        2,
        SignMethod::HmacSha256,
        None,
    );
    let creds = dynreg_credentials(PK, "new-02", &ps, &cid, HexCase::Lower);
    let mut dev = connect(
        sim.addr(),
        &creds.client_id,
        &creds.username,
        creds.password.expose(),
        60,
    )
    .await
    .unwrap();
    dev.subscribe("/ext/regnwl").await;
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, "/ext/regnwl");
    let (issued, token) = (
        body["clientId"].as_str().unwrap().to_owned(),
        body["deviceToken"].as_str().unwrap().to_owned(),
    );
    dev.bye().await;
    let connwl = connwl_client_id(&issued, &[]).to_string();
    let user = format!("new-02&{PK}");
    connect(sim.addr(), &connwl, &user, &token, 60)
        .await
        .expect("connwl with the token")
        .bye()
        .await;
    assert_eq!(
        connect(sim.addr(), &connwl, &user, "not-the-token", 60)
            .await
            .err(),
        Some(4)
    );
    let log: Vec<Value> = sim
        .records()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains(&secret) && !text.contains(&token),
        "issued credentials reached the log"
    );
}
