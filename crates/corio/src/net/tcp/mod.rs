//! TCP: listener, stream, the `TcpSocket` builder and the two kinds of stream halves.

pub(crate) mod listener;
#[cfg(unix)]
pub(crate) mod socket;
mod split;
mod split_owned;
pub(crate) mod stream;

pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
