//! Product models: the shared fixtures (offline form), our API-form fixture
//! with every data type, mapping onto thing-model, and bad models.

use std::path::{Path, PathBuf};

use cloud_huawei::model::{group_by_service, HwType, Limit, ProductModel, ServiceMap};
use cloud_huawei::Error;
use serde_json::{json, Value};
use thing_model::{DataType, DateEncoding};

const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/models/huawei");
const API: &str = include_str!("fixtures/api_all_types.json");

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(MODELS)
        .expect("shared/models/huawei")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("profile/devicetype-capability.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_shared_fixture_loads_and_matches_its_files() {
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 5, "expected the five shared Huawei models");
    for dir in dirs {
        let model = ProductModel::load(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let dev = read(&dir.join("profile/devicetype-capability.json"));
        let caps = dev["devices"][0]
            .get("serviceTypeCapabilities")
            .or_else(|| dev["devices"][0].get("service_capabilities"))
            .and_then(Value::as_array)
            .unwrap();
        let ids: Vec<&str> = caps
            .iter()
            .map(|c| {
                c.get("serviceId")
                    .or_else(|| c.get("service_id"))
                    .unwrap()
                    .as_str()
                    .unwrap()
            })
            .collect();
        let got: Vec<&str> = model
            .services
            .iter()
            .map(|s| s.service_id.as_str())
            .collect();
        assert_eq!(got, ids, "{}", dir.display());
        // Property and command counts equal those in the service files.
        let (mut props, mut cmds) = (0, 0);
        for id in &ids {
            let f = read(&dir.join(format!("service/{id}/profile/servicetype-capability.json")));
            let s = &f["services"][0];
            props += s["properties"].as_array().map_or(0, Vec::len);
            cmds += s["commands"].as_array().map_or(0, Vec::len);
        }
        let tm = model.to_thing_model();
        assert_eq!(tm.properties.len(), props, "{}", dir.display());
        assert_eq!(tm.services.len(), cmds, "{}", dir.display());
        assert!(tm.properties.iter().all(|p| p.service.is_some()));
    }
}

fn fixture(name: &str) -> ProductModel {
    ProductModel::load(&Path::new(MODELS).join(name)).unwrap()
}

#[test]
fn legacy_quirks_are_normalised_and_noted() {
    let water = fixture("oceanconnect-demo_WaterMeter_Huawei_v1001");
    let voltage = &water.service("Electricity").unwrap().properties[0];
    assert_eq!(voltage.spec.data_type, HwType::Decimal, "legacy double");
    assert!(water.notes.iter().any(|n| n.contains("double")));
    let high = &water.service("WaterMeterAlarm").unwrap().commands[0].paras[0];
    assert_eq!((high.spec.min, high.spec.max), (Some(Limit::Int(1)), None));
    assert!(water.notes.iter().any(|n| n.contains("no maximum")));
    // Strings carry min/max 0 in the legacy export: ignored, max_length kept.
    let addr = &water.service("WaterMeter").unwrap().properties[0];
    assert_eq!(
        (addr.spec.min, addr.spec.max, addr.spec.max_length),
        (None, None, Some(255))
    );
}

#[test]
fn snake_case_export_maps_string_enum_list_to_an_enum() {
    let smoke = fixture("iotda-csharp-sdk_Smoke_MQTT_snake_case");
    let tm = smoke.to_thing_model();
    let cmd = &tm.services[0];
    assert_eq!(cmd.service.as_deref(), Some("Smoke"));
    assert!(
        matches!(&cmd.input[0].data_type, DataType::Enum(e) if e.values.contains_key("ON") && !e.integer)
    );
    let mut params = thing_model::Values::new();
    params.insert("Beep".into(), json!("MAYBE"));
    let err = tm
        .validate_service_input(&cmd.identifier, &params)
        .unwrap_err();
    assert!(err.to_string().contains("MAYBE"), "{err}");
}

#[test]
fn names_repeated_across_services_need_a_service() {
    let m = fixture("iotda-java-sdk_Smoke_LWM2M_8services");
    let tm = m.to_thing_model();
    let values = json!({"alarm": 1}).as_object().unwrap().clone();
    let err = group_by_service(&values, None, &ServiceMap::new(Some(&tm), None)).unwrap_err();
    assert!(
        err.to_string().contains("alam") && err.to_string().contains("battery"),
        "{err}"
    );
    let map = ServiceMap::new(Some(&tm), Some("battery"));
    assert_eq!(
        group_by_service(&values, None, &map).unwrap()[0].0,
        "battery"
    );
    let explicit = group_by_service(&values, Some("alam"), &ServiceMap::default()).unwrap();
    assert_eq!(explicit[0].0, "alam");
    // Per-service validation sees the right definition.
    let battery = m.service_thing_model("battery").unwrap();
    assert!(battery
        .validate_properties(&json!({"alarm": 1}).as_object().unwrap().clone())
        .is_ok());
    assert!(battery
        .validate_properties(&json!({"alarm": 2}).as_object().unwrap().clone())
        .is_err());
}

