//! Test helpers: a rumqttc "device" on the simulator, bounded waits.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use cloud_sim::{CloudSim, Kind, Record};
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS};

/// Upper bound for any single wait (a failure guard, not a timing assertion).
pub const WAIT: Duration = Duration::from_secs(10);

/// A connected test device.
pub struct Dev {
    pub client: AsyncClient,
    pub events: EventLoop,
}

/// CONNECT with these credentials: `Ok(device)` on CONNACK 0, `Err(code)` on a refusal.
pub async fn connect(
    addr: SocketAddr,
    client_id: &str,
    user: &str,
    pass: &str,
    keepalive_s: u64,
) -> Result<Dev, u8> {
    let mut o = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    o.set_keep_alive(Duration::from_secs(keepalive_s));
    o.set_credentials(user, pass);
    o.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut events) = AsyncClient::new(o, 64);
    let outcome = tokio::time::timeout(WAIT, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                Ok(_) => continue,
                Err(ConnectionError::ConnectionRefused(code)) => return Err(code as u8),
                Err(e) => panic!("connection failed without a CONNACK: {e}"),
            }
        }
    })
    .await
    .expect("no CONNACK within the bound");
    outcome.map(|()| Dev { client, events })
}

impl Dev {
    /// Subscribes and waits for the SUBACK.
    pub async fn subscribe(&mut self, filter: &str) {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .unwrap();
        self.until(|p| matches!(p, Packet::SubAck(_)).then_some(()))
            .await;
    }

    /// Publishes at QoS 1 and waits for the PUBACK.
    pub async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.into())
            .await
            .unwrap();
        self.until(|p| matches!(p, Packet::PubAck(_)).then_some(()))
            .await;
    }

    /// Polls until `f` accepts an incoming packet.
    pub async fn until<T>(&mut self, mut f: impl FnMut(&Packet) -> Option<T>) -> T {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(p)) => {
                        if let Some(t) = f(&p) {
                            return t;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => panic!("device connection failed: {e}"),
                }
            }
        })
        .await
        .expect("the expected packet did not arrive within the bound")
    }

    /// The next PUBLISH received: (topic, payload as JSON).
    pub async fn next_json(&mut self) -> (String, serde_json::Value) {
        self.until(|p| match p {
            Packet::Publish(p) => Some((
                p.topic.clone(),
                serde_json::from_slice(&p.payload)
                    .unwrap_or_else(|_| String::from_utf8_lossy(&p.payload).into()),
            )),
            _ => None,
        })
        .await
    }

    /// Disconnects cleanly.
    pub async fn bye(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while self.events.poll().await.is_ok() {}
        })
        .await;
    }
}

/// The first record of `kind` that `f` accepts, within the bound.
pub async fn record(sim: &CloudSim, kind: Kind, f: impl Fn(&Record) -> bool) -> Record {
    sim.wait_for(|r| r.kind == kind && f(r), WAIT)
        .await
        .unwrap_or_else(|| panic!("no {kind:?} record; log: {:#?}", sim.records()))
}

/// Writes `text` to a file in a fresh temp dir and returns both.
pub fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}
