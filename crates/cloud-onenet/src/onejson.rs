//! OneJSON payloads: requests `{"id","version","params"}` and replies
//! `{"id","code","msg","data"}`.
//!
//! Ids are strings of at most 13 decimal digits ([`MessageId`]); the device
//! chooses them for its own requests and echoes the platform's id, exactly as
//! received, in `set_reply`, `get_reply` and `invoke_reply`. Times are Unix
//! milliseconds. A reply `code` other than 200 becomes [`Error::Platform`]
//! with the meaning from [`ServiceCode`].
//!
//! ```
//! use cloud_onenet::onejson::{self, MessageId};
//! use serde_json::json;
//! let values = json!({"temp": 23.6}).as_object().unwrap().clone();
//! let body = onejson::property_post(&MessageId::parse("123")?, &values, Some(1599534283111))?;
//! assert_eq!(body, r#"{"id":"123","version":"1.0","params":{"temp":{"value":23.6,"time":1599534283111}}}"#);
//! let reply = onejson::decode_reply(br#"{"id":"123","code":200,"msg":"success"}"#)?;
//! assert_eq!(reply.id, "123");
//! assert!(reply.into_result().is_ok());
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use serde_json::{json, Map, Value};

use crate::codes::ServiceCode;
use crate::error::{Error, Result};
use crate::names::{validate_device_name, validate_product_id};

/// The OneJSON `version` this crate sends.
pub const VERSION: &str = "1.0";

/// Most digits a OneJSON id may have.
pub const MAX_ID_DIGITS: usize = 13;

/// Values by identifier.
pub type Values = Map<String, Value>;

/// A device-chosen request id: 1 to 13 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

