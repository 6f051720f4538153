//! A fair, asynchronous counting semaphore — the base of [`Mutex`](super::Mutex) and of the
//! bounded [`mpsc`](super::mpsc) channel.
//!
//! # Design
//!
//! All state (free permits, the closed flag and the waiter queue) lives behind one short
//! critical section (`crate::loom::sync::Mutex`). Waiters sit in a [`WaitQueue`]: a slab-backed
//! doubly linked list whose key the pending [`Acquire`] future keeps. We chose this over an
//! intrusive list inside pinned futures because it needs no `unsafe`, keeps the futures `Unpin`,
//! and every operation is still O(1) (amortised for slab growth); the cost is one short lock per
//! operation, which the critical sections here keep cheap.
//!
//! Fairness is strict FIFO: released permits are handed to the front waiter first, even when
//! it needs more than are available (it accumulates them), so a waiter for many permits blocks
//! later small requests. As a consequence free permits exist only while the queue is empty.
//!
//! Cancellation: dropping an [`Acquire`] removes its slot; any permits already assigned to it
//! (partially, or fully but not yet observed by a poll) are released again, which hands them to
//! the next waiters. Wakers are invoked after the lock is released.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

use super::wait_queue::WaitQueue;
use crate::loom::sync::Mutex as LockedState;

/// A counting semaphore performing asynchronous permit acquisition, with FIFO fairness.
pub struct Semaphore {
    state: LockedState<State>,
}

struct State {
    permits: usize,
    closed: bool,
    waiters: WaitQueue<Waiter>,
}

struct Waiter {
    needed: usize,
    assigned: usize,
    closed: bool,
    waker: Option<Waker>,
}

/// Error returned from [`Semaphore::acquire`] and friends: the semaphore has been closed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct AcquireError(());

/// Error returned from [`Semaphore::try_acquire`] and friends.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryAcquireError {
    /// The semaphore has been [closed](Semaphore::close).
    Closed,
    /// The semaphore has no available permits.
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}
impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}
impl std::error::Error for TryAcquireError {}

/// A permit from the semaphore; the permits are returned when it is dropped.
#[must_use]
#[clippy::has_significant_drop]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

