//! The soak's witness at the broker: an MQTT client on mosquitto itself (not through
//! cloud-sim) with a persistent session (clean session off, QoS 1), subscribed to the
//! device's property topic. It records the `seq` of every arrival in arrival order, so the
//! end report can count missing records, duplicates and out-of-order first arrivals.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::watch;

/// What arrived so far.
#[derive(Debug, Default)]
pub struct Arrivals {
    /// Every `seq` in arrival order (duplicates included).
    pub order: Vec<u64>,
    /// Distinct `seq`s.
    pub unique: HashSet<u64>,
    /// First arrivals whose `seq` is below an earlier first arrival's, with that higher
    /// `seq`: records overtaken by later ones.
    pub out_of_order: Vec<(u64, u64)>,
    /// Times the arrival stream went back (an arrival at or below the one before it). The
    /// agent publishes its store in order, so the stream rises while a link lasts and goes
    /// back only when the agent re-sends from its oldest waiting record after a reconnect or
    /// a restart (or the broker re-delivers to the verifier after a broker restart). Every
    /// out-of-order first arrival follows a rewind. Module-level retransmissions (no
    /// disruption the agent sees) rewind too, so this is reported, not judged.
    pub rewinds: u64,
    /// Payloads on the topic that carried no `seq`.
    pub unreadable: Vec<String>,
    highest_first: u64,
    last: u64,
}

impl Arrivals {
    fn add(&mut self, seq: u64) {
        if seq <= self.last {
            self.rewinds += 1;
        }
        self.last = seq;
        self.order.push(seq);
        if self.unique.insert(seq) {
            if seq < self.highest_first {
                self.out_of_order.push((seq, self.highest_first));
            }
            self.highest_first = self.highest_first.max(seq);
        }
    }
}

/// The subscriber; dropping it stops it.
pub struct Verifier {
    /// Arrivals so far.
    pub arrivals: Arc<Mutex<Arrivals>>,
    /// The number of distinct `seq`s, updated on each new one.
    pub progress: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `seq` in a property report of any of the three clouds: Aliyun `params.seq`, OneNET
/// `params.seq.value`, Huawei `services[].properties.seq`.
pub fn seq_of(payload: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let direct = |p: &Value| match p.get("seq") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::Object(o)) => o.get("value").and_then(Value::as_u64),
        _ => None,
    };
    if let Some(s) = v.get("params").and_then(direct) {
        return Some(s);
    }
    v.get("services")?
        .as_array()?
        .iter()
        .find_map(|s| s.get("properties").and_then(direct))
}

impl Verifier {
    /// Connects to `127.0.0.1:port` and subscribes to `topic` (the broker's spelling);
    /// returns once the subscription is acknowledged.
    pub async fn start(port: u16, topic: &str) -> Result<Verifier, String> {
        let mut opts = MqttOptions::new(
            format!("soak-verifier-{}", std::process::id()),
            "127.0.0.1",
            port,
        );
        opts.set_keep_alive(Duration::from_secs(30));
        // A persistent session: messages published while the broker restarts, or before
        // the verifier is back, wait for it at the broker.
        opts.set_clean_session(false);
        let (client, mut eventloop) = AsyncClient::new(opts, 64);
        client
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .map_err(|e| format!("verifier subscribe: {e}"))?;
        let arrivals = Arc::new(Mutex::new(Arrivals::default()));
        let (tx, progress) = watch::channel(0usize);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let log = arrivals.clone();
        let topic_owned = topic.to_string();
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            // Kept alive so the event loop keeps its request channel.
            let _client = client;
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) if p.topic == topic_owned => {
                        let mut a = log.lock().unwrap();
                        match seq_of(&p.payload) {
                            Some(seq) => a.add(seq),
                            None => a
                                .unreadable
                                .push(String::from_utf8_lossy(&p.payload).into_owned()),
                        }
                        let _ = tx.send(a.unique.len());
                    }
                    Ok(_) => {}
                    // The broker restarts during the soak: try again until it is back.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(15), ready_rx)
            .await
            .map_err(|_| "the verifier's subscription was not acknowledged in 15 s".to_string())?
            .map_err(|_| "the verifier stopped".to_string())?;
        Ok(Verifier {
            arrivals,
            progress,
            task,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_in_each_cloud_and_order_accounting() {
        assert_eq!(seq_of(br#"{"id":"1","params":{"seq":7}}"#), Some(7));
        assert_eq!(
            seq_of(br#"{"params":{"seq":{"value":8,"time":1}}}"#),
            Some(8)
        );
        assert_eq!(
            seq_of(br#"{"services":[{"service_id":"S","properties":{"seq":9}}]}"#),
            Some(9)
        );
        assert_eq!(seq_of(br#"{"params":{"temp":1}}"#), None);
        let mut a = Arrivals::default();
        for s in [1, 2, 3, 2, 3, 4, 6, 5] {
            a.add(s);
        }
        assert_eq!(a.order.len(), 8);
        assert_eq!(a.unique.len(), 6);
        // 2 and 3 again are retries; 5 first seen after 6 is out of order.
        assert_eq!(a.out_of_order, vec![(5, 6)]);
        // Back at the second 2 and at 5.
        assert_eq!(a.rewinds, 2);
    }
}