impl MessageId {
    /// Checks and wraps an id.
    pub fn parse(id: &str) -> Result<Self> {
        if id.is_empty() || id.len() > MAX_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidName {
                field: "id",
                reason: format!(
                    "{id:?} must be 1 to {MAX_ID_DIGITS} decimal digits (OneNET code 312 invalid msg id)"
                ),
            });
        }
        Ok(Self(id.to_owned()))
    }

    /// The id for a numeric message counter.
    pub fn from_number(n: u64) -> Result<Self> {
        Self::parse(&n.to_string())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A wrapping counter of ids 1 ..= 9 999 999 999 999.
#[derive(Debug, Clone)]
pub struct IdAllocator {
    next: u64,
}

impl Default for IdAllocator {
    fn default() -> Self {
        Self { next: 1 }
    }
}

impl IdAllocator {
    const MAX: u64 = 9_999_999_999_999;

    /// Starts at `first` (0 and values past the maximum start at 1).
    pub fn starting_at(first: u64) -> Self {
        Self {
            next: if (1..=Self::MAX).contains(&first) {
                first
            } else {
                1
            },
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> MessageId {
        let n = self.next;
        self.next = if n >= Self::MAX { 1 } else { n + 1 };
        MessageId(n.to_string())
    }
}

fn point(value: &Value, time: Option<i64>) -> Result<Value> {
    match time {
        Some(t) if t < 0 => Err(Error::InvalidConfig {
            field: "time",
            reason: format!("{t} is negative; it must be Unix milliseconds"),
        }),
        Some(t) => Ok(json!({"value": value, "time": t})),
        None => Ok(json!({"value": value})),
    }
}

fn request(id: &MessageId, params: Value) -> String {
    json!({"id": id.as_str(), "version": VERSION, "params": params}).to_string()
}

/// `property/post`: each value wrapped as `{"value": v, "time": t}`.
pub fn property_post(id: &MessageId, values: &Values, time: Option<i64>) -> Result<String> {
    let mut params = Map::new();
    for (k, v) in values {
        params.insert(k.clone(), point(v, time)?);
    }
    Ok(request(id, Value::Object(params)))
}

/// `event/post`: `{"<event>": {"value": {outputs…}, "time": t}}`.
pub fn event_post(
    id: &MessageId,
    event: &str,
    outputs: &Values,
    time: Option<i64>,
) -> Result<String> {
    crate::names::validate_identifier("event", event)?;
    let mut params = Map::new();
    params.insert(
        event.to_owned(),
        point(&Value::Object(outputs.clone()), time)?,
    );
    Ok(request(id, Value::Object(params)))
}

/// `property/desired/get`: the identifiers to fetch.
pub fn desired_get(id: &MessageId, names: &[String]) -> String {
    request(id, json!(names))
}

/// `property/desired/delete`: identifiers with an optional version (no
/// version = delete unconditionally).
pub fn desired_delete(id: &MessageId, items: &[(String, Option<u64>)]) -> String {
    let params: Map<String, Value> = items
        .iter()
        .map(|(name, ver)| {
            let body = match ver {
                Some(v) => json!({"version": v}),
                None => json!({}),
            };
            (name.clone(), body)
        })
        .collect();
    request(id, Value::Object(params))
}

/// One entry of a `pack/post`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackEntry {
    /// `(productID, deviceName)` of a sub-device; `None` = this device.
    pub identity: Option<(String, String)>,
    /// Properties with their times.
    pub properties: Vec<(String, Value, Option<i64>)>,
    /// Events (outputs object) with their times.
    pub events: Vec<(String, Values, Option<i64>)>,
}

/// Most entries (sub-devices) in one `pack/post`.
pub const MAX_PACK_ENTRIES: usize = 10;
/// Most points (properties + events) per `pack/post` entry.
pub const MAX_PACK_POINTS: usize = 100;

/// `pack/post`: properties and events of this device and/or sub-devices.
pub fn pack_post(id: &MessageId, entries: &[PackEntry]) -> Result<String> {
    if entries.len() > MAX_PACK_ENTRIES {
        return Err(Error::InvalidConfig {
            field: "pack_post.params",
            reason: format!("{} entries; the limit is {MAX_PACK_ENTRIES}", entries.len()),
        });
    }
    let mut params = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let n = e.properties.len() + e.events.len();
        if n > MAX_PACK_POINTS {
            return Err(Error::InvalidConfig {
                field: "pack_post.params",
                reason: format!("entry {i} has {n} points; the limit is {MAX_PACK_POINTS}"),
            });
        }
        let mut props = Map::new();
        for (k, v, t) in &e.properties {
            props.insert(k.clone(), point(v, *t)?);
        }
        let mut events = Map::new();
        for (k, v, t) in &e.events {
            events.insert(k.clone(), point(&Value::Object(v.clone()), *t)?);
        }
        let mut entry = Map::new();
        entry.insert("properties".into(), Value::Object(props));
        entry.insert("events".into(), Value::Object(events));
        if let Some((pid, dn)) = &e.identity {
            validate_product_id(pid)?;
            validate_device_name(dn)?;
            entry.insert(
                "identity".into(),
                json!({"productID": pid, "deviceName": dn}),
            );
        }
        params.push(Value::Object(entry));
    }
    Ok(request(id, Value::Array(params)))
}

/// A reply (`set_reply`, `get_reply`, `invoke_reply`), echoing `id` as
/// received. `msg` and `data` are left out when `None`, as the C SDK does.
pub fn reply(id: &str, code: i64, msg: Option<&str>, data: Option<&Value>) -> String {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id.to_owned()));
    m.insert("code".into(), Value::from(code));
    if let Some(msg) = msg {
        m.insert("msg".into(), Value::String(msg.to_owned()));
    }
    if let Some(data) = data {
        m.insert("data".into(), data.clone());
    }
    Value::Object(m).to_string()
}

/// A decoded request (platform → device, or device → platform on a simulator).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id as sent (echo it in the reply).
    pub id: String,
    /// `version`, `1.0` when absent.
    pub version: String,
    /// `params`.
    pub params: Value,
}

fn bad(context: &str, reason: impl Into<String>) -> Error {
    Error::BadPayload {
        context: context.to_owned(),
        reason: reason.into(),
    }
}

fn object(context: &str, payload: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad(context, "is not a JSON object")),
        Err(e) => Err(bad(context, format!("is not JSON: {e}"))),
    }
}

fn id_of(context: &str, m: &Map<String, Value>) -> Result<String> {
    match m.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        // Tolerated: the reply echoes it as text.
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(bad(context, "`id` must be a non-empty string of digits")),
        None => Err(bad(context, "`id` is missing")),
    }
}

/// Decodes any request envelope.
pub fn decode_request(context: &str, payload: &[u8]) -> Result<Request> {
    let mut m = object(context, payload)?;
    let id = id_of(context, &m)?;
    let version = match m.get("version") {
        None => VERSION.to_owned(),
        Some(Value::String(v)) => v.clone(),
        Some(_) => return Err(bad(context, "`version` must be a string")),
    };
    let params = m
        .remove("params")
        .ok_or_else(|| bad(context, "`params` is missing"))?;
    Ok(Request {
        id,
        version,
        params,
    })
}

