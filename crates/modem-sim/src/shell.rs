//! The tokio shell: runs a [`Module`] over any byte stream (a pty master, a TCP connection)
//! with baud-rate pacing, drives the MQTT backends and timers, and takes faults from a
//! control interface.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio::time::{sleep_until, Instant};

use crate::api::{Action, BackendCmd, BackendEvent, ClientIdx, Step, TimerId};
use crate::backend::{spawn_client, ClientMsg, Tagged};
use crate::faults::Fault;
use crate::module::{Module, ModuleConfig};
use crate::pacing::{line, LineSender};
use crate::pty::PtyMaster;

/// Everything that configures a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Serial speed for pacing both directions (8N1); 0 = unpaced. Default 115200.
    pub baud: u32,
    /// Latency added to each MQTT round trip (half on each direction) and to the TCP and TLS
    /// handshakes of `AT+QMTOPEN`.
    pub rtt: Duration,
    /// The module core's configuration.
    pub module: ModuleConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            baud: 115_200,
            rtt: Duration::ZERO,
            module: ModuleConfig::default(),
        }
    }
}

/// A simulator: runs AT sessions and broadcasts injected faults to all of them.
#[derive(Debug, Clone)]
pub struct Simulator {
    config: SimConfig,
    faults: broadcast::Sender<Fault>,
    /// The network and cloud conditions in force (the last of each kind), which sessions
    /// started later see too: they are not the module's.
    standing: Arc<Mutex<Vec<Fault>>>,
}

