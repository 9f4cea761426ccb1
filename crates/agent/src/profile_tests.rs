//! Tests of profile loading and validation.
use super::*;

const ALI: &str = r#"
[module]
port = "/dev/ttyUSB2"
[cloud]
platform = "aliyun"
[cloud.aliyun]
product_key = "a1B2c3D4e5F"
device_name = "dev-001"
device_secret = "0123456789abcdef0123456789abcdef"
"#;

#[test]
fn loads_with_defaults() {
    let p = Profile::from_toml(ALI, Path::new(".")).unwrap();
    assert_eq!(p.module.baud, 115_200);
    assert_eq!(p.cloud.keepalive, 60);
    assert_eq!(p.cloud.auth, AuthMode::Host);
    assert_eq!(p.secrets(), vec!["0123456789abcdef0123456789abcdef"]);
}

#[test]
fn unknown_and_missing_fields_are_named() {
    let e = Profile::from_toml(
        &ALI.replace("baud", "x").replace("port =", "prt ="),
        Path::new("."),
    )
    .unwrap_err();
    assert!(e.field.starts_with("module."), "{e}");
    let e = Profile::from_toml("[module]\nport=\"x\"\n", Path::new(".")).unwrap_err();
    assert_eq!(e.field, "cloud");
    let e = Profile::from_toml(
        &ALI.replace("port = \"/dev/ttyUSB2\"", "port = \"p\"\nclient_index = 9"),
        Path::new("."),
    )
    .unwrap_err();
    assert_eq!(e.field, "module.client_index");
}

#[test]
fn secret_from_file_and_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ds"), "fromfile0123\n").unwrap();
    let text = ALI.replace(
        "device_secret = \"0123456789abcdef0123456789abcdef\"",
        "device_secret_file = \"ds\"",
    );
    let p = Profile::from_toml(&text, dir.path()).unwrap();
    let a = p.cloud.aliyun.unwrap();
    assert_eq!(a.device_secret.unwrap().expose(), "fromfile0123");
    let both = format!("{ALI}device_secret_file = \"ds\"\n");
    let e = Profile::from_toml(&both, dir.path()).unwrap_err();
    assert_eq!(e.field, "cloud.aliyun.device_secret");
    assert!(!e.to_string().contains("0123456789abcdef"));
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail's own error type
fn environment_overrides_nested_fields_and_secrets() {
    figment::Jail::expect_with(|jail| {
        let text = ALI.replace("device_secret = \"0123456789abcdef0123456789abcdef\"\n", "");
        jail.create_file("p.toml", &text)?;
        jail.set_env("CELLAGENT_CLOUD__ALIYUN__DEVICE_SECRET", "env0secret0value");
        jail.set_env("CELLAGENT_MODULE__BAUD", "9600");
        jail.set_env("CELLAGENT_LOG", "ignored: not a nested key");
        let p = Profile::load(Path::new("p.toml")).map_err(|e| e.to_string())?;
        assert_eq!(p.module.baud, 9600);
        let secret = p.cloud.aliyun.and_then(|a| a.device_secret).unwrap();
        assert_eq!(secret.expose(), "env0secret0value");
        Ok(())
    });
}

#[test]
fn mask_replaces_secrets() {
    assert_eq!(mask("a=s3cret;b", &["s3cret".into()]), "a=***;b");
}

#[test]
fn publish_window_and_batch_are_checked_and_named() {
    let p = Profile::from_toml(ALI, Path::new(".")).unwrap();
    assert_eq!((p.publish.window, p.publish.batch), (5, 1));
    let p = Profile::from_toml(
        &format!("{ALI}[publish]\nwindow = 1\nbatch = 20\n"),
        Path::new("."),
    )
    .unwrap();
    assert_eq!((p.publish.window, p.publish.batch), (1, 20));
    for (text, field, limit) in [
        ("window = 6", "publish.window", "1..=5"),
        ("window = 0", "publish.window", "1..=5"),
        ("batch = 0", "publish.batch", "1..=100"),
        ("batch = 101", "publish.batch", "1..=100"),
    ] {
        let e =
            Profile::from_toml(&format!("{ALI}[publish]\n{text}\n"), Path::new(".")).unwrap_err();
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.to_string().contains(limit), "{text}: {e}");
    }
    let e =
        Profile::from_toml(&format!("{ALI}[publish]\nwindows = 2\n"), Path::new(".")).unwrap_err();
    assert!(e.field.starts_with("publish.windows"), "{e}");
}

#[test]
fn the_publish_rate_defaults_to_the_clouds_limit_and_can_be_set_or_lifted() {
    let p = Profile::from_toml(ALI, Path::new(".")).unwrap();
    // OneNET Studio 1/s, Huawei IoTDA 50/s (shared/clouds); Aliyun 30/s (unverified).
    assert_eq!(p.publish.rate(CloudKind::Onenet), (1.0, 1));
    assert_eq!(p.publish.rate(CloudKind::Huawei), (50.0, 50));
    assert_eq!(p.publish.rate(CloudKind::Aliyun), (30.0, 30));
    let p = Profile::from_toml(
        &format!("{ALI}[publish]\nrate_per_s = 0.5\n"),
        Path::new("."),
    )
    .unwrap();
    assert_eq!(
        p.publish.rate(CloudKind::Aliyun),
        (0.5, 1),
        "burst at least 1"
    );
    let p = Profile::from_toml(
        &format!("{ALI}[publish]\nrate_per_s = 0\nburst = 7\n"),
        Path::new("."),
    )
    .unwrap();
    assert_eq!(p.publish.rate(CloudKind::Onenet), (0.0, 7));
}
