//! Multi-producer, single-consumer queues: a bounded [`channel`] with backpressure and an
//! [`unbounded_channel`].
//!
//! Both flavours share one core ([`chan`]): a `VecDeque` of messages, the sender/receiver
//! bookkeeping and the receiver's waker behind one lock. The bounded flavour adds a fair
//! [`Semaphore`](crate::sync::Semaphore) holding the free capacity: `send`/`reserve` acquire a
//! permit (so blocked senders queue in FIFO order and cancelling a `send` is safe), the permit
//! travels into the queue with the message and the receiver returns it when it takes the
//! message out. Closing the receiver closes the semaphore, failing every waiting sender.

mod chan;
pub mod error;

mod bounded;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
