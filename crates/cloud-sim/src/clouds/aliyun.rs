//! Aliyun (Alink JSON, doc 89301): `post_reply` with 200 / 460 / 6813, NTP, answers to
//! property set / get and service calls, and the downlinks themselves.

use serde_json::{json, Map, Value};
use thing_model::{CallType, Downlink};

use super::{json_id, not_a_downlink, unwrap_values, Ctx, Out, Wire};
use crate::error::SimError;
use crate::log::{Kind, Record};
use crate::registry::{Device, Registry};

/// Reply code: success.
pub const OK: i64 = 200;
/// Reply code: empty / invalid parameters.
pub const BAD_PARAMS: i64 = 460;
/// Reply code: the payload does not match the thing model.
pub const BAD_FORMAT: i64 = 6813;

/// The cloud's reply to a device request (doc 89301):
/// `{"code":…,"data":{},"id":…,"message":…,"method":…,"version":"1.0"}`.
pub fn cloud_reply(id: &str, code: i64, message: &str, method: &str, data: Value) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("code".into(), code.into());
    m.insert("data".into(), data);
    m.insert("id".into(), id.into());
    m.insert("message".into(), message.into());
    m.insert("method".into(), method.into());
    m.insert("version".into(), "1.0".into());
    Value::Object(m).to_string().into_bytes()
}

fn ack_wanted(req: &Value) -> bool {
    req.pointer("/sys/ack").and_then(Value::as_i64) != Some(0)
}

/// Checks a property post / event post against the product's model:
/// `(code, message for the device, detail for the log)`.
fn check(
    ctx: &Ctx<'_>,
    product: &str,
    event: Option<&str>,
    req: &Value,
) -> (i64, &'static str, Option<String>) {
    let Some(params) = req.get("params").and_then(Value::as_object) else {
        return (
            BAD_PARAMS,
            "request parameter error",
            Some("`params` is missing or not an object".into()),
        );
    };
    let Some(model) = ctx.reg.model(product) else {
        return (OK, "success", None);
    };
    let result = match event {
        None => model.validate_properties(&unwrap_values(params)).map(drop),
        Some(ev) => {
            let values = match params.get("value").and_then(Value::as_object) {
                Some(inner) => inner.clone(),
                None => params.clone(),
            };
            model.validate_event(ev, &values).map(drop)
        }
    };
    match result {
        Ok(()) => (OK, "success", None),
        Err(e) => (
            BAD_FORMAT,
            "The format of result is error!",
            Some(e.to_string()),
        ),
    }
}

pub(super) fn uplink(ctx: &mut Ctx<'_>, topic: &str, payload: &[u8]) -> Out {
    let levels: Vec<&str> = topic.split('/').collect();
    let ts = ctx.now_ms;
    match levels.as_slice() {
        ["", "sys", pk, dn, "thing", rest @ ..] => thing(ctx, pk, dn, rest, topic, payload),
        ["", "ext", "ntp", pk, dn, "request"] => {
            let device = format!("{pk}/{dn}");
            let req: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
            let send = match req.get("deviceSendTime") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let body = json!({
                "deviceSendTime": send,
                "serverRecvTime": ts.to_string(),
                "serverSendTime": ts.to_string(),
            });
            Out::default()
                .record(
                    Record::new(ts, Kind::Uplink)
                        .device(&device)
                        .topic(topic)
                        .what("ntp")
                        .payload(payload),
                )
                .reply(
                    format!("/ext/ntp/{pk}/{dn}/response"),
                    body.to_string().into_bytes(),
                    ts,
                    &device,
                    "ntp",
                )
        }
        ["", "ext", "rrpc", rrpc_id, "sys", pk, dn, "thing", "service", service] => {
            let req: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
            if req.get("code").is_none() {
                return Out::default(); // our own request, seen on the same topic
            }
            Out::default().record(
                answer(ts, &format!("{pk}/{dn}"), topic, &req, "call")
                    .message(format!("rrpc {rrpc_id} {service}")),
            )
        }
        ["", pk, dn, "user", ..] => Out::default().record(
            Record::new(ts, Kind::Uplink)
                .device(format!("{pk}/{dn}"))
                .topic(topic)
                .what("raw")
                .payload(payload),
        ),
        _ => Out::default(),
    }
}

fn answer(ts: i64, device: &str, topic: &str, reply: &Value, to: &str) -> Record {
    let mut r = Record::new(ts, Kind::Answer)
        .device(device)
        .topic(topic)
        .what(to);
    if let Some(id) = json_id(reply) {
        r = r.id(id);
    }
    if let Some(code) = reply.get("code").and_then(Value::as_i64) {
        r = r.code(code);
    }
    r.payload = Some(reply.clone());
    r
}

