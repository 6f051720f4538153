//! A single-value channel: receivers see the latest value and are told when it changes.
//!
//! The value sits in a read-write lock so many receivers can [`borrow`](Receiver::borrow) it at
//! once. A version counter, bumped while the write lock is held, tells each receiver whether the
//! value changed since it last marked it seen. Waiting uses two [`Notify`]s with
//! `notify_waiters`: one wakes receivers on every change (and when the last sender goes), one
//! wakes senders waiting in [`Sender::closed`] when the last receiver goes. A `Notified` is
//! created *before* the condition is checked, so no change between check and wait is missed,
//! and dropping a waiting `changed()` future leaves nothing behind.

use std::fmt;
use std::ops::Deref;
use std::sync::{RwLock, RwLockReadGuard};

use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Arc;
use crate::sync::Notify;

/// Errors of the watch channel.
pub mod error {
    use std::fmt;

    /// Error from [`Sender::send`](super::Sender::send): every receiver is gone. Holds the
    /// value.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// Error from [`Receiver::changed`](super::Receiver::changed): every sender is gone.
    #[derive(Debug, Clone)]
    pub struct RecvError(pub(super) ());

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
            f.write_str("channel closed")
        }
    }
    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

struct Shared<T> {
    value: RwLock<T>,
    /// Bumped (while `value` is write-locked) on every change.
    version: AtomicUsize,
    /// Every sender is gone.
    closed: AtomicBool,
    rx_count: AtomicUsize,
    tx_count: AtomicUsize,
    notify_rx: Notify,
    notify_tx: Notify,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A panic inside `send_modify` leaves a valid `T`; poisoning carries no information.
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends values to the [`Receiver`]s; cloneable.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value; cloneable.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: usize,
}

/// A read guard on the value; holding it blocks senders, so keep it short (and never across
/// an `.await`).
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the value had changed (was unseen by the receiver) when it was borrowed.
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Creates a watch channel holding `init`.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        version: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
        notify_rx: Notify::new(),
        notify_tx: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

/// Waits for a version other than `*seen` (marking it seen), or for closure.
async fn changed_impl<T>(shared: &Shared<T>, seen: &mut usize) -> Result<(), RecvError> {
    loop {
        let notified = shared.notify_rx.notified();
        let version = shared.version.load(SeqCst);
        if version != *seen {
            *seen = version;
            return Ok(());
        }
        if shared.closed.load(SeqCst) {
            return Err(RecvError(()));
        }
        notified.await;
    }
}

impl<T> Receiver<T> {
    /// Borrows the latest value without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let has_changed = self.shared.version.load(SeqCst) != self.seen;
        Ref { guard, has_changed }
    }

    /// Borrows the latest value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.version.load(SeqCst);
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a value not yet marked seen is available. Errors if every sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.closed.load(SeqCst) {
            return Err(RecvError(()));
        }
        Ok(self.shared.version.load(SeqCst) != self.seen)
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(SeqCst)
    }

    /// Marks the current value as unseen.
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version.load(SeqCst).wrapping_sub(1);
    }

    /// Marks the current value as seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.load(SeqCst);
    }

    /// Waits for a value not yet marked seen and marks it seen. Returns immediately if one is
    /// already available; errors once every sender is gone (and nothing new is unseen).
    /// Cancel-safe.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        changed_impl(&self.shared, &mut self.seen).await
    }

    /// Waits until the value satisfies `f` (checking the current value first), marks it seen
    /// and returns it borrowed.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let guard = self.shared.read();
                let version = self.shared.version.load(SeqCst);
                let has_changed = version != self.seen;
                self.seen = version;
                if f(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            if changed_impl(&self.shared, &mut self.seen).await.is_err() {
                // Check the final value once more, then report closure.
                closed = true;
            }
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.rx_count.fetch_sub(1, SeqCst) == 1 {
            self.shared.notify_tx.notify_waiters();
        }
    }
}

impl<T> Sender<T> {
    /// Creates a sender without a receiver (use [`subscribe`](Self::subscribe)).
    pub fn new(init: T) -> Self {
        let (tx, _) = channel(init);
        tx
    }

