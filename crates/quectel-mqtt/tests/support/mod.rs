//! A scripted module on the master side of a real pty pair: it reads each command the driver
//! writes (ended by CR), checks it against the script, and answers with the script's bytes.
//! Echo is on until the script's `ATE0`, as on a real module.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::{SerialPort, SerialStream};

pub enum Reply {
    /// A line, framed `\r\n<line>\r\n`.
    Line(&'static str),
    /// `\r\n> `, then read exactly this many data bytes and record them.
    Prompt(usize),
    /// Wait before the next reply.
    Pause(Duration),
}

pub struct Step {
    pub command: &'static str,
    pub replies: Vec<Reply>,
}

pub fn step(command: &'static str, replies: Vec<Reply>) -> Step {
    Step { command, replies }
}

/// What the module received: each command line, and each data block after a prompt. It also
/// holds the module's end of the pty: closing it discards what the driver has not read yet.
#[derive(Debug, Default)]
pub struct Received {
    pub commands: Vec<String>,
    pub data: Vec<Vec<u8>>,
    pub port: Option<SerialStream>,
}

/// Opens a pty pair; returns the module's side and the path the driver opens, as a real
/// deployment opens `/dev/ttyUSB2`.
pub fn pty() -> (SerialStream, String) {
    let (master, slave) = SerialStream::pair().expect("pty pair");
    let path = slave.name().expect("slave has a path");
    // The driver opens the port by path; serialport opens ports exclusively, so let go first.
    drop(slave);
    (master, path)
}

pub async fn play(mut port: SerialStream, script: Vec<Step>) -> Received {
    let mut received = Received::default();
    let mut echo = true;
    let mut pending = Vec::new();
    for Step { command, replies } in script {
        let line = read_command(&mut port, &mut pending).await;
        assert_eq!(line, command, "the driver wrote an unexpected command");
        received.commands.push(line.clone());
        if echo {
            port.write_all(format!("{line}\r").as_bytes())
                .await
                .unwrap();
        }
        if line.eq_ignore_ascii_case("ATE0") {
            echo = false;
        }
        for reply in replies {
            match reply {
                Reply::Line(l) => port
                    .write_all(format!("\r\n{l}\r\n").as_bytes())
                    .await
                    .unwrap(),
                Reply::Prompt(n) => {
                    port.write_all(b"\r\n> ").await.unwrap();
                    let mut data = std::mem::take(&mut pending);
                    while data.len() < n {
                        let mut buf = [0u8; 256];
                        let got = port.read(&mut buf).await.unwrap();
                        data.extend_from_slice(&buf[..got]);
                    }
                    pending = data.split_off(n);
                    if echo {
                        port.write_all(&data).await.unwrap();
                    }
                    received.data.push(data);
                }
                Reply::Pause(d) => tokio::time::sleep(d).await,
            }
            port.flush().await.unwrap();
        }
    }
    received.port = Some(port);
    received
}

async fn read_command(port: &mut SerialStream, pending: &mut Vec<u8>) -> String {
    loop {
        if let Some(end) = pending.iter().position(|b| *b == b'\r') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            return String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
        }
        let mut buf = [0u8; 256];
        let got = tokio::time::timeout(Duration::from_secs(20), port.read(&mut buf))
            .await
            .expect("the driver wrote the next command within 20 s")
            .unwrap();
        assert!(got > 0, "pty closed");
        pending.extend_from_slice(&buf[..got]);
    }
}
