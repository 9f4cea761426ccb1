//! The MQTT front on loopback: reads each CONNECT, checks it as the cloud would, then
//! refuses it with the cloud's CONNACK code, runs a provisioning session itself, or carries
//! the connection to the broker, renaming `$` topics on the way (see [`crate::mqtt`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::auth::{self, Decision};
use crate::log::{Kind, Record};
use crate::mqtt::{self, Connect, Direction, MqttError, MAX_PACKET};
use crate::Shared;

/// How long a new connection may take to send its CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections forever.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((sock, _)) => {
                let _ = sock.set_nodelay(true);
                tokio::spawn(handle(sock, shared.clone()));
            }
            Err(e) => {
                tracing::warn!("front accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(mut sock: TcpStream, shared: Arc<Shared>) {
    let first =
        tokio::time::timeout(CONNECT_TIMEOUT, mqtt::read_packet(&mut sock, MAX_PACKET)).await;
    let now = shared.clock.now_ms();
    let packet = match first {
        Ok(Ok(Some(p))) if p.kind() == mqtt::kind::CONNECT => p,
        Ok(Ok(Some(p))) => {
            shared.log.push(
                Record::new(now, Kind::Error)
                    .message(format!("first packet is type {}, not CONNECT", p.kind())),
            );
            return;
        }
        Ok(Ok(None)) | Err(_) => return,
        Ok(Err(e)) => {
            shared
                .log
                .push(Record::new(now, Kind::Error).message(format!("before CONNECT: {e}")));
            return;
        }
    };
    let connect = match Connect::parse(&packet.body) {
        Ok(c) => c,
        Err(e) => {
            let code: u8 = if matches!(e, MqttError::Protocol { .. }) {
                1
            } else {
                2
            };
            shared.log.push(
                Record::new(now, Kind::Refused)
                    .code(i64::from(code))
                    .message(e.to_string()),
            );
            let _ = sock.write_all(&mqtt::connack(code)).await;
            return;
        }
    };
    let decision = {
        let reg = shared.registry.read().unwrap_or_else(|e| e.into_inner());
        auth::check(shared.cloud, &reg, &connect, now)
    };
    let mut rec = Record::new(now, Kind::Connect);
    rec.client_id = Some(connect.client_id.clone());
    match decision {
        Decision::Refuse {
            code,
            reason,
            device,
        } => {
            rec.kind = Kind::Refused;
            rec.device = device;
            shared.log.push(rec.code(i64::from(code)).message(reason));
            let _ = sock.write_all(&mqtt::connack(code)).await;
            let _ = sock.shutdown().await;
        }
        Decision::Forward { device, registered } => {
            if registered {
                register_onenet(&shared, &device, now);
            }
            shared.log.push(rec.device(&device).code(0));
            let why = proxy(sock, &connect, &shared).await;
            let mut end = Record::new(shared.clock.now_ms(), Kind::Disconnect).device(&device);
            end.client_id = Some(connect.client_id.clone());
            if let Some(why) = why {
                end = end.message(why);
            }
            shared.log.push(end);
        }
        Decision::Session { device, flow } => {
            shared
                .log
                .push(rec.device(&device).code(0).what("provisioning"));
            crate::session::run(sock, flow, &device, &shared).await;
            shared
                .log
                .push(Record::new(shared.clock.now_ms(), Kind::Disconnect).device(&device));
        }
    }
}

/// A OneNET device logged in with a product-level token: it now exists.
fn register_onenet(shared: &Shared, device: &str, now: i64) {
    let Some((pid, dn)) = device.split_once('/') else {
        return;
    };
    let mut reg = shared.registry.write().unwrap_or_else(|e| e.into_inner());
    if reg.device(pid, dn).is_none() && reg.add_device(shared.cloud, pid, dn, None, None).is_ok() {
        shared.log.push(
            Record::new(now, Kind::Registered)
                .device(device)
                .what("product_token"),
        );
    }
}

/// Carries an accepted connection to the broker until either side ends. Returns why it
/// ended, when that was not a plain close.
async fn proxy(mut dev: TcpStream, connect: &Connect, shared: &Shared) -> Option<String> {
    let mut up = match TcpStream::connect(shared.upstream).await {
        Ok(s) => s,
        Err(e) => {
            let _ = dev.write_all(&mqtt::connack(3)).await;
            return Some(format!("broker {} unreachable: {e}", shared.upstream));
        }
    };
    let _ = up.set_nodelay(true);
    if let Err(e) = up.write_all(&connect.encode_for_broker().encode()).await {
        return Some(format!("broker write: {e}"));
    }
    let (dr, mut dw) = dev.split();
    let (ur, mut uw) = up.split();
    let (mut dr, mut ur) = (BufReader::new(dr), BufReader::new(ur));
    let device_to_broker = async {
        loop {
            match mqtt::read_packet(&mut dr, MAX_PACKET).await {
                Ok(Some(p)) => {
                    let p = mqtt::rewrite(p, Direction::Up).map_err(|e| e.to_string())?;
                    uw.write_all(&p.encode()).await.map_err(|e| e.to_string())?;
                }
                Ok(None) => return Ok::<(), String>(()),
                Err(e) => return Err(format!("from device: {e}")),
            }
        }
    };
    let broker_to_device = async {
        loop {
            match mqtt::read_packet(&mut ur, MAX_PACKET).await {
                Ok(Some(p)) => {
                    let p = mqtt::rewrite(p, Direction::Down).map_err(|e| e.to_string())?;
                    dw.write_all(&p.encode()).await.map_err(|e| e.to_string())?;
                }
                Ok(None) => return Ok::<(), String>(()),
                Err(e) => return Err(format!("from broker: {e}")),
            }
        }
    };
    let result = tokio::select! {
        r = device_to_broker => r,
        r = broker_to_device => r,
    };
    result.err()
}
