//! MQTT credentials: the client id with its `|k=v,…|` extension, the user name, and the
//! HMAC password over the sorted content (doc 73742), for one-device-one-secret logins,
//! dynamic registration (`register` / `regnwl`) and the `connwl` login.

use hmac::{Hmac, KeyInit, Mac};
use thing_model::{ConnectVerdict, Secret};

/// The HMAC of the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignMethod {
    /// `hmacmd5` (the server's default when `signmethod` is absent).
    HmacMd5,
    /// `hmacsha1`.
    HmacSha1,
    /// `hmacsha256` (our default).
    #[default]
    HmacSha256,
}

impl SignMethod {
    /// The client-id spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::HmacMd5 => "hmacmd5",
            SignMethod::HmacSha1 => "hmacsha1",
            SignMethod::HmacSha256 => "hmacsha256",
        }
    }

    /// Parses `hmacmd5` / `hmacsha1` / `hmacsha256` (case-insensitive; `sha256` too, as the
    /// newer doc lists it).
    pub fn parse(s: &str) -> Option<SignMethod> {
        match s.to_ascii_lowercase().as_str() {
            "hmacmd5" => Some(SignMethod::HmacMd5),
            "hmacsha1" => Some(SignMethod::HmacSha1),
            "hmacsha256" | "sha256" => Some(SignMethod::HmacSha256),
            _ => None,
        }
    }
}

/// Hex case of the password. The C SDKs send upper case, Python / Node lower case; the server
/// accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HexCase {
    /// `0-9a-f`.
    #[default]
    Lower,
    /// `0-9A-F`.
    Upper,
}

fn mac<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// `hex(HMAC_method(key, msg))`.
pub fn hmac_hex(method: SignMethod, key: &[u8], msg: &[u8], case: HexCase) -> String {
    let raw = match method {
        SignMethod::HmacMd5 => mac::<Hmac<md5::Md5>>(key, msg),
        SignMethod::HmacSha1 => mac::<Hmac<sha1::Sha1>>(key, msg),
        SignMethod::HmacSha256 => mac::<Hmac<sha2::Sha256>>(key, msg),
    };
    match case {
        HexCase::Lower => hex::encode(raw),
        HexCase::Upper => hex::encode_upper(raw),
    }
}

/// The signed content of a device login: the submitted parameters sorted by name,
/// `clientId{id}deviceName{dn}productKey{pk}[timestamp{ts}]`.
pub fn device_sign_content(
    client_id: &str,
    device_name: &str,
    product_key: &str,
    timestamp: Option<&str>,
) -> String {
    let mut s = format!("clientId{client_id}deviceName{device_name}productKey{product_key}");
    if let Some(ts) = timestamp {
        s.push_str("timestamp");
        s.push_str(ts);
    }
    s
}

/// The signed content of a dynamic registration: `deviceName{dn}productKey{pk}random{random}`.
pub fn dynreg_sign_content(device_name: &str, product_key: &str, random: &str) -> String {
    format!("deviceName{device_name}productKey{product_key}random{random}")
}

/// The CONNECT user name, `{device_name}&{product_key}`.
pub fn username(device_name: &str, product_key: &str) -> String {
    format!("{device_name}&{product_key}")
}

/// A client id: the free part before the first `|` and the ordered `key=value` extension
/// parameters between the two `|`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientId {
    /// The part before `|` (≤ 64 characters, no `|` or `,`).
    pub id: String,
    /// Extension parameters in order. An empty key stands for an empty segment (the Link SDK
    /// emits `…,ext=3,|`).
    pub params: Vec<(String, String)>,
}

/// Why a client id cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdError {
    /// `|` count is not 0 or 2, or text after the closing `|`.
    #[error("client id must be `id` or `id|k=v,…|`")]
    Shape,
    /// A segment without `=`.
    #[error("client id parameter {0:?} has no `=`")]
    NoEquals(String),
}

impl ClientId {
    /// A client id without parameters yet.
    pub fn new(id: impl Into<String>) -> Self {
        ClientId {
            id: id.into(),
            params: Vec::new(),
        }
    }

