//! [`thing_model::Platform`] for OneNET.
//!
//! ```
//! use cloud_onenet::{connect::DeviceConfig, token::AccessKey, OneNet};
//! use thing_model::{Downlink, Platform, Uplink};
//!
//! let key = AccessKey::from_base64("Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=")?;
//! let onenet = OneNet::new(DeviceConfig::new("Aw9oB4n7zB", "dev-001", key)?)?;
//!
//! // The emulator side accepts what the device side computes.
//! let c = onenet.connect(1_700_000_000_000).unwrap();
//! assert!(onenet.verify_connect(&c.client_id, &c.username, c.password.expose().as_bytes(), 1_700_000_000_000).is_accept());
//!
//! let values = serde_json::json!({"temp": 23.6}).as_object().unwrap().clone();
//! let p = onenet.encode(&Uplink::properties(values), 7).unwrap();
//! assert_eq!(p.topic, "$sys/Aw9oB4n7zB/dev-001/thing/property/post");
//!
//! let ack = onenet.decode("$sys/Aw9oB4n7zB/dev-001/thing/property/post/reply", br#"{"id":"7","code":200,"msg":"success"}"#).unwrap();
//! assert!(matches!(ack, Some(Downlink::Ack { ref id, code: 200, .. }) if id == "7"));
//! # Ok::<(), cloud_onenet::Error>(())
//! ```

use serde_json::Value;
use thing_model::{
    ConnectVerdict, Downlink, ModuleAuth, ModuleConnect, MqttConnect, Payload, Platform,
    PlatformError, Provisioned, Publish, ReplyTo, Secret, Subscription, ThingModel, Uplink,
    UplinkBody,
};

use crate::codes::{AccessCode, ServiceCode};
use crate::connect::{AuthLevel, DeviceConfig, KeyScope};
use crate::error::Error;
use crate::onejson::{self, MessageId};
use crate::token::{AccessKey, Resource, Token, TokenVersion};
use crate::topics::{Incoming, Topics};

impl From<Error> for PlatformError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidConfig { field, reason } => PlatformError::Config { field, reason },
            Error::InvalidName { field, reason } => PlatformError::Config { field, reason },
            Error::InvalidKey(reason) => PlatformError::Config {
                field: "access_key",
                reason,
            },
            Error::Expired { .. } => PlatformError::Config {
                field: "expiry",
                reason: e.to_string(),
            },
            Error::NotImplemented(what) => PlatformError::NotImplemented(what.into()),
            Error::Platform { code, .. } => PlatformError::Cloud {
                code,
                message: e.to_string(),
            },
            Error::UnknownTopic { topic, reason }
            | Error::BadPayload {
                context: topic,
                reason,
            } => PlatformError::Decode { topic, reason },
            other => PlatformError::Uplink(other.to_string()),
        }
    }
}

/// OneNET as a [`Platform`]: one device, an optional thing model.
#[derive(Debug, Clone)]
pub struct OneNet {
    config: DeviceConfig,
    topics: Topics,
    model: Option<ThingModel>,
}

