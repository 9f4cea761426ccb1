//! One `+QMTRECV` URC built from structured input, then arbitrary trailing bytes.
//!
//! The line is `+QMTRECV: <idx>,<msgid>,<topic>[,<len>],<payload>` CR LF with the topic
//! quoted or not, the payload quoted or not (any bytes: CR, LF, quotes, commas), with a
//! length, in the split form `<len>` CR LF `<payload>`, or without a length; optional spaces
//! where the decoder allows them; optionally after other frames.
//!
//! Invariants (fed whole, and in chunks: both must agree):
//! * with a length, and `WithLength` or `Auto` framing: the message decodes with exactly the
//!   client, msgid, topic and payload that were written, whatever the payload holds;
//! * without a length, and `WithoutLength` framing (or `Auto` when the payload cannot start
//!   a length): the same, when the payload is unambiguous as the guide's format leaves it
//!   (unquoted: no CR or LF and no leading quote; quoted: no `"` CR LF inside, and no quote
//!   right before the payload's first CR or LF).
#![no_main]

use bytes::BytesMut;
use cellagent_fuzz::{drain, Chunker, Decoded};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use quectel_mqtt::decoder::{Decoder, Frame, RecvFraming};
use quectel_mqtt::Message;

#[derive(Debug, Arbitrary)]
enum Form {
    /// `…,<len>,<payload>`
    Length,
    /// `…,<len>` CR LF `<payload>`
    Split,
    /// `…,<payload>`
    NoLength,
}

#[derive(Debug, Arbitrary)]
enum Framing {
    Auto,
    WithLength,
    WithoutLength,
}

#[derive(Debug, Arbitrary)]
struct Input {
    client: u8,
    msgid: u16,
    topic: String,
    quoted_topic: bool,
    payload: Vec<u8>,
    quoted_payload: bool,
    form: Form,
    framing: Framing,
    /// Frames before the message: 0 none, 1 `\r\n` only, 2 `\r\nOK\r\n\r\n`, 3 a URC.
    lead: u8,
    /// Bit 0: no space after the colon; bits 1–3: spaces around idx/msgid commas and before
    /// the topic.
    spaces: u8,
    chunk_seed: u8,
    max_chunk: u8,
    trailing: Vec<u8>,
}

fn sp(on: bool) -> &'static [u8] {
    if on {
        b" "
    } else {
        b""
    }
}

fuzz_target!(|input: Input| {
    let client = input.client % (quectel_mqtt::MAX_CLIENT + 1);
    // Topics as the module prints them: a quoted topic holds no `"`, CR or LF; an unquoted
    // one no comma either, and does not start with a digit, a quote or a space.
    let mut topic: String = input
        .topic
        .chars()
        .filter(|c| !matches!(c, '"' | '\r' | '\n'))
        .collect();
    if !input.quoted_topic {
        topic.retain(|c| c != ',');
        topic = topic
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
            .to_owned();
    }
    let payload = &input.payload;

    let mut line: Vec<u8> = match input.lead % 4 {
        0 => Vec::new(),
        1 => b"\r\n".to_vec(),
        2 => b"\r\nOK\r\n\r\n".to_vec(),
        _ => b"\r\n+QMTSTAT: 0,1\r\n\r\n".to_vec(),
    };
    let lead_frames = match input.lead % 4 {
        0 | 1 => 0,
        _ => 1,
    };
    line.extend_from_slice(b"+QMTRECV:");
    line.extend_from_slice(sp(input.spaces & 1 == 0));
    line.extend_from_slice(format!("{client}").as_bytes());
    line.extend_from_slice(sp(input.spaces & 2 != 0));
    line.push(b',');
    line.extend_from_slice(sp(input.spaces & 4 != 0));
    line.extend_from_slice(format!("{}", input.msgid).as_bytes());
    line.push(b',');
    line.extend_from_slice(sp(input.spaces & 8 != 0));
    if input.quoted_topic {
        line.push(b'"');
        line.extend_from_slice(topic.as_bytes());
        line.push(b'"');
    } else {
        line.extend_from_slice(topic.as_bytes());
    }
    line.push(b',');
    let with_length = match input.form {
        Form::Length => {
            line.extend_from_slice(format!("{},", payload.len()).as_bytes());
            true
        }
        Form::Split => {
            line.extend_from_slice(format!("{}\r\n", payload.len()).as_bytes());
            true
        }
        Form::NoLength => false,
    };
    if input.quoted_payload {
        line.push(b'"');
        line.extend_from_slice(payload);
        line.push(b'"');
    } else {
        line.extend_from_slice(payload);
    }
    line.extend_from_slice(b"\r\n");
    line.extend_from_slice(&input.trailing);

    let framing = match input.framing {
        Framing::Auto => RecvFraming::Auto,
        Framing::WithLength => RecvFraming::WithLength,
        Framing::WithoutLength => RecvFraming::WithoutLength,
    };
    let unambiguous_without_length = if input.quoted_payload {
        // The line ends at the first CR or LF; when a quote stands right before it, that is
        // taken as the closing quote; otherwise the payload runs to the first `"` CR LF.
        let first_eol = payload.iter().position(|b| *b == b'\r' || *b == b'\n');
        let quote_before_eol = first_eol.is_some_and(|i| i >= 1 && payload[i - 1] == b'"');
        !quote_before_eol && !payload.windows(3).any(|w| w == b"\"\r\n")
    } else {
        !payload.contains(&b'\r') && !payload.contains(&b'\n') && payload.first() != Some(&b'"')
    };
    let expect_exact = match (with_length, framing) {
        (true, RecvFraming::WithLength | RecvFraming::Auto) => true,
        (false, RecvFraming::WithoutLength) => unambiguous_without_length,
        // `Auto` reads a leading number as a length when the bytes after it confirm it.
        (false, RecvFraming::Auto) => {
            unambiguous_without_length && !payload.first().is_some_and(u8::is_ascii_digit)
        }
        _ => false,
    };

    let decode = |pieces: &[&[u8]]| -> Vec<Decoded> {
        let mut d = Decoder::new();
        d.set_recv_framing(client, framing);
        let mut src = BytesMut::new();
        let mut out = Vec::new();
        for p in pieces {
            src.extend_from_slice(p);
            drain(&mut d, &mut src, &mut out, |_, _| {});
        }
        out
    };
    let whole = decode(&[&line]);
    let pieces = Chunker::new(input.chunk_seed, usize::from(input.max_chunk % 64) + 1).split(&line);
    let chunked = decode(&pieces);
    if line.len() <= quectel_mqtt::decoder::DEFAULT_MAX_FRAME {
        assert_eq!(whole, chunked, "whole and chunked decoding differ");
    }
    if expect_exact && line.len() <= quectel_mqtt::decoder::DEFAULT_MAX_FRAME {
        let want = Frame::Message(Message {
            client,
            msgid: input.msgid,
            topic: topic.clone(),
            payload: bytes::Bytes::copy_from_slice(payload),
        });
        assert_eq!(
            whole.get(lead_frames),
            Some(&Ok(want)),
            "line {:?}",
            String::from_utf8_lossy(&line)
        );
    }
});