    /// Replaces the value and notifies receivers; fails (returning the value) if there is no
    /// receiver.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.rx_count.load(SeqCst) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Modifies the value in place and notifies receivers, even without receivers.
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Modifies the value in place; notifies receivers only if `modify` returns `true`.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut guard = self.shared.value.write().unwrap_or_else(|e| e.into_inner());
            if !modify(&mut guard) {
                return false;
            }
            self.shared.version.fetch_add(1, SeqCst);
        }
        self.shared.notify_rx.notify_waiters();
        true
    }

    /// Replaces the value, notifies receivers and returns the old value, even without receivers.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Borrows the current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.rx_count.load(SeqCst) == 0
    }

    /// Completes when every receiver is gone.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.notify_tx.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// A new receiver; the current value counts as seen.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.rx_count.fetch_add(1, SeqCst);
        let seen = self.shared.version.load(SeqCst);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// Number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(SeqCst)
    }

    /// Number of senders.
    pub fn sender_count(&self) -> usize {
        self.shared.tx_count.load(SeqCst)
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, SeqCst);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.tx_count.fetch_sub(1, SeqCst) == 1 {
            self.shared.closed.store(true, SeqCst);
            self.shared.notify_rx.notify_waiters();
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Sender::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.shared.read())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.shared.read())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn changed_and_borrow() {
        let (tx, mut rx) = channel(0);
        assert!(!rx.has_changed().unwrap());
        tx.send(1).unwrap();
        assert!(rx.borrow().has_changed());
        assert!(rx.has_changed().unwrap());
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow(), 1);
        assert!(!rx.has_changed().unwrap());
        tx.send_modify(|v| *v += 1);
        assert_eq!(*rx.borrow_and_update(), 2);
        assert!(!tx.send_if_modified(|_| false));
        assert!(!rx.has_changed().unwrap());
        assert_eq!(tx.send_replace(5), 2);
        rx.mark_unchanged();
        assert!(!rx.has_changed().unwrap());
        rx.mark_changed();
        assert!(rx.has_changed().unwrap());
    }

    #[test]
    fn changed_waits_and_wakes_and_cancel() {
        let (tx, mut rx) = channel("a");
        let w = CountingWaker::new();
        {
            let mut f = Box::pin(rx.changed());
            assert!(poll_once(&mut f, &w).is_pending());
        } // cancelled
        let mut f = Box::pin(rx.changed());
        assert!(poll_once(&mut f, &w).is_pending());
        tx.send("b").unwrap();
        assert_eq!(w.count(), 1);
        assert!(matches!(
            poll_once(&mut f, &w),
            std::task::Poll::Ready(Ok(()))
        ));
        drop(f);
        assert_eq!(tx.shared.notify_rx.waiter_slots(), 0);
    }

    #[test]
    fn sender_drop_closes() {
        let (tx, mut rx) = channel(1);
        tx.send(2).unwrap();
        drop(tx);
        // The unseen value is reported first, then closure.
        assert!(block_on(rx.changed()).is_ok());
        assert!(block_on(rx.changed()).is_err());
        assert!(rx.has_changed().is_err());
        assert_eq!(*rx.borrow(), 2);
    }

    #[test]
    fn receivers_and_closed() {
        let (tx, rx) = channel(0u8);
        let rx2 = tx.subscribe();
        assert_eq!(tx.receiver_count(), 2);
        drop(rx);
        let w = CountingWaker::new();
        let mut closed = Box::pin(tx.closed());
        assert!(poll_once(&mut closed, &w).is_pending());
        drop(rx2);
        assert_eq!(w.count(), 1);
        assert!(poll_once(&mut closed, &w).is_ready());
        drop(closed);
        assert!(tx.send(1).is_err());
        tx.send_replace(3);
        assert_eq!(*tx.borrow(), 3);
    }

    #[test]
    fn wait_for_across_threads() {
        let (tx, mut rx) = channel(0u32);
        let th = std::thread::spawn(move || {
            for i in 1..=50 {
                tx.send_replace(i);
            }
        });
        let v = *block_on(rx.wait_for(|v| *v == 50)).unwrap();
        assert_eq!(v, 50);
        th.join().unwrap();
        assert!(block_on(rx.wait_for(|v| *v == 7)).is_err());
    }
}
