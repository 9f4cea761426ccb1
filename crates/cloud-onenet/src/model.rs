//! Loads OneNET thing-model exports (物模型导出) into [`thing_model::ThingModel`].
//!
//! Accepts the Studio export (`version`, `profile`, `combs`), the city-platform
//! v1.2 and v3.0 layouts, numbers written as numbers or as strings, `null` or
//! `""` for absent specs, and both array layouts seen in the wild
//! (`{"length","type","specs"}` and `{"size","items"|"item":{"type","specs"}}`).
//! Validation of values is then the thing-model crate's
//! (`ThingModel::validate_properties` and friends).
//!
//! | OneNET `type` | thing-model type |
//! |---|---|
//! | int32 / int64 | `Int` / `Long` (min, max, step, unit) |
//! | float / double | `Float` / `Double` |
//! | bool | `Bool(TrueFalse)` |
//! | enum | `Enum` (integer keys) |
//! | string | `Text` (max length, UTF-8 bytes) |
//! | date | `Date(MillisNumber)` |
//! | bitMap | `Bitmap` (≤ 32 bits) |
//! | struct | `Struct` |
//! | array | `Array` (max size, item type) |
//!
//! ```
//! let json = r#"{"properties":[{"identifier":"level","name":"Level","accessMode":"rw",
//!   "dataType":{"type":"int32","specs":{"min":"0","max":"100","unit":null,"step":""}}}],
//!   "events":[],"services":[]}"#;
//! let model = cloud_onenet::model::load_export(json)?;
//! let values = serde_json::json!({"level": 120}).as_object().unwrap().clone();
//! let err = model.validate_properties(&values).unwrap_err();
//! assert_eq!(err.to_string(), "property `level`: 120 is above the maximum 100");
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};
use thing_model::{
    Access, CallType, DataType, DateEncoding, EnumSpec, Event, EventKind, Field, FloatSpec,
    IntSpec, Property, Service, ThingModel,
};

use crate::error::{Error, Result};

/// Most bits a `bitMap` may have.
pub const MAX_BITMAP_BITS: u64 = 32;

fn bad(path: &str, reason: impl Into<String>) -> Error {
    Error::BadModel {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// `None` for absent, `null` or `""`.
fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(v),
    }
}

fn float_of(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>> {
    let Some(v) = present(obj.get(key)) else {
        return Ok(None);
    };
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    };
    x.map(Some)
        .ok_or_else(|| bad(&format!("{path}.{key}"), format!("{v} is not a number")))
}

