//! The blocking pool: threads for work that must not block a worker (`spawn_blocking`, DNS).
//!
//! Threads are started on demand up to a limit and exit after an idle keep-alive. Queued work
//! that has not started when the runtime shuts down is cancelled; work that is running cannot
//! be interrupted, so shutdown waits for it only as long as `shutdown_timeout` allows.

use crate::loom::sync::{Condvar, Mutex};
use crate::runtime::scheduler;
use crate::task::{self, Id, JoinHandle, Notified, Schedule, Task};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Spawns work on the pool; shared by every handle of a runtime.
#[derive(Clone)]
pub(crate) struct BlockingSpawner {
    inner: Arc<Inner>,
}

/// Thread naming and limits of the pool.
pub(crate) struct BlockingConfig {
    pub(crate) thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) thread_stack_size: Option<usize>,
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
}

struct Inner {
    shared: Mutex<Shared>,
    condvar: Condvar,
    /// Signalled when a thread exits (shutdown waits on it).
    exited: Condvar,
    config: BlockingConfig,
}

struct Shared {
    queue: VecDeque<Notified>,
    num_threads: usize,
    num_idle: usize,
    num_notify: usize,
    shutdown: bool,
}

/// A closure as a future that completes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("a blocking task runs once");
        // Blocking code is not cooperative: no budget applies to it.
        Poll::Ready(crate::runtime::coop::with_unconstrained(f))
    }
}

/// Blocking tasks finish in their first poll, so nothing ever wakes them into a queue again.
/// (`pub(crate)` for the task loom models, which drive unowned tasks through it.)
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, _task: Notified) {
        // Unreachable in practice: a blocking task is queued exactly once (at spawn) and
        // completes in its only poll. An abort of a queued task only marks it cancelled.
    }
    fn yield_now(&self, _task: Notified) {}
    fn release(&self, _id: Id) -> Option<Task> {
        None
    }
}

impl BlockingSpawner {
    pub(crate) fn new(config: BlockingConfig) -> BlockingSpawner {
        BlockingSpawner {
            inner: Arc::new(Inner {
                shared: Mutex::new(Shared {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                }),
                condvar: Condvar::new(),
                exited: Condvar::new(),
                config,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(&self, handle: &scheduler::Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, join) = task::new_unowned(BlockingTask(Some(f)), BlockingSchedule, Id::next());
        self.push(task, handle);
        join
    }

    fn push(&self, task: Notified, handle: &scheduler::Handle) {
        let mut shared = self.inner.shared.lock();
        if shared.shutdown {
            drop(shared);
            task.shutdown();
            return;
        }
        shared.queue.push_back(task);
        if shared.num_idle > 0 {
            shared.num_idle -= 1;
            shared.num_notify += 1;
            self.inner.condvar.notify_one();
            return;
        }
        if shared.num_threads >= self.inner.config.max_threads {
            // Every thread is busy: the task waits in the queue for the next free one.
            return;
        }
        shared.num_threads += 1;
        drop(shared);
        let inner = self.inner.clone();
        let handle = handle.clone();
        let spawned = spawn_thread(
            (inner.config.thread_name)(),
            inner.config.thread_stack_size,
            move || inner.run(handle),
        );
        if spawned.is_err() {
            // The OS refused a thread: the queued work is served by the threads we have, or,
            // with none, it is cancelled rather than left hanging forever.
            let mut shared = self.inner.shared.lock();
            shared.num_threads -= 1;
            if shared.num_threads == 0 {
                let queued: Vec<_> = shared.queue.drain(..).collect();
                drop(shared);
                for task in queued {
                    task.shutdown();
                }
            }
        }
    }

    /// Cancels queued work and waits up to `timeout` for running work to finish.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let mut shared = self.inner.shared.lock();
        shared.shutdown = true;
        self.inner.condvar.notify_all();
        let queued: Vec<_> = shared.queue.drain(..).collect();
        drop(shared);
        for task in queued {
            task.shutdown();
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut shared = self.inner.shared.lock();
        while shared.num_threads > 0 {
            match deadline {
                None => shared = self.inner.exited.wait(shared),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    shared = self.inner.exited.wait_timeout(shared, deadline - now);
                }
            }
        }
    }

    pub(crate) fn num_threads(&self) -> usize {
        self.inner.shared.lock().num_threads
    }

    pub(crate) fn num_idle_threads(&self) -> usize {
        self.inner.shared.lock().num_idle
    }
}

impl Inner {
    fn run(&self, handle: scheduler::Handle) {
        let _current = crate::runtime::context::set_current(&handle);
        drop(handle);
        let mut shared = self.shared.lock();
        'work: loop {
            while let Some(task) = shared.queue.pop_front() {
                drop(shared);
                task.run();
                shared = self.shared.lock();
            }
            if shared.shutdown {
                break;
            }
            shared.num_idle += 1;
            let idle_until = Instant::now() + self.config.keep_alive;
            loop {
                if shared.num_notify > 0 {
                    shared.num_notify -= 1;
                    continue 'work;
                }
                if shared.shutdown {
                    shared.num_idle -= 1;
                    break 'work;
                }
                let now = Instant::now();
                if now >= idle_until {
                    shared.num_idle -= 1;
                    break 'work;
                }
                shared = self.condvar.wait_timeout(shared, idle_until - now);
            }
        }
        // Work queued while we decided to exit must still find a thread.
        let orphaned: Vec<_> = if shared.num_threads == 1 && shared.shutdown {
            shared.queue.drain(..).collect()
        } else {
            Vec::new()
        };
        shared.num_threads -= 1;
        let restart = !shared.shutdown && !shared.queue.is_empty() && shared.num_idle == 0;
        drop(shared);
        for task in orphaned {
            task.shutdown();
        }
        if restart {
            // Rare: a task was queued between our last check and our exit. Serve it here.
            let mut shared = self.shared.lock();
            shared.num_threads += 1;
            drop(shared);
            return self.run(crate::runtime::context::try_current().expect("set above"));
        }
        self.exited.notify_all();
    }
}

/// Starts an OS thread (a loom thread in models). Returns its join handle (`None` in loom
/// models, whose threads are joined by the model); dropping it detaches the thread.
pub(crate) fn spawn_thread(
    name: String,
    stack_size: Option<usize>,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<Option<std::thread::JoinHandle<()>>> {
    #[cfg(not(loom))]
    {
        let mut builder = std::thread::Builder::new().name(name);
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        builder.spawn(f).map(Some)
    }
    #[cfg(loom)]
    {
        let _ = (name, stack_size);
        crate::loom::thread::spawn(f);
        Ok(None)
    }
}
