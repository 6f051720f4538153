//! The two schedulers behind one handle type.
//!
//! `multi_thread` is the work-stealing scheduler with one worker thread per core;
//! `current_thread` runs everything on the thread that calls `block_on`. Both share the
//! [`Common`] part: the owned-task set, the driver handle, the blocking pool and counters.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use crate::runtime::blocking::BlockingSpawner;
use crate::runtime::driver;
use crate::runtime::metrics::RuntimeCounters;
use crate::task::{Id, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use std::future::Future;
use std::sync::Arc;
use std::task::Waker;

/// What both schedulers share.
pub(crate) struct Common {
    pub(crate) owned: OwnedTasks,
    pub(crate) driver: driver::Handle,
    pub(crate) blocking: BlockingSpawner,
    pub(crate) metrics: RuntimeCounters,
}

/// A cloneable reference to a runtime's scheduler.
#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Handle>),
    CurrentThread(Arc<current_thread::Handle>),
}

/// The scheduler state of the thread that is running tasks right now.
pub(crate) enum Context {
    MultiThread(multi_thread::Context),
    CurrentThread(current_thread::Context),
}

impl Handle {
    pub(crate) fn common(&self) -> &Common {
        match self {
            Handle::MultiThread(h) => &h.common,
            Handle::CurrentThread(h) => &h.common,
        }
    }

    pub(crate) fn driver(&self) -> &driver::Handle {
        &self.common().driver
    }

    /// Spawns `future` as a new task of this runtime.
    pub(crate) fn spawn<F>(&self, future: F, id: Id) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let common = self.common();
        common
            .metrics
            .spawned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (join, notified) = common.owned.bind(future, self.clone(), id);
        if let Some(task) = notified {
            self.schedule(task);
        }
        join
    }

    /// Runs `f` on the blocking pool.
    pub(crate) fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.common().blocking.spawn(self, f)
    }

    pub(crate) fn shutdown(&self) {
        match self {
            Handle::MultiThread(h) => h.shutdown(),
            Handle::CurrentThread(h) => h.shutdown(),
        }
    }

    /// After a shutdown whose wait for the worker threads timed out: cancels every task still
    /// in the owned set and shuts the drivers down from the calling thread (what the exiting
    /// workers would have done). Idempotent.
    pub(crate) fn shutdown_stragglers(&self) {
        match self {
            Handle::MultiThread(h) => h.shutdown_stragglers(),
            // Its `shutdown` already did all of this on the calling thread.
            Handle::CurrentThread(_) => {}
        }
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified) {
        match self {
            Handle::MultiThread(h) => h.schedule_task(task, false),
            Handle::CurrentThread(h) => h.schedule_task(task),
        }
    }

    fn yield_now(&self, task: Notified) {
        match self {
            Handle::MultiThread(h) => h.schedule_task(task, true),
            Handle::CurrentThread(h) => h.schedule_task(task),
        }
    }

    fn release(&self, id: Id) -> Option<Task> {
        self.common().owned.remove(id)
    }
}

impl Context {
    /// Defers `waker` until after the next driver poll of this thread.
    pub(crate) fn defer(&self, waker: &Waker) {
        match self {
            Context::MultiThread(cx) => cx.defer(waker),
            Context::CurrentThread(cx) => cx.defer(waker),
        }
    }
}
