//! SUB / UNS / PUBEX through the `quectel-mqtt` driver over a pty, against the emulator with
//! mosquitto behind it and a peer client on the broker: several topics per SUB and UNS,
//! publishes at QoS 0, 1 and 2 with awkward payloads received back by length, retain, the
//! publish window, and wills.

mod common;

use bytes::Bytes;
use common::{
    bounded, next_event, next_message, peer, peer_subscribe, pty_driver, recv_on, Mosquitto,
};
use modem_sim::{Fault, ModuleConfig};
use quectel_mqtt::commands::{
    CfgRecvMode, CfgTimeout, CfgWill, CfgWillEx, Connect, Open, PacketTimeouts, Qos, RecvMode,
    SubAck, Subscribe, TopicFilter, Unsubscribe, Will, WillEx,
};
use quectel_mqtt::driver::{Client, DriverEvent};
use quectel_mqtt::{StatCode, Urc, PUBLISH_WINDOW};
use rumqttc::QoS;

/// Opens and connects `client` (messages reported as URCs with their length).
async fn connected(c: &Client, client: u8, port: u16, id: &str) {
    let mode = RecvMode {
        buffered: false,
        with_length: true,
    };
    bounded(c.execute(CfgRecvMode { client, mode }))
        .await
        .unwrap();
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
}

fn filter(topic: &str, qos: Qos) -> TopicFilter {
    TopicFilter {
        topic: topic.into(),
        qos,
    }
}

#[tokio::test]
async fn publish_at_every_qos_and_receive_back_by_length() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud-pubsub").await;
    peer_subscribe(&cloud, &mut cloud_rx, "rt/#", "probe/pubsub").await;
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    connected(&c, 1, broker.port, "drv-pubsub").await;

    let acks = bounded(c.subscribe(
        1,
        vec![
            filter("rt/q0", Qos::AtMostOnce),
            filter("rt/q1", Qos::AtLeastOnce),
            filter("rt/+/q2", Qos::ExactlyOnce),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(
        acks,
        vec![
            SubAck::Granted(Qos::AtMostOnce),
            SubAck::Granted(Qos::AtLeastOnce),
            SubAck::Granted(Qos::ExactlyOnce)
        ]
    );

    // Each publish goes out as the exact bytes and comes back (the module is subscribed) as
    // a +QMTRECV framed by its length.
    let cases: [(&str, Qos, &[u8]); 3] = [
        (
            "rt/q0",
            Qos::AtMostOnce,
            b"{\"k\":\"a,b\"}\r\nline2, \"quoted\"\r\n",
        ),
        ("rt/q1", Qos::AtLeastOnce, "温度 23.5°C — ok ✓".as_bytes()),
        ("rt/x/q2", Qos::ExactlyOnce, b"\"\",\r\n,\"\r\n"),
    ];
    // A payload that looks like the module's own output must still be framed by length, and
    // with echo on (the driver then expects the data echoed, which the emulator does not do)
    // the module's `\r\nOK\r\n` after the data must not be taken for the payload's echo.
    let lookalike: &[u8] = b"\r\nOK\r\n\r\n+QMTSTAT: 1,1\r\n\r\n+QMTPUBEX: 1,9,0\r\n> ";
    let cases = [
        cases[0],
        cases[1],
        cases[2],
        ("rt/q1", Qos::AtLeastOnce, lookalike),
    ];
    for (topic, qos, payload) in cases {
        let msgid = bounded(c.publish(1, topic, qos, false, Bytes::from_static(payload)))
            .await
            .unwrap();
        assert_eq!(msgid == 0, qos == Qos::AtMostOnce, "{topic}");
        let out = recv_on(&mut cloud_rx, topic).await;
        // The peer subscribed at QoS 1: deliveries are downgraded to it.
        assert_eq!(
            (&out.payload[..], out.qos as u8),
            (payload, qos.code().min(1))
        );
        let back = next_message(&mut events).await;
        assert_eq!(
            (back.client, back.topic.as_str(), &back.payload[..]),
            (1, topic, payload)
        );
        // The broker's packet id: 0 only for QoS 0 deliveries.
        assert_eq!(back.msgid == 0, qos == Qos::AtMostOnce, "{topic}");
    }

    // From the peer: the largest payload one PUBEX may carry, then a message the broker
    // delivers at QoS 1.
    let big: Vec<u8> = (0..quectel_mqtt::MAX_PAYLOAD)
        .map(|i| b"0123456789,\"\r\n"[i % 14])
        .collect();
    bounded(c.publish(1, "rt/q1", Qos::AtLeastOnce, false, big.clone()))
        .await
        .unwrap();
    assert_eq!(recv_on(&mut cloud_rx, "rt/q1").await.payload.len(), 1500);
    assert_eq!(next_message(&mut events).await.payload, big);
    cloud
        .publish("rt/q1", QoS::AtLeastOnce, false, "from the cloud\r\n")
        .await
        .unwrap();
    let m = next_message(&mut events).await;
    assert_eq!(
        (&m.payload[..], m.msgid > 0),
        (&b"from the cloud\r\n"[..], true)
    );

    // UNS with two topics: after it, messages on them no longer arrive, the third still does
    // (ordered by the broker, so no wait is needed to tell).
    bounded(c.unsubscribe(1, vec!["rt/q0".into(), "rt/q1".into()]))
        .await
        .unwrap();
    for topic in ["rt/q0", "rt/q1", "rt/z/q2"] {
        cloud
            .publish(topic, QoS::AtLeastOnce, false, topic)
            .await
            .unwrap();
    }
    let m = next_message(&mut events).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("rt/z/q2", &b"rt/z/q2"[..])
    );

    // Retain: a later subscriber gets the retained message.
    bounded(c.publish(1, "rt/retained", Qos::AtLeastOnce, true, "kept"))
        .await
        .unwrap();
    let acks = bounded(c.subscribe(1, vec![filter("rt/retained", Qos::AtLeastOnce)]))
        .await
        .unwrap();
    assert_eq!(acks, vec![SubAck::Granted(Qos::AtLeastOnce)]);
    let m = next_message(&mut events).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("rt/retained", &b"kept"[..])
    );

    // The typed SUB and UNS with a msgid of the caller's choosing (the result URC is matched
    // by it).
    let acks = bounded(c.execute(Subscribe {
        client: 1,
        msgid: 65535,
        topics: vec![
            filter("rt/d/+", Qos::AtMostOnce),
            filter("rt/e", Qos::ExactlyOnce),
        ],
    }))
    .await
    .unwrap();
    assert_eq!(
        acks,
        vec![
            SubAck::Granted(Qos::AtMostOnce),
            SubAck::Granted(Qos::ExactlyOnce)
        ]
    );
    bounded(c.execute(Unsubscribe {
        client: 1,
        msgid: 1,
        topics: vec!["rt/d/+".into(), "rt/e".into(), "rt/retained".into()],
    }))
    .await
    .unwrap();
    cloud
        .publish("rt/e", QoS::AtLeastOnce, false, "late")
        .await
        .unwrap();
    cloud
        .publish("rt/y/q2", QoS::AtLeastOnce, false, "still")
        .await
        .unwrap();
    let m = next_message(&mut events).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("rt/y/q2", &b"still"[..])
    );
}

