//! The set of live tasks of one runtime, so shutdown can cancel every one of them.
//!
//! A task enters the set when it is spawned and leaves when it completes. The set is sharded
//! by task id so spawns and completions on different workers rarely touch the same lock. Once
//! closed (shutdown), binding fails and the new task is cancelled on the spot: tasks that keep
//! spawning during shutdown cannot keep the runtime alive.
//!
//! Performance notes (every spawn and every completion passes through here, usually on two
//! different threads — the spawner and the worker that completes the task):
//! - each shard sits on its own cache lines (`#[repr(align(128))]`, two lines because of the
//!   adjacent-line prefetcher), so a spawner inserting into shard 3 does not invalidate the line
//!   a worker is removing from in shard 4;
//! - there is no global live-task counter: a shared atomic written by every spawn and every
//!   completion was a contended cache line on exactly the hot path. The count is the sum of the
//!   shard sizes, computed on demand (it is only read by metrics).

use super::cell::{new_task, Schedule};
use super::{Id, JoinHandle, Notified, Task};
use crate::loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
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
        // All ids of one shard share their low bits (the shard index), and a multiplicative
        // hash keeps low bits low: rotate the well-mixed high bits down so the table's bucket
        // index (taken from the low bits) sees all of the entropy.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(26);
    }
}

type Map = HashMap<u64, Task, BuildHasherDefault<IdHasher>>;

/// One shard, alone on its cache lines (see the module notes).
#[repr(align(128))]
struct Shard(Mutex<Map>);

pub(crate) struct OwnedTasks {
    shards: Box<[Shard]>,
    closed: AtomicBool,
}

impl OwnedTasks {
    pub(crate) fn new(num_shards: usize) -> OwnedTasks {
        let n = num_shards.next_power_of_two().max(1);
        OwnedTasks {
            shards: (0..n).map(|_| Shard(Mutex::new(Map::default()))).collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, id: Id) -> &Mutex<Map> {
        &self.shards[(id.as_u64() as usize) & (self.shards.len() - 1)].0
    }

    /// Creates the task and adds it to the set. Returns the task to schedule, or `None` when
    /// the set is closed (the task was cancelled already; its handle reports `Cancelled`).
    pub(crate) fn bind<F, S>(
        &self,
        future: F,
        scheduler: S,
        id: Id,
    ) -> (JoinHandle<F::Output>, Option<Notified>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule,
    {
        // Three references at once: the set's entry, the run queue entry and the join handle.
        let (task, notified, join) = new_task(future, scheduler, id);
        let mut shard = self.shard(id).lock();
        if self.closed.load(SeqCst) {
            drop(shard);
            task.shutdown();
            drop(notified);
            return (join, None);
        }
        shard.insert(id.as_u64(), task);
        drop(shard);
        (join, Some(notified))
    }

    /// A task completed: removes it and returns the set's reference to it (given up by the
    /// caller, after the lock is released).
    pub(crate) fn remove(&self, id: Id) -> Option<Task> {
        self.shard(id).lock().remove(&id.as_u64())
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
            let tasks: Vec<Task> = {
                let mut shard = shard.0.lock();
                shard.drain().map(|(_, t)| t).collect()
            };
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// Tasks spawned and not yet completed.
    pub(crate) fn len(&self) -> usize {
        // Not a snapshot of one instant (shards are read one after the other), which is all a
        // metric needs.
        self.shards.iter().map(|shard| shard.0.lock().len()).sum()
    }
}
