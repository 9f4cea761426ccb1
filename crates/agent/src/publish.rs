//! The publish path of `run`: app lines into the store (a burst in one commit), publishes in
//! flight (up to `[publish] window`, polled in the
//! order they were started so the driver writes them in store order), and the choice of how
//! many stored lines go into the next publish (`[publish] batch`).
//!
//! Each publish takes a token from the rate bucket (`[publish] rate_per_s`, `burst`); with
//! none left the store waits and `run` wakes `fill` again when the next token is due.
//!
//! A flight carries the store sequence numbers and app ids of every line in it: the lines
//! leave the store, and each gets its own `delivered`, only when the module reports the
//! publish acknowledged (`+QMTPUBEX: <idx>,<msgid>,0`).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use quectel_mqtt::commands::Qos;
use thing_model::{uplink_from_value, AgentLine, Platform, Uplink, UplinkBody};
use tokio::time::Instant;

use super::{Agent, InLine, MAX_REFUSALS, REFUSAL_PAUSE};
use crate::bridge::{stored_bytes, MAX_PAYLOAD};
use crate::link::Link;
use crate::store::{Store, StoreError};

/// A publish handed to the driver: resolves with the `+QMTPUBEX` outcome.
pub(super) type PubFuture = Pin<Box<dyn Future<Output = Result<u16, quectel_mqtt::Error>> + Send>>;

/// One publish in flight and the stored lines it carries.
pub(super) struct Flight {
    /// Store sequence numbers, ascending.
    pub seqs: Vec<u64>,
    /// App ids, one per line that has one, in line order.
    pub ids: Vec<String>,
    fut: PubFuture,
}

impl Flight {
    /// A flight of `seqs` / `ids` resolving with `fut`.
    pub fn new(seqs: Vec<u64>, ids: Vec<String>, fut: PubFuture) -> Self {
        Flight { seqs, ids, fut }
    }
}

/// Publishes in flight.
#[derive(Default)]
pub(super) struct Inflight {
    items: Vec<Flight>,
}

impl Inflight {
    /// Publishes in flight.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when none is in flight.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds a publish; it is polled after the ones before it.
    pub fn push(&mut self, flight: Flight) {
        self.items.push(flight);
    }

    /// Forgets every publish in flight (the link is gone; the store still has their lines).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The next publish to complete, with its outcome. Pends forever when none is in flight.
    pub async fn next(&mut self) -> (Flight, Result<u16, quectel_mqtt::Error>) {
        if self.items.is_empty() {
            return std::future::pending().await;
        }
        std::future::poll_fn(|cx| {
            for i in 0..self.items.len() {
                if let Poll::Ready(r) = self.items[i].fut.as_mut().poll(cx) {
                    return Poll::Ready((self.items.remove(i), r));
                }
            }
            Poll::Pending
        })
        .await
    }
}

