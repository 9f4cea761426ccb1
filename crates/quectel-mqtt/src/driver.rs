//! The thin tokio driver: one task owns the port and a [`Session`]; cloneable [`Client`]
//! handles submit commands to it from any number of tasks, and [`Client::events`] yields
//! what the module reports on its own (messages, link-state changes, pings).
//!
//! ```no_run
//! # async fn demo() -> Result<(), quectel_mqtt::Error> {
//! use quectel_mqtt::commands::{Connect, Credentials, Open, Qos, Secret};
//! let port = quectel_mqtt::driver::open_serial("/dev/ttyUSB2", 115_200).expect("port");
//! let (client, _task) = quectel_mqtt::driver::Client::spawn(port);
//! client.execute(Open { client: 0, host: "iot-as-mqtt.cn-shanghai.aliyuncs.com".into(), port: 1883 }).await?;
//! let credentials = Some(Credentials { username: "user".into(), password: Secret::new("pass") });
//! client.execute(Connect { client: 0, client_id: "dev1".into(), credentials }).await?;
//! client.publish(0, "topic/pub", Qos::AtLeastOnce, false, &b"hello"[..]).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::commands::{Publish, Qos, SubAck, Subscribe, TopicFilter, Unsubscribe};
use crate::error::{Error, ParamError};
use crate::request::{Request, Response, Timing};
use crate::session::{ClientState, Event, RequestId, Session, SessionConfig};
use crate::Command;

/// Builds a request inside the driver task, where the client's timing and free msgids are known.
type Build = Box<dyn FnOnce(&mut Session) -> Result<Request, ParamError> + Send>;

enum Op {
    Submit {
        build: Build,
        reply: oneshot::Sender<Result<Response, Error>>,
    },
    State {
        client: u8,
        reply: oneshot::Sender<(ClientState, usize)>,
    },
    Transcript {
        reply: oneshot::Sender<Vec<String>>,
    },
    TakingData {
        reply: oneshot::Sender<bool>,
    },
}

/// What the driver reports besides command results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverEvent {
    /// A URC no command consumed (`+QMTRECV`, `+QMTSTAT`, `+QMTPING`, `RDY`, other lines).
    Urc(crate::Urc),
    /// The decoder skipped an over-long frame.
    Garbled(String),
    /// The AT channel stopped answering (a probe after a timeout went unanswered).
    Unresponsive,
    /// It answers again.
    Responsive,
    /// The port closed or failed; the driver task has ended.
    PortClosed(String),
}

/// A handle to the driver task. Cheap to clone; every clone talks to the same port.
#[derive(Clone)]
pub struct Client {
    ops: mpsc::Sender<Op>,
    events: broadcast::Sender<DriverEvent>,
}

/// Opens a serial port (8N1, no flow control) for the driver.
///
/// serialport locks the port exclusively (`flock`). Another process may hold that lock for a
/// moment — a modem manager probing the port at boot, or a child process forked while the
/// port was open and not yet replaced by its program — so a lock conflict is retried for up
/// to [`PORT_LOCK_PATIENCE`] before it is reported.
///
/// The descriptor is closed on `exec`, so a child process (a power-cycle script, a broker
/// started by a test) never keeps the port, and its lock, for as long as it runs.
///
/// This blocks the calling thread while it waits; async code uses [`open_serial_async`],
/// which lets the runtime run on (with one worker thread, the task still holding the port
/// could otherwise never drop it within the patience).
pub fn open_serial(
    path: &str,
    baud: u32,
) -> Result<tokio_serial::SerialStream, tokio_serial::Error> {
    let started = std::time::Instant::now();
    loop {
        if let Some(done) = open_or_wait(path, baud, started) {
            return done;
        }
        std::thread::sleep(LOCK_RETRY);
    }
}

/// [`open_serial`] that waits for a lock conflict with `tokio::time::sleep` instead of
/// blocking the thread.
pub async fn open_serial_async(
    path: &str,
    baud: u32,
) -> Result<tokio_serial::SerialStream, tokio_serial::Error> {
    let started = std::time::Instant::now();
    loop {
        if let Some(done) = open_or_wait(path, baud, started) {
            return done;
        }
        tokio::time::sleep(LOCK_RETRY).await;
    }
}

/// One attempt: `None` when the port is locked by another holder and there is patience left
/// (wait [`LOCK_RETRY`] and try again).
fn open_or_wait(
    path: &str,
    baud: u32,
    started: std::time::Instant,
) -> Option<Result<tokio_serial::SerialStream, tokio_serial::Error>> {
    match try_open_serial(path, baud) {
        Err(e) if is_lock_conflict(&e) && started.elapsed() < PORT_LOCK_PATIENCE => None,
        r => Some(r),
    }
}

const LOCK_RETRY: Duration = Duration::from_millis(20);

