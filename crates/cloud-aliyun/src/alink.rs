//! Alink JSON payloads (doc 89301): requests `{"id","version","params","method"[,"sys"]}`,
//! replies `{"id","code","data"[,"message"]}`, and the reply codes.

use serde_json::{json, Map, Value};
use thing_model::{PlatformError, TimeSync};

/// Alink protocol version sent in requests.
pub const VERSION: &str = "1.0";

/// A request body. `ack = false` adds `"sys":{"ack":0}` (the cloud then sends no reply).
pub fn request(id: u32, params: Value, method: &str, ack: bool) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id.to_string()));
    m.insert("version".into(), Value::String(VERSION.into()));
    if !ack {
        m.insert("sys".into(), json!({"ack": 0}));
    }
    m.insert("params".into(), params);
    m.insert("method".into(), Value::String(method.into()));
    Value::Object(m).to_string().into_bytes()
}

/// A reply body `{"id":…,"code":…,"data":…}` (`data` defaults to `{}`).
pub fn reply(id: &str, code: i64, data: Option<Value>) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(id.into()));
    m.insert("code".into(), Value::from(code));
    m.insert(
        "data".into(),
        data.unwrap_or_else(|| Value::Object(Map::new())),
    );
    Value::Object(m).to_string().into_bytes()
}

/// A parsed request from the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Message id.
    pub id: String,
    /// Parameters.
    pub params: Value,
    /// `method`, if sent.
    pub method: Option<String>,
}

/// A parsed reply from the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Message id of our request.
    pub id: String,
    /// Code (200 = success).
    pub code: i64,
    /// `message`, if sent.
    pub message: Option<String>,
    /// `data`, if sent.
    pub data: Option<Value>,
}

fn object(topic: &str, payload: &[u8]) -> Result<Map<String, Value>, PlatformError> {
    let bad = |reason: String| PlatformError::Decode {
        topic: topic.to_owned(),
        reason,
    };
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("payload is not a JSON object".into())),
        Err(e) => Err(bad(format!("payload is not JSON: {e}"))),
    }
}

fn id_of(topic: &str, m: &Map<String, Value>) -> Result<String, PlatformError> {
    match m.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(PlatformError::Decode {
            topic: topic.to_owned(),
            reason: "no `id`".into(),
        }),
    }
}

/// Parses a request (`id` and `params` required; `version` not checked, as the SDKs do).
pub fn parse_request(topic: &str, payload: &[u8]) -> Result<Request, PlatformError> {
    let m = object(topic, payload)?;
    Ok(Request {
        id: id_of(topic, &m)?,
        params: m.get("params").cloned().unwrap_or(Value::Null),
        method: m.get("method").and_then(Value::as_str).map(str::to_owned),
    })
}

/// Parses a reply (`id` and `code` required).
pub fn parse_reply(topic: &str, payload: &[u8]) -> Result<Reply, PlatformError> {
    let m = object(topic, payload)?;
    let code = m
        .get("code")
        .and_then(Value::as_i64)
        .ok_or_else(|| PlatformError::Decode {
            topic: topic.to_owned(),
            reason: "no integer `code`".into(),
        })?;
    Ok(Reply {
        id: id_of(topic, &m)?,
        code,
        message: m.get("message").and_then(Value::as_str).map(str::to_owned),
        data: m.get("data").cloned(),
    })
}

/// The NTP request body `{"deviceSendTime":"<ms>"}`.
pub fn ntp_request(device_ms: i64) -> Vec<u8> {
    format!("{{\"deviceSendTime\":\"{device_ms}\"}}").into_bytes()
}

/// Parses the NTP answer (numbers quoted or bare).
pub fn parse_ntp_response(topic: &str, payload: &[u8]) -> Result<TimeSync, PlatformError> {
    let m = object(topic, payload)?;
    let num = |k: &str| -> Option<i64> {
        match m.get(k)? {
            Value::String(s) => s.trim().parse().ok(),
            v => v.as_i64(),
        }
    };
    let need = |k: &'static str| {
        num(k).ok_or_else(|| PlatformError::Decode {
            topic: topic.to_owned(),
            reason: format!("no numeric `{k}`"),
        })
    };
    Ok(TimeSync {
        device_send_ms: num("deviceSendTime"),
        server_recv_ms: need("serverRecvTime")?,
        server_send_ms: need("serverSendTime")?,
    })
}

/// The meaning of a reply code (doc 120329).
pub fn code_meaning(code: i64) -> &'static str {
    match code {
        200 => "success",
        400 => "request error",
        429 => "too many requests (throttled)",
        460 => "invalid or empty parameters, or too many parameters",
        500 => "unknown server error",
        5005 | 6250 => "product query error",
        5244 => "LoRaWAN metadata error",
        6100 => "device not found",
        6203 => "topic cannot be parsed",
        6204 => "device disabled",
        6402 => "a device cannot add itself to its topology",
        6450 => "`method` missing after script parsing",
        6760 => "system error",
        6813 => "the values do not match the thing model (TSL check failed)",
        26001..=26999 => "data parsing script error",
        _ => "unknown code",
    }
}

/// `Ok(())` for 200, else a [`PlatformError::Cloud`] with the cloud's message or the code's
/// meaning.
pub fn check_code(code: i64, message: Option<&str>) -> Result<(), PlatformError> {
    if code == 200 {
        return Ok(());
    }
    let meaning = code_meaning(code);
    Err(PlatformError::Cloud {
        code,
        message: match message {
            Some(m) if !m.is_empty() && m != meaning => format!("{m} ({meaning})"),
            _ => meaning.to_owned(),
        },
    })
}
