//! The tokio driver over a real pty pair, with a scripted module on the other end.

mod support;

use std::time::Duration;

use quectel_mqtt::commands::{
    AliAuth, At, CfgAliAuth, CfgQuery, CfgRecvMode, Connect, Disconnect, Open, OpenEndpoint,
    OpenQuery, Publish, Qos, RecvMode, Secret, SetEcho, SubAck, TopicFilter,
};
use quectel_mqtt::driver::{open_serial, Client, DriverEvent};
use quectel_mqtt::session::ClientState;
use quectel_mqtt::{Error, OpenResult, ParamError, Urc};
use support::{play, pty, step, Reply::*};

const HOST: &str = "iot-as-mqtt.cn-shanghai.aliyuncs.com";

/// The guide's §5.1 session, command for command, driven through the typed API over a pty.
#[tokio::test]
async fn guide_5_1_session_through_the_driver() {
    let (module, path) = pty();
    let script = vec![
        step("AT", vec![Line("OK")]),
        step("ATE0", vec![Line("OK")]),
        step("AT+QMTCFG=\"recv/mode\",0,0,1", vec![Line("OK")]),
        step(
            "AT+QMTCFG=\"aliauth\",0,\"oyjtmPI5a5j\",\"MQTT_TEST\",\"wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ\"",
            vec![Line("OK")],
        ),
        step(
            "AT+QMTOPEN=0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883",
            vec![Line("OK"), Pause(Duration::from_millis(50)), Line("+QMTOPEN: 0,0")],
        ),
        step("AT+QMTOPEN?", vec![Line("+QMTOPEN: 0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883"), Line("OK")]),
        step("AT+QMTCONN=0,\"clientExample\"", vec![Line("OK"), Line("+QMTCONN: 0,0,0")]),
        step(
            "AT+QMTSUB=0,1,\"topic/example\",2",
            vec![
                Line("OK"),
                Line("+QMTSUB: 0,1,0,2"),
                Line("+QMTRECV: 0,0, \"topic/example\",36,\"This is the payload related to topic\""),
            ],
        ),
        step("AT+QMTUNS=0,2,\"topic/example\"", vec![Line("OK"), Line("+QMTUNS: 0,2,0")]),
        step(
            "AT+QMTPUBEX=0,0,0,0,\"topic/pub\",30",
            vec![Prompt(30), Line("OK"), Line("+QMTPUBEX: 0,0,0"), Line("+QMTRECV: 0,0,\"topic/pub\",30,This is test data, hello MQTT.")],
        ),
        step("AT+QMTDISC=0", vec![Line("OK"), Line("+QMTDISC: 0,0")]),
    ];
    let module = tokio::spawn(play(module, script));

    let (client, _task) = Client::spawn(open_serial(&path, 115_200).expect("open the pty by path"));
    let mut events = client.events();
    client.execute(At).await.unwrap();
    client.execute(SetEcho { on: false }).await.unwrap();
    client
        .execute(CfgRecvMode {
            client: 0,
            mode: RecvMode {
                buffered: false,
                with_length: true,
            },
        })
        .await
        .unwrap();
    let auth = AliAuth {
        product_key: "oyjtmPI5a5j".into(),
        device_name: "MQTT_TEST".into(),
        device_secret: Secret::new("wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"),
    };
    client
        .execute(CfgAliAuth { client: 0, auth })
        .await
        .unwrap();
    client
        .execute(Open {
            client: 0,
            host: HOST.into(),
            port: 1883,
        })
        .await
        .unwrap();
    assert_eq!(client.state(0).await.unwrap().0, ClientState::Open);
    let open = client.execute(OpenQuery).await.unwrap();
    assert_eq!(
        open,
        vec![OpenEndpoint {
            client: 0,
            host: HOST.into(),
            port: 1883
        }]
    );
    client
        .execute(Connect {
            client: 0,
            client_id: "clientExample".into(),
            credentials: None,
        })
        .await
        .unwrap();
    assert_eq!(client.state(0).await.unwrap().0, ClientState::Connected);
    let granted = client
        .subscribe(
            0,
            vec![TopicFilter {
                topic: "topic/example".into(),
                qos: Qos::ExactlyOnce,
            }],
        )
        .await
        .unwrap();
    assert_eq!(granted, vec![SubAck::Granted(Qos::ExactlyOnce)]);
    client
        .unsubscribe(0, vec!["topic/example".into()])
        .await
        .unwrap();
    let msgid = client
        .publish(
            0,
            "topic/pub",
            Qos::AtMostOnce,
            false,
            &b"This is test data, hello MQTT."[..],
        )
        .await
        .unwrap();
    assert_eq!(msgid, 0);
    client.execute(Disconnect { client: 0 }).await.unwrap();
    assert_eq!(client.state(0).await.unwrap().0, ClientState::Closed);

    let received = module.await.unwrap();
    assert_eq!(
        received.data,
        vec![b"This is test data, hello MQTT.".to_vec()]
    );

    let mut messages = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let DriverEvent::Urc(Urc::Recv(m)) = event {
            messages.push((m.topic, String::from_utf8(m.payload.to_vec()).unwrap()));
        }
    }
    assert_eq!(
        messages,
        vec![
            (
                "topic/example".to_string(),
                "This is the payload related to topic".to_string()
            ),
            (
                "topic/pub".to_string(),
                "This is test data, hello MQTT.".to_string()
            ),
        ]
    );
}

