//! The sans-IO module: host bytes in, module bytes and backend actions out.
//!
//! [`Module`] does no I/O and reads no clock. The shell feeds it host bytes
//! ([`Module::feed`]), backend events ([`Module::on_backend`]), timer expiries
//! ([`Module::on_timer`]) and faults ([`Module::inject`]); each call returns a [`Step`]: the
//! bytes to write to the host and the [`Action`]s to carry out.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::api::{Action, BackendCmd, BackendEvent, ClientIdx, Step, TimerId};
use crate::auth::Derivers;
use crate::cfg::{ClientCfg, Profile};
use crate::fault_state::FaultState;
use crate::faults::{Fault, Rng, Schedule};
use crate::power::Radio;

pub use crate::contexts::PdpCtx;
pub(crate) use crate::contexts::SslCtx;
use crate::parser::{parse_line, CommandLine};

/// The longest command line the module takes; longer lines answer `ERROR`.
pub const MAX_LINE: usize = 4096;
/// The most payload bytes one `AT+QMTPUBEX` takes (guide §3.2.8, note 2).
pub const MAX_PAYLOAD: usize = 1500;
/// Publishes a client may have awaiting their result (the sliding window).
pub const PUBLISH_WINDOW: usize = 5;
/// Receive buffers per client in buffered `recv/mode`.
pub const RECV_SLOTS: usize = 5;

/// Static configuration of a [`Module`].
#[derive(Debug, Clone)]
pub struct ModuleConfig {
    /// Texts and ranges to imitate.
    pub profile: Profile,
    /// Credential derivation table for `aliauth` and friends.
    pub derivers: Derivers,
    /// Seeded random fault schedule, if any.
    pub schedule: Option<Schedule>,
    /// Seed of the garbage bytes.
    pub seed: u64,
    /// Time from a reboot fault to `RDY`.
    pub reboot_delay: Duration,
    /// Time from an accepted CONNACK to the drop of a duplicate-client-id kick
    /// ([`Fault::DupId`]).
    pub kick_delay: Duration,
    /// A carrier NAT idle timeout from the start (see [`Fault::NatIdle`]); `None` = none.
    pub nat_idle: Option<Duration>,
}

impl Default for ModuleConfig {
    fn default() -> Self {
        ModuleConfig {
            profile: Profile::Guide,
            derivers: Derivers::default(),
            schedule: None,
            seed: 0,
            reboot_delay: Duration::from_millis(300),
            kick_delay: Duration::from_millis(200),
            nat_idle: None,
        }
    }
}

/// The connection state of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// No network link.
    Idle,
    /// `AT+QMTOPEN` in progress.
    Opening,
    /// Network open, MQTT not connected (`AT+QMTCONN?` state 1).
    Open,
    /// CONNECT sent (state 2).
    Connecting,
    /// Connected (state 3).
    Connected,
    /// DISCONNECT in progress (state 4).
    Disconnecting,
    /// `AT+QMTCLOSE` in progress.
    Closing,
}

/// A message kept in a receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub msgid: u16,
    pub topic: String,
    pub payload: Vec<u8>,
}

/// One MQTT client of the module.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub cfg: ClientCfg,
    pub state: ConnState,
    pub host: String,
    pub port: u16,
    /// Message ids of publishes awaiting their final result (0 for QoS 0).
    pub inflight: Vec<u16>,
    pub slots: [Option<Stored>; RECV_SLOTS],
}

impl Client {
    /// Back to idle: the settings stay, the link and everything on it go.
    pub(crate) fn reset(&mut self) {
        *self = Client {
            cfg: std::mem::take(&mut self.cfg),
            ..Client::default()
        };
    }
}

impl Default for Client {
    fn default() -> Self {
        Client {
            cfg: ClientCfg::default(),
            state: ConnState::Idle,
            host: String::new(),
            port: 0,
            inflight: Vec::new(),
            slots: Default::default(),
        }
    }
}

/// What the bytes after a `>` or `CONNECT` are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataFor {
    Publish {
        idx: ClientIdx,
        msgid: u16,
        qos: u8,
        retain: bool,
        topic: String,
        hex: bool,
    },
    Willex {
        idx: ClientIdx,
        qos: u8,
        retain: bool,
        topic: String,
    },
    Upload {
        name: String,
    },
}

