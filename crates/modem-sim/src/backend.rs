//! The MQTT side of one client index: a tokio task that owns the network link opened by
//! `AT+QMTOPEN` and speaks MQTT over it.
//!
//! Packets are encoded and decoded with rumqttc's MQTT 3.1.1 codec (`rumqttc::mqttbytes`).
//! rumqttc's `EventLoop` is not used because the module's model does not fit it: the TCP (or
//! TLS) link must open at `AT+QMTOPEN` and CONNECT go out only at `AT+QMTCONN`, and packet
//! identifiers are the host's `<msgid>`s. CONNECT is encoded by [`encode_connect`], because MQTT 3.1
//! (`"version"` 3, protocol name `MQIsdp`) and a user name without a password are not
//! expressible with rumqttc's encoder.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    Packet, PubAck, PubComp, PubRec, PubRel, Publish, Subscribe, SubscribeFilter,
    SubscribeReasonCode, Unsubscribe,
};
use rumqttc::mqttbytes::QoS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use crate::api::{BackendCmd, BackendEvent, ClientIdx, ConnectParams};
pub use crate::connect::encode_connect;
pub use crate::dial::LinkSpec;
use crate::dial::{open, Io};
use crate::faults::Fault;

/// Largest incoming MQTT packet accepted.
const MAX_PACKET: usize = 1 << 20;

/// A message to a client task.
#[derive(Debug, Clone)]
pub enum ClientMsg {
    /// A command from the module core.
    Cmd(BackendCmd),
    /// A link fault.
    Fault(Fault),
}

/// An event from a client task: client index, generation, event.
pub type Tagged = (ClientIdx, u64, BackendEvent);

/// How the network path of a link behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Packets flow.
    Up,
    /// A NAT forgot the mapping: packets vanish both ways, unnoticed until the module's own
    /// timers run out (ping, retransmissions).
    BlackHole,
    /// The module's MQTT stack wedged ([`Fault::SilentDrop`]): nothing is sent, received or
    /// reported any more.
    Wedged,
}

/// The guide's `<qos>` (already checked to be 0–2 by the module core).
fn qos(q: u8) -> QoS {
    rumqttc::mqttbytes::qos(q).unwrap_or(QoS::ExactlyOnce)
}

/// Spawns the task of client `idx` (generation `generation`), which opens the link and then
/// serves commands from the returned sender. Events go to `events`.
pub fn spawn_client(
    idx: ClientIdx,
    generation: u64,
    link: LinkSpec,
    events: mpsc::UnboundedSender<Tagged>,
) -> mpsc::UnboundedSender<ClientMsg> {
    let LinkSpec {
        host,
        port,
        tls,
        rtt,
        nat_idle,
    } = link;
    let (tx, rx) = mpsc::unbounded_channel();
    let emit = move |ev: BackendEvent| {
        let _ = events.send((idx, generation, ev));
    };
    tokio::spawn(async move {
        let io = match open(&host, port, tls, rtt).await {
            Ok(io) => io,
            Err(code) => {
                emit(BackendEvent::Opened(code));
                return;
            }
        };
        emit(BackendEvent::Opened(0));
        let mut session = Session::new(io, rx, rtt, emit);
        session.nat_idle = nat_idle;
        session.run().await;
    });
    tx
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Sub,
    Unsub,
    Pub,
    /// A QoS 2 publish that got PUBREC: PUBREL awaits PUBCOMP.
    Rel,
}

struct Pending {
    packet: Packet,
    deadline: Instant,
    retries: u8,
}

enum Exit {
    Lost(u8),
    Done(BackendEvent),
}