fn int_of(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>> {
    let Some(v) = present(obj.get(key)) else {
        return Ok(None);
    };
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.map(Some)
        .ok_or_else(|| bad(&format!("{path}.{key}"), format!("{v} is not an integer")))
}

fn size_of(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<usize>> {
    match int_of(obj, key, path)? {
        None => Ok(None),
        Some(n) => usize::try_from(n)
            .map(Some)
            .map_err(|_| bad(&format!("{path}.{key}"), format!("{n} is negative"))),
    }
}

fn text_of(obj: &Map<String, Value>, key: &str) -> Option<String> {
    present(obj.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn as_object<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a Map<String, Value>> {
    v.and_then(Value::as_object)
        .ok_or_else(|| bad(path, "must be a JSON object"))
}

fn as_array<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a [Value]> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(path, "must be a JSON array")),
    }
}

fn identifier(obj: &Map<String, Value>, path: &str) -> Result<String> {
    let id = obj
        .get("identifier")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{path}.identifier"), "is missing or not a string"))?;
    crate::names::validate_identifier("identifier", id)
        .map_err(|e| bad(&format!("{path}.identifier"), e.to_string()))?;
    Ok(id.to_owned())
}

/// Parses one `dataType` object (`{"type": …, "specs": …}`).
pub fn parse_data_type(dt: &Value, path: &str) -> Result<DataType> {
    let obj = as_object(Some(dt), path)?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{path}.type"), "is missing or not a string"))?;
    let specs_path = format!("{path}.specs");
    let empty = Map::new();
    let specs_obj = || -> Result<&Map<String, Value>> {
        match obj.get("specs") {
            None | Some(Value::Null) => Ok(&empty),
            other => as_object(other, &specs_path),
        }
    };
    let int_spec = |s: &Map<String, Value>| -> Result<IntSpec> {
        let spec = IntSpec {
            min: int_of(s, "min", &specs_path)?,
            max: int_of(s, "max", &specs_path)?,
            step: int_of(s, "step", &specs_path)?,
            unit: text_of(s, "unit"),
        };
        if let (Some(lo), Some(hi)) = (spec.min, spec.max) {
            if lo > hi {
                return Err(bad(&specs_path, format!("min {lo} is above max {hi}")));
            }
        }
        Ok(spec)
    };
    let float_spec = |s: &Map<String, Value>| -> Result<FloatSpec> {
        let spec = FloatSpec {
            min: float_of(s, "min", &specs_path)?,
            max: float_of(s, "max", &specs_path)?,
            step: float_of(s, "step", &specs_path)?,
            unit: text_of(s, "unit"),
        };
        if let (Some(lo), Some(hi)) = (spec.min, spec.max) {
            if lo > hi {
                return Err(bad(&specs_path, format!("min {lo} is above max {hi}")));
            }
        }
        Ok(spec)
    };
    Ok(match ty {
        "int32" => DataType::Int(int_spec(specs_obj()?)?),
        "int64" => DataType::Long(int_spec(specs_obj()?)?),
        "float" => DataType::Float(float_spec(specs_obj()?)?),
        "double" => DataType::Double(float_spec(specs_obj()?)?),
        "bool" => DataType::Bool(thing_model::BoolEncoding::TrueFalse),
        "date" => DataType::Date(DateEncoding::MillisNumber),
        "string" => DataType::Text {
            max_length: size_of(specs_obj()?, "length", &specs_path)?,
        },
        "enum" => {
            let mut values = BTreeMap::new();
            for (k, label) in specs_obj()? {
                let n: i64 = k
                    .trim()
                    .parse()
                    .map_err(|_| bad(&format!("{specs_path}.{k}"), "enum keys must be integers"))?;
                let label = label
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| label.to_string());
                values.insert(n.to_string(), label);
            }
            DataType::Enum(EnumSpec {
                values,
                integer: true,
            })
        }
        "bitMap" | "bitmap" => {
            let s = specs_obj()?;
            let bits = int_of(s, "length", &specs_path)?
                .ok_or_else(|| bad(&format!("{specs_path}.length"), "is missing"))?;
            if !(1..=MAX_BITMAP_BITS as i64).contains(&bits) {
                return Err(bad(
                    &format!("{specs_path}.length"),
                    format!("{bits} bits; a bitMap has 1 to {MAX_BITMAP_BITS}"),
                ));
            }
            DataType::Bitmap { bits: bits as u8 }
        }
        "struct" => {
            let members = as_array(obj.get("specs"), &specs_path)?;
            DataType::Struct(parse_fields(members, &specs_path)?)
        }
        "array" => {
            let s = specs_obj()?;
            let max_size = match size_of(s, "size", &specs_path)? {
                Some(n) => Some(n),
                None => size_of(s, "length", &specs_path)?,
            };
            // Either the item type inline ("type" + "specs") or under "items"/"item".
            let item = if let Some(inner) = s.get("items").or_else(|| s.get("item")) {
                parse_data_type(inner, &format!("{specs_path}.items"))?
            } else {
                parse_data_type(&Value::Object(s.clone()), &specs_path)?
            };
            if matches!(item, DataType::Array { .. }) {
                return Err(bad(&specs_path, "arrays of arrays are not a OneNET type"));
            }
            DataType::Array {
                item: Box::new(item),
                max_size,
            }
        }
        other => {
            return Err(bad(
                &format!("{path}.type"),
                format!(
                    "{other:?} is not one of int32, int64, float, double, bool, enum, string, \
                     date, bitMap, struct, array"
                ),
            ))
        }
    })
}

