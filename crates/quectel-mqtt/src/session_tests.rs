use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::decoder::tests::module;
use crate::request::Effect;
use crate::urc::{ConnectReturnCode, OpenResult, PacketResult};

pub(super) fn req(line: &str, completion: Completion, timeout_s: u64) -> Request {
    Request {
        name: "AT+TEST",
        line: line.as_bytes().to_vec(),
        data: None,
        info: Info::None,
        completion,
        timeout: Duration::from_secs(timeout_s),
        effect: None,
        secret: false,
    }
}

pub(super) fn urc_key(kind: UrcKind, client: u8, msgid: Option<u16>) -> Completion {
    Completion::Urc(UrcKey {
        kind,
        client,
        msgid,
    })
}

pub(super) fn publish(client: u8, msgid: u16, payload: &'static [u8]) -> Request {
    Request {
        data: Some(Data::Prompt(Bytes::from_static(payload))),
        ..req(
            &format!("AT+QMTPUBEX={client},{msgid},1,0,\"t\",{}", payload.len()),
            urc_key(UrcKind::PubEx, client, Some(msgid)),
            15,
        )
    }
}

pub(super) struct Harness {
    pub(super) session: Session,
    now: Instant,
}

impl Harness {
    pub(super) fn new() -> Self {
        Harness {
            session: Session::default(),
            now: Instant::now(),
        }
    }

    pub(super) fn submit(&mut self, r: Request) -> RequestId {
        self.session.submit(r, self.now)
    }

    pub(super) fn written(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.session.poll_transmit() {
            out.extend_from_slice(&b);
        }
        out
    }

    pub(super) fn feed(&mut self, bytes: &[u8]) {
        self.session.handle_input(bytes, self.now);
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        self.session.handle_timeout(self.now);
    }