struct Session<E: Fn(BackendEvent)> {
    io: Box<dyn Io>,
    rx: mpsc::UnboundedReceiver<ClientMsg>,
    rtt: Duration,
    emit: E,
    buf: BytesMut,
    params: Option<ConnectParams>,
    connected: bool,
    connack_deadline: Option<Instant>,
    last_sent: Instant,
    ping_deadline: Option<Instant>,
    ignore_pingresp: bool,
    pending: HashMap<(Kind, u16), Pending>,
    /// Bytes on their way to the broker, each due `rtt / 2` after it was sent. A delay line,
    /// not a queue: packets sent back to back overlap their latency as on a real network,
    /// so pipelined publishes are not serialised by the emulated round trip.
    outbound: VecDeque<(Instant, Vec<u8>)>,
    /// Packets from the broker, each handled `rtt / 2` after it arrived (same reason).
    inbound: VecDeque<(Instant, Packet)>,
    path: Path,
    nat_idle: Option<Duration>,
    last_received: Instant,
}

impl<E: Fn(BackendEvent)> Session<E> {
    fn new(
        io: Box<dyn Io>,
        rx: mpsc::UnboundedReceiver<ClientMsg>,
        rtt: Duration,
        emit: E,
    ) -> Self {
        Session {
            io,
            rx,
            rtt,
            emit,
            buf: BytesMut::with_capacity(4096),
            params: None,
            connected: false,
            connack_deadline: None,
            last_sent: Instant::now(),
            ping_deadline: None,
            ignore_pingresp: false,
            pending: HashMap::new(),
            outbound: VecDeque::new(),
            inbound: VecDeque::new(),
            path: Path::Up,
            nat_idle: None,
            last_received: Instant::now(),
        }
    }

    fn pkt_timeout(&self) -> Duration {
        self.params
            .as_ref()
            .map(|p| p.pkt_timeout)
            .unwrap_or(Duration::from_secs(5))
    }

    async fn run(mut self) {
        let exit = loop {
            let deadline = self.next_deadline();
            let out_due = self.outbound.front().map(|(due, _)| *due);
            let in_due = self.inbound.front().map(|(due, _)| *due);
            let far = || Instant::now() + Duration::from_secs(3600);
            let r = tokio::select! {
                m = self.rx.recv() => match m {
                    // The module is gone (session ended or rebooted): just close.
                    None => break Exit::Done(BackendEvent::Closed),
                    Some(ClientMsg::Cmd(c)) => self.on_cmd(c).await,
                    Some(ClientMsg::Fault(f)) => self.on_fault(f).await,
                },
                // Off the path nothing arrives (not even the broker closing the connection).
                n = self.io.read_buf(&mut self.buf), if self.path == Path::Up => match n {
                    Ok(0) | Err(_) => Err(Exit::Lost(if self.connack_deadline.is_some() { 4 } else { 1 })),
                    Ok(_) => {
                        self.last_received = Instant::now();
                        self.on_bytes().await
                    }
                },
                _ = sleep_until(deadline.unwrap_or_else(far)), if deadline.is_some() => {
                    self.on_deadline().await
                }
                _ = sleep_until(out_due.unwrap_or_else(far)), if out_due.is_some() => {
                    self.write_due(Instant::now()).await
                }
                _ = sleep_until(in_due.unwrap_or_else(far)), if in_due.is_some() => {
                    self.handle_due(Instant::now()).await
                }
            };
            if let Err(e) = r {
                break e;
            }
        };
        if let (Exit::Done(_), Some((last, _))) = (&exit, self.outbound.back()) {
            // A DISCONNECT still on its way leaves before the link closes.
            let last = *last;
            sleep_until(last).await;
            let _ = self.write_due(last).await;
        }
        let _ = self.io.shutdown().await;
        match exit {
            Exit::Lost(code) => (self.emit)(BackendEvent::LinkLost(code)),
            Exit::Done(ev) => (self.emit)(ev),
        }
    }

    /// When a NAT on the path forgets the link, if one is there and the path is up.
    fn nat_deadline(&self) -> Option<Instant> {
        let idle = self.nat_idle.filter(|_| self.path == Path::Up)?;
        Some(self.last_sent.max(self.last_received) + idle)
    }

    /// The path stops carrying packets: what was on its way is lost.
    fn lose_path(&mut self, path: Path) {
        self.path = path;
        self.outbound.clear();
        self.inbound.clear();
    }

