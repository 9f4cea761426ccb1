//! One connection attempt: open the port, run the script (bring-up, configure, open,
//! connect, subscribe) with fresh credentials, and hand back the connected link.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use quectel_mqtt::commands::{At, Close, Disconnect, SimState, SubAck, TopicFilter};
use quectel_mqtt::driver::{open_serial_async, Client, DriverEvent};
use quectel_mqtt::session::SessionConfig;
use thing_model::Platform;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::clock::{module_network_time, Clock};
use crate::profile::Profile;
use crate::script::{self, Step};
use crate::supervisor::Cause;

/// A clock correction larger than this re-signs the credentials.
const RESIGN_AFTER_MS: i64 = 1_000;

/// How much longer than the transport's input quiet (`agent.input_quiet_s`) [`Link::drain`]
/// keeps a link at most: its probe afterwards.
const DRAIN_MARGIN: Duration = Duration::from_secs(5);

/// A connected module session. Dropping it stops the driver task.
pub struct Link {
    /// The driver handle.
    pub client: Client,
    /// Events since the connection was made.
    pub events: broadcast::Receiver<DriverEvent>,
    /// The first subscription, re-subscribed to as the liveness probe.
    pub liveness_topic: Option<TopicFilter>,
    /// The driver session's `input_quiet`.
    input_quiet: Duration,
    task: JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
    /// Gives the link up: keeps the driver until the module has shown it is not taking a
    /// command's data, then closes it. A publish whose `>` came after its timeout is answered
    /// with its own payload by the driver's session (see quectel-mqtt's `session/input.rs`);
    /// dropped now, the next open of the port would meet a module still waiting for that
    /// payload, and the next commands would be published as it (found by the soak). Waits at
    /// most `agent.input_quiet_s` and a margin; when the driver stopped first or that passed,
    /// the next open settles the module instead (`data_mode`).
    pub async fn drain(self) {
        let deadline = Instant::now() + self.input_quiet + DRAIN_MARGIN;
        loop {
            if self.client.is_stopped() || Instant::now() >= deadline {
                crate::data_mode::rearm();
                return;
            }
            if !self.client.may_be_taking_data().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `AT+QMTDISC` then `AT+QMTCLOSE` (errors logged, not returned).
    pub async fn shutdown(&self, client_index: u8) {
        if let Err(e) = self
            .client
            .execute(Disconnect {
                client: client_index,
            })
            .await
        {
            tracing::warn!("AT+QMTDISC: {e}");
        }
        if let Err(e) = self
            .client
            .execute(Close {
                client: client_index,
            })
            .await
        {
            tracing::debug!("AT+QMTCLOSE: {e}");
        }
    }
}

fn step_name(step: &Step) -> String {
    let line = step.line();
    line.split(['=', '?']).next().unwrap_or("AT").to_string()
}

/// Why a connect attempt failed: the cause for the supervisor, the message for people, and
/// the AT transcript up to the failure (secrets masked) for the log.
#[derive(Debug, Clone)]
pub struct ConnectFailure {
    /// The classified cause.
    pub cause: Cause,
    /// What failed, in words (no secret).
    pub message: String,
    /// The last AT lines (empty when the port never opened).
    pub transcript: Vec<String>,
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A failed script step: its cause and message.
#[derive(Debug, Clone)]
pub struct StepError {
    /// The classified cause.
    pub cause: Cause,
    /// What failed, in words.
    pub message: String,
}

impl From<String> for StepError {
    fn from(message: String) -> Self {
        StepError {
            cause: Cause::BringUp,
            message,
        }
    }
}

impl From<StepError> for String {
    fn from(e: StepError) -> String {
        e.message
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Opens the port and runs the whole script with credentials signed on `clock`. When the
/// module's network time moves the clock (a host clock that is not sane), the credentials are
/// signed again before they are sent.
pub async fn connect(
    profile: Arc<Profile>,
    platform: Arc<dyn Platform>,
    clock: Arc<Mutex<Clock>>,
) -> Result<Link, ConnectFailure> {
    let now = || clock.lock().expect("clock lock").now_ms();
    let failure = |cause, message| ConnectFailure {
        cause,
        message,
        transcript: Vec::new(),
    };
    let mut script = script::build(&profile, platform.as_ref(), now())
        .map_err(|e| failure(Cause::BringUp, format!("credentials: {e}")))?;
    let mut port = open_serial_async(&profile.module.port, profile.module.baud)
        .await
        .map_err(|e| {
            failure(
                Cause::Port,
                format!("cannot open {}: {e}", profile.module.port),
            )
        })?;
    // Found by the soak (issue 10): a module left in a publish's `>` input by an earlier
    // process would publish our first AT lines as that payload; see `data_mode`.
    crate::data_mode::settle_once(&mut port).await;
    let input_quiet = Duration::from_secs(u64::from(profile.agent.input_quiet_s));
    let (client, task) = Client::spawn_with(
        port,
        SessionConfig {
            input_quiet,
            ..SessionConfig::default()
        },
    );
    let events = client.events();
    // Dropping `link` on an error path stops the driver task.
    let mut link = Link {
        client,
        events,
        liveness_topic: None,
        input_quiet,
        task,
    };
    // Let a pending power-up `RDY` drain before the first command.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut i = 0;
    while i < script.steps.len() {
        let step = &script.steps[i];
        if matches!(step, Step::NetworkTime) {
            let network = module_network_time(&link.client).await;
            let (before, status) = {
                let mut clock = clock.lock().expect("clock lock");
                let before = clock.skew_ms();
                (before, clock.on_network_time(network))
            };
            tracing::info!(
                source = status.source.as_str(),
                skew_ms = status.skew_ms,
                "clock: {}",
                status.reason
            );
            if (status.skew_ms - before).abs() > RESIGN_AFTER_MS {
                // The clock moved: sign again with the chosen time (same steps, same order).
                script = script::build(&profile, platform.as_ref(), now())
                    .map_err(|e| failure(Cause::BringUp, format!("credentials: {e}")))?;
            }
            i += 1;
            continue;
        }
        if let Err(e) = run_step(&link.client, &profile, step).await {
            let transcript = link.client.transcript().await;
            link.drain().await;
            return Err(ConnectFailure {
                cause: e.cause,
                message: e.message,
                transcript,
            });
        }
        i += 1;
    }
    // Only what happens from now on matters (a power-up `RDY` seen earlier does not).
    link.events = link.client.events();
    link.liveness_topic = script.steps.iter().find_map(|step| match step {
        Step::Subscribe(_, topics) => topics.first().cloned(),
        _ => None,
    });
    Ok(link)
}

/// Runs one script step (bring-up steps check and wait as `run` needs).
pub(crate) async fn run_step(
    client: &Client,
    profile: &Profile,
    step: &Step,
) -> Result<(), StepError> {
    let name = step_name(step);
    tracing::debug!(command = %name, "running");
    let fail = |e: quectel_mqtt::Error| {
        let cause = Cause::of_error(&e, matches!(step, Step::At));
        let e = e.to_string();
        let message = if e.starts_with(&name) {
            e
        } else {
            format!("{name}: {e}")
        };
        StepError { cause, message }
    };
    match step {
        Step::At => {
            let mut last = None;
            for _ in 0..3 {
                match client.execute(At).await {
                    Ok(()) => return Ok(()),
                    Err(e) => last = Some(e),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            return Err(fail(last.expect("three attempts")));
        }
        Step::EchoOff => client
            .execute(quectel_mqtt::commands::SetEcho { on: false })
            .await
            .map_err(fail)?,
        Step::SimReady => {
            let state = client
                .execute(quectel_mqtt::commands::SimStatusQuery)
                .await
                .map_err(fail)?;
            if state != SimState::Ready {
                return Err(format!("{name}: the SIM is not ready ({state:?})").into());
            }
        }
        Step::Signal => {
            let s = client
                .execute(quectel_mqtt::commands::SignalQuality)
                .await
                .map_err(fail)?;
            tracing::info!(signal = ?s, "signal quality");
        }
        Step::Registered => {
            let limit = profile.module.registration_timeout_s.max(1);
            let mut waited = 0;
            loop {
                let r = client
                    .execute(quectel_mqtt::commands::RegistrationQuery)
                    .await
                    .map_err(fail)?;
                if r.status.is_registered() {
                    break;
                }
                if waited >= limit {
                    return Err(format!(
                        "{name}: not registered on the network after {limit} s ({:?}; module.registration_timeout_s)",
                        r.status
                    )
                    .into());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                waited += 1;
            }
        }
        Step::Apn(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::NetworkTime => match module_network_time(client).await {
            Some(ms) => tracing::info!(utc = %crate::clock::format_ms(ms), "network time"),
            None => tracing::warn!("{name}: no network time"),
        },
        Step::RecvMode(c) => client.execute(*c).await.map_err(fail)?,
        Step::Keepalive(c) => client.execute(*c).await.map_err(fail)?,
        Step::Timeout(c) => client.execute(*c).await.map_err(fail)?,
        Step::EditTimeout(c) => match client.execute(*c).await {
            Ok(()) => {}
            // Firmware before the option (the guide v1.0) refuses it.
            Err(e @ (quectel_mqtt::Error::Module { .. } | quectel_mqtt::Error::Cme { .. })) => {
                tracing::warn!(
                    "{name}: the module does not take edit/timeout ({e}): a publish whose \
                     payload bytes are lost leaves it waiting for them"
                );
            }
            Err(e) => return Err(fail(e)),
        },
        Step::Ssl(c) => client.execute(*c).await.map_err(fail)?,
        Step::DeleteFile(c) => {
            // The file may not be there yet ("not found" is the usual answer).
            if let Err(e) = client.execute(c.clone()).await {
                tracing::debug!("{name} {}: {e}", c.name);
            }
        }
        Step::Upload(c) => {
            let done = client.execute(c.0.clone()).await.map_err(fail)?;
            tracing::debug!(file = %c.0.name, size = done.size, "uploaded");
        }
        Step::SslConfig(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::AliAuth(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::OneNet(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::HwAuth(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::HwProdId(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::CloseStale(c) => {
            // A link left over from an earlier run or attempt; "not open" is fine.
            if let Err(e) = client.execute(*c).await {
                tracing::debug!("{name} (stale link): {e}");
            }
        }
        Step::Open(c) => match client.execute(c.clone()).await {
            Ok(()) => {}
            Err(e @ quectel_mqtt::Error::Open(quectel_mqtt::OpenResult::Failed)) => {
                let mut e = fail(e);
                if let Some(hint) = crate::tls::open_failure_hint(profile) {
                    e.message = format!("{}; {hint}", e.message);
                }
                return Err(e);
            }
            Err(e) => return Err(fail(e)),
        },
        Step::Connect(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::Subscribe(idx, topics) => {
            let acks = client.subscribe(*idx, topics.clone()).await.map_err(fail)?;
            for (t, a) in topics.iter().zip(acks) {
                if a == SubAck::Refused {
                    tracing::warn!(topic = %t.topic, "the broker refused the subscription");
                }
            }
        }
    }
    Ok(())
}
