//! `Builder`: configures and starts a runtime.

use super::blocking::{BlockingConfig, BlockingSpawner};
use super::driver::{self, Driver};
use super::scheduler::{self, multi_thread, Common};
use super::{Kind, Runtime, ThreadGroup};
use crate::task::OwnedTasks;
use std::fmt;
use std::io;

use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Runtime`] with custom settings.
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    enable_io: bool,
    enable_time: bool,
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    keep_alive: Duration,
    event_capacity: usize,
}

impl Builder {
    /// A builder for the multi-thread, work-stealing runtime (one worker per CPU by default).
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    /// A builder for the runtime that runs everything on the thread calling `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            max_blocking_threads: 512,
            enable_io: false,
            enable_time: false,
            thread_name: Arc::new(|| "corio-runtime-worker".to_owned()),
            thread_stack_size: None,
            keep_alive: Duration::from_secs(10),
            event_capacity: 1024,
        }
    }

    /// Enables the I/O and time drivers.
    pub fn enable_all(&mut self) -> &mut Self {
        self.enable_io().enable_time()
    }

    /// Enables the I/O driver (sockets).
    pub fn enable_io(&mut self) -> &mut Self {
        self.enable_io = true;
        self
    }

    /// Enables the time driver (`sleep`, `timeout`, `interval`).
    pub fn enable_time(&mut self) -> &mut Self {
        self.enable_time = true;
        self
    }

    /// Sets the number of worker threads of a multi-thread runtime.
    ///
    /// # Panics
    /// When `val` is 0.
    pub fn worker_threads(&mut self, val: usize) -> &mut Self {
        assert!(val > 0, "Worker threads cannot be set to 0");
        self.worker_threads = Some(val);
        self
    }

    /// Sets the maximum number of blocking-pool threads (default 512).
    ///
    /// # Panics
    /// When `val` is 0.
    pub fn max_blocking_threads(&mut self, val: usize) -> &mut Self {
        assert!(val > 0, "Max blocking threads cannot be set to 0");
        self.max_blocking_threads = val;
        self
    }

    /// Names the runtime's threads.
    pub fn thread_name(&mut self, val: impl Into<String>) -> &mut Self {
        let val = val.into();
        self.thread_name = Arc::new(move || val.clone());
        self
    }

    /// Names the runtime's threads with a function called per thread.
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.thread_name = Arc::new(f);
        self
    }

    /// Sets the stack size of the runtime's threads.
    pub fn thread_stack_size(&mut self, val: usize) -> &mut Self {
        self.thread_stack_size = Some(val);
        self
    }

    /// How long an idle blocking-pool thread waits for work before exiting (default 10 s).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.keep_alive = duration;
        self
    }

    /// How many I/O events one driver turn handles at most (default 1024).
    pub fn max_io_events_per_tick(&mut self, capacity: usize) -> &mut Self {
        self.event_capacity = capacity.max(1);
        self
    }

    /// Starts the runtime.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (driver, driver_handle) = Driver::new(driver::Cfg {
            enable_io: self.enable_io,
            enable_time: self.enable_time,
            event_capacity: self.event_capacity,
        })?;
        let blocking = BlockingSpawner::new(BlockingConfig {
            thread_name: self.thread_name.clone(),
            thread_stack_size: self.thread_stack_size,
            max_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
        });
        match self.kind {
            Kind::CurrentThread => {
                let common = Common {
                    owned: OwnedTasks::new(1),
                    driver: driver_handle,
                    blocking,
                    metrics: Default::default(),
                };
                let handle = scheduler::current_thread::Handle::new(common, driver);
                Ok(Runtime::from_parts(
                    Kind::CurrentThread,
                    scheduler::Handle::CurrentThread(handle),
                    None,
                ))
            }
            Kind::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(default_worker_threads);
                let common = Common {
                    owned: OwnedTasks::new(workers * 4),
                    driver: driver_handle,
                    blocking,
                    metrics: Default::default(),
                };
                let shared_driver = multi_thread::SharedDriver::new(driver);
                let (handle, launch) = multi_thread::Handle::new(workers, common, shared_driver);
                let group = Arc::new(ThreadGroup::new(workers));
                let sched = scheduler::Handle::MultiThread(handle.clone());
                let runtime = Runtime::from_parts(Kind::MultiThread, sched, Some(group.clone()));
                for core in launch.0 {
                    let handle = handle.clone();
                    let worker_group = group.clone();
                    let started = super::blocking::spawn_thread(
                        (self.thread_name)(),
                        self.thread_stack_size,
                        move || {
                            multi_thread::run_worker(handle, core);
                            worker_group.exit();
                        },
                    );
                    match started {
                        Ok(Some(thread)) => group.add_handle(thread),
                        Ok(None) => {}
                        Err(e) => {
                            // The runtime's drop shuts down the workers already started.
                            group.exit();
                            return Err(e);
                        }
                    }
                }
                Ok(runtime)
            }
        }
    }
}

fn default_worker_threads() -> usize {
    if let Ok(s) = std::env::var("CORIO_WORKER_THREADS") {
        if let Ok(n) = s.trim().parse::<usize>() {
            if n > 0 {
                return n;
            }
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("enable_io", &self.enable_io)
            .field("enable_time", &self.enable_time)
            .finish()
    }
}