fn parse_fields(list: &[Value], path: &str) -> Result<Vec<Field>> {
    let mut seen = HashSet::new();
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            let p = format!("{path}[{i}]");
            let obj = as_object(Some(f), &p)?;
            let id = identifier(obj, &p)?;
            if !seen.insert(id.clone()) {
                return Err(bad(&p, format!("identifier {id:?} appears twice")));
            }
            Ok(Field {
                data_type: parse_data_type(
                    obj.get("dataType")
                        .ok_or_else(|| bad(&p, "dataType is missing"))?,
                    &format!("{p}.dataType"),
                )?,
                name: text_of(obj, "name"),
                required: obj
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                identifier: id,
            })
        })
        .collect()
}

/// Loads a OneNET thing-model export.
pub fn load_export(json: &str) -> Result<ThingModel> {
    let root: Value = serde_json::from_str(json).map_err(|e| bad("$", format!("not JSON: {e}")))?;
    from_value(&root)
}

/// Loads an already-parsed export.
pub fn from_value(root: &Value) -> Result<ThingModel> {
    let root = as_object(Some(root), "$")?;
    let mut ids = HashSet::new();
    let mut unique = |id: &str, path: &str| -> Result<()> {
        if ids.insert(id.to_owned()) {
            Ok(())
        } else {
            Err(bad(
                path,
                format!("identifier {id:?} is used twice in the model"),
            ))
        }
    };
    let mut model = ThingModel::default();
    for (i, p) in as_array(root.get("properties"), "$.properties")?
        .iter()
        .enumerate()
    {
        let path = format!("$.properties[{i}]");
        let obj = as_object(Some(p), &path)?;
        let id = identifier(obj, &path)?;
        unique(&id, &path)?;
        let access = match text_of(obj, "accessMode") {
            None => Access::RW,
            Some(a) => Access::parse(&a).ok_or_else(|| {
                bad(
                    &format!("{path}.accessMode"),
                    format!("{a:?} is not r or rw"),
                )
            })?,
        };
        model.properties.push(Property {
            data_type: parse_data_type(
                obj.get("dataType")
                    .ok_or_else(|| bad(&path, "dataType is missing"))?,
                &format!("{path}.dataType"),
            )?,
            name: text_of(obj, "name"),
            access,
            required: obj
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            service: None,
            identifier: id,
        });
    }
    for (i, e) in as_array(root.get("events"), "$.events")?.iter().enumerate() {
        let path = format!("$.events[{i}]");
        let obj = as_object(Some(e), &path)?;
        let id = identifier(obj, &path)?;
        unique(&id, &path)?;
        let kind = match text_of(obj, "eventType").as_deref() {
            None | Some("info") => EventKind::Info,
            Some("alert") => EventKind::Alert,
            Some("error") => EventKind::Error,
            Some(other) => {
                return Err(bad(
                    &format!("{path}.eventType"),
                    format!("{other:?} is not info, alert or error"),
                ))
            }
        };
        model.events.push(Event {
            output: parse_fields(
                as_array(obj.get("outputData"), &path)?,
                &format!("{path}.outputData"),
            )?,
            name: text_of(obj, "name"),
            kind,
            service: None,
            identifier: id,
        });
    }
    for (i, s) in as_array(root.get("services"), "$.services")?
        .iter()
        .enumerate()
    {
        let path = format!("$.services[{i}]");
        let obj = as_object(Some(s), &path)?;
        let id = identifier(obj, &path)?;
        unique(&id, &path)?;
        let call_type = match text_of(obj, "callType").as_deref() {
            None | Some("s") | Some("sync") => CallType::Sync,
            Some("a") | Some("async") => CallType::Async,
            Some(other) => {
                return Err(bad(
                    &format!("{path}.callType"),
                    format!("{other:?} is not s/sync or a/async"),
                ))
            }
        };
        model.services.push(Service {
            input: parse_fields(as_array(obj.get("input"), &path)?, &format!("{path}.input"))?,
            output: parse_fields(
                as_array(obj.get("output"), &path)?,
                &format!("{path}.output"),
            )?,
            name: text_of(obj, "name"),
            call_type,
            service: None,
            identifier: id,
        });
    }
    Ok(model)
}
