//! The AT command script `run` sends, as data: bring-up (AT, ATE0, SIM, registration, APN,
//! time), configuration, module-side auth, open, connect, subscribe. `check` prints it with
//! secrets masked; the run loop executes it step by step.

use quectel_mqtt::commands::{
    At, CfgAliAuth, CfgEditTimeout, CfgHwAuth, CfgHwProdId, CfgKeepalive, CfgOneNet, CfgRecvMode,
    CfgSsl, CfgTimeout, Close, Connect, ContextType, Credentials, Disconnect, FileDelete, HwAuth,
    HwProduct, NetworkTimeQuery, OneNetAuth, Open, PacketTimeouts, PdpAuth, PdpContext,
    PdpContextSet, Qos, RecvMode, RegistrationQuery, Secret as AtSecret, SetEcho, SignalQuality,
    SimStatusQuery, SslConfigSet, Subscribe, TimeMode, TopicFilter,
};
use quectel_mqtt::request::Timing;
use quectel_mqtt::Command;
use thing_model::{ModuleAuth, Platform, PlatformError};

use crate::profile::{AuthMode, Profile};

/// One step of the script.
#[derive(Debug, Clone)]
pub enum Step {
    /// `AT`.
    At,
    /// `ATE0`.
    EchoOff,
    /// `AT+CPIN?` — must be READY.
    SimReady,
    /// `AT+CSQ` (logged).
    Signal,
    /// `AT+CEREG?` until registered.
    Registered,
    /// `AT+QICSGP=1,1,"<apn>"…`.
    Apn(PdpContextSet),
    /// `AT+QLTS=2` (the network's time, fed to the agent's clock; `AT+CCLK?` if it fails).
    NetworkTime,
    /// `AT+QMTCFG="recv/mode",…`.
    RecvMode(CfgRecvMode),
    /// `AT+QMTCFG="keepalive",…`.
    Keepalive(CfgKeepalive),
    /// `AT+QMTCFG="timeout",…`.
    Timeout(CfgTimeout),
    /// `AT+QMTCFG="edit/timeout",…` (later firmware; `ERROR` from older firmware is only
    /// logged).
    EditTimeout(CfgEditTimeout),
    /// `AT+QMTCFG="ssl",…`.
    Ssl(CfgSsl),
    /// `AT+QFDEL` of a file about to be uploaded again (errors ignored: it may not exist).
    DeleteFile(FileDelete),
    /// `AT+QFUPL` of a certificate or key.
    Upload(crate::tls::Upload),
    /// `AT+QSSLCFG="<setting>",<ctx>,…`.
    SslConfig(SslConfigSet),
    /// `AT+QMTCFG="aliauth",…`.
    AliAuth(CfgAliAuth),
    /// `AT+QMTCFG="onenet",…`.
    OneNet(CfgOneNet),
    /// `AT+QMTCFG="hwauth",…`.
    HwAuth(CfgHwAuth),
    /// `AT+QMTCFG="hwprodid",…`.
    HwProdId(CfgHwProdId),
    /// `AT+QMTCLOSE` of a stale link (errors ignored).
    CloseStale(Close),
    /// `AT+QMTOPEN`.
    Open(Open),
    /// `AT+QMTCONN`.
    Connect(Connect),
    /// `AT+QMTSUB` (msgid allocated by the driver).
    Subscribe(u8, Vec<TopicFilter>),
}

/// Packet timeout and retries the agent configures (from `[agent]`).
pub fn packet_timeouts(profile: &Profile) -> PacketTimeouts {
    PacketTimeouts {
        pkt_timeout: profile.agent.pkt_timeout_s,
        retry_times: profile.agent.retry_times,
        report_timeouts: false,
    }
}

/// The module's `edit/timeout`: 5 s inside the transport's input quiet
/// (`agent.input_quiet_s`), so that when the quiet ends the module has surely left a `>` input
/// it was still in, and the probe that follows is read as a command; 30 s with the default
/// quiet of 35. Never less than 5 s nor twice the time the largest payload (1,500 bytes) takes
/// at `module.baud`: a module that gave up in the middle of a payload would read the rest as
/// commands. At most 120 s (the range every firmware with the option takes).
pub fn edit_timeout_s(profile: &Profile) -> u16 {
    let baud = u64::from(profile.module.baud.max(1));
    let payload_s = (2 * quectel_mqtt::MAX_PAYLOAD as u64 * 10).div_ceil(baud);
    let floor = payload_s.clamp(5, 120) as u16;
    profile
        .agent
        .input_quiet_s
        .saturating_sub(5)
        .clamp(floor, 120)
}

/// The script and the secrets it carries (derived passwords included), for masking.
#[derive(Debug, Clone)]
pub struct Script {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Secret values appearing on its lines.
    pub secrets: Vec<String>,
}

