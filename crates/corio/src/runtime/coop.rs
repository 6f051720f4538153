//! The cooperative budget: at most 128 resource operations per task poll.
//!
//! A task that always finds its socket readable or its channel non-empty would otherwise never
//! return `Pending`, and would starve every other task on its worker and the I/O driver. Each
//! leaf resource (readiness, timers, channels, `JoinHandle`) calls [`poll_proceed`] first; once
//! the budget of the current poll is spent it wakes the task and returns `Pending`, so the
//! scheduler puts the task at the back of its queue. Outside a runtime the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may perform in one poll.
pub(crate) const BUDGET: u8 = 128;

crate::loom::thread_local! {
    /// `None`: unconstrained (outside a task poll).
    static BUDGET_LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` (a task poll) with a fresh budget, restoring the previous one afterwards.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget(Some(BUDGET), f)
}

/// Runs `f` without a budget (used for code that must not be forced to yield).
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(None, f)
}

fn with_budget<R>(budget: Option<u8>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            BUDGET_LEFT.with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(BUDGET_LEFT.with(|b| b.replace(budget)));
    f()
}

/// True when the current poll still has budget (used to decide whether to yield early).
pub(crate) fn has_budget_remaining() -> bool {
    BUDGET_LEFT.with(|b| b.get().is_none_or(|n| n > 0))
}

/// Proof that one unit of budget was taken; refunds it if dropped before `made_progress`.
#[must_use]
pub(crate) struct RestoreOnPending(Cell<Option<u8>>);

impl RestoreOnPending {
    /// The operation completed: keep the unit spent.
    pub(crate) fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(before) = self.0.get() {
            BUDGET_LEFT.with(|b| b.set(Some(before)));
        }
    }
}

/// Takes one unit of budget, or wakes the task and returns `Pending` when none is left.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    BUDGET_LEFT.with(|b| match b.get() {
        None => Poll::Ready(RestoreOnPending(Cell::new(None))),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            b.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Cell::new(Some(n))))
        }
    })
}

/// Spends one unit of budget, yielding to the scheduler when the budget is exhausted
/// (`tokio::task::consume_budget`).
pub async fn consume_budget() {
    let mut done = false;
    std::future::poll_fn(|cx| {
        if done {
            return Poll::Ready(());
        }
        let coop = std::task::ready!(poll_proceed(cx));
        coop.made_progress();
        done = true;
        Poll::Ready(())
    })
    .await
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_and_is_refunded_without_progress() {
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        budget(|| {
            for _ in 0..BUDGET {
                match poll_proceed(&mut cx) {
                    Poll::Ready(r) => r.made_progress(),
                    Poll::Pending => panic!("budget ended early"),
                }
            }
            assert!(poll_proceed(&mut cx).is_pending());
        });
        budget(|| {
            for _ in 0..1000 {
                // No progress: every unit is refunded.
                let Poll::Ready(_r) = poll_proceed(&mut cx) else {
                    panic!("refund failed")
                };
            }
        });
        assert!(poll_proceed(&mut cx).is_ready(), "unlimited outside a poll");
    }
}
