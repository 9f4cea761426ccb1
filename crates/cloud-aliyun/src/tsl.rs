//! Loading the TSL (物模型) JSON the Aliyun console exports into a [`ThingModel`].
//!
//! Spec numbers are strings in exports (`"min":"0"`); numbers are accepted too. The built-in
//! `post` event and `set` / `get` services are not copied: they are the properties themselves.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use thing_model::{
    Access, BoolEncoding, CallType, DataType, DateEncoding, EnumSpec, Event, EventKind, Field,
    FloatSpec, IntSpec, Property, Service, ThingModel,
};

/// A TSL document that cannot be loaded: where (`properties[2](Brightness).dataType.specs.min`)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TSL {at}: {reason}")]
pub struct TslError {
    /// JSON path, with identifiers in parentheses.
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

fn e(at: &str, reason: impl Into<String>) -> TslError {
    TslError {
        at: at.to_owned(),
        reason: reason.into(),
    }
}

fn num_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_spec(specs: &Map<String, Value>, at: &str) -> Result<IntSpec, TslError> {
    let get = |k: &str| -> Result<Option<i64>, TslError> {
        num_str(specs.get(k))
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| e(&format!("{at}.{k}"), format!("{s:?} is not an integer")))
            })
            .transpose()
    };
    Ok(IntSpec {
        min: get("min")?,
        max: get("max")?,
        step: get("step")?,
        unit: specs.get("unit").and_then(Value::as_str).map(str::to_owned),
    })
}

fn float_spec(specs: &Map<String, Value>, at: &str) -> Result<FloatSpec, TslError> {
    let get = |k: &str| -> Result<Option<f64>, TslError> {
        num_str(specs.get(k))
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| e(&format!("{at}.{k}"), format!("{s:?} is not a number")))
            })
            .transpose()
    };
    Ok(FloatSpec {
        min: get("min")?,
        max: get("max")?,
        step: get("step")?,
        unit: specs.get("unit").and_then(Value::as_str).map(str::to_owned),
    })
}

fn usize_spec(specs: &Map<String, Value>, key: &str, at: &str) -> Result<Option<usize>, TslError> {
    num_str(specs.get(key))
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| e(&format!("{at}.{key}"), format!("{s:?} is not a length")))
        })
        .transpose()
}

/// Parses a `dataType` object (`{"type": …, "specs": …}`).
pub fn parse_data_type(dt: &Value, at: &str) -> Result<DataType, TslError> {
    let ty = dt
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| e(at, "no `type`"))?;
    let specs_at = format!("{at}.specs");
    let empty = Map::new();
    let specs_obj = dt.get("specs").and_then(Value::as_object).unwrap_or(&empty);
    Ok(match ty {
        "int" => DataType::Int(int_spec(specs_obj, &specs_at)?),
        "float" => DataType::Float(float_spec(specs_obj, &specs_at)?),
        "double" => DataType::Double(float_spec(specs_obj, &specs_at)?),
        "text" => DataType::Text {
            max_length: usize_spec(specs_obj, "length", &specs_at)?,
        },
        "bool" => DataType::Bool(BoolEncoding::ZeroOne),
        "enum" => {
            let mut values = BTreeMap::new();
            for (k, v) in specs_obj {
                if k.parse::<i64>().is_err() {
                    return Err(e(&specs_at, format!("enum key {k:?} is not an integer")));
                }
                values.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
            }
            DataType::Enum(EnumSpec {
                values,
                integer: true,
            })
        }
        "date" => DataType::Date(DateEncoding::MillisString),
        "struct" => {
            let members = dt
                .get("specs")
                .and_then(Value::as_array)
                .ok_or_else(|| e(&specs_at, "a struct's specs must be an array of members"))?;
            DataType::Struct(parse_fields(members, &specs_at)?)
        }
        "array" => {
            let item = specs_obj
                .get("item")
                .ok_or_else(|| e(&specs_at, "an array needs `item`"))?;
            DataType::Array {
                item: Box::new(parse_data_type(item, &format!("{specs_at}.item"))?),
                max_size: usize_spec(specs_obj, "size", &specs_at)?,
            }
        }
        other => {
            return Err(e(
                &format!("{at}.type"),
                format!("unknown data type `{other}`"),
            ))
        }
    })
}

