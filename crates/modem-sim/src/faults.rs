//! Fault injection: the faults, their control-line syntax, and the seeded random schedule.

use std::str::FromStr;
use thiserror::Error;

/// A count meaning "until cleared" (by the matching recovery or by the control command with
/// a count of 0).
pub const UNTIL_CLEARED: u32 = u32::MAX;

/// A fault to inject into a running module.
///
/// Faults fall in three groups, by what clears them (see `docs/modem-sim.md`):
/// * module faults (`error`, `garbage`, `stall`, `dead`) are cleared by a module reset or a
///   power cycle;
/// * attach faults (`open-fail`) are cleared by re-activating the PDP context, a radio reset
///   (`AT+CFUN=0` then `=1`), a module reset or a power cycle;
/// * network and cloud conditions (`nat-idle`, `dup-id`, `refuse`, `clock-offset`) are outside
///   the module: nothing the host does clears them, only the control command (count or
///   value 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Drop client `idx`'s MQTT link (→ `+QMTSTAT: idx,1`).
    DropLink(u8),
    /// Make client `idx`'s next ping fail (→ `+QMTPING: idx,1`, `+QMTSTAT: idx,2`). The ping
    /// is sent at once and its answer ignored; the failure is reported after `pkt_timeout`.
    PingFail(u8),
    /// Answer `ERROR` to the next N commands (without executing them).
    Error(u32),
    /// Put 1–8 random garbage bytes before each of the next N output frames.
    Garbage(u32),
    /// Power-cycle: all state lost, `RDY` again after a short delay.
    Reboot,
    /// Swallow the next N command lines: no echo, no answer, no effect.
    Stall(u32),
    /// Client `idx`'s link dies silently: nothing more is sent or received on it and nothing
    /// is reported — no `+QMTSTAT`, no `+QMTPING`, no result for later publishes — while
    /// `AT+QMTCONN?` still says connected. `AT+QMTDISC` / `AT+QMTCLOSE` still work.
    SilentDrop(u8),
    /// A carrier NAT that forgets a mapping after this many seconds without traffic in
    /// either direction (0 = off). After that the link is a black hole: packets vanish both
    /// ways, so only the module's own timers notice (ping failure, publish result 2).
    NatIdle(u32),
    /// Another device logs in with the same client id: after each of the next N accepted
    /// CONNACKs ([`UNTIL_CLEARED`] = every one; 0 = off) the link is dropped shortly after
    /// (→ `+QMTSTAT: idx,1`).
    DupId(u32),
    /// The next `count` `AT+QMTOPEN`s ([`UNTIL_CLEARED`] = until recovered; 0 = off) report
    /// this `+QMTOPEN` result without touching the network (3: PDP activation failed,
    /// 4: DNS failed, 5: network disconnected, -1: failed, 1: wrong parameter).
    OpenFail {
        /// The `<result>` to report.
        result: i8,
        /// How many opens fail.
        count: u32,
    },
    /// The next `count` `AT+QMTCONN`s ([`UNTIL_CLEARED`] = until cleared; code 0 = off) are
    /// refused with CONNACK return code `code` (1–5): `+QMTCONN: idx,0,<code>` then
    /// `+QMTSTAT: idx,4`, and the link closes.
    Refuse {
        /// The CONNACK return code.
        code: u8,
        /// How many connects are refused.
        count: u32,
    },
    /// The AT channel dies: no echo, no answer (even to `AT`), no URC, until a module reset
    /// or a power cycle ([`Fault::Reboot`], [`Fault::PowerCycle`]).
    Dead,
    /// The network clock is off by this many seconds (may be negative): `AT+QLTS`,
    /// `AT+CCLK?` and the module's own credential signing use it. 0 = right.
    ClockOffset(i64),
    /// The host cycles the module's power (a recovery, not a fault): like [`Fault::Reboot`],
    /// and the only way out of [`Fault::Dead`] or `AT+QPOWD`.
    PowerCycle,
}

/// A control line that is not a fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "bad fault command {0:?}: expected drop IDX | ping-fail IDX | error [N] | garbage [N] | \
     reboot | stall [N] | silent-drop IDX | nat-idle SECS | dup-id [N] | \
     open-fail RESULT [N] | refuse CODE [N] | dead | clock-offset SECS | power-cycle"
)]
pub struct BadFault(pub String);

impl FromStr for Fault {
    type Err = BadFault;

