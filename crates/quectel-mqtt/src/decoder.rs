//! A streaming decoder from module bytes to [`Frame`]s. Sans-IO: feed it a `BytesMut` that
//! the caller fills from the port, in pieces of any size.
//!
//! What makes the module's output more than lines:
//! * the `>` data prompt has no line ending (real modules send `\r\n> `);
//! * `+QMTRECV` payloads may hold CR, LF, commas and quotes, so they are read by their
//!   `<payload_len>` (in UTF-8 bytes) when `recv/mode` has `msg_len_enable=1`, and payloads may
//!   be quoted or not (the guide shows both);
//! * with echo on, the command line comes back terminated by a bare CR, and the payload
//!   written after the prompt comes back too.
//!
//! Any one frame is bounded ([`Decoder::with_max_frame`]); a longer one yields
//! [`DecodeError::FrameTooLong`] and the decoder resynchronises at the next line ending.
//! Unknown lines become [`Frame::Line`]: nothing the module sends stops the decoder, and no
//! input makes it panic (property-tested).

use bytes::{Buf, Bytes, BytesMut};

use crate::urc::Message;

/// The default bound on one frame: a 1500-byte payload in hex is 3000 bytes, plus a topic.
pub const DEFAULT_MAX_FRAME: usize = 8 * 1024;

const RECV_PREFIX: &[u8] = b"+QMTRECV:";

/// One unit of module output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A final result code: the end of a command's response.
    Final(FinalCode),
    /// Any other line, without its line ending: information responses, URCs, command echo.
    Line(String),
    /// The `>` prompt: the module waits for the data of `AT+QMTPUBEX` or `"willex"`.
    Prompt,
    /// `+QMTRECV: <idx>,<msgid>,<topic>[,<len>],<payload>`, framed by length where present.
    Message(Message),
}

/// Final result codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalCode {
    Ok,
    Error,
    /// `+CME ERROR: <err>`: a number, or text after `AT+CMEE=2`.
    CmeError(String),
}

/// A frame that could not be decoded. The decoder has already resynchronised: keep calling
/// [`Decoder::decode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("a line from the module exceeded {limit} bytes; skipped to the next line")]
    FrameTooLong { limit: usize },
}

/// How `+QMTRECV` messages of a client are framed: `AT+QMTCFG="recv/mode"`'s `msg_len_enable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvFraming {
    /// Not configured by us: take a length when the bytes after it confirm it (closing quote
    /// and line ending exactly where the length says), otherwise read to the end of the line.
    Auto,
    /// `msg_len_enable=1`: always read `<payload_len>` bytes.
    WithLength,
    /// `msg_len_enable=0`: the payload runs to the end of the line (or to the closing quote
    /// followed by a line ending, for quoted payloads that hold CR LF).
    WithoutLength,
}

/// The decoder. See the module documentation.
#[derive(Debug)]
pub struct Decoder {
    max_frame: usize,
    framing: [RecvFraming; crate::MAX_CLIENT as usize + 1],
    expect_prompt: bool,
    skip_prompt_space: bool,
    echo: Option<Bytes>,
    discarding: bool,
    /// Where to resume the search for a line ending in a partial line (keeps long lines linear).
    scanned: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

enum MessageScan {
    NotMessage,
    NeedMore,
    Done(Message, usize),
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// A decoder that refuses frames longer than `max_frame` bytes (at least 64).
    pub fn with_max_frame(max_frame: usize) -> Self {
        Decoder {
            max_frame: max_frame.max(64),
            framing: [RecvFraming::Auto; crate::MAX_CLIENT as usize + 1],
            expect_prompt: false,
            skip_prompt_space: false,
            echo: None,
            discarding: false,
            scanned: 0,
        }
    }

    /// Sets how `+QMTRECV` messages of `client` are framed.
    pub fn set_recv_framing(&mut self, client: u8, framing: RecvFraming) {
        if let Some(slot) = self.framing.get_mut(usize::from(client)) {
            *slot = framing;
        }
    }

