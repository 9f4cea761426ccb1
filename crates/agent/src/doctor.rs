//! `cellagent doctor`: the probe sequence a field engineer runs when a device is offline.
//!
//! Port → `AT` → SIM → signal → registration → APN/PDP → clock → `AT+QMTOPEN` →
//! `AT+QMTCONN`. Each probe passes, warns or fails with what the answer means and the likely
//! fix ([`explain`]); a probe that cannot run because an earlier one failed is skipped. The
//! MQTT session the doctor opened is always closed again. The configuration and credentials
//! come from the same script `run` uses ([`crate::script`]), signed with the clock the
//! [`crate::clock`] probe chose. No secret is ever printed: every text passes through
//! [`crate::profile::mask`] with the profile's and the derived secrets.

use std::path::Path;
use std::time::Duration;

use quectel_mqtt::commands::{
    At, Close, Disconnect, PdpContextQuery, SetEcho, SignalQuality, SimState, SimStatusQuery,
    QUICK_TIMEOUT,
};
use quectel_mqtt::driver::{open_serial_async, Client};
use quectel_mqtt::request::{Completion, Info, Request};
use quectel_mqtt::Error;
use serde::Serialize;

use crate::clock::{Clock, ClockSource, ClockStatus, HostClock};
use crate::profile::{CloudKind, Profile};
use crate::script::{self, Step};
use crate::AgentError;

#[path = "doctor_explain.rs"]
pub mod explain;

use explain::{
    connack_hint, connack_meaning, open_result, registration_hint, registration_meaning,
    SignalRating,
};

/// How a probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fine.
    Pass,
    /// Works, but worth a look.
    Warn,
    /// Broken: the device cannot reach the cloud until this is fixed.
    Fail,
    /// Not run: an earlier probe failed.
    Skip,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
        }
    }
}

/// One probe's result.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// `port`, `at`, `sim`, `signal`, `registration`, `pdp`, `clock`, `mqtt_open`,
    /// `mqtt_connect`.
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do about it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// No probe failed.
    pub ok: bool,
    /// The cloud of the profile.
    pub cloud: &'static str,
    /// The serial port.
    pub port: String,
    /// The probes in order.
    pub probes: Vec<Probe>,
    /// The clock's choice, when the module was reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockStatus>,
}

/// The probes, in order (every one appears in a report).
pub const PROBES: [&str; 9] = [
    "port",
    "at",
    "sim",
    "signal",
    "registration",
    "pdp",
    "clock",
    "mqtt_open",
    "mqtt_connect",
];

struct Run {
    probes: Vec<Probe>,
    secrets: Vec<String>,
}

impl Run {
    fn add(&mut self, name: &'static str, outcome: Outcome, detail: String, hint: Option<String>) {
        let mask = |t: String| crate::profile::mask(&t, &self.secrets);
        self.probes.push(Probe {
            name,
            outcome,
            detail: mask(detail),
            hint: hint.map(mask),
        });
    }

    fn pass(&mut self, name: &'static str, detail: String) {
        self.add(name, Outcome::Pass, detail, None);
    }

    fn fail(&mut self, name: &'static str, detail: String, hint: impl Into<String>) {
        self.add(name, Outcome::Fail, detail, Some(hint.into()));
    }

    /// Marks every probe not run yet as skipped.
    fn skip_rest(&mut self) {
        for name in PROBES {
            if !self.probes.iter().any(|p| p.name == name) {
                self.add(
                    name,
                    Outcome::Skip,
                    "not run: an earlier probe failed".into(),
                    None,
                );
            }
        }
    }
}

/// Runs the probes of the profile at `path`. `host_clock` replaces the system clock (tests).
/// Profile errors are returned; everything the probes find is in the report.
pub async fn run(path: &Path, host_clock: Option<HostClock>) -> Result<Report, AgentError> {
    let (profile, platform) = crate::commands::load(path)?;
    let mut clock = host_clock.map(Clock::with_host).unwrap_or_default();
    let mut r = Run {
        probes: Vec::new(),
        secrets: profile.secrets(),
    };
    let clock_status = probe_all(&profile, platform.as_ref(), &mut clock, &mut r).await;
    r.skip_rest();
    Ok(Report {
        ok: r.probes.iter().all(|p| p.outcome != Outcome::Fail),
        cloud: profile.cloud.platform.as_str(),
        port: profile.module.port.clone(),
        probes: r.probes,
        clock: clock_status,
    })
}

