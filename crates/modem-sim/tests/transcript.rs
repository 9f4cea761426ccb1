//! Replays the guide's §5.1 transcript (MQTT without SSL) against the emulator and a real
//! broker (mosquitto), and checks that the module prints the replies the guide shows.
//!
//! Deviations, all forced or documented:
//! * the broker is mosquitto on a loopback port instead of `iot-as-mqtt.cn-shanghai.aliyuncs.com:1883`
//!   (no network), so `AT+QMTOPEN?` shows that address;
//! * the guide prints its two `+QMTRECV` lines inconsistently (one quoted with a space after
//!   the comma, one unquoted); the emulator prints the documented form
//!   `+QMTRECV: 0,0,"topic",<len>,"payload"` for both;
//! * echo is switched off first (the guide shows responses only).

mod common;

use common::{peer, spawn_sim, Host, Mosquitto};
use modem_sim::ModuleConfig;
use rumqttc::QoS;

#[tokio::test]
async fn guide_5_1_transcript() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, _rx) = peer(broker.port, "other-device").await;
    let (_sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    let port = broker.port;

    h.exact(r#"AT+QMTCFG="recv/mode",0,0,1"#, "\r\nOK\r\n")
        .await;
    h.exact(
        r#"AT+QMTCFG="aliauth",0,"oyjtmPI5a5j","MQTT_TEST","wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ""#,
        "\r\nOK\r\n",
    )
    .await;
    h.exact(
        "AT+QMTOPEN=?",
        "\r\n+QMTOPEN: (0-5),\"hostname\",(1-65535)\r\n\r\nOK\r\n",
    )
    .await;
    h.exact(&format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#), "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTOPEN: 0,0\r\n").await,
        "\r\n+QMTOPEN: 0,0\r\n"
    );
    h.exact(
        "AT+QMTOPEN?",
        &format!("\r\n+QMTOPEN: 0,\"127.0.0.1\",{port}\r\n\r\nOK\r\n"),
    )
    .await;
    h.exact(
        "AT+QMTCONN=?",
        "\r\n+QMTCONN: (0-5),\"clientid\",\"username\",\"password\"\r\n\r\nOK\r\n",
    )
    .await;
    // aliauth is configured: the client id alone is enough.
    h.exact(r#"AT+QMTCONN=0,"clientExample""#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTCONN: 0,0,0\r\n").await,
        "\r\n+QMTCONN: 0,0,0\r\n"
    );
    h.exact(
        "AT+QMTSUB=?",
        "\r\n+QMTSUB: (0-5),<msgid>, list of [\"topic\",qos]\r\n\r\nOK\r\n",
    )
    .await;
    h.exact(r#"AT+QMTSUB=0,1,"topic/example",2"#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTSUB: 0,1,0,2\r\n").await,
        "\r\n+QMTSUB: 0,1,0,2\r\n"
    );
    h.exact(r#"AT+QMTSUB=0,1,"topic/pub",0"#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTSUB: 0,1,0,0\r\n").await,
        "\r\n+QMTSUB: 0,1,0,0\r\n"
    );

    // Another device publishes on the subscribed topic.
    cloud
        .publish(
            "topic/example",
            QoS::AtMostOnce,
            false,
            "This is the payload related to topic",
        )
        .await
        .unwrap();
    let line =
        "\r\n+QMTRECV: 0,0,\"topic/example\",36,\"This is the payload related to topic\"\r\n";
    assert_eq!(h.until(line).await, line);

    h.exact(r#"AT+QMTUNS=0,2,"topic/example""#, "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTUNS: 0,2,0\r\n").await,
        "\r\n+QMTUNS: 0,2,0\r\n"
    );
    h.exact(
        "AT+QMTPUBEX=?",
        "\r\n+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),\"topic\",\"length\"\r\n\r\nOK\r\n",
    )
    .await;
    h.send(r#"AT+QMTPUBEX=0,0,0,0,"topic/pub",30"#).await;
    assert_eq!(h.until("> ").await, "\r\n> ");
    h.write(b"This is test data, hello MQTT.").await;
    assert_eq!(h.until("\r\nOK\r\n").await, "\r\nOK\r\n");
    // The result, then our own message back through the topic/pub subscription.
    let rest = "\r\n+QMTPUBEX: 0,0,0\r\n\r\n+QMTRECV: 0,0,\"topic/pub\",30,\"This is test data, hello MQTT.\"\r\n";
    assert_eq!(h.until(rest).await, rest);

    h.exact("AT+QMTDISC=0", "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTDISC: 0,0\r\n").await,
        "\r\n+QMTDISC: 0,0\r\n"
    );
    assert!(
        h.pending().is_empty(),
        "unexpected output: {:?}",
        h.pending()
    );
}
