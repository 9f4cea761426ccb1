//! Power, radio and PDP contexts: `AT+CFUN`, `AT+CGACT`, `AT+QIACT`/`AT+QIDEACT`,
//! `AT+CGPADDR`, `AT+QPOWD`, and the module reset shared by reboot faults, `AT+CFUN=1,1` and
//! power cycles. These are the host's recovery steps, so each clears the faults a real module
//! would lose with it (see [`crate::Fault`]).

use crate::api::{Action, BackendCmd, ClientIdx, TimerId};
use crate::module::{ConnState, Input, Module};
use crate::parser::{CommandLine, Form, ParseError};
use crate::qmt::{CmdError, CmdResult};

/// The radio and the PDP contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Radio {
    /// `AT+CFUN` level: 1 full, 0 minimum, 4 radio off.
    pub fun: u8,
    /// Contexts 1–15 active (index 0 = context 1). Context 1 comes up with the network, as
    /// the default bearer of an LTE attach does.
    pub active: [bool; 15],
}

impl Default for Radio {
    fn default() -> Self {
        let mut active = [false; 15];
        active[0] = true;
        Radio { fun: 1, active }
    }
}

impl Radio {
    /// Whether the radio is on (and so registered: the emulated network is always there).
    pub fn on(&self) -> bool {
        self.fun == 1
    }

    /// Whether context `cid` (1–15) is active.
    pub fn context_active(&self, cid: u8) -> bool {
        (1..=15).contains(&cid) && self.active[usize::from(cid - 1)]
    }
}

/// The emulated address of context `cid`.
fn address(cid: u8) -> String {
    format!("10.0.{cid}.2")
}

impl Module {
    pub(crate) fn cmd_power(&mut self, c: &CommandLine) -> CmdResult {
        let a = &c.args;
        match (c.name.as_str(), c.form) {
            ("+CFUN", Form::Read) => self.info_ok(&[format!("+CFUN: {}", self.radio.fun)]),
            ("+CFUN", Form::Test) => self.info_ok(&["+CFUN: (0,1,4),(0-1)".into()]),
            ("+CFUN", Form::Set) => {
                let fun = a.int_in(0, 0, 4)? as u8;
                if !matches!(fun, 0 | 1 | 4) {
                    return Err(ParseError::Range(0).into());
                }
                let reset = a.len() > 1 && a.int_in(1, 0, 1)? == 1;
                self.ok();
                if reset {
                    self.reset_module();
                } else {
                    self.set_fun(fun);
                }
            }
            ("+CGACT", Form::Read) => {
                let lines = (1..=15u8)
                    .filter(|&cid| cid == 1 || self.radio.context_active(cid))
                    .map(|cid| {
                        format!("+CGACT: {cid},{}", u8::from(self.radio.context_active(cid)))
                    })
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
            }
            ("+CGACT", Form::Test) => self.info_ok(&["+CGACT: (0,1)".into()]),
            ("+CGACT", Form::Set) => {
                let on = a.int_in(0, 0, 1)? == 1;
                let cids: Vec<u8> = if a.len() > 1 {
                    (1..a.len())
                        .map(|i| a.int_in(i, 1, 15).map(|v| v as u8))
                        .collect::<Result<_, _>>()?
                } else {
                    (1..=15).collect()
                };
                if on && !self.radio.on() {
                    return Err(CmdError::State("PDP activation with the radio off"));
                }
                self.ok();
                for cid in cids {
                    self.set_context(cid, on);
                }
            }
            ("+QIACT", Form::Set) | ("+QIDEACT", Form::Set) => {
                let cid = a.int_in(0, 1, 15)? as u8;
                let on = c.name == "+QIACT";
                if on && !self.radio.on() {
                    return Err(CmdError::State("PDP activation with the radio off"));
                }
                self.ok();
                self.set_context(cid, on);
            }
            ("+QIACT", Form::Read) => {
                let lines = (1..=15u8)
                    .filter(|&cid| self.radio.context_active(cid))
                    .map(|cid| format!("+QIACT: {cid},1,1,\"{}\"", address(cid)))
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
            }
            ("+CGPADDR", Form::Exec) | ("+CGPADDR", Form::Set) => {
                let cids: Vec<u8> = if c.form == Form::Set {
                    (0..a.len())
                        .map(|i| a.int_in(i, 1, 15).map(|v| v as u8))
                        .collect::<Result<_, _>>()?
                } else {
                    (1..=15)
                        .filter(|&cid| cid == 1 || self.radio.context_active(cid))
                        .collect()
                };
                let lines = cids
                    .into_iter()
                    .map(|cid| match self.radio.context_active(cid) {
                        true => format!("+CGPADDR: {cid},\"{}\"", address(cid)),
                        false => format!("+CGPADDR: {cid}"),
                    })
                    .collect::<Vec<_>>();
                self.info_ok(&lines);
            }
            ("+QPOWD", Form::Exec) | ("+QPOWD", Form::Set) => {
                let normal = c.form == Form::Exec || a.int_in(0, 0, 1)? == 1;
                if normal {
                    self.ok();
                }
                self.frame(b"POWERED DOWN");
                self.power_off();
            }
            _ => return Err(CmdError::Unknown),
        }
        Ok(())
    }

