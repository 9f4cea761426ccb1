//! The embedded broker: rumqttd on a free loopback port, in its own thread.
//!
//! rumqttd has no shutdown API: the thread lives as long as the process. It refuses
//! keep-alive 0 and MQTT 3.1 (the front checks the cloud's keep-alive range first and
//! re-encodes 3.1 CONNECTs as 3.1.1), and routes no `$` topics (the front renames them).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

use crate::error::SimError;

/// Picks a free loopback port (bind to port 0, note it, close it; a small race is possible).
pub fn free_port() -> Result<u16, SimError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| SimError::io("bind 127.0.0.1:0", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| SimError::io("local_addr", e))
}

/// Starts rumqttd on a free port and waits until it accepts connections.
pub async fn start_embedded() -> Result<SocketAddr, SimError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let server = ServerSettings {
        name: "cloud-sim".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 2 * 1024 * 1024,
            max_inflight_count: 200,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 100 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("cloud-sim".to_owned(), server)])),
        ..Default::default()
    };
    std::thread::Builder::new()
        .name("rumqttd".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("embedded rumqttd stopped: {e}");
            }
        })
        .map_err(|e| SimError::io("spawn the rumqttd thread", e))?;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(addr);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(SimError::Broker {
        addr: addr.to_string(),
        reason: "the embedded rumqttd did not start listening within 10 s".into(),
    })
}
