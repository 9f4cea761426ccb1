//! Unit tests of the sans-IO module: command lines in, bytes and actions out.

use std::time::Duration;

use crate::api::{Action, BackendCmd, BackendEvent, Step, TimerId};
use crate::auth::{Credentials, DeriveError, DeriveInput, Derivers};
use crate::faults::Fault;
use crate::module::{ConnState, Module, ModuleConfig};

fn module() -> Module {
    let mut m = Module::new(ModuleConfig::default());
    assert_eq!(m.power_up().out, b"\r\nRDY\r\n");
    assert_eq!(m.feed(b"ATE0\r").out, b"ATE0\r\r\nOK\r\n");
    m
}

fn text(s: &Step) -> String {
    String::from_utf8_lossy(&s.out).into_owned()
}

fn cmd(m: &mut Module, line: &str) -> Step {
    m.feed(format!("{line}\r").as_bytes())
}

fn backend(s: &Step) -> Vec<BackendCmd> {
    s.actions
        .iter()
        .filter_map(|a| match a {
            Action::Backend(_, c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// Opens and connects client 0.
fn connected() -> Module {
    let mut m = module();
    let s = cmd(&mut m, r#"AT+QMTOPEN=0,"127.0.0.1",1883"#);
    assert_eq!(text(&s), "\r\nOK\r\n");
    assert!(matches!(
        &backend(&s)[..],
        [BackendCmd::Open {
            port: 1883,
            tls: None,
            ..
        }]
    ));
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::Opened(0))),
        "\r\n+QMTOPEN: 0,0\r\n"
    );
    let s = cmd(&mut m, r#"AT+QMTCONN=0,"dev1","user","pw""#);
    assert_eq!(text(&s), "\r\nOK\r\n");
    let [BackendCmd::Connect(p)] = &backend(&s)[..] else {
        panic!("no CONNECT");
    };
    assert_eq!((p.client_id.as_str(), p.keepalive), ("dev1", 120));
    assert_eq!(p.password.as_deref(), Some("pw"));
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::ConnAck(0))),
        "\r\n+QMTCONN: 0,0,0\r\n"
    );
    assert_eq!(m.state(0), ConnState::Connected);
    m
}

#[test]
fn echo_and_basic_commands() {
    let mut m = Module::new(ModuleConfig::default());
    m.power_up();
    assert_eq!(text(&m.feed(b"AT\r")), "AT\r\r\nOK\r\n");
    assert_eq!(
        text(&m.feed(b"at+cpin?\r")),
        "at+cpin?\r\r\n+CPIN: READY\r\n\r\nOK\r\n"
    );
    assert_eq!(text(&m.feed(b"ATE0\r")), "ATE0\r\r\nOK\r\n");
    assert_eq!(
        text(&cmd(&mut m, "AT+CSQ")),
        "\r\n+CSQ: 31,99\r\n\r\nOK\r\n"
    );
    assert_eq!(text(&cmd(&mut m, "AT+NOPE")), "\r\nERROR\r\n");
    // CR LF hosts: the LF is ignored; an empty line gets no answer.
    assert_eq!(text(&m.feed(b"AT\r\n\r\n")), "\r\nOK\r\n");
    let s = text(&cmd(&mut m, "ATI"));
    assert!(
        s.starts_with("\r\nQuectel\r\nEC600S\r\nRevision: MODEMSIM_"),
        "{s}"
    );
    m.set_time(1_597_190_400_000);
    // AT+QLTS and =1: GMT with the zone; =2: local time (UTC+8); AT+CCLK?: local time.
    assert_eq!(
        text(&cmd(&mut m, "AT+QLTS")),
        "\r\n+QLTS: \"2020/08/12,00:00:00+32,0\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QLTS=1")),
        "\r\n+QLTS: \"2020/08/12,00:00:00+32,0\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QLTS=2")),
        "\r\n+QLTS: \"2020/08/12,08:00:00+32,0\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+CCLK?")),
        "\r\n+CCLK: \"20/08/12,08:00:00+32\"\r\n\r\nOK\r\n"
    );
    // AT+QICSGP keeps every field per context.
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QICSGP=2,3,"apn.x","u","p",2"#)),
        "\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QICSGP=2")),
        "\r\n+QICSGP: 3,\"apn.x\",\"u\",\"p\",2\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QICSGP=1")),
        "\r\n+QICSGP: 1,\"\",\"\",\"\",0\r\n\r\nOK\r\n"
    );
}

