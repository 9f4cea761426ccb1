//! The thing-model export loader against the shared OneNET exports and our own fixture.

use cloud_onenet::model::load_export;
use serde_json::{json, Value};
use thing_model::{CallType, DataType, EventKind, ThingModel, Values};

const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/models/onenet");
const ALL_TYPES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/onenet-all-types.json"
);

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn shared(name: &str) -> (ThingModel, Value) {
    let text = read(&format!("{MODELS}/{name}"));
    let model = load_export(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    (model, serde_json::from_str(&text).unwrap())
}

fn expected_kind(onenet_type: &str) -> &'static str {
    match onenet_type {
        "int32" => "int",
        "int64" => "long",
        "float" => "float",
        "double" => "double",
        "bool" => "bool",
        "enum" => "enum",
        "string" => "text",
        "date" => "date",
        "bitMap" => "bitmap",
        "struct" => "struct",
        "array" => "array",
        other => panic!("unexpected OneNET type {other}"),
    }
}

fn obj(v: Value) -> Values {
    v.as_object().unwrap().clone()
}

#[test]
fn every_shared_export_loads_with_its_structure() {
    let mut files: Vec<String> = std::fs::read_dir(MODELS)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for name in &files {
        let (m, raw) = shared(name);
        let len = |k: &str| raw[k].as_array().map_or(0, Vec::len);
        assert_eq!(m.properties.len(), len("properties"), "{name}");
        assert_eq!(m.events.len(), len("events"), "{name}");
        assert_eq!(m.services.len(), len("services"), "{name}");
        for (p, rp) in m
            .properties
            .iter()
            .zip(raw["properties"].as_array().unwrap())
        {
            assert_eq!(p.identifier, rp["identifier"].as_str().unwrap(), "{name}");
            let want = expected_kind(rp["dataType"]["type"].as_str().unwrap());
            assert_eq!(p.data_type.name(), want, "{name} {}", p.identifier);
        }
    }
}

#[test]
fn the_three_fuse_formats_load_to_the_same_model() {
    let (studio, _) = shared("loutor_fuse-detector__onenet-studio-fuse-v1.0_export.json");
    let (v12, _) = shared("loutor_fuse-detector__city-platform-v1.2.json");
    let (v30, _) = shared("loutor_fuse-detector__city-platform-v3.0.json");
    assert_eq!(studio, v12);
    assert_eq!(studio, v30);
    // Spot checks on the shared content.
    let arr = &studio.property("arrTest").unwrap().data_type;
    assert!(
        matches!(arr, DataType::Array { item, max_size: Some(3) } if matches!(**item, DataType::Date(_)))
    );
    assert!(matches!(
        studio.property("bitMapTest").unwrap().data_type,
        DataType::Bitmap { bits: 2 }
    ));
    assert_eq!(
        studio.service("svc", None).unwrap().call_type,
        CallType::Sync
    );
    assert_eq!(studio.event("Error").unwrap().kind, EventKind::Info);
}

