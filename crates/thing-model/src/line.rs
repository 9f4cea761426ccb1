//! The app contract's JSON Lines (`shared/contracts/app-json.md`): parsing app lines into
//! [`Uplink`]s and printing agent lines ([`AgentLine`]).

use base64::Engine as _;
use serde::de::Error as _;
use serde_json::{Map, Value};

use crate::message::{Downlink, Payload, Reply, ReplyTo, Uplink, UplinkBody};

/// Why an app line was refused. The message names the key and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not valid JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// Valid JSON but not an object.
    #[error("a line must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// None of `properties`, `event`, `reply`, `topic` is present.
    #[error("the line has none of the keys `properties`, `event`, `reply`, `topic`")]
    NoKind,
    /// More than one kind key.
    #[error("the line has both `{0}` and `{1}`; use one kind per line")]
    TwoKinds(&'static str, &'static str),
    /// A key this kind of line does not take.
    #[error("unknown key `{key}` on a `{kind}` line")]
    UnknownKey {
        /// The key.
        key: String,
        /// The line kind.
        kind: &'static str,
    },
    /// A key with a value of the wrong JSON type.
    #[error("`{key}` must be {expected}, got {got}")]
    WrongType {
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
        /// The JSON type found.
        got: &'static str,
    },
    /// A required key is missing.
    #[error("a `{kind}` line needs `{key}`")]
    Missing {
        /// The key.
        key: &'static str,
        /// The line kind.
        kind: &'static str,
    },
    /// A value outside its allowed set.
    #[error("`{key}`: {reason}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
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

const COMMON: &[&str] = &["id", "time", "service", "qos"];

fn check_keys(obj: &Map<String, Value>, kind: &'static str, own: &[&str]) -> Result<(), LineError> {
    for key in obj.keys() {
        if !own.contains(&key.as_str()) && !COMMON.contains(&key.as_str()) {
            return Err(LineError::UnknownKey {
                key: key.clone(),
                kind,
            });
        }
    }
    Ok(())
}

fn opt_string(obj: &Map<String, Value>, key: &'static str) -> Result<Option<String>, LineError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // A numeric id is accepted and kept as its decimal text.
        Some(Value::Number(n)) if matches!(key, "id" | "reply") && n.is_u64() => {
            Ok(Some(n.to_string()))
        }
        Some(v) => Err(LineError::WrongType {
            key,
            expected: "a string",
            got: json_type(v),
        }),
    }
}

fn opt_object(
    obj: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<Map<String, Value>>, LineError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(v) => Err(LineError::WrongType {
            key,
            expected: "an object",
            got: json_type(v),
        }),
    }
}

/// Parses one app line into an [`Uplink`].
///
/// ```
/// let up = thing_model::parse_uplink_line(r#"{"properties": {"temp": 23.5}, "qos": 0}"#).unwrap();
/// assert_eq!(up.qos, Some(0));
/// let err = thing_model::parse_uplink_line(r#"{"properties": {}, "colour": 1}"#).unwrap_err();
/// assert_eq!(err.to_string(), "unknown key `colour` on a `properties` line");
/// ```
pub fn parse_uplink_line(line: &str) -> Result<Uplink, LineError> {
    let value: Value = serde_json::from_str(line).map_err(|e| LineError::Json(e.to_string()))?;
    uplink_from_value(&value)
}

