//! A TCP stream shared by a JS handle and its in-flight ops.
//!
//! Reads and writes go through `&TcpStream` (readiness + `try_read`/`try_write`), so a read and
//! a write can be in flight at once. Two async locks keep each direction in FIFO order: all
//! reads (including a `copy` reading this stream) hold `read_lock`, all writes/shutdown hold
//! `write_lock` — two `writeAll` calls never interleave their bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use corio::io::{AsyncRead, AsyncWrite, ReadBuf};
use corio::net::TcpStream;
use corio::sync::Mutex;
use socket2::SockRef;

/// The socket plus its per-direction locks.
pub(crate) struct StreamIo {
    pub(crate) stream: TcpStream,
    pub(crate) read_lock: Mutex<()>,
    pub(crate) write_lock: Mutex<()>,
}

impl StreamIo {
    pub(crate) fn new(stream: TcpStream) -> StreamIo {
        StreamIo { stream, read_lock: Mutex::new(()), write_lock: Mutex::new(()) }
    }

    /// socket2 view for options the core's TcpStream does not offer (keepalive, shutdown by &).
    pub(crate) fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.stream)
    }

    /// Reads up to `max` bytes (0 = end of stream) into a fresh native buffer.
    pub(crate) async fn read(&self, max: usize) -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; max];
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut v) {
                Ok(n) => {
                    v.truncate(n);
                    return Ok(v);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// One write (may be partial).
    pub(crate) async fn write(&self, data: &[u8]) -> io::Result<usize> {
        loop {
            self.stream.writable().await?;
            match self.stream.try_write(data) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.write(data).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            data = &data[n..];
        }
        Ok(())
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self.sock().shutdown(std::net::Shutdown::Write) {
            // Already shut down / peer gone: the half-close is moot, not an error for the caller.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }
}

/// `AsyncRead + AsyncWrite` over a shared stream, for the core's `copy`/`copy_bidirectional`.
/// The caller holds the matching direction locks for as long as it uses this.
pub(crate) struct Shared<'a>(pub(crate) &'a StreamIo);

impl AsyncRead for Shared<'_> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.stream.poll_read_ready(cx))?;
            match self.0.stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Shared<'_> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.stream.poll_write_ready(cx))?;
            match self.0.stream.try_write(data) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.shutdown_write())
    }
}

/// Locks several direction locks in address order (no lock-order deadlock between concurrent
/// copies over the same streams).
pub(crate) async fn lock_all<'a>(locks: &mut [&'a Mutex<()>]) -> Vec<corio::sync::MutexGuard<'a, ()>> {
    locks.sort_by_key(|m| *m as *const Mutex<()> as usize);
    let mut guards = Vec::with_capacity(locks.len());
    let mut last: Option<usize> = None;
    for m in locks.iter() {
        let p = *m as *const Mutex<()> as usize;
        if last == Some(p) {
            continue; // the same lock twice (copy(s, s) never needs that, but be safe)
        }
        last = Some(p);
        guards.push(m.lock().await);
    }
    guards
}
