//! Neutral uplinks → IoTDA publishes, IoTDA downlinks → neutral downlinks.

use serde_json::Value;
use thing_model::{
    Downlink, Payload, PlatformError, Publish, Reply, ReplyTo, ThingModel, TimeSync, Uplink,
    UplinkBody, Values,
};

use crate::codes::result_code_from_app;
use crate::model::group_by_service;
use crate::payload::{
    format_event_time, from_json, to_json, Command, CommandResponse, Event, Events, Object,
    PropertiesReport, PropertySet, ServiceProperties, ServiceQuery, SetResponse, TimeSyncResponse,
    PAYLOAD_MAX,
};
use crate::platform::HuaweiPlatform;
use crate::topics::DownTopic;
use crate::Error;

fn uplink_err(e: Error) -> PlatformError {
    PlatformError::Uplink(e.to_string())
}

impl HuaweiPlatform {
    fn service_model(&self, service_id: &str) -> Result<Option<ThingModel>, PlatformError> {
        let Some(model) = &self.model else {
            return Ok(None);
        };
        model
            .service_thing_model(service_id)
            .map(Some)
            .ok_or_else(|| {
                PlatformError::Uplink(format!(
                    "service {service_id:?} is not in the product model"
                ))
            })
    }

    /// Groups flat values by service and validates each group against its service.
    fn services(
        &self,
        values: &Values,
        explicit: Option<&str>,
        event_time: Option<String>,
    ) -> Result<Vec<ServiceProperties>, PlatformError> {
        if values.is_empty() {
            return Err(PlatformError::Uplink("no properties to send".into()));
        }
        let groups = group_by_service(values, explicit, &self.map).map_err(uplink_err)?;
        groups
            .into_iter()
            .map(|(service_id, props)| {
                let properties = match self.service_model(&service_id)? {
                    Some(tm) => tm.validate_properties(&props)?,
                    None => props,
                };
                Ok(ServiceProperties {
                    service_id,
                    properties,
                    event_time: event_time.clone(),
                })
            })
            .collect()
    }

    fn publish(topic: String, payload: Vec<u8>, qos: u8) -> Result<Publish, PlatformError> {
        if qos > 1 {
            return Err(PlatformError::Uplink(format!(
                "qos {qos}: IoTDA supports only 0 and 1"
            )));
        }
        if payload.len() > PAYLOAD_MAX {
            return Err(PlatformError::Uplink(format!(
                "payload is {} bytes; IoTDA's limit is {PAYLOAD_MAX}",
                payload.len()
            )));
        }
        Ok(Publish {
            topic,
            payload,
            qos,
            expects_ack: false,
        })
    }

    pub(crate) fn encode_uplink(
        &self,
        up: &Uplink,
        _msg_id: u32,
    ) -> Result<Publish, PlatformError> {
        let topics = self.topics();
        let qos = up.qos_or(1);
        let event_time = up
            .time
            .map(format_event_time)
            .transpose()
            .map_err(uplink_err)?;
        match &up.body {
            UplinkBody::Properties(values) => {
                let services = self.services(values, up.service.as_deref(), event_time)?;
                let body = PropertiesReport { services };
                Self::publish(topics.properties_report(), to_json(&body), qos)
            }
            UplinkBody::Event { name, params } => {
                let from_model = self
                    .thing
                    .as_ref()
                    .and_then(|m| m.event(name))
                    .and_then(|e| e.service.clone());
                let service_id = up
                    .service
                    .clone()
                    .or(from_model)
                    .or_else(|| self.map.service_of(name).ok())
                    .ok_or_else(|| {
                        PlatformError::Uplink(format!(
                            "event {name:?}: no \"service\" given, none in the model, \
                             and no default service"
                        ))
                    })?;
                let paras = match self.service_model(&service_id)? {
                    Some(tm) if tm.event(name).is_some() => tm.validate_event(name, params)?,
                    _ => params.clone(),
                };
                let body = Events::single(Event {
                    service_id,
                    event_type: name.clone(),
                    event_time,
                    event_id: None,
                    paras,
                });
                Self::publish(topics.events_up(), to_json(&body), qos)
            }
            UplinkBody::Reply(reply) => self.encode_reply(reply, up.service.as_deref(), qos),
            UplinkBody::Raw { topic, payload } => {
                Self::publish(topic.clone(), payload.to_bytes(), qos)
            }
        }
    }

