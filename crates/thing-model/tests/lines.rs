//! The app contract's lines: every uplink and agent line of `shared/contracts/app-json.md`.

use serde_json::json;
use thing_model::*;

fn parse(line: &str) -> Uplink {
    parse_uplink_line(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn err(line: &str) -> String {
    parse_uplink_line(line).expect_err(line).to_string()
}

#[test]
fn contract_uplinks_parse() {
    let up = parse(r#"{"properties": {"temp": 23.5, "on": true}}"#);
    let UplinkBody::Properties(v) = &up.body else {
        panic!("{up:?}")
    };
    assert_eq!(v["temp"], json!(23.5));
    assert_eq!(v["on"], json!(true));
    assert_eq!(
        v.keys().collect::<Vec<_>>(),
        ["temp", "on"],
        "insertion order kept"
    );

    let up = parse(
        r#"{"event": "overheat", "params": {"temp": 90}, "time": 1764000000123, "qos": 0, "id": "a7"}"#,
    );
    assert_eq!(up.time, Some(1_764_000_000_123));
    assert_eq!(up.qos, Some(0));
    assert_eq!(up.id.as_deref(), Some("a7"));
    assert!(
        matches!(&up.body, UplinkBody::Event { name, params } if name == "overheat" && params["temp"] == json!(90))
    );

    let up = parse(
        r#"{"reply": "42", "code": 200, "data": {"result": 1}, "to": "call", "name": "reboot", "service": "Dev"}"#,
    );
    let UplinkBody::Reply(r) = &up.body else {
        panic!()
    };
    assert_eq!(
        (r.to_id.as_str(), r.code, r.to, r.name.as_deref()),
        ("42", 200, Some(ReplyTo::Call), Some("reboot"))
    );
    assert_eq!(r.data, Some(json!({"result": 1})));
    assert_eq!(up.service.as_deref(), Some("Dev"));

    let up = parse(r#"{"topic": "/pk/dn/user/up", "payload": "text or JSON"}"#);
    assert_eq!(
        up.body,
        UplinkBody::Raw {
            topic: "/pk/dn/user/up".into(),
            payload: Payload::Text("text or JSON".into())
        }
    );
    let up = parse(r#"{"topic": "/pk/dn/user/up", "payload": {"a": [1, 2]}}"#);
    let UplinkBody::Raw { payload, .. } = &up.body else {
        panic!()
    };
    assert_eq!(payload.to_bytes(), br#"{"a":[1,2]}"#);
    let up = parse(r#"{"topic": "/t", "payload": "AAH/", "encoding": "base64"}"#);
    let UplinkBody::Raw { payload, .. } = &up.body else {
        panic!()
    };
    assert_eq!(payload, &Payload::Binary(vec![0, 1, 255]));
}

#[test]
fn reply_defaults_and_numeric_ids() {
    let up = parse(r#"{"reply": 7}"#);
    let UplinkBody::Reply(r) = &up.body else {
        panic!()
    };
    assert_eq!((r.to_id.as_str(), r.code, r.to), ("7", 200, None));
}

#[test]
fn bad_lines_name_the_problem() {
    assert_eq!(
        err(r#"{"properties": {}, "colour": 1}"#),
        "unknown key `colour` on a `properties` line"
    );
    assert_eq!(
        err(r#"{"properties": [1]}"#),
        "`properties` must be an object, got an array"
    );
    assert_eq!(
        err(r#"{"event": 5}"#),
        "`event` must be a string, got a number"
    );
    assert_eq!(err(r#"{"event": ""}"#), "`event`: the event name is empty");
    assert_eq!(
        err(r#"{"properties": {}, "event": "x"}"#),
        "the line has both `properties` and `event`; use one kind per line"
    );
    assert_eq!(
        err(r#"{"qos": 1}"#),
        "the line has none of the keys `properties`, `event`, `reply`, `topic`"
    );
    assert_eq!(
        err(r#"{"properties": {}, "qos": 2}"#),
        "`qos`: must be 0 or 1, got 2"
    );
    assert_eq!(
        err(r#"{"properties": {}, "time": "now"}"#),
        "`time` must be an integer (ms since the Unix epoch), got a string"
    );
    assert_eq!(
        err(r#"{"reply": "1", "code": "ok"}"#),
        "`code` must be an integer, got a string"
    );
    assert_eq!(
        err(r#"{"reply": "1", "to": "put"}"#),
        "`to`: must be \"set\", \"get\" or \"call\", got \"put\""
    );
    assert_eq!(err(r#"{"topic": "/t"}"#), "a `topic` line needs `payload`");
    assert_eq!(
        err(r#"{"topic": "/t", "payload": "%%", "encoding": "base64"}"#)
            .split(':')
            .next()
            .unwrap(),
        "`payload`"
    );
    assert_eq!(
        err(r#"{"topic": "/t", "payload": "x", "encoding": "hex"}"#),
        "`encoding`: only \"base64\" is known, got \"hex\""
    );
    assert_eq!(err(r#"[1]"#), "a line must be a JSON object, got an array");
    assert!(err("{").starts_with("not valid JSON"));
}

#[test]
fn uplinks_round_trip_through_serde() {
    for line in [
        r#"{"properties":{"temp":23.5},"id":"1","time":5,"service":"S","qos":1}"#,
        r#"{"event":"e","params":{"a":1}}"#,
        r#"{"reply":"42","code":500,"data":{"x":1},"message":"m","to":"get","name":"n"}"#,
        r#"{"topic":"/a/b","payload":"hi"}"#,
        r#"{"topic":"/a/b","payload":"AAH/","encoding":"base64"}"#,
    ] {
        let up: Uplink = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&up).unwrap(), line);
    }
    let e = serde_json::from_str::<Uplink>(r#"{"event":"e","x":1}"#).unwrap_err();
    assert!(
        e.to_string().contains("unknown key `x` on a `event` line"),
        "{e}"
    );
}

#[test]
fn agent_lines_match_the_contract() {
    let mut values = Values::new();
    values.insert("on".into(), json!(false));
    let cases = [
        (
            AgentLine::Downlink(Downlink::Set {
                id: "7".into(),
                values,
                service: None,
            }),
            r#"{"set":{"on":false},"id":"7"}"#,
        ),
        (
            AgentLine::Downlink(Downlink::Get {
                id: "8".into(),
                names: vec!["temp".into()],
                service: None,
            }),
            r#"{"get":["temp"],"id":"8"}"#,
        ),
        (
            AgentLine::Downlink(Downlink::Call {
                id: "42".into(),
                name: "reboot".into(),
                params: json!({"delay": 5}).as_object().unwrap().clone(),
                service: Some("Dev".into()),
            }),
            r#"{"call":"reboot","params":{"delay":5},"id":"42","service":"Dev"}"#,
        ),
        (AgentLine::Delivered("1".into()), r#"{"delivered":"1"}"#),
        (
            AgentLine::Ack {
                id: "1".into(),
                code: 200,
                message: Some("success".into()),
            },
            r#"{"ack":"1","code":200,"message":"success"}"#,
        ),
        (
            AgentLine::Downlink(Downlink::Raw {
                topic: "/t".into(),
                payload: Payload::from_bytes(b"{\"a\":1}"),
            }),
            r#"{"topic":"/t","payload":{"a":1}}"#,
        ),
        (
            AgentLine::Downlink(Downlink::Raw {
                topic: "/t".into(),
                payload: Payload::from_bytes(&[0xff, 0]),
            }),
            r#"{"topic":"/t","payload":"/wA=","encoding":"base64"}"#,
        ),
        (
            AgentLine::Time(1_764_000_000_123),
            r#"{"time":1764000000123}"#,
        ),
        (
            AgentLine::Status {
                state: LinkState::Connected,
                backlog: Some(0),
                reason: None,
                details: Default::default(),
            },
            r#"{"status":"connected","backlog":0}"#,
        ),
        (
            AgentLine::Status {
                state: LinkState::Disconnected,
                backlog: None,
                reason: Some("+QMTSTAT 1".into()),
                details: Default::default(),
            },
            r#"{"status":"disconnected","reason":"+QMTSTAT 1"}"#,
        ),
        (
            AgentLine::Status {
                state: LinkState::Disconnected,
                backlog: Some(2),
                reason: Some("+QMTSTAT 1".into()),
                details: serde_json::json!({"status": "ignored", "reconnects": {"dropped": 1}})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
            r#"{"status":"disconnected","backlog":2,"reason":"+QMTSTAT 1","reconnects":{"dropped":1}}"#,
        ),
        (
            AgentLine::Error {
                error: "bad".into(),
                line: Some(3),
            },
            r#"{"error":"bad","line":3}"#,
        ),
    ];
    for (line, text) in cases {
        assert_eq!(line.to_line(), text);
        assert_eq!(serde_json::to_string(&line).unwrap(), text);
    }
}

#[test]
fn time_sync_formula() {
    let t = TimeSync {
        device_send_ms: Some(1000),
        server_recv_ms: 5_000_100,
        server_send_ms: 5_000_110,
    };
    // Device clock 1000 → 1210 (200 ms round trip, 10 ms in the server):
    assert_eq!(t.utc_ms(1210), (5_000_100 + 5_000_110 + 1210 - 1000) / 2);
    let t = TimeSync {
        device_send_ms: None,
        ..t
    };
    assert_eq!(t.utc_ms(0), 5_000_110);
}

#[test]
fn secrets_stay_out_of_debug() {
    let c = MqttConnect {
        host: "h".into(),
        port: 1,
        tls: true,
        client_id: "c".into(),
        username: "u".into(),
        password: Secret::new("topsecret"),
        keepalive_s: 60,
        clean_session: true,
    };
    assert!(!format!("{c:?}").contains("topsecret"));
    let m = ModuleAuth::HuaweiProduct {
        product_id: "p".into(),
        product_secret: Secret::new("topsecret"),
        node_id: "n".into(),
    };
    assert!(!format!("{m:?}").contains("topsecret"));
}

#[test]
fn platform_is_object_safe() {
    fn _takes(_: Box<dyn Platform>) {}
}
