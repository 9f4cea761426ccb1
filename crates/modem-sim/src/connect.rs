//! CONNECT encoding for MQTT 3.1 and 3.1.1.
//!
//! rumqttc's encoder writes only protocol level 4 with a user name and password together, so
//! CONNECT is encoded here: `"version"` 3 sends protocol name `MQIsdp` level 3, and a user name
//! without a password is expressible.

use bytes::{BufMut, BytesMut};

use crate::api::ConnectParams;

fn put_str(b: &mut BytesMut, s: &[u8]) {
    b.put_u16(s.len() as u16);
    b.put_slice(s);
}

/// Encodes CONNECT for MQTT 3.1 (`version` 3) or 3.1.1 (`version` 4).
pub fn encode_connect(p: &ConnectParams) -> BytesMut {
    let mut body = BytesMut::new();
    if p.version == 3 {
        put_str(&mut body, b"MQIsdp");
        body.put_u8(3);
    } else {
        put_str(&mut body, b"MQTT");
        body.put_u8(4);
    }
    let mut flags = 0u8;
    if p.clean_session {
        flags |= 0x02;
    }
    if let Some(w) = &p.will {
        flags |= 0x04 | (w.qos << 3) | if w.retain { 0x20 } else { 0 };
    }
    if p.username.is_some() {
        flags |= 0x80;
    }
    if p.password.is_some() {
        flags |= 0x40;
    }
    body.put_u8(flags);
    body.put_u16(p.keepalive);
    put_str(&mut body, p.client_id.as_bytes());
    if let Some(w) = &p.will {
        put_str(&mut body, w.topic.as_bytes());
        put_str(&mut body, &w.message);
    }
    if let Some(u) = &p.username {
        put_str(&mut body, u.as_bytes());
    }
    if let Some(pw) = &p.password {
        put_str(&mut body, pw.as_bytes());
    }
    let mut out = BytesMut::with_capacity(body.len() + 5);
    out.put_u8(0x10);
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if len == 0 {
            break;
        }
    }
    out.put_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::mqttbytes::v4::Packet;
    use rumqttc::mqttbytes::QoS;
    use std::time::Duration;
    const MAX_PACKET: usize = 1 << 20;
    use crate::api::Will;
    use rumqttc::mqttbytes::v4::Connect;

    fn params(version: u8) -> ConnectParams {
        ConnectParams {
            version,
            client_id: "dev|securemode=3|".into(),
            username: Some("dn&pk".into()),
            password: Some("secret".into()),
            keepalive: 60,
            clean_session: true,
            will: Some(Will {
                qos: 1,
                retain: true,
                topic: "w".into(),
                message: b"bye".to_vec(),
            }),
            pkt_timeout: Duration::from_secs(5),
            retry_times: 3,
            timeout_notice: false,
        }
    }

    #[test]
    fn connect_311_decodes_with_rumqttc() {
        let mut b = encode_connect(&params(4));
        let Packet::Connect(c) = Packet::read(&mut b, MAX_PACKET).unwrap() else {
            panic!("not a CONNECT");
        };
        let c: Connect = c;
        assert_eq!(c.client_id, "dev|securemode=3|");
        assert_eq!(c.keep_alive, 60);
        let login = c.login.unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("dn&pk", "secret")
        );
        let w = c.last_will.unwrap();
        assert_eq!(
            (w.topic.as_str(), &w.message[..], w.retain),
            ("w", &b"bye"[..], true)
        );
        assert_eq!(w.qos, QoS::AtLeastOnce);
    }

    #[test]
    fn connect_31_uses_mqisdp() {
        let b = encode_connect(&params(3));
        assert_eq!(&b[2..10], b"\x00\x06MQIsdp");
        assert_eq!(b[10], 3);
        assert_eq!(b[1] as usize, b.len() - 2);
    }
}