    /// Parses a control line: `drop 0`, `ping-fail 0`, `error 3`, `garbage 2`, `reboot`,
    /// `stall 1`, `silent-drop 0`, `nat-idle 60`, `dup-id [N]`, `open-fail 4 [N]`,
    /// `refuse 5 [N]`, `dead`, `clock-offset -3600`, `power-cycle`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadFault(s.to_string());
        let mut it = s.split_whitespace();
        let word = it.next().ok_or_else(bad)?.to_ascii_lowercase();
        let nums = it
            .map(|v| v.parse::<i64>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        let idx = || match nums[..] {
            [v] if (0..=5).contains(&v) => Ok(v as u8),
            _ => Err(bad()),
        };
        // An optional non-negative count at `at`, defaulting to `default`.
        let count = |at: usize, default: u32| match nums.get(at) {
            None => Ok(default),
            Some(&v) => u32::try_from(v).map_err(|_| bad()),
        };
        let arity = |min: usize, max: usize| {
            if (min..=max).contains(&nums.len()) {
                Ok(())
            } else {
                Err(bad())
            }
        };
        Ok(match word.as_str() {
            "drop" => Fault::DropLink(idx()?),
            "ping-fail" => Fault::PingFail(idx()?),
            "silent-drop" => Fault::SilentDrop(idx()?),
            "error" => Fault::Error(arity(0, 1).and(count(0, 1))?),
            "garbage" => Fault::Garbage(arity(0, 1).and(count(0, 1))?),
            "stall" => Fault::Stall(arity(0, 1).and(count(0, 1))?),
            "reboot" => arity(0, 0).map(|_| Fault::Reboot)?,
            "dead" => arity(0, 0).map(|_| Fault::Dead)?,
            "power-cycle" => arity(0, 0).map(|_| Fault::PowerCycle)?,
            "nat-idle" => {
                arity(1, 1)?;
                Fault::NatIdle(count(0, 0)?)
            }
            "dup-id" => Fault::DupId(arity(0, 1).and(count(0, UNTIL_CLEARED))?),
            "open-fail" => {
                arity(1, 2)?;
                let result = match nums[0] {
                    r @ (-1 | 1..=5) => r as i8,
                    _ => return Err(bad()),
                };
                Fault::OpenFail {
                    result,
                    count: count(1, UNTIL_CLEARED)?,
                }
            }
            "refuse" => {
                arity(1, 2)?;
                let code = match nums[0] {
                    c @ 0..=5 => c as u8,
                    _ => return Err(bad()),
                };
                Fault::Refuse {
                    code,
                    count: count(1, UNTIL_CLEARED)?,
                }
            }
            "clock-offset" => {
                arity(1, 1)?;
                // ±100 years is plenty and keeps the millisecond arithmetic far from overflow.
                match nums[0] {
                    v if v.abs() <= 100 * 366 * 86_400 => Fault::ClockOffset(v),
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        })
    }
}

/// A small deterministic PRNG (SplitMix64), so that schedules and garbage are reproducible
/// from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `len` garbage bytes: never CR, LF or `>`, so they cannot fake a frame or a prompt.
    pub fn garbage(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| loop {
                let b = self.next_u64() as u8;
                if !matches!(b, b'\r' | b'\n' | b'>') {
                    break b;
                }
            })
            .collect()
    }
}

/// A seeded random fault schedule, consulted once per command line: with probability
/// `rate_per_mille`/1000 a fault is drawn (uniformly) from `kinds`. The draw depends only on
/// the seed and the command count, so a run is reproducible.
#[derive(Debug, Clone)]
pub struct Schedule {
    rng: Rng,
    rate_per_mille: u32,
    kinds: Vec<ScheduleKind>,
}

/// The fault kinds a [`Schedule`] may draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// `Fault::Error(1)` for the current command.
    Error,
    /// `Fault::Garbage(1)` before its answer.
    Garbage,
    /// `Fault::Stall(1)` for the current command.
    Stall,
    /// `Fault::DropLink` of a random connected client.
    Drop,
    /// `Fault::PingFail` of a random connected client.
    PingFail,
    /// `Fault::Reboot`.
    Reboot,
    /// `Fault::SilentDrop` of a random connected client.
    SilentDrop,
}

impl FromStr for ScheduleKind {
    type Err = BadFault;
    fn from_str(s: &str) -> Result<Self, BadFault> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "error" => ScheduleKind::Error,
            "garbage" => ScheduleKind::Garbage,
            "stall" => ScheduleKind::Stall,
            "drop" => ScheduleKind::Drop,
            "ping-fail" => ScheduleKind::PingFail,
            "reboot" => ScheduleKind::Reboot,
            "silent-drop" => ScheduleKind::SilentDrop,
            _ => return Err(BadFault(s.to_string())),
        })
    }
}

impl Schedule {
    /// A schedule from a seed, a rate (per mille of commands) and the kinds to draw from.
    pub fn new(seed: u64, rate_per_mille: u32, kinds: Vec<ScheduleKind>) -> Self {
        Schedule {
            rng: Rng::new(seed),
            rate_per_mille: rate_per_mille.min(1000),
            kinds,
        }
    }

