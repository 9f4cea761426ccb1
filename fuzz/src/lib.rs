//! Helpers shared by the fuzz targets in `fuzz_targets/`. See `docs/fuzzing.md`.

use bytes::BytesMut;
use quectel_mqtt::decoder::{DecodeError, Decoder, Frame};
use serde_json::{json, Value};
use thing_model::{AgentLine, Downlink, Platform, PlatformError};

/// Chunk sizes from a seed: a xorshift sequence in `1..=max`, so a short header picks how a
/// stream is split, deterministically.
pub struct Chunker {
    state: u32,
    max: usize,
}

impl Chunker {
    pub fn new(seed: u8, max: usize) -> Self {
        Chunker {
            state: 0x9E37_79B9 ^ u32::from(seed).wrapping_mul(0x0101_0101),
            max: max.max(1),
        }
    }

    pub fn next_size(&mut self) -> usize {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        (x as usize % self.max) + 1
    }

    /// Splits `bytes` into consecutive pieces.
    pub fn split<'a>(&mut self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.next_size().min(rest.len());
            let (head, tail) = rest.split_at(n);
            out.push(head);
            rest = tail;
        }
        out
    }
}

/// What one `Decoder::decode` call produced (for comparing runs).
pub type Decoded = Result<Frame, DecodeError>;

/// Decodes everything `src` holds, checking the per-call invariants:
/// * a frame or an error always consumes input (so the loop ends: at most `len + 1` rounds);
/// * after `Ok(None)`, asking again without new bytes still gives `Ok(None)`;
/// * a `Line` is non-empty and holds no CR or LF; a `Message`'s client is 0–5.
///
/// `after_frame` runs after each frame, before the next call (to re-arm the prompt or echo
/// the way the session does); it must depend only on the frames seen so far.
pub fn drain(
    decoder: &mut Decoder,
    src: &mut BytesMut,
    out: &mut Vec<Decoded>,
    mut after_frame: impl FnMut(&mut Decoder, &Decoded),
) {
    let bound = src.len() + 2;
    for _ in 0..bound {
        let before = src.len();
        let got = decoder.decode(src);
        match got {
            Ok(None) => {
                let again = decoder.decode(src);
                assert!(
                    matches!(again, Ok(None)),
                    "decode gave {again:?} right after Ok(None) with no new input"
                );
                return;
            }
            Ok(Some(_)) | Err(_) => {
                assert!(
                    src.len() < before,
                    "decode returned {got:?} without consuming input ({before} bytes buffered)"
                );
                let got = got.map(|f| f.expect("Some"));
                if let Ok(frame) = &got {
                    check_frame(frame);
                }
                after_frame(decoder, &got);
                out.push(got);
            }
        }
    }
    panic!("decode did not settle within {bound} calls");
}

fn check_frame(frame: &Frame) {
    match frame {
        Frame::Line(line) => {
            assert!(!line.is_empty(), "empty Line frame");
            assert!(
                !line.contains(['\r', '\n']),
                "Line frame holds a line ending: {line:?}"
            );
        }
        Frame::Message(m) => assert!(m.client <= quectel_mqtt::MAX_CLIENT, "{m:?}"),
        Frame::Final(_) | Frame::Prompt => {}
    }
}

/// One downlink input: a topic (one of `topics`, or an arbitrary one) and payload bytes.
///
/// Layout: byte 0 picks the topic — values below 0xE0 index `topics`; from 0xE0 on, byte 1 is
/// a length `n` and the next `n` bytes (lossy UTF-8) are the topic. The rest is the payload.
pub fn split_downlink<'a>(data: &'a [u8], topics: &[String]) -> Option<(String, &'a [u8])> {
    let (&sel, rest) = data.split_first()?;
    if sel < 0xE0 && !topics.is_empty() {
        return Some((topics[usize::from(sel) % topics.len()].clone(), rest));
    }
    let (&n, rest) = rest.split_first()?;
    let n = usize::from(n).min(rest.len());
    let (topic, payload) = rest.split_at(n);
    Some((String::from_utf8_lossy(topic).into_owned(), payload))
}

fn assert_no_secret(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{what} reveals a secret: {text}");
    }
}

fn check_error(what: &str, e: &PlatformError, secrets: &[&str]) {
    assert_no_secret(what, &e.to_string(), secrets);
    assert_no_secret(what, &format!("{e:?}"), secrets);
}

/// Decodes one downlink and checks:
/// * no panic;
/// * when neither topic nor payload holds a secret, no error (Display or Debug) does;
/// * a decoded downlink becomes one app line (JSON, no raw line ending) that parses back;
/// * answering it (`{"reply": id, …}`) encodes without panicking, never reveals a secret in
///   an error, and publishes on a topic without wildcards or NUL.
pub fn check_downlink(platform: &dyn Platform, topic: &str, payload: &[u8], secrets: &[&str]) {
    let tainted = secrets
        .iter()
        .any(|s| topic.contains(s) || payload.windows(s.len()).any(|w| w == s.as_bytes()));
    let checked = if tainted { &[][..] } else { secrets };
    let downlink = match platform.decode(topic, payload) {
        Ok(Some(d)) => d,
        Ok(None) => return,
        Err(e) => {
            check_error("decode error", &e, checked);
            return;
        }
    };
    let line = AgentLine::Downlink(downlink.clone()).to_line();
    assert!(
        !line.contains(['\r', '\n']),
        "app line with a line ending: {line:?}"
    );
    let _: Value = serde_json::from_str(&line).expect("the app line is JSON");

    let reply = match &downlink {
        Downlink::Set { id, service, .. } => json!({"reply": id, "to": "set", "service": service}),
        Downlink::Get { id, service, .. } => {
            json!({"reply": id, "to": "get", "service": service, "data": {}})
        }
        Downlink::Call {
            id, name, service, ..
        } => json!({"reply": id, "to": "call", "name": name, "service": service}),
        _ => return,
    };
    let mut reply = reply;
    let obj = reply.as_object_mut().expect("object");
    obj.retain(|_, v| !v.is_null());
    obj.insert("code".into(), json!(200));
    let Ok(uplink) = thing_model::uplink_from_value(&reply) else {
        return;
    };
    match platform.encode(&uplink, 7) {
        Ok(p) => {
            if !topic.contains(['+', '#', '\0']) {
                assert!(
                    !p.topic.is_empty() && !p.topic.contains(['+', '#', '\0']),
                    "reply published on {:?}",
                    p.topic
                );
            }
        }
        Err(e) => check_error("reply encode error", &e, checked),
    }
}
