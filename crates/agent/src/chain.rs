//! The emulated chain for `demo` and the end-to-end tests: `cloud-sim` (embedded broker or an
//! upstream one), `modem-sim` on a pty, and the `cellagent run` process between them, fed and
//! read as JSON Lines. Every wait is bounded.
//!
//! This file depends only on `cloud_sim`, `modem_sim`, `tokio`, `serde_json` and `tempfile`,
//! so the integration tests include it with `#[path]`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_sim::{Cloud, CloudSim, Config, Kind, Record, Registry};
use modem_sim::{SimConfig, Simulator};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

/// The demo profiles, as shipped in `profiles/`.
pub const DEMO_ALIYUN: &str = include_str!("../../../profiles/demo-aliyun.toml");
/// OneNET demo profile.
pub const DEMO_ONENET: &str = include_str!("../../../profiles/demo-onenet.toml");
/// Huawei demo profile.
pub const DEMO_HUAWEI: &str = include_str!("../../../profiles/demo-huawei.toml");
const LIGHT_TSL: &str = include_str!("../../../profiles/models/light.tsl.json");
const ONENET_MODEL: &str = include_str!("../../../profiles/models/onenet-thermo.json");

/// The demo devices' secrets (for the tests that check nothing leaks).
pub const SECRETS: &[&str] = &[
    "0123456789abcdef0123456789abcdef",
    "Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=",
    "s3cr3t-Passw0rd",
    "pr0duct-Secret",
];

/// Which cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Aliyun, host-side signing.
    Aliyun,
    /// OneNET, host-side token.
    Onenet,
    /// Huawei, module-side hwauth.
    Huawei,
}

impl Which {
    /// The cloud-sim device key.
    pub fn device(self) -> &'static str {
        match self {
            Which::Aliyun => "a1B2c3D4e5F/dev-001",
            Which::Onenet => "Aw9oB4n7zB/dev-001",
            Which::Huawei => "5f1a2b3c4d_dev001",
        }
    }

    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Which::Aliyun => "aliyun",
            Which::Onenet => "onenet",
            Which::Huawei => "huawei",
        }
    }

    fn registry(self) -> String {
        match self {
            Which::Aliyun => "cloud = \"aliyun\"\n[[product]]\nid = \"a1B2c3D4e5F\"\nmodel = \"models/light.tsl.json\"\n\
                 [[device]]\nproduct = \"a1B2c3D4e5F\"\nname = \"dev-001\"\nsecret = \"0123456789abcdef0123456789abcdef\"\n"
                .into(),
            Which::Onenet => "cloud = \"onenet\"\n[[product]]\nid = \"Aw9oB4n7zB\"\nmodel = \"models/onenet-thermo.json\"\n\
                 [[device]]\nproduct = \"Aw9oB4n7zB\"\nname = \"dev-001\"\nsecret = \"Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=\"\n"
                .into(),
            Which::Huawei => "cloud = \"huawei\"\n[[product]]\nid = \"5f1a2b3c4d\"\nsecret = \"pr0duct-Secret\"\ndynamic_registration = true\n[[device]]\nproduct = \"5f1a2b3c4d\"\nname = \"dev001\"\nsecret = \"s3cr3t-Passw0rd\"\n"
                .into(),
        }
    }

    fn cloud(self) -> Cloud {
        match self {
            Which::Aliyun => Cloud::Aliyun,
            Which::Onenet => Cloud::Onenet,
            Which::Huawei => Cloud::Huawei,
        }
    }

    fn profile(self) -> &'static str {
        match self {
            Which::Aliyun => DEMO_ALIYUN,
            Which::Onenet => DEMO_ONENET,
            Which::Huawei => DEMO_HUAWEI,
        }
    }
}

/// cloud-sim + modem-sim on a pty + a profile pointing at both.
pub struct Chain {
    /// The emulated cloud.
    pub sim: CloudSim,
    /// The emulated module (inject faults here).
    pub modem: Simulator,
    /// The pty the agent opens.
    pub pty: String,
    /// The profile written for this chain.
    pub profile: PathBuf,
    /// Which cloud.
    pub which: Which,
    /// Holds the profile, models and store.
    pub dir: tempfile::TempDir,
}

/// Starts the chain. `baud` 0 = unpaced; `upstream` = an external broker for cloud-sim.
pub async fn start(which: Which, baud: u32, upstream: Option<String>) -> Result<Chain, String> {
    start_with_models(which, baud, upstream, &[]).await
}

/// The shipped demo models, as JSON text: (Aliyun TSL `light.tsl.json`, OneNET
/// `onenet-thermo.json`). The soak extends them with its own property.
pub fn demo_models() -> (&'static str, &'static str) {
    (LIGHT_TSL, ONENET_MODEL)
}

