//! `Notify`: wake one task or all tasks without sending data.
//!
//! State is a stored permit (set by `notify_one` when nobody waits) and a FIFO [`WaitQueue`]
//! of waiting [`Notified`] futures, both behind one lock; a `notify_waiters` generation counter
//! is also kept in an atomic so a `Notified` can capture it when it is *created* (tokio's
//! guarantee: a future created before `notify_waiters` completes, even if not yet polled).
//!
//! A waiter woken by `notify_one` is unlinked and marked in its slot; if its future is dropped
//! before observing the mark, `Drop` forwards the notification to the next waiter (or stores the
//! permit), so a cancelled `notified()` can never swallow a wake-up.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::wait_queue::WaitQueue;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex as LockedState;

/// Notifies a single task or all waiting tasks of an event.
///
/// `notify_one` stores a single permit when no task is waiting, so the next `notified().await`
/// completes immediately; `notify_waiters` wakes every current waiter and stores nothing.
pub struct Notify {
    /// Number of `notify_waiters` calls; only incremented while `state` is locked.
    generation: AtomicUsize,
    state: LockedState<State>,
}

struct State {
    permit: bool,
    waiters: WaitQueue<Waiter>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    One,
    All,
}

struct Waiter {
    waker: Option<Waker>,
    notified: Option<Kind>,
}

/// Future returned by [`Notify::notified`]; completes when notified.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: usize,
    state: NotifiedState,
}

#[derive(Debug, Clone, Copy)]
enum NotifiedState {
    Init,
    Waiting(usize),
    Done,
}