/// Errors: a parameter refused before anything is written, ERROR from the module, a failed
/// open with the guide's meaning, and a closed port.
#[tokio::test]
async fn errors_reach_the_caller_and_the_port_keeps_working() {
    let (module, path) = pty();
    let script = vec![
        step(
            "AT+QMTOPEN=1,\"nowhere.invalid\",1883",
            vec![Line("OK"), Line("+QMTOPEN: 1,4")],
        ),
        step("AT+QMTCONN=1,\"c\"", vec![Line("ERROR")]),
        step("AT", vec![Line("OK")]),
    ];
    let module = tokio::spawn(play(module, script));
    let (client, _task) = Client::spawn(open_serial(&path, 115_200).unwrap());

    // Refused before a byte is written: the script would fail on any unexpected command.
    let err = client
        .execute(Open {
            client: 6,
            host: "h".into(),
            port: 1,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Param(ParamError::OutOfRange {
                param: "client_idx",
                ..
            })
        ),
        "{err}"
    );
    let err = client
        .publish(0, "t\r\nAT+QMTDISC=0", Qos::AtLeastOnce, false, &b"x"[..])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Param(ParamError::Forbidden { param: "topic", .. })
        ),
        "{err}"
    );
    let err = client
        .publish(0, "t", Qos::AtLeastOnce, false, vec![b'x'; 1501])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1500"), "{err}");

    let err = client
        .execute(Open {
            client: 1,
            host: "nowhere.invalid".into(),
            port: 1883,
        })
        .await
        .unwrap_err();
    assert_eq!(err, Error::Open(OpenResult::DnsFailed));
    assert!(err.to_string().contains("DNS"), "{err}");
    let err = client
        .execute(Connect {
            client: 1,
            client_id: "c".into(),
            credentials: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Module {
                command: "AT+QMTCONN"
            }
        ),
        "{err}"
    );
    client.execute(At).await.unwrap();
    let mut events = client.events();
    let received = module.await.unwrap();
    assert_eq!(received.commands.len(), 3);
    // The module's end closes: the driver sees the port go and says so.
    drop(received);
    let err = client.execute(At).await.unwrap_err();
    assert!(matches!(err, Error::PortClosed(_)), "{err}");
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.recv().await {
                Ok(DriverEvent::PortClosed(reason)) => return Some(reason),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
    .await
    .expect("PortClosed is reported");
    assert!(closed.is_some(), "the event stream reports PortClosed");
}

