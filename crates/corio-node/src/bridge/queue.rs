//! The thread-safe half of the bridge: the completion queue of one Node environment, and the
//! task wrapper that feeds it.
//!
//! Invariants:
//! - Every spawned [`OpTask`] delivers exactly one [`Completion`]: its output, a panic turned
//!   into an error, or — if the task is dropped before finishing (aborted by `cancel`/`close`,
//!   or dropped by the runtime) — a `Dropped` marker that the JS side resolves into the reason
//!   it recorded. So every promise settles, and settles only after the native future is gone.
//! - An op that holds a lock other ops queue on (a socket's direction lock) hands its owned
//!   guard to [`release_after_settle`]: the lock passes on only after the op's completion is
//!   queued, so the op queued next cannot complete first and ops queued on one lock settle in
//!   the order they ran. Nothing else outlives the future (the guard owns only the lock).
//! - The wake-up (one `napi_call_threadsafe_function`) happens only when the queue goes from
//!   empty to non-empty: one wake-up per batch however many operations complete.
//! - Once the environment is torn down (`dead`), completions are dropped on the worker thread
//!   and the threadsafe function is never touched again. `dead` is set under the write side of
//!   a lock whose read side every pusher holds from its check through its signal, so no signal
//!   can race with teardown.
//! - The items have their own mutex, released before the signal: the JS thread the signal
//!   wakes takes that mutex at once to drain, and found it still held by the signalling worker
//!   (inside its `write` to Node's async handle) often enough to cost a futex sleep and a
//!   context switch per wake-up in the echo profile (docs/benchmarks.md).

use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::{Context, Poll};

use napi::sys;

use crate::errors::OpError;

/// What a successful operation produced; turned into a JS value on the JS thread.
pub(crate) enum Outcome {
    Undefined,
    Number(f64),
    Pair(f64, f64),
    /// `null`: end of stream of a read.
    Null,
    /// Bytes read natively; copied into the op's JS buffer at settle time.
    Read(crate::net::shared::ReadDone),
    Stream(crate::net::conn::NetStream),
    Listener(corio::net::TcpListener),
    UnixListener(crate::net::unix_listener::UnixBound),
}

/// Result of one operation.
pub(crate) type OpResult = Result<Outcome, OpError>;

/// Identifies an op in its env's table: slot index (low 32 bits) + generation (high 32 bits).
pub(crate) type OpKey = u64;

/// One finished operation waiting for the JS thread.
pub(crate) struct Completion {
    pub(crate) key: OpKey,
    pub(crate) result: OpResult,
}

/// The completion queue of one Node environment (shared with the runtime threads).
pub(crate) struct EnvQueue {
    /// Finished ops waiting for the JS thread.
    items: Mutex<Vec<Completion>>,
    /// `true` once the env is torn down; read-locked by pushers through their signal.
    dead: RwLock<bool>,
    /// The env's wake-up; set once right after creation, before any op can push.
    tsfn: AtomicPtr<sys::napi_threadsafe_function__>,
}

/// Every environment's queue, so that a runtime shutdown can wake each JS thread (an env with
/// nothing pending gets no completion, yet its listeners must stop holding its event loop).
static LIVE: Mutex<Vec<Weak<EnvQueue>>> = Mutex::new(Vec::new());

/// Wakes the JS thread of every live environment once (its drain then sees the runtime's
/// state). Any thread; never blocks on a JS thread.
pub(crate) fn wake_every_env() {
    let live: Vec<Arc<EnvQueue>> = {
        let mut list = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|q| q.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    };
    for q in live {
        let dead = q.dead.read().unwrap_or_else(|p| p.into_inner());
        if !*dead {
            q.signal();
        }
    }
}

