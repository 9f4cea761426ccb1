use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

/// Frames each line as the module does: `\r\n<line>\r\n`.
pub(crate) fn module(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("\r\n{l}\r\n").into_bytes())
        .collect()
}

fn decode_all(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Result<Frame, DecodeError>> {
    let mut src = BytesMut::from(bytes);
    let mut out = Vec::new();
    loop {
        match decoder.decode(&mut src) {
            Ok(Some(frame)) => out.push(Ok(frame)),
            Ok(None) => break,
            Err(e) => out.push(Err(e)),
        }
    }
    out
}

fn frames(bytes: &[u8]) -> Vec<Frame> {
    decode_all(&mut Decoder::new(), bytes)
        .into_iter()
        .map(|f| f.expect("no decode error"))
        .collect()
}

fn line(s: &str) -> Frame {
    Frame::Line(s.to_owned())
}

fn ok() -> Frame {
    Frame::Final(FinalCode::Ok)
}

fn msg(client: u8, msgid: u16, topic: &str, payload: &[u8]) -> Frame {
    Frame::Message(Message {
        client,
        msgid,
        topic: topic.into(),
        payload: Bytes::copy_from_slice(payload),
    })
}

#[test]
fn guide_5_1_module_side_decodes_as_the_guide_shows() {
    // The module's side of the guide's §5.1 transcript, echo off.
    let mut bytes = module(&[
        "OK",
        "OK",
        "+QMTOPEN: (0-5),\"hostname\",(1-65535)",
        "OK",
        "OK",
        "+QMTOPEN: 0,0",
    ]);
    bytes.extend(module(&[
        "+QMTOPEN: 0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883",
        "OK",
    ]));
    bytes.extend(module(&["OK", "+QMTCONN: 0,0,0", "OK", "+QMTSUB: 0,1,0,2"]));
    bytes.extend(
        b"\r\n+QMTRECV: 0,0, \"topic/example\",36,\"This is the payload related to topic\"\r\n",
    );
    bytes.extend(module(&["OK", "+QMTUNS: 0,2,0"]));
    bytes.extend(b"\r\n> ");
    bytes.extend(module(&["OK", "+QMTPUBEX: 0,0,0"]));
    bytes.extend(b"\r\n+QMTRECV: 0,0,\"topic/pub\",30,This is test data, hello MQTT.\r\n");
    bytes.extend(module(&["OK", "+QMTDISC: 0,0"]));

    let mut decoder = Decoder::new();
    let mut src = BytesMut::from(&bytes[..]);
    let mut got = Vec::new();
    while let Some(frame) = decoder.decode(&mut src).unwrap() {
        // The session arms the prompt while AT+QMTPUBEX is in flight; do the same here.
        if frame == line("+QMTUNS: 0,2,0") {
            decoder.expect_prompt(true);
        }
        got.push(frame);
    }
    assert_eq!(
        got,
        vec![
            ok(),
            ok(),
            line("+QMTOPEN: (0-5),\"hostname\",(1-65535)"),
            ok(),
            ok(),
            line("+QMTOPEN: 0,0"),
            line("+QMTOPEN: 0,\"iot-as-mqtt.cn-shanghai.aliyuncs.com\",1883"),
            ok(),
            ok(),
            line("+QMTCONN: 0,0,0"),
            ok(),
            line("+QMTSUB: 0,1,0,2"),
            msg(
                0,
                0,
                "topic/example",
                b"This is the payload related to topic"
            ),
            ok(),
            line("+QMTUNS: 0,2,0"),
            Frame::Prompt,
            ok(),
            line("+QMTPUBEX: 0,0,0"),
            msg(0, 0, "topic/pub", b"This is test data, hello MQTT."),
            ok(),
            line("+QMTDISC: 0,0"),
        ]
    );
    assert!(src.is_empty());
}

#[test]
fn guide_5_2_upload_and_ssl_replies() {
    let mut bytes = module(&["OK", "OK", "CONNECT"]);
    bytes.extend(module(&["+QFUPL: 1758,384a", "OK"]));
    assert_eq!(
        frames(&bytes),
        vec![ok(), ok(), line("CONNECT"), line("+QFUPL: 1758,384a"), ok()]
    );
    let quoted = b"\r\n+QMTRECV: 0,1,\"$aws/things/M26_0206/shadow/update/accepted\",32,\"This is publish data from client\"\r\n";
    assert_eq!(
        frames(quoted),
        vec![msg(
            0,
            1,
            "$aws/things/M26_0206/shadow/update/accepted",
            b"This is publish data from client"
        )]
    );
}

#[test]
fn payload_by_length_keeps_crlf_quotes_and_commas() {
    let payload = "{\"a\":\"x,y\",\r\n\"b\":\"OK\"}\r\nERROR";
    let text = format!(
        "\r\n+QMTRECV: 3,7,\"dev/down\",{},\"{payload}\"\r\n\r\nOK\r\n",
        payload.len()
    );
    assert_eq!(
        frames(text.as_bytes()),
        vec![msg(3, 7, "dev/down", payload.as_bytes()), ok()]
    );
    // The same, unquoted.
    let text = format!(
        "\r\n+QMTRECV: 3,7,\"dev/down\",{},{payload}\r\n",
        payload.len()
    );
    assert_eq!(
        frames(text.as_bytes()),
        vec![msg(3, 7, "dev/down", payload.as_bytes())]
    );
}

#[test]
fn length_counts_utf8_bytes() {
    let text = "\r\n+QMTRECV: 0,0,\"t\",6,\"測試\"\r\n";
    assert_eq!(
        frames(text.as_bytes()),
        vec![msg(0, 0, "t", "測試".as_bytes())]
    );
}

#[test]
fn payload_starting_with_a_quote_unquoted_by_length() {
    let text = b"\r\n+QMTRECV: 0,0,\"t\",3,\"a\"\r\n";
    // 3 bytes `"a"` unquoted (a CR LF right after them) wins over the quoted reading.
    assert_eq!(frames(text), vec![msg(0, 0, "t", b"\"a\"")]);
}

#[test]
fn split_form_length_then_payload_on_next_line() {
    let text = b"\r\n+QMTRECV: 0,0,\"topic\",5\r\nhello\r\n";
    assert_eq!(frames(text), vec![msg(0, 0, "topic", b"hello")]);
}

#[test]
fn no_length_forms() {
    // Seed §5.1 and real modules without msg_len_enable.
    assert_eq!(
        frames(b"\r\n+QMTRECV: 0,0,\"qf4dcfae.eu-central-1.emqx.cloud\",\"hello GPS-4G-HAT shield\"\r\n"),
        vec![msg(0, 0, "qf4dcfae.eu-central-1.emqx.cloud", b"hello GPS-4G-HAT shield")]
    );
    // JSON with unescaped quotes (BG96 log).
    assert_eq!(
        frames(b"\r\n+QMTRECV: 0,1,\"$aws/x\",\"{\"state\":{\"a\":\"1\"}}\"\r\n"),
        vec![msg(0, 1, "$aws/x", b"{\"state\":{\"a\":\"1\"}}")]
    );
    // A quoted payload holding CR LF: the closing quote is alone on the next line (BG95 log).
    assert_eq!(
        frames(b"\r\n+QMTRECV: 0,1,\"main_topic\",\"AT+QMTPUBEX=0,1\r\n\"\r\n\r\nOK\r\n"),
        vec![msg(0, 1, "main_topic", b"AT+QMTPUBEX=0,1\r\n"), ok()]
    );
    // Unquoted topic and payload (M95).
    assert_eq!(
        frames(b"\r\n+QMTRECV: 0,1,test,M95 Hello World\r\n"),
        vec![msg(0, 1, "test", b"M95 Hello World")]
    );
}

#[test]
fn explicit_without_length_does_not_read_a_number_as_length() {
    let mut decoder = Decoder::new();
    decoder.set_recv_framing(0, RecvFraming::WithoutLength);
    let got = decode_all(&mut decoder, b"\r\n+QMTRECV: 0,0,\"t\",12,34\r\n");
    assert_eq!(got, vec![Ok(msg(0, 0, "t", b"12,34"))]);
}

#[test]
fn buffered_and_query_forms_are_lines() {
    assert_eq!(
        frames(b"\r\n+QMTRECV: 0,1\r\n\r\n+QMTRECV: 0,1,0,0,0,0\r\n\r\nOK\r\n"),
        vec![line("+QMTRECV: 0,1"), line("+QMTRECV: 0,1,0,0,0,0"), ok()]
    );
}

#[test]
fn final_codes() {
    assert_eq!(
        frames(b"\r\nERROR\r\n\r\n+CME ERROR: 10\r\n\r\n+CME ERROR: SIM not inserted\r\n"),
        vec![
            Frame::Final(FinalCode::Error),
            Frame::Final(FinalCode::CmeError("10".into())),
            Frame::Final(FinalCode::CmeError("SIM not inserted".into())),
        ]
    );
}

#[test]
fn prompt_only_when_expected() {
    assert_eq!(
        frames(b"\r\n> quoted text\r\n"),
        vec![line("> quoted text")]
    );
    let mut decoder = Decoder::new();
    decoder.expect_prompt(true);
    let got = decode_all(&mut decoder, b"\r\n> \r\nOK\r\n");
    assert_eq!(got, vec![Ok(Frame::Prompt), Ok(ok())]);
    // Without the trailing space too, and split between chunks.
    let mut decoder = Decoder::new();
    decoder.expect_prompt(true);
    let mut src = BytesMut::from(&b"\r\n>"[..]);
    assert_eq!(decoder.decode(&mut src), Ok(Some(Frame::Prompt)));
    src.extend_from_slice(b" ");
    assert_eq!(decoder.decode(&mut src), Ok(None));
    src.extend_from_slice(b"\r\nOK\r\n");
    assert_eq!(decoder.decode(&mut src), Ok(Some(ok())));
}

#[test]
fn echo_on_framing() {
    // "AT" <echoed CR> <CR><LF> "OK" <CR><LF> (BG770A log), then a payload echo.
    let mut decoder = Decoder::new();
    let got = decode_all(
        &mut decoder,
        b"AT\r\r\nOK\r\nAT+QMTPUBEX=0,1,1,0,\"t\",5\r\r\n> ",
    );
    // The prompt is not armed here, so `> ` is an unfinished line: nothing more yet.
    assert_eq!(
        got,
        vec![
            Ok(line("AT")),
            Ok(ok()),
            Ok(line("AT+QMTPUBEX=0,1,1,0,\"t\",5"))
        ]
    );

    let mut decoder = Decoder::new();
    decoder.expect_prompt(true);
    let mut src = BytesMut::from(&b"\r\n> "[..]);
    assert_eq!(decoder.decode(&mut src), Ok(Some(Frame::Prompt)));
    decoder.expect_echo(Bytes::from_static(b"OK\r\n+QMTSTAT: 0,1"));
    src.extend_from_slice(b"OK\r\n+QMT");
    assert_eq!(decoder.decode(&mut src), Ok(None));
    src.extend_from_slice(b"STAT: 0,1\r\nOK\r\n\r\n+QMTPUBEX: 0,1,0\r\n");
    assert_eq!(decoder.decode(&mut src), Ok(Some(ok())));
    assert_eq!(decoder.decode(&mut src), Ok(Some(line("+QMTPUBEX: 0,1,0"))));
}

#[test]
fn payload_that_begins_like_the_reply_is_not_taken_for_its_echo() {
    // Echo expected, but this module does not echo data: its OK begins like the payload.
    let reply = b"\r\nOK\r\n\r\n+QMTPUBEX: 1,2,0\r\n";
    for split in 0..=reply.len() {
        let mut decoder = Decoder::new();
        decoder.expect_echo(Bytes::from_static(b"\r\nOK\r\n\r\n+QMTSTAT: 1,1"));
        let mut src = BytesMut::from(&reply[..split]);
        let mut got = Vec::new();
        while let Ok(Some(f)) = decoder.decode(&mut src) {
            got.push(f);
        }
        src.extend_from_slice(&reply[split..]);
        while let Ok(Some(f)) = decoder.decode(&mut src) {
            got.push(f);
        }
        assert_eq!(
            got,
            vec![ok(), line("+QMTPUBEX: 1,2,0")],
            "split at {split}"
        );
    }
}

#[test]
fn echo_expectation_dropped_when_module_does_not_echo() {
    let mut decoder = Decoder::new();
    decoder.expect_echo(Bytes::from_static(b"hello"));
    assert_eq!(decode_all(&mut decoder, b"\r\nOK\r\n"), vec![Ok(ok())]);
}

#[test]
fn overlong_line_errors_then_resynchronises() {
    let mut decoder = Decoder::with_max_frame(64);
    let mut bytes = vec![b'x'; 200];
    bytes.extend(b"\r\nOK\r\n");
    let got = decode_all(&mut decoder, &bytes);
    assert_eq!(
        got,
        vec![Err(DecodeError::FrameTooLong { limit: 64 }), Ok(ok())]
    );
    // The same when the long line arrives in pieces.
    let mut decoder = Decoder::with_max_frame(64);
    let mut src = BytesMut::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(7) {
        src.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut src) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => out.push(Err(e)),
            }
        }
    }
    assert_eq!(
        out,
        vec![Err(DecodeError::FrameTooLong { limit: 64 }), Ok(ok())]
    );
}

