//! The offline subcommands and the user contract around them: reproducible `sign`, masked
//! `check`, `encode` / `decode`, exit codes, and no secret in any output at `RUST_LOG=trace`.

#[path = "../src/chain.rs"]
mod chain;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use chain::{is_status, start, AgentProc, Which, SECRETS};
use serde_json::{json, Value};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cellagent"))
}

fn profiles() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles")
}

fn cellagent(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_secret(what: &str, out: &str) {
    for s in SECRETS {
        assert!(!out.contains(s), "{what} leaked a secret:\n{out}");
    }
}

#[test]
fn sign_is_reproducible_with_at() {
    let p = profiles().join("demo-aliyun.toml");
    let args = [
        "sign",
        "--profile",
        p.to_str().unwrap(),
        "--at",
        "1764000000000",
    ];
    let (a, b) = (cellagent(&args, ""), cellagent(&args, ""));
    assert!(a.status.success(), "{}", text(&a));
    assert_eq!(a.stdout, b.stdout);
    let v: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["username"], "dev-001&a1B2c3D4e5F");
    assert_eq!(v["client_id"], "a1B2c3D4e5F.dev-001|securemode=3,signmethod=hmacsha256,timestamp=1764000000000,_ss=1,ext=1|");
    assert_eq!(v["password"].as_str().unwrap().len(), 64);
    assert_eq!(
        (v["host"].clone(), v["port"].clone(), v["tls"].clone()),
        (json!("127.0.0.1"), json!(1883), json!(false))
    );
}

#[test]
fn offline_commands_never_print_secrets_even_at_trace() {
    for cloud in ["aliyun", "onenet", "huawei"] {
        let p = profiles().join(format!("demo-{cloud}.toml"));
        let p = p.to_str().unwrap();
        for args in [vec!["sign", "--profile", p], vec!["check", "--profile", p]] {
            let o = cellagent(&args, "");
            assert!(o.status.success(), "{args:?}: {}", text(&o));
            assert_no_secret(&format!("{args:?}"), &text(&o));
        }
        let o = cellagent(&["check", "--profile", p], "");
        assert!(String::from_utf8_lossy(&o.stdout).contains("AT+QMTOPEN=0,\"127.0.0.1\",1883"));
        let o = cellagent(&["encode", "--profile", p], "{\"properties\":{}}\n");
        assert_no_secret("encode", &text(&o));
    }
    let o = cellagent(
        &[
            "check",
            "--profile",
            profiles().join("demo-huawei.toml").to_str().unwrap(),
        ],
        "",
    );
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains(r#"AT+QMTCFG="hwauth",0,"5f1a2b3c4d_dev001","***""#),
        "{}",
        text(&o)
    );
}

#[test]
fn encode_and_decode_show_the_mapping() {
    let p = profiles().join("demo-onenet.toml");
    let p = p.to_str().unwrap();
    let o = cellagent(
        &["encode", "--profile", p, "--id", "7"],
        "{\"properties\":{\"temp\":23.5}}\n{\"properties\":{\"temp\":500}}\n",
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed line makes the exit code 1"
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["topic"],
        "$sys/Aw9oB4n7zB/dev-001/thing/property/post"
    );
    assert_eq!(
        lines[0]["payload"],
        r#"{"id":"7","version":"1.0","params":{"temp":{"value":23.5}}}"#
    );
    assert_eq!(lines[0]["qos"], 1);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("temp"));

    let o = cellagent(
        &[
            "decode",
            "--profile",
            p,
            "--topic",
            "$sys/Aw9oB4n7zB/dev-001/thing/property/set",
        ],
        r#"{"id":"12","version":"1.0","params":{"Power":true}}"#,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["set"], json!({"Power": true}));
    assert!(v["id"].is_string());
}

#[test]
fn a_bad_profile_exits_2_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let base = std::fs::read_to_string(profiles().join("demo-aliyun.toml")).unwrap();
    for (edit, field) in [
        (
            base.replace("client_index = 0", "client_index = 9"),
            "module.client_index",
        ),
        (
            base.replace("product_key = ", "productkey = "),
            "cloud.aliyun.productkey",
        ),
        (
            base.replace("keepalive = 120", "keepalive = 5"),
            "cloud.keepalive",
        ),
        (
            base.replace("platform = \"aliyun\"", "platform = \"azure\""),
            "cloud.platform",
        ),
    ] {
        std::fs::write(&bad, edit).unwrap();
        for cmd in ["check", "sign", "run"] {
            let o = cellagent(&[cmd, "--profile", bad.to_str().unwrap()], "");
            assert_eq!(o.status.code(), Some(2), "{cmd}: {}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains(field), "{cmd}: expected `{field}` in {err}");
            assert_no_secret(cmd, &text(&o));
        }
    }
    let o = cellagent(&["check", "--profile", "/nonexistent.toml"], "");
    assert_eq!(o.status.code(), Some(2));
    let o = cellagent(&["frobnicate"], "");
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_at_trace_logs_no_secret() {
    let t = Duration::from_secs(20);
    for which in [Which::Aliyun, Which::Onenet, Which::Huawei] {
        let c = start(which, 0, None).await.unwrap();
        let mut a = AgentProc::spawn(bin(), &c.profile, &[("RUST_LOG", "trace")], &[]).unwrap();
        a.wait(t, "connected", |v| is_status(v, "connected"))
            .await
            .unwrap();
        let prop = match which {
            Which::Aliyun => "Brightness",
            Which::Onenet => "temp",
            Which::Huawei => "temperature",
        };
        a.send(&format!(r#"{{"properties":{{"{prop}":1}},"id":"x"}}"#))
            .await
            .unwrap();
        a.wait(t, "delivered", |v| v["delivered"] == "x")
            .await
            .unwrap();
        let (out, err) = (a.stdout.lock().unwrap().join("\n"), a.stderr());
        assert!(
            err.contains("TRACE") || err.contains("DEBUG"),
            "trace logs are on"
        );
        assert_eq!(a.terminate(t).await.unwrap(), 0);
        assert_no_secret(which.name(), &format!("{out}\n{err}"));
    }
}

#[test]
fn every_example_profile_checks() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "Yk9xZ0F1Q2lTbGdKZkx0UkV0a0pLc2NwRmFqT3h6R3c=\n").unwrap();
    for (file, var, path) in [
        (
            "aliyun.toml",
            "CELLAGENT_CLOUD__ALIYUN__DEVICE_SECRET_FILE",
            &secret,
        ),
        (
            "aliyun-module.toml",
            "CELLAGENT_CLOUD__ALIYUN__DEVICE_SECRET_FILE",
            &secret,
        ),
        (
            "onenet.toml",
            "CELLAGENT_CLOUD__ONENET__ACCESS_KEY_FILE",
            &key,
        ),
        (
            "huawei.toml",
            "CELLAGENT_CLOUD__HUAWEI__SECRET_FILE",
            &secret,
        ),
        (
            "huawei-hwprodid.toml",
            "CELLAGENT_CLOUD__HUAWEI__PRODUCT_SECRET_FILE",
            &secret,
        ),
    ] {
        let o = Command::new(bin())
            .args(["check", "--profile"])
            .arg(profiles().join(file))
            .env(var, path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{file}: {}", text(&o));
        assert_no_secret(file, &text(&o));
    }
}
