//! Answers that arrive late, or that two pending commands could claim, reach their owner.
use super::tests::{req, urc_key, Harness};
use super::*;
use crate::decoder::tests::module;

#[test]
fn answer_after_rdy_is_not_handed_to_the_next_command() {
    // The command went out while the module was booting: RDY first, then its OK.
    let mut h = Harness::new();
    let first = h.submit(req("AT", Completion::Final, 1));
    let next = h.submit(req("ATE0", Completion::Final, 1));
    h.written();
    h.feed(b"\r\nRDY\r\n");
    assert_eq!(h.written(), b"AT+CSQ\r", "a probe before the next command");
    h.feed(b"\r\nOK\r\n"); // the late answer to AT
    assert!(h.written().is_empty());
    h.feed(&module(&["+CSQ: 9,99", "OK"]));
    assert_eq!(h.written(), b"ATE0\r");
    h.feed(b"\r\nERROR\r\n");
    let done = h.completed();
    assert_eq!(
        done[0],
        (first, Err(Error::Restarted { command: "AT+TEST" }))
    );
    assert_eq!(
        done[1],
        (next, Err(Error::Module { command: "AT+TEST" })),
        "ATE0 got its own ERROR"
    );
}

#[test]
fn result_urc_awaited_by_an_earlier_command_is_not_a_query_line() {
    let mut h = Harness::new();
    let open = h.submit(req(
        "AT+QMTOPEN=0,\"h\",1883",
        urc_key(UrcKind::Open, 0, None),
        120,
    ));
    let mut q = req("AT+QMTOPEN?", Completion::Final, 1);
    q.info = Info::Prefix("+QMTOPEN:");
    let query = h.submit(q);
    h.written();
    h.feed(b"\r\nOK\r\n");
    assert_eq!(h.written(), b"AT+QMTOPEN?\r");
    h.feed(&module(&["+QMTOPEN: 0,0", "+QMTOPEN: 0,\"h\",1883", "OK"]));
    let done = h.completed();
    assert_eq!(done[0].0, open, "the open completed on its URC");
    assert_eq!(done[1].0, query);
    assert_eq!(
        done[1].1.as_ref().unwrap().info,
        vec!["+QMTOPEN: 0,\"h\",1883".to_string()]
    );
}
