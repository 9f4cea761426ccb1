//! The pure part of the bridge between app lines and the cloud: accepting app lines (parse,
//! fill reply details from the delivered downlink, validate by encoding, check the module's
//! limits), mapping downlinks to app lines, correlating acks and replies, and answering
//! replies the app did not send in time. No I/O.

use std::collections::{BTreeMap, HashMap};

use thing_model::{
    parse_uplink_line, uplink_from_value, uplink_to_value, AgentLine, Downlink, Platform, Publish,
    ReplyTo, Uplink, UplinkBody,
};

/// The most payload bytes one `AT+QMTPUBEX` takes.
pub const MAX_PAYLOAD: usize = quectel_mqtt::MAX_PAYLOAD;

/// The code the agent answers with when the app did not reply in time.
pub const TIMEOUT_CODE: i64 = 504;

/// A downlink the app has been shown and may answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingDownlink {
    /// What it was.
    pub to: ReplyTo,
    /// Service / command name of a call.
    pub name: Option<String>,
    /// Huawei service id.
    pub service: Option<String>,
    /// When the agent answers on the app's behalf (ms, agent clock).
    pub deadline_ms: i64,
}

/// Correlation state: downlinks awaiting replies, wire ids awaiting cloud acks.
#[derive(Debug, Default)]
pub struct Correlator {
    pending: BTreeMap<String, PendingDownlink>,
    /// Wire id → the app ids it carries (several for a batch).
    acks: HashMap<u32, Vec<String>>,
    next_wire: u32,
}

fn forbidden(what: &str, s: &str) -> Result<(), String> {
    if s.contains(['"', '\r', '\n']) {
        return Err(format!(
            "`{what}` holds `\"`, CR or LF, which the module's AT line cannot carry"
        ));
    }
    Ok(())
}

/// Checks what the module can carry: the topic and id without `"`, CR, LF; the payload at
/// most 1500 bytes.
pub fn check_publish(p: &Publish) -> Result<(), String> {
    forbidden("topic", &p.topic)?;
    if p.topic.len() > quectel_mqtt::commands::MAX_TOPIC_LEN {
        return Err(format!(
            "topic is {} bytes; the module's limit is {} bytes",
            p.topic.len(),
            quectel_mqtt::commands::MAX_TOPIC_LEN
        ));
    }
    if p.payload.len() > MAX_PAYLOAD {
        return Err(format!(
            "payload is {} bytes; the module's limit is {MAX_PAYLOAD} bytes",
            p.payload.len()
        ));
    }
    Ok(())
}

impl Correlator {
    /// A fresh correlator.
    pub fn new() -> Self {
        Correlator {
            next_wire: 1,
            ..Default::default()
        }
    }

    /// The next wire message id (1..=u32::MAX, wrapping).
    pub fn wire_id(&mut self) -> u32 {
        let id = self.next_wire;
        self.next_wire = self.next_wire.checked_add(1).unwrap_or(1);
        id
    }

    /// The wire id the next publish will get (for trial encodings).
    pub fn peek_wire_id(&self) -> u32 {
        self.next_wire
    }

    /// Downlinks still awaiting a reply.
    pub fn pending(&self) -> &BTreeMap<String, PendingDownlink> {
        &self.pending
    }

    /// Parses and checks one app line. Fills the reply's `to` / `name` / `service` from the
    /// delivered downlink and gives the uplink an id (`fallback_id`) when it has none. The
    /// returned uplink encodes (checked with `platform`) into something the module can send.
    pub fn accept(
        &self,
        platform: &dyn Platform,
        text: &str,
        fallback_id: impl FnOnce() -> String,
    ) -> Result<Uplink, String> {
        let mut up = parse_uplink_line(text).map_err(|e| e.to_string())?;
        if let Some(id) = &up.id {
            forbidden("id", id)?;
        }
        if let UplinkBody::Reply(r) = &mut up.body {
            forbidden("reply", &r.to_id)?;
            if let Some(p) = self.pending.get(&r.to_id) {
                r.to.get_or_insert(p.to);
                if r.name.is_none() {
                    r.name = p.name.clone();
                }
                if up.service.is_none() {
                    up.service = p.service.clone();
                }
            }
        }
        if up.id.is_none() {
            up.id = Some(fallback_id());
        }
        let publish = platform.encode(&up, 1).map_err(|e| e.to_string())?;
        check_publish(&publish)?;
        Ok(up)
    }

    /// Encodes a stored uplink for publishing with a fresh wire id; remembers the wire id when
    /// the cloud will ack it. Returns the publish and the app id.
    pub fn encode_stored(
        &mut self,
        platform: &dyn Platform,
        stored: &[u8],
    ) -> Result<(Publish, Uplink), String> {
        let value: serde_json::Value =
            serde_json::from_slice(stored).map_err(|e| format!("stored message: {e}"))?;
        let up = uplink_from_value(&value).map_err(|e| format!("stored message: {e}"))?;
        let wire = self.wire_id();
        let publish = platform.encode(&up, wire).map_err(|e| e.to_string())?;
        check_publish(&publish)?;
        if publish.expects_ack {
            self.expect_ack(wire, up.id.iter().cloned().collect());
        }
        if let UplinkBody::Reply(r) = &up.body {
            self.pending.remove(&r.to_id);
        }
        Ok((publish, up))
    }

