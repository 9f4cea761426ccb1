//! `quectel_mqtt::Session` driven by typed commands, arbitrary module bytes and time.
//!
//! Input: a list of operations — submit a typed command (`quectel_mqtt::commands`), feed
//! arbitrary bytes, feed a canned module answer (result codes and URCs for a chosen client
//! and msgid, the prompt, `RDY`), echo the last line written, let time pass, fire the next
//! timeout. Then time runs on with no input until nothing is pending.
//!
//! Invariants: no panic; every `Completed` names a submitted request and comes at most once;
//! a client never has more than `PUBLISH_WINDOW` publishes in flight; once the module falls
//! silent, every submitted request completes (exactly once) within the longest command
//! timeout. Each successful response is also handed to its command's typed `parse`.
#![no_main]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use quectel_mqtt::commands::Open;
use quectel_mqtt::commands::{
    At, CfgQuery, CfgRecvMode, CfgTimeout, Close, ConnStateQuery, Connect, Credentials, Disconnect,
    OpenQuery, PacketTimeouts, Publish, Qos, RecvMode, RecvRead, Secret, SetEcho, SignalQuality,
    Subscribe, TopicFilter, Unsubscribe,
};
use quectel_mqtt::{Command, Event, RequestId, Response, Session, PUBLISH_WINDOW};

/// How long pending requests may outlive a silent module: the longest result timeout
/// (60 s × 11 tries) plus generous slack.
const MAX_SILENT_WAIT: Duration = Duration::from_secs(700);

#[derive(Debug, Arbitrary)]
enum Cmd {
    At,
    Echo(bool),
    Csq,
    Open(u8),
    OpenQuery,
    Connect(u8, bool),
    ConnQuery,
    Sub(u8, u16, bool),
    Unsub(u8, u16),
    Pub(u8, u16, u8, Vec<u8>),
    Close(u8),
    Disc(u8),
    RecvMode(u8, bool, bool),
    Timeouts(u8, u8, u8),
    TimeoutsQuery(u8),
    RecvRead(u8, Option<u8>),
}

/// Typed commands, kept to parse their responses.
enum Typed {
    At(At),
    Echo(SetEcho),
    Csq(SignalQuality),
    Open(Open),
    OpenQuery(OpenQuery),
    Connect(Connect),
    ConnQuery(ConnStateQuery),
    Sub(Subscribe),
    Unsub(Unsubscribe),
    Pub(Publish),
    Close(Close),
    Disc(Disconnect),
    RecvMode(CfgRecvMode),
    Timeouts(CfgTimeout),
    TimeoutsQuery(CfgQuery<CfgTimeout>),
    RecvRead(RecvRead),
}

macro_rules! each {
    ($typed:expr, |$c:ident| $body:expr) => {
        match $typed {
            Typed::At($c) => $body,
            Typed::Echo($c) => $body,
            Typed::Csq($c) => $body,
            Typed::Open($c) => $body,
            Typed::OpenQuery($c) => $body,
            Typed::Connect($c) => $body,
            Typed::ConnQuery($c) => $body,
            Typed::Sub($c) => $body,
            Typed::Unsub($c) => $body,
            Typed::Pub($c) => $body,
            Typed::Close($c) => $body,
            Typed::Disc($c) => $body,
            Typed::RecvMode($c) => $body,
            Typed::Timeouts($c) => $body,
            Typed::TimeoutsQuery($c) => $body,
            Typed::RecvRead($c) => $body,
        }
    };
}

