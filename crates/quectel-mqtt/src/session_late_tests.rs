//! Answers that arrive late, or that two pending commands could claim, reach their owner;
//! a prompt that comes after its command timed out gets that command's data.
use std::time::Duration;

use bytes::Bytes;

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

/// A publish whose `>` comes after its timeout: the probe and the next command must not
/// become its payload.
#[test]
fn a_late_prompt_gets_the_publishs_own_payload_never_a_probe() {
    let mut h = Harness::new();
    let late = h.submit(super::tests::publish(0, 1, b"{\"a\":1}"));
    let next = h.submit(req("AT+QMTPUBEX?", Completion::Final, 1));
    assert_eq!(h.written(), b"AT+QMTPUBEX=0,1,1,0,\"t\",7\r");
    h.advance(Duration::from_secs(18)); // 15 s + 2 s slack
    let done = h.completed();
    assert!(
        matches!(done[..], [(id, Err(Error::Timeout { .. }))] if id == late),
        "{done:?}"
    );
    h.advance(Duration::from_secs(20));
    assert!(h.written().is_empty(), "quiet: no probe, no next command");
    assert!(h.session.may_be_taking_data());
    h.feed(b"\r\n> ");
    assert_eq!(
        h.written(),
        b"{\"a\":1}AT+CSQ\r",
        "the module gets the message it was waiting for, then the probe"
    );
    assert!(!h.session.may_be_taking_data());
    // Its late OK and result belong to the timed-out publish, not to the next command.
    h.feed(&module(&["OK", "+QMTPUBEX: 0,1,0", "+CSQ: 20,99", "OK"]));
    assert_eq!(h.written(), b"AT+QMTPUBEX?\r");
    h.feed(b"\r\nERROR\r\n");
    let done = h.completed();
    assert_eq!(
        done,
        vec![(next, Err(Error::Module { command: "AT+TEST" }))]
    );
}

#[test]
fn an_error_while_waiting_for_a_late_prompt_means_command_mode() {
    let mut h = Harness::new();
    h.submit(super::tests::publish(0, 1, b"xyz"));
    let next = h.submit(req("AT", Completion::Final, 1));
    h.written();
    assert!(h.session.may_be_taking_data(), "no prompt yet");
    h.advance(Duration::from_secs(18));
    assert!(h.written().is_empty());
    // The module refused the publish late (or its edit/timeout fired): back to commands.
    h.feed(b"\r\nERROR\r\n");
    assert!(!h.session.may_be_taking_data());
    assert_eq!(h.written(), b"AT\r");
    h.feed(b"\r\nOK\r\n");
    assert!(h.completed().iter().any(|(id, r)| *id == next && r.is_ok()));
}

#[test]
fn silence_after_a_prompt_timeout_ends_in_the_usual_probe() {
    let mut h = Harness::new();
    h.submit(super::tests::publish(0, 1, b"xyz"));
    h.written();
    h.advance(Duration::from_secs(18));
    let quiet = SessionConfig::default().input_quiet;
    h.advance(quiet - Duration::from_secs(1));
    assert!(h.written().is_empty(), "still quiet");
    h.advance(Duration::from_secs(1));
    assert_eq!(h.written(), b"AT+CSQ\r");
    // A prompt now is no longer answered with data: the probe already went out.
    h.feed(b"\r\n> ");
    assert!(h.written().is_empty());
}

#[test]
fn a_late_connect_gets_the_uploads_own_file_data() {
    let mut h = Harness::new();
    let mut upload = req("AT+QFUPL=\"ca.pem\",4,5", Completion::Final, 5);
    upload.data = Some(Data::Connect(Bytes::from_static(b"PEM!")));
    h.submit(upload);
    h.written();
    h.advance(Duration::from_secs(8));
    assert!(h.written().is_empty());
    h.feed(b"\r\nCONNECT\r\n");
    assert_eq!(h.written(), b"PEM!AT+CSQ\r");
}
