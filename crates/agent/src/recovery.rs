//! The recovery ladder's steps (the I/O half; [`crate::supervisor`] decides which step).
//!
//! Each step opens the port afresh (the link that failed has been dropped), does its part and
//! closes the port again; the reconnect that follows runs the whole bring-up script. A step
//! that fails is logged and the ladder goes on: the next attempt, or the next rung, follows.

use std::time::Duration;

use quectel_mqtt::commands::{At, Functionality, PdpActivate, SetFunctionality};
use quectel_mqtt::driver::{open_serial_async, Client, DriverEvent};
use quectel_mqtt::Urc;

use crate::profile::Profile;
use crate::supervisor::Rung;

/// How long a module reset may take to print `RDY`.
const RESET_WAIT: Duration = Duration::from_secs(30);

/// Takes one recovery step.
pub async fn take(profile: &Profile, rung: Rung) -> Result<(), String> {
    match rung {
        Rung::PdpReset => {
            let client = open(profile).await?;
            let context = profile.recovery.pdp_context;
            // Deactivating a context that is already down answers ERROR on some firmware.
            if let Err(e) = client
                .execute(PdpActivate {
                    context,
                    active: false,
                })
                .await
            {
                tracing::info!("AT+CGACT=0,{context}: {e}");
            }
            client
                .execute(PdpActivate {
                    context,
                    active: true,
                })
                .await
                .map_err(|e| e.to_string())
        }
        Rung::RadioReset => {
            let client = open(profile).await?;
            client
                .execute(SetFunctionality {
                    fun: Functionality::Minimum,
                    reset: false,
                })
                .await
                .map_err(|e| e.to_string())?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            radio_on(&client).await
        }
        Rung::ModuleReset => {
            let client = open(profile).await?;
            let mut events = client.events();
            client
                .execute(SetFunctionality {
                    fun: Functionality::Full,
                    reset: true,
                })
                .await
                .map_err(|e| e.to_string())?;
            wait_ready(&mut events, RESET_WAIT).await
        }
        Rung::PowerCycle => power_cycle(profile).await,
    }
}

/// How often the radio reset tries `AT+CFUN=1`.
const RADIO_ON_TRIES: u32 = 3;

/// `AT+CFUN=1`, tried [`RADIO_ON_TRIES`] times a second apart: after the reset's `AT+CFUN=0`
/// a radio left off keeps the device off the network (every connect then waits out the
/// registration timeout) until the ladder climbs to a module reset. The soak saw it: one
/// `ERROR` here cost two minutes.
async fn radio_on(client: &Client) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 1..=RADIO_ON_TRIES {
        match client
            .execute(SetFunctionality {
                fun: Functionality::Full,
                reset: false,
            })
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(attempt, "AT+CFUN=1: {e}");
                last = e.to_string();
            }
        }
        if attempt < RADIO_ON_TRIES {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    Err(last)
}

async fn open(profile: &Profile) -> Result<Client, String> {
    let mut port = open_serial_async(&profile.module.port, profile.module.baud)
        .await
        .map_err(|e| format!("cannot open {}: {e}", profile.module.port))?;
    crate::data_mode::settle_once(&mut port).await;
    let (client, _task) = Client::spawn(port);
    Ok(client)
}

async fn wait_ready(
    events: &mut tokio::sync::broadcast::Receiver<DriverEvent>,
    limit: Duration,
) -> Result<(), String> {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(DriverEvent::Urc(Urc::Ready)) => return Ok(()),
                Ok(DriverEvent::PortClosed(e)) => {
                    // USB modules drop their ports while they restart.
                    return Err(format!("the port closed during the reset: {e}"));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return Err("the driver stopped".into())
                }
            }
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .map_err(|_| format!("no RDY within {} s of AT+CFUN=1,1", limit.as_secs()))?
}

/// Runs the profile's power-cycle command, then waits until the module answers `AT`.
async fn power_cycle(profile: &Profile) -> Result<(), String> {
    let Some(cmd) = &profile.recovery.power_cycle_command else {
        return Err("recovery.power_cycle_command is not set".into());
    };
    let wait = Duration::from_secs(profile.recovery.power_cycle_wait_s);
    let (program, args) = cmd.split_first().expect("validated non-empty");
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("recovery.power_cycle_command: cannot start {program}: {e}"))?;
    let status = tokio::time::timeout(wait, child.wait())
        .await
        .map_err(|_| {
            format!(
                "recovery.power_cycle_command: still running after {} s (killed)",
                wait.as_secs()
            )
        })?
        .map_err(|e| format!("recovery.power_cycle_command: {e}"))?;
    if !status.success() {
        return Err(format!("recovery.power_cycle_command exited with {status}"));
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut last = String::from("no attempt");
    while tokio::time::Instant::now() < deadline {
        match open(profile).await {
            Ok(client) => match client.execute(At).await {
                Ok(()) => return Ok(()),
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!(
        "the module does not answer AT {} s after the power cycle: {last}",
        wait.as_secs()
    ))
}
