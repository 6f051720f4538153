//! A TCP stream shared by a JS handle and its in-flight ops.
//!
//! Reads and writes go through `&TcpStream` (readiness + `try_read`/`try_write`), so a read and
//! a write can be in flight at once. Two async locks keep each direction in FIFO order: all
//! reads (including a `copy` reading this stream) hold `read_lock`, all writes/shutdown hold
//! `write_lock` — two `writeAll` calls never interleave their bytes.
//!
//! Two counters, one per direction, count the native ops of that direction that were started
//! and have not finished yet (an [`InFlight`] guard lives inside each op's future). Only the JS
//! thread starts ops, so when it reads a counter as 0 no native op of that direction exists and
//! it may try the syscall itself without breaking FIFO order (the fast path in `stream.rs`).
//!
//! A read reads into a buffer owned by the stream and reused from read to read (handed to the
//! JS thread with the result, copied into the JS buffer there, and given back): no allocation
//! and no zeroing per read.
//!
//! Every read goes through [`StreamIo::try_read`], which treats a short read (fewer bytes than
//! asked) as "drained": it clears the socket's cached read readiness (with the readiness
//! observed before the syscall, so an event that arrives meanwhile is kept). The next read then
//! waits for the next event instead of paying a `recv` that can only fail with `EAGAIN` — one
//! syscall per message saved in request/response traffic (measured in docs/benchmarks.md).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use corio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use corio::net::TcpStream;
use corio::sync::Mutex;

/// Direction of an op, for the in-flight counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Read,
    Write,
}

/// The socket plus its per-direction locks, in-flight counters and reusable read buffer.
pub(crate) struct StreamIo {
    pub(crate) stream: TcpStream,
    pub(crate) read_lock: Mutex<()>,
    pub(crate) write_lock: Mutex<()>,
    reads_in_flight: AtomicUsize,
    writes_in_flight: AtomicUsize,
    /// The read buffer between reads (empty while a read holds it).
    spare: std::sync::Mutex<Vec<u8>>,
}

/// Counts one native op of one direction as in flight until dropped (moved into the op's
/// future, so an aborted op stops counting when the runtime drops it).
pub(crate) struct InFlight {
    io: Arc<StreamIo>,
    dir: Dir,
}

impl InFlight {
    /// Marks an op of `dir` as started on `io` (JS thread, before the op is spawned).
    pub(crate) fn start(io: &Arc<StreamIo>, dir: Dir) -> InFlight {
        io.counter(dir).fetch_add(1, Ordering::AcqRel);
        InFlight {
            io: io.clone(),
            dir,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Release: the op's syscalls happen-before a JS-thread fast path that sees 0.
        self.io.counter(self.dir).fetch_sub(1, Ordering::AcqRel);
    }
}

/// A finished read: `n` bytes at the start of `buf`, which goes back to `home` once copied out.
pub(crate) struct ReadDone {
    pub(crate) buf: Vec<u8>,
    pub(crate) n: usize,
    pub(crate) home: Arc<StreamIo>,
}

impl ReadDone {
    /// The bytes read.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf[..self.n]
    }

    /// Gives the buffer back to its stream for the next read.
    pub(crate) fn recycle(self) {
        self.home.put_buf(self.buf);
    }
}

impl StreamIo {
    pub(crate) fn new(stream: TcpStream) -> StreamIo {
        StreamIo {
            stream,
            read_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
            reads_in_flight: AtomicUsize::new(0),
            writes_in_flight: AtomicUsize::new(0),
            spare: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn counter(&self, dir: Dir) -> &AtomicUsize {
        match dir {
            Dir::Read => &self.reads_in_flight,
            Dir::Write => &self.writes_in_flight,
        }
    }

    /// Whether no native op of `dir` is started and unfinished (JS thread: then nothing can
    /// start one behind its back, so a synchronous attempt keeps FIFO order).
    pub(crate) fn idle(&self, dir: Dir) -> bool {
        self.counter(dir).load(Ordering::Acquire) == 0
    }

    fn take_buf(&self, max: usize) -> Vec<u8> {
        let mut v = std::mem::take(&mut *self.spare.lock().unwrap_or_else(|p| p.into_inner()));
        if v.len() < max {
            v.resize(max, 0); // zeroes only the growth, once
        }
        v
    }

    fn put_buf(&self, v: Vec<u8>) {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() > spare.len() {
            *spare = v;
        }
    }

    /// Reads without waiting, like `TcpStream::try_read`, but a short read (`0 < n <
    /// buf.len()`: the kernel had no more bytes queued) also clears the cached read readiness,
    /// so the next attempt costs no syscall until the driver sees new data. The readiness
    /// cleared is the one observed before the `recv` (the outer `try_io`'s), so data arriving
    /// after the `recv` brings a newer event that is kept.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        let mut short = None;
        let r = self.stream.try_io(Interest::READABLE, || {
            let n = self.stream.try_read(buf)?;
            if n > 0 && n < len {
                short = Some(n);
                return Err(io::ErrorKind::WouldBlock.into()); // makes try_io clear readiness
            }
            Ok(n)
        });
        match (r, short) {
            (_, Some(n)) => Ok(n),
            (r, None) => r,
        }
    }

    /// Reads up to `max` bytes (0 = end of stream) into the stream's reusable buffer.
    pub(crate) async fn read(self: &Arc<Self>, max: usize) -> io::Result<ReadDone> {
        let mut buf = self.take_buf(max);
        loop {
            self.stream.readable().await?;
            match self.try_read(&mut buf[..max]) {
                Ok(n) => {
                    return Ok(ReadDone {
                        buf,
                        n,
                        home: self.clone(),
                    })
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

    /// Half-close (SHUT_WR).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match super::sockopt::shutdown_write(&self.stream) {
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
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
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
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
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
pub(crate) async fn lock_all<'a>(
    locks: &mut [&'a Mutex<()>],
) -> Vec<corio::sync::MutexGuard<'a, ()>> {
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
