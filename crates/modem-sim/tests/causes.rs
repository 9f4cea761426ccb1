//! The field causes over a real broker (rumqttd embedded): silent link death, a NAT idle
//! drop, duplicate-client-id kicks and refused logins, as the host sees them.

mod common;

use common::{peer, peer_subscribe, spawn_sim, start_rumqttd, Host};
use modem_sim::{Fault, ModuleConfig};
use tokio::net::TcpStream;

async fn connected(h: &mut Host<TcpStream>, port: u16, id: &str) {
    h.cmd(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#),
        "+QMTOPEN: 0,0\r\n",
    )
    .await;
    h.cmd(&format!(r#"AT+QMTCONN=0,"{id}""#), "+QMTCONN: 0,0,0\r\n")
        .await;
}

async fn publish(h: &mut Host<TcpStream>, msgid: u16, body: &str) {
    h.send(&format!(
        r#"AT+QMTPUBEX=0,{msgid},1,0,"up/x",{}"#,
        body.len()
    ))
    .await;
    h.until("\r\n> ").await;
    h.write(body.as_bytes()).await;
    h.until("\r\nOK\r\n").await;
}

#[tokio::test]
async fn silent_drop_reports_nothing_and_close_still_works() {
    let port = start_rumqttd();
    let (_cloud, mut cloud_rx) = peer(port, "cloud-silent").await;
    peer_subscribe(&_cloud, &mut cloud_rx, "up/+", "probe/s").await;
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h.cmd(r#"AT+QMTCFG="timeout",0,1,1,0"#, "OK\r\n").await;
    connected(&mut h, port, "silent-1").await;
    sim.inject(Fault::SilentDrop(0));
    // The fault reaches the session before the next command (faults are handled first).
    h.cmd("AT", "OK\r\n").await;
    publish(&mut h, 7, "lost").await;
    // Twice the retransmission budget: a working module would have reported by now.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    h.exact("AT+QMTCONN?", "\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n")
        .await;
    let before_close = h.cmd("AT+QMTCLOSE=0", "+QMTCLOSE: 0,0\r\n").await;
    for urc in ["+QMTPUBEX", "+QMTSTAT", "+QMTPING"] {
        assert!(!before_close.contains(urc), "{urc} in {before_close:?}");
    }
    assert!(cloud_rx.try_recv().is_err(), "the publish went nowhere");
    // The index works again.
    connected(&mut h, port, "silent-2").await;
}

#[tokio::test]
async fn nat_idle_turns_the_link_into_a_black_hole_that_only_the_ping_notices() {
    let port = start_rumqttd();
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    // Keep-alive (2 s) above the NAT's idle timeout (1 s): the mapping is gone before the
    // first ping, which then goes unanswered.
    h.cmd(r#"AT+QMTCFG="keepalive",0,2"#, "OK\r\n").await;
    h.cmd(r#"AT+QMTCFG="timeout",0,1,1,0"#, "OK\r\n").await;
    sim.inject(Fault::NatIdle(1));
    connected(&mut h, port, "nat-1").await;
    let got = h.until("+QMTSTAT: 0,2\r\n").await;
    assert!(got.contains("+QMTPING: 0,1"), "{got:?}");
}

#[tokio::test]
async fn dup_id_kicks_after_each_login_then_stops() {
    let port = start_rumqttd();
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    sim.inject(Fault::DupId(2));
    for round in 0..2 {
        connected(&mut h, port, "dup-1").await;
        let got = h.until("+QMTSTAT: 0,1\r\n").await;
        assert!(!got.contains("+QMTCONN"), "round {round}: {got:?}");
    }
    connected(&mut h, port, "dup-1").await;
    publish(&mut h, 3, "stays").await;
    let got = h.until("+QMTPUBEX: 0,3,0\r\n").await;
    assert!(!got.contains("+QMTSTAT"), "{got:?}");
}

#[tokio::test]
async fn refused_login_and_open_failures_over_the_session() {
    let port = start_rumqttd();
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    sim.inject(Fault::OpenFail {
        result: 4,
        count: 1,
    });
    h.cmd(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#),
        "+QMTOPEN: 0,4\r\n",
    )
    .await;
    sim.inject(Fault::Refuse { code: 4, count: 1 });
    h.cmd(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#),
        "+QMTOPEN: 0,0\r\n",
    )
    .await;
    let got = h.cmd(r#"AT+QMTCONN=0,"ref-1""#, "+QMTSTAT: 0,4\r\n").await;
    assert!(got.contains("+QMTCONN: 0,0,4"), "{got:?}");
    connected(&mut h, port, "ref-1").await;
    // A dead channel, then the host power-cycles the module.
    sim.inject(Fault::Dead);
    h.send("AT").await;
    sim.inject(Fault::PowerCycle);
    let got = h.until("\r\nRDY\r\n").await;
    assert!(!got.contains("OK"), "the dead channel answered: {got:?}");
    h.exact("AT", "AT\r\r\nOK\r\n").await;
}
