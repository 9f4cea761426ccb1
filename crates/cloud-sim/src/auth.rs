//! Checking a CONNECT as the chosen cloud does: find the device by the cloud's rules, then
//! let the cloud crate verify the credentials. Nothing is signed here.

use cloud_huawei::auth::{DeviceSecretAuth, IdType};
use cloud_huawei::provision::{ProductSecretAuth, RegistrationGroup};
use cloud_huawei::{HuaweiPlatform, Login};
use cloud_onenet::token::{AccessKey, Resource, Token};
use thing_model::{ConnectVerdict, Platform, Secret};

use crate::mqtt::Connect;
use crate::registry::{Cloud, Registry};

/// Keep-alive range Aliyun accepts, seconds (doc 73742).
pub const ALIYUN_KEEPALIVE: std::ops::RangeInclusive<u16> = 30..=1200;

/// The CONNACK code for a keep-alive outside the cloud's range. Huawei documents 2;
/// Aliyun and OneNET say "refused" without a code, and 2 is assumed.
pub const KEEPALIVE_REFUSED: u8 = 2;

/// Aliyun dynamic registration modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterMode {
    /// `authType=register`: a pre-registered device gets its DeviceSecret.
    Register,
    /// `authType=regnwl`: registration-free, gets a clientId and deviceToken.
    Regnwl,
}

/// A provisioning session the front runs itself instead of forwarding to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provision {
    /// Aliyun MQTT dynamic registration: push `/ext/register` or `/ext/regnwl`.
    AliyunRegister {
        /// ProductKey.
        product: String,
        /// DeviceName.
        name: String,
        /// Mode.
        mode: RegisterMode,
    },
    /// Huawei legacy product-secret login: push `secretNotify`, wait for `secretACK`.
    HuaweiSecret {
        /// Product id.
        product: String,
        /// Node id.
        node: String,
    },
    /// Huawei IoTDP registration group: answer `bootstrap/up` on `bootstrap/down`.
    HuaweiBootstrap {
        /// Device id chosen by the device.
        device_id: String,
        /// Scope id.
        scope_id: String,
    },
}

/// What to do with a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer CONNACK `code` and close.
    Refuse {
        /// CONNACK return code.
        code: u8,
        /// Why (no secrets).
        reason: String,
        /// The device, if it was identified.
        device: Option<String>,
    },
    /// Accepted: carry the connection to the broker.
    Forward {
        /// Device key.
        device: String,
        /// Set when the login registered the device (OneNET product-level token).
        registered: bool,
    },
    /// Accepted: run a provisioning session in the front.
    Session {
        /// Device key (or the would-be device).
        device: String,
        /// Which flow.
        flow: Provision,
    },
}

fn refuse(code: u8, reason: impl Into<String>, device: Option<String>) -> Decision {
    Decision::Refuse {
        code,
        reason: reason.into(),
        device,
    }
}

fn from_verdict(v: ConnectVerdict, device: &str, ok: Decision) -> Decision {
    match v {
        ConnectVerdict::Accept => ok,
        ConnectVerdict::Refuse { code, reason } => refuse(code, reason, Some(device.to_owned())),
    }
}

fn keepalive(c: &Connect, range: std::ops::RangeInclusive<u16>, cloud: &str) -> Option<Decision> {
    (!range.contains(&c.keep_alive)).then(|| {
        refuse(
            KEEPALIVE_REFUSED,
            format!(
                "keep-alive {} s is outside {cloud}'s {}..={} s",
                c.keep_alive,
                range.start(),
                range.end()
            ),
            None,
        )
    })
}

/// Decides on `c` at `now_ms` for `cloud` with the devices in `reg`.
pub fn check(cloud: Cloud, reg: &Registry, c: &Connect, now_ms: i64) -> Decision {
    match cloud {
        Cloud::Aliyun => aliyun(reg, c),
        Cloud::Onenet => onenet(reg, c, now_ms),
        Cloud::Huawei => huawei(reg, c, now_ms),
    }
}

