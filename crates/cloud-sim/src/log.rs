//! The JSON Lines log: one [`Record`] per thing the simulated cloud received or did.
//! Records never carry passwords, secrets or tokens.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A CONNECT was accepted.
    Connect,
    /// A CONNECT was refused; `code` is the CONNACK return code.
    Refused,
    /// A device connection ended.
    Disconnect,
    /// A device published (anything not an answer to a downlink).
    Uplink,
    /// The cloud replied to an uplink (`post_reply`, `/reply`, NTP, time sync, …).
    Reply,
    /// The cloud sent a downlink (set, get, call, raw).
    Downlink,
    /// The device answered a downlink.
    Answer,
    /// Dynamic registration / provisioning issued credentials (never logged).
    Registered,
    /// Something went wrong on the cloud side.
    Error,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When, ms since the Unix epoch (the simulator's clock).
    pub ts: i64,
    /// What.
    pub kind: Kind,
    /// Device (Aliyun / OneNET `product/name`, Huawei device id), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// MQTT client id (connect records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Topic as the device sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Message / request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A classification: `property_post`, `event_post`, `set`, `get`, `call`, `ntp`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// CONNACK or reply code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Why (refusals, validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The payload: JSON as JSON, text as a string, bytes as `{"base64": …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

impl Record {
    /// A record of `kind` at `ts` with nothing else set.
    pub fn new(ts: i64, kind: Kind) -> Record {
        Record {
            ts,
            kind,
            device: None,
            client_id: None,
            topic: None,
            id: None,
            what: None,
            code: None,
            message: None,
            payload: None,
        }
    }

    /// Sets `device`.
    pub fn device(mut self, d: impl Into<String>) -> Self {
        self.device = Some(d.into());
        self
    }
    /// Sets `topic`.
    pub fn topic(mut self, t: impl Into<String>) -> Self {
        self.topic = Some(t.into());
        self
    }
    /// Sets `id`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// Sets `what`.
    pub fn what(mut self, w: impl Into<String>) -> Self {
        self.what = Some(w.into());
        self
    }
    /// Sets `code`.
    pub fn code(mut self, c: i64) -> Self {
        self.code = Some(c);
        self
    }
    /// Sets `message`.
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = Some(m.into());
        self
    }
    /// Sets `payload` from wire bytes.
    pub fn payload(mut self, bytes: &[u8]) -> Self {
        self.payload = Some(payload_value(bytes));
        self
    }

    /// The JSON line (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Wire bytes as a JSON value: parsed JSON, else a string, else `{"base64": …}`.
pub fn payload_value(bytes: &[u8]) -> Value {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return v;
        }
        return Value::String(text.to_owned());
    }
    serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// Where records go: a broadcast channel (live watchers), an in-memory list, and an
/// optional JSON Lines file.
#[derive(Clone)]
pub struct Log {
    tx: broadcast::Sender<Record>,
    all: Arc<Mutex<Vec<Record>>>,
    file: Option<Arc<Mutex<std::fs::File>>>,
}

impl Log {
    /// A log, appending to `file` if given.
    pub fn new(file: Option<std::fs::File>) -> Log {
        let (tx, _) = broadcast::channel(4096);
        Log {
            tx,
            all: Arc::default(),
            file: file.map(|f| Arc::new(Mutex::new(f))),
        }
    }

    /// Records one line.
    pub fn push(&self, r: Record) {
        tracing::debug!(target: "cloud_sim::log", "{}", r.to_line());
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{}", r.to_line());
                let _ = f.flush();
            }
        }
        if let Ok(mut all) = self.all.lock() {
            all.push(r.clone());
        }
        let _ = self.tx.send(r);
    }

    /// Everything recorded so far.
    pub fn snapshot(&self) -> Vec<Record> {
        self.all.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// A live stream of records from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Record> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_absent_fields_and_keep_json_payloads() {
        let r = Record::new(5, Kind::Uplink)
            .device("p/d")
            .payload(br#"{"a":1}"#);
        assert_eq!(
            r.to_line(),
            r#"{"ts":5,"kind":"uplink","device":"p/d","payload":{"a":1}}"#
        );
        let back: Record = serde_json::from_str(&r.to_line()).unwrap();
        assert_eq!(back, r);
        assert_eq!(payload_value(b"hi"), Value::String("hi".into()));
        assert_eq!(
            payload_value(&[0xff]),
            serde_json::json!({"base64": "/w=="})
        );
    }
}
