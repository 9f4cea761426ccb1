//! Every vector in `shared/vectors/onenet.json`, read from the file.

use cloud_onenet::connect::DeviceConfig;
use cloud_onenet::onejson::{self, MessageId, PackEntry};
use cloud_onenet::token::{self, AccessKey, Expiry, Resource, TokenSpec};
use cloud_onenet::topics::Topics;
use cloud_onenet::Error;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/onenet.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("{VECTORS}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn spec_of(inputs: &Value) -> TokenSpec {
    let res = Resource::parse(s(inputs, "res")).unwrap();
    // The res the file gives is the one built from its names.
    match (
        inputs["product_id"].as_str(),
        inputs["device_name"].as_str(),
    ) {
        (Some(pid), Some(dn)) => assert_eq!(res, Resource::device(pid, dn).unwrap()),
        (Some(pid), None) => assert_eq!(res, Resource::product(pid).unwrap()),
        _ => assert!(matches!(res, Resource::User { .. })),
    }
    assert_eq!(res.to_string(), s(inputs, "res"));
    TokenSpec {
        version: s(inputs, "version").parse().unwrap(),
        res,
        et: inputs["et"].as_u64().unwrap(),
        method: s(inputs, "method").parse().unwrap(),
    }
}

#[test]
fn token_vectors() {
    let all = vectors();
    let list = all["vectors"].as_array().unwrap();
    assert!(!list.is_empty());
    for v in list {
        let name = s(v, "name");
        let (inputs, out) = (&v["inputs"], &v["outputs"]);
        let key = AccessKey::from_base64(s(inputs, "access_key_b64")).unwrap();
        let spec = spec_of(inputs);
        assert_eq!(spec.string_to_sign(), s(inputs, "string_to_sign"), "{name}");
        assert_eq!(hex::encode(spec.hmac(&key)), s(out, "hmac_hex"), "{name}");
        let tok = spec.sign(&key);
        assert_eq!(tok.expose_sign(), s(out, "sign_base64"), "{name}");
        assert_eq!(
            token::percent_encode(tok.expose_sign()),
            s(out, "sign_urlencoded"),
            "{name}"
        );
        let password = tok.expose();
        assert_eq!(password, s(out, "token"), "{name}");

        // Implementations the file marks as agreeing produced the same bytes;
        // dissenting ones (buffer bugs) must differ from ours.
        let dissent: Vec<&str> = v["dissenting_implementations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for (imp, got) in v["implementation_outputs"].as_object().unwrap() {
            if let Some(got) = got.as_str() {
                assert_eq!(
                    got == password,
                    !dissent.contains(&imp.as_str()),
                    "{name} vs {imp}"
                );
            }
        }
        if let Some(published) = v.get("published_expected").and_then(Value::as_str) {
            assert_eq!(password, published, "{name}: LuatOS published value");
        }

        // Parse + verify round trip, and the 1104/1106 refusals.
        let parsed = token::verify(&password, &key, spec.et).unwrap();
        assert_eq!(parsed, spec, "{name}");
        let err = token::verify(&password, &key, spec.et + 1).unwrap_err();
        assert!(err.to_string().contains("1104"), "{name}: {err}");
        let other = AccessKey::from_bytes(b"another key".to_vec()).unwrap();
        let err = token::verify(&password, &other, spec.et).unwrap_err();
        assert!(err.to_string().contains("1106"), "{name}: {err}");

        // CONNECT triple where the vector gives one.
        if let Some(mc) = out["mqtt_connect"].as_object() {
            let mut cfg = DeviceConfig::new(
                s(inputs, "product_id"),
                s(inputs, "device_name"),
                AccessKey::from_base64(s(inputs, "access_key_b64")).unwrap(),
            )
            .unwrap();
            cfg.method = spec.method;
            cfg.expiry = Expiry::At(spec.et);
            // The config always signs 2018-10-31 tokens; other versions are HTTP-only.
            if spec.version.as_str() == "2018-10-31" {
                let p = cfg.connect_params(spec.et - 1).unwrap();
                assert_eq!(p.client_id, mc["client_id"].as_str().unwrap(), "{name}");
                assert_eq!(p.username, mc["username"].as_str().unwrap(), "{name}");
                assert_eq!(
                    p.password.expose(),
                    mc["password"].as_str().unwrap(),
                    "{name}"
                );
            }
        }
    }
}

fn payload<'a>(all: &'a Value, name: &str) -> &'a str {
    all["onejson_payload_vectors"]["payloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| s(p, "payload"))
        .unwrap_or_else(|| panic!("no payload vector {name}"))
}

