//! The heap cell of one task and the code that drives it (the "harness").
//!
//! A task is one heap allocation, a `Cell<F, S>`: a type-independent [`Header`] (state word
//! with the reference count, vtable, id), the scheduler it belongs to, the future (later its
//! output) and the join waker. Everything else reaches the cell through the type-erased,
//! counted pointers of `raw.rs`; the functions here are what their vtable calls. Wakers point at
//! the cell through a hand-written waker vtable, so polling needs no reference-count traffic.
//! Panics inside the future — while polling or while dropping it — are caught here and become
//! `JoinError::Panic`: a task can never unwind into a worker thread.

use super::error::JoinError;
use super::raw::{Header, Notified, RawTask, Task, Vtable};
use super::state::{ByVal, Snapshot, State, ToIdle, ToRunning};
use super::{Id, JoinHandle};
use crate::loom::cell::UnsafeCell;
use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Put a woken task in a run queue.
    fn schedule(&self, task: Notified);
    /// Put a task that was woken while it ran at the back of a run queue (it yielded).
    fn yield_now(&self, task: Notified);
    /// The task completed: forget it. Returns the owned-task set's reference to it, if the
    /// set still held one, so the completing thread can give it up together with its own.
    fn release(&self, id: Id) -> Option<Task>;
}

/// Allocates a task owned by a runtime's owned-task set. Returns the set's reference, the run
/// queue entry to schedule, and the join handle: three references, counted at allocation.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    id: Id,
) -> (Task, Notified, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = Cell::allocate(future, scheduler, id, 3);
    // SAFETY: the cell was allocated with three references, handed out once each here.
    unsafe {
        (
            Task::from_raw(raw),
            Notified::from_raw(raw),
            JoinHandle::from_raw(raw),
        )
    }
}

