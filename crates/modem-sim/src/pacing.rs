//! Baud-rate pacing: when the last of a run of bytes has crossed a serial line, and a paced
//! line that hands bytes on at those times.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

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

/// The sending end of one direction of the line (see [`line`]).
pub(crate) enum LineSender {
    /// Unpaced: bytes go straight through.
    Direct(mpsc::UnboundedSender<Vec<u8>>),
    /// To the pacing thread, with the time the bytes were offered.
    Paced(std::sync::mpsc::Sender<(Instant, Vec<u8>)>),
}

impl LineSender {
    /// Offers `bytes` to the line now. False once the receiving end is gone.
    pub(crate) fn send(&self, bytes: Vec<u8>) -> bool {
        match self {
            LineSender::Direct(tx) => tx.send(bytes).is_ok(),
            LineSender::Paced(tx) => tx.send((Instant::now(), bytes)).is_ok(),
        }
    }
}

/// One direction of a serial line at `baud`: what is offered to the sender comes out of the
/// receiver once it has crossed the line, in pieces of at most `piece` bytes, each when its
/// last byte has arrived. Bytes queue behind earlier ones still on the line.
///
/// The pacing runs on its own thread with `std::thread::sleep`, against absolute deadlines:
/// tokio's timer has a 1 ms resolution and rounds every sleep up, and a line paced with it ran
/// at 70–80 % of its baud (a 190-byte URC took 23 ms instead of 16.5 ms at 115,200 baud).
pub(crate) fn line(baud: u32, piece: usize) -> (LineSender, mpsc::UnboundedReceiver<Vec<u8>>) {
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let mut pacer = Pacer::new(baud);
    if pacer.unpaced() {
        return (LineSender::Direct(out_tx), out_rx);
    }
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    let piece = piece.max(1);
    let spawned = std::thread::Builder::new()
        .name("modem-sim-line".into())
        .spawn(move || {
            // Ends when the sender is dropped (after handing on what was queued) or when
            // nobody receives any more.
            while let Ok((offered, bytes)) = rx.recv() {
                let done = pacer.schedule(bytes.len(), offered);
                let mut left = bytes.len();
                for part in bytes.chunks(piece) {
                    left -= part.len();
                    let due = done - pacer.duration(left);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    if out_tx.send(part.to_vec()).is_err() {
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        // Without a thread the line cannot be paced; run it unpaced rather than not at all.
        tracing::warn!("modem-sim: no pacing thread ({e}); the line runs unpaced");
        let (direct_tx, direct_rx) = mpsc::unbounded_channel();
        return (LineSender::Direct(direct_tx), direct_rx);
    }
    (LineSender::Paced(tx), out_rx)
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

    #[tokio::test]
    async fn a_paced_line_keeps_its_baud_over_many_pieces() {
        // 11,520 bytes at 115,200 baud in 8-byte pieces: one second. A sleep per piece from
        // the time it woke would take at least 1.44 s (1,440 pieces of 0.69 ms, each rounded
        // up to a whole millisecond by tokio's timer); the deadlines here do not drift.
        let (tx, mut rx) = line(115_200, 8);
        let t0 = Instant::now();
        assert!(tx.send(vec![b'x'; 5_760]));
        assert!(tx.send(vec![b'y'; 5_760]));
        let (mut got, mut pieces) = (0, 0);
        while got < 11_520 {
            let part = rx.recv().await.expect("line open");
            assert!(part.len() <= 8);
            got += part.len();
            pieces += 1;
        }
        let took = t0.elapsed();
        assert_eq!(pieces, 1_440);
        assert!(took >= Duration::from_millis(995), "{took:?}");
        assert!(took < Duration::from_millis(1_300), "{took:?}");
        drop(tx);
        assert!(rx.recv().await.is_none(), "the thread ends with its sender");
    }

    #[tokio::test]
    async fn an_unpaced_line_passes_bytes_straight_through() {
        let (tx, mut rx) = line(0, 32);
        assert!(tx.send(vec![7; 100]));
        assert_eq!(rx.recv().await, Some(vec![7; 100]));
    }
}
