//! Provisioning sessions the front runs itself (no broker): the cloud pushes credentials to a
//! device that may not have subscribed, which a plain broker cannot do.
//!
//! * Aliyun `authType=register|regnwl`: `/ext/register` `{"productKey","deviceName","deviceSecret"}`
//!   or `/ext/regnwl` `{"productKey","deviceName","clientId","deviceToken"}`, pushed after the
//!   first SUBSCRIBE or after [`PUSH_AFTER`].
//! * Huawei `hwprodid`: `secretNotify` after the device subscribes to it, then the empty
//!   `secretACK` from the device is logged.
//! * Huawei IoTDP registration group: `bootstrap/up` is answered on `bootstrap/down` with
//!   this simulator's own address.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use cloud_huawei::auth::SignType;
use cloud_huawei::provision::{ProductSecretAuth, RegistrationGroup, SecretNotify};
use cloud_huawei::topics::Topics;
use serde_json::json;
use thing_model::Secret;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::auth::{Provision, RegisterMode};
use crate::log::{Kind, Record};
use crate::mqtt::{self, kind, Publish, RawPacket, MAX_PACKET};
use crate::Shared;

/// When nothing is subscribed, the credentials are pushed this long after CONNACK.
pub const PUSH_AFTER: Duration = Duration::from_millis(500);
/// A provisioning session ends after this long without a packet.
pub const IDLE: Duration = Duration::from_secs(30);

/// A fresh random token of `len` hex digits (std's randomly keyed hasher; good enough for a
/// simulator, not for production secrets).
pub fn random_hex(len: usize) -> String {
    let mut out = String::new();
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(out.len());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}

enum Step {
    Packet(RawPacket),
    Idle,
    Closed,
}

async fn next(sock: &mut TcpStream, wait: Duration) -> Step {
    match tokio::time::timeout(wait, mqtt::read_packet(sock, MAX_PACKET)).await {
        Ok(Ok(Some(p))) => Step::Packet(p),
        Ok(_) => Step::Closed,
        Err(_) => Step::Idle,
    }
}

/// Answers the housekeeping packets; `Some(publish)` for a PUBLISH, after acking it.
async fn housekeep(
    sock: &mut TcpStream,
    p: &RawPacket,
    subscribed: &mut Vec<String>,
) -> std::io::Result<Option<Publish>> {
    match p.kind() {
        kind::SUBSCRIBE => {
            if let Ok((pkid, filters)) = mqtt::parse_subscribe(p) {
                let granted: Vec<u8> = filters.iter().map(|(_, q)| (*q).min(1)).collect();
                subscribed.extend(filters.into_iter().map(|(f, _)| f));
                sock.write_all(&mqtt::suback(pkid, &granted)).await?;
            }
        }
        kind::UNSUBSCRIBE if p.body.len() >= 2 => {
            sock.write_all(&[0xB0, 2, p.body[0], p.body[1]]).await?;
        }
        kind::PINGREQ => sock.write_all(&mqtt::pingresp()).await?,
        kind::PUBLISH => {
            if let Ok(publish) = Publish::parse(p) {
                if let Some(pkid) = publish.pkid {
                    sock.write_all(&mqtt::puback(pkid)).await?;
                }
                return Ok(Some(publish));
            }
        }
        _ => {}
    }
    Ok(None)
}

/// Runs the session after an accepted CONNECT.
pub(crate) async fn run(mut sock: TcpStream, flow: Provision, device: &str, shared: &Shared) {
    if sock.write_all(&mqtt::connack(0)).await.is_err() {
        return;
    }
    let result = match flow {
        Provision::AliyunRegister {
            product,
            name,
            mode,
        } => aliyun(&mut sock, &product, &name, mode, device, shared).await,
        Provision::HuaweiSecret { product, node } => {
            huawei_secret(&mut sock, &product, &node, shared).await
        }
        Provision::HuaweiBootstrap {
            device_id,
            scope_id,
        } => bootstrap(&mut sock, &device_id, &scope_id, shared).await,
    };
    if let Err(e) = result {
        shared.log.push(
            Record::new(shared.clock.now_ms(), Kind::Error)
                .device(device)
                .message(format!("provisioning session: {e}")),
        );
    }
}

/// Waits for a first SUBSCRIBE (or [`PUSH_AFTER`]); false if the device went away.
async fn wait_for_subscribe(
    sock: &mut TcpStream,
    subscribed: &mut Vec<String>,
) -> std::io::Result<bool> {
    let deadline = tokio::time::Instant::now() + PUSH_AFTER;
    while subscribed.is_empty() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next(sock, left).await {
            Step::Packet(p) if p.kind() == kind::DISCONNECT => return Ok(false),
            Step::Packet(p) => {
                housekeep(sock, &p, subscribed).await?;
            }
            Step::Idle => break,
            Step::Closed => return Ok(false),
        }
    }
    Ok(true)
}

/// Serves the session until the device leaves, calling `on_publish` for each PUBLISH.
async fn serve_rest(
    sock: &mut TcpStream,
    subscribed: &mut Vec<String>,
    mut on_publish: impl FnMut(Publish) -> Option<Vec<u8>>,
) -> std::io::Result<()> {
    loop {
        match next(sock, IDLE).await {
            Step::Packet(p) if p.kind() == kind::DISCONNECT => return Ok(()),
            Step::Packet(p) => {
                if let Some(publish) = housekeep(sock, &p, subscribed).await? {
                    if let Some(out) = on_publish(publish) {
                        sock.write_all(&out).await?;
                    }
                }
            }
            Step::Idle | Step::Closed => return Ok(()),
        }
    }
}

