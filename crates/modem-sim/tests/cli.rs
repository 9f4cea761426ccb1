//! The `modem-sim` binary: `--pty` (a real pty opened by path, like any serial program),
//! `--listen`, `--control` and `--control-stdin`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use common::{Host, Mosquitto};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// The binary, killed on drop.
struct Sim {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stdin: Option<ChildStdin>,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn modem-sim");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stdin = child.stdin.take();
        Sim {
            child,
            stdout,
            stdin,
        }
    }

    /// The next line of stdout (blocking; the binary prints it at once).
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.stdout.read_line(&mut l).unwrap();
        assert!(!l.is_empty(), "modem-sim exited early");
        l.trim_end().to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn pty_session_with_stdin_faults() {
    let Some(broker) = Mosquitto::start(true) else {
        return;
    };
    let mut sim = Sim::start(&["--pty", "--control-stdin"]);
    let path = sim.line();
    assert!(
        path.starts_with("/dev/pts/"),
        "first line is the pty path: {path}"
    );
    let port = quectel_mqtt::driver::open_serial(&path, 115_200).unwrap();
    let mut h = Host::new(port);
    // Echo is on at start (RDY may already be waiting in the pty).
    let got = h.cmd("AT", "\r\nOK\r\n").await;
    assert!(got.ends_with("AT\r\r\nOK\r\n"), "{got:?}");
    assert!(h
        .cmd("ATE0", "\r\nOK\r\n")
        .await
        .ends_with("ATE0\r\r\nOK\r\n"));
    h.exact("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n").await;
    h.exact(
        &format!(r#"AT+QMTOPEN=0,"127.0.0.1",{}"#, broker.port),
        "\r\nOK\r\n",
    )
    .await;
    h.until("\r\n+QMTOPEN: 0,0\r\n").await;
    h.exact(r#"AT+QMTCONN=0,"pty-dev""#, "\r\nOK\r\n").await;
    h.until("\r\n+QMTCONN: 0,0,0\r\n").await;
    // A fault typed on stdin.
    let stdin = sim.stdin.as_mut().unwrap();
    stdin.write_all(b"drop 0\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(sim.line(), "ok");
    assert_eq!(
        h.until("\r\n+QMTSTAT: 0,1\r\n").await,
        "\r\n+QMTSTAT: 0,1\r\n"
    );
    // The host closes the port and opens it again: the session goes on.
    drop(h);
    let port = quectel_mqtt::driver::open_serial(&path, 115_200).unwrap();
    let mut h = Host::new(port);
    h.exact("AT+QMTOPEN?", "\r\nOK\r\n").await;
    let stdin = sim.stdin.as_mut().unwrap();
    stdin.write_all(b"bogus\n").unwrap();
    stdin.flush().unwrap();
    assert!(sim.line().starts_with("error: bad fault command"));
}

#[tokio::test]
async fn listen_and_control_socket() {
    let control_port = common::free_port();
    let control = format!("127.0.0.1:{control_port}");
    let mut sim = Sim::start(&[
        "--listen",
        "127.0.0.1:0",
        "--baud",
        "0",
        "--control",
        &control,
    ]);
    let addr: std::net::SocketAddr = sim.line().parse().expect("first line is the address");
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    // The control socket may not be bound the instant the AT port is: retry a bounded time.
    let mut ctl = None;
    for _ in 0..100 {
        if let Ok(s) = tokio::net::TcpStream::connect(&control).await {
            ctl = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ctl = ctl.expect("control socket");
    let (r, mut w) = ctl.into_split();
    let mut replies = tokio::io::BufReader::new(r).lines();
    w.write_all(b"error 2\n").await.unwrap();
    assert_eq!(replies.next_line().await.unwrap().unwrap(), "ok");
    h.exact("AT", "\r\nERROR\r\n").await;
    h.exact("ATI", "\r\nERROR\r\n").await;
    h.exact("AT", "\r\nOK\r\n").await;
    w.write_all(b"reboot\n").await.unwrap();
    assert_eq!(replies.next_line().await.unwrap().unwrap(), "ok");
    assert_eq!(h.until("\r\nRDY\r\n").await, "\r\nRDY\r\n");
}

#[tokio::test]
async fn control_subcommand_power_cycles_a_dead_module() {
    let control_port = common::free_port();
    let control = format!("127.0.0.1:{control_port}");
    let mut sim = Sim::start(&[
        "--listen",
        "127.0.0.1:0",
        "--baud",
        "0",
        "--control",
        &control,
    ]);
    let addr: std::net::SocketAddr = sim.line().parse().expect("first line is the address");
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    let send = |words: &[&str]| {
        let mut args = vec!["control", control.as_str()];
        args.extend_from_slice(words);
        // The control socket may not be bound the instant the AT port is: retry a bounded time.
        for _ in 0..100 {
            let out = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
                .args(&args)
                .output()
                .expect("run modem-sim control");
            if out.status.success() || !out.stdout.is_empty() {
                return out;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the control socket never answered");
    };
    let out = send(&["dead"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    let out = send(&["explode"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error: bad fault command"));
    h.send("AT").await;
    let out = send(&["power-cycle"]);
    assert!(out.status.success());
    let got = h.until("\r\nRDY\r\n").await;
    assert!(!got.contains("OK"), "a dead channel answered: {got:?}");
    h.exact("AT", "AT\r\r\nOK\r\n").await;
}

#[test]
fn a_front_end_is_required() {
    let out = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--pty") && err.contains("--listen"), "{err}");
}
