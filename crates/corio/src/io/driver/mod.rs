//! The I/O driver: the reactor that turns OS readiness events into task wake-ups.
//!
//! - [`Driver`] owns the `mio::Poll` and its event buffer. One thread at a time (the parked
//!   worker) calls [`Driver::turn`], which blocks in the OS queue and dispatches each event to
//!   the source's [`ScheduledIo`].
//! - [`Handle`] is shared by everything else: it registers sources, unparks a thread blocked in
//!   `turn` (through a `mio::Waker`) and shuts the driver down.
//! - [`Registration`] is what an I/O object holds: its `ScheduledIo` plus the handle.
//!
//! # Tokens, and why no event reaches freed memory
//!
//! A source's `mio::Token` is the address of its `ScheduledIo`, which lives in an `Arc`. The
//! handle's registration set holds one clone of every such `Arc`, so the memory behind a token
//! stays alive for as long as the OS might report events for it:
//!
//! 1. `Registration::deregister` first removes the source from the OS queue
//!    (`Registry::deregister`), then moves the `Arc` from the set's `live` map to its
//!    `released` list. If the OS deregistration fails, the `Arc` is kept in `live` until the
//!    handle is dropped: a leak of a few bytes instead of a dangling token.
//! 2. Only the driver drops `released` entries, at the *start* of a turn, before it polls.
//!    An entry found there was deregistered before that poll began, so this poll (and every
//!    later one) cannot return its token. Events from the *previous* poll were all dispatched
//!    before this point, in the previous turn, on this same thread (`turn` takes `&mut self`).
//! 3. An entry released while a poll is in progress stays in `released` until the next turn,
//!    so the events of the running poll for it still see live memory.
//!
//! The set also lets [`Handle::shutdown`] reach every registration to wake its waiters.

mod linked_list;
mod registration;
mod scheduled_io;

pub(crate) use registration::Registration;
pub(crate) use scheduled_io::{
    shutdown_error, Direction, ReadyEvent, RuntimeShutdown, ScheduledIo,
};

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::time::Duration;

use crate::io::{Interest, Ready};
use crate::loom::sync::Mutex;
// `std` Arc on purpose: the registration set and handle are not part of any loom model (they
// need mio), and the runtime shares the handle as a `std::sync::Arc`.
use std::sync::Arc;

/// Token of the handle's `mio::Waker`. `ScheduledIo` addresses are never 0, so it cannot clash.
const WAKE_TOKEN: mio::Token = mio::Token(0);

/// After this many released registrations the driver is unparked so it frees them soon even
/// when no I/O event would otherwise end its wait.
const RELEASE_UNPARK_THRESHOLD: usize = 16;

/// The reactor: owns the OS event queue. See the module docs.
pub(crate) struct Driver {
    poll: mio::Poll,
    events: mio::Events,
}

/// Shared handle to the reactor: registration, unpark and shutdown.
pub(crate) struct Handle {
    registry: mio::Registry,
    waker: mio::Waker,
    set: Mutex<RegistrationSet>,
}

/// Keeps every registered `ScheduledIo` alive; see "Tokens" in the module docs.
struct RegistrationSet {
    is_shutdown: bool,
    /// Registered sources, by token.
    live: HashMap<usize, Arc<ScheduledIo>>,
    /// Deregistered sources whose memory the driver frees at the start of its next turn.
    released: Vec<Arc<ScheduledIo>>,
}