    pub fn recv_framing(&self, client: u8) -> RecvFraming {
        self.framing
            .get(usize::from(client))
            .copied()
            .unwrap_or(RecvFraming::Auto)
    }

    /// Whether a `>` at the start of a line is the data prompt. Only true while a command that
    /// asks for data is in flight, so a payload line starting with `>` is never taken for one.
    pub fn expect_prompt(&mut self, on: bool) {
        self.expect_prompt = on;
    }

    /// The module will echo these bytes (the data written after the prompt, with echo on):
    /// skip them when they come back.
    pub fn expect_echo(&mut self, data: Bytes) {
        self.echo = (!data.is_empty()).then_some(data);
    }

    /// Decodes the next frame from the front of `src`, consuming its bytes. `Ok(None)` means
    /// more bytes are needed.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if self.discarding {
            match src.iter().position(|b| *b == b'\r' || *b == b'\n') {
                Some(end) => {
                    src.advance(end);
                    self.discarding = false;
                }
                None => {
                    src.clear();
                    return Ok(None);
                }
            }
        }
        if self.skip_prompt_space {
            match src.first() {
                None => return Ok(None),
                Some(b' ') => {
                    src.advance(1);
                    self.skip_prompt_space = false;
                }
                Some(_) => self.skip_prompt_space = false,
            }
        }
        if !self.skip_echo(src) {
            return Ok(None);
        }
        let blank = src
            .iter()
            .take_while(|b| **b == b'\r' || **b == b'\n')
            .count();
        if blank > 0 {
            src.advance(blank);
            self.scanned = 0;
        }
        let Some(&first) = src.first() else {
            return Ok(None);
        };
        if first == b'>' && self.expect_prompt {
            src.advance(1);
            self.expect_prompt = false;
            self.skip_prompt_space = true;
            self.scanned = 0;
            return Ok(Some(Frame::Prompt));
        }
        if first == b'+' {
            let n = src.len().min(RECV_PREFIX.len());
            if src[..n] == RECV_PREFIX[..n] {
                if n < RECV_PREFIX.len() {
                    return Ok(None);
                }
                match self.scan_message(src) {
                    MessageScan::Done(message, used) => {
                        src.advance(used);
                        self.scanned = 0;
                        return Ok(Some(Frame::Message(message)));
                    }
                    MessageScan::NeedMore if src.len() <= self.max_frame => return Ok(None),
                    // Too long to be a message by length: fall back to the line form.
                    MessageScan::NeedMore | MessageScan::NotMessage => {}
                }
            }
        }
        self.decode_line(src)
    }

    /// Consumes the expected echo from the front of `src`, all of it or nothing: a module
    /// that does not echo data may answer with bytes that begin like the payload (a payload
    /// starting with `\r\nOK`), so nothing is taken until the whole echo has arrived and
    /// matched. False when more bytes are needed to decide.
    fn skip_echo(&mut self, src: &mut BytesMut) -> bool {
        let Some(data) = &self.echo else {
            return true;
        };
        let n = data.len().min(src.len());
        if src[..n] != data[..n] {
            // The module is not echoing (or something came first): forget the expectation.
            self.echo = None;
            return true;
        }
        if n < data.len() {
            return false;
        }
        src.advance(n);
        self.echo = None;
        true
    }

    fn decode_line(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let from = self.scanned.min(src.len());
        let Some(end) = src[from..]
            .iter()
            .position(|b| *b == b'\r' || *b == b'\n')
            .map(|p| p + from)
        else {
            if src.len() > self.max_frame {
                src.clear();
                self.discarding = true;
                self.scanned = 0;
                return Err(DecodeError::FrameTooLong {
                    limit: self.max_frame,
                });
            }
            self.scanned = src.len();
            return Ok(None);
        };
        self.scanned = 0;
        if end > self.max_frame {
            src.advance(end);
            return Err(DecodeError::FrameTooLong {
                limit: self.max_frame,
            });
        }
        let line = src.split_to(end);
        Ok(Some(classify(&line)))
    }

    /// Frames `+QMTRECV: <idx>,<msgid>,<topic>[,<len>],<payload>` at the front of `src`.
    fn scan_message(&self, src: &[u8]) -> MessageScan {
        let mut cur = Cursor {
            buf: src,
            pos: RECV_PREFIX.len(),
        };
        let Some(client) = cur.int() else {
            return cur.incomplete_or_not();
        };
        let Ok(client) = u8::try_from(client) else {
            return MessageScan::NotMessage;
        };
        if client > crate::MAX_CLIENT || !cur.comma() {
            return cur.incomplete_or_not();
        }
        let Some(msgid) = cur.int() else {
            return cur.incomplete_or_not();
        };
        let Ok(msgid) = u16::try_from(msgid) else {
            return MessageScan::NotMessage;
        };
        if !cur.comma() {
            // `+QMTRECV: <idx>,<recv_id>`: a line.
            return cur.incomplete_or_not();
        }
        cur.spaces();
        let topic = match cur.peek() {
            None => return MessageScan::NeedMore,
            Some(b'"') => {
                cur.pos += 1;
                match cur.until(|b| b == b'"' || b == b'\r' || b == b'\n') {
                    None => return MessageScan::NeedMore,
                    Some((topic, b'"')) => topic,
                    Some(_) => return MessageScan::NotMessage,
                }
            }
            // A number here means `AT+QMTRECV?`'s slot flags: a line.
            Some(b) if b.is_ascii_digit() => return MessageScan::NotMessage,
            Some(_) => match cur.until(|b| b == b',' || b == b'\r' || b == b'\n') {
                None => return MessageScan::NeedMore,
                Some((topic, b',')) => {
                    cur.pos -= 1;
                    topic
                }
                Some(_) => return MessageScan::NotMessage,
            },
        };
        let topic = String::from_utf8_lossy(topic).into_owned();
        cur.spaces();
        match cur.peek() {
            None => return MessageScan::NeedMore,
            Some(b',') => cur.pos += 1,
            Some(_) => return MessageScan::NotMessage,
        }
        let start = cur.pos;
        let framing = self.recv_framing(client);
        if framing != RecvFraming::WithoutLength {
            match by_length(src, start) {
                LengthScan::Done(payload, used) => {
                    return MessageScan::Done(
                        Message {
                            client,
                            msgid,
                            topic,
                            payload: Bytes::copy_from_slice(payload),
                        },
                        used,
                    )
                }
                LengthScan::NeedMore => return MessageScan::NeedMore,
                LengthScan::NoLength => {}
            }
        }
        match to_line_end(src, start) {
            Some((payload, used)) => MessageScan::Done(
                Message {
                    client,
                    msgid,
                    topic,
                    payload: Bytes::copy_from_slice(payload),
                },
                used,
            ),
            None if src.len() > self.max_frame => {
                // An opening quote never closed: take the first line as the payload.
                let end = src[start..]
                    .iter()
                    .position(|b| *b == b'\r' || *b == b'\n')
                    .map(|p| p + start);
                match end {
                    Some(end) => MessageScan::Done(
                        Message {
                            client,
                            msgid,
                            topic,
                            payload: Bytes::copy_from_slice(&src[start..end]),
                        },
                        end,
                    ),
                    None => MessageScan::NotMessage,
                }
            }
            None => MessageScan::NeedMore,
        }
    }
}

