//! `OneNet` as a `thing_model::Platform`: connect/verify, encode/decode, id correlation.

use cloud_onenet::connect::{AuthLevel, DeviceConfig, KeyScope};
use cloud_onenet::model::load_export;
use cloud_onenet::token::{AccessKey, Expiry, Resource, SignMethod, TokenSpec, TokenVersion};
use cloud_onenet::OneNet;
use serde_json::{json, Value};
use thing_model::{
    ConnectVerdict, Downlink, Payload, Platform, PlatformError, Provisioned, ReplyTo, Secret,
    Uplink, UplinkBody,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/onenet.json"
);
const ALL_TYPES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/onenet-all-types.json"
);
const NOW_MS: i64 = 1_700_000_000_000;
const KEY_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn onenet() -> OneNet {
    let key = AccessKey::from_base64(KEY_B64).unwrap();
    OneNet::new(DeviceConfig::new("Aw9oB4n7zB", "dev-001", key).unwrap()).unwrap()
}

fn with_model() -> OneNet {
    onenet().with_model(load_export(&std::fs::read_to_string(ALL_TYPES).unwrap()).unwrap())
}

fn payload_json(p: &[u8]) -> Value {
    serde_json::from_slice(p).unwrap()
}

fn refused_code(v: ConnectVerdict) -> (u8, String) {
    match v {
        ConnectVerdict::Refuse { code, reason } => (code, reason),
        ConnectVerdict::Accept => panic!("accepted"),
    }
}

