//! `run`: the supervisor. App lines (stdin, unix socket) are accepted into the store, then
//! published in order with up to `[publish] window` (≤ 5) in flight, property reports packed
//! into one publish where the profile asks for it (`[publish] batch`); downlinks become app lines; link loss
//! (`+QMTSTAT`, `+QMTPING`, `RDY`, timeouts, a closed port) leads to a reconnect with
//! exponential backoff and jitter, fresh credentials and re-subscription. SIGINT / SIGTERM:
//! stop reading, finish in-flight publishes, `AT+QMTDISC`, `AT+QMTCLOSE`, return.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quectel_mqtt::commands::Qos;
use quectel_mqtt::driver::DriverEvent;
use quectel_mqtt::Urc;
use thing_model::{AgentLine, LinkState, Platform, UplinkBody};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::bridge::{stored_bytes, Correlator};
use crate::clock::Clock;
use crate::link::{connect, ConnectFailure, Link};
use crate::profile::Profile;
use crate::rate::TokenBucket;
use crate::store::Store;
use crate::supervisor::{Cause, Supervisor};
use crate::AgentError;

/// One app line and where it came from (0 = stdin, n = socket client n).
#[derive(Debug, Clone)]
pub struct InLine {
    /// Source: 0 stdin, otherwise a socket connection.
    pub source: u64,
    /// 1-based line number within that source.
    pub line_no: u64,
    /// The text.
    pub text: String,
}

/// Where agent lines go: stdout and every socket client.
#[derive(Clone)]
pub struct Outputs {
    stdout: mpsc::UnboundedSender<String>,
    sockets: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<String>>>>,
}

impl Outputs {
    /// Outputs writing to `stdout` (and sockets added later).
    pub fn new(stdout: mpsc::UnboundedSender<String>) -> Self {
        Outputs {
            stdout,
            sockets: Arc::default(),
        }
    }

    /// To everybody.
    pub fn all(&self, line: &AgentLine) {
        let text = line.to_line();
        let _ = self.stdout.send(text.clone());
        let sockets = self.sockets.lock().expect("outputs lock");
        for tx in sockets.values() {
            let _ = tx.send(text.clone());
        }
    }

    /// To the source of a line.
    pub fn to(&self, source: u64, line: &AgentLine) {
        let text = line.to_line();
        if source == 0 {
            let _ = self.stdout.send(text);
        } else if let Some(tx) = self.sockets.lock().expect("outputs lock").get(&source) {
            let _ = tx.send(text);
        }
    }
}

/// Options of `run` besides the profile.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Unix socket to serve app lines on.
    pub socket: Option<PathBuf>,
}

/// How often a persisting backlog is reported.
const BACKLOG_REPORT: Duration = Duration::from_secs(5);

#[path = "publish.rs"]
mod publish;
use publish::Inflight;

/// Most app lines stored in one commit.
const ACCEPT_GROUP: usize = 256;

/// Refused publishes in a row (the module answered `AT+QMTPUBEX` with `ERROR`) after which
/// the link is taken for broken and reconnected.
const MAX_REFUSALS: u32 = 3;

/// How long after a refused publish (and after the window drained) it is sent again.
const REFUSAL_PAUSE: Duration = Duration::from_millis(200);

enum LinkSlot {
    Down {
        retry_at: Instant,
    },
    Connecting(JoinHandle<Result<Link, ConnectFailure>>),
    /// A recovery step, then the backoff delay.
    Recovering(JoinHandle<()>),
    Up(Link),
}

enum SlotEvent {
    Connected(Result<Link, ConnectFailure>),
    Retry,
    Event(Result<DriverEvent, broadcast::error::RecvError>),
}

async fn slot_event(slot: &mut LinkSlot) -> SlotEvent {
    match slot {
        LinkSlot::Connecting(h) => SlotEvent::Connected(match h.await {
            Ok(r) => r,
            Err(e) => Err(ConnectFailure {
                cause: crate::supervisor::Cause::BringUp,
                message: format!("connect task: {e}"),
                transcript: Vec::new(),
            }),
        }),
        LinkSlot::Down { retry_at } => {
            tokio::time::sleep_until(*retry_at).await;
            SlotEvent::Retry
        }
        LinkSlot::Recovering(h) => {
            let _ = h.await;
            SlotEvent::Retry
        }
        LinkSlot::Up(link) => SlotEvent::Event(link.events.recv().await),
    }
}

