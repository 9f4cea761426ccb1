//! Cloud-neutral uplinks (app → cloud) and downlinks (cloud → app).
//!
//! These are the values behind the JSON Lines of the app contract (`line` module); the
//! cloud crates turn them into topics and payloads.

use base64::Engine as _;
use serde_json::Value;

/// Property / parameter values by name, in insertion order.
pub type Values = serde_json::Map<String, Value>;

/// The payload of a raw (custom-topic) message.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// UTF-8 text, sent as is.
    Text(String),
    /// A JSON value, sent in its compact serialisation.
    Json(Value),
    /// Bytes that are not UTF-8 (shown to apps as base64 with `"encoding":"base64"`).
    Binary(Vec<u8>),
}

impl Payload {
    /// The bytes that go on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Payload::Text(s) => s.as_bytes().to_vec(),
            Payload::Json(v) => v.to_string().into_bytes(),
            Payload::Binary(b) => b.clone(),
        }
    }

    /// Classifies received bytes: a JSON object or array becomes [`Payload::Json`], other UTF-8
    /// becomes [`Payload::Text`], anything else [`Payload::Binary`].
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                let t = text.trim_start();
                if t.starts_with('{') || t.starts_with('[') {
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        return Payload::Json(v);
                    }
                }
                Payload::Text(text.to_owned())
            }
            Err(_) => Payload::Binary(bytes.to_vec()),
        }
    }

    /// The payload as base64 (standard alphabet, padded).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_bytes())
    }
}

/// What a reply answers (contract key `"to"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyTo {
    /// A property set (`{"set": …}`).
    Set,
    /// A property get (`{"get": …}`).
    Get,
    /// A service call / command (`{"call": …}`).
    Call,
}

impl ReplyTo {
    /// The contract spelling: `set`, `get`, `call`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyTo::Set => "set",
            ReplyTo::Get => "get",
            ReplyTo::Call => "call",
        }
    }

    /// Parses the contract spelling.
    pub fn parse(s: &str) -> Option<ReplyTo> {
        match s {
            "set" => Some(ReplyTo::Set),
            "get" => Some(ReplyTo::Get),
            "call" => Some(ReplyTo::Call),
            _ => None,
        }
    }
}

/// An app's answer to a downlink.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The `id` of the downlink being answered (contract key `"reply"`), exactly as delivered.
    pub to_id: String,
    /// Neutral result code: 200 = success (HTTP-like). Cloud crates map it (Huawei: 0).
    pub code: i64,
    /// Result data (`get` values, service output).
    pub data: Option<Value>,
    /// Optional human-readable message (OneNET `msg`, Huawei `result_desc`).
    pub message: Option<String>,
    /// What is answered; `run` fills it from the delivered downlink.
    pub to: Option<ReplyTo>,
    /// The service / command name of a `call`.
    pub name: Option<String>,
}

/// The kind-specific part of an uplink.
#[derive(Debug, Clone, PartialEq)]
pub enum UplinkBody {
    /// `{"properties": {…}}` — a property report.
    Properties(Values),
    /// `{"event": name, "params": {…}}` — an event.
    Event {
        /// Event identifier.
        name: String,
        /// Event output parameters.
        params: Values,
    },
    /// `{"reply": id, "code": …}` — an answer to a downlink.
    Reply(Reply),
    /// `{"topic": …, "payload": …}` — a raw publish on a custom topic.
    Raw {
        /// Full MQTT topic.
        topic: String,
        /// Payload.
        payload: Payload,
    },
}

/// One app → cloud message (one JSON line), with the optional keys any uplink may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplink {
    /// What the line is.
    pub body: UplinkBody,
    /// The app's own id (`"id"`); the agent's `ack`/`delivered` carry it back.
    pub id: Option<String>,
    /// Measurement time, ms since the Unix epoch (`"time"`).
    pub time: Option<i64>,
    /// Huawei `service_id` (`"service"`); ignored by the other clouds.
    pub service: Option<String>,
    /// Requested QoS (`"qos"`, 0 or 1).
    pub qos: Option<u8>,
}