    fn next_deadline(&self) -> Option<Instant> {
        if self.path == Path::Wedged {
            return None;
        }
        let keepalive = self
            .params
            .as_ref()
            .filter(|p| self.connected && p.keepalive > 0 && self.ping_deadline.is_none())
            .map(|p| self.last_sent + Duration::from_secs(u64::from(p.keepalive)));
        [
            self.connack_deadline,
            self.ping_deadline,
            keepalive,
            self.nat_deadline(),
        ]
        .into_iter()
        .flatten()
        .chain(self.pending.values().map(|p| p.deadline))
        .min()
    }

    async fn send(&mut self, packet: &Packet) -> Result<(), Exit> {
        let mut b = BytesMut::new();
        if let Packet::Connect(_) = packet {
            unreachable!("CONNECT is encoded by encode_connect");
        }
        packet
            .write(&mut b, MAX_PACKET)
            .map_err(|_| Exit::Lost(6))?;
        self.send_bytes(&b, 1).await
    }

    async fn send_bytes(&mut self, b: &[u8], fail_code: u8) -> Result<(), Exit> {
        if self.path != Path::Up {
            // Written into the void: the module believes it was sent.
            self.last_sent = Instant::now();
            return Ok(());
        }
        if !self.rtt.is_zero() {
            self.outbound
                .push_back((Instant::now() + self.rtt / 2, b.to_vec()));
            self.last_sent = Instant::now();
            return Ok(());
        }
        self.io
            .write_all(b)
            .await
            .map_err(|_| Exit::Lost(fail_code))?;
        self.io.flush().await.map_err(|_| Exit::Lost(fail_code))?;
        self.last_sent = Instant::now();
        Ok(())
    }

    fn track(&mut self, kind: Kind, id: u16, packet: Packet) {
        let deadline = Instant::now() + self.pkt_timeout();
        self.pending.insert(
            (kind, id),
            Pending {
                packet,
                deadline,
                retries: 0,
            },
        );
    }

    async fn on_cmd(&mut self, c: BackendCmd) -> Result<(), Exit> {
        if self.path == Path::Wedged {
            // A wedged stack takes commands and never answers; only closing still works.
            return match c {
                BackendCmd::Disconnect => Err(Exit::Done(BackendEvent::Disconnected)),
                BackendCmd::Close => Err(Exit::Done(BackendEvent::Closed)),
                _ => Ok(()),
            };
        }
        match c {
            BackendCmd::Open { .. } => {}
            BackendCmd::Connect(p) => {
                let bytes = encode_connect(&p);
                self.connack_deadline = Some(Instant::now() + p.pkt_timeout);
                self.params = Some(p);
                self.send_bytes(&bytes, 3).await?;
            }
            BackendCmd::Subscribe { msgid, topics } => {
                let filters: Vec<SubscribeFilter> = topics
                    .into_iter()
                    .map(|(t, q)| SubscribeFilter::new(t, qos(q)))
                    .collect();
                let mut sub = Subscribe::new_many(filters);
                sub.pkid = msgid;
                let p = Packet::Subscribe(sub);
                self.send(&p).await?;
                self.track(Kind::Sub, msgid, p);
            }
            BackendCmd::Unsubscribe { msgid, topics } => {
                let mut u = Unsubscribe::new(String::new());
                u.topics = topics;
                u.pkid = msgid;
                let p = Packet::Unsubscribe(u);
                self.send(&p).await?;
                self.track(Kind::Unsub, msgid, p);
            }
            BackendCmd::Publish {
                msgid,
                qos: q,
                retain,
                topic,
                payload,
            } => {
                let mut publish = Publish::new(topic, qos(q), payload);
                publish.retain = retain;
                publish.pkid = msgid;
                let p = Packet::Publish(publish);
                self.send(&p).await?;
                if q == 0 {
                    (self.emit)(BackendEvent::PubDone {
                        msgid,
                        result: 0,
                        value: None,
                    });
                } else {
                    self.track(Kind::Pub, msgid, p);
                }
            }
            BackendCmd::Disconnect => {
                let _ = self.send(&Packet::Disconnect).await;
                return Err(Exit::Done(BackendEvent::Disconnected));
            }
            BackendCmd::Close => return Err(Exit::Done(BackendEvent::Closed)),
        }
        Ok(())
    }