#[test]
fn string_lengths_as_numbers_and_as_strings_agree() {
    let (min, _) = shared("cqcet_fire-alarm__onenet-studio_export_minified.json");
    let (pretty, _) = shared("cqcet_fire-alarm__onenet-studio_export_pretty-tabs.json");
    let members = |m: &ThingModel| match &m.property("AiRecord").unwrap().data_type {
        DataType::Struct(f) => f
            .iter()
            .map(|f| (f.identifier.clone(), f.data_type.clone()))
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let (a, b) = (members(&min), members(&pretty));
    assert_eq!(a[0], b[0], "imgid: length 256 vs \"256\"");
    assert!(matches!(
        a[0].1,
        DataType::Text {
            max_length: Some(256)
        }
    ));
}

#[test]
fn own_fixture_covers_every_type_and_validates() {
    let m = load_export(&read(ALL_TYPES)).unwrap();
    let kinds: Vec<&str> = m.properties.iter().map(|p| p.data_type.name()).collect();
    for k in [
        "int", "long", "float", "double", "bool", "enum", "text", "date", "bitmap", "struct",
        "array",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert_eq!(m.event("alert").unwrap().kind, EventKind::Alert);
    assert_eq!(m.event("fault").unwrap().kind, EventKind::Error);
    assert_eq!(m.service("add", None).unwrap().call_type, CallType::Async);
    assert!(!m.property("i64").unwrap().access.write);

    let good = obj(json!({
        "i32": -10, "i64": 8_999_999_999i64, "f32": 3.5, "f64": 1.5, "on": true, "mode": 1,
        "label": "abcdefgh", "stamp": 1_599_534_283_111i64, "flags": 7,
        "pos": {"lat": 30.5, "name": "home"}, "nums": [0, 5], "tags": ["ab", "c"],
        "cells": [{"ci": 1}, {"ci": 65535}]
    }));
    m.validate_properties(&good).unwrap();

    let cases = [
        (json!({"i32": 11}), "i32", "10"),
        (json!({"i64": 9_000_000_001i64}), "i64", "9000000000"),
        (json!({"f64": -1.6}), "f64", "-1.5"),
        (json!({"mode": 2}), "mode", "2"),
        (json!({"label": "abcdefghi"}), "label", "8"),
        (json!({"pos": {"lat": 91}}), "pos.lat", "90"),
        (json!({"pos": {"alt": 1}}), "pos.alt", ""),
        (json!({"nums": [1, 2, 3]}), "nums", "2"),
        (json!({"on": "yes"}), "on", ""),
        (json!({"nope": 1}), "nope", ""),
    ];
    for (values, path, limit) in cases {
        let err = m
            .validate_properties(&obj(values.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains(path) && err.contains(limit), "{values}: {err}");
    }
    assert!(
        m.validate_set(&obj(json!({"i64": 1}))).is_err(),
        "read-only property"
    );
    m.validate_event("alert", &obj(json!({"cnt": 5}))).unwrap();
    assert!(m
        .validate_service_input("add", &obj(json!({"a": 101})))
        .is_err());
    m.validate_service_output("add", &obj(json!({"c": 7})))
        .unwrap();
}

#[test]
fn bad_exports_name_the_path() {
    let base = |dt: Value| {
        json!({"properties": [{"identifier": "x", "accessMode": "rw", "dataType": dt}]}).to_string()
    };
    let cases = [
        (
            base(json!({"type": "int16", "specs": {}})),
            "$.properties[0].dataType.type",
            "int16",
        ),
        (
            base(json!({"type": "enum", "specs": {"on": "On"}})),
            "specs.on",
            "integers",
        ),
        (
            base(json!({"type": "bitMap", "specs": {"length": 33}})),
            "specs.length",
            "32",
        ),
        (
            base(json!({"type": "int32", "specs": {"min": "5", "max": "1"}})),
            "specs",
            "above max",
        ),
        (
            base(json!({"type": "int32", "specs": {"min": "0.5"}})),
            "specs.min",
            "integer",
        ),
        (
            base(json!({"type": "string", "specs": {"length": -1}})),
            "specs.length",
            "negative",
        ),
        (base(json!({"specs": {}})), "dataType.type", "missing"),
        ("[1]".to_owned(), "$", "object"),
        ("{".to_owned(), "$", "JSON"),
        (
            json!({"properties": [{"identifier": "x", "dataType": {"type": "bool"}}],
                   "events": [{"identifier": "x", "outputData": []}]})
            .to_string(),
            "$.events[0]",
            "twice",
        ),
        (
            json!({"properties": [{"identifier": "a/b", "dataType": {"type": "bool"}}]})
                .to_string(),
            "identifier",
            "'/'",
        ),
    ];
    for (text, path, needle) in cases {
        let err = load_export(&text).unwrap_err().to_string();
        assert!(
            err.contains(path) && err.contains(needle),
            "{text}\n=> {err}"
        );
    }
}
