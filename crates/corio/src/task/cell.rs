//! The heap cell of one task and the code that drives it (the "harness").
//!
//! A task is an `Arc<Cell<F, S>>`: the state word, the future (later its output), the join
//! waker and the scheduler it belongs to. Run queues hold it type-erased as [`Notified`]; wakers
//! point at it through a hand-written vtable, so polling needs no reference-count traffic.
//! Panics inside the future — while polling or while dropping it — are caught here and become
//! `JoinError::Panic`: a task can never unwind into a worker thread.

use super::error::JoinError;
use super::state::{Snapshot, State, ToIdle, ToRunning};
use super::Id;
use crate::loom::cell::UnsafeCell;
use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Put a woken task in a run queue.
    fn schedule(&self, task: Notified);
    /// Put a task that was woken while it ran at the back of a run queue (it yielded).
    fn yield_now(&self, task: Notified);
    /// The task completed: forget it (it leaves the owned-task set).
    fn release(&self, id: Id);
}

/// A type-erased task, as run queues and the owned-task set hold it.
pub(crate) type Notified = Arc<dyn RawTask>;

/// The operations on a type-erased task.
pub(crate) trait RawTask: Send + Sync + 'static {
    /// Poll (or cancel) the task once; called by the scheduler that dequeued it.
    fn run(self: Arc<Self>);
    /// Runtime shutdown: cancel the future now if nobody is running it.
    fn shutdown(self: Arc<Self>);
}

/// The typed side a `JoinHandle<T>` talks to.
pub(crate) trait JoinTarget<T>: Send + Sync {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn drop_join_handle(&self);
    fn abort(self: Arc<Self>);
}

/// The operations an `AbortHandle` needs.
pub(crate) trait AbortTarget: Send + Sync + 'static {
    fn abort(self: Arc<Self>);
    fn is_finished(&self) -> bool;
    fn id(&self) -> Id;
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// One task.
pub(crate) struct Cell<F: Future, S> {
    state: State,
    id: Id,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
    join_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the future and its output are only touched by the thread that owns them according
// to the state word (RUNNING for the future; COMPLETE + JOIN_INTEREST for the output), so
// sharing the cell between threads is sound when the future and output can be sent.
unsafe impl<F: Future + Send, S: Send> Send for Cell<F, S> where F::Output: Send {}
// SAFETY: as above: every access to the UnsafeCells is serialised by the state word.
unsafe impl<F: Future + Send, S: Sync> Sync for Cell<F, S> where F::Output: Send {}

impl<F, S> Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    /// Allocates a task; the caller binds it to the owned-task set and queues it.
    pub(crate) fn new(future: F, scheduler: S, id: Id) -> Arc<Self> {
        Arc::new(Cell {
            state: State::new(),
            id,
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        })
    }

    const WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(
        Self::waker_clone,
        Self::waker_wake,
        Self::waker_wake_by_ref,
        Self::waker_drop,
    );

    unsafe fn waker_clone(ptr: *const ()) -> RawWaker {
        // SAFETY: `ptr` came from `Arc::into_raw`/`Arc::as_ptr` of a live `Arc<Self>` (the
        // waker being cloned holds a count, or the poll that lent it holds the Arc).
        unsafe { Arc::increment_strong_count(ptr as *const Self) };
        RawWaker::new(ptr, &Self::WAKER_VTABLE)
    }

    unsafe fn waker_wake(ptr: *const ()) {
        // SAFETY: an owned waker holds one strong count, which we take over here.
        let task = unsafe { Arc::from_raw(ptr as *const Self) };
        if task.state.transition_to_notified() {
            let notified: Notified = task.clone();
            task.scheduler.schedule(notified);
        }
    }

    unsafe fn waker_wake_by_ref(ptr: *const ()) {
        // SAFETY: the waker holds a count for as long as this call; ManuallyDrop keeps it.
        let task = ManuallyDrop::new(unsafe { Arc::from_raw(ptr as *const Self) });
        if task.state.transition_to_notified() {
            let notified: Notified = Arc::clone(&*task) as Notified;
            task.scheduler.schedule(notified);
        }
    }

    unsafe fn waker_drop(ptr: *const ()) {
        // SAFETY: an owned waker holds one strong count, released here.
        drop(unsafe { Arc::from_raw(ptr as *const Self) });
    }