fn assert_same_json(ours: &str, theirs: &str, name: &str) {
    let a: Value = serde_json::from_str(ours).unwrap();
    let b: Value = serde_json::from_str(theirs).unwrap();
    assert_eq!(a, b, "{name}");
    // With insertion order kept, the bytes match the SDK packer too.
    assert_eq!(ours, theirs, "{name}");
}

/// Rebuilds each SDK payload from its decoded parts with our encoder.
#[test]
fn onejson_payload_vectors() {
    let all = vectors();
    let names: Vec<&str> = all["onejson_payload_vectors"]["payloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "name"))
        .collect();
    let mut checked = 0;
    for name in names {
        let text = payload(&all, name);
        let v: Value = serde_json::from_str(text).unwrap();
        let ours = match name {
            "property_post" | "property_post_no_time" => {
                let req = onejson::decode_request(name, text.as_bytes()).unwrap();
                let points = onejson::decode_points(name, &req.params).unwrap();
                let time = points[0].time;
                assert!(points.iter().all(|p| p.time == time));
                let values = points
                    .into_iter()
                    .map(|p| (p.identifier, p.value))
                    .collect();
                onejson::property_post(&MessageId::parse(&req.id).unwrap(), &values, time).unwrap()
            }
            "event_post" => {
                let req = onejson::decode_request(name, text.as_bytes()).unwrap();
                let p = onejson::decode_points(name, &req.params).unwrap().remove(0);
                let outputs = p.value.as_object().unwrap().clone();
                onejson::event_post(
                    &MessageId::parse(&req.id).unwrap(),
                    &p.identifier,
                    &outputs,
                    p.time,
                )
                .unwrap()
            }
            "desired_get" => {
                let req = onejson::decode_request(name, text.as_bytes()).unwrap();
                let names: Vec<String> =
                    serde_json::from_value(req.params).expect("desired/get params are names");
                onejson::desired_get(&MessageId::parse(&req.id).unwrap(), &names)
            }
            "property_set_reply" | "service_invoke_reply" | "property_get_reply" => {
                let r = onejson::decode_reply(text.as_bytes()).unwrap();
                assert!(r.status().is_success());
                onejson::reply(&r.id, r.code, r.msg.as_deref(), r.data.as_ref())
            }
            "pack_post" => {
                let req = onejson::decode_request(name, text.as_bytes()).unwrap();
                let entries = req
                    .params
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| PackEntry {
                        identity: e
                            .get("identity")
                            .map(|i| (s(i, "productID").into(), s(i, "deviceName").into())),
                        properties: onejson::decode_points(name, &e["properties"])
                            .unwrap()
                            .into_iter()
                            .map(|p| (p.identifier, p.value, p.time))
                            .collect(),
                        events: onejson::decode_points(name, &e["events"])
                            .unwrap()
                            .into_iter()
                            .map(|p| (p.identifier, p.value.as_object().unwrap().clone(), p.time))
                            .collect(),
                    })
                    .collect::<Vec<_>>();
                onejson::pack_post(&MessageId::parse(&req.id).unwrap(), &entries).unwrap()
            }
            other => panic!("payload vector {other} has no encoder mapping; add one"),
        };
        assert_same_json(&ours, text, name);
        assert!(v["id"].is_string(), "{name}: ids are strings");
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn topic_vectors() {
    let all = vectors();
    let tv = &all["topic_vectors"];
    let t = Topics::new(s(tv, "product_id"), s(tv, "device_name")).unwrap();
    let mut checked = 0;
    for (key, want) in tv["topics"].as_object().unwrap() {
        let want = want.as_str().unwrap();
        let ours = match key.as_str() {
            "property_post" => t.property_post(),
            "property_post_reply" => t.property_post_reply(),
            "property_set" => t.property_set(),
            "property_set_reply" => t.property_set_reply(),
            "property_get" => t.property_get(),
            "property_get_reply" => t.property_get_reply(),
            "event_post" => t.event_post(),
            "event_post_reply" => t.event_post_reply(),
            "desired_get" => t.desired_get(),
            "desired_get_reply" => t.desired_get_reply(),
            "desired_delete" => t.desired_delete(),
            "desired_delete_reply" => t.desired_delete_reply(),
            "pack_post" => t.pack_post(),
            "pack_post_reply" => t.pack_post_reply(),
            "history_post" => t.history_post(),
            "history_post_reply" => t.history_post_reply(),
            "subscribe_all_thing (C SDK)" => t.subscribe_all(),
            "legacy_dp_post_json (MQTTS kit)" => t.legacy_dp_post_json(),
            "legacy_dp_post_json_accepted" => t.legacy_dp_post_json_accepted(),
            "legacy_dp_post_json_rejected" => t.legacy_dp_post_json_rejected(),
            k if k.starts_with("service_invoke(identifier=")
                || k.starts_with("service_invoke_reply(identifier=") =>
            {
                let id = k.split_once("identifier=").unwrap().1.trim_end_matches(')');
                if k.starts_with("service_invoke_reply") {
                    t.service_invoke_reply(id).unwrap()
                } else {
                    t.service_invoke(id).unwrap()
                }
            }
            k if k.starts_with("legacy_cmd_request") || k.starts_with("legacy_cmd_response") => {
                // The vector keeps `{cmdid}` as a placeholder: fill in a real id.
                let want = want.replace("{cmdid}", "cmd42");
                let ours = if k.starts_with("legacy_cmd_request") {
                    t.legacy_cmd_request("cmd42").unwrap()
                } else {
                    t.legacy_cmd_response("cmd42").unwrap()
                };
                assert_eq!(ours, want, "{k}");
                checked += 1;
                continue;
            }
            other => panic!("topic vector {other} has no mapping; add one"),
        };
        assert_eq!(ours, want, "{key}");
        checked += 1;
    }
    assert_eq!(checked, tv["topics"].as_object().unwrap().len());
}

#[test]
fn bad_inputs_give_clear_errors_without_secrets() {
    let all = vectors();
    let v = &all["vectors"][0]["inputs"];
    let good = s(v, "access_key_b64");

    // Not base64: names the field, never echoes the key.
    let bad_key = format!("{}!!", &good[..good.len() - 2]);
    let err = AccessKey::from_base64(&bad_key).unwrap_err().to_string();
    assert!(
        err.starts_with("access_key:") && err.contains("base64"),
        "{err}"
    );
    assert!(!err.contains(&bad_key[..10]), "{err}");
    assert!(AccessKey::from_base64("")
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert!(
        AccessKey::from_base64("abc").is_err(),
        "unpadded / truncated"
    );

    // Expiry in the past, or a zero lifetime.
    let err = Expiry::At(10).resolve(11).unwrap_err();
    assert_eq!(err, Error::Expired { et: 10, now: 11 });
    assert!(Expiry::At(11).resolve(11).is_err(), "et must be after now");
    assert!(Expiry::Lifetime(0)
        .resolve(11)
        .unwrap_err()
        .to_string()
        .starts_with("lifetime:"));
    assert!(Expiry::Lifetime(u64::MAX)
        .resolve(11)
        .unwrap_err()
        .to_string()
        .contains("overflow"));
    assert_eq!(
        Expiry::At(32_472_115_200).resolve(0).unwrap(),
        32_472_115_200,
        "64-bit et"
    );

    // Forbidden characters in names.
    for (pid, dn) in [
        ("Aw9oB4n7zB", "dev 001"),
        ("Aw9o/B4n7zB", "dev-001"),
        ("Aw9oB4n7zB", "dev&1=2"),
    ] {
        let err = Resource::device(pid, dn).unwrap_err().to_string();
        assert!(
            err.starts_with("product_id:") || err.starts_with("device_name:"),
            "{err}"
        );
    }
    assert!(MessageId::parse("12345678901234")
        .unwrap_err()
        .to_string()
        .contains("13"));
    assert!(MessageId::parse("12a").is_err());
}

#[test]
fn malformed_tokens_are_refused_with_the_access_code() {
    let key = AccessKey::from_bytes(vec![7; 32]).unwrap();
    let good = TokenSpec {
        version: Default::default(),
        res: Resource::device("p1", "d1").unwrap(),
        et: 100,
        method: Default::default(),
    }
    .sign(&key)
    .expose();
    let cases = [
        (good.replace("&sign=", "&sig="), "1103"),
        (
            good.replace("version=2018-10-31", "version=2019-01-01"),
            "1111",
        ),
        (good.replace("method=sha256", "method=SHA256"), "1110"),
        (good.replace("et=100", "et=-1"), "1103"),
        (format!("{good}&et=100"), "1103"),
        (
            good.replace("res=products%2Fp1%2Fdevices%2Fd1", "res=things%2Fx"),
            "1103",
        ),
        (good.replace("%3D", "%3"), "1103"),
    ];
    for (tok, code) in cases {
        let err = token::verify(&tok, &key, 1).unwrap_err().to_string();
        assert!(err.contains(code), "{tok}: {err}");
    }
    token::verify(&good, &key, 100).unwrap();
}
