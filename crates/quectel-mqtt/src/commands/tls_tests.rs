use super::*;
use crate::commands::test_support::{encode, info, refused_param, request};

fn set(context: u8, setting: SslSetting) -> SslConfigSet {
    SslConfigSet { context, setting }
}

#[test]
fn sslcfg_set_matches_the_guide() {
    assert_eq!(
        encode(&set(2, SslSetting::CaCert("UFS:cacert.pem".into()))),
        "AT+QSSLCFG=\"cacert\",2,\"UFS:cacert.pem\""
    );
    assert_eq!(
        encode(&set(2, SslSetting::ClientCert("UFS:client.pem".into()))),
        "AT+QSSLCFG=\"clientcert\",2,\"UFS:client.pem\""
    );
    assert_eq!(
        encode(&set(2, SslSetting::ClientKey("UFS:user_key.pem".into()))),
        "AT+QSSLCFG=\"clientkey\",2,\"UFS:user_key.pem\""
    );
    // The guide misspells this option "secllevel"; modules and the BG95 log use "seclevel".
    assert_eq!(
        encode(&set(2, SslSetting::SecLevel(SecLevel::Mutual))),
        "AT+QSSLCFG=\"seclevel\",2,2"
    );
    assert_eq!(
        encode(&set(2, SslSetting::Version(SslVersion::All))),
        "AT+QSSLCFG=\"sslversion\",2,4"
    );
    assert_eq!(
        encode(&set(2, SslSetting::CipherSuite(0xFFFF))),
        "AT+QSSLCFG=\"ciphersuite\",2,0xFFFF"
    );
    assert_eq!(
        encode(&set(1, SslSetting::CipherSuite(0x35))),
        "AT+QSSLCFG=\"ciphersuite\",1,0x0035"
    );
    assert_eq!(
        encode(&set(2, SslSetting::IgnoreLocalTime(true))),
        "AT+QSSLCFG=\"ignorelocaltime\",2,1"
    );
    let req = request(&set(0, SslSetting::SecLevel(SecLevel::None)));
    assert_eq!(
        (req.info, req.timeout, req.secret),
        (Info::None, QUICK_TIMEOUT, false)
    );
}

#[test]
fn sslcfg_bounds() {
    assert_eq!(
        encode(&set(0, SslSetting::Version(SslVersion::Ssl3_0))),
        "AT+QSSLCFG=\"sslversion\",0,0"
    );
    assert_eq!(
        encode(&set(5, SslSetting::Version(SslVersion::Tls1_2))),
        "AT+QSSLCFG=\"sslversion\",5,3"
    );
    assert_eq!(
        refused_param(&set(6, SslSetting::IgnoreLocalTime(false))),
        "SSL_ctx_idx"
    );
    assert!(set(0, SslSetting::CaCert("f".repeat(80)))
        .request(&Timing::default())
        .is_ok());
    assert_eq!(
        refused_param(&set(0, SslSetting::CaCert("f".repeat(81)))),
        "file_name"
    );
    assert_eq!(
        refused_param(&set(0, SslSetting::ClientKey(String::new()))),
        "file_name"
    );
    assert_eq!(
        refused_param(&set(0, SslSetting::ClientKey("a\"b".into()))),
        "file_name"
    );
}

#[test]
fn sslcfg_query() {
    let query = SslConfigQuery {
        context: 1,
        option: SslOption::IgnoreLocalTime,
    };
    let req = request(&query);
    assert_eq!(req.line, b"AT+QSSLCFG=\"ignorelocaltime\",1");
    assert_eq!(req.info, Info::Prefix("+QSSLCFG:"));
    // shared/at-logs/04 (BG96): the reply repeats the context.
    assert_eq!(
        query
            .parse(info(&["+QSSLCFG: \"ignorelocaltime\",1,1"]))
            .unwrap(),
        SslSetting::IgnoreLocalTime(true)
    );
    let suite = SslConfigQuery {
        context: 2,
        option: SslOption::CipherSuite,
    };
    for reply in [
        "+QSSLCFG: \"ciphersuite\",2,0XFFFF",
        "+QSSLCFG: \"ciphersuite\",2,\"0xffff\"",
    ] {
        assert_eq!(
            suite.parse(info(&[reply])).unwrap(),
            SslSetting::CipherSuite(0xFFFF),
            "{reply}"
        );
    }
    let ca = SslConfigQuery {
        context: 2,
        option: SslOption::CaCert,
    };
    assert_eq!(
        ca.parse(info(&["+QSSLCFG: \"cacert\",2,\"UFS:cacert.pem\""]))
            .unwrap(),
        SslSetting::CaCert("UFS:cacert.pem".into())
    );
    let level = SslConfigQuery {
        context: 2,
        option: SslOption::SecLevel,
    };
    assert_eq!(
        level.parse(info(&["+QSSLCFG: \"seclevel\",2,1"])).unwrap(),
        SslSetting::SecLevel(SecLevel::Server)
    );
    let version = SslConfigQuery {
        context: 2,
        option: SslOption::Version,
    };
    assert_eq!(
        version
            .parse(info(&["+QSSLCFG: \"sslversion\",2,3"]))
            .unwrap(),
        SslSetting::Version(SslVersion::Tls1_2)
    );
    for bad in [
        "+QSSLCFG: \"seclevel\",2,3",
        "+QSSLCFG: \"seclevel\",3,1",
        "+QSSLCFG: \"sslversion\",2,1",
    ] {
        let err = level.parse(info(&[bad])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Reply {
                    command: "AT+QSSLCFG",
                    ..
                }
            ),
            "{bad}"
        );
    }
    assert_eq!(
        refused_param(&SslConfigQuery {
            context: 6,
            option: SslOption::CaCert
        }),
        "SSL_ctx_idx"
    );
}

