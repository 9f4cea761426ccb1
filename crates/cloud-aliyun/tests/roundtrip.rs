//! Round trips of every topic and payload kind, and bad inputs → clear errors.

use cloud_aliyun::dynreg::RegisterMode;
use cloud_aliyun::{alink, AliyunPlatform, AliyunProfile};
use serde_json::{json, Value};
use thing_model::*;

const PK: &str = "a1B2c3D4e5F";
const DN: &str = "dev-001";
const DS: &str = "0123456789abcdef0123456789abcdef";

fn platform() -> AliyunPlatform {
    let mut prof = AliyunProfile::new(PK, DN, Some(Secret::new(DS)));
    prof.subscribe = vec!["get".into()];
    prof.rrpc_topics = vec!["cmd".into()];
    AliyunPlatform::new(prof).unwrap()
}

fn decode(p: &AliyunPlatform, topic: &str, payload: &str) -> Option<Downlink> {
    p.decode(topic, payload.as_bytes())
        .unwrap_or_else(|e| panic!("{topic}: {e}"))
}

fn encode(p: &AliyunPlatform, line: &str, id: u32) -> Publish {
    p.encode(&parse_uplink_line(line).unwrap(), id)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn text(p: &Publish) -> &str {
    std::str::from_utf8(&p.payload).unwrap()
}

#[test]
fn uplinks_and_their_acks() {
    let p = platform();
    let up = encode(
        &p,
        r#"{"properties": {"temp": 23.5}, "time": 1524448722000}"#,
        123,
    );
    assert_eq!(
        up.topic,
        "/sys/a1B2c3D4e5F/dev-001/thing/event/property/post"
    );
    assert_eq!((up.qos, up.expects_ack), (1, true));
    let req = alink::parse_request(&up.topic, &up.payload).unwrap();
    assert_eq!(req.id, "123");
    assert_eq!(
        req.params,
        json!({"temp": {"value": 23.5, "time": 1524448722000_i64}})
    );
    assert_eq!(req.method.as_deref(), Some("thing.event.property.post"));

    let ev = encode(
        &p,
        r#"{"event": "HighTemp", "params": {"t": 80}, "time": 5, "qos": 0}"#,
        124,
    );
    assert_eq!(
        ev.topic,
        "/sys/a1B2c3D4e5F/dev-001/thing/event/HighTemp/post"
    );
    assert_eq!(ev.qos, 0);
    assert_eq!(
        text(&ev),
        r#"{"id":"124","version":"1.0","params":{"value":{"t":80},"time":5},"method":"thing.event.HighTemp.post"}"#
    );

    // The cloud's replies come back as acks carrying the wire id.
    let ack = decode(
        &p,
        &format!("{}_reply", up.topic),
        r#"{"code":200,"data":{},"id":"123","message":"success","method":"thing.event.property.post","version":"1.0"}"#,
    );
    assert_eq!(
        ack,
        Some(Downlink::Ack {
            id: "123".into(),
            code: 200,
            message: Some("success".into()),
            data: Some(json!({}))
        })
    );
    let nack = decode(
        &p,
        &format!("{}_reply", ev.topic),
        r#"{"code":6813,"data":{},"id":"124"}"#,
    );
    let Some(Downlink::Ack {
        code: 6813,
        message: Some(m),
        ..
    }) = nack
    else {
        panic!("{nack:?}")
    };
    assert_eq!(
        m,
        "the values do not match the thing model (TSL check failed)"
    );
    assert_eq!(
        alink::check_code(6813, Some("The format of result is error!")).unwrap_err().to_string(),
        "cloud error 6813: The format of result is error! (the values do not match the thing model (TSL check failed))"
    );
    assert!(alink::check_code(200, None).is_ok());

    let mut prof = AliyunProfile::new(PK, DN, Some(Secret::new(DS)));
    prof.ack = false;
    let quiet = AliyunPlatform::new(prof).unwrap();
    let up = encode(&quiet, r#"{"properties": {"a": 1}}"#, 1);
    assert!(!up.expects_ack);
    assert_eq!(
        text(&up),
        r#"{"id":"1","version":"1.0","sys":{"ack":0},"params":{"a":1},"method":"thing.event.property.post"}"#
    );
}

#[test]
fn downlinks_and_the_app_replies() {
    let p = platform();
    let set = decode(
        &p,
        "/sys/a1B2c3D4e5F/dev-001/thing/service/property/set",
        r#"{"id":"7","version":"1.0","params":{"Power":"on"},"method":"thing.service.property.set"}"#,
    );
    assert_eq!(
        AgentLine::Downlink(set.unwrap()).to_line(),
        r#"{"set":{"Power":"on"},"id":"7"}"#
    );
    let r = encode(&p, r#"{"reply": "7", "code": 200, "to": "set"}"#, 0);
    assert_eq!(
        (r.topic.as_str(), text(&r), r.qos),
        (
            "/sys/a1B2c3D4e5F/dev-001/thing/service/property/set_reply",
            r#"{"id":"7","code":200,"data":{}}"#,
            1
        )
    );

    let get = decode(
        &p,
        "/sys/a1B2c3D4e5F/dev-001/thing/service/property/get",
        r#"{"id":"8","params":["temp"]}"#,
    );
    assert_eq!(
        AgentLine::Downlink(get.unwrap()).to_line(),
        r#"{"get":["temp"],"id":"8"}"#
    );
    let r = encode(&p, r#"{"reply": "8", "to": "get", "data": {"temp": 1}}"#, 0);
    assert_eq!(
        (r.topic.as_str(), text(&r)),
        (
            "/sys/a1B2c3D4e5F/dev-001/thing/service/property/get_reply",
            r#"{"id":"8","code":200,"data":{"temp":1}}"#
        )
    );

    let call = decode(
        &p,
        "/sys/a1B2c3D4e5F/dev-001/thing/service/Reboot",
        r#"{"id":"42","version":"1.0","params":{"delay":5},"method":"thing.service.Reboot"}"#,
    );
    assert_eq!(
        AgentLine::Downlink(call.unwrap()).to_line(),
        r#"{"call":"Reboot","params":{"delay":5},"id":"42"}"#
    );
    let r = encode(
        &p,
        r#"{"reply": "42", "name": "Reboot", "data": {"Result": 1}}"#,
        0,
    );
    assert_eq!(
        (r.topic.as_str(), text(&r)),
        (
            "/sys/a1B2c3D4e5F/dev-001/thing/service/Reboot_reply",
            r#"{"id":"42","code":200,"data":{"Result":1}}"#
        )
    );
    // Our own reply echoed through `service/+` is not a call.
    assert_eq!(decode(&p, &r.topic, text(&r)), None);

    // Sync call (RRPC): the answer goes to the identical topic (Link SDK vector bytes).
    let rrpc = "/ext/rrpc/1234567890123456789/sys/a1B2c3D4e5F/dev-001/thing/service/GetStatus";
    let call = decode(
        &p,
        rrpc,
        r#"{"id":"43","version":"1.0","params":{},"method":"thing.service.GetStatus"}"#,
    )
    .unwrap();
    let Downlink::Call { id, name, .. } = &call else {
        panic!("{call:?}")
    };
    assert_eq!(
        (id.as_str(), name.as_str()),
        ("43@1234567890123456789", "GetStatus")
    );
    let r = encode(
        &p,
        &json!({"reply": id, "to": "call", "name": name, "data": {"Status": 0}}).to_string(),
        0,
    );
    assert_eq!(
        (r.topic.as_str(), text(&r), r.qos),
        (rrpc, r#"{"id":"43","code":200,"data":{"Status":0}}"#, 0)
    );
}

#[test]
fn raw_rrpc_ntp_and_custom_topics() {
    let p = platform();
    let raw = decode(&p, "/a1B2c3D4e5F/dev-001/user/get", "hello").unwrap();
    assert_eq!(
        AgentLine::Downlink(raw).to_line(),
        r#"{"topic":"/a1B2c3D4e5F/dev-001/user/get","payload":"hello"}"#
    );
    let up = encode(
        &p,
        r#"{"topic": "/a1B2c3D4e5F/dev-001/user/update", "payload": {"x": 1}}"#,
        0,
    );
    assert_eq!(
        (text(&up), up.qos, up.expects_ack),
        (r#"{"x":1}"#, 1, false)
    );

    let sys = decode(&p, "/sys/a1B2c3D4e5F/dev-001/rrpc/request/99", "ping");
    assert_eq!(
        sys,
        Some(Downlink::Raw {
            topic: "/sys/a1B2c3D4e5F/dev-001/rrpc/request/99".into(),
            payload: Payload::Text("ping".into())
        })
    );
    let up = encode(
        &p,
        r#"{"topic": "/sys/a1B2c3D4e5F/dev-001/rrpc/response/99", "payload": "pong"}"#,
        0,
    );
    assert_eq!(up.qos, 0, "system RRPC answers are QoS 0");
    let e = p.encode(
        &parse_uplink_line(
            r#"{"topic": "/sys/a1B2c3D4e5F/dev-001/rrpc/response/99", "payload": "x", "qos": 1}"#,
        )
        .unwrap(),
        0,
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "uplink: topic `/sys/a1B2c3D4e5F/dev-001/rrpc/response/99`: RRPC responses are QoS 0 only"
    );

    let custom = "/ext/rrpc/77/a1B2c3D4e5F/dev-001/user/cmd";
    assert!(matches!(
        decode(&p, custom, "{}"),
        Some(Downlink::Raw { .. })
    ));
    assert_eq!(
        encode(
            &p,
            &json!({"topic": custom, "payload": "ok"}).to_string(),
            0
        )
        .topic,
        custom
    );

    let ntp = p.time_request(1000, 0).unwrap();
    assert_eq!(text(&ntp), r#"{"deviceSendTime":"1000"}"#);
    let t = decode(
        &p,
        "/ext/ntp/a1B2c3D4e5F/dev-001/response",
        r#"{"deviceSendTime":"1000","serverRecvTime":"5000100","serverSendTime":5000110}"#,
    );
    let Some(Downlink::Time(t)) = t else {
        panic!("{t:?}")
    };
    assert_eq!(t.utc_ms(1210), 5_000_210);

    let subs: Vec<String> = p.subscriptions().into_iter().map(|s| s.topic).collect();
    for want in [
        "/sys/a1B2c3D4e5F/dev-001/thing/service/property/set",
        "/sys/a1B2c3D4e5F/dev-001/thing/service/+",
        "/ext/rrpc/+/sys/a1B2c3D4e5F/dev-001/thing/service/+",
        "/sys/a1B2c3D4e5F/dev-001/thing/event/+/post_reply",
        "/sys/a1B2c3D4e5F/dev-001/rrpc/request/+",
        "/ext/ntp/a1B2c3D4e5F/dev-001/response",
        "/a1B2c3D4e5F/dev-001/user/get",
        "/ext/rrpc/+/a1B2c3D4e5F/dev-001/user/cmd",
    ] {
        assert!(
            subs.iter().any(|s| s == want),
            "missing subscription {want}"
        );
    }
    assert_eq!(decode(&p, "/ext/register", r#"{"deviceSecret":"x"}"#), None);
}

#[test]
fn module_side_and_endpoints() {
    let p = platform();
    let m = p.module_connect().unwrap();
    assert_eq!(
        m.auth,
        ModuleAuth::Aliyun {
            product_key: PK.into(),
            device_name: DN.into(),
            device_secret: Secret::new(DS)
        }
    );
    assert_eq!(
        (m.host.as_str(), m.port, m.tls, m.client_id.as_str()),
        (
            "a1B2c3D4e5F.iot-as-mqtt.cn-shanghai.aliyuncs.com",
            8883,
            true,
            DN
        )
    );
    let mut prof = AliyunProfile::new(PK, DN, Some(Secret::new(DS)));
    prof.instance_id = Some("iot-06z00abcdefgh".into());
    prof.tls = false;
    let p = AliyunPlatform::new(prof).unwrap();
    let c = p.connect(1).unwrap();
    assert_eq!(
        (c.host.as_str(), c.port),
        ("iot-06z00abcdefgh.mqtt.iothub.aliyuncs.com", 1883)
    );
    assert!(c.client_id.contains("securemode=3"));
    let mut reg = AliyunProfile::new(PK, DN, None);
    reg.product_secret = Some(Secret::new("ps"));
    reg.register = Some(RegisterMode::Register);
    let reg = AliyunPlatform::new(reg).unwrap();
    assert_eq!(
        reg.module_connect().unwrap_err().to_string(),
        "profile field `device_secret`: module-side auth (aliauth) needs a device secret; dynamic registration is host-side only"
    );
    assert_eq!(
        reg.connect(0).unwrap_err().to_string(),
        "profile field `device_secret`: not known yet: run dynamic registration (provision) first"
    );
}

#[test]
fn bad_uplinks_are_refused_clearly() {
    let p = platform();
    let err = |line: &str| {
        p.encode(&parse_uplink_line(line).unwrap(), 1)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(r#"{"properties": {}}"#),
        "uplink: a property report needs at least one property"
    );
    assert_eq!(err(r#"{"properties": {"": 1}}"#), "property is empty");
    assert_eq!(
        err(&json!({"properties": {"x".repeat(51): 1}}).to_string()),
        "property is 51 characters long, the maximum is 50"
    );
    assert_eq!(
        err(r#"{"properties": {"a b": 1}}"#),
        "property contains ' ' at position 1, allowed: ASCII letters, digits and _"
    );
    assert_eq!(
        err(r#"{"event": "over/heat", "params": {}}"#),
        "event contains '/' at position 4, allowed: ASCII letters, digits and _"
    );
    assert_eq!(
        err(r#"{"event": "e", "params": {"t+": 1}}"#),
        "event parameter contains '+' at position 1, allowed: ASCII letters, digits and _"
    );
    assert_eq!(
        err(r#"{"reply": "7"}"#),
        "uplink: reply to `7` needs `to` (\"set\", \"get\" or \"call\")"
    );
    assert_eq!(
        err(r#"{"reply": "7", "to": "call"}"#),
        "uplink: reply to call `7` needs `name` (the service)"
    );
    assert_eq!(err(r#"{"reply": "abc", "to": "set"}"#), "uplink: reply id `abc` is not an Aliyun message id (digits, or digits@digits for a sync call)");
    assert_eq!(err(r#"{"topic": "/other/dev/user/x", "payload": ""}"#), "uplink: topic `/other/dev/user/x`: is not a topic of this device (must contain `/a1B2c3D4e5F/dev-001/`)");
    assert_eq!(
        err(r#"{"topic": "/a1B2c3D4e5F/dev-001/user/#", "payload": ""}"#),
        "topic contains '#' at position 26, allowed: printable ASCII except + # and space"
    );
    assert_eq!(
        err(r#"{"topic": "/a1B2c3D4e5F//dev-001/user", "payload": ""}"#),
        "uplink: topic `/a1B2c3D4e5F//dev-001/user`: has an empty level"
    );
    assert_eq!(
        err(r#"{"topic": "a1B2c3D4e5F/dev-001/user", "payload": ""}"#),
        "uplink: topic `a1B2c3D4e5F/dev-001/user`: must begin with `/`"
    );
}

#[test]
fn bad_downlinks_name_the_topic() {
    let p = platform();
    let set = "/sys/a1B2c3D4e5F/dev-001/thing/service/property/set";
    let e = p.decode(set, b"not json").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "cannot decode a message on `{set}`: payload is not JSON"
        )),
        "{e}"
    );
    assert_eq!(
        p.decode(set, br#"{"params":{}}"#).unwrap_err().to_string(),
        format!("cannot decode a message on `{set}`: no `id`")
    );
    assert_eq!(
        p.decode(set, br#"{"id":"1","params":[1]}"#)
            .unwrap_err()
            .to_string(),
        format!("cannot decode a message on `{set}`: `params` is not an object")
    );
    let ntp = "/ext/ntp/a1B2c3D4e5F/dev-001/response";
    assert_eq!(
        p.decode(ntp, br#"{"serverRecvTime":"1"}"#)
            .unwrap_err()
            .to_string(),
        format!("cannot decode a message on `{ntp}`: no numeric `serverSendTime`")
    );
}

type Edit = Box<dyn Fn(&mut AliyunProfile)>;

#[test]
fn bad_profiles_name_the_field_and_never_the_secret() {
    let base = || AliyunProfile::new(PK, DN, Some(Secret::new("SUPERSECRET")));
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|p| p.device_name = "abc".into()), "device_name is 3 characters long, the minimum is 4"),
        (Box::new(|p| p.device_name = "dev 001".into()), "device_name contains ' ' at position 3, allowed: ASCII letters, digits and -_@.:"),
        (Box::new(|p| p.device_name = "d".repeat(33)), "device_name is 33 characters long, the maximum is 32"),
        (Box::new(|p| p.product_key = String::new()), "product_key is empty"),
        (Box::new(|p| p.client_id = Some("a|b".into())), "client_id contains '|' at position 1, allowed: printable ASCII except | , = and space"),
        (Box::new(|p| p.client_id = Some("c".repeat(65))), "client_id is 65 characters long, the maximum is 64"),
        (Box::new(|p| p.keepalive_s = 20), "profile field `keepalive_s`: 20 is outside 30..=1200 s (the server refuses it)"),
        (Box::new(|p| p.keepalive_s = 1201), "profile field `keepalive_s`: 1201 is outside 30..=1200 s (the server refuses it)"),
        (Box::new(|p| { p.client_id_params.insert("signmethod".into(), "x".into()); }), "profile field `client_id_params`: `signmethod` is set by the crate; remove it"),
        (Box::new(|p| p.device_secret = None), "profile field `device_secret`: missing (or give product_secret + register)"),
        (Box::new(|p| { p.device_secret = None; p.product_secret = Some(Secret::new("SUPERSECRET")); }), "profile field `register`: a product_secret needs `register = \"register\"` or `\"regnwl\"`"),
        (Box::new(|p| { p.device_secret = None; p.product_secret = Some(Secret::new("SUPERSECRET")); p.register = Some(RegisterMode::Regnwl); p.tls = false; }), "profile field `tls`: dynamic registration over MQTT works only with TLS"),
        (Box::new(|p| { p.ext = None; p.rrpc_topics = vec!["x".into()]; }), "profile field `rrpc_topics`: custom-topic RRPC needs `ext` = 1 or 3"),
    ];
    for (change, want) in cases {
        let mut prof = base();
        change(&mut prof);
        let e = AliyunPlatform::new(prof.clone()).unwrap_err();
        assert_eq!(e.to_string(), want);
        assert!(
            !format!("{e:?}{prof:?}").contains("SUPERSECRET"),
            "secret leaked"
        );
    }
    // Profiles deserialise from the agent's config, unknown keys refused.
    let prof: AliyunProfile = serde_json::from_value(json!({"product_key": PK, "device_name": DN, "device_secret": DS, "sign_method": "hmacsha1", "timestamp": "seconds"})).unwrap();
    assert_eq!(prof.sign_method.as_str(), "hmacsha1");
    let e = serde_json::from_value::<AliyunProfile>(
        json!({"product_key": PK, "device_name": DN, "secret": DS}),
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown field `secret`"), "{e}");
}

#[test]
fn server_side_verification() {
    let p = platform();
    let c = p.connect(1_700_000_000_000).unwrap();
    assert!(
        p.verify_connect(
            &c.client_id,
            &c.username,
            c.password.expose().to_uppercase().as_bytes(),
            0
        )
        .is_accept(),
        "hex case-insensitive"
    );
    let refuse = |cid: &str, user: &str, pw: &[u8]| match p.verify_connect(cid, user, pw, 0) {
        ConnectVerdict::Refuse { code, reason } => (code, reason),
        ConnectVerdict::Accept => panic!("accepted {cid}"),
    };
    assert_eq!(refuse(&c.client_id, &c.username, b"0000").0, 4);
    assert_eq!(
        refuse(
            &c.client_id,
            "other&a1B2c3D4e5F",
            c.password.expose().as_bytes()
        )
        .0,
        4
    );
    let tampered = c
        .client_id
        .replace("timestamp=1700000000000", "timestamp=1700000000001");
    assert_eq!(
        refuse(&tampered, &c.username, c.password.expose().as_bytes()),
        (
            4,
            "password is not the hmacsha256 signature of the client id".into()
        )
    );
    assert_eq!(refuse("x|securemode=2", &c.username, b"").0, 2);
    assert_eq!(
        refuse("x|authType=register,random=1|", &c.username, b"").0,
        5,
        "no product secret configured"
    );
    assert_eq!(
        refuse("x|authType=connwl|", &c.username, b"").0,
        5,
        "no token issued"
    );
    assert_eq!(
        refuse("x|signmethod=hmacsha512|", &c.username, b"").1,
        "unknown signmethod `hmacsha512`"
    );
    let (_, reason) = refuse(&c.client_id, &c.username, b"0000");
    assert!(!reason.contains(DS) && !reason.contains(c.password.expose()));
}

#[test]
fn register_then_connect() {
    let mut prof = AliyunProfile::new(PK, DN, None);
    prof.product_secret = Some(Secret::new("ProdSecret012345"));
    prof.register = Some(RegisterMode::Register);
    let mut p = AliyunPlatform::new(prof).unwrap();
    assert_eq!(
        p.provision(0, "a b").unwrap_err().to_string(),
        "random contains ' ' at position 1, allowed: ASCII letters and digits"
    );
    let step = p.provision(0, "AbCdEfGhIjKlMnO").unwrap().unwrap();
    assert!(step.subscribe.is_empty() && step.publish.is_empty());
    assert_eq!(
        p.provision_response("/a1B2c3D4e5F/dev-001/user/get", b"x")
            .unwrap(),
        None
    );
    let e = p
        .provision_response("/ext/register", br#"{"code":460}"#)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot decode a message on `/ext/register`: no `deviceSecret` in the registration answer"
    );
    let got = p
        .provision_response("/ext/register", br#"{"deviceSecret":"NEWSECRET"}"#)
        .unwrap()
        .unwrap();
    assert!(!format!("{got:?}").contains("NEWSECRET"));
    p.apply_provisioned(&got).unwrap();
    assert!(
        p.provision(0, "r").unwrap().is_none(),
        "registered: no more provisioning"
    );
    let c = p.connect(5).unwrap();
    assert!(p
        .verify_connect(&c.client_id, &c.username, c.password.expose().as_bytes(), 0)
        .is_accept());
    let e = p.apply_provisioned(&Provisioned::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "profile field `provisioned`: needs `device_secret`, or `client_id` and `device_token`"
    );
}

#[test]
fn payload_json_is_compact_and_ordered() {
    let body: Value =
        serde_json::from_slice(&alink::request(1, json!({"b": 1, "a": 2}), "m", true)).unwrap();
    assert_eq!(
        body.to_string(),
        r#"{"id":"1","version":"1.0","params":{"b":1,"a":2},"method":"m"}"#
    );
}