impl EnvQueue {
    /// Records `queue` among the live environments' queues (see [`wake_every_env`]).
    pub(crate) fn register(queue: &Arc<EnvQueue>) {
        let mut list = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|q| q.strong_count() > 0);
        list.push(Arc::downgrade(queue));
    }

    pub(crate) fn new() -> EnvQueue {
        EnvQueue {
            items: Mutex::new(Vec::with_capacity(64)),
            dead: RwLock::new(false),
            tsfn: AtomicPtr::new(ptr::null_mut()),
        }
    }

    pub(crate) fn set_tsfn(&self, tsfn: sys::napi_threadsafe_function) {
        self.tsfn.store(tsfn, Ordering::Release);
    }

    /// Adds a completion; wakes the JS thread if the queue was empty. Any thread.
    pub(crate) fn push(&self, c: Completion) {
        let dead = self.dead.read().unwrap_or_else(|p| p.into_inner());
        if *dead {
            drop(dead);
            drop(c); // closes sockets etc. here, on the runtime thread
            return;
        }
        let was_empty = {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = items.is_empty();
            items.push(c);
            was_empty
        };
        // A drain may take the item before this signal lands: the signal then costs one empty
        // drain. No wake-up is lost: whoever makes the queue non-empty signals after pushing.
        if was_empty {
            self.signal();
        }
        drop(dead);
    }

    /// Wakes the JS thread (its `call_js` drains). The caller holds the read side of `dead` and
    /// saw it `false`.
    fn signal(&self) {
        let tsfn = self.tsfn.load(Ordering::Acquire);
        if !tsfn.is_null() {
            // SAFETY: `dead` is false under the caller's read lock, so the env's cleanup hook
            // (which sets `dead` under the write lock before releasing the tsfn) and the tsfn
            // finalizer (likewise) have not run: the tsfn is alive. A non-blocking call never
            // calls JS and never waits for the JS thread, so holding the read lock here cannot
            // deadlock with teardown (which waits for it on the JS thread).
            unsafe {
                sys::napi_call_threadsafe_function(
                    tsfn,
                    ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
        }
    }

    /// Moves every queued completion into `out` (which must be empty). JS thread.
    pub(crate) fn take_into(&self, out: &mut Vec<Completion>) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut *items, out);
    }

    /// Marks the env torn down; returns what was still queued (to be dropped by the caller).
    pub(crate) fn kill(&self) -> Vec<Completion> {
        *self.dead.write().unwrap_or_else(|p| p.into_inner()) = true;
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn tsfn(&self) -> sys::napi_threadsafe_function {
        self.tsfn.load(Ordering::Acquire)
    }
}

/// Delivers the single completion of one op; if dropped unsent, delivers `Dropped`.
pub(crate) struct CompletionSender {
    queue: Arc<EnvQueue>,
    key: OpKey,
    sent: bool,
}

impl CompletionSender {
    pub(crate) fn new(queue: Arc<EnvQueue>, key: OpKey) -> CompletionSender {
        CompletionSender {
            queue,
            key,
            sent: false,
        }
    }

    fn send(&mut self, result: OpResult) {
        if !self.sent {
            self.sent = true;
            self.queue.push(Completion {
                key: self.key,
                result,
            });
        }
    }
}

impl Drop for CompletionSender {
    fn drop(&mut self) {
        self.send(Err(OpError::Dropped));
    }
}

/// What an op keeps until its completion is queued (an owned lock guard), type-erased.
type Kept = Box<dyn Send>;

thread_local! {
    /// The `kept` slot of the op whose future [`OpTask::poll`] is polling on this thread (null
    /// outside such a poll), for [`release_after_settle`].
    static KEEPING: Cell<*mut Option<Kept>> = const { Cell::new(ptr::null_mut()) };
}