/// What host input is for, or why it is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Command,
    Data {
        buf: Vec<u8>,
        need: usize,
        purpose: DataFor,
    },
    /// Between a reset and `RDY`.
    Rebooting,
    /// A dead AT channel ([`Fault::Dead`]): nothing in, nothing out, until a power cycle.
    Dead,
    /// After `AT+QPOWD`: off until a power cycle.
    PoweredOff,
}

/// The emulated module: AT front end and MQTT client bookkeeping, without I/O.
#[derive(Debug)]
pub struct Module {
    pub(crate) config: ModuleConfig,
    pub(crate) echo: bool,
    pub(crate) input: Input,
    pub(crate) line: Vec<u8>,
    line_overflow: bool,
    pub(crate) clients: [Client; 6],
    /// The UFS file system (kept across reboots, like flash).
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) ssl: [SslCtx; 6],
    /// `AT+QICSGP` contexts 1–15 (index 0 = context 1).
    pub(crate) pdp: [PdpCtx; 15],
    pub(crate) now_unix_ms: i64,
    pub(crate) faults: FaultState,
    pub(crate) radio: Radio,
    rng: Rng,
    step: Step,
}

impl Module {
    /// A powered-off module; call [`Module::power_up`] to get `RDY`.
    pub fn new(config: ModuleConfig) -> Self {
        let rng = Rng::new(config.seed);
        let faults = FaultState::new(config.nat_idle);
        Module {
            config,
            echo: true,
            input: Input::Command,
            line: Vec::new(),
            line_overflow: false,
            clients: Default::default(),
            files: BTreeMap::new(),
            ssl: Default::default(),
            pdp: Default::default(),
            now_unix_ms: 0,
            faults,
            radio: Radio::default(),
            rng,
            step: Step::default(),
        }
    }

    /// Power-up: prints `RDY`.
    pub fn power_up(&mut self) -> Step {
        self.frame(b"RDY");
        self.take()
    }

    /// Sets the true time (milliseconds since the Unix epoch). The module's clock
    /// ([`Module::clock_ms`]) is this plus any [`Fault::ClockOffset`].
    pub fn set_time(&mut self, unix_ms: i64) {
        self.now_unix_ms = unix_ms;
    }

    /// The module's network clock, used by `AT+QLTS`, `AT+CCLK?` and credential signing:
    /// the true time plus any injected offset.
    pub fn clock_ms(&self) -> i64 {
        self.now_unix_ms
            .saturating_add(self.faults.clock_offset_s.saturating_mul(1000))
    }

    /// Whether echo is on (`ATE1`).
    pub fn echo(&self) -> bool {
        self.echo
    }

    /// The state of client `idx`.
    pub fn state(&self, idx: ClientIdx) -> ConnState {
        self.clients[usize::from(idx)].state
    }

    /// Clients currently connected.
    pub fn connected(&self) -> Vec<ClientIdx> {
        (0..6u8)
            .filter(|&i| self.clients[usize::from(i)].state == ConnState::Connected)
            .collect()
    }

    fn take(&mut self) -> Step {
        std::mem::take(&mut self.step)
    }

    // ---- output framing ----------------------------------------------------------------

    /// Whether the module prints nothing at all (dead AT channel, powered off).
    fn mute(&self) -> bool {
        matches!(self.input, Input::Dead | Input::PoweredOff)
    }

    /// Writes `\r\n<body>\r\n`, preceded by garbage while a garbage fault is active.
    pub(crate) fn frame(&mut self, body: &[u8]) {
        if self.mute() {
            return;
        }
        if self.faults.garbage_left > 0 {
            self.faults.garbage_left -= 1;
            let n = 1 + self.rng.below(8) as usize;
            let g = self.rng.garbage(n);
            self.step.out.extend(g);
        }
        self.step.out.extend_from_slice(b"\r\n");
        self.step.out.extend_from_slice(body);
        self.step.out.extend_from_slice(b"\r\n");
    }

    /// Writes bytes as they are (the `>` prompt).
    pub(crate) fn frame_raw(&mut self, bytes: &[u8]) {
        if self.mute() {
            return;
        }
        self.step.out.extend_from_slice(bytes);
    }

    pub(crate) fn ok(&mut self) {
        self.frame(b"OK");
    }

    pub(crate) fn error(&mut self) {
        self.frame(b"ERROR");
    }

    /// Information lines (one frame, lines joined by CR LF) then `OK`.
    pub(crate) fn info_ok(&mut self, lines: &[String]) {
        if !lines.is_empty() {
            self.frame(lines.join("\r\n").as_bytes());
        }
        self.ok();
    }

