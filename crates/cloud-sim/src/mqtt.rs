//! Just enough MQTT 3.1 / 3.1.1 for the front: packet framing, CONNECT parsing and
//! re-encoding, topic rewriting between the device's names and the broker's, and the few
//! packets a local (provisioning) session sends.
//!
//! Topics that start with `$` (OneNET `$sys/…`, Huawei `$oc/…`) are carried on the broker
//! as `%24…`: rumqttd neither routes `$` topics nor accepts `$` filters.

use std::borrow::Cow;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest packet the front accepts (Huawei allows 1 MB payloads; room for the header).
pub const MAX_PACKET: usize = 1024 * 1024 + 64 * 1024;

/// Packet types (high nibble of the first byte).
pub mod kind {
    /// CONNECT.
    pub const CONNECT: u8 = 1;
    /// PUBLISH.
    pub const PUBLISH: u8 = 3;
    /// PUBACK.
    pub const PUBACK: u8 = 4;
    /// SUBSCRIBE.
    pub const SUBSCRIBE: u8 = 8;
    /// UNSUBSCRIBE.
    pub const UNSUBSCRIBE: u8 = 10;
    /// PINGREQ.
    pub const PINGREQ: u8 = 12;
    /// DISCONNECT.
    pub const DISCONNECT: u8 = 14;
}

/// A malformed or unsupported packet.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// Reading failed.
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes that are not a valid packet.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which part.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The remaining length is above [`MAX_PACKET`].
    #[error("packet of {len} bytes is above the limit of {max} bytes")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// A protocol name / level other than MQIsdp 3 or MQTT 4.
    #[error("protocol {name:?} level {level} is not MQTT 3.1 or 3.1.1")]
    Protocol {
        /// Protocol name.
        name: String,
        /// Protocol level.
        level: u8,
    },
}

fn malformed(what: &'static str, reason: impl Into<String>) -> MqttError {
    MqttError::Malformed {
        what,
        reason: reason.into(),
    }
}

/// One packet: the first byte and everything after the remaining length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPacket {
    /// Type and flags.
    pub header: u8,
    /// Variable header and payload.
    pub body: Vec<u8>,
}

impl RawPacket {
    /// The packet type.
    pub fn kind(&self) -> u8 {
        self.header >> 4
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        out.push(self.header);
        put_remaining_length(&mut out, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }
}

fn put_remaining_length(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

/// Reads one packet. `Ok(None)` on a clean end of stream before the first byte.
pub async fn read_packet<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<RawPacket>, MqttError> {
    let mut first = [0u8; 1];
    if r.read(&mut first).await? == 0 {
        return Ok(None);
    }
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let b = r.read_u8().await?;
        len |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return Err(malformed("remaining length", "more than 4 bytes"));
        }
    }
    if len > max {
        return Err(MqttError::TooLarge { len, max });
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Some(RawPacket {
        header: first[0],
        body,
    }))
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Cursor { buf, pos: 0, what }
    }
    fn u8(&mut self) -> Result<u8, MqttError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| malformed(self.what, "truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, MqttError> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    fn bytes(&mut self) -> Result<&'a [u8], MqttError> {
        let n = self.u16()? as usize;
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or_else(|| malformed(self.what, "string runs past the end"))?;
        self.pos += n;
        Ok(s)
    }
    fn string(&mut self) -> Result<String, MqttError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| malformed(self.what, "string is not UTF-8"))
    }
    fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// A will message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS.
    pub qos: u8,
    /// Retain.
    pub retain: bool,
}

/// A parsed CONNECT. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    /// Protocol level: 3 (MQTT 3.1, `MQIsdp`) or 4 (MQTT 3.1.1).
    pub level: u8,
    /// Clean session.
    pub clean_session: bool,
    /// Keep-alive, seconds.
    pub keep_alive: u16,
    /// Client identifier.
    pub client_id: String,
    /// Will.
    pub will: Option<Will>,
    /// User name.
    pub username: Option<String>,
    /// Password bytes.
    pub password: Option<Vec<u8>>,
}

