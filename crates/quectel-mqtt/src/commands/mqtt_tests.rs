use super::*;
use crate::commands::test_support::{encode, info, refused_param, request};

fn with_urc(urc: Urc) -> Response {
    Response {
        urc: Some(urc),
        ..Response::default()
    }
}

fn open(host: &str, port: u16) -> Open {
    Open {
        client: 0,
        host: host.into(),
        port,
    }
}

#[test]
fn open_matches_the_guide() {
    let req = request(&open("iot-as-mqtt.cn-shanghai.aliyuncs.com", 1883));
    assert_eq!(
        req.line,
        b"AT+QMTOPEN=0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883"
    );
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Open,
            client: 0,
            msgid: None
        })
    );
    assert_eq!(
        (req.timeout, req.info, req.secret),
        (Duration::from_secs(120), Info::None, false)
    );
    assert_eq!(open("h", 1).client(), Some(0));
}

#[test]
fn open_bounds() {
    assert!(open(&"h".repeat(100), 65535)
        .request(&Timing::default())
        .is_ok());
    assert_eq!(encode(&open("10.0.0.1", 1)), "AT+QMTOPEN=0,\"10.0.0.1\",1");
    assert_eq!(refused_param(&open(&"h".repeat(101), 1883)), "host_name");
    assert_eq!(refused_param(&open("", 1883)), "host_name");
    assert_eq!(refused_param(&open("h", 0)), "port");
    assert_eq!(
        refused_param(&open("h\",1883\r\nAT+QPOWD", 1883)),
        "host_name"
    );
    assert_eq!(
        refused_param(&Open {
            client: 6,
            ..open("h", 1)
        }),
        "client_idx"
    );
}

#[test]
fn open_result() {
    let command = open("h", 1883);
    assert_eq!(command.parse(with_urc(Urc::parse("+QMTOPEN: 0,0"))), Ok(()));
    assert_eq!(
        command.parse(with_urc(Urc::parse("+QMTOPEN: 0,3"))),
        Err(Error::Open(OpenResult::PdpActivationFailed))
    );
    assert_eq!(
        command.parse(with_urc(Urc::parse("+QMTOPEN: 0,-1"))),
        Err(Error::Open(OpenResult::Failed))
    );
    let missing = command.parse(Response::default()).unwrap_err();
    assert!(
        matches!(
            missing,
            Error::Reply {
                command: "AT+QMTOPEN",
                ..
            }
        ),
        "{missing}"
    );
    let other = command
        .parse(with_urc(Urc::parse("+QMTCLOSE: 0,0")))
        .unwrap_err();
    assert!(
        matches!(
            other,
            Error::Reply {
                command: "AT+QMTOPEN",
                ..
            }
        ),
        "{other}"
    );
}

