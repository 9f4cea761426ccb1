//! [`HuaweiPlatform`]: the `thing-model` [`Platform`] for IoTDA.

use std::collections::BTreeMap;

use thing_model::{
    ConnectVerdict, ModuleAuth, ModuleConnect, MqttConnect, Platform, PlatformError, ProvisionStep,
    Provisioned, Publish, Subscription, ThingModel,
};

use crate::auth::{password, ClientId, Credentials, DeviceSecretAuth, HourStamp, IdType, SignType};
use crate::codes::KEEPALIVE_RANGE;
use crate::model::{ProductModel, ServiceMap};
use crate::provision::{bootstrap_request, BootstrapReply, ProductSecretAuth, RegistrationGroup};
use crate::topics::Topics;
use crate::{Error, Secret};

/// IoTDP bootstrap endpoint of cn-north-4 (MQTTS only).
pub const BOOTSTRAP_HOST: &str = "iot-bs.cn-north-4.myhuaweicloud.com";
/// MQTTS port.
pub const MQTTS_PORT: u16 = 8883;

/// How the device logs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// `hwauth`: device ID + device secret.
    Device(DeviceSecretAuth),
    /// `hwprodid`, legacy product secret; the device secret arrives on `secretNotify`.
    Product(ProductSecretAuth),
    /// IoTDP registration group; the bootstrap reply gives the IoTDA address.
    Group {
        /// The group.
        group: RegistrationGroup,
        /// The device ID this device chooses.
        device_id: String,
        /// Sign type for both logins.
        sign: SignType,
        /// `baseStrategyKeyword` for a static policy.
        keyword: Option<String>,
        /// Bootstrap host and port.
        bootstrap: (String, u16),
    },
}

/// Host, port and TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: u16,
    tls: bool,
}

/// The IoTDA platform for one device. Built with [`HuaweiPlatform::new`] and
/// the `with_*` methods.
#[derive(Clone, Debug)]
pub struct HuaweiPlatform {
    endpoint: Endpoint,
    keepalive_s: u16,
    login: Login,
    provisioned: Option<DeviceSecretAuth>,
    pub(crate) model: Option<ProductModel>,
    pub(crate) thing: Option<ThingModel>,
    pub(crate) map: ServiceMap,
    default_service: Option<String>,
    window_hours: i64,
}

fn config(field: &'static str, e: Error) -> PlatformError {
    PlatformError::Config {
        field,
        reason: e.to_string(),
    }
}

impl HuaweiPlatform {
    /// A platform for `login` at `host:port` (TLS when the port is 8883),
    /// keepalive 120 s, no product model.
    pub fn new(host: &str, port: u16, login: Login) -> Result<Self, PlatformError> {
        crate::error::check_text("host", host, 255).map_err(|e| config("host", e))?;
        Ok(Self {
            endpoint: Endpoint {
                host: host.into(),
                port,
                tls: port == MQTTS_PORT,
            },
            keepalive_s: 120,
            login,
            provisioned: None,
            model: None,
            thing: None,
            map: ServiceMap::default(),
            default_service: None,
            window_hours: 1,
        })
    }