    pub(super) fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    pub(super) fn completed(&mut self) -> Vec<(RequestId, Result<Response, Error>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Completed { id, result } => Some((id, result)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn one_command_in_flight_in_submission_order() {
    let mut h = Harness::new();
    let a = h.submit(req("AT", Completion::Final, 1));
    let b = h.submit(req("ATE0", Completion::Final, 1));
    assert_eq!(h.written(), b"AT\r");
    h.feed(b"\r\nOK\r\n");
    assert_eq!(h.written(), b"ATE0\r");
    h.feed(b"\r\nERROR\r\n");
    let done = h.completed();
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].0, a);
    assert!(done[0].1.is_ok());
    assert_eq!(done[1], (b, Err(Error::Module { command: "AT+TEST" })));
}

#[test]
fn result_urc_after_ok_completes_and_frees_the_channel_at_ok() {
    let mut h = Harness::new();
    let open = h.submit(req(
        "AT+QMTOPEN=0,\"h\",1883",
        urc_key(UrcKind::Open, 0, None),
        120,
    ));
    let next = h.submit(req("AT+CSQ", Completion::Final, 1));
    h.written();
    h.feed(b"\r\nOK\r\n");
    assert_eq!(
        h.written(),
        b"AT+CSQ\r",
        "the channel is free once OK arrives"
    );
    assert_eq!(h.session.client_state(0), ClientState::Opening);
    h.feed(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n");
    let done = h.completed();
    assert_eq!(done[0].0, next);
    assert_eq!(done[1].0, open);
    let response = done[1].1.as_ref().unwrap();
    assert_eq!(
        response.urc,
        Some(Urc::Open {
            client: 0,
            result: OpenResult::Opened
        })
    );
    assert_eq!(h.session.client_state(0), ClientState::Open);
}

#[test]
fn result_urc_before_ok_is_kept_until_ok() {
    let mut h = Harness::new();
    let conn = h.submit(req(
        "AT+QMTCONN=0,\"c\"",
        urc_key(UrcKind::Conn, 0, None),
        5,
    ));
    h.written();
    h.feed(b"\r\n+QMTCONN: 0,0,0\r\n");
    assert!(h.completed().is_empty());
    h.feed(b"\r\nOK\r\n");
    let done = h.completed();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, conn);
    assert!(done[0].1.is_ok());
    assert_eq!(h.session.client_state(0), ClientState::Connected);
}

#[test]
fn urc_between_command_and_ok_is_not_its_response() {
    let mut h = Harness::new();
    let mut r = req("AT+QMTCFG=\"keepalive\",0", Completion::Final, 1);
    r.info = Info::Prefix("+QMTCFG:");
    let id = h.submit(r);
    h.written();
    h.feed(&module(&[
        "+QMTSTAT: 1,1",
        "+QMTCFG: \"keepalive\",120",
        "+QMTRECV: 2,0",
        "OK",
    ]));
    let events = h.events();
    assert!(events.contains(&Event::Urc(Urc::Stat {
        client: 1,
        code: StatCode::ClosedByServer
    })));
    assert!(events.contains(&Event::Urc(Urc::Stored {
        client: 2,
        recv_id: 0
    })));
    let response = events
        .iter()
        .find_map(|e| match e {
            Event::Completed {
                id: got,
                result: Ok(r),
            } if *got == id => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        response.info,
        vec!["+QMTCFG: \"keepalive\",120".to_string()]
    );
}

#[test]
fn conn_query_claims_its_prefix_while_in_flight() {
    let mut h = Harness::new();
    let mut q = req("AT+QMTCONN?", Completion::Final, 1);
    q.info = Info::Prefix("+QMTCONN:");
    h.submit(q);
    h.written();
    h.feed(&module(&["+QMTCONN: 0,3", "OK"]));
    let done = h.completed();
    assert_eq!(
        done[0].1.as_ref().unwrap().info,
        vec!["+QMTCONN: 0,3".to_string()]
    );
}

#[test]
fn publish_sends_data_after_prompt_and_resolves_on_result() {
    let mut h = Harness::new();
    let id = h.submit(publish(0, 1, b"hello"));
    assert_eq!(h.written(), b"AT+QMTPUBEX=0,1,1,0,\"t\",5\r");
    h.feed(b"AT+QMTPUBEX=0,1,1,0,\"t\",5\r\r\n> ");
    assert_eq!(h.written(), b"hello");
    // Echo on: the payload comes back, then OK and the result.
    h.feed(b"hello\r\nOK\r\n");
    assert!(h.completed().is_empty());
    assert_eq!(h.session.publishes_in_flight(0), 1);
    h.feed(b"\r\n+QMTPUBEX: 0,1,1,1\r\n");
    assert!(
        h.completed().is_empty(),
        "retransmission is progress, not the outcome"
    );
    h.feed(b"\r\n+QMTPUBEX: 0,1,0\r\n");
    let done = h.completed();
    assert_eq!(done[0].0, id);
    assert_eq!(
        done[0].1.as_ref().unwrap().urc,
        Some(Urc::PubEx {
            client: 0,
            msgid: 1,
            result: PacketResult::Acked,
            value: None
        })
    );
    assert_eq!(h.session.publishes_in_flight(0), 0);
}

#[test]
fn payload_that_looks_like_frames_is_not_misread_with_echo() {
    let mut h = Harness::new();
    let id = h.submit(publish(0, 9, b"\r\nOK\r\n+QMTSTAT: 0,1\r\n"));
    h.written();
    h.feed(b"AT+QMTPUBEX=0,9,1,0,\"t\",21\r\r\n> ");
    h.written();
    h.feed(b"\r\nOK\r\n+QMTSTAT: 0,1\r\n\r\nOK\r\n\r\n+QMTPUBEX: 0,9,0\r\n");
    let events = h.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Urc(Urc::Stat { .. }))),
        "{events:?}"
    );
    assert!(matches!(&events[..], [Event::Completed { id: got, result: Ok(_) }] if *got == id));
}

#[test]
fn window_of_five_publishes_pipelines_and_holds_the_sixth() {
    let mut h = Harness::new();
    h.feed(b""); // echo unknown yet: the module below has echo off
    let ids: Vec<_> = (1..=6).map(|m| h.submit(publish(0, m, b"x"))).collect();
    for m in 1..=5u16 {
        let line = format!("AT+QMTPUBEX=0,{m},1,0,\"t\",1\r");
        assert_eq!(
            h.written(),
            line.as_bytes(),
            "publish {m} written without waiting for earlier results"
        );
        h.feed(b"\r\n> ");
        assert_eq!(h.written(), b"x");
        h.feed(b"\r\nOK\r\n");
    }
    assert_eq!(h.session.publishes_in_flight(0), 5);
    assert!(
        h.written().is_empty(),
        "the sixth waits for room in the window"
    );
    assert_eq!(h.session.queued(), 1);
    h.feed(b"\r\n+QMTPUBEX: 0,3,0\r\n");
    assert_eq!(h.written(), b"AT+QMTPUBEX=0,6,1,0,\"t\",1\r");
    let done = h.completed();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, ids[2]);
}