/// Keeps `guard` (an owned lock guard) until the completion of the op being polled is queued —
/// its result, its panic, or `Dropped` when it is cancelled — then drops it; outside an op's
/// poll it is dropped at once. An op that other ops queue behind calls this with its lock's
/// guard as soon as it holds the lock (at most once per op): otherwise the release wakes
/// the next op, which may run on another worker (on 2 CPUs the wake-up tends to preempt this
/// one) and queue its completion first, so the two promises settle out of call order. Only the
/// guard is kept: the future's own values (the socket's `Arc`, its in-flight count) are dropped
/// when it returns, as before, so a promise still settles only after they are gone.
pub(crate) fn release_after_settle<G: Send + 'static>(guard: G) {
    let slot = KEEPING.with(Cell::get);
    if slot.is_null() {
        return;
    }
    // SAFETY: `KEEPING` is non-null only while `OpTask::poll` polls this op's future on this
    // thread, and then points to that task's `kept` field, which the poll does not otherwise
    // touch until the future returns (the future and `kept` are separate fields, so this `&mut`
    // aliases nothing). This function runs inside that future's poll.
    let old = unsafe { &mut *slot }.replace(Box::new(guard));
    debug_assert!(
        old.is_none(),
        "an op keeps one guard (release_after_settle called twice)"
    );
    drop(old);
}

/// Sets [`KEEPING`] for one poll and restores the previous value when dropped (also when the
/// poll unwinds).
struct Keeping(*mut Option<Kept>);

impl Keeping {
    fn set(slot: &mut Option<Kept>) -> Keeping {
        Keeping(KEEPING.with(|k| k.replace(slot)))
    }
}

impl Drop for Keeping {
    fn drop(&mut self) {
        KEEPING.with(|k| k.set(self.0));
    }
}

/// The future spawned on the runtime for one op: polls the operation under `catch_unwind` and
/// hands its result to the env's queue, then releases what the op kept
/// ([`release_after_settle`]).
///
/// The sender is a field (not a local of an `async` block) so that a task aborted before its
/// first poll still reports `Dropped` when the runtime drops it.
pub(crate) struct OpTask<F> {
    // Field order is drop order: a task dropped unfinished drops the future, then reports
    // `Dropped`, then releases what the op kept.
    fut: Pin<Box<F>>,
    sender: CompletionSender,
    kept: Option<Kept>,
    done: bool,
}

impl<F: Future<Output = OpResult> + Send + 'static> OpTask<F> {
    pub(crate) fn new(fut: F, sender: CompletionSender) -> OpTask<F> {
        OpTask {
            fut: Box::pin(fut),
            sender,
            kept: None,
            done: false,
        }
    }
}

impl<F: Future<Output = OpResult>> Future for OpTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // OpTask is Unpin (the inner future is boxed), so this is a plain &mut.
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        let fut = &mut this.fut;
        let polled = {
            let _keeping = Keeping::set(&mut this.kept);
            catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => {
                this.done = true;
                this.sender.send(result);
                drop(this.kept.take());
                Poll::Ready(())
            }
            Err(payload) => {
                // The inner future is never polled again after a panic.
                this.done = true;
                this.sender
                    .send(Err(OpError::Panic(panic_message(&payload))));
                drop(this.kept.take());
                Poll::Ready(())
            }
        }
    }
}