impl std::fmt::Debug for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connect")
            .field("level", &self.level)
            .field("keep_alive", &self.keep_alive)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Connect {
    /// Parses the body of a CONNECT packet.
    pub fn parse(body: &[u8]) -> Result<Connect, MqttError> {
        let mut c = Cursor::new(body, "CONNECT");
        let name = c.string()?;
        let level = c.u8()?;
        if !matches!((name.as_str(), level), ("MQTT", 4) | ("MQIsdp", 3)) {
            return Err(MqttError::Protocol { name, level });
        }
        let flags = c.u8()?;
        if flags & 1 != 0 {
            return Err(malformed("CONNECT", "reserved flag bit 0 is set"));
        }
        let keep_alive = c.u16()?;
        let client_id = c.string()?;
        let will = if flags & 0x04 != 0 {
            Some(Will {
                topic: c.string()?,
                payload: c.bytes()?.to_vec(),
                qos: (flags >> 3) & 3,
                retain: flags & 0x20 != 0,
            })
        } else {
            None
        };
        let username = if flags & 0x80 != 0 {
            Some(c.string()?)
        } else {
            None
        };
        let password = if flags & 0x40 != 0 {
            Some(c.bytes()?.to_vec())
        } else {
            None
        };
        Ok(Connect {
            level,
            clean_session: flags & 0x02 != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
        })
    }

    /// The CONNECT the front sends to the broker: MQTT 3.1.1, no user name or password (the
    /// broker is anonymous; the cloud's credentials stay in the front), the client id and
    /// will topic mapped with [`broker_client_id`] / [`to_broker`].
    pub fn encode_for_broker(&self) -> RawPacket {
        let mut body = Vec::new();
        put_bytes(&mut body, b"MQTT");
        body.push(4);
        let mut flags = 0u8;
        if self.clean_session {
            flags |= 0x02;
        }
        if let Some(w) = &self.will {
            flags |= 0x04 | (w.qos.min(2) << 3) | if w.retain { 0x20 } else { 0 };
        }
        body.push(flags);
        body.extend_from_slice(&self.keep_alive.to_be_bytes());
        put_bytes(&mut body, broker_client_id(&self.client_id).as_bytes());
        if let Some(w) = &self.will {
            put_bytes(&mut body, to_broker(&w.topic).as_bytes());
            put_bytes(&mut body, &w.payload);
        }
        RawPacket {
            header: kind::CONNECT << 4,
            body,
        }
    }
}

/// The client id used on the broker: rumqttd refuses ids with `+ $ # /`, so those are
/// percent-encoded (and `%` itself).
pub fn broker_client_id(id: &str) -> Cow<'_, str> {
    if !id.contains(['+', '$', '#', '/', '%']) {
        return Cow::Borrowed(id);
    }
    let mut out = String::with_capacity(id.len() + 8);
    for ch in id.chars() {
        match ch {
            '+' | '$' | '#' | '/' | '%' => out.push_str(&format!("%{:02X}", ch as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Device topic → broker topic (`$x` → `%24x`).
pub fn to_broker(topic: &str) -> Cow<'_, str> {
    match topic.strip_prefix('$') {
        Some(rest) => Cow::Owned(format!("%24{rest}")),
        None => Cow::Borrowed(topic),
    }
}

/// Broker topic → device topic (`%24x` → `$x`).
pub fn from_broker(topic: &str) -> Cow<'_, str> {
    match topic.strip_prefix("%24") {
        Some(rest) => Cow::Owned(format!("${rest}")),
        None => Cow::Borrowed(topic),
    }
}

/// CONNACK with a return code (0 accepted, 1 protocol, 2 identifier, 4 credentials,
/// 5 not authorised).
pub fn connack(code: u8) -> Vec<u8> {
    vec![0x20, 2, 0, code]
}

/// PUBACK.
pub fn puback(pkid: u16) -> Vec<u8> {
    let [a, b] = pkid.to_be_bytes();
    vec![0x40, 2, a, b]
}

/// PINGRESP.
pub fn pingresp() -> Vec<u8> {
    vec![0xD0, 0]
}

/// SUBACK granting `granted` QoS per filter.
pub fn suback(pkid: u16, granted: &[u8]) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    body.extend_from_slice(granted);
    RawPacket { header: 0x90, body }.encode()
}

/// A parsed PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// QoS.
    pub qos: u8,
    /// Packet id (QoS > 0).
    pub pkid: Option<u16>,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Publish {
    /// Parses a PUBLISH packet.
    pub fn parse(p: &RawPacket) -> Result<Publish, MqttError> {
        let qos = (p.header >> 1) & 3;
        let mut c = Cursor::new(&p.body, "PUBLISH");
        let topic = c.string()?;
        let pkid = if qos > 0 { Some(c.u16()?) } else { None };
        Ok(Publish {
            topic,
            qos,
            pkid,
            payload: c.rest().to_vec(),
        })
    }

    /// Encodes a PUBLISH (QoS 0 unless `pkid` is given, then QoS 1).
    pub fn encode(topic: &str, payload: &[u8], pkid: Option<u16>) -> Vec<u8> {
        let mut body = Vec::with_capacity(topic.len() + payload.len() + 4);
        put_bytes(&mut body, topic.as_bytes());
        let header = match pkid {
            Some(id) => {
                body.extend_from_slice(&id.to_be_bytes());
                0x32
            }
            None => 0x30,
        };
        body.extend_from_slice(payload);
        RawPacket { header, body }.encode()
    }
}

/// Parses a SUBSCRIBE: packet id and `(filter, qos)` pairs.
pub fn parse_subscribe(p: &RawPacket) -> Result<(u16, Vec<(String, u8)>), MqttError> {
    let mut c = Cursor::new(&p.body, "SUBSCRIBE");
    let pkid = c.u16()?;
    let mut filters = Vec::new();
    while !c.done() {
        filters.push((c.string()?, c.u8()? & 3));
    }
    Ok((pkid, filters))
}

/// Which way a packet travels through the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Device → broker.
    Up,
    /// Broker → device.
    Down,
}

