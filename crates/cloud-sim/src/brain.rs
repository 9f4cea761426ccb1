//! The "cloud brain": an MQTT client on the broker that sees every device uplink, answers
//! as the cloud does, and publishes downlinks on request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use thing_model::Values;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clouds::{self, Ctx};
use crate::error::SimError;
use crate::log::{Kind, Record};
use crate::mqtt::{from_broker, to_broker};
use crate::Shared;

static BRAINS: AtomicU64 = AtomicU64::new(0);

/// Connects the brain and subscribes to the cloud's uplink topics; returns once the
/// subscriptions are acknowledged.
pub(crate) async fn start(
    shared: Arc<Shared>,
    upstream: SocketAddr,
) -> Result<(AsyncClient, JoinHandle<()>), SimError> {
    let id = format!(
        "cloud-sim-brain-{}-{}",
        std::process::id(),
        BRAINS.fetch_add(1, Ordering::Relaxed)
    );
    let mut opts = MqttOptions::new(id, upstream.ip().to_string(), upstream.port());
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(2 * 1024 * 1024, 2 * 1024 * 1024);
    opts.set_clean_session(true);
    let (client, eventloop) = AsyncClient::new(opts, 1024);
    let filters = clouds::uplink_filters(shared.cloud);
    for f in &filters {
        client
            .subscribe(to_broker(f), QoS::AtLeastOnce)
            .await
            .map_err(|e| SimError::Broker {
                addr: upstream.to_string(),
                reason: format!("subscribe {f}: {e}"),
            })?;
    }
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = tokio::spawn(run(shared, client.clone(), eventloop, filters, ready_tx));
    match tokio::time::timeout(Duration::from_secs(15), ready_rx).await {
        Ok(Ok(Ok(()))) => Ok((client, task)),
        Ok(Ok(Err(reason))) => Err(SimError::Broker {
            addr: upstream.to_string(),
            reason,
        }),
        _ => Err(SimError::Broker {
            addr: upstream.to_string(),
            reason: "the brain's subscriptions were not acknowledged within 15 s".into(),
        }),
    }
}

async fn run(
    shared: Arc<Shared>,
    client: AsyncClient,
    mut eventloop: EventLoop,
    filters: Vec<&'static str>,
    ready: oneshot::Sender<Result<(), String>>,
) {
    let mut pending_subacks = filters.len();
    let mut connects = 0u32;
    let mut ready = Some(ready);
    let mut failures = 0u32;
    let mut shadow: BTreeMap<String, BTreeMap<String, Values>> = BTreeMap::new();
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                pending_subacks = pending_subacks.saturating_sub(1);
                if pending_subacks == 0 {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(()));
                    }
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                failures = 0;
                connects += 1;
                if connects > 1 {
                    // A clean-session reconnect lost the subscriptions: make them again.
                    for f in &filters {
                        let _ = client.try_subscribe(to_broker(f), QoS::AtLeastOnce);
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                failures = 0;
                let topic = from_broker(&p.topic).into_owned();
                let out = {
                    let reg = shared.registry.read().unwrap_or_else(|e| e.into_inner());
                    let mut ctx = Ctx {
                        reg: &reg,
                        now_ms: shared.clock.now_ms(),
                        shadow: &mut shadow,
                    };
                    clouds::uplink(shared.cloud, &mut ctx, &topic, &p.payload)
                };
                for (t, payload) in out.publish {
                    if let Err(e) =
                        client.try_publish(to_broker(&t), QoS::AtMostOnce, false, payload)
                    {
                        shared.log.push(
                            Record::new(shared.clock.now_ms(), Kind::Error)
                                .topic(t)
                                .message(format!("reply not sent: {e}")),
                        );
                    }
                }
                for r in out.records {
                    shared.log.push(r);
                }
            }
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                if failures >= 20 {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Err(e.to_string()));
                        return;
                    }
                }
                if failures == 1 || failures.is_multiple_of(100) {
                    tracing::warn!("cloud brain connection: {e}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