    pub(crate) fn urc(&mut self, line: String) {
        self.frame(line.as_bytes());
    }

    pub(crate) fn act(&mut self, a: Action) {
        self.step.actions.push(a);
    }

    pub(crate) fn backend(&mut self, idx: ClientIdx, cmd: BackendCmd) {
        self.act(Action::Backend(idx, cmd));
    }

    /// Enters data mode after a `>` or `CONNECT`, reading `need` bytes.
    pub(crate) fn expect_data(&mut self, need: usize, purpose: DataFor, timeout: Option<Duration>) {
        if let Some(t) = timeout {
            self.act(Action::StartTimer {
                id: TimerId::DataInput,
                after: t,
            });
        }
        self.input = Input::Data {
            buf: Vec::with_capacity(need),
            need,
            purpose,
        };
        if need == 0 {
            self.finish_data();
        }
    }

    // ---- input -------------------------------------------------------------------------

    /// Feeds bytes from the host.
    pub fn feed(&mut self, bytes: &[u8]) -> Step {
        let mut i = 0;
        while i < bytes.len() {
            match &mut self.input {
                Input::Rebooting | Input::Dead | Input::PoweredOff => break,
                Input::Data { buf, need, .. } => {
                    let take = (*need - buf.len()).min(bytes.len() - i);
                    buf.extend_from_slice(&bytes[i..i + take]);
                    i += take;
                    if buf.len() == *need {
                        // Bytes beyond <length> that came with the payload are dropped.
                        i = bytes.len();
                        self.finish_data();
                    }
                }
                Input::Command => {
                    let b = bytes[i];
                    i += 1;
                    if self.echo {
                        self.step.out.push(b);
                    }
                    match b {
                        b'\r' => {
                            let line = std::mem::take(&mut self.line);
                            let overflow = std::mem::replace(&mut self.line_overflow, false);
                            self.on_line(&line, overflow);
                        }
                        b'\n' | 0 => {}
                        0x08 | 0x7f => {
                            self.line.pop();
                        }
                        _ if self.line.len() >= MAX_LINE => self.line_overflow = true,
                        _ => self.line.push(b),
                    }
                }
            }
        }
        self.take()
    }

    fn finish_data(&mut self) {
        let Input::Data { buf, purpose, .. } = std::mem::replace(&mut self.input, Input::Command)
        else {
            return;
        };
        self.act(Action::CancelTimer(TimerId::DataInput));
        self.on_data(purpose, buf);
    }

