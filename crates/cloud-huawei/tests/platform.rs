//! The Platform implementation: encode/decode round trips, time sync,
//! provisioning, server-side verification, module-side AT, and masking.

use cloud_huawei::at::QmtCfg;
use cloud_huawei::auth::{ClientId, DeviceSecretAuth, HourStamp, IdType, SignType};
use cloud_huawei::model::ProductModel;
use cloud_huawei::payload::{self, Events, TimeSyncResponse};
use cloud_huawei::provision::{BootstrapReply, ProductSecretAuth, RegistrationGroup};
use cloud_huawei::topics::{DownTopic, Topics, UpTopic};
use cloud_huawei::{HuaweiPlatform, Login, Secret};
use serde_json::{json, Value};
use thing_model::{
    parse_uplink_line, ConnectVerdict, Downlink, ModuleAuth, Payload, Platform, PlatformError,
    ReplyTo, Uplink, UplinkBody,
};

const API: &str = include_str!("fixtures/api_all_types.json");
const DEV: &str = "5f1a2b3c4d_dev001";
const SECRET: &str = "not-the-vector-secret";
const NOW: i64 = 1_764_003_600_000; // 2025-11-24T17:00:00Z

fn device(sign: SignType) -> DeviceSecretAuth {
    DeviceSecretAuth::new(DEV, Secret::new(SECRET), sign).unwrap()
}

fn platform() -> HuaweiPlatform {
    HuaweiPlatform::new(
        "iot.example",
        8883,
        Login::Device(device(SignType::NoTimestampCheck)),
    )
    .unwrap()
    .with_model(ProductModel::from_api_json(API).unwrap())
}

fn body(p: &thing_model::Publish) -> Value {
    serde_json::from_slice(&p.payload).unwrap()
}