/// Whether a fault is a standing network or cloud condition, and which kind (to keep the
/// last of each).
fn condition_kind(f: &Fault) -> Option<u8> {
    match f {
        Fault::NatIdle(_) => Some(0),
        Fault::DupId(_) => Some(1),
        Fault::Refuse { .. } => Some(2),
        Fault::ClockOffset(_) => Some(3),
        Fault::OpenFail { .. } => Some(4),
        _ => None,
    }
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Simulator {
    /// A simulator with this configuration.
    pub fn new(config: SimConfig) -> Self {
        let (faults, _) = broadcast::channel(64);
        Simulator {
            config,
            faults,
            standing: Arc::default(),
        }
    }

    /// Injects a fault into every running session. Network and cloud conditions
    /// (`nat-idle`, `dup-id`, `refuse`, `clock-offset`, `open-fail`) also apply to sessions
    /// that start later.
    pub fn inject(&self, fault: Fault) {
        if let Some(kind) = condition_kind(&fault) {
            let mut standing = self.standing.lock().unwrap_or_else(|e| e.into_inner());
            standing.retain(|f| condition_kind(f) != Some(kind));
            standing.push(fault);
        }
        let _ = self.faults.send(fault);
    }

    /// Runs one AT session over `io` until the host side closes it.
    pub async fn run_session<S>(&self, io: S) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (rd, wr) = tokio::io::split(io);
        // The module's output reaches the host in 32-byte pieces as they cross the line; the
        // host's input reaches the module a read at a time, once its last byte has crossed.
        let (out_tx, out_rx) = line(self.config.baud, 32);
        let writer = tokio::spawn(write_out(wr, out_rx));
        let (in_tx, in_rx) = line(self.config.baud, usize::MAX);
        let reader = tokio::spawn(read_in(rd, in_tx));
        // Subscribe before reading the standing conditions, so that none is missed.
        let faults = self.faults.subscribe();
        let mut module = Module::new(self.config.module.clone());
        let standing = self
            .standing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for f in standing {
            module.inject(f);
        }
        let session = Session {
            module,
            out: out_tx,
            clients: Default::default(),
            generation: 0,
            timers: HashMap::new(),
            rtt: self.config.rtt,
        };
        let r = session.run(in_rx, faults).await;
        reader.abort();
        // Let the writer drain what is queued.
        let _ = writer.await;
        r
    }

    /// Accepts TCP connections on `listener`, one AT session each, forever.
    pub async fn serve_tcp(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (sock, peer) = listener.accept().await?;
            let _ = sock.set_nodelay(true);
            tracing::info!(%peer, "AT session opened");
            let sim = self.clone();
            tokio::spawn(async move {
                if let Err(e) = sim.run_session(sock).await {
                    tracing::info!(%peer, "AT session ended: {e}");
                }
                tracing::info!(%peer, "AT session closed");
            });
        }
    }

    /// Opens a pty pair and returns the master (run a session on it) and the slave's path.
    /// The slave is closed here, so a host can open it by path (serialport takes an
    /// exclusive lock); while no host has it open, the session waits (see [`PtyMaster`]).
    pub fn open_pty() -> io::Result<(PtyMaster, String)> {
        use std::os::fd::AsRawFd;
        use tokio_serial::SerialPort;
        let (master, slave) =
            tokio_serial::SerialStream::pair().map_err(|e| io::Error::other(e.to_string()))?;
        // A child process spawned meanwhile (a broker, a script) must not inherit either end:
        // an inherited slave keeps serialport's exclusive lock, and the host could not open
        // the port for as long as that child runs.
        close_on_exec(&slave);
        let path = slave
            .name()
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        drop(slave);
        // The master leaves tokio's reactor (see `pty`): the threads own a duplicate.
        let fd = PtyMaster::dup(master.as_raw_fd())?;
        drop(master);
        Ok((PtyMaster::new(fd)?, path))
    }

    /// Serves fault commands (one per line, see [`Fault`]'s `FromStr`; `power-cycle` too)
    /// read from `input`;
    /// answers `ok` or `error: …` on `reply`.
    pub async fn serve_control<R, W>(&self, input: R, mut reply: W) -> io::Result<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut lines = BufReader::new(input).lines();
        while let Some(line) = lines.next_line().await? {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let answer = match line.parse::<Fault>() {
                Ok(f) => {
                    tracing::info!(?f, "fault injected from the control interface");
                    self.inject(f);
                    "ok\n".to_string()
                }
                Err(e) => format!("error: {e}\n"),
            };
            reply.write_all(answer.as_bytes()).await?;
            reply.flush().await?;
        }
        Ok(())
    }

    /// Accepts control connections on `listener` (loopback) forever.
    pub async fn serve_control_tcp(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (sock, _) = listener.accept().await?;
            let sim = self.clone();
            tokio::spawn(async move {
                let (r, w) = sock.into_split();
                let _ = sim.serve_control(r, w).await;
            });
        }
    }

    /// Binds `addr`, serves AT sessions on it in a background task and returns the bound
    /// address (handy with port 0).
    pub async fn spawn_tcp(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        tokio::spawn(async move { sim.serve_tcp(listener).await });
        Ok(local)
    }
}

async fn write_out<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
) -> io::Result<()> {
    while let Some(bytes) = rx.recv().await {
        write_retrying(&mut wr, &bytes).await?;
    }
    Ok(())
}

/// Writes `bytes`; EIO (a pty whose slave is closed) is retried until a host opens it.
async fn write_retrying<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8]) -> io::Result<()> {
    loop {
        match wr.write_all(bytes).await.and(wr.flush().await) {
            Err(e) if e.raw_os_error() == Some(5) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            r => return r,
        }
    }
}

async fn read_in<R: AsyncRead + Unpin>(mut rd: R, line: LineSender) {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(5) => {
                // EIO on a pty master: no slave open right now. Wait for one.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(_) => return,
        };
        if !line.send(buf[..n].to_vec()) {
            return;
        }
    }
}

struct Session {
    module: Module,
    out: LineSender,
    clients: [Option<(u64, mpsc::UnboundedSender<ClientMsg>)>; 6],
    generation: u64,
    timers: HashMap<TimerId, Instant>,
    rtt: Duration,
}