impl OneNet {
    /// Validates `config` (names, keep-alive, endpoint, key scope) and builds
    /// the platform.
    pub fn new(config: DeviceConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            topics: Topics::new(&config.product_id, &config.device_name)?,
            config,
            model: None,
        })
    }

    /// Adds a thing model: uplinks and downlinks are then validated against it.
    pub fn with_model(mut self, model: ThingModel) -> Self {
        self.model = Some(model);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// The topics of this device.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    fn now_secs(now_ms: i64) -> Result<u64, PlatformError> {
        u64::try_from(now_ms.div_euclid(1000)).map_err(|_| PlatformError::Config {
            field: "now_ms",
            reason: format!("{now_ms} is before 1970"),
        })
    }

    fn check(
        &self,
        code: AccessCode,
        ok: bool,
        detail: impl FnOnce() -> String,
    ) -> Result<(), ConnectVerdict> {
        if ok {
            Ok(())
        } else {
            Err(ConnectVerdict::Refuse {
                code: code.connack_code(),
                reason: format!("{code}: {}", detail()),
            })
        }
    }

    fn verify(
        &self,
        client_id: &str,
        username: &str,
        password: &[u8],
        now: u64,
    ) -> Result<(), ConnectVerdict> {
        let refuse = |e: Error| match e {
            Error::Refused { code, detail } => ConnectVerdict::Refuse {
                code: code.connack_code(),
                reason: format!("{code}: {detail}"),
            },
            other => ConnectVerdict::bad_credentials(other.to_string()),
        };
        self.check(
            AccessCode::InvalidArgument,
            !client_id.is_empty() && !username.is_empty() && !password.is_empty(),
            || "client id, username and password must all be present".into(),
        )?;
        let text = std::str::from_utf8(password).map_err(|_| {
            ConnectVerdict::bad_credentials(format!(
                "{}: password is not UTF-8",
                AccessCode::InvalidToken
            ))
        })?;
        let token = Token::parse(text).map_err(refuse)?;
        let spec = token.spec();
        self.check(
            AccessCode::InvalidVersion,
            spec.version == TokenVersion::V2018_10_31,
            || {
                format!(
                    "MQTT login needs version 2018-10-31, not {}",
                    spec.version.as_str()
                )
            },
        )?;
        let res_pid = spec.res.product_id().unwrap_or_default();
        self.check(
            AccessCode::ArgumentNotMatchToken,
            res_pid == username,
            || format!("username {username:?} is not the product id in res"),
        )?;
        if let Some(dn) = spec.res.device_name() {
            self.check(AccessCode::ArgumentNotMatchToken, dn == client_id, || {
                format!("client id {client_id:?} is not the device name in res")
            })?;
        }
        self.check(
            AccessCode::DeviceNotFound,
            username == self.config.product_id && client_id == self.config.device_name,
            || format!("no device {client_id:?} in product {username:?}"),
        )?;
        let product_res = matches!(spec.res, Resource::Product { .. });
        self.check(
            AccessCode::SeckeyNotFound,
            !product_res || self.config.key_scope == KeyScope::Product,
            || {
                "a product-level res needs the product access key, and only a device key is known"
                    .into()
            },
        )?;
        token.verify(&self.config.access_key, now).map_err(refuse)
    }

    fn encode_reply(
        &self,
        r: &thing_model::Reply,
    ) -> Result<(String, Option<Value>), PlatformError> {
        let data = match (&self.model, &r.data, r.to) {
            (Some(m), Some(Value::Object(d)), Some(ReplyTo::Get)) => {
                Some(Value::Object(m.validate_properties(d)?))
            }
            (Some(m), Some(Value::Object(d)), Some(ReplyTo::Call)) => {
                let name = r.name.as_deref().unwrap_or_default();
                Some(Value::Object(m.validate_service_output(name, d)?))
            }
            (_, d, _) => d.clone(),
        };
        let topic = match r.to {
            Some(ReplyTo::Set) => self.topics.property_set_reply(),
            Some(ReplyTo::Get) => self.topics.property_get_reply(),
            Some(ReplyTo::Call) => {
                let name = r.name.as_deref().ok_or_else(|| {
                    PlatformError::Uplink("a reply to a `call` needs `name` (the service identifier)".into())
                })?;
                self.topics.service_invoke_reply(name)?
            }
            None => {
                return Err(PlatformError::Uplink(
                    "a OneNET reply needs `to` (set, get or call) to pick set_reply, get_reply or invoke_reply".into(),
                ))
            }
        };
        Ok((topic, data))
    }
}

fn qos(uplink: &Uplink, default: u8) -> Result<u8, PlatformError> {
    match uplink.qos_or(default) {
        q @ (0 | 1) => Ok(q),
        q => Err(PlatformError::Uplink(format!(
            "qos {q}: OneNET accepts only QoS 0 and 1"
        ))),
    }
}

