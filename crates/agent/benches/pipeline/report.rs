//! The pipeline bench's rows, the bound each is compared with, and `docs/benchmarks.md`.

use std::fmt::Write;

use super::{BAUD, RTT};

/// Bytes a second one direction of the serial line carries (8N1: 10 bits a byte).
pub const LINE_BYTES_PER_S: f64 = BAUD as f64 / 10.0;
/// The module's publish window.
pub const WINDOW: f64 = 5.0;

/// How the agent publishes in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `[publish] window = 1`.
    StopAndWait,
    /// `[publish] window = 5`.
    Pipelined,
    /// `[publish] window = 5`, `batch = 100`.
    Batched,
}

impl Mode {
    /// The profile section for the mode. The cloud's rate limit is off (`rate_per_s = 0`):
    /// the bench measures the serial line and the module, not the cloud's quota.
    pub fn profile(self) -> &'static str {
        match self {
            Mode::StopAndWait => "[publish]\nwindow = 1\nrate_per_s = 0\n",
            Mode::Pipelined => "[publish]\nwindow = 5\nrate_per_s = 0\n",
            Mode::Batched => "[publish]\nwindow = 5\nbatch = 100\nrate_per_s = 0\n",
        }
    }

    /// The mode's name in `--only` filters: `saw`, `pipelined`, `batched`.
    pub fn key(self) -> &'static str {
        match self {
            Mode::StopAndWait => "saw",
            Mode::Pipelined => "pipelined",
            Mode::Batched => "batched",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::StopAndWait => "(a) stop-and-wait",
            Mode::Pipelined => "(b) pipelined",
            Mode::Batched => "(c) pipelined + batch",
        }
    }
}

/// One measured row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Cloud format.
    pub cloud: &'static str,
    /// Bytes of the `properties` JSON of each app line.
    pub size: usize,
    /// Mode.
    pub mode: Mode,
    /// App lines delivered a second (steady state, backlog kept).
    pub msgs_per_s: f64,
    /// App lines per publish.
    pub lines_per_publish: f64,
    /// Serial bytes host → module per publish (command line, payload).
    pub up_per_publish: f64,
    /// Serial bytes module → host per publish (`>`, `OK`, `+QMTPUBEX`, the cloud's reply).
    pub down_per_publish: f64,
    /// Mean time a publish held a window slot: `AT+QMTPUBEX` written → its `+QMTPUBEX`, ms.
    pub slot_ms: f64,
    /// Mean time a publish held the AT channel: `AT+QMTPUBEX` written → the `OK` after its
    /// payload, ms. The next command waits for that `OK`.
    pub exchange_ms: f64,
    /// Light-load input → `delivered` latency, median, ms.
    pub p50_ms: f64,
    /// Same, 99th percentile, ms.
    pub p99_ms: f64,
}

impl Row {
    /// Lines a second the serial line could carry with these bytes per publish.
    pub fn line_bound(&self) -> f64 {
        LINE_BYTES_PER_S / self.up_per_publish.max(self.down_per_publish) * self.lines_per_publish
    }

    /// Lines a second five publishes per round trip allow.
    pub fn window_bound(&self) -> f64 {
        WINDOW / RTT.as_secs_f64() * self.lines_per_publish
    }

    /// The physical bound: the smaller of the two.
    pub fn bound(&self) -> f64 {
        self.line_bound().min(self.window_bound())
    }

    /// Lines a second 5 window slots carry when a slot lasts as long as measured.
    pub fn slot_bound(&self) -> f64 {
        WINDOW / (self.slot_ms / 1000.0) * self.lines_per_publish
    }

    /// Lines a second the AT channel carries when a publish holds it as long as measured.
    pub fn exchange_bound(&self) -> f64 {
        1000.0 / self.exchange_ms * self.lines_per_publish
    }

    /// The smallest of the line, measured-slot and measured-channel bounds: what this row
    /// could reach with the module's slot and prompt times as they were.
    pub fn reach(&self) -> f64 {
        self.line_bound()
            .min(self.slot_bound())
            .min(self.exchange_bound())
    }

    /// Measured / bound.
    pub fn ratio(&self) -> f64 {
        self.msgs_per_s / self.bound()
    }

    /// Table header (markdown).
    pub fn header() -> String {
        "| cloud | payload | mode | msg/s | payload B/s | lines/publish | wire B/publish up / down | bound msg/s (line / 5÷RTT) | ratio | slot / AT ms per publish | p50 / p99 ms (light load) |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
            .into()
    }

    /// Table line (markdown).
    pub fn line(&self) -> String {
        format!(
            "| {} | {} B | {} | {:.1} | {:.0} | {:.1} | {:.0} / {:.0} | {:.1} ({:.1} / {:.1}) | {:.0} % | {:.0} / {:.0} | {:.0} / {:.0} |",
            self.cloud,
            self.size,
            self.mode.name(),
            self.msgs_per_s,
            self.msgs_per_s * self.size as f64,
            self.lines_per_publish,
            self.up_per_publish,
            self.down_per_publish,
            self.bound(),
            self.line_bound(),
            self.window_bound(),
            self.ratio() * 100.0,
            self.slot_ms,
            self.exchange_ms,
            self.p50_ms,
            self.p99_ms,
        )
    }
}

