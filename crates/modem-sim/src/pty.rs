//! The module's end of a pty: the master, served by two plain threads with `poll(2)`.
//!
//! Why not tokio's reactor: when no host has the slave open, the master reports `POLLHUP`.
//! tokio keeps "read closed" readiness for the life of a registration (it can never be
//! cleared), so once the first host closed the port — or before any opened it, as
//! [`crate::Simulator::open_pty`] closes its own slave — every later read attempt is
//! "ready", gets `EAGAIN` and retries at once: about 20,000 reads a second whenever a host
//! has the port open and quiet, which starved the soak. Here the reader waits in `poll`
//! with a timeout, and a hang-up (no host) is waited out with a sleep.
//!
//! [`PtyMaster`] is an `AsyncRead + AsyncWrite` over channels to those threads, so a session
//! runs on it like on any stream. Bytes the module writes while no host has the port open
//! wait until one does (as before; a host's first read may meet them).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

/// How long the threads wait in one `poll` (also how soon they notice the session ended).
const POLL_MS: i32 = 100;
/// The pause while no host has the slave open.
const NO_HOST: Duration = Duration::from_millis(50);

/// The master side of a pty, for [`crate::Simulator::run_session`].
pub struct PtyMaster {
    from_host: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    at: usize,
    to_host: mpsc::UnboundedSender<Vec<u8>>,
}

impl PtyMaster {
    /// Takes over the master `fd` (non-blocking, close-on-exec) and starts its threads.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<PtyMaster> {
        let fd = Arc::new(fd);
        let (in_tx, from_host) = mpsc::channel(64);
        let (to_host, out_rx) = mpsc::unbounded_channel();
        let reader_fd = fd.clone();
        std::thread::Builder::new()
            .name("pty-read".into())
            .spawn(move || read_loop(&reader_fd, in_tx))?;
        std::thread::Builder::new()
            .name("pty-write".into())
            .spawn(move || write_loop(&fd, out_rx))?;
        Ok(PtyMaster {
            from_host,
            pending: Vec::new(),
            at: 0,
            to_host,
        })
    }

    /// A duplicate of `fd` that this type owns, close-on-exec.
    pub(crate) fn dup(fd: RawFd) -> io::Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor (or -1); nothing else changes.
        let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if new < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `new` is a fresh descriptor nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    }
}

/// `poll` on one descriptor: the returned events, or none on a timeout or EINTR.
fn poll_one(fd: RawFd, events: libc::c_short) -> libc::c_short {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, POLL_MS) };
    if n > 0 {
        p.revents
    } else {
        0
    }
}

fn read_loop(fd: &OwnedFd, tx: mpsc::Sender<Vec<u8>>) {
    let raw = fd.as_raw_fd();
    let mut buf = vec![0u8; 4096];
    while !tx.is_closed() {
        let ev = poll_one(raw, libc::POLLIN);
        if ev & libc::POLLIN == 0 {
            if ev & (libc::POLLHUP | libc::POLLERR) != 0 {
                std::thread::sleep(NO_HOST);
            }
            continue;
        }
        // SAFETY: reads into our own buffer of that length.
        let n = unsafe { libc::read(raw, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            if tx.blocking_send(buf[..n as usize].to_vec()).is_err() {
                return;
            }
        } else if n == 0 {
            std::thread::sleep(NO_HOST);
        } else {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => {}
                // EIO: the host closed the slave between the poll and the read.
                Some(libc::EIO) => std::thread::sleep(NO_HOST),
                _ => return,
            }
        }
    }
}

fn write_loop(fd: &OwnedFd, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    let raw = fd.as_raw_fd();
    while let Some(bytes) = rx.blocking_recv() {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            // SAFETY: writes from a live slice of that length.
            let n = unsafe { libc::write(raw, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                rest = &rest[n as usize..];
                continue;
            }
            let errno = io::Error::last_os_error().raw_os_error();
            if errno != Some(libc::EINTR) && rx.is_closed() {
                // The session is over and these bytes cannot go now: nobody waits for them.
                return;
            }
            match errno {
                // The host reads slower than we write: wait until it has room.
                Some(libc::EAGAIN) => {
                    poll_one(raw, libc::POLLOUT);
                }
                Some(libc::EINTR) => {}
                // No host has the port open: keep the bytes until one does.
                Some(libc::EIO) => std::thread::sleep(NO_HOST),
                _ => return,
            }
        }
    }
}

impl AsyncRead for PtyMaster {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at == self.pending.len() {
            match self.from_host.poll_recv(cx) {
                Poll::Ready(Some(bytes)) => {
                    self.pending = bytes;
                    self.at = 0;
                }
                // The reader thread stopped on an unexpected error: end of stream.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(self.pending.len() - self.at);
        let at = self.at;
        buf.put_slice(&self.pending[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.to_host.send(buf.to_vec()) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(_) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the pty writer thread stopped",
            ))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