/// `property/set`: plain values by identifier.
pub fn decode_property_set(payload: &[u8]) -> Result<(String, Values)> {
    let r = decode_request("property/set", payload)?;
    match r.params {
        Value::Object(m) => Ok((r.id, m)),
        _ => Err(bad("property/set", "`params` must be an object of values")),
    }
}

/// `property/get`: the identifiers asked for.
pub fn decode_property_get(payload: &[u8]) -> Result<(String, Vec<String>)> {
    let r = decode_request("property/get", payload)?;
    let names = match r.params {
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad(
                    "property/get",
                    "`params` must be an array of identifiers",
                )),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => {
            return Err(bad(
                "property/get",
                "`params` must be an array of identifiers",
            ))
        }
    };
    Ok((r.id, names))
}

/// `service/{identifier}/invoke`: the input parameters.
pub fn decode_service_invoke(payload: &[u8]) -> Result<(String, Values)> {
    let r = decode_request("service/invoke", payload)?;
    match r.params {
        Value::Object(m) => Ok((r.id, m)),
        _ => Err(bad(
            "service/invoke",
            "`params` must be an object of input parameters",
        )),
    }
}

/// A `{"value", "time"}` point from a `property/post` or `event/post`.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Identifier.
    pub identifier: String,
    /// `value`.
    pub value: Value,
    /// `time`, Unix ms.
    pub time: Option<i64>,
}

/// Decodes the `params` of a `property/post` or `event/post` (what a cloud
/// simulator receives).
pub fn decode_points(context: &str, params: &Value) -> Result<Vec<Point>> {
    let m = params
        .as_object()
        .ok_or_else(|| bad(context, "`params` must be an object"))?;
    m.iter()
        .map(|(k, v)| {
            let p = v.as_object().ok_or_else(|| {
                bad(
                    context,
                    format!("`params.{k}` must be {{\"value\",\"time\"}}"),
                )
            })?;
            let value = p
                .get("value")
                .cloned()
                .ok_or_else(|| bad(context, format!("`params.{k}.value` is missing")))?;
            let time = match p.get("time") {
                None => None,
                Some(t) => Some(t.as_i64().ok_or_else(|| {
                    bad(context, format!("`params.{k}.time` must be integer ms"))
                })?),
            };
            Ok(Point {
                identifier: k.clone(),
                value,
                time,
            })
        })
        .collect()
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The id of the request answered.
    pub id: String,
    /// `code` (200 = success).
    pub code: i64,
    /// `msg`, if any.
    pub msg: Option<String>,
    /// `data`, if any.
    pub data: Option<Value>,
}

impl Reply {
    /// The meaning of `code`.
    pub fn status(&self) -> ServiceCode {
        ServiceCode::from_code(self.code)
    }

    /// `Ok(data)` for code 200, else [`Error::Platform`] with the meaning.
    pub fn into_result(self) -> Result<Option<Value>> {
        let status = self.status();
        if status.is_success() {
            Ok(self.data)
        } else {
            Err(Error::Platform {
                id: self.id,
                code: self.code,
                meaning: status,
                msg: self.msg,
            })
        }
    }
}

/// Decodes a reply (`…/post/reply`, `…/desired/*/reply`, or a device's
/// `*_reply` on a simulator).
pub fn decode_reply(payload: &[u8]) -> Result<Reply> {
    const C: &str = "reply";
    let mut m = object(C, payload)?;
    let id = id_of(C, &m)?;
    let code = m
        .get("code")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad(C, "`code` must be an integer"))?;
    let msg = match m.remove("msg") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    Ok(Reply {
        id,
        code,
        msg,
        data: m.remove("data"),
    })
}

/// One desired value from a `desired/get` reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Identifier.
    pub identifier: String,
    /// Desired value.
    pub value: Value,
    /// Version (increments per set).
    pub version: Option<u64>,
}

/// Decodes the `data` of a `desired/get` reply (`{"power":{"value":"on","version":2}}`).
pub fn decode_desired(data: &Value) -> Result<Vec<Desired>> {
    const C: &str = "property/desired/get/reply";
    let m = data
        .as_object()
        .ok_or_else(|| bad(C, "`data` must be an object"))?;
    m.iter()
        .map(|(k, v)| {
            let value = v
                .get("value")
                .cloned()
                .ok_or_else(|| bad(C, format!("`data.{k}.value` is missing")))?;
            Ok(Desired {
                identifier: k.clone(),
                value,
                version: v.get("version").and_then(Value::as_u64),
            })
        })
        .collect()
}
