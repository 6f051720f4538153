//! What this thread knows about the runtime it is in.
//!
//! Two thread-local facts: the runtime handle that `spawn`, sockets and timers use (set by
//! `Runtime::enter`, `block_on` and on every worker thread), and — on a thread that is running
//! a scheduler right now — that scheduler's context, so wakes from inside a task go straight to
//! the local run queue and `yield_now` can defer itself until after the next driver poll.

use super::scheduler;
use std::cell::{Cell, RefCell};
use std::io;
use std::sync::Arc;
use std::task::Waker;

crate::loom::thread_local! {
    static CURRENT: RefCell<Option<scheduler::Handle>> = const { RefCell::new(None) };
    static SCHEDULER: Cell<*const scheduler::Context> = const { Cell::new(std::ptr::null()) };
    /// Set while this thread is driving a runtime (`block_on` or a worker loop): blocking on
    /// another runtime from here would deadlock the first one.
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
}

/// Error returned by `Handle::try_current` outside a runtime.
#[derive(Debug)]
pub struct TryCurrentError(());

impl std::fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "there is no reactor running, must be called from the context of a corio runtime",
        )
    }
}

impl std::error::Error for TryCurrentError {}

/// Restores the previous current handle when dropped.
pub(crate) struct SetCurrentGuard {
    prev: Option<scheduler::Handle>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn set_current(handle: &scheduler::Handle) -> SetCurrentGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle.clone()));
    SetCurrentGuard {
        prev,
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // During thread teardown the thread-local may be gone; nothing to restore then.
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// The current runtime's handle.
pub(crate) fn try_current() -> Result<scheduler::Handle, TryCurrentError> {
    CURRENT
        .try_with(|c| c.borrow().clone())
        .ok()
        .flatten()
        .ok_or(TryCurrentError(()))
}

/// The I/O driver of the current runtime, or an error outside one (or when I/O is disabled).
pub(crate) fn io_handle() -> io::Result<Arc<crate::io::driver::Handle>> {
    let handle = try_current().map_err(|_| {
        io::Error::other(
            "there is no reactor running, must be called from the context of a corio runtime",
        )
    })?;
    handle.driver().io.clone().ok_or_else(|| {
        io::Error::other(
            "the I/O driver is disabled: build the runtime with `enable_io()` or `enable_all()`",
        )
    })
}

/// The timer of the current runtime.
///
/// # Panics
/// Outside a runtime, or when the runtime was built without `enable_time`.
pub(crate) fn time_handle() -> Arc<crate::time::driver::Handle> {
    let handle = try_current()
        .expect("there is no timer running, must be called from the context of a corio runtime");
    handle
        .driver()
        .time
        .clone()
        .expect("the timer is disabled: build the runtime with `enable_time()` or `enable_all()`")
}

/// Marks this thread as driving a runtime; panics if it already is (nested `block_on`).
pub(crate) struct RuntimeGuard(());

pub(crate) fn enter_runtime() -> RuntimeGuard {
    if IN_RUNTIME.with(|r| r.replace(true)) {
        panic!(
            "Cannot start a runtime from within a runtime. This happens because a function \
             (like `block_on`) attempted to block the current thread while the thread is being \
             used to drive asynchronous tasks."
        );
    }
    RuntimeGuard(())
}

/// True when this thread is driving a runtime.
pub(crate) fn is_in_runtime() -> bool {
    IN_RUNTIME.try_with(|r| r.get()).unwrap_or(false)
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let _ = IN_RUNTIME.try_with(|r| r.set(false));
    }
}

/// Runs `f` with `cx` as this thread's scheduler context.
pub(crate) fn set_scheduler<R>(cx: &scheduler::Context, f: impl FnOnce() -> R) -> R {
    struct Reset(*const scheduler::Context);
    impl Drop for Reset {
        fn drop(&mut self) {
            SCHEDULER.with(|s| s.set(self.0));
        }
    }
    let _reset = Reset(SCHEDULER.with(|s| s.replace(cx as *const _)));
    f()
}

/// Gives `f` the scheduler context of this thread, if it is running one.
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&scheduler::Context>) -> R) -> R {
    let ptr = SCHEDULER.try_with(|s| s.get()).unwrap_or(std::ptr::null());
    // SAFETY: the pointer is set by `set_scheduler` for exactly the duration of a call that
    // borrows the context, and reset (by a drop guard, even on unwind) before it returns, so a
    // non-null pointer always refers to a live context on this thread's stack.
    f(unsafe { ptr.as_ref() })
}

/// Wakes `waker` after the next driver poll when on a scheduler thread (so `yield_now` lets
/// I/O and timers run first), or right away elsewhere.
pub(crate) fn defer(waker: &Waker) {
    with_scheduler(|cx| match cx {
        Some(cx) => cx.defer(waker),
        None => waker.wake_by_ref(),
    })
}
