//! The time driver: the runtime-facing [`Handle`] around the timing wheel.
//!
//! The runtime owns no separate timer thread. Before it parks it asks
//! [`Handle::next_timeout`] how long it may sleep, and after it wakes it calls
//! [`Handle::process`], which fires every due timer. A `Sleep` registering a deadline earlier
//! than the one the parked thread is waiting for calls the `unpark` callback given to
//! [`Handle::new`], so the thread wakes and re-computes its timeout. `unpark` must be sticky
//! (an unpark before the park makes the park return at once), as mio's `Waker` is.
//!
//! # Entries
//!
//! Each `Sleep` owns an `Arc<TimerShared>` (an atomic state word plus a waker cell, see
//! [`entry`]) and, once registered, the wheel [`Key`] of its entry; the wheel's node holds the
//! other `Arc`. Keys carry a generation, so the `Sleep` can always ask the wheel to remove "its"
//! entry — after the entry fired the key is stale and removal is a no-op. That makes reset and
//! drop simple and safe without any pointer into the `Sleep`: no `unsafe` in the driver, no
//! dangling pointer possible, and a dropped `Sleep` never leaves an entry behind.
//!
//! # Locking
//!
//! The wheel sits behind one mutex. Critical sections are O(1) (insert, remove) or bounded
//! (`process` takes at most [`WAKE_BATCH`] entries per lock); wakers run with the lock released.
//! `FIRED` is set under the lock when an entry leaves the wheel, and cleared under the lock by a
//! reset, so a late wake of an old firing can never make a reset timer look fired.
//!
//! # Time
//!
//! The wheel counts milliseconds since the handle was created. A deadline is rounded *up* to
//! the next millisecond and "now" is rounded *down*, so a timer never fires before its
//! deadline.

pub(crate) mod entry;
pub(crate) mod wheel;

use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::{Arc, Mutex};
use crate::time::Instant;
use entry::TimerShared;
use std::time::Duration;
use wheel::{Key, Wheel};

/// How many timers `process` takes out per lock acquisition before waking them.
const WAKE_BATCH: usize = 32;

/// The runtime's time driver.
pub(crate) struct Handle {
    start: std::time::Instant,
    inner: Mutex<Inner>,
    is_shutdown: AtomicBool,
    unpark: Box<dyn Fn() + Send + Sync>,
}

struct Inner {
    wheel: Wheel<Arc<TimerShared>>,
    /// The deadline (ms) the parked thread is (or will be) waiting for: the value behind the last
    /// `next_timeout`, lowered by every earlier registration (which unparks). `u64::MAX`: none.
    parked_until: u64,
    is_shutdown: bool,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("time::driver::Handle")
            .field("is_shutdown", &self.is_shutdown.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// `unpark` is called when a deadline earlier than every other one is registered, so a
    /// thread parked with a longer timeout wakes up and re-computes its timeout.
    pub(crate) fn new(unpark: Box<dyn Fn() + Send + Sync>) -> Handle {
        Handle {
            start: std::time::Instant::now(),
            inner: Mutex::new(Inner {
                wheel: Wheel::new(),
                parked_until: u64::MAX,
                is_shutdown: false,
            }),
            is_shutdown: AtomicBool::new(false),
            unpark,
        }
    }

    /// Time until the earliest deadline (None: no timers). Zero if one is already due.
    pub(crate) fn next_timeout(&self) -> Option<Duration> {
        let next = self.next_expiration_ms()?;
        let at = self.start + Duration::from_millis(next);
        Some(at.saturating_duration_since(std::time::Instant::now()))
    }

    /// Fires every entry whose deadline <= now (wakes its waker). Returns how many fired.
    pub(crate) fn process(&self) -> usize {
        self.process_at(self.now_ms())
    }

    /// Runtime shutdown: every registered timer fires (its task is woken and its `Sleep`
    /// completes); timers registered afterwards complete at once.
    pub(crate) fn shutdown(&self) {
        let mut all = Vec::new();
        {
            let mut inner = self.inner.lock();
            inner.is_shutdown = true;
            self.is_shutdown.store(true, Release);
            inner.wheel.drain(|shared| {
                shared.mark_fired();
                all.push(shared);
            });
        }
        for shared in all {
            shared.wake();
        }
    }

    /// Whether [`shutdown`](Self::shutdown) has run.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(Acquire)
    }