async fn probe_all(
    profile: &Profile,
    platform: &dyn thing_model::Platform,
    clock: &mut Clock,
    r: &mut Run,
) -> Option<ClockStatus> {
    let port = &profile.module.port;
    let serial = match open_serial_async(port, profile.module.baud).await {
        Ok(s) => s,
        Err(e) => {
            r.fail(
                "port",
                format!("cannot open {port}: {e}"),
                "check module.port (the AT port: ttyUSB2 on most EC200/EC600 boards), that \
                 this user may open it (the dialout group), and that no other program \
                 (ModemManager) holds it",
            );
            return None;
        }
    };
    r.pass(
        "port",
        format!("{port} opened at {} baud", profile.module.baud),
    );
    let (client, task) = Client::spawn(serial);
    // Let a pending power-up `RDY` drain before the first command.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = probe_module(profile, platform, clock, &client, r).await;
    task.abort();
    status
}

async fn probe_module(
    profile: &Profile,
    platform: &dyn thing_model::Platform,
    clock: &mut Clock,
    client: &Client,
    r: &mut Run,
) -> Option<ClockStatus> {
    let mut answered = false;
    for _ in 0..3 {
        if client.execute(At).await.is_ok() {
            answered = true;
            break;
        }
    }
    if !answered {
        r.fail(
            "at",
            "the module does not answer AT (three tries)".into(),
            "check module.baud, that module.port is the AT port (not the NMEA or modem port), \
             and that the module is powered; a module that stopped answering needs a power \
             cycle",
        );
        return None;
    }
    r.pass("at", "the module answers AT".into());
    let _ = client.execute(SetEcho { on: false }).await;

    match client.execute(SimStatusQuery).await {
        Ok(SimState::Ready) => r.pass("sim", "+CPIN: READY".into()),
        Ok(state) => r.fail(
            "sim",
            format!("the SIM is not ready: {state:?}"),
            "the SIM waits for a PIN or PUK: unlock it once in a phone, or disable its PIN",
        ),
        Err(e) => r.fail(
            "sim",
            format!("AT+CPIN?: {e}"),
            "+CME ERROR 10 means no SIM: check that it is inserted the right way and the \
             holder is closed",
        ),
    }

    match client.execute(SignalQuality).await {
        Ok(s) => {
            let rating = SignalRating::of(s.rssi);
            let dbm = s.dbm().map(|d| format!(" ({d} dBm)")).unwrap_or_default();
            let outcome = match rating {
                SignalRating::Marginal | SignalRating::Unknown => Outcome::Warn,
                _ => Outcome::Pass,
            };
            r.add(
                "signal",
                outcome,
                format!("rssi {}{dbm}: {}", s.rssi, rating.as_str()),
                rating.hint().map(str::to_string),
            );
        }
        Err(e) => r.add("signal", Outcome::Warn, format!("AT+CSQ: {e}"), None),
    }

    probe_registration(client, r).await;
    // `run` sets the APN at bring-up: so does the doctor, from the same script.
    let apn_step = script::build(profile, platform, clock.now_ms())
        .ok()
        .and_then(|s| s.steps.into_iter().find(|s| matches!(s, Step::Apn(_))));
    probe_pdp(profile, apn_step, client, r).await;
    let status = probe_clock(client, clock, r).await;
    if r.probes.iter().any(|p| p.outcome == Outcome::Fail) {
        return Some(status);
    }
    probe_mqtt(profile, platform, clock, client, r).await;
    Some(clock.status())
}

/// A query this crate has no typed command for; the lines after `prefix`.
async fn query(
    client: &Client,
    name: &'static str,
    line: &str,
    prefix: &'static str,
) -> Result<Vec<String>, Error> {
    let request = Request {
        name,
        line: line.as_bytes().to_vec(),
        data: None,
        info: Info::Prefix(prefix),
        completion: Completion::Final,
        timeout: QUICK_TIMEOUT,
        effect: None,
        secret: false,
    };
    let response = client.raw(request).await?;
    Ok(response
        .info
        .iter()
        .map(|l| l.trim_start_matches(prefix).trim().to_string())
        .collect())
}

/// The `<stat>` of a `+CEREG: <n>,<stat>…` / `+CREG: <n>,<stat>…` read.
fn stat_of(lines: &[String]) -> Option<u8> {
    lines
        .iter()
        .find_map(|l| l.split(',').nth(1).and_then(|s| s.trim().parse().ok()))
}

async fn probe_registration(client: &Client, r: &mut Run) {
    let eps = query(client, "AT+CEREG", "AT+CEREG?", "+CEREG:").await;
    let cs = query(client, "AT+CREG", "AT+CREG?", "+CREG:").await;
    let eps = eps.ok().as_deref().and_then(stat_of);
    let cs = cs.ok().as_deref().and_then(stat_of);
    let describe = |what: &str, stat: Option<u8>| match stat {
        Some(s) => format!("{what} {s} ({})", registration_meaning(s).0),
        None => format!("{what} unreadable"),
    };
    let detail = format!(
        "{}; {}",
        describe("EPS (+CEREG)", eps),
        describe("CS (+CREG)", cs)
    );
    let data_ok = eps.is_some_and(|s| registration_meaning(s).1);
    if data_ok {
        r.pass("registration", detail);
    } else {
        let hint = registration_hint(eps.unwrap_or(4));
        r.fail("registration", detail, hint);
    }
}

