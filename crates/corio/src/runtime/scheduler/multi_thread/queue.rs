//! The run queues: each worker's local queue, the stealers other workers take batches from,
//! and the global injector for tasks scheduled from outside the workers.
//!
//! In a normal build these are `crossbeam-deque`'s lock-free `Worker`, `Stealer` and
//! `Injector`. crossbeam's atomics are invisible to loom, so under `cfg(loom)` the same API is
//! backed by a mutex-protected `VecDeque`: the model then checks *our* protocol around the
//! queues (who pushes, who steals, who notifies), not crossbeam's internals, which crossbeam
//! tests itself.

#[cfg(not(loom))]
mod imp {
    pub(crate) use crossbeam_deque::Steal;

    /// A worker's own FIFO queue (push at the back, pop at the front).
    pub(crate) struct Local<T>(crossbeam_deque::Worker<T>);
    /// The handle other workers steal from.
    pub(crate) struct Stealer<T>(crossbeam_deque::Stealer<T>);
    /// The global queue.
    pub(crate) struct Injector<T>(crossbeam_deque::Injector<T>);

    impl<T> Local<T> {
        pub(crate) fn new() -> Self {
            Local(crossbeam_deque::Worker::new_fifo())
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.stealer())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.push(task)
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Stealer<T> {
        /// Moves about half of the victim's tasks into `dest` and returns one of them.
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            self.0.steal_batch_and_pop(&dest.0)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Self {
            Injector(crossbeam_deque::Injector::new())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.push(task)
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            self.0.steal()
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            self.0.steal_batch_and_pop(&dest.0)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(loom)]
mod imp {
    use crate::loom::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    /// Mirrors `crossbeam_deque::Steal`.
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        #[allow(dead_code)]
        Retry,
    }

    pub(crate) struct Local<T>(Arc<Mutex<VecDeque<T>>>);
    pub(crate) struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> Local<T> {
        pub(crate) fn new() -> Self {
            Local(Arc::new(Mutex::new(VecDeque::new())))
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.lock().push_back(task)
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    fn batch<T>(src: &mut VecDeque<T>, dest: &Local<T>) -> Steal<T> {
        let Some(first) = src.pop_front() else {
            return Steal::Empty;
        };
        let n = src.len() / 2;
        let mut d = dest.0.lock();
        for _ in 0..n {
            d.push_back(src.pop_front().unwrap());
        }
        Steal::Success(first)
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            let mut src = self.0.lock();
            batch(&mut src, dest)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Self {
            Injector(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, task: T) {
            self.0.lock().push_back(task)
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            let mut src = self.0.lock();
            batch(&mut src, dest)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }
}

pub(crate) use imp::*;

/// Retries a steal that lost a race (`Retry`) a bounded number of times.
pub(crate) fn steal_with_retry<T>(mut f: impl FnMut() -> Steal<T>) -> Option<T> {
    for _ in 0..8 {
        match f() {
            Steal::Success(t) => return Some(t),
            Steal::Empty => return None,
            Steal::Retry => crate::loom::spin_loop(),
        }
    }
    None
}
