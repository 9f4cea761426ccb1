//! The [`Platform`] trait each cloud crate implements, and the values it exchanges with the
//! agent. No I/O and no AT commands here: the agent turns these into `AT+QMT*`.

use std::collections::BTreeMap;

use crate::line::LineError;
use crate::message::{Downlink, Uplink};
use crate::model::ThingModel;
use crate::secret::Secret;
use crate::validate::{NameError, ValidationError};

/// MQTT CONNECT parameters computed on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttConnect {
    /// Broker host name.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Use TLS.
    pub tls: bool,
    /// CONNECT client identifier.
    pub client_id: String,
    /// CONNECT user name.
    pub username: String,
    /// CONNECT password (masked in `Debug`).
    pub password: Secret,
    /// Keep-alive, seconds.
    pub keepalive_s: u16,
    /// Clean session flag.
    pub clean_session: bool,
}

/// Module-side authentication: what `AT+QMTCFG` gets instead of a host-computed password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleAuth {
    /// `AT+QMTCFG="aliauth",<idx>,"<pk>","<dn>","<ds>"`.
    Aliyun {
        /// ProductKey.
        product_key: String,
        /// DeviceName.
        device_name: String,
        /// DeviceSecret.
        device_secret: Secret,
    },
    /// `AT+QMTCFG="onenet",<idx>,"<pid>","<access key>"`.
    OneNet {
        /// Product id.
        product_id: String,
        /// Access key (product or device).
        access_key: Secret,
    },
    /// `AT+QMTCFG="hwauth",<idx>,"<device id>","<secret>"`.
    HuaweiDevice {
        /// Device id.
        device_id: String,
        /// Device secret.
        secret: Secret,
        /// Whether the timestamp is checked (sign type 1).
        time_check: bool,
    },
    /// `AT+QMTCFG="hwprodid",<idx>,"<pid>","<product secret>","<node id>"`.
    HuaweiProduct {
        /// Product id.
        product_id: String,
        /// Product secret.
        product_secret: Secret,
        /// Node id.
        node_id: String,
    },
}

/// Everything the agent needs to connect with module-side authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleConnect {
    /// The `AT+QMTCFG` auth option.
    pub auth: ModuleAuth,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Use TLS.
    pub tls: bool,
    /// Client id for `AT+QMTCONN=<idx>,"<client id>"`.
    pub client_id: String,
    /// Keep-alive, seconds.
    pub keepalive_s: u16,
}

/// A topic filter to subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Topic filter (may contain `+` / `#`).
    pub topic: String,
    /// Requested QoS.
    pub qos: u8,
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// QoS (0 or 1).
    pub qos: u8,
    /// True if the cloud will answer with a reply the crate decodes as [`Downlink::Ack`]
    /// carrying the `msg_id` given to [`Platform::encode`].
    pub expects_ack: bool,
}

/// Result of checking a CONNECT on the server side (the cloud emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectVerdict {
    /// CONNACK 0.
    Accept,
    /// Refused with a CONNACK return code and a reason (never containing secrets).
    Refuse {
        /// CONNACK code: 2 identifier rejected, 4 bad user name or password, 5 not authorised.
        code: u8,
        /// Why.
        reason: String,
    },
}

impl ConnectVerdict {
    /// CONNACK 2, identifier rejected.
    pub const IDENTIFIER_REJECTED: u8 = 2;
    /// CONNACK 4, bad user name or password.
    pub const BAD_CREDENTIALS: u8 = 4;
    /// CONNACK 5, not authorised.
    pub const NOT_AUTHORIZED: u8 = 5;

    /// Refusal with code 4.
    pub fn bad_credentials(reason: impl Into<String>) -> Self {
        ConnectVerdict::Refuse {
            code: Self::BAD_CREDENTIALS,
            reason: reason.into(),
        }
    }

    /// Refusal with code 5.
    pub fn not_authorized(reason: impl Into<String>) -> Self {
        ConnectVerdict::Refuse {
            code: Self::NOT_AUTHORIZED,
            reason: reason.into(),
        }
    }

    /// True for [`ConnectVerdict::Accept`].
    pub fn is_accept(&self) -> bool {
        matches!(self, ConnectVerdict::Accept)
    }
}

/// One provisioning (dynamic registration / bootstrap) exchange: connect with these
/// credentials, subscribe, publish, then feed every received message to
/// [`Platform::provision_response`] until it returns a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionStep {
    /// How to connect for registration.
    pub connect: MqttConnect,
    /// Topics to subscribe to (may be empty when the server pushes unsolicited).
    pub subscribe: Vec<Subscription>,
    /// Messages to publish after connecting (may be empty).
    pub publish: Vec<Publish>,
}

