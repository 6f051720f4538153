//! A connected stream (TCP, or a Unix domain socket: [`NetStream`]) shared by a JS handle and
//! its in-flight ops.
//!
//! Reads and writes go through `&NetStream` (readiness + `try_read`/`try_write`), so a read and
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
//! Every read goes through [`StreamIo::try_read`], i.e. the core's `TcpStream::try_read`
//! (or `UnixStream::try_read`, the same code),
//! which treats a short read (fewer bytes than asked) as "drained": it clears the socket's
//! cached read readiness (the readiness observed before the syscall, so an event that arrives
//! meanwhile is kept; not on Windows). The next read then waits for the next event instead of
//! paying a `recv` that can only fail with `EAGAIN` — one syscall per message saved in
//! request/response traffic (measured in docs/benchmarks.md). The native `copy` reads through
//! it too.
//!
//! Idle timeout (`setIdleTimeout`): every transfer of at least one byte, on either path, bumps
//! an activity counter (one relaxed atomic add). A timer task on the runtime, started only
//! for a stream that has a timeout, samples the counter every quarter of the timeout; when it
//! saw no change over a whole timeout it expires the stream ([`StreamIo::expire`]): the socket
//! is shut down both ways (the peer reads end of stream, and the kernel wakes every op waiting
//! on it), and every read, write and shutdown from then on fails with `ETIMEDOUT`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use corio::io::{AsyncRead, AsyncWrite, ReadBuf};
use corio::sync::{Mutex, Notify};

use super::conn::NetStream;
use super::handle::ClosedMark;
use crate::bridge::OpResult;
use crate::errors::OpError;

/// Direction of an op, for the in-flight counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Read,
    Write,
}

/// The socket plus its per-direction locks, in-flight counters and reusable read buffer.
pub(crate) struct StreamIo {
    pub(crate) stream: NetStream,
    pub(crate) read_lock: Arc<Mutex<()>>,
    pub(crate) write_lock: Arc<Mutex<()>>,
    reads_in_flight: AtomicUsize,
    writes_in_flight: AtomicUsize,
    /// The read buffer between reads (empty while a read holds it).
    spare: std::sync::Mutex<Vec<u8>>,
    /// Transfers of at least one byte so far (either direction, either path).
    activity: AtomicU64,
    /// Bumped by every `setIdleTimeout` and by `close()`: a timer task started under an older
    /// generation ends.
    idle_gen: AtomicU64,
    /// Wakes the idle timer task when `idle_gen` changes.
    idle_changed: Notify,
    /// Set once the idle timeout fired: every later I/O fails with `ETIMEDOUT`.
    timed_out: AtomicBool,
    /// Set by the handle's `close()`; checked by every op once it holds its direction lock.
    pub(crate) closed: ClosedMark,
    /// Whether the runtime's I/O driver watches the socket for readability (JS thread only:
    /// turned off while reads are served by the JS loop's poll watcher, `jspoll.rs`, so
    /// incoming data does not wake a runtime thread for nothing; back on before any native
    /// read starts, in [`InFlight::start`]).
    driver_reads: AtomicBool,
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
        if dir == Dir::Read {
            io.set_driver_reads(true);
        }
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
    pub(crate) fn new(stream: NetStream) -> StreamIo {
        StreamIo {
            stream,
            read_lock: Arc::new(Mutex::new(())),
            write_lock: Arc::new(Mutex::new(())),
            reads_in_flight: AtomicUsize::new(0),
            writes_in_flight: AtomicUsize::new(0),
            spare: std::sync::Mutex::new(Vec::new()),
            activity: AtomicU64::new(0),
            idle_gen: AtomicU64::new(0),
            idle_changed: Notify::new(),
            timed_out: AtomicBool::new(false),
            closed: ClosedMark::default(),
            driver_reads: AtomicBool::new(true),
        }
    }

    /// Whether the I/O driver watches the socket for readability (if not, its cached read
    /// readiness is stale: [`StreamIo::try_read`] may skip a `recv` that would find data).
    #[cfg_attr(not(unix), allow(dead_code))] // only JS-loop reads (unix) turn it off
    pub(crate) fn driver_reads(&self) -> bool {
        self.driver_reads.load(Ordering::Relaxed)
    }

