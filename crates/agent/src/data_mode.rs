//! A module left waiting for a publish's payload by an earlier host process.
//!
//! When the host stops between `AT+QMTPUBEX=…,<length>` and the payload (SIGKILL, a crash,
//! a restart of the host alone), the module stays in its `>` input. Whatever the next process
//! sends — `AT`, then the driver's probes — becomes that payload and is published to the
//! cloud once `<length>` bytes have arrived (the soak found AT command text published as a
//! property report this way). The module leaves the input by itself after its
//! `edit/timeout` (30 s by default; it then discards the bytes and prints `ERROR`).
//!
//! So before the driver starts, [`settle`] sends one `AT` and listens. An answer means
//! command mode. Silence means the module may be taking input (or rebooting, or dead): the
//! host then sends nothing more until the module prints anything (`ERROR` when the input
//! times out, `RDY` after a reboot) or `quiet_limit` passes. Only the 3 bytes of that `AT` go
//! into a pending payload, fewer than any payload the agent sends, so nothing is published.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, Instant};

/// How long `run` stays quiet when the first `AT` of the process gets no answer: the
/// module's default `edit/timeout` (30 s) and a margin.
pub const QUIET_LIMIT: Duration = Duration::from_secs(35);

/// How long an answer to the first `AT` may take before the module counts as silent.
pub const ANSWER_WAIT: Duration = Duration::from_millis(500);

/// Whether this process has settled the module already (only its first open can meet an
/// input left by an earlier process).
static SETTLED: AtomicBool = AtomicBool::new(false);

/// Makes the next [`settle_once`] settle again: a link was given up before its driver could
/// tell that the module is not taking a command's data (`Link::drain`: the driver stopped, or
/// the module stayed silent past the limit), so this process itself may have left the module
/// in a `>` input.
pub fn rearm() {
    SETTLED.store(false, Ordering::SeqCst);
}

/// [`settle`] with the agent's limits, on the first open of the port in this process only;
/// what it found is logged.
pub async fn settle_once<S>(io: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if SETTLED.swap(true, Ordering::SeqCst) {
        return;
    }
    match settle(io, ANSWER_WAIT, QUIET_LIMIT).await {
        Ok(Settled::Answered) => {}
        Ok(Settled::SpokeAfter(d)) => tracing::warn!(
            waited = ?d,
            "the module did not answer AT at first (it may have been waiting for the payload of a publish an earlier process started); stayed quiet until it spoke"
        ),
        Ok(Settled::Silent) => tracing::warn!(
            "the module answered nothing within {} s of the first AT",
            QUIET_LIMIT.as_secs()
        ),
        Err(e) => tracing::debug!("first AT: {e}"),
    }
}

/// What [`settle`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The module answered the `AT`: it was in command mode.
    Answered,
    /// Silent at first; it printed something after this long of the host keeping quiet.
    SpokeAfter(Duration),
    /// Nothing at all within the limit (a dead module, or one without `edit/timeout`).
    Silent,
}

/// A final line: the module is (back) in command mode. `ERROR` is also what the module
/// prints when it gives up on a pending input.
fn has_final(text: &[u8]) -> bool {
    let t = String::from_utf8_lossy(text);
    t.lines()
        .map(str::trim)
        .any(|l| l == "OK" || l == "ERROR" || l == "RDY" || l.starts_with("+CME ERROR"))
}

/// Reads into `seen` until a final line arrives (true) or `limit` passes (false).
async fn read_final<S>(io: &mut S, seen: &mut Vec<u8>, limit: Duration) -> io::Result<bool>
where
    S: AsyncRead + Unpin,
{
    let deadline = Instant::now() + limit;
    let mut buf = [0u8; 256];
    while !has_final(seen) {
        match tokio::time::timeout_at(deadline, io.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) => return Ok(false),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(e),
        }
    }
    Ok(true)
}