    /// Polls the future once under `catch_unwind`; returns Some(output) when it finished.
    fn poll_future(self: &Arc<Self>) -> Poll<Result<F::Output, JoinError>> {
        // SAFETY: the waker borrows the Arc that `self` keeps alive for the whole poll; it is
        // never dropped (ManuallyDrop), and clones take their own count.
        let waker = ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new(
                Arc::as_ptr(self) as *const (),
                &Self::WAKER_VTABLE,
            ))
        });
        let mut cx = Context::from_waker(&waker);
        let id = self.id;
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.stage.with_mut(|stage| {
                // SAFETY: this thread holds RUNNING, so it alone may touch the stage; the
                // future stays in place (the cell is heap-pinned inside the Arc).
                let stage = unsafe { &mut *stage };
                let Stage::Running(future) = stage else {
                    unreachable!("a running task always holds its future");
                };
                let future = unsafe { Pin::new_unchecked(future) };
                super::id::with_current(id, || future.poll(&mut cx))
            })
        }));
        match result {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                self.drop_future();
                Poll::Ready(Ok(output))
            }
            Err(payload) => {
                self.drop_future();
                Poll::Ready(Err(JoinError::panic(id, payload)))
            }
        }
    }

    /// Drops the future (a panic in its destructor is swallowed: the task already failed or
    /// finished, and there is nobody else to report it to).
    fn drop_future(&self) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: called only by the thread holding RUNNING.
            self.stage
                .with_mut(|stage| unsafe { *stage = Stage::Consumed });
        }));
    }

    /// Drops the future and completes the task with `JoinError::Cancelled`.
    fn cancel_and_complete(self: &Arc<Self>) {
        let panic = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: called only by the thread holding RUNNING.
            self.stage
                .with_mut(|stage| unsafe { *stage = Stage::Consumed });
        }));
        let err = match panic {
            Ok(()) => JoinError::cancelled(self.id),
            Err(payload) => JoinError::panic(self.id, payload),
        };
        self.complete(Err(err));
    }

    /// Stores the output, publishes completion, wakes the join handle, releases the task.
    fn complete(self: &Arc<Self>, output: Result<F::Output, JoinError>) {
        // SAFETY: this thread holds RUNNING; the join handle reads the stage only after it
        // observes COMPLETE, which the Release in `transition_to_complete` publishes.
        self.stage
            .with_mut(|stage| unsafe { *stage = Stage::Finished(output) });
        let prev = self.state.transition_to_complete();
        if !prev.is_join_interested() {
            // Nobody will read the output: drop it here, on the runtime's thread.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: without JOIN_INTEREST no handle exists to read the stage.
                self.stage
                    .with_mut(|stage| unsafe { *stage = Stage::Consumed });
            }));
        } else if prev.is_join_waker_set() {
            // The join waker is the awaiting code's: a panic in it must neither unwind into
            // the worker nor skip the bookkeeping below (the task would never be released).
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: JOIN_WAKER was set at completion, so the slot is ours until we unset it.
                self.join_waker.with(|waker| {
                    if let Some(waker) = unsafe { &*waker } {
                        waker.wake_by_ref();
                    }
                })
            }));
            let after = self.state.unset_waker_after_complete();
            if !after.is_join_interested() {
                // The handle was dropped while we woke it: the waker is ours to drop (its
                // destructor is foreign code too).
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    // SAFETY: handle gone, JOIN_WAKER given back: no other party touches the slot.
                    self.join_waker.with_mut(|waker| unsafe { *waker = None });
                }));
            }
        }
        self.scheduler.release(self.id);
    }

    /// Reads the output once the task is complete. The caller checked `COMPLETE`.
    fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: COMPLETE was observed with Acquire and the handle holds JOIN_INTEREST, so the
        // runtime no longer touches the stage and only this handle reads it.
        self.stage.with_mut(|stage| {
            match std::mem::replace(unsafe { &mut *stage }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after completion"),
            }
        })
    }

    fn snapshot(&self) -> Snapshot {
        self.state.load()
    }
}

impl<F, S> RawTask for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn run(self: Arc<Self>) {
        match self.state.transition_to_running() {
            ToRunning::Skip => {}
            ToRunning::Cancel => self.cancel_and_complete(),
            ToRunning::Poll => match self.poll_future() {
                Poll::Ready(output) => self.complete(output),
                Poll::Pending => match self.state.transition_to_idle() {
                    ToIdle::Idle => {}
                    ToIdle::Reschedule => {
                        let task: Notified = self.clone();
                        self.scheduler.yield_now(task);
                    }
                    ToIdle::Cancel => self.cancel_and_complete(),
                },
            },
        }
    }

    fn shutdown(self: Arc<Self>) {
        if self.state.transition_to_shutdown() {
            self.cancel_and_complete();
        }
    }
}

impl<F, S> JoinTarget<F::Output> for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        let snapshot = self.snapshot();
        if snapshot.is_complete() {
            return Poll::Ready(self.take_output());
        }
        if snapshot.is_join_waker_set() {
            // SAFETY: while JOIN_WAKER is set only the completing thread *wakes* the waker
            // (shared access); comparing it here is a shared access too.
            let same = self.join_waker.with(|w| {
                unsafe { &*w }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            if self.state.unset_join_waker().is_err() {
                return Poll::Ready(self.take_output());
            }
        }
        // SAFETY: JOIN_WAKER is unset and the task is not complete: the slot is ours.
        self.join_waker
            .with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
        match self.state.set_join_waker() {
            Ok(()) => Poll::Pending,
            Err(_) => Poll::Ready(self.take_output()),
        }
    }

    fn drop_join_handle(&self) {
        let (drop_output, drop_waker) = self.state.transition_to_join_handle_dropped();
        if drop_output {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: complete and we held JOIN_INTEREST: the output is ours.
                self.stage
                    .with_mut(|stage| unsafe { *stage = Stage::Consumed });
            }));
        }
        if drop_waker {
            // SAFETY: JOIN_WAKER is unset: the runtime will not touch the slot again.
            self.join_waker.with_mut(|w| unsafe { *w = None });
        }
    }

    fn abort(self: Arc<Self>) {
        if self.state.transition_to_notified_and_cancel() {
            self.scheduler.schedule(self.clone());
        }
    }
}

impl<F, S> AbortTarget for Cell<F, S>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    fn abort(self: Arc<Self>) {
        JoinTarget::abort(self)
    }

    fn is_finished(&self) -> bool {
        self.snapshot().is_complete()
    }

    fn id(&self) -> Id {
        self.id
    }
}

/// Keeps the type of a panic payload nameable in one place.
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;