    fn on_line(&mut self, raw: &[u8], overflow: bool) {
        let text = String::from_utf8_lossy(raw);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return;
        }
        if let Some(s) = self.config.schedule.as_mut() {
            let connected = (0..6u8)
                .filter(|&i| self.clients[usize::from(i)].state == ConnState::Connected)
                .collect::<Vec<_>>();
            if let Some(f) = s.draw(&connected) {
                tracing::info!(?f, command = %command_name(trimmed), "scheduled fault");
                self.apply_fault(f);
                if self.input == Input::Rebooting {
                    return;
                }
            }
        }
        if self.faults.stall_left > 0 {
            self.faults.stall_left -= 1;
            tracing::info!(command = %command_name(trimmed), "stall fault: command swallowed");
            return;
        }
        if self.faults.errors_left > 0 {
            self.faults.errors_left -= 1;
            tracing::info!(command = %command_name(trimmed), "error fault: answering ERROR");
            self.error();
            return;
        }
        if overflow {
            self.error();
            return;
        }
        match parse_line(trimmed) {
            Ok(cmd) => self.dispatch(cmd),
            Err(e) => {
                tracing::debug!(command = %command_name(trimmed), error = %e, "unparsable line");
                self.error();
            }
        }
    }

    fn dispatch(&mut self, cmd: CommandLine) {
        let handled = match cmd.name.as_str() {
            "+QMTCFG" => self.cmd_qmtcfg(&cmd),
            "+QMTOPEN" => self.cmd_qmtopen(&cmd),
            "+QMTCLOSE" => self.cmd_qmtclose(&cmd),
            "+QMTCONN" => self.cmd_qmtconn(&cmd),
            "+QMTDISC" => self.cmd_qmtdisc(&cmd),
            "+QMTSUB" => self.cmd_qmtsub(&cmd),
            "+QMTUNS" => self.cmd_qmtuns(&cmd),
            "+QMTPUBEX" => self.cmd_qmtpubex(&cmd),
            "+QMTRECV" => self.cmd_qmtrecv(&cmd),
            "+CFUN" | "+CGACT" | "+QIACT" | "+QIDEACT" | "+CGPADDR" | "+QPOWD" => {
                self.cmd_power(&cmd)
            }
            _ => self.cmd_basic(&cmd),
        };
        if let Err(e) = handled {
            tracing::debug!(command = %cmd.name, error = %e, "command refused");
            self.error();
        }
    }

    // ---- timers, faults, reboot --------------------------------------------------------

    /// A timer armed with [`Action::StartTimer`] fired.
    pub fn on_timer(&mut self, id: TimerId) -> Step {
        match id {
            TimerId::DataInput => {
                if let Input::Data { buf, need, .. } = &self.input {
                    tracing::info!(got = buf.len(), need, "data input timed out");
                    self.input = Input::Command;
                    self.error();
                }
            }
            TimerId::RebootDone => {
                if self.input == Input::Rebooting {
                    self.input = Input::Command;
                    self.frame(b"RDY");
                }
            }
            TimerId::Kick(idx) => self.kick(idx),
        }
        self.take()
    }

    /// Injects a fault (or a power cycle) from the control interface.
    pub fn inject(&mut self, fault: Fault) -> Step {
        self.apply_fault(fault);
        self.take()
    }

    // ---- backend events ----------------------------------------------------------------

    /// An event from client `idx`'s backend.
    pub fn on_backend(&mut self, idx: ClientIdx, ev: BackendEvent) -> Step {
        if matches!(self.input, Input::Rebooting | Input::PoweredOff) {
            return self.take();
        }
        let c = &mut self.clients[usize::from(idx)];
        match ev {
            BackendEvent::Opened(r) => {
                if c.state == ConnState::Opening {
                    c.state = if r == 0 {
                        ConnState::Open
                    } else {
                        ConnState::Idle
                    };
                    self.urc(format!("+QMTOPEN: {idx},{r}"));
                }
            }
            BackendEvent::ConnAck(rc) => {
                let accepted = c.state == ConnState::Connecting && rc == 0;
                if accepted {
                    c.state = ConnState::Connected;
                }
                self.urc(format!("+QMTCONN: {idx},0,{rc}"));
                if accepted {
                    self.after_accepted_connack(idx);
                }
            }
            BackendEvent::SubAck {
                msgid,
                result,
                values,
            } => {
                let v: String = values.iter().map(|v| format!(",{v}")).collect();
                self.urc(format!("+QMTSUB: {idx},{msgid},{result}{v}"));
            }
            BackendEvent::UnsubAck {
                msgid,
                result,
                value,
            } => {
                let v = value.map(|v| format!(",{v}")).unwrap_or_default();
                self.urc(format!("+QMTUNS: {idx},{msgid},{result}{v}"));
            }
            BackendEvent::PubDone {
                msgid,
                result,
                value,
            } => {
                if result != 1 {
                    if let Some(p) = c.inflight.iter().position(|&m| m == msgid) {
                        c.inflight.remove(p);
                    }
                }
                let v = value.map(|v| format!(",{v}")).unwrap_or_default();
                self.urc(format!("+QMTPUBEX: {idx},{msgid},{result}{v}"));
            }
            BackendEvent::Message {
                msgid,
                topic,
                payload,
            } => self.on_message(idx, msgid, topic, payload),
            BackendEvent::Disconnected => {
                c.reset();
                self.urc(format!("+QMTDISC: {idx},0"));
            }
            BackendEvent::Closed => {
                // Only a close the host asked for is reported: a link the module closed by
                // itself (a refused login, a deactivated context) was reported already.
                let asked = c.state == ConnState::Closing;
                c.reset();
                if asked {
                    self.urc(format!("+QMTCLOSE: {idx},0"));
                }
            }
            BackendEvent::PingFailed => self.urc(format!("+QMTPING: {idx},1")),
            BackendEvent::LinkLost(code) => self.link_lost(idx, code),
        }
        self.take()
    }
}

/// The command part of a host line, for logs: parameters may hold a device secret, a key or
/// a password (`AT+QMTCFG="aliauth",…`, `AT+QMTCONN=…`), so they are never logged.
fn command_name(line: &str) -> &str {
    let end = line.find(['=', '?']).unwrap_or(line.len()).min(32);
    line.get(..end).unwrap_or("")
}
