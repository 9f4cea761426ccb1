//! Soak with faults: `cellagent run` (a real child process, redb store in a temp dir) ⇄
//! modem-sim on a pty ⇄ cloud-sim ⇄ mosquitto, all on loopback. A producer writes numbered
//! property reports (`seq` 1..=N) on the agent's stdin while a seeded schedule injects
//! module faults (drop, ping-fail, error, garbage, reboot, stall), restarts mosquitto and
//! SIGKILLs the agent (restarting it on the same store). At the end every record must be at
//! the broker — seen by a subscriber on mosquitto itself — with duplicates allowed and
//! counted, none missing, and first arrivals in `seq` order.
//!
//! Sizes come from `SOAK_*` variables (see `soak/plan.rs` and `docs/soak.md`); the defaults
//! are a short run for `make test` / CI, `make soak` runs the full one. Skipped (with a
//! line saying so) when mosquitto is absent, unless `CI` is set.

#[path = "soak/broker.rs"]
mod broker;
#[path = "../src/chain.rs"]
mod chain;
#[path = "soak/plan.rs"]
mod plan;
#[path = "soak/verifier.rs"]
mod verifier;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use broker::{find_mosquitto, Broker};
use chain::{AgentProc, Chain, Which};
use modem_sim::Fault;
use plan::{count_kinds, kind_name, schedule, Disturbance, Plan};
use serde_json::{json, Value};
use verifier::Verifier;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// The agent's knobs for the soak: short module timeouts and a 1 s backoff cap, so each
/// fault costs about a second instead of the production defaults' tens of seconds.
const AGENT_ENV: &[(&str, &str)] = &[
    ("RUST_LOG", "info"),
    ("CELLAGENT_AGENT__BACKOFF_MAX_S", "1"),
    ("CELLAGENT_AGENT__PKT_TIMEOUT_S", "1"),
    ("CELLAGENT_AGENT__RETRY_TIMES", "2"),
    // A link that lasts 5 s counts as stable (production: 60 s). With a fault every few
    // seconds the default would keep the recovery ladder (PDP, radio, module reset) climbing
    // for the whole soak; at 5 s it is still taken during bursts of faults.
    ("CELLAGENT_RECOVERY__STABLE_AFTER_S", "5"),
    // The soak is about faults, not the cloud's quota: at OneNET's 1/s, 10,000 records
    // would take hours.
    ("CELLAGENT_PUBLISH__RATE_PER_S", "0"),
    // A stalled publish never gets its `>` here (modem-sim swallows the line, it never prints
    // a late prompt): 2 s of input quiet after its timeout instead of 35.
    ("CELLAGENT_AGENT__INPUT_QUIET_S", "2"),
];

/// How many records past a disturbance's place may be written before it is applied.
const AHEAD_OF_DISTURBANCE: u64 = 10;

/// The least time between two disturbances, so that each one meets a link in some state
/// rather than all landing on the same command.
const MIN_GAP: Duration = Duration::from_millis(50);

fn which(name: &str) -> Which {
    match name {
        "aliyun" => Which::Aliyun,
        "onenet" => Which::Onenet,
        "huawei" => Which::Huawei,
        other => panic!("SOAK_CLOUD={other:?}: expected aliyun, onenet or huawei"),
    }
}

/// The device's property-report topic (the device's spelling).
fn property_topic(w: Which) -> &'static str {
    match w {
        Which::Aliyun => "/sys/a1B2c3D4e5F/dev-001/thing/event/property/post",
        Which::Onenet => "$sys/Aw9oB4n7zB/dev-001/thing/property/post",
        Which::Huawei => "$oc/devices/5f1a2b3c4d_dev001/sys/properties/report",
    }
}

/// The demo models with an integer property `seq` added (Huawei's demo has no model).
fn soak_models() -> Vec<(&'static str, String)> {
    let (tsl, onenet) = chain::demo_models();
    let mut tsl: Value = serde_json::from_str(tsl).unwrap();
    tsl["properties"].as_array_mut().unwrap().push(json!({
        "identifier": "seq", "name": "seq", "accessMode": "r", "required": false,
        "dataType": {"type": "int", "specs": {"min": "0", "max": "2147483647", "step": "1"}}
    }));
    let mut onenet: Value = serde_json::from_str(onenet).unwrap();
    onenet["properties"].as_array_mut().unwrap().push(json!({
        "identifier": "seq", "name": "seq", "functionType": "u", "accessMode": "r",
        "functionMode": "property", "desc": null,
        "dataType": {"type": "int32", "specs": {"min": "0", "max": "2147483647", "unit": null, "step": null}}
    }));
    vec![
        ("light.tsl.json", tsl.to_string()),
        ("onenet-thermo.json", onenet.to_string()),
    ]
}

