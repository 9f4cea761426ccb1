//! Every known-answer vector in `shared/vectors/aliyun.json`, read from the file.
//!
//! Vectors computed by an SDK release the notes call buggy (Node SDK 1.2.8, whose `hmacSign`
//! always uses SHA-1; marked `WARNING`) are checked the other way round: our password must
//! differ from theirs, and theirs must be the SHA-1 signature the bug produces.

use cloud_aliyun::auth::{
    device_credentials, device_sign_content, dynreg_credentials, dynreg_sign_content, hmac_hex,
    http_auth_body, tls_psk, tls_psk_identity, verify_connect, ClientId, HexCase, ServerDevice,
    SignMethod,
};
use cloud_aliyun::dynreg::{
    connwl_client_id, https_register_request, parse_https_register_response, register_client_id,
    RegisterMode,
};
use cloud_aliyun::{AliyunPlatform, AliyunProfile, TimestampMode};
use serde_json::Value;
use thing_model::{parse_uplink_line, Downlink, Platform, Provisioned, Secret};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/aliyun.json"
);

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("read {VECTORS}: {e}"));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

type Check = Result<(), String>;

macro_rules! eq {
    ($what:expr, $ours:expr, $theirs:expr) => {
        match (&$ours, &$theirs) {
            (o, t) => {
                if o != t {
                    return Err(format!("{}: ours {:?} != vector {:?}", $what, o, t));
                }
            }
        }
    };
}

mod alink;
mod dynreg;
use alink::{alink, gateway_signs, ntp};
use dynreg::{https_dynreg, linksdk_dynreg, py_connwl, py_dynreg};

pub(crate) fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    let mut cur = v;
    for k in path.split('.') {
        cur = &cur[k];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("vector field `{path}` is not a string"))
}

const PK: &str = "a1B2c3D4e5F";
const DN: &str = "dev-001";

/// Inputs are read from the vector (field names differ between harnesses).
pub(crate) fn input<'a>(v: &'a Value, keys: &[&str]) -> &'a str {
    keys.iter()
        .find_map(|k| v["inputs"][*k].as_str())
        .unwrap_or_else(|| panic!("{}: none of {keys:?} in inputs", v["name"]))
}
pub(crate) fn pk(v: &Value) -> &str {
    input(v, &["product_key", "productKey"])
}
pub(crate) fn dn(v: &Value) -> &str {
    input(v, &["device_name", "deviceName"])
}
pub(crate) fn ds(v: &Value) -> Secret {
    Secret::new(input(v, &["device_secret", "deviceSecret"]))
}
pub(crate) fn ps(v: &Value) -> Secret {
    Secret::new(input(v, &["product_secret", "productSecret"]))
}

pub(crate) fn case_of(hex: &str) -> HexCase {
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        HexCase::Upper
    } else {
        HexCase::Lower
    }
}

/// A minimal MQTT 3.1.1 CONNECT encoder, to compare with the captured packets.
pub(crate) fn connect_packet(cid: &str, user: &str, pass: &str, keepalive: u16) -> String {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0xC2];
    body.extend_from_slice(&keepalive.to_be_bytes());
    for f in [cid, user, pass] {
        body.extend_from_slice(&(f.len() as u16).to_be_bytes());
        body.extend_from_slice(f.as_bytes());
    }
    let mut out = vec![0x10];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
    out.extend(body);
    hex::encode(out)
}

/// A device connect vector: exact client id round trip, sign content, password, user name,
/// and the server-side verification accepts it.
fn check_device_connect(
    v: &Value,
    cid: &str,
    user: &str,
    password: &str,
    content: Option<&str>,
) -> Check {
    let parsed = ClientId::parse(cid).map_err(|e| e.to_string())?;
    eq!("client id round trip", parsed.to_string(), cid);
    let creds = device_credentials(pk(v), dn(v), &ds(v), &parsed, case_of(password));
    eq!("password", creds.password.expose(), password);
    eq!("username", creds.username, user);
    if let Some(content) = content {
        eq!(
            "sign content",
            device_sign_content(&parsed.id, dn(v), pk(v), parsed.get("timestamp")),
            content
        );
    }
    let secret = ds(v);
    let dev = ServerDevice {
        product_key: pk(v),
        device_name: dn(v),
        device_secret: Some(&secret),
        ..Default::default()
    };
    if !verify_connect(&dev, cid, user, password.as_bytes()).is_accept() {
        return Err("server-side verification refused the vector's CONNECT".into());
    }
    // A wrong password is refused with CONNACK 4.
    let verdict = verify_connect(&dev, cid, user, b"00");
    eq!(
        "bad password verdict",
        format!("{verdict:?}").contains("code: 4"),
        true
    );
    Ok(())
}

