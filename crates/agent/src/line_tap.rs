//! A tap on the emulated serial line, for the publish-window tests and `make bench`: a
//! modem-sim session whose pty master is wrapped so that every byte crossing the line is
//! counted, and the `AT+QMTPUBEX` commands and their `+QMTPUBEX` results are followed, which
//! gives the number of publishes outstanding on the line at any moment.
//!
//! This file depends only on `modem_sim` and `tokio`, so the integration tests include it
//! with `#[path]` next to `chain.rs`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use modem_sim::{SimConfig, Simulator};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What crossed the line so far.
#[derive(Debug, Default, Clone)]
pub struct LineStats {
    /// Bytes the host wrote (host → module).
    pub to_module: u64,
    /// Bytes the module wrote (module → host).
    pub to_host: u64,
    /// `AT+QMTPUBEX` commands written.
    pub publishes: u64,
    /// Final `+QMTPUBEX` results (`<result>` 0 or 2; 1 "retransmitting" is not final).
    pub results: u64,
    /// `ERROR` / `+CME ERROR` final codes.
    pub errors: u64,
    /// Most publishes ever outstanding at once: written and without a final result.
    pub max_outstanding: u64,
    /// Window slots held, summed: from each `AT+QMTPUBEX` line written to its final result.
    pub slot_time: Duration,
    /// Slots summed in `slot_time`.
    pub slots: u64,
    /// AT channel held by publishes, summed: from each `AT+QMTPUBEX` line to the `OK` that
    /// ends it, after which the next command may be written (refused ones are not counted).
    pub exchange_time: Duration,
    /// Exchanges summed in `exchange_time`.
    pub exchanges: u64,
    up: Vec<u8>,
    down: Vec<u8>,
    /// Publishes written and not yet settled: (client, msgid) → when.
    written_at: HashMap<(u8, u16), Instant>,
    /// The publish command holding the AT channel: since when, and which.
    exchange_from: Option<(Instant, Option<(u8, u16)>)>,
}

impl LineStats {
    /// Publishes written and without a final result now (refused ones excluded).
    pub fn outstanding(&self) -> u64 {
        self.publishes
            .saturating_sub(self.results)
            .saturating_sub(self.errors.min(self.publishes))
    }

    fn host_wrote(&mut self, bytes: &[u8]) {
        self.to_module += bytes.len() as u64;
        for &b in bytes {
            if b == b'\r' {
                // A payload after the `>` prompt has no terminator: it leads the next line.
                let line = String::from_utf8_lossy(&self.up).into_owned();
                let count = line.matches("AT+QMTPUBEX=").count() as u64;
                self.publishes += count;
                if count > 0 {
                    let now = Instant::now();
                    let key = line
                        .rsplit("AT+QMTPUBEX=")
                        .next()
                        .and_then(client_and_msgid);
                    if let Some(key) = key {
                        self.written_at.insert(key, now);
                    }
                    self.exchange_from = Some((now, key));
                }
                self.up.clear();
                self.max_outstanding = self.max_outstanding.max(self.outstanding());
            } else if self.up.len() < 4096 {
                self.up.push(b);
            }
        }
    }

    fn module_wrote(&mut self, bytes: &[u8]) {
        self.to_host += bytes.len() as u64;
        for &b in bytes {
            if b == b'\n' {
                let line = String::from_utf8_lossy(&self.down).trim().to_string();
                if let Some(rest) = line.strip_prefix("+QMTPUBEX: ") {
                    if rest.split(',').nth(2).map(str::trim) != Some("1") {
                        self.results += 1;
                        let sent = client_and_msgid(rest).and_then(|k| self.written_at.remove(&k));
                        if let Some(sent) = sent {
                            self.slot_time += sent.elapsed();
                            self.slots += 1;
                        }
                    }
                } else if line == "ERROR" || line.starts_with("+CME ERROR") {
                    self.errors += 1;
                    if let Some((_, Some(key))) = self.exchange_from.take() {
                        self.written_at.remove(&key);
                    }
                } else if line == "OK" {
                    if let Some((from, _)) = self.exchange_from.take() {
                        self.exchange_time += from.elapsed();
                        self.exchanges += 1;
                    }
                }
                self.down.clear();
            } else if self.down.len() < 4096 {
                self.down.push(b);
            }
        }
    }
}

