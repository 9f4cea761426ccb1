use super::*;

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n";

fn profile(dir: &Path, cloud_tls: bool, tls: &str) -> Result<Profile, ProfileError> {
    let text = format!(
        "[module]\nport = \"/dev/ttyUSB2\"\n[cloud]\nplatform = \"aliyun\"\ntls = {cloud_tls}\n\
         [cloud.aliyun]\nproduct_key = \"a1B2c3D4e5F\"\ndevice_name = \"dev-001\"\n\
         device_secret = \"0123456789abcdef0123456789abcdef\"\n{tls}"
    );
    Profile::from_toml(&text, dir)
}

fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), CA).unwrap();
    std::fs::write(dir.path().join("client.pem"), CA).unwrap();
    std::fs::write(dir.path().join("client.key"), KEY).unwrap();
    std::fs::write(dir.path().join("junk.pem"), "not a certificate").unwrap();
    dir
}

fn field(r: Result<Profile, ProfileError>) -> (String, String) {
    let e = r.expect_err("the profile must be refused");
    (e.field, e.reason)
}

#[test]
fn server_verification_uploads_the_ca_and_configures_the_context() {
    let dir = files();
    let p = profile(
        dir.path(),
        true,
        "[tls]\nca_file = \"ca.pem\"\ncontext = 2\n",
    )
    .unwrap();
    let lines: Vec<String> = steps(&p, 0, true).iter().map(Step::line).collect();
    assert_eq!(
        lines,
        [
            "AT+QFDEL=\"UFS:cellagent-ctx2-ca.pem\"".to_string(),
            format!("AT+QFUPL=\"UFS:cellagent-ctx2-ca.pem\",{},100", CA.len()),
            "AT+QSSLCFG=\"cacert\",2,\"UFS:cellagent-ctx2-ca.pem\"".into(),
            "AT+QSSLCFG=\"seclevel\",2,1".into(),
            "AT+QSSLCFG=\"sslversion\",2,4".into(),
            "AT+QSSLCFG=\"ciphersuite\",2,0xFFFF".into(),
            "AT+QSSLCFG=\"ignorelocaltime\",2,1".into(),
            "AT+QMTCFG=\"ssl\",0,1,2".into(),
        ]
    );
    assert_eq!(
        steps(&p, 0, false)
            .iter()
            .map(Step::line)
            .collect::<Vec<_>>(),
        ["AT+QMTCFG=\"ssl\",0,0"]
    );
}

#[test]
fn mutual_tls_uploads_three_files_and_never_shows_the_key() {
    let dir = files();
    let p = profile(
        dir.path(),
        true,
        "[tls]\nca_file = \"ca.pem\"\nclient_cert_file = \"client.pem\"\n\
         client_key_file = \"client.key\"\nversion = \"tls1.2\"\nciphersuite = 0x0035\n",
    )
    .unwrap();
    let s = steps(&p, 1, true);
    let lines: Vec<String> = s.iter().map(Step::line).collect();
    assert!(lines.contains(&"AT+QSSLCFG=\"clientkey\",1,\"UFS:cellagent-ctx1-key.pem\"".into()));
    assert!(lines.contains(&"AT+QSSLCFG=\"seclevel\",1,2".into()));
    assert!(lines.contains(&"AT+QSSLCFG=\"sslversion\",1,3".into()));
    assert!(lines.contains(&"AT+QSSLCFG=\"ciphersuite\",1,0x0035".into()));
    let shown = format!("{s:?} {p:?}");
    assert!(!shown.contains("c2VjcmV0LWtleQ"), "{shown}");
}

#[test]
fn bad_tls_sections_name_the_field() {
    let dir = files();
    let d = dir.path();
    for (cloud_tls, tls, want, reason) in [
        (true, "", "tls.ca_file", "is missing"),
        (true, "[tls]\ncontext = 1\n", "tls.ca_file", "is missing"),
        (false, "[tls]\nca_file = \"ca.pem\"\n", "tls", "`cloud.tls` is false"),
        (true, "[tls]\nca_file = \"nope.pem\"\n", "tls.ca_file", "cannot read"),
        (true, "[tls]\nca_file = \"junk.pem\"\n", "tls.ca_file", "not a PEM file"),
        (true, "[tls]\nca_file = \"ca.pem\"\ncontext = 6\n", "tls.context", "outside 0..=5"),
        (
            true,
            "[tls]\nca_file = \"ca.pem\"\nclient_cert_file = \"client.pem\"\n",
            "tls.client_key_file",
            "is missing",
        ),
        (
            true,
            "[tls]\nca_file = \"ca.pem\"\nverify = \"mutual\"\n",
            "tls.client_cert_file",
            "is missing",
        ),
        (
            true,
            "[tls]\nca_file = \"ca.pem\"\nclient_cert_file = \"client.pem\"\nclient_key_file = \"ca.pem\"\n",
            "tls.client_key_file",
            "PRIVATE KEY",
        ),
        (true, "[tls]\nca_file = \"ca.pem\"\nversion = \"tls9\"\n", "tls.version", "unknown value"),
        (true, "[tls]\nca = \"ca.pem\"\n", "tls.ca", "unknown field"),
    ] {
        let (f, r) = field(profile(d, cloud_tls, tls));
        assert_eq!(f, want, "{tls}: {r}");
        assert!(r.contains(reason), "{tls}: {r}");
    }
    // `verify = "none"` needs no CA (and says so in the docs: the broker is not authenticated).
    let p = profile(d, true, "[tls]\nverify = \"none\"\n").unwrap();
    assert!(steps(&p, 0, true)
        .iter()
        .any(|s| s.line() == "AT+QSSLCFG=\"seclevel\",1,0"));
}

#[test]
fn a_failed_open_over_tls_names_the_ca_field() {
    let dir = files();
    let p = profile(dir.path(), true, "[tls]\nca_file = \"ca.pem\"\n").unwrap();
    let hint = open_failure_hint(&p).unwrap();
    assert!(
        hint.contains("TLS handshake failed") && hint.contains("tls.ca_file"),
        "{hint}"
    );
    assert_eq!(
        open_failure_hint(&profile(dir.path(), false, "").unwrap()),
        None
    );
}
