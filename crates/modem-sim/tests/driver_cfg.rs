//! Every `AT+QMTCFG` option through the `quectel-mqtt` driver over a pty: the guide's
//! defaults, each set form, each query form read back as its typed value, the test form, and
//! the refusal of a set once the client's link exists.

mod common;

use bytes::Bytes;
use common::{bounded, pty_driver, start_rumqttd};
use modem_sim::{ModuleConfig, Profile};
use quectel_mqtt::commands::{
    AliAuth, CfgAliAuth, CfgDataFormat, CfgEditTimeout, CfgHwAuth, CfgHwProdId, CfgKeepalive,
    CfgOneNet, CfgPdpCid, CfgQmtPing, CfgQuery, CfgRecvMode, CfgSendMode, CfgSession, CfgSsl,
    CfgTest, CfgTimeout, CfgVersion, CfgViewMode, CfgWill, CfgWillEx, Connect, DataFormat,
    Disconnect, HwAuth, HwAuthConfig, HwProduct, HwProductConfig, MqttVersion, OneNetAuth, Open,
    PacketTimeouts, Qos, RecvMode, Secret, SetEcho, SslMode, Will, WillEx, WillExConfig,
};
use quectel_mqtt::Error;

/// The 17 options of the guide's `AT+QMTCFG=?` listing.
const GUIDE_OPTIONS: [&str; 17] = [
    "version",
    "pdpcid",
    "ssl",
    "keepalive",
    "session",
    "timeout",
    "will",
    "willex",
    "recv/mode",
    "aliauth",
    "qmtping",
    "send/mode",
    "onenet",
    "hwauth",
    "hwprodid",
    "dataformat",
    "view/mode",
];

#[tokio::test]
async fn test_form_lists_the_guides_options_with_their_ranges() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let listing = bounded(c.execute(CfgTest)).await.unwrap();
    for option in GUIDE_OPTIONS {
        assert!(listing.iter().any(|o| o.is(option)), "{option} not listed");
    }
    // The guide's 17 lines plus "edit/timeout" (delta 6), in the guide's order.
    assert_eq!(listing.len(), 18, "{listing:?}");
    assert!(listing[17].is("edit/timeout"), "{listing:?}");
    let ranges = |name: &str| {
        listing
            .iter()
            .find(|o| o.is(name))
            .map(|o| o.ranges.clone())
            .unwrap()
    };
    assert_eq!(ranges("version"), "(0-5),(3,4)");
    assert_eq!(ranges("timeout"), "(0-5),(1-60),(0-10),(0,1)");
    assert_eq!(ranges("qmtping"), "(0-5),(5-60)");
}

/// The `ec600s` profile lists what a real EC600S prints (19 lines, delta 14): the driver keeps
/// the listing as given, so callers can probe for "CTWing".
#[tokio::test]
async fn test_form_of_the_ec600s_profile() {
    let module = ModuleConfig {
        profile: Profile::Ec600s,
        ..ModuleConfig::default()
    };
    let (_sim, c) = pty_driver(module).await;
    let listing = bounded(c.execute(CfgTest)).await.unwrap();
    assert_eq!(listing.len(), 19, "{listing:?}");
    assert!(listing.iter().any(|o| o.is("ctwing")));
    let timeout = listing.iter().find(|o| o.is("timeout")).unwrap();
    assert_eq!(timeout.ranges, "(0-5),(1-1200),(1-10),(0,1)");
}

/// Before anything is set, every query answers the guide's default (or "not set").
#[tokio::test]
async fn queries_answer_the_guides_defaults() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    let k = 4;
    assert_eq!(
        bounded(c.execute(CfgQuery::<CfgVersion>::new(k)))
            .await
            .unwrap(),
        MqttVersion::V3_1_1
    );
    assert_eq!(c.execute(CfgQuery::<CfgPdpCid>::new(k)).await.unwrap(), 1);
    assert_eq!(
        c.execute(CfgQuery::<CfgSsl>::new(k)).await.unwrap(),
        SslMode {
            enabled: false,
            context: None
        }
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(k)).await.unwrap(),
        120
    );
    assert!(c.execute(CfgQuery::<CfgSession>::new(k)).await.unwrap());
    assert_eq!(
        c.execute(CfgQuery::<CfgTimeout>::new(k)).await.unwrap(),
        PacketTimeouts {
            pkt_timeout: 5,
            retry_times: 3,
            report_timeouts: false
        }
    );
    assert_eq!(c.execute(CfgQuery::<CfgWill>::new(k)).await.unwrap(), None);
    assert_eq!(
        c.execute(CfgQuery::<CfgWillEx>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgRecvMode>::new(k)).await.unwrap(),
        RecvMode {
            buffered: false,
            with_length: false
        }
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgAliAuth>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(c.execute(CfgQuery::<CfgQmtPing>::new(k)).await.unwrap(), 5);
    assert!(!c.execute(CfgQuery::<CfgSendMode>::new(k)).await.unwrap());
    assert_eq!(
        c.execute(CfgQuery::<CfgOneNet>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgHwAuth>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgHwProdId>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgDataFormat>::new(k)).await.unwrap(),
        DataFormat {
            send_hex: false,
            recv_hex: false
        }
    );
    assert!(!c.execute(CfgQuery::<CfgViewMode>::new(k)).await.unwrap());
}

