//! Baud-rate pacing: when the last of a run of bytes has crossed a serial line.

use std::time::{Duration, Instant};

/// Paces one direction of a serial line at `baud` with 8N1 framing (10 bits a byte).
#[derive(Debug, Clone)]
pub struct Pacer {
    bytes_per_sec: u64,
    busy_until: Option<Instant>,
}

impl Pacer {
    /// A pacer for `baud`; 0 means unpaced.
    pub fn new(baud: u32) -> Self {
        Pacer {
            bytes_per_sec: u64::from(baud) / 10,
            busy_until: None,
        }
    }

    /// True when pacing is off.
    pub fn unpaced(&self) -> bool {
        self.bytes_per_sec == 0
    }

    /// The time `n` bytes take on the line.
    pub fn duration(&self, n: usize) -> Duration {
        if self.unpaced() {
            return Duration::ZERO;
        }
        Duration::from_nanos((n as u64).saturating_mul(1_000_000_000) / self.bytes_per_sec)
    }

    /// Queues `n` bytes offered at `now`; returns when the last of them has been sent.
    /// Bytes queue behind earlier ones that are still on the line.
    pub fn schedule(&mut self, n: usize, now: Instant) -> Instant {
        let start = match self.busy_until {
            Some(t) if t > now => t,
            _ => now,
        };
        let done = start + self.duration(n);
        self.busy_until = Some(done);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_baud_is_11520_bytes_per_second() {
        let p = Pacer::new(115_200);
        assert_eq!(p.duration(11_520), Duration::from_secs(1));
        assert_eq!(p.duration(1_152), Duration::from_millis(100));
        assert!(Pacer::new(0).unpaced());
        assert_eq!(Pacer::new(0).duration(1_000_000), Duration::ZERO);
    }

    #[test]
    fn bytes_queue_behind_each_other() {
        let mut p = Pacer::new(9_600); // 960 bytes/s
        let t0 = Instant::now();
        let a = p.schedule(96, t0);
        assert_eq!(a - t0, Duration::from_millis(100));
        let b = p.schedule(96, t0 + Duration::from_millis(50));
        assert_eq!(b - t0, Duration::from_millis(200));
        let c = p.schedule(96, t0 + Duration::from_secs(1));
        assert_eq!(c - t0, Duration::from_millis(1100));
    }
}
