//! TSL loading: the console exports in `shared/models/aliyun`, our own fixtures for every type,
//! broken documents, and validation through the platform.

use cloud_aliyun::tsl::load_tsl;
use cloud_aliyun::{AliyunPlatform, AliyunProfile};
use serde_json::{json, Value};
use thing_model::*;

fn model_file(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/models/aliyun/{name}.tsl.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn obj(v: Value) -> Values {
    v.as_object().unwrap().clone()
}

#[test]
fn sched_17_properties() {
    let m = load_tsl(&model_file("sched-17-properties")).unwrap();
    assert_eq!(m.properties.len(), 17);
    // The built-in `post` event and `set` / `get` services are the properties themselves.
    assert_eq!(
        m.events
            .iter()
            .map(|e| e.identifier.as_str())
            .collect::<Vec<_>>(),
        ["Error"]
    );
    assert!(m.services.is_empty());
    let rgb = &m.property("RGBColor").unwrap().data_type;
    let DataType::Struct(members) = rgb else {
        panic!("{rgb:?}")
    };
    assert_eq!(
        members
            .iter()
            .map(|f| f.identifier.as_str())
            .collect::<Vec<_>>(),
        ["Red", "Green", "Blue"]
    );
    assert_eq!(
        members[0].data_type,
        DataType::Int(IntSpec {
            min: Some(0),
            max: Some(255),
            step: Some(1),
            unit: None
        })
    );
    let DataType::Struct(hsv) = &m.property("HSVColor").unwrap().data_type else {
        panic!()
    };
    assert_eq!(
        hsv[0].data_type,
        DataType::Double(FloatSpec {
            min: Some(0.0),
            max: Some(360.0),
            step: Some(0.01),
            unit: Some("°".into())
        })
    );
    let DataType::Enum(work) = &m.property("WorkMode").unwrap().data_type else {
        panic!()
    };
    assert!(work.integer);
    assert_eq!(work.values.len(), 6);
    assert_eq!(work.values["3"], "夜灯");
    assert_eq!(
        m.property("LightSwitch").unwrap().data_type,
        DataType::Bool(BoolEncoding::ZeroOne)
    );
    assert_eq!(
        m.property("WIFI_Band").unwrap().data_type,
        DataType::Text {
            max_length: Some(255)
        }
    );
    assert_eq!(m.property("WiFI_RSSI").unwrap().access, Access::RW);

    let ok = m
        .validate_properties(&obj(json!({"RGBColor": {"Red": 1, "Green": 2, "Blue": 3}, "LightSwitch": true, "Propertypoint": 5})))
        .unwrap();
    assert_eq!(
        Value::Object(ok).to_string(),
        r#"{"RGBColor":{"Red":1,"Green":2,"Blue":3},"LightSwitch":1,"Propertypoint":5.0}"#
    );
    let e = m
        .validate_properties(&obj(json!({"RGBColor": {"Red": 256}})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `RGBColor.Red`: 256 is above the maximum 255"
    );
    let e = m
        .validate_properties(&obj(json!({"WiFI_RSSI": 0})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `WiFI_RSSI`: 0 is above the maximum -1"
    );
    let e = m
        .validate_properties(&obj(json!({"WorkMode": 6})))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("property `WorkMode`: 6 is not one of the allowed values"),
        "{e}"
    );
}

#[test]
fn countdown_struct_with_date_and_bools() {
    let m = load_tsl(&model_file("countdown")).unwrap();
    let v = m
        .validate_properties(&obj(json!({"CountDown": {"IsRunning": false, "TimeLeft": 10, "PowerSwitch": 1, "Timestamp": 1_700_000_000_000_i64}})))
        .unwrap();
    assert_eq!(
        v["CountDown"],
        json!({"IsRunning": 0, "TimeLeft": 10, "PowerSwitch": 1, "Timestamp": "1700000000000"})
    );
    let e = m
        .validate_properties(&obj(json!({"CountDown": {"TimeLeft": 86400}})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `CountDown.TimeLeft`: 86400 is above the maximum 86399"
    );
    let e = m
        .validate_event("Error", &obj(json!({"ErrorCode": 101})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "event `Error` parameter `ErrorCode`: 101 is above the maximum 100"
    );
}

#[test]
fn light_and_examples() {
    let light = load_tsl(&model_file("light")).unwrap();
    let e = light
        .validate_properties(&obj(json!({"LightAlias": "x".repeat(33)})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `LightAlias`: is 33 bytes long, the maximum is 32"
    );
    assert_eq!(light.event("TamperAlarm").unwrap().kind, EventKind::Alert);
    assert!(light.validate_event("TamperAlarm", &Values::new()).is_ok());

    let ex = load_tsl(&model_file("examples")).unwrap();
    assert_eq!(ex.property("Counter").unwrap().access, Access::R);
    let op = ex.service("Operation_Service", None).unwrap();
    assert_eq!(op.call_type, CallType::Sync);
    assert_eq!(op.input.len(), 2);
    assert!(ex
        .validate_service_input(
            "Operation_Service",
            &obj(json!({"NumberA": 1, "NumberB": 0}))
        )
        .is_err());
    assert_eq!(
        ex.validate_service_output("Operation_Service", &obj(json!({"Result": 0})))
            .unwrap_err()
            .to_string(),
        "service `Operation_Service` output `Result`: 0 is below the minimum 1"
    );
    assert_eq!(
        ex.validate_set(&obj(json!({"Counter": 1})))
            .unwrap_err()
            .to_string(),
        "property `Counter`: is read-only and cannot be set"
    );
}

/// Every type and spec of doc 213902, numbers as strings and as numbers.
const ALL_TYPES: &str = r#"{
 "schema": "https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json",
 "profile": {"productKey": "a1B2c3D4e5F"},
 "properties": [
  {"identifier":"i","name":"i","accessMode":"rw","required":false,"dataType":{"type":"int","specs":{"min":"-5","max":"5","step":"1","unit":"%"}}},
  {"identifier":"f","accessMode":"r","dataType":{"type":"float","specs":{"min":0,"max":1.5,"step":0.1}}},
  {"identifier":"d","dataType":{"type":"double","specs":{"min":"-1e3","max":"1e3"}}},
  {"identifier":"t","dataType":{"type":"text","specs":{"length":"3"}}},
  {"identifier":"e","dataType":{"type":"enum","specs":{"0":"a","2":"b"}}},
  {"identifier":"b","dataType":{"type":"bool","specs":{"0":"off","1":"on"}}},
  {"identifier":"dt","dataType":{"type":"date","specs":{}}},
  {"identifier":"s","dataType":{"type":"struct","specs":[{"identifier":"x","name":"x","dataType":{"type":"int","specs":{"min":"0","max":"9"}}},{"identifier":"y","name":"y","dataType":{"type":"text","specs":{"length":"2"}}}]}},
  {"identifier":"ai","dataType":{"type":"array","specs":{"size":"2","item":{"type":"int"}}}},
  {"identifier":"as","dataType":{"type":"array","specs":{"size":"128","item":{"type":"struct","specs":[{"identifier":"k","name":"k","dataType":{"type":"double","specs":{"min":"0","max":"1"}}}]}}}}
 ],
 "events": [{"identifier":"Fault","type":"error","method":"thing.event.Fault.post","outputData":[{"identifier":"code","dataType":{"type":"enum","specs":{"1":"x"}}}]}],
 "services": [{"identifier":"Reboot","callType":"async","method":"thing.service.Reboot","inputData":[{"identifier":"delay","dataType":{"type":"int","specs":{"min":"0","max":"60"}}}],"outputData":[]}]
}"#;

#[test]
fn every_type() {
    let m = load_tsl(ALL_TYPES).unwrap();
    assert_eq!(m.property("f").unwrap().access, Access::R);
    assert_eq!(
        m.property("d").unwrap().data_type,
        DataType::Double(FloatSpec {
            min: Some(-1000.0),
            max: Some(1000.0),
            ..Default::default()
        })
    );
    let good = json!({"i": -5, "f": 1.5, "d": 3, "t": "abc", "e": 2, "b": false, "dt": "1700000000000",
        "s": {"x": 9, "y": "ok"}, "ai": [1, 2], "as": [{"k": 0.5}]});
    let out = m.validate_properties(&obj(good)).unwrap();
    assert_eq!(out["d"].to_string(), "3.0");
    assert_eq!(out["b"], json!(0));
    let bad = [
        (json!({"i": 6}), "property `i`: 6 is above the maximum 5"),
        (
            json!({"f": 1.6}),
            "property `f`: 1.6 is above the maximum 1.5",
        ),
        (
            json!({"t": "abcd"}),
            "property `t`: is 4 bytes long, the maximum is 3",
        ),
        (
            json!({"e": 1}),
            "property `e`: 1 is not one of the allowed values [\"0\", \"2\"]",
        ),
        (
            json!({"b": "on"}),
            "property `b`: expected true/false or 0/1, got a string",
        ),
        (
            json!({"dt": "soon"}),
            "property `dt`: expected UTC ms since the epoch (number or digit string), got a string",
        ),
        (
            json!({"s": {"x": 1, "z": 1}}),
            "property `s.z`: not in the thing model",
        ),
        (
            json!({"ai": [1, 2, 3]}),
            "property `ai`: has 3 items, the maximum is 2",
        ),
        (
            json!({"as": [{"k": 2}]}),
            "property `as[0].k`: 2 is above the maximum 1",
        ),
    ];
    for (v, want) in bad {
        assert_eq!(
            m.validate_properties(&obj(v.clone()))
                .unwrap_err()
                .to_string(),
            want,
            "{v}"
        );
    }
}

#[test]
fn broken_documents_say_where() {
    let cases = [
        (
            r#"{"properties":[{"identifier":"x","dataType":{"type":"blob"}}]}"#,
            "TSL properties[0](x).dataType.type: unknown data type `blob`",
        ),
        (
            r#"{"properties":[{"identifier":"x","dataType":{"type":"int","specs":{"min":"one"}}}]}"#,
            "TSL properties[0](x).dataType.specs.min: \"one\" is not an integer",
        ),
        (
            r#"{"properties":[{"identifier":"x","dataType":{"type":"struct","specs":{}}}]}"#,
            "TSL properties[0](x).dataType.specs: a struct's specs must be an array of members",
        ),
        (
            r#"{"properties":[{"identifier":"x","dataType":{"type":"enum","specs":{"a":"b"}}}]}"#,
            "TSL properties[0](x).dataType.specs: enum key \"a\" is not an integer",
        ),
        (
            r#"{"properties":[{"identifier":"x","dataType":{"type":"array","specs":{}}}]}"#,
            "TSL properties[0](x).dataType.specs: an array needs `item`",
        ),
        (
            r#"{"properties":[{"name":"x"}]}"#,
            "TSL properties[0]: no `identifier`",
        ),
        (
            r#"{"properties":[{"identifier":"x","accessMode":"x","dataType":{"type":"int"}}]}"#,
            "TSL properties[0](x).accessMode: \"x\" is not r or rw",
        ),
        (
            r#"{"events":[{"identifier":"e","type":"fatal"}]}"#,
            "TSL events[0](e).type: unknown event type `fatal`",
        ),
        (r#"{"properties":{}}"#, "TSL properties: must be an array"),
        ("[]", "TSL (document): must be a JSON object"),
    ];
    for (doc, want) in cases {
        assert_eq!(load_tsl(doc).unwrap_err().to_string(), want);
    }
    assert!(load_tsl("{")
        .unwrap_err()
        .to_string()
        .starts_with("TSL (document): not valid JSON"));
}

#[test]
fn the_platform_validates_against_its_tsl() {
    let profile = AliyunProfile::new("a1B2c3D4e5F", "dev-001", Some(Secret::new("s")));
    let p = AliyunPlatform::new(profile)
        .unwrap()
        .with_tsl_json(ALL_TYPES)
        .unwrap();
    assert!(p.thing_model().is_some());
    let up = parse_uplink_line(r#"{"properties": {"b": true, "d": 1}}"#).unwrap();
    let body = String::from_utf8(p.encode(&up, 5).unwrap().payload).unwrap();
    assert_eq!(
        body,
        r#"{"id":"5","version":"1.0","params":{"b":1,"d":1.0},"method":"thing.event.property.post"}"#
    );
    let up = parse_uplink_line(r#"{"properties": {"i": 99}}"#).unwrap();
    assert_eq!(
        p.encode(&up, 1).unwrap_err().to_string(),
        "property `i`: 99 is above the maximum 5"
    );
    let up = parse_uplink_line(r#"{"event": "Fault", "params": {"code": 2}}"#).unwrap();
    assert!(p
        .encode(&up, 1)
        .unwrap_err()
        .to_string()
        .starts_with("event `Fault` parameter `code`: 2 is not one of"));
    let up = parse_uplink_line(r#"{"event": "Nope", "params": {}}"#).unwrap();
    assert_eq!(
        p.encode(&up, 1).unwrap_err().to_string(),
        "event `Nope`: not in the thing model"
    );
    let err = AliyunPlatform::new(AliyunProfile::new(
        "a1B2c3D4e5F",
        "dev-001",
        Some(Secret::new("s")),
    ))
    .unwrap()
    .with_tsl_json(r#"{"properties":[{"identifier":"x","dataType":{"type":"blob"}}]}"#)
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "profile field `tsl`: TSL properties[0](x).dataType.type: unknown data type `blob`"
    );
}