/// Each option set on client 2 reads back as the value set; client 3 keeps its defaults.
#[tokio::test]
async fn every_option_reads_back_as_set() {
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(SetEcho { on: false })).await.unwrap();
    let k = 2;

    c.execute(CfgVersion {
        client: k,
        version: MqttVersion::V3_1,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgVersion>::new(k)).await.unwrap(),
        MqttVersion::V3_1
    );

    c.execute(CfgPdpCid { client: k, cid: 15 }).await.unwrap();
    assert_eq!(c.execute(CfgQuery::<CfgPdpCid>::new(k)).await.unwrap(), 15);

    c.execute(CfgSsl {
        client: k,
        context: Some(4),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgSsl>::new(k)).await.unwrap(),
        SslMode {
            enabled: true,
            context: Some(4)
        }
    );
    c.execute(CfgSsl {
        client: k,
        context: None,
    })
    .await
    .unwrap();
    assert!(!c.execute(CfgQuery::<CfgSsl>::new(k)).await.unwrap().enabled);

    c.execute(CfgKeepalive {
        client: k,
        seconds: 3600,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(k)).await.unwrap(),
        3600
    );

    c.execute(CfgSession {
        client: k,
        clean: false,
    })
    .await
    .unwrap();
    assert!(!c.execute(CfgQuery::<CfgSession>::new(k)).await.unwrap());

    let timeouts = PacketTimeouts {
        pkt_timeout: 60,
        retry_times: 0,
        report_timeouts: true,
    };
    c.execute(CfgTimeout {
        client: k,
        timeouts,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgTimeout>::new(k)).await.unwrap(),
        timeouts
    );

    let will = Will {
        qos: Qos::ExactlyOnce,
        retain: true,
        topic: "dev/2/will".into(),
        message: "gone, for now".into(),
    };
    c.execute(CfgWill {
        client: k,
        will: Some(will.clone()),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgWill>::new(k)).await.unwrap(),
        Some(will)
    );

    // "willex": the message goes after the `>` prompt, so it may hold quotes, commas and
    // CR LF; the query reports its length.
    let message = Bytes::from_static("bye \"all\",\r\n再见".as_bytes());
    c.execute(CfgWillEx {
        client: k,
        will: Some(WillEx {
            qos: Qos::AtLeastOnce,
            retain: false,
            topic: "dev/2/willex".into(),
            message: message.clone(),
        }),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgWillEx>::new(k)).await.unwrap(),
        Some(WillExConfig {
            qos: Qos::AtLeastOnce,
            retain: false,
            topic: "dev/2/willex".into(),
            len: message.len() as u16,
        })
    );
    c.execute(CfgWillEx {
        client: k,
        will: None,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgWillEx>::new(k)).await.unwrap(),
        None
    );
    assert_eq!(c.execute(CfgQuery::<CfgWill>::new(k)).await.unwrap(), None);

    let mode = RecvMode {
        buffered: true,
        with_length: true,
    };
    c.execute(CfgRecvMode { client: k, mode }).await.unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgRecvMode>::new(k)).await.unwrap(),
        mode
    );

    c.execute(CfgQmtPing {
        client: k,
        seconds: 60,
    })
    .await
    .unwrap();
    assert_eq!(c.execute(CfgQuery::<CfgQmtPing>::new(k)).await.unwrap(), 60);

    c.execute(CfgSendMode {
        client: k,
        hex: true,
    })
    .await
    .unwrap();
    assert!(c.execute(CfgQuery::<CfgSendMode>::new(k)).await.unwrap());
    // "send/mode" and the send field of "dataformat" are one setting.
    assert_eq!(
        c.execute(CfgQuery::<CfgDataFormat>::new(k)).await.unwrap(),
        DataFormat {
            send_hex: true,
            recv_hex: false
        }
    );
    let format = DataFormat {
        send_hex: false,
        recv_hex: true,
    };
    c.execute(CfgDataFormat { client: k, format })
        .await
        .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgDataFormat>::new(k)).await.unwrap(),
        format
    );
    assert!(!c.execute(CfgQuery::<CfgSendMode>::new(k)).await.unwrap());

    c.execute(CfgViewMode {
        client: k,
        echo: true,
    })
    .await
    .unwrap();
    assert!(c.execute(CfgQuery::<CfgViewMode>::new(k)).await.unwrap());

    // Later firmware's option (the emulator's guide profile has it, 1–120 s).
    assert_eq!(
        c.execute(CfgQuery::<CfgEditTimeout>::new(k)).await.unwrap(),
        (true, 30)
    );
    c.execute(CfgEditTimeout {
        client: k,
        enabled: true,
        seconds: 12,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgEditTimeout>::new(k)).await.unwrap(),
        (true, 12)
    );

    // The secret-bearing options (the guide's aliauth example).
    let ali = AliAuth {
        product_key: "oyjtmPI5a5j".into(),
        device_name: "MQTT_TEST".into(),
        device_secret: Secret::new("wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"),
    };
    c.execute(CfgAliAuth {
        client: k,
        auth: ali.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgAliAuth>::new(k)).await.unwrap(),
        Some(ali)
    );
    let onenet = OneNetAuth {
        product_id: "598236".into(),
        access_key: Secret::new("c2VjcmV0LWtleQ=="),
    };
    c.execute(CfgOneNet {
        client: k,
        auth: onenet.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgOneNet>::new(k)).await.unwrap(),
        Some(onenet)
    );
    let hw = HwAuth {
        device_id: "5f1a2b3c4d_dev001".into(),
        device_secret: Secret::new("hwS3cret0123"),
    };
    c.execute(CfgHwAuth {
        client: k,
        auth: hw.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgHwAuth>::new(k)).await.unwrap(),
        Some(HwAuthConfig {
            auth: hw,
            timestamp_check: None
        })
    );
    let product = HwProduct {
        product_id: "5f1a2b3c4d".into(),
        product_secret: Secret::new("prodS3cret"),
        node_id: "node-7".into(),
    };
    c.execute(CfgHwProdId {
        client: k,
        auth: product.clone(),
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgHwProdId>::new(k)).await.unwrap(),
        Some(HwProductConfig {
            auth: product,
            timestamp_check: None
        })
    );

    // Settings are per client.
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(3)).await.unwrap(),
        120
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgAliAuth>::new(3)).await.unwrap(),
        None
    );
}

