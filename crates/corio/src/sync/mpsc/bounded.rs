//! The bounded channel: senders wait (in FIFO order) for free capacity.

use std::fmt;
use std::task::{Context, Poll};

use super::chan::Chan;
use super::error::{SendError, TryRecvError, TrySendError};
use crate::loom::sync::Arc;
use crate::sync::TryAcquireError;

/// Sends values to the associated [`Receiver`]; cloneable.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`](WeakSender::upgrade) it to send.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives values from the associated [`Sender`]s.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// A reserved slot in the channel; [`send`](Permit::send) uses it without waiting. Dropping it
/// gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// An owned reserved slot (holds the `Sender`); see [`Sender::reserve_owned`].
pub struct OwnedPermit<T> {
    chan: Option<Sender<T>>,
}

/// Creates a bounded channel holding at most `buffer` messages.
///
/// # Panics
///
/// Panics if `buffer` is 0 or exceeds `Semaphore::MAX_PERMITS`, like tokio.
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let chan = Chan::new(Some(buffer));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

fn sem<T>(chan: &Chan<T>) -> &crate::sync::Semaphore {
    chan.sem.as_ref().expect("bounded channel has a semaphore")
}

impl<T> Receiver<T> {
    /// Receives the next message; `None` once every sender is gone (or the receiver was closed)
    /// and the buffer is drained. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` messages into `buffer` (appending); waits for at least one.
    /// Returns 0 only if `limit` is 0 or the channel is closed and drained. Cancel-safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receives a message if one is buffered, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives the next message, blocking the current thread. Not for async code.
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::park::block_on(self.recv())
    }

    /// Like [`recv_many`](Self::recv_many), blocking the current thread. Not for async code.
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::sync::park::block_on(self.recv_many(buffer, limit))
    }

    /// Closes the channel for sending; buffered messages (and outstanding permits) can still
    /// be received.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed: the receiver closed it or every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.chan.rx_is_closed()
    }

    /// Whether no message is buffered.
    pub fn is_empty(&self) -> bool {
        self.chan.len() == 0
    }

    /// Number of buffered messages.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Current free capacity.
    pub fn capacity(&self) -> usize {
        sem(&self.chan).available_permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound
    }

    /// Polls for the next message (for manual `Future`/`Stream` implementations).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for up to `limit` messages, appended to `buffer`.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Number of live strong senders.
    pub fn sender_strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of live weak senders.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for capacity. Fails (returning the value) if the receiver closed.
    /// Cancelling the future gives up the place in the queue; the value is then dropped.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.reserve().await {
            Ok(permit) => {
                permit.send(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` from synchronous code, blocking the current thread.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::park::block_on(self.send(value))
    }

    /// Sends `message` if there is capacity right now.
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        match sem(&self.chan).try_acquire_inner(1) {
            Ok(()) => {
                Permit { chan: &self.chan }.send(message);
                Ok(())
            }
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(message)),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(message)),
        }
    }

    /// Waits for capacity and reserves one slot.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match sem(&self.chan).acquire_inner(1).await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves one slot if there is capacity right now.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match sem(&self.chan).try_acquire_inner(1) {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
        }
    }

    /// Waits for capacity and reserves one slot, moving the sender into the permit.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match sem(&self.chan).acquire_inner(1).await {
            Ok(()) => Ok(OwnedPermit { chan: Some(self) }),
            Err(_) => Err(SendError(())),
        }
    }

    /// Reserves one slot if there is capacity right now, moving the sender into the permit.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match sem(&self.chan).try_acquire_inner(1) {
            Ok(()) => Ok(OwnedPermit { chan: Some(self) }),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(self)),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(self)),
        }
    }

    /// Completes when the receiver has closed or been dropped.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver has closed or been dropped.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Current free capacity.
    pub fn capacity(&self) -> usize {
        sem(&self.chan).available_permits()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound
    }

    /// A [`WeakSender`] for this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// Number of live strong senders.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of live weak senders.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> WeakSender<T> {
    /// A strong [`Sender`], or `None` if every strong sender is gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.try_upgrade().then(|| Sender {
            chan: self.chan.clone(),
        })
    }

    /// Number of live strong senders.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Number of live weak senders.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> Permit<'_, T> {
    /// Sends `value` using the reserved slot; never waits, never fails.
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The permit now travels with the message; the receiver returns it.
        std::mem::forget(self);
        let _ = chan.push(value, false);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_unused_permit();
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` using the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.chan.take().expect("owned permit holds its sender");
        let _ = sender.chan.push(value, false);
        sender
    }

    /// Gives the slot back without sending and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.chan.take().expect("owned permit holds its sender");
        sender.chan.release_unused_permit();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.chan.take() {
            sender.chan.release_unused_permit();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .finish()
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
            .field("len", &self.len())
            .finish()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn send_recv_in_order() {
        let (tx, mut rx) = channel(4);
        block_on(async {
            for i in 0..4 {
                tx.send(i).await.unwrap();
            }
        });
        assert_eq!(tx.capacity(), 0);
        assert_eq!(rx.len(), 4);
        for i in 0..4 {
            assert_eq!(block_on(rx.recv()), Some(i));
        }
        assert_eq!(tx.capacity(), 4);
        drop(tx);
        assert_eq!(block_on(rx.recv()), None);
    }

    #[test]
    fn full_then_backpressure_wakes_sender() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        let w = CountingWaker::new();
        let mut send = Box::pin(tx.send(2));
        assert!(poll_once(&mut send, &w).is_pending());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut send, &w).is_ready());
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn cancelled_send_passes_capacity_on() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let w = CountingWaker::new();
        let mut a = Box::pin(tx.send(1));
        let mut b = Box::pin(tx.send(2));
        assert!(poll_once(&mut a, &w).is_pending());
        assert!(poll_once(&mut b, &w).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // slot granted to `a`
        drop(a); // cancelled: slot goes to `b`
        assert!(poll_once(&mut b, &w).is_ready());
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn recv_pending_and_cancel() {
        let (tx, mut rx) = channel::<u8>(2);
        let w = CountingWaker::new();
        {
            let mut r = Box::pin(rx.recv());
            assert!(poll_once(&mut r, &w).is_pending());
        }
        tx.try_send(9).unwrap();
        assert_eq!(block_on(rx.recv()), Some(9));
    }

    #[test]
    fn close_rejects_sends_but_drains_and_honours_permits() {
        let (tx, mut rx) = channel(3);
        tx.try_send(1).unwrap();
        let permit = tx.try_reserve().unwrap();
        let w = CountingWaker::new();
        let mut closed = Box::pin(tx.closed());
        assert!(poll_once(&mut closed, &w).is_pending());
        rx.close();
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut closed, &w).is_ready());
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(5), Err(TrySendError::Closed(5))));
        assert!(block_on(tx.send(6)).is_err());
        assert_eq!(block_on(rx.recv()), Some(1));
        // An outstanding permit may still send after close.
        let mut r = Box::pin(async { rx.recv().await });
        assert!(poll_once(&mut r, &w).is_pending());
        permit.send(2);
        assert_eq!(poll_once(&mut r, &w), Poll::Ready(Some(2)));
        drop(r);
        assert_eq!(block_on(rx.recv()), None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn dropping_unused_permit_after_close_ends_recv() {
        let (tx, mut rx) = channel::<u8>(1);
        let permit = tx.try_reserve().unwrap();
        rx.close();
        let w = CountingWaker::new();
        let mut r = Box::pin(async { rx.recv().await });
        assert!(poll_once(&mut r, &w).is_pending());
        drop(permit);
        assert!(w.count() >= 1);
        assert_eq!(poll_once(&mut r, &w), Poll::Ready(None));
    }

    #[test]
    fn recv_many_and_weak() {
        let (tx, mut rx) = channel(8);
        for i in 0..5 {
            tx.try_send(i).unwrap();
        }
        let mut buf = Vec::new();
        assert_eq!(block_on(rx.recv_many(&mut buf, 3)), 3);
        assert_eq!(block_on(rx.recv_many(&mut buf, 10)), 2);
        assert_eq!(buf, vec![0, 1, 2, 3, 4]);
        assert_eq!(block_on(rx.recv_many(&mut buf, 0)), 0);
        let weak = tx.downgrade();
        assert_eq!(rx.sender_weak_count(), 1);
        let tx2 = weak.upgrade().unwrap();
        drop(tx);
        drop(tx2);
        assert!(weak.upgrade().is_none());
        assert_eq!(block_on(rx.recv_many(&mut buf, 4)), 0);
    }

    #[test]
    fn receiver_drop_drops_messages_and_fails_senders() {
        let probe = std::sync::Arc::new(());
        let (tx, rx) = channel(2);
        tx.try_send(probe.clone()).unwrap();
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&probe), 1);
        assert!(block_on(tx.send(probe.clone())).is_err());
        block_on(tx.closed());
    }

    #[test]
    fn owned_permit() {
        let (tx, mut rx) = channel(1);
        let p = block_on(tx.reserve_owned()).unwrap();
        let tx = p.send(1);
        let tx = match tx.try_reserve_owned() {
            Err(TrySendError::Full(tx)) => tx,
            _ => panic!("expected full"),
        };
        assert_eq!(rx.try_recv(), Ok(1));
        let tx = block_on(tx.reserve_owned()).unwrap().release();
        assert_eq!(tx.capacity(), 1);
    }

    #[test]
    fn threads() {
        let (tx, mut rx) = channel(2);
        let hs: Vec<_> = (0..3)
            .map(|t| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        tx.blocking_send(t * 1000 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut last = [None::<u32>; 3];
        let mut n = 0;
        while let Some(v) = rx.blocking_recv() {
            let t = (v / 1000) as usize;
            assert!(last[t].is_none_or(|p| p < v), "per-sender order");
            last[t] = Some(v);
            n += 1;
        }
        assert_eq!(n, 600);
        hs.into_iter().for_each(|h| h.join().unwrap());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::thread;

    #[test]
    fn send_recv_across_threads() {
        loom::model(|| {
            let (tx, mut rx) = channel::<usize>(1);
            let th = thread::spawn(move || {
                loom::future::block_on(async {
                    tx.send(1).await.unwrap();
                    tx.send(2).await.unwrap();
                });
            });
            loom::future::block_on(async {
                assert_eq!(rx.recv().await, Some(1));
                assert_eq!(rx.recv().await, Some(2));
                assert_eq!(rx.recv().await, None);
            });
            th.join().unwrap();
        });
    }

    #[test]
    fn close_racing_send() {
        loom::model(|| {
            let (tx, mut rx) = channel::<usize>(1);
            let th = thread::spawn(move || {
                let r = loom::future::block_on(tx.send(7));
                r.is_ok()
            });
            rx.close();
            let got = loom::future::block_on(rx.recv());
            let sent = th.join().unwrap();
            // A send either succeeded (and its message is received) or failed — never lost.
            assert_eq!(got.is_some(), sent);
        });
    }
}