/// The figures besides the rows.
#[derive(Debug, Clone)]
pub struct Extras {
    /// Messages in the backlog.
    pub backlog: usize,
    /// VmHWM, KiB.
    pub hwm_kib: u64,
    /// VmRSS, KiB.
    pub rss_kib: u64,
    /// Seconds to accept the whole backlog.
    pub accept_s: f64,
    /// Size of the stripped release binary.
    pub binary_bytes: u64,
    /// CPU ms over 10 s idle.
    pub idle_cpu_ms: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

impl Extras {
    /// As text lines.
    pub fn text(&self) -> String {
        format!(
            "- peak RSS (VmHWM) with a {}-message backlog: {:.2} MiB (VmRSS then {:.2} MiB; the \
             backlog took {:.1} s to accept) — target ≤ 6 MiB: {}\n\
             - stripped release binary `cellagent` (no `demo` feature): {:.2} MiB ({} bytes) — \
             target ≤ 6 MiB: {}\n\
             - idle CPU, connected, over 10 s: {:.0} ms ({:.2} %) — target ≈ 0: {}\n",
            self.backlog,
            self.hwm_kib as f64 / 1024.0,
            self.rss_kib as f64 / 1024.0,
            self.accept_s,
            verdict(self.hwm_kib as f64 * 1024.0 <= 6.0 * MIB),
            self.binary_bytes as f64 / MIB,
            self.binary_bytes,
            verdict(self.binary_bytes as f64 <= 6.0 * MIB),
            self.idle_cpu_ms,
            self.idle_cpu_ms / 100.0,
            verdict(self.idle_cpu_ms <= 100.0),
        )
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// CPU model, cores, rustc, date.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown")
        .to_string();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "rustc (unknown)".into());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!("{model}, {cores} cores; {rustc}; {date}")
}

/// Target checks drawn from the rows.
fn targets(rows: &[Row]) -> String {
    let mut out = String::new();
    let find = |cloud: &str, size: usize, mode: Mode| {
        rows.iter()
            .find(|r| r.cloud == cloud && r.size == size && r.mode == mode)
    };
    for r in rows.iter().filter(|r| r.mode == Mode::Pipelined) {
        let Some(sw) = find(r.cloud, r.size, Mode::StopAndWait) else {
            continue;
        };
        let speedup = r.msgs_per_s / sw.msgs_per_s;
        let ser_ms = sw.up_per_publish / LINE_BYTES_PER_S * 1000.0;
        let p50_target = RTT.as_secs_f64() * 1000.0 + 2.0 * ser_ms;
        let _ = writeln!(
            out,
            "- {} {} B: pipelined at {:.0} % of the bound (target ≥ 90 %: {}); {:.1}× stop-and-wait \
             (target ≥ 4×: {}); light-load p50 {:.0} ms vs RTT + 2 × {:.1} ms serialisation = {:.0} ms ({})",
            r.cloud,
            r.size,
            r.ratio() * 100.0,
            verdict(r.ratio() >= 0.9),
            speedup,
            verdict(speedup >= 4.0),
            r.p50_ms,
            ser_ms,
            p50_target,
            verdict(r.p50_ms <= p50_target),
        );
        let _ = writeln!(
            out,
            "  - where the time went: a window slot lasted {:.0} ms, so 5 slots carry at most {:.1} \
             lines/s; each publish held the AT channel {:.0} ms, so the channel carries at most \
             {:.1} lines/s; the line carries {:.1}. Measured: {:.0} % of the smallest, {:.1}.",
            r.slot_ms,
            r.slot_bound(),
            r.exchange_ms,
            r.exchange_bound(),
            r.line_bound(),
            r.msgs_per_s / r.reach() * 100.0,
            r.reach(),
        );
    }
    out
}

/// `docs/benchmarks.md`.
pub fn document(rows: &[Row], extras: &Extras, machine: &str) -> String {
    let mut d = String::new();
    d.push_str(&text("intro.md"));
    let _ = writeln!(d, "\n## Latest run\n\nMachine: {machine}.\n");
    let _ = writeln!(
        d,
        "modem-sim at {BAUD} baud (8N1: {LINE_BYTES_PER_S:.0} B/s each way), {} ms RTT, QoS 1.\n",
        RTT.as_millis()
    );
    let _ = writeln!(d, "{}", Row::header());
    for r in rows {
        let _ = writeln!(d, "{}", r.line());
    }
    let _ = writeln!(d, "\n### Targets\n");
    d.push_str(&targets(rows));
    d.push_str(&extras.text());
    d.push('\n');
    d.push_str(&text("notes.md"));
    d
}

/// A hand-written part of the document, read when the bench runs (so the text can be edited
/// without rebuilding the bench).
fn text(name: &str) -> String {
    let path = super::workspace()
        .join("crates/agent/benches/pipeline")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| format!("({}: {e})\n", path.display()))
}