impl Platform for OneNet {
    fn cloud(&self) -> &'static str {
        "onenet"
    }

    fn connect(&self, now_ms: i64) -> Result<MqttConnect, PlatformError> {
        let p = self.config.connect_params(Self::now_secs(now_ms)?)?;
        Ok(MqttConnect {
            host: p.host,
            port: p.port,
            tls: p.tls,
            client_id: p.client_id,
            username: p.username,
            password: Secret::new(p.password.expose()),
            keepalive_s: p.keepalive_secs,
            clean_session: true,
        })
    }

    fn module_connect(&self) -> Result<ModuleConnect, PlatformError> {
        self.config.validate()?;
        Ok(ModuleConnect {
            auth: ModuleAuth::OneNet {
                product_id: self.config.product_id.clone(),
                access_key: Secret::new(self.config.access_key.to_base64()),
            },
            host: self.config.endpoint.host.clone(),
            port: self.config.endpoint.port,
            tls: self.config.endpoint.tls,
            client_id: self.config.device_name.clone(),
            keepalive_s: self.config.keepalive_secs,
        })
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        // OneNET grants QoS 0 to every subscription.
        self.topics
            .subscriptions()
            .into_iter()
            .map(|topic| Subscription { topic, qos: 0 })
            .collect()
    }

    fn encode(&self, uplink: &Uplink, msg_id: u32) -> Result<Publish, PlatformError> {
        let id = MessageId::from_number(u64::from(msg_id))?;
        match &uplink.body {
            UplinkBody::Properties(values) => {
                let values = match &self.model {
                    Some(m) => m.validate_properties(values)?,
                    None => values.clone(),
                };
                Ok(Publish {
                    topic: self.topics.property_post(),
                    payload: onejson::property_post(&id, &values, uplink.time)?.into_bytes(),
                    qos: qos(uplink, 1)?,
                    expects_ack: true,
                })
            }
            UplinkBody::Event { name, params } => {
                let params = match &self.model {
                    Some(m) => m.validate_event(name, params)?,
                    None => params.clone(),
                };
                Ok(Publish {
                    topic: self.topics.event_post(),
                    payload: onejson::event_post(&id, name, &params, uplink.time)?.into_bytes(),
                    qos: qos(uplink, 1)?,
                    expects_ack: true,
                })
            }
            UplinkBody::Reply(r) => {
                let (topic, data) = self.encode_reply(r)?;
                Ok(Publish {
                    topic,
                    payload: onejson::reply(&r.to_id, r.code, r.message.as_deref(), data.as_ref())
                        .into_bytes(),
                    qos: qos(uplink, 0)?,
                    expects_ack: false,
                })
            }
            UplinkBody::Raw { topic, payload } => {
                if topic.is_empty() || topic.contains(['+', '#', '\0']) {
                    return Err(PlatformError::Uplink(format!(
                        "topic {topic:?}: a publish topic must be non-empty without + # or NUL"
                    )));
                }
                Ok(Publish {
                    topic: topic.clone(),
                    payload: payload.to_bytes(),
                    qos: qos(uplink, 1)?,
                    expects_ack: false,
                })
            }
        }
    }

    /// `pack/post` of this device: consecutive lines share an entry until a property repeats
    /// (each point keeps its line's `time`). `None` past the pack's limits (10 entries, 100
    /// points each).
    fn encode_batch(&self, ups: &[Uplink], msg_id: u32) -> Result<Option<Publish>, PlatformError> {
        let first_qos = match ups.first() {
            Some(u) => qos(u, 1)?,
            None => return Ok(None),
        };
        let mut entries: Vec<onejson::PackEntry> = Vec::new();
        for up in ups {
            let UplinkBody::Properties(values) = &up.body else {
                return Ok(None);
            };
            if qos(up, 1)? != first_qos {
                return Ok(None);
            }
            let values = match &self.model {
                Some(m) => m.validate_properties(values)?,
                None => values.clone(),
            };
            let fits = entries.last().is_some_and(|e| {
                e.properties.len() + values.len() <= onejson::MAX_PACK_POINTS
                    && !e.properties.iter().any(|(k, _, _)| values.contains_key(k))
            });
            if !fits {
                entries.push(onejson::PackEntry::default());
            }
            let entry = entries.last_mut().expect("an entry was pushed");
            entry
                .properties
                .extend(values.into_iter().map(|(k, v)| (k, v, up.time)));
        }
        if entries.len() > onejson::MAX_PACK_ENTRIES {
            return Ok(None);
        }
        let id = MessageId::from_number(u64::from(msg_id))?;
        Ok(Some(Publish {
            topic: self.topics.pack_post(),
            payload: onejson::pack_post(&id, &entries)?.into_bytes(),
            qos: first_qos,
            expects_ack: true,
        }))
    }

    fn decode(&self, topic: &str, payload: &[u8]) -> Result<Option<Downlink>, PlatformError> {
        let kind = match self.topics.classify(topic) {
            Ok(k) => k,
            Err(_) => {
                return Ok(Some(Downlink::Raw {
                    topic: topic.to_owned(),
                    payload: Payload::from_bytes(payload),
                }))
            }
        };
        let ctx = |e: Error| -> PlatformError {
            match PlatformError::from(e) {
                PlatformError::Decode { reason, .. } => PlatformError::Decode {
                    topic: topic.to_owned(),
                    reason,
                },
                other => other,
            }
        };
        Ok(Some(match kind {
            Incoming::PropertyPostReply
            | Incoming::EventPostReply
            | Incoming::PackPostReply
            | Incoming::HistoryPostReply
            | Incoming::DesiredGetReply
            | Incoming::DesiredDeleteReply => {
                let r = onejson::decode_reply(payload).map_err(ctx)?;
                let status = r.status();
                let message = r
                    .msg
                    .clone()
                    .or_else(|| (!status.is_success()).then(|| status.description().to_owned()));
                Downlink::Ack {
                    id: r.id,
                    code: r.code,
                    message,
                    data: r.data,
                }
            }
            Incoming::PropertySet => {
                let (id, values) = onejson::decode_property_set(payload).map_err(ctx)?;
                let values = match &self.model {
                    Some(m) => m.validate_set(&values)?,
                    None => values,
                };
                Downlink::Set {
                    id,
                    values,
                    service: None,
                }
            }
            Incoming::PropertyGet => {
                let (id, names) = onejson::decode_property_get(payload).map_err(ctx)?;
                Downlink::Get {
                    id,
                    names,
                    service: None,
                }
            }
            Incoming::ServiceInvoke(name) => {
                let (id, params) = onejson::decode_service_invoke(payload).map_err(ctx)?;
                let params = match &self.model {
                    Some(m) => m.validate_service_input(&name, &params)?,
                    None => params,
                };
                Downlink::Call {
                    id,
                    name,
                    params,
                    service: None,
                }
            }
            Incoming::LegacyCommand(_)
            | Incoming::LegacyDpAccepted
            | Incoming::LegacyDpRejected => Downlink::Raw {
                topic: topic.to_owned(),
                payload: Payload::from_bytes(payload),
            },
        }))
    }

    fn time_request(&self, _device_ms: i64, _msg_id: u32) -> Result<Publish, PlatformError> {
        Err(PlatformError::NotSupported(
            "OneNET's MQTT thing-model protocol has no time-sync topic".into(),
        ))
    }

    fn verify_connect(
        &self,
        client_id: &str,
        username: &str,
        password: &[u8],
        now_ms: i64,
    ) -> ConnectVerdict {
        let now = match Self::now_secs(now_ms) {
            Ok(n) => n,
            Err(e) => return ConnectVerdict::not_authorized(e.to_string()),
        };
        match self.verify(client_id, username, password, now) {
            Ok(()) => ConnectVerdict::Accept,
            Err(v) => v,
        }
    }

    fn thing_model(&self) -> Option<&ThingModel> {
        self.model.as_ref()
    }

    /// Adopts a device key obtained elsewhere (state key `access_key`,
    /// base64): the device then logs in with device-level credentials.
    fn apply_provisioned(&mut self, state: &Provisioned) -> Result<(), PlatformError> {
        let key = state
            .state
            .get("access_key")
            .ok_or_else(|| PlatformError::Config {
                field: "access_key",
                reason: "provisioned state has no `access_key`".into(),
            })?;
        self.config.access_key = AccessKey::from_base64(key.expose())?;
        self.config.key_scope = KeyScope::Device;
        self.config.auth_level = AuthLevel::Device;
        Ok(())
    }
}

