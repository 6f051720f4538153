//! The task state machine: one atomic word per task, holding its flags and its reference count.
//!
//! Every party that touches a task — the worker polling it, a waker on another thread, the
//! `JoinHandle`, an `abort()`, runtime shutdown — agrees on what to do through compare-and-swap
//! transitions on this word. The same word counts the references to the task's heap cell, so a
//! transition that must also take or give up a reference (a wake that submits the task, a poll
//! that ends idle) costs one atomic operation instead of a CAS plus a separate counter update.
//!
//! Flag bits (the low `REF_SHIFT` bits):
//! - `RUNNING`: a thread owns the future (polling or cancelling it).
//! - `NOTIFIED`: the task is (or must be put) in a run queue; set by a wake.
//! - `COMPLETE`: the output (or the `JoinError`) is stored; the future is gone.
//! - `CANCELLED`: abort or shutdown asked for the future to be dropped.
//! - `JOIN_INTEREST`: a `JoinHandle` exists and will read the output.
//! - `JOIN_WAKER`: the join waker slot holds a waker the runtime may read and wake.
//!
//! The remaining high bits count references (`REF_ONE` each). A reference is held by every run
//! queue entry (`Notified`), the owned-task set's entry, the `JoinHandle`, every `AbortHandle`
//! and every owned `Waker` of the task. Whoever takes the count to zero frees the cell; nobody
//! touches the cell after giving up their reference unless that made them the last one.
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

/// The reference count lives above the flag bits.
const REF_SHIFT: usize = 6;
/// One reference.
pub(super) const REF_ONE: usize = 1 << REF_SHIFT;
/// Counts above this abort the process (as `Arc` does): the count must never wrap into the
/// flags, and no sane program holds 2^57 (64-bit) or 2^25 (32-bit) references to one task.
///
/// Only [`State::ref_inc`] checks it. The increments inside the CAS transitions (a wake or an
/// abort that submits the task, `transition_to_idle` rescheduling it) are unchecked: they take
/// the reference of the task's single run queue entry, which only the transition that sets
/// `NOTIFIED` may create, so at any time they account for at most one or two references (the
/// queue entry, plus the runner's own while it hands a rescheduled entry over) on top of the
/// checked ones — far below the half of the range that lies between `REF_MAX` and a wrap.
/// On 32-bit targets the limit is low enough that a program that leaks references (say, a
/// loop that `mem::forget`s waker clones) reaches the abort within a fraction of a second;
/// that is intended: the alternative is a count that wraps and a cell freed while in use.
const REF_MAX: usize = usize::MAX >> 1;

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
    pub(super) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
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
            .field("refs", &self.ref_count())
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
    /// Nothing: a future wake will schedule the task. The runner's reference was given up by
    /// the transition; the runner must not touch the task again.
    Idle,
    /// As `Idle`, but the runner's reference was the last one: the runner must free the cell.
    IdleLastRef,
    /// The task was woken during its poll: put it back in a run queue (as a yield). The
    /// transition took one reference for the new queue entry; the runner keeps its own until
    /// it has handed the entry over.
    Reschedule,
    /// Abort arrived during the poll: the runner still owns the future and must cancel it.
    Cancel,
}

/// What a wake through an owned waker (`Waker::wake`) must do; the waker's own reference is
/// accounted for by the transition in every case.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ByVal {
    /// Nothing more: the waker's reference was given up by the transition.
    Done,
    /// As `Done`, but it was the last reference: the caller must free the cell.
    DoneLastRef,
    /// Submit the task: the transition took one more reference for the new queue entry; the
    /// caller drops the waker's reference after scheduling.
    Submit,
}

/// The atomic word.
pub(super) struct State(AtomicUsize);

impl State {
    /// A new task: notified (it is about to be queued), with a join handle, and holding `refs`
    /// references (the queue entry, the join handle and, if any, the owned-task set's entry).
    pub(super) fn new(refs: usize) -> State {
        debug_assert!(refs >= 1);
        State(AtomicUsize::new(
            NOTIFIED | JOIN_INTEREST | (refs * REF_ONE),
        ))
    }

