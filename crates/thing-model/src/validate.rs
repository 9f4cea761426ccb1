//! Validation and wire normalisation of values against a [`ThingModel`].
//!
//! Every check returns the value in the cloud's wire form (e.g. `true` → `1` for an Aliyun
//! `bool`, a ms number → a string for an Aliyun `date`, `10` → `10.0` for a `double`), or a
//! [`ValidationError`] naming the property (with its path inside structs and arrays) and the
//! rule broken.

use serde_json::Value;

use crate::message::Values;
use crate::model::{BoolEncoding, DataType, DateEncoding, Field, ThingModel};

/// The rule a value broke.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rule {
    /// Not in the model.
    #[error("not in the thing model")]
    Unknown,
    /// Required but absent.
    #[error("is required but missing")]
    Missing,
    /// Wrong JSON type.
    #[error("expected {expected}, got {got}")]
    WrongType {
        /// What the model wants.
        expected: String,
        /// The JSON type found.
        got: &'static str,
    },
    /// Below the minimum.
    #[error("{value} is below the minimum {min}")]
    BelowMin {
        /// The value.
        value: String,
        /// The minimum.
        min: String,
    },
    /// Above the maximum.
    #[error("{value} is above the maximum {max}")]
    AboveMax {
        /// The value.
        value: String,
        /// The maximum.
        max: String,
    },
    /// Text longer than allowed.
    #[error("is {len} bytes long, the maximum is {max}")]
    TooLong {
        /// Length in bytes.
        len: usize,
        /// Maximum.
        max: usize,
    },
    /// Array longer than allowed.
    #[error("has {len} items, the maximum is {max}")]
    TooManyItems {
        /// Items.
        len: usize,
        /// Maximum.
        max: usize,
    },
    /// Not one of the enum values.
    #[error("{value} is not one of the allowed values {allowed:?}")]
    NotInEnum {
        /// The value.
        value: String,
        /// Allowed values.
        allowed: Vec<String>,
    },
    /// The property is read-only.
    #[error("is read-only and cannot be set")]
    NotWritable,
    /// Malformed (date format, bits, …).
    #[error("{0}")]
    Format(String),
}

/// A value the model refuses: `what` (e.g. `property`, `event "Alarm" parameter`), the path
/// of the value (`RGBColor.Red`, `Points[2]`) and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} `{path}`: {rule}")]
pub struct ValidationError {
    /// The kind of thing checked.
    pub what: String,
    /// Identifier path.
    pub path: String,
    /// Rule broken.
    pub rule: Rule,
}

/// A name (identifier, device name, topic level…) the cloud would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty.
    #[error("{what} is empty")]
    Empty {
        /// What the name is.
        what: &'static str,
    },
    /// Too long.
    #[error("{what} is {len} characters long, the maximum is {max}")]
    TooLong {
        /// What the name is.
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Too short.
    #[error("{what} is {len} characters long, the minimum is {min}")]
    TooShort {
        /// What the name is.
        what: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        min: usize,
    },
    /// A character the cloud forbids.
    #[error("{what} contains {ch:?} at position {pos}, allowed: {allowed}")]
    BadChar {
        /// What the name is.
        what: &'static str,
        /// The character.
        ch: char,
        /// 0-based character position.
        pos: usize,
        /// Description of the allowed set.
        allowed: &'static str,
    },
}

