//! `make bench` (with the decoder bench): the publish path end to end, side by side.
//!
//! For each cloud's format and 64- and 512-byte property payloads, `cellagent run` (the
//! release binary built without the `demo` feature, `--agent-bin`) publishes QoS 1 through
//! modem-sim paced at 115,200 baud with a 100 ms network round trip, to cloud-sim, in three
//! modes: (a) stop-and-wait (`[publish] window = 1`), (b) pipelined (`window = 5`),
//! (c) pipelined with batching (`batch = 100`: as many lines per publish as fit 1500 bytes).
//!
//! Each row: input→`delivered` latency at light load (one line at a time), then throughput
//! with a backlog kept ahead of the agent, measured over a fixed window after a warm-up. The
//! physical bound comes from the bytes each publish actually put on the tapped serial line in
//! each direction. Then the agent's peak RSS with a 10,000-message backlog, the binary's size
//! and its idle CPU. The table goes to stdout and `docs/benchmarks.md` (`--out`).
//!
//! `--quick` shortens every phase (a smoke run; its numbers are noisier).
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke test instead: one
//! short pipelined row through the debug `cellagent` that must deliver, nothing written.

#[path = "pipeline/report.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent::chain::{self, is_status, AgentProc, Chain, Which};
use agent::line_tap::{append_profile, attach_modem, LineStats};
use modem_sim::SimConfig;
use report::{Extras, Mode, Row};
use serde_json::{json, Value};
use tokio::time::Instant;

/// Serial speed and network round trip of every row.
pub const BAUD: u32 = 115_200;
/// Network round trip.
pub const RTT: Duration = Duration::from_millis(100);
const T: Duration = Duration::from_secs(30);

struct Plan {
    agent_bin: PathBuf,
    out: PathBuf,
    warm: Duration,
    measure: Duration,
    light: usize,
    backlog: usize,
    /// `cargo test` ran this, not `cargo bench`.
    smoke: bool,
    /// `--only`: run just the rows whose `cloud/size/mode` contains this, and write nothing.
    only: Option<String>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plan() -> Result<Plan, String> {
    let mut args = std::env::args().skip(1);
    let root = workspace();
    let mut p = Plan {
        agent_bin: root.join("target/bench/cellagent"),
        out: root.join("docs/benchmarks.md"),
        warm: Duration::from_secs(2),
        measure: Duration::from_secs(8),
        light: 20,
        backlog: 10_000,
        smoke: true,
        only: None,
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            // `cargo bench` runs this in the package's directory: relative paths are taken
            // from the workspace root.
            "--agent-bin" => {
                p.agent_bin = root.join(args.next().ok_or("--agent-bin needs a path")?)
            }
            "--out" => p.out = root.join(args.next().ok_or("--out needs a path")?),
            "--quick" => quick(&mut p),
            "--bench" => p.smoke = false,
            "--only" => p.only = Some(args.next().ok_or("--only needs a row filter")?),
            _ => {}
        }
    }
    if p.smoke {
        p.agent_bin = PathBuf::from(env!("CARGO_BIN_EXE_cellagent"));
        quick(&mut p);
    }
    if !p.agent_bin.exists() {
        return Err(format!(
            "{} does not exist: `make bench` builds it (cargo build --release -p agent --bin \
             cellagent, copied to target/bench/), or pass --agent-bin",
            p.agent_bin.display()
        ));
    }
    Ok(p)
}

fn quick(p: &mut Plan) {
    p.warm = Duration::from_millis(500);
    p.measure = Duration::from_secs(2);
    p.light = 6;
}

/// The demo models with a text property `Note` (Huawei's demo has no model).
fn models() -> Vec<(&'static str, String)> {
    let (tsl, onenet) = chain::demo_models();
    let mut tsl: Value = serde_json::from_str(tsl).expect("demo TSL");
    tsl["properties"]
        .as_array_mut()
        .expect("properties")
        .push(json!({
            "identifier": "Note", "name": "note", "accessMode": "rw", "required": false,
            "dataType": {"type": "text", "specs": {"length": "2048"}}
        }));
    let mut onenet: Value = serde_json::from_str(onenet).expect("demo model");
    onenet["properties"]
        .as_array_mut()
        .expect("properties")
        .push(json!({
            "identifier": "Note", "name": "note", "functionType": "u", "accessMode": "rw",
            "functionMode": "property", "desc": null,
            "dataType": {"type": "string", "specs": {"length": 2048}}
        }));
    vec![
        ("light.tsl.json", tsl.to_string()),
        ("onenet-thermo.json", onenet.to_string()),
    ]
}