/// Spawns the stdin reader.
pub fn spawn_stdin(tx: mpsc::Sender<InLine>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        let mut n = 0;
        while let Ok(Some(text)) = lines.next_line().await {
            n += 1;
            if tx
                .send(InLine {
                    source: 0,
                    line_no: n,
                    text,
                })
                .await
                .is_err()
            {
                break;
            }
        }
    });
}

/// Spawns the stdout writer; returns its sender.
pub fn spawn_stdout() -> (mpsc::UnboundedSender<String>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let task = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(line) = rx.recv().await {
            let _ = out.write_all(format!("{line}\n").as_bytes()).await;
            let _ = out.flush().await;
        }
    });
    (tx, task)
}

/// Serves app lines on a unix socket: each connection reads lines and gets agent lines.
pub fn spawn_socket(
    path: PathBuf,
    tx: mpsc::Sender<InLine>,
    outputs: Outputs,
) -> Result<(), AgentError> {
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| AgentError::Runtime(format!("--socket {}: {e}", path.display())))?;
    tokio::spawn(async move {
        let mut next_id = 1u64;
        while let Ok((stream, _)) = listener.accept().await {
            let source = next_id;
            next_id += 1;
            let (r, mut w) = stream.into_split();
            let (otx, mut orx) = mpsc::unbounded_channel::<String>();
            outputs
                .sockets
                .lock()
                .expect("outputs lock")
                .insert(source, otx);
            let sockets = outputs.sockets.clone();
            tokio::spawn(async move {
                while let Some(line) = orx.recv().await {
                    if w.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(r).lines();
                let mut n = 0;
                while let Ok(Some(text)) = lines.next_line().await {
                    n += 1;
                    if tx
                        .send(InLine {
                            source,
                            line_no: n,
                            text,
                        })
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                sockets.lock().expect("outputs lock").remove(&source);
            });
        }
    });
    Ok(())
}

struct Agent {
    profile: Arc<Profile>,
    platform: Arc<dyn Platform>,
    store: Store,
    corr: Correlator,
    out: Outputs,
    inflight: Inflight,
    sent_upto: u64,
    /// A publish the module refused: its first sequence number, and when to send it again.
    resend: Option<(u64, Instant)>,
    /// Refused publishes since the last acknowledged one.
    refusals: u32,
    /// The cloud's per-device publish rate (`[publish] rate_per_s`, `burst`).
    rate: TokenBucket,
    /// When the rate allows the next publish, if one is waiting for it.
    rate_wake: Option<Instant>,
    next_local_id: u64,
    reported_backlog: u64,
    reported_at: Instant,
    supervisor: Supervisor,
    /// An alarm the app should see in `status` lines until the next good connect.
    alarm: Option<String>,
    /// When the module last reported anything about the link.
    last_heard: Instant,
    liveness: Duration,
    liveness_topic: Option<quectel_mqtt::commands::TopicFilter>,
    probe: Option<JoinHandle<Result<(), quectel_mqtt::Error>>>,
    /// The time credentials are signed with (host, network or cloud time).
    clock: Arc<Mutex<Clock>>,
}

impl Agent {
    fn status(&mut self, state: LinkState, reason: Option<String>) {
        self.reported_backlog = self.store.len();
        self.reported_at = Instant::now();
        let details = self.details();
        self.out.all(&AgentLine::Status {
            state,
            backlog: Some(self.store.len()),
            reason,
            details,
        });
    }

    fn downlink(&mut self, topic: &str, payload: &[u8]) {
        let timeout_ms = (self.profile.agent.reply_timeout_s * 1000) as i64;
        match self.platform.decode(topic, payload) {
            Ok(Some(d)) => {
                if let thing_model::Downlink::Time(sync) = &d {
                    let status = self.clock.lock().expect("clock lock").on_time_sync(sync);
                    tracing::info!(skew_ms = status.skew_ms, "clock: {}", status.reason);
                }
                for line in self.corr.downlink(d, crate::now_ms(), timeout_ms) {
                    self.out.all(&line);
                }
            }
            Ok(None) => {}
            Err(e) => self.out.all(&AgentLine::Error {
                error: e.to_string(),
                line: None,
            }),
        }
    }

    /// Asks the cloud for its clock (Aliyun NTP, Huawei `$time_sync`); the answer becomes a
    /// `{"time": …}` line. Clouds without time sync are skipped.
    fn request_time(&mut self, link: &Link) {
        let wire = self.corr.wire_id();
        let stamp = self.clock.lock().expect("clock lock").now_ms();
        let Ok(p) = self.platform.time_request(stamp, wire) else {
            return;
        };
        if crate::bridge::check_publish(&p).is_err() {
            return;
        }
        let c = link.client.clone();
        let idx = self.profile.module.client_index;
        tokio::spawn(async move {
            if let Err(e) = c
                .publish(idx, &p.topic, Qos::AtMostOnce, false, p.payload)
                .await
            {
                tracing::debug!("time request: {e}");
            }
        });
    }

    /// `{"status":"backlog","backlog":n}` while a backlog persists (at most every 5 s), and
    /// once when it has drained.
    fn report_backlog(&mut self) {
        let now = self.store.len();
        let drained = now == 0 && self.reported_backlog > 0;
        let stale = now > 0 && self.reported_at.elapsed() >= BACKLOG_REPORT;
        if now != self.reported_backlog && (drained || stale) {
            self.status(LinkState::Backlog, None);
        }
    }

    fn expire_replies(&mut self) {
        for up in self.corr.expired(crate::now_ms()) {
            if let UplinkBody::Reply(r) = &up.body {
                tracing::info!(id = %r.to_id, "answering a downlink the app did not answer in time");
            }
            if let Err(e) = self.store.push(&stored_bytes(&up)) {
                tracing::warn!("timeout reply not stored: {e}");
            }
        }
    }
}

/// Runs the agent until `shutdown` resolves. Lines arrive on `inputs`.
pub async fn run(
    profile: Profile,
    platform: Box<dyn Platform>,
    mut inputs: mpsc::Receiver<InLine>,
    out: Outputs,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let store_cfg = profile.store.clone().ok_or_else(|| {
        AgentError::Profile(crate::profile::ProfileError::new(
            "store.path",
            "is missing; `run` needs [store] path",
        ))
    })?;
    let store = Store::open(
        &profile.resolve(&store_cfg.path),
        store_cfg.max_messages,
        store_cfg.max_bytes,
    )
    .map_err(|e| AgentError::Runtime(e.to_string()))?;
    // Fail fast (exit 2) when no connect script can be built at all, e.g. an Aliyun profile
    // that still needs `provision --register`.
    crate::script::build(&profile, platform.as_ref(), crate::now_ms())
        .map_err(|e| AgentError::Usage(e.to_string()))?;
    let profile = Arc::new(profile);
    let platform: Arc<dyn Platform> = Arc::from(platform);
    let client_index = profile.module.client_index;
    let mut agent = Agent {
        profile: profile.clone(),
        platform: platform.clone(),
        store,
        corr: Correlator::new(),
        out,
        inflight: Inflight::default(),
        sent_upto: 0,
        resend: None,
        refusals: 0,
        rate: {
            let (per_s, burst) = profile.publish.rate(profile.cloud.platform);
            TokenBucket::new(per_s, burst, std::time::Instant::now())
        },
        rate_wake: None,
        next_local_id: crate::now_ms() as u64,
        reported_backlog: 0,
        reported_at: Instant::now(),
        supervisor: Supervisor::new(profile.recovery.supervisor(&profile.agent)),
        alarm: None,
        last_heard: Instant::now(),
        liveness: profile.recovery.liveness(profile.cloud.keepalive),
        liveness_topic: None,
        probe: None,
        clock: Arc::new(Mutex::new(Clock::new())),
    };
    if !agent.store.is_empty() {
        tracing::info!(
            backlog = agent.store.len(),
            "backlog from an earlier run goes first"
        );
    }
    agent.status(LinkState::Connecting, None);
    let mut slot = LinkSlot::Connecting(tokio::spawn(connect(
        profile.clone(),
        platform.clone(),
        agent.clock.clone(),
    )));
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut inputs_open = true;
    tokio::pin!(shutdown);
    loop {
        // Biased: a publish result is handled before a message that arrived after it (so
        // `delivered` precedes the cloud's `ack`), and shutdown before anything.
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            (flight, result) = agent.inflight.next() => {
                agent.last_heard = Instant::now();
                if let Some(reason) = agent.completed(flight, result) {
                    let transcript = match &slot {
                        LinkSlot::Up(link) => link.client.transcript().await,
                        _ => Vec::new(),
                    };
                    agent.link_down(&mut slot, Cause::PublishFailed, reason, transcript);
                }
            },
            probe = async { agent.probe.as_mut().expect("guarded").await }, if agent.probe.is_some() => {
                agent.probe = None;
                match probe {
                    Ok(Ok(())) => agent.last_heard = Instant::now(),
                    Ok(Err(e)) => {
                        let transcript = match &slot {
                            LinkSlot::Up(link) => link.client.transcript().await,
                            _ => Vec::new(),
                        };
                        let reason = format!("liveness probe: nothing heard for {} s and the broker did not answer a re-subscription: {e}", agent.liveness.as_secs());
                        agent.link_down(&mut slot, Cause::Silent, reason, transcript);
                    }
                    Err(e) => tracing::warn!("liveness probe task: {e}"),
                }
            },
            ev = slot_event(&mut slot) => {
                let lost = match ev {
                    SlotEvent::Connected(Ok(link)) => {
                        agent.connected(&link);
                        agent.sent_upto = 0;
                        agent.status(LinkState::Connected, None);
                        agent.request_time(&link);
                        slot = LinkSlot::Up(link);
                        None
                    }
                    SlotEvent::Connected(Err(failure)) => {
                        let reason = format!("connect failed: {}", failure.message);
                        agent.link_down(&mut slot, failure.cause, reason, failure.transcript);
                        None
                    }
                    SlotEvent::Retry => {
                        agent.status(LinkState::Connecting, None);
                        slot = LinkSlot::Connecting(tokio::spawn(connect(profile.clone(), platform.clone(), agent.clock.clone())));
                        None
                    }
                    SlotEvent::Event(Ok(DriverEvent::Urc(Urc::Recv(m)))) => {
                        agent.last_heard = Instant::now();
                        if m.client == client_index {
                            agent.downlink(&m.topic, &m.payload);
                        }
                        None
                    }
                    SlotEvent::Event(Ok(ev)) => {
                        agent.last_heard = Instant::now();
                        supervise::link_lost(&ev, client_index)
                    }
                    SlotEvent::Event(Err(broadcast::error::RecvError::Lagged(n))) => {
                        tracing::warn!("{n} module events lost (lagging)");
                        None
                    }
                    SlotEvent::Event(Err(broadcast::error::RecvError::Closed)) => {
                        Some((Cause::Port, "driver stopped".into()))
                    }
                };
                if let Some((cause, reason)) = lost {
                    let transcript = match &slot {
                        LinkSlot::Up(link) => link.client.transcript().await,
                        _ => Vec::new(),
                    };
                    agent.link_down(&mut slot, cause, reason, transcript);
                }
            },
            _ = sleep_until_some(agent.rate_wake) => agent.rate_wake = None,
            line = inputs.recv(), if inputs_open => match line {
                Some(line) => {
                    // What else has arrived is stored in the same commit.
                    let mut lines = vec![line];
                    while lines.len() < ACCEPT_GROUP {
                        match inputs.try_recv() {
                            Ok(line) => lines.push(line),
                            Err(_) => break,
                        }
                    }
                    agent.accept_many(lines);
                }
                None => inputs_open = false,
            },
            _ = tick.tick() => {
                agent.expire_replies();
                agent.report_backlog();
                if let LinkSlot::Up(link) = &slot {
                    agent.check_liveness(link);
                }
            }
        }
        if let LinkSlot::Up(link) = &slot {
            agent.fill(link);
        }
    }
    // Shutdown: no new lines; finish what is in flight (bounded), then DISC and CLOSE.
    tracing::info!("shutting down");
    if let LinkSlot::Up(link) = &slot {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !agent.inflight.is_empty() {
            match tokio::time::timeout_at(deadline, agent.inflight.next()).await {
                Ok((flight, Ok(n))) => {
                    agent.completed(flight, Ok(n));
                }
                Ok((_, Err(e))) => tracing::warn!("publish during shutdown: {e}"),
                Err(_) => break,
            }
        }
        link.shutdown(client_index).await;
    }
    match &slot {
        LinkSlot::Connecting(h) => h.abort(),
        LinkSlot::Recovering(h) => h.abort(),
        _ => {}
    }
    agent.status(LinkState::Disconnected, Some("shutdown".into()));
    Ok(())
}

/// Resolves at `at`; pends forever on `None`.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[path = "run_supervise.rs"]
mod supervise;

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
