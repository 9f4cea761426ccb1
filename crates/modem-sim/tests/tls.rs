//! TLS: the guide's §5.2 flow (QFUPL a CA, QSSLCFG, QMTCFG "SSL") against mosquitto with a
//! TLS listener whose certificate is signed by a test CA made with rcgen.

mod common;

use common::{spawn_sim, Host, Mosquitto};
use modem_sim::{qfupl_checksum, ModuleConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn make_ca() -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(params, key),
    }
}

async fn upload(h: &mut Host<tokio::net::TcpStream>, name: &str, data: &[u8]) {
    h.send(&format!(r#"AT+QFUPL="UFS:{name}",{},100"#, data.len()))
        .await;
    assert_eq!(h.until("\r\nCONNECT\r\n").await, "\r\nCONNECT\r\n");
    h.write(data).await;
    let want = format!(
        "\r\n+QFUPL: {},{:x}\r\n\r\nOK\r\n",
        data.len(),
        qfupl_checksum(data)
    );
    assert_eq!(h.until("\r\nOK\r\n").await, want);
}

#[tokio::test]
async fn guide_5_2_tls_with_uploaded_ca() {
    let ca = make_ca();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca.issuer)
        .unwrap();
    let Some(broker) =
        Mosquitto::start_with(true, Some((&server.pem(), &server_key.serialize_pem())))
    else {
        return;
    };
    let (_sim, addr) = spawn_sim(ModuleConfig::default()).await;
    let mut h = Host::tcp(addr).await;
    h.ready().await;
    h.exact(r#"AT+QMTCFG="recv/mode",0,0,1"#, "\r\nOK\r\n")
        .await;
    h.exact(r#"AT+QMTCFG="SSL",0,1,2"#, "\r\nOK\r\n").await;
    upload(&mut h, "cacert.pem", ca.pem.as_bytes()).await;
    for line in [
        r#"AT+QSSLCFG="cacert",2,"UFS:cacert.pem""#,
        r#"AT+QSSLCFG="seclevel",2,1"#,
        r#"AT+QSSLCFG="sslversion",2,4"#,
        r#"AT+QSSLCFG="ciphersuite",2,0xFFFF"#,
        r#"AT+QSSLCFG="ignorelocaltime",2,1"#,
    ] {
        h.exact(line, "\r\nOK\r\n").await;
    }
    h.exact(
        &format!(r#"AT+QMTOPEN=0,"localhost",{}"#, broker.port),
        "\r\nOK\r\n",
    )
    .await;
    assert_eq!(h.until("\r\n+QMTOPEN: 0,").await, "\r\n+QMTOPEN: 0,");
    assert_eq!(h.until("\r\n").await, "0\r\n", "TLS open must succeed");
    h.exact(r#"AT+QMTCONN=0,"M26_0206""#, "\r\nOK\r\n").await;
    assert_eq!(
        h.until("\r\n+QMTCONN: 0,0,0\r\n").await,
        "\r\n+QMTCONN: 0,0,0\r\n"
    );
    let topic = "$aws/things/M26_0206/shadow/update/accepted";
    h.exact(&format!(r#"AT+QMTSUB=0,1,"{topic}",1"#), "\r\nOK\r\n")
        .await;
    assert_eq!(
        h.until("\r\n+QMTSUB: 0,1,0,1\r\n").await,
        "\r\n+QMTSUB: 0,1,0,1\r\n"
    );
    h.send(&format!(r#"AT+QMTPUBEX=0,1,1,0,"{topic}",32"#))
        .await;
    h.until("\r\n> ").await;
    h.write(b"This is publish data from client").await;
    assert_eq!(h.until("\r\nOK\r\n").await, "\r\nOK\r\n");
    // The PUBACK and our own message coming back race at the broker: take both in any order.
    let recv = format!("\r\n+QMTRECV: 0,1,\"{topic}\",32,\"This is publish data from client\"\r\n");
    let done = "\r\n+QMTPUBEX: 0,1,0\r\n";
    let mut got = h.until("\r\n+QMTPUBEX: 0,1,0\r\n").await;
    if !got.contains(&recv) {
        got += &h.until(&recv).await;
    }
    assert_eq!(got.len(), recv.len() + done.len(), "{got:?}");
    assert!(got.contains(&recv) && got.contains(done), "{got:?}");
    h.exact("AT+QMTDISC=0", "\r\nOK\r\n").await;
    h.until("\r\n+QMTDISC: 0,0\r\n").await;

    // A CA that did not sign the broker's certificate: the handshake fails, +QMTOPEN: 1,-1.
    let other = make_ca();
    upload(&mut h, "other.pem", other.pem.as_bytes()).await;
    h.exact(r#"AT+QSSLCFG="cacert",3,"other.pem""#, "\r\nOK\r\n")
        .await;
    h.exact(r#"AT+QSSLCFG="seclevel",3,1"#, "\r\nOK\r\n").await;
    h.exact(r#"AT+QMTCFG="ssl",1,1,3"#, "\r\nOK\r\n").await;
    h.exact(
        &format!(r#"AT+QMTOPEN=1,"localhost",{}"#, broker.port),
        "\r\nOK\r\n",
    )
    .await;
    assert_eq!(
        h.until("\r\n+QMTOPEN: 1,-1\r\n").await,
        "\r\n+QMTOPEN: 1,-1\r\n"
    );
}
