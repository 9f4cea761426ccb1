//! Receive modes through the `quectel-mqtt` driver over a pty, against the emulator with
//! mosquitto behind it: buffered receive (`recv/mode` 1 → `+QMTRECV: <idx>,<recv_id>` →
//! `AT+QMTRECV?` → `AT+QMTRECV=<idx>[,<recv_id>]`), messages without a length, and hex
//! payloads (`dataformat`, `send/mode`).

mod common;

use common::{
    bounded, next_event, next_message, peer, peer_subscribe, pty_driver, recv_on, Mosquitto,
};
use modem_sim::ModuleConfig;
use quectel_mqtt::commands::{
    CfgDataFormat, CfgRecvMode, CfgSendMode, Connect, DataFormat, Disconnect, Open, Qos, RecvMode,
    RecvRead, RecvSlots, RecvStatusQuery, TopicFilter,
};
use quectel_mqtt::driver::{Client, DriverEvent};
use quectel_mqtt::{Error, Urc};
use rumqttc::QoS;

async fn open_and_connect(c: &Client, client: u8, port: u16, id: &str, topic: &str) {
    bounded(c.execute(Open {
        client,
        host: "127.0.0.1".into(),
        port,
    }))
    .await
    .unwrap();
    bounded(c.execute(Connect {
        client,
        client_id: id.into(),
        credentials: None,
    }))
    .await
    .unwrap();
    let filter = TopicFilter {
        topic: topic.into(),
        qos: Qos::AtLeastOnce,
    };
    bounded(c.subscribe(client, vec![filter])).await.unwrap();
}

#[tokio::test]
async fn buffered_messages_are_announced_then_read() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, _cloud_rx) = peer(broker.port, "cloud-recv").await;
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    let k = 2;
    let mode = RecvMode {
        buffered: true,
        with_length: true,
    };
    bounded(c.execute(CfgRecvMode { client: k, mode }))
        .await
        .unwrap();
    // Not connected: AT+QMTRECV? lists nothing, AT+QMTRECV=<idx> is refused.
    assert_eq!(bounded(c.execute(RecvStatusQuery)).await.unwrap(), vec![]);
    assert_eq!(
        c.execute(RecvRead {
            client: k,
            recv_id: None
        })
        .await,
        Err(Error::Module {
            command: "AT+QMTRECV"
        })
    );
    open_and_connect(&c, k, broker.port, "drv-recv", "buf/#").await;
    assert_eq!(
        c.execute(RecvStatusQuery).await.unwrap(),
        vec![RecvSlots {
            client: k,
            stored: [false; 5]
        }]
    );

    let first: &[u8] = b"{\"n\":1,\"s\":\"a,b\"}\r\n";
    let second: &[u8] = "二".as_bytes();
    // Looks like the end of the AT+QMTRECV answer: framed by its length all the same.
    let third: &[u8] = b"\r\nOK\r\n\r\n+QMTRECV: 2,4\r\n";
    for (topic, payload) in [("buf/a", first), ("buf/b", second), ("buf/c", third)] {
        cloud
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        // Each arrival is announced with its slot, not delivered.
        let slot = next_event(&mut events, |ev| match ev {
            DriverEvent::Urc(Urc::Stored { client, recv_id }) if *client == k => Some(*recv_id),
            DriverEvent::Urc(Urc::Recv(m)) => panic!("delivered in buffered mode: {m:?}"),
            _ => None,
        })
        .await;
        assert_eq!(
            slot,
            match topic {
                "buf/a" => 0,
                "buf/b" => 1,
                _ => 2,
            }
        );
    }
    assert_eq!(
        c.execute(RecvStatusQuery).await.unwrap(),
        vec![RecvSlots {
            client: k,
            stored: [true, true, true, false, false]
        }]
    );

    // One slot by id.
    let read = c
        .execute(RecvRead {
            client: k,
            recv_id: Some(1),
        })
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(
        (read[0].client, read[0].topic.as_str(), &read[0].payload[..]),
        (k, "buf/b", second)
    );
    assert!(read[0].msgid > 0, "a QoS 1 delivery has a packet id");
    assert_eq!(
        c.execute(RecvStatusQuery).await.unwrap()[0].stored,
        [true, false, true, false, false]
    );
    // An empty slot reads as nothing.
    assert_eq!(
        c.execute(RecvRead {
            client: k,
            recv_id: Some(1)
        })
        .await
        .unwrap(),
        vec![]
    );
    // The rest at once, in slot order.
    let rest = c
        .execute(RecvRead {
            client: k,
            recv_id: None,
        })
        .await
        .unwrap();
    let got: Vec<_> = rest
        .iter()
        .map(|m| (m.topic.as_str(), &m.payload[..]))
        .collect();
    assert_eq!(got, vec![("buf/a", first), ("buf/c", third)]);
    assert_eq!(
        c.execute(RecvStatusQuery).await.unwrap()[0].stored,
        [false; 5]
    );
    bounded(c.execute(Disconnect { client: k })).await.unwrap();
    assert_eq!(c.execute(RecvStatusQuery).await.unwrap(), vec![]);
}