fn aliyun(reg: &Registry, c: &Connect) -> Decision {
    let user = c.username.as_deref().unwrap_or("");
    let password = c.password.as_deref().unwrap_or(&[]);
    let Some((dn, pk)) = user.split_once('&') else {
        return refuse(
            4,
            format!("user name `{user}` is not deviceName&productKey"),
            None,
        );
    };
    let key = format!("{pk}/{dn}");
    let Some(product) = reg.products.get(pk) else {
        return refuse(4, format!("no product `{pk}`"), Some(key));
    };
    let auth_type = cloud_aliyun::auth::ClientId::parse(&c.client_id)
        .ok()
        .and_then(|cid| cid.get("authType").map(str::to_owned));
    let mode = match auth_type.as_deref() {
        Some("register") => Some(RegisterMode::Register),
        Some("regnwl") => Some(RegisterMode::Regnwl),
        _ => None,
    };
    // The registration login does not check the keep-alive (doc 132111).
    if mode.is_none() {
        if let Some(d) = keepalive(c, ALIYUN_KEEPALIVE, "Aliyun") {
            return d;
        }
    }
    let dev = reg.device(pk, dn);
    if dev.is_none() && mode != Some(RegisterMode::Regnwl) {
        return refuse(
            4,
            format!("device `{dn}` of product `{pk}` is not registered"),
            Some(key),
        );
    }
    let product_secret = product
        .secret
        .as_ref()
        .filter(|_| product.dynamic_registration);
    let server = cloud_aliyun::auth::ServerDevice {
        product_key: pk,
        device_name: dn,
        device_secret: dev.and_then(|d| d.secret.as_ref()),
        product_secret,
        token: dev
            .and_then(|d| d.token.as_ref())
            .map(|(cid, t)| (cid.as_str(), t)),
    };
    let verdict = cloud_aliyun::auth::verify_connect(&server, &c.client_id, user, password);
    let ok = match mode {
        Some(mode) => Decision::Session {
            device: key.clone(),
            flow: Provision::AliyunRegister {
                product: pk.into(),
                name: dn.into(),
                mode,
            },
        },
        None => Decision::Forward {
            device: key.clone(),
            registered: false,
        },
    };
    from_verdict(verdict, &key, ok)
}

fn onenet_refusal(e: cloud_onenet::Error, device: &str) -> Decision {
    match e {
        cloud_onenet::Error::Refused { code, detail } => refuse(
            code.connack_code(),
            format!("{code}: {detail}"),
            Some(device.to_owned()),
        ),
        other => refuse(4, other.to_string(), Some(device.to_owned())),
    }
}

fn onenet(reg: &Registry, c: &Connect, now_ms: i64) -> Decision {
    if let Some(d) = keepalive(c, cloud_onenet::connect::KEEPALIVE_RANGE, "OneNET") {
        return d;
    }
    let (pid, dn) = (c.username.as_deref().unwrap_or(""), c.client_id.as_str());
    let key = format!("{pid}/{dn}");
    let password = c.password.as_deref().unwrap_or(&[]);
    if pid.is_empty() || dn.is_empty() || password.is_empty() {
        return refuse(
            4,
            "1101 invalid argument: empty client id, user name or password",
            Some(key),
        );
    }
    let token = match std::str::from_utf8(password).map_err(|_| "not UTF-8") {
        Ok(t) => match Token::parse(t) {
            Ok(t) => t,
            Err(e) => return onenet_refusal(e, &key),
        },
        Err(why) => {
            return refuse(
                4,
                format!("1103 invalid token: password is {why}"),
                Some(key),
            )
        }
    };
    let res = &token.spec().res;
    let product_level = matches!(res, Resource::Product { .. });
    if res.product_id() != Some(pid) || (!product_level && res.device_name() != Some(dn)) {
        return refuse(
            4,
            "1114 argument not match with token: client id / user name differ from res",
            Some(key),
        );
    }
    let product = reg.products.get(pid);
    let device = reg.device(pid, dn);
    if device.is_none() && !(product_level && product.is_some_and(|p| p.dynamic_registration)) {
        return refuse(
            4,
            format!("1107 device not found: `{dn}` in product `{pid}`"),
            Some(key),
        );
    }
    // A device-level token may be signed with the device key or the product key; a
    // product-level token only with the product key.
    let device_key = device
        .and_then(|d| d.secret.as_ref())
        .filter(|_| !product_level);
    let keys: Vec<&Secret> = device_key
        .into_iter()
        .chain(product.and_then(|p| p.secret.as_ref()))
        .collect();
    if keys.is_empty() {
        return refuse(4, "1105 seckey not found", Some(key));
    }
    let now_s = u64::try_from(now_ms.max(0) / 1000).unwrap_or(0);
    let mut last = None;
    for k in keys {
        let verdict = AccessKey::from_base64(k.expose()).and_then(|k| token.verify(&k, now_s));
        match verdict {
            Ok(()) => {
                return Decision::Forward {
                    device: key,
                    registered: device.is_none(),
                }
            }
            Err(e) => last = Some(e),
        }
    }
    onenet_refusal(last.expect("at least one key was tried"), &key)
}

