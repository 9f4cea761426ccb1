//! One product one secret: dynamic registration (doc 132111 over MQTT; `/auth/register/device`
//! over HTTPS), and the `connwl` login with the token from `regnwl`.

use serde_json::Value;
use thing_model::{PlatformError, Secret};

use crate::auth::{dynreg_sign_content, hmac_hex, ClientId, HexCase, SignMethod};

/// Which registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegisterMode {
    /// Pre-registered device: the cloud returns the DeviceSecret (`/ext/register`).
    Register,
    /// Registration-free ("regnwl"): the cloud returns client id + device token
    /// (`/ext/regnwl`); then log in with `authType=connwl`.
    Regnwl,
}

impl RegisterMode {
    /// `register` / `regnwl`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegisterMode::Register => "register",
            RegisterMode::Regnwl => "regnwl",
        }
    }
}

/// The registration client id:
/// `{dn}.{pk}|random={r},authType={mode},securemode={sm},signmethod={m}[,instanceId={iid}]|`
/// (the SDKs send `securemode=2`; the doc writes `-2` for new instances).
pub fn register_client_id(
    product_key: &str,
    device_name: &str,
    mode: RegisterMode,
    random: &str,
    securemode: i8,
    method: SignMethod,
    instance_id: Option<&str>,
) -> ClientId {
    let mut cid = ClientId::new(format!("{device_name}.{product_key}"))
        .with("random", random)
        .with("authType", mode.as_str())
        .with("securemode", securemode.to_string())
        .with("signmethod", method.as_str());
    if let Some(iid) = instance_id {
        cid = cid.with("instanceId", iid);
    }
    cid
}

/// The `connwl` client id: `{client id from regnwl}|authType=connwl,securemode=-2,_ss=1,ext=3[,extra…]|`.
pub fn connwl_client_id(issued_client_id: &str, extra: &[(String, String)]) -> ClientId {
    let mut cid = ClientId::new(issued_client_id)
        .with("authType", "connwl")
        .with("securemode", "-2")
        .with("_ss", "1")
        .with("ext", "3");
    for (k, v) in extra {
        cid = cid.with(k.clone(), v.clone());
    }
    cid
}

/// Checks the random token: 1–64 ASCII letters or digits.
pub fn check_random(random: &str) -> Result<(), PlatformError> {
    thing_model::check_name("random", random, 64, "ASCII letters and digits", |c| {
        c.is_ascii_alphanumeric()
    })?;
    Ok(())
}

/// What the cloud answered to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// `/ext/register`: the DeviceSecret.
    DeviceSecret(Secret),
    /// `/ext/regnwl`: client id and device token for `connwl`.
    Token {
        /// Client id to use.
        client_id: String,
        /// Device token (the `connwl` password).
        device_token: Secret,
    },
}

fn payload_json(
    topic: &str,
    payload: &[u8],
) -> Result<serde_json::Map<String, Value>, PlatformError> {
    let decode = |reason: String| PlatformError::Decode {
        topic: topic.to_owned(),
        reason,
    };
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(decode("payload is not a JSON object".into())),
        Err(e) => Err(decode(format!("payload is not JSON: {e}"))),
    }
}

fn str_field(
    m: &serde_json::Map<String, Value>,
    key: &str,
    topic: &str,
) -> Result<String, PlatformError> {
    match m.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(PlatformError::Decode {
            topic: topic.to_owned(),
            reason: format!("no `{key}` in the registration answer"),
        }),
    }
}

/// Parses the cloud's registration answer; `Ok(None)` for other topics.
pub fn parse_register_reply(
    topic: &str,
    payload: &[u8],
) -> Result<Option<Registered>, PlatformError> {
    match topic {
        "/ext/register" => {
            let m = payload_json(topic, payload)?;
            Ok(Some(Registered::DeviceSecret(Secret::new(str_field(
                &m,
                "deviceSecret",
                topic,
            )?))))
        }
        "/ext/regnwl" => {
            let m = payload_json(topic, payload)?;
            Ok(Some(Registered::Token {
                client_id: str_field(&m, "clientId", topic)?,
                device_token: Secret::new(str_field(&m, "deviceToken", topic)?),
            }))
        }
        _ => Ok(None),
    }
}

/// An HTTPS registration request (`POST https://iot-auth.{region}.aliyuncs.com/auth/register/device`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsRegisterRequest {
    /// Host (`iot-auth.{region}.aliyuncs.com`), port 443.
    pub host: String,
    /// `/auth/register/device`.
    pub path: &'static str,
    /// `application/x-www-form-urlencoded` body.
    pub form_body: String,
}

impl HttpsRegisterRequest {
    /// The full URL.
    pub fn url(&self) -> String {
        format!("https://{}{}", self.host, self.path)
    }

    /// The request bytes as the Link SDK sends them.
    pub fn http_request(&self) -> String {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nAccept: text/xml,text/javascript,text/html,application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
            self.path,
            self.host,
            self.form_body.len(),
            self.form_body
        )
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds the HTTPS registration request (pre-registered devices only: HTTPS has no `regnwl`).
pub fn https_register_request(
    region: &str,
    product_key: &str,
    device_name: &str,
    product_secret: &Secret,
    random: &str,
    method: SignMethod,
    case: HexCase,
) -> HttpsRegisterRequest {
    let content = dynreg_sign_content(device_name, product_key, random);
    let sign = hmac_hex(
        method,
        product_secret.expose().as_bytes(),
        content.as_bytes(),
        case,
    );
    HttpsRegisterRequest {
        host: format!("iot-auth.{region}.aliyuncs.com"),
        path: "/auth/register/device",
        form_body: format!(
            "productKey={}&deviceName={}&random={}&sign={}&signMethod={}",
            form_encode(product_key),
            form_encode(device_name),
            form_encode(random),
            sign,
            method.as_str()
        ),
    }
}

/// Parses the HTTPS answer `{"code":200,"data":{"deviceSecret":…},"message":…}`.
pub fn parse_https_register_response(body: &[u8]) -> Result<Secret, PlatformError> {
    let m = payload_json("/auth/register/device", body)?;
    let code = m.get("code").and_then(Value::as_i64).unwrap_or(0);
    if code != 200 {
        let message = m
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        return Err(PlatformError::Cloud { code, message });
    }
    match m
        .get("data")
        .and_then(|d| d.get("deviceSecret"))
        .and_then(Value::as_str)
    {
        Some(ds) if !ds.is_empty() => Ok(Secret::new(ds)),
        _ => Err(PlatformError::Decode {
            topic: "/auth/register/device".into(),
            reason: "no `data.deviceSecret` in the answer".into(),
        }),
    }
}
