//! A multi-producer, multi-consumer channel where every receiver sees every value.
//!
//! Values go into a ring buffer of `capacity` slots (rounded up to a power of two, like tokio),
//! each tagged with its absolute position and the number of receivers that still have to read
//! it. A receiver is just a read position. When senders outrun a receiver, the oldest slots are
//! overwritten and that receiver's next `recv` reports [`RecvError::Lagged`] with the number of
//! values it missed, then continues from the oldest value still held.
//!
//! Everything is under one lock (values are cloned while it is held, which keeps the design
//! simple and obviously consistent). Waiting receivers sit in a [`WaitQueue`]; a send wakes all
//! of them, and a dropped `recv` future just removes its slot (there is nothing to pass on,
//! since every waiter is woken anyway).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::wait_queue::WaitQueue;
use crate::loom::sync::{Arc, Mutex};

/// Errors of the broadcast channel.
pub mod error {
    use std::fmt;

    /// Error from [`Sender::send`](super::Sender::send): there are no receivers. Holds the
    /// value.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// Error from [`Receiver::recv`](super::Receiver::recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and every value has been received.
        Closed,
        /// The receiver fell behind; this many values were skipped.
        Lagged(u64),
    }

    /// Error from [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// No value is available right now.
        Empty,
        /// Every sender is gone and every value has been received.
        Closed,
        /// The receiver fell behind; this many values were skipped.
        Lagged(u64),
    }

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }
    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }
    impl<T> std::error::Error for SendError<T> {}

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }
    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }
    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    /// Absolute position of the value held (meaningful only when `value` is `Some`).
    pos: u64,
    /// Receivers that still have to read this value.
    remaining: usize,
    value: Option<T>,
}

struct State<T> {
    slots: Box<[Slot<T>]>,
    /// Position the next value will get.
    tail: u64,
    rx_count: usize,
    tx_count: usize,
    weak_count: usize,
    waiters: WaitQueue<Option<Waker>>,
    /// Wakers of `Sender::closed` futures (woken when the last receiver goes).
    closed_waiters: WaitQueue<Option<Waker>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    mask: u64,
}

/// Sends values to every [`Receiver`]; cloneable.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    next: u64,
}

/// Creates a broadcast channel holding up to `capacity` values (rounded up to a power of two).
///
/// # Panics
///
/// Panics if `capacity` is 0 or larger than `usize::MAX / 2`, like tokio.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

impl<T> Shared<T> {
    fn cap(&self) -> u64 {
        self.mask + 1
    }

    fn slot_index(&self, pos: u64) -> usize {
        (pos & self.mask) as usize
    }
}

enum TryRecv<T> {
    Value(T),
    Empty,
    Closed,
    Lagged(u64),
}

impl<T: Clone> Shared<T> {
    /// Attempts to read position `*next` (caller holds the lock).
    fn try_recv_locked(&self, state: &mut State<T>, next: &mut u64) -> TryRecv<T> {
        if *next >= state.tail {
            return if state.tx_count == 0 {
                TryRecv::Closed
            } else {
                TryRecv::Empty
            };
        }
        let idx = self.slot_index(*next);
        let slot = &mut state.slots[idx];
        if slot.value.is_none() || slot.pos != *next {
            // Overwritten: skip to the oldest value still held.
            let oldest = state.tail.saturating_sub(self.cap());
            let missed = oldest - *next;
            *next = oldest;
            return TryRecv::Lagged(missed);
        }
        *next += 1;
        slot.remaining -= 1;
        if slot.remaining == 0 {
            let value = slot.value.take().expect("checked above");
            TryRecv::Value(value)
        } else {
            TryRecv::Value(slot.value.clone().expect("checked above"))
        }
    }
}

impl<T> Sender<T> {
    /// Creates a sender with no receivers (use [`subscribe`](Self::subscribe)).
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0 or larger than `usize::MAX / 2`.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let cap = capacity.next_power_of_two();
        let slots = (0..cap)
            .map(|_| Slot {
                pos: 0,
                remaining: 0,
                value: None,
            })
            .collect();
        Sender {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    slots,
                    tail: 0,
                    rx_count: 0,
                    tx_count: 1,
                    weak_count: 0,
                    waiters: WaitQueue::new(),
                    closed_waiters: WaitQueue::new(),
                }),
                mask: cap as u64 - 1,
            }),
        }
    }

    /// Sends `value` to every current receiver; returns how many receivers there are, or the
    /// value back if there are none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (wakers, old, receivers) = {
            let mut state = self.shared.state.lock();
            if state.rx_count == 0 {
                return Err(SendError(value));
            }
            let pos = state.tail;
            let idx = self.shared.slot_index(pos);
            let receivers = state.rx_count;
            let slot = &mut state.slots[idx];
            slot.pos = pos;
            slot.remaining = receivers;
            let old = slot.value.replace(value);
            state.tail += 1;
            (drain_wakers(&mut state.waiters), old, receivers)
        };
        drop(old);
        wakers.into_iter().for_each(Waker::wake);
        Ok(receivers)
    }

    /// A new receiver that sees values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.state.lock();
        state.rx_count += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail,
        }
    }

    /// A [`WeakSender`] for this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.state.lock().weak_count += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// Number of values still queued for at least one receiver.
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        state
            .slots
            .iter()
            .filter(|s| s.value.is_some() && s.remaining > 0)
            .count()
    }

    /// Whether no value is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().rx_count
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Completes when there are no receivers.
    pub async fn closed(&self) {
        SenderClosed {
            shared: &self.shared,
            key: None,
        }
        .await
    }

    /// Number of strong senders.
    pub fn strong_count(&self) -> usize {
        self.shared.state.lock().tx_count
    }

    /// Number of weak senders.
    pub fn weak_count(&self) -> usize {
        self.shared.state.lock().weak_count
    }
}