/// Allocates a task that no owned-task set tracks (the blocking pool's): the run queue entry
/// and the join handle, two references counted at allocation.
pub(crate) fn new_unowned<F, S>(
    future: F,
    scheduler: S,
    id: Id,
) -> (Notified, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = Cell::allocate(future, scheduler, id, 2);
    // SAFETY: the cell was allocated with two references, handed out once each here.
    unsafe { (Notified::from_raw(raw), JoinHandle::from_raw(raw)) }
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// One task. `#[repr(C)]` with the header first: a pointer to the cell is a pointer to its
/// header and back.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    header: Header,
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
    const VTABLE: Vtable = Vtable {
        run: Self::run,
        shutdown: Self::shutdown,
        schedule: Self::schedule,
        dealloc: Self::dealloc,
        poll_join: Self::poll_join,
        drop_join_handle: Self::drop_join_handle,
    };

    /// Allocates a task holding `refs` references, all of which the caller hands out.
    fn allocate(future: F, scheduler: S, id: Id, refs: usize) -> RawTask {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(refs),
                vtable: &Self::VTABLE,
                id,
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        // SAFETY: `ptr` points at the header (first field of a `#[repr(C)]` struct) of the
        // cell just leaked; it stays allocated until the last reference frees it.
        unsafe { RawTask::from_header(ptr) }
    }

    /// The typed cell behind a header pointer.
    ///
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>` (vtables are per `<F, S>`, so a function of
    /// this impl is only ever called with its own kind of cell), and the caller holds a
    /// reference for as long as it uses the result.
    unsafe fn from_header<'a>(ptr: NonNull<Header>) -> &'a Self {
        // SAFETY: see the function's contract; the header is the first field of the cell.
        unsafe { ptr.cast::<Self>().as_ref() }
    }

    fn state(&self) -> &State {
        &self.header.state
    }

    /// Vtable `dealloc`: the last reference is gone.
    #[cfg(not(loom))]
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the cell came from `Box::leak` in `allocate` and, with its reference count at
        // zero, nobody else can reach it: we own the allocation.
        drop(unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) });
    }

    /// Vtable `dealloc` in loom models: drops everything but the header and keeps the memory,
    /// so that a bug that frees the cell too early shows as a failed assertion (a second free,
    /// counted by the models' scheduler; an underflow of the count, checked in loom builds)
    /// instead of as memory corruption. Models are small, so the leaked headers do not matter.
    #[cfg(loom)]
    unsafe fn dealloc(ptr: NonNull<Header>) {
        let cell = ptr.cast::<Self>().as_ptr();
        // SAFETY: as in the real `dealloc`, nobody else can reach the cell; each field is
        // dropped in place once (a second call is the bug the models look for, and the models'
        // scheduler panics in its destructor before anything else is touched).
        unsafe {
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*cell).scheduler));
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*cell).stage));
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*cell).join_waker));
        }
    }

    const WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(
        Self::waker_clone,
        Self::waker_wake,
        Self::waker_wake_by_ref,
        Self::waker_drop,
    );

    unsafe fn waker_clone(ptr: *const ()) -> RawWaker {
        // SAFETY: `ptr` is the header of a live cell: the waker being cloned holds a
        // reference, or it is the runner's borrowed waker and the runner holds one.
        let cell = unsafe { Self::from_header(NonNull::new_unchecked(ptr as *mut Header)) };
        cell.state().ref_inc();
        RawWaker::new(ptr, &Self::WAKER_VTABLE)
    }

    unsafe fn waker_wake(ptr: *const ()) {
        // SAFETY: an owned waker holds one reference, which this call consumes.
        let header = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
        // SAFETY: as above; the reference keeps the cell alive until we give it up below.
        let cell = unsafe { Self::from_header(header) };
        match cell.state().transition_to_notified_by_val() {
            ByVal::Done => {}
            // SAFETY: the transition gave up the waker's reference and it was the last one.
            ByVal::DoneLastRef => unsafe { Self::dealloc(header) },
            ByVal::Submit => {
                // SAFETY: the transition set NOTIFIED and took a reference for the entry; the
                // waker's own reference keeps the cell alive across the call.
                unsafe { Self::schedule(header) };
                // SAFETY: the waker's own reference, kept across `schedule`, is given up now.
                unsafe { RawTask::from_header(header).drop_refs(1) };
            }
        }
    }

    unsafe fn waker_wake_by_ref(ptr: *const ()) {
        // SAFETY: the waker holds a reference for the duration of this call.
        let header = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
        // SAFETY: as above.
        let cell = unsafe { Self::from_header(header) };
        if cell.state().transition_to_notified_by_ref() {
            // SAFETY: the transition set NOTIFIED and took a reference for the entry; the
            // waker's reference keeps the cell alive across the call.
            unsafe { Self::schedule(header) };
        }
    }

    unsafe fn waker_drop(ptr: *const ()) {
        // SAFETY: an owned waker holds one reference, released here; the pointer is not used
        // again.
        unsafe { RawTask::from_header(NonNull::new_unchecked(ptr as *mut Header)).drop_refs(1) }
    }

    /// Polls the future once under `catch_unwind`; returns Some(output) when it finished.
    /// The caller holds RUNNING and a reference; `ptr` is this cell's header pointer as the
    /// vtable received it (with the whole allocation's provenance, which wakers need: they
    /// reach the cell and may free it through this pointer).
    fn poll_future(&self, ptr: NonNull<Header>) -> Poll<Result<F::Output, JoinError>> {
        // SAFETY: the waker borrows the reference the runner holds for the whole poll; it is
        // never dropped (ManuallyDrop), and clones take their own reference.
        let waker = ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new(
                ptr.as_ptr() as *const (),
                &Self::WAKER_VTABLE,
            ))
        });
        let mut cx = Context::from_waker(&waker);
        let id = self.header.id;
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.stage.with_mut(|stage| {
                // SAFETY: this thread holds RUNNING, so it alone may touch the stage; the
                // future stays in place (the cell is a heap allocation that never moves).
                let stage = unsafe { &mut *stage };
                let Stage::Running(future) = stage else {
                    unreachable!("a running task always holds its future");
                };
                // SAFETY: as above: the future is never moved out of the cell while running.
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

    /// Drops the future and completes the task with `JoinError::Cancelled`. Returns the
    /// references the caller must give up besides its own (see [`Self::complete`]).
    fn cancel_and_complete(&self) -> usize {
        let panic = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: called only by the thread holding RUNNING.
            self.stage
                .with_mut(|stage| unsafe { *stage = Stage::Consumed });
        }));
        let err = match panic {
            Ok(()) => JoinError::cancelled(self.header.id),
            Err(payload) => JoinError::panic(self.header.id, payload),
        };
        self.complete(Err(err))
    }

    /// Stores the output, publishes completion, wakes the join handle, releases the task.
    /// Returns how many references the caller must give up besides its own: the owned-task
    /// set's (1) if the scheduler handed it back, else 0. The caller gives them up together
    /// with its own in one atomic operation.
    fn complete(&self, output: Result<F::Output, JoinError>) -> usize {
        // SAFETY: this thread holds RUNNING; the join handle reads the stage only after it
        // observes COMPLETE, which the Release in `transition_to_complete` publishes.
        self.stage
            .with_mut(|stage| unsafe { *stage = Stage::Finished(output) });
        let prev = self.state().transition_to_complete();
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
            let after = self.state().unset_waker_after_complete();
            if !after.is_join_interested() {
                // The handle was dropped while we woke it: the waker is ours to drop (its
                // destructor is foreign code too).
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    // SAFETY: handle gone, JOIN_WAKER given back: no other party touches the slot.
                    self.join_waker.with_mut(|waker| unsafe { *waker = None });
                }));
            }
        }
        match self.scheduler.release(self.header.id) {
            Some(task) => {
                let raw = task.into_raw();
                debug_assert!(
                    raw.header_ptr() == NonNull::from(&self.header),
                    "the owned set returned another task"
                );
                // The reference now belongs to the caller's combined decrement.
                1
            }
            None => 0,
        }
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
        self.state().load()
    }

    /// Vtable `run`: consumes the run queue entry's reference.
    unsafe fn run(ptr: NonNull<Header>) {
        // SAFETY: the caller handed us one reference of a cell of this type.
        let cell = unsafe { Self::from_header(ptr) };
        // SAFETY: as above (the vtable's pointer, not one derived from `cell`, which covers
        // only what the reference covers).
        let raw = unsafe { RawTask::from_header(ptr) };
        let extra = match cell.state().transition_to_running() {
            ToRunning::Skip => 0,
            ToRunning::Cancel => cell.cancel_and_complete(),
            ToRunning::Poll => match cell.poll_future(ptr) {
                Poll::Ready(output) => cell.complete(output),
                Poll::Pending => match cell.state().transition_to_idle() {
                    // The transition gave up our reference: the cell may be gone already.
                    ToIdle::Idle => return,
                    ToIdle::IdleLastRef => {
                        // SAFETY: our reference was the last one and the transition gave it up.
                        unsafe { Self::dealloc(ptr) };
                        return;
                    }
                    ToIdle::Reschedule => {
                        // SAFETY: the transition took a reference for the new entry; NOTIFIED
                        // is still set from the wake that arrived during the poll.
                        let notified = unsafe { Notified::from_raw(raw) };
                        cell.scheduler.yield_now(notified);
                        0
                    }
                    ToIdle::Cancel => cell.cancel_and_complete(),
                },
            },
        };
        // SAFETY: our own reference plus those `complete` handed back; not used afterwards.
        unsafe { raw.drop_refs(1 + extra) }
    }

    /// Vtable `shutdown`: consumes one reference.
    unsafe fn shutdown(ptr: NonNull<Header>) {
        // SAFETY: the caller handed us one reference of a cell of this type.
        let cell = unsafe { Self::from_header(ptr) };
        let extra = if cell.state().transition_to_shutdown() {
            cell.cancel_and_complete()
        } else {
            0
        };
        // SAFETY: our own reference plus those `complete` handed back; not used afterwards.
        unsafe { RawTask::from_header(ptr).drop_refs(1 + extra) }
    }

    /// Vtable `schedule`: consumes the new entry's reference.
    unsafe fn schedule(ptr: NonNull<Header>) {
        // SAFETY: the caller handed us the entry's reference and holds another one across
        // this call, so `cell` stays valid after the entry is queued.
        let cell = unsafe { Self::from_header(ptr) };
        // SAFETY: the entry's reference, transferred by the caller, with NOTIFIED set.
        let notified = unsafe { Notified::from_raw(RawTask::from_header(ptr)) };
        cell.scheduler.schedule(notified);
    }

    /// Vtable `poll_join`: `out` points at a `Poll<Result<F::Output, JoinError>>`.
    unsafe fn poll_join(ptr: NonNull<Header>, out: *mut (), cx: &mut Context<'_>) {
        // SAFETY: the join handle holds a reference and calls with its own cell's type.
        let cell = unsafe { Self::from_header(ptr) };
        let result = cell.poll_join_typed(cx);
        // SAFETY: `JoinHandle<F::Output>` passes a valid, initialised slot of this type (only
        // `new_task`/`new_unowned` create join handles, with `T = F::Output`).
        unsafe { *(out as *mut Poll<Result<F::Output, JoinError>>) = result };
    }

    fn poll_join_typed(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
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
            if self.state().unset_join_waker().is_err() {
                return Poll::Ready(self.take_output());
            }
        }
        // SAFETY: JOIN_WAKER is unset and the task is not complete: the slot is ours.
        self.join_waker
            .with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
        match self.state().set_join_waker() {
            Ok(()) => Poll::Pending,
            Err(_) => Poll::Ready(self.take_output()),
        }
    }

    /// Vtable `drop_join_handle`: consumes the handle's reference.
    unsafe fn drop_join_handle(ptr: NonNull<Header>) {
        // SAFETY: the join handle hands us its reference; the cell lives until we give it up.
        let cell = unsafe { Self::from_header(ptr) };
        let (drop_output, drop_waker) = cell.state().transition_to_join_handle_dropped();
        if drop_output {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: complete and we held JOIN_INTEREST: the output is ours.
                cell.stage
                    .with_mut(|stage| unsafe { *stage = Stage::Consumed });
            }));
        }
        if drop_waker {
            // The waker's destructor is foreign code: a panic in it must not skip giving up
            // the handle's reference below (the cell would never be freed).
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: JOIN_WAKER is unset: the runtime will not touch the slot again.
                cell.join_waker.with_mut(|w| unsafe { *w = None });
            }));
        }
        // SAFETY: the handle's reference; the cell is not used afterwards.
        unsafe { RawTask::from_header(ptr).drop_refs(1) }
    }
}

/// Keeps the type of a panic payload nameable in one place.
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;
