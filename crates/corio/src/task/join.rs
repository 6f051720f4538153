//! `JoinHandle` and `AbortHandle`: awaiting and cancelling a spawned task.
//!
//! Both are counted references to the task's cell (see `raw.rs`): the join handle holds one
//! reference for awaiting and aborting alike, and every `AbortHandle` holds its own.

use super::raw::RawTask;
use super::{Id, JoinError};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An owned permission to await a task's output. Dropping it detaches the task (it keeps
/// running); `abort()` cancels it.
pub struct JoinHandle<T> {
    raw: RawTask,
    _p: PhantomData<T>,
}

// SAFETY: the handle owns one reference to a cell whose shared parts are synchronised by its
// state word (see `Task`); the only `T` it yields is moved out of the cell by `poll`, so the
// handle is as `Send` / `Sync` as `T` is (the same bounds an `Arc`-based handle had).
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above; `&JoinHandle` only reads the state word (`is_finished`, `id`) or aborts.
unsafe impl<T: Sync> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

// Unwind safety is stated explicitly, as tokio does, rather than left to the auto traits, which
// would derive it from the handle's fields (a `NonNull<Header>`, `PhantomData<T>`) and so change
// silently whenever they change. A panic while a handle is in use cannot leave the task
// in a state that is then observed broken through the handle: every change to the task goes
// through atomic transitions of its state word, panics of the task's own code are caught by
// the harness and become `JoinError::Panic`, and the handle never lends out a `&T` (the output
// is moved out once, by `poll`), so `T`'s own unwind safety does not matter.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over the join handle's reference.
    ///
    /// # Safety
    /// The caller transfers one reference of a live cell whose future's output type is `T`,
    /// and the task has `JOIN_INTEREST` (a new task).
    pub(super) unsafe fn from_raw(raw: RawTask) -> Self {
        JoinHandle {
            raw,
            _p: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped on a runtime thread at the next opportunity and
    /// awaiting this handle gives `JoinError::is_cancelled()` (unless it completed first).
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// True when the task has completed (with output, panic or cancellation).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// A handle that can abort the task without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

/// Aborts the task `raw`, whose reference the caller holds across the call.
fn abort(raw: RawTask) {
    let header = raw.header();
    if header.state.transition_to_notified_and_cancel() {
        // SAFETY: the transition took a reference for the new run queue entry, which
        // `schedule` consumes; the caller's own reference keeps the cell alive meanwhile.
        unsafe { (header.vtable.schedule)(raw.header_ptr()) }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let mut result = Poll::Pending;
        // SAFETY: the handle holds a reference; `result` is a valid slot of the output type
        // the cell's `poll_join` writes (`T` is the task's output type, see `from_raw`).
        unsafe {
            (self.raw.header().vtable.poll_join)(
                self.raw.header_ptr(),
                &mut result as *mut Poll<Result<T, JoinError>> as *mut (),
                cx,
            )
        };
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's reference is handed over and the pointer not used again.
        unsafe { (self.raw.header().vtable.drop_join_handle)(self.raw.header_ptr()) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Cancels a task without being able to await it.
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: the handle owns one reference; it only reads the state word and aborts, both of
// which any thread may do (see `Task`).
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

// As for `JoinHandle` (see there): an abort handle only performs atomic transitions.
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}

impl AbortHandle {
    /// Cancels the task (see [`JoinHandle::abort`]).
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// True when the task has completed.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: the handle's own reference; the pointer is not used again.
        unsafe { self.raw.drop_refs(1) }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{AbortHandle, JoinHandle};
    use std::cell::RefCell;
    use std::panic::{RefUnwindSafe, UnwindSafe};

    fn assert_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

    /// Compile-time check: the handles are unwind safe whatever the output type (even one that
    /// is not unwind safe itself, as `RefCell` is not), as tokio's are.
    #[test]
    fn handles_are_unwind_safe() {
        assert_unwind_safe::<JoinHandle<()>>();
        assert_unwind_safe::<JoinHandle<RefCell<u32>>>();
        assert_unwind_safe::<AbortHandle>();
    }
}
