//! `provision --register --profile FILE`: registration through the module where the cloud
//! supports it (Huawei product secret `secretNotify`; Aliyun dynamic registration
//! `register`), then the issued secret is written into the profile.
//!
//! The exchange is the platform's [`thing_model::ProvisionStep`]: connect with the
//! registration credentials, subscribe, publish, feed every received message to
//! `provision_response` until it yields the credentials, publish its acks, disconnect.

use std::path::Path;
use std::time::Duration;

use quectel_mqtt::commands::{
    CfgKeepalive, CfgRecvMode, CfgTimeout, Close, Connect, Credentials, Disconnect, Open, Qos,
    RecvMode, Secret as AtSecret, TopicFilter,
};
use quectel_mqtt::driver::{open_serial_async, Client, DriverEvent};
use quectel_mqtt::Urc;
use thing_model::{Platform, Provisioned};

use crate::link::run_step;
use crate::profile::{CloudKind, Profile};
use crate::script::{packet_timeouts, Step};
use crate::AgentError;

/// Attempts before `register` gives up (a stalled command or a lost answer is retried).
pub const ATTEMPTS: u32 = 3;

/// How long to wait for the cloud's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

fn random_token() -> String {
    (0..16).map(|_| fastrand::alphanumeric()).collect()
}

/// Writes the provisioned credentials into the profile text. Comments are not kept.
pub fn apply_to_profile(
    text: &str,
    cloud: CloudKind,
    state: &Provisioned,
) -> Result<String, AgentError> {
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e| AgentError::Runtime(format!("profile: {e}")))?;
    let get = |k: &str| {
        state
            .state
            .get(k)
            .map(|s| s.expose().to_string())
            .ok_or_else(|| AgentError::Runtime(format!("the cloud's answer has no `{k}`")))
    };
    let section = doc
        .get_mut("cloud")
        .and_then(|c| c.as_table_mut())
        .and_then(|c| c.get_mut(cloud.as_str()))
        .and_then(|s| s.as_table_mut())
        .ok_or_else(|| AgentError::Runtime(format!("profile: no [cloud.{}]", cloud.as_str())))?;
    match cloud {
        CloudKind::Huawei => {
            section.insert("device_id".into(), get("device_id")?.into());
            section.insert("secret".into(), get("device_secret")?.into());
            for k in [
                "product_id",
                "node_id",
                "product_secret",
                "product_secret_file",
            ] {
                section.remove(k);
            }
        }
        CloudKind::Aliyun => {
            section.insert("device_secret".into(), get("device_secret")?.into());
            for k in ["product_secret", "product_secret_file", "register"] {
                section.remove(k);
            }
        }
        CloudKind::Onenet => {
            return Err(AgentError::Runtime(
                "OneNET issues no device key over MQTT; nothing to write".into(),
            ))
        }
    }
    let body = toml::to_string_pretty(&doc).map_err(|e| AgentError::Runtime(e.to_string()))?;
    Ok(format!(
        "# updated by `cellagent provision --register`: the device's issued credentials\n{body}"
    ))
}