/// Drops what the module printed before this process looked (an earlier process's unread
/// answers, a `>` prompt): it says nothing about the state now.
async fn drain_stale<S>(io: &mut S) -> io::Result<()>
where
    S: AsyncRead + Unpin,
{
    let mut buf = [0u8; 256];
    while let Ok(r) = timeout(Duration::from_millis(100), io.read(&mut buf)).await {
        if r? == 0 {
            break;
        }
    }
    Ok(())
}

/// Sends `AT\r` and listens as described in the module docs: an answer is a final line
/// (`OK`, `ERROR`, `RDY`), not just any bytes (URCs and stale output come at any time).
/// Bytes read are consumed (the driver starts after them).
pub async fn settle<S>(
    io: &mut S,
    answer_wait: Duration,
    quiet_limit: Duration,
) -> io::Result<Settled>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    drain_stale(io).await?;
    io.write_all(b"AT\r").await?;
    io.flush().await?;
    let started = Instant::now();
    let mut seen = Vec::new();
    let outcome = if read_final(io, &mut seen, answer_wait).await? {
        Settled::Answered
    } else if read_final(io, &mut seen, quiet_limit).await? {
        Settled::SpokeAfter(started.elapsed())
    } else {
        return Ok(Settled::Silent);
    };
    // Drain the rest (an `OK` after an `RDY`, say) so the driver starts clean.
    drain_stale(io).await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    #[tokio::test]
    async fn a_module_in_command_mode_answers() {
        let (mut host, mut module) = duplex(256);
        let fake = tokio::spawn(async move {
            let mut b = [0u8; 16];
            let n = module.read(&mut b).await.unwrap();
            assert_eq!(&b[..n], b"AT\r");
            module.write_all(b"AT\r\r\nOK\r\n").await.unwrap();
            module
        });
        let r = settle(&mut host, Duration::from_secs(5), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(r, Settled::Answered);
        drop(fake.await.unwrap());
    }

    /// The regression: a module waiting for a 60-byte payload must get no more than the one
    /// `AT` until it gives up on the input.
    #[tokio::test]
    async fn a_module_waiting_for_a_payload_gets_nothing_more_until_it_gives_up() {
        let (mut host, mut module) = duplex(256);
        let fake = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut b = [0u8; 64];
            // The `>` input: collect what arrives for a while, as the module would.
            let until = Instant::now() + Duration::from_millis(300);
            while let Ok(Ok(n)) = timeout(until - Instant::now(), module.read(&mut b)).await {
                got.extend_from_slice(&b[..n]);
            }
            // edit/timeout: the partial payload is dropped and the module says ERROR.
            module.write_all(b"\r\nERROR\r\n").await.unwrap();
            (got, module)
        });
        let r = settle(
            &mut host,
            Duration::from_millis(50),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let (got, _module) = fake.await.unwrap();
        assert_eq!(
            got, b"AT\r",
            "only the first AT reaches the pending payload"
        );
        assert!(matches!(r, Settled::SpokeAfter(_)), "{r:?}");
    }

    /// The soak's case: the killed process's `>` prompt is still unread; it is no answer.
    #[tokio::test]
    async fn a_stale_prompt_is_no_answer() {
        let (mut host, mut module) = duplex(256);
        module.write_all(b"\r\n> ").await.unwrap();
        let fake = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut b = [0u8; 64];
            let until = Instant::now() + Duration::from_millis(400);
            while let Ok(Ok(n)) = timeout(until - Instant::now(), module.read(&mut b)).await {
                got.extend_from_slice(&b[..n]);
            }
            module.write_all(b"\r\nERROR\r\n").await.unwrap();
            (got, module)
        });
        let r = settle(
            &mut host,
            Duration::from_millis(50),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let (got, _module) = fake.await.unwrap();
        assert_eq!(got, b"AT\r");
        assert!(matches!(r, Settled::SpokeAfter(_)), "{r:?}");
    }

    #[tokio::test]
    async fn a_silent_module_is_reported_after_the_limit() {
        let (mut host, _module) = duplex(256);
        let r = settle(
            &mut host,
            Duration::from_millis(20),
            Duration::from_millis(50),
        )
        .await
        .unwrap();
        assert_eq!(r, Settled::Silent);
    }
}
