//! `hwprodid`: one secret for many devices. Two mechanisms, both implemented:
//!
//! * [`ProductSecretAuth`] — the legacy OceanConnect "one product type one
//!   password" login that Quectel's `hwprodid` parameters (product ID, product
//!   secret, node ID) match: client ID `{product_id}_{node_id}_1_{sign}_{ts}`,
//!   username = product ID. The platform sends the device secret on
//!   `/huawei/v1/products/{pid}/sn/{node}/secretNotify`; the device stores it,
//!   publishes an empty QoS 1 message to `…/secretACK`, and logs in with
//!   [`DeviceSecretAuth`] from then on. **Only LiteOS agent_tiny implements it;
//!   today's IoTDA v5 documents no product-secret CONNECT, and acceptance is
//!   unverified.**
//! * [`RegistrationGroup`] — the IoTDP (device provisioning) registration group:
//!   the current, documented way. Device secret = `hex(HMAC-SHA256(key =
//!   device_id, msg = base64_decode(group_secret)))`; client ID
//!   `{device_id}_0_{scope_id}_{sign}_{ts}`; then the bootstrap topics hand out
//!   the IoTDA address ([`BootstrapReply`]).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::auth::{hmac_sha256, password, Credentials, DeviceSecretAuth, HourStamp, SignType};
use crate::error::{check_ident, Error, Result};
use crate::Secret;

/// Longest product ID IoTDA assigns.
pub const PRODUCT_ID_MAX: usize = 36;
/// Longest node ID (设备标识码) IoTDA accepts.
pub const NODE_ID_MAX: usize = 64;
/// Longest scope ID we accept (IoTDP documents none; examples are 12 hex chars).
pub const SCOPE_ID_MAX: usize = 64;

/// Legacy product-secret login (Quectel `hwprodid`, LiteOS `MQTT_DYNAMIC_CONNECT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductSecretAuth {
    product_id: String,
    node_id: String,
    product_secret: Secret,
    sign_type: SignType,
}

impl ProductSecretAuth {
    /// Checks product ID (1..=36) and node ID (1..=64) of `[A-Za-z0-9_-]`, and a
    /// non-empty product secret. [`SignType::Sm3`] is refused: the legacy flow
    /// only knew HMAC-SHA256.
    pub fn new(
        product_id: &str,
        node_id: &str,
        product_secret: Secret,
        sign_type: SignType,
    ) -> Result<Self> {
        check_ident("product_id", product_id, PRODUCT_ID_MAX)?;
        check_ident("node_id", node_id, NODE_ID_MAX)?;
        crate::error::require_secret("product_secret", &product_secret)?;
        if sign_type == SignType::Sm3 {
            return Err(Error::Invalid {
                field: "sign_type",
                reason: "the product-secret login supports only 0 and 1".into(),
            });
        }
        Ok(Self {
            product_id: product_id.into(),
            node_id: node_id.into(),
            product_secret,
            sign_type,
        })
    }

    /// The product ID.
    pub fn product_id(&self) -> &str {
        &self.product_id
    }

    /// The node ID.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The product secret.
    pub fn product_secret(&self) -> &Secret {
        &self.product_secret
    }

    /// The sign type.
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }

    /// The device ID IoTDA assigns by default: `{product_id}_{node_id}`.
    pub fn default_device_id(&self) -> String {
        format!("{}_{}", self.product_id, self.node_id)
    }

    /// The product-mode CONNECT credentials for the hour `at`.
    pub fn credentials(&self, at: HourStamp) -> Credentials {
        let ts = at.to_string();
        Credentials {
            client_id: format!(
                "{}_{}_1_{}_{ts}",
                self.product_id,
                self.node_id,
                self.sign_type.digit()
            ),
            username: self.product_id.clone(),
            password: password(self.sign_type, &ts, self.product_secret.expose()),
        }
    }

    /// `/huawei/v1/products/{product_id}/sn/{node_id}/secretNotify` (subscribe, QoS 1).
    pub fn secret_notify_topic(&self) -> String {
        format!(
            "/huawei/v1/products/{}/sn/{}/secretNotify",
            self.product_id, self.node_id
        )
    }

    /// `/huawei/v1/products/{product_id}/sn/{node_id}/secretACK` (publish an
    /// empty payload, QoS 1, after storing the secret).
    pub fn secret_ack_topic(&self) -> String {
        format!(
            "/huawei/v1/products/{}/sn/{}/secretACK",
            self.product_id, self.node_id
        )
    }

    /// Parses the `secretNotify` payload and returns the device identity to
    /// store and use for every later login (with this login's sign type).
    pub fn accept_secret_notify(&self, payload: &[u8]) -> Result<DeviceSecretAuth> {
        let notify = SecretNotify::parse(payload)?;
        DeviceSecretAuth::new(&notify.device_id, notify.secret, self.sign_type)
    }
}