    /// Several property reports as one `properties/report`: the services of every line, in
    /// line order, each with its line's `event_time`. `None` when a line is not a property
    /// report or asks for another QoS than the first.
    pub(crate) fn encode_properties_batch(
        &self,
        ups: &[Uplink],
    ) -> Result<Option<Publish>, PlatformError> {
        let qos = ups.first().map_or(1, |u| u.qos_or(1));
        let mut services = Vec::new();
        for up in ups {
            let UplinkBody::Properties(values) = &up.body else {
                return Ok(None);
            };
            if up.qos_or(1) != qos {
                return Ok(None);
            }
            let event_time = up
                .time
                .map(format_event_time)
                .transpose()
                .map_err(uplink_err)?;
            services.extend(self.services(values, up.service.as_deref(), event_time)?);
        }
        let body = PropertiesReport { services };
        Self::publish(self.topics().properties_report(), to_json(&body), qos).map(Some)
    }

    fn encode_reply(
        &self,
        r: &Reply,
        service: Option<&str>,
        qos: u8,
    ) -> Result<Publish, PlatformError> {
        let topics = self.topics();
        let code = result_code_from_app(r.code);
        let to = r.to.ok_or_else(|| {
            PlatformError::Uplink(
                "a Huawei reply needs \"to\" (set, get or call) to pick the response topic".into(),
            )
        })?;
        let data_object = |what: &str| -> Result<Option<Object>, PlatformError> {
            match &r.data {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(o)) => Ok(Some(o.clone())),
                Some(_) => Err(PlatformError::Uplink(format!(
                    "the data of a {what} reply must be a JSON object"
                ))),
            }
        };
        match to {
            ReplyTo::Set => {
                let body = SetResponse {
                    result_code: code,
                    result_desc: r.message.clone(),
                };
                Self::publish(topics.property_set_response(&r.to_id), to_json(&body), qos)
            }
            ReplyTo::Get => {
                let values = data_object("get")?.unwrap_or_default();
                let services = self.services(&values, service, None)?;
                let body = PropertiesReport { services };
                Self::publish(topics.property_get_response(&r.to_id), to_json(&body), qos)
            }
            ReplyTo::Call => {
                let response_name = r.name.as_deref().and_then(|name| {
                    self.thing
                        .as_ref()
                        .and_then(|m| m.service(name, service))
                        .and_then(|s| s.name.clone())
                });
                let body = CommandResponse {
                    result_code: code,
                    response_name,
                    paras: data_object("call")?,
                };
                Self::publish(topics.command_response(&r.to_id), to_json(&body), qos)
            }
        }
    }

    pub(crate) fn decode_downlink(
        &self,
        topic: &str,
        payload: &[u8],
    ) -> Result<Option<Downlink>, PlatformError> {
        let raw = || {
            Ok(Some(Downlink::Raw {
                topic: topic.into(),
                payload: Payload::from_bytes(payload),
            }))
        };
        let Ok(kind) = self.topics().parse_down(topic) else {
            return raw();
        };
        let bad = |e: Error| PlatformError::Decode {
            topic: topic.into(),
            reason: e.to_string(),
        };
        match kind {
            DownTopic::Command { request_id } => {
                let c: Command = from_json("command payload", payload).map_err(bad)?;
                Ok(Some(Downlink::Call {
                    id: request_id,
                    name: c.command_name,
                    params: c.paras,
                    service: c.service_id,
                }))
            }
            DownTopic::PropertySet { request_id } => {
                let set: PropertySet = from_json("property set payload", payload).map_err(bad)?;
                let service = match set.services.as_slice() {
                    [one] => Some(one.service_id.clone()),
                    _ => None,
                };
                let mut values = Values::new();
                for s in set.services {
                    for (k, v) in s.properties {
                        if values.insert(k.clone(), v).is_some() {
                            return Err(PlatformError::Decode {
                                topic: topic.into(),
                                reason: format!(
                                    "property {k:?} is set in more than one service; \
                                     flat set lines cannot carry that"
                                ),
                            });
                        }
                    }
                }
                Ok(Some(Downlink::Set {
                    id: request_id,
                    values,
                    service,
                }))
            }
            DownTopic::PropertyGet { request_id } => {
                let q: ServiceQuery = if payload.is_empty() {
                    ServiceQuery::default()
                } else {
                    from_json("property get payload", payload).map_err(bad)?
                };
                Ok(Some(Downlink::Get {
                    id: request_id,
                    names: Vec::new(),
                    service: q.service_id,
                }))
            }
            DownTopic::EventDown => {
                let events: Events = from_json("events/down payload", payload).map_err(bad)?;
                match TimeSyncResponse::from_events(&events) {
                    Some(t) => {
                        let t = t.map_err(bad)?;
                        Ok(Some(Downlink::Time(TimeSync {
                            device_send_ms: Some(t.device_send_time),
                            server_recv_ms: t.server_recv_time,
                            server_send_ms: t.server_send_time,
                        })))
                    }
                    None => raw(),
                }
            }
            DownTopic::MessageDown
            | DownTopic::ShadowGetResponse { .. }
            | DownTopic::BootstrapDown
            | DownTopic::User(_) => raw(),
        }
    }
}