fn drain_wakers(queue: &mut WaitQueue<Option<Waker>>) -> Vec<Waker> {
    let mut wakers = Vec::new();
    while let Some(key) = queue.pop_front() {
        if let Some(w) = queue.get_mut(key).take() {
            wakers.push(w);
        }
    }
    wakers
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().tx_count += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let wakers = {
            let mut state = self.shared.state.lock();
            state.tx_count -= 1;
            if state.tx_count > 0 {
                return;
            }
            drain_wakers(&mut state.waiters)
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T> WeakSender<T> {
    /// A strong sender, or `None` if every strong sender is gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut state = self.shared.state.lock();
        if state.tx_count == 0 {
            return None;
        }
        state.tx_count += 1;
        Some(Sender {
            shared: self.shared.clone(),
        })
    }

    /// Number of strong senders.
    pub fn strong_count(&self) -> usize {
        self.shared.state.lock().tx_count
    }

    /// Number of weak senders.
    pub fn weak_count(&self) -> usize {
        self.shared.state.lock().weak_count
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().weak_count += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.state.lock().weak_count -= 1;
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value; `Lagged(n)` if `n` values were overwritten before this receiver
    /// read them, `Closed` once every sender is gone and every value was read. Cancel-safe.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            rx: self,
            key: None,
        }
        .await
    }

    /// Receives the next value if one is available.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.state.lock();
        match self.shared.try_recv_locked(&mut state, &mut self.next) {
            TryRecv::Value(v) => Ok(v),
            TryRecv::Empty => Err(TryRecvError::Empty),
            TryRecv::Closed => Err(TryRecvError::Closed),
            TryRecv::Lagged(n) => Err(TryRecvError::Lagged(n)),
        }
    }

    /// Receives the next value, blocking the current thread. Not for async code.
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::sync::park::block_on(self.recv())
    }
}

impl<T> Receiver<T> {
    /// A new receiver on the same channel, starting at the newest position (values not yet
    /// read by `self` are not seen by the new receiver).
    pub fn resubscribe(&self) -> Self {
        let mut state = self.shared.state.lock();
        state.rx_count += 1;
        Receiver {
            shared: self.shared.clone(),
            next: state.tail,
        }
    }

    /// Number of values sent that this receiver has not read yet (if larger than the capacity,
    /// the next `recv` reports `Lagged`).
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        (state.tail - self.next) as usize
    }

    /// Whether this receiver has no unread value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone (values may still be unread).
    pub fn is_closed(&self) -> bool {
        self.shared.state.lock().tx_count == 0
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Number of strong senders.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.state.lock().tx_count
    }

    /// Number of weak senders.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.state.lock().weak_count
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (dropped, wakers) = {
            let mut state = self.shared.state.lock();
            state.rx_count -= 1;
            // Release our claim on every value we have not read yet.
            let oldest = state.tail.saturating_sub(self.shared.cap()).max(self.next);
            let mut dropped = Vec::new();
            for pos in oldest..state.tail {
                let idx = self.shared.slot_index(pos);
                let slot = &mut state.slots[idx];
                if slot.pos == pos && slot.value.is_some() {
                    slot.remaining -= 1;
                    if slot.remaining == 0 {
                        dropped.push(slot.value.take());
                    }
                }
            }
            let wakers = if state.rx_count == 0 {
                drain_wakers(&mut state.closed_waiters)
            } else {
                Vec::new()
            };
            (dropped, wakers)
        };
        drop(dropped);
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// The `Sender::closed` future; holds its waiter key while pending.
struct SenderClosed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<usize>,
}

