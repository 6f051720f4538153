//! Loom models of the task state machine (`state.rs`) and its harness (`cell.rs`).
//!
//! Each model drives one task by hand, the way a scheduler would, from two or three loom
//! threads: a tiny [`Schedule`] implementation keeps woken tasks in a loom-visible queue, and
//! the test pops and runs them. Loom explores every interleaving of the wakers, the runner, the
//! `JoinHandle` and `abort()` (within the preemption bound) and checks, on top of our asserts,
//! that no two threads ever touch the future, the output or the join waker slot at once.
//!
//! The references to a task's cell are counted in its state word, not by an `Arc`, so the
//! models also check the count: the scheduler stored in each test cell counts its own drop,
//! which happens exactly when the cell is freed. Models assert the cell is still alive while
//! they hold a reference (no premature free) and freed exactly once when the last reference is
//! gone (no leak, no double free).
//!
//! The bookkeeping counters of the tests (drops, wakes, polls) are plain `std` atomics: they are
//! only read by asserts, so keeping them out of loom's view keeps the state space small.

use super::cell::{new_task, new_unowned};
use super::{AbortHandle, Id, JoinError, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use crate::loom::sync::atomic::AtomicUsize as LoomAtomicUsize;
use crate::loom::sync::Mutex;
use crate::loom::thread;
use crate::runtime::BlockingSchedule;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Once};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// A run queue shared by the threads of one model.
#[derive(Clone, Default)]
struct TestQueue(Arc<QueueInner>);

#[derive(Default)]
struct QueueInner {
    queue: Mutex<VecDeque<Notified>>,
    /// Calls to `schedule` (wakes and aborts of an idle task).
    scheduled: AtomicUsize,
    /// Calls to `yield_now` (wakes that arrived while the task ran).
    yielded: AtomicUsize,
    released: AtomicUsize,
    /// The owned-task set's reference, as `OwnedTasks` keeps it; handed back by `release`.
    owned: Mutex<Option<Task>>,
    /// Task cells freed (their `CellSchedule` dropped).
    freed: AtomicUsize,
    /// Shutdown closed the queue: pushes drop their entry (as `push_remote` and the
    /// current-thread `schedule_task` do after shutdown). Only read and written under the
    /// `queue` lock, which orders it for loom.
    closed: AtomicBool,
    /// Entries dropped without being run: refused by a closed queue or drained by shutdown.
    dropped_unrun: AtomicUsize,
}

impl TestQueue {
    fn push(&self, task: Notified) {
        let mut queue = self.0.queue.lock();
        if self.0.closed.load(SeqCst) {
            // After shutdown the queues are (being) drained: the entry is dropped, not run.
            drop(queue);
            self.0.dropped_unrun.fetch_add(1, SeqCst);
            drop(task);
            return;
        }
        // A task is in a run queue at most once: a second entry means two wakes both decided
        // to submit it (a double schedule), and two threads could then run it at once.
        assert!(
            !queue.iter().any(|t| t.addr() == task.addr()),
            "task queued twice"
        );
        queue.push_back(task);
    }

    fn pop(&self) -> Option<Notified> {
        self.0.queue.lock().pop_front()
    }

    /// Runs queued tasks until the queue is empty; returns how many entries ran.
    fn run_all(&self) -> usize {
        let mut n = 0;
        while let Some(task) = self.pop() {
            task.run();
            n += 1;
        }
        n
    }

    /// Runtime shutdown's side of the queues: refuse pushes from now on (`is_shutdown`).
    fn close(&self) {
        let _queue = self.0.queue.lock();
        self.0.closed.store(true, SeqCst);
    }

    /// What `Core::drain` and `drain_injector` do: drop every queued entry without running it
    /// (outside the lock, as the real drains drop them after taking them out).
    fn drain(&self) -> usize {
        let drained: Vec<Notified> = self.0.queue.lock().drain(..).collect();
        let n = drained.len();
        self.0.dropped_unrun.fetch_add(n, SeqCst);
        drop(drained);
        n
    }

    fn dropped_unrun(&self) -> usize {
        self.0.dropped_unrun.load(SeqCst)
    }

    fn scheduled(&self) -> usize {
        self.0.scheduled.load(SeqCst)
    }

    fn yielded(&self) -> usize {
        self.0.yielded.load(SeqCst)
    }

    fn released(&self) -> usize {
        self.0.released.load(SeqCst)
    }

    fn freed(&self) -> usize {
        self.0.freed.load(SeqCst)
    }

    /// Takes the owned-set reference out (what shutdown's drain of the set does).
    fn take_owned(&self) -> Option<Task> {
        self.0.owned.lock().take()
    }
}

/// The scheduler stored in a test cell: forwards to the queue and counts the cell's free.
struct CellSchedule(TestQueue);

