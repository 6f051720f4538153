//! Time: sleeping, timeouts and intervals, driven by the runtime's timing wheel.
//!
//! The public surface mirrors `tokio::time`. [`Sleep`] is the one leaf future: it registers a
//! deadline with the runtime's [`driver`] (a hierarchical timing wheel with 1 ms resolution,
//! processed by the runtime around its park) and completes once that deadline has passed.
//! [`Timeout`] and [`Interval`] are built on it. Deadlines are rounded up to the next
//! millisecond, so nothing completes early.

pub(crate) mod driver;
pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Timeout};