    /// The wheel tick of `deadline`: milliseconds since start, rounded up.
    pub(crate) fn deadline_to_ms(&self, deadline: Instant) -> u64 {
        let since = deadline.into_std().saturating_duration_since(self.start);
        let ms = since.as_nanos().div_ceil(1_000_000);
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// The current wheel tick: milliseconds since start, rounded down.
    fn now_ms(&self) -> u64 {
        let ms = std::time::Instant::now()
            .saturating_duration_since(self.start)
            .as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// The next tick the wheel must be processed at; records it as the parked thread's target.
    pub(crate) fn next_expiration_ms(&self) -> Option<u64> {
        let mut inner = self.inner.lock();
        let next = inner.wheel.next_expiration();
        inner.parked_until = next.unwrap_or(u64::MAX);
        next
    }

    /// `process` with an explicit "now" tick.
    pub(crate) fn process_at(&self, now: u64) -> usize {
        let mut fired = 0;
        loop {
            let mut batch: [Option<Arc<TimerShared>>; WAKE_BATCH] = Default::default();
            let mut n = 0;
            {
                let mut inner = self.inner.lock();
                while n < WAKE_BATCH {
                    match inner.wheel.poll(now) {
                        Some((_, shared)) => {
                            shared.mark_fired();
                            batch[n] = Some(shared);
                            n += 1;
                        }
                        None => break,
                    }
                }
            }
            for shared in batch.iter().take(n).flatten() {
                shared.wake();
            }
            fired += n;
            if n < WAKE_BATCH {
                return fired;
            }
        }
    }

    /// (Re-)registers `shared` due at tick `when`, replacing the entry of `old` if that is
    /// still in the wheel. Returns the new key, or `None` if the timer was fired at once
    /// (deadline already passed, or the driver is shut down). Clears a previous `FIRED`.
    pub(crate) fn register(
        &self,
        shared: &Arc<TimerShared>,
        old: Option<Key>,
        when: u64,
    ) -> Option<Key> {
        let due_now = when <= self.now_ms();
        let mut unpark = false;
        let key = {
            let mut inner = self.inner.lock();
            if let Some(old) = old {
                inner.wheel.remove(old);
            }
            if due_now || inner.is_shutdown {
                // Not in the wheel: no firer can race this.
                shared.mark_fired();
                None
            } else {
                shared.clear_fired();
                if when < inner.parked_until {
                    inner.parked_until = when;
                    unpark = true;
                }
                Some(inner.wheel.insert(when, shared.clone()))
            }
        };
        if unpark {
            (self.unpark)();
        }
        key
    }

    /// Removes the entry of `key` if it is still in the wheel.
    pub(crate) fn deregister(&self, key: Key) {
        let removed = self.inner.lock().wheel.remove(key);
        // Drop the wheel's Arc outside the lock.
        drop(removed);
    }

    /// Number of timers in the wheel.
    #[cfg(test)]
    pub(crate) fn num_timers(&self) -> usize {
        self.inner.lock().wheel.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn unpark_only_for_earlier_deadlines() {
        let unparks = std::sync::Arc::new(AtomicUsize::new(0));
        let u = unparks.clone();
        let h = Handle::new(Box::new(move || {
            u.fetch_add(1, SeqCst);
        }));
        let a = Arc::new(TimerShared::new());
        h.register(&a, None, 1_000_000).unwrap();
        assert_eq!(unparks.load(SeqCst), 1);
        assert_eq!(h.next_expiration_ms().map(|_| ()), Some(()));
        let b = Arc::new(TimerShared::new());
        h.register(&b, None, 2_000_000).unwrap();
        assert_eq!(unparks.load(SeqCst), 1, "later deadline must not unpark");
        let c = Arc::new(TimerShared::new());
        let kc = h.register(&c, None, 500_000).unwrap();
        assert_eq!(unparks.load(SeqCst), 2);
        h.deregister(kc);
        assert_eq!(h.num_timers(), 2);
        h.shutdown();
        assert!(a.is_fired() && b.is_fired() && !c.is_fired());
        assert_eq!(h.num_timers(), 0);
        // After shutdown registration completes at once.
        let d = Arc::new(TimerShared::new());
        assert!(h.register(&d, None, 3_000_000).is_none());
        assert!(d.is_fired());
    }

    #[test]
    fn rounding_never_early() {
        let h = Handle::new(Box::new(|| {}));
        let start = Instant::from_std(h.start);
        assert_eq!(h.deadline_to_ms(start), 0);
        assert_eq!(h.deadline_to_ms(start + Duration::from_nanos(1)), 1);
        assert_eq!(h.deadline_to_ms(start + Duration::from_micros(1000)), 1);
        assert_eq!(h.deadline_to_ms(start + Duration::from_micros(1001)), 2);
        assert_eq!(h.deadline_to_ms(start - Duration::from_secs(1)), 0);
    }

    #[test]
    fn process_fires_in_batches_and_reset_moves() {
        let h = Handle::new(Box::new(|| {}));
        let timers: Vec<_> = (0..100).map(|_| Arc::new(TimerShared::new())).collect();
        let keys: Vec<_> = timers
            .iter()
            .enumerate()
            .map(|(i, t)| h.register(t, None, 1_000_000 + i as u64).unwrap())
            .collect();
        // Move timer 0 later, timer 99 earlier.
        let k0 = h.register(&timers[0], Some(keys[0]), 2_000_000).unwrap();
        h.register(&timers[99], Some(keys[99]), 999_999).unwrap();
        assert_eq!(h.num_timers(), 100);
        assert_eq!(h.process_at(1_000_050), 51); // 99 (moved earlier) + 1..=50
        assert!(timers[99].is_fired() && timers[50].is_fired() && !timers[51].is_fired());
        assert!(!timers[0].is_fired());
        h.deregister(k0);
        assert_eq!(h.process_at(3_000_000), 48);
        assert!(!timers[0].is_fired());
        assert_eq!(h.num_timers(), 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// Fire (driver thread) racing drop (deregister) and reset of the same timer.
    #[test]
    fn fire_races_deregister_and_reset() {
        loom::model(|| {
            let h = Arc::new(Handle::new(Box::new(|| {})));
            let shared = Arc::new(TimerShared::new());
            // Far in the future of the real clock, so the model controls when it is due.
            let key = h.register(&shared, None, 1 << 40).unwrap();
            let h2 = h.clone();
            let driver = loom::thread::spawn(move || h2.process_at(1 << 41));
            let key = h.register(&shared, Some(key), (1 << 40) + 1);
            h.deregister(key.unwrap());
            let fired = driver.join().unwrap();
            assert!(fired <= 1);
            assert_eq!(h.num_timers(), 0);
            // FIRED can only come from this driver run (the reset clears an earlier one).
            assert!(!shared.is_fired() || fired == 1);
        });
    }
}