impl Drop for CellSchedule {
    fn drop(&mut self) {
        let prev = self.0 .0.freed.fetch_add(1, SeqCst);
        assert_eq!(prev, 0, "task cell freed twice");
    }
}

impl Schedule for CellSchedule {
    fn schedule(&self, task: Notified) {
        self.0 .0.scheduled.fetch_add(1, SeqCst);
        self.0.push(task);
    }

    fn yield_now(&self, task: Notified) {
        self.0 .0.yielded.fetch_add(1, SeqCst);
        self.0.push(task);
    }

    fn release(&self, _id: Id) -> Option<Task> {
        self.0 .0.released.fetch_add(1, SeqCst);
        // Taken under the lock, given back (and so dropped by the caller) after it.
        let owned = self.0 .0.owned.lock().take();
        owned
    }
}

/// Spawns `future` on `queue` the way `OwnedTasks::bind` + `schedule` do: a new task holds
/// three references (owned set, run queue entry, join handle), is notified and sits in the run
/// queue once. Each model spawns one task per queue.
fn spawn<F>(queue: &TestQueue, future: F) -> (JoinHandle<F::Output>, AbortHandle)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (task, notified, join) = new_task(future, CellSchedule(queue.clone()), Id::next());
    *queue.0.owned.lock() = Some(task);
    let abort = join.abort_handle();
    queue.push(notified);
    (join, abort)
}

/// The end of a model: after the caller dropped its handles, a drained queue and an emptied
/// resource slot leave no reference: the cell must have been freed, exactly once.
fn assert_freed_once(queue: &TestQueue, gate: Option<&GateShared>) {
    assert_eq!(queue.run_all(), 0, "nothing left to run");
    if let Some(gate) = gate {
        let waker = gate.slot.lock().take();
        drop(waker);
    }
    assert!(
        queue.take_owned().is_none(),
        "a complete task left the owned set"
    );
    assert_eq!(queue.freed(), 1, "task cell leaked (or freed twice)");
}

/// Counts how often it is dropped.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A waker that counts its clones, drops and wakes, so a waker dropped twice (or never) shows.
struct WakerCounts {
    clones: AtomicUsize,
    drops: AtomicUsize,
    wakes: AtomicUsize,
}

impl WakerCounts {
    fn new() -> Arc<WakerCounts> {
        Arc::new(WakerCounts {
            clones: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
        })
    }

    fn waker(self: &Arc<Self>) -> Waker {
        let ptr = Arc::into_raw(self.clone()) as *const ();
        // SAFETY: the vtable functions treat `ptr` as an `Arc<WakerCounts>` holding one count,
        // which `into_raw` just gave us.
        unsafe { Waker::from_raw(RawWaker::new(ptr, &COUNTING_VTABLE)) }
    }

    /// Every waker made by `waker()` and every clone of it has been dropped, once each.
    fn assert_all_dropped(&self, made: usize) {
        assert_eq!(
            self.drops.load(SeqCst),
            made + self.clones.load(SeqCst),
            "waker leaked or dropped twice"
        );
    }

    fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

static COUNTING_VTABLE: RawWakerVTable = RawWakerVTable::new(
    counting_clone,
    counting_wake,
    counting_wake_by_ref,
    counting_drop,
);

unsafe fn counting_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` is an `Arc<WakerCounts>` kept alive by the waker being cloned.
    let counts = unsafe { &*(ptr as *const WakerCounts) };
    counts.clones.fetch_add(1, SeqCst);
    // SAFETY: as above; the clone owns the new count.
    unsafe { Arc::increment_strong_count(ptr as *const WakerCounts) };
    RawWaker::new(ptr, &COUNTING_VTABLE)
}

unsafe fn counting_wake(ptr: *const ()) {
    // SAFETY: an owned waker; `counting_drop` releases its count.
    unsafe {
        counting_wake_by_ref(ptr);
        counting_drop(ptr);
    }
}

unsafe fn counting_wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker keeps the `Arc` alive during the call.
    let counts = unsafe { &*(ptr as *const WakerCounts) };
    counts.wakes.fetch_add(1, SeqCst);
}

unsafe fn counting_drop(ptr: *const ()) {
    // SAFETY: the waker owned one count of the `Arc`, released here.
    let counts = unsafe { Arc::from_raw(ptr as *const WakerCounts) };
    counts.drops.fetch_add(1, SeqCst);
}

/// Polls a join handle once with `waker`.
fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// A waker that does nothing, for polls whose wake-up the model does not need.
fn noop_waker() -> Waker {
    Waker::noop().clone()
}

/// A future whose wake-ups come from other threads: every poll publishes the task's waker in
/// `slot`; it completes once `fired` reaches `needed`.
struct Gate {
    shared: Arc<GateShared>,
    needed: usize,
    polls: Arc<AtomicUsize>,
    _drop: DropCount,
}

struct GateShared {
    slot: Mutex<Option<Waker>>,
    fired: LoomAtomicUsize,
}

impl GateShared {
    fn new() -> Arc<GateShared> {
        Arc::new(GateShared {
            slot: Mutex::new(None),
            fired: LoomAtomicUsize::new(0),
        })
    }

    /// As `fire`, but the resource gives its waker up (wakes it by value): the wake may give up
    /// the task's last reference.
    fn fire_once(&self) {
        self.fired.fetch_add(1, SeqCst);
        let waker = self.slot.lock().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// What a resource does when it becomes ready: record it, then wake the task.
    fn fire(&self) {
        self.fired.fetch_add(1, SeqCst);
        let waker = self.slot.lock().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Gate {
    type Output = DropCount;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropCount> {
        self.polls.fetch_add(1, SeqCst);
        *self.shared.slot.lock() = Some(cx.waker().clone());
        if self.shared.fired.load(SeqCst) >= self.needed {
            Poll::Ready(DropCount(self.polls.clone()))
        } else {
            Poll::Pending
        }
    }
}

/// A future that completes on its `ready_on`-th poll, waking itself before each earlier one
/// returns (a yield), and whose output counts its drops.
struct Countdown {
    ready_on: usize,
    polls: usize,
    output_drops: Arc<AtomicUsize>,
    _drop: DropCount,
}

impl Future for Countdown {
    type Output = DropCount;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropCount> {
        self.polls += 1;
        if self.polls >= self.ready_on {
            Poll::Ready(DropCount(self.output_drops.clone()))
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Wake while running: two resources fire from two threads while the runner polls the task.
/// Every wake that finds the task idle submits it exactly once, wakes during a poll turn into
/// exactly one reschedule by the runner, no wake is lost (the task completes) and every queue
/// entry turns into exactly one poll.
#[test]
fn wake_while_running() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 2,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, _abort) = spawn(&queue, gate);
        // First poll: the task parks on the gate.
        assert_eq!(queue.run_all(), 1);

        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || shared.fire())
            })
            .collect();
        // The runner works concurrently with the wakes.
        let mut runs = 1 + queue.run_all();
        for th in wakers {
            th.join().unwrap();
        }
        runs += queue.run_all();

        assert_eq!(
            runs,
            polls.load(SeqCst),
            "every queue entry is exactly one poll"
        );
        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped once, at completion"
        );
        assert_eq!(queue.released(), 1);
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(_output)) => {}
            other => panic!(
                "lost wake-up: the task did not complete ({:?})",
                other.map(|r| r.is_ok())
            ),
        }
        assert_eq!(
            queue.freed(),
            0,
            "freed while the handles and a waker remain"
        );
        drop((join, _abort));
        assert_freed_once(&queue, Some(&shared));
    });
}

/// Wake after complete: a waker kept by a resource fires while (or after) the task completes.
/// A complete task is never submitted again, and the stale waker is harmless.
#[test]
fn wake_after_complete() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        // Fired once before the first poll: the task completes on that poll, but leaves its
        // waker with the resource first.
        shared.fired.fetch_add(1, SeqCst);
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, _abort) = spawn(&queue, gate);
        let stale = {
            // The resource still holds the task's waker after the task is gone.
            let shared = shared.clone();
            thread::spawn(move || shared.fire())
        };
        queue.run_all();
        stale.join().unwrap();
        assert_eq!(
            queue.run_all(),
            0,
            "a complete task is never in a run queue"
        );
        assert_eq!(
            queue.scheduled() + queue.yielded(),
            0,
            "no schedule after completion"
        );
        assert_eq!(polls.load(SeqCst), 1);
        assert_eq!(future_drops.load(SeqCst), 1);
        assert!(matches!(
            poll_join(&mut join, &noop_waker()),
            Poll::Ready(Ok(_))
        ));
        drop((join, _abort));
        assert_freed_once(&queue, Some(&shared));
    });
}

/// Abort racing complete: `abort()` from another thread while the task makes its last poll
/// (`ready_on` polls in all; with 2 the first poll yields, so abort also races the transition
/// back to idle). The handle sees the output or `Cancelled` — never both, never neither — the
/// future is dropped exactly once and an output, if made, is dropped exactly once.
fn abort_racing_complete(ready_on: usize) {
    loom::model(move || {
        let queue = TestQueue::default();
        let (future_drops, output_drops) = (counter(), counter());
        let future = Countdown {
            ready_on,
            polls: 0,
            output_drops: output_drops.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, abort) = spawn(&queue, future);
        let aborter = thread::spawn(move || abort.abort());
        queue.run_all();
        aborter.join().unwrap();
        queue.run_all();

        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
        assert_eq!(queue.released(), 1, "the task completes exactly once");
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(output)) => {
                assert_eq!(output_drops.load(SeqCst), 0);
                drop(output);
                assert_eq!(output_drops.load(SeqCst), 1);
            }
            Poll::Ready(Err(e)) => {
                assert!(e.is_cancelled(), "{e}");
                assert_eq!(output_drops.load(SeqCst), 0, "no output when cancelled");
            }
            Poll::Pending => panic!("neither output nor cancellation"),
        }
        drop(join);
        assert!(output_drops.load(SeqCst) <= 1);
        assert_freed_once(&queue, None);
    });
}

#[test]
fn abort_racing_complete_first_poll() {
    abort_racing_complete(1);
}

#[test]
fn abort_racing_complete_after_yield() {
    abort_racing_complete(2);
}

/// Abort racing a wake: the task is parked on a resource; one thread fires the resource while
/// another aborts. The task completes exactly once (with output or `Cancelled`) and is never
/// queued twice.
#[test]
fn abort_racing_wake() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, abort) = spawn(&queue, gate);
        assert_eq!(queue.run_all(), 1);
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire())
        };
        let aborter = thread::spawn(move || abort.abort());
        queue.run_all();
        waker.join().unwrap();
        aborter.join().unwrap();
        queue.run_all();

        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(queue.released(), 1);
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(output)) => drop(output),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
            Poll::Pending => panic!("abort and wake both lost"),
        }
        drop(join);
        assert_freed_once(&queue, Some(&shared));
    });
}

/// JoinHandle dropped early or racing completion (optionally after registering a join waker):
/// the output is dropped exactly once (by whichever side is last), the join waker is dropped
/// exactly once, and loom checks the waker slot is never touched by both sides at once.
fn join_handle_dropped_racing_complete(register_waker: bool) {
    loom::model(move || {
        let queue = TestQueue::default();
        let (future_drops, output_drops) = (counter(), counter());
        let future = Countdown {
            ready_on: 1,
            polls: 0,
            output_drops: output_drops.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, _abort) = spawn(&queue, future);
        let counts = WakerCounts::new();
        if register_waker {
            let waker = counts.waker();
            assert!(poll_join(&mut join, &waker).is_pending());
            drop(waker);
        }
        let dropper = thread::spawn(move || drop(join));
        queue.run_all();
        dropper.join().unwrap();

        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(
            output_drops.load(SeqCst),
            1,
            "the output is dropped exactly once"
        );
        counts.assert_all_dropped(usize::from(register_waker));
        assert!(counts.wakes() <= 1);
        drop(_abort);
        assert_freed_once(&queue, None);
    });
}

#[test]
fn join_handle_dropped_racing_complete_no_waker() {
    join_handle_dropped_racing_complete(false);
}

#[test]
fn join_handle_dropped_racing_complete_with_waker() {
    join_handle_dropped_racing_complete(true);
}

/// Join waker replacement racing completion: the handle, polled before with waker A, is polled
/// from another thread with waker B (so it must swap the waker in the slot) while the task
/// completes. If that poll returns `Pending`, B — not A — must be woken; every waker is dropped
/// exactly once; the output reaches the handle exactly once.
#[test]
fn join_waker_replaced_racing_complete() {
    loom::model(|| {
        let queue = TestQueue::default();
        let (future_drops, output_drops) = (counter(), counter());
        let future = Countdown {
            ready_on: 1,
            polls: 0,
            output_drops: output_drops.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, _abort) = spawn(&queue, future);
        let (a, b) = (WakerCounts::new(), WakerCounts::new());
        let waker_a = a.waker();
        assert!(poll_join(&mut join, &waker_a).is_pending());
        drop(waker_a);

        let b2 = b.clone();
        let poller = thread::spawn(move || {
            let waker_b = b2.waker();
            let first = poll_join(&mut join, &waker_b);
            (join, waker_b, first.map(|r| r.map(|o| drop(o)).is_ok()))
        });
        queue.run_all();
        let (mut join, waker_b, first) = poller.join().unwrap();
        match first {
            Poll::Ready(ok) => assert!(ok),
            Poll::Pending => {
                assert!(
                    b.wakes() >= 1,
                    "lost wake-up: the new join waker was not woken"
                );
                match poll_join(&mut join, &waker_b) {
                    Poll::Ready(Ok(output)) => drop(output),
                    _ => panic!("woken but not complete"),
                }
            }
        }
        drop(waker_b);
        drop(join);
        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(output_drops.load(SeqCst), 1);
        a.assert_all_dropped(1);
        b.assert_all_dropped(1);
        drop(_abort);
        assert_freed_once(&queue, None);
    });
}

/// Shutdown racing a wake: runtime shutdown cancels an idle task from one thread while a
/// resource wakes it from another and the runner drains the queue. The future is dropped once,
/// the handle sees `Cancelled` or the output, and a queue entry left behind is skipped.
#[test]
fn shutdown_racing_wake() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, abort) = spawn(&queue, gate);
        drop(abort);
        assert_eq!(queue.run_all(), 1);
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire())
        };
        // What `close_and_shutdown_all` does: take the set's reference and shut down through it.
        let task = queue
            .take_owned()
            .expect("an incomplete task is in the owned set");
        let shutdown = thread::spawn(move || task.shutdown());
        queue.run_all();
        waker.join().unwrap();
        shutdown.join().unwrap();
        queue.run_all();

        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(queue.released(), 1);
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(output)) => drop(output),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
            Poll::Pending => panic!("shutdown left the task incomplete"),
        }
        drop(join);
        assert_freed_once(&queue, Some(&shared));
    });
}

/// Reference count under a race of everything that holds a reference: a resource wakes the
/// parked task by value and gives its waker up, another thread drops a spare waker clone, the
/// abort handle and the join handle, and the runner completes the task. Whichever of them gives
/// up the last reference frees the cell, exactly once; nobody frees it while a reference is
/// still held (the cell's scheduler counts its drop, and a premature free shows as a second
/// free or as an underflow of the count, which loom builds check).
#[test]
fn refcount_wake_drop_join_complete() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (join, abort) = spawn(&queue, gate);
        assert_eq!(queue.run_all(), 1);
        let spare = shared
            .slot
            .lock()
            .clone()
            .expect("the first poll left a waker");
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire_once())
        };
        let dropper = thread::spawn(move || {
            drop(spare);
            drop(abort);
            drop(join);
        });
        queue.run_all();
        waker.join().unwrap();
        dropper.join().unwrap();
        queue.run_all();

        assert_eq!(future_drops.load(SeqCst), 1, "the task completed once");
        assert_eq!(queue.released(), 1);
        assert_freed_once(&queue, Some(&shared));
    });
}

/// Wakes by value while the task runs: the waker's reference is given up by the same
/// transition that sets NOTIFIED, the runner takes one for the reschedule, and the last
/// reference (here: the join handle's, dropped concurrently) frees the cell once.
#[test]
fn refcount_wake_by_val_while_running() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 2,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (join, abort) = spawn(&queue, gate);
        drop(abort);
        assert_eq!(queue.run_all(), 1);
        // One wake is consumed before the runner starts (the task is queued once), the second
        // races its poll.
        shared.fire_once();
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire_once())
        };
        let dropper = thread::spawn(move || drop(join));
        queue.run_all();
        waker.join().unwrap();
        dropper.join().unwrap();
        queue.run_all();

        assert_eq!(future_drops.load(SeqCst), 1, "no wake-up lost");
        assert_freed_once(&queue, Some(&shared));
    });
}

/// The cancel paths and the count: an abort (which takes a reference for the queue entry it
/// submits) and a wake by reference (likewise) race each other and the runner; the abort
/// handle and the waker clone are dropped by the threads that used them. The task completes
/// once, with output or `Cancelled`, and the cell is freed once when the join handle goes.
#[test]
fn refcount_abort_racing_wake_by_ref() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, abort) = spawn(&queue, gate);
        assert_eq!(queue.run_all(), 1);
        let waker = shared
            .slot
            .lock()
            .clone()
            .expect("the first poll left a waker");
        shared.fired.fetch_add(1, SeqCst);
        let aborter = thread::spawn(move || {
            abort.abort();
            drop(abort);
        });
        let waking = thread::spawn(move || {
            waker.wake_by_ref();
            drop(waker);
        });
        queue.run_all();
        aborter.join().unwrap();
        waking.join().unwrap();
        queue.run_all();

        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(queue.released(), 1);
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(output)) => drop(output),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
            Poll::Pending => panic!("abort and wake both lost"),
        }
        assert_eq!(queue.freed(), 0, "freed while the join handle is alive");
        drop(join);
        assert_freed_once(&queue, Some(&shared));
    });
}

/// A stale waker is the last reference: the task completes on its first poll while its join
/// handle is dropped on another thread and a resource wakes (by value) the waker it kept.
/// The completion, the handle drop or the stale wake frees the cell, exactly once.
#[test]
fn refcount_stale_waker_last() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        shared.fired.fetch_add(1, SeqCst);
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (join, abort) = spawn(&queue, gate);
        drop(abort);
        let stale = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire_once())
        };
        let dropper = thread::spawn(move || drop(join));
        queue.run_all();
        stale.join().unwrap();
        dropper.join().unwrap();

        // `Gate` counts its polls and its output's drops on one counter: one poll, and the
        // output dropped once (by the handle or by the completion).
        assert_eq!(polls.load(SeqCst), 2);
        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(queue.scheduled() + queue.yielded(), 0);
        assert_freed_once(&queue, Some(&shared));
    });
}

/// Counts, across all iterations of one model, how often an interesting path was taken, so a
/// model can assert that loom really explored it (a model that never reaches the path it is
/// about proves nothing).
struct PathCount(AtomicUsize);

impl PathCount {
    const fn new() -> PathCount {
        PathCount(AtomicUsize::new(0))
    }

    fn hit(&self) {
        self.0.fetch_add(1, SeqCst);
    }

    fn assert_hit(&self, what: &str) {
        assert!(self.0.load(SeqCst) > 0, "the model never explored: {what}");
    }
}

/// Shutdown drops queued entries without running them: the task is parked on a resource; one
/// thread wakes it by value (the resource gives its waker up), so an entry may be queued; the
/// shutdown thread closes the queues (`is_shutdown`: later pushes drop their entry, as
/// `push_remote` does), cancels the task through the owned set (`close_and_shutdown_all`) and
/// drains the queues, dropping what it finds (`Core::drain`, `drain_injector`); the main thread
/// drops a spare waker and the join handle meanwhile. A dropped entry gives up its reference
/// like any other: the future is dropped once (by the cancellation), and the cell is freed
/// exactly once — by whichever of the drained entry, the refused push, the waker or the handle
/// goes last — never while a reference is held.
#[test]
fn shutdown_drops_queued_entries() {
    static REFUSED: PathCount = PathCount::new();
    static DRAINED: PathCount = PathCount::new();
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 1,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (join, abort) = spawn(&queue, gate);
        drop(abort);
        assert_eq!(queue.run_all(), 1);
        let spare = shared
            .slot
            .lock()
            .clone()
            .expect("the first poll left a waker");
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire_once())
        };
        let task = queue
            .take_owned()
            .expect("an incomplete task is in the owned set");
        let shutdown = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.close();
                task.shutdown();
                queue.drain()
            })
        };
        drop(spare);
        drop(join);
        waker.join().unwrap();
        let drained = shutdown.join().unwrap();
        if drained > 0 {
            DRAINED.hit();
        } else if queue.dropped_unrun() > 0 {
            REFUSED.hit();
        }

        assert_eq!(
            polls.load(SeqCst),
            1,
            "a queued entry never ran after shutdown"
        );
        assert_eq!(future_drops.load(SeqCst), 1, "cancelled once, by shutdown");
        assert_eq!(queue.released(), 1, "the task completed once");
        assert!(queue.dropped_unrun() <= 1, "one entry at most");
        assert_freed_once(&queue, Some(&shared));
    });
    DRAINED.assert_hit("an entry drained by shutdown");
    REFUSED.assert_hit("an entry refused by a closed queue");
}

/// The scheduler of an unowned test cell: the blocking pool's `BlockingSchedule` (which drops
/// any entry it is asked to schedule), plus the free counter of the models.
struct BlockingCell(BlockingSchedule, TestQueue);

impl Drop for BlockingCell {
    fn drop(&mut self) {
        let prev = self.1 .0.freed.fetch_add(1, SeqCst);
        assert_eq!(prev, 0, "task cell freed twice");
    }
}

impl Schedule for BlockingCell {
    fn schedule(&self, task: Notified) {
        self.1 .0.scheduled.fetch_add(1, SeqCst);
        self.0.schedule(task);
    }

    fn yield_now(&self, task: Notified) {
        self.1 .0.yielded.fetch_add(1, SeqCst);
        self.0.yield_now(task);
    }

    fn release(&self, id: Id) -> Option<Task> {
        self.1 .0.released.fetch_add(1, SeqCst);
        self.0.release(id)
    }
}

/// Never completes and keeps no waker: nothing but its handles keep the task alive.
struct PendingNoWaker(#[allow(dead_code)] DropCount);

impl Future for PendingNoWaker {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// An unowned task (the blocking pool's kind: two references, the run queue entry and the join
/// handle, no owned-set entry) whose poll returns `Pending` while its join handle is dropped
/// on another thread. If the handle goes first, the runner's reference is the last one and
/// `transition_to_idle` reports `IdleLastRef`: the runner frees the cell (dropping the future
/// in it). Otherwise the handle's drop frees it. Either way: once.
#[test]
fn unowned_idle_last_ref() {
    loom::model(|| {
        let queue = TestQueue::default();
        let future_drops = counter();
        let (notified, join) = new_unowned(
            PendingNoWaker(DropCount(future_drops.clone())),
            BlockingCell(BlockingSchedule, queue.clone()),
            Id::next(),
        );
        let dropper = thread::spawn(move || drop(join));
        notified.run();
        dropper.join().unwrap();

        assert_freed_once(&queue, None);
        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped with the cell"
        );
        assert_eq!(queue.released(), 0, "it never completed");
    });
}

/// An unowned task parked on a resource is woken by value on one thread and aborted on
/// another while its join handle is dropped on a third. The wake or the abort that submits the
/// task hands its new entry to `BlockingSchedule::schedule`, which drops it (blocking tasks are
/// never queued twice); the task then stays notified and is never run again, so the last of
/// the waker, the abort handle and the join handle frees the cell, exactly once.
#[test]
fn unowned_entry_dropped_by_blocking_schedule() {
    loom::model(|| {
        let queue = TestQueue::default();
        let shared = GateShared::new();
        let (polls, future_drops) = (counter(), counter());
        let gate = Gate {
            shared: shared.clone(),
            needed: 2,
            polls: polls.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (notified, join) = new_unowned(
            gate,
            BlockingCell(BlockingSchedule, queue.clone()),
            Id::next(),
        );
        let abort = join.abort_handle();
        notified.run();
        let waker = {
            let shared = shared.clone();
            thread::spawn(move || shared.fire_once())
        };
        let aborter = thread::spawn(move || {
            abort.abort();
            drop(abort);
        });
        drop(join);
        waker.join().unwrap();
        aborter.join().unwrap();

        assert_freed_once(&queue, Some(&shared));
        assert_eq!(polls.load(SeqCst), 1);
        assert_eq!(
            queue.scheduled(),
            1,
            "exactly one of wake and abort submits"
        );
        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped with the cell"
        );
    });
}

/// The scheduler of a cell bound to a real `OwnedTasks`: completion removes the task from the
/// set, as the runtime's `Handle::release` does.
struct OwnedCell {
    owned: Arc<OwnedTasks>,
    queue: TestQueue,
}

impl Drop for OwnedCell {
    fn drop(&mut self) {
        let prev = self.queue.0.freed.fetch_add(1, SeqCst);
        assert_eq!(prev, 0, "task cell freed twice");
    }
}

impl Schedule for OwnedCell {
    fn schedule(&self, task: Notified) {
        self.queue.0.scheduled.fetch_add(1, SeqCst);
        self.queue.push(task);
    }

    fn yield_now(&self, task: Notified) {
        self.queue.0.yielded.fetch_add(1, SeqCst);
        self.queue.push(task);
    }

    fn release(&self, id: Id) -> Option<Task> {
        self.queue.0.released.fetch_add(1, SeqCst);
        self.owned.remove(id)
    }
}

/// `OwnedTasks::bind` racing `close_and_shutdown_all`: a spawn on one thread, runtime shutdown
/// on another. If the set closed first, `bind` shuts the new task down at once (cancelling it
/// through the set's reference) and drops the run queue entry; otherwise shutdown finds the
/// task in the set and cancels it, or the queue entry runs it first. Of the three references
/// counted at allocation none is lost or given up twice: the handle sees the output or
/// `Cancelled`, and its drop frees the cell once.
#[test]
fn bind_racing_close() {
    static CLOSED_FIRST: PathCount = PathCount::new();
    loom::model(|| {
        let queue = TestQueue::default();
        let owned = Arc::new(OwnedTasks::new(1));
        let (future_drops, output_drops) = (counter(), counter());
        let spawner = {
            let (queue, owned) = (queue.clone(), owned.clone());
            let future = Countdown {
                ready_on: 1,
                polls: 0,
                output_drops: output_drops.clone(),
                _drop: DropCount(future_drops.clone()),
            };
            thread::spawn(move || {
                let sched = OwnedCell {
                    owned: owned.clone(),
                    queue: queue.clone(),
                };
                let (join, notified) = owned.bind(future, sched, Id::next());
                let bound = notified.is_some();
                if let Some(notified) = notified {
                    queue.push(notified);
                }
                (join, bound)
            })
        };
        let shutdown = {
            let owned = owned.clone();
            thread::spawn(move || owned.close_and_shutdown_all())
        };
        let (mut join, bound) = spawner.join().unwrap();
        shutdown.join().unwrap();
        if !bound {
            CLOSED_FIRST.hit();
            assert!(
                join.is_finished(),
                "bind on a closed set completes the task"
            );
        }
        queue.run_all();

        assert_eq!(owned.len(), 0, "nothing left in the set");
        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(queue.released(), 1, "the task completed once");
        match poll_join(&mut join, &noop_waker()) {
            Poll::Ready(Ok(output)) => drop(output),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
            Poll::Pending => panic!("shutdown left the task incomplete"),
        }
        assert_eq!(queue.freed(), 0, "freed while the join handle is alive");
        drop(join);
        assert!(output_drops.load(SeqCst) <= 1);
        assert_freed_once(&queue, None);
    });
    CLOSED_FIRST.assert_hit("bind on a closed set");
}

/// The payload of the panics the panic models cause on purpose; it counts its drops.
struct ExpectedPanic(#[allow(dead_code)] DropCount);

/// Keeps the default panic message out of the output for the panics the models cause on
/// purpose (thousands of iterations); every other panic is reported as usual.
fn silence_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let expected = payload.is::<ExpectedPanic>()
                || payload.downcast_ref::<&str>() == Some(&EXPECTED)
                || payload.downcast_ref::<String>().map(String::as_str) == Some(EXPECTED);
            if expected {
                return;
            }
            default(info);
        }));
    });
}

/// The message of the expected panics raised by destructors (which cannot carry a payload).
const EXPECTED: &str = "expected panic (loom model)";

/// Panics on its first poll with an `ExpectedPanic` payload, whose drop is counted.
struct PanicOnPoll {
    payload_drops: Arc<AtomicUsize>,
    _drop: DropCount,
}

impl Future for PanicOnPoll {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        std::panic::panic_any(ExpectedPanic(DropCount(self.payload_drops.clone())))
    }
}

/// A future panics in its poll while its join handle (which registered a join waker first) is
/// dropped on another thread. The panic is caught by the harness and stored as the output
/// (`JoinError::Panic`): the future is dropped once, the payload once (by whichever of the
/// completion and the handle drop comes last), the join waker once, nothing unwinds out of the
/// runner or the handle drop, and the cell is freed exactly once.
#[test]
fn panic_in_poll_racing_join_drop() {
    silence_expected_panics();
    loom::model(|| {
        let queue = TestQueue::default();
        let (future_drops, payload_drops) = (counter(), counter());
        let future = PanicOnPoll {
            payload_drops: payload_drops.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (mut join, abort) = spawn(&queue, future);
        drop(abort);
        let counts = WakerCounts::new();
        let waker = counts.waker();
        assert!(poll_join(&mut join, &waker).is_pending());
        drop(waker);
        // The handles are unwind safe (see `join.rs`): no `AssertUnwindSafe` needed.
        let dropper = thread::spawn(move || catch_unwind(move || drop(join)).is_ok());
        let runner_ok = catch_unwind(AssertUnwindSafe(|| queue.run_all())).is_ok();
        let dropper_ok = dropper.join().unwrap();

        assert_freed_once(&queue, None);
        assert!(runner_ok, "a panic unwound out of the runner");
        assert!(dropper_ok, "a panic unwound out of the join handle drop");
        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(
            payload_drops.load(SeqCst),
            1,
            "the panic payload is dropped once"
        );
        assert_eq!(queue.released(), 1);
        counts.assert_all_dropped(1);
    });
}

/// An output whose destructor panics (after counting the drop).
struct PanicOnDrop(Arc<AtomicUsize>);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
        std::panic::panic_any(EXPECTED);
    }
}

/// Completes on its first poll with a `PanicOnDrop` output.
struct ReadyPanicOnDrop {
    output_drops: Arc<AtomicUsize>,
    _drop: DropCount,
}

impl Future for ReadyPanicOnDrop {
    type Output = PanicOnDrop;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<PanicOnDrop> {
        Poll::Ready(PanicOnDrop(self.output_drops.clone()))
    }
}

/// An output whose `Drop` panics, dropped by whichever of the completing runner (handle gone)
/// and the join handle's drop (task complete) comes last, racing each other. The panic is
/// swallowed on both sides, so it can skip neither the other bookkeeping nor the reference
/// decrement: the output is dropped once and the cell freed exactly once.
#[test]
fn output_drop_panics_racing_join_drop() {
    silence_expected_panics();
    loom::model(|| {
        let queue = TestQueue::default();
        let (future_drops, output_drops) = (counter(), counter());
        let future = ReadyPanicOnDrop {
            output_drops: output_drops.clone(),
            _drop: DropCount(future_drops.clone()),
        };
        let (join, abort) = spawn(&queue, future);
        drop(abort);
        let dropper = thread::spawn(move || catch_unwind(move || drop(join)).is_ok());
        let runner_ok = catch_unwind(AssertUnwindSafe(|| queue.run_all())).is_ok();
        let dropper_ok = dropper.join().unwrap();

        assert_freed_once(&queue, None);
        assert!(runner_ok, "a panic unwound out of the runner");
        assert!(dropper_ok, "a panic unwound out of the join handle drop");
        assert_eq!(future_drops.load(SeqCst), 1);
        assert_eq!(output_drops.load(SeqCst), 1, "the output is dropped once");
        assert_eq!(queue.released(), 1);
    });
}
