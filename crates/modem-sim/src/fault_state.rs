//! The faults in force in a [`Module`]: how each injected [`Fault`] is applied, counted down
//! and cleared. Which recovery clears which fault is listed on [`Fault`].

use std::time::Duration;

use crate::api::{Action, ClientIdx, TimerId};
use crate::faults::{Fault, UNTIL_CLEARED};
use crate::module::{ConnState, Input, Module};

/// Faults and network conditions in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultState {
    /// Commands still to answer `ERROR`.
    pub errors_left: u32,
    /// Output frames still to prefix with garbage.
    pub garbage_left: u32,
    /// Command lines still to swallow.
    pub stall_left: u32,
    /// `+QMTOPEN` result to report instead of opening, and how many opens are left.
    pub open_fail: Option<(i8, u32)>,
    /// CONNACK code to refuse logins with, and how many logins are left.
    pub refuse: Option<(u8, u32)>,
    /// Accepted logins still to be kicked by a duplicate client id.
    pub dup_id_left: u32,
    /// How far the network clock is off, in seconds.
    pub clock_offset_s: i64,
    /// The carrier NAT's idle timeout, if any.
    pub nat_idle: Option<Duration>,
}

/// Uses one of `left`; [`UNTIL_CLEARED`] never runs out. Whether one was left.
fn take_one(left: &mut u32) -> bool {
    match *left {
        0 => false,
        UNTIL_CLEARED => true,
        _ => {
            *left -= 1;
            true
        }
    }
}

impl FaultState {
    pub fn new(nat_idle: Option<Duration>) -> Self {
        FaultState {
            nat_idle,
            ..FaultState::default()
        }
    }

    /// A module reset or power cycle ends the module's own faults.
    pub fn clear_module_faults(&mut self) {
        self.errors_left = 0;
        self.stall_left = 0;
    }

    /// Re-attaching (PDP re-activation, radio reset, module reset) ends the attach faults.
    pub fn clear_attach_faults(&mut self) {
        if self.open_fail.take().is_some() {
            tracing::info!("open-fail fault cleared by re-attaching");
        }
    }

    /// The `+QMTOPEN` result the next open must report, if an open-fail fault is in force.
    pub fn next_open_failure(&mut self) -> Option<i8> {
        let (result, left) = self.open_fail.as_mut()?;
        let result = *result;
        let hit = take_one(left);
        if *left == 0 {
            self.open_fail = None;
        }
        hit.then_some(result)
    }

    /// The CONNACK code the next login is refused with, if a refuse fault is in force.
    pub fn next_refusal(&mut self) -> Option<u8> {
        let (code, left) = self.refuse.as_mut()?;
        let code = *code;
        let hit = take_one(left);
        if *left == 0 {
            self.refuse = None;
        }
        hit.then_some(code)
    }
}

impl Module {
    /// Applies an injected fault (or a power cycle).
    pub(crate) fn apply_fault(&mut self, fault: Fault) {
        let f = &mut self.faults;
        match fault {
            Fault::Error(n) => f.errors_left = f.errors_left.saturating_add(n),
            Fault::Garbage(n) => f.garbage_left = f.garbage_left.saturating_add(n),
            Fault::Stall(n) => f.stall_left = f.stall_left.saturating_add(n),
            Fault::DropLink(i) | Fault::PingFail(i) | Fault::SilentDrop(i) => {
                // The shell routes these to the backend (see `Action::Fault` handling there);
                // the core only checks that there is a link.
                if self.clients[usize::from(i)].state != ConnState::Idle {
                    self.act(Action::Fault(fault));
                }
            }
            Fault::NatIdle(secs) => {
                f.nat_idle = (secs > 0).then(|| Duration::from_secs(u64::from(secs)));
                // Links open now get it as well as later ones.
                self.act(Action::Fault(fault));
            }
            Fault::DupId(n) => f.dup_id_left = n,
            Fault::OpenFail { result, count } => {
                f.open_fail = (count > 0).then_some((result, count));
            }
            Fault::Refuse { code, count } => {
                f.refuse = (code > 0 && count > 0).then_some((code, count));
            }
            Fault::ClockOffset(secs) => f.clock_offset_s = secs,
            Fault::Dead => {
                tracing::info!("dead fault: the AT channel stops answering until a power cycle");
                self.input = Input::Dead;
                self.line.clear();
                self.act(Action::CancelTimer(TimerId::DataInput));
            }
            Fault::Reboot | Fault::PowerCycle => self.reset_module(),
        }
    }

    /// A login was accepted: a duplicate-client-id fault kicks it shortly after.
    pub(crate) fn after_accepted_connack(&mut self, idx: ClientIdx) {
        if take_one(&mut self.faults.dup_id_left) {
            self.act(Action::StartTimer {
                id: TimerId::Kick(idx),
                after: self.config.kick_delay,
            });
        }
    }

    /// The other device with the same client id logs in: the broker drops this link.
    pub(crate) fn kick(&mut self, idx: ClientIdx) {
        if self.clients[usize::from(idx)].state == ConnState::Connected {
            tracing::info!(
                client = idx,
                "dup-id fault: kicked by a login with the same client id"
            );
            self.act(Action::Fault(Fault::DropLink(idx)));
        }
    }
}