async fn refused_keepalive(c: &quectel_mqtt::driver::Client) {
    let r = c
        .execute(CfgKeepalive {
            client: 1,
            seconds: 45,
        })
        .await;
    assert_eq!(
        r,
        Err(Error::Module {
            command: "AT+QMTCFG"
        })
    );
}

/// The guide: set forms apply "若指定可选参数且 MQTT 连接未创建"; once `AT+QMTOPEN` has made
/// the link the module answers `ERROR` (queries still work), and after `AT+QMTCLOSE` it takes
/// settings again.
#[tokio::test]
async fn settings_are_refused_while_the_link_exists() {
    let port = start_rumqttd();
    let (_sim, c) = pty_driver(ModuleConfig::default()).await;
    bounded(c.execute(Open {
        client: 1,
        host: "127.0.0.1".into(),
        port,
    }))
    .await
    .unwrap();
    // Refused on the open link, and on the connected client as well.
    refused_keepalive(&c).await;
    bounded(c.execute(Connect {
        client: 1,
        client_id: "cfg-refusals".into(),
        credentials: None,
    }))
    .await
    .unwrap();
    let refused = |r: Result<(), Error>| {
        assert!(
            matches!(
                r,
                Err(Error::Module {
                    command: "AT+QMTCFG"
                })
            ),
            "{r:?}"
        )
    };
    refused(
        c.execute(CfgKeepalive {
            client: 1,
            seconds: 30,
        })
        .await,
    );
    refused(
        c.execute(CfgWillEx {
            client: 1,
            will: Some(WillEx {
                qos: Qos::AtMostOnce,
                retain: false,
                topic: "t".into(),
                message: Bytes::from_static(b"m"),
            }),
        })
        .await,
    );
    let hw = HwAuth {
        device_id: "d".into(),
        device_secret: Secret::new("s"),
    };
    refused(
        c.execute(CfgHwAuth {
            client: 1,
            auth: hw,
        })
        .await,
    );
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(1)).await.unwrap(),
        120
    );
    // Another client is unaffected.
    c.execute(CfgKeepalive {
        client: 0,
        seconds: 30,
    })
    .await
    .unwrap();
    c.execute(Disconnect { client: 1 }).await.unwrap();
    c.execute(CfgKeepalive {
        client: 1,
        seconds: 30,
    })
    .await
    .unwrap();
    assert_eq!(
        c.execute(CfgQuery::<CfgKeepalive>::new(1)).await.unwrap(),
        30
    );
}