fn upload(size: usize, input_timeout: Option<u16>) -> FileUpload {
    FileUpload {
        name: "UFS:cacert.pem".into(),
        data: Bytes::from(vec![b'-'; size]),
        input_timeout,
    }
}

#[test]
fn upload_matches_the_guide() {
    let command = upload(1758, Some(100));
    let req = request(&command);
    assert_eq!(req.line, b"AT+QFUPL=\"UFS:cacert.pem\",1758,100");
    assert_eq!(req.data, Some(Data::Connect(command.data.clone())));
    assert_eq!(req.info, Info::Prefix("+QFUPL:"));
    assert!(req.secret);
    assert!(!format!("{req:?}").contains("---"), "{req:?}");
    // 3 s to answer, 100 s of input wait, 1758 bytes at 960 bytes/s (2 s).
    assert_eq!(req.timeout, Duration::from_secs(105));
    assert_eq!(
        command.parse(info(&["+QFUPL: 1758,384a"])).unwrap(),
        Uploaded {
            size: 1758,
            checksum: 0x384a
        }
    );
    // shared/at-logs/04: checksums are not zero-padded.
    assert_eq!(
        upload(1675, None)
            .parse(info(&["+QFUPL: 1675,372"]))
            .unwrap()
            .checksum,
        0x372
    );
}

#[test]
fn upload_bounds_and_timeouts() {
    let req = request(&upload(1, None));
    assert_eq!(req.line, b"AT+QFUPL=\"UFS:cacert.pem\",1");
    assert_eq!(req.timeout, Duration::from_secs(3 + 5 + 1));
    assert_eq!(refused_param(&upload(0, None)), "file_size");
    assert!(upload(1 << 20, None).request(&Timing::default()).is_ok());
    assert_eq!(refused_param(&upload((1 << 20) + 1, None)), "file_size");
    assert_eq!(refused_param(&upload(1, Some(0))), "timeout");
    assert_eq!(
        encode(&upload(1, Some(65535))),
        "AT+QFUPL=\"UFS:cacert.pem\",1,65535"
    );
    let long_name = FileUpload {
        name: "f".repeat(81),
        ..upload(1, None)
    };
    assert_eq!(refused_param(&long_name), "file_name");
}

#[test]
fn upload_reply_errors() {
    let command = upload(1758, None);
    let short = command.parse(info(&["+QFUPL: 1000,384a"])).unwrap_err();
    assert!(
        matches!(
            short,
            Error::Reply {
                command: "AT+QFUPL",
                ..
            }
        ),
        "{short}"
    );
    for bad in ["+QFUPL: 1758", "+QFUPL: 1758,zz", "+QFUPL: x,384a"] {
        assert!(
            matches!(
                command.parse(info(&[bad])),
                Err(Error::Reply {
                    command: "AT+QFUPL",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn file_delete_quotes_the_name_and_checks_it() {
    assert_eq!(
        encode(&FileDelete {
            name: "UFS:cacert.pem".into()
        }),
        "AT+QFDEL=\"UFS:cacert.pem\""
    );
    let req = request(&FileDelete { name: "a".into() });
    assert_eq!((req.info, req.secret), (Info::None, false));
    assert_eq!(
        refused_param(&FileDelete {
            name: "a\"b".into()
        }),
        "file_name"
    );
    assert_eq!(
        refused_param(&FileDelete {
            name: String::new()
        }),
        "file_name"
    );
}
