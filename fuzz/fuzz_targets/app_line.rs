//! `thing_model::parse_uplink_line` on arbitrary UTF-8 (the app's JSON Lines).
//!
//! Invariants: no panic; an accepted line round-trips — `uplink_to_value` then
//! `uplink_from_value` gives an equal `Uplink`, and so does printing that value and parsing
//! the text again (numbers compared to within a few ulps: serde_json's default float parser
//! is not correctly rounded); errors display without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use thing_model::{parse_uplink_line, uplink_from_value, uplink_to_value};

/// JSON values equal up to float rounding in the last bits.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let uplink = match parse_uplink_line(text) {
        Ok(u) => u,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let value = uplink_to_value(&uplink);
    let again = uplink_from_value(&value)
        .unwrap_or_else(|e| panic!("uplink_to_value gave a value it refuses: {value} ({e})"));
    assert_eq!(uplink, again, "value round trip of {text:?}");

    let printed = value.to_string();
    let reparsed = parse_uplink_line(&printed)
        .unwrap_or_else(|e| panic!("the printed line is refused: {printed} ({e})"));
    let back = uplink_to_value(&reparsed);
    assert!(
        close(&value, &back),
        "text round trip: {value} became {back}"
    );
});
