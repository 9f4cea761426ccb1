//! `cloud-sim`: run an emulated Aliyun / OneNET / Huawei endpoint, and talk to a running one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cloud_sim::{control, Cloud, CloudSim, Config, Registry};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "cloud-sim",
    version,
    about = "Emulated IoT cloud MQTT endpoints on loopback"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

fn default_control() -> PathBuf {
    std::env::temp_dir().join("cloud-sim.sock")
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the simulator until interrupted.
    Serve {
        /// aliyun, onenet or huawei.
        #[arg(long)]
        cloud: Cloud,
        /// Device registry: a .toml file, or a console CSV export.
        #[arg(long)]
        registry: PathBuf,
        /// Product id for CSV exports without a product column.
        #[arg(long)]
        product: Option<String>,
        /// Where devices connect.
        #[arg(long, default_value = "127.0.0.1:1883")]
        listen: SocketAddr,
        /// An external broker (e.g. mosquitto) instead of the embedded rumqttd.
        #[arg(long, value_name = "HOST:PORT")]
        upstream: Option<String>,
        /// Append the JSON Lines log here (it is always printed on stdout too).
        #[arg(long)]
        log: Option<PathBuf>,
        /// Control socket path.
        #[arg(long, default_value_os_t = default_control())]
        control: PathBuf,
    },
    /// Send a downlink to a device through a running simulator.
    Send {
        /// Control socket path.
        #[arg(long, default_value_os_t = default_control())]
        control: PathBuf,
        /// Device: product/name (Aliyun, OneNET), device id (Huawei), or a unique name.
        #[arg(long)]
        device: String,
        /// Property set: a JSON object of values.
        #[arg(long, group = "what", value_name = "JSON")]
        set: Option<String>,
        /// Property get: comma-separated names (empty = all).
        #[arg(long, group = "what", value_name = "NAMES")]
        get: Option<String>,
        /// Service call / command name.
        #[arg(long, group = "what", value_name = "NAME")]
        call: Option<String>,
        /// Raw message on this topic (with --payload).
        #[arg(long, group = "what")]
        topic: Option<String>,
        /// Call parameters (JSON object).
        #[arg(long, value_name = "JSON")]
        params: Option<String>,
        /// Raw payload (text; JSON is sent compact).
        #[arg(long)]
        payload: Option<String>,
        /// Huawei service id.
        #[arg(long)]
        service: Option<String>,
        /// Wait this many seconds for the device's answer and print it.
        #[arg(long, value_name = "SECS")]
        wait: Option<f64>,
    },
    /// Print the simulator's records as they arrive.
    Tail {
        /// Control socket path.
        #[arg(long, default_value_os_t = default_control())]
        control: PathBuf,
        /// Start with the records logged so far.
        #[arg(long)]
        history: bool,
    },
}

fn json_arg(name: &str, text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("--{name} is not JSON: {e}"))
}

fn send_line(args: &Cmd) -> Result<Value, String> {
    let Cmd::Send {
        device,
        set,
        get,
        call,
        topic,
        params,
        payload,
        service,
        wait,
        ..
    } = args
    else {
        unreachable!()
    };
    let mut req = json!({ "device": device });
    if let Some(s) = set {
        req["set"] = json_arg("set", s)?;
    } else if let Some(g) = get {
        let names: Vec<&str> = g
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        req["get"] = json!(names);
    } else if let Some(c) = call {
        req["call"] = json!(c);
        if let Some(p) = params {
            req["params"] = json_arg("params", p)?;
        }
    } else if let Some(t) = topic {
        req["topic"] = json!(t);
        let p = payload.clone().unwrap_or_default();
        req["payload"] = serde_json::from_str::<Value>(&p).unwrap_or(Value::String(p));
    } else {
        return Err("give one of --set, --get, --call or --topic".into());
    }
    if let Some(s) = service {
        req["service"] = json!(s);
    }
    if let Some(w) = wait {
        req["wait"] = json!(w);
    }
    Ok(req)
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Serve {
            cloud,
            registry,
            product,
            listen,
            upstream,
            log,
            control,
        } => {
            let reg =
                Registry::load(&registry, cloud, product.as_deref()).map_err(|e| e.to_string())?;
            let devices = reg.devices.len();
            let mut config = Config::new(cloud, reg);
            config.listen = listen;
            config.upstream = upstream;
            config.log_file = log;
            config.control = Some(control.clone());
            let sim = CloudSim::start(config).await.map_err(|e| e.to_string())?;
            eprintln!(
                "cloud-sim: {} with {devices} device(s) on {}, broker {}, control {}",
                cloud.as_str(),
                sim.addr(),
                sim.upstream(),
                control.display()
            );
            let mut rx = sim.subscribe();
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(r) => println!("{}", r.to_line()),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("cloud-sim: {n} records not printed (see --log)"),
                        Err(_) => break,
                    },
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
            let _ = std::fs::remove_file(&control);
            Ok(())
        }
        ref send @ Cmd::Send { ref control, .. } => {
            let line = send_line(send)?.to_string();
            let mut failed = false;
            control::request(control, &line, |l| {
                failed |= l.starts_with("{\"error\"");
                println!("{l}");
            })
            .await
            .map_err(|e| e.to_string())?;
            if failed {
                Err("the simulator refused or got no answer (see above)".into())
            } else {
                Ok(())
            }
        }
        Cmd::Tail { control, history } => {
            let line = json!({"tail": true, "history": history}).to_string();
            control::request(&control, &line, |l| println!("{l}"))
                .await
                .map_err(|e| e.to_string())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLOUD_SIM_LOG")
                .unwrap_or_else(|_| "warn,rumqttd=error".into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloud-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