impl<T> Future for SenderClosed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.shared.state.lock();
        if state.rx_count == 0 {
            if let Some(key) = this.key.take() {
                state.closed_waiters.remove(key);
            }
            return Poll::Ready(());
        }
        match this.key {
            Some(key) if state.closed_waiters.is_linked(key) => {
                *state.closed_waiters.get_mut(key) = Some(cx.waker().clone());
            }
            Some(key) => {
                state.closed_waiters.remove(key);
                this.key = Some(state.closed_waiters.push_back(Some(cx.waker().clone())));
            }
            None => this.key = Some(state.closed_waiters.push_back(Some(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl<T> Drop for SenderClosed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.state.lock().closed_waiters.remove(key);
        }
    }
}

/// The `recv` future; holds its waiter key while pending.
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    key: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let shared = this.rx.shared.clone();
        let mut state = shared.state.lock();
        let res = match shared.try_recv_locked(&mut state, &mut this.rx.next) {
            TryRecv::Value(v) => Ok(v),
            TryRecv::Closed => Err(RecvError::Closed),
            TryRecv::Lagged(n) => Err(RecvError::Lagged(n)),
            TryRecv::Empty => {
                match this.key {
                    Some(key) if state.waiters.is_linked(key) => {
                        *state.waiters.get_mut(key) = Some(cx.waker().clone());
                    }
                    Some(key) => {
                        // Woken earlier but nothing for us yet: queue again.
                        state.waiters.remove(key);
                        this.key = Some(state.waiters.push_back(Some(cx.waker().clone())));
                    }
                    None => {
                        this.key = Some(state.waiters.push_back(Some(cx.waker().clone())));
                    }
                }
                return Poll::Pending;
            }
        };
        if let Some(key) = this.key.take() {
            state.waiters.remove(key);
        }
        drop(state);
        coop.made_progress();
        Poll::Ready(res)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.rx.shared.state.lock().waiters.remove(key);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish()
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn every_receiver_gets_every_value() {
        let (tx, mut rx1) = channel(4);
        let mut rx2 = tx.subscribe();
        assert_eq!(tx.send(1).unwrap(), 2);
        tx.send(2).unwrap();
        assert_eq!(tx.len(), 2);
        assert_eq!(block_on(rx1.recv()), Ok(1));
        assert_eq!(block_on(rx1.recv()), Ok(2));
        assert_eq!(tx.len(), 2, "rx2 has not read them");
        assert_eq!(rx2.try_recv(), Ok(1));
        assert_eq!(rx2.try_recv(), Ok(2));
        assert_eq!(tx.len(), 0);
        assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(block_on(rx1.recv()), Err(RecvError::Closed));
    }

    #[test]
    fn lagging_receiver() {
        let (tx, mut rx) = channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 5);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(block_on(rx.recv()), Ok(3));
        assert_eq!(block_on(rx.recv()), Ok(4));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn capacity_rounds_up_to_power_of_two() {
        let (tx, mut rx) = channel(3);
        for i in 0..4 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.try_recv(), Ok(0));
    }

    #[test]
    fn recv_waits_is_woken_and_cancel_leaves_no_trace() {
        let (tx, mut rx) = channel::<u8>(2);
        let w = CountingWaker::new();
        {
            let mut f = Box::pin(rx.recv());
            assert!(poll_once(&mut f, &w).is_pending());
        }
        assert_eq!(tx.shared.state.lock().waiters.allocated(), 0);
        let mut f = Box::pin(rx.recv());
        assert!(poll_once(&mut f, &w).is_pending());
        tx.send(7).unwrap();
        assert_eq!(w.count(), 1);
        assert_eq!(poll_once(&mut f, &w), Poll::Ready(Ok(7)));
        drop(f);
        assert_eq!(tx.shared.state.lock().waiters.allocated(), 0);
    }

    #[test]
    fn send_without_receivers_and_resubscribe() {
        let (tx, rx) = channel::<u8>(2);
        tx.send(1).unwrap();
        let mut rx2 = rx.resubscribe();
        drop(rx);
        assert_eq!(tx.len(), 0, "dropping rx released its unread value");
        assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
        drop(rx2);
        assert_eq!(tx.send(2), Err(SendError(2)));
        block_on(tx.closed());
    }

    #[test]
    fn sender_closed_waits_for_last_receiver() {
        let (tx, rx) = channel::<u8>(2);
        let w = CountingWaker::new();
        let mut c = Box::pin(tx.closed());
        assert!(poll_once(&mut c, &w).is_pending());
        drop(rx);
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut c, &w).is_ready());
    }

    #[test]
    fn threads() {
        let (tx, mut rx) = channel::<u32>(1024);
        let mut rx2 = tx.subscribe();
        let th = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Ok(v) = rx2.blocking_recv() {
                got.push(v);
            }
            got
        });
        for i in 0..500 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let mut mine = Vec::new();
        while let Ok(v) = rx.blocking_recv() {
            mine.push(v);
        }
        assert_eq!(mine, (0..500).collect::<Vec<_>>());
        assert_eq!(th.join().unwrap(), mine);
    }
}