#[test]
fn unterminated_quoted_payload_is_bounded() {
    let mut decoder = Decoder::with_max_frame(64);
    decoder.set_recv_framing(0, RecvFraming::WithoutLength);
    let mut bytes = b"\r\n+QMTRECV: 0,0,\"t\",\"never closed\r\n".to_vec();
    bytes.extend(module(&["OK"; 20]));
    let got = decode_all(&mut decoder, &bytes);
    assert_eq!(got[0], Ok(msg(0, 0, "t", b"\"never closed")));
    assert_eq!(got.len(), 21);
}

#[test]
fn real_at_logs_decode_without_errors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/at-logs");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("shared/at-logs beside the repository") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            let bytes = std::fs::read(&path).unwrap();
            let got = decode_all(&mut Decoder::new(), &bytes);
            assert!(got.iter().all(|f| f.is_ok()), "{}", path.display());
            // Every OK in the log is a frame: nothing swallowed.
            let oks = got.iter().filter(|f| **f == Ok(ok())).count();
            assert!(
                oks > 0 || !String::from_utf8_lossy(&bytes).contains("\nOK"),
                "{}",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count >= 5, "expected the shared AT logs, found {count}");
}

/// Streams built from frames the module really sends, with random payloads.
fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(module(&["OK"])),
        Just(module(&["ERROR"])),
        Just(module(&["+QMTSTAT: 0,1"])),
        Just(module(&["+QMTPUBEX: 0,3,0"])),
        Just(module(&["+QMTRECV: 1,2"])),
        Just(module(&["+CME ERROR: 3"])),
        (
            0u8..6,
            any::<u16>(),
            "[a-z/]{1,20}",
            proptest::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(c, id, topic, payload)| {
                let mut v =
                    format!("\r\n+QMTRECV: {c},{id},\"{topic}\",{},\"", payload.len()).into_bytes();
                v.extend(&payload);
                v.extend(b"\"\r\n");
                v
            }),
    ];
    proptest::collection::vec(piece, 1..20).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), prompt in any::<bool>()) {
        let mut decoder = Decoder::with_max_frame(256);
        decoder.expect_prompt(prompt);
        let mut src = BytesMut::from(&bytes[..]);
        for _ in 0..bytes.len() + 2 {
            if let Ok(None) = decoder.decode(&mut src) {
                break;
            }
        }
    }

    #[test]
    fn any_split_yields_the_same_frames(bytes in stream_strategy(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let whole = decode_all(&mut Decoder::new(), &bytes);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        points.push(bytes.len());
        let mut decoder = Decoder::new();
        let mut src = BytesMut::new();
        let mut got = Vec::new();
        let mut last = 0;
        for p in points {
            src.extend_from_slice(&bytes[last..p]);
            last = p;
            loop {
                match decoder.decode(&mut src) {
                    Ok(Some(f)) => got.push(Ok(f)),
                    Ok(None) => break,
                    Err(e) => got.push(Err(e)),
                }
            }
        }
        prop_assert_eq!(got, whole);
    }
}
