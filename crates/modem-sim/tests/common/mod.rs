//! Test harness: brokers (Debian's mosquitto, rumqttd embedded), an AT host over TCP or a
//! pty, and a peer MQTT client on the "cloud" side.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use modem_sim::{ModuleConfig, SimConfig, Simulator};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Upper bound on any single wait: a hang guard, not a speed assertion.
pub const GUARD: Duration = Duration::from_secs(20);

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16) {
    for _ in 0..200 {
        if StdStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("broker did not start listening on 127.0.0.1:{port}");
}

fn find_mosquitto() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

/// A mosquitto broker on a free loopback port, killed on drop.
pub struct Mosquitto {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl Mosquitto {
    /// Starts mosquitto; `None` (after printing why) when it is not installed and `CI` is
    /// unset. With `CI` set a missing mosquitto fails the test.
    pub fn start(allow_anonymous: bool) -> Option<Mosquitto> {
        Self::start_with(allow_anonymous, None)
    }

    /// Like [`Mosquitto::start`], with a TLS listener when `tls` = (certificate PEM, key PEM).
    pub fn start_with(allow_anonymous: bool, tls: Option<(&str, &str)>) -> Option<Mosquitto> {
        let Some(bin) = find_mosquitto() else {
            if std::env::var_os("CI").is_some() {
                panic!("mosquitto is not installed but CI is set: install it (apt-get install mosquitto)");
            }
            eprintln!(
                "SKIPPED: mosquitto not found on PATH (install it: apt-get install mosquitto)"
            );
            return None;
        };
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("modem-sim-mosq-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("mosquitto.conf");
        let mut text = format!(
            "per_listener_settings false\nlistener {port} 127.0.0.1\nallow_anonymous {allow_anonymous}\n\
             persistence false\nlog_dest stderr\nlog_type error\nuser root\n"
        );
        if let Some((cert, key)) = tls {
            std::fs::write(dir.join("server.pem"), cert).unwrap();
            std::fs::write(dir.join("server.key"), key).unwrap();
            text += &format!(
                "certfile {}\nkeyfile {}\n",
                dir.join("server.pem").display(),
                dir.join("server.key").display()
            );
        }
        std::fs::write(&conf, text).unwrap();
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mosquitto");
        let m = Mosquitto { child, dir, port };
        wait_listening(port);
        Some(m)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts an embedded rumqttd broker on a free loopback port (it has no shutdown API; its
/// threads end with the test process).
pub fn start_rumqttd() -> u16 {
    use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
    use std::collections::HashMap;
    let port = free_port();
    let server = ServerSettings {
        name: "v4".into(),
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 5000,
            max_payload_size: 1 << 20,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 1 << 20,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server)])),
        ..Default::default()
    };
    std::thread::spawn(move || {
        let mut broker = Broker::new(config);
        let _ = broker.start();
    });
    wait_listening(port);
    port
}

/// A simulator with pacing off, reachable over TCP; returns its address.
pub async fn spawn_sim(module: ModuleConfig) -> (Simulator, SocketAddr) {
    let sim = Simulator::new(SimConfig {
        baud: 0,
        module,
        ..SimConfig::default()
    });
    let addr = sim.spawn_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (sim, addr)
}

/// The host side of an AT session.
pub struct Host<S> {
    io: S,
    buf: Vec<u8>,
}

impl Host<TcpStream> {
    pub async fn tcp(addr: SocketAddr) -> Self {
        Host::new(TcpStream::connect(addr).await.unwrap())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Host<S> {
    pub fn new(io: S) -> Self {
        Host {
            io,
            buf: Vec::new(),
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
        self.io.flush().await.unwrap();
    }

    /// Sends a command line (CR-terminated).
    pub async fn send(&mut self, line: &str) {
        self.write(format!("{line}\r").as_bytes()).await;
    }

    /// Reads until `needle` has arrived; returns everything up to and including it.
    pub async fn until(&mut self, needle: &str) -> String {
        let n = needle.as_bytes();
        let fut = async {
            loop {
                if let Some(p) = self.buf.windows(n.len()).position(|w| w == n) {
                    let rest = self.buf.split_off(p + n.len());
                    let got = std::mem::replace(&mut self.buf, rest);
                    return String::from_utf8_lossy(&got).into_owned();
                }
                let mut chunk = [0u8; 4096];
                let k = self.io.read(&mut chunk).await.unwrap();
                assert!(
                    k > 0,
                    "session closed while waiting for {needle:?}; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
                self.buf.extend_from_slice(&chunk[..k]);
            }
        };
        match tokio::time::timeout(GUARD, fut).await {
            Ok(s) => s,
            Err(_) => panic!(
                "no {needle:?} in time; buffered: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Sends `line` and reads through `needle`.
    pub async fn cmd(&mut self, line: &str, needle: &str) -> String {
        self.send(line).await;
        self.until(needle).await
    }

    /// Sends `line` and asserts the exact bytes up to the final `OK`/`ERROR` of its answer.
    pub async fn exact(&mut self, line: &str, answer: &str) {
        self.send(line).await;
        let last = if answer.ends_with("\r\nERROR\r\n") {
            "\r\nERROR\r\n"
        } else {
            "\r\nOK\r\n"
        };
        let got = self.until(last).await;
        assert_eq!(got, answer, "answer to {line}");
    }

    /// Waits for RDY and turns echo off.
    pub async fn ready(&mut self) {
        self.until("\r\nRDY\r\n").await;
        assert_eq!(self.cmd("ATE0", "\r\nOK\r\n").await, "ATE0\r\r\nOK\r\n");
    }

    /// Bytes received but not consumed yet.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

/// A peer MQTT client on the broker side. Received publishes arrive on the channel.
pub async fn peer(port: u16, id: &str) -> (AsyncClient, mpsc::UnboundedReceiver<rumqttc::Publish>) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut ev) = AsyncClient::new(opts, 64);
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let mut ready_tx = Some(ready_tx);
    tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send(p);
                }
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if let Some(r) = ready_tx.take() {
                        let _ = r.send(());
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    tokio::time::timeout(GUARD, ready_rx)
        .await
        .unwrap()
        .unwrap();
    (client, rx)
}

/// Subscribes the peer to `filter` and `probe_topic`, and returns once a probe published on
/// `probe_topic` comes back (subscriptions apply in order, so `filter` is active too).
pub async fn peer_subscribe(
    client: &AsyncClient,
    rx: &mut mpsc::UnboundedReceiver<rumqttc::Publish>,
    filter: &str,
    probe_topic: &str,
) {
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    client
        .subscribe(probe_topic, QoS::AtLeastOnce)
        .await
        .unwrap();
    for _ in 0..40 {
        client
            .publish(probe_topic, QoS::AtLeastOnce, false, b"probe".to_vec())
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        if let Ok(Some(p)) = got {
            if p.topic == probe_topic {
                return;
            }
        }
    }
    panic!("peer subscription to {filter} never became active");
}

/// Receives the next publish on `topic`, skipping probes.
pub async fn recv_on(
    rx: &mut mpsc::UnboundedReceiver<rumqttc::Publish>,
    topic: &str,
) -> rumqttc::Publish {
    tokio::time::timeout(GUARD, async {
        loop {
            let p = rx.recv().await.expect("peer gone");
            if p.topic == topic {
                return p;
            }
        }
    })
    .await
    .expect("publish not received in time")
}

impl Mosquitto {
    /// Starts mosquitto that accepts only `user` with `password` (no anonymous clients);
    /// `None` as for [`Mosquitto::start`].
    pub fn start_with_password(user: &str, password: &str) -> Option<Mosquitto> {
        let mut m = Self::start(false)?;
        let passwd = m.dir.join("passwd");
        let ok = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args([user, password])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run mosquitto_passwd (part of Debian's mosquitto)")
            .success();
        assert!(ok, "mosquitto_passwd failed");
        let conf = m.dir.join("mosquitto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text += &format!("password_file {}\n", passwd.display());
        std::fs::write(&conf, text).unwrap();
        // Restart on the same port with the password file.
        let _ = m.child.kill();
        let _ = m.child.wait();
        m.child = Command::new(find_mosquitto().unwrap())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mosquitto");
        wait_listening(m.port);
        Some(m)
    }

    /// Stops the broker process (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Resumes a paused broker (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(sig)
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill {sig} failed");
    }
}

/// Runs `fut` with the [`GUARD`] bound (a hang guard, not a speed assertion).
pub async fn bounded<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(GUARD, fut)
        .await
        .expect("no result within the hang guard")
}

/// A fresh emulator (unpaced) on a pty, and the `quectel-mqtt` driver on the pty's slave path.
/// The power-up `RDY` is consumed first (a driver meeting RDY while a command is in flight
/// reports a restart). Echo is left on, as the module starts.
pub async fn pty_driver(module: ModuleConfig) -> (Simulator, quectel_mqtt::driver::Client) {
    let (master, path) = Simulator::open_pty().unwrap();
    let sim = Simulator::new(SimConfig {
        baud: 0,
        module,
        ..SimConfig::default()
    });
    let runner = sim.clone();
    tokio::spawn(async move { runner.run_session(master).await });
    {
        // Opened like the driver opens it (close-on-exec), so a broker that a parallel test
        // starts meanwhile cannot inherit it and keep its exclusive lock.
        let raw = quectel_mqtt::driver::open_serial(&path, 115_200).unwrap();
        Host::new(raw).until("\r\nRDY\r\n").await;
    }
    let port = quectel_mqtt::driver::open_serial(&path, 115_200).expect("open the pty by path");
    let (client, _task) = quectel_mqtt::driver::Client::spawn(port);
    (sim, client)
}

/// The next driver event `f` accepts, within the guard.
pub async fn next_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<quectel_mqtt::driver::DriverEvent>,
    mut f: impl FnMut(&quectel_mqtt::driver::DriverEvent) -> Option<T>,
) -> T {
    bounded(async {
        loop {
            let ev = events.recv().await.expect("driver events ended");
            if let Some(t) = f(&ev) {
                return t;
            }
        }
    })
    .await
}

/// The next `+QMTRECV` message delivered as a URC.
pub async fn next_message(
    events: &mut tokio::sync::broadcast::Receiver<quectel_mqtt::driver::DriverEvent>,
) -> quectel_mqtt::Message {
    use quectel_mqtt::driver::DriverEvent;
    next_event(events, |ev| match ev {
        DriverEvent::Urc(quectel_mqtt::Urc::Recv(m)) => Some(m.clone()),
        _ => None,
    })
    .await
}
