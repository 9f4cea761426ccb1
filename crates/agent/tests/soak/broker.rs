//! A mosquitto the soak can restart: one process at a time on a fixed loopback port, with
//! persistence in a temp dir so that the verifier's session and its queued QoS 1 messages
//! survive a restart (the broker's own durability is not what the soak tests; the agent's
//! is).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The mosquitto binary, or `None` (the caller skips) when it is absent and `CI` is unset.
/// With `CI` set, its absence is a failure.
pub fn find_mosquitto() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("mosquitto"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let found = on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin/mosquitto")])
        .find(|p| p.is_file());
    if found.is_none() && std::env::var_os("CI").is_some() {
        panic!("mosquitto is not installed (PATH, /usr/sbin) but CI is set: apt-get install -y mosquitto");
    }
    found
}

/// A restartable mosquitto.
pub struct Broker {
    bin: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    /// The loopback port it listens on (the same across restarts).
    pub port: u16,
    /// How many times it was restarted.
    pub restarts: u32,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// Starts mosquitto on a free loopback port; returns once it accepts connections.
    pub async fn start(bin: &Path) -> Result<Broker, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = cloud_sim::broker::free_port().map_err(|e| e.to_string())?;
        let conf = dir.path().join("mosquitto.conf");
        // `persistence`: the verifier's persistent session (subscription + queued messages)
        // is written on SIGTERM and read back at start. `max_queued_messages 0`: no limit,
        // so nothing queued for the verifier is dropped while it reconnects.
        let text = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n\
             persistence true\npersistence_location {}/\nmax_queued_messages 0\n\
             log_dest stderr\n",
            dir.path().display()
        );
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let mut b = Broker {
            bin: bin.to_path_buf(),
            conf,
            child: None,
            port,
            restarts: 0,
            _dir: dir,
        };
        b.spawn().await?;
        Ok(b)
    }

    /// `host:port` for cloud-sim's `upstream`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) -> Result<(), String> {
        // After a restart the old socket may linger briefly; mosquitto then fails to bind
        // and exits, so retry the spawn a few times.
        for _ in 0..20 {
            let mut child = Command::new(&self.bin)
                .arg("-c")
                .arg(&self.conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("spawn {}: {e}", self.bin.display()))?;
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                    .await
                    .is_ok()
                {
                    self.child = Some(child);
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(format!("mosquitto did not listen on port {}", self.port))
    }

    /// Stops mosquitto with SIGTERM (it saves its persistent state) and starts it again on
    /// the same port.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.restarts += 1;
        self.spawn().await
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            for _ in 0..250 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}
