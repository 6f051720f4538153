//! The multi-thread, work-stealing scheduler.
//!
//! Each worker thread owns a local FIFO queue (`crossbeam_deque::Worker`) and a LIFO slot that
//! holds the task it woke most recently (message passing between two tasks then runs hot in
//! cache). Tasks woken from outside the workers go to one global injector. An idle worker
//! steals half of a random victim's queue, then looks at the injector, then parks (see
//! `idle.rs` for who searches and who sleeps, `park.rs` for where it sleeps). `worker.rs` holds
//! the run loop and its fairness rules.

mod idle;
mod park;
mod queue;
mod worker;

pub(crate) use park::SharedDriver;
pub(crate) use worker::{run_worker, Context};

use super::Common;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;
use crate::runtime::metrics::WorkerMetrics;
use crate::task::Notified;
use idle::Idle;
use queue::{Injector, Stealer};
use std::sync::Arc;
use worker::Core;

/// The state every worker and every handle of a multi-thread runtime shares.
pub(crate) struct Handle {
    pub(crate) common: Common,
    remotes: Box<[Remote]>,
    inject: Injector<Notified>,
    idle: Idle,
    pub(crate) worker_metrics: Box<[WorkerMetrics]>,

    /// Set once by shutdown; workers leave their loop when they see it.
    is_shutdown: AtomicBool,
    /// Remote pushes in progress: the final drain waits for them (see `push_remote`). Written
    /// twice per remote spawn or wake, so it gets its own cache lines: next to `is_shutdown`
    /// and the driver pointer, which every worker reads, it made each remote push invalidate
    /// a line all workers were reading.
    pushers: CachePadded<AtomicUsize>,
    /// Cores handed back by exiting workers; the last one cleans up. Cores stay boxed: they
    /// are large and move by pointer between a worker's stack, its context and this list.
    #[allow(clippy::vec_box)]
    shutdown_cores: Mutex<Vec<Box<Core>>>,
}

/// A value alone on its cache lines (128 bytes: the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct Remote {
    steal: Stealer<Notified>,
    unpark: park::Unparker,
}

/// The cores to hand to the worker threads, one each (boxed, see `shutdown_cores`).
#[allow(clippy::vec_box)]
pub(crate) struct Launch(pub(crate) Vec<Box<Core>>);

impl Handle {
    pub(crate) fn new(
        num_workers: usize,
        common: Common,
        driver: SharedDriver,
    ) -> (Arc<Handle>, Launch) {
        let driver = Arc::new(driver);
        let mut cores = Vec::with_capacity(num_workers);
        let mut remotes = Vec::with_capacity(num_workers);
        for index in 0..num_workers {
            let (parker, unparker) = park::pair(driver.clone());
            let run_queue = queue::Local::new();
            remotes.push(Remote {
                steal: run_queue.stealer(),
                unpark: unparker,
            });
            cores.push(Box::new(Core::new(index, run_queue, parker)));
        }
        let handle = Arc::new(Handle {
            common,
            remotes: remotes.into_boxed_slice(),
            inject: Injector::new(),
            idle: Idle::new(num_workers),
            worker_metrics: (0..num_workers).map(|_| WorkerMetrics::default()).collect(),
            is_shutdown: AtomicBool::new(false),
            pushers: CachePadded(AtomicUsize::new(0)),
            shutdown_cores: Mutex::new(Vec::with_capacity(num_workers)),
        });
        (handle, Launch(cores))
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// Schedules a task: to this worker's queue when called on one of our workers, else to the
    /// injector.
    pub(crate) fn schedule_task(self: &Arc<Self>, task: Notified, is_yield: bool) {
        worker::schedule_task(self, task, is_yield)
    }

    /// Pushes to the injector, unless shutdown drained it already (then the task, which is
    /// complete or being cancelled, is dropped here instead of leaking in a dead queue).
    fn push_remote(&self, task: Notified) -> bool {
        self.pushers.fetch_add(1, SeqCst);
        let pushed = if self.is_shutdown.load(SeqCst) {
            drop(task);
            false
        } else {
            self.inject.push(task);
            self.common
                .metrics
                .remote_schedules
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            true
        };
        self.pushers.fetch_sub(1, SeqCst);
        pushed
    }

    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unpark.unpark(&self.common.driver);
        }
    }

    fn notify_if_work_pending(&self) {
        let pending = self.remotes.iter().any(|r| !r.steal.is_empty()) || !self.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }

    /// Starts shutdown: every worker wakes, closes the task set and exits.
    pub(crate) fn shutdown(&self) {
        if self.is_shutdown.swap(true, SeqCst) {
            return;
        }
        self.common.owned.close();
        for remote in self.remotes.iter() {
            remote.unpark.unpark(&self.common.driver);
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(SeqCst)
    }

    /// An exiting worker hands back its core; the last one drains every queue and shuts the
    /// drivers down.
    fn shutdown_core(&self, core: Box<Core>) {
        let mut cores = self.shutdown_cores.lock();
        cores.push(core);
        if cores.len() != self.remotes.len() {
            return;
        }
        for core in cores.drain(..) {
            core.drain();
        }
        drop(cores);
        self.drain_injector();
        self.common.driver.shutdown();
    }

    /// Shutdown timed out waiting for a worker that is still running: cancel the remaining
    /// tasks and stop the drivers from this thread. `close_and_shutdown_all` only cancels in
    /// place the tasks nobody is polling (the task state machine hands the future to exactly
    /// one thread); the driver shutdown takes the drivers' own locks and is idempotent, so the
    /// last worker repeating it when it finally exits is harmless.
    pub(crate) fn shutdown_stragglers(&self) {
        self.common.owned.close_and_shutdown_all();
        self.common.driver.shutdown();
    }

    /// Drops every task left in the injector once no push is in flight.
    pub(crate) fn drain_injector(&self) {
        while self.pushers.load(SeqCst) != 0 {
            crate::loom::spin_loop();
        }
        while let Some(task) = queue::steal_with_retry(|| self.inject.steal()) {
            drop(task);
        }
    }

    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.inject.len()
    }

    pub(crate) fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.remotes[worker].steal.len()
    }
}