async fn probe_pdp(profile: &Profile, apn_step: Option<Step>, client: &Client, r: &mut Run) {
    if let Some(step) = apn_step {
        if let Err(e) = crate::link::run_step(client, profile, &step).await {
            r.fail(
                "pdp",
                format!("setting the APN: {e}"),
                "the module refused module.apn: check its spelling (at most 100 bytes)",
            );
            return;
        }
    }
    // The APN only: the reply also holds the PDP password, which is never shown.
    let apn = client
        .execute(PdpContextQuery { context: 1 })
        .await
        .map(|c| c.apn);
    let active = query(client, "AT+CGACT", "AT+CGACT?", "+CGACT:").await;
    let address = query(client, "AT+CGPADDR", "AT+CGPADDR=1", "+CGPADDR:").await;
    let active = active.ok().and_then(|lines| {
        lines
            .iter()
            .find(|l| l.split(',').next().map(str::trim) == Some("1"))
            .map(|l| l.split(',').nth(1).map(str::trim) == Some("1"))
    });
    let address = address.ok().and_then(|lines| {
        lines
            .first()
            .and_then(|l| l.split(',').nth(1))
            .map(|a| a.trim().trim_matches('"').to_string())
            .filter(|a| !a.is_empty() && a != "0.0.0.0")
    });
    let apn_text = match &apn {
        Ok(a) if a.is_empty() => "APN (context 1) not set: the network's default".to_string(),
        Ok(a) => format!("APN (context 1) \"{a}\""),
        Err(e) => format!("AT+QICSGP=1: {e}"),
    };
    let state = match (active, &address) {
        (Some(true), Some(a)) => format!("active, address {a}"),
        (Some(true), None) => "active, no address".to_string(),
        (Some(false), _) => "not active".to_string(),
        (None, _) => "state unreadable (AT+CGACT?)".to_string(),
    };
    let detail = format!("{apn_text}; context 1 {state}");
    let mismatch = match (&apn, &profile.module.apn) {
        (Ok(a), Some(want)) if a != want => Some(format!(
            "the module's APN differs from module.apn (\"{want}\"): `run` sets it at bring-up"
        )),
        _ => None,
    };
    if active == Some(false) {
        let hint = "AT+QMTOPEN activates it; if the open then fails with result 3, check the \
                    APN with the carrier (module.apn) and the SIM's data plan";
        r.add("pdp", Outcome::Warn, detail, Some(hint.to_string()));
    } else if let Some(m) = mismatch {
        r.add("pdp", Outcome::Warn, detail, Some(m));
    } else {
        r.pass("pdp", detail);
    }
}