#[test]
fn property_report_is_grouped_by_service_and_validated() {
    let p = platform().with_default_service("Climate");
    let up = parse_uplink_line(
        r#"{"properties":{"temp":21.5,"voltage":3.3,"level":7},"time":1764003600000}"#,
    )
    .unwrap();
    let publish = p.encode(&up, 1).unwrap();
    assert_eq!(
        publish.topic,
        format!("$oc/devices/{DEV}/sys/properties/report")
    );
    assert_eq!((publish.qos, publish.expects_ack), (1, false));
    let b = body(&publish);
    let services = b["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["service_id"], "Climate");
    assert_eq!(services[0]["properties"], json!({"temp": 21.5, "level": 7}));
    assert_eq!(services[0]["event_time"], "20251124T170000Z");
    assert_eq!(services[1]["service_id"], "Battery");
    // The report parses back into the payload struct.
    let back: payload::PropertiesReport = payload::from_json("report", &publish.payload).unwrap();
    assert_eq!(back.services[1].properties["voltage"], json!(3.3));

    let err = p
        .encode(
            &parse_uplink_line(r#"{"properties":{"voltage":9}}"#).unwrap(),
            2,
        )
        .unwrap_err();
    assert!(matches!(err, PlatformError::Validation(_)), "{err}");
    assert!(
        err.to_string().contains("voltage") && err.to_string().contains('5'),
        "{err}"
    );
    // Without a default service, an ambiguous name is refused; "service" resolves it.
    let p = platform();
    let err = p
        .encode(
            &parse_uplink_line(r#"{"properties":{"level":1}}"#).unwrap(),
            3,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("Battery") && err.to_string().contains("Climate"),
        "{err}"
    );
    let ok = p
        .encode(
            &parse_uplink_line(r#"{"properties":{"level":1},"service":"Battery"}"#).unwrap(),
            3,
        )
        .unwrap();
    assert_eq!(body(&ok)["services"][0]["service_id"], "Battery");
    let mut up = parse_uplink_line(r#"{"properties":{"level":1},"service":"Battery"}"#).unwrap();
    up.qos = Some(2);
    assert!(p
        .encode(&up, 4)
        .unwrap_err()
        .to_string()
        .contains("only 0 and 1"));
}

#[test]
fn command_round_trip() {
    let p = platform();
    let topic = Topics::new(DEV).command("cmd-42");
    let payload = br#"{"service_id":"Climate","command_name":"SET_LEVEL","paras":{"value":5}}"#;
    let Some(Downlink::Call {
        id,
        name,
        params,
        service,
    }) = p.decode(&topic, payload).unwrap()
    else {
        panic!("expected a call");
    };
    assert_eq!(
        (id.as_str(), name.as_str(), service.as_deref()),
        ("cmd-42", "SET_LEVEL", Some("Climate"))
    );
    assert_eq!(params["value"], json!(5));
    let mut up = Uplink::reply(&id, 200, Some(json!({"result": "done"})));
    up.service = service;
    let UplinkBody::Reply(r) = &mut up.body else {
        unreachable!()
    };
    r.to = Some(ReplyTo::Call);
    r.name = Some(name);
    let publish = p.encode(&up, 9).unwrap();
    assert_eq!(
        publish.topic,
        format!("$oc/devices/{DEV}/sys/commands/response/request_id=cmd-42")
    );
    assert_eq!(
        body(&publish),
        json!({"result_code": 0, "response_name": "SET_LEVEL_RSP", "paras": {"result": "done"}})
    );
    // A failure code passes through; a reply without "to" is refused.
    let mut fail = up.clone();
    if let UplinkBody::Reply(r) = &mut fail.body {
        r.code = 503;
    }
    assert_eq!(body(&p.encode(&fail, 9).unwrap())["result_code"], 503);
    let err = p
        .encode(&Uplink::reply("cmd-42", 200, None), 9)
        .unwrap_err();
    assert!(err.to_string().contains("\"to\""), "{err}");
    let err = p.decode(&topic, b"{\"paras\":{}}").unwrap_err();
    assert!(err.to_string().contains("command_name"), "{err}");
}

#[test]
fn property_set_and_get_round_trip() {
    let p = platform();
    let t = Topics::new(DEV);
    let set = br#"{"object_device_id":"x","services":[{"service_id":"Climate","properties":{"on":false}}]}"#;
    let Some(Downlink::Set {
        id,
        values,
        service,
    }) = p.decode(&t.property_set("7"), set).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (id.as_str(), service.as_deref(), &values["on"]),
        ("7", Some("Climate"), &json!(false))
    );
    let mut up = Uplink::reply("7", 200, None);
    if let UplinkBody::Reply(r) = &mut up.body {
        r.to = Some(ReplyTo::Set);
        r.message = Some("success".into());
    }
    let publish = p.encode(&up, 1).unwrap();
    assert_eq!(
        t.parse_up(&publish.topic).unwrap(),
        UpTopic::PropertySetResponse("7".into())
    );
    assert_eq!(
        body(&publish),
        json!({"result_code": 0, "result_desc": "success"})
    );

    let Some(Downlink::Get { id, names, service }) = p
        .decode(&t.property_get("8"), br#"{"service_id":"Battery"}"#)
        .unwrap()
    else {
        panic!()
    };
    assert!(names.is_empty());
    let mut up = Uplink::reply(&id, 200, Some(json!({"level": 80})));
    up.service = service;
    if let UplinkBody::Reply(r) = &mut up.body {
        r.to = Some(ReplyTo::Get);
    }
    let publish = p.encode(&up, 1).unwrap();
    assert_eq!(publish.topic, t.property_get_response("8"));
    assert_eq!(
        body(&publish),
        json!({"services": [{"service_id": "Battery", "properties": {"level": 80}}]})
    );
    let twice = br#"{"services":[{"service_id":"Climate","properties":{"level":1}},{"service_id":"Battery","properties":{"level":2}}]}"#;
    assert!(p
        .decode(&t.property_set("9"), twice)
        .unwrap_err()
        .to_string()
        .contains("more than one service"));
}

#[test]
fn events_and_time_sync() {
    let p = platform();
    let up = Uplink::event(
        "overheat",
        json!({"temp": 90.5}).as_object().unwrap().clone(),
    );
    let publish = p.encode(&up, 1).unwrap();
    assert_eq!(publish.topic, format!("$oc/devices/{DEV}/sys/events/up"));
    let ev: Events = payload::from_json("events", &publish.payload).unwrap();
    assert_eq!(
        (
            ev.services[0].service_id.as_str(),
            ev.services[0].event_type.as_str()
        ),
        ("Climate", "overheat")
    );
    let err = p
        .encode(
            &Uplink::event(
                "overheat",
                json!({"temp": 900}).as_object().unwrap().clone(),
            ),
            1,
        )
        .unwrap_err();
    assert!(err.to_string().contains("temp"), "{err}");

    let req = p.time_request(1_582_685_678_789, 5).unwrap();
    let ev: Events = payload::from_json("events", &req.payload).unwrap();
    assert_eq!(ev.services[0].service_id, payload::TIME_SYNC_SERVICE);
    assert_eq!(
        ev.services[0].paras["device_send_time"],
        json!(1_582_685_678_789_i64)
    );
    let down = json!({"services": [{"service_id": "$time_sync", "event_type": "time_sync_response",
        "event_time": "20200226T030000Z",
        "paras": {"device_send_time": 1000, "server_recv_time": 5000, "server_send_time": 5200}}]});
    let bytes = down.to_string().into_bytes();
    let Some(Downlink::Time(t)) = p.decode(&Topics::new(DEV).events_down(), &bytes).unwrap() else {
        panic!()
    };
    let events: Events = payload::from_json("events", &bytes).unwrap();
    let ours = TimeSyncResponse::from_events(&events).unwrap().unwrap();
    // (5000 + 5200 + device_recv − 1000) / 2, in both implementations.
    assert_eq!(ours.device_time(1400), (5000 + 5200 + 1400 - 1000) / 2);
    assert_eq!(t.utc_ms(1400), ours.device_time(1400));
    // Other events and unknown topics come through raw.
    let other = br#"{"services":[{"service_id":"$ota","event_type":"version_query","paras":{}}]}"#;
    assert!(matches!(
        p.decode(&Topics::new(DEV).events_down(), other).unwrap(),
        Some(Downlink::Raw { .. })
    ));
    let Some(Downlink::Raw { payload, .. }) = p.decode("elsewhere/topic", b"hello!").unwrap()
    else {
        panic!()
    };
    assert_eq!(payload, Payload::Text("hello!".into()));
}

#[test]
fn topics_parse_back() {
    let t = Topics::new(DEV);
    assert_eq!(
        t.parse_down(&t.command("a=b")).unwrap(),
        DownTopic::Command {
            request_id: "a=b".into()
        }
    );
    assert_eq!(
        t.parse_down(&t.shadow_get_response("3")).unwrap(),
        DownTopic::ShadowGetResponse {
            request_id: "3".into()
        }
    );
    assert_eq!(
        t.parse_down(&t.messages_down()).unwrap(),
        DownTopic::MessageDown
    );
    assert_eq!(
        t.parse_down(&format!("$oc/devices/{DEV}/user/x/y"))
            .unwrap(),
        DownTopic::User("x/y".into())
    );
    assert_eq!(
        t.parse_up(&format!("{}?request_id=1", t.properties_report()))
            .unwrap(),
        UpTopic::PropertiesReport
    );
    assert_eq!(
        t.parse_up(&t.shadow_get("4")).unwrap(),
        UpTopic::ShadowGet("4".into())
    );
    assert_eq!(
        t.parse_up(&t.gateway_report()).unwrap(),
        UpTopic::GatewayReport
    );
    for bad in [
        "$oc/devices/other/sys/messages/down",
        &format!("$oc/devices/{DEV}/sys/commands/request_id="),
        &format!("$oc/devices/{DEV}/sys/nope"),
    ] {
        assert!(t.parse_down(bad).is_err(), "{bad}");
    }
    assert_eq!(t.subscriptions().len(), 6);
}

#[test]
fn payload_structs_round_trip() {
    let samples = [
        json!({"devices":[{"device_id":"bf40","services":[{"service_id":"analog","properties":{"a":"1"},"event_time":"20190606T121212Z"}]}]}),
        json!({"object_device_id":"d","name":"n","id":"i","content":"hello!"}),
        json!({"object_device_id":"d","shadow":[{"service_id":"W","desired":{"properties":{"t":"60"},"event_time":"20151212T121212Z"},"reported":{"properties":{"t":"60"}},"version":1}]}),
    ];
    let gw: payload::GatewayReport = serde_json::from_value(samples[0].clone()).unwrap();
    gw.check().unwrap();
    assert_eq!(serde_json::to_value(&gw).unwrap(), samples[0]);
    let msg: payload::DeviceMessage = serde_json::from_value(samples[1].clone()).unwrap();
    assert_eq!(serde_json::to_value(&msg).unwrap(), samples[1]);
    let sh: payload::ShadowResponse = serde_json::from_value(samples[2].clone()).unwrap();
    assert_eq!(serde_json::to_value(&sh).unwrap(), samples[2]);
    let big = payload::GatewayReport {
        devices: vec![gw.devices[0].clone(); 101],
    };
    assert!(big
        .check()
        .unwrap_err()
        .to_string()
        .contains("the limit is 100"));
    let ms = payload::parse_event_time("20151212T121212Z").unwrap();
    assert_eq!(payload::format_event_time(ms).unwrap(), "20151212T121212Z");
    assert_eq!(
        payload::parse_event_time("2015-12-12T12:12:12.000Z").unwrap(),
        ms
    );
    assert!(payload::parse_event_time("2015-12-12")
        .unwrap_err()
        .to_string()
        .contains("event_time"));
}

#[test]
fn verification_refuses_with_the_right_code() {
    let p =
        HuaweiPlatform::new("h", 8883, Login::Device(device(SignType::TimestampCheck))).unwrap();
    let ok = p.connect(NOW).unwrap();
    let check =
        |cid: &str, user: &str, pw: &str, now: i64| p.verify_connect(cid, user, pw.as_bytes(), now);
    assert!(check(&ok.client_id, &ok.username, ok.password.expose(), NOW).is_accept());
    // Sign type 1: three hours later the timestamp is refused (code 4).
    let later = check(
        &ok.client_id,
        &ok.username,
        ok.password.expose(),
        NOW + 3 * 3_600_000,
    );
    assert!(
        matches!(&later, ConnectVerdict::Refuse { code: 4, reason } if reason.contains("sign type 1")),
        "{later:?}"
    );
    assert!(matches!(
        check("garbage", DEV, "x", NOW),
        ConnectVerdict::Refuse { code: 2, .. }
    ));
    assert!(matches!(
        check(&ok.client_id, "someone", ok.password.expose(), NOW),
        ConnectVerdict::Refuse { code: 4, .. }
    ));
    let bridge = ok.client_id.replacen("_0_1_", "_3_1_", 1);
    assert!(matches!(
        check(&bridge, DEV, ok.password.expose(), NOW),
        ConnectVerdict::Refuse { code: 5, .. }
    ));
    let Ok(parsed) = ClientId::parse(&ok.client_id) else {
        panic!()
    };
    assert_eq!(
        (parsed.device_id.as_str(), parsed.id_type),
        (DEV, IdType::DeviceId)
    );
    // Secrets never show in refusals.
    if let ConnectVerdict::Refuse { reason, .. } = check(&ok.client_id, DEV, "wrong", NOW) {
        assert!(!reason.contains(SECRET));
    }
}

#[test]
fn bootstrap_flow_for_a_registration_group() {
    let b64 = Secret::new("Z3JvdXAtc2VjcmV0"); // "group-secret"
    let group = RegistrationGroup::new("scope01", &b64).unwrap();
    let login = Login::Group {
        group: group.clone(),
        device_id: DEV.into(),
        sign: SignType::NoTimestampCheck,
        keyword: Some("kw".into()),
        bootstrap: ("bs.example".into(), 8883),
    };
    let mut p = HuaweiPlatform::new("unused", 8883, login).unwrap();
    let shown = format!("{p:?}");
    assert!(
        !shown.contains("Z3JvdXAtc2VjcmV0") && !shown.contains("103, 114, 111"),
        "{shown}"
    );
    assert!(p.connect(NOW).is_err());
    assert!(matches!(
        p.module_connect(),
        Err(PlatformError::NotSupported(_))
    ));
    let step = p.provision(NOW, "r").unwrap().unwrap();
    assert_eq!(step.publish[0].payload, br#"{"baseStrategyKeyword":"kw"}"#);
    let down = Topics::new(DEV).bootstrap_down();
    assert_eq!(step.subscribe[0].topic, down);
    let fail = p
        .provision_response(&down, br#"{"errorCode":"100414","errorMsg":"no match"}"#)
        .unwrap_err();
    assert_eq!(
        fail,
        PlatformError::Cloud {
            code: 100414,
            message: "no match".into()
        }
    );
    let got = p
        .provision_response(&down, br#"{"address":"10.0.0.1:8883","initConfig":"{}"}"#)
        .unwrap()
        .unwrap();
    p.apply_provisioned(&got).unwrap();
    let c = p.connect(NOW).unwrap();
    assert_eq!((c.host.as_str(), c.port), ("10.0.0.1", 8883));
    let derived = group.device_secret(DEV).unwrap();
    let expect = DeviceSecretAuth::new(DEV, derived, SignType::NoTimestampCheck).unwrap();
    assert_eq!(
        c.password,
        expect
            .credentials(HourStamp::from_unix_ms(NOW).unwrap())
            .password
    );
    let with_secret =
        BootstrapReply::parse(br#"{"address":"h:1","deviceSecret":"given"}"#).unwrap();
    let auth = group
        .device_auth(DEV, &with_secret, SignType::NoTimestampCheck)
        .unwrap();
    assert_eq!(auth.secret().expose(), "given");
    assert!(BootstrapReply::parse(br#"{"address":"nohost"}"#)
        .unwrap_err()
        .to_string()
        .contains("host:port"));
    assert!(RegistrationGroup::new("s", &Secret::new("%%%"))
        .unwrap_err()
        .to_string()
        .contains("base64"));
}

#[test]
fn module_side_at_commands_and_masking() {
    let auth = device(SignType::TimestampCheck);
    let cfg = QmtCfg::hwauth(0, &auth, true).unwrap();
    assert_eq!(
        cfg.line_with_secret().expose(),
        format!("AT+QMTCFG=\"hwauth\",0,\"{DEV}\",\"{SECRET}\",1")
    );
    assert!(!format!("{cfg:?}").contains(SECRET));
    let prod = ProductSecretAuth::new(
        "5f1a2b3c4d",
        "dev001",
        Secret::new(SECRET),
        SignType::NoTimestampCheck,
    )
    .unwrap();
    let cfg = QmtCfg::hwprodid(5, &prod, false).unwrap();
    assert_eq!(
        cfg.redacted(),
        "AT+QMTCFG=\"hwprodid\",5,\"5f1a2b3c4d\",\"***\",\"dev001\""
    );
    assert!(QmtCfg::hwprodid(6, &prod, false)
        .unwrap_err()
        .to_string()
        .contains("0..=5"));
    let quoted =
        DeviceSecretAuth::new(DEV, Secret::new("a\"b"), SignType::NoTimestampCheck).unwrap();
    let err = QmtCfg::hwauth(0, &quoted, false).unwrap_err().to_string();
    assert!(
        err.starts_with("device_secret:") && !err.contains("a\"b"),
        "{err}"
    );

    let p = HuaweiPlatform::new("h", 1883, Login::Product(prod)).unwrap();
    let m = p.module_connect().unwrap();
    assert!(matches!(&m.auth, ModuleAuth::HuaweiProduct { node_id, .. } if node_id == "dev001"));
    assert!(!m.tls);
    for shown in [
        format!("{p:?}"),
        format!("{m:?}"),
        format!("{:?}", p.provision(NOW, "r").unwrap()),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
}

#[test]
fn bad_inputs_name_the_field_and_limit() {
    let e = |r: Result<DeviceSecretAuth, cloud_huawei::Error>| r.unwrap_err().to_string();
    assert_eq!(
        e(DeviceSecretAuth::new(
            "",
            Secret::new("s"),
            SignType::NoTimestampCheck
        )),
        "device_id must not be empty"
    );
    assert_eq!(
        e(DeviceSecretAuth::new(
            &"d".repeat(129),
            Secret::new("s"),
            SignType::NoTimestampCheck
        )),
        "device_id is 129 characters long; the limit is 128"
    );
    assert!(e(DeviceSecretAuth::new(
        "a b",
        Secret::new("s"),
        SignType::NoTimestampCheck
    ))
    .starts_with("device_id contains ' '"));
    assert_eq!(
        e(DeviceSecretAuth::new(
            "d",
            Secret::new(""),
            SignType::NoTimestampCheck
        )),
        "device_secret must not be empty"
    );
    for bad in ["2026112424", "2026023012", "202611241", "20261124xx"] {
        assert!(
            HourStamp::parse(bad)
                .unwrap_err()
                .to_string()
                .starts_with("timestamp:"),
            "{bad}"
        );
    }
    assert!(ProductSecretAuth::new(
        &"p".repeat(37),
        "n",
        Secret::new("s"),
        SignType::NoTimestampCheck
    )
    .unwrap_err()
    .to_string()
    .contains("limit is 36"));
    let keep = HuaweiPlatform::new("h", 8883, Login::Device(device(SignType::NoTimestampCheck)))
        .unwrap()
        .with_keepalive(20);
    assert!(keep.unwrap_err().to_string().contains("30..=1200"));
}