    /// Encodes stored property reports as one batched publish (see
    /// [`Platform::encode_batch`]) with a fresh wire id; the cloud's one ack becomes an `ack`
    /// line for every app id in it. `Ok(None)`: the cloud has no batch form for these, or the
    /// payload would not fit the module's 1500 bytes.
    pub fn encode_batch(
        &mut self,
        platform: &dyn Platform,
        stored: &[Vec<u8>],
    ) -> Result<Option<(Publish, Vec<Uplink>)>, String> {
        let ups = stored
            .iter()
            .map(|bytes| {
                let value: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(|e| format!("stored message: {e}"))?;
                uplink_from_value(&value).map_err(|e| format!("stored message: {e}"))
            })
            .collect::<Result<Vec<Uplink>, String>>()?;
        let wire = self.next_wire;
        let Some(publish) = platform
            .encode_batch(&ups, wire)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        if check_publish(&publish).is_err() {
            return Ok(None);
        }
        self.wire_id();
        if publish.expects_ack {
            self.expect_ack(wire, ups.iter().filter_map(|u| u.id.clone()).collect());
        }
        Ok(Some((publish, ups)))
    }

    fn expect_ack(&mut self, wire: u32, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        if self.acks.len() > 10_000 {
            self.acks.clear();
        }
        self.acks.insert(wire, ids);
    }

    /// Maps a downlink onto app lines (one; an ack of a batch: one per app id in it; none for
    /// an ack nobody waits for), remembering set/get/call for reply correlation. `now_ms` is
    /// the agent clock.
    pub fn downlink(&mut self, d: Downlink, now_ms: i64, reply_timeout_ms: i64) -> Vec<AgentLine> {
        let deadline_ms = now_ms + reply_timeout_ms;
        match &d {
            Downlink::Set { id, service, .. } => {
                self.remember(id, ReplyTo::Set, None, service.clone(), deadline_ms)
            }
            Downlink::Get { id, service, .. } => {
                self.remember(id, ReplyTo::Get, None, service.clone(), deadline_ms)
            }
            Downlink::Call {
                id, name, service, ..
            } => self.remember(
                id,
                ReplyTo::Call,
                Some(name.clone()),
                service.clone(),
                deadline_ms,
            ),
            Downlink::Ack {
                id, code, message, ..
            } => {
                let app_ids = id
                    .parse::<u32>()
                    .ok()
                    .and_then(|w| self.acks.remove(&w))
                    .unwrap_or_default();
                return app_ids
                    .into_iter()
                    .map(|app_id| AgentLine::Ack {
                        id: app_id,
                        code: *code,
                        message: message.clone(),
                    })
                    .collect();
            }
            Downlink::Time(t) => return vec![AgentLine::Time(t.utc_ms(now_ms))],
            Downlink::Raw { .. } => {}
        }
        vec![AgentLine::Downlink(d)]
    }

    fn remember(
        &mut self,
        id: &str,
        to: ReplyTo,
        name: Option<String>,
        service: Option<String>,
        deadline_ms: i64,
    ) {
        if self.pending.len() > 1000 {
            let first = self.pending.keys().next().cloned();
            if let Some(k) = first {
                self.pending.remove(&k);
            }
        }
        self.pending.insert(
            id.to_string(),
            PendingDownlink {
                to,
                name,
                service,
                deadline_ms,
            },
        );
    }

    /// Replies the agent sends for downlinks whose deadline passed (code [`TIMEOUT_CODE`]);
    /// they leave the pending table.
    pub fn expired(&mut self, now_ms: i64) -> Vec<Uplink> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline_ms <= now_ms)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|id| {
                let p = self.pending.remove(&id)?;
                let mut up = Uplink::reply(id.clone(), TIMEOUT_CODE, None);
                if let UplinkBody::Reply(r) = &mut up.body {
                    r.to = Some(p.to);
                    r.name = p.name;
                    r.message = Some("the app did not answer in time".into());
                }
                up.service = p.service;
                up.id = Some(format!("timeout-{id}"));
                Some(up)
            })
            .collect()
    }
}

/// The stored form of an uplink.
pub fn stored_bytes(up: &Uplink) -> Vec<u8> {
    uplink_to_value(up).to_string().into_bytes()
}