fn ident<'a>(item: &'a Value, at: &str) -> Result<&'a str, TslError> {
    match item.get("identifier").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(e(at, "no `identifier`")),
    }
}

fn name_of(item: &Value) -> Option<String> {
    item.get("name").and_then(Value::as_str).map(str::to_owned)
}

fn parse_fields(items: &[Value], at: &str) -> Result<Vec<Field>, TslError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{at}[{i}]");
            let id = ident(item, &at)?;
            let at = format!("{at}({id})");
            let dt = item
                .get("dataType")
                .ok_or_else(|| e(&at, "no `dataType`"))?;
            Ok(Field {
                identifier: id.to_owned(),
                name: name_of(item),
                data_type: parse_data_type(dt, &format!("{at}.dataType"))?,
                required: item
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            })
        })
        .collect()
}

fn array<'a>(doc: &'a Value, key: &str) -> Result<&'a [Value], TslError> {
    match doc.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(e(key, "must be an array")),
    }
}

/// Loads a TSL document from its JSON text.
pub fn load_tsl(json: &str) -> Result<ThingModel, TslError> {
    let doc: Value = serde_json::from_str(json)
        .map_err(|err| e("(document)", format!("not valid JSON: {err}")))?;
    parse_tsl(&doc)
}

/// Loads a TSL document from parsed JSON.
pub fn parse_tsl(doc: &Value) -> Result<ThingModel, TslError> {
    if !doc.is_object() {
        return Err(e("(document)", "must be a JSON object"));
    }
    let mut model = ThingModel::default();
    for (i, p) in array(doc, "properties")?.iter().enumerate() {
        let at = format!("properties[{i}]");
        let id = ident(p, &at)?;
        let at = format!("{at}({id})");
        let access = match p.get("accessMode").and_then(Value::as_str) {
            None => Access::RW,
            Some(s) => Access::parse(s)
                .ok_or_else(|| e(&format!("{at}.accessMode"), format!("{s:?} is not r or rw")))?,
        };
        let dt = p.get("dataType").ok_or_else(|| e(&at, "no `dataType`"))?;
        model.properties.push(Property {
            identifier: id.to_owned(),
            name: name_of(p),
            data_type: parse_data_type(dt, &format!("{at}.dataType"))?,
            access,
            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
            service: None,
        });
    }
    for (i, ev) in array(doc, "events")?.iter().enumerate() {
        let at = format!("events[{i}]");
        let id = ident(ev, &at)?;
        let at = format!("{at}({id})");
        if ev.get("method").and_then(Value::as_str) == Some("thing.event.property.post") {
            continue;
        }
        let kind = match ev.get("type").and_then(Value::as_str).unwrap_or("info") {
            "info" => EventKind::Info,
            "alert" => EventKind::Alert,
            "error" => EventKind::Error,
            other => {
                return Err(e(
                    &format!("{at}.type"),
                    format!("unknown event type `{other}`"),
                ))
            }
        };
        let output = match ev.get("outputData") {
            Some(Value::Array(a)) => parse_fields(a, &format!("{at}.outputData"))?,
            _ => Vec::new(),
        };
        model.events.push(Event {
            identifier: id.to_owned(),
            name: name_of(ev),
            kind,
            output,
            service: None,
        });
    }
    for (i, sv) in array(doc, "services")?.iter().enumerate() {
        let at = format!("services[{i}]");
        let id = ident(sv, &at)?;
        let at = format!("{at}({id})");
        if matches!(
            sv.get("method").and_then(Value::as_str),
            Some("thing.service.property.set" | "thing.service.property.get")
        ) {
            continue;
        }
        let call_type = match sv
            .get("callType")
            .and_then(Value::as_str)
            .unwrap_or("async")
        {
            "async" => CallType::Async,
            "sync" => CallType::Sync,
            other => {
                return Err(e(
                    &format!("{at}.callType"),
                    format!("unknown call type `{other}`"),
                ))
            }
        };
        let fields = |key: &str| -> Result<Vec<Field>, TslError> {
            match sv.get(key) {
                Some(Value::Array(a)) => parse_fields(a, &format!("{at}.{key}")),
                _ => Ok(Vec::new()),
            }
        };
        model.services.push(Service {
            identifier: id.to_owned(),
            name: name_of(sv),
            call_type,
            input: fields("inputData")?,
            output: fields("outputData")?,
            service: None,
        });
    }
    Ok(model)
}
