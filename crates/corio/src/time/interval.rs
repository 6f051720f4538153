//! `Interval`: a stream of evenly spaced ticks, with a policy for ticks missed while the
//! consumer was busy.

use crate::time::{sleep_until, Instant, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// How late a tick may be before it counts as missed and [`MissedTickBehavior`] applies.
const MISSED_TOLERANCE: Duration = Duration::from_millis(5);

/// Creates an [`Interval`] whose first tick completes immediately and then every `period`.
///
/// Panics if `period` is zero, or if called outside a runtime with time enabled.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    new_interval(Instant::now(), period)
}

/// Creates an [`Interval`] whose first tick completes at `start` and then every `period`.
///
/// Panics if `period` is zero, or if called outside a runtime with time enabled.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    new_interval(start, period)
}

fn new_interval(start: Instant, period: Duration) -> Interval {
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks were missed (the consumer called `tick` too late).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back as fast as possible, then continue on the original
    /// schedule (`start + n * period`).
    #[default]
    Burst,
    /// Fire one tick now and schedule the following ones `period` apart from now: the schedule
    /// shifts by the delay.
    Delay,
    /// Fire one tick now and skip the missed ones: the next tick is the next multiple of
    /// `period` on the original schedule after now.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick that was due at `timeout` and observed at `now`.
    fn next_timeout(&self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => timeout + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = now.duration_since(timeout).as_nanos();
                let into_period = (late % period.as_nanos()) as u64;
                now + period - Duration::from_nanos(into_period)
            }
        }
    }
}

/// Ticks at a fixed period; created by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant.
    ///
    /// Cancel safe: dropping the future before it completes does not lose a tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; returns its scheduled instant when it is due.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.delay).poll(cx));
        let timeout = self.delay.deadline();
        let now = Instant::now();
        let next = if now.saturating_duration_since(timeout) > MISSED_TOLERANCE {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout
                .checked_add(self.period)
                .unwrap_or_else(Instant::far_future)
        };
        // Registered on the next poll: a tick nobody waits for costs no wheel work.
        self.delay.reset_lazy(next);
        Poll::Ready(timeout)
    }

    /// Resets the schedule so the next tick is one `period` from now.
    pub fn reset(&mut self) {
        self.reset_at(Instant::now() + self.period);
    }

    /// Resets the schedule so the next tick completes immediately.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Resets the schedule so the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now() + after);
    }

    /// Resets the schedule so the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The current [`MissedTickBehavior`].
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the [`MissedTickBehavior`].
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_policies() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        let now = t0 + Duration::from_millis(25);
        assert_eq!(MissedTickBehavior::Burst.next_timeout(t0, now, p), t0 + p);
        assert_eq!(MissedTickBehavior::Delay.next_timeout(t0, now, p), now + p);
        assert_eq!(
            MissedTickBehavior::Skip.next_timeout(t0, now, p),
            t0 + Duration::from_millis(30)
        );
    }
}
