//! The worker run loop: which task runs next, when to steal, when to poll the driver, when to
//! sleep.
//!
//! Fairness rules, each with a reason:
//! - Every [`GLOBAL_QUEUE_INTERVAL`] ticks the injector is checked *before* the local queue, so
//!   tasks woken from outside cannot starve behind a worker that keeps itself busy.
//! - The LIFO slot runs a freshly woken task next (hot cache for request/response patterns),
//!   but at most [`MAX_LIFO_POLLS_PER_TICK`] times in a row: two tasks that wake each other
//!   forever would otherwise own the worker.
//! - Every [`EVENT_INTERVAL`] ticks the worker polls the driver without blocking, so I/O and
//!   timers progress even when the run queue never empties.
//! - A task that was woken while it ran (it yielded, or spent its coop budget) goes to the back
//!   of the local queue, never into the LIFO slot.
//! - `yield_now` wakers are deferred until after the next driver poll.
//!
//! Per-worker metric counters (`polls`, `steals`, `parks`) have exactly one writer: the thread
//! that holds this worker's core. They are bumped with [`bump`] (a relaxed load and store, no
//! locked read-modify-write): an atomic RMW per poll was a measurable share of a task switch,
//! and a single writer cannot lose increments. Readers see a value that is at most a few
//! increments old, as they would with `fetch_add`.

use super::park::Parker;
use super::queue::{self, Local};
use super::Handle;
use crate::runtime::{context, coop, scheduler};
use crate::task::Notified;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Waker;

/// How often (in ticks) the injector is checked first.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;
/// How often (in ticks) the driver is polled while there is work.
const EVENT_INTERVAL: u32 = 61;
/// How many LIFO-slot tasks may run back to back.
const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// Adds one to a counter that only the calling thread writes (see the module notes).
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// A worker's private state; moves into the thread-local context while a task runs so that
/// wakes from inside the task reach the local queue.
pub(crate) struct Core {
    index: usize,
    tick: u32,
    lifo_slot: Option<Notified>,
    lifo_enabled: bool,
    run_queue: Local<Notified>,
    is_searching: bool,
    is_shutdown: bool,
    park: Option<Parker>,
    rng: u32,
}

/// The scheduler context of a worker thread (see `runtime::context`).
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
    defer: RefCell<Vec<Waker>>,
}

impl Core {
    pub(super) fn new(index: usize, run_queue: Local<Notified>, park: Parker) -> Core {
        Core {
            index,
            tick: 0,
            lifo_slot: None,
            lifo_enabled: true,
            run_queue,
            is_searching: false,
            is_shutdown: false,
            park: Some(park),
            rng: 0x9E37_79B9 ^ ((index as u32 + 1).wrapping_mul(0x85EB_CA6B)),
        }
    }

    fn next_random(&mut self, n: usize) -> usize {
        // xorshift32: cheap, and good enough to pick a steal victim.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        (x as usize) % n
    }

    fn has_tasks(&self) -> bool {
        self.lifo_slot.is_some() || !self.run_queue.is_empty()
    }

