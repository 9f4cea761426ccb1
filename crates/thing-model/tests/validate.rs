//! Validation and wire normalisation of every data type.

use serde_json::{json, Value};
use thing_model::*;

fn prop(id: &str, data_type: DataType) -> Property {
    Property {
        identifier: id.into(),
        name: None,
        data_type,
        access: Access::RW,
        required: false,
        service: None,
    }
}

fn model() -> ThingModel {
    let int = |min, max| {
        DataType::Int(IntSpec {
            min: Some(min),
            max: Some(max),
            ..Default::default()
        })
    };
    let mut ro = prop("counter", int(0, 99));
    ro.access = Access::R;
    let mut color_enum = EnumSpec {
        integer: true,
        ..Default::default()
    };
    color_enum.values.insert("0".into(), "manual".into());
    color_enum.values.insert("1".into(), "read".into());
    let mut hw_enum = EnumSpec::default();
    hw_enum.values.insert("ON".into(), String::new());
    hw_enum.values.insert("OFF".into(), String::new());
    let rgb = DataType::Struct(vec![
        Field {
            required: true,
            ..Field::new("Red", int(0, 255))
        },
        Field::new("Green", int(0, 255)),
    ]);
    ThingModel {
        properties: vec![
            prop("level", int(0, 100)),
            ro,
            prop("big", DataType::Long(IntSpec::default())),
            prop(
                "temp",
                DataType::Double(FloatSpec {
                    min: Some(-40.0),
                    max: Some(85.5),
                    ..Default::default()
                }),
            ),
            prop("on", DataType::Bool(BoolEncoding::ZeroOne)),
            prop("flag", DataType::Bool(BoolEncoding::TrueFalse)),
            prop(
                "alias",
                DataType::Text {
                    max_length: Some(4),
                },
            ),
            prop("mode", DataType::Enum(color_enum)),
            prop("switch", DataType::Enum(hw_enum)),
            prop("when", DataType::Date(DateEncoding::MillisString)),
            prop("at", DataType::Date(DateEncoding::MillisNumber)),
            prop("stamp", DataType::Date(DateEncoding::Compact)),
            prop("rgb", rgb.clone()),
            prop(
                "list",
                DataType::Array {
                    item: Box::new(int(0, 9)),
                    max_size: Some(3),
                },
            ),
            prop(
                "colors",
                DataType::Array {
                    item: Box::new(rgb),
                    max_size: None,
                },
            ),
            prop("bits", DataType::Bitmap { bits: 3 }),
            prop("obj", DataType::JsonObject),
            prop(
                "tags",
                DataType::StringList {
                    max_length: Some(2),
                },
            ),
        ],
        events: vec![Event {
            identifier: "alarm".into(),
            name: None,
            kind: EventKind::Alert,
            output: vec![Field::new("code", int(0, 3))],
            service: None,
        }],
        services: vec![Service {
            identifier: "add".into(),
            name: None,
            call_type: CallType::Sync,
            input: vec![Field {
                required: true,
                ..Field::new("a", int(0, 10))
            }],
            output: vec![Field::new("sum", int(0, 20))],
            service: None,
        }],
    }
}

fn check(name: &str, v: Value) -> Result<Value, String> {
    let mut m = Values::new();
    m.insert(name.into(), v);
    model()
        .validate_properties(&m)
        .map(|o| o[name].clone())
        .map_err(|e| e.to_string())
}

#[test]
fn accepted_values_come_back_in_wire_form() {
    assert_eq!(check("level", json!(100)), Ok(json!(100)));
    assert_eq!(
        check("big", json!(9_007_199_254_740_993_i64)),
        Ok(json!(9_007_199_254_740_993_i64))
    );
    assert_eq!(
        check("temp", json!(10)).unwrap().to_string(),
        "10.0",
        "doubles carry a decimal"
    );
    assert_eq!(check("temp", json!(23.5)), Ok(json!(23.5)));
    assert_eq!(check("on", json!(true)), Ok(json!(1)));
    assert_eq!(check("on", json!(0)), Ok(json!(0)));
    assert_eq!(check("flag", json!(1)), Ok(json!(true)));
    assert_eq!(check("alias", json!("abcd")), Ok(json!("abcd")));
    assert_eq!(check("mode", json!(1)), Ok(json!(1)));
    assert_eq!(check("mode", json!("1")), Ok(json!(1)));
    assert_eq!(check("switch", json!("ON")), Ok(json!("ON")));
    assert_eq!(
        check("when", json!(1_700_000_000_000_i64)),
        Ok(json!("1700000000000"))
    );
    assert_eq!(
        check("at", json!("1700000000000")),
        Ok(json!(1_700_000_000_000_i64))
    );
    assert_eq!(
        check("stamp", json!(1_700_000_000_000_i64)),
        Ok(json!("20231114T221320Z"))
    );
    assert_eq!(
        check("stamp", json!("2023-11-14T22:13:20.000Z")),
        Ok(json!("2023-11-14T22:13:20.000Z"))
    );
    assert_eq!(
        check("rgb", json!({"Red": 1, "Green": 2})),
        Ok(json!({"Red": 1, "Green": 2}))
    );
    assert_eq!(check("list", json!([1, 2, 3])), Ok(json!([1, 2, 3])));
    assert_eq!(
        check("colors", json!([{"Red": 1}])),
        Ok(json!([{"Red": 1}]))
    );
    assert_eq!(check("bits", json!(7)), Ok(json!(7)));
    assert_eq!(check("obj", json!({"any": [1]})), Ok(json!({"any": [1]})));
    assert_eq!(check("tags", json!(["a", "bc"])), Ok(json!(["a", "bc"])));
}

