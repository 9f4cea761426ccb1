//! The MQTT connection commands through the `quectel-mqtt` driver over a pty, against the
//! emulator with mosquitto behind it: the test forms, OPEN / OPEN? / CLOSE, CONN with and
//! without credentials, CONN?, DISC, and the refusals the module answers with `ERROR`.

mod common;

use common::{bounded, next_event, pty_driver, Mosquitto};
use modem_sim::ModuleConfig;
use quectel_mqtt::commands::{
    ClientState, Close, ConnState, ConnStateQuery, Connect, Credentials, Disconnect, MqttTest,
    Open, OpenEndpoint, OpenQuery, Publish, Qos, Secret, TopicFilter,
};
use quectel_mqtt::driver::DriverEvent;
use quectel_mqtt::{ConnectReturnCode, Error, OpenResult, PacketResult, StatCode, Urc};

fn open(client: u8, port: u16) -> Open {
    Open {
        client,
        host: "127.0.0.1".into(),
        port,
    }
}

fn connect(client: u8, id: &str, credentials: Option<(&str, &str)>) -> Connect {
    Connect {
        client,
        client_id: id.into(),
        credentials: credentials.map(|(u, p)| Credentials {
            username: u.into(),
            password: Secret::new(p),
        }),
    }
}

/// `AT+QMT<cmd>=?` for every MQTT command: the guide's listings, as the driver reads them.
#[tokio::test]
async fn test_forms_of_every_mqtt_command() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let expected = [
        (MqttTest::Open, vec![r#"(0-5),"hostname",(1-65535)"#]),
        (MqttTest::Close, vec!["(0-5)"]),
        (
            MqttTest::Conn,
            vec![r#"(0-5),"clientid","username","password""#],
        ),
        (MqttTest::Disc, vec!["(0-5)"]),
        (
            MqttTest::Sub,
            vec![r#"(0-5),<msgid>, list of ["topic",qos]"#],
        ),
        (MqttTest::Uns, vec!["(0-5),<msgid>,list of [<topic>]"]),
        (
            MqttTest::PubEx,
            vec![r#"(0-5),<msgid>,(0-2),(0,1),"topic","length""#],
        ),
        // The guide: AT+QMTRECV=? answers only OK.
        (MqttTest::Recv, vec![]),
    ];
    for (form, lines) in expected {
        let got = bounded(c.execute(form)).await.unwrap();
        assert_eq!(got, lines, "{form:?}");
    }
}

#[tokio::test]
async fn open_connect_query_disconnect_close() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    // Nothing open: OPEN? and CONN? answer a bare OK (deltas 17).
    assert_eq!(bounded(c.execute(OpenQuery)).await.unwrap(), vec![]);
    assert_eq!(c.execute(ConnStateQuery).await.unwrap(), vec![]);

    bounded(c.execute(open(0, broker.port))).await.unwrap();
    bounded(c.execute(open(5, broker.port))).await.unwrap();
    // An index in use: +QMTOPEN: <idx>,2.
    assert_eq!(
        bounded(c.execute(open(5, broker.port))).await,
        Err(Error::Open(OpenResult::Occupied))
    );
    let endpoint = |client| OpenEndpoint {
        client,
        host: "127.0.0.1".into(),
        port: broker.port,
    };
    assert_eq!(
        c.execute(OpenQuery).await.unwrap(),
        vec![endpoint(0), endpoint(5)]
    );
    // Opened but not connected: state 1 (initializing).
    assert_eq!(
        c.execute(ConnStateQuery).await.unwrap(),
        vec![
            ClientState {
                client: 0,
                state: ConnState::Initializing
            },
            ClientState {
                client: 5,
                state: ConnState::Initializing
            }
        ]
    );

    bounded(c.execute(connect(0, "drv-anon", None)))
        .await
        .unwrap();
    // Credentials are passed on (an anonymous broker accepts them too).
    bounded(c.execute(connect(5, "drv-cred", Some(("user", "p,a ss")))))
        .await
        .unwrap();
    assert_eq!(
        c.execute(ConnStateQuery).await.unwrap(),
        vec![
            ClientState {
                client: 0,
                state: ConnState::Connected
            },
            ClientState {
                client: 5,
                state: ConnState::Connected
            }
        ]
    );
    // A second CONN on a connected client is refused.
    assert_eq!(
        c.execute(connect(0, "again", None)).await,
        Err(Error::Module {
            command: "AT+QMTCONN"
        })
    );

    bounded(c.execute(Disconnect { client: 0 })).await.unwrap();
    // DISC closes the network link too: only client 5 is left.
    assert_eq!(c.execute(OpenQuery).await.unwrap(), vec![endpoint(5)]);
    bounded(c.execute(Close { client: 5 })).await.unwrap();
    assert_eq!(c.execute(OpenQuery).await.unwrap(), vec![]);
    assert_eq!(c.execute(ConnStateQuery).await.unwrap(), vec![]);
    // CLOSE of an idle client: OK and +QMTCLOSE: <idx>,0 (the EC600S capture's defensive close).
    bounded(c.execute(Close { client: 3 })).await.unwrap();
    // None of this reported a link change.
    while let Ok(ev) = events.try_recv() {
        assert!(
            !matches!(ev, DriverEvent::Urc(Urc::Stat { .. })),
            "unexpected {ev:?}"
        );
    }
}

/// A broker that wants a user name and password: a refused CONNECT is `+QMTCONN: 0,0,5`
/// then `+QMTSTAT: 0,4`, and the index is free again; the right credentials connect.
#[tokio::test]
async fn credentials_are_checked_by_the_broker() {
    let Some(broker) = Mosquitto::start_with_password("gw-1", "s3cret,\"x\"") else {
        return;
    };
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let mut events = c.events();
    for creds in [None, Some(("gw-1", "wrong"))] {
        bounded(c.execute(open(0, broker.port))).await.unwrap();
        let refused = bounded(c.execute(connect(0, "drv-auth", creds))).await;
        assert_eq!(
            refused,
            Err(Error::Connect {
                result: PacketResult::Acked,
                ret_code: Some(ConnectReturnCode::NotAuthorized)
            }),
            "{creds:?}"
        );
        let code = next_event(&mut events, |ev| match ev {
            DriverEvent::Urc(Urc::Stat { client: 0, code }) => Some(*code),
            _ => None,
        })
        .await;
        assert_eq!(code, StatCode::ConnackFailed);
        assert_eq!(c.execute(OpenQuery).await.unwrap(), vec![]);
    }
    bounded(c.execute(open(0, broker.port))).await.unwrap();
    // Quotes are refused by the driver before a byte is written (they would end the string).
    let quoted = c
        .execute(connect(0, "drv-auth", Some(("gw-1", "s3cret,\"x\""))))
        .await;
    assert!(matches!(quoted, Err(Error::Param(_))), "{quoted:?}");
    bounded(c.execute(Close { client: 0 })).await.unwrap();
}

/// The same with a password the AT line can carry.
#[tokio::test]
async fn right_credentials_connect() {
    let Some(broker) = Mosquitto::start_with_password("gw-2", "pa ss,word") else {
        return;
    };
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(open(2, broker.port))).await.unwrap();
    bounded(c.execute(connect(2, "drv-auth-2", Some(("gw-2", "pa ss,word")))))
        .await
        .unwrap();
    assert_eq!(
        c.execute(ConnStateQuery).await.unwrap(),
        vec![ClientState {
            client: 2,
            state: ConnState::Connected
        }]
    );
    bounded(c.execute(Disconnect { client: 2 })).await.unwrap();
}

/// What the module refuses with `ERROR` when the client is in the wrong state.
#[tokio::test]
async fn commands_in_the_wrong_state_answer_error() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    // CONN needs an open client.
    assert_eq!(
        bounded(c.execute(connect(1, "nobody", None))).await,
        Err(Error::Module {
            command: "AT+QMTCONN"
        })
    );
    // DISC needs a link.
    assert_eq!(
        bounded(c.execute(Disconnect { client: 1 })).await,
        Err(Error::Module {
            command: "AT+QMTDISC"
        })
    );
    bounded(c.execute(open(1, broker.port))).await.unwrap();
    // SUB and PUBEX need a connected client.
    let sub = bounded(c.subscribe(
        1,
        vec![TopicFilter {
            topic: "a".into(),
            qos: Qos::AtMostOnce,
        }],
    ))
    .await;
    assert_eq!(
        sub,
        Err(Error::Module {
            command: "AT+QMTSUB"
        })
    );
    let publish = bounded(c.execute(Publish {
        client: 1,
        msgid: 0,
        qos: Qos::AtMostOnce,
        retain: false,
        topic: "a".into(),
        payload: "x".into(),
    }))
    .await;
    assert_eq!(
        publish,
        Err(Error::Module {
            command: "AT+QMTPUBEX"
        })
    );
    bounded(c.execute(Close { client: 1 })).await.unwrap();
}
