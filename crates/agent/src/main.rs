//! `cellagent`: drives a Quectel EC200x / EC600S / EG912Y module to Aliyun, OneNET and Huawei
//! IoTDA. Exit codes: 0 ok, 2 bad profile or usage, 1 runtime failure.

use std::io::Read;
use std::path::PathBuf;

use agent::profile::CloudKind;
use agent::AgentError;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "cellagent",
    version,
    about = "Cloud link through a Quectel LTE module (AT+QMT*) for Aliyun, OneNET and Huawei IoTDA"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlatformArg {
    Aliyun,
    Onenet,
    Huawei,
}

impl From<PlatformArg> for CloudKind {
    fn from(p: PlatformArg) -> Self {
        match p {
            PlatformArg::Aliyun => CloudKind::Aliyun,
            PlatformArg::Onenet => CloudKind::Onenet,
            PlatformArg::Huawei => CloudKind::Huawei,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the MQTT connect parameters (client id, user name, password, host, port, tls) as
    /// one JSON object, for MQTTX or mosquitto_pub.
    Sign {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
        /// Sign for this time (ms since the Unix epoch) instead of now: reproducible output.
        #[arg(long)]
        at: Option<i64>,
    },
    /// Validate the profile and the thing model; print the AT script `run` sends (secrets
    /// masked).
    Check {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
    },
    /// Read app JSON Lines on stdin; print what would be published
    /// (`{"topic","payload","qos"}`) or the error, one line each.
    Encode {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
        /// Fix the clock (ms since the Unix epoch); accepted for reproducibility.
        #[arg(long)]
        at: Option<i64>,
        /// The wire message id of the first line (then +1 per line).
        #[arg(long, default_value_t = 1)]
        id: u32,
    },
    /// Read a payload from the cloud on stdin; print the JSON line the app would get.
    Decode {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
        /// The topic the payload arrived on.
        #[arg(long)]
        topic: String,
    },
    /// Bring the module up, connect, and bridge app JSON Lines (stdin, --socket) to the cloud.
    Run {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
        /// Also serve app JSON Lines on this unix socket.
        #[arg(long)]
        socket: Option<PathBuf>,
    },
    /// Turn a console export (CSV) into one profile per device; or, with `--register
    /// --profile FILE`, register that device through its module (Huawei product secret,
    /// Aliyun dynamic registration) and write the issued secret into FILE.
    Provision {
        /// The cloud of the export.
        #[arg(long, value_enum, required_unless_present = "register")]
        platform: Option<PlatformArg>,
        /// The console's device export.
        #[arg(long, required_unless_present = "register")]
        csv: Option<PathBuf>,
        /// Where to write the profiles.
        #[arg(long, required_unless_present = "register")]
        out: Option<PathBuf>,
        /// Register through the module instead (needs --profile).
        #[arg(long, requires = "profile", conflicts_with_all = ["csv", "out"])]
        register: bool,
        /// The profile to register and update (with --register).
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    /// Probe the device when it is offline: port, AT, SIM, signal, registration, APN/PDP,
    /// clock, AT+QMTOPEN and AT+QMTCONN, each with its meaning and likely fix. Exit 1 when a
    /// probe fails. Never prints a secret.
    Doctor {
        /// The device profile (TOML).
        #[arg(long)]
        profile: PathBuf,
        /// One JSON object instead of the readable report.
        #[arg(long)]
        json: bool,
    },
    /// The whole chain with no hardware: emulated module and clouds, sample telemetry and a
    /// downlink for each cloud (needs the `demo` feature).
    Demo,
}

fn init_logs(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime, AgentError> {
    tokio::runtime::Builder::new_multi_thread()
        // One worker is plenty for one serial port, and each thread costs memory (its stack
        // and malloc arena) on a device that has little.
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| AgentError::Runtime(format!("tokio: {e}")))
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cellagent: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn dispatch(command: Command) -> Result<i32, AgentError> {
    match command {
        Command::Sign { profile, at } => {
            init_logs("warn");
            agent::commands::sign(&profile, at, &mut std::io::stdout().lock())?;
            Ok(0)
        }
        Command::Check { profile } => {
            init_logs("warn");
            agent::commands::check(&profile, &mut std::io::stdout().lock())?;
            Ok(0)
        }
        Command::Encode { profile, at: _, id } => {
            init_logs("warn");
            let failed = agent::commands::encode(
                &profile,
                id,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout().lock(),
            )?;
            Ok(if failed > 0 { 1 } else { 0 })
        }
        Command::Decode { profile, topic } => {
            init_logs("warn");
            let mut payload = Vec::new();
            std::io::stdin()
                .read_to_end(&mut payload)
                .map_err(|e| AgentError::Runtime(format!("stdin: {e}")))?;
            // A trailing newline from `echo` is not part of the payload.
            while payload.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                payload.pop();
            }
            let ok =
                agent::commands::decode(&profile, &topic, &payload, &mut std::io::stdout().lock())?;
            Ok(if ok { 0 } else { 1 })
        }
        Command::Run { profile, socket } => {
            init_logs("info");
            let (profile, platform) = agent::commands::load(&profile)?;
            let rt = runtime()?;
            let result = rt.block_on(async move {
                use agent::run::{run, signals, spawn_socket, spawn_stdin, spawn_stdout, Outputs};
                let (out_tx, out_task) = spawn_stdout();
                let outputs = Outputs::new(out_tx);
                let (in_tx, in_rx) = tokio::sync::mpsc::channel(256);
                spawn_stdin(in_tx.clone());
                if let Some(path) = socket {
                    spawn_socket(path, in_tx.clone(), outputs.clone())?;
                }
                drop(in_tx);
                let r = run(profile, platform, in_rx, outputs, signals()).await;
                // Let the last lines reach stdout.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                out_task.abort();
                r
            });
            // The stdin reader sits in a blocking read: do not wait for it.
            rt.shutdown_background();
            result?;
            Ok(0)
        }
        Command::Provision {
            platform,
            csv,
            out,
            register,
            profile,
        } => {
            init_logs("warn");
            if register {
                let path = profile.expect("clap: --register requires --profile");
                let rt = runtime()?;
                rt.block_on(agent::register::register(&path))?;
                rt.shutdown_background();
                eprintln!(
                    "cellagent: registered; the issued credentials are in {}",
                    path.display()
                );
                return Ok(0);
            }
            let (Some(platform), Some(csv), Some(out)) = (platform, csv, out) else {
                return Err(AgentError::Usage(
                    "provision needs --platform, --csv and --out".into(),
                ));
            };
            let n = agent::provision::provision(platform.into(), &csv, &out)?;
            eprintln!("cellagent: wrote {n} profiles to {}", out.display());
            Ok(0)
        }
        Command::Doctor { profile, json } => {
            init_logs("error");
            let rt = runtime()?;
            let code = rt.block_on(agent::doctor::doctor(
                &profile,
                json,
                &mut std::io::stdout().lock(),
            ))?;
            rt.shutdown_background();
            Ok(code)
        }
        Command::Demo => demo(),
    }
}

#[cfg(feature = "demo")]
fn demo() -> Result<i32, AgentError> {
    // The embedded broker reports every closed connection as an error: keep it quiet.
    init_logs("warn,rumqttd=off");
    runtime()?.block_on(agent::demo::run())?;
    Ok(0)
}

#[cfg(not(feature = "demo"))]
fn demo() -> Result<i32, AgentError> {
    Err(AgentError::Runtime(
        "demo: this build has no emulators; run `make demo` (cargo run --release -p agent --features demo --bin cellagent -- demo)".into(),
    ))
}