    /// Draws the fault (if any) for the next command. `connected` lists connected clients.
    pub fn draw(&mut self, connected: &[u8]) -> Option<Fault> {
        let hit = self.rng.below(1000) < u64::from(self.rate_per_mille);
        if !hit || self.kinds.is_empty() {
            return None;
        }
        let kind = self.kinds[self.rng.below(self.kinds.len() as u64) as usize];
        let pick = |rng: &mut Rng| {
            (!connected.is_empty()).then(|| connected[rng.below(connected.len() as u64) as usize])
        };
        match kind {
            ScheduleKind::Error => Some(Fault::Error(1)),
            ScheduleKind::Garbage => Some(Fault::Garbage(1)),
            ScheduleKind::Stall => Some(Fault::Stall(1)),
            ScheduleKind::Reboot => Some(Fault::Reboot),
            ScheduleKind::Drop => pick(&mut self.rng).map(Fault::DropLink),
            ScheduleKind::PingFail => pick(&mut self.rng).map(Fault::PingFail),
            ScheduleKind::SilentDrop => pick(&mut self.rng).map(Fault::SilentDrop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lines() {
        assert_eq!("drop 3".parse(), Ok(Fault::DropLink(3)));
        assert_eq!("PING-FAIL 0".parse(), Ok(Fault::PingFail(0)));
        assert_eq!("error".parse(), Ok(Fault::Error(1)));
        assert_eq!("error 4".parse(), Ok(Fault::Error(4)));
        assert_eq!("garbage 2".parse(), Ok(Fault::Garbage(2)));
        assert_eq!("stall".parse(), Ok(Fault::Stall(1)));
        assert_eq!("reboot".parse(), Ok(Fault::Reboot));
        assert!("drop 6".parse::<Fault>().is_err());
        assert!("drop".parse::<Fault>().is_err());
        assert!("reboot 1".parse::<Fault>().is_err());
        assert!("explode".parse::<Fault>().is_err());
        assert!("error -1".parse::<Fault>().is_err());
        assert!("stall 1 2".parse::<Fault>().is_err());
    }

    #[test]
    fn control_lines_of_the_field_causes() {
        assert_eq!("silent-drop 2".parse(), Ok(Fault::SilentDrop(2)));
        assert!("silent-drop".parse::<Fault>().is_err());
        assert_eq!("nat-idle 90".parse(), Ok(Fault::NatIdle(90)));
        assert_eq!("nat-idle 0".parse(), Ok(Fault::NatIdle(0)));
        assert!("nat-idle".parse::<Fault>().is_err());
        assert_eq!("dup-id".parse(), Ok(Fault::DupId(UNTIL_CLEARED)));
        assert_eq!("dup-id 3".parse(), Ok(Fault::DupId(3)));
        assert_eq!(
            "open-fail 4".parse(),
            Ok(Fault::OpenFail {
                result: 4,
                count: UNTIL_CLEARED
            })
        );
        assert_eq!(
            "open-fail 3 2".parse(),
            Ok(Fault::OpenFail {
                result: 3,
                count: 2
            })
        );
        assert_eq!(
            "open-fail -1 1".parse(),
            Ok(Fault::OpenFail {
                result: -1,
                count: 1
            })
        );
        assert!("open-fail 0".parse::<Fault>().is_err());
        assert!("open-fail 6".parse::<Fault>().is_err());
        assert!("open-fail".parse::<Fault>().is_err());
        assert_eq!(
            "refuse 5".parse(),
            Ok(Fault::Refuse {
                code: 5,
                count: UNTIL_CLEARED
            })
        );
        assert_eq!(
            "refuse 4 1".parse(),
            Ok(Fault::Refuse { code: 4, count: 1 })
        );
        assert!("refuse 6".parse::<Fault>().is_err());
        assert_eq!("dead".parse(), Ok(Fault::Dead));
        assert!("dead 1".parse::<Fault>().is_err());
        assert_eq!("clock-offset -3600".parse(), Ok(Fault::ClockOffset(-3600)));
        assert!("clock-offset".parse::<Fault>().is_err());
        assert!("clock-offset 99999999999".parse::<Fault>().is_err());
        assert_eq!("POWER-CYCLE".parse(), Ok(Fault::PowerCycle));
        let e = "explode".parse::<Fault>().unwrap_err().to_string();
        assert!(
            e.contains("silent-drop IDX") && e.contains("power-cycle"),
            "{e}"
        );
    }

    #[test]
    fn schedule_is_reproducible_and_respects_rate() {
        let kinds = vec![ScheduleKind::Error, ScheduleKind::Drop];
        let run = |seed| {
            let mut s = Schedule::new(seed, 300, kinds.clone());
            (0..200).map(|_| s.draw(&[2])).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|f| f.is_some()).count();
        assert!((30..=90).contains(&hits), "{hits} hits at 30%");
        assert!(run(7)
            .iter()
            .flatten()
            .all(|f| matches!(f, Fault::Error(1) | Fault::DropLink(2))));
        let mut none = Schedule::new(1, 0, kinds);
        assert!((0..100).all(|_| none.draw(&[]).is_none()));
    }

    #[test]
    fn garbage_never_frames() {
        let g = Rng::new(1).garbage(10_000);
        assert!(!g.iter().any(|b| matches!(b, b'\r' | b'\n' | b'>')));
    }
}