impl Uplink {
    /// An uplink with no optional keys.
    pub fn new(body: UplinkBody) -> Self {
        Uplink {
            body,
            id: None,
            time: None,
            service: None,
            qos: None,
        }
    }

    /// A property report.
    pub fn properties(values: Values) -> Self {
        Uplink::new(UplinkBody::Properties(values))
    }

    /// An event.
    pub fn event(name: impl Into<String>, params: Values) -> Self {
        Uplink::new(UplinkBody::Event {
            name: name.into(),
            params,
        })
    }

    /// A reply to the downlink `to_id`.
    pub fn reply(to_id: impl Into<String>, code: i64, data: Option<Value>) -> Self {
        Uplink::new(UplinkBody::Reply(Reply {
            to_id: to_id.into(),
            code,
            data,
            message: None,
            to: None,
            name: None,
        }))
    }

    /// A raw publish.
    pub fn raw(topic: impl Into<String>, payload: Payload) -> Self {
        Uplink::new(UplinkBody::Raw {
            topic: topic.into(),
            payload,
        })
    }

    /// The QoS to use: the requested one, else `default`.
    pub fn qos_or(&self, default: u8) -> u8 {
        self.qos.unwrap_or(default)
    }
}

/// A time-sync answer from the cloud (Aliyun NTP, Huawei `$time_sync`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSync {
    /// The device's send time echoed back (device clock, ms), if the cloud echoes it.
    pub device_send_ms: Option<i64>,
    /// Server receive time, ms since the epoch.
    pub server_recv_ms: i64,
    /// Server send time, ms since the epoch.
    pub server_send_ms: i64,
}

impl TimeSync {
    /// The current UTC time in ms, given the device clock (same clock as `device_send_ms`) at
    /// the moment the answer arrived: `(serverRecv + serverSend + deviceRecv − deviceSend) / 2`.
    /// Without an echoed send time, the server send time.
    pub fn utc_ms(&self, device_recv_ms: i64) -> i64 {
        match self.device_send_ms {
            Some(send) => {
                let sum = self.server_recv_ms as i128
                    + self.server_send_ms as i128
                    + device_recv_ms as i128
                    - send as i128;
                (sum / 2) as i64
            }
            None => self.server_send_ms,
        }
    }
}

/// One cloud → device message, cloud-neutral.
#[derive(Debug, Clone, PartialEq)]
pub enum Downlink {
    /// The cloud sets properties; the app answers with a reply to `id`.
    Set {
        /// Id the reply must carry (opaque; the cloud crate chose it).
        id: String,
        /// Values to set.
        values: Values,
        /// Huawei `service_id` when the request names exactly one service.
        service: Option<String>,
    },
    /// The cloud asks for properties.
    Get {
        /// Id the reply must carry.
        id: String,
        /// Property names (empty = all).
        names: Vec<String>,
        /// Huawei `service_id`.
        service: Option<String>,
    },
    /// A service call / command.
    Call {
        /// Id the reply must carry.
        id: String,
        /// Service / command name.
        name: String,
        /// Input parameters.
        params: Values,
        /// Huawei `service_id`.
        service: Option<String>,
    },
    /// The cloud's own reply to an uplink; `id` is the wire id the uplink was encoded with.
    Ack {
        /// Wire message id of the uplink (the `msg_id` given to `encode`, as text).
        id: String,
        /// Neutral code: 200 = success.
        code: i64,
        /// Cloud message, if any.
        message: Option<String>,
        /// Reply data, if any.
        data: Option<Value>,
    },
    /// A time-sync answer.
    Time(TimeSync),
    /// A message on a custom topic (or one the cloud crate does not model).
    Raw {
        /// Full topic.
        topic: String,
        /// Payload.
        payload: Payload,
    },
}