/// Checks a name: non-empty, at most `max` characters, every character accepted by `ok`
/// (`allowed` describes the set for the error message).
pub fn check_name(
    what: &'static str,
    name: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty { what });
    }
    let len = name.chars().count();
    if len > max {
        return Err(NameError::TooLong { what, len, max });
    }
    if let Some((pos, ch)) = name.chars().enumerate().find(|(_, c)| !ok(*c)) {
        return Err(NameError::BadChar {
            what,
            ch,
            pos,
            allowed,
        });
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong(expected: &str, v: &Value) -> Rule {
    Rule::WrongType {
        expected: expected.to_owned(),
        got: json_type(v),
    }
}

type Failure = (String, Rule);

fn int_of(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn digits_i64(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats UTC ms as `yyyyMMdd'T'HHmmss'Z'` (Huawei `event_time` / `DateTime`).
pub fn format_compact_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

fn is_compact_date(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (b.len() == 16 && d(0..8) && b[8] == b'T' && d(9..15) && b[15] == b'Z')
        || (b.len() == 24
            && d(0..4)
            && b[4] == b'-'
            && d(5..7)
            && b[7] == b'-'
            && d(8..10)
            && b[10] == b'T'
            && d(11..13)
            && b[13] == b':'
            && d(14..16)
            && b[16] == b':'
            && d(17..19)
            && b[19] == b'.'
            && d(20..23)
            && b[23] == b'Z')
}

fn check_range<T: PartialOrd + ToString>(v: T, min: Option<T>, max: Option<T>) -> Result<(), Rule> {
    if let Some(min) = min {
        if v < min {
            return Err(Rule::BelowMin {
                value: v.to_string(),
                min: min.to_string(),
            });
        }
    }
    if let Some(max) = max {
        if v > max {
            return Err(Rule::AboveMax {
                value: v.to_string(),
                max: max.to_string(),
            });
        }
    }
    Ok(())
}

/// Checks `value` against `dt`; returns the wire form. `path` names the value in errors.
pub fn normalize_value(dt: &DataType, value: &Value, path: &str) -> Result<Value, (String, Rule)> {
    let fail = |rule: Rule| -> Failure { (path.to_owned(), rule) };
    match dt {
        DataType::Int(spec) | DataType::Long(spec) => {
            let n = int_of(value).ok_or_else(|| fail(wrong("an integer", value)))?;
            if matches!(dt, DataType::Int(_)) {
                check_range(n, Some(i32::MIN as i64), Some(i32::MAX as i64)).map_err(fail)?;
            }
            check_range(n, spec.min, spec.max).map_err(fail)?;
            Ok(Value::from(n))
        }
        DataType::Float(spec) | DataType::Double(spec) | DataType::Decimal(spec) => {
            let x = value
                .as_f64()
                .ok_or_else(|| fail(wrong("a number", value)))?;
            check_range(x, spec.min, spec.max).map_err(fail)?;
            Ok(if value.is_f64() {
                value.clone()
            } else {
                Value::from(x)
            })
        }
        DataType::Bool(enc) => {
            let b = match value {
                Value::Bool(b) => *b,
                Value::Number(n) if n.as_u64() == Some(0) => false,
                Value::Number(n) if n.as_u64() == Some(1) => true,
                _ => return Err(fail(wrong("true/false or 0/1", value))),
            };
            Ok(match enc {
                BoolEncoding::ZeroOne => Value::from(u8::from(b)),
                BoolEncoding::TrueFalse => Value::Bool(b),
            })
        }
        DataType::Text { max_length } => {
            let s = value
                .as_str()
                .ok_or_else(|| fail(wrong("a string", value)))?;
            if let Some(max) = *max_length {
                if s.len() > max {
                    return Err(fail(Rule::TooLong { len: s.len(), max }));
                }
            }
            Ok(value.clone())
        }
        DataType::Enum(spec) => {
            let (key, out) = if spec.integer {
                let n = match value {
                    Value::String(s) => s.parse::<i64>().ok(),
                    v => v.as_i64(),
                }
                .ok_or_else(|| fail(wrong("an integer enum value", value)))?;
                (n.to_string(), Value::from(n))
            } else {
                let s = value
                    .as_str()
                    .ok_or_else(|| fail(wrong("a string enum value", value)))?;
                (s.to_owned(), value.clone())
            };
            if !spec.values.is_empty() && !spec.values.contains_key(&key) {
                return Err(fail(Rule::NotInEnum {
                    value: key,
                    allowed: spec.values.keys().cloned().collect(),
                }));
            }
            Ok(out)
        }
        DataType::Date(enc) => {
            let ms = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => digits_i64(s),
                _ => None,
            };
            match (enc, ms) {
                (DateEncoding::MillisString, Some(ms)) => Ok(Value::String(ms.to_string())),
                (DateEncoding::MillisNumber, Some(ms)) => Ok(Value::from(ms)),
                (DateEncoding::Compact, Some(ms)) if value.is_number() => {
                    Ok(Value::String(format_compact_utc(ms)))
                }
                (DateEncoding::Compact, _) => match value.as_str() {
                    Some(s) if is_compact_date(s) => Ok(value.clone()),
                    _ => Err(fail(Rule::Format(
                        "expected ms since the epoch or yyyyMMdd'T'HHmmss'Z'".into(),
                    ))),
                },
                (_, None) => Err(fail(wrong(
                    "UTC ms since the epoch (number or digit string)",
                    value,
                ))),
            }
        }
        DataType::Struct(fields) => {
            let obj = value
                .as_object()
                .ok_or_else(|| fail(wrong("an object", value)))?;
            let out = normalize_fields(fields, obj, &format!("{path}."), true)?;
            Ok(Value::Object(out))
        }
        DataType::Array { item, max_size } => {
            let arr = value
                .as_array()
                .ok_or_else(|| fail(wrong("an array", value)))?;
            if let Some(max) = *max_size {
                if arr.len() > max {
                    return Err(fail(Rule::TooManyItems {
                        len: arr.len(),
                        max,
                    }));
                }
            }
            let items = arr
                .iter()
                .enumerate()
                .map(|(i, v)| normalize_value(item, v, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Array(items))
        }
        DataType::Bitmap { bits } => {
            let n = value
                .as_u64()
                .ok_or_else(|| fail(wrong("a non-negative integer", value)))?;
            let max = if *bits >= 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            check_range(n, None, Some(max)).map_err(fail)?;
            Ok(value.clone())
        }
        DataType::JsonObject => match value {
            Value::Object(_) => Ok(value.clone()),
            _ => Err(fail(wrong("an object", value))),
        },
        DataType::StringList { max_length } => {
            let arr = value
                .as_array()
                .ok_or_else(|| fail(wrong("an array of strings", value)))?;
            for (i, v) in arr.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let s = v
                    .as_str()
                    .ok_or_else(|| (p.clone(), wrong("a string", v)))?;
                if let Some(max) = *max_length {
                    if s.len() > max {
                        return Err((p, Rule::TooLong { len: s.len(), max }));
                    }
                }
            }
            Ok(value.clone())
        }
    }
}

/// Checks an object against a field list: unknown keys refused; with `require`, required
/// fields must be present.
fn normalize_fields(
    fields: &[Field],
    obj: &Values,
    prefix: &str,
    require: bool,
) -> Result<Values, Failure> {
    let mut out = Values::new();
    for (k, v) in obj {
        let path = format!("{prefix}{k}");
        let f = fields
            .iter()
            .find(|f| &f.identifier == k)
            .ok_or_else(|| (path.clone(), Rule::Unknown))?;
        out.insert(k.clone(), normalize_value(&f.data_type, v, &path)?);
    }
    if require {
        if let Some(f) = fields
            .iter()
            .find(|f| f.required && !obj.contains_key(&f.identifier))
        {
            return Err((format!("{prefix}{}", f.identifier), Rule::Missing));
        }
    }
    Ok(out)
}

fn err(what: impl Into<String>, (path, rule): Failure) -> ValidationError {
    ValidationError {
        what: what.into(),
        path,
        rule,
    }
}

impl ThingModel {
    /// Checks a property report; returns the values in wire form. Unknown properties are refused.
    pub fn validate_properties(&self, values: &Values) -> Result<Values, ValidationError> {
        let mut out = Values::new();
        for (k, v) in values {
            let p = self
                .property(k)
                .ok_or_else(|| err("property", (k.clone(), Rule::Unknown)))?;
            out.insert(
                k.clone(),
                normalize_value(&p.data_type, v, k).map_err(|f| err("property", f))?,
            );
        }
        Ok(out)
    }

    /// Checks a property set from the cloud: as [`Self::validate_properties`], and every
    /// property must be writable.
    pub fn validate_set(&self, values: &Values) -> Result<Values, ValidationError> {
        for k in values.keys() {
            if let Some(p) = self.property(k) {
                if !p.access.write {
                    return Err(err("property", (k.clone(), Rule::NotWritable)));
                }
            }
        }
        self.validate_properties(values)
    }

    /// Checks an event's parameters against its output data.
    pub fn validate_event(&self, event: &str, params: &Values) -> Result<Values, ValidationError> {
        let e = self
            .event(event)
            .ok_or_else(|| err("event", (event.to_owned(), Rule::Unknown)))?;
        normalize_fields(&e.output, params, "", false)
            .map_err(|f| err(format!("event `{event}` parameter"), f))
    }

    /// Checks a service call's input parameters (required inputs must be present).
    pub fn validate_service_input(
        &self,
        service: &str,
        params: &Values,
    ) -> Result<Values, ValidationError> {
        let s = self
            .service(service, None)
            .ok_or_else(|| err("service", (service.to_owned(), Rule::Unknown)))?;
        normalize_fields(&s.input, params, "", true)
            .map_err(|f| err(format!("service `{service}` input"), f))
    }

    /// Checks a service reply's output data.
    pub fn validate_service_output(
        &self,
        service: &str,
        data: &Values,
    ) -> Result<Values, ValidationError> {
        let s = self
            .service(service, None)
            .ok_or_else(|| err("service", (service.to_owned(), Rule::Unknown)))?;
        normalize_fields(&s.output, data, "", false)
            .map_err(|f| err(format!("service `{service}` output"), f))
    }
}
