//! The current-thread scheduler: tasks, I/O and timers all run on the thread that calls
//! `block_on`.
//!
//! The scheduler's state (its run queue and the driver) lives in a [`Core`] that one
//! `block_on` caller at a time takes. Other threads that call `block_on` meanwhile poll only
//! their own future and wait for the core to come back. Wakes from the driving thread go
//! straight to the local queue; wakes from elsewhere go to the injector and unpark the driver.

use super::Common;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;
use crate::runtime::driver::Driver;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::park::ParkThread;
use crate::runtime::{context, coop, scheduler};
use crate::task::Notified;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

/// How often (in ticks) the injector is checked first.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;
/// How many tasks run between two non-blocking driver polls.
const EVENT_INTERVAL: u32 = 61;

/// Shared state of a current-thread runtime.
pub(crate) struct Handle {
    pub(crate) common: Common,
    inject: Mutex<VecDeque<Notified>>,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    is_shutdown: AtomicBool,
    core: Mutex<Option<Box<Core>>>,
    /// Threads waiting in `block_on` for the core.
    core_waiters: Mutex<Vec<ParkThread>>,
    pub(crate) worker_metrics: WorkerMetrics,
    local_depth: AtomicUsize,
}

/// The run queue and the driver; owned by the thread that drives the runtime.
pub(crate) struct Core {
    tasks: VecDeque<Notified>,
    driver: Option<Driver>,
    tick: u32,
}

/// The scheduler context of the driving thread.
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
    defer: RefCell<Vec<Waker>>,
}

/// Wakes the `block_on` future: flags it and unparks the driver.
struct MainWaker(Arc<Handle>);

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.woken.store(true, SeqCst);
        self.0.common.driver.unpark();
    }
}

impl Handle {
    pub(crate) fn new(common: Common, driver: Driver) -> Arc<Handle> {
        Arc::new(Handle {
            common,
            inject: Mutex::new(VecDeque::new()),
            woken: AtomicBool::new(true),
            is_shutdown: AtomicBool::new(false),
            core: Mutex::new(Some(Box::new(Core {
                tasks: VecDeque::with_capacity(64),
                driver: Some(driver),
                tick: 0,
            }))),
            core_waiters: Mutex::new(Vec::new()),
            worker_metrics: WorkerMetrics::default(),
            local_depth: AtomicUsize::new(0),
        })
    }

    pub(crate) fn schedule_task(self: &Arc<Self>, task: Notified) {
        let task = context::with_scheduler(|cx| {
            if let Some(scheduler::Context::CurrentThread(cx)) = cx {
                if Arc::ptr_eq(&cx.handle, self) {
                    if let Ok(mut core) = cx.core.try_borrow_mut() {
                        if let Some(core) = core.as_mut() {
                            core.tasks.push_back(task);
                            return None;
                        }
                    }
                }
            }
            Some(task)
        });
        if let Some(task) = task {
            let mut inject = self.inject.lock();
            if self.is_shutdown.load(SeqCst) {
                // The queues were drained: drop the (cancelled) task instead of keeping it.
                drop(inject);
                drop(task);
                return;
            }
            inject.push_back(task);
            drop(inject);
            self.common.metrics.remote_schedules.fetch_add(1, Relaxed);
            self.common.driver.unpark();
        }
    }