impl Session {
    async fn run(
        mut self,
        mut input: mpsc::UnboundedReceiver<Vec<u8>>,
        mut faults: broadcast::Receiver<Fault>,
    ) -> io::Result<()> {
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<Tagged>();
        let step = self.module.power_up();
        self.apply(step, &ev_tx);
        // Every `Simulator` handle may be dropped while the session runs: then no fault can
        // come any more, and a closed channel must not be polled (it is always ready).
        let mut faults_open = true;
        loop {
            let next = self
                .timers
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(id, t)| (*id, *t));
            let step = tokio::select! {
                // Faults first, so a fault injected before a command applies to it.
                biased;
                f = faults.recv(), if faults_open => match f {
                    Ok(f) => self.module.inject(f),
                    Err(broadcast::error::RecvError::Lagged(_)) => Step::default(),
                    Err(broadcast::error::RecvError::Closed) => {
                        faults_open = false;
                        Step::default()
                    }
                },
                chunk = input.recv() => match chunk {
                    None => break,
                    Some(b) => {
                        self.module.set_time(now_unix_ms());
                        self.module.feed(&b)
                    }
                },
                Some((idx, generation, ev)) = ev_rx.recv() => self.on_event(idx, generation, ev),
                _ = sleep_until(next.map(|n| n.1).unwrap_or_else(Instant::now)), if next.is_some() => {
                    let id = next.map(|n| n.0).unwrap_or(TimerId::DataInput);
                    self.timers.remove(&id);
                    self.module.on_timer(id)
                }
            };
            self.apply(step, &ev_tx);
        }
        Ok(())
    }

    fn on_event(&mut self, idx: ClientIdx, generation: u64, ev: BackendEvent) -> Step {
        let slot = &mut self.clients[usize::from(idx)];
        if slot.as_ref().map(|s| s.0) != Some(generation) {
            tracing::debug!(idx, ?ev, "stale backend event dropped");
            return Step::default();
        }
        let terminal = matches!(
            ev,
            BackendEvent::LinkLost(_)
                | BackendEvent::Closed
                | BackendEvent::Disconnected
                | BackendEvent::Opened(1..)
                | BackendEvent::Opened(..=-1)
        );
        if terminal {
            *slot = None;
        }
        self.module.on_backend(idx, ev)
    }

    fn apply(&mut self, step: Step, events: &mpsc::UnboundedSender<Tagged>) {
        if !step.out.is_empty() {
            let _ = self.out.send(step.out);
        }
        for a in step.actions {
            match a {
                Action::Backend(
                    idx,
                    BackendCmd::Open {
                        host,
                        port,
                        tls,
                        nat_idle,
                    },
                ) => {
                    self.generation += 1;
                    let link = crate::backend::LinkSpec {
                        host,
                        port,
                        tls,
                        rtt: self.rtt,
                        nat_idle,
                    };
                    let tx = spawn_client(idx, self.generation, link, events.clone());
                    self.clients[usize::from(idx)] = Some((self.generation, tx));
                }
                Action::Backend(idx, cmd) => match &self.clients[usize::from(idx)] {
                    Some((_, tx)) => {
                        let _ = tx.send(ClientMsg::Cmd(cmd));
                    }
                    None => tracing::debug!(idx, ?cmd, "no backend for the command"),
                },
                Action::StartTimer { id, after } => {
                    self.timers.insert(id, Instant::now() + after);
                }
                Action::CancelTimer(id) => {
                    self.timers.remove(&id);
                }
                Action::Rebooted => {
                    self.clients = Default::default();
                    self.timers.clear();
                }
                Action::Fault(f) => {
                    let targets = match f {
                        Fault::DropLink(i) | Fault::PingFail(i) | Fault::SilentDrop(i) => {
                            vec![usize::from(i)]
                        }
                        Fault::NatIdle(_) => (0..6).collect(),
                        _ => continue,
                    };
                    for i in targets {
                        if let Some((_, tx)) = &self.clients[i] {
                            let _ = tx.send(ClientMsg::Fault(f));
                        }
                    }
                }
            }
        }
    }
}

fn close_on_exec(port: &tokio_serial::SerialStream) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor the stream owns; FD_CLOEXEC changes nothing else.
    unsafe { libc::fcntl(port.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
}