/// Publishes from several tasks share one handle; the driver keeps at most 5 in flight and
/// writes the next as soon as the previous `OK` arrives (no waiting for results).
#[tokio::test]
async fn concurrent_publishes_pipeline_within_the_window() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (mut module, path) = pty();
    let total = 12usize;
    let responder = tokio::spawn(async move {
        let mut pending = Vec::<u8>::new();
        let mut outstanding: Vec<u16> = Vec::new();
        let mut max_outstanding = 0;
        let mut payloads = Vec::new();
        let mut buf = [0u8; 512];
        while payloads.len() < total {
            // Hold results back while the window is full, to see that the driver waits too.
            if outstanding.len() == 5 || (payloads.len() >= total && !outstanding.is_empty()) {
                let quiet =
                    tokio::time::timeout(Duration::from_millis(200), module.read(&mut buf)).await;
                assert!(
                    quiet.is_err(),
                    "the driver wrote while 5 publishes were awaiting results"
                );
                for msgid in outstanding.drain(..) {
                    module
                        .write_all(format!("\r\n+QMTPUBEX: 0,{msgid},0\r\n").as_bytes())
                        .await
                        .unwrap();
                }
                continue;
            }
            let line = loop {
                if let Some(end) = pending.iter().position(|b| *b == b'\r') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    break String::from_utf8(line[..line.len() - 1].to_vec()).unwrap();
                }
                let n = module.read(&mut buf).await.unwrap();
                pending.extend_from_slice(&buf[..n]);
            };
            // AT+QMTPUBEX=0,<msgid>,1,0,"t",<len>
            let fields: Vec<&str> = line.trim_start_matches("AT+QMTPUBEX=").split(',').collect();
            let msgid: u16 = fields[1].parse().unwrap();
            let len: usize = fields[5].parse().unwrap();
            module
                .write_all(format!("{line}\r\r\n> ").as_bytes())
                .await
                .unwrap();
            while pending.len() < len {
                let n = module.read(&mut buf).await.unwrap();
                pending.extend_from_slice(&buf[..n]);
            }
            let data: Vec<u8> = pending.drain(..len).collect();
            module.write_all(&data).await.unwrap();
            module.write_all(b"\r\nOK\r\n").await.unwrap();
            outstanding.push(msgid);
            max_outstanding = max_outstanding.max(outstanding.len());
            payloads.push(String::from_utf8(data).unwrap());
        }
        for msgid in outstanding.drain(..) {
            module
                .write_all(format!("\r\n+QMTPUBEX: 0,{msgid},0\r\n").as_bytes())
                .await
                .unwrap();
        }
        (payloads, max_outstanding, module)
    });

    let (client, _task) = Client::spawn(open_serial(&path, 115_200).unwrap());
    let tasks: Vec<_> = (0..total)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .publish(
                        0,
                        "t",
                        Qos::AtLeastOnce,
                        false,
                        format!("payload {i}").into_bytes(),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut msgids = Vec::new();
    for t in tasks {
        msgids.push(t.await.unwrap());
    }
    let (mut payloads, max_outstanding, _module) = responder.await.unwrap();
    msgids.sort_unstable();
    msgids.dedup();
    assert_eq!(msgids.len(), total, "every publish got its own msgid");
    assert!(msgids.iter().all(|m| *m >= 1));
    assert_eq!(
        max_outstanding, 5,
        "the window was used in full and never exceeded"
    );
    payloads.sort();
    let mut expected: Vec<String> = (0..total).map(|i| format!("payload {i}")).collect();
    expected.sort();
    assert_eq!(payloads, expected);

    // The typed form with an explicit msgid works the same way.
    let _ = Publish {
        client: 0,
        msgid: 1,
        qos: Qos::AtLeastOnce,
        retain: false,
        topic: "t".into(),
        payload: Default::default(),
    };
}

#[tokio::test]
async fn cfg_query_reply_is_typed() {
    let (module, path) = pty();
    let script = vec![step(
        "AT+QMTCFG=\"recv/mode\",0",
        vec![
            Line("+QMTSTAT: 2,1"),
            Line("+QMTCFG: \"recv/mode\",0,1"),
            Line("OK"),
        ],
    )];
    let module = tokio::spawn(play(module, script));
    let (client, _task) = Client::spawn(open_serial(&path, 115_200).unwrap());
    let mut events = client.events();
    let mode = client
        .execute(CfgQuery::<CfgRecvMode>::new(0))
        .await
        .unwrap();
    assert_eq!(
        mode,
        RecvMode {
            buffered: false,
            with_length: true
        }
    );
    module.await.unwrap();
    // The URC that arrived between the command and its OK went to the event stream.
    let event = events.try_recv().unwrap();
    assert_eq!(
        event,
        DriverEvent::Urc(Urc::Stat {
            client: 2,
            code: quectel_mqtt::StatCode::ClosedByServer
        })
    );
}