#[test]
fn refusals_name_the_property_and_the_rule() {
    let cases = [
        ("level", json!(101), "property `level`: 101 is above the maximum 100"),
        ("level", json!(-1), "property `level`: -1 is below the minimum 0"),
        ("level", json!(1.5), "property `level`: expected an integer, got a number"),
        ("level", json!("5"), "property `level`: expected an integer, got a string"),
        ("temp", json!(85.6), "property `temp`: 85.6 is above the maximum 85.5"),
        ("on", json!(2), "property `on`: expected true/false or 0/1, got a number"),
        ("alias", json!("abcde"), "property `alias`: is 5 bytes long, the maximum is 4"),
        ("alias", json!("中文"), "property `alias`: is 6 bytes long, the maximum is 4"),
        ("mode", json!(7), "property `mode`: 7 is not one of the allowed values [\"0\", \"1\"]"),
        ("switch", json!("on"), "property `switch`: on is not one of the allowed values [\"OFF\", \"ON\"]"),
        ("when", json!("yesterday"), "property `when`: expected UTC ms since the epoch (number or digit string), got a string"),
        ("stamp", json!("2023-11-14"), "property `stamp`: expected ms since the epoch or yyyyMMdd'T'HHmmss'Z'"),
        ("rgb", json!({"Green": 1}), "property `rgb.Red`: is required but missing"),
        ("rgb", json!({"Red": 300}), "property `rgb.Red`: 300 is above the maximum 255"),
        ("rgb", json!({"Red": 1, "Blue": 1}), "property `rgb.Blue`: not in the thing model"),
        ("list", json!([1, 2, 3, 4]), "property `list`: has 4 items, the maximum is 3"),
        ("list", json!([1, 10]), "property `list[1]`: 10 is above the maximum 9"),
        ("colors", json!([{"Red": 1}, {"Red": -1}]), "property `colors[1].Red`: -1 is below the minimum 0"),
        ("bits", json!(8), "property `bits`: 8 is above the maximum 7"),
        ("obj", json!([1]), "property `obj`: expected an object, got an array"),
        ("tags", json!(["abc"]), "property `tags[0]`: is 3 bytes long, the maximum is 2"),
        ("nope", json!(1), "property `nope`: not in the thing model"),
    ];
    for (name, v, want) in cases {
        assert_eq!(
            check(name, v.clone()),
            Err(want.to_string()),
            "{name} = {v}"
        );
    }
    let int32 = check("level", json!(i64::from(i32::MAX) + 1)).unwrap_err();
    assert!(
        int32.contains("above the maximum 2147483647") || int32.contains("maximum 100"),
        "{int32}"
    );
}

#[test]
fn events_services_and_set() {
    let m = model();
    let p = |v: Value| v.as_object().unwrap().clone();
    assert_eq!(
        m.validate_event("alarm", &p(json!({"code": 2}))).unwrap()["code"],
        json!(2)
    );
    assert_eq!(
        m.validate_event("alarm", &p(json!({"code": 4})))
            .unwrap_err()
            .to_string(),
        "event `alarm` parameter `code`: 4 is above the maximum 3"
    );
    assert_eq!(
        m.validate_event("fire", &p(json!({})))
            .unwrap_err()
            .to_string(),
        "event `fire`: not in the thing model"
    );
    assert_eq!(
        m.validate_service_input("add", &p(json!({})))
            .unwrap_err()
            .to_string(),
        "service `add` input `a`: is required but missing"
    );
    assert_eq!(
        m.validate_service_output("add", &p(json!({"sum": 21})))
            .unwrap_err()
            .to_string(),
        "service `add` output `sum`: 21 is above the maximum 20"
    );
    assert_eq!(
        m.validate_set(&p(json!({"counter": 1})))
            .unwrap_err()
            .to_string(),
        "property `counter`: is read-only and cannot be set"
    );
    assert!(m.validate_set(&p(json!({"level": 1}))).is_ok());
}

#[test]
fn names() {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_';
    assert_eq!(
        check_name("identifier", "", 5, "letters", ok)
            .unwrap_err()
            .to_string(),
        "identifier is empty"
    );
    assert_eq!(
        check_name("identifier", "abcdef", 5, "letters", ok)
            .unwrap_err()
            .to_string(),
        "identifier is 6 characters long, the maximum is 5"
    );
    assert_eq!(
        check_name("identifier", "a b", 5, "letters, digits and _", ok)
            .unwrap_err()
            .to_string(),
        "identifier contains ' ' at position 1, allowed: letters, digits and _"
    );
    assert!(check_name("identifier", "a_1", 5, "x", ok).is_ok());
}

#[test]
fn compact_dates() {
    assert_eq!(format_compact_utc(0), "19700101T000000Z");
    assert_eq!(format_compact_utc(951_782_400_000), "20000229T000000Z");
    assert_eq!(format_compact_utc(1_764_000_000_123), "20251124T160000Z");
    assert_eq!(format_compact_utc(-1000), "19691231T235959Z");
}

#[test]
fn access_parsing() {
    assert_eq!(Access::parse("r"), Some(Access::R));
    assert_eq!(Access::parse("rw"), Some(Access::RW));
    assert_eq!(
        Access::parse("RWE"),
        Some(Access {
            read: true,
            write: true,
            notify: true
        })
    );
    assert_eq!(Access::parse("x"), None);
    assert_eq!(Access::parse(""), None);
}