/// Our high-level platform: same password (and the same client id up to parameter order).
fn check_platform_password(
    profile: AliyunProfile,
    now_ms: i64,
    cid: &str,
    password: &str,
) -> Check {
    let p = AliyunPlatform::new(profile).map_err(|e| e.to_string())?;
    let conn = p.connect(now_ms).map_err(|e| e.to_string())?;
    eq!("platform password", conn.password.expose(), password);
    let ours = ClientId::parse(&conn.client_id).unwrap();
    let theirs = ClientId::parse(cid).unwrap();
    eq!("client id prefix", ours.id, theirs.id);
    for key in ["securemode", "signmethod", "timestamp"] {
        eq!(format!("client id `{key}`"), ours.get(key), theirs.get(key));
    }
    Ok(())
}

pub(crate) fn profile(v: &Value) -> AliyunProfile {
    AliyunProfile::new(pk(v), dn(v), Some(ds(v)))
}

fn py_connect(v: &Value) -> Check {
    let o = &v["outputs"];
    check_device_connect(
        v,
        s(o, "client_id"),
        s(o, "username"),
        s(o, "password"),
        o["sign_content"].as_str(),
    )?;
    let mut prof = profile(v);
    prof.client_id = Some(format!("{PK}&{DN}"));
    prof.sign_method = SignMethod::HmacSha1;
    prof.tls = v["inputs"]["secure"] != "(none)";
    prof.timestamp = TimestampMode::Seconds;
    prof.instance_id = v["inputs"]["instance_id"].as_str().map(str::to_owned);
    let secs = v["inputs"]["time.time()"].as_f64().unwrap() as i64;
    check_platform_password(
        prof.clone(),
        secs * 1000,
        s(o, "client_id"),
        s(o, "password"),
    )?;
    eq!("endpoint", prof.host(), s(o, "endpoint"));
    Ok(())
}

fn node_connect(v: &Value) -> Check {
    let o = &v["outputs"];
    let i = &v["inputs"];
    let method = SignMethod::parse(&format!("hmac{}", s(i, "signAlgorithm"))).unwrap();
    let cid_in = i["clientId"]
        .as_str()
        .filter(|c| !c.starts_with('('))
        .map(str::to_owned);
    let ts = i["Date.now()"].as_i64().unwrap();
    let tls = i["tls"].as_bool().unwrap();
    // Exact bytes with the low-level builder, in Node's parameter order.
    let exact = ClientId::new(cid_in.clone().unwrap_or(format!("{PK}&{DN}")))
        .with("securemode", if tls { "2" } else { "3" })
        .with("signmethod", method.as_str())
        .with("timestamp", ts.to_string())
        .with("lan", "NodeJS")
        .with("_v", "1.2.4");
    eq!("client id", exact.to_string(), s(o, "client_id"));
    check_device_connect(
        v,
        s(o, "client_id"),
        s(o, "username"),
        s(o, "password"),
        o["sign_content"].as_str(),
    )?;
    let mut prof = profile(v);
    prof.client_id = Some(exact.id.clone());
    prof.sign_method = method;
    prof.tls = tls;
    prof.server_subscribe = false;
    prof.ext = None;
    check_platform_password(prof.clone(), ts, s(o, "client_id"), s(o, "password"))?;
    let scheme = if tls { "mqtts" } else { "mqtt" };
    eq!(
        "broker",
        format!("{scheme}://{}:1883/", prof.host()),
        s(o, "brokerUrl")
    );
    Ok(())
}

fn node_sign_util(v: &Value) -> Check {
    let o = &v["outputs"];
    let method = SignMethod::parse(s(o, "signMethod")).unwrap();
    let ts = o["timestamp"].as_i64().unwrap().to_string();
    let content = device_sign_content(s(o, "clientId"), dn(v), pk(v), Some(&ts));
    eq!("sign content", content, s(o, "sign_content"));
    eq!(
        "sign",
        hmac_hex(
            method,
            ds(v).expose().as_bytes(),
            content.as_bytes(),
            HexCase::Lower
        ),
        s(o, "sign")
    );
    Ok(())
}

fn core_auth(v: &Value) -> Check {
    let o = &v["outputs"];
    for key in [
        "clientid_securemode2_noext",
        "clientid_securemode3_noext",
        "clientid_securemode2_ext",
    ] {
        check_device_connect(
            v,
            s(o, key),
            s(o, "username"),
            s(o, "password"),
            Some(s(o, "password_sign_content")),
        )?;
    }
    eq!(
        "http auth body",
        http_auth_body(PK, DN, &ds(v), HexCase::Upper),
        s(o, "http_auth_body")
    );
    eq!(
        "psk id",
        tls_psk_identity(PK, DN, s(o, "timestamp")),
        s(o, "tls_psk_id")
    );
    eq!(
        "psk",
        tls_psk(PK, DN, &ds(v), s(o, "timestamp"), HexCase::Upper).expose(),
        s(o, "tls_psk")
    );
    Ok(())
}

