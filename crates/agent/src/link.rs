//! One connection attempt: open the port, run the script (bring-up, configure, open,
//! connect, subscribe) with fresh credentials, and hand back the connected link.

use std::sync::Arc;
use std::time::Duration;

use quectel_mqtt::commands::{At, Close, Disconnect, SimState, SubAck};
use quectel_mqtt::driver::{open_serial, Client, DriverEvent};
use thing_model::Platform;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::profile::Profile;
use crate::script::{self, Step};

/// A connected module session. Dropping it stops the driver task.
pub struct Link {
    /// The driver handle.
    pub client: Client,
    /// Events since the connection was made.
    pub events: broadcast::Receiver<DriverEvent>,
    task: JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
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

/// Opens the port and runs the whole script with credentials signed now.
pub async fn connect(profile: Arc<Profile>, platform: Arc<dyn Platform>) -> Result<Link, String> {
    let script = script::build(&profile, platform.as_ref(), crate::now_ms())
        .map_err(|e| format!("credentials: {e}"))?;
    let port = open_serial(&profile.module.port, profile.module.baud)
        .map_err(|e| format!("cannot open {}: {e}", profile.module.port))?;
    let (client, task) = Client::spawn(port);
    let events = client.events();
    // Dropping `link` on an error path stops the driver task.
    let mut link = Link {
        client,
        events,
        task,
    };
    // Let a pending power-up `RDY` drain before the first command.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for step in &script.steps {
        run_step(&link.client, &profile, step).await?;
    }
    // Only what happens from now on matters (a power-up `RDY` seen earlier does not).
    link.events = link.client.events();
    Ok(link)
}

/// Runs one script step (bring-up steps check and wait as `run` needs).
pub(crate) async fn run_step(
    client: &Client,
    profile: &Profile,
    step: &Step,
) -> Result<(), String> {
    let name = step_name(step);
    tracing::debug!(command = %name, "running");
    let fail = |e: quectel_mqtt::Error| {
        let e = e.to_string();
        if e.starts_with(&name) {
            e
        } else {
            format!("{name}: {e}")
        }
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
                return Err(format!("{name}: the SIM is not ready ({state:?})"));
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
                    ));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                waited += 1;
            }
        }
        Step::Apn(c) => client.execute(c.clone()).await.map_err(fail)?,
        Step::NetworkTime => {
            match client
                .execute(quectel_mqtt::commands::NetworkTimeQuery { mode: None })
                .await
            {
                Ok(t) => tracing::info!(time = ?t, "network time"),
                Err(e) => tracing::warn!("{name}: {e}"),
            }
        }
        Step::RecvMode(c) => client.execute(*c).await.map_err(fail)?,
        Step::Keepalive(c) => client.execute(*c).await.map_err(fail)?,
        Step::Timeout(c) => client.execute(*c).await.map_err(fail)?,
        Step::Ssl(c) => client.execute(*c).await.map_err(fail)?,
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
        Step::Open(c) => client.execute(c.clone()).await.map_err(fail)?,
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
