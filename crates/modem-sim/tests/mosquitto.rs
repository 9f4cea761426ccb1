//! End-to-end tests against Debian's mosquitto, started on a free loopback port.

mod common;

use common::{peer, peer_subscribe, recv_on, spawn_sim, Host, Mosquitto};
use modem_sim::{Fault, ModuleConfig};
use rumqttc::QoS;
use tokio::net::TcpStream;

async fn connected_host(port: u16, cfg: &[&str]) -> (modem_sim::Simulator, Host<TcpStream>) {
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    for line in cfg {
        h.exact(line, "\r\nOK\r\n").await;
    }
    h.exact(&format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#), "\r\nOK\r\n")
        .await;
    assert_eq!(h.until("+QMTOPEN: 0,").await, "\r\n+QMTOPEN: 0,");
    assert_eq!(h.until("\r\n").await, "0\r\n");
    h.exact(r#"AT+QMTCONN=0,"dev-under-test""#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTCONN: 0,0,0\r\n").await,
        "\r\n+QMTCONN: 0,0,0\r\n"
    );
    (sim, h)
}

#[tokio::test]
async fn publish_and_receive_at_every_qos() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud").await;
    peer_subscribe(&cloud, &mut cloud_rx, "dev/up/#", "probe/1").await;
    let (_sim, mut h) = connected_host(broker.port, &[r#"AT+QMTCFG="recv/mode",0,0,1"#]).await;

    h.exact(r#"AT+QMTSUB=0,1,"dev/down",2"#, "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTSUB: 0,1,0,2\r\n").await,
        "\r\n+QMTSUB: 0,1,0,2\r\n"
    );

    // Cloud → device: a JSON payload with quotes and commas, at QoS 1 (msgid is the
    // broker's packet id, not 0).
    let json = r#"{"method":"set","params":{"a":1,"b":"x,y"}}"#;
    cloud
        .publish("dev/down", QoS::AtLeastOnce, false, json)
        .await
        .unwrap();
    let urc = h.until("}\"\r\n").await;
    assert!(urc.starts_with("\r\n+QMTRECV: 0,"), "{urc}");
    assert!(
        urc.ends_with(&format!(",\"dev/down\",{},\"{json}\"\r\n", json.len())),
        "{urc}"
    );
    assert!(
        !urc.starts_with("\r\n+QMTRECV: 0,0,"),
        "QoS 1 delivery has a packet id: {urc}"
    );

    // Device → cloud at QoS 0, 1 and 2: exact payload bytes, result URCs in order.
    for (qos, msgid) in [(0, 0), (1, 11), (2, 12)] {
        let payload = format!("payload at qos {qos}: 測試");
        let n = payload.len();
        h.send(&format!(
            r#"AT+QMTPUBEX=0,{msgid},{qos},0,"dev/up/{qos}",{n}"#
        ))
        .await;
        assert_eq!(h.until("> ").await, "\r\n> ");
        h.write(payload.as_bytes()).await;
        assert_eq!(h.until("\r\nOK\r\n").await, "\r\nOK\r\n");
        let done = format!("\r\n+QMTPUBEX: 0,{msgid},0\r\n");
        assert_eq!(h.until(&done).await, done);
        let got = recv_on(&mut cloud_rx, &format!("dev/up/{qos}")).await;
        assert_eq!(&got.payload[..], payload.as_bytes());
        // The peer subscribed at QoS 1, so the broker delivers at most QoS 1.
        assert_eq!(got.qos as u8, qos.min(1));
    }

    h.exact(r#"AT+QMTUNS=0,3,"dev/down""#, "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTUNS: 0,3,0\r\n").await,
        "\r\n+QMTUNS: 0,3,0\r\n"
    );
    h.exact("AT+QMTDISC=0", "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTDISC: 0,0\r\n").await,
        "\r\n+QMTDISC: 0,0\r\n"
    );
    h.exact("AT+QMTCONN?", "\r\nOK\r\n").await;
}

#[tokio::test]
async fn buffered_receive_mode_and_qmtrecv_read() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, _rx) = peer(broker.port, "cloud2").await;
    let (_sim, mut h) = connected_host(broker.port, &[r#"AT+QMTCFG="recv/mode",0,1,1"#]).await;
    h.exact(r#"AT+QMTSUB=0,1,"buf/#",0"#, "\r\nOK\r\n").await;
    h.until("\r\n+QMTSUB: 0,1,0,0\r\n").await;
    cloud
        .publish("buf/a", QoS::AtMostOnce, false, "first")
        .await
        .unwrap();
    assert_eq!(
        h.until("\r\n+QMTRECV: 0,0\r\n").await,
        "\r\n+QMTRECV: 0,0\r\n"
    );
    cloud
        .publish("buf/b", QoS::AtMostOnce, false, "second")
        .await
        .unwrap();
    assert_eq!(
        h.until("\r\n+QMTRECV: 0,1\r\n").await,
        "\r\n+QMTRECV: 0,1\r\n"
    );
    h.exact("AT+QMTRECV?", "\r\n+QMTRECV: 0,1,1,0,0,0\r\n\r\nOK\r\n")
        .await;
    h.exact(
        "AT+QMTRECV=0",
        "\r\n+QMTRECV: 0,0,\"buf/a\",5,\"first\"\r\n+QMTRECV: 0,0,\"buf/b\",6,\"second\"\r\n\r\nOK\r\n",
    )
    .await;
    h.exact("AT+QMTRECV?", "\r\n+QMTRECV: 0,0,0,0,0,0\r\n\r\nOK\r\n")
        .await;
}

#[tokio::test]
async fn dropped_link_reports_qmtstat_1_and_the_broker_sends_the_will() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud3").await;
    peer_subscribe(&cloud, &mut cloud_rx, "will/dev", "probe/3").await;
    let (sim, mut h) = connected_host(
        broker.port,
        &[r#"AT+QMTCFG="will",0,1,1,0,"will/dev","device lost""#],
    )
    .await;
    sim.inject(Fault::DropLink(0));
    assert_eq!(
        h.until("\r\n+QMTSTAT: 0,1\r\n").await,
        "\r\n+QMTSTAT: 0,1\r\n"
    );
    let will = recv_on(&mut cloud_rx, "will/dev").await;
    assert_eq!(&will.payload[..], b"device lost");
    // The index is free again: reopen and reconnect.
    h.exact("AT+QMTCONN?", "\r\nOK\r\n").await;
    h.exact(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{}"#, broker.port),
        "\r\nOK\r\n",
    )
    .await;
    h.until("\r\n+QMTOPEN: 0,0\r\n").await;
}

#[tokio::test]
async fn failed_ping_reports_qmtping_then_qmtstat_2() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (sim, mut h) = connected_host(broker.port, &[r#"AT+QMTCFG="timeout",0,1,0,0"#]).await;
    sim.inject(Fault::PingFail(0));
    assert_eq!(
        h.until("\r\n+QMTSTAT: 0,2\r\n").await,
        "\r\n+QMTPING: 0,1\r\n\r\n+QMTSTAT: 0,2\r\n"
    );
}

#[tokio::test]
async fn refused_connect_answers_ret_code_5_then_qmtstat_4() {
    let Some(broker) = Mosquitto::start(false) else {
        return;
    };
    let (_sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h.exact(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{}"#, broker.port),
        "\r\nOK\r\n",
    )
    .await;
    h.until("\r\n+QMTOPEN: 0,0\r\n").await;
    h.exact(r#"AT+QMTCONN=0,"intruder","user","wrong""#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTSTAT: 0,4\r\n").await,
        "\r\n+QMTCONN: 0,0,5\r\n\r\n+QMTSTAT: 0,4\r\n"
    );
    h.exact("AT+QMTOPEN?", "\r\nOK\r\n").await;
}

#[tokio::test]
async fn open_to_a_closed_port_fails_with_minus_1() {
    let port = common::free_port();
    let (_sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h.exact(&format!(r#"AT+QMTOPEN=3,"127.0.0.1",{port}"#), "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTOPEN: 3,-1\r\n").await,
        "\r\n+QMTOPEN: 3,-1\r\n"
    );
    h.exact("AT+QMTOPEN?", "\r\nOK\r\n").await;
}

#[tokio::test]
async fn reboot_loses_every_client_and_prints_rdy() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (sim, mut h) = connected_host(broker.port, &[]).await;
    sim.inject(Fault::Reboot);
    assert_eq!(h.until("\r\nRDY\r\n").await, "\r\nRDY\r\n");
    // Echo is back on, and no client survived.
    assert_eq!(
        h.cmd("AT+QMTCONN?", "\r\nOK\r\n").await,
        "AT+QMTCONN?\r\r\nOK\r\n"
    );
    assert_eq!(
        h.cmd(r#"AT+QMTCFG="keepalive",0"#, "\r\nOK\r\n").await,
        "AT+QMTCFG=\"keepalive\",0\r\r\n+QMTCFG: \"keepalive\",120\r\n\r\nOK\r\n"
    );
}

#[tokio::test]
async fn error_garbage_and_stall_faults_over_tcp() {
    let (sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    sim.inject(Fault::Error(1));
    // A fault is applied when the session task sees it; a round trip makes sure it has.
    h.exact("AT+CSQ", "\r\nERROR\r\n").await;
    sim.inject(Fault::Garbage(1));
    let got = h.cmd("AT", "\r\nOK\r\n").await;
    assert!(
        got.len() > 6 && !got.starts_with("\r\n"),
        "garbage before the frame: {got:?}"
    );
    sim.inject(Fault::Stall(1));
    // The stalled command gets nothing at all; the next one is answered normally.
    h.send("AT+CSQ").await;
    h.exact("AT", "\r\nOK\r\n").await;
    assert!(h.pending().is_empty());
}
