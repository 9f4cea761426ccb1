use super::*;
use crate::commands::test_support::{encode, info, refused_param, request};
use crate::request::Completion;

fn with_urc(line: &str) -> Response {
    Response {
        urc: Some(Urc::parse(line)),
        ..Response::default()
    }
}

fn filter(topic: &str, qos: Qos) -> TopicFilter {
    TopicFilter {
        topic: topic.into(),
        qos,
    }
}

fn subscribe(msgid: u16, topics: Vec<TopicFilter>) -> Subscribe {
    Subscribe {
        client: 0,
        msgid,
        topics,
    }
}

#[test]
fn subscribe_matches_the_guide() {
    let command = subscribe(1, vec![filter("topic/example", Qos::ExactlyOnce)]);
    let req = request(&command);
    assert_eq!(req.line, b"AT+QMTSUB=0,1,\"topic/example\",2");
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Sub,
            client: 0,
            msgid: Some(1)
        })
    );
    assert_eq!(req.info, Info::None);
    assert_eq!(
        command.parse(with_urc("+QMTSUB: 0,1,0,2")).unwrap(),
        vec![SubAck::Granted(Qos::ExactlyOnce)]
    );
}

#[test]
fn subscribe_several_topics() {
    let command = subscribe(
        65535,
        vec![
            filter("a/+", Qos::AtMostOnce),
            filter("b/#", Qos::AtLeastOnce),
            filter("c", Qos::ExactlyOnce),
        ],
    );
    assert_eq!(
        encode(&command),
        "AT+QMTSUB=0,65535,\"a/+\",0,\"b/#\",1,\"c\",2"
    );
    assert_eq!(
        command
            .parse(with_urc("+QMTSUB: 0,65535,0,0,1,128"))
            .unwrap(),
        vec![
            SubAck::Granted(Qos::AtMostOnce),
            SubAck::Granted(Qos::AtLeastOnce),
            SubAck::Refused
        ]
    );
}

#[test]
fn subscribe_times_out_after_the_packet_timing() {
    let command = subscribe(1, vec![filter("t", Qos::AtMostOnce)]);
    let timing = Timing {
        pkt_timeout: 7,
        retry_times: 2,
    };
    assert_eq!(
        command.request(&timing).unwrap().timeout,
        Duration::from_secs(14)
    );
    assert_eq!(request(&command).timeout, Duration::from_secs(15));
    let no_retries = Timing {
        pkt_timeout: 7,
        retry_times: 0,
    };
    assert_eq!(
        command.request(&no_retries).unwrap().timeout,
        Duration::from_secs(7)
    );
}

#[test]
fn subscribe_bounds() {
    let one = vec![filter("t", Qos::AtMostOnce)];
    assert_eq!(refused_param(&subscribe(0, one.clone())), "msgid");
    assert_eq!(refused_param(&subscribe(1, vec![])), "topic");
    assert_eq!(
        refused_param(&subscribe(1, vec![filter("", Qos::AtMostOnce)])),
        "topic"
    );
    assert!(
        subscribe(1, vec![filter(&"t".repeat(MAX_TOPIC_LEN), Qos::AtMostOnce)])
            .request(&Timing::default())
            .is_ok()
    );
    assert_eq!(
        refused_param(&subscribe(
            1,
            vec![filter(&"t".repeat(MAX_TOPIC_LEN + 1), Qos::AtMostOnce)]
        )),
        "topic"
    );
    assert_eq!(
        refused_param(&subscribe(1, vec![filter("a\",2\r\nAT", Qos::AtMostOnce)])),
        "topic"
    );
    assert_eq!(
        refused_param(&Subscribe {
            client: 6,
            ..subscribe(1, one)
        }),
        "client_idx"
    );
}

#[test]
fn subscribe_failures() {
    let command = subscribe(3, vec![filter("t", Qos::AtMostOnce)]);
    assert_eq!(
        command.parse(with_urc("+QMTSUB: 0,3,2")),
        Err(Error::Packet {
            command: "AT+QMTSUB",
            result: PacketResult::Failed
        })
    );
    assert_eq!(
        command.parse(with_urc("+QMTSUB: 0,3,1,2")),
        Err(Error::Packet {
            command: "AT+QMTSUB",
            result: PacketResult::Retransmitting
        })
    );
    let err = command.parse(with_urc("+QMTSUB: 0,3,0,7")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Reply {
                command: "AT+QMTSUB",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        command.parse(Response::default()),
        Err(Error::Reply {
            command: "AT+QMTSUB",
            ..
        })
    ));
}