#[test]
fn vector_credentials_are_accepted_by_the_verifier() {
    let all: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let mut checked = 0;
    for v in all["vectors"].as_array().unwrap() {
        let Some(mc) = v["outputs"]["mqtt_connect"].as_object() else {
            continue;
        };
        let i = &v["inputs"];
        if i["version"] != "2018-10-31" {
            continue;
        }
        let key = AccessKey::from_base64(i["access_key_b64"].as_str().unwrap()).unwrap();
        let cfg = DeviceConfig::new(
            i["product_id"].as_str().unwrap(),
            i["device_name"].as_str().unwrap(),
            key,
        )
        .unwrap();
        let p = OneNet::new(cfg).unwrap();
        let et_ms = i["et"].as_i64().unwrap() * 1000;
        let (c, u, pw) = (
            mc["client_id"].as_str().unwrap(),
            mc["username"].as_str().unwrap(),
            mc["password"].as_str().unwrap(),
        );
        assert!(
            p.verify_connect(c, u, pw.as_bytes(), et_ms).is_accept(),
            "{}",
            v["name"]
        );
        let (code, reason) = refused_code(p.verify_connect(c, u, pw.as_bytes(), et_ms + 1000));
        assert_eq!(code, 4);
        assert!(reason.contains("1104"), "{reason}");
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn connect_then_verify_and_every_refusal_reason() {
    let p = onenet();
    let c = p.connect(NOW_MS).unwrap();
    assert!(c.clean_session);
    assert_eq!(
        (c.host.as_str(), c.port, c.tls, c.keepalive_s),
        ("mqtts.heclouds.com", 1883, false, 120)
    );
    let pw = c.password.expose().to_owned();
    assert!(p
        .verify_connect(&c.client_id, &c.username, pw.as_bytes(), NOW_MS)
        .is_accept());

    let sign = pw.split("sign=").nth(1).unwrap().to_owned();
    let other_key = AccessKey::from_bytes(b"not the key".to_vec()).unwrap();
    let forged = TokenSpec::new(
        TokenVersion::V2018_10_31,
        Resource::device("Aw9oB4n7zB", "dev-001").unwrap(),
        SignMethod::Sha256,
        Expiry::Lifetime(60),
        NOW_MS as u64 / 1000,
    )
    .unwrap()
    .sign(&other_key)
    .expose();
    let product_res = TokenSpec::new(
        TokenVersion::V2018_10_31,
        Resource::product("Aw9oB4n7zB").unwrap(),
        SignMethod::Sha1,
        Expiry::Lifetime(60),
        NOW_MS as u64 / 1000,
    )
    .unwrap()
    .sign(&AccessKey::from_base64(KEY_B64).unwrap())
    .expose();
    let cases: Vec<(&str, &str, String, i64, &str)> = vec![
        ("dev-001", "Aw9oB4n7zB", String::new(), NOW_MS, "1101"),
        (
            "dev-001",
            "Aw9oB4n7zB",
            "version=2018-10-31".into(),
            NOW_MS,
            "1103",
        ),
        ("dev-002", "Aw9oB4n7zB", pw.clone(), NOW_MS, "1114"),
        ("dev-001", "Bw9oB4n7zB", pw.clone(), NOW_MS, "1114"),
        (
            "dev-001",
            "Aw9oB4n7zB",
            pw.clone(),
            NOW_MS + 86_401_000,
            "1104",
        ),
        ("dev-001", "Aw9oB4n7zB", forged, NOW_MS, "1106"),
        (
            "dev-001",
            "Aw9oB4n7zB",
            pw.replace("2018-10-31", "2022-05-01"),
            NOW_MS,
            "1111",
        ),
        ("dev-001", "Aw9oB4n7zB", product_res, NOW_MS, "1105"),
    ];
    for (cid, user, pass, now, code) in cases {
        let (connack, reason) = refused_code(p.verify_connect(cid, user, pass.as_bytes(), now));
        assert_eq!(connack, 4, "{reason}");
        assert!(reason.contains(code), "{code}: {reason}");
        assert!(
            !reason.contains(&sign) && !reason.contains(KEY_B64),
            "{reason}"
        );
    }
}

#[test]
fn product_key_logins() {
    let key = AccessKey::from_base64(KEY_B64).unwrap();
    let mut cfg = DeviceConfig::new("Aw9oB4n7zB", "dev-001", key).unwrap();
    cfg.key_scope = KeyScope::Product;
    cfg.auth_level = AuthLevel::Product;
    cfg.method = SignMethod::Md5;
    let p = OneNet::new(cfg).unwrap();
    let c = p.connect(NOW_MS).unwrap();
    assert!(c
        .password
        .expose()
        .starts_with("version=2018-10-31&res=products%2FAw9oB4n7zB&et="));
    assert!(p
        .verify_connect(
            &c.client_id,
            &c.username,
            c.password.expose().as_bytes(),
            NOW_MS
        )
        .is_accept());
    assert!(matches!(
        p.connect(-1),
        Err(PlatformError::Config {
            field: "now_ms",
            ..
        })
    ));
}

#[test]
fn module_side_auth_hides_the_key() {
    let m = onenet().module_connect().unwrap();
    let dbg = format!("{m:?}");
    assert!(!dbg.contains(KEY_B64), "{dbg}");
    match m.auth {
        thing_model::ModuleAuth::OneNet {
            product_id,
            access_key,
        } => {
            assert_eq!(product_id, "Aw9oB4n7zB");
            assert_eq!(access_key.expose(), KEY_B64);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.client_id, "dev-001");
}

#[test]
fn uplinks_encode_to_onejson_with_the_msg_id() {
    let p = with_model();
    let mut up = Uplink::properties(json!({"i32": 5, "on": 1}).as_object().unwrap().clone());
    up.time = Some(1_599_534_283_111);
    let pub_ = p.encode(&up, 42).unwrap();
    assert_eq!(pub_.topic, "$sys/Aw9oB4n7zB/dev-001/thing/property/post");
    assert_eq!((pub_.qos, pub_.expects_ack), (1, true));
    assert_eq!(
        payload_json(&pub_.payload),
        json!({"id": "42", "version": "1.0", "params": {
            "i32": {"value": 5, "time": 1_599_534_283_111i64},
            "on": {"value": true, "time": 1_599_534_283_111i64}}})
    );

    let ev = p
        .encode(
            &Uplink::event("alert", json!({"cnt": 5}).as_object().unwrap().clone()),
            43,
        )
        .unwrap();
    assert_eq!(ev.topic, "$sys/Aw9oB4n7zB/dev-001/thing/event/post");
    assert_eq!(
        payload_json(&ev.payload)["params"]["alert"]["value"],
        json!({"cnt": 5})
    );

    let err = p
        .encode(
            &Uplink::properties(json!({"i32": 11}).as_object().unwrap().clone()),
            1,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("i32") && err.to_string().contains("10"),
        "{err}"
    );
    let mut q2 = Uplink::properties(json!({"i32": 1}).as_object().unwrap().clone());
    q2.qos = Some(2);
    assert!(p
        .encode(&q2, 1)
        .unwrap_err()
        .to_string()
        .contains("QoS 0 and 1"));

    let raw = p
        .encode(
            &Uplink::raw(
                "$sys/Aw9oB4n7zB/dev-001/custome/up",
                Payload::Text("hi".into()),
            ),
            2,
        )
        .unwrap();
    assert_eq!(
        (raw.payload.as_slice(), raw.expects_ack),
        (&b"hi"[..], false)
    );
    assert!(p
        .encode(&Uplink::raw("a/#", Payload::Text("x".into())), 3)
        .is_err());
}

#[test]
fn downlinks_decode_and_replies_echo_their_id() {
    let p = with_model();
    let t = p.topics().clone();

    let set = p
        .decode(
            &t.property_set(),
            br#"{"id":"9001","version":"1.0","params":{"i32":3}}"#,
        )
        .unwrap();
    let Some(Downlink::Set { id, values, .. }) = set else {
        panic!("{set:?}")
    };
    assert_eq!((id.as_str(), &values["i32"]), ("9001", &json!(3)));
    let mut reply = Uplink::reply(&id, 200, None);
    let UplinkBody::Reply(r) = &mut reply.body else {
        unreachable!()
    };
    r.to = Some(ReplyTo::Set);
    let out = p.encode(&reply, 1).unwrap();
    assert_eq!(out.topic, t.property_set_reply());
    assert_eq!(
        payload_json(&out.payload),
        json!({"id": "9001", "code": 200})
    );
    assert_eq!(out.qos, 0);

    let get = p
        .decode(
            &t.property_get(),
            br#"{"id":"124","version":"1.0","params":["i32","f64"]}"#,
        )
        .unwrap();
    assert_eq!(
        get,
        Some(Downlink::Get {
            id: "124".into(),
            names: vec!["i32".into(), "f64".into()],
            service: None
        })
    );
    let mut reply = Uplink::reply("124", 200, Some(json!({"i32": 1, "f64": 0.5})));
    let UplinkBody::Reply(r) = &mut reply.body else {
        unreachable!()
    };
    r.to = Some(ReplyTo::Get);
    let out = p.encode(&reply, 2).unwrap();
    assert_eq!(out.topic, t.property_get_reply());
    assert_eq!(
        payload_json(&out.payload)["data"],
        json!({"i32": 1, "f64": 0.5})
    );

    let call = p
        .decode(
            &t.service_invoke("add").unwrap(),
            br#"{"id":"789","version":"1.0","params":{"a":3}}"#,
        )
        .unwrap();
    let Some(Downlink::Call {
        id, name, params, ..
    }) = call
    else {
        panic!("{call:?}")
    };
    assert_eq!(
        (id.as_str(), name.as_str(), &params["a"]),
        ("789", "add", &json!(3))
    );
    let mut reply = Uplink::reply(&id, 200, Some(json!({"c": 7})));
    let UplinkBody::Reply(r) = &mut reply.body else {
        unreachable!()
    };
    r.to = Some(ReplyTo::Call);
    r.name = Some(name);
    let out = p.encode(&reply, 3).unwrap();
    assert_eq!(out.topic, t.service_invoke_reply("add").unwrap());
    assert_eq!(
        payload_json(&out.payload),
        json!({"id": "789", "code": 200, "data": {"c": 7}})
    );

    // Without `to` the reply topic is unknown.
    let err = p
        .encode(&Uplink::reply("1", 200, None), 4)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`to`"), "{err}");
}

#[test]
fn acks_carry_the_code_meaning_and_bad_payloads_are_errors() {
    let p = onenet();
    let t = p.topics().clone();
    let ack = p
        .decode(
            &t.property_post_reply(),
            br#"{"id":"42","code":200,"msg":"success"}"#,
        )
        .unwrap();
    assert_eq!(
        ack,
        Some(Downlink::Ack {
            id: "42".into(),
            code: 200,
            message: Some("success".into()),
            data: None
        })
    );
    let ack = p
        .decode(&t.event_post_reply(), br#"{"id":"43","code":309}"#)
        .unwrap();
    assert_eq!(
        ack,
        Some(Downlink::Ack {
            id: "43".into(),
            code: 309,
            message: Some("identifier not exist".into()),
            data: None
        })
    );

    for (topic, body) in [
        (t.property_set(), &b"not json"[..]),
        (t.property_set(), br#"{"version":"1.0","params":{}}"#),
        (t.property_get(), br#"{"id":"1","params":{"a":1}}"#),
        (t.property_post_reply(), br#"{"id":"1","code":"200"}"#),
    ] {
        match p.decode(&topic, body) {
            Err(PlatformError::Decode { topic: got, reason }) => {
                assert_eq!(got, topic);
                assert!(!reason.is_empty());
            }
            other => panic!("{topic}: {other:?}"),
        }
    }
    // Topics OneNET does not define for this device are passed on raw.
    let raw = p
        .decode("$sys/Aw9oB4n7zB/dev-001/custome/down/1", b"hello")
        .unwrap();
    assert_eq!(
        raw,
        Some(Downlink::Raw {
            topic: "$sys/Aw9oB4n7zB/dev-001/custome/down/1".into(),
            payload: Payload::Text("hello".into())
        })
    );
}

#[test]
fn refused_set_gets_a_302_reply() {
    let p = with_model();
    let t = p.topics().clone();
    let body = br#"{"id":"77","version":"1.0","params":{"i32":99}}"#;
    let err = p.decode(&t.property_set(), body).unwrap_err();
    let reply = p.refusal(&t.property_set(), body, &err).unwrap();
    assert_eq!(reply.topic, t.property_set_reply());
    let v = payload_json(&reply.payload);
    assert_eq!(
        (v["id"].as_str(), v["code"].as_i64()),
        (Some("77"), Some(302))
    );
    assert!(v["msg"].as_str().unwrap().contains("i32"));
    let body = br#"{"id":"78","version":"1.0","params":{"zzz":1}}"#;
    let err = p.decode(&t.property_set(), body).unwrap_err();
    assert_eq!(
        payload_json(&p.refusal(&t.property_set(), body, &err).unwrap().payload)["code"],
        309
    );
}

#[test]
fn time_sync_is_not_supported_and_provisioning_adopts_a_key() {
    let mut p = onenet();
    assert!(matches!(
        p.time_request(0, 1),
        Err(PlatformError::NotSupported(_))
    ));
    assert_eq!(p.provision(NOW_MS, "abc").unwrap(), None);
    let mut state = Provisioned::default();
    assert!(p.apply_provisioned(&state).is_err());
    state.state.insert(
        "access_key".into(),
        Secret::new("S2V5MkV5MktleTJLZXkyS2V5MktleTJLZXkyS2V5Mg=="),
    );
    p.apply_provisioned(&state).unwrap();
    let c = p.connect(NOW_MS).unwrap();
    assert!(p
        .verify_connect(
            &c.client_id,
            &c.username,
            c.password.expose().as_bytes(),
            NOW_MS
        )
        .is_accept());
    assert_eq!(p.cloud(), "onenet");
    assert_eq!(p.subscriptions().len(), 8);
    assert!(p.subscriptions().iter().all(|s| s.qos == 0));
}