impl Typed {
    fn from(cmd: Cmd) -> Typed {
        let c = |client: u8| client % 7; // 6 is out of range: refused before the wire
        match cmd {
            Cmd::At => Typed::At(At),
            Cmd::Echo(on) => Typed::Echo(SetEcho { on }),
            Cmd::Csq => Typed::Csq(SignalQuality),
            Cmd::Open(client) => Typed::Open(Open {
                client: c(client),
                host: "broker.example.com".into(),
                port: 1883,
            }),
            Cmd::OpenQuery => Typed::OpenQuery(OpenQuery),
            Cmd::Connect(client, creds) => Typed::Connect(Connect {
                client: c(client),
                client_id: "dev-1".into(),
                credentials: creds.then(|| Credentials {
                    username: "user".into(),
                    password: Secret::new("hunter2"),
                }),
            }),
            Cmd::ConnQuery => Typed::ConnQuery(ConnStateQuery),
            Cmd::Sub(client, msgid, two) => {
                let mut topics = vec![TopicFilter {
                    topic: "a/+".into(),
                    qos: Qos::AtLeastOnce,
                }];
                if two {
                    topics.push(TopicFilter {
                        topic: "b/#".into(),
                        qos: Qos::ExactlyOnce,
                    });
                }
                Typed::Sub(Subscribe {
                    client: c(client),
                    msgid,
                    topics,
                })
            }
            Cmd::Unsub(client, msgid) => Typed::Unsub(Unsubscribe {
                client: c(client),
                msgid,
                topics: vec!["a/+".into()],
            }),
            Cmd::Pub(client, msgid, qos, payload) => {
                let qos = match qos % 3 {
                    0 => Qos::AtMostOnce,
                    1 => Qos::AtLeastOnce,
                    _ => Qos::ExactlyOnce,
                };
                Typed::Pub(Publish {
                    client: c(client),
                    msgid: if qos == Qos::AtMostOnce { 0 } else { msgid },
                    qos,
                    retain: false,
                    topic: "t/up".into(),
                    payload: Bytes::from(payload),
                })
            }
            Cmd::Close(client) => Typed::Close(Close { client: c(client) }),
            Cmd::Disc(client) => Typed::Disc(Disconnect { client: c(client) }),
            Cmd::RecvMode(client, buffered, with_length) => Typed::RecvMode(CfgRecvMode {
                client: c(client),
                mode: RecvMode {
                    buffered,
                    with_length,
                },
            }),
            Cmd::Timeouts(client, pkt, retry) => Typed::Timeouts(CfgTimeout {
                client: c(client),
                timeouts: PacketTimeouts {
                    pkt_timeout: u16::from(pkt % 61),
                    retry_times: retry % 11,
                    report_timeouts: false,
                },
            }),
            Cmd::TimeoutsQuery(client) => Typed::TimeoutsQuery(CfgQuery::new(c(client))),
            Cmd::RecvRead(client, id) => Typed::RecvRead(RecvRead {
                client: c(client),
                recv_id: id.map(|i| i % 6),
            }),
        }
    }

    fn client(&self) -> u8 {
        each!(self, |c| c.client().unwrap_or(0))
    }

    fn request(&self, session: &Session) -> Option<quectel_mqtt::Request> {
        let timing = session.timing(self.client());
        each!(self, |c| c.request(&timing).ok())
    }

    fn parse(&self, response: Response) {
        each!(self, |c| {
            let _ = c.parse(response);
        })
    }
}

#[derive(Debug, Arbitrary)]
enum Canned {
    Ok,
    Error,
    Cme,
    Prompt,
    Ready,
    Open(i8),
    Conn(u8, u8),
    Sub(u8),
    PubEx(u8),
    Uns(u8),
    Close(i8),
    Disc(i8),
    Stat(u8),
    Ping,
    Csq,
    Cereg,
    Connect,
    RecvMsg(u16),
    RecvSlots,
    ConnState(u8),
    CfgTimeout,
}

impl Canned {
    fn bytes(&self, client: u8, msgid: u16) -> Vec<u8> {
        let l = match self {
            Canned::Ok => "OK".to_owned(),
            Canned::Error => "ERROR".to_owned(),
            Canned::Cme => "+CME ERROR: 3".to_owned(),
            Canned::Prompt => return b"\r\n> ".to_vec(),
            Canned::Ready => "RDY".to_owned(),
            Canned::Open(r) => format!("+QMTOPEN: {client},{r}"),
            Canned::Conn(r, rc) => format!("+QMTCONN: {client},{},{}", r % 3, rc % 6),
            Canned::Sub(r) => format!("+QMTSUB: {client},{msgid},{},1", r % 3),
            Canned::PubEx(r) => format!("+QMTPUBEX: {client},{msgid},{}", r % 3),
            Canned::Uns(r) => format!("+QMTUNS: {client},{msgid},{}", r % 3),
            Canned::Close(r) => format!("+QMTCLOSE: {client},{r}"),
            Canned::Disc(r) => format!("+QMTDISC: {client},{r}"),
            Canned::Stat(code) => format!("+QMTSTAT: {client},{}", code % 9),
            Canned::Ping => format!("+QMTPING: {client},1"),
            Canned::Csq => "+CSQ: 20,99".to_owned(),
            Canned::Cereg => "+CEREG: 0,1".to_owned(),
            Canned::Connect => "CONNECT".to_owned(),
            Canned::RecvMsg(len) => {
                let len = usize::from(len % 40);
                let payload = "a\r\n\",".repeat(10);
                format!(
                    "+QMTRECV: {client},{msgid},\"t/x\",{len},\"{}\"",
                    &payload[..len]
                )
            }
            Canned::RecvSlots => format!("+QMTRECV: {client},1,0,0,1,0"),
            Canned::ConnState(s) => format!("+QMTCONN: {client},{}", s % 5),
            Canned::CfgTimeout => "+QMTCFG: \"timeout\",5,3,0".to_owned(),
        };
        format!("\r\n{l}\r\n").into_bytes()
    }
}