#[test]
fn open_conn_query_and_state_errors() {
    let mut m = connected();
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTOPEN?")),
        "\r\n+QMTOPEN: 0,\"127.0.0.1\",1883\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTCONN?")),
        "\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n"
    );
    // Configuring a client whose link exists, connecting twice, opening an occupied index.
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="keepalive",0,30"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="keepalive",0"#)),
        "\r\n+QMTCFG: \"keepalive\",120\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCONN=0,"again""#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#)),
        "\r\nOK\r\n\r\n+QMTOPEN: 0,2\r\n"
    );
    // Out of range and not-connected clients.
    assert_eq!(text(&cmd(&mut m, r#"AT+QMTOPEN=6,"h",1"#)), "\r\nERROR\r\n");
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTOPEN=1,"h",65536"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTSUB=1,1,"t",0"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTSUB=0,0,"t",0"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTSUB=0,1,"t",3"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(text(&cmd(&mut m, "AT+QMTDISC=1")), "\r\nERROR\r\n");
    // Subscribe to two topics; the SUBACK values follow.
    let s = cmd(&mut m, r#"AT+QMTSUB=0,7,"a",1,"b",2"#);
    assert_eq!(
        backend(&s),
        vec![BackendCmd::Subscribe {
            msgid: 7,
            topics: vec![("a".into(), 1), ("b".into(), 2)]
        }]
    );
    let ack = BackendEvent::SubAck {
        msgid: 7,
        result: 0,
        values: vec![1, 2],
    };
    assert_eq!(text(&m.on_backend(0, ack)), "\r\n+QMTSUB: 0,7,0,1,2\r\n");
    // Disconnect.
    let s = cmd(&mut m, "AT+QMTDISC=0");
    assert_eq!(backend(&s), vec![BackendCmd::Disconnect]);
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTCONN?")),
        "\r\n+QMTCONN: 0,4\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::Disconnected)),
        "\r\n+QMTDISC: 0,0\r\n"
    );
    assert_eq!(m.state(0), ConnState::Idle);
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="keepalive",0,30"#)),
        "\r\nOK\r\n"
    );
}

#[test]
fn pubex_prompt_cuts_payload_to_length_in_utf8_bytes() {
    let mut m = connected();
    let s = cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"topic/pub",6"#);
    assert_eq!(text(&s), "\r\n> ");
    assert!(s.actions.contains(&Action::StartTimer {
        id: TimerId::DataInput,
        after: Duration::from_secs(30)
    }));
    // "測試" is 6 UTF-8 bytes; what follows in the same write is dropped.
    let s = m.feed("測試 and more\r\n".as_bytes());
    assert_eq!(text(&s), "\r\nOK\r\n");
    assert_eq!(
        backend(&s),
        vec![BackendCmd::Publish {
            msgid: 0,
            qos: 0,
            retain: false,
            topic: "topic/pub".into(),
            payload: "測試".as_bytes().to_vec()
        }]
    );
    let done = BackendEvent::PubDone {
        msgid: 0,
        result: 0,
        value: None,
    };
    assert_eq!(text(&m.on_backend(0, done)), "\r\n+QMTPUBEX: 0,0,0\r\n");
    // Wrong forms: msgid must be 0 for QoS 0 and not 0 for QoS 1, length ≤ 1500, and the
    // BG95 inline-payload form is refused.
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,1,0,0,"t",1"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,0,1,0,"t",1"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,1,1,0,"t",1501"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,1,1,0,"t","hello""#)),
        "\r\nERROR\r\n"
    );
}

