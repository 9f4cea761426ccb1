//! `run`'s link supervision: what happens when the link goes down (the supervisor's decision,
//! the app's status line, the recovery step with the AT transcript in the log), the liveness
//! probe for links that die without a URC, and the counters in `status` lines.

use quectel_mqtt::driver::DriverEvent;
use quectel_mqtt::Urc;
use serde_json::{Map, Value};
use thing_model::LinkState;
use tokio::time::Instant;

use super::{Agent, LinkSlot};
use crate::link::Link;
use crate::supervisor::Cause;

/// Whether a driver event means the link is gone, and why.
pub(super) fn link_lost(ev: &DriverEvent, client: u8) -> Option<(Cause, String)> {
    match ev {
        DriverEvent::Urc(Urc::Stat { client: c, code }) if *c == client => Some((
            Cause::Dropped(code.code()),
            format!("+QMTSTAT: {c},{}: {code}", code.code()),
        )),
        DriverEvent::Urc(Urc::Ping { client: c, result }) if *c == client => Some((
            Cause::PingFailed,
            format!("+QMTPING: {c},{result}: the keep-alive ping failed"),
        )),
        DriverEvent::Urc(Urc::Ready) => {
            Some((Cause::ModuleRestarted, "the module restarted (RDY)".into()))
        }
        DriverEvent::Unresponsive => Some((
            Cause::AtChannelDead,
            "the module stopped answering AT commands".into(),
        )),
        DriverEvent::PortClosed(e) => Some((Cause::Port, format!("serial port closed: {e}"))),
        _ => None,
    }
}

impl Agent {
    /// The link (or an attempt to make it) failed: asks the supervisor what next, tells the
    /// app, and schedules the next attempt — after a recovery step when the ladder says so.
    pub(super) fn link_down(
        &mut self,
        slot: &mut LinkSlot,
        cause: Cause,
        reason: String,
        transcript: Vec<String>,
    ) {
        self.inflight.clear();
        self.resend = None;
        self.probe = None;
        let decision =
            self.supervisor
                .failed(cause, &reason, std::time::Instant::now(), fastrand::f64());
        if let Some(alarm) = &decision.alarm {
            tracing::error!("{alarm}");
        }
        self.alarm = decision.alarm;
        tracing::warn!(retry_in = ?decision.delay, "link down: {reason}");
        self.status(LinkState::Disconnected, Some(reason));
        // The old link goes to a task that closes it once the module is not taking a
        // command's data (`Link::drain`); the next attempt waits for that task.
        let old = match std::mem::replace(
            slot,
            LinkSlot::Down {
                retry_at: Instant::now(),
            },
        ) {
            LinkSlot::Up(link) => Some(link),
            _ => None,
        };
        let Some(rung) = decision.rung else {
            *slot = match old {
                Some(link) => {
                    let delay = decision.delay;
                    LinkSlot::Recovering(tokio::spawn(async move {
                        let started = Instant::now();
                        link.drain().await;
                        tokio::time::sleep_until(started + delay).await;
                    }))
                }
                None => LinkSlot::Down {
                    retry_at: Instant::now() + decision.delay,
                },
            };
            return;
        };
        tracing::warn!(
            step = %rung,
            "recovery step after repeated failures; the last AT lines (secrets masked):\n{}",
            transcript.join("\n")
        );
        let profile = self.profile.clone();
        let delay = decision.delay;
        *slot = LinkSlot::Recovering(tokio::spawn(async move {
            if let Some(link) = old {
                link.drain().await;
            }
            match crate::recovery::take(&profile, rung).await {
                Ok(()) => tracing::info!(step = %rung, "recovery step done"),
                Err(e) => tracing::warn!(step = %rung, "recovery step failed: {e}"),
            }
            tokio::time::sleep(delay).await;
        }));
    }

    /// The link is up; nothing heard since `last_heard`.
    pub(super) fn connected(&mut self, link: &Link) {
        self.supervisor.connected(std::time::Instant::now());
        self.alarm = None;
        self.last_heard = Instant::now();
        self.liveness_topic = link.liveness_topic.clone();
    }

    /// Starts the liveness probe when the link has been silent for the liveness window: a
    /// re-subscription to the first topic, whose `+QMTSUB` proves the broker still answers.
    pub(super) fn check_liveness(&mut self, link: &Link) {
        if self.probe.is_some() || self.last_heard.elapsed() < self.liveness {
            return;
        }
        let Some(topic) = self.liveness_topic.clone() else {
            return;
        };
        tracing::debug!("nothing heard for {:?}: liveness probe", self.liveness);
        let client = link.client.clone();
        let idx = self.profile.module.client_index;
        self.probe = Some(tokio::spawn(async move {
            client.subscribe(idx, vec![topic]).await.map(|_| ())
        }));
    }

    /// The keys `status` lines carry besides the contract's: counters, backlog age, alarm.
    pub(super) fn details(&mut self) -> Map<String, Value> {
        let c = self.supervisor.counters();
        let mut m = Map::new();
        m.insert("connects".into(), Value::from(c.connects));
        if !c.by_cause.is_empty() {
            m.insert("reconnects".into(), serde_json::json!(c.by_cause));
        }
        if let Some(last) = &c.last_cause {
            m.insert("last_cause".into(), Value::from(last.clone()));
        }
        if !c.rungs.is_empty() {
            m.insert("recovery_steps".into(), serde_json::json!(c.rungs));
        }
        match self.store.oldest_age() {
            Ok(Some(age)) => {
                m.insert("backlog_age_s".into(), Value::from(age.as_secs()));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("{e}"),
        }
        if let Some(alarm) = &self.alarm {
            m.insert("alarm".into(), Value::from(alarm.clone()));
        }
        let clock = self.clock.lock().expect("clock lock").status();
        m.insert(
            "clock".into(),
            serde_json::json!({"source": clock.source.as_str(), "skew_ms": clock.skew_ms}),
        );
        m
    }
}
