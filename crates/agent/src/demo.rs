//! `cellagent demo`: for each cloud, start `cloud-sim` and `modem-sim` (on a pty, paced like a
//! 115200-baud UART) in-process, run `cellagent run` with `profiles/demo-<cloud>.toml` as a
//! child process, feed it telemetry, send it a downlink, answer it, and print each step.
//! Succeeds only when every step worked.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thing_model::Downlink;

use crate::chain::{is_status, start, AgentProc, Chain, Which};
use crate::AgentError;

const T: Duration = Duration::from_secs(15);

fn step(n: &mut u32, text: impl AsRef<str>) {
    *n += 1;
    println!("  {n:>2}. {}", text.as_ref());
}

fn telemetry(which: Which) -> (&'static str, &'static str) {
    match which {
        Which::Aliyun => (
            r#"{"properties":{"LightSwitch":1,"Brightness":60},"id":"demo-1"}"#,
            "LightSwitch",
        ),
        Which::Onenet => (
            r#"{"properties":{"temp":23.5,"Power":true},"id":"demo-1"}"#,
            "Power",
        ),
        Which::Huawei => (
            r#"{"properties":{"temperature":21.5,"humidity":40},"id":"demo-1"}"#,
            "switch",
        ),
    }
}

async fn one(which: Which) -> Result<(), String> {
    let mut n = 0;
    println!("\n== {} ==", which.name());
    let c: Chain = start(which, 115_200, None).await?;
    step(
        &mut n,
        format!(
            "cloud-sim ({}) on {}; modem-sim on {} at 115200 baud",
            which.name(),
            c.sim.addr(),
            c.pty
        ),
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut a = AgentProc::spawn(&exe, &c.profile, &[], &[])?;
    step(
        &mut n,
        format!("cellagent run --profile {}", c.profile.display()),
    );
    a.wait(T, "connected", |v| is_status(v, "connected"))
        .await?;
    let login = c
        .record(T, "the login", |r| r.kind == cloud_sim::Kind::Connect)
        .await?;
    step(
        &mut n,
        format!(
            "module up, logged in as {:?}: {{\"status\":\"connected\"}}",
            login.client_id.unwrap_or_default()
        ),
    );

    let (line, set_name) = telemetry(which);
    a.send(line).await?;
    step(&mut n, format!("app → agent   {line}"));
    a.wait(T, "delivered", |v| v["delivered"] == "demo-1")
        .await?;
    let up = c
        .record(T, "the telemetry", |r| {
            r.kind == cloud_sim::Kind::Uplink
                && r.topic.as_deref().is_some_and(|t| t.contains("propert"))
        })
        .await?;
    step(
        &mut n,
        format!(
            "cloud got     {} {}",
            up.topic.unwrap_or_default(),
            up.payload.map(|p| p.to_string()).unwrap_or_default()
        ),
    );
    step(
        &mut n,
        "agent → app   {\"delivered\":\"demo-1\"} (+QMTPUBEX 0: left the on-disk store)",
    );
    if which != Which::Huawei {
        let ack = a
            .wait(T, "the cloud's ack", |v| v["ack"] == "demo-1")
            .await?;
        step(&mut n, format!("agent → app   {ack}"));
    }

    let mut values = serde_json::Map::new();
    values.insert(set_name.into(), json!(0));
    if which == Which::Onenet {
        values.insert(set_name.into(), json!(false));
    }
    let service = (which == Which::Huawei).then(|| "Sensor".to_string());
    let sent = c
        .sim
        .send_downlink(
            which.device(),
            Downlink::Set {
                id: String::new(),
                values,
                service,
            },
        )
        .await
        .map_err(|e| format!("downlink: {e}"))?;
    step(&mut n, format!("cloud → device set on {}", sent.topic));
    let set: Value = a.wait(T, "the set", |v| v.get("set").is_some()).await?;
    step(&mut n, format!("agent → app   {set}"));
    let reply = format!(
        r#"{{"reply":"{}","code":200}}"#,
        set["id"].as_str().unwrap_or_default()
    );
    a.send(&reply).await?;
    step(&mut n, format!("app → agent   {reply}"));
    let ans = c
        .record(T, "the reply", |r| {
            r.kind == cloud_sim::Kind::Answer && r.id.as_deref() == Some(&sent.id)
        })
        .await?;
    step(
        &mut n,
        format!(
            "cloud got the answer to {} (code {})",
            sent.id,
            ans.code.unwrap_or_default()
        ),
    );
    let code = a.terminate(T).await?;
    if code != 0 {
        return Err(format!("cellagent exited with {code} after SIGTERM"));
    }
    step(&mut n, "SIGTERM → AT+QMTDISC, AT+QMTCLOSE, exit 0");
    Ok(())
}

/// Runs the demo for the three clouds.
pub async fn run() -> Result<(), AgentError> {
    let started = Instant::now();
    println!(
        "cellagent demo: app ⇄ cellagent ⇄ modem-sim (pty) ⇄ cloud-sim, no hardware, no account"
    );
    let mut failed = Vec::new();
    for which in [Which::Aliyun, Which::Onenet, Which::Huawei] {
        if let Err(e) = one(which).await {
            println!("  FAILED: {e}");
            failed.push(which.name());
        }
    }
    if failed.is_empty() {
        println!(
            "\nevery step worked ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        Err(AgentError::Runtime(format!(
            "demo failed for {}",
            failed.join(", ")
        )))
    }
}
