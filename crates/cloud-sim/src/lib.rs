//! `cloud-sim`: emulated Aliyun, OneNET and Huawei IoTDA MQTT endpoints on loopback, so the
//! whole chain (app → cellagent → module → cloud → back) runs with no account.
//!
//! * **Login as the cloud checks it.** A TCP front reads each CONNECT (MQTT 3.1 or 3.1.1),
//!   finds the device by the cloud's rules and lets the cloud crate verify it
//!   (`cloud_aliyun::auth::verify_connect`, `cloud_onenet::token`,
//!   `cloud_huawei::HuaweiPlatform::verify_connect`). A refusal gets the cloud's CONNACK
//!   code (4 bad user name or password, 5 not authorised, 2 identifier / keep-alive).
//! * **A real broker behind it**: rumqttd embedded by default, or any broker given as
//!   `upstream` (e.g. mosquitto). Device topics starting with `$` are carried as `%24…`.
//! * **The cloud's behaviour**: replies to uplinks (Aliyun `post_reply` 200 / 460 / 6813,
//!   OneNET `…/reply`, none for Huawei reports), NTP and `$time_sync`, dynamic registration
//!   (Aliyun `register` / `regnwl`, Huawei `secretNotify` and IoTDP bootstrap, OneNET
//!   product-token logins), and downlinks ([`CloudSim::send_downlink`]) whose answers are
//!   logged.
//! * **Everything received** goes to a JSON Lines [`Record`] log (file, live stream,
//!   snapshot), and a unix control socket serves the `cloud-sim send` / `tail` commands.
//!
//! See `docs/cloud-sim.md`.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), cloud_sim::SimError> {
//! use cloud_sim::{CloudSim, Config, Cloud, Registry};
//! let reg = Registry::load("devices.csv".as_ref(), Cloud::Aliyun, None)?;
//! let sim = CloudSim::start(Config::new(Cloud::Aliyun, reg)).await?;
//! println!("connect devices to {}", sim.addr());
//! let mut values = serde_json::Map::new();
//! values.insert("PowerSwitch".into(), 1.into());
//! let sent = sim
//!     .send_downlink("a1B2c3D4e5F/dev-001", thing_model::Downlink::Set { id: String::new(), values, service: None })
//!     .await?;
//! let answer = sim.wait_for(|r| r.kind == cloud_sim::Kind::Answer && r.id.as_deref() == Some(&sent.id),
//!                           std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```

pub mod auth;
mod brain;
pub mod broker;
mod clouds;
pub mod control;
mod error;
mod front;
pub mod log;
pub mod mqtt;
pub mod registry;
mod session;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rumqttc::{AsyncClient, QoS};
use thing_model::Downlink;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use error::SimError;
pub use log::{Kind, Log, Record};
pub use registry::{Cloud, Registry};

/// The simulator's clock (ms since the Unix epoch): the system clock, or a fixed time that
/// tests set. It decides token expiry, Huawei's hour check and the NTP answers.
#[derive(Clone, Debug)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock pinned at `ms`; move it with [`Clock::set`].
    pub fn fixed(ms: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(ms))))
    }

    /// Moves a fixed clock (no effect on the system clock).
    pub fn set(&self, ms: i64) {
        if let Some(a) = &self.0 {
            a.store(ms, Ordering::SeqCst);
        }
    }

    /// Now, ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(a) => a.load(Ordering::SeqCst),
            None => chrono::Utc::now().timestamp_millis(),
        }
    }
}

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cloud to play.
    pub cloud: Cloud,
    /// The devices it knows.
    pub registry: Registry,
    /// Where devices connect (default `127.0.0.1:0`, a free port).
    pub listen: SocketAddr,
    /// An external broker (`host:port`); `None` starts rumqttd embedded.
    pub upstream: Option<String>,
    /// Append the JSON Lines log to this file.
    pub log_file: Option<PathBuf>,
    /// Serve the control socket (JSON Lines) at this path.
    pub control: Option<PathBuf>,
    /// The clock.
    pub clock: Clock,
}

impl Config {
    /// Defaults: free loopback port, embedded broker, no log file, no control socket,
    /// system clock.
    pub fn new(cloud: Cloud, registry: Registry) -> Config {
        Config {
            cloud,
            registry,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: None,
            log_file: None,
            control: None,
            clock: Clock::system(),
        }
    }
}

/// State shared by the front, the sessions, the brain and the control socket.
pub(crate) struct Shared {
    pub cloud: Cloud,
    pub registry: RwLock<Registry>,
    pub log: Log,
    pub clock: Clock,
    pub upstream: SocketAddr,
    pub listen: SocketAddr,
    pub next_id: AtomicU64,
}

