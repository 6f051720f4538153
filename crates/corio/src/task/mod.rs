//! Tasks: spawning futures onto the runtime and awaiting or cancelling them.
//!
//! - `state.rs`: the atomic state machine every party agrees through.
//! - `cell.rs`: the task's heap cell and the harness that polls, cancels and completes it.
//! - `raw.rs`: the type-erased, reference-counted pointers to a cell (run queue entries, the
//!   owned set's entries).
//! - `join.rs`: [`JoinHandle`] and [`AbortHandle`]; `error.rs`: [`JoinError`].
//! - `owned.rs`: the runtime's set of live tasks, for shutdown.
//! - `join_set.rs`: [`JoinSet`], a set of tasks awaited in completion order.

mod cell;
mod error;
mod id;
mod join;
mod join_set;
#[cfg(all(test, loom))]
mod loom_tests;
mod owned;
mod raw;
mod state;
mod yield_now;

pub(crate) use cell::{new_unowned, Schedule};
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use owned::OwnedTasks;
pub(crate) use raw::{Notified, Task};
pub use yield_now::yield_now;

pub use crate::runtime::coop::consume_budget;

use crate::runtime::context;
use std::future::Future;

/// Spawns `future` as a new task on the current runtime.
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::try_current() {
        Ok(handle) => handle.spawn(future, Id::next()),
        Err(e) => panic!("{e}"),
    }
}

/// Runs the blocking function `f` on the runtime's blocking pool and awaits its result.
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::try_current() {
        Ok(handle) => handle.spawn_blocking(f),
        Err(e) => panic!("{e}"),
    }
}
