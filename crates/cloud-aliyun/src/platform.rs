//! [`AliyunPlatform`]: the [`Platform`] implementation.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use thing_model::{
    ConnectVerdict, Downlink, ModuleAuth, ModuleConnect, MqttConnect, Payload, Platform,
    PlatformError, ProvisionStep, Provisioned, Publish, ReplyTo, Secret, Subscription, ThingModel,
    Uplink, UplinkBody, Values,
};

use crate::auth::{
    device_credentials, dynreg_credentials, verify_connect, ClientId, Credentials, ServerDevice,
};
use crate::dynreg::{
    check_random, connwl_client_id, parse_register_reply, register_client_id, Registered,
};
use crate::profile::{AliyunProfile, TimestampMode};
use crate::topics::{check_identifier, check_publish_topic, Incoming, Topics};
use crate::{alink, tsl};

/// Separator of a sync (RRPC) call id: `{alink id}@{rrpc id}`.
pub const RRPC_ID_SEPARATOR: char = '@';

/// Alibaba Cloud IoT for one device.
#[derive(Debug, Clone)]
pub struct AliyunPlatform {
    profile: AliyunProfile,
    topics: Topics,
    model: Option<ThingModel>,
    /// `(client id, device token)` from `regnwl`.
    token: Option<(String, Secret)>,
}

fn cfg(field: &'static str, reason: impl Into<String>) -> PlatformError {
    PlatformError::Config {
        field,
        reason: reason.into(),
    }
}

impl AliyunPlatform {
    /// Checks the profile and builds the platform.
    pub fn new(profile: AliyunProfile) -> Result<Self, PlatformError> {
        profile.check()?;
        Ok(AliyunPlatform {
            topics: Topics::new(&profile.product_key, &profile.device_name),
            profile,
            model: None,
            token: None,
        })
    }

    /// Adds a thing model: uplinks are then validated against it and put in wire form.
    pub fn with_thing_model(mut self, model: ThingModel) -> Self {
        self.model = Some(model);
        self
    }

    /// Adds the TSL exported from the console (its JSON text).
    pub fn with_tsl_json(self, json: &str) -> Result<Self, PlatformError> {
        let model = tsl::load_tsl(json).map_err(|e| cfg("tsl", e.to_string()))?;
        Ok(self.with_thing_model(model))
    }

    /// The profile.
    pub fn profile(&self) -> &AliyunProfile {
        &self.profile
    }

    /// The topics of this device.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    fn client_id_base(&self) -> String {
        self.profile
            .client_id
            .clone()
            .unwrap_or_else(|| format!("{}.{}", self.profile.product_key, self.profile.device_name))
    }

    fn extras(&self) -> Vec<(String, String)> {
        self.profile
            .client_id_params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The one-device-one-secret client id at `now_ms`:
    /// `{id}|securemode=2|3,signmethod=…,timestamp=…,_ss=1,ext=1[,extra…]|`.
    pub fn device_client_id(&self, now_ms: i64) -> ClientId {
        let p = &self.profile;
        let mut cid = ClientId::new(self.client_id_base())
            .with("securemode", if p.tls { "2" } else { "3" })
            .with("signmethod", p.sign_method.as_str());
        match p.timestamp {
            TimestampMode::Millis => cid = cid.with("timestamp", now_ms.to_string()),
            TimestampMode::Seconds => {
                cid = cid.with("timestamp", now_ms.div_euclid(1000).to_string())
            }
            TimestampMode::Omit => {}
        }
        if p.server_subscribe {
            cid = cid.with("_ss", "1");
        }
        if let Some(ext) = p.ext {
            cid = cid.with("ext", ext.to_string());
        }
        for (k, v) in self.extras() {
            cid = cid.with(k, v);
        }
        cid
    }

    fn mqtt(&self, c: Credentials) -> MqttConnect {
        MqttConnect {
            host: self.profile.host(),
            port: self.profile.port(),
            tls: self.profile.tls,
            client_id: c.client_id,
            username: c.username,
            password: c.password,
            keepalive_s: self.profile.keepalive_s,
            clean_session: self.profile.clean_session,
        }
    }

    fn check_name(&self, what: &'static str, id: &str) -> Result<(), PlatformError> {
        check_identifier(what, id).map_err(PlatformError::from)
    }

    fn encode_reply(
        &self,
        r: &thing_model::Reply,
        qos: Option<u8>,
    ) -> Result<Publish, PlatformError> {
        let to = match (r.to, &r.name) {
            (Some(t), _) => t,
            (None, Some(_)) => ReplyTo::Call,
            (None, None) => {
                return Err(PlatformError::Uplink(format!(
                    "reply to `{}` needs `to` (\"set\", \"get\" or \"call\")",
                    r.to_id
                )))
            }
        };
        let (alink_id, rrpc_id) = match r.to_id.split_once(RRPC_ID_SEPARATOR) {
            Some((a, b)) => (a, Some(b)),
            None => (r.to_id.as_str(), None),
        };
        let numeric =
            |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(alink_id) || rrpc_id.is_some_and(|x| !numeric(x)) {
            return Err(PlatformError::Uplink(format!(
                "reply id `{}` is not an Aliyun message id (digits, or digits@digits for a sync call)",
                r.to_id
            )));
        }
        let mut data = r.data.clone();
        let topic = match to {
            ReplyTo::Set => self.topics.service_reply("property/set"),
            ReplyTo::Get => self.topics.service_reply("property/get"),
            ReplyTo::Call => {
                let name = r.name.as_deref().ok_or_else(|| {
                    PlatformError::Uplink(format!(
                        "reply to call `{}` needs `name` (the service)",
                        r.to_id
                    ))
                })?;
                self.check_name("service", name)?;
                if let (Some(model), Some(Value::Object(d)), 200) = (&self.model, &data, r.code) {
                    data = Some(Value::Object(model.validate_service_output(name, d)?));
                }
                match rrpc_id {
                    Some(rrpc) => self.topics.rrpc_service(rrpc, name),
                    None => self.topics.service_reply(name),
                }
            }
        };
        let default_qos = if rrpc_id.is_some() { 0 } else { 1 };
        Ok(Publish {
            topic,
            payload: alink::reply(alink_id, r.code, data),
            qos: qos.unwrap_or(default_qos),
            expects_ack: false,
        })
    }

    fn timed(values: Values, time: Option<i64>) -> Values {
        match time {
            None => values,
            Some(t) => values
                .into_iter()
                .map(|(k, v)| (k, json!({"value": v, "time": t})))
                .collect(),
        }
    }
}