fn record_line(seq: u64) -> String {
    format!(r#"{{"properties":{{"seq":{seq}}},"id":"s{seq}"}}"#)
}

/// The redb file the chain's profile names (relative to the profile's directory).
fn store_path(chain: &Chain) -> PathBuf {
    let text = std::fs::read_to_string(&chain.profile).unwrap();
    let profile: toml::Value = toml::from_str(&text).unwrap();
    let rel = profile["store"]["path"].as_str().unwrap();
    chain.profile.parent().unwrap().join(rel)
}

/// The highest `seq` waiting in the (closed) agent store: everything up to it was accepted.
fn highest_stored(path: &Path) -> Result<(u64, usize), String> {
    if !path.exists() {
        return Ok((0, 0));
    }
    let store = agent::store::Store::open(path, u64::MAX, u64::MAX)
        .map_err(|e| format!("the store does not open after SIGKILL: {e}"))?;
    let all = store.all().map_err(|e| e.to_string())?;
    let mut top = 0;
    for (_, bytes) in &all {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if let Some(s) = v.pointer("/properties/seq").and_then(Value::as_u64) {
            top = top.max(s);
        }
    }
    Ok((top, all.len()))
}

/// Counters for the report.
#[derive(Default)]
struct Tally {
    written: u64,
    resent: u64,
    backlog_at_kills: Vec<usize>,
    disconnects: BTreeMap<String, u32>,
    errors: Vec<String>,
    done: Vec<Disturbance>,
}

fn reason_kind(reason: &str) -> String {
    // "+QMTSTAT: 0,Closed" → "+QMTSTAT"; "publish failed: …" → "publish failed".
    reason
        .split([':', '('])
        .next()
        .unwrap_or(reason)
        .trim()
        .to_string()
}

struct Soak {
    plan: Plan,
    broker: Broker,
    chain: Chain,
    verifier: Verifier,
    agent: Option<AgentProc>,
    store: PathBuf,
    tally: Tally,
    link_up: bool,
    next_seq: u64,
    started: Instant,
    /// Agents whose stderr was kept so far (`SOAK_LOG_DIR`).
    logs_kept: u32,
}

impl Soak {
    /// With `SOAK_LOG_DIR` set, writes the running agent's whole stderr (timestamped log lines,
    /// secrets masked) to `agent-<n>.log` there: the n-th agent of the run, kept when it is
    /// killed and at the end, so that a standstill can be looked into afterwards.
    fn keep_log(&mut self) {
        let (Some(dir), Some(agent)) = (std::env::var_os("SOAK_LOG_DIR"), self.agent.as_ref())
        else {
            return;
        };
        self.logs_kept += 1;
        let path = Path::new(&dir).join(format!("agent-{}.log", self.logs_kept));
        let written =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, agent.stderr()));
        if let Err(e) = written {
            eprintln!("soak: {}: {e}", path.display());
        }
    }

    fn progress(&self) -> u64 {
        *self.verifier.progress.borrow() as u64
    }

    fn agent(&mut self) -> &mut AgentProc {
        self.agent.as_mut().expect("agent running")
    }

    /// Writes records while fewer than `window` are unconfirmed at the broker, and none more
    /// than [`AHEAD_OF_DISTURBANCE`] past the next disturbance still to come (`hold`, its
    /// place in the run): so every disturbance meets records in flight, the last ones too.
    async fn produce(&mut self, hold: Option<u64>) -> Result<(), String> {
        let progress = self.progress();
        let cap = hold.map_or(u64::MAX, |at| at + AHEAD_OF_DISTURBANCE);
        while self.next_seq <= self.plan.records
            && self.next_seq - 1 < progress + self.plan.window
            && self.next_seq - 1 < cap
        {
            let line = record_line(self.next_seq);
            self.agent().send(&line).await?;
            self.tally.written += 1;
            self.next_seq += 1;
        }
        Ok(())
    }

    /// Reads what the agent printed for up to `wait`.
    async fn read_agent(&mut self, wait: Duration) -> Result<(), String> {
        let mut wait = wait;
        while let Some(v) = self.agent().next_line(wait).await.map_err(|e| {
            format!(
                "{e}: the agent exited by itself; stderr tail:\n{}",
                self.stderr_tail()
            )
        })? {
            wait = Duration::ZERO;
            if let Some(state) = v.get("status").and_then(Value::as_str) {
                match state {
                    "connected" => self.link_up = true,
                    "disconnected" => {
                        self.link_up = false;
                        let reason = v["reason"].as_str().unwrap_or("?");
                        *self
                            .tally
                            .disconnects
                            .entry(reason_kind(reason))
                            .or_insert(0) += 1;
                    }
                    _ => {}
                }
            } else if v.get("error").is_some() {
                self.tally.errors.push(v.to_string());
            }
        }
        Ok(())
    }

    fn stderr_tail(&self) -> String {
        let all = self.agent.as_ref().map(|a| a.stderr()).unwrap_or_default();
        let lines: Vec<&str> = all.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    async fn disturb(&mut self, d: Disturbance) -> Result<(), String> {
        match d {
            Disturbance::Fault(f) => self.chain.modem.inject(f),
            Disturbance::RestartBroker => self.broker.restart().await?,
            Disturbance::KillAgent => {
                // What it printed before the kill still counts (its disconnects).
                self.read_agent(Duration::ZERO).await?;
                self.keep_log();
                self.agent.take().expect("agent running").kill().await?;
                self.link_up = false;
                // Accepted = in the store, or already at the broker. Stdin is read in order,
                // so acceptance is a prefix of what was written: resend what follows it.
                let (stored, backlog) = highest_stored(&self.store)?;
                let seen = self
                    .verifier
                    .arrivals
                    .lock()
                    .unwrap()
                    .unique
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0);
                let accepted = stored.max(seen).min(self.next_seq - 1);
                self.tally.resent += self.next_seq - 1 - accepted;
                self.tally.backlog_at_kills.push(backlog);
                self.next_seq = accepted + 1;
                self.agent = Some(AgentProc::spawn(
                    bin(),
                    &self.chain.profile,
                    AGENT_ENV,
                    &[],
                )?);
            }
        }
        self.tally.done.push(d);
        Ok(())
    }

    /// Runs until every record is at the broker and every disturbance applied, or the time
    /// limit passes.
    async fn run(&mut self) -> Result<(), String> {
        let events = schedule(&self.plan);
        let mut next_event = 0;
        let mut last_event = Instant::now();
        let deadline = self.started + self.plan.time_limit;
        let mut last_note = Instant::now();
        while self.progress() < self.plan.records || next_event < events.len() {
            // A sign of life for long runs (`--nocapture`).
            if last_note.elapsed() >= Duration::from_secs(30) {
                last_note = Instant::now();
                println!(
                    "soak: {} of {} records at the broker, {} of {} disturbances, {:.0} s",
                    self.progress(),
                    self.plan.records,
                    next_event,
                    events.len(),
                    self.started.elapsed().as_secs_f64()
                );
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the soak did not finish within its time limit ({} s, SOAK_TIME_LIMIT_S): \
                     {} of {} records at the broker, {} of {} disturbances done",
                    self.plan.time_limit.as_secs(),
                    self.progress(),
                    self.plan.records,
                    next_event,
                    events.len()
                ));
            }
            self.produce(events.get(next_event).map(|(at, _)| *at))
                .await?;
            if let Some(&(at, d)) = events.get(next_event) {
                // A link fault needs a link; otherwise it would do nothing.
                let needs_link = matches!(
                    d,
                    Disturbance::Fault(Fault::DropLink(_) | Fault::PingFail(_))
                );
                if self.progress() >= at
                    && last_event.elapsed() >= MIN_GAP
                    && (self.link_up || !needs_link)
                {
                    self.disturb(d).await?;
                    next_event += 1;
                    last_event = Instant::now();
                }
            }
            self.read_agent(Duration::from_millis(10)).await?;
        }
        Ok(())
    }

    fn report(&self, outcome: &Result<(), String>) -> Vec<String> {
        let a = self.verifier.arrivals.lock().unwrap();
        let missing: Vec<u64> = (1..=self.plan.records)
            .filter(|s| !a.unique.contains(s))
            .collect();
        let kinds = count_kinds(self.tally.done.iter())
            .into_iter()
            .filter(|(k, _)| *k != "broker restart" && *k != "agent kill")
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>();
        let faults: u32 = self
            .tally
            .done
            .iter()
            .filter(|d| matches!(d, Disturbance::Fault(_)))
            .count() as u32;
        let kills = self
            .tally
            .done
            .iter()
            .filter(|d| kind_name(d) == "agent kill")
            .count();
        println!("== soak summary ==");
        println!(
            "cloud {} | seed {} | modem-sim baud {} | window {}",
            self.plan.cloud,
            self.plan.seed,
            if self.plan.baud == 0 {
                "0 (unpaced)".to_string()
            } else {
                self.plan.baud.to_string()
            },
            self.plan.window
        );
        println!(
            "records sent:      {} ({} lines written; {} re-sent after agent kills)",
            self.plan.records, self.tally.written, self.tally.resent
        );
        println!(
            "received:          {} ({} distinct)",
            a.order.len(),
            a.unique.len()
        );
        println!("missing:           {}", missing.len());
        println!("duplicates:        {}", a.order.len() - a.unique.len());
        let disruptions = self
            .tally
            .disconnects
            .values()
            .map(|n| u64::from(*n))
            .sum::<u64>()
            + kills as u64
            + u64::from(self.broker.restarts);
        println!(
            "reordered (retry): {} records overtaken, in {} rewinds of the arrival stream ({} disruptions seen: reconnects, kills, broker restarts)",
            a.out_of_order.len(),
            a.rewinds,
            disruptions
        );
        println!("faults injected:   {faults} ({})", kinds.join(", "));
        println!("broker restarts:   {}", self.broker.restarts);
        println!(
            "agent kills:       {kills} (store backlog at each: {:?})",
            self.tally.backlog_at_kills
        );
        println!(
            "link losses seen:  {}",
            self.tally
                .disconnects
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "time taken:        {:.1} s",
            self.started.elapsed().as_secs_f64()
        );
        let mut failures = Vec::new();
        if let Err(e) = outcome {
            failures.push(e.clone());
        }
        if !missing.is_empty() {
            failures.push(format!(
                "{} records never reached the broker (first: {:?})",
                missing.len(),
                &missing[..missing.len().min(20)]
            ));
        }
        // A record overtaken by later ones is a retry when the overtakers could have been
        // in flight with one of its attempts: the agent keeps at most PUBLISH_WINDOW
        // publishes in flight and, after any failure, re-sends from its oldest waiting
        // record, so an attempt that failed (module ERROR, lost link, a module-level
        // retransmission) lets at most PUBLISH_WINDOW - 1 later records pass; two failed
        // attempts in a row, twice that. Farther means the agent sent out of order.
        let reach = 2 * (quectel_mqtt::PUBLISH_WINDOW as u64 - 1);
        let far: Vec<_> = a
            .out_of_order
            .iter()
            .filter(|(s, t)| t - s > reach)
            .collect();
        if !far.is_empty() {
            failures.push(format!(
                "out-of-order delivery that is not a retry: {} records first arrived after a record \
                 more than {reach} later (seq, higher seq seen first): {:?}",
                far.len(),
                &far[..far.len().min(20)]
            ));
        }
        if !a.unreadable.is_empty() {
            failures.push(format!(
                "payloads without `seq`: {:?}",
                &a.unreadable[..a.unreadable.len().min(5)]
            ));
        }
        if !self.tally.errors.is_empty() {
            failures.push(format!(
                "the agent printed {} error lines: {:?}",
                self.tally.errors.len(),
                &self.tally.errors[..self.tally.errors.len().min(10)]
            ));
        }
        failures
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_faults() {
    let plan = Plan::from_env();
    let Some(mosquitto) = find_mosquitto() else {
        eprintln!("skip: mosquitto is not installed (apt-get install -y mosquitto)");
        return;
    };
    let started = Instant::now();
    let w = which(&plan.cloud);
    let broker = Broker::start(&mosquitto).await.unwrap();
    let chain = chain::start_with_models(w, plan.baud, Some(broker.addr()), &soak_models())
        .await
        .unwrap();
    let topic = cloud_sim::mqtt::to_broker(property_topic(w)).into_owned();
    let verifier = Verifier::start(broker.port, &topic).await.unwrap();
    let store = store_path(&chain);
    let agent = AgentProc::spawn(bin(), &chain.profile, AGENT_ENV, &[]).unwrap();
    let mut soak = Soak {
        plan,
        broker,
        chain,
        verifier,
        agent: Some(agent),
        store,
        tally: Tally::default(),
        link_up: false,
        next_seq: 1,
        started,
        logs_kept: 0,
    };
    let outcome = soak.run().await;
    // Let late duplicates land before counting (they change no verdict).
    let _ = soak.read_agent(Duration::from_millis(200)).await;
    soak.keep_log();
    let failures = soak.report(&outcome);
    if !failures.is_empty() {
        eprintln!("agent stderr (tail):\n{}", soak.stderr_tail());
    }
    if let Some(a) = soak.agent.take() {
        let _ = a.terminate(Duration::from_secs(20)).await;
    }
    assert!(failures.is_empty(), "soak failed:\n{}", failures.join("\n"));
}
