//! `modem-sim`: an emulated Quectel EC200x/EC600S/EG912Y module on a pty or TCP.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser, ValueEnum};
use modem_sim::{ModuleConfig, Profile, Schedule, ScheduleKind, SimConfig, Simulator};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProfileArg {
    /// The guide's texts and ranges.
    Guide,
    /// A real EC600S's `AT+QMTCFG=?` listing and ranges.
    Ec600s,
    /// The guide v1.0 to the letter: no `"edit/timeout"` (a `>` state waits for its bytes).
    #[value(name = "guide-v1.0")]
    GuideV10,
}

/// An emulated Quectel EC200x/EC600S/EG912Y module: AT+QMT* over a pty or TCP, bridged to a
/// real MQTT broker.
#[derive(Debug, Parser)]
#[command(version, group(ArgGroup::new("front").required(true).args(["pty", "listen"])))]
struct Cli {
    /// Create a pty and print its slave path (e.g. /dev/pts/7) as the first line of stdout.
    #[arg(long)]
    pty: bool,
    /// Listen for AT sessions on this TCP address (one session per connection); the bound
    /// address is printed as the first line of stdout.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Serial speed used to pace both directions (8N1: baud/10 bytes per second); 0 = unpaced.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Latency added to every MQTT round trip and to the handshakes of AT+QMTOPEN, in ms.
    #[arg(long, default_value_t = 0)]
    rtt_ms: u64,
    /// Which firmware's texts and ranges to imitate.
    #[arg(long, value_enum, default_value = "guide")]
    profile: ProfileArg,
    /// Accept fault commands on this TCP address, one per line (see docs/modem-sim.md:
    /// drop IDX, ping-fail IDX, error N, garbage N, reboot, stall N, silent-drop IDX,
    /// nat-idle SECS, dup-id [N], open-fail RESULT [N], refuse CODE [N], dead,
    /// clock-offset SECS, power-cycle). `modem-sim control ADDR LINE` sends one.
    #[arg(long, value_name = "ADDR")]
    control: Option<SocketAddr>,
    /// Accept fault commands on standard input.
    #[arg(long)]
    control_stdin: bool,
    /// Seed of the random fault schedule (and of garbage bytes).
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Per-mille of command lines that draw a random fault (0 = no random schedule).
    #[arg(long, default_value_t = 0)]
    fault_rate: u32,
    /// Fault kinds the random schedule draws from, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "error,garbage,stall,drop,ping-fail,reboot"
    )]
    fault_kinds: Vec<ScheduleKind>,
    /// Time from a reboot fault to RDY, in ms.
    #[arg(long, default_value_t = 300)]
    reboot_delay_ms: u64,
    /// A carrier NAT that forgets a link after this many seconds without traffic (0 = none).
    #[arg(long, default_value_t = 0)]
    nat_idle_s: u32,
}

fn config(cli: &Cli) -> SimConfig {
    let profile = match cli.profile {
        ProfileArg::Guide => Profile::Guide,
        ProfileArg::Ec600s => Profile::Ec600s,
        ProfileArg::GuideV10 => Profile::GuideV10,
    };
    SimConfig {
        baud: cli.baud,
        rtt: Duration::from_millis(cli.rtt_ms),
        module: ModuleConfig {
            profile,
            schedule: (cli.fault_rate > 0)
                .then(|| Schedule::new(cli.fault_seed, cli.fault_rate, cli.fault_kinds.clone())),
            seed: cli.fault_seed,
            reboot_delay: Duration::from_millis(cli.reboot_delay_ms),
            nat_idle: (cli.nat_idle_s > 0).then(|| Duration::from_secs(u64::from(cli.nat_idle_s))),
            ..ModuleConfig::default()
        },
    }
}

async fn run(cli: Cli) -> std::io::Result<()> {
    let sim = Simulator::new(config(&cli));
    if let Some(addr) = cli.control {
        let l = TcpListener::bind(addr).await?;
        tracing::info!(addr = %l.local_addr()?, "control interface listening");
        let s = sim.clone();
        tokio::spawn(async move { s.serve_control_tcp(l).await });
    }
    if cli.control_stdin {
        let s = sim.clone();
        tokio::spawn(async move {
            s.serve_control(tokio::io::stdin(), tokio::io::stdout())
                .await
        });
    }
    if let Some(addr) = cli.listen {
        let l = TcpListener::bind(addr).await?;
        println!("{}", l.local_addr()?);
        return sim.serve_tcp(l).await;
    }
    let (master, path) = Simulator::open_pty()?;
    println!("{path}");
    sim.run_session(master).await
}

/// `modem-sim control ADDR LINE…`: sends one control line to a running emulator's
/// `--control` socket and prints its answer (for a profile's power-cycle script:
/// `modem-sim control 127.0.0.1:7001 power-cycle`). Exit 0 on `ok`.
fn send_control(args: &[String]) -> ExitCode {
    use std::io::{BufRead, BufReader, Write};
    let [addr, words @ ..] = args else {
        eprintln!("usage: modem-sim control ADDR COMMAND…");
        return ExitCode::from(2);
    };
    if words.is_empty() {
        eprintln!("usage: modem-sim control ADDR COMMAND…");
        return ExitCode::from(2);
    }
    let answer = std::net::TcpStream::connect(addr.as_str()).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        writeln!(s, "{}", words.join(" "))?;
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line)?;
        Ok(line)
    });
    match answer {
        Ok(line) => {
            print!("{line}");
            if line.trim() == "ok" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("modem-sim control {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("control") {
        return send_control(&args[2..]);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("modem-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("modem-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
