//! `JoinSet`: a set of tasks whose outputs are awaited in the order they complete.
//!
//! Each member task's join handle is polled with a waker of its own that records the task's id
//! in a ready list, so `join_next` only polls tasks that made progress: O(1) per completion
//! however many tasks the set holds.

use super::{AbortHandle, Id, JoinError, JoinHandle};
use std::collections::HashMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of spawned tasks; dropping it aborts them all.
pub struct JoinSet<T> {
    entries: HashMap<Id, Entry<T>>,
    shared: Arc<Shared>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Arc<MemberWaker>,
}

#[derive(Default)]
struct Shared {
    ready: Mutex<Vec<Id>>,
    waker: Mutex<Option<Waker>>,
}

struct MemberWaker {
    id: Id,
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MemberWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            lock(&self.shared.ready).push(self.id);
            let waker = lock(&self.shared.waker).clone();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        JoinSet {
            entries: HashMap::new(),
            shared: Arc::new(Shared::default()),
        }
    }

    /// Tasks in the set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let id = handle.id();
        let waker = Arc::new(MemberWaker {
            id,
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        lock(&self.shared.ready).push(id);
        self.entries.insert(id, Entry { handle, waker });
        abort
    }

    /// Aborts every task; they stay in the set until joined.
    pub fn abort_all(&mut self) {
        for entry in self.entries.values() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting them.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        lock(&self.shared.ready).clear();
    }

    /// Polls for the next completed task.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|r| r.map(|r| r.map(|(_, v)| v)))
    }

    /// Polls for the next completed task, with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.entries.is_empty() {
            return Poll::Ready(None);
        }
        {
            let mut slot = lock(&self.shared.waker);
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        // Only the ids queued now: a member that wakes itself while polled is seen next time.
        let ready = std::mem::take(&mut *lock(&self.shared.ready));
        let mut ready = ready.into_iter();
        while let Some(id) = ready.next() {
            let Some(entry) = self.entries.get_mut(&id) else {
                continue;
            };
            entry.waker.queued.store(false, Ordering::Release);
            let waker = Waker::from(entry.waker.clone());
            let mut member_cx = Context::from_waker(&waker);
            if let Poll::Ready(result) = Pin::new(&mut entry.handle).poll(&mut member_cx) {
                self.entries.remove(&id);
                // Put back what we did not get to.
                lock(&self.shared.ready).extend(ready);
                return Poll::Ready(Some(result.map(|v| (id, v))));
            }
        }
        Poll::Pending
    }

    /// Waits for the next task to complete; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Waits for the next task to complete, with its id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Returns a completed task's output without waiting, if one is ready.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let waker = Waker::noop();
        match self.poll_join_next(&mut Context::from_waker(waker)) {
            Poll::Ready(r) => r,
            Poll::Pending => None,
        }
    }

    /// Aborts every task and waits for all of them to finish.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    /// Re-raises the panic of a task that panicked.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("{e}"),
            }
        }
        out
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `task` on the current runtime and adds it to the set.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(super::spawn(task))
    }

    /// Spawns `task` on `handle`'s runtime and adds it to the set.
    pub fn spawn_on<F>(&mut self, task: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(task))
    }

    /// Runs `f` on the blocking pool and adds it to the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
