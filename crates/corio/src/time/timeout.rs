//! `Timeout`: runs a future against a deadline, and `timeout`/`timeout_at`.

use crate::time::error::Elapsed;
use crate::time::{sleep_until, Instant, Sleep};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Requires `future` to complete within `duration`.
///
/// Resolves to `Ok(output)` if the future completes first and to `Err(Elapsed)` once the
/// duration has elapsed (the future is then dropped with the `Timeout`). The future is polled
/// before the deadline is checked, so a future that is ready completes even with a zero
/// duration. Panics if called outside a runtime with time enabled.
pub fn timeout<F>(duration: Duration, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    Timeout::new(future.into_future(), sleep_until(deadline))
}

/// Requires `future` to complete before `deadline`. See [`timeout`].
pub fn timeout_at<F>(deadline: Instant, future: F) -> Timeout<F::IntoFuture>
where
    F: IntoFuture,
{
    Timeout::new(future.into_future(), sleep_until(deadline))
}

/// Future returned by [`timeout`] and [`timeout_at`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Timeout<T> {
    value: T,
    delay: Sleep,
}

impl<T> Timeout<T> {
    pub(crate) fn new(value: T, delay: Sleep) -> Timeout<T> {
        Timeout { value, delay }
    }

    /// A reference to the wrapped future.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// A mutable reference to the wrapped future.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Consumes the `Timeout`, returning the wrapped future.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `value`: it is never moved out while pinned (only
        // `into_inner`, which takes `self` by value and so needs `Timeout: Unpin` once pinned),
        // `Timeout` has no `Drop` impl, and `Unpin` is the auto impl (requires `T: Unpin`).
        // `delay` is `Unpin` and is not treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this.value` stays where it is for as long as `self` is pinned.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        if let Poll::Ready(output) = value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
