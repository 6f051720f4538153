//! `ScheduledIo`: the readiness state of one registered I/O source and the tasks waiting on it.
//!
//! # The state word
//!
//! Everything the hot path needs is packed into one `AtomicUsize`, so checking readiness is a
//! single load and the driver's update is a single compare-exchange:
//!
//! ```text
//! bit  24      : SHUTDOWN   (set once by `Handle::shutdown`, never cleared)
//! bits 16..=23 : TICK       (u8, +1 on every event the driver dispatches to this source)
//! bits  0..=15 : READINESS  (`Ready` bits)
//! ```
//!
//! A task that sees readiness gets a [`ReadyEvent`] `{ ready, tick }`. When its syscall then
//! returns `WouldBlock`, it hands the event back to [`ScheduledIo::clear_readiness`], which
//! clears the bits only if the tick is still the same. If the driver dispatched a new event in
//! between (another thread observed the socket ready again), the tick differs and the readiness
//! survives, so the task retries instead of sleeping on an edge-triggered event that will never
//! come again.
//!
//! # Waiters
//!
//! Tasks wait in two ways:
//! - [`ScheduledIo::readiness`] returns a future whose waiter node (waker + interest + a
//!   `notified` flag) lives *inside the future*. While pending, the node is linked into an
//!   intrusive list guarded by the `waiters` mutex. Any number of tasks can wait, nothing is
//!   allocated, and dropping the future unlinks the node.
//! - [`ScheduledIo::poll_readiness`] serves `AsyncRead`/`AsyncWrite`-style `poll_*` methods,
//!   which have no future to hold a node; they use two reserved waker slots (read, write).
//!
//! On an event the driver wakes every waiter whose interest matches plus the matching reserved
//! slot. Wakers are collected under the lock into a fixed-size batch and woken with the lock
//! released (a waker may re-enter this `ScheduledIo`).
//!
//! # Why no wake-up is lost
//!
//! The driver updates the state word *before* it takes the waiter lock; a waiter checks the
//! word, and if it is not ready, takes the lock, checks the word *again* and only then links
//! itself. So either the waiter's second check sees the new readiness, or the driver's scan
//! (which acquires the lock after the waiter released it) finds the linked node. The loom
//! models at the bottom check this together with the tick guard and concurrent drops.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll, Waker};

use crate::io::driver::linked_list::{Linked, LinkedList, Pointers};
use crate::io::{Interest, Ready};
use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::loom::sync::Mutex;

const READINESS_MASK: usize = 0xFFFF;
const TICK_SHIFT: u32 = 16;
const TICK_MASK: usize = 0xFF << TICK_SHIFT;
const SHUTDOWN: usize = 1 << 24;

/// How many wakers are collected before the waiter lock is released to wake them.
const WAKE_BATCH: usize = 32;

/// Readiness observed by a task, to be handed back to [`ScheduledIo::clear_readiness`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    /// The readiness that was observed (already narrowed to what the caller asked for).
    pub(crate) ready: Ready,
    /// The source's tick at the time of the observation.
    pub(crate) tick: u8,
}

/// Which reserved waker slot a `poll_*_ready` call uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `poll_read_ready`: woken by READABLE or READ_CLOSED.
    Read,
    /// `poll_write_ready`: woken by WRITABLE or WRITE_CLOSED.
    Write,
}

impl Direction {
    fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

/// The error every readiness poll returns once the runtime has shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other(RuntimeShutdown)
}

/// The payload of [`shutdown_error`]: a type of its own, so that callers can tell "the runtime
/// is gone" from any other error of kind `Other` ([`crate::io::is_runtime_shutdown`]).
#[derive(Debug)]
pub(crate) struct RuntimeShutdown;

impl std::fmt::Display for RuntimeShutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("runtime shut down: the I/O driver of this resource is gone")
    }
}

impl std::error::Error for RuntimeShutdown {}

fn unpack_ready(word: usize) -> Ready {
    Ready::from_usize(word & READINESS_MASK)
}

fn unpack_tick(word: usize) -> u8 {
    ((word & TICK_MASK) >> TICK_SHIFT) as u8
}

/// What a poll of `interest` returns for state `word`: `None` while the source is not ready.
fn event_for(word: usize, interest: Interest) -> Option<io::Result<ReadyEvent>> {
    if word & SHUTDOWN != 0 {
        return Some(Err(shutdown_error()));
    }
    let ready = unpack_ready(word).intersection(interest);
    if ready.is_empty() {
        None
    } else {
        Some(Ok(ReadyEvent {
            ready,
            tick: unpack_tick(word),
        }))
    }
}

