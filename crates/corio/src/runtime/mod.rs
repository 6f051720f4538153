//! The runtime: a scheduler, the I/O and time drivers, and a blocking pool, started together.
//!
//! - `builder.rs`: [`Builder`] chooses the scheduler flavour and the drivers.
//! - `scheduler/`: the multi-thread work-stealing scheduler and the current-thread one.
//! - `driver.rs`, `park.rs`: where idle threads sleep (the OS event queue or a condvar).
//! - `context.rs`: which runtime the current thread belongs to.
//! - `coop.rs`: the cooperative budget that keeps one busy task from starving the rest.
//! - `blocking.rs`: the pool behind `spawn_blocking`.
//! - `metrics.rs`: counters.

mod blocking;
mod builder;
pub(crate) mod context;
pub(crate) mod coop;
pub(crate) mod driver;
mod handle;
mod metrics;
pub(crate) mod park;
pub(crate) mod scheduler;

#[cfg(all(test, loom))]
pub(crate) use blocking::BlockingSchedule;
pub use builder::Builder;
pub use context::TryCurrentError;
pub use handle::{EnterGuard, Handle};
pub use metrics::RuntimeMetrics;

use crate::loom::sync::{Condvar, Mutex};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scheduler flavour of a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Everything runs on the thread that calls `block_on`.
    CurrentThread,
    /// Work-stealing worker threads.
    MultiThread,
}

pub(crate) use RuntimeFlavor as Kind;

/// Counts running worker threads so shutdown can wait for them, with or without a timeout.
pub(crate) struct ThreadGroup {
    running: Mutex<usize>,
    exited: Condvar,
    /// The threads' join handles: once every thread announced its exit, the shutdown joins
    /// them, so when it returns the threads are gone rather than just about to end.
    handles: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl ThreadGroup {
    pub(crate) fn new(n: usize) -> ThreadGroup {
        ThreadGroup {
            running: Mutex::new(n),
            exited: Condvar::new(),
            handles: std::sync::Mutex::new(Vec::with_capacity(n)),
        }
    }

    /// Records a started thread's join handle.
    pub(crate) fn add_handle(&self, handle: std::thread::JoinHandle<()>) {
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }

    pub(crate) fn exit(&self) {
        let mut running = self.running.lock();
        *running -= 1;
        if *running == 0 {
            self.exited.notify_all();
        }
    }

    /// Waits until every thread exited (returns true) or `timeout` passed (returns false).
    /// When they all exited, also joins them: each one announced its exit as the last thing it
    /// does, so the join only waits for its OS thread to end.
    fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut running = self.running.lock();
        while *running > 0 {
            match deadline {
                None => running = self.exited.wait(running),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    running = self.exited.wait_timeout(running, deadline - now);
                }
            }
        }
        drop(running);
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in handles {
            // A worker's panic was already contained (and reported) on its thread.
            let _ = handle.join();
        }
        true
    }
}

/// A running runtime. Dropping it shuts it down: every task's future is dropped, pending I/O
/// fails, worker threads exit.
pub struct Runtime {
    kind: Kind,
    handle: Handle,
    workers: Option<Arc<ThreadGroup>>,
    /// Set by the first shutdown: `shutdown_timeout`/`shutdown_background` already waited as
    /// long as the caller allowed, so the `Drop` that follows must not wait again (without a
    /// limit) for blocking-pool jobs.
    shut_down: bool,
}

impl Runtime {
    pub(crate) fn from_parts(
        kind: Kind,
        handle: scheduler::Handle,
        workers: Option<Arc<ThreadGroup>>,
    ) -> Runtime {
        Runtime {
            kind,
            handle: Handle { inner: handle },
            workers,
            shut_down: false,
        }
    }

    /// A multi-thread runtime with I/O and time enabled (what `#[corio::main]` builds).
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new_multi_thread().enable_all().build()
    }

    /// Runs `future` to completion on the current thread, inside this runtime's context.
    ///
    /// # Panics
    /// When called from a thread that is already driving a runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter();
        let _in_runtime = context::enter_runtime();
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(h) => h.block_on(future),
            scheduler::Handle::MultiThread(_) => park::block_on(future),
        }
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one of this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `duration` for worker and blocking threads to stop.
    pub fn shutdown_timeout(mut self, duration: Duration) {
        self.shutdown(Some(duration));
    }

    /// Shuts down without waiting for threads to stop.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO)
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        // Futures dropped during shutdown may need the runtime context (e.g. to deregister).
        let _enter = self.handle.enter();
        self.handle.inner.shutdown();
        // A runtime dropped from one of its own workers cannot wait for that worker.
        let timeout = if context::is_in_runtime() {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        if let Some(workers) = self.workers.take() {
            if !workers.wait(timeout) {
                // A worker is still busy (a task blocking its thread): the exiting workers may
                // not have cancelled every task yet, and only the last one to exit stops the
                // drivers. Do both here, so futures parked on a timer or on I/O are dropped and
                // I/O waiters of other runtimes fail now rather than when (if ever) the busy
                // worker returns. Both are idempotent and safe next to a running worker: a task
                // it is polling is only marked cancelled and is cancelled when its poll returns.
                self.handle.inner.shutdown_stragglers();
            }
        }
        if let scheduler::Handle::MultiThread(h) = &self.handle.inner {
            // Wakes that raced the workers' final drain: drop those tasks now.
            h.drain_injector();
        }
        self.handle.inner.common().blocking.shutdown(timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.kind)
            .finish()
    }
}
