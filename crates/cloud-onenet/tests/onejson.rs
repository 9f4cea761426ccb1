//! OneJSON pieces the vectors do not cover: id allocation, error replies, desired values, limits.

use cloud_onenet::codes::ServiceCode;
use cloud_onenet::onejson::{self, IdAllocator, MessageId, PackEntry, MAX_PACK_ENTRIES};
use cloud_onenet::Error;
use serde_json::{json, Value};

#[test]
fn ids_are_at_most_13_digits_and_wrap() {
    let mut a = IdAllocator::starting_at(9_999_999_999_998);
    let ids: Vec<String> = (0..3).map(|_| a.next_id().as_str().to_owned()).collect();
    assert_eq!(ids, ["9999999999998", "9999999999999", "1"]);
    assert_eq!(
        IdAllocator::default().next_id(),
        MessageId::parse("1").unwrap()
    );
    assert_eq!(IdAllocator::starting_at(0).next_id().as_str(), "1");
    MessageId::parse("1234567890123").unwrap();
    let err = MessageId::from_number(10_000_000_000_000)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("id:") && err.contains("312"), "{err}");
}

#[test]
fn error_replies_become_platform_errors_with_meaning() {
    let r = onejson::decode_reply(br#"{"id":"5","code":302,"msg":"temp: bad type"}"#).unwrap();
    assert_eq!(r.status(), ServiceCode::DataType);
    let err = r.into_result().unwrap_err();
    assert!(matches!(
        err,
        Error::Platform {
            code: 302,
            meaning: ServiceCode::DataType,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "OneNET replied to id 5 with code 302 (data type error): temp: bad type"
    );
    let err = onejson::decode_reply(br#"{"id":"6","code":777}"#)
        .unwrap()
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OneNET replied to id 6 with code 777 (unlisted code)"
    );
    let ok = onejson::decode_reply(br#"{"id":"7","code":200,"data":{"a":1}}"#).unwrap();
    assert_eq!(ok.into_result().unwrap(), Some(json!({"a": 1})));
}

#[test]
fn desired_values_and_deletes() {
    let body = onejson::desired_delete(
        &MessageId::parse("8").unwrap(),
        &[("power".into(), Some(1)), ("temperature".into(), None)],
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["params"],
        json!({"power": {"version": 1}, "temperature": {}})
    );

    let data = json!({"power": {"value": "on", "version": 2}});
    let d = onejson::decode_desired(&data).unwrap();
    assert_eq!(
        (d[0].identifier.as_str(), &d[0].value, d[0].version),
        ("power", &json!("on"), Some(2))
    );
    assert!(onejson::decode_desired(&json!({"power": {"version": 2}})).is_err());
}

#[test]
fn pack_post_limits_and_negative_times() {
    let id = MessageId::parse("1").unwrap();
    let many = vec![PackEntry::default(); MAX_PACK_ENTRIES + 1];
    let err = onejson::pack_post(&id, &many).unwrap_err().to_string();
    assert!(err.contains("11 entries") && err.contains("10"), "{err}");
    let bad_sub = PackEntry {
        identity: Some(("p".into(), "sub 1".into())),
        ..Default::default()
    };
    assert!(onejson::pack_post(&id, &[bad_sub])
        .unwrap_err()
        .to_string()
        .starts_with("device_name:"));
    let values = json!({"t": 1}).as_object().unwrap().clone();
    let err = onejson::property_post(&id, &values, Some(-1))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("time:"), "{err}");
    assert!(onejson::event_post(&id, "a/b", &values, None).is_err());
}

#[test]
fn numeric_ids_from_the_platform_are_echoed_as_text() {
    let (id, values) = onejson::decode_property_set(br#"{"id":123,"params":{"a":1}}"#).unwrap();
    assert_eq!(id, "123");
    assert_eq!(values["a"], 1);
    assert_eq!(
        onejson::reply(&id, 200, Some("ok"), None),
        r#"{"id":"123","code":200,"msg":"ok"}"#
    );
    let req = onejson::decode_request("x", br#"{"id":"1","params":[]}"#).unwrap();
    assert_eq!(req.version, onejson::VERSION, "version defaults to 1.0");
}