#[test]
fn unsubscribe() {
    let command = Unsubscribe {
        client: 0,
        msgid: 2,
        topics: vec!["topic/example".into()],
    };
    let req = request(&command);
    assert_eq!(req.line, b"AT+QMTUNS=0,2,\"topic/example\"");
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::Uns,
            client: 0,
            msgid: Some(2)
        })
    );
    assert_eq!(command.parse(with_urc("+QMTUNS: 0,2,0")), Ok(()));
    assert_eq!(
        command.parse(with_urc("+QMTUNS: 0,2,2")),
        Err(Error::Packet {
            command: "AT+QMTUNS",
            result: PacketResult::Failed
        })
    );
    let several = Unsubscribe {
        client: 1,
        msgid: 65535,
        topics: vec!["a".into(), "b/c".into()],
    };
    assert_eq!(encode(&several), "AT+QMTUNS=1,65535,\"a\",\"b/c\"");
    assert_eq!(
        refused_param(&Unsubscribe {
            msgid: 0,
            ..several.clone()
        }),
        "msgid"
    );
    assert_eq!(
        refused_param(&Unsubscribe {
            topics: vec![],
            ..several.clone()
        }),
        "topic"
    );
    assert_eq!(
        refused_param(&Unsubscribe {
            topics: vec!["a\nb".into()],
            ..several
        }),
        "topic"
    );
}

fn publish(msgid: u16, qos: Qos, payload: &[u8]) -> Publish {
    Publish {
        client: 0,
        msgid,
        qos,
        retain: false,
        topic: "topic/pub".into(),
        payload: Bytes::copy_from_slice(payload),
    }
}

#[test]
fn publish_matches_the_guide() {
    let command = publish(0, Qos::AtMostOnce, b"This is test data, hello MQTT.");
    let req = request(&command);
    assert_eq!(req.line, b"AT+QMTPUBEX=0,0,0,0,\"topic/pub\",30");
    assert_eq!(
        req.data,
        Some(Data::Prompt(Bytes::from_static(
            b"This is test data, hello MQTT."
        )))
    );
    assert_eq!(
        req.completion,
        Completion::Urc(UrcKey {
            kind: UrcKind::PubEx,
            client: 0,
            msgid: Some(0)
        })
    );
    assert_eq!(
        (req.info, req.secret, req.effect),
        (Info::None, false, None)
    );
    assert_eq!(command.parse(with_urc("+QMTPUBEX: 0,0,0")), Ok(()));
    let timing = Timing {
        pkt_timeout: 3,
        retry_times: 5,
    };
    assert_eq!(
        command.request(&timing).unwrap().timeout,
        Duration::from_secs(15)
    );
}

#[test]
fn publish_length_counts_utf8_bytes_and_keeps_framing_bytes() {
    let text = "測試\r\n\"q\",x";
    let command = Publish {
        retain: true,
        ..publish(7, Qos::AtLeastOnce, text.as_bytes())
    };
    let req = request(&command);
    // 6 bytes for the two CJK characters, 7 for the rest.
    assert_eq!(req.line, b"AT+QMTPUBEX=0,7,1,1,\"topic/pub\",13");
    assert_eq!(
        req.data,
        Some(Data::Prompt(Bytes::copy_from_slice(text.as_bytes())))
    );
}

#[test]
fn publish_msgid_follows_the_qos() {
    assert!(publish(0, Qos::AtMostOnce, b"x")
        .request(&Timing::default())
        .is_ok());
    let err = publish(1, Qos::AtMostOnce, b"x")
        .request(&Timing::default())
        .unwrap_err();
    assert_eq!(
        err,
        ParamError::OutOfRange {
            param: "msgid",
            value: 1,
            min: 0,
            max: 0
        }
    );
    for qos in [Qos::AtLeastOnce, Qos::ExactlyOnce] {
        assert_eq!(refused_param(&publish(0, qos, b"x")), "msgid");
        assert!(publish(1, qos, b"x").request(&Timing::default()).is_ok());
        assert!(publish(65535, qos, b"x")
            .request(&Timing::default())
            .is_ok());
    }
    assert_eq!(
        encode(&publish(65535, Qos::ExactlyOnce, b"x")),
        "AT+QMTPUBEX=0,65535,2,0,\"topic/pub\",1"
    );
}

