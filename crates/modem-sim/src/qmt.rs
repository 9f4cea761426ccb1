//! The `AT+QMT*` command handlers of [`Module`], and what happens to data-mode input and
//! received messages.

use std::time::Duration;

use thiserror::Error;

use crate::api::{BackendCmd, ClientIdx, ConnectParams, TlsSettings, Will};
use crate::auth::{DeriveError, DeriveInput};
use crate::cfg::{self, CfgOutcome};
use crate::module::{ConnState, DataFor, Module, Stored, MAX_PAYLOAD, PUBLISH_WINDOW, RECV_SLOTS};
use crate::parser::{Args, CommandLine, Form, ParseError};

/// Why a command answers `ERROR`.
#[derive(Debug, Error)]
pub(crate) enum CmdError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("wrong state: {0}")]
    State(&'static str),
    #[error(transparent)]
    Derive(#[from] DeriveError),
    #[error("unknown command")]
    Unknown,
}

pub(crate) type CmdResult = Result<(), CmdError>;

fn idx_of(a: &Args, i: usize) -> Result<ClientIdx, ParseError> {
    Ok(a.int_in(i, 0, 5)? as u8)
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}

fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

impl Module {
    fn test_only(&mut self, line: &str) {
        self.info_ok(&[line.to_string()]);
    }

    pub(crate) fn cmd_qmtcfg(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => {
                let lines = cfg::test_lines(self.config.profile);
                self.info_ok(&lines);
                return Ok(());
            }
            Form::Set => {}
            _ => return Err(CmdError::Unknown),
        }
        let a = &c.args;
        let opt = cfg::canonical_option(&a.string(0)?).ok_or(ParseError::BadArg(0))?;
        let idx = idx_of(a, 1)?;
        let client = &mut self.clients[usize::from(idx)];
        let query = a.len() == 2;
        if !query && client.state != ConnState::Idle {
            return Err(CmdError::State("QMTCFG set while the client's link exists"));
        }
        match cfg::apply(&mut client.cfg, self.config.profile, opt, a)? {
            CfgOutcome::Query(lines) => self.info_ok(&lines),
            CfgOutcome::Set => self.ok(),
            CfgOutcome::WillexPrompt {
                qos,
                retain,
                topic,
                len,
            } => {
                let timeout = self.edit_timeout(idx);
                self.step_out(b"\r\n> ");
                self.expect_data(
                    len,
                    DataFor::Willex {
                        idx,
                        qos,
                        retain,
                        topic,
                    },
                    timeout,
                );
            }
        }
        Ok(())
    }

    fn edit_timeout(&self, idx: ClientIdx) -> Option<Duration> {
        let c = &self.clients[usize::from(idx)].cfg;
        (self.config.profile.has_edit_timeout() && c.edit_mode)
            .then(|| Duration::from_secs(u64::from(c.edit_time)))
    }

    pub(crate) fn cmd_qmtopen(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => {
                self.test_only(r#"+QMTOPEN: (0-5),"hostname",(1-65535)"#);
                return Ok(());
            }
            Form::Read => {
                let lines = self
                    .clients
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| !matches!(k.state, ConnState::Idle | ConnState::Opening))
                    .map(|(i, k)| format!("+QMTOPEN: {i},{},{}", quote(&k.host), k.port))
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
                return Ok(());
            }
            Form::Set => {}
            Form::Exec => return Err(CmdError::Unknown),
        }
        let a = &c.args;
        if a.len() != 3 {
            return Err(ParseError::TooMany.into());
        }
        let idx = idx_of(a, 0)?;
        let host = a.string_len(1, 1, 100)?;
        let port = a.int_in(2, 1, 65535)? as u16;
        if self.clients[usize::from(idx)].state != ConnState::Idle {
            // Result 2: the MQTT identifier is occupied.
            self.ok();
            self.urc(format!("+QMTOPEN: {idx},2"));
            return Ok(());
        }
        if let Some(result) = self.open_failure(idx) {
            self.ok();
            self.urc(format!("+QMTOPEN: {idx},{result}"));
            return Ok(());
        }
        let tls = self.tls_for(idx);
        let client = &mut self.clients[usize::from(idx)];
        client.state = ConnState::Opening;
        client.host = host.clone();
        client.port = port;
        self.ok();
        let nat_idle = self.faults.nat_idle;
        self.backend(
            idx,
            BackendCmd::Open {
                host,
                port,
                tls,
                nat_idle,
            },
        );
        Ok(())
    }

    /// Why `AT+QMTOPEN` on `idx` fails before touching the network, if it does: no radio or
    /// an inactive context (3, PDP activation failed; context activation by `AT+QMTOPEN` is
    /// not emulated), or an injected open-fail fault.
    fn open_failure(&mut self, idx: ClientIdx) -> Option<i8> {
        let cid = self.clients[usize::from(idx)].cfg.pdpcid;
        if !self.radio.on() || !self.radio.context_active(cid) {
            tracing::info!(client = idx, cid, "AT+QMTOPEN with no active PDP context");
            return Some(3);
        }
        let r = self.faults.next_open_failure();
        if let Some(r) = r {
            tracing::info!(client = idx, result = r, "open-fail fault");
        }
        r
    }

    fn tls_for(&self, idx: ClientIdx) -> Option<TlsSettings> {
        let cfg = &self.clients[usize::from(idx)].cfg;
        if !cfg.ssl {
            return None;
        }
        let ctx = &self.ssl[usize::from(cfg.ssl_ctx)];
        let file = |n: &Option<String>| n.as_ref().and_then(|n| self.files.get(n).cloned());
        Some(TlsSettings {
            sec_level: ctx.seclevel,
            ca_pem: file(&ctx.cacert),
            client_cert_pem: file(&ctx.clientcert),
            client_key_pem: file(&ctx.clientkey),
        })
    }

    pub(crate) fn cmd_qmtclose(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => self.test_only("+QMTCLOSE: (0-5)"),
            Form::Set => {
                let idx = idx_of(&c.args, 0)?;
                if c.args.len() != 1 {
                    return Err(ParseError::TooMany.into());
                }
                let client = &mut self.clients[usize::from(idx)];
                match client.state {
                    // A defensive close of an idle client succeeds (as a real EC600S does).
                    ConnState::Idle => {
                        self.ok();
                        self.urc(format!("+QMTCLOSE: {idx},0"));
                    }
                    ConnState::Closing => return Err(CmdError::State("already closing")),
                    _ => {
                        client.state = ConnState::Closing;
                        self.ok();
                        self.backend(idx, BackendCmd::Close);
                    }
                }
            }
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    pub(crate) fn cmd_qmtconn(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => {
                self.test_only(r#"+QMTCONN: (0-5),"clientid","username","password""#);
                return Ok(());
            }
            Form::Read => {
                let lines = self
                    .clients
                    .iter()
                    .enumerate()
                    .filter_map(|(i, k)| {
                        let s = match k.state {
                            ConnState::Open => 1,
                            ConnState::Connecting => 2,
                            ConnState::Connected => 3,
                            ConnState::Disconnecting => 4,
                            _ => return None,
                        };
                        Some(format!("+QMTCONN: {i},{s}"))
                    })
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
                return Ok(());
            }
            Form::Set => {}
            Form::Exec => return Err(CmdError::Unknown),
        }
        let a = &c.args;
        if !(2..=4).contains(&a.len()) {
            return Err(ParseError::TooMany.into());
        }
        let idx = idx_of(a, 0)?;
        let client_id = a.string_len(1, 1, 256)?;
        let username = (a.len() > 2).then(|| a.string(2)).transpose()?;
        let password = (a.len() > 3).then(|| a.string(3)).transpose()?;
        let client = &self.clients[usize::from(idx)];
        if client.state != ConnState::Open {
            return Err(CmdError::State("QMTCONN needs an open, unconnected client"));
        }
        if let Some(code) = self.faults.next_refusal() {
            // As a broker refusing the login: the CONNACK code, then the link closes.
            tracing::info!(client = idx, code, "refuse fault: login refused");
            self.ok();
            self.urc(format!("+QMTCONN: {idx},0,{code}"));
            self.backend(idx, BackendCmd::Close);
            self.link_lost(idx, 4);
            return Ok(());
        }
        let client = &self.clients[usize::from(idx)];
        let cfg = &client.cfg;
        let (client_id, username, password) = match cfg.active_auth() {
            None => (client_id, username, password),
            Some(auth) => {
                let input = DeriveInput {
                    auth,
                    client_id: &client_id,
                    username: username.as_deref(),
                    password: password.as_deref(),
                    tls: cfg.ssl,
                    now_unix_ms: self.clock_ms(),
                };
                match self.config.derivers.derive(&input) {
                    Ok(cr) => (cr.client_id, cr.username, cr.password),
                    Err(e) => {
                        tracing::error!(client = idx, "{e}; AT+QMTCONN answers ERROR");
                        return Err(e.into());
                    }
                }
            }
        };
        let params = ConnectParams {
            version: cfg.version,
            client_id,
            username,
            password,
            keepalive: cfg.keepalive,
            clean_session: cfg.clean_session,
            will: cfg.will.clone(),
            pkt_timeout: Duration::from_secs(u64::from(cfg.pkt_timeout)),
            retry_times: cfg.retry_times,
            timeout_notice: cfg.timeout_notice,
        };
        self.clients[usize::from(idx)].state = ConnState::Connecting;
        self.ok();
        self.backend(idx, BackendCmd::Connect(params));
        Ok(())
    }

    pub(crate) fn cmd_qmtdisc(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => self.test_only("+QMTDISC: (0-5)"),
            Form::Set => {
                let idx = idx_of(&c.args, 0)?;
                if c.args.len() != 1 {
                    return Err(ParseError::TooMany.into());
                }
                let client = &mut self.clients[usize::from(idx)];
                match client.state {
                    ConnState::Open | ConnState::Connecting | ConnState::Connected => {
                        client.state = ConnState::Disconnecting;
                        self.ok();
                        self.backend(idx, BackendCmd::Disconnect);
                    }
                    _ => return Err(CmdError::State("QMTDISC without a link")),
                }
            }
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    fn connected_client(&self, a: &Args) -> Result<ClientIdx, CmdError> {
        let idx = idx_of(a, 0)?;
        if self.clients[usize::from(idx)].state != ConnState::Connected {
            return Err(CmdError::State("client not connected"));
        }
        Ok(idx)
    }

    pub(crate) fn cmd_qmtsub(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            // The guide's §5.1 shows this text with a space after the comma.
            Form::Test => self.test_only(r#"+QMTSUB: (0-5),<msgid>, list of ["topic",qos]"#),
            Form::Set => {
                let a = &c.args;
                if a.len() < 4 || !a.len().is_multiple_of(2) {
                    return Err(ParseError::BadArg(a.len()).into());
                }
                let msgid = a.int_in(1, 1, 65535)? as u16;
                let mut topics = Vec::new();
                for i in (2..a.len()).step_by(2) {
                    topics.push((a.string_len(i, 1, 65535)?, a.int_in(i + 1, 0, 2)? as u8));
                }
                let idx = self.connected_client(a)?;
                self.ok();
                self.backend(idx, BackendCmd::Subscribe { msgid, topics });
            }
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    pub(crate) fn cmd_qmtuns(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => self.test_only("+QMTUNS: (0-5),<msgid>,list of [<topic>]"),
            Form::Set => {
                let a = &c.args;
                if a.len() < 3 {
                    return Err(ParseError::BadArg(2).into());
                }
                let msgid = a.int_in(1, 1, 65535)? as u16;
                let topics = (2..a.len())
                    .map(|i| a.string_len(i, 1, 65535))
                    .collect::<Result<Vec<_>, _>>()?;
                let idx = self.connected_client(a)?;
                self.ok();
                self.backend(idx, BackendCmd::Unsubscribe { msgid, topics });
            }
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    pub(crate) fn cmd_qmtpubex(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => {
                self.test_only(r#"+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),"topic","length""#);
                return Ok(());
            }
            Form::Set => {}
            _ => return Err(CmdError::Unknown),
        }
        let a = &c.args;
        if a.len() != 6 {
            return Err(ParseError::BadArg(a.len()).into());
        }
        let qos = a.int_in(2, 0, 2)? as u8;
        let msgid = if qos == 0 {
            a.int_in(1, 0, 0)?
        } else {
            a.int_in(1, 1, 65535)?
        } as u16;
        let retain = a.int_in(3, 0, 1)? == 1;
        let topic = a.string_len(4, 1, 65535)?;
        // The sixth argument must be a length (the BG95 inline-payload form is refused).
        let length = a.int_in(5, 0, MAX_PAYLOAD as i64)? as usize;
        let idx = self.connected_client(a)?;
        let client = &self.clients[usize::from(idx)];
        if client.inflight.len() >= PUBLISH_WINDOW {
            return Err(CmdError::State("publish window (5) full"));
        }
        if qos > 0 && client.inflight.contains(&msgid) {
            return Err(CmdError::State("msgid already in flight"));
        }
        let hex = client.cfg.send_hex;
        if hex && !length.is_multiple_of(2) {
            return Err(ParseError::Range(5).into());
        }
        let timeout = self.edit_timeout(idx);
        self.step_out(b"\r\n> ");
        self.expect_data(
            length,
            DataFor::Publish {
                idx,
                msgid,
                qos,
                retain,
                topic,
                hex,
            },
            timeout,
        );
        Ok(())
    }

    pub(crate) fn step_out(&mut self, bytes: &[u8]) {
        self.frame_raw(bytes);
    }

    /// Data-mode input is complete.
    pub(crate) fn on_data(&mut self, purpose: DataFor, buf: Vec<u8>) {
        match purpose {
            DataFor::Publish {
                idx,
                msgid,
                qos,
                retain,
                topic,
                hex,
            } => {
                let payload = if hex {
                    match hex_decode(&buf) {
                        Some(p) => p,
                        None => return self.error(),
                    }
                } else {
                    buf
                };
                let client = &mut self.clients[usize::from(idx)];
                if client.state != ConnState::Connected {
                    return self.error();
                }
                client.inflight.push(msgid);
                self.ok();
                self.backend(
                    idx,
                    BackendCmd::Publish {
                        msgid,
                        qos,
                        retain,
                        topic,
                        payload,
                    },
                );
            }
            DataFor::Willex {
                idx,
                qos,
                retain,
                topic,
            } => {
                self.clients[usize::from(idx)].cfg.will = Some(Will {
                    qos,
                    retain,
                    topic,
                    message: buf,
                });
                self.ok();
            }
            DataFor::Upload { name } => self.upload_done(name, buf),
        }
    }

    fn message_line(&self, idx: ClientIdx, m: &Stored) -> String {
        let cfg = &self.clients[usize::from(idx)].cfg;
        let body = if cfg.recv_hex {
            hex_encode(&m.payload)
        } else {
            String::from_utf8_lossy(&m.payload).into_owned()
        };
        let len = if cfg.recv_len {
            format!(",{}", body.len())
        } else {
            String::new()
        };
        format!(
            "+QMTRECV: {idx},{},{}{len},{}",
            m.msgid,
            quote(&m.topic),
            quote(&body)
        )
    }

    pub(crate) fn on_message(
        &mut self,
        idx: ClientIdx,
        msgid: u16,
        topic: String,
        payload: Vec<u8>,
    ) {
        let m = Stored {
            msgid,
            topic,
            payload,
        };
        let client = &mut self.clients[usize::from(idx)];
        if !client.cfg.recv_buffered {
            let line = self.message_line(idx, &m);
            return self.urc(line);
        }
        match client.slots.iter().position(Option::is_none) {
            Some(slot) => {
                client.slots[slot] = Some(m);
                self.urc(format!("+QMTRECV: {idx},{slot}"));
            }
            None => tracing::warn!(
                client = idx,
                "all {RECV_SLOTS} receive buffers full: message lost"
            ),
        }
    }

    pub(crate) fn cmd_qmtrecv(&mut self, c: &CommandLine) -> CmdResult {
        match c.form {
            Form::Test => self.ok(),
            Form::Read => {
                let lines = (0..6u8)
                    .filter(|&i| self.clients[usize::from(i)].state == ConnState::Connected)
                    .map(|i| {
                        let s: String = self.clients[usize::from(i)]
                            .slots
                            .iter()
                            .map(|s| if s.is_some() { ",1" } else { ",0" })
                            .collect();
                        format!("+QMTRECV: {i}{s}")
                    })
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
            }
            Form::Set => {
                let a = &c.args;
                if a.len() > 2 {
                    return Err(ParseError::TooMany.into());
                }
                let idx = self.connected_client(a)?;
                let ids: Vec<usize> = if a.len() == 2 {
                    vec![a.int_in(1, 0, RECV_SLOTS as i64 - 1)? as usize]
                } else {
                    (0..RECV_SLOTS).collect()
                };
                let mut lines = Vec::new();
                for id in ids {
                    if let Some(m) = self.clients[usize::from(idx)].slots[id].take() {
                        lines.push(self.message_line(idx, &m));
                    }
                }
                self.info_ok(&lines);
            }
            Form::Exec => return Err(CmdError::Unknown),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        assert_eq!(hex_encode(b"\x01\xab"), "01AB");
        assert_eq!(hex_decode(b"01ab").unwrap(), vec![1, 0xab]);
        assert_eq!(hex_decode(b"01a"), None);
        assert_eq!(hex_decode(b"zz"), None);
    }
}
