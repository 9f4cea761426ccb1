//! The last few hundred lines of the AT conversation, kept so that a field failure can be
//! understood afterwards, with every secret masked at the moment it is recorded.
//!
//! What is never kept: the parameters of a command marked secret (`AT+QMTCONN` with a
//! password, `AT+QMTCFG="aliauth"`, …) and the module's echo of it; every line the module
//! answers while such a command is on the channel (a credential query prints the secret);
//! data written after `>` or `CONNECT` (payloads, certificates); received message payloads
//! (a Huawei `secretNotify` carries a device secret). Those appear as their command name or
//! topic and a byte count.

use std::collections::VecDeque;
use std::time::Instant;

use crate::decoder::{FinalCode, Frame};
use crate::urc::Urc;

/// Which way a line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Written to the module.
    Sent,
    /// Read from the module.
    Received,
    /// Something the session concluded (a timeout, a probe).
    Note,
}

/// One recorded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// When it was recorded (the caller's clock).
    pub at: Instant,
    /// Which way.
    pub direction: Direction,
    /// The text, already masked.
    pub text: String,
}

/// A bounded ring of [`TranscriptLine`]s.
#[derive(Debug, Clone)]
pub struct Transcript {
    lines: VecDeque<TranscriptLine>,
    capacity: usize,
}

/// The longest text kept for one line; the rest is cut (with a byte count).
const MAX_TEXT: usize = 160;

impl Transcript {
    /// Keeps the last `capacity` lines (0 keeps nothing).
    pub fn new(capacity: usize) -> Self {
        Transcript {
            lines: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
        }
    }

    /// Records a line; `text` must already be safe to show.
    pub(crate) fn push(&mut self, at: Instant, direction: Direction, text: String) {
        if self.capacity == 0 {
            return;
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(TranscriptLine {
            at,
            direction,
            text: shorten(text),
        });
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &TranscriptLine> {
        self.lines.iter()
    }

    /// Renders the lines as text, one per line, with times relative to `now`:
    /// `-1.250s > AT+QMTOPEN=0,"host",1883`.
    pub fn render(&self, now: Instant) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| {
                let ago = now.saturating_duration_since(l.at).as_secs_f64();
                let arrow = match l.direction {
                    Direction::Sent => '>',
                    Direction::Received => '<',
                    Direction::Note => '#',
                };
                format!("-{ago:.3}s {arrow} {}", l.text)
            })
            .collect()
    }
}

fn shorten(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let total = text.len();
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(&format!("… ({total} bytes)"));
    }
    text
}

/// Printable form of bytes read or written: control characters escaped (`\r`, `\u{1b}`).
pub(crate) fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The transcript text of a received frame; `secret_on_channel` names the command on the
/// channel when its parameters are secret.
pub(crate) fn received(frame: &Frame, secret_on_channel: Option<&str>) -> String {
    match frame {
        Frame::Final(FinalCode::Ok) => "OK".to_owned(),
        Frame::Final(FinalCode::Error) => "ERROR".to_owned(),
        Frame::Final(FinalCode::CmeError(detail)) => {
            format!("+CME ERROR: {}", printable(detail.as_bytes()))
        }
        Frame::Prompt => ">".to_owned(),
        Frame::Message(m) => format!(
            "+QMTRECV: {},{},\"{}\" <{} bytes>",
            m.client,
            m.msgid,
            printable(m.topic.as_bytes()),
            m.payload.len()
        ),
        Frame::Line(line) => match secret_on_channel {
            // Well-formed result and state URCs cannot hold the command's secret; anything
            // else might (the echo, a credential query's answer).
            Some(name) if matches!(Urc::parse(line), Urc::Other(_) | Urc::Recv(_)) => {
                format!("<a line while {name} runs, masked>")
            }
            _ => printable(line.as_bytes()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_the_last_lines_and_cuts_long_ones() {
        let t0 = Instant::now();
        let mut t = Transcript::new(3);
        for i in 0..5 {
            t.push(t0, Direction::Sent, format!("AT+{i}"));
        }
        let texts: Vec<_> = t.lines().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["AT+2", "AT+3", "AT+4"]);
        t.push(t0, Direction::Received, "é".repeat(200));
        let last = t.lines().last().unwrap();
        assert!(last.text.ends_with("… (400 bytes)"), "{}", last.text);
        let rendered = t.render(t0 + Duration::from_millis(1500));
        assert_eq!(rendered[0], "-1.500s > AT+3");
    }

    #[test]
    fn a_session_records_the_conversation_without_secrets() {
        use crate::commands::{Connect, Credentials, Publish, Qos, Secret};
        use crate::{Command, Session};
        let t0 = Instant::now();
        let mut s = Session::default();
        let connect = Connect {
            client: 0,
            client_id: "dev1".into(),
            credentials: Some(Credentials {
                username: "user".into(),
                password: Secret::new("hunter2-pass"),
            }),
        };
        s.submit(connect.request(&s.timing(0)).unwrap(), t0);
        let echo = s.poll_transmit().unwrap();
        assert!(String::from_utf8_lossy(&echo).contains("hunter2-pass"));
        // Echo, a stray answer line, OK, then the result URC.
        s.handle_input(&echo, t0);
        s.handle_input(b"\r\n+QMTCONN: \"user\",\"hunter2-pass\"\r\n\r\nOK\r\n", t0);
        s.handle_input(b"\r\n+QMTCONN: 0,0,0\r\n", t0);
        let publish = Publish {
            client: 0,
            msgid: 1,
            qos: Qos::AtLeastOnce,
            retain: false,
            topic: "t/up".into(),
            payload: bytes::Bytes::from_static(b"payload-secret"),
        };
        s.submit(publish.request(&s.timing(0)).unwrap(), t0);
        while s.poll_transmit().is_some() {}
        s.handle_input(b"\r\n> ", t0);
        s.handle_input(b"\r\nOK\r\n\r\n+QMTPUBEX: 0,1,0\r\n", t0);
        s.handle_input(b"\r\n+QMTRECV: 0,0,\"t/down\",\"secretNotify\"\r\n", t0);
        let all = s.transcript().render(t0).join("\n");
        assert!(!all.contains("hunter2"), "{all}");
        assert!(!all.contains("secret"), "{all}");
        for expected in [
            "> AT+QMTCONN (parameters masked)",
            "< <a line while AT+QMTCONN runs, masked>",
            "< +QMTCONN: 0,0,0",
            "> AT+QMTPUBEX=0,1,1,0,\"t/up\",14",
            "< >",
            "> <14 bytes of data>",
            "< +QMTPUBEX: 0,1,0",
            "< +QMTRECV: 0,0,\"t/down\" <12 bytes>",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from\n{all}");
        }
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut t = Transcript::new(0);
        t.push(Instant::now(), Direction::Note, "x".into());
        assert_eq!(t.lines().count(), 0);
    }
}