/// Where the session part starts (after the bring-up steps).
pub fn is_bringup(step: &Step) -> bool {
    matches!(
        step,
        Step::At
            | Step::EchoOff
            | Step::SimReady
            | Step::Signal
            | Step::Registered
            | Step::Apn(_)
            | Step::NetworkTime
    )
}

/// Builds the full script for `now_ms` (host-side credentials are signed for that time).
pub fn build(
    profile: &Profile,
    platform: &dyn Platform,
    now_ms: i64,
) -> Result<Script, PlatformError> {
    let client = profile.module.client_index;
    let mut secrets = profile.secrets();
    let mut steps = vec![Step::At, Step::EchoOff];
    if !profile.agent.skip_network_checks {
        steps.extend([Step::SimReady, Step::Signal, Step::Registered]);
        if let Some(apn) = &profile.module.apn {
            steps.push(Step::Apn(PdpContextSet {
                context: 1,
                config: PdpContext {
                    kind: ContextType::Ipv4,
                    apn: apn.clone(),
                    username: String::new(),
                    password: AtSecret::new(""),
                    auth: PdpAuth::None,
                },
            }));
        }
        steps.push(Step::NetworkTime);
    }
    // A link left over from an earlier run or attempt would make the module refuse the
    // configuration (and the open): close it first.
    steps.push(Step::CloseStale(Close { client }));
    steps.push(Step::RecvMode(CfgRecvMode {
        client,
        mode: RecvMode {
            buffered: false,
            with_length: true,
        },
    }));
    steps.push(Step::Timeout(CfgTimeout {
        client,
        timeouts: packet_timeouts(profile),
    }));
    steps.push(Step::EditTimeout(CfgEditTimeout {
        client,
        enabled: true,
        seconds: edit_timeout_s(profile),
    }));
    let (host, port, tls, keepalive, connect) = match profile.cloud.auth {
        AuthMode::Host => {
            let c = platform.connect(now_ms)?;
            secrets.push(c.password.expose().to_string());
            let connect = Connect {
                client,
                client_id: c.client_id,
                credentials: Some(Credentials {
                    username: c.username,
                    password: AtSecret::new(c.password.expose()),
                }),
            };
            (c.host, c.port, c.tls, c.keepalive_s, connect)
        }
        AuthMode::Module => {
            let m = platform.module_connect()?;
            steps.push(match m.auth {
                ModuleAuth::Aliyun {
                    product_key,
                    device_name,
                    device_secret,
                } => Step::AliAuth(CfgAliAuth {
                    client,
                    auth: quectel_mqtt::commands::AliAuth {
                        product_key,
                        device_name,
                        device_secret: AtSecret::new(device_secret.expose()),
                    },
                }),
                ModuleAuth::OneNet {
                    product_id,
                    access_key,
                } => Step::OneNet(CfgOneNet {
                    client,
                    auth: OneNetAuth {
                        product_id,
                        access_key: AtSecret::new(access_key.expose()),
                    },
                }),
                ModuleAuth::HuaweiDevice {
                    device_id, secret, ..
                } => Step::HwAuth(CfgHwAuth {
                    client,
                    auth: HwAuth {
                        device_id,
                        device_secret: AtSecret::new(secret.expose()),
                    },
                }),
                ModuleAuth::HuaweiProduct {
                    product_id,
                    product_secret,
                    node_id,
                } => Step::HwProdId(CfgHwProdId {
                    client,
                    auth: HwProduct {
                        product_id,
                        product_secret: AtSecret::new(product_secret.expose()),
                        node_id,
                    },
                }),
            });
            let connect = Connect {
                client,
                client_id: m.client_id,
                credentials: None,
            };
            (m.host, m.port, m.tls, m.keepalive_s, connect)
        }
    };
    steps.push(Step::Keepalive(CfgKeepalive {
        client,
        seconds: keepalive,
    }));
    steps.extend(crate::tls::steps(profile, client, tls));
    steps.push(Step::Open(Open { client, host, port }));
    steps.push(Step::Connect(connect));
    let subs: Vec<TopicFilter> = platform
        .subscriptions()
        .into_iter()
        .map(|s| TopicFilter {
            topic: s.topic,
            qos: if s.qos == 0 {
                Qos::AtMostOnce
            } else {
                Qos::AtLeastOnce
            },
        })
        .collect();
    if !subs.is_empty() {
        steps.push(Step::Subscribe(client, subs));
    }
    Ok(Script { steps, secrets })
}

fn line_of<C: Command>(c: &C) -> String {
    match c.request(&Timing::default()) {
        Ok(r) => String::from_utf8_lossy(&r.line).into_owned(),
        Err(e) => format!("# refused: {e}"),
    }
}

