//! Builds the cloud's [`Platform`] from a [`Profile`], loading the thing model.

use std::path::Path;

use thing_model::{Platform, PlatformError, Secret};

use crate::profile::{CloudKind, Profile, ProfileError};

/// The default Huawei IoTDA MQTT host (cn-north-4 shared instance).
pub const HUAWEI_DEFAULT_HOST: &str = "iot-mqtts.cn-north-4.myhuaweicloud.com";

/// Maps a cloud crate's field name onto the profile's dotted path.
fn field_path(cloud: &str, field: &str) -> String {
    match field {
        "host" | "port" | "tls" => format!("cloud.{field}"),
        "keepalive" | "keepalive_s" | "keepalive_secs" => "cloud.keepalive".into(),
        "now_ms" => "--at".into(),
        "lifetime" => "cloud.onenet.token_ttl".into(),
        "et" => "cloud.onenet.expires_at".into(),
        f => format!("cloud.{cloud}.{f}"),
    }
}

fn from_platform(cloud: &str, e: PlatformError) -> ProfileError {
    match e {
        PlatformError::Config { field, reason } => {
            ProfileError::new(field_path(cloud, field), reason)
        }
        PlatformError::Name(n) => ProfileError::new(format!("cloud.{cloud}"), n.to_string()),
        other => ProfileError::new(format!("cloud.{cloud}"), other.to_string()),
    }
}

fn required<'a, T>(v: &'a Option<T>, field: &str) -> Result<&'a T, ProfileError> {
    v.as_ref()
        .ok_or_else(|| ProfileError::new(field, "is missing"))
}

