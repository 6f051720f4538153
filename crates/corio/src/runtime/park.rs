//! Putting threads to sleep and waking them: the building block under `block_on`, under the
//! I/O-less driver and under idle workers.
//!
//! [`ParkThread`] is a classic three-state parker (EMPTY, PARKED, NOTIFIED) on a mutex and a
//! condvar: an `unpark` that arrives before `park` is never lost, because it leaves NOTIFIED
//! behind and the next `park` consumes it without sleeping.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// A parker for one thread; clones share the same state (any clone may unpark).
#[derive(Clone, Debug)]
pub(crate) struct ParkThread {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

impl ParkThread {
    pub(crate) fn new() -> ParkThread {
        ParkThread {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                mutex: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }

    /// Blocks until `unpark` (or the timeout, or a spurious wake-up). `Some(ZERO)` only
    /// consumes a pending notification.
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = inner.mutex.lock();
        match inner.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                inner.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        match timeout {
            None => loop {
                guard = inner.condvar.wait(guard);
                if inner
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                    .is_ok()
                {
                    return;
                }
                // Spurious wake-up: sleep again.
            },
            Some(timeout) => {
                guard = inner.condvar.wait_timeout(guard, timeout);
                drop(guard);
                // Notified or timed out: either way leave EMPTY.
                inner.state.swap(EMPTY, SeqCst);
            }
        }
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }

    /// A waker that unparks this thread.
    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.inner.clone())
    }
}

impl Inner {
    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders this notify after the parker's wait began.
                drop(self.mutex.lock());
                self.condvar.notify_one();
            }
            actual => panic!("inconsistent park state: {actual}"),
        }
    }
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

/// Runs `future` to completion on this thread, parking between polls. Used by
/// `Handle::block_on` and the multi-thread `Runtime::block_on`: the runtime's workers do the
/// rest of the work.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let park = ParkThread::new();
    let waker = park.waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = super::coop::budget(|| future.as_mut().poll(&mut cx)) {
            return out;
        }
        park.park_timeout(None);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn unpark_is_never_lost() {
        loom::model(|| {
            let park = ParkThread::new();
            let flag = Arc::new(crate::loom::sync::atomic::AtomicBool::new(false));
            let (p2, f2) = (park.clone(), flag.clone());
            let th = crate::loom::thread::spawn(move || {
                f2.store(true, SeqCst);
                p2.unpark();
            });
            while !flag.load(SeqCst) {
                park.park_timeout(None);
            }
            th.join().unwrap();
        });
    }

    /// Two threads unpark one parker concurrently (the second unpark may find NOTIFIED, PARKED
    /// or EMPTY): the parker wakes for both flags and no state is left inconsistent.
    #[test]
    fn concurrent_unparks() {
        loom::model(|| {
            let park = ParkThread::new();
            let flags: Vec<_> = (0..2)
                .map(|_| Arc::new(crate::loom::sync::atomic::AtomicBool::new(false)))
                .collect();
            let threads: Vec<_> = flags
                .iter()
                .map(|f| {
                    let (p, f) = (park.clone(), f.clone());
                    crate::loom::thread::spawn(move || {
                        f.store(true, SeqCst);
                        p.unpark();
                    })
                })
                .collect();
            while !flags.iter().all(|f| f.load(SeqCst)) {
                park.park_timeout(None);
            }
            for th in threads {
                th.join().unwrap();
            }
        });
    }

    /// `block_on` of a future woken from another thread: the waker's unpark is never lost
    /// between the poll that returns `Pending` and the park.
    #[test]
    fn block_on_woken_from_other_thread() {
        use crate::loom::sync::atomic::AtomicBool;
        use crate::loom::sync::Mutex;

        struct Shared {
            ready: AtomicBool,
            waker: Mutex<Option<Waker>>,
        }
        loom::model(|| {
            let shared = Arc::new(Shared {
                ready: AtomicBool::new(false),
                waker: Mutex::new(None),
            });
            let th = {
                let shared = shared.clone();
                crate::loom::thread::spawn(move || {
                    shared.ready.store(true, SeqCst);
                    if let Some(w) = shared.waker.lock().take() {
                        w.wake();
                    }
                })
            };
            block_on(std::future::poll_fn(|cx| {
                *shared.waker.lock() = Some(cx.waker().clone());
                if shared.ready.load(SeqCst) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }));
            th.join().unwrap();
        });
    }
}