impl Agent {
    /// Checks app lines and stores the good ones in one durable commit; each bad or refused
    /// line gets an `error` line (to its source).
    pub(super) fn accept_many(&mut self, lines: Vec<InLine>) {
        let batching = self.profile.publish.batch > 1;
        let mut n = self.next_local_id;
        let mut checked = Vec::with_capacity(lines.len());
        for line in lines {
            if line.text.trim().is_empty() {
                continue;
            }
            let result = self
                .corr
                .accept(self.platform.as_ref(), &line.text, || {
                    n += 1;
                    format!("u{n}")
                })
                .map(|mut up| {
                    // A batched report reaches the cloud later than its line: keep the time
                    // the line was accepted, unless the app gave one.
                    if batching && matches!(up.body, UplinkBody::Properties(_)) {
                        up.time.get_or_insert_with(crate::now_ms);
                    }
                    stored_bytes(&up)
                });
            checked.push((line, result));
        }
        self.next_local_id = n;
        let good: Vec<&[u8]> = checked
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().map(Vec::as_slice))
            .collect();
        let mut stored = self.store.push_many(&good).into_iter();
        for (line, result) in checked {
            let result = result.and_then(|_| {
                stored
                    .next()
                    .expect("one result per good line")
                    .map(drop)
                    .map_err(|e| e.to_string())
            });
            if let Err(error) = result {
                tracing::debug!(line = line.line_no, "refused: {error}");
                self.out.to(
                    line.source,
                    &AgentLine::Error {
                        error,
                        line: Some(line.line_no),
                    },
                );
            }
        }
    }

    /// Starts publishes from the store while the window (`[publish] window`) has room.
    pub(super) fn fill(&mut self, link: &Link) {
        if let Some((from, at)) = self.resend {
            // Resend a refused publish once everything started before it has its outcome:
            // what the module took stays taken, so nothing is sent twice.
            if !self.inflight.is_empty() || Instant::now() < at {
                return;
            }
            self.sent_upto = from.saturating_sub(1);
            self.resend = None;
        }
        let batch = self.profile.publish.batch;
        while self.inflight.len() < self.profile.publish.window {
            let next = match read_next(&self.store, self.sent_upto, batch) {
                Ok(next) if next.is_empty() => return,
                Ok(next) => next,
                Err(e) => {
                    tracing::error!("{e}");
                    return;
                }
            };
            let now = std::time::Instant::now();
            if !self.rate.try_take(now) {
                self.rate_wake = Some(Instant::from_std(self.rate.ready_at(now)));
                return;
            }
            let platform = self.platform.as_ref();
            let n = if batch > 1 {
                batch_len(platform, &next, self.corr.peek_wire_id())
            } else {
                1
            };
            let encoded = if n > 1 {
                let stored: Vec<Vec<u8>> = next[..n].iter().map(|(_, b)| b.clone()).collect();
                match self.corr.encode_batch(platform, &stored) {
                    Ok(Some(done)) => Ok(done),
                    Ok(None) => Err("the cloud refused the batch it had accepted".to_string()),
                    Err(e) => Err(e),
                }
            } else {
                self.corr
                    .encode_stored(platform, &next[0].1)
                    .map(|(p, up)| (p, vec![up]))
            };
            let seqs: Vec<u64> = next[..n].iter().map(|(seq, _)| *seq).collect();
            self.sent_upto = *seqs.last().expect("at least one line");
            match encoded {
                Ok((p, ups)) => {
                    let c = link.client.clone();
                    let idx = self.profile.module.client_index;
                    let qos = if p.qos == 0 {
                        Qos::AtMostOnce
                    } else {
                        Qos::AtLeastOnce
                    };
                    let fut: PubFuture =
                        Box::pin(
                            async move { c.publish(idx, &p.topic, qos, false, p.payload).await },
                        );
                    let ids = ups.into_iter().filter_map(|u| u.id).collect();
                    self.inflight.push(Flight::new(seqs, ids, fut));
                }
                Err(error) => {
                    // Cannot happen for lines accepted by this version; never loop on it.
                    for seq in seqs {
                        let _ = self.store.remove(seq);
                        self.out.all(&AgentLine::Error {
                            error: format!("stored message {seq} dropped: {error}"),
                            line: None,
                        });
                    }
                }
            }
        }
    }

    /// A publish completed: on success its lines leave the store and each gets `delivered`.
    /// Returns why the link must be reconnected, if it must.
    pub(super) fn completed(
        &mut self,
        flight: Flight,
        result: Result<u16, quectel_mqtt::Error>,
    ) -> Option<String> {
        match result {
            Ok(_) => {
                self.refusals = 0;
                if let Err(e) = self.store.remove_many(&flight.seqs) {
                    tracing::error!("{e}");
                }
                for id in flight.ids {
                    self.out.all(&AgentLine::Delivered(id));
                }
                None
            }
            Err(quectel_mqtt::Error::Param(e)) => {
                for seq in &flight.seqs {
                    let _ = self.store.remove(*seq);
                }
                self.out.all(&AgentLine::Error {
                    error: format!(
                        "message {} refused by the transport: {e}",
                        flight.ids.join(", ")
                    ),
                    line: None,
                });
                None
            }
            // The module refused the command (e.g. its window is full by its own count): the
            // message was not taken. Send it again after the publishes before it are settled.
            Err(e @ (quectel_mqtt::Error::Module { .. } | quectel_mqtt::Error::Cme { .. }))
                if self.refusals < MAX_REFUSALS =>
            {
                self.refusals += 1;
                let first = flight.seqs[0];
                let from = self.resend.map_or(first, |(f, _)| f.min(first));
                tracing::info!(seq = first, "publish refused ({e}); sending it again");
                self.resend = Some((from, Instant::now() + REFUSAL_PAUSE));
                None
            }
            Err(e) => {
                self.inflight.clear();
                self.resend = None;
                self.refusals = 0;
                Some(format!("publish failed: {e}"))
            }
        }
    }
}

/// Up to `batch` stored lines after `after` in sequence order: `(seq, stored bytes)`.
pub(super) fn read_next(
    store: &Store,
    after: u64,
    batch: usize,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut out = Vec::new();
    let mut last = after;
    while out.len() < batch {
        match store.next_after(last)? {
            Some((seq, bytes)) => {
                last = seq;
                out.push((seq, bytes));
            }
            None => break,
        }
    }
    Ok(out)
}

/// How many of `stored` (at least 2, or 1 = no batch) the cloud packs into one publish that
/// fits the module's 1500 bytes. Trial encodings only: nothing is allocated or remembered.
pub(super) fn batch_len(platform: &dyn Platform, stored: &[(u64, Vec<u8>)], wire: u32) -> usize {
    let mut ups: Vec<Uplink> = Vec::with_capacity(stored.len());
    let mut best = 1;
    for (_, bytes) in stored {
        let parsed = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| uplink_from_value(&v).ok());
        let Some(up) = parsed else { break };
        ups.push(up);
        if ups.len() < 2 {
            continue;
        }
        match platform.encode_batch(&ups, wire) {
            Ok(Some(p)) if p.payload.len() <= MAX_PAYLOAD => best = ups.len(),
            _ => break,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn inflight_completes_in_any_order_and_pends_when_empty() {
        let mut f = Inflight::default();
        let slow: PubFuture = Box::pin(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(1)
        });
        let fast: PubFuture = Box::pin(async { Ok(2) });
        f.push(Flight::new(vec![1], vec!["a".into()], slow));
        f.push(Flight::new(vec![2, 3], vec!["b".into(), "c".into()], fast));
        let (first, _) = f.next().await;
        assert_eq!(
            (first.seqs, first.ids),
            (vec![2, 3], vec!["b".into(), "c".into()])
        );
        assert_eq!(f.next().await.0.seqs, vec![1]);
        let empty = tokio::time::timeout(Duration::from_millis(20), f.next()).await;
        assert!(empty.is_err());
    }
}