fn huawei(reg: &Registry, c: &Connect, now_ms: i64) -> Decision {
    if let Some(d) = keepalive(c, cloud_huawei::codes::KEEPALIVE_RANGE, "IoTDA") {
        return d;
    }
    let user = c.username.as_deref().unwrap_or("");
    let password = c.password.as_deref().unwrap_or(&[]);
    let parsed = match cloud_huawei::auth::ClientId::parse(&c.client_id) {
        Ok(p) => p,
        Err(e) => return refuse(ConnectVerdict::IDENTIFIER_REJECTED, e.to_string(), None),
    };
    let id = parsed.device_id.clone();
    let config = |e: cloud_huawei::Error| refuse(4, e.to_string(), Some(id.clone()));
    let (login, ok) = match (parsed.id_type, parsed.scope_id.clone()) {
        (IdType::DeviceId, None) => {
            let Some(dev) = reg.device_by_id(&id) else {
                return refuse(4, format!("no device `{id}`"), Some(id));
            };
            let Some(secret) = dev.secret.clone() else {
                return refuse(5, format!("device `{id}` has no secret yet"), Some(id));
            };
            match DeviceSecretAuth::new(&id, secret, parsed.sign_type) {
                Ok(a) => (
                    Login::Device(a),
                    Decision::Forward {
                        device: id.clone(),
                        registered: false,
                    },
                ),
                Err(e) => return config(e),
            }
        }
        (IdType::ProductSecret, _) => {
            let Some(product) = reg.products.get(user) else {
                return refuse(4, format!("no product `{user}`"), Some(id));
            };
            let Some(secret) = product.secret.clone() else {
                return refuse(
                    5,
                    format!("product `{user}` has no product secret"),
                    Some(id),
                );
            };
            let Some(node) = id.strip_prefix(&format!("{user}_")) else {
                return refuse(
                    4,
                    format!("client id must start with `{user}_` (product id)"),
                    Some(id),
                );
            };
            if reg.device(user, node).is_none() && !product.dynamic_registration {
                return refuse(
                    5,
                    format!("node `{node}` is not registered and dynamic registration is off"),
                    Some(id),
                );
            }
            match ProductSecretAuth::new(user, node, secret, parsed.sign_type) {
                Ok(a) => (
                    Login::Product(a),
                    Decision::Session {
                        device: id.clone(),
                        flow: Provision::HuaweiSecret {
                            product: user.into(),
                            node: node.into(),
                        },
                    },
                ),
                Err(e) => return config(e),
            }
        }
        (IdType::DeviceId, Some(scope)) => {
            let Some(g) = reg.groups.iter().find(|g| g.scope_id == scope) else {
                return refuse(5, format!("no registration group `{scope}`"), Some(id));
            };
            let group = match RegistrationGroup::new(&scope, &g.secret) {
                Ok(g) => g,
                Err(e) => return config(e),
            };
            (
                Login::Group {
                    group,
                    device_id: id.clone(),
                    sign: parsed.sign_type,
                    keyword: None,
                    bootstrap: ("127.0.0.1".into(), 8883),
                },
                Decision::Session {
                    device: id.clone(),
                    flow: Provision::HuaweiBootstrap {
                        device_id: id.clone(),
                        scope_id: scope,
                    },
                },
            )
        }
        (IdType::Bridge, _) => return refuse(5, "bridge logins are not emulated", Some(id)),
    };
    match HuaweiPlatform::new("127.0.0.1", 1883, login) {
        Ok(p) => from_verdict(
            p.verify_connect(&c.client_id, user, password, now_ms),
            &id,
            ok,
        ),
        Err(e) => refuse(4, e.to_string(), Some(id)),
    }
}