#[test]
fn publish_window_of_five() {
    let mut m = connected();
    for id in 1..=5u16 {
        assert_eq!(
            text(&cmd(&mut m, &format!(r#"AT+QMTPUBEX=0,{id},1,0,"t",1"#))),
            "\r\n> "
        );
        assert_eq!(text(&m.feed(b"x")), "\r\nOK\r\n");
    }
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,6,1,0,"t",1"#)),
        "\r\nERROR\r\n"
    );
    // A retransmission notice keeps the slot; the final result frees it.
    let retry = BackendEvent::PubDone {
        msgid: 3,
        result: 1,
        value: Some(1),
    };
    assert_eq!(text(&m.on_backend(0, retry)), "\r\n+QMTPUBEX: 0,3,1,1\r\n");
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,6,1,0,"t",1"#)),
        "\r\nERROR\r\n"
    );
    let fail = BackendEvent::PubDone {
        msgid: 3,
        result: 2,
        value: None,
    };
    assert_eq!(text(&m.on_backend(0, fail)), "\r\n+QMTPUBEX: 0,3,2\r\n");
    assert_eq!(text(&cmd(&mut m, r#"AT+QMTPUBEX=0,6,1,0,"t",1"#)), "\r\n> ");
}

fn msg(id: u16, payload: &str) -> BackendEvent {
    BackendEvent::Message {
        msgid: id,
        topic: "t/1".into(),
        payload: payload.as_bytes().to_vec(),
    }
}

#[test]
fn recv_urc_forms() {
    let mut m = module();
    cmd(&mut m, r#"AT+QMTCFG="recv/mode",0,0,1"#);
    let mut m2 = m;
    cmd(&mut m2, r#"AT+QMTOPEN=0,"h",1"#);
    m2.on_backend(0, BackendEvent::Opened(0));
    cmd(&mut m2, r#"AT+QMTCONN=0,"c""#);
    m2.on_backend(0, BackendEvent::ConnAck(0));
    let s = m2.on_backend(0, msg(0, r#"{"a":1,"b":"x"}"#));
    assert_eq!(
        text(&s),
        "\r\n+QMTRECV: 0,0,\"t/1\",15,\"{\"a\":1,\"b\":\"x\"}\"\r\n"
    );
    let mut m = connected();
    assert_eq!(
        text(&m.on_backend(0, msg(3, "hi"))),
        "\r\n+QMTRECV: 0,3,\"t/1\",\"hi\"\r\n"
    );
}

#[test]
fn buffered_recv_five_slots() {
    let mut m = module();
    cmd(&mut m, r#"AT+QMTCFG="recv/mode",0,1,1"#);
    cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#);
    m.on_backend(0, BackendEvent::Opened(0));
    cmd(&mut m, r#"AT+QMTCONN=0,"c""#);
    m.on_backend(0, BackendEvent::ConnAck(0));
    for i in 0..5 {
        let s = m.on_backend(0, msg(i, &format!("m{i}")));
        assert_eq!(text(&s), format!("\r\n+QMTRECV: 0,{i}\r\n"));
    }
    // The sixth is lost.
    assert_eq!(text(&m.on_backend(0, msg(9, "lost"))), "");
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTRECV?")),
        "\r\n+QMTRECV: 0,1,1,1,1,1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTRECV=0,2")),
        "\r\n+QMTRECV: 0,2,\"t/1\",2,\"m2\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QMTRECV?")),
        "\r\n+QMTRECV: 0,1,1,0,1,1\r\n\r\nOK\r\n"
    );
    let all = text(&cmd(&mut m, "AT+QMTRECV=0"));
    assert_eq!(all.matches("+QMTRECV: 0,").count(), 4);
    assert!(all.contains("\"m4\"") && !all.contains("lost"));
    assert_eq!(text(&cmd(&mut m, "AT+QMTRECV=1")), "\r\nERROR\r\n");
    assert_eq!(text(&cmd(&mut m, "AT+QMTRECV=?")), "\r\nOK\r\n");
}

#[test]
fn hex_send_and_receive() {
    let mut m = module();
    cmd(&mut m, r#"AT+QMTCFG="dataformat",0,1,1"#);
    cmd(&mut m, r#"AT+QMTCFG="recv/mode",0,0,1"#);
    cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#);
    m.on_backend(0, BackendEvent::Opened(0));
    cmd(&mut m, r#"AT+QMTCONN=0,"c""#);
    m.on_backend(0, BackendEvent::ConnAck(0));
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"t",3"#)),
        "\r\nERROR\r\n"
    );
    cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"t",4"#);
    let s = m.feed(b"00fF");
    assert!(
        matches!(&backend(&s)[..], [BackendCmd::Publish { payload, .. }] if payload == &[0, 255])
    );
    cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"t",2"#);
    assert_eq!(text(&m.feed(b"zz")), "\r\nERROR\r\n");
    let s = m.on_backend(0, msg(0, "\u{1}A"));
    assert_eq!(text(&s), "\r\n+QMTRECV: 0,0,\"t/1\",4,\"0141\"\r\n");
}

#[test]
fn edit_timeout_leaves_data_mode() {
    let mut m = connected();
    cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"t",10"#);
    assert!(backend(&m.feed(b"abc")).is_empty());
    assert_eq!(text(&m.on_timer(TimerId::DataInput)), "\r\nERROR\r\n");
    assert_eq!(text(&cmd(&mut m, "AT")), "\r\nOK\r\n");
}

#[test]
fn firmware_without_edit_timeout_refuses_it_and_waits_for_the_data() {
    let timer_started = |s: &Step| {
        s.actions.iter().any(|a| {
            matches!(
                a,
                Action::StartTimer {
                    id: TimerId::DataInput,
                    ..
                }
            )
        })
    };
    let mut m = connected();
    assert!(timer_started(&cmd(&mut m, r#"AT+QMTPUBEX=0,0,0,0,"t",3"#)));
    m.feed(b"abc");
    let mut m = Module::new(ModuleConfig {
        profile: crate::cfg::Profile::GuideV10,
        ..ModuleConfig::default()
    });
    m.power_up();
    let set = cmd(&mut m, r#"AT+QMTCFG="edit/timeout",0,1,30"#);
    assert!(text(&set).ends_with("ERROR\r\n"), "{}", text(&set));
    let s = cmd(&mut m, r#"AT+QMTCFG="willex",0,1,1,0,"dead",3"#);
    assert!(text(&s).ends_with("> "), "{}", text(&s));
    assert!(!timer_started(&s), "no edit/timeout: the prompt waits");
}

#[test]
fn willex_prompt_sets_the_will() {
    let mut m = module();
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="willex",0,1,1,0,"dead",3"#)),
        "\r\n> "
    );
    assert_eq!(text(&m.feed(b"byebye")), "\r\nOK\r\n");
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="will",0"#)),
        "\r\n+QMTCFG: \"will\",1,1,0,\"dead\",\"bye\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QMTCFG="willex",0"#)),
        "\r\n+QMTCFG: \"willex\",1,1,0,\"dead\",3\r\n\r\nOK\r\n"
    );
}

#[test]
fn refused_connack_then_qmtstat_4_and_link_loss() {
    let mut m = module();
    cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#);
    m.on_backend(0, BackendEvent::Opened(0));
    cmd(&mut m, r#"AT+QMTCONN=0,"c","u","bad""#);
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::ConnAck(5))),
        "\r\n+QMTCONN: 0,0,5\r\n"
    );
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::LinkLost(4))),
        "\r\n+QMTSTAT: 0,4\r\n"
    );
    assert_eq!(m.state(0), ConnState::Idle);
    let mut m = connected();
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::PingFailed)),
        "\r\n+QMTPING: 0,1\r\n"
    );
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::LinkLost(2))),
        "\r\n+QMTSTAT: 0,2\r\n"
    );
    assert_eq!(text(&cmd(&mut m, "AT+QMTCONN?")), "\r\nOK\r\n");
    // An open that failed leaves the index free.
    cmd(&mut m, r#"AT+QMTOPEN=0,"nowhere.invalid",1"#);
    assert_eq!(
        text(&m.on_backend(0, BackendEvent::Opened(4))),
        "\r\n+QMTOPEN: 0,4\r\n"
    );
    assert_eq!(m.state(0), ConnState::Idle);
}

#[test]
fn cloud_auth_without_deriver_answers_error() {
    let mut m = module();
    // CTWing has no signing function: visibly unimplemented.
    cmd(&mut m, r#"AT+QMTCFG="CTWing",0,"cid","feature""#);
    cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#);
    m.on_backend(0, BackendEvent::Opened(0));
    let s = cmd(&mut m, r#"AT+QMTCONN=0,"dev""#);
    assert_eq!(text(&s), "\r\nERROR\r\n");
    assert!(backend(&s).is_empty());
    assert_eq!(m.state(0), ConnState::Open);
}

#[test]
fn cloud_auth_uses_the_deriver_table() {
    fn derive(i: &DeriveInput<'_>) -> Result<Credentials, DeriveError> {
        Ok(Credentials {
            client_id: format!("{}|derived|", i.client_id),
            username: Some("user".into()),
            password: Some(format!("t={}", i.now_unix_ms)),
        })
    }
    let mut m = Module::new(ModuleConfig {
        derivers: Derivers {
            aliyun: Some(derive),
            ..Derivers::default()
        },
        ..ModuleConfig::default()
    });
    m.set_time(42);
    cmd(&mut m, r#"AT+QMTCFG="aliauth",0,"pk","dn","ds""#);
    cmd(&mut m, r#"AT+QMTOPEN=0,"h",1"#);
    m.on_backend(0, BackendEvent::Opened(0));
    let s = cmd(&mut m, r#"AT+QMTCONN=0,"clientExample""#);
    let [BackendCmd::Connect(p)] = &backend(&s)[..] else {
        panic!("no CONNECT");
    };
    assert_eq!(p.client_id, "clientExample|derived|");
    assert_eq!(p.password.as_deref(), Some("t=42"));
}

#[test]
fn faults_error_stall_garbage_reboot() {
    let mut m = connected();
    m.inject(Fault::Error(2));
    assert_eq!(text(&cmd(&mut m, "AT")), "\r\nERROR\r\n");
    assert_eq!(text(&cmd(&mut m, "AT+CSQ")), "\r\nERROR\r\n");
    assert_eq!(text(&cmd(&mut m, "AT")), "\r\nOK\r\n");
    m.inject(Fault::Stall(1));
    assert_eq!(text(&cmd(&mut m, "AT")), "");
    assert_eq!(text(&cmd(&mut m, "AT")), "\r\nOK\r\n");
    m.inject(Fault::Garbage(1));
    let s = cmd(&mut m, "AT").out;
    assert!(s.len() > 6 && s.ends_with(b"\r\nOK\r\n") && !s.starts_with(b"\r\n"));
    let s = m.inject(Fault::DropLink(0));
    assert_eq!(s.actions, vec![Action::Fault(Fault::DropLink(0))]);
    assert!(m.inject(Fault::DropLink(3)).actions.is_empty());
    let s = m.inject(Fault::Reboot);
    assert!(s.actions.contains(&Action::Rebooted));
    assert_eq!(text(&cmd(&mut m, "AT")), "");
    assert_eq!(text(&m.on_timer(TimerId::RebootDone)), "\r\nRDY\r\n");
    assert_eq!(m.state(0), ConnState::Idle);
    assert!(m.echo());
    assert_eq!(text(&cmd(&mut m, "AT")), "AT\r\r\nOK\r\n");
}

#[test]
fn upload_and_ssl_context_reach_qmtopen() {
    let mut m = module();
    let s = cmd(&mut m, r#"AT+QFUPL="UFS:cacert.pem",4,100"#);
    assert_eq!(text(&s), "\r\nCONNECT\r\n");
    assert_eq!(
        text(&m.feed(b"\x12\x34\x56\x78")),
        "\r\n+QFUPL: 4,444c\r\n\r\nOK\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QFUPL="cacert.pem",4"#)),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        text(&cmd(&mut m, "AT+QFLST")),
        "\r\n+QFLST: \"UFS:cacert.pem\",4\r\n\r\nOK\r\n"
    );
    cmd(&mut m, r#"AT+QSSLCFG="cacert",2,"UFS:cacert.pem""#);
    cmd(&mut m, r#"AT+QSSLCFG="seclevel",2,1"#);
    assert_eq!(
        text(&cmd(&mut m, r#"AT+QSSLCFG="cacert",2"#)),
        "\r\n+QSSLCFG: \"cacert\",2,\"UFS:cacert.pem\"\r\n\r\nOK\r\n"
    );
    cmd(&mut m, r#"AT+QMTCFG="SSL",0,1,2"#);
    let s = cmd(&mut m, r#"AT+QMTOPEN=0,"localhost",8883"#);
    let [BackendCmd::Open { tls: Some(t), .. }] = &backend(&s)[..] else {
        panic!("no TLS open");
    };
    assert_eq!(t.sec_level, 1);
    assert_eq!(t.ca_pem.as_deref(), Some(&b"\x12\x34\x56\x78"[..]));
}

#[test]
fn seeded_schedule_is_reproducible() {
    use crate::faults::{Schedule, ScheduleKind};
    let run = |seed| {
        let mut m = Module::new(ModuleConfig {
            schedule: Some(Schedule::new(
                seed,
                250,
                vec![
                    ScheduleKind::Error,
                    ScheduleKind::Garbage,
                    ScheduleKind::Stall,
                ],
            )),
            seed,
            ..ModuleConfig::default()
        });
        m.power_up();
        let mut out = Vec::new();
        for _ in 0..60 {
            out.extend(m.feed(b"AT+CSQ\r").out);
        }
        out
    };
    let a = run(42);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
    let text = String::from_utf8_lossy(&a);
    let answered = text.matches("+CSQ: 31,99").count();
    let errors = text.matches("\r\nERROR\r\n").count();
    // Some commands hit faults, most do not.
    assert!(
        errors > 0 && answered > 30 && answered < 60,
        "{answered} answered, {errors} errors"
    );
}