    /// `AT+CFUN=<fun>`: radio off drops every link and context; radio on re-attaches.
    fn set_fun(&mut self, fun: u8) {
        let was_on = self.radio.on();
        self.radio.fun = fun;
        if was_on && !self.radio.on() {
            tracing::info!(fun, "radio off: every link and PDP context is lost");
            self.radio.active = [false; 15];
            self.lose_links(None);
        } else if !was_on && self.radio.on() {
            self.radio.active[0] = true;
            self.faults.clear_attach_faults();
        }
    }

    /// Activates or deactivates context `cid`. Deactivation drops the links on it; a fresh
    /// activation clears the attach faults (new bearer, new DNS servers).
    fn set_context(&mut self, cid: u8, on: bool) {
        let was = self.radio.context_active(cid);
        self.radio.active[usize::from(cid - 1)] = on;
        if on && !was {
            self.faults.clear_attach_faults();
        } else if !on && was {
            tracing::info!(cid, "PDP context deactivated: its links are lost");
            self.lose_links(Some(cid));
        }
    }

    /// Drops every link (on context `cid`, or all), reporting each as the network losing it.
    fn lose_links(&mut self, cid: Option<u8>) {
        for idx in 0..6u8 {
            let c = &self.clients[usize::from(idx)];
            if c.state == ConnState::Idle || cid.is_some_and(|cid| c.cfg.pdpcid != cid) {
                continue;
            }
            self.backend(idx, BackendCmd::Close);
            self.link_lost(idx, 1);
        }
    }

    /// The link of client `idx` is gone (`code` for `+QMTSTAT`): the index is free again,
    /// and the host hears of it in the way its pending command expects.
    pub(crate) fn link_lost(&mut self, idx: ClientIdx, code: u8) {
        let c = &mut self.clients[usize::from(idx)];
        let was = c.state;
        c.reset();
        match was {
            // A close or disconnect we asked for: report it as such.
            ConnState::Closing => self.urc(format!("+QMTCLOSE: {idx},0")),
            ConnState::Disconnecting => self.urc(format!("+QMTDISC: {idx},0")),
            ConnState::Opening => self.urc(format!("+QMTOPEN: {idx},3")),
            ConnState::Idle => {}
            _ => self.urc(format!("+QMTSTAT: {idx},{code}")),
        }
    }

    /// Loses everything but the files (flash) and the conditions outside the module.
    fn lose_state(&mut self) {
        self.clients = Default::default();
        self.ssl = Default::default();
        self.echo = true;
        self.pdp = Default::default();
        self.line.clear();
        self.faults.clear_module_faults();
        self.faults.clear_attach_faults();
        self.radio = crate::power::Radio::default();
        self.act(Action::CancelTimer(TimerId::DataInput));
        self.act(Action::Rebooted);
    }

    /// A module reset (reboot fault, `AT+CFUN=1,1`, power cycle): `RDY` after the delay.
    pub(crate) fn reset_module(&mut self) {
        tracing::info!("module reset: all state lost");
        self.lose_state();
        self.input = Input::Rebooting;
        self.act(Action::StartTimer {
            id: TimerId::RebootDone,
            after: self.config.reboot_delay,
        });
    }

    /// `AT+QPOWD`: off until a power cycle.
    fn power_off(&mut self) {
        tracing::info!("AT+QPOWD: powered down until a power cycle");
        self.lose_state();
        self.input = Input::PoweredOff;
    }
}