async fn probe_clock(client: &Client, clock: &mut Clock, r: &mut Run) -> ClockStatus {
    let network = crate::clock::module_network_time(client).await;
    let status = clock.on_network_time(network);
    let host = clock.host_now_ms();
    let mut detail = format!(
        "source {}: {}; host clock {}",
        status.source.as_str(),
        status.reason,
        crate::clock::format_ms(host),
    );
    match status.network_skew_ms {
        Some(s) => detail.push_str(&format!(
            ", network time {} (network − host {})",
            crate::clock::format_ms(host + s),
            crate::clock::format_skew(s)
        )),
        None => detail.push_str(", no network time"),
    }
    detail.push_str(&format!(
        "; skew (corrected − host) {}",
        crate::clock::format_skew(status.skew_ms)
    ));
    let hint = match status.source {
        ClockSource::HostUnverified => Some(
            "no trustworthy time before connecting: set the host clock (an RTC, or NTP over \
             another link) — clouds that check timestamps (Huawei sign_type 1, OneNET token \
             expiry) will refuse the login",
        ),
        ClockSource::Network => Some(
            "the host clock is wrong; the agent signs with the network time instead — fix the \
             host clock (RTC battery, NTP) to be safe",
        ),
        _ => None,
    };
    let outcome = if hint.is_some() {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    r.add("clock", outcome, detail, hint.map(str::to_string));
    status
}

async fn probe_mqtt(
    profile: &Profile,
    platform: &dyn thing_model::Platform,
    clock: &Clock,
    client: &Client,
    r: &mut Run,
) {
    let cloud = profile.cloud.platform;
    let script = match script::build(profile, platform, clock.now_ms()) {
        Ok(s) => s,
        Err(e) => {
            r.fail(
                "mqtt_open",
                format!("credentials: {e}"),
                "fix the [cloud] section of the profile",
            );
            return;
        }
    };
    r.secrets.extend(script.secrets.iter().cloned());
    let idx = profile.module.client_index;
    let mut opened = false;
    for step in script.steps.iter().filter(|s| !script::is_bringup(s)) {
        match step {
            Step::Open(open) => {
                let target = format!("{}:{}", open.host, open.port);
                match client.execute(open.clone()).await {
                    Ok(_) => {
                        opened = true;
                        r.pass("mqtt_open", format!("+QMTOPEN result 0: {target} opened"));
                    }
                    Err(Error::Open(result)) => {
                        let (meaning, fix) = open_result(result.code());
                        r.fail(
                            "mqtt_open",
                            format!("+QMTOPEN result {}: {meaning} ({target})", result.code()),
                            fix,
                        );
                        break;
                    }
                    Err(e) => {
                        r.fail(
                            "mqtt_open",
                            format!("AT+QMTOPEN {target}: {e}"),
                            open_result(-1).1,
                        );
                        break;
                    }
                }
            }
            Step::Connect(connect) => {
                probe_connect(cloud, client, connect.clone(), r).await;
                break;
            }
            Step::Subscribe(..) => break,
            other => {
                if let Err(e) = crate::link::run_step(client, profile, other).await {
                    r.fail(
                        "mqtt_open",
                        format!("configuring client {idx}: {e}"),
                        "the module refused the MQTT configuration: check the [cloud] and \
                         [tls] sections; power-cycle the module if it persists",
                    );
                    break;
                }
            }
        }
    }
    if opened {
        // Close what the doctor opened, whatever happened.
        let _ = client.execute(Disconnect { client: idx }).await;
        let _ = client.execute(Close { client: idx }).await;
    }
}

async fn probe_connect(
    cloud: CloudKind,
    client: &Client,
    connect: quectel_mqtt::commands::Connect,
    r: &mut Run,
) {
    match client.execute(connect).await {
        Ok(_) => r.pass(
            "mqtt_connect",
            "+QMTCONN result 0, ret_code 0: connection accepted".into(),
        ),
        Err(Error::Connect { result, ret_code }) => {
            let detail = match ret_code {
                Some(code) => format!(
                    "+QMTCONN result {}, ret_code {}: {}",
                    result.code(),
                    code.code(),
                    connack_meaning(code.code())
                ),
                None => format!("+QMTCONN {result}: no CONNACK"),
            };
            let hint = match ret_code {
                Some(code) => connack_hint(cloud, code.code()),
                None => "the broker never answered the login: check host, port and TLS \
                         (cloud.tls); a port that expects TLS silently drops a plain CONNECT"
                    .into(),
            };
            r.fail("mqtt_connect", detail, hint);
        }
        Err(e) => r.fail(
            "mqtt_connect",
            format!("AT+QMTCONN: {e}"),
            "the link closed before the login finished (+QMTSTAT): the broker refused the \
             connection — check the credentials and the host",
        ),
    }
}

/// The report as text, one line per probe and a hint under each problem.
pub fn render_text(report: &Report) -> String {
    let mut out = format!(
        "cellagent doctor: {} cloud, module on {}\n",
        report.cloud, report.port
    );
    for p in &report.probes {
        out.push_str(&format!(
            "{:<5} {:<13} {}\n",
            p.outcome.label(),
            p.name,
            p.detail
        ));
        if let Some(h) = &p.hint {
            out.push_str(&format!("{:<19} fix: {h}\n", ""));
        }
    }
    let count = |o| report.probes.iter().filter(|p| p.outcome == o).count();
    out.push_str(&format!(
        "result: {} ({} passed, {} warnings, {} failed, {} skipped)\n",
        if report.ok { "OK" } else { "FAILED" },
        count(Outcome::Pass),
        count(Outcome::Warn),
        count(Outcome::Fail),
        count(Outcome::Skip),
    ));
    out
}

/// `cellagent doctor`: runs the probes, prints the report (text or JSON) and returns the exit
/// code: 0 when no probe failed, 1 otherwise.
pub async fn doctor(
    path: &Path,
    json: bool,
    out: &mut dyn std::io::Write,
) -> Result<i32, AgentError> {
    let report = run(path, None).await?;
    let text = if json {
        serde_json::to_string(&report).map_err(|e| AgentError::Runtime(e.to_string()))? + "\n"
    } else {
        render_text(&report)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| AgentError::Runtime(format!("I/O: {e}")))?;
    Ok(if report.ok { 0 } else { 1 })
}