    /// Appends a parameter.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parses `id` or `id|k=v,k=v|`.
    pub fn parse(s: &str) -> Result<ClientId, ClientIdError> {
        let Some((id, rest)) = s.split_once('|') else {
            return Ok(ClientId::new(s));
        };
        let inner = rest.strip_suffix('|').ok_or(ClientIdError::Shape)?;
        if inner.contains('|') {
            return Err(ClientIdError::Shape);
        }
        let mut params = Vec::new();
        if !inner.is_empty() {
            for seg in inner.split(',') {
                if seg.is_empty() {
                    params.push((String::new(), String::new()));
                    continue;
                }
                let (k, v) = seg
                    .split_once('=')
                    .ok_or_else(|| ClientIdError::NoEquals(seg.to_owned()))?;
                params.push((k.to_owned(), v.to_owned()));
            }
        }
        Ok(ClientId {
            id: id.to_owned(),
            params,
        })
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)?;
        if self.params.is_empty() {
            return Ok(());
        }
        f.write_str("|")?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if !k.is_empty() {
                write!(f, "{k}={v}")?;
            }
        }
        f.write_str("|")
    }
}

/// Client id, user name and password of one CONNECT. `Debug` masks the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Full client id, with extension.
    pub client_id: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: Secret,
}

/// Device login (one device one secret): the password signs the parameters found in
/// `client_id` (`signmethod`, default `hmacmd5` as on the server; `timestamp` if present).
pub fn device_credentials(
    product_key: &str,
    device_name: &str,
    device_secret: &Secret,
    client_id: &ClientId,
    case: HexCase,
) -> Credentials {
    let method = client_id
        .get("signmethod")
        .and_then(SignMethod::parse)
        .unwrap_or(SignMethod::HmacMd5);
    let content = device_sign_content(
        &client_id.id,
        device_name,
        product_key,
        client_id.get("timestamp"),
    );
    Credentials {
        client_id: client_id.to_string(),
        username: username(device_name, product_key),
        password: Secret::new(hmac_hex(
            method,
            device_secret.expose().as_bytes(),
            content.as_bytes(),
            case,
        )),
    }
}

/// Dynamic-registration login (`authType=register|regnwl`): the password is
/// `HMAC(product_secret, deviceName…productKey…random…)` with the client id's `random` and
/// `signmethod`.
pub fn dynreg_credentials(
    product_key: &str,
    device_name: &str,
    product_secret: &Secret,
    client_id: &ClientId,
    case: HexCase,
) -> Credentials {
    let method = client_id
        .get("signmethod")
        .and_then(SignMethod::parse)
        .unwrap_or(SignMethod::HmacMd5);
    let content = dynreg_sign_content(
        device_name,
        product_key,
        client_id.get("random").unwrap_or(""),
    );
    Credentials {
        client_id: client_id.to_string(),
        username: username(device_name, product_key),
        password: Secret::new(hmac_hex(
            method,
            product_secret.expose().as_bytes(),
            content.as_bytes(),
            case,
        )),
    }
}

/// What the server knows about a device, for [`verify_connect`].
#[derive(Debug, Clone, Default)]
pub struct ServerDevice<'a> {
    /// ProductKey.
    pub product_key: &'a str,
    /// DeviceName.
    pub device_name: &'a str,
    /// DeviceSecret, if issued.
    pub device_secret: Option<&'a Secret>,
    /// ProductSecret, if dynamic registration is enabled.
    pub product_secret: Option<&'a Secret>,
    /// `(client id, device token)` issued by `regnwl`, for `connwl`.
    pub token: Option<(&'a str, &'a Secret)>,
}

fn hex_eq(expected_hex: &str, got: &[u8]) -> bool {
    expected_hex.len() == got.len() && expected_hex.as_bytes().eq_ignore_ascii_case(got)
}