/// Rewrites the topics of a PUBLISH (both ways) and of SUBSCRIBE / UNSUBSCRIBE (upwards);
/// other packets pass unchanged.
pub fn rewrite(p: RawPacket, dir: Direction) -> Result<RawPacket, MqttError> {
    let map = |t: &str| -> String {
        match dir {
            Direction::Up => to_broker(t).into_owned(),
            Direction::Down => from_broker(t).into_owned(),
        }
    };
    match (p.kind(), dir) {
        (kind::PUBLISH, _) => {
            let mut c = Cursor::new(&p.body, "PUBLISH");
            let topic = c.string()?;
            let mapped = map(&topic);
            if mapped == topic {
                return Ok(p);
            }
            let mut body = Vec::with_capacity(p.body.len() + 2);
            put_bytes(&mut body, mapped.as_bytes());
            body.extend_from_slice(c.rest());
            Ok(RawPacket {
                header: p.header,
                body,
            })
        }
        (kind::SUBSCRIBE, Direction::Up) | (kind::UNSUBSCRIBE, Direction::Up) => {
            let sub = p.kind() == kind::SUBSCRIBE;
            let mut c = Cursor::new(&p.body, if sub { "SUBSCRIBE" } else { "UNSUBSCRIBE" });
            let mut body = c.u16()?.to_be_bytes().to_vec();
            while !c.done() {
                put_bytes(&mut body, map(&c.string()?).as_bytes());
                if sub {
                    body.push(c.u8()?);
                }
            }
            Ok(RawPacket {
                header: p.header,
                body,
            })
        }
        _ => Ok(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_bytes(name: &str, level: u8, flags: u8, tail: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        put_bytes(&mut body, name.as_bytes());
        body.push(level);
        body.push(flags);
        body.extend_from_slice(&60u16.to_be_bytes());
        body.extend_from_slice(tail);
        body
    }

    #[test]
    fn parses_mqtt31_connect_with_binary_password() {
        let mut tail = Vec::new();
        put_bytes(&mut tail, b"dev/1");
        put_bytes(&mut tail, b"user");
        put_bytes(&mut tail, &[0xff, 0x00]);
        let c = Connect::parse(&connect_bytes("MQIsdp", 3, 0xC2, &tail)).unwrap();
        assert_eq!((c.level, c.keep_alive, c.clean_session), (3, 60, true));
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_deref(), Some(&[0xff, 0x00][..]));
        assert!(!format!("{c:?}").contains("255"));
        let up = c.encode_for_broker();
        let again = Connect::parse(&up.body).unwrap();
        assert_eq!((again.level, again.client_id.as_str()), (4, "dev%2F1"));
        assert_eq!((again.username, again.password), (None, None));
    }

    #[test]
    fn refuses_mqtt5_and_truncation() {
        let err = Connect::parse(&connect_bytes("MQTT", 5, 2, &[0, 0])).unwrap_err();
        assert!(matches!(err, MqttError::Protocol { level: 5, .. }), "{err}");
        let err = Connect::parse(&connect_bytes("MQTT", 4, 0xC2, &[0, 3, b'a'])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed CONNECT: string runs past the end"
        );
    }

    #[test]
    fn dollar_topics_round_trip_through_the_broker_names() {
        let up = RawPacket {
            header: 0x30,
            body: {
                let mut b = Vec::new();
                put_bytes(&mut b, b"$oc/devices/d1/sys/properties/report");
                b.extend_from_slice(b"{}");
                b
            },
        };
        let on_broker = rewrite(up.clone(), Direction::Up).unwrap();
        let p = Publish::parse(&on_broker).unwrap();
        assert_eq!(p.topic, "%24oc/devices/d1/sys/properties/report");
        assert_eq!(p.payload, b"{}");
        assert_eq!(rewrite(on_broker, Direction::Down).unwrap(), up);

        let sub = RawPacket {
            header: 0x82,
            body: {
                let mut b = 7u16.to_be_bytes().to_vec();
                put_bytes(&mut b, b"$sys/p/d/thing/#");
                b.push(1);
                b
            },
        };
        let (pkid, filters) = parse_subscribe(&rewrite(sub, Direction::Up).unwrap()).unwrap();
        assert_eq!((pkid, filters), (7, vec![("%24sys/p/d/thing/#".into(), 1)]));
    }

    #[tokio::test]
    async fn frames_long_remaining_lengths() {
        let p = RawPacket {
            header: 0x30,
            body: vec![7u8; 20_000],
        };
        let bytes = p.encode();
        assert_eq!(&bytes[1..4], &[0xA0, 0x9C, 0x01]);
        let got = read_packet(&mut &bytes[..], MAX_PACKET).await.unwrap();
        assert_eq!(got, Some(p));
        let err = read_packet(&mut &bytes[..], 100).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "packet of 20000 bytes is above the limit of 100 bytes"
        );
    }
}