/// [`start`], with model files replaced (or added) under `models/` before the cloud and the
/// agent read them: `(file name, JSON text)`, e.g. `("light.tsl.json", …)`.
pub async fn start_with_models(
    which: Which,
    baud: u32,
    upstream: Option<String>,
    replace: &[(&str, String)],
) -> Result<Chain, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).map_err(|e| e.to_string())?;
    std::fs::write(models.join("light.tsl.json"), LIGHT_TSL).map_err(|e| e.to_string())?;
    std::fs::write(models.join("onenet-thermo.json"), ONENET_MODEL).map_err(|e| e.to_string())?;
    for (name, text) in replace {
        std::fs::write(models.join(name), text).map_err(|e| e.to_string())?;
    }
    let registry = Registry::from_toml(&which.registry(), which.cloud(), dir.path())
        .map_err(|e| format!("registry: {e}"))?;
    let mut config = Config::new(which.cloud(), registry);
    config.upstream = upstream;
    let sim = CloudSim::start(config)
        .await
        .map_err(|e| format!("cloud-sim: {e}"))?;
    let modem = Simulator::new(SimConfig {
        baud,
        ..SimConfig::default()
    });
    let (master, pty) = Simulator::open_pty().map_err(|e| format!("pty: {e}"))?;
    let m = modem.clone();
    tokio::spawn(async move { m.run_session(master).await });
    let profile = dir.path().join(format!("{}.toml", which.name()));
    let text = which
        .profile()
        .replace("port = \"/dev/null\"", &format!("port = {pty:?}"))
        .replace("port = 1883", &format!("port = {}", sim.addr().port()));
    std::fs::write(&profile, text).map_err(|e| e.to_string())?;
    Ok(Chain {
        sim,
        modem,
        pty,
        profile,
        which,
        dir,
    })
}

impl Chain {
    /// The first cloud record matching `pred` within `timeout`.
    pub async fn record(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Record) -> bool,
    ) -> Result<Record, String> {
        self.sim
            .wait_for(&pred, timeout)
            .await
            .ok_or_else(|| format!("the cloud never logged {what} within {timeout:?}"))
    }

    /// Uplinks of this device seen by the cloud so far.
    pub fn uplinks(&self) -> Vec<Record> {
        self.sim
            .records()
            .into_iter()
            .filter(|r| r.kind == Kind::Uplink)
            .collect()
    }
}

/// A running `cellagent run` process.
pub struct AgentProc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Every stdout line so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// Everything on stderr so far.
    pub stderr: Arc<Mutex<String>>,
    /// Lines read by [`AgentProc::wait`] so far.
    pub seen: Vec<Value>,
    unmatched: Vec<Value>,
}

impl AgentProc {
    /// Starts `bin run --profile profile [args]` with `env` added.
    pub fn spawn(
        bin: &Path,
        profile: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Result<AgentProc, String> {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.arg("run")
            .arg("--profile")
            .arg(profile)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped");
        let mut err = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::unbounded_channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let log = stdout.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(out).lines();
            while let Ok(Some(line)) = r.next_line().await {
                log.lock().unwrap().push(line.clone());
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let e2 = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                e2.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Ok(AgentProc {
            child,
            stdin,
            lines,
            stdout,
            stderr,
            seen: Vec::new(),
            unmatched: Vec::new(),
        })
    }

    /// Writes one app line.
    pub async fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("agent stdin: {e}"))
    }

    /// The first stdout line matching `pred` within `timeout`, in any order: lines read
    /// earlier by other waits and not matched by them are considered first.
    pub async fn wait(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        if let Some(i) = self.unmatched.iter().position(&pred) {
            return Ok(self.unmatched.remove(i));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return Ok(v);
                    }
                    self.unmatched.push(v);
                }
                Ok(None) => {
                    return Err(format!(
                        "the agent exited before {what}; stderr:\n{}",
                        self.stderr()
                    ))
                }
                Err(_) => {
                    return Err(format!(
                    "no {what} from the agent within {timeout:?}; stdout so far:\n{}\nstderr:\n{}",
                    self.stdout.lock().unwrap().join("\n"),
                    self.stderr()
                ))
                }
            }
        }
    }

    /// The next stdout line (JSON) within `timeout`: `Ok(None)` when none came in time,
    /// `Err` when the agent's stdout ended (it exited). Lines are not kept in `seen`.
    pub async fn next_line(&mut self, timeout: Duration) -> Result<Option<Value>, String> {
        if !self.unmatched.is_empty() {
            return Ok(Some(self.unmatched.remove(0)));
        }
        match tokio::time::timeout(timeout, self.lines.recv()).await {
            Ok(Some(v)) => Ok(Some(v)),
            Ok(None) => Err("the agent's stdout ended".into()),
            Err(_) => Ok(None),
        }
    }

    /// SIGKILL (no chance to clean up, as on a power cut), then waits for the exit.
    pub async fn kill(mut self) -> Result<(), String> {
        self.child
            .start_kill()
            .map_err(|e| format!("SIGKILL the agent: {e}"))?;
        self.child
            .wait()
            .await
            .map(|_| ())
            .map_err(|e| format!("wait for the killed agent: {e}"))
    }

    /// The agent's process id (for `/proc/<pid>/…`), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit code (bounded wait; killed if it does not exit).
    pub async fn terminate(mut self, timeout: Duration) -> Result<i32, String> {
        if std::env::var_os("CELLAGENT_TEST_DUMP").is_some() {
            eprintln!("--- agent stderr ---\n{}", self.stderr());
        }
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => Ok(status.code().unwrap_or(-1)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(format!(
                    "the agent did not exit within {timeout:?} of SIGTERM"
                ))
            }
        }
    }
}

/// `{"status": s}` lines.
pub fn is_status(v: &Value, s: &str) -> bool {
    v.get("status").and_then(Value::as_str) == Some(s)
}