#[test]
fn open_query_lists_endpoints() {
    let req = request(&OpenQuery);
    assert_eq!(
        (req.line.as_slice(), req.info),
        (&b"AT+QMTOPEN?"[..], Info::Prefix("+QMTOPEN:"))
    );
    let reply = info(&[
        "+QMTOPEN: 0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883",
        "+QMTOPEN: 2,\"10.0.0.1\",8883",
    ]);
    assert_eq!(
        OpenQuery.parse(reply).unwrap(),
        vec![
            OpenEndpoint {
                client: 0,
                host: "iot-as-mqtt.cn-shanghai.aliyuncs.com".into(),
                port: 1883
            },
            OpenEndpoint {
                client: 2,
                host: "10.0.0.1".into(),
                port: 8883
            },
        ]
    );
    assert_eq!(OpenQuery.parse(info(&[])).unwrap(), vec![]);
    // A result URC of another client's OPEN, claimed with the query's lines, is not an endpoint.
    assert_eq!(OpenQuery.parse(info(&["+QMTOPEN: 1,0"])).unwrap(), vec![]);
    let err = OpenQuery
        .parse(info(&["+QMTOPEN: 0,\"h\",port"]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Reply {
                command: "AT+QMTOPEN",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn close_and_disconnect() {
    let req = request(&Close { client: 4 });
    assert_eq!(req.line, b"AT+QMTCLOSE=4");
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Close,
            client: 4,
            msgid: None
        })
    );
    assert_eq!(req.timeout, Duration::from_secs(30));
    assert_eq!(refused_param(&Close { client: 6 }), "client_idx");
    assert_eq!(
        Close { client: 4 }.parse(with_urc(Urc::parse("+QMTCLOSE: 4,0"))),
        Ok(())
    );
    assert_eq!(
        Close { client: 4 }.parse(with_urc(Urc::parse("+QMTCLOSE: 4,-1"))),
        Err(Error::Failed {
            command: "AT+QMTCLOSE"
        })
    );

    let req = request(&Disconnect { client: 0 });
    assert_eq!(req.line, b"AT+QMTDISC=0");
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Disc,
            client: 0,
            msgid: None
        })
    );
    assert_eq!(req.timeout, Duration::from_secs(30));
    assert_eq!(refused_param(&Disconnect { client: 6 }), "client_idx");
    assert_eq!(
        Disconnect { client: 0 }.parse(with_urc(Urc::parse("+QMTDISC: 0,0"))),
        Ok(())
    );
    assert_eq!(
        Disconnect { client: 0 }.parse(with_urc(Urc::parse("+QMTDISC: 0,-1"))),
        Err(Error::Failed {
            command: "AT+QMTDISC"
        })
    );
    assert!(Disconnect { client: 0 }.parse(Response::default()).is_err());
}

fn connect(credentials: Option<(&str, &str)>) -> Connect {
    Connect {
        client: 0,
        client_id: "clientExample".into(),
        credentials: credentials.map(|(u, p)| Credentials {
            username: u.into(),
            password: Secret::new(p),
        }),
    }
}

#[test]
fn connect_without_credentials_matches_the_guide() {
    let req = request(&connect(None));
    assert_eq!(req.line, b"AT+QMTCONN=0,\"clientExample\"");
    assert!(!req.secret);
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Conn,
            client: 0,
            msgid: None
        })
    );
}

#[test]
fn connect_with_credentials_is_secret_and_times_out_after_pkt_timeout() {
    let command = connect(Some(("base_000", "iBATERRY668$")));
    let timing = Timing {
        pkt_timeout: 12,
        retry_times: 4,
    };
    let req = command.request(&timing).unwrap();
    assert_eq!(
        req.line,
        b"AT+QMTCONN=0,\"clientExample\",\"base_000\",\"iBATERRY668$\""
    );
    assert!(req.secret);
    assert_eq!(req.timeout, Duration::from_secs(12));
    assert_eq!(request(&command).timeout, Duration::from_secs(5));
    assert!(!format!("{command:?}").contains("iBATERRY668$"));
    assert!(!format!("{req:?}").contains("iBATERRY668$"), "{req:?}");
}

#[test]
fn connect_bounds_and_framing() {
    let max = "c".repeat(MAX_CONNECT_FIELD_LEN);
    assert!(Connect {
        client_id: max.clone(),
        ..connect(Some((&max, &max)))
    }
    .request(&Timing::default())
    .is_ok());
    assert!(connect(Some(("", ""))).request(&Timing::default()).is_ok());
    let over = "c".repeat(MAX_CONNECT_FIELD_LEN + 1);
    assert_eq!(
        refused_param(&Connect {
            client_id: over.clone(),
            ..connect(None)
        }),
        "clientid"
    );
    assert_eq!(
        refused_param(&Connect {
            client_id: String::new(),
            ..connect(None)
        }),
        "clientid"
    );
    assert_eq!(refused_param(&connect(Some((&over, "p")))), "username");
    assert_eq!(refused_param(&connect(Some(("u", &over)))), "password");
    let err = connect(Some(("u", "pa\"ss")))
        .request(&Timing::default())
        .unwrap_err();
    assert_eq!(
        err,
        ParamError::Forbidden {
            param: "password",
            what: "a double quote (\")"
        }
    );
    assert!(!err.to_string().contains("pa\"ss"));
}

