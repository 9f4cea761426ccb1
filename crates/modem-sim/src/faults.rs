//! Fault injection: the faults, their control-line syntax, and the seeded random schedule.

use std::str::FromStr;
use thiserror::Error;

/// A fault to inject into a running module.
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
}

/// A control line that is not a fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bad fault command {0:?}: expected drop IDX | ping-fail IDX | error N | garbage N | reboot | stall N")]
pub struct BadFault(pub String);

impl FromStr for Fault {
    type Err = BadFault;

    /// Parses a control line: `drop 0`, `ping-fail 0`, `error 3`, `garbage 2`, `reboot`,
    /// `stall 1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadFault(s.to_string());
        let mut it = s.split_whitespace();
        let word = it.next().ok_or_else(bad)?.to_ascii_lowercase();
        let n = it.next().map(|v| v.parse::<u32>().map_err(|_| bad()));
        if it.next().is_some() {
            return Err(bad());
        }
        let idx = |n: Option<Result<u32, BadFault>>| match n {
            Some(Ok(v)) if v <= 5 => Ok(v as u8),
            _ => Err(bad()),
        };
        let count = |n: Option<Result<u32, BadFault>>| match n {
            None => Ok(1),
            Some(r) => r,
        };
        Ok(match word.as_str() {
            "drop" => Fault::DropLink(idx(n)?),
            "ping-fail" => Fault::PingFail(idx(n)?),
            "error" => Fault::Error(count(n)?),
            "garbage" => Fault::Garbage(count(n)?),
            "stall" => Fault::Stall(count(n)?),
            "reboot" if n.is_none() => Fault::Reboot,
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