    fn next_task(&mut self, handle: &Handle) -> Option<Notified> {
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = queue::steal_with_retry(|| handle.inject.steal()) {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo_slot.take().or_else(|| self.run_queue.pop()) {
            return Some(task);
        }
        queue::steal_with_retry(|| handle.inject.steal_batch_and_pop(&self.run_queue))
    }

    fn steal_work(&mut self, handle: &Handle) -> Option<Notified> {
        if !self.is_searching {
            self.is_searching = handle.idle.transition_worker_to_searching();
        }
        if !self.is_searching {
            return None;
        }
        let n = handle.remotes.len();
        let start = self.next_random(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            let stolen = queue::steal_with_retry(|| {
                handle.remotes[victim]
                    .steal
                    .steal_batch_and_pop(&self.run_queue)
            });
            if let Some(task) = stolen {
                bump(&handle.worker_metrics[self.index].steals);
                return Some(task);
            }
        }
        queue::steal_with_retry(|| handle.inject.steal_batch_and_pop(&self.run_queue))
    }

    fn transition_from_searching(&mut self, handle: &Handle) {
        if !self.is_searching {
            return;
        }
        self.is_searching = false;
        if handle.idle.transition_worker_from_searching() {
            // We were the last searcher and found work: there may be more, keep somebody looking.
            handle.notify_parked();
        }
    }

    /// Returns false when the worker must not sleep (it has work).
    fn transition_to_parked(&mut self, handle: &Handle) -> bool {
        if self.has_tasks() {
            return false;
        }
        let is_last_searcher = handle
            .idle
            .transition_worker_to_parked(self.index, self.is_searching);
        self.is_searching = false;
        if is_last_searcher {
            // Work pushed while we were giving up the search must not be stranded.
            handle.notify_if_work_pending();
        }
        true
    }

    /// Returns true when the worker should leave the park loop.
    fn transition_from_parked(&mut self, handle: &Handle) -> bool {
        if self.has_tasks() {
            self.is_searching = !handle.idle.unpark_worker_by_id(self.index);
            return true;
        }
        if handle.idle.is_parked(self.index) {
            return false;
        }
        // A notifier took us off the sleeper list and counted us as searching.
        self.is_searching = true;
        true
    }

    fn maintenance(&mut self, handle: &Handle) {
        if !self.is_shutdown && handle.is_shutdown() {
            self.is_shutdown = true;
        }
    }

    /// Drops every queued task (shutdown: they were all cancelled through the owned set).
    /// Takes the box as it is handed over: cores live boxed so they move by pointer.
    #[allow(clippy::boxed_local)]
    pub(super) fn drain(mut self: Box<Self>) {
        drop(self.lifo_slot.take());
        while let Some(task) = self.run_queue.pop() {
            drop(task);
        }
    }
}

/// The body of a worker thread.
pub(crate) fn run_worker(handle: Arc<Handle>, core: Box<Core>) {
    let _in_runtime = context::enter_runtime();
    let sched_handle = scheduler::Handle::MultiThread(handle.clone());
    let _current = context::set_current(&sched_handle);
    let cx = scheduler::Context::MultiThread(Context {
        handle: handle.clone(),
        core: RefCell::new(None),
        defer: RefCell::new(Vec::new()),
    });
    context::set_scheduler(&cx, || {
        let scheduler::Context::MultiThread(cx) = &cx else {
            unreachable!()
        };
        let core = cx.run(core);
        cx.shutdown(core);
    });
}

impl Context {
    fn run(&self, mut core: Box<Core>) -> Box<Core> {
        let handle = &*self.handle;
        while !core.is_shutdown {
            core.tick = core.tick.wrapping_add(1);
            if core.tick % EVENT_INTERVAL == 0 {
                core = self.poll_driver(core);
                core.maintenance(handle);
                core.lifo_enabled = true;
                if core.is_shutdown {
                    break;
                }
            }
            if let Some(task) = core.next_task(handle) {
                core = self.run_task(task, core);
                continue;
            }
            if let Some(task) = core.steal_work(handle) {
                core = self.run_task(task, core);
                continue;
            }
            core = if self.defer.borrow().is_empty() {
                self.park(core)
            } else {
                self.poll_driver(core)
            };
            core.lifo_enabled = true;
        }
        core
    }

    fn run_task(&self, task: Notified, mut core: Box<Core>) -> Box<Core> {
        let handle = &*self.handle;
        core.transition_from_searching(handle);
        let index = core.index;
        let metrics = &handle.worker_metrics[index];
        *self.core.borrow_mut() = Some(core);
        coop::budget(|| {
            bump(&metrics.polls);
            task.run();
            let mut lifo_polls = 0;
            loop {
                let mut core = self.take_core();
                let Some(task) = core.lifo_slot.take() else {
                    return core;
                };
                if !coop::has_budget_remaining() || !core.lifo_enabled {
                    // Out of budget: the LIFO task waits its turn in the queue like any other.
                    core.run_queue.push(task);
                    return core;
                }
                lifo_polls += 1;
                if lifo_polls >= MAX_LIFO_POLLS_PER_TICK {
                    core.lifo_enabled = false;
                }
                *self.core.borrow_mut() = Some(core);
                bump(&metrics.polls);
                task.run();
            }
        })
    }