/// What provisioning produced: state to persist (opaque keys → secret values) and messages to
/// publish before disconnecting. Give `state` back to [`Platform::apply_provisioned`] after a
/// restart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provisioned {
    /// State to persist, e.g. `device_secret`, or `client_id` + `device_token`.
    pub state: BTreeMap<String, Secret>,
    /// Messages to publish before disconnecting (acks).
    pub publish: Vec<Publish>,
}

/// Errors of a [`Platform`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlatformError {
    /// A profile field is missing or wrong.
    #[error("profile field `{field}`: {reason}")]
    Config {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A name the cloud would refuse.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A value the thing model refuses.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// An app line that cannot be parsed.
    #[error(transparent)]
    Line(#[from] LineError),
    /// An uplink this cloud cannot express as given.
    #[error("uplink: {0}")]
    Uplink(String),
    /// A received message that cannot be decoded.
    #[error("cannot decode a message on `{topic}`: {reason}")]
    Decode {
        /// Topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// The cloud answered with an error.
    #[error("cloud error {code}: {message}")]
    Cloud {
        /// Cloud code.
        code: i64,
        /// Meaning.
        message: String,
    },
    /// Something this cloud does not have.
    #[error("not supported by this cloud: {0}")]
    NotSupported(String),
    /// Not implemented yet.
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

/// A cloud. Object-safe: the agent holds a `Box<dyn Platform>` built from the profile.
///
/// All methods are pure: times (`now_ms`, ms since the Unix epoch, UTC) and randomness are
/// inputs.
pub trait Platform: Send + Sync {
    /// Short cloud name: `aliyun`, `onenet`, `huawei`.
    fn cloud(&self) -> &'static str;

    /// CONNECT parameters computed on the host for the time `now_ms`.
    fn connect(&self, now_ms: i64) -> Result<MqttConnect, PlatformError>;

    /// The module-side alternative (`AT+QMTCFG` auth). `NotSupported` if the cloud or the
    /// profile has none.
    fn module_connect(&self) -> Result<ModuleConnect, PlatformError>;

    /// Topic filters to subscribe to after connecting.
    fn subscriptions(&self) -> Vec<Subscription>;

    /// Turns an uplink into a publish. `msg_id` is the wire message id the agent allocated
    /// (unique per device and day); acks come back as [`Downlink::Ack`] with this id.
    fn encode(&self, uplink: &Uplink, msg_id: u32) -> Result<Publish, PlatformError>;

    /// Several property reports in one publish, where the cloud has a message for that
    /// (Aliyun `thing.event.property.batch.post`, OneNET `pack/post`, Huawei several services
    /// in one `properties/report`). Every uplink was accepted by [`Platform::encode`] on its
    /// own; `msg_id` as there: the cloud answers the whole batch with one ack.
    ///
    /// `Ok(None)`: this cloud (or this mix of uplinks, e.g. one that is not a property report
    /// or asks for another QoS) has no batch form; the caller publishes them one by one. The
    /// default has none. The caller checks the module's 1500-byte payload limit.
    fn encode_batch(
        &self,
        _uplinks: &[Uplink],
        _msg_id: u32,
    ) -> Result<Option<Publish>, PlatformError> {
        Ok(None)
    }

    /// Turns a received message into a downlink. `Ok(None)`: handled, nothing for the app.
    /// Topics the crate does not model come back as [`Downlink::Raw`].
    fn decode(&self, topic: &str, payload: &[u8]) -> Result<Option<Downlink>, PlatformError>;

    /// A time-sync request sent at device time `device_ms`; the answer decodes to
    /// [`Downlink::Time`]. `NotSupported` if the cloud has none.
    fn time_request(&self, device_ms: i64, msg_id: u32) -> Result<Publish, PlatformError>;

    /// Server side: would the cloud accept this CONNECT at `now_ms`?
    fn verify_connect(
        &self,
        client_id: &str,
        username: &str,
        password: &[u8],
        now_ms: i64,
    ) -> ConnectVerdict;

    /// The thing model loaded from the profile, if any.
    fn thing_model(&self) -> Option<&ThingModel>;

    /// Provisioning needed before [`Platform::connect`] works (dynamic registration,
    /// bootstrap); `None` when the device already has its credentials. `random` is a fresh
    /// random token (ASCII alphanumerics) from the caller.
    fn provision(
        &self,
        _now_ms: i64,
        _random: &str,
    ) -> Result<Option<ProvisionStep>, PlatformError> {
        Ok(None)
    }

    /// Feeds a message received during provisioning. `Ok(None)`: not the answer, keep waiting.
    fn provision_response(
        &self,
        topic: &str,
        _payload: &[u8],
    ) -> Result<Option<Provisioned>, PlatformError> {
        Err(PlatformError::Decode {
            topic: topic.to_owned(),
            reason: "this platform has no provisioning".into(),
        })
    }

    /// Adopts provisioned state (fresh, or persisted from an earlier run).
    fn apply_provisioned(&mut self, _state: &Provisioned) -> Result<(), PlatformError> {
        Err(PlatformError::NotSupported("provisioning".into()))
    }
}
