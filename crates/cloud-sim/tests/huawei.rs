//! Huawei IoTDA: hour-stamped logins, reply-less reports, `$time_sync`, shadow, commands,
//! the legacy product-secret (`secretNotify`) flow and the IoTDP bootstrap.

mod common;

use cloud_huawei::auth::{password, DeviceSecretAuth, HourStamp, SignType};
use cloud_huawei::provision::{ProductSecretAuth, RegistrationGroup};
use cloud_sim::{Clock, Cloud, CloudSim, Config, Kind, Registry};
use common::{connect, record};
use serde_json::json;
use thing_model::{Downlink, Secret};

const DEV: &str = "5f1a2b3c4d_dev001";
const SECRET: &str = "s3cr3t-Passw0rd";
// Known answer (shared/clouds/huawei.md §0): hour 2026112417.
const PW: &str = "33f6ffb857a32d7f590e69972ad908e23ad563e600aece5eeaee42f74e981b3f";

fn now() -> i64 {
    HourStamp::parse("2026112417")
        .unwrap()
        .start()
        .timestamp_millis()
        + 30 * 60 * 1000
}

async fn sim() -> CloudSim {
    let text = format!(
        "cloud = \"huawei\"\n\
         [[product]]\nid = \"5f1a2b3c4d\"\nsecret = \"pr0duct-Secret\"\ndynamic_registration = true\n\
         [[device]]\nproduct = \"5f1a2b3c4d\"\nname = \"dev001\"\nsecret = \"{SECRET}\"\n\
         [[group]]\nscope_id = \"f67f8df43c4a\"\nsecret = \"cHIwZHVjdC1TZWNyZXQ=\"\n"
    );
    let reg = Registry::from_toml(&text, Cloud::Huawei, ".".as_ref()).unwrap();
    let mut config = Config::new(Cloud::Huawei, reg);
    config.clock = Clock::fixed(now());
    CloudSim::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_checked_with_the_hour_and_refused_with_the_iotda_codes() {
    let sim = sim().await;
    let a = sim.addr();
    for sign in ["0", "1"] {
        let cid = format!("{DEV}_0_{sign}_2026112417");
        connect(a, &cid, DEV, PW, 120)
            .await
            .unwrap_or_else(|c| panic!("sign {sign}: refused {c}"))
            .bye()
            .await;
    }
    // Sign type 1 checks the hour: seven hours off is refused, even with a matching password.
    let old = password(SignType::TimestampCheck, "2026112410", SECRET);
    assert_eq!(
        connect(a, &format!("{DEV}_0_1_2026112410"), DEV, old.expose(), 120)
            .await
            .err(),
        Some(4),
        "expired stamp"
    );
    // Sign type 0 does not.
    connect(a, &format!("{DEV}_0_0_2026112410"), DEV, old.expose(), 120)
        .await
        .expect("sign 0 ignores the hour")
        .bye()
        .await;
    let wrong = PW.replace('3', "4");
    assert_eq!(
        connect(a, &format!("{DEV}_0_0_2026112417"), DEV, &wrong, 120)
            .await
            .err(),
        Some(4),
        "wrong password"
    );
    assert_eq!(
        connect(a, &format!("{DEV}_0_0_2026112417"), "someone-else", PW, 120)
            .await
            .err(),
        Some(4),
        "user name mismatch"
    );
    assert_eq!(
        connect(a, "not-a-huawei-id", DEV, PW, 120).await.err(),
        Some(2),
        "client id format"
    );
    assert_eq!(
        connect(a, &format!("{DEV}_0_0_2026112417"), DEV, PW, 10)
            .await
            .err(),
        Some(2),
        "keep-alive below 30 s"
    );
    assert_eq!(
        connect(
            a,
            "5f1a2b3c4d_ghost_0_0_2026112417",
            "5f1a2b3c4d_ghost",
            PW,
            120
        )
        .await
        .err(),
        Some(4),
        "unknown device"
    );
    let text = serde_json::to_string(&sim.records()).unwrap();
    assert!(
        !text.contains(PW) && !text.contains(SECRET),
        "a secret reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_get_no_reply_time_sync_and_shadow_are_answered() {
    let sim = sim().await;
    let mut dev = connect(sim.addr(), &format!("{DEV}_0_0_2026112417"), DEV, PW, 120)
        .await
        .unwrap();
    let t = format!("$oc/devices/{DEV}/sys");
    dev.subscribe(&format!("{t}/events/down")).await;
    dev.subscribe(&format!("{t}/shadow/get/response/#")).await;
    dev.publish(
        &format!("{t}/properties/report"),
        r#"{"services":[{"service_id":"Temperature","properties":{"value":57}}]}"#,
    )
    .await;
    dev.publish(&format!("{t}/events/up"), r#"{"services":[{"service_id":"$time_sync","event_type":"time_sync_request","paras":{"device_send_time":1582685678789}}]}"#).await;
    // The first message back is the time-sync answer: the report got none.
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, format!("{t}/events/down"));
    assert_eq!(
        body,
        json!({"services":[{"service_id":"$time_sync","event_type":"time_sync_response",
               "paras":{"device_send_time":1582685678789i64,"server_recv_time":now(),"server_send_time":now()}}]})
    );
    record(&sim, Kind::Uplink, |r| {
        r.what.as_deref() == Some("property_post")
    })
    .await;

    dev.publish(
        &format!("{t}/shadow/get/request_id=s1"),
        r#"{"service_id":"Temperature"}"#,
    )
    .await;
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, format!("{t}/shadow/get/response/request_id=s1"));
    assert_eq!(body["shadow"][0]["service_id"], "Temperature");
    assert_eq!(
        body["shadow"][0]["reported"]["properties"],
        json!({"value": 57})
    );
    dev.bye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_property_sets_reach_the_device_and_answers_are_logged() {
    let sim = sim().await;
    let mut dev = connect(sim.addr(), &format!("{DEV}_0_0_2026112417"), DEV, PW, 120)
        .await
        .unwrap();
    let t = format!("$oc/devices/{DEV}/sys");
    dev.subscribe(&format!("{t}/commands/+")).await;
    dev.subscribe(&format!("{t}/properties/set/+")).await;

    let mut paras = serde_json::Map::new();
    paras.insert("value".into(), json!("1"));
    let call = Downlink::Call {
        id: String::new(),
        name: "ON_OFF".into(),
        params: paras,
        service: Some("WaterMeter".into()),
    };
    let sent = sim.send_downlink(DEV, call).await.unwrap();
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, format!("{t}/commands/request_id={}", sent.id));
    assert_eq!(
        body,
        json!({"service_id":"WaterMeter","command_name":"ON_OFF","paras":{"value":"1"}})
    );
    dev.publish(
        &format!("{t}/commands/response/request_id={}", sent.id),
        r#"{"result_code":0,"response_name":"COMMAND_RESPONSE","paras":{"result":"success"}}"#,
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(
        (
            answer.code,
            answer.what.as_deref(),
            answer.device.as_deref()
        ),
        (Some(0), Some("call"), Some(DEV))
    );

    let set = Downlink::Set {
        id: String::new(),
        values: serde_json::from_value(json!({"value": 60})).unwrap(),
        service: None,
    };
    let err = sim
        .send_downlink(DEV, set.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a service id"), "{err}");
    let Downlink::Set { id, values, .. } = set else {
        unreachable!()
    };
    let sent = sim
        .send_downlink(
            DEV,
            Downlink::Set {
                id,
                values,
                service: Some("Temperature".into()),
            },
        )
        .await
        .unwrap();
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, format!("{t}/properties/set/request_id={}", sent.id));
    assert_eq!(
        body["services"],
        json!([{"service_id":"Temperature","properties":{"value":60}}])
    );
    dev.publish(
        &format!("{t}/properties/set/response/request_id={}", sent.id),
        r#"{"result_code":1,"result_desc":"busy"}"#,
    )
    .await;
    let answer = record(&sim, Kind::Answer, |r| r.id.as_deref() == Some(&sent.id)).await;
    assert_eq!(
        (answer.code, answer.what.as_deref()),
        (Some(1), Some("set"))
    );
    dev.bye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_secret_login_gets_a_device_secret_that_then_logs_in() {
    let sim = sim().await;
    let at = HourStamp::parse("2026112417").unwrap();
    let auth = ProductSecretAuth::new(
        "5f1a2b3c4d",
        "dev009",
        Secret::new("pr0duct-Secret"),
        SignType::NoTimestampCheck,
    )
    .unwrap();
    let c = auth.credentials(at);
    assert_eq!(c.username, "5f1a2b3c4d");
    let mut dev = connect(
        sim.addr(),
        &c.client_id,
        &c.username,
        c.password.expose(),
        120,
    )
    .await
    .unwrap();
    dev.subscribe(&auth.secret_notify_topic()).await;
    let (topic, body) = dev.next_json().await;
    assert_eq!(topic, auth.secret_notify_topic());
    assert_eq!(
        (body["msgType"].clone(), body["deviceid"].clone()),
        (json!("cloudSendSecret"), json!("5f1a2b3c4d_dev009"))
    );
    let secret = body["secret"].as_str().unwrap().to_owned();
    dev.publish(&auth.secret_ack_topic(), Vec::new()).await;
    record(&sim, Kind::Answer, |r| {
        r.what.as_deref() == Some("secret_ack")
    })
    .await;
    dev.bye().await;

    let d = DeviceSecretAuth::new(
        "5f1a2b3c4d_dev009",
        Secret::new(secret.as_str()),
        SignType::NoTimestampCheck,
    )
    .unwrap();
    let c = d.credentials(at);
    connect(
        sim.addr(),
        &c.client_id,
        &c.username,
        c.password.expose(),
        120,
    )
    .await
    .expect("login with the notified secret")
    .bye()
    .await;
    assert!(
        !serde_json::to_string(&sim.records())
            .unwrap()
            .contains(&secret),
        "the issued secret reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_group_bootstrap_points_back_at_the_simulator() {
    let sim = sim().await;
    let at = HourStamp::parse("2026112417").unwrap();
    let group =
        RegistrationGroup::new("f67f8df43c4a", &Secret::new("cHIwZHVjdC1TZWNyZXQ=")).unwrap();
    let device = "5f1a2b3c4d_boot01";
    let c = group
        .credentials(device, SignType::NoTimestampCheck, at)
        .unwrap();
    let mut dev = connect(
        sim.addr(),
        &c.client_id,
        &c.username,
        c.password.expose(),
        120,
    )
    .await
    .unwrap();
    let down = format!("$oc/devices/{device}/sys/bootstrap/down");
    dev.subscribe(&down).await;
    dev.publish(
        &format!("$oc/devices/{device}/sys/bootstrap/up"),
        Vec::new(),
    )
    .await;
    let (topic, body) = dev.next_json().await;
    assert_eq!(
        (topic, body["address"].clone()),
        (down, json!(sim.addr().to_string()))
    );
    dev.bye().await;

    let d = DeviceSecretAuth::new(
        device,
        group.device_secret(device).unwrap(),
        SignType::NoTimestampCheck,
    )
    .unwrap();
    let c = d.credentials(at);
    connect(
        sim.addr(),
        &c.client_id,
        &c.username,
        c.password.expose(),
        120,
    )
    .await
    .expect("IoTDA login after bootstrap")
    .bye()
    .await;
    // A group login with the wrong group secret is refused.
    let bad = RegistrationGroup::new("f67f8df43c4a", &Secret::new("d3Jvbmc="))
        .unwrap()
        .credentials(device, SignType::NoTimestampCheck, at)
        .unwrap();
    assert_eq!(
        connect(
            sim.addr(),
            &bad.client_id,
            &bad.username,
            bad.password.expose(),
            120
        )
        .await
        .err(),
        Some(4)
    );
}