    async fn on_fault(&mut self, f: Fault) -> Result<(), Exit> {
        match f {
            Fault::DropLink(_) => {
                tracing::info!("fault: dropping the MQTT link");
                Err(Exit::Lost(1))
            }
            Fault::PingFail(_) if self.connected => {
                tracing::info!("fault: the next ping will fail");
                self.send(&Packet::PingReq).await?;
                self.ignore_pingresp = true;
                self.ping_deadline = Some(Instant::now() + self.pkt_timeout());
                Ok(())
            }
            Fault::PingFail(_) => {
                (self.emit)(BackendEvent::PingFailed);
                Err(Exit::Lost(2))
            }
            Fault::SilentDrop(_) => {
                tracing::info!("fault: the link dies silently");
                self.lose_path(Path::Wedged);
                self.pending.clear();
                self.connack_deadline = None;
                self.ping_deadline = None;
                Ok(())
            }
            Fault::NatIdle(secs) => {
                self.nat_idle = (secs > 0).then(|| Duration::from_secs(u64::from(secs)));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_deadline(&mut self) -> Result<(), Exit> {
        let now = Instant::now();
        if self.nat_deadline().is_some_and(|d| d <= now) {
            tracing::info!("NAT idle timeout: the link is a black hole from now on");
            self.lose_path(Path::BlackHole);
        }
        if self.connack_deadline.is_some_and(|d| d <= now) {
            tracing::info!("no CONNACK within pkt_timeout");
            return Err(Exit::Lost(4));
        }
        if self.ping_deadline.is_some_and(|d| d <= now) {
            (self.emit)(BackendEvent::PingFailed);
            return Err(Exit::Lost(2));
        }
        if let Some(p) = &self.params {
            let ka = Duration::from_secs(u64::from(p.keepalive));
            if self.connected
                && p.keepalive > 0
                && self.ping_deadline.is_none()
                && self.last_sent + ka <= now
            {
                self.send(&Packet::PingReq).await?;
                self.ping_deadline = Some(Instant::now() + self.pkt_timeout());
            }
        }
        let due: Vec<(Kind, u16)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        let (retry_times, notice) = self
            .params
            .as_ref()
            .map(|p| (p.retry_times, p.timeout_notice))
            .unwrap_or((3, false));
        for key in due {
            let Some(mut p) = self.pending.remove(&key) else {
                continue;
            };
            if p.retries >= retry_times {
                self.report(key, 2, None);
                continue;
            }
            p.retries += 1;
            if let Packet::Publish(publish) = &mut p.packet {
                publish.dup = true;
            }
            self.send(&p.packet).await?;
            p.deadline = Instant::now() + self.pkt_timeout();
            if notice {
                self.report(key, 1, Some(u32::from(p.retries)));
            }
            self.pending.insert(key, p);
        }
        Ok(())
    }

    fn report(&self, (kind, msgid): (Kind, u16), result: u8, value: Option<u32>) {
        let ev = match kind {
            Kind::Sub => BackendEvent::SubAck {
                msgid,
                result,
                values: value.into_iter().collect(),
            },
            Kind::Unsub => BackendEvent::UnsubAck {
                msgid,
                result,
                value,
            },
            Kind::Pub | Kind::Rel => BackendEvent::PubDone {
                msgid,
                result,
                value,
            },
        };
        (self.emit)(ev);
    }

    async fn on_bytes(&mut self) -> Result<(), Exit> {
        loop {
            let packet = match Packet::read(&mut self.buf, MAX_PACKET) {
                Ok(p) => p,
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => return Ok(()),
                Err(e) => {
                    tracing::warn!("bad packet from the broker: {e:?}");
                    return Err(Exit::Lost(1));
                }
            };
            if self.rtt.is_zero() {
                self.on_packet(packet).await?;
            } else {
                self.inbound
                    .push_back((Instant::now() + self.rtt / 2, packet));
            }
        }
    }

    /// Writes the outbound bytes whose latency has elapsed at `now`.
    async fn write_due(&mut self, now: Instant) -> Result<(), Exit> {
        let mut wrote = false;
        while self.outbound.front().is_some_and(|(due, _)| *due <= now) {
            let (_, bytes) = self.outbound.pop_front().expect("front exists");
            self.io.write_all(&bytes).await.map_err(|_| Exit::Lost(1))?;
            wrote = true;
        }
        if wrote {
            self.io.flush().await.map_err(|_| Exit::Lost(1))?;
        }
        Ok(())
    }

    /// Handles the inbound packets whose latency has elapsed at `now`.
    async fn handle_due(&mut self, now: Instant) -> Result<(), Exit> {
        while self.inbound.front().is_some_and(|(due, _)| *due <= now) {
            let (_, packet) = self.inbound.pop_front().expect("front exists");
            self.on_packet(packet).await?;
        }
        Ok(())
    }

    async fn on_packet(&mut self, packet: Packet) -> Result<(), Exit> {
        match packet {
            Packet::ConnAck(ack) if self.connack_deadline.is_some() => {
                self.connack_deadline = None;
                let rc = ack.code as u8;
                (self.emit)(BackendEvent::ConnAck(rc));
                if rc != 0 {
                    // A refused CONNECT is followed by the link going down (+QMTSTAT: idx,4).
                    return Err(Exit::Lost(4));
                }
                self.connected = true;
            }
            Packet::SubAck(ack) => {
                if self.pending.remove(&(Kind::Sub, ack.pkid)).is_some() {
                    let values = ack
                        .return_codes
                        .iter()
                        .map(|c| match c {
                            SubscribeReasonCode::Success(q) => *q as u32,
                            SubscribeReasonCode::Failure => 128,
                        })
                        .collect();
                    (self.emit)(BackendEvent::SubAck {
                        msgid: ack.pkid,
                        result: 0,
                        values,
                    });
                }
            }
            Packet::UnsubAck(ack) => {
                if self.pending.remove(&(Kind::Unsub, ack.pkid)).is_some() {
                    self.report((Kind::Unsub, ack.pkid), 0, None);
                }
            }
            Packet::PubAck(ack) => {
                if self.pending.remove(&(Kind::Pub, ack.pkid)).is_some() {
                    self.report((Kind::Pub, ack.pkid), 0, None);
                }
            }
            Packet::PubRec(rec) => {
                if let Some(mut p) = self.pending.remove(&(Kind::Pub, rec.pkid)) {
                    let rel = Packet::PubRel(PubRel::new(rec.pkid));
                    self.send(&rel).await?;
                    p.packet = rel;
                    p.deadline = Instant::now() + self.pkt_timeout();
                    self.pending.insert((Kind::Rel, rec.pkid), p);
                }
            }
            Packet::PubComp(comp) => {
                if self.pending.remove(&(Kind::Rel, comp.pkid)).is_some() {
                    self.report((Kind::Pub, comp.pkid), 0, None);
                }
            }
            Packet::Publish(p) => {
                match p.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => self.send(&Packet::PubAck(PubAck::new(p.pkid))).await?,
                    QoS::ExactlyOnce => self.send(&Packet::PubRec(PubRec::new(p.pkid))).await?,
                }
                (self.emit)(BackendEvent::Message {
                    msgid: p.pkid,
                    topic: p.topic,
                    payload: p.payload.to_vec(),
                });
            }
            Packet::PubRel(rel) => self.send(&Packet::PubComp(PubComp::new(rel.pkid))).await?,
            Packet::PingResp => {
                if !self.ignore_pingresp {
                    self.ping_deadline = None;
                }
            }
            other => tracing::debug!(?other, "ignored packet"),
        }
        Ok(())
    }
}