fn params_object(topic: &str, v: Value) -> Result<Values, PlatformError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Values::new()),
        _ => Err(PlatformError::Decode {
            topic: topic.to_owned(),
            reason: "`params` is not an object".into(),
        }),
    }
}

impl Platform for AliyunPlatform {
    fn cloud(&self) -> &'static str {
        "aliyun"
    }

    fn connect(&self, now_ms: i64) -> Result<MqttConnect, PlatformError> {
        let p = &self.profile;
        if let Some((cid, token)) = &self.token {
            let client_id = connwl_client_id(cid, &self.extras());
            return Ok(self.mqtt(Credentials {
                client_id: client_id.to_string(),
                username: crate::auth::username(&p.device_name, &p.product_key),
                password: token.clone(),
            }));
        }
        let ds = p.device_secret.as_ref().ok_or_else(|| {
            cfg(
                "device_secret",
                "not known yet: run dynamic registration (provision) first",
            )
        })?;
        let cid = self.device_client_id(now_ms);
        Ok(self.mqtt(device_credentials(
            &p.product_key,
            &p.device_name,
            ds,
            &cid,
            p.hex_case,
        )))
    }

    fn module_connect(&self) -> Result<ModuleConnect, PlatformError> {
        let p = &self.profile;
        let ds = p.device_secret.as_ref().ok_or_else(|| {
            cfg("device_secret", "module-side auth (aliauth) needs a device secret; dynamic registration is host-side only")
        })?;
        Ok(ModuleConnect {
            auth: ModuleAuth::Aliyun {
                product_key: p.product_key.clone(),
                device_name: p.device_name.clone(),
                device_secret: ds.clone(),
            },
            host: p.host(),
            port: p.port(),
            tls: p.tls,
            client_id: p.client_id.clone().unwrap_or_else(|| p.device_name.clone()),
            keepalive_s: p.keepalive_s,
        })
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        let mut topics = self.topics.downlink_filters();
        for t in &self.profile.subscribe {
            topics.push(if t.starts_with('/') {
                t.clone()
            } else {
                self.topics.user(t)
            });
        }
        for t in &self.profile.rrpc_topics {
            let full = if t.starts_with('/') {
                t.clone()
            } else {
                self.topics.user(t)
            };
            topics.push(format!("/ext/rrpc/+{full}"));
        }
        topics
            .into_iter()
            .map(|topic| Subscription { topic, qos: 1 })
            .collect()
    }

    fn encode(&self, up: &Uplink, msg_id: u32) -> Result<Publish, PlatformError> {
        let ack = self.profile.ack;
        match &up.body {
            UplinkBody::Properties(values) => {
                if values.is_empty() {
                    return Err(PlatformError::Uplink(
                        "a property report needs at least one property".into(),
                    ));
                }
                for k in values.keys() {
                    self.check_name("property", k)?;
                }
                let values = match &self.model {
                    Some(m) => m.validate_properties(values)?,
                    None => values.clone(),
                };
                let params = Value::Object(Self::timed(values, up.time));
                Ok(Publish {
                    topic: self.topics.property_post(),
                    payload: alink::request(msg_id, params, "thing.event.property.post", ack),
                    qos: up.qos_or(1),
                    expects_ack: ack,
                })
            }
            UplinkBody::Event { name, params } => {
                self.check_name("event", name)?;
                for k in params.keys() {
                    self.check_name("event parameter", k)?;
                }
                let params = match &self.model {
                    Some(m) => m.validate_event(name, params)?,
                    None => params.clone(),
                };
                let mut body = json!({ "value": params });
                if let Some(t) = up.time {
                    body["time"] = Value::from(t);
                }
                Ok(Publish {
                    topic: self.topics.event_post(name),
                    payload: alink::request(msg_id, body, &format!("thing.event.{name}.post"), ack),
                    qos: up.qos_or(1),
                    expects_ack: ack,
                })
            }
            UplinkBody::Reply(r) => self.encode_reply(r, up.qos),
            UplinkBody::Raw { topic, payload } => {
                check_publish_topic(&self.profile.product_key, &self.profile.device_name, topic)?;
                let system_rrpc = topic.starts_with(&self.topics.rrpc_response(""));
                if system_rrpc && up.qos == Some(1) {
                    return Err(PlatformError::Uplink(format!(
                        "topic `{topic}`: RRPC responses are QoS 0 only"
                    )));
                }
                Ok(Publish {
                    topic: topic.clone(),
                    payload: payload.to_bytes(),
                    qos: if system_rrpc { 0 } else { up.qos_or(1) },
                    expects_ack: false,
                })
            }
        }
    }

    /// `thing.event.property.batch.post`: `{"properties":{name:[{"value","time"},…]}}`, the
    /// values of each property in line order. Lines without a `time` are sent without one.
    fn encode_batch(&self, ups: &[Uplink], msg_id: u32) -> Result<Option<Publish>, PlatformError> {
        let qos = ups.first().map_or(1, |u| u.qos_or(1));
        let mut properties = serde_json::Map::new();
        for up in ups {
            let UplinkBody::Properties(values) = &up.body else {
                return Ok(None);
            };
            if up.qos_or(1) != qos || values.is_empty() {
                return Ok(None);
            }
            for k in values.keys() {
                self.check_name("property", k)?;
            }
            let values = match &self.model {
                Some(m) => m.validate_properties(values)?,
                None => values.clone(),
            };
            for (k, v) in values {
                let point = match up.time {
                    Some(t) => json!({"value": v, "time": t}),
                    None => json!({ "value": v }),
                };
                match properties
                    .entry(k)
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(points) => points.push(point),
                    _ => unreachable!("only arrays are inserted"),
                }
            }
        }
        let ack = self.profile.ack;
        let params = json!({ "properties": properties });
        Ok(Some(Publish {
            topic: self.topics.property_batch_post(),
            payload: alink::request(msg_id, params, "thing.event.property.batch.post", ack),
            qos,
            expects_ack: ack,
        }))
    }

    fn decode(&self, topic: &str, payload: &[u8]) -> Result<Option<Downlink>, PlatformError> {
        Ok(Some(match self.topics.classify(topic) {
            Incoming::PropertySet => {
                let r = alink::parse_request(topic, payload)?;
                Downlink::Set {
                    id: r.id,
                    values: params_object(topic, r.params)?,
                    service: None,
                }
            }
            Incoming::PropertyGet => {
                let r = alink::parse_request(topic, payload)?;
                let names = match r.params {
                    Value::Array(a) => a
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                Downlink::Get {
                    id: r.id,
                    names,
                    service: None,
                }
            }
            Incoming::Service { service } => {
                let r = alink::parse_request(topic, payload)?;
                Downlink::Call {
                    id: r.id,
                    name: service.to_owned(),
                    params: params_object(topic, r.params)?,
                    service: None,
                }
            }
            Incoming::SyncService { rrpc_id, service } => {
                let r = alink::parse_request(topic, payload)?;
                Downlink::Call {
                    id: format!("{}{RRPC_ID_SEPARATOR}{rrpc_id}", r.id),
                    name: service.to_owned(),
                    params: params_object(topic, r.params)?,
                    service: None,
                }
            }
            Incoming::PostReply { .. } => {
                let r = alink::parse_reply(topic, payload)?;
                let message = match (&r.message, r.code) {
                    (Some(m), _) => Some(m.clone()),
                    (None, 200) => None,
                    (None, c) => Some(alink::code_meaning(c).to_owned()),
                };
                Downlink::Ack {
                    id: r.id,
                    code: r.code,
                    message,
                    data: r.data,
                }
            }
            Incoming::NtpResponse => Downlink::Time(alink::parse_ntp_response(topic, payload)?),
            Incoming::OwnReply | Incoming::Registration => return Ok(None),
            Incoming::SystemRrpc { .. } | Incoming::Other => Downlink::Raw {
                topic: topic.to_owned(),
                payload: Payload::from_bytes(payload),
            },
        }))
    }

    fn time_request(&self, device_ms: i64, _msg_id: u32) -> Result<Publish, PlatformError> {
        Ok(Publish {
            topic: self.topics.ntp_request(),
            payload: alink::ntp_request(device_ms),
            qos: 0,
            expects_ack: false,
        })
    }

    fn verify_connect(
        &self,
        client_id: &str,
        username: &str,
        password: &[u8],
        _now_ms: i64,
    ) -> ConnectVerdict {
        let p = &self.profile;
        let dev = ServerDevice {
            product_key: &p.product_key,
            device_name: &p.device_name,
            device_secret: p.device_secret.as_ref(),
            product_secret: p.register.and(p.product_secret.as_ref()),
            token: self.token.as_ref().map(|(c, t)| (c.as_str(), t)),
        };
        verify_connect(&dev, client_id, username, password)
    }

    fn thing_model(&self) -> Option<&ThingModel> {
        self.model.as_ref()
    }

    fn provision(
        &self,
        _now_ms: i64,
        random: &str,
    ) -> Result<Option<ProvisionStep>, PlatformError> {
        let p = &self.profile;
        if p.device_secret.is_some() || self.token.is_some() {
            return Ok(None);
        }
        let (Some(ps), Some(mode)) = (&p.product_secret, p.register) else {
            return Err(cfg(
                "product_secret",
                "dynamic registration needs product_secret and register",
            ));
        };
        check_random(random)?;
        let cid = register_client_id(
            &p.product_key,
            &p.device_name,
            mode,
            random,
            p.register_securemode,
            p.sign_method,
            p.instance_id.as_deref(),
        );
        Ok(Some(ProvisionStep {
            connect: self.mqtt(dynreg_credentials(
                &p.product_key,
                &p.device_name,
                ps,
                &cid,
                p.hex_case,
            )),
            subscribe: Vec::new(),
            publish: Vec::new(),
        }))
    }

    fn provision_response(
        &self,
        topic: &str,
        payload: &[u8],
    ) -> Result<Option<Provisioned>, PlatformError> {
        let mut state = BTreeMap::new();
        match parse_register_reply(topic, payload)? {
            None => return Ok(None),
            Some(Registered::DeviceSecret(ds)) => {
                state.insert("device_secret".to_owned(), ds);
            }
            Some(Registered::Token {
                client_id,
                device_token,
            }) => {
                state.insert("client_id".to_owned(), Secret::new(client_id));
                state.insert("device_token".to_owned(), device_token);
            }
        }
        Ok(Some(Provisioned {
            state,
            publish: Vec::new(),
        }))
    }

    fn apply_provisioned(&mut self, p: &Provisioned) -> Result<(), PlatformError> {
        if let Some(ds) = p.state.get("device_secret") {
            if ds.is_empty() {
                return Err(cfg(
                    "device_secret",
                    "the provisioned device secret is empty",
                ));
            }
            self.profile.device_secret = Some(ds.clone());
            return Ok(());
        }
        match (p.state.get("client_id"), p.state.get("device_token")) {
            (Some(cid), Some(tok)) => {
                crate::topics::check_client_id(cid.expose()).or_else(|_| {
                    // Issued ids look like `{pk}.{dn}`; allow what the server gave, minus `|`.
                    if cid.expose().contains('|') || cid.is_empty() {
                        Err(cfg(
                            "client_id",
                            "the provisioned client id is empty or contains `|`",
                        ))
                    } else {
                        Ok(())
                    }
                })?;
                self.token = Some((cid.expose().to_owned(), tok.clone()));
                Ok(())
            }
            _ => Err(cfg(
                "provisioned",
                "needs `device_secret`, or `client_id` and `device_token`",
            )),
        }
    }
}