/// The readiness state of one registered source (see the module docs).
pub(crate) struct ScheduledIo {
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

struct Waiters {
    /// Pending `Readiness` futures, newest at the front.
    list: LinkedList<Waiter>,
    /// Reserved slot of `poll_readiness(Direction::Read)`.
    reader: Option<Waker>,
    /// Reserved slot of `poll_readiness(Direction::Write)`.
    writer: Option<Waker>,
}

// SAFETY: `Waiters` is only reachable through the `ScheduledIo::waiters` mutex. The raw node
// pointers in `list` point into pinned `Readiness` futures, whose node fields are only touched
// while holding that same mutex (or after the node was unlinked under it), so moving the list
// between threads cannot create unsynchronised access. `Waker` is `Send`.
unsafe impl Send for Waiters {}

/// The intrusive node stored inside a `Readiness` future.
struct Waiter {
    pointers: Pointers<Waiter>,
    /// Set while linked; taken by the driver when it notifies the node.
    waker: Option<Waker>,
    interest: Interest,
    /// Set by the driver (under the lock) when it unlinks the node to wake it, so the next poll
    /// of the future returns `Ready` without waiting again.
    notified: bool,
}

// SAFETY: `pointers` returns the address of the `pointers` field, computed with `addr_of_mut!`
// so no reference to the node is created.
unsafe impl Linked for Waiter {
    unsafe fn pointers(node: NonNull<Self>) -> NonNull<Pointers<Self>> {
        // SAFETY: `node` is live (trait contract), so projecting to its field stays in bounds,
        // and a field of a non-null pointer is non-null.
        unsafe { NonNull::new_unchecked(ptr::addr_of_mut!((*node.as_ptr()).pointers)) }
    }
}

/// A fixed-size stack batch of wakers, woken with no lock held.
struct WakeBatch {
    wakers: [Option<Waker>; WAKE_BATCH],
    len: usize,
}

impl WakeBatch {
    fn new() -> Self {
        WakeBatch {
            wakers: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.len == WAKE_BATCH
    }

    fn push(&mut self, waker: Waker) {
        debug_assert!(!self.is_full());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

impl ScheduledIo {
    /// A source with no readiness, tick 0, and no waiters.
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters {
                list: LinkedList::new(),
                reader: None,
                writer: None,
            }),
        }
    }

    /// Called by the driver for every OS event of this source: advances the tick, ORs `ready`
    /// into the readiness, and wakes every waiter the new readiness satisfies.
    pub(crate) fn dispatch(&self, ready: Ready) {
        let mut curr = self.state.load(Acquire);
        loop {
            let tick = unpack_tick(curr).wrapping_add(1);
            let next = (curr & !(TICK_MASK | READINESS_MASK))
                | ((tick as usize) << TICK_SHIFT)
                | (unpack_ready(curr) | ready).as_usize();
            match self.state.compare_exchange(curr, next, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => curr = actual,
            }
        }
        self.wake(ready);
    }

    /// Clears the readiness of `event`, but only if no event was dispatched since it was
    /// observed (same tick). Closed states are final and are never cleared.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = (event.ready - Ready::ALL_CLOSED).as_usize();
        let mut curr = self.state.load(Acquire);
        loop {
            if unpack_tick(curr) != event.tick {
                // A newer event arrived: the readiness may be real again, keep it.
                return;
            }
            let next = curr & !clear;
            if next == curr {
                return;
            }
            match self.state.compare_exchange(curr, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => curr = actual,
            }
        }
    }

    /// Marks the source shut down and wakes every waiter; their polls then return an error.
    pub(crate) fn shutdown(&self) {
        self.state.fetch_or(SHUTDOWN, AcqRel);
        // Every interest intersects `Ready::ALL`, so this wakes every waiter and both slots.
        self.wake(Ready::ALL);
    }