enum LengthScan<'a> {
    Done(&'a [u8], usize),
    NeedMore,
    NoLength,
}

/// `<len>,<payload>` (quoted or not) or `<len>` CR LF `<payload>` (a split form seen on some
/// firmware), confirmed by the line ending (and closing quote) exactly where the length says.
fn by_length(src: &[u8], start: usize) -> LengthScan<'_> {
    let digits = src[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 5 {
        return LengthScan::NoLength;
    }
    let Some(&sep) = src.get(start + digits) else {
        return LengthScan::NeedMore;
    };
    let Ok(len) = std::str::from_utf8(&src[start..start + digits])
        .unwrap_or("x")
        .parse::<usize>()
    else {
        return LengthScan::NoLength;
    };
    let payload_start = match sep {
        b',' => start + digits + 1,
        b'\r' => match src.get(start + digits + 1) {
            None => return LengthScan::NeedMore,
            Some(b'\n') => start + digits + 2,
            Some(_) => return LengthScan::NoLength,
        },
        _ => return LengthScan::NoLength,
    };
    let ps = payload_start;
    // Unquoted: exactly `len` bytes, then CR LF.
    match src.get(ps + len..ps + len + 2) {
        Some(b"\r\n") => return LengthScan::Done(&src[ps..ps + len], ps + len + 2),
        Some(_) => {}
        None => return LengthScan::NeedMore,
    }
    // Quoted: `"`, `len` bytes, `"`, then CR LF.
    if src[ps] == b'"' {
        match src.get(ps + len + 1..ps + len + 4) {
            Some([b'"', b'\r', b'\n']) => {
                return LengthScan::Done(&src[ps + 1..ps + 1 + len], ps + len + 4)
            }
            Some(_) => {}
            None => return LengthScan::NeedMore,
        }
    }
    LengthScan::NoLength
}

