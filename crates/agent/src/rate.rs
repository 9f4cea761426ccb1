//! Per-device publish rate limiting: a token bucket (pure; the caller passes `Instant`s).
//!
//! The clouds throttle or disconnect devices that publish faster than their per-device limit
//! (OneNET Studio: 1 uplink/s, excess delayed; Huawei IoTDA: 50/s per connection; Aliyun
//! answers 429 "throttled"). A backlog drained after an outage would burst at the module's
//! full speed; the bucket smooths it to the profile's `publish.rate_per_s`, allowing short
//! bursts of `publish.burst` messages.

use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens per second, at most `burst` banked.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket. `rate` ≤ 0 means unlimited.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            at: now,
        }
    }

    /// Whether the bucket limits anything.
    pub fn unlimited(&self) -> bool {
        self.rate <= 0.0
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.unlimited() {
            return true;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be there (`now` if one is).
    pub fn ready_at(&mut self, now: Instant) -> Instant {
        if self.unlimited() {
            return now;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            now
        } else {
            now + Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_smooths_to_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(2.0, 3, t0);
        assert!(b.try_take(t0) && b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0), "the burst is spent");
        let next = b.ready_at(t0);
        assert_eq!(next - t0, Duration::from_millis(500));
        assert!(!b.try_take(t0 + Duration::from_millis(499)));
        assert!(b.try_take(t0 + Duration::from_millis(500)));
        // Over 10 s at most 3 + 20 messages.
        let mut b = TokenBucket::new(2.0, 3, t0);
        let sent = (0..=1000)
            .filter(|i| b.try_take(t0 + Duration::from_millis(i * 10)))
            .count();
        assert_eq!(sent, 23);
    }

    #[test]
    fn a_zero_rate_is_unlimited() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(0.0, 1, t0);
        assert!((0..1000).all(|_| b.try_take(t0)));
        assert_eq!(b.ready_at(t0), t0);
    }
}
