//! Reconnect backoff: exponential, capped, with full jitter (pure; randomness is an input).

use std::time::Duration;

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `base`, doubles per failed attempt, never above `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
        }
    }

    /// The ceiling for the current attempt: `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before the next attempt, given `unit` in `[0, 1)`: half the ceiling plus a
    /// jittered half ("equal jitter"), so delays never collapse to zero. Advances the attempt.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let ceiling = self.ceiling();
        let half = ceiling / 2;
        let jitter = half.mul_f64(unit.clamp(0.0, 1.0));
        self.attempt = self.attempt.saturating_add(1);
        half + jitter
    }

    /// Back to the first delay (after a successful connect).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Attempts since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_is_capped_and_jittered() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(8));
        let lows: Vec<_> = (0..8).map(|_| b.next_delay(0.0)).collect();
        assert_eq!(lows[0], Duration::from_millis(250));
        assert_eq!(lows[1], Duration::from_millis(500));
        assert_eq!(lows[2], Duration::from_millis(1000));
        assert_eq!(lows[7], Duration::from_secs(4)); // capped: half of 8 s
        b.reset();
        let top = b.next_delay(0.999_999); // just under the ceiling
        assert!(top > Duration::from_millis(499) && top < Duration::from_millis(500));
        let d = b.next_delay(0.5);
        assert!(d > Duration::from_millis(500) && d < Duration::from_secs(1));
    }
}