impl Driver {
    /// Creates the OS queue with room for `nevents` events per turn, and its handle.
    pub(crate) fn new(nevents: usize) -> io::Result<(Driver, Handle)> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        let driver = Driver {
            poll,
            events: mio::Events::with_capacity(nevents.max(1)),
        };
        let handle = Handle {
            registry,
            waker,
            set: Mutex::new(RegistrationSet {
                is_shutdown: false,
                live: HashMap::new(),
                released: Vec::new(),
            }),
        };
        Ok((driver, handle))
    }

    /// Blocks in the OS queue until an event, `timeout`, or [`Handle::unpark`]; dispatches each
    /// event to its `ScheduledIo` (tick + 1, readiness |= event, wake waiters). Returns the
    /// number of I/O events dispatched. `Some(Duration::ZERO)` polls without blocking.
    ///
    /// An interrupted wait (`EINTR`) returns 0; the caller loops anyway. Other `poll` errors
    /// cannot happen with a valid queue and are also reported as 0 events rather than a panic.
    pub(crate) fn turn(&mut self, handle: &Handle, timeout: Option<Duration>) -> usize {
        // Step 2 of "Tokens": free what was deregistered before this poll starts. The vector is
        // taken out of the lock so `ScheduledIo` destructors run without it.
        let released = std::mem::take(&mut handle.set.lock().released);
        drop(released);

        if self.poll.poll(&mut self.events, timeout).is_err() {
            return 0;
        }

        let mut dispatched = 0;
        for event in self.events.iter() {
            let token = event.token();
            if token == WAKE_TOKEN {
                // Only there to end the wait; mio needs no acknowledgement.
                continue;
            }
            let ready = Ready::from_mio(event);
            // SAFETY: every token other than WAKE_TOKEN was produced by `Handle::add_source`
            // from `Arc::as_ptr` of a `ScheduledIo` whose `Arc` is in the registration set. By
            // the argument in the module docs ("Tokens") that `Arc` is still in `live` or
            // `released` now, so the pointer is valid for a shared borrow during this dispatch.
            let io = unsafe { &*(token.0 as *const ScheduledIo) };
            io.dispatch(ready);
            dispatched += 1;
        }
        dispatched
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

impl Handle {
    /// Wakes a thread blocked in [`Driver::turn`] (or makes its next `turn` return at once).
    pub(crate) fn unpark(&self) {
        // A failed wake means the eventfd/pipe is full or broken; in the first case a wake-up is
        // already pending, in the second there is nothing better to do than carry on.
        let _ = self.waker.wake();
    }

    /// Called by the runtime during shutdown: every registration is marked shut down and every
    /// waiter woken; later readiness polls and new registrations return an error
    /// (kind `Other`, "runtime shut down ...").
    pub(crate) fn shutdown(&self) {
        let all: Vec<Arc<ScheduledIo>> = {
            let mut set = self.set.lock();
            if set.is_shutdown {
                return;
            }
            set.is_shutdown = true;
            set.live
                .values()
                .chain(set.released.iter())
                .cloned()
                .collect()
        };
        // Wake outside the set lock: wakers may drop tasks, which may deregister sources.
        for io in all {
            io.shutdown();
        }
        self.unpark();
    }

    /// True once [`Handle::shutdown`] ran.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.set.lock().is_shutdown
    }

    /// Registers `source` with the OS queue and returns its new `ScheduledIo`.
    pub(crate) fn add_source(
        &self,
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        let io = Arc::new(ScheduledIo::new());
        let token = Arc::as_ptr(&io) as usize;
        {
            let mut set = self.set.lock();
            if set.is_shutdown {
                return Err(shutdown_error());
            }
            // Inserted before the OS registration, so the token's memory is owned by the set
            // before the OS can report anything for it.
            set.live.insert(token, io.clone());
        }
        if let Err(e) = self
            .registry
            .register(source, mio::Token(token), interest.to_mio())
        {
            // Never registered with the OS: no event can carry this token, drop it right away.
            self.set.lock().live.remove(&token);
            return Err(e);
        }
        Ok(io)
    }

    /// Changes the readiness `source` (registered as `io`) is reported for; same token.
    #[cfg(unix)]
    pub(crate) fn reregister_source(
        &self,
        io: &Arc<ScheduledIo>,
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<()> {
        if self.set.lock().is_shutdown {
            return Err(shutdown_error());
        }
        let token = Arc::as_ptr(io) as usize;
        self.registry
            .reregister(source, mio::Token(token), interest.to_mio())
    }

    /// Removes `source` from the OS queue and hands its `ScheduledIo` to the driver for
    /// release (step 1 of "Tokens" in the module docs).
    pub(crate) fn deregister_source(
        &self,
        io: &Arc<ScheduledIo>,
        source: &mut impl mio::event::Source,
    ) -> io::Result<()> {
        match self.registry.deregister(source) {
            Ok(()) => {
                self.release(io);
                Ok(())
            }
            // Any failure, ENOENT included, leaves the memory alive (in `live`) for as long as
            // the handle lives. ENOENT usually means the fd was closed before deregistration;
            // a dup of it may still sit in the epoll set and deliver this token, so releasing
            // here could let an event reach freed memory. A small leak beats that.
            Err(e) => Err(e),
        }
    }

    fn release(&self, io: &Arc<ScheduledIo>) {
        let token = Arc::as_ptr(io) as usize;
        let unpark = {
            let mut set = self.set.lock();
            match set.live.remove(&token) {
                Some(entry) => {
                    set.released.push(entry);
                    set.released.len() >= RELEASE_UNPARK_THRESHOLD
                }
                None => false,
            }
        };
        if unpark {
            self.unpark();
        }
    }

    /// Number of sources currently registered (for metrics and tests).
    #[allow(dead_code)] // for runtime metrics; used by tests
    pub(crate) fn num_registered(&self) -> usize {
        self.set.lock().live.len()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("is_shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

/// A minimal single-threaded executor for this module's tests: polls one future and turns the
/// driver by hand whenever the future is pending and nothing woke it.
#[cfg(all(test, not(loom)))]
pub(crate) mod test_util {
    use super::{Driver, Handle};
    use std::future::Future;
    use std::pin::{pin, Pin};
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::task::{Context, Poll, Wake, Waker};

    struct Woken(AtomicBool);

    impl Wake for Woken {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, SeqCst);
        }
    }

    /// Runs `fut` to completion on this thread, driving `driver` in between polls.
    pub(crate) fn block_on<F: Future>(driver: &mut Driver, handle: &Handle, fut: F) -> F::Output {
        let woken = std::sync::Arc::new(Woken(AtomicBool::new(false)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            while !woken.0.swap(false, SeqCst) {
                driver.turn(handle, None);
            }
        }
    }

    /// Polls every future until all are done; outputs in input order.
    pub(crate) async fn join_all<T>(
        mut futs: Vec<Pin<Box<dyn Future<Output = T> + '_>>>,
    ) -> Vec<T> {
        let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (fut, slot) in futs.iter_mut().zip(out.iter_mut()) {
                if slot.is_none() {
                    match fut.as_mut().poll(cx) {
                        Poll::Ready(v) => *slot = Some(v),
                        Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        out.into_iter().flatten().collect()
    }

    /// Returns `Pending` once (waking itself), so other futures of a join get polled first.
    pub(crate) async fn yield_now() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }
}

#[cfg(all(test, not(loom), unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::task::{Context, Poll, Wake, Waker};

    struct Flag(std::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn unpark_ends_a_blocking_turn() {
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = std::sync::Arc::new(handle);
        let h = handle.clone();
        let t = std::thread::spawn(move || h.unpark());
        // Blocks until the unpark arrives; the wake-up itself is not an I/O event.
        assert_eq!(driver.turn(&handle, None), 0);
        t.join().unwrap();
    }

    #[test]
    fn event_reaches_waiter_and_shutdown_errors() {
        let (mut driver, handle) = Driver::new(64).unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut a = mio::net::UnixStream::from_std(a);
        let io = handle.add_source(&mut a, Interest::READABLE).unwrap();
        assert_eq!(handle.num_registered(), 1);

        let flag = std::sync::Arc::new(Flag(Default::default()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
        b.write_all(b"x").unwrap();
        while !flag.0.load(std::sync::atomic::Ordering::SeqCst) {
            driver.turn(&handle, None);
        }
        let ev = match io.poll_readiness(&mut cx, Direction::Read) {
            Poll::Ready(Ok(ev)) => ev,
            other => panic!("{:?}", other),
        };
        let mut buf = [0u8; 4];
        assert_eq!(a.read(&mut buf).unwrap(), 1);
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        io.clear_readiness(ev);
        assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());

        handle.shutdown();
        assert!(matches!(
            io.poll_readiness(&mut cx, Direction::Read),
            Poll::Ready(Err(_))
        ));
        let mut c = mio::net::UnixStream::pair().unwrap().0;
        assert!(handle.add_source(&mut c, Interest::READABLE).is_err());

        handle.deregister_source(&io, &mut a).unwrap();
        assert_eq!(handle.num_registered(), 0);
        assert_eq!(
            std::sync::Arc::strong_count(&io),
            2,
            "released, kept until next turn"
        );
        driver.turn(&handle, Some(Duration::ZERO));
        assert_eq!(std::sync::Arc::strong_count(&io), 1, "freed by the turn");
    }
}