/// `msg_len_enable` 0: `+QMTRECV: <idx>,<msgid>,"<topic>","<payload>"`, framed by the quotes.
#[tokio::test]
async fn messages_without_a_length() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, _cloud_rx) = peer(broker.port, "cloud-nolen").await;
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    let mode = RecvMode {
        buffered: false,
        with_length: false,
    };
    bounded(c.execute(CfgRecvMode { client: 0, mode }))
        .await
        .unwrap();
    open_and_connect(&c, 0, broker.port, "drv-nolen", "nolen").await;
    for payload in ["a, b, c", "{\"t\":1}", "中文 payload"] {
        cloud
            .publish("nolen", QoS::AtMostOnce, false, payload)
            .await
            .unwrap();
        let m = next_message(&mut events).await;
        assert_eq!(
            (m.client, m.msgid, m.topic.as_str(), &m.payload[..]),
            (0, 0, "nolen", payload.as_bytes())
        );
    }
}

/// Hex payloads: with `dataformat` 1,1 the host types hex (its `<length>` counts the hex
/// characters) and the module publishes the bytes; received payloads are printed as upper-case
/// hex. `send/mode` 1 is the same send setting.
#[tokio::test]
async fn hex_payloads_both_ways() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud-hex").await;
    peer_subscribe(&cloud, &mut cloud_rx, "hex/#", "probe/hex").await;
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    let both = DataFormat {
        send_hex: true,
        recv_hex: true,
    };
    bounded(c.execute(CfgDataFormat {
        client: 1,
        format: both,
    }))
    .await
    .unwrap();
    let mode = RecvMode {
        buffered: false,
        with_length: true,
    };
    bounded(c.execute(CfgRecvMode { client: 1, mode }))
        .await
        .unwrap();
    bounded(c.execute(CfgSendMode {
        client: 4,
        hex: true,
    }))
    .await
    .unwrap();
    open_and_connect(&c, 1, broker.port, "drv-hex-1", "hex/in").await;
    open_and_connect(&c, 4, broker.port, "drv-hex-4", "hex/unused").await;

    bounded(c.publish(1, "hex/out", Qos::AtLeastOnce, false, "48690D0A2C22"))
        .await
        .unwrap();
    assert_eq!(
        &recv_on(&mut cloud_rx, "hex/out").await.payload[..],
        b"Hi\r\n,\""
    );
    bounded(c.publish(4, "hex/out4", Qos::AtMostOnce, false, "00ff7F"))
        .await
        .unwrap();
    assert_eq!(
        &recv_on(&mut cloud_rx, "hex/out4").await.payload[..],
        &[0x00, 0xFF, 0x7F]
    );
    // An odd number of hex characters is refused by the module.
    let odd = bounded(c.publish(4, "hex/out4", Qos::AtMostOnce, false, "ABC")).await;
    assert_eq!(
        odd,
        Err(Error::Module {
            command: "AT+QMTPUBEX"
        })
    );

    cloud
        .publish(
            "hex/in",
            QoS::AtLeastOnce,
            false,
            vec![0x01, 0xAB, b'"', b'\n'],
        )
        .await
        .unwrap();
    let m = next_message(&mut events).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("hex/in", &b"01AB220A"[..])
    );
}
