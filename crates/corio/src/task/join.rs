//! `JoinHandle` and `AbortHandle`: awaiting and cancelling a spawned task.

use super::cell::{AbortTarget, JoinTarget};
use super::{Id, JoinError};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// An owned permission to await a task's output. Dropping it detaches the task (it keeps
/// running); `abort()` cancels it.
pub struct JoinHandle<T> {
    raw: Arc<dyn JoinTarget<T>>,
    abort: Arc<dyn AbortTarget>,
    _p: PhantomData<T>,
}

impl<T> Unpin for JoinHandle<T> {}

impl<T: Send + 'static> JoinHandle<T> {
    pub(crate) fn new<C: JoinTarget<T> + AbortTarget>(cell: Arc<C>) -> Self {
        JoinHandle {
            raw: cell.clone(),
            abort: cell,
            _p: PhantomData,
        }
    }
}

impl<T> JoinHandle<T> {
    /// Cancels the task: its future is dropped on a runtime thread at the next opportunity and
    /// awaiting this handle gives `JoinError::is_cancelled()` (unless it completed first).
    pub fn abort(&self) {
        self.abort.clone().abort();
    }

    /// True when the task has completed (with output, panic or cancellation).
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }

    /// A handle that can abort the task without awaiting it.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            raw: self.abort.clone(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.abort.id()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let result = self.raw.poll_join(cx);
        if result.is_ready() {
            coop.made_progress();
        }
        result
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
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
#[derive(Clone)]
pub struct AbortHandle {
    raw: Arc<dyn AbortTarget>,
}

impl AbortHandle {
    /// Cancels the task (see [`JoinHandle::abort`]).
    pub fn abort(&self) {
        self.raw.clone().abort();
    }

    /// True when the task has completed.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.id()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