fn c_connect(v: &Value, o: &Value, host: &str) -> Check {
    let cid = o["client_id"].as_str().or(o["clientid"].as_str()).unwrap();
    check_device_connect(
        v,
        cid,
        s(o, "username"),
        s(o, "password"),
        o["sign_content"].as_str(),
    )?;
    let parsed = ClientId::parse(cid).unwrap();
    let mut prof = profile(v);
    prof.client_id = Some(parsed.id.clone());
    prof.tls = parsed.get("securemode") == Some("2");
    prof.hex_case = HexCase::Upper;
    if let Some(iid) = host.strip_suffix(".mqtt.iothub.aliyuncs.com") {
        prof.instance_id = Some(iid.to_owned());
    }
    let ts: i64 = parsed.get("timestamp").unwrap().parse().unwrap();
    check_platform_password(prof.clone(), ts, cid, s(o, "password"))?;
    eq!("host", prof.host(), host);
    if let Some(hex) = o["packet_hex"].as_str() {
        eq!(
            "packet",
            connect_packet(cid, s(o, "username"), s(o, "password"), 1200),
            hex
        );
    }
    Ok(())
}

/// Node SDK 1.2.8: `hmacSign` ignores the algorithm and always uses SHA-1.
fn buggy_sdk(v: &Value) -> Check {
    let o = &v["outputs"];
    let cid = ClientId::parse(s(o, "client_id")).unwrap();
    let ts = cid.get("timestamp");
    let content = device_sign_content(&cid.id, dn(v), pk(v), ts);
    let sha1 = hmac_hex(
        SignMethod::HmacSha1,
        ds(v).expose().as_bytes(),
        content.as_bytes(),
        HexCase::Lower,
    );
    eq!("buggy SDK output is SHA-1", s(o, "password"), sha1);
    let ours = device_credentials(pk(v), dn(v), &ds(v), &cid, HexCase::Lower);
    if cid.get("signmethod") != Some("hmacsha1") && ours.password.expose() == s(o, "password") {
        return Err("our password equals the buggy SDK output".into());
    }
    Ok(())
}

fn run(v: &Value) -> Option<Check> {
    let name = v["name"].as_str().unwrap();
    let o = &v["outputs"];
    Some(if v.get("WARNING").is_some() || name.contains("1.2.8") {
        buggy_sdk(v)
    } else if name.starts_with("py_linkkit_1_2_13_connect_") {
        py_connect(v)
    } else if name.starts_with("py_linkkit_1_2_13_mqtt_dynreg_") {
        py_dynreg(v)
    } else if name == "py_linkkit_1_2_13_regnwl_reply_to_connwl_credentials" {
        py_connwl(v)
    } else if name.contains("https_dynreg") || name.contains("IOT_Dynamic_Register_https") {
        https_dynreg(v)
    } else if name == "py_linkkit_1_2_13_alink_publishes" {
        alink(v)
    } else if name == "py_linkkit_1_2_13_gateway_subdev_topo_add_and_login" {
        gateway_signs(v)
    } else if name.starts_with("npm_alibabacloud_iot_device_sdk_1.2.4_connect_") {
        node_connect(v)
    } else if name.starts_with("npm_alibabacloud_iot_device_sdk_1.2.4_signUtil_") {
        node_sign_util(v)
    } else if name == "linksdk_c_4_2_0_core_auth" {
        core_auth(v)
    } else if name.starts_with("linksdk_c_4_2_0_mqtt_connect_") {
        c_connect(v, &o["connect"], s(o, "host"))
    } else if name.starts_with("linksdk_c_4_2_0_mqtt_dynreg_") {
        linksdk_dynreg(v)
    } else if name == "linksdk_c_4_2_0_ntp_request" {
        ntp(v)
    } else if name.starts_with("iotkit3_IOT_Sign_MQTT_") {
        c_connect(v, o, s(o, "hostname"))
    } else if name == "aliyun_doc_sample_aiot_mqtt_sign_c" {
        check_device_connect(
            v,
            s(o, "client_id"),
            s(o, "username"),
            s(o, "password"),
            Some(s(o, "sign_content")),
        )
    } else {
        return None;
    })
}

#[test]
fn every_vector_passes() {
    let all = vectors();
    assert!(
        all.len() >= 39,
        "expected the 39 vectors, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for v in &all {
        let name = v["name"].as_str().unwrap();
        match run(v) {
            None => failures.push(format!("{name}: no check covers this vector")),
            Some(Err(e)) => failures.push(format!("{name}: {e}")),
            Some(Ok(())) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    eprintln!("{} Aliyun vectors passed", all.len());
}