fn thing(ctx: &mut Ctx<'_>, pk: &str, dn: &str, rest: &[&str], topic: &str, payload: &[u8]) -> Out {
    let ts = ctx.now_ms;
    let device = format!("{pk}/{dn}");
    let req: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let uplink = |what: &str| {
        Record::new(ts, Kind::Uplink)
            .device(&device)
            .topic(topic)
            .what(what)
            .payload(payload)
    };
    let reply_to = |out: Out, what: &str, method: &str, code: i64, msg: &str| -> Out {
        match json_id(&req) {
            Some(id) if ack_wanted(&req) => {
                let body = cloud_reply(&id, code, msg, method, json!({}));
                out.reply(format!("{topic}_reply"), body, ts, &device, what)
            }
            _ => out,
        }
    };
    match rest {
        ["event", "property", "post"] | ["event", _, "post"] => {
            let event = match rest[1] {
                "property" => None,
                ev => Some(ev),
            };
            let (code, msg, detail) = check(ctx, pk, event, &req);
            let what = if event.is_some() {
                "event_post"
            } else {
                "property_post"
            };
            let mut rec = uplink(what).code(code);
            if let Some(d) = detail {
                rec = rec.message(d);
            }
            let method = match event {
                None => "thing.event.property.post".to_owned(),
                Some(ev) => format!("thing.event.{ev}.post"),
            };
            reply_to(Out::default().record(rec), what, &method, code, msg)
        }
        ["event", "property", "batch", "post"] => reply_to(
            Out::default().record(uplink("batch_post")),
            "batch_post",
            "thing.event.property.batch.post",
            OK,
            "success",
        ),
        ["property", "desired", op @ ("get" | "delete")] => {
            let what = format!("desired_{op}");
            reply_to(
                Out::default().record(uplink(&what)),
                &what,
                &format!("thing.property.desired.{op}"),
                OK,
                "success",
            )
        }
        ["deviceinfo", op @ ("update" | "delete")] => {
            let what = format!("deviceinfo_{op}");
            reply_to(
                Out::default().record(uplink(&what)),
                &what,
                &format!("thing.deviceinfo.{op}"),
                OK,
                "success",
            )
        }
        ["service", "property", "set_reply"] => {
            Out::default().record(answer(ts, &device, topic, &req, "set"))
        }
        ["service", "property", "get_reply"] => {
            Out::default().record(answer(ts, &device, topic, &req, "get"))
        }
        ["service", name] if name.ends_with("_reply") && !name.starts_with("property") => {
            Out::default().record(answer(ts, &device, topic, &req, "call"))
        }
        ["model", "up_raw"] => Out::default().record(uplink("up_raw")),
        // Downlinks we sent ourselves, and our own replies: nothing to do.
        _ => Out::default(),
    }
}

pub(super) fn downlink(
    reg: &Registry,
    device: &Device,
    dl: &Downlink,
    id: u64,
) -> Result<Wire, SimError> {
    let (pk, dn) = (&device.product, &device.name);
    let id32 = u32::try_from(id % u64::from(u32::MAX)).unwrap_or(1);
    let base = format!("/sys/{pk}/{dn}/thing/service");
    Ok(match dl {
        Downlink::Set { values, .. } => Wire {
            topic: format!("{base}/property/set"),
            payload: cloud_aliyun::alink::request(
                id32,
                Value::Object(values.clone()),
                "thing.service.property.set",
                true,
            ),
            what: "set",
        },
        Downlink::Get { names, .. } => Wire {
            topic: format!("{base}/property/get"),
            payload: cloud_aliyun::alink::request(
                id32,
                json!(names),
                "thing.service.property.get",
                true,
            ),
            what: "get",
        },
        Downlink::Call { name, params, .. } => {
            let sync = reg
                .model(pk)
                .and_then(|m| m.service(name, None))
                .is_some_and(|s| s.call_type == CallType::Sync);
            let topic = if sync {
                format!("/ext/rrpc/{id}/sys/{pk}/{dn}/thing/service/{name}")
            } else {
                format!("{base}/{name}")
            };
            Wire {
                topic,
                payload: cloud_aliyun::alink::request(
                    id32,
                    Value::Object(params.clone()),
                    &format!("thing.service.{name}"),
                    true,
                ),
                what: "call",
            }
        }
        other => return Err(not_a_downlink(other)),
    })
}
