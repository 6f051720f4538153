//! Synchronisation primitives for async code: channels (`mpsc`, `oneshot`, `watch`,
//! `broadcast`), `Notify`, `Semaphore` and an async `Mutex`.
//!
//! They exist so tasks on the runtime can coordinate without blocking worker threads, and their
//! API mirrors `tokio::sync` 1.x exactly so tokio-style code compiles against corio.
//!
//! Every primitive that makes a task wait keeps its waiters in a
//! [`WaitQueue`](wait_queue::WaitQueue) behind a short-lived lock (see that module for why a
//! slab-keyed list rather than an intrusive one). Waiting operations are cancel-safe: dropping a
//! future removes its waiter, and a notification or permit it had already been handed is passed
//! on to the next waiter. Every operation that can wait consults the cooperative budget
//! (`crate::runtime::coop`) before doing work, so a task looping on a busy channel still yields.

mod wait_queue;

mod park;

pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod semaphore;
pub mod watch;

pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

#[cfg(test)]
pub(crate) mod test_util;