    /// True once [`ScheduledIo::shutdown`] ran.
    #[allow(dead_code)] // for I/O types that want to fail fast without polling
    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.load(Acquire) & SHUTDOWN != 0
    }

    /// The current readiness for `interest`, possibly empty, without registering interest.
    pub(crate) fn ready_event(&self, interest: Interest) -> io::Result<ReadyEvent> {
        let word = self.state.load(Acquire);
        if word & SHUTDOWN != 0 {
            return Err(shutdown_error());
        }
        Ok(ReadyEvent {
            ready: unpack_ready(word).intersection(interest),
            tick: unpack_tick(word),
        })
    }

    /// Polls readiness in `direction`, storing the waker in that direction's reserved slot when
    /// not ready. Only one task per direction can wait this way (the last one to poll wins).
    pub(crate) fn poll_readiness(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let interest = direction.interest();
        if let Some(result) = event_for(self.state.load(Acquire), interest) {
            return Poll::Ready(result);
        }
        let mut waiters = self.waiters.lock();
        let slot = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(existing) if existing.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: an event dispatched after the first load either is visible
        // now, or its `wake` runs after we release the lock and finds the waker in the slot.
        match event_for(self.state.load(Acquire), interest) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// A future that resolves once the source is ready for `interest` (or errors after
    /// shutdown). Any number of these may wait at once.
    pub(crate) fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness {
            scheduled_io: self,
            state: State::Init,
            waiter: std::cell::UnsafeCell::new(Waiter {
                pointers: Pointers::new(),
                waker: None,
                interest,
                notified: false,
            }),
        }
    }

    /// Wakes the reserved slots and list waiters that `ready` satisfies, in batches, with the
    /// waiter lock released around each batch of `waker.wake()` calls.
    fn wake(&self, ready: Ready) {
        let mut batch = WakeBatch::new();
        let mut waiters = self.waiters.lock();

        if !ready.intersection(Interest::READABLE).is_empty() {
            if let Some(waker) = waiters.reader.take() {
                batch.push(waker);
            }
        }
        if !ready.intersection(Interest::WRITABLE).is_empty() {
            if let Some(waker) = waiters.writer.take() {
                batch.push(waker);
            }
        }

        'scan: loop {
            // Walk from the oldest node to the newest. Notified nodes are unlinked as we go, so
            // restarting the walk after a full batch only revisits nodes that did not match.
            let mut cursor = waiters.list.back();
            while let Some(node) = cursor {
                if batch.is_full() {
                    drop(waiters);
                    batch.wake_all();
                    waiters = self.waiters.lock();
                    continue 'scan;
                }
                // SAFETY: `node` is linked in `waiters.list`, so its future is pinned and alive
                // (a future unlinks itself under this lock before it is freed), and we hold the
                // lock, so nobody else touches the node.
                unsafe {
                    cursor = waiters.list.prev_of(node);
                    let interest = (*node.as_ptr()).interest;
                    if ready.intersection(interest).is_empty() {
                        continue;
                    }
                    waiters.list.remove(node);
                    let waiter = &mut *node.as_ptr();
                    waiter.notified = true;
                    if let Some(waker) = waiter.waker.take() {
                        batch.push(waker);
                    }
                }
            }
            break;
        }

        drop(waiters);
        batch.wake_all();
    }
}

impl Default for ScheduledIo {
    fn default() -> Self {
        ScheduledIo::new()
    }
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.state.load(Acquire);
        f.debug_struct("ScheduledIo")
            .field("ready", &unpack_ready(word))
            .field("tick", &unpack_tick(word))
            .field("shutdown", &(word & SHUTDOWN != 0))
            .finish()
    }
}

impl Drop for ScheduledIo {
    fn drop(&mut self) {
        // Every `Readiness` borrows the `ScheduledIo`, so none can still be linked here.
        debug_assert!(self.waiters.lock().list.is_empty());
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not polled yet, or polled and found ready without linking.
    Init,
    /// The node is (or was, until the driver notified it) linked in the waiter list.
    Waiting,
    /// Notified by the driver: report the current readiness without waiting again.
    Done,
}

/// Future returned by [`ScheduledIo::readiness`]; holds the intrusive waiter node.
pub(crate) struct Readiness<'a> {
    scheduled_io: &'a ScheduledIo,
    state: State,
    /// The node. It is `!Unpin` (via `Pointers`' `PhantomPinned`), so once the future has been
    /// pinned and polled its address is stable until `drop`, which unlinks it.
    waiter: std::cell::UnsafeCell<Waiter>,
}