#[test]
fn publish_bounds() {
    assert_eq!(
        encode(&publish(0, Qos::AtMostOnce, &[0x55; MAX_PAYLOAD])),
        "AT+QMTPUBEX=0,0,0,0,\"topic/pub\",1500"
    );
    let err = publish(0, Qos::AtMostOnce, &[0x55; MAX_PAYLOAD + 1])
        .request(&Timing::default())
        .unwrap_err();
    assert_eq!(
        err,
        ParamError::Length {
            param: "payload",
            len: 1501,
            min: 0,
            max: 1500
        }
    );
    assert_eq!(
        refused_param(&Publish {
            topic: String::new(),
            ..publish(0, Qos::AtMostOnce, b"")
        }),
        "topic"
    );
    assert_eq!(
        refused_param(&Publish {
            topic: "a\"b".into(),
            ..publish(0, Qos::AtMostOnce, b"")
        }),
        "topic"
    );
    assert_eq!(
        refused_param(&Publish {
            client: 6,
            ..publish(0, Qos::AtMostOnce, b"")
        }),
        "client_idx"
    );
}

#[test]
fn publish_failures() {
    let command = publish(9, Qos::AtLeastOnce, b"x");
    assert_eq!(command.parse(with_urc("+QMTPUBEX: 0,9,0")), Ok(()));
    assert_eq!(
        command.parse(with_urc("+QMTPUBEX: 0,9,2")),
        Err(Error::Packet {
            command: "AT+QMTPUBEX",
            result: PacketResult::Failed
        })
    );
    assert_eq!(
        command.parse(with_urc("+QMTPUBEX: 0,9,1,3")),
        Err(Error::Packet {
            command: "AT+QMTPUBEX",
            result: PacketResult::Retransmitting
        })
    );
    let err = command.parse(with_urc("+QMTSUB: 0,9,0,1")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Reply {
                command: "AT+QMTPUBEX",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn recv_status_query() {
    let req = request(&RecvStatusQuery);
    assert_eq!(
        (req.line.as_slice(), req.info),
        (&b"AT+QMTRECV?"[..], Info::Prefix("+QMTRECV:"))
    );
    let reply = RecvStatusQuery
        .parse(info(&["+QMTRECV: 0,1,0,0,1,0", "+QMTRECV: 3,0,0,0,0,0"]))
        .unwrap();
    assert_eq!(
        reply,
        vec![
            RecvSlots {
                client: 0,
                stored: [true, false, false, true, false]
            },
            RecvSlots {
                client: 3,
                stored: [false; 5]
            },
        ]
    );
    assert_eq!(RecvStatusQuery.parse(info(&[])).unwrap(), vec![]);
    for bad in ["+QMTRECV: 0,1,0,0,1", "+QMTRECV: 0,1,0,0,1,2"] {
        let err = RecvStatusQuery.parse(info(&[bad])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Reply {
                    command: "AT+QMTRECV",
                    ..
                }
            ),
            "{bad}"
        );
    }
}

#[test]
fn recv_read() {
    let all = RecvRead {
        client: 0,
        recv_id: None,
    };
    let req = request(&all);
    assert_eq!(
        (req.line.as_slice(), req.info),
        (&b"AT+QMTRECV=0"[..], Info::Prefix("+QMTRECV:"))
    );
    assert_eq!(req.timeout, RECV_READ_TIMEOUT);
    assert_eq!(
        encode(&RecvRead {
            client: 5,
            recv_id: Some(0)
        }),
        "AT+QMTRECV=5,0"
    );
    assert_eq!(
        encode(&RecvRead {
            client: 5,
            recv_id: Some(4)
        }),
        "AT+QMTRECV=5,4"
    );
    assert_eq!(
        refused_param(&RecvRead {
            client: 5,
            recv_id: Some(5)
        }),
        "recv_id"
    );
    assert_eq!(
        refused_param(&RecvRead {
            client: 6,
            recv_id: None
        }),
        "client_idx"
    );
    let message = Message {
        client: 0,
        msgid: 1,
        topic: "t".into(),
        payload: Bytes::from_static(b"{\"a\":1}"),
    };
    let response = Response {
        messages: vec![message.clone()],
        ..info(&["+QMTRECV: 0,2"])
    };
    assert_eq!(all.parse(response).unwrap(), vec![message]);
}