/// `<client>,<msgid>` at the head of a `AT+QMTPUBEX=` or `+QMTPUBEX:` parameter list.
fn client_and_msgid(params: &str) -> Option<(u8, u16)> {
    let mut it = params.split(',').map(str::trim);
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The module's end of the line, counted.
pub struct Tapped<S> {
    inner: S,
    stats: Arc<Mutex<LineStats>>,
    trace: Option<Trace>,
}

/// Every chunk crossing the line, timestamped, written to the file named by
/// `CELLAGENT_LINE_TRACE` (for looking into where a bench row's time goes). One line per chunk:
/// milliseconds since the tap was attached, `>` host → module or `<` module → host, and the
/// bytes with CR, LF and non-printing bytes escaped. Up times are when the module read the bytes
/// (before its pacing); down times are when they left the line.
struct Trace {
    file: std::io::BufWriter<std::fs::File>,
    start: Instant,
    /// A secret-bearing command line is being hidden until its CR (it may span chunks).
    hiding: bool,
}

/// Commands whose parameters carry credentials: a trace keeps only their names.
const SECRET_BEARING: [&str; 3] = ["AT+QMTCONN=", "AT+QMTCFG=", "AT+QSSLCFG="];

impl Trace {
    fn from_env() -> Option<Trace> {
        let path = std::env::var_os("CELLAGENT_LINE_TRACE")?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(Trace {
            file: std::io::BufWriter::new(file),
            start: Instant::now(),
            hiding: false,
        })
    }

    fn record(&mut self, dir: char, bytes: &[u8]) {
        use std::io::Write;
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let text = if dir == '>' {
            hide_secrets(&mut self.hiding, bytes)
        } else {
            bytes.escape_ascii().to_string()
        };
        let _ = writeln!(self.file, "{ms:10.3} {dir} {} {text}", bytes.len());
        let _ = self.file.flush();
    }
}

/// Host bytes as text, the parameters of secret-bearing commands left out up to their CR;
/// `hiding` carries a command cut by the chunk's end over to the next chunk.
fn hide_secrets(hiding: &mut bool, bytes: &[u8]) -> String {
    const HIDDEN: &str = "(parameters not traced)";
    let mut text = String::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if *hiding {
            text.push_str(HIDDEN);
            match rest.iter().position(|&b| b == b'\r') {
                Some(cr) => {
                    *hiding = false;
                    rest = &rest[cr..];
                }
                None => return text,
            }
        }
        let names_end = SECRET_BEARING
            .iter()
            .filter_map(|c| {
                rest.windows(c.len())
                    .position(|w| w == c.as_bytes())
                    .map(|at| at + c.len())
            })
            .min();
        let Some(end) = names_end else {
            text.push_str(&rest.escape_ascii().to_string());
            break;
        };
        text.push_str(&rest[..end].escape_ascii().to_string());
        *hiding = true;
        rest = &rest[end..];
    }
    text
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let this = &mut *self;
            let new = &buf.filled()[before..];
            this.stats.lock().expect("tap lock").host_wrote(new);
            if let Some(t) = this.trace.as_mut() {
                t.record('>', new);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.stats
                .lock()
                .expect("tap lock")
                .module_wrote(&buf[..*n]);
            if let Some(t) = self.trace.as_mut() {
                t.record('<', &buf[..*n]);
            }
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A modem-sim with `config` on a fresh pty, its line tapped; the profile at `profile` is
/// pointed at it (its `port = "<old_pty>"` line rewritten). Returns the simulator (inject
/// faults here) and the line's counters.
pub fn attach_modem(
    profile: &Path,
    old_pty: &str,
    config: SimConfig,
) -> Result<(Simulator, Arc<Mutex<LineStats>>), String> {
    let modem = Simulator::new(config);
    let (master, pty) = Simulator::open_pty().map_err(|e| format!("pty: {e}"))?;
    let stats = Arc::new(Mutex::new(LineStats::default()));
    let tapped = Tapped {
        inner: master,
        stats: stats.clone(),
        trace: Trace::from_env(),
    };
    let m = modem.clone();
    tokio::spawn(async move { m.run_session(tapped).await });
    let text = std::fs::read_to_string(profile).map_err(|e| e.to_string())?;
    let old = format!("port = {old_pty:?}");
    if !text.contains(&old) {
        return Err(format!("{} has no `{old}` line", profile.display()));
    }
    std::fs::write(profile, text.replace(&old, &format!("port = {pty:?}")))
        .map_err(|e| e.to_string())?;
    Ok((modem, stats))
}

/// Appends TOML (e.g. a `[publish]` section) to the profile at `profile`.
pub fn append_profile(profile: &Path, extra: &str) -> Result<(), String> {
    let mut text = std::fs::read_to_string(profile).map_err(|e| e.to_string())?;
    text.push('\n');
    text.push_str(extra);
    text.push('\n');
    std::fs::write(profile, text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_publishes_outstanding_on_the_line() {
        let mut s = LineStats::default();
        s.host_wrote(b"AT+QMTPUBEX=0,1,1,0,\"t\",2\r");
        s.module_wrote(b"\r\n> ");
        s.host_wrote(b"{}AT+QMTPUBEX=0,2,1,0,\"t\",2\r");
        assert_eq!((s.outstanding(), s.max_outstanding), (2, 2));
        s.module_wrote(b"\r\nOK\r\n\r\n+QMTPUBEX: 0,1,1,1\r\n");
        assert_eq!(s.outstanding(), 2, "retransmitting is not a result");
        s.module_wrote(b"\r\n+QMTPUBEX: 0,1,0\r\n\r\n+QMTPUBEX: 0,2,2\r\n");
        assert_eq!((s.outstanding(), s.max_outstanding, s.results), (0, 2, 2));
        assert_eq!((s.slots, s.exchanges), (2, 1), "both slots timed, one OK");
        s.host_wrote(b"AT+QMTPUBEX=0,3,1,0,\"t\",2\r");
        s.module_wrote(b"\r\nERROR\r\n");
        assert_eq!((s.outstanding(), s.errors), (0, 1));
        assert!(s.written_at.is_empty(), "a refused publish holds no slot");
        assert_eq!((s.slots, s.exchanges), (2, 1));
        assert_eq!(s.to_module, 26 + 28 + 26);
    }

    #[test]
    fn a_trace_never_shows_credentials_even_split_across_chunks() {
        let mut hiding = false;
        let first = hide_secrets(&mut hiding, b"AT\rAT+QMTCONN=0,\"dev\",\"user\",\"pass");
        let second = hide_secrets(&mut hiding, b"word\"\rAT+QMTPUBEX=0,1,1,0,\"t\",2\r");
        assert_eq!(first, "AT\\rAT+QMTCONN=(parameters not traced)");
        assert_eq!(
            second,
            "(parameters not traced)\\rAT+QMTPUBEX=0,1,1,0,\\\"t\\\",2\\r"
        );
        let cfg = hide_secrets(
            &mut hiding,
            b"AT+QMTCFG=\"aliauth\",0,\"pk\",\"dn\",\"s3cret\"\r",
        );
        assert!(!cfg.contains("s3cret") && !hiding, "{cfg}");
    }
}
