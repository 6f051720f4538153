//! The core shared by the bounded and the unbounded channel: the message queue, the
//! sender/receiver bookkeeping and the receiver's waker, behind one lock.
//!
//! For the bounded flavour, `sem` holds the free capacity. Every message in the queue carries
//! one permit; a reserved-but-unused [`Permit`](super::Permit) holds one too. So after the
//! receiver closed, "no message can arrive any more" is `queue empty && free permits == bound`.

use std::collections::VecDeque;
use std::task::{ready, Context, Poll, Waker};

use super::error::TryRecvError;
use crate::loom::sync::{Arc, Mutex};
use crate::sync::{Notify, Semaphore};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Free capacity of a bounded channel; `None` for the unbounded one.
    pub(super) sem: Option<Semaphore>,
    pub(super) bound: usize,
    /// Woken (notify_waiters) when the receiver closes, for `Sender::closed`.
    rx_closed_notify: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    tx_count: usize,
    weak_count: usize,
    rx_closed: bool,
    rx_waker: Option<Waker>,
}

impl<T> Chan<T> {
    pub(super) fn new(bound: Option<usize>) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                tx_count: 1,
                weak_count: 0,
                rx_closed: false,
                rx_waker: None,
            }),
            sem: bound.map(Semaphore::new),
            bound: bound.unwrap_or(0),
            rx_closed_notify: Notify::new(),
        })
    }

    // ----- senders -----

    /// Appends a message. With `reject_if_closed` (unbounded sends) it is handed back if the
    /// receiver is closed; bounded sends hold a permit and are always accepted, like tokio.
    pub(super) fn push(&self, value: T, reject_if_closed: bool) -> Result<(), T> {
        let waker = {
            let mut state = self.state.lock();
            if reject_if_closed && state.rx_closed {
                return Err(value);
            }
            state.queue.push_back(value);
            state.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// A reserved permit was dropped unused: return it and let a closed receiver re-check.
    pub(super) fn release_unused_permit(&self) {
        if let Some(sem) = &self.sem {
            sem.release(1);
        }
        self.wake_rx();
    }

    fn wake_rx(&self) {
        let waker = self.state.lock().rx_waker.take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(super) fn add_sender(&self) {
        self.state.lock().tx_count += 1;
    }

    pub(super) fn drop_sender(&self) {
        let waker = {
            let mut state = self.state.lock();
            state.tx_count -= 1;
            if state.tx_count == 0 {
                state.rx_waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(super) fn add_weak(&self) {
        self.state.lock().weak_count += 1;
    }

    pub(super) fn drop_weak(&self) {
        self.state.lock().weak_count -= 1;
    }

    /// Turns a weak sender into a strong one if any strong sender is still alive.
    pub(super) fn try_upgrade(&self) -> bool {
        let mut state = self.state.lock();
        if state.tx_count == 0 {
            return false;
        }
        state.tx_count += 1;
        true
    }

    pub(super) fn strong_count(&self) -> usize {
        self.state.lock().tx_count
    }

    pub(super) fn weak_count(&self) -> usize {
        self.state.lock().weak_count
    }

    pub(super) fn is_rx_closed(&self) -> bool {
        self.state.lock().rx_closed
    }

    /// Completes once the receiver has closed or been dropped.
    pub(super) async fn closed(&self) {
        loop {
            // Created before the check, so a close in between is not missed.
            let notified = self.rx_closed_notify.notified();
            if self.is_rx_closed() {
                return;
            }
            notified.await;
        }
    }

    // ----- receiver -----

    /// `true` when no message can arrive any more (caller holds the lock, queue is empty).
    fn is_finished(&self, state: &State<T>) -> bool {
        if state.tx_count == 0 {
            return true;
        }
        if !state.rx_closed {
            return false;
        }
        match &self.sem {
            // Outstanding permits may still send after close.
            Some(sem) => sem.available_permits() == self.bound,
            None => true,
        }
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let value = {
            let mut state = self.state.lock();
            match state.queue.pop_front() {
                Some(v) => v,
                None if self.is_finished(&state) => {
                    coop.made_progress();
                    return Poll::Ready(None);
                }
                None => {
                    match &mut state.rx_waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
            }
        };
        if let Some(sem) = &self.sem {
            sem.release(1);
        }
        coop.made_progress();
        Poll::Ready(Some(value))
    }

    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let coop = ready!(crate::runtime::coop::poll_proceed(cx));
        let n = {
            let mut state = self.state.lock();
            if state.queue.is_empty() {
                if self.is_finished(&state) {
                    coop.made_progress();
                    return Poll::Ready(0);
                }
                match &mut state.rx_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            let n = limit.min(state.queue.len());
            buffer.reserve(n);
            buffer.extend(state.queue.drain(..n));
            n
        };
        if let Some(sem) = &self.sem {
            sem.release(n);
        }
        coop.made_progress();
        Poll::Ready(n)
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let value = {
            let mut state = self.state.lock();
            match state.queue.pop_front() {
                Some(v) => v,
                None if self.is_finished(&state) => return Err(TryRecvError::Disconnected),
                None => return Err(TryRecvError::Empty),
            }
        };
        if let Some(sem) = &self.sem {
            sem.release(1);
        }
        Ok(value)
    }

    /// `Receiver::close`: no new sends; buffered messages stay receivable.
    pub(super) fn close_rx(&self) {
        self.state.lock().rx_closed = true;
        if let Some(sem) = &self.sem {
            sem.close();
        }
        self.rx_closed_notify.notify_waiters();
    }

    /// The receiver is dropped: close, then drop every buffered message.
    pub(super) fn drop_rx(&self) {
        self.close_rx();
        loop {
            // Drop messages one at a time outside the lock (their `Drop` may touch the channel).
            let value = self.state.lock().queue.pop_front();
            match value {
                Some(v) => {
                    drop(v);
                    if let Some(sem) = &self.sem {
                        sem.release(1);
                    }
                }
                None => break,
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    pub(super) fn rx_is_closed(&self) -> bool {
        let state = self.state.lock();
        state.rx_closed || state.tx_count == 0
    }
}