/// The payload of a message without a length: to the end of the line, without its quotes;
/// a quoted payload whose line does not end in a quote runs on to the first `"` CR LF.
fn to_line_end(src: &[u8], start: usize) -> Option<(&[u8], usize)> {
    let rest = &src[start..];
    let end = rest.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    let quoted = rest.first() == Some(&b'"');
    if !quoted {
        return Some((&rest[..end], start + end));
    }
    if end >= 2 && rest[end - 1] == b'"' {
        return Some((&rest[1..end - 1], start + end));
    }
    let close = rest[1..].windows(3).position(|w| w == b"\"\r\n")? + 1;
    Some((&rest[1..close], start + close + 1))
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn int(&mut self) -> Option<i64> {
        self.spaces();
        let digits = self.buf[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 6 || self.pos + digits >= self.buf.len() {
            return None;
        }
        let value = std::str::from_utf8(&self.buf[self.pos..self.pos + digits])
            .ok()?
            .parse()
            .ok()?;
        self.pos += digits;
        Some(value)
    }

    fn comma(&mut self) -> bool {
        self.spaces();
        if self.peek() == Some(b',') {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Bytes up to the first byte matching `stop`, and that byte; the cursor moves past it.
    fn until(&mut self, stop: impl Fn(u8) -> bool) -> Option<(&'a [u8], u8)> {
        let start = self.pos;
        let end = self.buf[start..].iter().position(|b| stop(*b))? + start;
        self.pos = end + 1;
        Some((&self.buf[start..end], self.buf[end]))
    }

    /// Running out of bytes means "wait"; anything else means "not a message".
    fn incomplete_or_not(&self) -> MessageScan {
        let rest = &self.buf[self.pos.min(self.buf.len())..];
        if rest
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b' ' || *b == b',' || *b == b'-')
        {
            MessageScan::NeedMore
        } else {
            MessageScan::NotMessage
        }
    }
}

fn classify(line: &[u8]) -> Frame {
    match line {
        b"OK" => Frame::Final(FinalCode::Ok),
        b"ERROR" => Frame::Final(FinalCode::Error),
        _ => {
            let text = String::from_utf8_lossy(line);
            if let Some(detail) = text.strip_prefix("+CME ERROR:") {
                Frame::Final(FinalCode::CmeError(detail.trim().to_owned()))
            } else {
                Frame::Line(text.into_owned())
            }
        }
    }
}

#[cfg(test)]
#[path = "decoder_tests.rs"]
pub(crate) mod tests;
