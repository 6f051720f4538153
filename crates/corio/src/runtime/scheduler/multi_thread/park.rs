//! Parking an idle worker: in the driver if nobody else is, on a condvar otherwise.
//!
//! The runtime has one driver (the OS event queue plus the timer). The first idle worker takes
//! it (`try_lock`) and blocks in `epoll_wait`/`kevent` with the next timer deadline as timeout;
//! the other idle workers sleep on their own condvar. To wake a worker the [`Unparker`] looks
//! at where it sleeps: a condvar is notified, the driver is woken through the `mio::Waker`.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Condvar, Mutex};
use crate::runtime::driver::{self, Driver};
use std::sync::Arc;
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver, shared by the workers; whoever holds the lock may block in it.
pub(crate) struct SharedDriver {
    pub(crate) driver: Mutex<Driver>,
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
    (Parker { inner: inner.clone(), shared }, Unparker { inner })
}

impl Parker {
    /// Sleeps until unparked. Returns the number of I/O events processed, if it drove I/O.
    pub(super) fn park(&mut self, handle: &driver::Handle) -> usize {
        if self.inner.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
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
        match self.inner.state.compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst) {
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
        match inner.state.compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                inner.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent worker park state: {actual}"),
        }
        loop {
            guard = inner.condvar.wait(guard);
            if inner.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
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