fn read_model(profile: &Profile) -> Result<Option<(std::path::PathBuf, String)>, ProfileError> {
    let Some(file) = &profile.thing_model.file else {
        return Ok(None);
    };
    let path = profile.resolve(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ProfileError::new(
            "thing_model.file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    Ok(Some((path, text)))
}

/// Builds the platform for the profile (with its thing model, if any).
pub fn build_platform(profile: &Profile) -> Result<Box<dyn Platform>, ProfileError> {
    match profile.cloud.platform {
        CloudKind::Aliyun => aliyun(profile),
        CloudKind::Onenet => onenet(profile),
        CloudKind::Huawei => huawei(profile),
    }
}

fn aliyun(p: &Profile) -> Result<Box<dyn Platform>, ProfileError> {
    use cloud_aliyun::auth::SignMethod;
    use cloud_aliyun::dynreg::RegisterMode;
    let a = p.cloud.aliyun.as_ref().expect("validated");
    let pk = required(&a.product_key, "cloud.aliyun.product_key")?;
    let dn = required(&a.device_name, "cloud.aliyun.device_name")?;
    let mut ap = cloud_aliyun::AliyunProfile::new(pk, dn, a.device_secret.clone());
    ap.product_secret = a.product_secret.clone();
    if let Some(m) = &a.sign_method {
        ap.sign_method = match m.as_str() {
            "hmacsha256" => SignMethod::HmacSha256,
            "hmacsha1" => SignMethod::HmacSha1,
            "hmacmd5" => SignMethod::HmacMd5,
            other => {
                return Err(ProfileError::new(
                    "cloud.aliyun.sign_method",
                    format!("`{other}` is not one of hmacsha256, hmacsha1, hmacmd5"),
                ))
            }
        };
    }
    if let Some(r) = &a.register {
        ap.register = Some(match r.as_str() {
            "register" => RegisterMode::Register,
            "regnwl" => RegisterMode::Regnwl,
            other => {
                return Err(ProfileError::new(
                    "cloud.aliyun.register",
                    format!("`{other}` is not one of register, regnwl"),
                ))
            }
        });
    }
    if let Some(r) = &a.region {
        ap.region = r.clone();
    }
    if let Some(ack) = a.ack {
        ap.ack = ack;
    }
    ap.instance_id = a.instance_id.clone();
    ap.client_id = a.client_id.clone();
    ap.host = p.cloud.host.clone();
    ap.port = p.cloud.port;
    ap.tls = p.cloud.tls;
    ap.keepalive_s = p.cloud.keepalive;
    ap.check().map_err(|e| from_platform("aliyun", e))?;
    let mut platform =
        cloud_aliyun::AliyunPlatform::new(ap).map_err(|e| from_platform("aliyun", e))?;
    if let Some((path, text)) = read_model(p)? {
        let model = cloud_aliyun::tsl::load_tsl(&text).map_err(|e| {
            ProfileError::new("thing_model.file", format!("{}: {e}", path.display()))
        })?;
        platform = platform.with_thing_model(model);
    }
    Ok(Box::new(platform))
}

fn onenet(p: &Profile) -> Result<Box<dyn Platform>, ProfileError> {
    use cloud_onenet::connect::{DeviceConfig, Endpoint, KeyScope};
    use cloud_onenet::token::{AccessKey, Expiry, SignMethod};
    let o = p.cloud.onenet.as_ref().expect("validated");
    let pid = required(&o.product_id, "cloud.onenet.product_id")?;
    let dn = required(&o.device_name, "cloud.onenet.device_name")?;
    let key: &Secret = required(&o.access_key, "cloud.onenet.access_key")?;
    let key = AccessKey::from_base64(key.expose())
        .map_err(|e| ProfileError::new("cloud.onenet.access_key", e.to_string()))?;
    let err = |e: cloud_onenet::Error| from_platform("onenet", e.into());
    let mut c = DeviceConfig::new(pid, dn, key).map_err(err)?;
    c.key_scope = match o.key_level.as_deref().unwrap_or("device") {
        "device" => KeyScope::Device,
        "product" => KeyScope::Product,
        other => {
            return Err(ProfileError::new(
                "cloud.onenet.key_level",
                format!("`{other}` is not one of device, product"),
            ))
        }
    };
    c.method = match o.method.as_deref().unwrap_or("sha256") {
        "sha256" => SignMethod::Sha256,
        "sha1" => SignMethod::Sha1,
        "md5" => SignMethod::Md5,
        other => {
            return Err(ProfileError::new(
                "cloud.onenet.method",
                format!("`{other}` is not one of sha256, sha1, md5"),
            ))
        }
    };
    c.expiry = match (o.expires_at, o.token_ttl) {
        (Some(_), Some(_)) => {
            return Err(ProfileError::new(
                "cloud.onenet.expires_at",
                "give either expires_at or token_ttl, not both",
            ))
        }
        (Some(at), None) => Expiry::At(at),
        (None, Some(0)) => {
            return Err(ProfileError::new(
                "cloud.onenet.token_ttl",
                "must be at least 1 s",
            ))
        }
        (None, Some(ttl)) => Expiry::Lifetime(ttl),
        (None, None) => c.expiry,
    };
    let mut ep = if p.cloud.tls {
        Endpoint::tls()
    } else {
        Endpoint::plain()
    };
    if let Some(h) = &p.cloud.host {
        ep.host = h.clone();
    }
    if let Some(port) = p.cloud.port {
        ep.port = port;
    }
    c.endpoint = ep;
    c.keepalive_secs = p.cloud.keepalive;
    let mut platform = cloud_onenet::OneNet::new(c).map_err(err)?;
    if let Some((path, text)) = read_model(p)? {
        let model = cloud_onenet::model::load_export(&text).map_err(|e| {
            ProfileError::new("thing_model.file", format!("{}: {e}", path.display()))
        })?;
        platform = platform.with_model(model);
    }
    Ok(Box::new(platform))
}

fn huawei(p: &Profile) -> Result<Box<dyn Platform>, ProfileError> {
    use cloud_huawei::auth::{DeviceSecretAuth, SignType};
    use cloud_huawei::provision::ProductSecretAuth;
    use cloud_huawei::{HuaweiPlatform, Login};
    let h = p.cloud.huawei.as_ref().expect("validated");
    let sign = match h.sign_type {
        0 => SignType::NoTimestampCheck,
        1 => SignType::TimestampCheck,
        other => {
            return Err(ProfileError::new(
                "cloud.huawei.sign_type",
                format!("{other} is not 0 or 1"),
            ))
        }
    };
    let err = |e: cloud_huawei::Error| ProfileError::new("cloud.huawei", e.to_string());
    let login = match (&h.device_id, &h.product_id) {
        (Some(id), _) => {
            let secret = required(&h.secret, "cloud.huawei.secret")?;
            Login::Device(DeviceSecretAuth::new(id, secret.clone(), sign).map_err(err)?)
        }
        (None, Some(pid)) => {
            let node = required(&h.node_id, "cloud.huawei.node_id")?;
            let secret = required(&h.product_secret, "cloud.huawei.product_secret")?;
            Login::Product(ProductSecretAuth::new(pid, node, secret.clone(), sign).map_err(err)?)
        }
        (None, None) => {
            return Err(ProfileError::new(
                "cloud.huawei.device_id",
                "is missing (give device_id + secret, or product_id + node_id + product_secret)",
            ))
        }
    };
    let host = p.cloud.host.as_deref().unwrap_or(HUAWEI_DEFAULT_HOST);
    let port = p
        .cloud
        .port
        .unwrap_or(if p.cloud.tls { 8883 } else { 1883 });
    let mut platform = HuaweiPlatform::new(host, port, login)
        .map_err(|e| from_platform("huawei", e))?
        .with_tls(p.cloud.tls)
        .with_keepalive(p.cloud.keepalive)
        .map_err(|e| from_platform("huawei", e))?;
    if let Some(file) = &p.thing_model.file {
        let path = p.resolve(file);
        let model = cloud_huawei::model::ProductModel::load(Path::new(&path)).map_err(|e| {
            ProfileError::new("thing_model.file", format!("{}: {e}", path.display()))
        })?;
        platform = platform.with_model(model);
    }
    if let Some(s) = &h.default_service {
        platform = platform.with_default_service(s);
    }
    Ok(Box::new(platform))
}
