//! Which workers sleep, and which are searching for work.
//!
//! Waking a sleeping worker for every new task would wake them all at once (thundering herd)
//! and make them fight over one task. Instead a worker is woken only when *nobody is searching*:
//! a searching worker will find the new task itself. At most half of the workers search at
//! once. The last worker to stop searching — because it found work — wakes another one to take
//! over the search, so queued work is never left with nobody looking for it.
//!
//! One atomic word holds `num_searching` (low 16 bits) and `num_unparked` (high bits); the
//! list of sleepers is behind a mutex that is only taken on the slow paths (park and notify).

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

const SEARCH_BITS: usize = 16;
const SEARCH_MASK: usize = (1 << SEARCH_BITS) - 1;
const UNPARK_ONE: usize = 1 << SEARCH_BITS;

pub(super) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn num_searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn num_unparked(state: usize) -> usize {
    state >> SEARCH_BITS
}

impl Idle {
    /// All workers start unparked and not searching.
    pub(super) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << SEARCH_BITS),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// New work appeared: returns a sleeping worker to wake, if one should be woken. The woken
    /// worker is counted as searching.
    pub(super) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wake_up() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.notify_should_wake_up() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        Some(worker)
    }

    fn notify_should_wake_up(&self) -> bool {
        // A read-modify-write, not a load: it reads the latest state in the word's modification
        // order, so it pairs with the `fetch_sub` of a searcher that parks and then re-checks
        // the queues. Either our RMW comes after that `fetch_sub` (we see nobody searching and
        // wake a sleeper) or before it (the parker's RMW reads ours, so its re-check sees the
        // task we pushed before calling here). A plain load gives no such guarantee when the
        // push itself was not SeqCst (a local queue push is a Release store): both sides could
        // miss each other and the task would wait for its busy worker while a sleeper sleeps.
        let state = self.state.fetch_add(0, SeqCst);
        num_searching(state) == 0 && num_unparked(state) < self.num_workers
    }

    /// A worker wants to steal. Returns false when enough workers search already.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * num_searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work. Returns true when it was the last searcher (it must then
    /// wake another worker to keep searching).
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(num_searching(prev) > 0);
        num_searching(prev) == 1
    }

    /// A worker goes to sleep. Returns true when it was the last searcher.
    pub(super) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && num_searching(prev) == 1
    }

    /// A sleeping worker woke by itself (I/O event, timer, shutdown) and has work: take it off
    /// the sleeper list. Returns false when a notifier already took it off (and counted it as
    /// searching).
    pub(super) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(UNPARK_ONE, SeqCst);
                true
            }
            None => false,
        }
    }

    /// True while `worker` is on the sleeper list.
    pub(super) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn notifies_only_when_nobody_searches() {
        let idle = Idle::new(4);
        assert!(idle.worker_to_notify().is_none(), "everybody is awake");
        assert!(!idle.transition_worker_to_parked(3, false));
        assert!(!idle.transition_worker_to_parked(2, false));
        assert_eq!(idle.worker_to_notify(), Some(2));
        // Worker 2 is now searching: no second wake-up.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_worker_from_searching(), "the only searcher");
        assert_eq!(idle.worker_to_notify(), Some(3));
    }

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::atomic::AtomicUsize;
    use crate::loom::thread;
    use std::sync::Arc;

    /// The last searcher gives up (parks) while a task is pushed from outside. Either the pusher
    /// sees nobody searching and wakes a sleeper, or the searcher's re-check after parking sees
    /// the task: exactly one worker is woken — never none (lost wake-up), never two (herd).
    #[test]
    fn last_searcher_parks_racing_remote_push() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            // Worker 1 sleeps; worker 0 searched the queues, found nothing, and now parks.
            assert!(!idle.transition_worker_to_parked(1, false));
            assert!(idle.transition_worker_to_searching());
            let queue = Arc::new(AtomicUsize::new(0));
            let woken = Arc::new(AtomicUsize::new(0));

            let pusher = {
                let (idle, queue, woken) = (idle.clone(), queue.clone(), woken.clone());
                thread::spawn(move || {
                    queue.fetch_add(1, SeqCst);
                    if idle.worker_to_notify().is_some() {
                        woken.fetch_add(1, SeqCst);
                    }
                })
            };
            if idle.transition_worker_to_parked(0, true) && queue.load(SeqCst) > 0 {
                if idle.worker_to_notify().is_some() {
                    woken.fetch_add(1, SeqCst);
                }
            }
            pusher.join().unwrap();
            assert_eq!(
                woken.load(SeqCst),
                1,
                "one sleeper must be woken for the task"
            );
        });
    }

    /// A searcher finds work while another worker is pushing more: the last searcher to stop
    /// searching wakes a sleeper, and a worker woken by a notifier is never also left on the
    /// sleeper list (its own `unpark_worker_by_id` then reports it was already taken off).
    #[test]
    fn notify_racing_self_wakeup() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            assert!(!idle.transition_worker_to_parked(1, false));
            let notifier = {
                let idle = idle.clone();
                thread::spawn(move || idle.worker_to_notify())
            };
            // Worker 1 woke by itself (an I/O event) with work in its queue.
            let removed_itself = idle.unpark_worker_by_id(1);
            let notified = notifier.join().unwrap();
            assert!(!idle.is_parked(1));
            match notified {
                Some(w) => {
                    assert_eq!(w, 1);
                    assert!(!removed_itself, "taken off the sleeper list twice");
                    // The notified worker counts as searching until it finds work.
                    assert!(idle.transition_worker_from_searching());
                }
                None => assert!(removed_itself),
            }
            // Back to the initial state: everybody awake, nobody searching.
            assert_eq!(idle.state.load(SeqCst), 2 << SEARCH_BITS);
        });
    }
}