#[derive(Debug, Arbitrary)]
enum Op {
    Submit(Cmd),
    Feed(Vec<u8>),
    Canned(Canned, u8, u16),
    /// Feed back the last line written (the module's echo, ending in a bare CR).
    EchoLast,
    /// Let this many 10 ms steps pass (then fire what is due).
    Wait(u16),
    /// Jump to the next deadline and fire it.
    Timeout,
}

struct Harness {
    session: Session,
    now: Instant,
    submitted: Vec<(RequestId, Typed)>,
    done: BTreeSet<RequestId>,
    last_written: Vec<u8>,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(out) = self.session.poll_transmit() {
            self.last_written = out.to_vec();
        }
        while let Some(event) = self.session.poll_event() {
            if let Event::Completed { id, result } = event {
                let Some((_, typed)) = self.submitted.iter().find(|(i, _)| *i == id) else {
                    panic!("completion of {id:?}, which was never submitted");
                };
                assert!(self.done.insert(id), "{id:?} completed twice");
                if let Ok(response) = result {
                    typed.parse(response);
                }
            }
        }
        for client in 0..=quectel_mqtt::MAX_CLIENT {
            let n = self.session.publishes_in_flight(client);
            assert!(
                n <= PUBLISH_WINDOW,
                "client {client}: {n} publishes in flight"
            );
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut h = Harness {
        session: Session::default(),
        now: Instant::now(),
        submitted: Vec::new(),
        done: BTreeSet::new(),
        last_written: Vec::new(),
    };
    for op in ops.into_iter().take(256) {
        match op {
            Op::Submit(cmd) => {
                let typed = Typed::from(cmd);
                if let Some(request) = typed.request(&h.session) {
                    let id = h.session.submit(request, h.now);
                    h.submitted.push((id, typed));
                }
            }
            Op::Feed(bytes) => h.session.handle_input(&bytes, h.now),
            Op::Canned(c, client, msgid) => {
                let bytes = c.bytes(client % 6, msgid);
                h.session.handle_input(&bytes, h.now);
            }
            Op::EchoLast => {
                let echo = h.last_written.clone();
                h.session.handle_input(&echo, h.now);
            }
            Op::Wait(steps) => {
                h.now += Duration::from_millis(u64::from(steps) * 10);
                h.session.handle_timeout(h.now);
            }
            Op::Timeout => {
                if let Some(at) = h.session.poll_timeout() {
                    h.now = h.now.max(at);
                    h.session.handle_timeout(h.now);
                }
            }
        }
        h.drain();
    }
    // The module falls silent: everything still pending must end within the longest
    // command timeout the guide allows (pkt_timeout 60 s × (retry_times 10 + 1) = 660 s, plus
    // slack). Probes time out every few seconds meanwhile, so this is bounded by time, not by
    // a count of timeouts (a 480 s `AT+QMTSUB` outlives 64 probe rounds).
    let silent_from = h.now;
    while h.done.len() < h.submitted.len() {
        let Some(at) = h.session.poll_timeout() else {
            break;
        };
        if at > silent_from + MAX_SILENT_WAIT {
            break;
        }
        h.now = h.now.max(at);
        h.session.handle_timeout(h.now);
        h.drain();
    }
    let pending: Vec<_> = h
        .submitted
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !h.done.contains(id))
        .collect();
    assert!(
        pending.is_empty(),
        "requests never completed after the module fell silent: {pending:?} (queued {})",
        h.session.queued()
    );
});