/// Guide §3.2.8 note 1: at most 5 publishes await their result; a sixth would get `ERROR`.
/// The driver holds the sixth until a slot frees, so with the broker frozen exactly 5 are in
/// flight, and all six succeed once it runs again.
#[tokio::test]
async fn a_sixth_publish_waits_for_the_window() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud-window").await;
    peer_subscribe(&cloud, &mut cloud_rx, "win/#", "probe/window").await;
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    // No retransmission while the broker is frozen.
    let timeouts = PacketTimeouts {
        pkt_timeout: 60,
        retry_times: 1,
        report_timeouts: true,
    };
    bounded(c.execute(CfgTimeout {
        client: 0,
        timeouts,
    }))
    .await
    .unwrap();
    connected(&c, 0, broker.port, "drv-window").await;

    broker.pause();
    let publishes: Vec<_> = (0..6)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move {
                c.publish(
                    0,
                    &format!("win/{i}"),
                    Qos::AtLeastOnce,
                    false,
                    format!("m{i}"),
                )
                .await
            })
        })
        .collect();
    let in_flight = bounded(async {
        loop {
            let (_, n) = c.state(0).await.unwrap();
            if n == PUBLISH_WINDOW {
                return n;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(in_flight, 5);
    assert!(publishes.iter().all(|p| !p.is_finished()));
    broker.resume();

    let mut msgids = Vec::new();
    for p in publishes {
        // Had the sixth been written while 5 were in flight, the module would have answered
        // ERROR (Error::Module) instead.
        msgids.push(bounded(p).await.unwrap().unwrap());
    }
    msgids.sort_unstable();
    msgids.dedup();
    assert_eq!(msgids.len(), 6, "distinct msgids");
    let mut topics = Vec::new();
    for _ in 0..6 {
        topics.push(recv_on_prefix(&mut cloud_rx, "win/").await);
    }
    topics.sort();
    assert_eq!(
        topics,
        ["win/0", "win/1", "win/2", "win/3", "win/4", "win/5"]
    );
}

async fn recv_on_prefix(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<rumqttc::Publish>,
    prefix: &str,
) -> String {
    bounded(async {
        loop {
            let p = rx.recv().await.expect("peer gone");
            if p.topic.starts_with(prefix) {
                return p.topic;
            }
        }
    })
    .await
}

/// "will" and "willex" reach the broker: a dropped link makes it publish them.
#[tokio::test]
async fn wills_are_published_when_the_link_drops() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (cloud, mut cloud_rx) = peer(broker.port, "cloud-will").await;
    peer_subscribe(&cloud, &mut cloud_rx, "will/#", "probe/will").await;
    let (sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();

    bounded(c.execute(CfgWill {
        client: 3,
        will: Some(Will {
            qos: Qos::AtLeastOnce,
            retain: false,
            topic: "will/3".into(),
            message: "offline, 3".into(),
        }),
    }))
    .await
    .unwrap();
    let willex: &[u8] = b"gone \"4\",\r\nbye";
    bounded(c.execute(CfgWillEx {
        client: 4,
        will: Some(WillEx {
            qos: Qos::ExactlyOnce,
            retain: false,
            topic: "will/4".into(),
            message: Bytes::from_static(willex),
        }),
    }))
    .await
    .unwrap();
    connected(&c, 3, broker.port, "drv-will-3").await;
    connected(&c, 4, broker.port, "drv-will-4").await;

    for (client, topic, message) in [(3u8, "will/3", &b"offline, 3"[..]), (4, "will/4", willex)] {
        sim.inject(Fault::DropLink(client));
        let code = next_event(&mut events, |ev| match ev {
            DriverEvent::Urc(Urc::Stat { client: k, code }) if *k == client => Some(*code),
            _ => None,
        })
        .await;
        assert_eq!(code, StatCode::ClosedByServer);
        assert_eq!(&recv_on(&mut cloud_rx, topic).await.payload[..], message);
    }
}
