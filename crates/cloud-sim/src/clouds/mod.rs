//! The clouds' behaviour on the message level: what each cloud answers to an uplink, and
//! how it words a downlink. Topics here are the device's (with `$`), payloads are bytes.

use std::collections::BTreeMap;

use serde_json::Value;
use thing_model::{Downlink, Values};

use crate::error::SimError;
use crate::log::Record;
use crate::registry::{Cloud, Device, Registry};

mod aliyun;
mod huawei;
mod onenet;

/// What the brain knows when it handles an uplink.
pub(crate) struct Ctx<'a> {
    /// Devices and models.
    pub reg: &'a Registry,
    /// Now, ms.
    pub now_ms: i64,
    /// Huawei shadow: device → service → last reported properties.
    pub shadow: &'a mut BTreeMap<String, BTreeMap<String, Values>>,
}

/// What the brain does in answer.
#[derive(Debug, Default)]
pub(crate) struct Out {
    /// Messages to publish (device topic, payload).
    pub publish: Vec<(String, Vec<u8>)>,
    /// Records to log.
    pub records: Vec<Record>,
}

impl Out {
    fn record(mut self, r: Record) -> Self {
        self.records.push(r);
        self
    }
    fn reply(mut self, topic: String, payload: Vec<u8>, ts: i64, device: &str, what: &str) -> Self {
        self.records.push(
            Record::new(ts, crate::log::Kind::Reply)
                .device(device)
                .topic(&topic)
                .what(what)
                .payload(&payload),
        );
        self.publish.push((topic, payload));
        self
    }
}

/// The broker filters the brain subscribes to for `cloud` (device names).
pub(crate) fn uplink_filters(cloud: Cloud) -> Vec<&'static str> {
    match cloud {
        Cloud::Aliyun => vec![
            "/sys/+/+/thing/#",
            "/ext/ntp/+/+/request",
            "/ext/rrpc/#",
            "/+/+/user/#",
        ],
        Cloud::Onenet => vec!["$sys/+/+/thing/#", "$sys/+/+/dp/#", "$sys/+/+/cmd/#"],
        Cloud::Huawei => vec!["$oc/devices/+/sys/#", "$oc/devices/+/user/#"],
    }
}

/// Handles one message seen on the broker.
pub(crate) fn uplink(cloud: Cloud, ctx: &mut Ctx<'_>, topic: &str, payload: &[u8]) -> Out {
    match cloud {
        Cloud::Aliyun => aliyun::uplink(ctx, topic, payload),
        Cloud::Onenet => onenet::uplink(ctx, topic, payload),
        Cloud::Huawei => huawei::uplink(ctx, topic, payload),
    }
}

/// A downlink on the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Wire {
    /// Device topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// `set`, `get`, `call` or `raw`.
    pub what: &'static str,
}

/// Words `dl` for `device` with message id `id`.
pub(crate) fn downlink(
    cloud: Cloud,
    reg: &Registry,
    device: &Device,
    dl: &Downlink,
    id: u64,
) -> Result<Wire, SimError> {
    if let Downlink::Raw { topic, payload } = dl {
        return Ok(Wire {
            topic: topic.clone(),
            payload: payload.to_bytes(),
            what: "raw",
        });
    }
    match cloud {
        Cloud::Aliyun => aliyun::downlink(reg, device, dl, id),
        Cloud::Onenet => onenet::downlink(device, dl, id),
        Cloud::Huawei => huawei::downlink(reg, device, dl, id),
    }
}

/// Property values with Alink / OneJSON `{"value": v, "time": t}` wrappers removed.
pub(crate) fn unwrap_values(params: &serde_json::Map<String, Value>) -> Values {
    params
        .iter()
        .map(|(k, v)| {
            let inner = match v {
                Value::Object(o)
                    if o.contains_key("value") && o.keys().all(|k| k == "value" || k == "time") =>
                {
                    o["value"].clone()
                }
                other => other.clone(),
            };
            (k.clone(), inner)
        })
        .collect()
}

/// The `id` of a JSON request as text (string or number).
pub(crate) fn json_id(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn not_a_downlink(dl: &Downlink) -> SimError {
    SimError::Downlink(format!(
        "{dl:?} is not something a cloud sends; use set, get, call or raw"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_wrappers_are_removed_but_structs_kept() {
        let m = json!({"a": {"value": 1, "time": 5}, "b": 2, "s": {"value": 1, "x": 2}});
        let v = unwrap_values(m.as_object().unwrap());
        assert_eq!(
            Value::Object(v),
            json!({"a": 1, "b": 2, "s": {"value": 1, "x": 2}})
        );
    }
}
