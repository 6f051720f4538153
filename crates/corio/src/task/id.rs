//! Task identifiers, and which task is running on this thread.

use crate::loom::sync::atomic::{AtomicU64, Ordering};
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;

/// An opaque id that is unique among the tasks of the process while they live.
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        #[cfg(not(loom))]
        static NEXT: AtomicU64 = AtomicU64::new(1);
        #[cfg(loom)]
        loom::lazy_static! { static ref NEXT: AtomicU64 = AtomicU64::new(1); }
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(id).expect("task ids never wrap a u64"))
    }

    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

crate::loom::thread_local! {
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Runs `f` with `id` recorded as the current task of this thread.
pub(crate) fn with_current<R>(id: Id, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Id>);
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CURRENT.with(|c| c.replace(Some(id))));
    f()
}

/// The id of the task that is running, if called from inside a task.
pub fn try_id() -> Option<Id> {
    CURRENT.with(|c| c.get())
}

/// The id of the running task.
///
/// # Panics
/// When called outside a task.
pub fn id() -> Id {
    try_id().expect("corio::task::id() called outside of a task")
}
