//! `Sleep`: the future that completes at a deadline, and `sleep`/`sleep_until`.
//!
//! A `Sleep` registers with the runtime's time driver lazily, on its first poll (a `Sleep` that
//! is created but never polled costs no wheel entry). Reset moves the entry; drop removes it.

use crate::loom::sync::Arc;
use crate::time::driver::entry::TimerShared;
use crate::time::driver::wheel::Key;
use crate::time::driver::Handle;
use crate::time::Instant;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed (at millisecond granularity, never less).
///
/// Equivalent to `sleep_until(Instant::now() + duration)`; a duration too large to add saturates
/// to a deadline about 30 years away. Panics if called outside a runtime with time enabled.
pub fn sleep(duration: Duration) -> Sleep {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    Sleep::new(deadline)
}

/// Waits until `deadline` is reached (at millisecond granularity, never earlier).
///
/// Panics if called outside a runtime with time enabled.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    handle: Arc<Handle>,
    deadline: Instant,
    shared: Arc<TimerShared>,
    /// The wheel entry, once registered (stale after it fired; removal is then a no-op).
    key: Option<Key>,
    /// Whether the first poll (or a reset after it) has registered the deadline.
    registered: bool,
}

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            handle: crate::runtime::context::time_handle(),
            deadline,
            shared: Arc::new(TimerShared::new()),
            key: None,
            registered: false,
        }
    }

    /// The instant at which the future completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached (the timer fired).
    pub fn is_elapsed(&self) -> bool {
        self.shared.is_fired()
    }

    /// Resets the deadline to `deadline`; the future can then be polled (again) until the new
    /// deadline, whether or not it had completed before.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        if this.registered {
            this.register();
        }
    }

    /// Resets the deadline without touching the wheel now; the next poll registers it.
    pub(crate) fn reset_lazy(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(key) = self.key.take() {
            if !self.shared.is_fired() {
                self.handle.deregister(key);
            }
        }
        // The next poll registers the new deadline; `register` clears FIRED under the lock.
        self.registered = false;
    }

    fn register(&mut self) {
        let when = self.handle.deadline_to_ms(self.deadline);
        self.key = self.handle.register(&self.shared, self.key.take(), when);
        self.registered = true;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        if !this.registered {
            this.register();
        }
        if this.shared.poll_fired(cx.waker()) || this.handle.is_shutdown() {
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // FIRED implies the entry already left the wheel, so only a pending entry needs the lock.
        if let Some(key) = self.key.take() {
            if !self.shared.is_fired() {
                self.handle.deregister(key);
            }
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("is_elapsed", &self.is_elapsed())
            .finish()
    }
}