impl Step {
    /// The AT line (unmasked). Subscribe shows msgid 1 (the driver allocates the real one).
    pub fn line(&self) -> String {
        match self {
            Step::At => line_of(&At),
            Step::EchoOff => line_of(&SetEcho { on: false }),
            Step::SimReady => line_of(&SimStatusQuery),
            Step::Signal => line_of(&SignalQuality),
            Step::Registered => line_of(&RegistrationQuery),
            Step::Apn(c) => line_of(c),
            Step::NetworkTime => line_of(&NetworkTimeQuery {
                mode: Some(TimeMode::CurrentLocal),
            }),
            Step::RecvMode(c) => line_of(c),
            Step::Keepalive(c) => line_of(c),
            Step::Timeout(c) => line_of(c),
            Step::EditTimeout(c) => line_of(c),
            Step::Ssl(c) => line_of(c),
            Step::DeleteFile(c) => line_of(c),
            Step::Upload(c) => line_of(&c.0),
            Step::SslConfig(c) => line_of(c),
            Step::AliAuth(c) => line_of(c),
            Step::OneNet(c) => line_of(c),
            Step::HwAuth(c) => line_of(c),
            Step::HwProdId(c) => line_of(c),
            Step::CloseStale(c) => line_of(c),
            Step::Open(c) => line_of(c),
            Step::Connect(c) => line_of(c),
            Step::Subscribe(client, topics) => line_of(&Subscribe {
                client: *client,
                msgid: 1,
                topics: topics.clone(),
            }),
        }
    }
}

impl Script {
    /// The lines with every secret replaced by `***`.
    pub fn masked_lines(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| crate::profile::mask(&s.line(), &self.secrets))
            .collect()
    }

    /// The `AT+QMTDISC` / `AT+QMTCLOSE` lines `run` sends on shutdown.
    pub fn shutdown_lines(client: u8) -> Vec<String> {
        vec![line_of(&Disconnect { client }), line_of(&Close { client })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(extra: &str) -> Profile {
        let text = format!(
            "[module]\nport = \"/dev/ttyUSB2\"\napn = \"cmnet\"\n[cloud]\nplatform = \"aliyun\"\n{extra}\n\
             [cloud.aliyun]\nproduct_key = \"a1B2c3D4e5F\"\ndevice_name = \"dev-001\"\n\
             device_secret = \"0123456789abcdef0123456789abcdef\"\n"
        );
        Profile::from_toml(&text, std::path::Path::new(".")).unwrap()
    }

    #[test]
    fn edit_timeout_ends_inside_the_input_quiet() {
        let mut p = profile("");
        for (quiet, edit) in [(35, 30), (12, 7), (5, 5), (1, 5), (300, 120)] {
            p.agent.input_quiet_s = quiet;
            assert_eq!(edit_timeout_s(&p), edit, "input_quiet_s = {quiet}");
        }
        // 1,500 bytes at 1,200 baud take 12.5 s: the module gets twice that.
        p.module.baud = 1_200;
        p.agent.input_quiet_s = 12;
        assert_eq!(edit_timeout_s(&p), 25);
    }

    #[test]
    fn host_auth_script_signs_and_masks_the_password() {
        let p = profile("");
        let platform = crate::cloud::build_platform(&p).unwrap();
        let s = build(&p, platform.as_ref(), 1_764_000_000_000).unwrap();
        let lines = s.masked_lines();
        assert_eq!(&lines[..3], ["AT", "ATE0", "AT+CPIN?"]);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("AT+QICSGP=1,1,\"cmnet\"")),
            "{lines:?}"
        );
        let conn = lines.iter().find(|l| l.starts_with("AT+QMTCONN")).unwrap();
        assert!(conn.ends_with(",\"dev-001&a1B2c3D4e5F\",\"***\""), "{conn}");
        assert!(conn.contains("timestamp=1764000000000"));
        let unmasked = s
            .steps
            .iter()
            .map(Step::line)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !lines.join("\n").contains(&s.secrets[1]),
            "the derived password is masked"
        );
        assert!(
            unmasked.contains(&s.secrets[1]),
            "the real script carries it"
        );
    }

    #[test]
    fn module_auth_script_configures_aliauth_and_connects_without_credentials() {
        let p = profile("auth = \"module\"");
        let platform = crate::cloud::build_platform(&p).unwrap();
        let s = build(&p, platform.as_ref(), 0).unwrap();
        let lines = s.masked_lines();
        assert!(
            lines.contains(&r#"AT+QMTCFG="aliauth",0,"a1B2c3D4e5F","dev-001","***""#.to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&r#"AT+QMTCONN=0,"dev-001""#.to_string()),
            "{lines:?}"
        );
        assert!(!lines
            .join("\n")
            .contains("0123456789abcdef0123456789abcdef"));
    }
}