/// An owned permit from the semaphore; the permits are returned when it is dropped.
#[must_use]
#[clippy::has_significant_drop]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl Semaphore {
    /// The maximum number of permits a semaphore can hold (`usize::MAX >> 3`, as in tokio).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` initial permits.
    ///
    /// # Panics
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits ({})",
            Self::MAX_PERMITS
        );
        Semaphore {
            state: LockedState::new(State {
                permits,
                closed: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Creates a semaphore in a `const` context (for statics).
    ///
    /// # Panics
    ///
    /// Panics (at compile time in a const context) if `permits` exceeds `MAX_PERMITS`.
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Self {
        assert!(permits <= Self::MAX_PERMITS);
        Semaphore {
            state: LockedState::new(State {
                permits,
                closed: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Returns the number of permits currently available to `try_acquire`.
    pub fn available_permits(&self) -> usize {
        self.state.lock().permits
    }

    /// Adds `n` permits, handing them to waiters first (in FIFO order).
    ///
    /// # Panics
    ///
    /// Panics if the total number of permits would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` currently available permits and returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = self.state.lock();
        let removed = n.min(state.permits);
        state.permits -= removed;
        removed
    }

    /// Acquires one permit, waiting in FIFO order. Fails only if the semaphore is closed.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_inner(1).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Acquires `n` permits, waiting in FIFO order. Fails only if the semaphore is closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_inner(n as usize).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes one permit if one is available right now.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_inner(1)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Takes `n` permits if they are available right now.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_inner(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Acquires one permit, blocking the current thread. Must not be called from async code.
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::park::block_on(self.acquire())
    }

    /// Acquires `n` permits, blocking the current thread. Must not be called from async code.
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::park::block_on(self.acquire_many(n))
    }

    /// Acquires one permit owned by an `Arc` of the semaphore.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_inner(1).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Acquires `n` permits owned by an `Arc` of the semaphore.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_inner(n as usize).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes one owned permit if one is available right now.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_inner(1)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Takes `n` owned permits if they are available right now.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_inner(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Acquires one owned permit, blocking the current thread.
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::park::block_on(self.acquire_owned())
    }

    /// Acquires `n` owned permits, blocking the current thread.
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::park::block_on(self.acquire_many_owned(n))
    }

    /// Closes the semaphore: pending and future acquisitions fail. Existing permits stay valid
    /// and can still be returned.
    pub fn close(&self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            state.closed = true;
            while let Some(key) = state.waiters.pop_front() {
                let waiter = state.waiters.get_mut(key);
                waiter.closed = true;
                let returned = std::mem::take(&mut waiter.assigned);
                if let Some(waker) = waiter.waker.take() {
                    wakers.push(waker);
                }
                state.permits += returned;
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Returns `true` once [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    // ----- crate-internal API (used by Mutex and mpsc) -----

    /// A future acquiring `n` permits; the caller owns them on `Ok` and must `release` them.
    pub(crate) fn acquire_inner(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            needed: n,
            key: None,
            done: false,
        }
    }

    /// Takes `n` permits without waiting; the caller must `release` them later.
    pub(crate) fn try_acquire_inner(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        if state.permits >= n {
            state.permits -= n;
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Returns `n` permits, waking waiters that become satisfied.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            release_locked(&mut state, n, &mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Hands `n` permits to the queue front first, then to the free pool.
fn release_locked(state: &mut State, mut n: usize, wakers: &mut Vec<Waker>) {
    while n > 0 {
        let Some(key) = state.waiters.front() else {
            break;
        };
        let waiter = state.waiters.get_mut(key);
        let take = n.min(waiter.needed - waiter.assigned);
        waiter.assigned += take;
        n -= take;
        if waiter.assigned == waiter.needed {
            if let Some(waker) = waiter.waker.take() {
                wakers.push(waker);
            }
            state.waiters.unlink(key);
        }
    }
    let total = state
        .permits
        .checked_add(n)
        .filter(|&t| t <= Semaphore::MAX_PERMITS);
    match total {
        Some(total) => state.permits = total,
        None => panic!(
            "number of added permits ({n}) would overflow MAX_PERMITS ({})",
            Semaphore::MAX_PERMITS
        ),
    }
}

/// Future of one acquisition of `needed` permits (see the module doc for cancellation).
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    needed: usize,
    key: Option<usize>,
    done: bool,
}

impl Acquire<'_> {
    /// Polls the acquisition without consulting the cooperative budget.
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        if self.done {
            // Polled again after completion: the permits were already handed out.
            return Poll::Ready(Err(AcquireError(())));
        }
        let mut state = self.sem.state.lock();
        match self.key {
            None => {
                if state.closed {
                    self.done = true;
                    return Poll::Ready(Err(AcquireError(())));
                }
                if self.needed == 0 || (state.waiters.is_empty() && state.permits >= self.needed) {
                    state.permits -= self.needed;
                    self.done = true;
                    return Poll::Ready(Ok(()));
                }
                // Free permits exist only while the queue is empty; they become ours.
                let assigned = std::mem::take(&mut state.permits);
                let key = state.waiters.push_back(Waiter {
                    needed: self.needed,
                    assigned,
                    closed: false,
                    waker: Some(cx.waker().clone()),
                });
                self.key = Some(key);
                Poll::Pending
            }
            Some(key) => {
                let waiter = state.waiters.get_mut(key);
                if waiter.assigned == waiter.needed {
                    state.waiters.remove(key);
                    self.key = None;
                    self.done = true;
                    return Poll::Ready(Ok(()));
                }
                if waiter.closed {
                    state.waiters.remove(key);
                    self.key = None;
                    self.done = true;
                    return Poll::Ready(Err(AcquireError(())));
                }
                match &mut waiter.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let this = self.get_mut();
        let res = ready!(this.poll_inner(cx));
        coop.made_progress();
        Poll::Ready(res)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = Vec::new();
        {
            let mut state = self.sem.state.lock();
            let waiter = state.waiters.remove(key);
            // Permits already handed to us (partly or fully) go to the next waiters.
            if waiter.assigned > 0 {
                release_locked(&mut state, waiter.assigned, &mut wakers);
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("closed", &state.closed)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Forgets the permits without returning them to the semaphore.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Merges the permits of `other` into this permit.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit; `None` if this permit holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let n = u32::try_from(n).ok()?;
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }

    /// The semaphore this permit belongs to.
    pub fn semaphore(&self) -> &Semaphore {
        self.sem
    }

    /// Number of permits held by this permit.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl OwnedSemaphorePermit {
    /// Forgets the permits without returning them to the semaphore.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Merges the permits of `other` into this permit.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit; `None` if this permit holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let n = u32::try_from(n).ok()?;
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }

    /// The semaphore this permit belongs to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Number of permits held by this permit.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn try_acquire_and_release() {
        let sem = Semaphore::new(2);
        let a = sem.try_acquire().unwrap();
        let b = sem.try_acquire().unwrap();
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        drop(a);
        assert_eq!(sem.available_permits(), 1);
        b.forget();
        assert_eq!(sem.available_permits(), 1);
        sem.close();
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert!(sem.is_closed());
    }

    #[test]
    fn acquire_waits_and_is_woken() {
        let sem = Semaphore::new(1);
        let p = sem.try_acquire().unwrap();
        let waker = CountingWaker::new();
        let mut fut = Box::pin(sem.acquire());
        assert!(poll_once(&mut fut, &waker).is_pending());
        drop(p);
        assert_eq!(waker.count(), 1);
        let permit = match poll_once(&mut fut, &waker) {
            Poll::Ready(Ok(p)) => p,
            _ => panic!("expected the permit"),
        };
        assert_eq!(permit.num_permits(), 1);
        assert_eq!(sem.available_permits(), 0);
        drop(permit);
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn fifo_large_request_blocks_small_ones() {
        let sem = Semaphore::new(1);
        let w1 = CountingWaker::new();
        let w2 = CountingWaker::new();
        let mut big = Box::pin(sem.acquire_many(3));
        let mut small = Box::pin(sem.acquire());
        assert!(poll_once(&mut big, &w1).is_pending());
        assert!(poll_once(&mut small, &w2).is_pending());
        // The single free permit went to the big waiter; try_acquire sees none.
        assert_eq!(sem.available_permits(), 0);
        assert!(sem.try_acquire().is_err());
        sem.add_permits(1);
        assert_eq!(w1.count() + w2.count(), 0);
        sem.add_permits(1);
        assert_eq!(w1.count(), 1);
        assert_eq!(w2.count(), 0);
        let p = match poll_once(&mut big, &w1) {
            Poll::Ready(Ok(p)) => p,
            _ => panic!(),
        };
        assert_eq!(p.num_permits(), 3);
        drop(p);
        assert_eq!(w2.count(), 1);
        assert!(poll_once(&mut small, &w2).is_ready());
    }

    #[test]
    fn cancelled_partial_waiter_passes_permits_on() {
        let sem = Semaphore::new(2);
        let w = CountingWaker::new();
        let mut big = Box::pin(sem.acquire_many(5));
        let mut small = Box::pin(sem.acquire_many(2));
        assert!(poll_once(&mut big, &w).is_pending());
        assert!(poll_once(&mut small, &w).is_pending());
        drop(big); // its 2 partial permits satisfy `small`
        assert_eq!(w.count(), 1);
        assert!(matches!(poll_once(&mut small, &w), Poll::Ready(Ok(_))));
    }

    #[test]
    fn cancelled_after_grant_passes_permits_on() {
        let sem = Semaphore::new(0);
        let w = CountingWaker::new();
        let mut a = Box::pin(sem.acquire());
        let mut b = Box::pin(sem.acquire());
        assert!(poll_once(&mut a, &w).is_pending());
        assert!(poll_once(&mut b, &w).is_pending());
        sem.add_permits(1); // granted to `a`
        drop(a); // never observed: goes to `b`
        assert!(matches!(poll_once(&mut b, &w), Poll::Ready(Ok(_))));
        drop(b);
        // The permit handed to `b` was returned when its guard dropped inside `matches!`.
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn dropped_waiters_leave_no_trace() {
        let sem = Semaphore::new(0);
        let w = CountingWaker::new();
        for _ in 0..10 {
            let mut f = Box::pin(sem.acquire());
            assert!(poll_once(&mut f, &w).is_pending());
        }
        assert_eq!(sem.state.lock().waiters.allocated(), 0);
        sem.add_permits(1);
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn close_wakes_waiters_with_error() {
        let sem = Arc::new(Semaphore::new(0));
        let w = CountingWaker::new();
        let mut f = Box::pin(sem.clone().acquire_owned());
        assert!(poll_once(&mut f, &w).is_pending());
        sem.close();
        assert_eq!(w.count(), 1);
        assert!(matches!(
            poll_once(&mut f, &w),
            Poll::Ready(Err(AcquireError(_)))
        ));
        assert!(block_on(sem.acquire()).is_err());
    }

    #[test]
    fn permits_merge_split_owned() {
        let sem = Arc::new(Semaphore::new(4));
        let mut a = sem.clone().try_acquire_many_owned(2).unwrap();
        let b = block_on(sem.clone().acquire_many_owned(2)).unwrap();
        a.merge(b);
        assert_eq!(a.num_permits(), 4);
        let c = a.split(3).unwrap();
        assert!(a.split(2).is_none());
        assert_eq!(c.num_permits(), 3);
        drop(c);
        assert_eq!(sem.available_permits(), 3);
        assert_eq!(sem.forget_permits(10), 3);
        drop(a);
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn threads_contend() {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let sem = sem.clone();
                let inside = inside.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _p = sem.blocking_acquire().unwrap();
                        let n = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        assert!(n < 2);
                        inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(sem.available_permits(), 2);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    #[test]
    fn acquire_release_across_threads() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let s2 = sem.clone();
            let th = thread::spawn(move || {
                let p = loom::future::block_on(s2.acquire()).unwrap();
                drop(p);
            });
            let p = loom::future::block_on(sem.acquire()).unwrap();
            drop(p);
            th.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    }

    #[test]
    fn cancel_racing_release() {
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(0));
            let s2 = sem.clone();
            // A waiter that is cancelled while the permit is being released.
            let th = thread::spawn(move || {
                let mut f = Box::pin(s2.acquire());
                let waker = crate::sync::test_util::noop_waker();
                let mut cx = Context::from_waker(&waker);
                // Ready or pending, the permit must come back: via the guard or the drop.
                let _ = f.as_mut().poll(&mut cx);
                drop(f);
            });
            sem.add_permits(1);
            th.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
            assert_eq!(sem.state.lock().waiters.len(), 0);
        });
    }
}
