//! The task state machine: one atomic word per task.
//!
//! Every party that touches a task — the worker polling it, a waker on another thread, the
//! `JoinHandle`, an `abort()`, runtime shutdown — agrees on what to do through compare-and-swap
//! transitions on this word. Memory is managed by `Arc`; this word only decides *who may touch
//! the future, the output and the join waker*, and *who must schedule the task*.
//!
//! Bits:
//! - `RUNNING`: a thread owns the future (polling or cancelling it).
//! - `NOTIFIED`: the task is (or must be put) in a run queue; set by a wake.
//! - `COMPLETE`: the output (or the `JoinError`) is stored; the future is gone.
//! - `CANCELLED`: abort or shutdown asked for the future to be dropped.
//! - `JOIN_INTEREST`: a `JoinHandle` exists and will read the output.
//! - `JOIN_WAKER`: the join waker slot holds a waker the runtime may read and wake.
//!
//! Ownership rules of the join waker slot (the subtle part):
//! - while `JOIN_WAKER` is unset and the task is not complete, only the `JoinHandle` touches it;
//! - while `JOIN_WAKER` is set, only the completing thread touches it (to wake it);
//! - after completion the runtime unsets `JOIN_WAKER`; whoever observes the other side gone
//!   (runtime: no `JOIN_INTEREST`; handle: no `JOIN_WAKER`) drops the waker.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};

pub(super) const RUNNING: usize = 0b00_0001;
pub(super) const COMPLETE: usize = 0b00_0010;
pub(super) const NOTIFIED: usize = 0b00_0100;
pub(super) const CANCELLED: usize = 0b00_1000;
pub(super) const JOIN_INTEREST: usize = 0b01_0000;
pub(super) const JOIN_WAKER: usize = 0b10_0000;

/// A copy of the state word, with readable accessors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot(pub(super) usize);

impl Snapshot {
    pub(super) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(super) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(super) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(super) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(super) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(super) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .finish()
    }
}

/// What the runner must do after trying to start a poll.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Drop the future and complete with `JoinError::Cancelled`.
    Cancel,
    /// The task completed already (shut down while queued): nothing to do.
    Skip,
}

/// What the runner must do after a poll returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ToIdle {
    /// Nothing: a future wake will schedule the task.
    Idle,
    /// The task was woken during its poll: put it back in a run queue (as a yield).
    Reschedule,
    /// Abort arrived during the poll: the runner still owns the future and must cancel it.
    Cancel,
}

/// The atomic word.
pub(super) struct State(AtomicUsize);

impl State {
    /// A new task: notified (it is about to be queued) and with a join handle.
    pub(super) fn new() -> State {
        State(AtomicUsize::new(NOTIFIED | JOIN_INTEREST))
    }

    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Applies `f` until the CAS succeeds; `f` returns `None` to leave the word unchanged.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> (Snapshot, R) {
        let mut cur = self.0.load(Acquire);
        loop {
            let (next, result) = f(Snapshot(cur));
            let Some(next) = next else {
                return (Snapshot(cur), result);
            };
            match self.0.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return (Snapshot(cur), result),
                Err(actual) => cur = actual,
            }
        }
    }

    /// A run queue handed the task to a worker.
    pub(super) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            if s.is_complete() || s.is_running() {
                // Completed by shutdown while queued, or being cancelled by shutdown.
                return (None, ToRunning::Skip);
            }
            let next = (s.0 | RUNNING) & !NOTIFIED;
            let action = if s.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), action)
        })
        .1
    }

    /// The poll returned `Pending`.
    pub(super) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            let next = s.0 & !RUNNING;
            let action = if s.is_notified() {
                ToIdle::Reschedule
            } else {
                ToIdle::Idle
            };
            (Some(next), action)
        })
        .1
    }

    /// A wake: returns true when the caller must submit the task to the scheduler.
    pub(super) fn transition_to_notified(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, false)
            } else if s.is_running() {
                // The runner will reschedule it when the poll ends.
                (Some(s.0 | NOTIFIED), false)
            } else {
                (Some(s.0 | NOTIFIED), true)
            }
        })
        .1
    }

    /// `abort()` from any thread: returns true when the caller must submit the task, so a
    /// worker picks it up and drops the future on a runtime thread.
    pub(super) fn transition_to_notified_and_cancel(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, false)
            } else if s.is_running() || s.is_notified() {
                (Some(s.0 | CANCELLED | NOTIFIED), false)
            } else {
                (Some(s.0 | CANCELLED | NOTIFIED), true)
            }
        })
        .1
    }

    /// Runtime shutdown: returns true when the caller now owns the future and must cancel it
    /// in place; otherwise the thread running it will see `CANCELLED`.
    pub(super) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_running() || s.is_complete() {
                (Some(s.0 | CANCELLED), false)
            } else {
                (Some(s.0 | CANCELLED | RUNNING), true)
            }
        })
        .1
    }

    /// The output is stored: returns the state before completion.
    pub(super) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// After waking the join waker: gives the slot back; returns the state after.
    pub(super) fn unset_waker_after_complete(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!JOIN_WAKER, AcqRel) & !JOIN_WAKER)
    }

    /// The `JoinHandle` is dropped. Returns `(drop_output, drop_waker)`: what the handle must
    /// now drop itself.
    pub(super) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        let (prev, next) = self.update(|s| {
            let mut next = s.0 & !JOIN_INTEREST;
            if !s.is_complete() {
                next &= !JOIN_WAKER;
            }
            (Some(next), next)
        });
        (prev.is_complete(), Snapshot(next).0 & JOIN_WAKER == 0)
    }

    /// The join handle stored a waker: publish it. Fails (returns the snapshot) if the task
    /// completed meanwhile.
    pub(super) fn set_join_waker(&self) -> Result<(), Snapshot> {
        let (prev, ok) = self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 | JOIN_WAKER), true)
            }
        });
        if ok {
            Ok(())
        } else {
            Err(prev)
        }
    }

    /// The join handle wants to replace its waker: take the slot back. Fails if complete.
    pub(super) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        let (prev, ok) = self.update(|s| {
            if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 & !JOIN_WAKER), true)
            }
        });
        if ok {
            Ok(())
        } else {
            Err(prev)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn poll_cycle() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(
            !s.transition_to_notified(),
            "a running task is not submitted"
        );
        assert_eq!(s.transition_to_idle(), ToIdle::Reschedule);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert!(s.transition_to_notified());
        assert!(!s.transition_to_notified(), "notified once");
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.is_join_interested());
        assert!(
            !s.transition_to_notified(),
            "complete tasks are never scheduled"
        );
    }

    #[test]
    fn abort_idle_task_submits_it_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert!(s.transition_to_notified_and_cancel());
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn abort_while_running_is_seen_at_idle() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn shutdown_of_queued_task_makes_queue_entry_skip() {
        let s = State::new();
        assert!(s.transition_to_shutdown());
        s.transition_to_complete();
        assert_eq!(s.transition_to_running(), ToRunning::Skip);
    }

    #[test]
    fn join_handle_drop_before_and_after_complete() {
        let s = State::new();
        assert_eq!(s.transition_to_join_handle_dropped(), (false, true));
        let s = State::new();
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.set_join_waker().unwrap();
        let prev = s.transition_to_complete();
        assert!(prev.is_join_waker_set());
        // Handle dropped while the runtime still owns the waker: the runtime drops it.
        assert_eq!(s.transition_to_join_handle_dropped(), (true, false));
        assert!(!s.unset_waker_after_complete().is_join_interested());
    }
}