    /// Overrides TLS.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.endpoint.tls = tls;
        self
    }

    /// Keepalive; IoTDA accepts 30..=1200 s.
    pub fn with_keepalive(mut self, seconds: u16) -> Result<Self, PlatformError> {
        if !KEEPALIVE_RANGE.contains(&seconds) {
            return Err(PlatformError::Config {
                field: "keepalive",
                reason: format!("{seconds} s is outside IoTDA's 30..=1200 s"),
            });
        }
        self.keepalive_s = seconds;
        Ok(self)
    }

    /// The product model used to validate values and to find each property's service.
    pub fn with_model(mut self, model: ProductModel) -> Self {
        self.thing = Some(model.to_thing_model());
        self.model = Some(model);
        self.rebuild_map();
        self
    }

    /// The service for properties the model does not place (or all, without a model).
    pub fn with_default_service(mut self, service_id: &str) -> Self {
        self.default_service = Some(service_id.into());
        self.rebuild_map();
        self
    }

    /// How far (in hours) a sign-type-1 timestamp may be from the server's
    /// hour in [`Platform::verify_connect`]. IoTDA documents no window; default 1.
    pub fn with_timestamp_window(mut self, hours: i64) -> Self {
        self.window_hours = hours.max(0);
        self
    }

    fn rebuild_map(&mut self) {
        self.map = ServiceMap::new(self.thing.as_ref(), self.default_service.as_deref());
    }

    /// The login.
    pub fn login(&self) -> &Login {
        &self.login
    }

    /// The device ID used in `$oc/devices/{id}/…` topics.
    pub fn device_id(&self) -> String {
        if let Some(p) = &self.provisioned {
            return p.device_id().into();
        }
        match &self.login {
            Login::Device(d) => d.device_id().into(),
            Login::Product(p) => p.default_device_id(),
            Login::Group { device_id, .. } => device_id.clone(),
        }
    }

    /// This device's topics.
    pub fn topics(&self) -> Topics {
        Topics::new(&self.device_id())
    }

    fn mqtt(&self, endpoint: &Endpoint, c: Credentials) -> MqttConnect {
        MqttConnect {
            host: endpoint.host.clone(),
            port: endpoint.port,
            tls: endpoint.tls,
            client_id: c.client_id,
            username: c.username,
            password: c.password,
            keepalive_s: self.keepalive_s,
            clean_session: true,
        }
    }

    fn device_login(&self) -> Option<&DeviceSecretAuth> {
        match (&self.login, &self.provisioned) {
            (_, Some(p)) => Some(p),
            (Login::Device(d), None) => Some(d),
            _ => None,
        }
    }

    fn verify(&self, client_id: &str, username: &str, pw: &[u8], now_ms: i64) -> ConnectVerdict {
        let parsed = match ClientId::parse(client_id) {
            Ok(p) => p,
            Err(e) => {
                return ConnectVerdict::Refuse {
                    code: ConnectVerdict::IDENTIFIER_REJECTED,
                    reason: e.to_string(),
                }
            }
        };
        if parsed.sign_type == SignType::TimestampCheck {
            let Ok(now) = HourStamp::from_unix_ms(now_ms) else {
                return ConnectVerdict::not_authorized("server time out of range");
            };
            let off = (parsed.timestamp.start() - now.start()).num_hours();
            if off.abs() > self.window_hours {
                return ConnectVerdict::bad_credentials(format!(
                    "timestamp {} is {off} h from the platform's hour {now}; \
                     sign type 1 allows {} h",
                    parsed.timestamp, self.window_hours
                ));
            }
        }
        let secret: Option<Secret> = match (parsed.id_type, &parsed.scope_id, &self.login) {
            (IdType::Bridge, _, _) => {
                return ConnectVerdict::not_authorized("bridge logins are not supported")
            }
            (IdType::ProductSecret, _, Login::Product(p)) => {
                let expected = p.default_device_id();
                if parsed.device_id != expected || username != p.product_id() {
                    return ConnectVerdict::bad_credentials(format!(
                        "product login must use client ID {expected}_1_… and username {}",
                        p.product_id()
                    ));
                }
                Some(p.product_secret().clone())
            }
            (
                IdType::DeviceId,
                Some(scope),
                Login::Group {
                    group, device_id, ..
                },
            ) => {
                if scope != group.scope_id() || &parsed.device_id != device_id {
                    return ConnectVerdict::not_authorized(format!(
                        "no registration group {scope:?} for device {:?}",
                        parsed.device_id
                    ));
                }
                group.device_secret(device_id).ok()
            }
            (IdType::DeviceId, None, _) => self
                .device_login()
                .filter(|d| d.device_id() == parsed.device_id)
                .map(|d| d.secret().clone()),
            _ => None,
        };
        let Some(secret) = secret else {
            return ConnectVerdict::bad_credentials(format!(
                "unknown device or login mode for client ID {client_id:?}"
            ));
        };
        if parsed.id_type == IdType::DeviceId && username != parsed.device_id {
            return ConnectVerdict::bad_credentials("username must equal the device ID");
        }
        let expected = password(
            parsed.sign_type,
            &parsed.timestamp.to_string(),
            secret.expose(),
        );
        if ct_eq(expected.expose().as_bytes(), pw) {
            ConnectVerdict::Accept
        } else {
            ConnectVerdict::bad_credentials("password does not match")
        }
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hour(now_ms: i64) -> Result<HourStamp, PlatformError> {
    HourStamp::from_unix_ms(now_ms).map_err(|e| config("now_ms", e))
}

fn state_get<'a>(state: &'a Provisioned, key: &'static str) -> Result<&'a str, PlatformError> {
    state
        .state
        .get(key)
        .map(Secret::expose)
        .ok_or_else(|| PlatformError::Config {
            field: key,
            reason: "missing from the provisioned state".into(),
        })
}

impl Platform for HuaweiPlatform {
    fn cloud(&self) -> &'static str {
        "huawei"
    }

    fn connect(&self, now_ms: i64) -> Result<MqttConnect, PlatformError> {
        let at = hour(now_ms)?;
        match self.device_login() {
            Some(d) => Ok(self.mqtt(&self.endpoint, d.credentials(at))),
            None => Err(PlatformError::Config {
                field: "provisioning",
                reason: "no device secret yet: run provisioning first (hwprodid: secretNotify; \
                         registration group: bootstrap)"
                    .into(),
            }),
        }
    }

    fn module_connect(&self) -> Result<ModuleConnect, PlatformError> {
        let auth = match (&self.login, self.device_login()) {
            (_, Some(d)) => ModuleAuth::HuaweiDevice {
                device_id: d.device_id().into(),
                secret: d.secret().clone(),
                time_check: d.sign_type() == SignType::TimestampCheck,
            },
            (Login::Product(p), None) => ModuleAuth::HuaweiProduct {
                product_id: p.product_id().into(),
                product_secret: p.product_secret().clone(),
                node_id: p.node_id().into(),
            },
            _ => {
                return Err(PlatformError::NotSupported(
                    "module-side login for an IoTDP registration group (no AT+QMTCFG mode); \
                     use host-side credentials"
                        .into(),
                ))
            }
        };
        Ok(ModuleConnect {
            auth,
            host: self.endpoint.host.clone(),
            port: self.endpoint.port,
            tls: self.endpoint.tls,
            client_id: self.device_id(),
            keepalive_s: self.keepalive_s,
        })
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        self.topics()
            .subscriptions()
            .into_iter()
            .map(|topic| Subscription { topic, qos: 1 })
            .collect()
    }

    fn encode(&self, uplink: &thing_model::Uplink, msg_id: u32) -> Result<Publish, PlatformError> {
        self.encode_uplink(uplink, msg_id)
    }

    fn encode_batch(
        &self,
        uplinks: &[thing_model::Uplink],
        _msg_id: u32,
    ) -> Result<Option<Publish>, PlatformError> {
        self.encode_properties_batch(uplinks)
    }

    fn decode(
        &self,
        topic: &str,
        payload: &[u8],
    ) -> Result<Option<thing_model::Downlink>, PlatformError> {
        self.decode_downlink(topic, payload)
    }

    fn time_request(&self, device_ms: i64, _msg_id: u32) -> Result<Publish, PlatformError> {
        Ok(Publish {
            topic: self.topics().events_up(),
            payload: crate::payload::to_json(&crate::payload::Events::time_sync_request(device_ms)),
            qos: 0,
            expects_ack: false,
        })
    }

    fn verify_connect(
        &self,
        client_id: &str,
        username: &str,
        password: &[u8],
        now_ms: i64,
    ) -> ConnectVerdict {
        self.verify(client_id, username, password, now_ms)
    }

    fn thing_model(&self) -> Option<&ThingModel> {
        self.thing.as_ref()
    }

    fn provision(
        &self,
        now_ms: i64,
        _random: &str,
    ) -> Result<Option<ProvisionStep>, PlatformError> {
        if self.provisioned.is_some() {
            return Ok(None);
        }
        let at = hour(now_ms)?;
        match &self.login {
            Login::Device(_) => Ok(None),
            Login::Product(p) => Ok(Some(ProvisionStep {
                connect: self.mqtt(&self.endpoint, p.credentials(at)),
                subscribe: vec![Subscription {
                    topic: p.secret_notify_topic(),
                    qos: 1,
                }],
                publish: Vec::new(),
            })),
            Login::Group {
                group,
                device_id,
                sign,
                keyword,
                bootstrap,
            } => {
                let creds = group
                    .credentials(device_id, *sign, at)
                    .map_err(|e| config("device_id", e))?;
                let endpoint = Endpoint {
                    host: bootstrap.0.clone(),
                    port: bootstrap.1,
                    tls: true,
                };
                let topics = Topics::new(device_id);
                Ok(Some(ProvisionStep {
                    connect: self.mqtt(&endpoint, creds),
                    subscribe: vec![Subscription {
                        topic: topics.bootstrap_down(),
                        qos: 1,
                    }],
                    publish: vec![Publish {
                        topic: topics.bootstrap_up(),
                        payload: bootstrap_request(keyword.as_deref()),
                        qos: 1,
                        expects_ack: false,
                    }],
                }))
            }
        }
    }

    fn provision_response(
        &self,
        topic: &str,
        payload: &[u8],
    ) -> Result<Option<Provisioned>, PlatformError> {
        let decode = |e: Error| PlatformError::Decode {
            topic: topic.into(),
            reason: e.to_string(),
        };
        let mut state = BTreeMap::new();
        match &self.login {
            Login::Product(p) if topic == p.secret_notify_topic() => {
                let d = p.accept_secret_notify(payload).map_err(decode)?;
                state.insert("device_id".to_owned(), Secret::new(d.device_id()));
                state.insert("device_secret".to_owned(), d.secret().clone());
                Ok(Some(Provisioned {
                    state,
                    publish: vec![Publish {
                        topic: p.secret_ack_topic(),
                        payload: Vec::new(),
                        qos: 1,
                        expects_ack: false,
                    }],
                }))
            }
            Login::Group {
                group,
                device_id,
                sign,
                ..
            } if topic == Topics::new(device_id).bootstrap_down() => {
                let reply = BootstrapReply::parse(payload).map_err(decode)?;
                if let BootstrapReply::Failed { code, message } = &reply {
                    return Err(PlatformError::Cloud {
                        code: code.parse().unwrap_or(-1),
                        message: message.clone(),
                    });
                }
                let BootstrapReply::Assigned { host, port, .. } = &reply else {
                    unreachable!("Failed returned above");
                };
                let d = group
                    .device_auth(device_id, &reply, *sign)
                    .map_err(decode)?;
                state.insert("device_id".to_owned(), Secret::new(device_id.as_str()));
                state.insert("device_secret".to_owned(), d.secret().clone());
                state.insert("host".to_owned(), Secret::new(host.as_str()));
                state.insert("port".to_owned(), Secret::new(port.to_string()));
                Ok(Some(Provisioned {
                    state,
                    publish: Vec::new(),
                }))
            }
            Login::Device(_) => Err(PlatformError::Decode {
                topic: topic.into(),
                reason: "a device-secret login has no provisioning".into(),
            }),
            _ => Ok(None),
        }
    }

    fn apply_provisioned(&mut self, state: &Provisioned) -> Result<(), PlatformError> {
        let sign = match &self.login {
            Login::Device(_) => {
                return Err(PlatformError::NotSupported(
                    "provisioning with a device-secret login".into(),
                ))
            }
            Login::Product(p) => p.sign_type(),
            Login::Group { sign, .. } => *sign,
        };
        let device_id = state_get(state, "device_id")?;
        let secret = Secret::new(state_get(state, "device_secret")?);
        let auth =
            DeviceSecretAuth::new(device_id, secret, sign).map_err(|e| config("device_id", e))?;
        if let Login::Group { .. } = &self.login {
            let host = state_get(state, "host")?;
            let port =
                state_get(state, "port")?
                    .parse::<u16>()
                    .map_err(|_| PlatformError::Config {
                        field: "port",
                        reason: "the provisioned port is not 0..=65535".into(),
                    })?;
            self.endpoint = Endpoint {
                host: host.into(),
                port,
                tls: port == MQTTS_PORT,
            };
        }
        self.provisioned = Some(auth);
        Ok(())
    }
}