/// Legacy OceanConnect v1 data topics used after the `secretNotify` flow:
/// `(/huawei/v1/devices/{id}/data/json, /huawei/v1/devices/{id}/command/json)`
/// (uplink, downlink). Only [`ProductSecretAuth`] users on the old platform need them.
pub fn legacy_v1_topics(device_id: &str) -> (String, String) {
    (
        format!("/huawei/v1/devices/{device_id}/data/json"),
        format!("/huawei/v1/devices/{device_id}/command/json"),
    )
}

/// The platform's `secretNotify` message:
/// `{"msgType":"cloudSendSecret","deviceid":"…","secret":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretNotify {
    /// The device ID to log in with from now on.
    pub device_id: String,
    /// The device secret.
    pub secret: Secret,
}

impl SecretNotify {
    /// Parses and checks `msgType == "cloudSendSecret"`.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "msgType")]
            msg_type: String,
            deviceid: String,
            secret: String,
        }
        let raw: Raw = serde_json::from_slice(payload).map_err(|source| Error::Json {
            what: "secretNotify payload",
            source,
        })?;
        if raw.msg_type != "cloudSendSecret" {
            return Err(Error::Invalid {
                field: "msgType",
                reason: format!("expected \"cloudSendSecret\", got {:?}", raw.msg_type),
            });
        }
        let secret = Secret::new(raw.secret);
        crate::error::require_secret("secret", &secret)?;
        Ok(Self {
            device_id: raw.deviceid,
            secret,
        })
    }

    /// The JSON the platform sends (for simulators and tests).
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::json!({
            "msgType": "cloudSendSecret",
            "deviceid": self.device_id,
            "secret": self.secret.expose(),
        })
        .to_string()
        .into_bytes()
    }
}

/// An IoTDP registration group (注册组): scope ID plus base64 group secret.
/// `Debug` shows the scope ID only.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationGroup {
    scope_id: String,
    group_secret: Vec<u8>,
}

impl std::fmt::Debug for RegistrationGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationGroup")
            .field("scope_id", &self.scope_id)
            .field("group_secret", &"***")
            .finish()
    }
}

impl RegistrationGroup {
    /// `group_secret_base64` is the secret exactly as the IoTDP console shows it.
    pub fn new(scope_id: &str, group_secret_base64: &Secret) -> Result<Self> {
        check_ident("scope_id", scope_id, SCOPE_ID_MAX)?;
        crate::error::require_secret("group_secret", group_secret_base64)?;
        let group_secret = base64::engine::general_purpose::STANDARD
            .decode(group_secret_base64.expose().trim())
            .map_err(|_| Error::Invalid {
                field: "group_secret",
                reason: "is not valid standard base64".into(),
            })?;
        Ok(Self {
            scope_id: scope_id.into(),
            group_secret,
        })
    }

    /// The scope ID.
    pub fn scope_id(&self) -> &str {
        &self.scope_id
    }

    /// The device's own secret: `hex(HMAC-SHA256(key = device_id, msg = decoded group secret))`.
    pub fn device_secret(&self, device_id: &str) -> Result<Secret> {
        check_ident("device_id", device_id, crate::auth::DEVICE_ID_MAX)?;
        Ok(Secret::new(hex::encode(hmac_sha256(
            device_id.as_bytes(),
            &self.group_secret,
        ))))
    }