impl Notify {
    /// Creates a `Notify` without a stored permit.
    pub fn new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: LockedState::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Creates a `Notify` in a `const` context (for statics).
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify {
            generation: AtomicUsize::new(0),
            state: LockedState::new(State {
                permit: false,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Returns a future that completes on the next notification.
    ///
    /// The future receives `notify_waiters` calls made after this method returns, even before it
    /// is first polled; it joins the `notify_one` queue when first polled (or
    /// [`enable`](Notified::enable)d).
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.generation.load(SeqCst),
            state: NotifiedState::Init,
        }
    }

    /// Number of allocated waiter slots (tests check that cancelled waiters leave none).
    #[cfg(test)]
    pub(crate) fn waiter_slots(&self) -> usize {
        self.state.lock().waiters.allocated()
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits (at most one is stored).
    pub fn notify_one(&self) {
        self.notify_with(WaitQueue::front);
    }

    /// Wakes the most recently queued task, or stores a permit if none waits.
    pub fn notify_last(&self) {
        self.notify_with(WaitQueue::back);
    }

    fn notify_with(&self, pick: fn(&WaitQueue<Waiter>) -> Option<usize>) {
        let waker = {
            let mut state = self.state.lock();
            notify_one_locked(&mut state, pick)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task currently waiting (including created-but-unpolled `Notified` futures).
    /// Stores no permit.
    pub fn notify_waiters(&self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.state.lock();
            self.generation.fetch_add(1, SeqCst);
            while let Some(key) = state.waiters.pop_front() {
                let waiter = state.waiters.get_mut(key);
                waiter.notified = Some(Kind::All);
                if let Some(waker) = waiter.waker.take() {
                    wakers.push(waker);
                }
            }
        }
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Hands one `notify_one` notification to the picked waiter, or stores the permit.
fn notify_one_locked(
    state: &mut State,
    pick: fn(&WaitQueue<Waiter>) -> Option<usize>,
) -> Option<Waker> {
    match pick(&state.waiters) {
        Some(key) => {
            state.waiters.unlink(key);
            let waiter = state.waiters.get_mut(key);
            waiter.notified = Some(Kind::One);
            waiter.waker.take()
        }
        None => {
            state.permit = true;
            None
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without polling it, so it receives `notify_one`
    /// notifications from now on. Returns `true` if it has already been notified (the next poll
    /// completes immediately).
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None).is_ready()
    }

    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        match self.state {
            NotifiedState::Done => Poll::Ready(()),
            NotifiedState::Init => {
                let mut state = self.notify.state.lock();
                if self.notify.generation.load(SeqCst) != self.generation {
                    self.state = NotifiedState::Done;
                    return Poll::Ready(());
                }
                if state.permit {
                    state.permit = false;
                    self.state = NotifiedState::Done;
                    return Poll::Ready(());
                }
                let key = state.waiters.push_back(Waiter {
                    waker: waker.cloned(),
                    notified: None,
                });
                self.state = NotifiedState::Waiting(key);
                Poll::Pending
            }
            NotifiedState::Waiting(key) => {
                let mut state = self.notify.state.lock();
                let waiter = state.waiters.get_mut(key);
                if waiter.notified.is_some() {
                    state.waiters.remove(key);
                    self.state = NotifiedState::Done;
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    match &mut waiter.waker {
                        Some(w) if w.will_wake(waker) => {}
                        slot => *slot = Some(waker.clone()),
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        ready!(self.get_mut().poll_notified(Some(cx.waker())));
        coop.made_progress();
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let NotifiedState::Waiting(key) = self.state else {
            return;
        };
        let waker = {
            let mut state = self.notify.state.lock();
            let waiter = state.waiters.remove(key);
            if waiter.notified == Some(Kind::One) {
                // We were handed a `notify_one` but never observed it: pass it on.
                notify_one_locked(&mut state, WaitQueue::front)
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("state", &self.state)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};
    use std::sync::Arc;

    #[test]
    fn notify_one_stores_a_single_permit() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one();
        block_on(n.notified());
        let w = CountingWaker::new();
        let mut f = Box::pin(n.notified());
        assert!(poll_once(&mut f, &w).is_pending());
        n.notify_one();
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut f, &w).is_ready());
    }

    #[test]
    fn notify_one_is_fifo_and_notify_last_lifo() {
        let n = Notify::new();
        let (wa, wb, wc) = (
            CountingWaker::new(),
            CountingWaker::new(),
            CountingWaker::new(),
        );
        let mut a = Box::pin(n.notified());
        let mut b = Box::pin(n.notified());
        let mut c = Box::pin(n.notified());
        assert!(poll_once(&mut a, &wa).is_pending());
        assert!(poll_once(&mut b, &wb).is_pending());
        assert!(poll_once(&mut c, &wc).is_pending());
        n.notify_one();
        assert_eq!((wa.count(), wb.count(), wc.count()), (1, 0, 0));
        n.notify_last();
        assert_eq!((wa.count(), wb.count(), wc.count()), (1, 0, 1));
        assert!(poll_once(&mut a, &wa).is_ready());
        assert!(poll_once(&mut c, &wc).is_ready());
        assert!(poll_once(&mut b, &wb).is_pending());
    }

    #[test]
    fn notify_waiters_reaches_unpolled_futures_but_stores_nothing() {
        let n = Notify::new();
        let w = CountingWaker::new();
        let mut early = Box::pin(n.notified());
        let mut polled = Box::pin(n.notified());
        assert!(poll_once(&mut polled, &w).is_pending());
        n.notify_waiters();
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut polled, &w).is_ready());
        assert!(poll_once(&mut early, &w).is_ready());
        let mut late = Box::pin(n.notified());
        assert!(poll_once(&mut late, &w).is_pending());
    }

    #[test]
    fn cancelled_notified_forwards_notify_one() {
        let n = Notify::new();
        let (wa, wb) = (CountingWaker::new(), CountingWaker::new());
        let mut a = Box::pin(n.notified());
        let mut b = Box::pin(n.notified());
        assert!(poll_once(&mut a, &wa).is_pending());
        assert!(poll_once(&mut b, &wb).is_pending());
        n.notify_one(); // goes to `a`
        drop(a); // never observed → forwarded to `b`
        assert_eq!(wb.count(), 1);
        assert!(poll_once(&mut b, &wb).is_ready());
        assert_eq!(n.state.lock().waiters.allocated(), 0);
    }

    #[test]
    fn cancelled_last_waiter_restores_permit() {
        let n = Notify::new();
        let w = CountingWaker::new();
        let mut a = Box::pin(n.notified());
        assert!(poll_once(&mut a, &w).is_pending());
        n.notify_one();
        drop(a);
        assert!(n.state.lock().permit);
        block_on(n.notified());
    }

    #[test]
    fn dropped_unnotified_waiters_leave_no_trace() {
        let n = Notify::new();
        let w = CountingWaker::new();
        for _ in 0..5 {
            let mut f = Box::pin(n.notified());
            assert!(poll_once(&mut f, &w).is_pending());
        }
        assert_eq!(n.state.lock().waiters.allocated(), 0);
        assert!(!n.state.lock().permit);
    }

    #[test]
    fn enable_registers_without_polling() {
        let n = Notify::new();
        let mut f = Box::pin(n.notified());
        assert!(!f.as_mut().enable());
        n.notify_one();
        assert!(f.as_mut().enable());
        block_on(f);
        assert!(
            !n.state.lock().permit,
            "the notification was consumed by `f`"
        );
    }

    #[test]
    fn cross_thread_ping_pong() {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let th = std::thread::spawn(move || {
            for _ in 0..100 {
                block_on(n2.notified());
            }
        });
        // Each notify_one either wakes the waiter or leaves the permit; the permit holds at
        // most one, so we must wait for it to be consumed before notifying again.
        for _ in 0..100 {
            loop {
                let consumed = !n.state.lock().permit;
                if consumed {
                    break;
                }
                std::thread::yield_now();
            }
            n.notify_one();
        }
        th.join().unwrap();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use crate::loom::thread;

    #[test]
    fn notify_one_vs_notified_no_lost_wakeup() {
        loom::model(|| {
            let n = Arc::new(Notify::new());
            let n2 = n.clone();
            let th = thread::spawn(move || n2.notify_one());
            loom::future::block_on(n.notified());
            th.join().unwrap();
        });
    }

    #[test]
    fn notify_one_vs_dropped_notified_is_forwarded() {
        loom::model(|| {
            let n = Arc::new(Notify::new());
            let n2 = n.clone();
            // One waiter registers then is cancelled, racing with notify_one.
            let th = thread::spawn(move || {
                let mut f = Box::pin(n2.notified());
                let consumed = f.as_mut().enable();
                drop(f);
                consumed
            });
            n.notify_one();
            let consumed = th.join().unwrap();
            // Either `enable` acknowledged the notification, or it must still be stored:
            // a waiter cancelled after being picked forwards it.
            let permit = n.state.lock().permit;
            assert!(consumed ^ permit, "consumed={consumed} permit={permit}");
            assert_eq!(n.state.lock().waiters.len(), 0);
        });
    }

    #[test]
    fn notify_waiters_vs_created_notified() {
        loom::model(|| {
            let n = Arc::new(Notify::new());
            let f = n.notified();
            let n2 = n.clone();
            let th = thread::spawn(move || n2.notify_waiters());
            loom::future::block_on(f);
            th.join().unwrap();
        });
    }
}
