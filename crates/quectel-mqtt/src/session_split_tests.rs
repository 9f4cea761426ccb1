//! Splitting the module's output at any points changes nothing the session does.
use std::time::Duration;

use proptest::prelude::*;

use super::tests::{publish, req, urc_key, Harness};
use super::*;

/// Runs a fixed exchange (open, connect, publish, then URCs) with the module output fed
/// in the given chunks; returns what was written and every event.
fn run(chunks: &[&[u8]]) -> (Vec<u8>, Vec<Event>) {
    let mut h = Harness::new();
    h.submit(req(
        "AT+QMTOPEN=0,\"h\",1883",
        urc_key(UrcKind::Open, 0, None),
        120,
    ));
    h.submit(req(
        "AT+QMTCONN=0,\"c\"",
        urc_key(UrcKind::Conn, 0, None),
        5,
    ));
    h.submit(publish(0, 1, b"hello"));
    let mut written = h.written();
    let mut events = Vec::new();
    for chunk in chunks {
        h.feed(chunk);
        written.extend(h.written());
        events.extend(h.events());
    }
    (written, events)
}

fn module_output() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"AT+QMTOPEN=0,\"h\",1883\r\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n");
    out.extend_from_slice(b"AT+QMTCONN=0,\"c\"\r\r\n+QMTCONN: 0,0,0\r\n\r\nOK\r\n");
    out.extend_from_slice(b"AT+QMTPUBEX=0,1,1,0,\"t\",5\r\r\n> hello\r\nOK\r\n");
    out.extend_from_slice(b"\r\n+QMTRECV: 0,4,\"t\",7,\"a\r\n,\"b\"\"\r\n\r\n+QMTPUBEX: 0,1,0\r\n\r\n+QMTSTAT: 0,1\r\n");
    out
}

#[test]
fn whole_exchange_completes() {
    let (written, events) = run(&[&module_output()]);
    assert!(
        written.ends_with(b"AT+QMTPUBEX=0,1,1,0,\"t\",5\rhello"),
        "{}",
        String::from_utf8_lossy(&written)
    );
    let completed = events
        .iter()
        .filter(|e| matches!(e, Event::Completed { result: Ok(_), .. }))
        .count();
    assert_eq!(completed, 3, "{events:?}");
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Urc(Urc::Recv(m)) if &m.payload[..] == b"a\r\n,\"b\"")));
}

proptest! {
    #[test]
    fn any_split_yields_the_same_writes_and_events(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let bytes = module_output();
        let whole = run(&[&bytes]);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        points.push(bytes.len());
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&bytes[last..p]);
            last = p;
        }
        prop_assert_eq!(run(&chunks), whole);
    }

    #[test]
    fn no_module_output_panics_the_session(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut h = Harness::new();
        h.submit(publish(0, 1, b"x"));
        h.submit(req("AT+QMTCONN?", Completion::Final, 1));
        h.feed(&bytes);
        h.advance(Duration::from_secs(30));
        h.feed(&bytes);
        h.advance(Duration::from_secs(30));
        let _ = h.events();
    }
}
