//! Huawei IoTDA (`$oc/devices/{id}/sys/…`): reports get no reply (they are checked and
//! logged), `$time_sync` is answered on `events/down`, shadow gets are answered from the
//! last reports, command / property answers are logged, and downlinks are worded.

use cloud_huawei::model::ServiceMap;
use cloud_huawei::payload::{
    self, Command, Event, Events, PropertiesReport, PropertySet, ServiceQuery, ServiceSet,
    ShadowResponse, ShadowService, ShadowSide, TIME_SYNC_SERVICE,
};
use cloud_huawei::topics::{Topics, UpTopic};
use serde_json::Value;
use thing_model::Downlink;

use super::{not_a_downlink, Ctx, Out, Wire};
use crate::error::SimError;
use crate::log::{Kind, Record};
use crate::registry::{Device, Registry};

pub(super) fn uplink(ctx: &mut Ctx<'_>, topic: &str, payload: &[u8]) -> Out {
    let ts = ctx.now_ms;
    let Some(device) = topic
        .strip_prefix("$oc/devices/")
        .and_then(|r| r.split('/').next())
    else {
        return Out::default();
    };
    let topics = Topics::new(device);
    let Ok(up) = topics.parse_up(topic) else {
        return Out::default(); // a downlink we sent ourselves
    };
    let uplink = |what: &str| {
        Record::new(ts, Kind::Uplink)
            .device(device)
            .topic(topic)
            .what(what)
            .payload(payload)
    };
    let answer = |to: &str, id: &str, code: Option<i64>| {
        let mut r = Record::new(ts, Kind::Answer)
            .device(device)
            .topic(topic)
            .what(to)
            .id(id)
            .payload(payload);
        r.code = code;
        r
    };
    let result_code = || {
        serde_json::from_slice::<Value>(payload)
            .ok()
            .map(|v| v.get("result_code").and_then(Value::as_i64).unwrap_or(0))
    };
    match up {
        UpTopic::PropertiesReport => {
            let mut rec = uplink("property_post");
            match payload::from_json::<PropertiesReport>("properties report", payload) {
                Ok(report) => {
                    let product = ctx.reg.device_by_id(device).map(|d| d.product.clone());
                    let model = product.as_deref().and_then(|p| ctx.reg.model(p));
                    for s in &report.services {
                        let values = s.properties.clone();
                        if let Some(m) = model {
                            if let Err(e) = m.validate_properties(&values) {
                                rec = rec.message(format!("service {}: {e}", s.service_id));
                            }
                        }
                        let shadow = ctx.shadow.entry(device.to_owned()).or_default();
                        shadow
                            .entry(s.service_id.clone())
                            .or_default()
                            .extend(values);
                    }
                }
                Err(e) => rec = rec.message(e.to_string()),
            }
            Out::default().record(rec)
        }
        UpTopic::GatewayReport => Out::default().record(uplink("gateway_report")),
        UpTopic::MessageUp => Out::default().record(uplink("message")),
        UpTopic::User(_) => Out::default().record(uplink("raw")),
        UpTopic::BootstrapUp => Out::default().record(uplink("bootstrap")),
        UpTopic::CommandResponse(id) => Out::default().record(answer("call", &id, result_code())),
        UpTopic::PropertySetResponse(id) => {
            Out::default().record(answer("set", &id, result_code()))
        }
        UpTopic::PropertyGetResponse(id) => Out::default().record(answer("get", &id, None)),
        UpTopic::ShadowGet(id) => {
            let query: ServiceQuery = payload::from_json("shadow get", payload).unwrap_or_default();
            let shadow = ctx.shadow.get(device).cloned().unwrap_or_default();
            let services = shadow
                .into_iter()
                .filter(|(sid, _)| query.service_id.as_ref().is_none_or(|q| q == sid))
                .map(|(service_id, properties)| ShadowService {
                    service_id,
                    desired: None,
                    reported: Some(ShadowSide {
                        properties,
                        event_time: None,
                    }),
                    version: Some(1),
                })
                .collect();
            let body = payload::to_json(&ShadowResponse {
                object_device_id: Some(device.to_owned()),
                shadow: services,
            });
            Out::default().record(uplink("shadow_get").id(&id)).reply(
                topics.shadow_get_response(&id),
                body,
                ts,
                device,
                "shadow_get",
            )
        }
        UpTopic::EventUp => {
            let events: Option<Events> = payload::from_json("events", payload).ok();
            let sync = events.as_ref().and_then(|e| {
                e.services.iter().find(|ev| {
                    ev.service_id == TIME_SYNC_SERVICE && ev.event_type == "time_sync_request"
                })
            });
            match sync {
                Some(ev) => {
                    let send = ev
                        .paras
                        .get("device_send_time")
                        .cloned()
                        .unwrap_or(Value::Null);
                    let mut paras = serde_json::Map::new();
                    paras.insert("device_send_time".into(), send);
                    paras.insert("server_recv_time".into(), ts.into());
                    paras.insert("server_send_time".into(), ts.into());
                    let body = payload::to_json(&Events::single(Event {
                        service_id: TIME_SYNC_SERVICE.into(),
                        event_type: "time_sync_response".into(),
                        event_time: None,
                        event_id: None,
                        paras,
                    }));
                    Out::default().record(uplink("time_sync")).reply(
                        topics.events_down(),
                        body,
                        ts,
                        device,
                        "time_sync",
                    )
                }
                None => Out::default().record(uplink("event")),
            }
        }
    }
}