// SAFETY: the node inside `waiter` is shared with the driver only through the `ScheduledIo`
// waiter mutex; every access from this future to a linked node also takes that mutex, and the
// other fields are plain data. So the future can move between threads (`Send`) and `&Readiness`
// exposes nothing (`Sync`: no `&self` method touches the node).
unsafe impl Send for Readiness<'_> {}
// SAFETY: see above; `Readiness` has no methods taking `&self`.
unsafe impl Sync for Readiness<'_> {}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of `this`; the node stays where it is (structurally
        // pinned) for the rest of the future's life.
        let this = unsafe { self.get_unchecked_mut() };
        let io = this.scheduled_io;
        loop {
            match this.state {
                State::Init => {
                    // SAFETY: in `Init` the node is not linked, so this future has exclusive
                    // access to it.
                    let interest = unsafe { (*this.waiter.get()).interest };
                    if let Some(result) = event_for(io.state.load(Acquire), interest) {
                        return Poll::Ready(result);
                    }
                    let mut waiters = io.waiters.lock();
                    // Re-check under the lock (see "Why no wake-up is lost" above).
                    if let Some(result) = event_for(io.state.load(Acquire), interest) {
                        return Poll::Ready(result);
                    }
                    // SAFETY: the node is not linked yet and we hold the waiter lock. The
                    // future is pinned, so the node's address stays valid until `drop`, which
                    // unlinks it under the lock (push_front's contract).
                    unsafe {
                        (*this.waiter.get()).waker = Some(cx.waker().clone());
                        waiters
                            .list
                            .push_front(NonNull::new_unchecked(this.waiter.get()));
                    }
                    this.state = State::Waiting;
                    return Poll::Pending;
                }
                State::Waiting => {
                    let waiters = io.waiters.lock();
                    // SAFETY: we hold the waiter lock, the only other party touching the node.
                    let waiter = unsafe { &mut *this.waiter.get() };
                    if waiter.notified {
                        drop(waiters);
                        this.state = State::Done;
                        continue;
                    }
                    match &waiter.waker {
                        Some(waker) if waker.will_wake(cx.waker()) => {}
                        _ => waiter.waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                State::Done => {
                    // SAFETY: the driver unlinked the node before setting `notified`, so it is
                    // exclusively ours again.
                    let interest = unsafe { (*this.waiter.get()).interest };
                    let word = io.state.load(Acquire);
                    if word & SHUTDOWN != 0 {
                        return Poll::Ready(Err(shutdown_error()));
                    }
                    // The readiness may have been cleared again by another task since we were
                    // notified; an empty `ready` is allowed: the caller tries its operation,
                    // gets `WouldBlock`, clears with this tick (a no-op) and waits again.
                    return Poll::Ready(Ok(ReadyEvent {
                        ready: unpack_ready(word).intersection(interest),
                        tick: unpack_tick(word),
                    }));
                }
            }
        }
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if self.state == State::Waiting {
            let mut waiters = self.scheduled_io.waiters.lock();
            // SAFETY: the node is alive (we are in its owner's `drop`) and is either still
            // linked in this list or was unlinked by the driver under this lock; `remove`
            // handles both. After this the list holds no pointer to the node.
            unsafe {
                waiters
                    .list
                    .remove(NonNull::new_unchecked(self.waiter.get()));
            }
        }
    }
}

