//! A channel for sending exactly one value between tasks.
//!
//! Both halves share one small state behind a lock: the value slot, whether the sender is gone,
//! whether the receiver closed, and one waker per side (the receiver awaiting the value, the
//! sender awaiting [`Sender::closed`]). There is only ever one waiter per side, so no queue is
//! needed; dropping either half updates the state and wakes the other side.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use crate::loom::sync::{Arc, Mutex};

/// Errors of the oneshot channel.
pub mod error {
    use std::fmt;

    /// Error from awaiting a [`Receiver`](super::Receiver): the sender was dropped without
    /// sending a value.
    #[derive(Debug, Eq, PartialEq, Clone)]
    pub struct RecvError(pub(super) ());

    /// Error from [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, Eq, PartialEq, Clone)]
    pub enum TryRecvError {
        /// No value has been sent yet.
        Empty,
        /// The sender was dropped without sending, or the value was already received.
        Closed,
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }
    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }
    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped; no value will arrive after this.
    tx_done: bool,
    /// The receiver closed or was dropped; `send` fails from now on.
    rx_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

/// Sends a single value to the paired [`Receiver`].
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the single value; `.await` it to get `Result<T, RecvError>`.
pub struct Receiver<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Creates a oneshot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            tx_done: false,
            rx_closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner: Some(inner) },
    )
}

fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

impl<T> Sender<T> {
    /// Sends `t`; returns it back as `Err(t)` if the receiver has closed or been dropped.
    pub fn send(mut self, t: T) -> Result<(), T> {
        let Some(inner) = self.inner.take() else {
            return Err(t);
        };
        let waker = {
            let mut state = inner.state.lock();
            state.tx_done = true;
            if state.rx_closed {
                return Err(t);
            }
            state.value = Some(t);
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Waits until the receiver has closed or been dropped.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Returns `true` if the receiver has closed or been dropped.
    pub fn is_closed(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.state.lock().rx_closed,
            None => true,
        }
    }

    /// Polls for the receiver closing; registers the task to be woken when it does.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let Some(inner) = &self.inner else {
            coop.made_progress();
            return Poll::Ready(());
        };
        let mut state = inner.state.lock();
        if state.rx_closed {
            coop.made_progress();
            return Poll::Ready(());
        }
        store_waker(&mut state.tx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let waker = {
            let mut state = inner.state.lock();
            state.tx_done = true;
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Prevents the sender from sending; a value sent before this can still be received with
    /// [`try_recv`](Self::try_recv) or by awaiting.
    pub fn close(&mut self) {
        let Some(inner) = &self.inner else { return };
        let waker = {
            let mut state = inner.state.lock();
            state.rx_closed = true;
            state.tx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Returns `true` once the value has been received or the channel reported closed.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Returns `true` if no value is waiting in the channel.
    pub fn is_empty(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.state.lock().value.is_none(),
            None => true,
        }
    }

    /// Takes the value if it has been sent, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let res = {
            let mut state = inner.state.lock();
            match state.value.take() {
                Some(v) => Ok(v),
                None if state.tx_done => Err(TryRecvError::Closed),
                None => Err(TryRecvError::Empty),
            }
        };
        if !matches!(res, Err(TryRecvError::Empty)) {
            self.release();
        }
        res
    }

    /// Waits for the value, blocking the current thread. Must not be called from async code.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::park::block_on(self)
    }