    /// Bootstrap CONNECT credentials: client ID `{device_id}_0_{scope_id}_{sign}_{ts}`,
    /// username = device ID, password = HMAC-SHA256(key = ts, msg = derived secret hex).
    /// (The Python SDK always writes sign `0` here; Java and C write the real one, as we do.)
    pub fn credentials(
        &self,
        device_id: &str,
        sign: SignType,
        at: HourStamp,
    ) -> Result<Credentials> {
        let derived = self.device_secret(device_id)?;
        let ts = at.to_string();
        Ok(Credentials {
            client_id: format!("{device_id}_0_{}_{}_{ts}", self.scope_id, sign.digit()),
            username: device_id.into(),
            password: password(sign, &ts, derived.expose()),
        })
    }

    /// The identity for the IoTDA login after a successful bootstrap: the
    /// `deviceSecret` from the reply when present, else the derived secret.
    pub fn device_auth(
        &self,
        device_id: &str,
        reply: &BootstrapReply,
        sign: SignType,
    ) -> Result<DeviceSecretAuth> {
        let secret = match reply {
            BootstrapReply::Assigned {
                device_secret: Some(secret),
                ..
            } => secret.clone(),
            BootstrapReply::Assigned { .. } => self.device_secret(device_id)?,
            BootstrapReply::Failed { code, message } => {
                return Err(Error::Invalid {
                    field: "bootstrap",
                    reason: format!("the platform refused: {code} {message}"),
                })
            }
        };
        DeviceSecretAuth::new(device_id, secret, sign)
    }
}

/// `$oc/devices/{device_id}/sys/bootstrap/up` payload: empty, or
/// `{"baseStrategyKeyword":"…"}` for a static policy.
pub fn bootstrap_request(keyword: Option<&str>) -> Vec<u8> {
    match keyword {
        None => Vec::new(),
        Some(k) => serde_json::json!({ "baseStrategyKeyword": k })
            .to_string()
            .into_bytes(),
    }
}

/// What arrives on `$oc/devices/{device_id}/sys/bootstrap/down`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootstrapReply {
    /// `{"address":"host:port","initConfig":"…"[,"deviceSecret":"…"]}`.
    Assigned {
        /// IoTDA host.
        host: String,
        /// IoTDA port.
        port: u16,
        /// `initConfig`, a JSON string, kept as given.
        init_config: Option<String>,
        /// `deviceSecret` (read by the Python SDK; not in the IoTDP tables).
        device_secret: Option<Secret>,
    },
    /// `{"errorCode":"100414","errorMsg":"…"}`.
    Failed {
        /// `errorCode`.
        code: String,
        /// `errorMsg`.
        message: String,
    },
}

impl BootstrapReply {
    /// Parses a bootstrap/down payload.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        #[derive(Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            address: Option<String>,
            init_config: Option<serde_json::Value>,
            device_secret: Option<String>,
            error_code: Option<serde_json::Value>,
            error_msg: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(payload).map_err(|source| Error::Json {
            what: "bootstrap/down payload",
            source,
        })?;
        if let Some(code) = raw.error_code {
            let code = match code {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            return Ok(Self::Failed {
                code,
                message: raw.error_msg.unwrap_or_default(),
            });
        }
        let address = raw.address.ok_or(Error::Empty { field: "address" })?;
        let (host, port) = address.rsplit_once(':').ok_or_else(|| Error::Invalid {
            field: "address",
            reason: format!("{address:?} is not host:port"),
        })?;
        let port = port.parse::<u16>().map_err(|_| Error::Invalid {
            field: "address",
            reason: format!("{address:?}: the port must be 0..=65535"),
        })?;
        if host.is_empty() {
            return Err(Error::Empty {
                field: "address host",
            });
        }
        Ok(Self::Assigned {
            host: host.into(),
            port,
            init_config: raw.init_config.map(|v| match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            device_secret: raw.device_secret.map(Secret::new),
        })
    }
}
