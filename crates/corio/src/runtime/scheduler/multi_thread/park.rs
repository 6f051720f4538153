//! Parking an idle worker: in the driver if nobody else is, on a condvar otherwise.
//!
//! The runtime has one driver (the OS event queue plus the timer). The first idle worker takes
//! it (`try_lock`) and blocks in `epoll_wait`/`kevent` with the next timer deadline as timeout;
//! the other idle workers sleep on their own condvar. To wake a worker the [`Unparker`] looks
//! at where it sleeps: a condvar is notified, the driver is woken through the `mio::Waker`.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex, TryLock};
use crate::runtime::driver::{self, Driver};
use std::sync::Arc;
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver, shared by the workers; whoever holds the lock may block in it. Nobody ever
/// waits for this lock: a worker that cannot take it sleeps on its own condvar instead.
pub(crate) struct SharedDriver {
    driver: TryLock<Driver>,
}

impl SharedDriver {
    pub(crate) fn new(driver: Driver) -> SharedDriver {
        SharedDriver {
            driver: TryLock::new(driver),
        }
    }
}

struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

/// One worker's parker.
pub(super) struct Parker {
    inner: Arc<Inner>,
    shared: Arc<SharedDriver>,
}

/// Wakes one worker's parker.
pub(super) struct Unparker {
    inner: Arc<Inner>,
}

pub(super) fn pair(shared: Arc<SharedDriver>) -> (Parker, Unparker) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(EMPTY),
        mutex: Mutex::new(()),
        condvar: Condvar::new(),
    });
    (
        Parker {
            inner: inner.clone(),
            shared,
        },
        Unparker { inner },
    )
}

impl Parker {
    /// Sleeps until unparked. Returns the number of I/O events processed, if it drove I/O.
    pub(super) fn park(&mut self, handle: &driver::Handle) -> usize {
        if self
            .inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return 0;
        }
        if let Some(mut driver) = self.shared.driver.try_lock() {
            self.park_driver(&mut driver, handle)
        } else {
            self.park_condvar();
            0
        }
    }

    /// Polls the driver without blocking, if nobody else holds it.
    pub(super) fn poll_driver(&mut self, handle: &driver::Handle) -> usize {
        match self.shared.driver.try_lock() {
            Some(mut driver) => driver.park(handle, Some(Duration::ZERO)),
            None => 0,
        }
    }

    fn park_driver(&self, driver: &mut Driver, handle: &driver::Handle) -> usize {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.inner.state.swap(EMPTY, SeqCst);
                return 0;
            }
            Err(actual) => panic!("inconsistent worker park state: {actual}"),
        }
        let events = driver.park(handle, None);
        // NOTIFIED or still PARKED_DRIVER (woken by an event or a timer): both mean "awake".
        self.inner.state.swap(EMPTY, SeqCst);
        events
    }

    fn park_condvar(&self) {
        let inner = &*self.inner;
        let mut guard = inner.mutex.lock();
        match inner
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                inner.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent worker park state: {actual}"),
        }
        loop {
            guard = inner.condvar.wait(guard);
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Unparker {
    /// Wakes the worker wherever it sleeps, or makes its next park return immediately.
    pub(super) fn unpark(&self, handle: &driver::Handle) {
        match self.inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                drop(self.inner.mutex.lock());
                self.inner.condvar.notify_one();
            }
            PARKED_DRIVER => handle.unpark(),
            actual => panic!("inconsistent worker park state: {actual}"),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::atomic::AtomicBool;
    use crate::loom::thread;

    /// The driver of a runtime without I/O and timers: the condvar-based `ParkThread`.
    fn shared_driver() -> (Arc<SharedDriver>, driver::Handle) {
        let (driver, handle) = Driver::new(driver::Cfg {
            enable_io: false,
            enable_time: false,
            event_capacity: 1,
        })
        .expect("the I/O-less driver cannot fail");
        (Arc::new(SharedDriver::new(driver)), handle)
    }

    /// Two workers park at once, so one sleeps in the driver and the other on its condvar (which
    /// one is up to the interleaving); each is unparked once after its work flag is set. Both
    /// must wake: an unpark is never lost, wherever the worker sleeps or is about to sleep.
    #[test]
    fn unpark_reaches_worker_in_driver_or_on_condvar() {
        loom::model(|| {
            let (shared, handle) = shared_driver();
            let mut workers = Vec::new();
            let mut unparkers = Vec::new();
            for _ in 0..2 {
                let (mut parker, unparker) = pair(shared.clone());
                let flag = Arc::new(AtomicBool::new(false));
                unparkers.push((unparker, flag.clone()));
                let handle = handle.clone();
                workers.push(thread::spawn(move || {
                    while !flag.load(SeqCst) {
                        parker.park(&handle);
                    }
                }));
            }
            for (unparker, flag) in &unparkers {
                flag.store(true, SeqCst);
                unparker.unpark(&handle);
            }
            for w in workers {
                w.join().unwrap();
            }
        });
    }

    /// A worker polling the driver without blocking (`poll_driver`) may consume the driver's
    /// wake-up meant for a worker parked in it only when it holds the driver, i.e. never while
    /// another worker sleeps there: the parked worker is still woken.
    #[test]
    fn poll_driver_does_not_steal_a_parked_workers_wakeup() {
        loom::model(|| {
            let (shared, handle) = shared_driver();
            let (mut sleeper, unparker) = pair(shared.clone());
            let (mut poller, _poller_unparker) = pair(shared);
            let flag = Arc::new(AtomicBool::new(false));
            let sleeper_thread = {
                let (flag, handle) = (flag.clone(), handle.clone());
                thread::spawn(move || {
                    while !flag.load(SeqCst) {
                        sleeper.park(&handle);
                    }
                })
            };
            let poller_thread = {
                let handle = handle.clone();
                thread::spawn(move || {
                    poller.poll_driver(&handle);
                })
            };
            flag.store(true, SeqCst);
            unparker.unpark(&handle);
            sleeper_thread.join().unwrap();
            poller_thread.join().unwrap();
        });
    }

    /// An unpark that arrives before the worker parks makes the next park return at once, and
    /// is consumed by it (a second park would sleep until the second unpark).
    #[test]
    fn unpark_before_park_is_kept() {
        loom::model(|| {
            let (shared, handle) = shared_driver();
            let (mut parker, unparker) = pair(shared);
            let count = Arc::new(crate::loom::sync::atomic::AtomicUsize::new(0));
            let th = {
                let (count, handle) = (count.clone(), handle.clone());
                thread::spawn(move || {
                    for _ in 0..2 {
                        count.fetch_add(1, SeqCst);
                        unparker.unpark(&handle);
                    }
                })
            };
            while count.load(SeqCst) < 2 {
                parker.park(&handle);
            }
            th.join().unwrap();
        });
    }
}