    /// Marks the receiver terminated and the channel closed for the sender.
    fn release(&mut self) {
        if let Some(inner) = self.inner.take() {
            let waker = {
                let mut state = inner.state.lock();
                state.rx_closed = true;
                state.tx_waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let Some(inner) = &this.inner else {
            // Polled after completion.
            coop.made_progress();
            return Poll::Ready(Err(RecvError(())));
        };
        let res = {
            let mut state = inner.state.lock();
            match state.value.take() {
                Some(v) => Ok(v),
                None if state.tx_done => Err(RecvError(())),
                None => {
                    store_waker(&mut state.rx_waker, cx.waker());
                    return Poll::Pending;
                }
            }
        };
        this.release();
        coop.made_progress();
        Poll::Ready(res)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let (waker, value) = {
            let mut state = inner.state.lock();
            state.rx_closed = true;
            (state.tx_waker.take(), state.value.take())
        };
        drop(value);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn send_then_recv() {
        let (tx, rx) = channel();
        assert!(tx.send(5).is_ok());
        assert_eq!(block_on(rx), Ok(5));
    }

    #[test]
    fn recv_waits_then_is_woken() {
        let (tx, rx) = channel::<u8>();
        let w = CountingWaker::new();
        let mut rx = Box::pin(rx);
        assert!(poll_once(&mut rx, &w).is_pending());
        tx.send(1).unwrap();
        assert_eq!(w.count(), 1);
        assert_eq!(poll_once(&mut rx, &w), Poll::Ready(Ok(1)));
        assert!(rx.is_terminated());
    }

    #[test]
    fn sender_dropped_gives_error() {
        let (tx, mut rx) = channel::<u8>();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        let (tx, rx) = channel::<u8>();
        drop(tx);
        assert_eq!(block_on(rx), Err(RecvError(())));
    }

    #[test]
    fn receiver_close_and_drop() {
        let (mut tx, mut rx) = channel::<String>();
        let w = CountingWaker::new();
        let mut closed = Box::pin(async move {
            tx.closed().await;
            tx
        });
        assert!(poll_once(&mut closed, &w).is_pending());
        rx.close();
        assert_eq!(w.count(), 1);
        let tx = match poll_once(&mut closed, &w) {
            Poll::Ready(tx) => tx,
            Poll::Pending => panic!(),
        };
        assert!(tx.is_closed());
        assert_eq!(tx.send("x".into()), Err("x".to_string()));

        // A value sent before close is still readable.
        let (tx, mut rx) = channel();
        tx.send(3).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(3));

        // Dropping the receiver drops a pending value.
        let (tx, rx) = channel::<std::sync::Arc<()>>();
        let probe = std::sync::Arc::new(());
        tx.send(probe.clone()).unwrap();
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&probe), 1);
    }

    #[test]
    fn dropped_receiver_future_is_cancel_safe() {
        // Dropping a pending receive (the whole Receiver) must let the sender see closure.
        let (tx, rx) = channel::<u8>();
        let w = CountingWaker::new();
        let mut rx = Box::pin(rx);
        assert!(poll_once(&mut rx, &w).is_pending());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
    }

    #[test]
    fn across_threads() {
        let (tx, rx) = channel();
        let th = std::thread::spawn(move || tx.send(42).unwrap());
        assert_eq!(rx.blocking_recv(), Ok(42));
        th.join().unwrap();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    #[test]
    fn send_racing_recv() {
        loom::model(|| {
            let (tx, rx) = channel::<usize>();
            let th = thread::spawn(move || tx.send(1).unwrap());
            assert_eq!(loom::future::block_on(rx), Ok(1));
            th.join().unwrap();
        });
    }

    #[test]
    fn send_racing_receiver_drop() {
        loom::model(|| {
            let (tx, rx) = channel::<std::sync::Arc<()>>();
            let probe = std::sync::Arc::new(());
            let p2 = probe.clone();
            let th = thread::spawn(move || {
                let _ = tx.send(p2);
            });
            drop(rx);
            th.join().unwrap();
            // Whatever the interleaving, the value is dropped (no leak).
            assert_eq!(std::sync::Arc::strong_count(&probe), 1);
        });
    }

    #[test]
    fn sender_drop_racing_recv() {
        loom::model(|| {
            let (tx, rx) = channel::<usize>();
            let th = thread::spawn(move || drop(tx));
            assert!(loom::future::block_on(rx).is_err());
            th.join().unwrap();
        });
    }
}