/// `encode`'s output line for one app line.
pub fn encode_line(platform: &dyn Platform, text: &str, line_no: u64, wire_id: u32) -> String {
    let c = Correlator::new();
    let result = parse_uplink_line(text)
        .map_err(|e| e.to_string())
        .and_then(|up| {
            // `accept` checks ids and limits; then encode with the requested wire id.
            c.accept(platform, text, || wire_id.to_string())?;
            let p = platform.encode(&up, wire_id).map_err(|e| e.to_string())?;
            check_publish(&p)?;
            Ok(p)
        });
    match result {
        Ok(p) => serde_json::json!({
            "topic": p.topic,
            "payload": thing_model::Payload::from_bytes(&p.payload).to_json_value(),
            "qos": p.qos,
        })
        .to_string(),
        Err(error) => AgentLine::Error {
            error,
            line: Some(line_no),
        }
        .to_line(),
    }
}

/// Extension: a payload as a JSON value for display.
trait PayloadJson {
    fn to_json_value(&self) -> serde_json::Value;
}

impl PayloadJson for thing_model::Payload {
    fn to_json_value(&self) -> serde_json::Value {
        match self {
            thing_model::Payload::Json(v) => serde_json::Value::String(v.to_string()),
            thing_model::Payload::Text(s) => serde_json::Value::String(s.clone()),
            thing_model::Payload::Binary(_) => serde_json::json!({ "base64": self.to_base64() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thing_model::Secret;

    fn aliyun() -> Box<dyn Platform> {
        let p = cloud_aliyun::AliyunProfile::new(
            "a1B2c3D4e5F",
            "dev-001",
            Some(Secret::new("0123456789abcdef0123456789abcdef")),
        );
        Box::new(cloud_aliyun::AliyunPlatform::new(p).unwrap())
    }

    #[test]
    fn accept_fills_ids_and_refuses_what_the_module_cannot_carry() {
        let p = aliyun();
        let c = Correlator::new();
        let up = c
            .accept(p.as_ref(), r#"{"properties":{"a":1}}"#, || "u9".into())
            .unwrap();
        assert_eq!(up.id.as_deref(), Some("u9"));
        let e = c
            .accept(p.as_ref(), r#"{"properties":{"a":1},"id":"x\ny"}"#, || {
                "u".into()
            })
            .unwrap_err();
        assert!(e.contains("`id`"), "{e}");
        let big = format!(
            r#"{{"topic":"/a1B2c3D4e5F/dev-001/user/up","payload":"{}"}}"#,
            "x".repeat(1501)
        );
        let e = c.accept(p.as_ref(), &big, || "u".into()).unwrap_err();
        assert!(e.contains("1500"), "{e}");
    }

    #[test]
    fn replies_are_correlated_and_acks_mapped_back_to_app_ids() {
        let p = aliyun();
        let mut c = Correlator::new();
        let d = p
            .decode(
                "/sys/a1B2c3D4e5F/dev-001/thing/service/Reboot",
                br#"{"id":"42","version":"1.0","params":{},"method":"thing.service.Reboot"}"#,
            )
            .unwrap()
            .unwrap();
        let line = c.downlink(d, 1_000, 5_000).remove(0);
        assert_eq!(line.to_value()["call"], "Reboot");
        // The app's reply needs neither `to` nor `name`: the agent knows them.
        let up = c
            .accept(p.as_ref(), r#"{"reply":"42","code":200}"#, || "u1".into())
            .unwrap();
        let (publish, _) = c.encode_stored(p.as_ref(), &stored_bytes(&up)).unwrap();
        assert_eq!(
            publish.topic,
            "/sys/a1B2c3D4e5F/dev-001/thing/service/Reboot_reply"
        );
        assert!(c.pending().is_empty());
        // Acks: the wire id goes back to the app's id.
        let up = c
            .accept(p.as_ref(), r#"{"properties":{"a":1},"id":"mine"}"#, || {
                "u".into()
            })
            .unwrap();
        let (publish, _) = c.encode_stored(p.as_ref(), &stored_bytes(&up)).unwrap();
        let wire: serde_json::Value = serde_json::from_slice(&publish.payload).unwrap();
        let ack = Downlink::Ack {
            id: wire["id"].as_str().unwrap().into(),
            code: 200,
            message: None,
            data: None,
        };
        assert_eq!(
            c.downlink(ack, 0, 0).remove(0).to_line(),
            r#"{"ack":"mine","code":200}"#
        );
    }

    #[test]
    fn unanswered_downlinks_get_a_timeout_reply_once() {
        let mut c = Correlator::new();
        let set = Downlink::Set {
            id: "7".into(),
            values: Default::default(),
            service: None,
        };
        c.downlink(set, 0, 1_000);
        assert!(c.expired(999).is_empty());
        let due = c.expired(1_000);
        assert_eq!(due.len(), 1);
        let UplinkBody::Reply(r) = &due[0].body else {
            panic!()
        };
        assert_eq!(
            (r.to_id.as_str(), r.code, r.to),
            ("7", TIMEOUT_CODE, Some(ReplyTo::Set))
        );
        assert!(c.expired(5_000).is_empty());
    }
}
