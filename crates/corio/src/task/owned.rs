//! The set of live tasks of one runtime, so shutdown can cancel every one of them.
//!
//! A task enters the set when it is spawned and leaves when it completes. The set is sharded
//! by task id so spawns and completions on different workers rarely touch the same lock. Once
//! closed (shutdown), binding fails and the new task is cancelled on the spot: tasks that keep
//! spawning during shutdown cannot keep the runtime alive.

use super::cell::{Cell, Schedule};
use super::{Id, JoinHandle, Notified};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};

/// Task ids are sequential: a multiplicative hash spreads them well enough.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _bytes: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Shard = HashMap<u64, Notified, BuildHasherDefault<IdHasher>>;

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    closed: AtomicBool,
    alive: AtomicUsize,
}

impl OwnedTasks {
    pub(crate) fn new(num_shards: usize) -> OwnedTasks {
        let n = num_shards.next_power_of_two().max(1);
        OwnedTasks {
            shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(),
            closed: AtomicBool::new(false),
            alive: AtomicUsize::new(0),
        }
    }

    fn shard(&self, id: Id) -> &Mutex<Shard> {
        &self.shards[(id.as_u64() as usize) & (self.shards.len() - 1)]
    }

    /// Creates the task and adds it to the set. Returns the task to schedule, or `None` when
    /// the set is closed (the task was cancelled already; its handle reports `Cancelled`).
    pub(crate) fn bind<F, S>(&self, future: F, scheduler: S, id: Id) -> (JoinHandle<F::Output>, Option<Notified>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule,
    {
        let cell = Cell::new(future, scheduler, id);
        let join = JoinHandle::new(cell.clone());
        let task: Notified = cell;
        let mut shard = self.shard(id).lock();
        if self.closed.load(SeqCst) {
            drop(shard);
            task.shutdown();
            return (join, None);
        }
        shard.insert(id.as_u64(), task.clone());
        self.alive.fetch_add(1, SeqCst);
        drop(shard);
        (join, Some(task))
    }

    /// A task completed.
    pub(crate) fn remove(&self, id: Id) {
        if self.shard(id).lock().remove(&id.as_u64()).is_some() {
            self.alive.fetch_sub(1, SeqCst);
        }
    }

    /// Refuses new tasks from now on.
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
    }

    /// Closes the set and cancels every task in it. Locks are released before a future is
    /// dropped: a destructor may spawn, wake or complete other tasks.
    pub(crate) fn close_and_shutdown_all(&self) {
        self.close();
        for shard in self.shards.iter() {
            let tasks: Vec<Notified> = {
                let mut shard = shard.lock();
                shard.drain().map(|(_, t)| t).collect()
            };
            self.alive.fetch_sub(tasks.len(), SeqCst);
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// Tasks spawned and not yet completed.
    pub(crate) fn len(&self) -> usize {
        self.alive.load(SeqCst)
    }
}