impl OneNet {
    /// The reply a device should send when it cannot accept a downlink
    /// (e.g. [`Platform::decode`] refused its values): OneNET's `set_reply` /
    /// `invoke_reply` with code 302 (data type error) or 309 (identifier not
    /// exist) and the reason as `msg`. `None` for topics that take no reply or
    /// payloads without an id.
    pub fn refusal(&self, topic: &str, payload: &[u8], err: &PlatformError) -> Option<Publish> {
        let reply_topic = match self.topics.classify(topic).ok()? {
            Incoming::PropertySet => self.topics.property_set_reply(),
            Incoming::PropertyGet => self.topics.property_get_reply(),
            Incoming::ServiceInvoke(name) => self.topics.service_invoke_reply(&name).ok()?,
            _ => return None,
        };
        let id = onejson::decode_request("refusal", payload).ok()?.id;
        let code = match err {
            PlatformError::Validation(v) if v.rule == thing_model::Rule::Unknown => {
                ServiceCode::IdentifierNotExist
            }
            PlatformError::Validation(_) => ServiceCode::DataType,
            _ => ServiceCode::BadRequest,
        };
        Some(Publish {
            topic: reply_topic,
            payload: onejson::reply(&id, code.code(), Some(&err.to_string()), None).into_bytes(),
            qos: 0,
            expects_ack: false,
        })
    }
}
