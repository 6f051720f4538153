//! Test helpers: a thread-parking `block_on` and a counting waker for "is it pending / was it
//! woken" checks, so the unit tests of `corio::sync` need no runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

pub(crate) use super::park::block_on;

/// A waker that counts how often it was woken.
#[derive(Clone)]
pub(crate) struct CountingWaker(Arc<Counter>);

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    pub(crate) fn new() -> Self {
        CountingWaker(Arc::new(Counter(AtomicUsize::new(0))))
    }

    pub(crate) fn count(&self) -> usize {
        self.0 .0.load(Ordering::SeqCst)
    }

    pub(crate) fn waker(&self) -> Waker {
        Waker::from(self.0.clone())
    }
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_once<F: Future + ?Sized>(
    fut: &mut Pin<Box<F>>,
    waker: &CountingWaker,
) -> Poll<F::Output> {
    let w = waker.waker();
    let mut cx = Context::from_waker(&w);
    fut.as_mut().poll(&mut cx)
}

/// A waker that does nothing (for loom models that poll by hand).
#[cfg(loom)]
pub(crate) fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}
