//! OneNET (OneJSON, `$sys/{pid}/{dn}/thing/…`): `…/reply` to posts (200, or 301 / 302 / 309
//! / 312 when the payload breaks the rules), answers to set / get / invoke, and downlinks.

use cloud_onenet::codes::ServiceCode;
use cloud_onenet::onejson::{self, MessageId};
use serde_json::{json, Value};
use thing_model::{Downlink, Rule};

use super::{json_id, not_a_downlink, unwrap_values, Ctx, Out, Wire};
use crate::error::SimError;
use crate::log::{Kind, Record};
use crate::registry::Device;

fn code_of(rule: &Rule) -> ServiceCode {
    match rule {
        Rule::Unknown => ServiceCode::IdentifierNotExist,
        _ => ServiceCode::DataType,
    }
}

/// Checks a post: `(code, detail for the log)`.
fn check(ctx: &Ctx<'_>, pid: &str, kind: &str, req: &Value) -> (ServiceCode, Option<String>) {
    let Some(id) = json_id(req) else {
        return (ServiceCode::JsonFormat, Some("no `id`".into()));
    };
    if let Err(e) = MessageId::parse(&id) {
        return (ServiceCode::InvalidMessageId, Some(e.to_string()));
    }
    let Some(params) = req.get("params").and_then(Value::as_object) else {
        return (
            ServiceCode::JsonFormat,
            Some("`params` is missing or not an object".into()),
        );
    };
    let Some(model) = ctx.reg.model(pid) else {
        return (ServiceCode::Success, None);
    };
    let result = if kind == "property" {
        model.validate_properties(&unwrap_values(params)).map(drop)
    } else {
        params.iter().try_for_each(|(event, v)| {
            let values = v
                .get("value")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            model.validate_event(event, &values).map(drop)
        })
    };
    match result {
        Ok(()) => (ServiceCode::Success, None),
        Err(e) => (code_of(&e.rule), Some(e.to_string())),
    }
}

pub(super) fn uplink(ctx: &mut Ctx<'_>, topic: &str, payload: &[u8]) -> Out {
    let ts = ctx.now_ms;
    let levels: Vec<&str> = topic.split('/').collect();
    let ["$sys", pid, dn, rest @ ..] = levels.as_slice() else {
        return Out::default();
    };
    let device = format!("{pid}/{dn}");
    let req: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let uplink = |what: &str| {
        Record::new(ts, Kind::Uplink)
            .device(&device)
            .topic(topic)
            .what(what)
            .payload(payload)
    };
    let answer = |to: &str| {
        let mut r = Record::new(ts, Kind::Answer)
            .device(&device)
            .topic(topic)
            .what(to);
        if let Some(id) = json_id(&req) {
            r = r.id(id);
        }
        if let Some(code) = req.get("code").and_then(Value::as_i64) {
            r = r.code(code);
        }
        r.payload = Some(req.clone());
        r
    };
    let reply = |out: Out, what: &str, code: ServiceCode, data: Option<&Value>| -> Out {
        let id = json_id(&req).unwrap_or_default();
        let body = onejson::reply(&id, code.code(), Some(code.description()), data);
        out.reply(
            format!("{topic}/reply"),
            body.into_bytes(),
            ts,
            &device,
            what,
        )
    };
    match rest {
        ["thing", kind @ ("property" | "event"), "post"] => {
            let (code, detail) = check(ctx, pid, kind, &req);
            let what = format!("{kind}_post");
            let mut rec = uplink(&what).code(code.code());
            if let Some(d) = detail {
                rec = rec.message(d);
            }
            reply(Out::default().record(rec), &what, code, None)
        }
        ["thing", "property", "desired", op @ ("get" | "delete")] => {
            let what = format!("desired_{op}");
            let data = json!({});
            reply(
                Out::default().record(uplink(&what)),
                &what,
                ServiceCode::Success,
                (*op == "get").then_some(&data),
            )
        }
        ["thing", kind @ ("pack" | "history"), "post"] => {
            let what = format!("{kind}_post");
            reply(
                Out::default().record(uplink(&what)),
                &what,
                ServiceCode::Success,
                None,
            )
        }
        ["thing", "property", "set_reply"] => Out::default().record(answer("set")),
        ["thing", "property", "get_reply"] => Out::default().record(answer("get")),
        ["thing", "service", _, "invoke_reply"] => Out::default().record(answer("call")),
        ["dp", "post", "json"] => Out::default().record(uplink("dp_post")),
        ["cmd", "response", ..] => Out::default().record(answer("call")),
        _ => Out::default(),
    }
}

pub(super) fn downlink(device: &Device, dl: &Downlink, id: u64) -> Result<Wire, SimError> {
    let (pid, dn) = (&device.product, &device.name);
    let id = MessageId::from_number(id % 10_000_000_000_000)
        .map_err(|e| SimError::Downlink(e.to_string()))?;
    let body = |params: Value| {
        json!({"id": id.as_str(), "version": onejson::VERSION, "params": params})
            .to_string()
            .into_bytes()
    };
    let base = format!("$sys/{pid}/{dn}/thing");
    Ok(match dl {
        Downlink::Set { values, .. } => Wire {
            topic: format!("{base}/property/set"),
            payload: body(Value::Object(values.clone())),
            what: "set",
        },
        Downlink::Get { names, .. } => Wire {
            topic: format!("{base}/property/get"),
            payload: body(json!(names)),
            what: "get",
        },
        Downlink::Call { name, params, .. } => Wire {
            topic: format!("{base}/service/{name}/invoke"),
            payload: body(Value::Object(params.clone())),
            what: "call",
        },
        other => return Err(not_a_downlink(other)),
    })
}