/// What [`CloudSim::send_downlink`] sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The device key.
    pub device: String,
    /// The message / request id the answer will carry.
    pub id: String,
    /// The topic (device's view).
    pub topic: String,
}

/// A running simulator. Dropping it stops the front, the brain and the control socket
/// (an embedded rumqttd keeps running until the process ends).
pub struct CloudSim {
    shared: Arc<Shared>,
    client: AsyncClient,
    tasks: Vec<JoinHandle<()>>,
}

impl CloudSim {
    /// Starts the broker (unless `upstream` is given), the brain and the front.
    pub async fn start(config: Config) -> Result<CloudSim, SimError> {
        let upstream = match &config.upstream {
            None => broker::start_embedded().await?,
            Some(hostport) => tokio::net::lookup_host(hostport.as_str())
                .await
                .map_err(|e| SimError::io(format!("resolve upstream {hostport}"), e))?
                .next()
                .ok_or_else(|| SimError::Broker {
                    addr: hostport.clone(),
                    reason: "resolves to no address".into(),
                })?,
        };
        let file = match &config.log_file {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| SimError::io(format!("open log {}", p.display()), e))?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| SimError::io(format!("listen on {}", config.listen), e))?;
        let listen = listener
            .local_addr()
            .map_err(|e| SimError::io("local_addr", e))?;
        let shared = Arc::new(Shared {
            cloud: config.cloud,
            registry: RwLock::new(config.registry),
            log: Log::new(file),
            clock: config.clock,
            upstream,
            listen,
            next_id: AtomicU64::new(1),
        });
        let (client, brain_task) = brain::start(shared.clone(), upstream).await?;
        let mut tasks = vec![
            brain_task,
            tokio::spawn(front::serve(listener, shared.clone())),
        ];
        let sim_control = CloudSim {
            shared: shared.clone(),
            client: client.clone(),
            tasks: Vec::new(),
        };
        if let Some(path) = &config.control {
            tasks.push(control::serve(path, Arc::new(sim_control))?);
        }
        Ok(CloudSim {
            shared,
            client,
            tasks,
        })
    }

    /// Where devices connect.
    pub fn addr(&self) -> SocketAddr {
        self.shared.listen
    }

    /// The broker behind the front.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// The cloud played.
    pub fn cloud(&self) -> Cloud {
        self.shared.cloud
    }

    /// The clock (tests move a fixed clock with [`Clock::set`]).
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// A copy of the registry as it is now (with devices added by registration).
    pub fn registry(&self) -> Registry {
        self.shared
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<Record> {
        self.shared.log.snapshot()
    }

    /// A live stream of records from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Record> {
        self.shared.log.subscribe()
    }

    /// The first record (already logged, or arriving within `timeout`) that `pred` accepts.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Record) -> bool,
        timeout: Duration,
    ) -> Option<Record> {
        let mut rx = self.subscribe();
        if let Some(r) = self.records().into_iter().find(|r| pred(r)) {
            return Some(r);
        }
        tokio::time::timeout(timeout, async {
            loop {
                match rx.recv().await {
                    Ok(r) if pred(&r) => return Some(r),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Sends a downlink (`Set`, `Get`, `Call` or `Raw`; the `id` inside is ignored and one is
    /// allocated) to `device` (`product/name`, a Huawei device id, or a unique name).
    pub async fn send_downlink(&self, device: &str, dl: Downlink) -> Result<Sent, SimError> {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (key, wire) = {
            let reg = self
                .shared
                .registry
                .read()
                .unwrap_or_else(|e| e.into_inner());
            let dev = reg
                .find(device)
                .ok_or_else(|| SimError::UnknownDevice(device.to_owned()))?;
            (
                dev.id.clone(),
                clouds::downlink(self.shared.cloud, &reg, dev, &dl, id)?,
            )
        };
        self.client
            .publish(
                mqtt::to_broker(&wire.topic),
                QoS::AtLeastOnce,
                false,
                wire.payload.clone(),
            )
            .await
            .map_err(|e| SimError::Broker {
                addr: self.shared.upstream.to_string(),
                reason: format!("publish the downlink: {e}"),
            })?;
        let id = id.to_string();
        self.shared.log.push(
            Record::new(self.shared.clock.now_ms(), Kind::Downlink)
                .device(&key)
                .topic(&wire.topic)
                .id(&id)
                .what(wire.what)
                .payload(&wire.payload),
        );
        Ok(Sent {
            device: key,
            id,
            topic: wire.topic,
        })
    }
}

impl Drop for CloudSim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
