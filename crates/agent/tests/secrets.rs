//! No secret in the agent's output, for each cloud, at `RUST_LOG=trace`: through a connect, a
//! reconnect after a dropped link, an `ERROR` reply and a login refused for a wrong secret.
//! What is searched for: the profile's secrets (right and wrong), every password the agent
//! actually sent in `AT+QMTCONN` (read off the serial line with a tap), the OneNET token's
//! `sign`, and the Huawei password the module derives (computed with `cloud_huawei` for the
//! client ids cloud-sim logged). The tap is checked to have seen them, so the search is real.
//!
//! And the permission warning: a profile holding a secret, a `…_file` secret or a TLS client
//! key readable by group / others is named once on stderr with `chmod 600`.

#[path = "../src/chain.rs"]
mod chain;

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which, SECRETS};
use cloud_sim::Kind;
use modem_sim::{Fault, SimConfig, Simulator};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const T: Duration = Duration::from_secs(20);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

/// The module's side of the pty, keeping a copy of every byte the host wrote.
struct Tap<S> {
    inner: S,
    from_host: Arc<Mutex<Vec<u8>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let new = buf.filled()[before..].to_vec();
            self.from_host.lock().unwrap().extend(new);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A tapped modem-sim on a new pty: (simulator for faults, pty path, bytes from the host).
fn tapped_module() -> (Simulator, String, Arc<Mutex<Vec<u8>>>) {
    let sim = Simulator::new(SimConfig {
        baud: 0,
        ..SimConfig::default()
    });
    let (master, pty) = Simulator::open_pty().unwrap();
    let from_host = Arc::new(Mutex::new(Vec::new()));
    let tap = Tap {
        inner: master,
        from_host: from_host.clone(),
    };
    let s = sim.clone();
    tokio::spawn(async move { s.run_session(tap).await });
    (sim, pty, from_host)
}

/// The quoted fields of a line, in order.
fn quoted(line: &str) -> Vec<String> {
    line.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The secrets the agent put on the serial line: `AT+QMTCONN` passwords and the secret of
/// module-side auth (`AT+QMTCFG="aliauth"/"onenet"/"hwauth"/"hwprodid"`), plus a OneNET
/// token's `sign`, raw and URL-decoded.
fn wire_secrets(wire: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(wire);
    let mut out = Vec::new();
    for line in text.split(['\r', '\n']) {
        let module_auth = ["\"aliauth\"", "\"onenet\"", "\"hwauth\"", "\"hwprodid\""]
            .iter()
            .any(|o| line.starts_with(&format!("AT+QMTCFG={o}")));
        let q = quoted(line);
        if line.starts_with("AT+QMTCONN=") && q.len() == 3 {
            out.push(q[2].clone());
        } else if module_auth {
            out.extend(q.into_iter().skip(2));
        }
    }
    for p in out.clone() {
        if let Some(sign) = p.split('&').find_map(|kv| kv.strip_prefix("sign=")) {
            out.push(sign.to_string());
            out.push(
                sign.replace("%2F", "/")
                    .replace("%2B", "+")
                    .replace("%3D", "="),
            );
        }
    }
    out.retain(|s| s.len() >= 8);
    out
}

/// Huawei's derived password for each client id cloud-sim logged (the module computes it).
fn huawei_passwords(client_ids: &[String], secrets: &[&str]) -> Vec<String> {
    use cloud_huawei::auth::{password, SignType};
    let mut out = Vec::new();
    for id in client_ids {
        let mut parts = id.rsplit('_');
        let (Some(ts), Some(sign)) = (parts.next(), parts.next()) else {
            continue;
        };
        let sign = SignType::parse(sign).unwrap_or_default();
        for s in secrets {
            out.push(password(sign, ts, s).expose().to_string());
        }
    }
    out
}

fn property(which: Which) -> &'static str {
    match which {
        Which::Aliyun => "Brightness",
        Which::Onenet => "temp",
        Which::Huawei => "temperature",
    }
}

/// A secret of the same shape that the cloud refuses.
fn wrong_secret(which: Which) -> &'static str {
    match which {
        Which::Aliyun => "fedcba9876543210fedcba9876543210",
        Which::Onenet => "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        Which::Huawei => "wr0ng-Passw0rd-x",
    }
}