/// Server-side check of a CONNECT as the platform does it: user name `{dn}&{pk}`, then by
/// `authType`: `connwl` → password = device token; `register`/`regnwl` → HMAC with the product
/// secret over `random`; none → HMAC with the device secret. Hex is compared
/// case-insensitively; the timestamp is signed but its freshness is not checked (the C SDKs
/// send 2050-01-01). Refusals: 2 malformed client id, 4 bad user name / password, 5 the
/// login mode is not enabled for this device.
pub fn verify_connect(
    dev: &ServerDevice<'_>,
    client_id: &str,
    user: &str,
    password: &[u8],
) -> ConnectVerdict {
    let cid = match ClientId::parse(client_id) {
        Ok(c) => c,
        Err(e) => {
            return ConnectVerdict::Refuse {
                code: ConnectVerdict::IDENTIFIER_REJECTED,
                reason: e.to_string(),
            }
        }
    };
    if user != username(dev.device_name, dev.product_key) {
        return ConnectVerdict::bad_credentials(format!(
            "user name `{user}` is not `{{deviceName}}&{{productKey}}` of this device"
        ));
    }
    let method = match cid.get("signmethod") {
        None => SignMethod::HmacMd5,
        Some(m) => match SignMethod::parse(m) {
            Some(m) => m,
            None => return ConnectVerdict::bad_credentials(format!("unknown signmethod `{m}`")),
        },
    };
    let (key, content) = match cid.get("authType") {
        Some("connwl") => {
            return match dev.token {
                Some((tok_cid, token))
                    if tok_cid == cid.id && token.expose().as_bytes() == password =>
                {
                    ConnectVerdict::Accept
                }
                Some(_) => ConnectVerdict::bad_credentials(
                    "connwl: client id or device token does not match",
                ),
                None => ConnectVerdict::not_authorized(
                    "connwl: no device token was issued to this device",
                ),
            };
        }
        Some("register") | Some("regnwl") => match dev.product_secret {
            Some(ps) => (
                ps,
                dynreg_sign_content(
                    dev.device_name,
                    dev.product_key,
                    cid.get("random").unwrap_or(""),
                ),
            ),
            None => {
                return ConnectVerdict::not_authorized(
                    "dynamic registration is not enabled for this product",
                )
            }
        },
        Some(other) => {
            return ConnectVerdict::not_authorized(format!("unknown authType `{other}`"))
        }
        None => match dev.device_secret {
            Some(ds) => (
                ds,
                device_sign_content(
                    &cid.id,
                    dev.device_name,
                    dev.product_key,
                    cid.get("timestamp"),
                ),
            ),
            None => {
                return ConnectVerdict::not_authorized(
                    "the device has no device secret (not registered)",
                )
            }
        },
    };
    if hex_eq(
        &hmac_hex(
            method,
            key.expose().as_bytes(),
            content.as_bytes(),
            HexCase::Lower,
        ),
        password,
    ) {
        ConnectVerdict::Accept
    } else {
        ConnectVerdict::bad_credentials(format!(
            "password is not the {} signature of the client id",
            method.as_str()
        ))
    }
}

/// Link SDK 4.x TLS-PSK identity: `devicename|{method}|{pk}&{dn}|{timestamp}`.
pub fn tls_psk_identity(product_key: &str, device_name: &str, timestamp: &str) -> String {
    format!("devicename|hmacsha256|{product_key}&{device_name}|{timestamp}")
}

/// Link SDK 4.x TLS-PSK key: `HEX(HMAC-SHA256(ds, "id{pk}&{dn}timestamp{ts}"))`.
pub fn tls_psk(
    product_key: &str,
    device_name: &str,
    device_secret: &Secret,
    timestamp: &str,
    case: HexCase,
) -> Secret {
    let content = format!("id{product_key}&{device_name}timestamp{timestamp}");
    Secret::new(hmac_hex(
        SignMethod::HmacSha256,
        device_secret.expose().as_bytes(),
        content.as_bytes(),
        case,
    ))
}

/// Link SDK 4.x HTTP-channel auth body (`POST /auth`):
/// `{"clientId":"{pk}.{dn}","signmethod":"hmacsha256","deviceName":…,"productKey":…,"sign":…}`,
/// sign = HMAC-SHA256(ds, `clientId{pk}.{dn}deviceName{dn}productKey{pk}`).
pub fn http_auth_body(
    product_key: &str,
    device_name: &str,
    device_secret: &Secret,
    case: HexCase,
) -> String {
    let cid = format!("{product_key}.{device_name}");
    let content = device_sign_content(&cid, device_name, product_key, None);
    let sign = hmac_hex(
        SignMethod::HmacSha256,
        device_secret.expose().as_bytes(),
        content.as_bytes(),
        case,
    );
    serde_json::json!({
        "clientId": cid,
        "signmethod": "hmacsha256",
        "deviceName": device_name,
        "productKey": product_key,
        "sign": sign,
    })
    .to_string()
}