    /// Turns the I/O driver's read interest in the socket on or off (JS thread; see
    /// `driver_reads`). Off only while no native read is in flight; a failure leaves it on.
    pub(crate) fn set_driver_reads(&self, on: bool) {
        #[cfg(unix)]
        if self.driver_reads.load(Ordering::Relaxed) != on {
            let interest = if on {
                corio::io::Interest::READABLE | corio::io::Interest::WRITABLE
            } else {
                corio::io::Interest::WRITABLE
            };
            if self.stream.set_driver_interest(interest).is_ok() || on {
                self.driver_reads.store(on, Ordering::Relaxed);
            }
        }
        #[cfg(not(unix))]
        let _ = on;
    }

    /// Counts one transfer of at least one byte (resets the idle timer).
    fn active(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// `Err(ETIMEDOUT)` once the idle timeout fired.
    fn check_timeout(&self) -> io::Result<()> {
        if self.timed_out.load(Ordering::Acquire) {
            return Err(timed_out_error());
        }
        Ok(())
    }

    /// Replaces the idle timeout (JS thread): `ms == 0` only stops the current timer;
    /// otherwise a new timer task is spawned on `rt`. The previous task (if any) ends.
    pub(crate) fn set_idle_timeout(self: &Arc<Self>, rt: &corio::runtime::Handle, ms: u64) {
        let gen = self.idle_gen.fetch_add(1, Ordering::AcqRel) + 1;
        self.idle_changed.notify_waiters();
        if ms > 0 && !self.timed_out.load(Ordering::Acquire) {
            rt.spawn(idle_timer(self.clone(), gen, ms));
        }
    }

    /// Runs `body` as the stream's next op in direction `dir`: waits for that direction's lock
    /// (queued at call time, so ops run in call order), moves to the runtime if the op's first
    /// poll is on the JS thread, and refuses to run once the handle was closed
    /// (`ERR_SOCKET_CLOSED`). The lock passes on only once the op's completion (or its
    /// cancellation or panic) is queued ([`crate::bridge::release_after_settle`]), so the op
    /// queued next cannot settle first.
    pub(crate) async fn in_turn(&self, dir: Dir, body: impl Future<Output = OpResult>) -> OpResult {
        let lock = match dir {
            Dir::Read => &self.read_lock,
            Dir::Write => &self.write_lock,
        };
        crate::bridge::release_after_settle(lock.clone().lock_owned().await);
        crate::bridge::leave_js_thread_without_fast_path().await;
        if self.closed.is_set() {
            return Err(OpError::Closed);
        }
        body.await
    }

    /// Stops the idle timer task (on close, so it does not keep the socket open).
    pub(crate) fn stop_idle_timer(&self) {
        self.idle_gen.fetch_add(1, Ordering::AcqRel);
        self.idle_changed.notify_waiters();
    }

    /// The idle timeout fired: later I/O fails with `ETIMEDOUT`; the socket is shut down both
    /// ways, so the peer reads end of stream and the kernel wakes every op waiting on it.
    fn expire(&self) {
        self.timed_out.store(true, Ordering::Release);
        // An error (the peer is already gone) changes nothing for us.
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Writes without waiting (the fast path's `try_write`), counted as activity; fails with
    /// `ETIMEDOUT` once the idle timeout fired.
    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        self.check_timeout()?;
        let n = self.stream.try_write(data)?;
        if n > 0 {
            self.active();
        }
        Ok(n)
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

    /// Reads without waiting (the core's `try_read`: no syscall while the cached
    /// readiness says "not readable", and a short read clears it), counted as activity; fails
    /// with `ETIMEDOUT` once the idle timeout fired.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_timeout()?;
        let n = self.stream.try_read(buf)?;
        if n > 0 {
            self.active();
        }
        Ok(n)
    }

    /// One `recv` straight on the socket, bypassing the cached readiness (the JS-loop read
    /// path, `jspoll.rs`: libuv said the socket is readable, which the runtime's driver may not
    /// have processed yet). Counted as activity; fails with `ETIMEDOUT` once the idle timeout
    /// fired. `EINTR` is retried.
    #[cfg(unix)]
    pub(crate) fn recv_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        self.check_timeout()?;
        loop {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call, and the
            // fd belongs to `self.stream`, open for as long as `self` lives.
            let n = unsafe {
                libc::recv(
                    self.stream.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    0,
                )
            };
            if n >= 0 {
                if n > 0 {
                    self.active();
                }
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Reads up to `max` bytes (0 = end of stream) into the stream's reusable buffer.
    pub(crate) async fn read(self: &Arc<Self>, max: usize) -> io::Result<ReadDone> {
        self.check_timeout()?;
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
            self.check_timeout()?;
            self.stream.writable().await?;
            match self.try_write(data) {
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
        self.check_timeout()?;
        match self.stream.shutdown(std::net::Shutdown::Write) {
            // Already shut down / peer gone: the half-close is moot, not an error for the caller.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }
}

/// The error of I/O on a stream whose idle timeout fired (`code: 'ETIMEDOUT'`).
fn timed_out_error() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(libc::ETIMEDOUT);
    #[cfg(not(unix))]
    return io::ErrorKind::TimedOut.into();
}

/// The idle timer of one stream (a runtime task; it holds no JS state, so it never keeps the
/// Node event loop alive). Samples the activity counter every `ms / 4` (at least 1 ms) and
/// expires the stream after a whole `ms` without a change, so an idle stream is closed after
/// between `ms` and `ms + max(ms / 4, 1)` ms (more under load: a timer never fires early). Ends when the
/// timeout is replaced or the stream closed (`idle_gen` moves on).
async fn idle_timer(io: Arc<StreamIo>, gen: u64, ms: u64) {
    let step = (ms / 4).max(1);
    let mut idle_for = 0u64;
    let mut seen = io.activity.load(Ordering::Relaxed);
    loop {
        let notified = io.idle_changed.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if io.idle_gen.load(Ordering::Acquire) != gen {
            return;
        }
        let mut sleep = std::pin::pin!(corio::time::sleep(Duration::from_millis(step)));
        let stopped = std::future::poll_fn(|cx| {
            if notified.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            sleep.as_mut().poll(cx).map(|_| false)
        })
        .await;
        if stopped || io.idle_gen.load(Ordering::Acquire) != gen {
            return;
        }
        let now = io.activity.load(Ordering::Relaxed);
        if now != seen {
            seen = now;
            idle_for = 0;
            continue;
        }
        idle_for += step;
        if idle_for >= ms {
            io.expire();
            return;
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
            self.0.check_timeout()?;
            ready!(self.0.stream.poll_read_ready(cx))?;
            // Short-read aware (see `StreamIo::try_read`): `copy` then waits for the next
            // event after each request instead of paying a `recv` that fails with `EAGAIN`.
            match self.0.try_read(buf.initialize_unfilled()) {
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
            self.0.check_timeout()?;
            ready!(self.0.stream.poll_write_ready(cx))?;
            match self.0.try_write(data) {
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

/// Takes several direction locks at once (each lock once, however often it is listed).
///
/// Every lock's `lock()` future is polled from the first poll on, so a copy started lazily
/// (its first poll on the JS thread at call time, see `copy.rs`) joins the queue of every lock
/// it needs at call time, not only of the first busy one: an op called after it waits behind it
/// on every lock they share. No deadlock: the locks are FIFO and every op that can wait joins
/// its queues in one total order (call order on the JS thread), so an op only ever waits for
/// ops called before it; the JS-loop read watcher only `try_lock`s.
///
/// The guards are owned, so the op can hand them to [`crate::bridge::release_after_settle`].
pub(crate) async fn lock_all(
    locks: &mut [&Arc<Mutex<()>>],
) -> Vec<corio::sync::OwnedMutexGuard<()>> {
    locks.sort_by_key(|m| Arc::as_ptr(m) as usize);
    let mut distinct = locks.to_vec();
    // The same lock twice (copy(s, s) never needs that, but be safe).
    distinct.dedup_by(|a, b| Arc::ptr_eq(a, b));
    // Each lock's queue entry, and its guard once granted.
    let mut queued: Vec<_> = distinct
        .iter()
        .map(|m| (Box::pin(Arc::clone(m).lock_owned()), None))
        .collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (fut, guard) in queued.iter_mut().filter(|(_, g)| g.is_none()) {
            match fut.as_mut().poll(cx) {
                Poll::Ready(g) => *guard = Some(g),
                Poll::Pending => all = false,
            }
        }
        if all {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    queued.into_iter().filter_map(|(_, g)| g).collect()
}