impl fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("state", &self.state)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize as StdAtomic, Ordering::SeqCst};
    use std::sync::Arc as StdArc;
    use std::task::Wake;

    struct CountingWaker(StdAtomic);

    impl Wake for CountingWaker {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting() -> (StdArc<CountingWaker>, Waker) {
        let counter = StdArc::new(CountingWaker(StdAtomic::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn poll_once<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn tick_guard_on_clear_readiness() {
        let io = ScheduledIo::new();
        io.dispatch(Ready::READABLE);
        let stale = io.ready_event(Interest::READABLE).unwrap();
        assert_eq!(stale.ready, Ready::READABLE);
        // A new event arrives between observation and the WouldBlock of the syscall.
        io.dispatch(Ready::READABLE);
        io.clear_readiness(stale);
        let now = io.ready_event(Interest::READABLE).unwrap();
        assert_eq!(now.ready, Ready::READABLE, "stale tick must not clear");
        assert_ne!(now.tick, stale.tick);
        io.clear_readiness(now);
        assert!(io.ready_event(Interest::READABLE).unwrap().ready.is_empty());
    }

    #[test]
    fn clear_keeps_closed_and_other_bits() {
        let io = ScheduledIo::new();
        io.dispatch(Ready::READABLE | Ready::WRITABLE | Ready::READ_CLOSED);
        let ev = io.ready_event(Interest::READABLE).unwrap();
        io.clear_readiness(ev);
        let all = io
            .ready_event(Interest::READABLE | Interest::WRITABLE)
            .unwrap()
            .ready;
        assert_eq!(all, Ready::WRITABLE | Ready::READ_CLOSED);
    }

    #[test]
    fn tick_wraps() {
        let io = ScheduledIo::new();
        for _ in 0..300 {
            io.dispatch(Ready::WRITABLE);
        }
        assert_eq!(
            io.ready_event(Interest::WRITABLE).unwrap().tick,
            (300 % 256) as u8
        );
    }

    #[test]
    fn many_waiters_woken() {
        let io = ScheduledIo::new();
        let (counter, waker) = counting();
        // More than one batch, plus writers that must stay asleep.
        let mut readers: Vec<_> = (0..100)
            .map(|_| Box::pin(io.readiness(Interest::READABLE)))
            .collect();
        let mut writers: Vec<_> = (0..5)
            .map(|_| Box::pin(io.readiness(Interest::WRITABLE)))
            .collect();
        for f in readers.iter_mut().chain(writers.iter_mut()) {
            assert!(poll_once(f.as_mut(), &waker).is_pending());
        }
        io.dispatch(Ready::READABLE);
        assert_eq!(counter.0.load(SeqCst), 100);
        for f in readers.iter_mut() {
            match poll_once(f.as_mut(), &waker) {
                Poll::Ready(Ok(ev)) => assert!(ev.ready.is_readable()),
                other => panic!("reader not ready: {:?}", other),
            }
        }
        for f in writers.iter_mut() {
            assert!(poll_once(f.as_mut(), &waker).is_pending());
        }
        io.dispatch(Ready::WRITABLE);
        assert_eq!(counter.0.load(SeqCst), 105);
        drop(readers);
        drop(writers);
        assert!(io.waiters.lock().list.is_empty());
    }

    #[test]
    fn notified_waiter_is_ready_even_if_cleared() {
        let io = ScheduledIo::new();
        let (_c, waker) = counting();
        let mut fut = Box::pin(io.readiness(Interest::READABLE));
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        io.dispatch(Ready::READABLE);
        // Another task consumes the readiness before this one runs.
        let ev = io.ready_event(Interest::READABLE).unwrap();
        io.clear_readiness(ev);
        match poll_once(fut.as_mut(), &waker) {
            Poll::Ready(Ok(ev)) => assert!(ev.ready.is_empty()),
            other => panic!("expected Ready(empty), got {:?}", other),
        }
    }

    #[test]
    fn dropping_a_waiter_unlinks() {
        let io = ScheduledIo::new();
        let (counter, waker) = counting();
        let mut a = Box::pin(io.readiness(Interest::READABLE));
        let mut b = Box::pin(io.readiness(Interest::READABLE));
        let mut c = Box::pin(io.readiness(Interest::READABLE));
        for f in [&mut a, &mut b, &mut c] {
            assert!(poll_once(f.as_mut(), &waker).is_pending());
        }
        drop(b);
        io.dispatch(Ready::READABLE);
        assert_eq!(counter.0.load(SeqCst), 2);
        assert!(poll_once(a.as_mut(), &waker).is_ready());
        assert!(poll_once(c.as_mut(), &waker).is_ready());
        drop((a, c));
        assert!(io.waiters.lock().list.is_empty());
        // Dropping a never-polled and a completed future is fine too.
        drop(io.readiness(Interest::READABLE));
    }

    #[test]
    fn reserved_slots() {
        let io = ScheduledIo::new();
        let (rc, rw) = counting();
        let (wc, ww) = counting();
        assert!(io
            .poll_readiness(&mut Context::from_waker(&rw), Direction::Read)
            .is_pending());
        assert!(io
            .poll_readiness(&mut Context::from_waker(&ww), Direction::Write)
            .is_pending());
        io.dispatch(Ready::WRITABLE);
        assert_eq!((rc.0.load(SeqCst), wc.0.load(SeqCst)), (0, 1));
        match io.poll_readiness(&mut Context::from_waker(&ww), Direction::Write) {
            Poll::Ready(Ok(ev)) => assert_eq!(ev.ready, Ready::WRITABLE),
            other => panic!("{:?}", other),
        }
        io.dispatch(Ready::READ_CLOSED);
        assert_eq!(rc.0.load(SeqCst), 1);
    }

    #[test]
    fn shutdown_wakes_with_error() {
        let io = ScheduledIo::new();
        let (counter, waker) = counting();
        let mut fut = Box::pin(io.readiness(Interest::READABLE));
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
        assert!(io
            .poll_readiness(&mut Context::from_waker(&waker), Direction::Write)
            .is_pending());
        io.shutdown();
        assert_eq!(counter.0.load(SeqCst), 2);
        let err = match poll_once(fut.as_mut(), &waker) {
            Poll::Ready(Err(e)) => e,
            other => panic!("{:?}", other),
        };
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("shut down"));
        assert!(matches!(
            io.poll_readiness(&mut Context::from_waker(&waker), Direction::Read),
            Poll::Ready(Err(_))
        ));
        assert!(io.ready_event(Interest::READABLE).is_err());
        // New waiters after shutdown fail at once.
        let mut late = Box::pin(io.readiness(Interest::WRITABLE));
        assert!(matches!(
            poll_once(late.as_mut(), &waker),
            Poll::Ready(Err(_))
        ));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::atomic::AtomicBool;
    use crate::loom::sync::atomic::Ordering::SeqCst;
    use crate::loom::sync::Arc;
    use crate::loom::thread;
    use std::future::poll_fn;

    struct NoopWaker;

    impl std::task::Wake for NoopWaker {
        fn wake(self: std::sync::Arc<Self>) {}
    }

    /// A waiter registers while the driver dispatches: it must never sleep through the event.
    #[test]
    fn waiter_registers_while_driver_dispatches() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let driver = {
                let io = io.clone();
                thread::spawn(move || io.dispatch(Ready::READABLE))
            };
            let ev = loom::future::block_on(io.readiness(Interest::READABLE)).unwrap();
            assert!(ev.ready.is_readable());
            driver.join().unwrap();
        });
    }

    /// The reserved slot path has the same guarantee.
    #[test]
    fn reserved_slot_while_driver_dispatches() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let driver = {
                let io = io.clone();
                thread::spawn(move || io.dispatch(Ready::WRITABLE))
            };
            let ev = loom::future::block_on(poll_fn(|cx| io.poll_readiness(cx, Direction::Write)))
                .unwrap();
            assert!(ev.ready.is_writable());
            driver.join().unwrap();
        });
    }

    /// A task clears a stale event while the driver dispatches a new one: the task's retry loop
    /// (the `async_io` protocol) must still see the data and finish.
    #[test]
    fn clear_readiness_racing_new_event() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            // A spurious event the task will find no data for.
            io.dispatch(Ready::READABLE);
            let data = Arc::new(AtomicBool::new(false));
            let driver = {
                let (io, data) = (io.clone(), data.clone());
                thread::spawn(move || {
                    data.store(true, SeqCst);
                    io.dispatch(Ready::READABLE);
                })
            };
            loom::future::block_on(async {
                loop {
                    let ev = io.readiness(Interest::READABLE).await.unwrap();
                    // "The syscall": consume the datagram if there is one.
                    if data.compare_exchange(true, false, SeqCst, SeqCst).is_ok() {
                        break;
                    }
                    // WouldBlock: clear with the observed tick.
                    io.clear_readiness(ev);
                }
            });
            driver.join().unwrap();
        });
    }

    /// A waiting future is dropped while the driver is waking it, and another task waits too.
    #[test]
    fn future_dropped_while_being_woken() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let dropper = {
                let io = io.clone();
                thread::spawn(move || {
                    let waker = Waker::from(std::sync::Arc::new(NoopWaker));
                    let mut fut = Box::pin(io.readiness(Interest::READABLE));
                    let _ = fut.as_mut().poll(&mut Context::from_waker(&waker));
                    drop(fut);
                })
            };
            let waiter = {
                let io = io.clone();
                thread::spawn(move || {
                    loom::future::block_on(io.readiness(Interest::READABLE)).unwrap();
                })
            };
            io.dispatch(Ready::READABLE);
            dropper.join().unwrap();
            waiter.join().unwrap();
            assert!(io.waiters.lock().list.is_empty());
        });
    }

    /// Shutdown racing a waiter: the waiter gets the error instead of hanging.
    #[test]
    fn shutdown_wakes_waiter() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let th = {
                let io = io.clone();
                thread::spawn(move || io.shutdown())
            };
            let res = loom::future::block_on(io.readiness(Interest::WRITABLE));
            assert!(res.is_err());
            th.join().unwrap();
        });
    }
}