    fn pop_inject(&self) -> Option<Notified> {
        self.inject.lock().pop_front()
    }

    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.inject.lock().len()
    }

    pub(crate) fn local_queue_depth(&self) -> usize {
        self.local_depth.load(Relaxed)
    }

    /// Runs `future` to completion, driving the runtime while this thread holds the core.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        // Only used while another thread drives: one parker for the whole call, so the waker
        // our future registered stays valid across iterations.
        let mut waiting: Option<(ParkThread, Waker)> = None;
        loop {
            let core = self.core.lock().take();
            if let Some(core) = core {
                let (core, out) = self.drive(core, future.as_mut());
                self.return_core(core);
                match out {
                    Some(out) => return out,
                    // The runtime shut down under us: tokio panics here too.
                    None => panic!("the current-thread runtime shut down during block_on"),
                }
            }
            // Someone else drives: poll our future and sleep until woken or the core is free.
            let (park, waker) = waiting.get_or_insert_with(|| {
                let park = ParkThread::new();
                let waker = park.waker();
                (park, waker)
            });
            let mut cx = TaskContext::from_waker(waker);
            if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
            self.core_waiters.lock().push(park.clone());
            if self.core.lock().is_some() {
                continue;
            }
            park.park_timeout(None);
        }
    }

    fn return_core(&self, core: Box<Core>) {
        *self.core.lock() = Some(core);
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }

    fn drive<F: Future>(
        self: &Arc<Self>,
        core: Box<Core>,
        mut future: std::pin::Pin<&mut F>,
    ) -> (Box<Core>, Option<F::Output>) {
        let cx = scheduler::Context::CurrentThread(Context {
            handle: self.clone(),
            core: RefCell::new(Some(core)),
            defer: RefCell::new(Vec::new()),
        });
        let out = context::set_scheduler(&cx, || {
            let scheduler::Context::CurrentThread(cx) = &cx else {
                unreachable!()
            };
            let waker = Waker::from(Arc::new(MainWaker(self.clone())));
            let mut task_cx = TaskContext::from_waker(&waker);
            // Every block_on polls its future at least once, whatever an earlier call left.
            self.woken.store(true, SeqCst);
            let out = 'outer: loop {
                if self.woken.swap(false, SeqCst) {
                    if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut task_cx)) {
                        break 'outer Some(out);
                    }
                }
                for _ in 0..EVENT_INTERVAL {
                    if self.is_shutdown.load(SeqCst) {
                        break 'outer None;
                    }
                    let task = {
                        let mut core = cx.core.borrow_mut();
                        let core = core.as_mut().expect("core present while driving");
                        core.tick = core.tick.wrapping_add(1);
                        let task = if core.tick % GLOBAL_QUEUE_INTERVAL == 0 {
                            self.pop_inject().or_else(|| core.tasks.pop_front())
                        } else {
                            core.tasks.pop_front().or_else(|| self.pop_inject())
                        };
                        self.local_depth.store(core.tasks.len(), Relaxed);
                        task
                    };
                    match task {
                        Some(task) => {
                            self.worker_metrics.polls.fetch_add(1, Relaxed);
                            coop::budget(|| task.run());
                        }
                        None => {
                            let block = cx.defer.borrow().is_empty() && !self.woken.load(SeqCst);
                            cx.park(block);
                            continue 'outer;
                        }
                    }
                }
                cx.park(false);
            };
            // Tasks that yielded during this call must not be forgotten: queue them now, while
            // the core is still in the context, so the next block_on runs them.
            for waker in std::mem::take(&mut *cx.defer.borrow_mut()) {
                waker.wake();
            }
            out
        });
        let scheduler::Context::CurrentThread(cx) = cx else {
            unreachable!()
        };
        (
            cx.core.into_inner().expect("core present after driving"),
            out,
        )
    }

    /// Shuts the runtime down: cancels every task, drains the queues, stops the drivers.
    pub(crate) fn shutdown(&self) {
        if self.is_shutdown.swap(true, SeqCst) {
            return;
        }
        self.common.owned.close_and_shutdown_all();
        if let Some(core) = self.core.lock().as_mut() {
            core.tasks.clear();
        }
        let drained: Vec<_> = self.inject.lock().drain(..).collect();
        drop(drained);
        self.common.driver.shutdown();
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }
}

impl Context {
    /// Blocks in (or only polls) the driver with the core in the context.
    fn park(&self, block: bool) {
        let mut driver = {
            let mut core = self.core.borrow_mut();
            core.as_mut()
                .and_then(|c| c.driver.take())
                .expect("driver present while driving")
        };
        if block {
            self.handle.worker_metrics.parks.fetch_add(1, Relaxed);
        }
        let timeout = if block { None } else { Some(Duration::ZERO) };
        let events = driver.park(&self.handle.common.driver, timeout);
        self.handle
            .common
            .metrics
            .io_events
            .fetch_add(events as u64, Relaxed);
        for waker in std::mem::take(&mut *self.defer.borrow_mut()) {
            waker.wake();
        }
        if let Some(core) = self.core.borrow_mut().as_mut() {
            core.driver = Some(driver);
        }
    }

    pub(crate) fn defer(&self, waker: &Waker) {
        let mut defer = self.defer.borrow_mut();
        // A task that yields twice before the driver runs is deferred once (checking the last
        // entry is enough: a task defers itself at most once per poll).
        if !defer.last().is_some_and(|w| w.will_wake(waker)) {
            defer.push(waker.clone());
        }
    }
}