/// An app line whose `properties` object is exactly `size` bytes of JSON.
fn line(n: u64, size: usize) -> String {
    let text = format!("{n:08}-{}", "x".repeat(size - 11 - 9));
    let props = format!(r#"{{"Note":"{text}"}}"#);
    debug_assert_eq!(props.len(), size);
    format!(r#"{{"properties":{props},"id":"m{n}"}}"#)
}

struct Running {
    chain: Chain,
    /// Kept so its session keeps its fault channel.
    _modem: modem_sim::Simulator,
    agent: AgentProc,
    stats: std::sync::Arc<std::sync::Mutex<LineStats>>,
}

async fn start(which: Which, extra: &str, bin: &Path) -> Result<Running, String> {
    let chain = chain::start_with_models(which, 0, None, &models()).await?;
    let config = SimConfig {
        baud: BAUD,
        rtt: RTT,
        ..SimConfig::default()
    };
    let (modem, stats) = attach_modem(&chain.profile, &chain.pty, config)?;
    append_profile(&chain.profile, extra)?;
    let mut agent = AgentProc::spawn(bin, &chain.profile, &[("RUST_LOG", "warn")], &[])?;
    agent
        .wait(T, "connected", |v| is_status(v, "connected"))
        .await?;
    // Let the time request after connecting (Aliyun, Huawei) settle first.
    let _ = agent
        .wait(Duration::from_secs(2), "time", |v| v.get("time").is_some())
        .await;
    Ok(Running {
        chain,
        _modem: modem,
        agent,
        stats,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the agent said next.
enum Said {
    /// `{"delivered": id}`.
    Delivered(String),
    /// Another line.
    Other,
    /// Nothing within the timeout.
    Nothing,
}

/// The agent's next line; an `error` line (a refused app line) fails the row.
async fn next_said(a: &mut AgentProc, timeout: Duration) -> Result<Said, String> {
    match a.next_line(timeout).await? {
        Some(v) if v.get("error").is_some() => Err(format!("the agent refused a line: {v}")),
        Some(v) => Ok(match v["delivered"].as_str() {
            Some(id) => Said::Delivered(id.to_owned()),
            None => Said::Other,
        }),
        None => Ok(Said::Nothing),
    }
}

async fn row(which: Which, size: usize, mode: Mode, p: &Plan) -> Result<Row, String> {
    let mut r = start(which, mode.profile(), &p.agent_bin).await?;
    let a = &mut r.agent;
    let mut n = 0u64;
    // Light load: one line at a time.
    let mut lat = Vec::new();
    for _ in 0..p.light {
        n += 1;
        let sent = Instant::now();
        a.send(&line(n, size)).await?;
        let want = format!("m{n}");
        loop {
            match next_said(a, T).await? {
                Said::Delivered(id) if id == want => break,
                Said::Delivered(_) | Said::Other => {}
                Said::Nothing => return Err(format!("no delivered for {want}")),
            }
        }
        lat.push(sent.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    lat.sort_by(f64::total_cmp);
    // Throughput: keep a backlog ahead of the agent; count deliveries inside the window.
    let begin = Instant::now();
    let (w0, w1) = (begin + p.warm, begin + p.warm + p.measure);
    let (mut written, mut delivered) = (0u64, 0u64);
    let mut recent: std::collections::VecDeque<Instant> = Default::default();
    let (mut s0, mut s1): (Option<LineStats>, Option<LineStats>) = (None, None);
    let mut in_window = 0u64;
    loop {
        let now = Instant::now();
        if s0.is_none() && now >= w0 {
            s0 = Some(r.stats.lock().expect("tap").clone());
        }
        if s1.is_none() && now >= w1 {
            s1 = Some(r.stats.lock().expect("tap").clone());
        }
        if now < w1 {
            while recent
                .front()
                .is_some_and(|t| now - *t > Duration::from_secs(1))
            {
                recent.pop_front();
            }
            let cap = 10 + 2 * recent.len() as u64;
            while written - delivered < cap {
                n += 1;
                written += 1;
                a.send(&line(n, size)).await?;
            }
        } else if delivered == written {
            break;
        }
        let said = next_said(a, Duration::from_millis(10)).await?;
        if let Said::Delivered(_) = said {
            let at = Instant::now();
            delivered += 1;
            recent.push_back(at);
            if at >= w0 && at < w1 {
                in_window += 1;
            }
        } else if matches!(said, Said::Nothing) && Instant::now() > w1 + T {
            return Err("the backlog did not drain".into());
        }
    }
    let (s0, s1) = (s0.expect("window start"), s1.expect("window end"));
    let secs = p.measure.as_secs_f64();
    let pubs = (s1.results - s0.results).max(1) as f64;
    let row = Row {
        cloud: which.name(),
        size,
        mode,
        msgs_per_s: in_window as f64 / secs,
        lines_per_publish: in_window as f64 / pubs,
        up_per_publish: (s1.to_module - s0.to_module) as f64 / pubs,
        down_per_publish: (s1.to_host - s0.to_host) as f64 / pubs,
        slot_ms: mean_ms(s1.slot_time - s0.slot_time, s1.slots - s0.slots),
        exchange_ms: mean_ms(
            s1.exchange_time - s0.exchange_time,
            s1.exchanges - s0.exchanges,
        ),
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
    };
    let code = r.agent.terminate(T).await?;
    if code != 0 {
        return Err(format!("the agent exited with {code}"));
    }
    drop(r.chain);
    Ok(row)
}

fn mean_ms(total: Duration, n: u64) -> f64 {
    total.as_secs_f64() * 1000.0 / n.max(1) as f64
}

fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`; utime and stime are fields 14 and 15.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Peak RSS with `backlog` messages waiting: the module port does not exist, so nothing is
/// sent and every line stays in the store.
async fn rss_with_backlog(p: &Plan) -> Result<(u64, u64, f64), String> {
    let c = chain::start_with_models(Which::Aliyun, 0, None, &models()).await?;
    let text = std::fs::read_to_string(&c.profile).map_err(|e| e.to_string())?;
    let text = text.replace(
        &format!("port = {:?}", c.pty),
        "port = \"/dev/cellagent-bench-absent\"",
    );
    std::fs::write(&c.profile, text).map_err(|e| e.to_string())?;
    let mut a = AgentProc::spawn(&p.agent_bin, &c.profile, &[("RUST_LOG", "error")], &[])?;
    let pid = a.pid().ok_or("no pid")?;
    let started = Instant::now();
    for n in 1..=p.backlog as u64 {
        a.send(&line(n, 64)).await?;
    }
    let want = p.backlog as u64;
    a.wait(Duration::from_secs(120), "the whole backlog stored", |v| {
        v["backlog"].as_u64() == Some(want)
    })
    .await?;
    let accept_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hwm = proc_status(pid, "VmHWM:").ok_or("no VmHWM")?;
    let rss = proc_status(pid, "VmRSS:").ok_or("no VmRSS")?;
    a.terminate(T).await?;
    Ok((hwm, rss, accept_s))
}

/// CPU time the connected, idle agent uses over 10 s.
async fn idle_cpu(p: &Plan) -> Result<f64, String> {
    let r = start(Which::Aliyun, "", &p.agent_bin).await?;
    let pid = r.agent.pid().ok_or("no pid")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0 = cpu_ticks(pid).ok_or("no /proc stat")?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let t1 = cpu_ticks(pid).ok_or("no /proc stat")?;
    r.agent.terminate(T).await?;
    Ok((t1 - t0) as f64 * 1000.0 / clock_ticks() as f64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let p = match plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pipeline bench: {e}");
            std::process::exit(2);
        }
    };
    if p.smoke {
        match row(Which::Huawei, 64, Mode::Pipelined, &p).await {
            Ok(r) if r.msgs_per_s > 0.0 && r.p50_ms.is_finite() => {
                println!("pipeline smoke: {}", r.line());
                return;
            }
            Ok(r) => eprintln!(
                "pipeline smoke: nothing delivered in the window: {}",
                r.line()
            ),
            Err(e) => eprintln!("pipeline smoke: {e}"),
        }
        std::process::exit(1);
    }
    println!("{}", Row::header());
    let mut rows = Vec::new();
    for which in [Which::Aliyun, Which::Onenet, Which::Huawei] {
        for size in [64, 512] {
            for mode in [Mode::StopAndWait, Mode::Pipelined, Mode::Batched] {
                let key = format!("{}/{size}/{}", which.name(), mode.key());
                if p.only.as_ref().is_some_and(|o| !key.contains(o.as_str())) {
                    continue;
                }
                match row(which, size, mode, &p).await {
                    Ok(r) => {
                        println!("{}", r.line());
                        rows.push(r);
                    }
                    Err(e) => {
                        eprintln!("pipeline bench: {} {size} B {mode:?}: {e}", which.name());
                        std::process::exit(1);
                    }
                }
            }
        }
    }
    if p.only.is_some() {
        // A partial run (for looking into rows) does not rewrite docs/benchmarks.md.
        return;
    }
    let extras = async {
        let (hwm, rss, accept_s) = rss_with_backlog(&p).await?;
        let idle_ms = idle_cpu(&p).await?;
        let size = std::fs::metadata(&p.agent_bin)
            .map_err(|e| e.to_string())?
            .len();
        Ok::<_, String>(Extras {
            backlog: p.backlog,
            hwm_kib: hwm,
            rss_kib: rss,
            accept_s,
            binary_bytes: size,
            idle_cpu_ms: idle_ms,
        })
    }
    .await;
    let extras = match extras {
        Ok(x) => x,
        Err(e) => {
            eprintln!("pipeline bench: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", extras.text());
    let doc = report::document(&rows, &extras, &report::machine());
    if let Err(e) = std::fs::write(&p.out, doc) {
        eprintln!("pipeline bench: {}: {e}", p.out.display());
        std::process::exit(1);
    }
    println!("written to {}", p.out.display());
}