#[test]
fn connect_result() {
    let command = connect(None);
    assert_eq!(
        command.parse(with_urc(Urc::parse("+QMTCONN: 0,0,0"))),
        Ok(())
    );
    // ThingsCloud's EC200x tutorial shows success without a return code (delta 18).
    assert_eq!(command.parse(with_urc(Urc::parse("+QMTCONN: 0,0"))), Ok(()));
    assert_eq!(
        command.parse(with_urc(Urc::parse("+QMTCONN: 0,0,4"))),
        Err(Error::Connect {
            result: PacketResult::Acked,
            ret_code: Some(ConnectReturnCode::BadUserNameOrPassword)
        })
    );
    assert_eq!(
        command.parse(with_urc(Urc::parse("+QMTCONN: 0,2"))),
        Err(Error::Connect {
            result: PacketResult::Failed,
            ret_code: None
        })
    );
    assert!(matches!(
        command.parse(Response::default()),
        Err(Error::Reply {
            command: "AT+QMTCONN",
            ..
        })
    ));
}

#[test]
fn connection_state_query() {
    let req = request(&ConnStateQuery);
    assert_eq!(
        (req.line.as_slice(), req.info),
        (&b"AT+QMTCONN?"[..], Info::Prefix("+QMTCONN:"))
    );
    let reply = info(&[
        "+QMTCONN: 0,3",
        "+QMTCONN: 1,1",
        "+QMTCONN: 2,2",
        "+QMTCONN: 3,4",
    ]);
    let states: Vec<_> = ConnStateQuery
        .parse(reply)
        .unwrap()
        .into_iter()
        .map(|s| (s.client, s.state))
        .collect();
    assert_eq!(
        states,
        vec![
            (0, ConnState::Connected),
            (1, ConnState::Initializing),
            (2, ConnState::Connecting),
            (3, ConnState::Disconnecting),
        ]
    );
    assert_eq!(ConnStateQuery.parse(info(&[])).unwrap(), vec![]);
    assert_eq!(
        ConnStateQuery.parse(info(&["+QMTCONN: 1,0,0"])).unwrap(),
        vec![]
    );
    for bad in ["+QMTCONN: 0,5", "+QMTCONN: 0,0", "+QMTCONN: 0"] {
        let err = ConnStateQuery.parse(info(&[bad])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Reply {
                    command: "AT+QMTCONN",
                    ..
                }
            ),
            "{bad}: {err}"
        );
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn test_forms_return_the_listed_lines() {
    assert_eq!(encode(&MqttTest::Open), "AT+QMTOPEN=?");
    assert_eq!(encode(&MqttTest::PubEx), "AT+QMTPUBEX=?");
    assert_eq!(encode(&MqttTest::Recv), "AT+QMTRECV=?");
    assert_eq!(request(&MqttTest::Sub).info, Info::Prefix("+QMTSUB:"));
    let listed = MqttTest::Open
        .parse(info(&["+QMTOPEN: (0-5),\"hostname\",(1-65535)"]))
        .unwrap();
    assert_eq!(listed, vec!["(0-5),\"hostname\",(1-65535)".to_owned()]);
    let listed = MqttTest::Conn
        .parse(info(&[
            "+QMTCONN: (0-5),\"clientid\",\"username\",\"password\"",
        ]))
        .unwrap();
    assert_eq!(
        listed,
        vec!["(0-5),\"clientid\",\"username\",\"password\"".to_owned()]
    );
    assert_eq!(
        MqttTest::Recv.parse(info(&[])).unwrap(),
        Vec::<String>::new()
    );
    for test in [MqttTest::Close, MqttTest::Disc, MqttTest::Uns] {
        assert_eq!(request(&test).timeout, QUICK_TIMEOUT);
        assert!(encode(&test).ends_with("=?"));
    }
}