fn service_for(
    reg: &Registry,
    device: &Device,
    given: &Option<String>,
    what: &str,
    find: impl Fn(&ServiceMap) -> Option<String>,
) -> Result<String, SimError> {
    if let Some(s) = given {
        return Ok(s.clone());
    }
    let map = ServiceMap::new(reg.model(&device.product), None);
    find(&map).ok_or_else(|| {
        SimError::Downlink(format!("a Huawei {what} needs a service id: give `service`, or load a product model that places it"))
    })
}

pub(super) fn downlink(
    reg: &Registry,
    device: &Device,
    dl: &Downlink,
    id: u64,
) -> Result<Wire, SimError> {
    let topics = Topics::new(&device.id);
    let request_id = id.to_string();
    Ok(match dl {
        Downlink::Set {
            values, service, ..
        } => {
            let sid = service_for(reg, device, service, "property set", |m| {
                let mut ids = values.keys().filter_map(|k| m.service_of(k).ok());
                let first = ids.next()?;
                ids.all(|s| s == first).then_some(first)
            })?;
            Wire {
                topic: topics.property_set(&request_id),
                payload: payload::to_json(&PropertySet {
                    object_device_id: Some(device.id.clone()),
                    services: vec![ServiceSet {
                        service_id: sid,
                        properties: values.clone(),
                    }],
                }),
                what: "set",
            }
        }
        Downlink::Get { service, .. } => Wire {
            topic: topics.property_get(&request_id),
            payload: payload::to_json(&ServiceQuery {
                object_device_id: Some(device.id.clone()),
                service_id: service.clone(),
            }),
            what: "get",
        },
        Downlink::Call {
            name,
            params,
            service,
            ..
        } => {
            let model = reg.model(&device.product);
            let sid = match service {
                Some(s) => s.clone(),
                None => model
                    .and_then(|m| m.service(name, None))
                    .and_then(|s| s.service.clone())
                    .ok_or_else(|| SimError::Downlink(format!("command `{name}` needs a service id: give `service`, or load a product model that has it")))?,
            };
            Wire {
                topic: topics.command(&request_id),
                payload: payload::to_json(&Command {
                    object_device_id: None,
                    service_id: Some(sid),
                    command_name: name.clone(),
                    paras: params.clone(),
                }),
                what: "call",
            }
        }
        other => return Err(not_a_downlink(other)),
    })
}