/// Like [`parse_uplink_line`], from an already parsed JSON value.
pub fn uplink_from_value(value: &Value) -> Result<Uplink, LineError> {
    let obj = match value {
        Value::Object(m) => m,
        other => return Err(LineError::NotAnObject(json_type(other))),
    };
    let kinds = ["properties", "event", "reply", "topic"];
    let present: Vec<&'static str> = kinds
        .iter()
        .copied()
        .filter(|k| obj.contains_key(*k))
        .collect();
    let kind = match present.as_slice() {
        [] => return Err(LineError::NoKind),
        [one] => *one,
        [a, b, ..] => return Err(LineError::TwoKinds(a, b)),
    };
    let body = match kind {
        "properties" => {
            check_keys(obj, kind, &["properties"])?;
            UplinkBody::Properties(opt_object(obj, "properties")?.unwrap_or_default())
        }
        "event" => {
            check_keys(obj, kind, &["event", "params"])?;
            let name = opt_string(obj, "event")?.unwrap_or_default();
            if name.is_empty() {
                return Err(LineError::BadValue {
                    key: "event",
                    reason: "the event name is empty".into(),
                });
            }
            UplinkBody::Event {
                name,
                params: opt_object(obj, "params")?.unwrap_or_default(),
            }
        }
        "reply" => {
            check_keys(
                obj,
                kind,
                &["reply", "code", "data", "message", "to", "name"],
            )?;
            let to_id = opt_string(obj, "reply")?.unwrap_or_default();
            let code = match obj.get("code") {
                None => 200,
                Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(200),
                Some(v) => {
                    return Err(LineError::WrongType {
                        key: "code",
                        expected: "an integer",
                        got: json_type(v),
                    })
                }
            };
            let to = match opt_string(obj, "to")? {
                None => None,
                Some(s) => Some(ReplyTo::parse(&s).ok_or_else(|| LineError::BadValue {
                    key: "to",
                    reason: format!("must be \"set\", \"get\" or \"call\", got {s:?}"),
                })?),
            };
            UplinkBody::Reply(Reply {
                to_id,
                code,
                data: obj.get("data").cloned(),
                message: opt_string(obj, "message")?,
                to,
                name: opt_string(obj, "name")?,
            })
        }
        _ => {
            check_keys(obj, kind, &["topic", "payload", "encoding"])?;
            let topic = opt_string(obj, "topic")?.unwrap_or_default();
            if topic.is_empty() {
                return Err(LineError::BadValue {
                    key: "topic",
                    reason: "the topic is empty".into(),
                });
            }
            let encoding = opt_string(obj, "encoding")?;
            let payload = match (obj.get("payload"), encoding.as_deref()) {
                (None, _) => {
                    return Err(LineError::Missing {
                        key: "payload",
                        kind,
                    })
                }
                (Some(Value::String(s)), Some("base64")) => Payload::Binary(
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|e| LineError::BadValue {
                            key: "payload",
                            reason: format!("not valid base64: {e}"),
                        })?,
                ),
                (Some(_), Some(other)) if other != "base64" => {
                    return Err(LineError::BadValue {
                        key: "encoding",
                        reason: format!("only \"base64\" is known, got {other:?}"),
                    })
                }
                (Some(Value::String(s)), _) => Payload::Text(s.clone()),
                (Some(v), _) => Payload::Json(v.clone()),
            };
            UplinkBody::Raw { topic, payload }
        }
    };
    let time = match obj.get("time") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(v) => {
            return Err(LineError::WrongType {
                key: "time",
                expected: "an integer (ms since the Unix epoch)",
                got: json_type(v),
            })
        }
    };
    let qos = match obj.get("qos") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(q @ 0..=1) => Some(q as u8),
            _ => {
                return Err(LineError::BadValue {
                    key: "qos",
                    reason: format!("must be 0 or 1, got {n}"),
                })
            }
        },
        Some(v) => {
            return Err(LineError::WrongType {
                key: "qos",
                expected: "0 or 1",
                got: json_type(v),
            })
        }
    };
    Ok(Uplink {
        body,
        id: opt_string(obj, "id")?,
        time,
        service: opt_string(obj, "service")?,
        qos,
    })
}

fn payload_into(map: &mut Map<String, Value>, payload: &Payload) {
    match payload {
        Payload::Text(s) => {
            map.insert("payload".into(), Value::String(s.clone()));
        }
        Payload::Json(v) => {
            map.insert("payload".into(), v.clone());
        }
        Payload::Binary(_) => {
            map.insert("payload".into(), Value::String(payload.to_base64()));
            map.insert("encoding".into(), Value::String("base64".into()));
        }
    }
}

fn put_opt(map: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        map.insert(key.into(), v);
    }
}

/// The JSON line of an uplink (the inverse of [`parse_uplink_line`]).
pub fn uplink_to_value(up: &Uplink) -> Value {
    let mut m = Map::new();
    match &up.body {
        UplinkBody::Properties(v) => {
            m.insert("properties".into(), Value::Object(v.clone()));
        }
        UplinkBody::Event { name, params } => {
            m.insert("event".into(), Value::String(name.clone()));
            m.insert("params".into(), Value::Object(params.clone()));
        }
        UplinkBody::Reply(r) => {
            m.insert("reply".into(), Value::String(r.to_id.clone()));
            m.insert("code".into(), Value::from(r.code));
            put_opt(&mut m, "data", r.data.clone());
            put_opt(&mut m, "message", r.message.clone().map(Value::String));
            put_opt(&mut m, "to", r.to.map(|t| Value::String(t.as_str().into())));
            put_opt(&mut m, "name", r.name.clone().map(Value::String));
        }
        UplinkBody::Raw { topic, payload } => {
            m.insert("topic".into(), Value::String(topic.clone()));
            payload_into(&mut m, payload);
        }
    }
    put_opt(&mut m, "id", up.id.clone().map(Value::String));
    put_opt(&mut m, "time", up.time.map(Value::from));
    put_opt(&mut m, "service", up.service.clone().map(Value::String));
    put_opt(&mut m, "qos", up.qos.map(Value::from));
    Value::Object(m)
}