fn is_lock_conflict(e: &tokio_serial::Error) -> bool {
    e.description.contains("lock")
}

fn try_open_serial(
    path: &str,
    baud: u32,
) -> Result<tokio_serial::SerialStream, tokio_serial::Error> {
    use tokio_serial::SerialPortBuilderExt;
    let port = tokio_serial::new(path, baud).open_native_async()?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor we own; F_SETFD with FD_CLOEXEC has no other effect.
        unsafe { libc::fcntl(port.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(port)
}

/// How long [`open_serial`] waits for another process to release the port's lock.
pub const PORT_LOCK_PATIENCE: Duration = Duration::from_secs(2);

impl Client {
    /// Starts the driver task on `io` with default settings.
    pub fn spawn<T>(io: T) -> (Client, JoinHandle<()>)
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        Client::spawn_with(io, SessionConfig::default())
    }

    /// Starts the driver task on `io`.
    pub fn spawn_with<T>(io: T, config: SessionConfig) -> (Client, JoinHandle<()>)
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (ops_tx, ops_rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(1024);
        let task = tokio::spawn(run(io, Session::new(config), ops_rx, events.clone()));
        (
            Client {
                ops: ops_tx,
                events,
            },
            task,
        )
    }

    /// Runs a typed command and returns its typed result.
    pub async fn execute<C>(&self, command: C) -> Result<C::Output, Error>
    where
        C: Command + Send + Sync + 'static,
    {
        let command = std::sync::Arc::new(command);
        let builder = command.clone();
        let response = self
            .submit(Box::new(move |session: &mut Session| {
                let timing = builder
                    .client()
                    .map(|c| session.timing(c))
                    .unwrap_or_default();
                builder.request(&timing)
            }))
            .await?;
        command.parse(response)
    }

    /// Runs a command that needs a fresh msgid of `client` (SUB, UNS, PUBEX with QoS > 0):
    /// `make` receives the msgid the session allocated.
    pub async fn execute_with_msgid<C, F>(&self, client: u8, make: F) -> Result<C::Output, Error>
    where
        C: Command + Send + Sync + 'static,
        F: FnOnce(u16) -> C + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<std::sync::Arc<C>>();
        let response = self.submit(Box::new(move |session: &mut Session| {
            let command = std::sync::Arc::new(make(session.next_msgid(client)));
            let timing: Timing = command
                .client()
                .map(|c| session.timing(c))
                .unwrap_or_default();
            let request = command.request(&timing);
            let _ = tx.send(command);
            request
        }));
        let response = response.await;
        let command = rx
            .await
            .map_err(|_| Error::PortClosed("the driver task stopped".into()))?;
        command.parse(response?)
    }

    /// Publishes `payload` on `topic` and resolves when `+QMTPUBEX` reports the outcome
    /// (for QoS 1 and 2: the broker's acknowledgement). Returns the msgid used (0 for QoS 0).
    /// Up to 5 publishes per client are in flight at once (the module's window); more wait.
    pub async fn publish(
        &self,
        client: u8,
        topic: &str,
        qos: Qos,
        retain: bool,
        payload: impl Into<Bytes>,
    ) -> Result<u16, Error> {
        let topic = topic.to_owned();
        let payload = payload.into();
        if qos == Qos::AtMostOnce {
            self.execute(Publish {
                client,
                msgid: 0,
                qos,
                retain,
                topic,
                payload,
            })
            .await?;
            return Ok(0);
        }
        let (tx, rx) = oneshot::channel();
        self.execute_with_msgid(client, move |msgid| {
            let _ = tx.send(msgid);
            Publish {
                client,
                msgid,
                qos,
                retain,
                topic,
                payload,
            }
        })
        .await?;
        Ok(rx.await.unwrap_or_default())
    }

    /// Subscribes to `topics` with a fresh msgid; returns the granted QoS of each.
    pub async fn subscribe(
        &self,
        client: u8,
        topics: Vec<TopicFilter>,
    ) -> Result<Vec<SubAck>, Error> {
        self.execute_with_msgid(client, move |msgid| Subscribe {
            client,
            msgid,
            topics,
        })
        .await
    }

    /// Unsubscribes from `topics` with a fresh msgid.
    pub async fn unsubscribe(&self, client: u8, topics: Vec<String>) -> Result<(), Error> {
        self.execute_with_msgid(client, move |msgid| Unsubscribe {
            client,
            msgid,
            topics,
        })
        .await
        .map(|_| ())
    }

    /// Sends a raw request (for commands this crate does not type).
    pub async fn raw(&self, request: Request) -> Result<Response, Error> {
        self.submit(Box::new(move |_| Ok(request))).await
    }

    /// The client's connection state and publishes in flight, as the driver has seen them.
    pub async fn state(&self, client: u8) -> Result<(ClientState, usize), Error> {
        let (reply, rx) = oneshot::channel();
        self.ops
            .send(Op::State { client, reply })
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())
    }

    /// The last AT lines of this port (secrets masked; see
    /// [`Transcript`](crate::session::Transcript)), oldest first, with times relative to now.
    /// Empty once the driver task has stopped.
    pub async fn transcript(&self) -> Vec<String> {
        let (reply, rx) = oneshot::channel();
        if self.ops.send(Op::Transcript { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Whether the module may be left in a command's data input (see
    /// [`Session::may_be_taking_data`]); true when the driver task has stopped (unknown).
    pub async fn may_be_taking_data(&self) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.ops.send(Op::TakingData { reply }).await.is_err() {
            return true;
        }
        rx.await.unwrap_or(true)
    }

    /// Whether the driver task has stopped (the port failed or closed).
    pub fn is_stopped(&self) -> bool {
        self.ops.is_closed()
    }

    /// Events from now on. A receiver that falls more than 1024 events behind loses the
    /// oldest (`RecvError::Lagged`).
    pub fn events(&self) -> broadcast::Receiver<DriverEvent> {
        self.events.subscribe()
    }

    async fn submit(&self, build: Build) -> Result<Response, Error> {
        let (reply, rx) = oneshot::channel();
        self.ops
            .send(Op::Submit { build, reply })
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())?
    }
}

