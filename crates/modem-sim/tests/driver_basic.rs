//! The bring-up, PDP, TLS, file and clock commands of `quectel_mqtt::commands` through the
//! driver over a pty, against the emulator (no broker needed).

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::{bounded, pty_driver};
use modem_sim::{qfupl_checksum, ModuleConfig, MODEL, REVISION};
use quectel_mqtt::commands::{
    At, ClockQuery, ContextType, FileUpload, Identify, ModuleTime, NetworkTimeQuery, PdpAuth,
    PdpContext, PdpContextQuery, PdpContextSet, RegStatus, RegistrationQuery, SecLevel, Secret,
    SetEcho, SignalQuality, SimState, SimStatusQuery, SslConfigQuery, SslConfigSet, SslOption,
    SslSetting, SslVersion, TimeMode,
};
use quectel_mqtt::Error;

#[tokio::test]
async fn bring_up_commands_with_echo_on_and_off() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    // Echo is on at power-up: the driver must skip the echoed command lines.
    bounded(c.execute(At)).await.unwrap();
    let info = c.execute(Identify).await.unwrap();
    assert_eq!(
        (
            info.manufacturer.as_str(),
            info.model.as_str(),
            info.revision.as_str()
        ),
        ("Quectel", MODEL, REVISION)
    );
    assert_eq!(c.execute(SimStatusQuery).await.unwrap(), SimState::Ready);
    c.execute(SetEcho { on: false }).await.unwrap();
    c.execute(At).await.unwrap();
    let signal = c.execute(SignalQuality).await.unwrap();
    assert_eq!((signal.rssi, signal.ber), (31, 99));
    assert_eq!((signal.dbm(), signal.bit_error_rate()), (Some(-51), None));
    let reg = c.execute(RegistrationQuery).await.unwrap();
    assert_eq!((reg.urc_mode, reg.status), (0, RegStatus::Home));
    assert!(reg.status.is_registered());
    assert_eq!(
        (reg.tac, reg.cell_id, reg.access_technology),
        (None, None, None)
    );
    c.execute(SetEcho { on: true }).await.unwrap();
    assert!(c.execute(SimStatusQuery).await.unwrap().is_ready());
}

#[tokio::test]
async fn pdp_context_reads_back_as_set() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(SetEcho { on: false })).await.unwrap();
    let config = PdpContext {
        kind: ContextType::Ipv4v6,
        apn: "cmiot.example".into(),
        username: "gw-user".into(),
        password: Secret::new("pdp-pass"),
        auth: PdpAuth::Chap,
    };
    c.execute(PdpContextSet {
        context: 3,
        config: config.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(PdpContextQuery { context: 3 }).await.unwrap(),
        config
    );
    // Contexts are separate: context 1 still has the power-up values.
    let first = c.execute(PdpContextQuery { context: 1 }).await.unwrap();
    assert_ne!(first, config);
    assert_eq!(
        (first.kind, first.username.as_str(), first.auth),
        (ContextType::Ipv4, "", PdpAuth::None)
    );
}

#[tokio::test]
async fn ssl_settings_and_file_upload() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(SetEcho { on: false })).await.unwrap();

    // An odd size: the checksum's last word has a low byte of 0.
    let data =
        Bytes::from_static(b"-----BEGIN CERTIFICATE-----\r\nMIIB\"x\",yz\r\n-----END-----\n");
    assert_eq!(data.len() % 2, 1);
    let up = c
        .execute(FileUpload {
            name: "UFS:ca.pem".into(),
            data: data.clone(),
            input_timeout: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (up.size as usize, up.checksum),
        (data.len(), qfupl_checksum(&data))
    );
    // A second upload under the same name is refused (delete it first).
    let again = c
        .execute(FileUpload {
            name: "UFS:ca.pem".into(),
            data: data.clone(),
            input_timeout: Some(5),
        })
        .await;
    assert!(
        matches!(
            again,
            Err(Error::Module {
                command: "AT+QFUPL"
            })
        ),
        "{again:?}"
    );
    let key = Bytes::from(vec![0xA5u8; 2048]);
    let up = c
        .execute(FileUpload {
            name: "UFS:client.key".into(),
            data: key.clone(),
            input_timeout: Some(10),
        })
        .await
        .unwrap();
    assert_eq!((up.size, up.checksum), (2048, qfupl_checksum(&key)));

    let ctx = 2;
    let settings = [
        SslSetting::CaCert("UFS:ca.pem".into()),
        SslSetting::ClientCert("UFS:client.pem".into()),
        SslSetting::ClientKey("UFS:client.key".into()),
        SslSetting::SecLevel(SecLevel::Mutual),
        SslSetting::Version(SslVersion::Tls1_2),
        SslSetting::CipherSuite(0x0035),
        SslSetting::IgnoreLocalTime(true),
    ];
    for setting in settings.iter().cloned() {
        c.execute(SslConfigSet {
            context: ctx,
            setting,
        })
        .await
        .unwrap();
    }
    for setting in settings {
        let option = setting.option();
        let got = c
            .execute(SslConfigQuery {
                context: ctx,
                option,
            })
            .await
            .unwrap();
        assert_eq!(got, setting, "{option:?}");
    }
    c.execute(SslConfigSet {
        context: ctx,
        setting: SslSetting::CipherSuite(0xFFFF),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(SslConfigQuery {
            context: ctx,
            option: SslOption::CipherSuite
        })
        .await
        .unwrap(),
        SslSetting::CipherSuite(0xFFFF)
    );
    // Another context keeps its defaults.
    assert_eq!(
        c.execute(SslConfigQuery {
            context: 0,
            option: SslOption::SecLevel
        })
        .await
        .unwrap(),
        SslSetting::SecLevel(SecLevel::None)
    );
}

fn unix_now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Seconds since the epoch of a module time read as UTC wall-clock fields.
fn fields_as_utc(t: &ModuleTime) -> i64 {
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m, d) = (i64::from(t.year), i64::from(t.month), i64::from(t.day));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
}

/// How far (in seconds) the fields of `t` are from the host's UTC clock.
fn skew_from_utc(t: &ModuleTime) -> i64 {
    fields_as_utc(t) - unix_now_s()
}

#[tokio::test]
async fn network_time_and_clock() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(SetEcho { on: false })).await.unwrap();
    // The emulated network is UTC+8 (+32 quarter hours). Quectel's AT manual: AT+QLTS and
    // AT+QLTS=1 give GMT with the zone appended, AT+QLTS=2 the local time; AT+CCLK? is local
    // time (3GPP 27.007). A minute of slack covers a test that straddles a minute.
    let near = |skew: i64, expected: i64| (skew - expected).abs() < 60;
    for (mode, offset) in [
        (None, 0),
        (Some(TimeMode::LastSynced), 0),
        (Some(TimeMode::CurrentUtc), 0),
        (Some(TimeMode::CurrentLocal), 8 * 3600),
    ] {
        let t = c
            .execute(NetworkTimeQuery { mode })
            .await
            .unwrap()
            .expect("the emulated network has sent the time");
        assert_eq!((t.zone_quarters, t.dst), (32, Some(0)), "{mode:?}");
        assert_eq!(t.utc_offset_minutes(), 480);
        assert!(near(skew_from_utc(&t), offset), "{mode:?}: {t:?}");
    }
    let t = c.execute(ClockQuery).await.unwrap();
    assert_eq!((t.zone_quarters, t.dst), (32, None));
    assert!(near(skew_from_utc(&t), 8 * 3600), "{t:?}");
}
