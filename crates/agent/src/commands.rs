//! The offline subcommands: `sign`, `check`, `encode`, `decode`. They need no module.

use std::io::{BufRead, Write};
use std::path::Path;

use thing_model::{AgentLine, Downlink, Platform};

use crate::cloud::build_platform;
use crate::profile::{AuthMode, Profile};
use crate::{bridge, script, AgentError};

fn io_err(e: std::io::Error) -> AgentError {
    AgentError::Runtime(format!("I/O: {e}"))
}

/// Loads the profile and builds its platform. Warns on stderr (once: each subcommand loads
/// once) about secret files other users can read.
pub fn load(path: &Path) -> Result<(Profile, Box<dyn Platform>), AgentError> {
    let profile = Profile::load(path)?;
    for warning in crate::perms::exposed_secret_files(path, &profile) {
        eprintln!("cellagent: warning: {warning}");
    }
    let platform = build_platform(&profile)?;
    Ok((profile, platform))
}

/// `sign`: the MQTT connect parameters as one JSON object.
pub fn sign(path: &Path, at_ms: Option<i64>, out: &mut dyn Write) -> Result<(), AgentError> {
    let (_, platform) = load(path)?;
    let now = at_ms.unwrap_or_else(crate::now_ms);
    let c = platform
        .connect(now)
        .map_err(|e| AgentError::Runtime(e.to_string()))?;
    let v = serde_json::json!({
        "client_id": c.client_id,
        "username": c.username,
        "password": c.password.expose(),
        "host": c.host,
        "port": c.port,
        "tls": c.tls,
        "keepalive": c.keepalive_s,
    });
    writeln!(out, "{v}").map_err(io_err)
}

/// `check`: validates the profile and the thing model, prints the AT script (secrets masked).
pub fn check(path: &Path, out: &mut dyn Write) -> Result<(), AgentError> {
    let (profile, platform) = load(path)?;
    let script = script::build(&profile, platform.as_ref(), crate::now_ms())
        .map_err(|e| AgentError::Usage(e.to_string()))?;
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(io_err);
    w(out, format!("# profile {}: OK", path.display()))?;
    w(
        out,
        format!(
            "# cloud {} ({} auth), module {} @ {} baud, client {}",
            platform.cloud(),
            match profile.cloud.auth {
                AuthMode::Host => "host",
                AuthMode::Module => "module",
            },
            profile.module.port,
            profile.module.baud,
            profile.module.client_index
        ),
    )?;
    match platform.thing_model() {
        Some(m) => w(
            out,
            format!(
                "# thing model: {} properties, {} events, {} services",
                m.properties.len(),
                m.events.len(),
                m.services.len()
            ),
        )?,
        None => w(out, "# thing model: none (values are not checked)".into())?,
    }
    match &profile.store {
        Some(s) => w(
            out,
            format!(
                "# store: {} (at most {} messages, {} bytes; new lines are refused when full)",
                profile.resolve(&s.path).display(),
                s.max_messages,
                s.max_bytes
            ),
        )?,
        None => w(
            out,
            "# store: none configured (`run` needs [store] path)".into(),
        )?,
    }
    w(out, "# the script `run` sends (secrets masked):".into())?;
    for line in script.masked_lines() {
        w(out, line)?;
    }
    w(out, "# on SIGINT / SIGTERM:".into())?;
    for line in script::Script::shutdown_lines(profile.module.client_index) {
        w(out, line)?;
    }
    Ok(())
}

/// `encode`: one output line per app line on `input`. Returns the number of failed lines.
pub fn encode(
    path: &Path,
    first_id: u32,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<u64, AgentError> {
    let (_, platform) = load(path)?;
    let mut failed = 0;
    let mut id = first_id;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(io_err)?;
        if line.trim().is_empty() {
            continue;
        }
        let text = bridge::encode_line(platform.as_ref(), &line, n as u64 + 1, id);
        if text.starts_with("{\"error\"") {
            failed += 1;
        }
        id = id.wrapping_add(1).max(1);
        writeln!(out, "{text}").map_err(io_err)?;
    }
    Ok(failed)
}

/// `decode`: the app line for a payload received on `topic`. `Ok(false)` when it failed.
pub fn decode(
    path: &Path,
    topic: &str,
    payload: &[u8],
    out: &mut dyn Write,
) -> Result<bool, AgentError> {
    let (_, platform) = load(path)?;
    let line = match platform.decode(topic, payload) {
        Ok(Some(Downlink::Time(t))) => AgentLine::Time(t.utc_ms(crate::now_ms())).to_line(),
        Ok(Some(d)) => AgentLine::Downlink(d).to_line(),
        Ok(None) => {
            eprintln!(
                "cellagent: the message on `{topic}` is handled by the agent; nothing for the app"
            );
            return Ok(true);
        }
        Err(e) => {
            writeln!(
                out,
                "{}",
                AgentLine::Error {
                    error: e.to_string(),
                    line: None
                }
                .to_line()
            )
            .map_err(io_err)?;
            return Ok(false);
        }
    };
    writeln!(out, "{line}").map_err(io_err)?;
    Ok(true)
}
