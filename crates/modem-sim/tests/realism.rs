//! Realism knobs end to end: baud pacing, added round-trip latency, `edit/timeout`.
//! Timing checks are lower bounds only (pacing can never make things faster).

mod common;

use std::time::{Duration, Instant};

use common::Host;
use modem_sim::{ModuleConfig, SimConfig, Simulator};

async fn sim(baud: u32, rtt: Duration) -> Host<tokio::net::TcpStream> {
    let sim = Simulator::new(SimConfig {
        baud,
        rtt,
        module: ModuleConfig::default(),
    });
    let addr = sim.spawn_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h
}

#[tokio::test]
async fn baud_pacing_bounds_the_answer_time() {
    // 9600 baud = 960 bytes/s. The listing (~1 KB) plus the command cannot cross faster.
    let mut h = sim(9_600, Duration::ZERO).await;
    let t = Instant::now();
    let answer = h.cmd("AT+QMTCFG=?", "\r\nOK\r\n").await;
    let bytes = answer.len() + "AT+QMTCFG=?\r".len();
    let floor = Duration::from_secs_f64(bytes as f64 / 960.0);
    assert!(answer.contains("\"edit/timeout\",(0-5),(0,1),(1-120)"));
    assert!(
        t.elapsed() >= floor,
        "{bytes} bytes in {:?} < {floor:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn rtt_delays_qmtopen() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _keep = listener.accept().await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut h = sim(0, Duration::from_millis(300)).await;
    let t = Instant::now();
    h.exact(&format!(r#"AT+QMTOPEN=0,"127.0.0.1",{port}"#), "\r\nOK\r\n")
        .await;
    h.until("\r\n+QMTOPEN: 0,0\r\n").await;
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn edit_timeout_ends_a_stuck_prompt_with_error() {
    let mut h = sim(0, Duration::ZERO).await;
    h.exact(r#"AT+QMTCFG="edit/timeout",0,1,1"#, "\r\nOK\r\n")
        .await;
    h.exact(
        r#"AT+QMTCFG="edit/timeout",0"#,
        "\r\n+QMTCFG: \"edit/timeout\",1,1\r\n\r\nOK\r\n",
    )
    .await;
    h.send(r#"AT+QMTCFG="willex",0,1,0,0,"will/t",10"#).await;
    assert_eq!(h.until("> ").await, "\r\n> ");
    h.write(b"abc").await;
    assert_eq!(h.until("\r\nERROR\r\n").await, "\r\nERROR\r\n");
    // Back in command mode; the partial will was discarded.
    h.exact(
        r#"AT+QMTCFG="will",0"#,
        "\r\n+QMTCFG: \"will\",0\r\n\r\nOK\r\n",
    )
    .await;
}