#[test]
fn late_final_code_of_a_timed_out_command_is_not_handed_to_the_next() {
    let mut h = Harness::new();
    let slow = h.submit(req("AT+SLOW", Completion::Final, 1));
    let next = h.submit(req("AT+NEXT", Completion::Final, 5));
    assert_eq!(h.written(), b"AT+SLOW\r");
    h.advance(Duration::from_secs(4));
    let done = h.completed();
    assert!(
        matches!(done[..], [(id, Err(Error::Timeout { .. }))] if id == slow),
        "{done:?}"
    );
    assert_eq!(
        h.written(),
        b"AT+CSQ\r",
        "a probe goes out before the next command"
    );
    // The late ERROR of AT+SLOW, then the probe's answer.
    h.feed(b"\r\nERROR\r\n");
    assert!(
        h.written().is_empty(),
        "the ERROR before +CSQ belongs to the timed-out command"
    );
    h.feed(&module(&["+CSQ: 21,99", "OK"]));
    assert_eq!(h.written(), b"AT+NEXT\r");
    h.feed(b"\r\nOK\r\n");
    let done = h.completed();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, next);
    assert!(
        done[0].1.is_ok(),
        "AT+NEXT got its own OK, not the stale ERROR"
    );
}

#[test]
fn dead_channel_fails_queued_commands_and_recovers() {
    let mut h = Harness::new();
    h.submit(req("AT", Completion::Final, 1));
    let queued = h.submit(req("AT+QMTCONN?", Completion::Final, 1));
    h.written();
    h.advance(Duration::from_secs(4)); // AT times out, probe goes out
    h.advance(Duration::from_secs(4)); // probe times out
    let events = h.events();
    assert!(events.contains(&Event::Unresponsive));
    assert!(events.contains(&Event::Completed {
        id: queued,
        result: Err(Error::Unresponsive { command: "AT+TEST" })
    }));
    // Probes alternate, so a late answer to the first cannot pass for the second's.
    assert_eq!(h.written(), b"AT+CSQ\rAT+CEREG?\r");
    h.feed(&module(&["+CSQ: 10,99", "OK"]));
    assert!(
        !h.events().contains(&Event::Responsive),
        "the first probe's late answer is not the second's"
    );
    h.feed(&module(&["+CEREG: 0,1", "OK"]));
    assert!(h.events().contains(&Event::Responsive));
    let again = h.submit(req("AT", Completion::Final, 1));
    assert_eq!(h.written(), b"AT\r");
    h.feed(b"\r\nOK\r\n");
    assert_eq!(h.completed()[0].0, again);
}

#[test]
fn awaiting_urc_times_out_on_its_own_deadline() {
    let mut h = Harness::new();
    let id = h.submit(req(
        "AT+QMTOPEN=0,\"h\",1",
        urc_key(UrcKind::Open, 0, None),
        120,
    ));
    h.written();
    h.feed(b"\r\nOK\r\n");
    h.advance(Duration::from_secs(100));
    assert!(h.completed().is_empty());
    h.advance(Duration::from_secs(30));
    let done = h.completed();
    assert!(matches!(done[..], [(got, Err(Error::Timeout { .. }))] if got == id));
    assert_eq!(h.session.client_state(0), ClientState::Closed);
}

#[test]
fn refused_connect_then_qmtstat_reports_the_refusal() {
    // Real module (at-logs/16): +QMTCONN: 0,0,5 then +QMTSTAT: 0,4.
    let mut h = Harness::new();
    let id = h.submit(req(
        "AT+QMTCONN=0,\"c\",\"u\",\"p\"",
        urc_key(UrcKind::Conn, 0, None),
        5,
    ));
    h.written();
    h.feed(&module(&["OK", "+QMTCONN: 0,0,5", "+QMTSTAT: 0,4"]));
    let events = h.events();
    assert_eq!(
        events[0],
        Event::Completed {
            id,
            result: Err(Error::Connect {
                result: PacketResult::Acked,
                ret_code: Some(ConnectReturnCode::NotAuthorized)
            })
        }
    );
    assert_eq!(
        events[1],
        Event::Urc(Urc::Stat {
            client: 0,
            code: StatCode::ConnackFailed
        })
    );
    assert_eq!(h.session.client_state(0), ClientState::Closed);
}

#[test]
fn link_down_fails_pending_publishes_of_that_client_only() {
    let mut h = Harness::new();
    let a = h.submit(publish(0, 1, b"a"));
    h.written();
    h.feed(b"\r\n> ");
    h.written();
    h.feed(b"\r\nOK\r\n");
    let b = h.submit(publish(1, 1, b"b"));
    h.written();
    h.feed(b"\r\n> ");
    h.written();
    h.feed(b"\r\nOK\r\n");
    h.feed(b"\r\n+QMTSTAT: 0,1\r\n");
    let done = h.completed();
    assert_eq!(done.len(), 1);
    assert_eq!(
        done[0],
        (
            a,
            Err(Error::LinkDown {
                command: "AT+TEST",
                code: StatCode::ClosedByServer
            })
        )
    );
    h.feed(b"\r\n+QMTPUBEX: 1,1,0\r\n");
    assert_eq!(h.completed()[0].0, b);
}