    /// Takes one more reference (a waker clone, an `AbortHandle`). Relaxed, like `Arc::clone`:
    /// the caller already holds a reference, so the cell cannot go away meanwhile, and the new
    /// reference is handed to another thread only through some synchronising operation.
    pub(super) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Relaxed);
        if prev > REF_MAX {
            std::process::abort();
        }
    }

    /// Gives up `n` references; returns true when they were the last ones (the caller must
    /// then free the cell). AcqRel: our earlier accesses to the cell happen before the free, and
    /// the freeing thread sees everyone's accesses.
    pub(super) fn ref_dec(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, AcqRel));
        // Loom models run release builds: check there too.
        #[cfg(loom)]
        assert!(prev.ref_count() >= n, "task reference count underflow");
        debug_assert!(prev.ref_count() >= n, "task reference count underflow");
        prev.ref_count() == n
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

    /// The poll returned `Pending`. Consumes the runner's reference unless it returns
    /// `Reschedule` or `Cancel` (see [`ToIdle`]).
    pub(super) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            let next = s.0 & !RUNNING;
            if s.is_notified() {
                (Some(next + REF_ONE), ToIdle::Reschedule)
            } else {
                debug_assert!(s.ref_count() >= 1);
                let action = if s.ref_count() == 1 {
                    ToIdle::IdleLastRef
                } else {
                    ToIdle::Idle
                };
                (Some(next - REF_ONE), action)
            }
        })
        .1
    }

    /// A wake through a borrowed waker: returns true when the caller must submit the task to
    /// the scheduler, in which case the transition took a reference for the queue entry.
    pub(super) fn transition_to_notified_by_ref(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, false)
            } else if s.is_running() {
                // The runner will reschedule it when the poll ends.
                (Some(s.0 | NOTIFIED), false)
            } else {
                (Some((s.0 | NOTIFIED) + REF_ONE), true)
            }
        })
        .1
    }

    /// A wake through an owned waker, which holds a reference: see [`ByVal`].
    pub(super) fn transition_to_notified_by_val(&self) -> ByVal {
        self.update(|s| {
            debug_assert!(s.ref_count() >= 1);
            if s.is_complete() || s.is_notified() || s.is_running() {
                // Running: the runner (which holds a reference) reschedules it at poll end.
                let next = if s.is_complete() || s.is_notified() {
                    s.0
                } else {
                    s.0 | NOTIFIED
                };
                let action = if s.ref_count() == 1 {
                    ByVal::DoneLastRef
                } else {
                    ByVal::Done
                };
                (Some(next - REF_ONE), action)
            } else {
                // Keep the waker's reference until `schedule` returns (it reads the scheduler
                // in the cell, and once the entry is queued another worker may run, complete
                // and release the task) and take one for the queue entry.
                (Some((s.0 | NOTIFIED) + REF_ONE), ByVal::Submit)
            }
        })
        .1
    }

    /// `abort()` from any thread: returns true when the caller must submit the task, so a
    /// worker picks it up and drops the future on a runtime thread; the transition then took a
    /// reference for the queue entry.
    pub(super) fn transition_to_notified_and_cancel(&self) -> bool {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                (None, false)
            } else if s.is_running() || s.is_notified() {
                (Some(s.0 | CANCELLED | NOTIFIED), false)
            } else {
                (Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE), true)
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

    fn refs(s: &State) -> usize {
        s.load().ref_count()
    }

    #[test]
    fn poll_cycle() {
        // Queue entry + join handle.
        let s = State::new(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(
            !s.transition_to_notified_by_ref(),
            "a running task is not submitted"
        );
        assert_eq!(refs(&s), 2, "a wake while running takes no reference");
        assert_eq!(s.transition_to_idle(), ToIdle::Reschedule);
        assert_eq!(refs(&s), 3, "the reschedule took one for the new entry");
        assert!(!s.ref_dec(1), "the runner drops its own after handing over");
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert_eq!(refs(&s), 1, "idle gave up the runner's reference");
        assert!(s.transition_to_notified_by_ref());
        assert_eq!(refs(&s), 2, "a submitting wake takes a reference");
        assert!(!s.transition_to_notified_by_ref(), "notified once");
        assert_eq!(refs(&s), 2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.is_join_interested());
        assert!(
            !s.transition_to_notified_by_ref(),
            "complete tasks are never scheduled"
        );
        assert!(!s.ref_dec(1));
        assert!(s.ref_dec(1), "the last reference reports it");
    }

    #[test]
    fn wake_by_val_accounts_for_the_wakers_reference() {
        let s = State::new(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.ref_inc(); // a waker clone
        assert_eq!(s.transition_to_notified_by_val(), ByVal::Done);
        assert_eq!(
            refs(&s),
            2,
            "waking while running gives the waker's reference up"
        );
        assert_eq!(s.transition_to_idle(), ToIdle::Reschedule);
        assert!(!s.ref_dec(1));
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_val(), ByVal::Submit);
        assert_eq!(refs(&s), 3, "waker + new entry + join handle");
        assert!(!s.ref_dec(1), "the waker's, after scheduling");
        s.ref_inc();
        assert_eq!(
            s.transition_to_notified_by_val(),
            ByVal::Done,
            "already notified"
        );
        assert_eq!(refs(&s), 2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.transition_to_complete();
        assert!(!s.ref_dec(1), "runner");
        assert_eq!(s.transition_to_notified_by_val(), ByVal::DoneLastRef);
    }

    #[test]
    fn idle_with_the_last_reference_reports_it() {
        let s = State::new(1);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::IdleLastRef);
    }

    #[test]
    fn abort_idle_task_submits_it_once() {
        let s = State::new(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert!(s.transition_to_notified_and_cancel());
        assert_eq!(refs(&s), 2, "the abort took a reference for the entry");
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(refs(&s), 2);
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn abort_while_running_is_seen_at_idle() {
        let s = State::new(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_idle(), ToIdle::Cancel);
        assert_eq!(refs(&s), 2, "the runner keeps its reference to cancel");
    }

    #[test]
    fn shutdown_of_queued_task_makes_queue_entry_skip() {
        let s = State::new(3);
        assert!(s.transition_to_shutdown());
        s.transition_to_complete();
        assert_eq!(s.transition_to_running(), ToRunning::Skip);
    }

    #[test]
    fn join_handle_drop_before_and_after_complete() {
        let s = State::new(2);
        assert_eq!(s.transition_to_join_handle_dropped(), (false, true));
        let s = State::new(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.set_join_waker().unwrap();
        let prev = s.transition_to_complete();
        assert!(prev.is_join_waker_set());
        // Handle dropped while the runtime still owns the waker: the runtime drops it.
        assert_eq!(s.transition_to_join_handle_dropped(), (true, false));
        assert!(!s.unset_waker_after_complete().is_join_interested());
    }

    #[test]
    fn flags_survive_reference_traffic() {
        let s = State::new(1);
        for _ in 0..1000 {
            s.ref_inc();
        }
        let snap = s.load();
        assert!(snap.is_notified() && snap.is_join_interested());
        assert!(!snap.is_running() && !snap.is_complete());
        assert!(!s.ref_dec(1000));
        assert!(s.ref_dec(1));
    }
}
