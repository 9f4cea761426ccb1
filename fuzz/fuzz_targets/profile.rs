//! The agent's profile loader, `agent::profile::Profile::from_toml`, on arbitrary UTF-8.
//!
//! Needs the `profile` feature (on by default; it pulls in the whole agent crate).
//!
//! Invariants: no panic; no secret in an error or in the loaded profile's `Debug`. A secret is
//! the string value of a `device_secret`, `product_secret`, `access_key`, `secret` or
//! `password` key (at any depth) of at least 4 bytes that occurs exactly once in the text. It
//! leaks when the output shows it and the output for the same text with the secret replaced
//! does not (so words the loader prints anyway, such as field names, are not leaks). Inputs
//! naming a `*_file` key are skipped: the loader would read that path (`/dev/stdin`).
#![no_main]

use std::path::Path;

use agent::profile::Profile;
use libfuzzer_sys::fuzz_target;

const SECRET_KEYS: &[&str] = &[
    "device_secret",
    "product_secret",
    "access_key",
    "secret",
    "password",
];

fn secret_values(value: &toml::Value, key: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::String(s) if SECRET_KEYS.contains(&key) => out.push(s.clone()),
        toml::Value::Table(t) => {
            for (k, v) in t {
                secret_values(v, k, out);
            }
        }
        toml::Value::Array(a) => {
            for v in a {
                secret_values(v, key, out);
            }
        }
        _ => {}
    }
}

fn shown(text: &str) -> String {
    match Profile::from_toml(text, Path::new("/nonexistent/cellagent-fuzz")) {
        Ok(profile) => format!("{profile:?}"),
        Err(e) => format!("{e} {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("_file") {
        return;
    }
    let output = shown(text);
    let mut secrets = Vec::new();
    if let Ok(value) = text.parse::<toml::Value>() {
        secret_values(&value, "", &mut secrets);
    }
    for s in secrets {
        if s.len() < 4 || text.matches(s.as_str()).count() != 1 || !output.contains(&s) {
            continue;
        }
        let masked = text.replace(s.as_str(), &"Z".repeat(s.len()));
        assert!(shown(&masked).contains(&s), "secret {s:?} shown: {output}");
    }
});