fn right_secret(which: Which) -> &'static str {
    match which {
        Which::Aliyun => SECRETS[0],
        Which::Onenet => SECRETS[1],
        Which::Huawei => SECRETS[2],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_reconnect_errors_and_refusal_leak_nothing_for_each_cloud() {
    for which in [Which::Aliyun, Which::Onenet, Which::Huawei] {
        let name = which.name();
        // The chain's own module stays idle: the agent is pointed at a tapped one.
        let c = start(which, 0, None).await.unwrap();
        let (sim, pty, wire) = tapped_module();
        let text = std::fs::read_to_string(&c.profile)
            .unwrap()
            .replace(&c.pty, &pty);
        std::fs::write(&c.profile, &text).unwrap();
        let env = [
            ("RUST_LOG", "trace"),
            ("CELLAGENT_AGENT__BACKOFF_MAX_S", "1"),
        ];
        let mut output = String::new();

        // Connect, publish.
        let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
        a.wait(T, "connected", |v| is_status(v, "connected"))
            .await
            .unwrap();
        let prop = property(which);
        a.send(&format!(r#"{{"properties":{{"{prop}":1}},"id":"s1"}}"#))
            .await
            .unwrap();
        a.wait(T, "delivered s1", |v| v["delivered"] == "s1")
            .await
            .unwrap();
        // A dropped link: reconnect (a fresh login).
        sim.inject(Fault::DropLink(0));
        let d = a
            .wait(T, "disconnected", |v| is_status(v, "disconnected"))
            .await
            .unwrap();
        assert!(
            d["reason"].as_str().unwrap().contains("+QMTSTAT"),
            "{name}: {d}"
        );
        a.wait(T, "connected again", |v| is_status(v, "connected"))
            .await
            .unwrap();
        // An ERROR reply to the next command (the publish): the line is still delivered.
        sim.inject(Fault::Error(1));
        a.send(&format!(r#"{{"properties":{{"{prop}":2}},"id":"s2"}}"#))
            .await
            .unwrap();
        a.wait(T, "delivered s2", |v| v["delivered"] == "s2")
            .await
            .unwrap();
        assert!(
            a.stderr().contains("ERROR"),
            "{name}: the ERROR reply shows in the trace log"
        );
        output += &a.stdout.lock().unwrap().join("\n");
        output += &a.stderr();
        assert_eq!(a.terminate(T).await.unwrap(), 0);

        // A wrong secret: the cloud refuses the login; the agent says so and retries.
        let wrong = wrong_secret(which);
        std::fs::write(&c.profile, text.replace(right_secret(which), wrong)).unwrap();
        let mut a = AgentProc::spawn(bin(), &c.profile, &env, &[]).unwrap();
        for attempt in 1..=2 {
            let d = a
                .wait(T, &format!("refusal {attempt}"), |v| {
                    is_status(v, "disconnected")
                        && v["reason"].as_str().is_some_and(|r| r.contains("QMTCONN"))
                })
                .await
                .unwrap();
            let reason = d["reason"].as_str().unwrap();
            assert!(
                reason.contains("password") || reason.contains("authorized"),
                "{name}: the refusal says why: {reason}"
            );
        }
        output += &a.stdout.lock().unwrap().join("\n");
        output += &a.stderr();
        assert_eq!(a.terminate(T).await.unwrap(), 0);

        // Everything that must not appear.
        let wire = wire.lock().unwrap().clone();
        let mut forbidden: Vec<String> = vec![right_secret(which).into(), wrong.into()];
        let sent = wire_secrets(&wire);
        assert!(
            sent.len() >= 3,
            "{name}: the tap saw the secrets of each login: {sent:?}"
        );
        forbidden.extend(sent);
        let records = c.sim.records();
        let client_ids: Vec<String> = records
            .iter()
            .filter(|r| matches!(r.kind, Kind::Connect | Kind::Refused))
            .filter_map(|r| r.client_id.clone())
            .collect();
        assert!(
            records.iter().any(|r| r.kind == Kind::Refused),
            "{name}: cloud-sim refused the wrong secret"
        );
        if which == Which::Huawei {
            let derived = huawei_passwords(&client_ids, &[right_secret(which), wrong]);
            assert!(!derived.is_empty(), "{client_ids:?}");
            forbidden.extend(derived);
        }
        for s in &forbidden {
            assert!(
                !output.contains(s.as_str()),
                "{name}: the output carries a secret or derived password ({} chars):\n{output}",
                s.len()
            );
        }
        assert!(
            output.contains("TRACE") && output.contains("DEBUG"),
            "{name}: the most verbose logs were on"
        );
    }
}

fn check(profile: &Path, env: &[(&str, &Path)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["check", "--profile"]).arg(profile);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn secrets_readable_by_others_are_named_once_with_chmod_600() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let demo = std::fs::read_to_string(profiles.join("demo-huawei.toml")).unwrap();
    let profile = dir.path().join("device.toml");
    std::fs::write(&profile, &demo).unwrap();
    let shown = profile.display().to_string();

    // The profile holds the secret inline.
    chmod(&profile, 0o644);
    let (ok, err) = check(&profile, &[]);
    assert!(ok, "{err}");
    let warning = format!("{shown} holds a secret and is readable by other users (mode 0644): run `chmod 600 {shown}`");
    assert_eq!(err.matches(&warning).count(), 1, "once:\n{err}");
    assert_eq!(err.matches("chmod 600").count(), 1, "{err}");
    assert!(!err.contains(SECRETS[2]));
    chmod(&profile, 0o600);
    let (ok, err) = check(&profile, &[]);
    assert!(ok && !err.contains("chmod"), "{err}");
    chmod(&profile, 0o640);
    assert!(check(&profile, &[]).1.contains("(mode 0640)"));

    // The secret in a `…_file` (given by the environment); the profile then holds none and
    // may be world-readable.
    let without = dir.path().join("no-secret.toml");
    std::fs::write(
        &without,
        demo.replace(&format!("secret = \"{}\"", SECRETS[2]), ""),
    )
    .unwrap();
    chmod(&without, 0o644);
    let secret_file = dir.path().join("device.secret");
    std::fs::write(&secret_file, SECRETS[2]).unwrap();
    chmod(&secret_file, 0o604);
    let env = [(
        "CELLAGENT_CLOUD__HUAWEI__SECRET_FILE",
        secret_file.as_path(),
    )];
    let (ok, err) = check(&without, &env);
    assert!(ok, "{err}");
    let file = secret_file.display().to_string();
    assert!(
        err.contains(&format!("{file} holds a secret"))
            && err.contains(&format!("chmod 600 {file}")),
        "{err}"
    );
    assert!(
        !err.contains(&format!("{} holds", without.display())),
        "{err}"
    );
    chmod(&secret_file, 0o400);
    let (ok, err) = check(&without, &env);
    assert!(ok && !err.contains("chmod"), "{err}");
}

#[test]
fn a_tls_client_key_readable_by_others_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::write(dir.path().join("ca.pem"), cert).unwrap();
    std::fs::write(dir.path().join("client.pem"), cert).unwrap();
    let key = dir.path().join("client.key");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    chmod(&key, 0o644);
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "[module]\nport = \"/dev/ttyUSB2\"\n[cloud]\nplatform = \"onenet\"\ntls = true\n\
         [cloud.onenet]\nproduct_id = \"Aw9oB4n7zB\"\ndevice_name = \"dev-001\"\n\
         access_key_file = \"key.b64\"\n\
         [tls]\nca_file = \"ca.pem\"\nclient_cert_file = \"client.pem\"\nclient_key_file = \"client.key\"\n",
    )
    .unwrap();
    let b64 = dir.path().join("key.b64");
    std::fs::write(&b64, SECRETS[1]).unwrap();
    chmod(&b64, 0o600);
    let (ok, err) = check(&profile, &[]);
    assert!(ok, "{err}");
    let k = key.display().to_string();
    assert!(
        err.contains(&format!("{k} holds a secret")) && err.contains(&format!("chmod 600 {k}")),
        "{err}"
    );
    assert_eq!(err.matches("chmod 600").count(), 1, "{err}");
}