#[test]
fn module_restart_fails_everything_pending_and_resets_state() {
    let mut h = Harness::new();
    let open = h.submit(req(
        "AT+QMTOPEN=0,\"h\",1",
        urc_key(UrcKind::Open, 0, None),
        120,
    ));
    h.written();
    h.feed(b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n");
    assert_eq!(h.completed()[0].0, open);
    let conn = h.submit(req(
        "AT+QMTCONN=0,\"c\"",
        urc_key(UrcKind::Conn, 0, None),
        5,
    ));
    h.written();
    h.feed(b"\r\nRDY\r\n");
    let events = h.events();
    assert!(events.contains(&Event::Completed {
        id: conn,
        result: Err(Error::Restarted { command: "AT+TEST" })
    }));
    assert!(events.contains(&Event::Urc(Urc::Ready)));
    assert_eq!(h.session.client_state(0), ClientState::Closed);
    assert!(h.session.echo());
}

#[test]
fn connect_data_mode_uploads_after_connect() {
    let mut h = Harness::new();
    let mut r = req("AT+QFUPL=\"UFS:cacert.pem\",4,100", Completion::Final, 5);
    r.data = Some(Data::Connect(Bytes::from_static(b"CERT")));
    r.info = Info::Prefix("+QFUPL:");
    let id = h.submit(r);
    h.written();
    h.feed(b"\r\nCONNECT\r\n");
    assert_eq!(h.written(), b"CERT");
    h.feed(&module(&["+QFUPL: 4,2d53", "OK"]));
    let done = h.completed();
    assert_eq!(done[0].0, id);
    assert_eq!(
        done[0].1.as_ref().unwrap().info,
        vec!["+QFUPL: 4,2d53".to_string()]
    );
}

#[test]
fn effects_apply_on_success_only() {
    let mut h = Harness::new();
    let mut r = req("AT+QMTCFG=\"timeout\",2,10,4,0", Completion::Final, 1);
    r.effect = Some(Effect::Timing {
        client: 2,
        pkt_timeout: 10,
        retry_times: 4,
    });
    h.submit(r.clone());
    h.written();
    h.feed(b"\r\nERROR\r\n");
    assert_eq!(h.session.timing(2), Timing::default());
    h.submit(r);
    h.written();
    h.feed(b"\r\nOK\r\n");
    assert_eq!(
        h.session.timing(2),
        Timing {
            pkt_timeout: 10,
            retry_times: 4
        }
    );
    assert_eq!(h.session.timing(2).packet(), Duration::from_secs(40));
}

#[test]
fn recv_mode_effect_switches_message_framing() {
    let mut h = Harness::new();
    let mut r = req("AT+QMTCFG=\"recv/mode\",0,0,0", Completion::Final, 1);
    r.effect = Some(Effect::RecvLength {
        client: 0,
        with_length: false,
    });
    h.submit(r);
    h.written();
    h.feed(b"\r\nOK\r\n");
    h.feed(b"\r\n+QMTRECV: 0,0,\"t\",12,34\r\n");
    let events = h.events();
    let payload = events.iter().find_map(|e| match e {
        Event::Urc(Urc::Recv(m)) => Some(m.payload.clone()),
        _ => None,
    });
    assert_eq!(payload.as_deref(), Some(&b"12,34"[..]));
}

#[test]
fn msgids_skip_those_in_use_and_wrap() {
    let mut h = Harness::new();
    let first = h.session.next_msgid(0);
    assert_eq!(first, 1);
    h.submit(publish(0, 2, b"x"));
    assert_eq!(h.session.next_msgid(0), 3, "2 is in use");
    h.session.next_msgid[0] = u16::MAX;
    assert_eq!(
        h.session.next_msgid(0),
        1,
        "wraps past 65535 and never yields 0"
    );
    assert_eq!(h.session.next_msgid(1), 1, "per client");
}

#[test]
fn unknown_lines_and_garbage_become_events() {
    let mut h = Harness::new();
    h.feed(b"\r\n+QIND: SMS DONE\r\n\x00\xff\xfe junk\r\n");
    let events = h.events();
    assert_eq!(events[0], Event::Urc(Urc::Other("+QIND: SMS DONE".into())));
    assert!(matches!(&events[1], Event::Urc(Urc::Other(_))));
    // The port still works.
    let id = h.submit(req("AT", Completion::Final, 1));
    h.written();
    h.feed(b"\r\nOK\r\n");
    assert_eq!(h.completed()[0].0, id);
}
