//! Type-erased, reference-counted pointers to a task's heap cell.
//!
//! Run queues, the owned-task set, `JoinHandle`, `AbortHandle` and wakers all point at the same
//! cell without knowing its future's type. They share one reference count, which lives in the
//! task's state word (see `state.rs`) rather than in an `Arc`: a wake can then mark the task
//! notified *and* take the run queue's reference in a single compare-and-swap, and spawning a
//! task hands out its first three references without any atomic operation.
//!
//! Every cell starts with a [`Header`] (state word, vtable, id); the [`Vtable`] holds the
//! typed functions of `cell.rs`, monomorphised per future and scheduler. The owning pointers are
//! [`Task`] (one reference, as the owned-task set holds it) and [`Notified`] (one reference
//! that is also the task's single run queue entry).

use super::state::State;
use super::Id;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Context;

/// The type-independent start of every task cell (`#[repr(C)]` first field of `Cell`), so a
/// pointer to the cell is a pointer to its header.
#[repr(C)]
pub(super) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    pub(super) id: Id,
}

/// The typed operations of one kind of task. Each function takes the cell's header pointer;
/// the doc of each says whether it consumes one of the caller's references.
pub(super) struct Vtable {
    /// Polls (or cancels) the task once. Consumes one reference (the run queue entry's).
    pub(super) run: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancels the future if nobody runs it. Consumes one reference.
    pub(super) shutdown: unsafe fn(NonNull<Header>),
    /// Hands a new run queue entry to the task's scheduler. Consumes one reference (the new
    /// entry's); the caller must hold another one for the duration of the call.
    pub(super) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell. Called once, by whoever gave up the last reference.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: writes a `Poll<Result<T, JoinError>>` to the second argument.
    pub(super) poll_join: unsafe fn(NonNull<Header>, *mut (), &mut Context<'_>),
    /// The `JoinHandle` is dropped. Consumes the handle's reference.
    pub(super) drop_join_handle: unsafe fn(NonNull<Header>),
}

/// A non-owning pointer to a task cell: the caller is responsible for holding a reference for
/// as long as it uses the pointer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct RawTask(NonNull<Header>);

impl RawTask {
    /// Wraps a header pointer.
    ///
    /// # Safety
    /// `ptr` points at the header of a live cell made by `cell.rs`.
    pub(super) unsafe fn from_header(ptr: NonNull<Header>) -> RawTask {
        RawTask(ptr)
    }

    pub(super) fn header_ptr(self) -> NonNull<Header> {
        self.0
    }

    /// The header. Valid while the caller holds a reference (the type's contract).
    pub(super) fn header(&self) -> &Header {
        // SAFETY: every `RawTask` is used only by a holder of a reference, which keeps the cell
        // (and so its header) allocated; the header is only accessed through shared references
        // (its state is atomic, vtable and id are never written after allocation).
        unsafe { self.0.as_ref() }
    }

    /// Gives up `n` references; frees the cell if they were the last.
    ///
    /// # Safety
    /// The caller owns `n` references and does not use the pointer afterwards.
    pub(super) unsafe fn drop_refs(self, n: usize) {
        if self.header().state.ref_dec(n) {
            // SAFETY: that was the last reference: nobody else can reach the cell.
            unsafe { (self.header().vtable.dealloc)(self.0) }
        }
    }
}

/// One counted reference to a task: the owned-task set's entry (it can shut the task down).
pub(crate) struct Task {
    raw: RawTask,
}

// SAFETY: cells are only made (in `cell.rs`) for `Send` futures and outputs and `Send + Sync`
// schedulers, and every access to a cell's mutable parts is serialised through the state
// word, so a reference may move to and be used from any thread.
unsafe impl Send for Task {}
// SAFETY: as above; `&Task` only reads the header.
unsafe impl Sync for Task {}

impl Task {
    /// Takes over one reference.
    ///
    /// # Safety
    /// The caller owns one reference of the live cell `raw` and transfers it.
    pub(super) unsafe fn from_raw(raw: RawTask) -> Task {
        Task { raw }
    }

    /// Gives up ownership of the reference without decrementing it.
    pub(super) fn into_raw(self) -> RawTask {
        ManuallyDrop::new(self).raw
    }

    /// Runtime shutdown: cancels the future now if nobody is running it (otherwise the thread
    /// running it sees `CANCELLED` and cancels it when its poll ends).
    pub(crate) fn shutdown(self) {
        let raw = self.into_raw();
        // SAFETY: we own one reference and hand it to `shutdown`, which consumes it.
        unsafe { (raw.header().vtable.shutdown)(raw.header_ptr()) }
    }

    /// The cell's address, to tell tasks apart in tests.
    #[cfg(all(test, loom))]
    pub(crate) fn addr(&self) -> usize {
        self.raw.header_ptr().as_ptr() as usize
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: we own one reference and never use the pointer again.
        unsafe { self.raw.drop_refs(1) }
    }
}

/// A task in a run queue: one counted reference, and the task's single queue entry (the
/// state's `NOTIFIED` bit ensures a task is queued at most once at a time).
pub(crate) struct Notified(Task);

impl Notified {
    /// Takes over one reference, which becomes a run queue entry.
    ///
    /// # Safety
    /// As [`Task::from_raw`]; the task must have been transitioned to `NOTIFIED` by the caller.
    pub(super) unsafe fn from_raw(raw: RawTask) -> Notified {
        // SAFETY: forwarded to the caller.
        Notified(unsafe { Task::from_raw(raw) })
    }

    /// Polls (or cancels) the task once; called by the scheduler that dequeued it.
    pub(crate) fn run(self) {
        let raw = self.0.into_raw();
        // SAFETY: we own one reference and hand it to `run`, which consumes it.
        unsafe { (raw.header().vtable.run)(raw.header_ptr()) }
    }

    /// Runtime shutdown of a queued task (see [`Task::shutdown`]).
    pub(crate) fn shutdown(self) {
        self.0.shutdown()
    }

    /// The cell's address, to tell tasks apart in tests.
    #[cfg(all(test, loom))]
    pub(crate) fn addr(&self) -> usize {
        self.0.addr()
    }
}
