//! The state one timer shares between its `Sleep` and the driver: "fired" plus a waker cell.
//!
//! The wheel stores an `Arc<TimerShared>` per registered timer; the `Sleep` keeps another one
//! and the wheel [`Key`](super::wheel::Key) of its entry. Everything here is lock-free so the
//! driver can wake timers after it has released the wheel lock.
//!
//! # State word
//!
//! One `AtomicUsize` with two bits:
//! - `FIRED`: the deadline was reached (or the driver shut down). Set only under the wheel lock
//!   and only after the entry left the wheel; cleared only under the wheel lock by a reset
//!   (which holds `&mut Sleep`, so never concurrently with a poll of the same timer).
//! - `LOCKED`: someone has exclusive access to the waker cell — either the poller storing its
//!   waker, or a waker-taker (the driver, after a fire) taking it out.
//!
//! The handshake: the driver sets `FIRED` and later calls [`TimerShared::wake`], which tries to
//! take `LOCKED`; if the poller holds it, the driver just leaves — the poller's unlocking CAS
//! fails because `FIRED` is now set, so the poller reports Ready itself. A poller that finds a
//! taker inside the cell wakes its own task (a spurious but harmless re-poll) instead of
//! spinning. So after `FIRED` is set either the registered waker is woken or the poller sees
//! `FIRED`; no wake-up is lost.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::task::Waker;

const FIRED: usize = 0b01;
const LOCKED: usize = 0b10;

/// Per-timer state shared by its `Sleep` and the wheel.
#[derive(Debug)]
pub(crate) struct TimerShared {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the waker cell is only accessed by the thread that holds the LOCKED bit of `state`
// (acquired with an Acquire RMW, released with a Release RMW), so accesses never overlap and
// each sees the previous holder's writes; `Waker` itself is Send + Sync.
unsafe impl Send for TimerShared {}
// SAFETY: as for Send above.
unsafe impl Sync for TimerShared {}

impl TimerShared {
    /// A timer that has not fired.
    pub(crate) fn new() -> Self {
        TimerShared {
            state: AtomicUsize::new(0),
            waker: UnsafeCell::new(None),
        }
    }

    /// Whether the timer has fired.
    pub(crate) fn is_fired(&self) -> bool {
        self.state.load(Acquire) & FIRED != 0
    }

    /// Marks the timer fired. The caller holds the wheel lock and has taken the entry out of
    /// the wheel (or never put it in); it calls [`wake`](Self::wake) afterwards.
    pub(crate) fn mark_fired(&self) {
        self.state.fetch_or(FIRED, Release);
    }

    /// Clears `FIRED` before the timer is re-inserted with a new deadline. The caller holds the
    /// wheel lock and `&mut` of the owning `Sleep`.
    pub(crate) fn clear_fired(&self) {
        self.state.fetch_and(!FIRED, AcqRel);
    }

    /// Wakes the registered waker, if any and if no poller is storing one right now.
    pub(crate) fn wake(&self) {
        let prev = self.state.fetch_or(LOCKED, AcqRel);
        if prev & LOCKED != 0 {
            // The poller (or another taker) owns the cell; the poller will see FIRED.
            return;
        }
        // SAFETY: we set LOCKED (it was clear), which grants exclusive access to the cell
        // until we clear it below; every other access also happens only while holding LOCKED.
        let waker = self.waker.with_mut(|w| unsafe { (*w).take() });
        self.state.fetch_and(!LOCKED, Release);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Poll side: returns true if fired; otherwise stores `waker` to be woken on fire.
    /// Only the single owner (`&mut Sleep`) calls this.
    pub(crate) fn poll_fired(&self, waker: &Waker) -> bool {
        let state = self.state.load(Acquire);
        if state & FIRED != 0 {
            return true;
        }
        if state & LOCKED != 0
            || self
                .state
                .compare_exchange(0, LOCKED, Acquire, Acquire)
                .is_err()
        {
            // A taker is inside the cell (from an earlier firing) or we just fired.
            if self.is_fired() {
                return true;
            }
            waker.wake_by_ref();
            return false;
        }
        // SAFETY: our CAS set LOCKED from a clear state: exclusive access to the cell until we
        // clear it (both paths below).
        self.waker.with_mut(|w| unsafe {
            match &*w {
                Some(old) if old.will_wake(waker) => {}
                _ => *w = Some(waker.clone()),
            }
        });
        match self.state.compare_exchange(LOCKED, 0, AcqRel, Acquire) {
            Ok(_) => false,
            Err(_) => {
                // FIRED was set while we held the cell, and the taker left it to us.
                // SAFETY: still holding LOCKED.
                let stale = self.waker.with_mut(|w| unsafe { (*w).take() });
                self.state.fetch_and(!LOCKED, Release);
                drop(stale);
                true
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize as Counter;
    use std::task::Wake;

    struct CountWaker(Counter);
    impl Wake for CountWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting() -> (std::sync::Arc<CountWaker>, Waker) {
        let c = std::sync::Arc::new(CountWaker(Counter::new(0)));
        (c.clone(), Waker::from(c))
    }

    /// Registration racing fire: a Pending poll must be followed by a wake-up.
    #[test]
    fn register_races_fire() {
        loom::model(|| {
            let shared = Arc::new(TimerShared::new());
            let s2 = shared.clone();
            let driver = loom::thread::spawn(move || {
                s2.mark_fired();
                s2.wake();
            });
            let (count, waker) = counting();
            let ready = shared.poll_fired(&waker);
            driver.join().unwrap();
            if !ready {
                assert!(count.0.load(SeqCst) >= 1, "lost wake-up");
            }
            assert!(shared.poll_fired(&waker));
        });
    }

    /// A wake of an earlier firing racing a reset and a new registration: no data race on the
    /// cell, and the poll after the reset sees the timer as pending (or wakes itself).
    #[test]
    fn reset_races_old_wake() {
        loom::model(|| {
            let shared = Arc::new(TimerShared::new());
            let (_count, waker) = counting();
            assert!(!shared.poll_fired(&waker));
            shared.mark_fired();
            let s2 = shared.clone();
            let driver = loom::thread::spawn(move || s2.wake());
            shared.clear_fired();
            let ready = shared.poll_fired(&waker);
            assert!(!ready);
            driver.join().unwrap();
        });
    }

    /// Fire racing drop: the driver's clone keeps the state alive; the waker is released.
    #[test]
    fn fire_races_drop() {
        loom::model(|| {
            let shared = Arc::new(TimerShared::new());
            let (count, waker) = counting();
            assert!(!shared.poll_fired(&waker));
            drop(waker);
            let s2 = shared.clone();
            let driver = loom::thread::spawn(move || {
                s2.mark_fired();
                s2.wake();
            });
            drop(shared);
            driver.join().unwrap();
            assert!(count.0.load(SeqCst) <= 1);
        });
    }
}
