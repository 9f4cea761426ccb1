//! Tests against an embedded broker (rumqttd), which needs nothing installed.

mod common;

use common::{peer, peer_subscribe, recv_on, spawn_sim, start_rumqttd, Host};
use modem_sim::ModuleConfig;
use rumqttc::QoS;

#[tokio::test]
async fn session_against_rumqttd() {
    let port = start_rumqttd();
    let (cloud, mut cloud_rx) = peer(port, "cloud").await;
    peer_subscribe(&cloud, &mut cloud_rx, "up/+", "probe/e").await;
    let (_sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h.exact(r#"AT+QMTCFG="keepalive",2,30"#, "\r\nOK\r\n").await;
    h.exact(&format!(r#"AT+QMTOPEN=2,"localhost",{port}"#), "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTOPEN: 2,0\r\n").await,
        "\r\n+QMTOPEN: 2,0\r\n"
    );
    h.exact("AT+QMTCONN?", "\r\n+QMTCONN: 2,1\r\n\r\nOK\r\n")
        .await;
    h.exact(r#"AT+QMTCONN=2,"sim-2","u","p""#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTCONN: 2,0,0\r\n").await,
        "\r\n+QMTCONN: 2,0,0\r\n"
    );
    h.exact(r#"AT+QMTSUB=2,5,"down/2",1"#, "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTSUB: 2,5,0,1\r\n").await,
        "\r\n+QMTSUB: 2,5,0,1\r\n"
    );

    h.send(r#"AT+QMTPUBEX=2,9,1,0,"up/2",5"#).await;
    h.until("\r\n> ").await;
    h.write(b"hello").await;
    assert_eq!(
        h.until("\r\n+QMTPUBEX: 2,9,0\r\n").await,
        "\r\nOK\r\n\r\n+QMTPUBEX: 2,9,0\r\n"
    );
    assert_eq!(&recv_on(&mut cloud_rx, "up/2").await.payload[..], b"hello");

    cloud
        .publish("down/2", QoS::AtLeastOnce, false, "cmd")
        .await
        .unwrap();
    // rumqttd forwards at the subscription's QoS (1), so <msgid> is its packet id.
    let urc = h.until(",\"down/2\",\"cmd\"\r\n").await;
    assert!(urc.starts_with("\r\n+QMTRECV: 2,"), "{urc}");
    let msgid: u16 = urc["\r\n+QMTRECV: 2,".len()..urc.len() - ",\"down/2\",\"cmd\"\r\n".len()]
        .parse()
        .unwrap();
    assert!(msgid > 0);
    h.exact("AT+QMTCLOSE=2", "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTCLOSE: 2,0\r\n").await,
        "\r\n+QMTCLOSE: 2,0\r\n"
    );
    h.exact("AT+QMTOPEN?", "\r\nOK\r\n").await;
}
