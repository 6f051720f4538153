//! `Registration`: the link between one I/O object and the driver.
//!
//! It holds the source's `ScheduledIo` and the driver handle, and implements the readiness
//! protocol every I/O type uses: wait for readiness, try the non-blocking syscall, and on
//! `WouldBlock` clear exactly the readiness that was observed (tick-guarded) and wait again.
//! It also charges the task's cooperative budget for every readiness poll.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{ready, Context, Poll};

use crate::io::driver::{Direction, Handle, ReadyEvent, ScheduledIo};
use crate::io::Interest;
use std::sync::Arc;

/// One source registered with the I/O driver (see the module docs).
///
/// Dropping a `Registration` does not deregister the source (it does not own the source); the
/// owner calls [`Registration::deregister`] first. A registration dropped without that keeps
/// its driver state alive until the driver is dropped, which is safe, merely wasteful.
pub(crate) struct Registration {
    handle: Arc<Handle>,
    shared: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `io` with the driver behind `handle`.
    pub(crate) fn new_with_interest_and_handle(
        io: &mut impl mio::event::Source,
        interest: Interest,
        handle: Arc<Handle>,
    ) -> io::Result<Self> {
        let shared = handle.add_source(io, interest)?;
        Ok(Registration { handle, shared })
    }

    /// Removes `io` from the driver. Must be called with the same source before it is closed.
    pub(crate) fn deregister(&mut self, io: &mut impl mio::event::Source) -> io::Result<()> {
        self.handle.deregister_source(&self.shared, io)
    }

    /// Changes the readiness the driver is told about for `io` (the same source).
    #[cfg(unix)]
    pub(crate) fn reregister(
        &self,
        io: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<()> {
        self.handle.reregister_source(&self.shared, io, interest)
    }

    /// The driver handle this source is registered with.
    #[allow(dead_code)] // for I/O types that register further sources with the same driver
    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Polls for read readiness (reserved read slot: one task at a time).
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// Polls for write readiness (reserved write slot: one task at a time).
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// Polls readiness in `direction`, charging the cooperative budget.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let result = ready!(self.shared.poll_readiness(cx, direction));
        coop.made_progress();
        Poll::Ready(result)
    }

    /// Clears the readiness of `event` unless a newer event arrived since (tick guard).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.shared.clear_readiness(event);
    }

    /// Waits until the source is ready for `interest`. Any number of tasks may wait at once;
    /// each waiter lives inside this future, and dropping the future withdraws it.
    pub(crate) async fn readiness(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let mut fut = pin!(self.shared.readiness(interest));
        std::future::poll_fn(|cx| {
            let coop = ready!(crate::runtime::coop::poll_proceed(cx));
            let result = ready!(fut.as_mut().poll(cx));
            coop.made_progress();
            Poll::Ready(result)
        })
        .await
    }

    /// The readiness the source has now for `interest` (empty when not ready), with its tick.
    pub(crate) fn ready_event(&self, interest: Interest) -> io::Result<ReadyEvent> {
        self.shared.ready_event(interest)
    }

    /// Runs `f` once if the source looks ready for `interest`; otherwise (or if `f` reports
    /// `WouldBlock`, in which case the observed readiness is cleared) returns `WouldBlock`.
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.shared.ready_event(interest)?;
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event);
                Err(e)
            }
            result => result,
        }
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = self.readiness(interest).await?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return result,
            }
        }
    }

    /// `poll_read_ready` + `f`, retrying on `WouldBlock` (for `AsyncRead`-style methods).
    pub(crate) fn poll_read_io<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Read, f)
    }

    /// `poll_write_ready` + `f`, retrying on `WouldBlock` (for `AsyncWrite`-style methods).
    pub(crate) fn poll_write_io<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Write, f)
    }

    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, direction))?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return Poll::Ready(result),
            }
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("shared", &self.shared)
            .finish()
    }
}