fn closed() -> Error {
    Error::PortClosed("the driver task stopped".into())
}

async fn run<T>(
    io: T,
    mut session: Session,
    mut ops: mpsc::Receiver<Op>,
    events: broadcast::Sender<DriverEvent>,
) where
    T: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut pending: HashMap<RequestId, oneshot::Sender<Result<Response, Error>>> = HashMap::new();
    let mut buf = vec![0u8; 4096];
    let mut ops_open = true;
    let reason = loop {
        let mut wrote = false;
        let mut write_error = None;
        while let Some(bytes) = session.poll_transmit() {
            if let Err(e) = writer.write_all(&bytes).await {
                write_error = Some(e);
                break;
            }
            wrote = true;
        }
        if let Some(e) = write_error {
            break format!("write failed: {e}");
        }
        if wrote {
            if let Err(e) = writer.flush().await {
                break format!("flush failed: {e}");
            }
        }
        while let Some(event) = session.poll_event() {
            match event {
                Event::Completed { id, result } => {
                    if let Some(reply) = pending.remove(&id) {
                        let _ = reply.send(result);
                    }
                }
                Event::Urc(urc) => {
                    let _ = events.send(DriverEvent::Urc(urc));
                }
                Event::Garbled(e) => {
                    let _ = events.send(DriverEvent::Garbled(e.to_string()));
                }
                Event::Unresponsive => {
                    let _ = events.send(DriverEvent::Unresponsive);
                }
                Event::Responsive => {
                    let _ = events.send(DriverEvent::Responsive);
                }
            }
        }
        if !ops_open && pending.is_empty() && session.queued() == 0 {
            break "every client handle was dropped".into();
        }
        let deadline = session.poll_timeout().map(Instant::from_std);
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) => break "the port reached end of file".into(),
                Ok(n) => session.handle_input(&buf[..n], Instant::now().into_std()),
                Err(e) => break format!("read failed: {e}"),
            },
            op = ops.recv(), if ops_open => match op {
                None => ops_open = false,
                Some(Op::Submit { build, reply }) => match build(&mut session) {
                    Ok(request) => {
                        log_request(&request);
                        let id = session.submit(request, Instant::now().into_std());
                        pending.insert(id, reply);
                    }
                    Err(e) => {
                        let _ = reply.send(Err(Error::Param(e)));
                    }
                },
                Some(Op::State { client, reply }) => {
                    let _ = reply.send((session.client_state(client), session.publishes_in_flight(client)));
                }
                Some(Op::Transcript { reply }) => {
                    let _ = reply.send(session.transcript().render(Instant::now().into_std()));
                }
                Some(Op::TakingData { reply }) => {
                    let _ = reply.send(session.may_be_taking_data());
                }
            },
            _ = sleep_until(deadline), if deadline.is_some() => session.handle_timeout(Instant::now().into_std()),
        }
    };
    tracing::debug!("quectel-mqtt driver stopped: {reason}");
    for (_, reply) in pending.drain() {
        let _ = reply.send(Err(Error::PortClosed(reason.clone())));
    }
    let _ = events.send(DriverEvent::PortClosed(reason));
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => tokio::time::sleep(Duration::from_secs(3600)).await,
    }
}

fn log_request(request: &Request) {
    if request.secret {
        tracing::trace!(
            command = request.name,
            "sending (parameters hold a secret: not logged)"
        );
    } else {
        tracing::trace!(command = request.name, line = %String::from_utf8_lossy(&request.line), "sending");
    }
}