impl serde::Serialize for Uplink {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        uplink_to_value(self).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Uplink {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        uplink_from_value(&v).map_err(D::Error::custom)
    }
}

/// Link states of a `{"status": …}` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Connecting to the cloud.
    Connecting,
    /// Connected.
    Connected,
    /// Disconnected (with a reason).
    Disconnected,
    /// Only the backlog count changed.
    Backlog,
}

impl LinkState {
    /// Contract spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Connected => "connected",
            LinkState::Disconnected => "disconnected",
            LinkState::Backlog => "backlog",
        }
    }
}

/// One agent → app line.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentLine {
    /// A downlink for the app: set / get / call / raw. (`Ack` and `Time` downlinks are shown
    /// through [`AgentLine::Ack`] and [`AgentLine::Time`] after the agent maps ids / clocks.)
    Downlink(Downlink),
    /// `{"ack": id, "code": …, "message": …}` — the cloud's reply to the app's uplink `id`.
    Ack {
        /// The app's uplink id.
        id: String,
        /// Neutral code (200 = success).
        code: i64,
        /// Cloud message.
        message: Option<String>,
    },
    /// `{"delivered": id}`.
    Delivered(String),
    /// `{"time": ms}` — the cloud's clock.
    Time(i64),
    /// `{"status": …, "backlog": n, "reason": …}`.
    Status {
        /// Link state.
        state: LinkState,
        /// Store-and-forward backlog.
        backlog: Option<u64>,
        /// Why (for `disconnected`).
        reason: Option<String>,
        /// More keys the agent adds (counters, an alarm), written after the contract's keys.
        details: serde_json::Map<String, Value>,
    },
    /// `{"error": …, "line": n}` — a line the agent could not take.
    Error {
        /// What was wrong.
        error: String,
        /// 1-based input line number.
        line: Option<u64>,
    },
}

impl AgentLine {
    /// The line as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        let svc = |m: &mut Map<String, Value>, s: &Option<String>| {
            put_opt(m, "service", s.clone().map(Value::String))
        };
        match self {
            AgentLine::Downlink(d) => match d {
                Downlink::Set {
                    id,
                    values,
                    service,
                } => {
                    m.insert("set".into(), Value::Object(values.clone()));
                    m.insert("id".into(), Value::String(id.clone()));
                    svc(&mut m, service);
                }
                Downlink::Get { id, names, service } => {
                    m.insert("get".into(), Value::from(names.clone()));
                    m.insert("id".into(), Value::String(id.clone()));
                    svc(&mut m, service);
                }
                Downlink::Call {
                    id,
                    name,
                    params,
                    service,
                } => {
                    m.insert("call".into(), Value::String(name.clone()));
                    m.insert("params".into(), Value::Object(params.clone()));
                    m.insert("id".into(), Value::String(id.clone()));
                    svc(&mut m, service);
                }
                Downlink::Ack {
                    id, code, message, ..
                } => {
                    m.insert("ack".into(), Value::String(id.clone()));
                    m.insert("code".into(), Value::from(*code));
                    put_opt(&mut m, "message", message.clone().map(Value::String));
                }
                Downlink::Time(t) => {
                    m.insert("time".into(), Value::from(t.server_send_ms));
                }
                Downlink::Raw { topic, payload } => {
                    m.insert("topic".into(), Value::String(topic.clone()));
                    payload_into(&mut m, payload);
                }
            },
            AgentLine::Ack { id, code, message } => {
                m.insert("ack".into(), Value::String(id.clone()));
                m.insert("code".into(), Value::from(*code));
                put_opt(&mut m, "message", message.clone().map(Value::String));
            }
            AgentLine::Delivered(id) => {
                m.insert("delivered".into(), Value::String(id.clone()));
            }
            AgentLine::Time(ms) => {
                m.insert("time".into(), Value::from(*ms));
            }
            AgentLine::Status {
                state,
                backlog,
                reason,
                details,
            } => {
                m.insert("status".into(), Value::String(state.as_str().into()));
                put_opt(&mut m, "backlog", backlog.map(Value::from));
                put_opt(&mut m, "reason", reason.clone().map(Value::String));
                for (k, v) in details {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            AgentLine::Error { error, line } => {
                m.insert("error".into(), Value::String(error.clone()));
                put_opt(&mut m, "line", line.map(Value::from));
            }
        }
        Value::Object(m)
    }

    /// The line as compact JSON text (no trailing newline).
    pub fn to_line(&self) -> String {
        self.to_value().to_string()
    }
}

impl serde::Serialize for AgentLine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}