async fn aliyun(
    sock: &mut TcpStream,
    pk: &str,
    dn: &str,
    mode: RegisterMode,
    device: &str,
    shared: &Shared,
) -> std::io::Result<()> {
    let now = shared.clock.now_ms();
    let (topic, body, what) = {
        let mut reg = shared.registry.write().unwrap_or_else(|e| e.into_inner());
        if reg.device(pk, dn).is_none() {
            let _ = reg.add_device(shared.cloud, pk, dn, None, None);
        }
        let Some(dev) = reg.device_mut(pk, dn) else {
            return Ok(());
        };
        match mode {
            RegisterMode::Register => {
                let secret = random_hex(32);
                dev.secret = Some(Secret::new(secret.clone()));
                let body = json!({"productKey": pk, "deviceName": dn, "deviceSecret": secret});
                ("/ext/register", body, "register")
            }
            RegisterMode::Regnwl => {
                let client_id = format!("{pk}.{dn}.{}", random_hex(8));
                let token = random_hex(32);
                dev.token = Some((client_id.clone(), Secret::new(token.clone())));
                let body = json!({"productKey": pk, "deviceName": dn, "clientId": client_id, "deviceToken": token});
                ("/ext/regnwl", body, "regnwl")
            }
        }
    };
    shared.log.push(
        Record::new(now, Kind::Registered)
            .device(device)
            .topic(topic)
            .what(what),
    );
    let mut subscribed = Vec::new();
    if !wait_for_subscribe(sock, &mut subscribed).await? {
        return Ok(());
    }
    sock.write_all(&Publish::encode(topic, body.to_string().as_bytes(), None))
        .await?;
    serve_rest(sock, &mut subscribed, |_| None).await
}

async fn huawei_secret(
    sock: &mut TcpStream,
    pid: &str,
    node: &str,
    shared: &Shared,
) -> std::io::Result<()> {
    let now = shared.clock.now_ms();
    let (device_id, secret) = {
        let mut reg = shared.registry.write().unwrap_or_else(|e| e.into_inner());
        let existing = reg.device(pid, node).cloned();
        let secret = existing
            .as_ref()
            .and_then(|d| d.secret.clone())
            .unwrap_or_else(|| Secret::new(random_hex(32)));
        let id = existing.map(|d| d.id);
        match reg.add_device(shared.cloud, pid, node, id, Some(secret.clone())) {
            Ok(d) => (d.id.clone(), secret),
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        }
    };
    let product_secret = shared
        .registry
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .products
        .get(pid)
        .and_then(|p| p.secret.clone());
    let auth = product_secret
        .and_then(|s| ProductSecretAuth::new(pid, node, s, SignType::NoTimestampCheck).ok())
        .ok_or_else(|| std::io::Error::other("product secret vanished"))?;
    let (notify, ack) = (auth.secret_notify_topic(), auth.secret_ack_topic());
    shared.log.push(
        Record::new(now, Kind::Registered)
            .device(&device_id)
            .topic(&notify)
            .what("secret_notify"),
    );
    let mut subscribed = Vec::new();
    if !wait_for_subscribe(sock, &mut subscribed).await? {
        return Ok(());
    }
    let payload = SecretNotify {
        device_id: device_id.clone(),
        secret,
    }
    .to_payload();
    sock.write_all(&Publish::encode(&notify, &payload, Some(1)))
        .await?;
    serve_rest(sock, &mut subscribed, |p| {
        if p.topic == ack {
            shared.log.push(
                Record::new(shared.clock.now_ms(), Kind::Answer)
                    .device(&device_id)
                    .topic(&p.topic)
                    .what("secret_ack"),
            );
        }
        None
    })
    .await
}

async fn bootstrap(
    sock: &mut TcpStream,
    device_id: &str,
    scope: &str,
    shared: &Shared,
) -> std::io::Result<()> {
    let topics = Topics::new(device_id);
    let (up, down) = (topics.bootstrap_up(), topics.bootstrap_down());
    let mut subscribed = Vec::new();
    serve_rest(sock, &mut subscribed, |p| {
        if p.topic != up {
            return None;
        }
        let now = shared.clock.now_ms();
        shared.log.push(
            Record::new(now, Kind::Uplink)
                .device(device_id)
                .topic(&p.topic)
                .what("bootstrap")
                .payload(&p.payload),
        );
        let secret = {
            let reg = shared.registry.read().unwrap_or_else(|e| e.into_inner());
            let group = reg.groups.iter().find(|g| g.scope_id == scope)?;
            RegistrationGroup::new(scope, &group.secret)
                .ok()?
                .device_secret(device_id)
                .ok()?
        };
        let (product, node) = device_id.split_once('_').unwrap_or((scope, device_id));
        {
            let mut reg = shared.registry.write().unwrap_or_else(|e| e.into_inner());
            reg.add_device(
                shared.cloud,
                product,
                node,
                Some(device_id.to_owned()),
                Some(secret),
            )
            .ok()?;
        }
        shared.log.push(
            Record::new(now, Kind::Registered)
                .device(device_id)
                .topic(&down)
                .what("bootstrap"),
        );
        let body = json!({"address": shared.listen.to_string(), "initConfig": "{}"}).to_string();
        shared.log.push(
            Record::new(now, Kind::Reply)
                .device(device_id)
                .topic(&down)
                .what("bootstrap")
                .payload(body.as_bytes()),
        );
        Some(Publish::encode(&down, body.as_bytes(), None))
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_tokens_differ_and_have_the_length_asked() {
        let (a, b) = (super::random_hex(32), super::random_hex(32));
        assert_eq!((a.len(), b.len()), (32, 32));
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