    fn take_core(&self) -> Box<Core> {
        self.core
            .borrow_mut()
            .take()
            .expect("the worker core is always returned to its context")
    }

    fn park(&self, mut core: Box<Core>) -> Box<Core> {
        let handle = &*self.handle;
        if core.transition_to_parked(handle) {
            while !core.is_shutdown {
                bump(&handle.worker_metrics[core.index].parks);
                core = self.park_inner(core, true);
                core.maintenance(handle);
                if core.transition_from_parked(handle) {
                    break;
                }
            }
        }
        core
    }

    fn poll_driver(&self, core: Box<Core>) -> Box<Core> {
        self.park_inner(core, false)
    }

    /// Parks (or only polls the driver) with the core in the context, so tasks woken by I/O
    /// or timers land in this worker's queue.
    fn park_inner(&self, mut core: Box<Core>, block: bool) -> Box<Core> {
        let mut park = core.park.take().expect("park is always returned");
        *self.core.borrow_mut() = Some(core);
        let events = if block {
            park.park(&self.handle.common.driver)
        } else {
            park.poll_driver(&self.handle.common.driver)
        };
        if events != 0 {
            // Shared by all workers: only touch the line when there is something to add.
            self.handle
                .common
                .metrics
                .io_events
                .fetch_add(events as u64, Relaxed);
        }
        self.wake_deferred();
        let mut core = self.take_core();
        core.park = Some(park);
        if core.run_queue.len() > 1 {
            // More work than this worker can start right now: let a sleeper help.
            self.handle.notify_parked();
        }
        core
    }

    fn wake_deferred(&self) {
        let mut deferred = std::mem::take(&mut *self.defer.borrow_mut());
        if deferred.is_empty() {
            return;
        }
        for waker in deferred.drain(..) {
            waker.wake();
        }
        // Hand the (now empty) buffer back so the next round of yields does not grow a fresh
        // Vec from zero. A wake only schedules (it never polls a task on this thread), so the
        // list is normally still empty here; if not, keep what was deferred meanwhile.
        let mut defer = self.defer.borrow_mut();
        if defer.is_empty() {
            *defer = deferred;
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

    fn shutdown(&self, core: Box<Core>) {
        // Cancel every live task (a second worker doing the same finds the set empty).
        self.handle.common.owned.close_and_shutdown_all();
        self.wake_deferred();
        // Wakes during cancellation may have queued tasks into our core.
        let core = self.core.borrow_mut().take().unwrap_or(core);
        self.handle.shutdown_core(core);
    }

    fn schedule_local(&self, core: &mut Core, task: Notified, is_yield: bool) {
        let should_notify = if is_yield || !core.lifo_enabled {
            // A task the yielder woke (parked in the LIFO slot) runs before the yielder gets
            // another turn: otherwise a task that spends its budget would be polled twice in
            // a row ahead of the work it just made ready.
            if let Some(prev) = core.lifo_slot.take() {
                core.run_queue.push(prev);
            }
            core.run_queue.push(task);
            true
        } else {
            match core.lifo_slot.replace(task) {
                Some(prev) => {
                    core.run_queue.push(prev);
                    true
                }
                None => false,
            }
        };
        if should_notify && !core.is_shutdown {
            self.handle.notify_parked();
        }
    }
}

/// See [`Handle::schedule_task`].
pub(super) fn schedule_task(handle: &Arc<Handle>, task: Notified, is_yield: bool) {
    let task = context::with_scheduler(|cx| {
        if let Some(scheduler::Context::MultiThread(cx)) = cx {
            if Arc::ptr_eq(&cx.handle, handle) {
                if let Ok(mut core) = cx.core.try_borrow_mut() {
                    if let Some(core) = core.as_mut() {
                        cx.schedule_local(core, task, is_yield);
                        return None;
                    }
                }
            }
        }
        Some(task)
    });
    if let Some(task) = task {
        if handle.push_remote(task) {
            handle.notify_parked();
        }
    }
}