/// The message of a panic payload (`&str` or `String`), or a generic text.
pub(crate) fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll_once<F: Future<Output = ()>>(f: &mut Pin<Box<F>>) -> Poll<()> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        f.as_mut().poll(&mut cx)
    }

    fn drain(q: &EnvQueue) -> Vec<Completion> {
        let mut v = Vec::new();
        q.take_into(&mut v);
        v
    }

    #[test]
    fn op_task_delivers_its_result_exactly_once() {
        let q = Arc::new(EnvQueue::new());
        let mut t = Box::pin(OpTask::new(
            async { Ok(Outcome::Number(7.0)) },
            CompletionSender::new(q.clone(), 3),
        ));
        assert!(poll_once(&mut t).is_ready());
        drop(t);
        let got = drain(&q);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, 3);
        assert!(matches!(got[0].result, Ok(Outcome::Number(n)) if n == 7.0));
    }

    /// Dropped when the op releases what it kept: records whether the op's completion was
    /// already queued by then.
    struct SeesQueue(Arc<EnvQueue>, Arc<std::sync::atomic::AtomicBool>);

    impl SeesQueue {
        /// A probe of `q`, and the flag it sets when dropped (`initial` until then).
        fn on(q: &Arc<EnvQueue>, initial: bool) -> (SeesQueue, Arc<std::sync::atomic::AtomicBool>) {
            let seen = Arc::new(std::sync::atomic::AtomicBool::new(initial));
            (SeesQueue(q.clone(), seen.clone()), seen)
        }
    }

    impl Drop for SeesQueue {
        fn drop(&mut self) {
            let queued = !self.0.items.lock().unwrap().is_empty();
            self.1.store(queued, Ordering::SeqCst);
        }
    }

    #[test]
    fn what_an_op_keeps_is_released_after_its_completion_is_queued() {
        let q = Arc::new(EnvQueue::new());
        let (probe, seen) = SeesQueue::on(&q, false);
        let mut t = Box::pin(OpTask::new(
            async move {
                release_after_settle(probe);
                Ok(Outcome::Number(5.0))
            },
            CompletionSender::new(q.clone(), 9),
        ));
        assert!(poll_once(&mut t).is_ready());
        assert!(
            seen.load(Ordering::SeqCst),
            "released after the completion was queued"
        );
        let got = drain(&q);
        assert_eq!(got.len(), 1);
        assert!(matches!(got[0].result, Ok(Outcome::Number(n)) if n == 5.0));
    }

    #[test]
    fn what_an_unfinished_op_keeps_is_released_after_dropped_is_reported() {
        let q = Arc::new(EnvQueue::new());
        let (probe, seen) = SeesQueue::on(&q, false);
        let mut t = Box::pin(OpTask::new(
            async move {
                release_after_settle(probe);
                std::future::pending::<()>().await;
                Ok(Outcome::Undefined)
            },
            CompletionSender::new(q.clone(), 4),
        ));
        assert!(poll_once(&mut t).is_pending());
        drop(t);
        assert!(
            seen.load(Ordering::SeqCst),
            "released after Dropped was queued"
        );
        assert!(matches!(drain(&q)[0].result, Err(OpError::Dropped)));
    }

    #[test]
    fn outside_an_op_a_kept_guard_is_dropped_at_once() {
        let q = Arc::new(EnvQueue::new());
        let (probe, seen) = SeesQueue::on(&q, true);
        release_after_settle(probe);
        assert!(
            !seen.load(Ordering::SeqCst),
            "dropped at once (nothing queued)"
        );
    }

    #[test]
    fn a_panicking_future_becomes_a_panic_error() {
        let q = Arc::new(EnvQueue::new());
        let fut = async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            Ok(Outcome::Undefined)
        };
        let mut t = Box::pin(OpTask::new(fut, CompletionSender::new(q.clone(), 1)));
        assert!(poll_once(&mut t).is_ready());
        assert!(
            poll_once(&mut t).is_ready(),
            "polling after completion is harmless"
        );
        drop(t);
        let got = drain(&q);
        assert_eq!(got.len(), 1);
        assert!(matches!(&got[0].result, Err(OpError::Panic(m)) if m == "boom"));
    }

    #[test]
    fn a_task_dropped_unfinished_reports_dropped() {
        let q = Arc::new(EnvQueue::new());
        // Dropped before its first poll (an abort before the runtime ever ran it).
        drop(OpTask::new(
            std::future::pending::<OpResult>(),
            CompletionSender::new(q.clone(), 1),
        ));
        // Dropped while pending.
        let mut t = Box::pin(OpTask::new(
            std::future::pending::<OpResult>(),
            CompletionSender::new(q.clone(), 2),
        ));
        assert!(poll_once(&mut t).is_pending());
        drop(t);
        let got = drain(&q);
        assert_eq!(got.iter().map(|c| c.key).collect::<Vec<_>>(), vec![1, 2]);
        assert!(got
            .iter()
            .all(|c| matches!(c.result, Err(OpError::Dropped))));
    }

    #[test]
    fn a_dead_queue_drops_completions() {
        let q = Arc::new(EnvQueue::new());
        q.push(Completion {
            key: 1,
            result: Ok(Outcome::Undefined),
        });
        assert_eq!(q.kill().len(), 1);
        q.push(Completion {
            key: 2,
            result: Ok(Outcome::Undefined),
        });
        assert!(drain(&q).is_empty());
    }
}