async fn exchange(profile: &Profile, platform: &dyn Platform) -> Result<Provisioned, String> {
    let step = platform
        .provision(crate::now_ms(), &random_token())
        .map_err(|e| e.to_string())?
        .ok_or("this profile already has device credentials; nothing to register")?;
    let idx = profile.module.client_index;
    let c = step.connect;
    let port = open_serial_async(&profile.module.port, profile.module.baud)
        .await
        .map_err(|e| format!("cannot open {}: {e}", profile.module.port))?;
    let (client, task) = Client::spawn(port);
    let _stop = scopeguard(task);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut steps = vec![
        Step::At,
        Step::EchoOff,
        Step::CloseStale(Close { client: idx }),
        Step::RecvMode(CfgRecvMode {
            client: idx,
            mode: RecvMode {
                buffered: false,
                with_length: true,
            },
        }),
        Step::Timeout(CfgTimeout {
            client: idx,
            timeouts: packet_timeouts(profile),
        }),
        Step::Keepalive(CfgKeepalive {
            client: idx,
            seconds: c.keepalive_s,
        }),
    ];
    steps.extend(crate::tls::steps(profile, idx, c.tls));
    steps.extend([
        Step::Open(Open {
            client: idx,
            host: c.host.clone(),
            port: c.port,
        }),
        Step::Connect(Connect {
            client: idx,
            client_id: c.client_id.clone(),
            credentials: Some(Credentials {
                username: c.username.clone(),
                password: AtSecret::new(c.password.expose()),
            }),
        }),
    ]);
    for s in &steps {
        run_step(&client, profile, s).await?;
    }
    let mut events = client.events();
    if !step.subscribe.is_empty() {
        let topics = step
            .subscribe
            .iter()
            .map(|s| TopicFilter {
                topic: s.topic.clone(),
                qos: if s.qos == 0 {
                    Qos::AtMostOnce
                } else {
                    Qos::AtLeastOnce
                },
            })
            .collect();
        run_step(&client, profile, &Step::Subscribe(idx, topics)).await?;
    }
    for p in &step.publish {
        client
            .publish(idx, &p.topic, qos(p.qos), false, p.payload.clone())
            .await
            .map_err(|e| format!("registration request: {e}"))?;
    }
    let provisioned = tokio::time::timeout(ANSWER_TIMEOUT, async {
        loop {
            match events.recv().await {
                Ok(DriverEvent::Urc(Urc::Recv(m))) => {
                    match platform.provision_response(&m.topic, &m.payload) {
                        Ok(Some(p)) => return Ok(p),
                        Ok(None) => {}
                        Err(e) => tracing::debug!("not the registration answer: {e}"),
                    }
                }
                Ok(DriverEvent::Urc(Urc::Stat { code, .. })) => {
                    return Err(format!("the link closed during registration ({code:?})"))
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .map_err(|_| format!("no registration answer within {ANSWER_TIMEOUT:?}"))??;
    for p in &provisioned.publish {
        if let Err(e) = client
            .publish(idx, &p.topic, qos(p.qos), false, p.payload.clone())
            .await
        {
            tracing::warn!("registration ack: {e}");
        }
    }
    let _ = client.execute(Disconnect { client: idx }).await;
    let _ = client.execute(Close { client: idx }).await;
    Ok(provisioned)
}

fn qos(q: u8) -> Qos {
    if q == 0 {
        Qos::AtMostOnce
    } else {
        Qos::AtLeastOnce
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn scopeguard(task: tokio::task::JoinHandle<()>) -> AbortOnDrop {
    AbortOnDrop(task)
}

/// Registers the device of `path` through its module and writes the issued credentials into
/// the profile file (mode 0600).
pub async fn register(path: &Path) -> Result<(), AgentError> {
    let (profile, platform) = crate::commands::load(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| AgentError::Usage(format!("--profile {}: {e}", path.display())))?;
    let needed = platform
        .provision(crate::now_ms(), &random_token())
        .map_err(|e| AgentError::Runtime(e.to_string()))?;
    if needed.is_none() {
        return Err(AgentError::Usage(format!(
            "--profile {}: the device already has its credentials; nothing to register",
            path.display()
        )));
    }
    let mut attempt = 1;
    let provisioned = loop {
        match exchange(&profile, platform.as_ref()).await {
            Ok(p) => break p,
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(attempt, "registration failed, retrying: {e}");
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(AgentError::Runtime(format!("registration: {e}"))),
        }
    };
    let updated = apply_to_profile(&text, profile.cloud.platform, &provisioned)?;
    // The result must load before it replaces the old profile.
    let base = path.parent().unwrap_or(Path::new("."));
    crate::cloud::build_platform(&Profile::from_toml(&updated, base)?)?;
    crate::provision::write_private(path, &updated)
        .map_err(|e| AgentError::Runtime(format!("{}: {e}", path.display())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use thing_model::Secret;

    #[test]
    fn huawei_credentials_replace_the_product_login() {
        let text = "[module]\nport = \"/dev/x\"\n[cloud]\nplatform = \"huawei\"\n\
                    [cloud.huawei]\nproduct_id = \"5f1a2b3c4d\"\nnode_id = \"dev001\"\nproduct_secret = \"pr0duct-Secret\"\n";
        let mut state = Provisioned::default();
        state
            .state
            .insert("device_id".into(), Secret::new("5f1a2b3c4d_dev001"));
        state
            .state
            .insert("device_secret".into(), Secret::new("issued-0123"));
        let out = apply_to_profile(text, CloudKind::Huawei, &state).unwrap();
        let p = Profile::from_toml(&out, Path::new(".")).unwrap();
        let h = p.cloud.huawei.unwrap();
        assert_eq!(h.device_id.as_deref(), Some("5f1a2b3c4d_dev001"));
        assert_eq!(h.secret.unwrap().expose(), "issued-0123");
        assert!(h.product_secret.is_none() && h.product_id.is_none());
    }
}