#[test]
fn api_form_covers_every_data_type() {
    let m = ProductModel::from_api_json(API).unwrap();
    assert_eq!(m.product_id.as_deref(), Some("5f1a2b3c4d"));
    let types: Vec<HwType> = m.services[0]
        .properties
        .iter()
        .map(|p| p.spec.data_type)
        .collect();
    for t in [
        "int",
        "long",
        "decimal",
        "string",
        "DateTime",
        "jsonObject",
        "enum",
        "boolean",
        "string list",
    ] {
        let ty = HwType::parse(t).unwrap();
        assert_eq!(ty.as_str(), t);
        assert!(types.contains(&ty), "fixture lacks {t}");
    }
    let counter = &m.services[0].properties[2];
    assert_eq!(
        counter.spec.max,
        Some(Limit::Int(9_007_199_254_740_993)),
        "long bounds stay exact"
    );
    let tm = m.service_thing_model("Climate").unwrap();
    assert!(matches!(
        tm.property("stamp").unwrap().data_type,
        DataType::Date(DateEncoding::Compact)
    ));
    let ok = json!({"temp": -40, "level": 100, "counter": 9_007_199_254_740_993_i64, "label": "abcdefgh",
        "stamp": "20261124T170000Z", "extra": {"a": 1}, "mode": "AUTO", "on": true, "tags": ["ab", "cd"]});
    tm.validate_properties(ok.as_object().unwrap()).unwrap();
    for (bad, needle) in [
        (json!({"temp": 85.6}), "maximum"),
        (json!({"level": -1}), "minimum"),
        (json!({"counter": 9_007_199_254_740_994_i64}), "maximum"),
        (json!({"label": "123456789"}), "label"),
        (json!({"stamp": "2026-11-24"}), "stamp"),
        (json!({"extra": [1]}), "extra"),
        (json!({"mode": "OFF"}), "OFF"),
        (json!({"on": "yes"}), "on"),
        (json!({"tags": ["abcde"]}), "tags[0]"),
        (json!({"nope": 1}), "nope"),
    ] {
        let err = tm
            .validate_properties(bad.as_object().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
}

type Edit = Box<dyn FnOnce(&mut Value)>;

fn api_with(edit: impl FnOnce(&mut Value)) -> Result<ProductModel, Error> {
    let mut v: Value = serde_json::from_str(API).unwrap();
    edit(&mut v);
    ProductModel::from_api_json(&v.to_string())
}

#[test]
fn bad_models_are_refused_naming_the_place() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| {
                v["service_capabilities"][0]["properties"][0]["data_type"] = json!("float")
            }),
            "services[Climate].properties[temp]: data_type \"float\"",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["properties"][6]["enum_list"] = json!([])),
            "properties[mode]: data_type enum needs a non-empty enum_list",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["properties"][1]["min"] = json!("200")),
            "properties[level]: min 200 is greater than max 100",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["properties"][1]["min"] = json!("1.5")),
            "min 1.5 is not an integer",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["properties"][1]["max"] = json!("ten")),
            "max must be a number",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["properties"][1]["method"] = json!("RX")),
            "method \"RX\"",
        ),
        (
            Box::new(|v| v["service_capabilities"][1]["service_id"] = json!("Climate")),
            "service_id appears twice",
        ),
        (
            Box::new(|v| {
                v["service_capabilities"][1]["properties"][1]["property_name"] = json!("level")
            }),
            "property \"level\" appears twice",
        ),
        (
            Box::new(|v| v["service_capabilities"][1]["service_id"] = json!("S".repeat(33))),
            "service_id is 33 characters; the limit is 32",
        ),
        (
            Box::new(|v| v["service_capabilities"][0]["option"] = json!("Sometimes")),
            "option \"Sometimes\"",
        ),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("service_capabilities");
            }),
            "service_capabilities is missing",
        ),
    ];
    for (edit, needle) in cases {
        let err = api_with(edit).unwrap_err().to_string();
        assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    }
    let err = ProductModel::from_api_json("{").unwrap_err().to_string();
    assert!(
        err.starts_with("product model (API form): invalid JSON"),
        "{err}"
    );
}

#[test]
fn offline_form_errors() {
    let dev = r#"{"devices":[{"serviceTypeCapabilities":[{"serviceId":"A","serviceType":"A"}]}]}"#;
    let err = ProductModel::from_offline_json(dev, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no service file has serviceType \"A\""),
        "{err}"
    );
    let svc = r#"{"services":[{"serviceType":"B","properties":[]}]}"#;
    let err = ProductModel::from_offline_json(dev, &[svc])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no service file"), "{err}");
    let a = r#"{"services":[{"serviceType":"A","properties":[]}]}"#;
    let err = ProductModel::from_offline_json(dev, &[a, svc])
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"B\" is not listed"), "{err}");
    let err = ProductModel::load(Path::new("model.zip")).unwrap_err();
    assert!(matches!(err, Error::NotImplemented(_)), "{err}");
    let err = ProductModel::load(Path::new("/nonexistent/model.json"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("reading /nonexistent/model.json"), "{err}");
}
