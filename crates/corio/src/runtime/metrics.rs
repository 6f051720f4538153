//! Runtime metrics: cheap relaxed counters updated on the hot paths, read on demand.

use crate::runtime::scheduler;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of the whole runtime.
#[derive(Default)]
pub(crate) struct RuntimeCounters {
    pub(crate) spawned: AtomicU64,
    pub(crate) remote_schedules: AtomicU64,
    pub(crate) io_events: AtomicU64,
}

/// Counters of one worker, padded so workers do not share cache lines.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
}

/// A view of a runtime's metrics (`Runtime::metrics`, `Handle::metrics`).
#[derive(Clone)]
pub struct RuntimeMetrics {
    handle: scheduler::Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: scheduler::Handle) -> Self {
        RuntimeMetrics { handle }
    }

    fn worker(&self, worker: usize) -> Option<&WorkerMetrics> {
        match &self.handle {
            scheduler::Handle::MultiThread(h) => h.worker_metrics.get(worker),
            scheduler::Handle::CurrentThread(h) => (worker == 0).then_some(&h.worker_metrics),
        }
    }

    /// Worker threads (1 for the current-thread runtime).
    pub fn num_workers(&self) -> usize {
        match &self.handle {
            scheduler::Handle::MultiThread(h) => h.num_workers(),
            scheduler::Handle::CurrentThread(_) => 1,
        }
    }

    /// Tasks spawned since the runtime started.
    pub fn spawned_tasks_count(&self) -> u64 {
        self.handle.common().metrics.spawned.load(Relaxed)
    }

    /// Tasks alive now (spawned, not completed).
    pub fn num_alive_tasks(&self) -> usize {
        self.handle.common().owned.len()
    }

    /// Tasks scheduled from outside the workers (pushes to the injector).
    pub fn remote_schedule_count(&self) -> u64 {
        self.handle.common().metrics.remote_schedules.load(Relaxed)
    }

    /// Tasks waiting in the injector now.
    pub fn global_queue_depth(&self) -> usize {
        match &self.handle {
            scheduler::Handle::MultiThread(h) => h.injection_queue_depth(),
            scheduler::Handle::CurrentThread(h) => h.injection_queue_depth(),
        }
    }

    /// Task polls by `worker`.
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.worker(worker).map_or(0, |w| w.polls.load(Relaxed))
    }

    /// Successful steals by `worker` (each moves a batch of tasks).
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.worker(worker).map_or(0, |w| w.steals.load(Relaxed))
    }

    /// Times `worker` went to sleep.
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.worker(worker).map_or(0, |w| w.parks.load(Relaxed))
    }

    /// Tasks in `worker`'s local queue now.
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        match &self.handle {
            scheduler::Handle::MultiThread(h) if worker < h.num_workers() => {
                h.worker_local_queue_depth(worker)
            }
            scheduler::Handle::CurrentThread(h) if worker == 0 => h.local_queue_depth(),
            _ => 0,
        }
    }

    /// I/O readiness events the driver dispatched.
    pub fn io_driver_ready_count(&self) -> u64 {
        self.handle.common().metrics.io_events.load(Relaxed)
    }

    /// Threads of the blocking pool now.
    pub fn num_blocking_threads(&self) -> usize {
        self.handle.common().blocking.num_threads()
    }

    /// Idle threads of the blocking pool now.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.handle.common().blocking.num_idle_threads()
    }
}

impl std::fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("spawned_tasks_count", &self.spawned_tasks_count())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .finish()
    }
}
