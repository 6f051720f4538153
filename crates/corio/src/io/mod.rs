//! Asynchronous I/O: the traits every stream implements and the utilities built on them.
//!
//! This mirrors `tokio::io`. The four traits — [`AsyncRead`], [`AsyncWrite`],
//! [`AsyncBufRead`], [`AsyncSeek`] — are the poll-based interface between byte streams
//! (sockets in [`crate::net`], in-memory pipes, adapters) and the code that uses them. The
//! extension traits [`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`] and
//! [`AsyncSeekExt`] add `async fn` helpers (`read_exact`, `write_all`, `read_line`, ...), and
//! free functions such as [`copy`] and [`copy_bidirectional`] move data between streams.
//!
//! Readiness-based I/O (the reactor, [`Interest`], [`Ready`], [`unix::AsyncFd`]) lives in the
//! driver modules declared here as well.

// Readiness-based I/O, owned by the io-driver part (exact lines adjusted at integration).
pub(crate) mod driver;
mod poll_evented;
pub(crate) use poll_evented::PollEvented;
mod interest;
pub use interest::Interest;

/// Whether `err` means that the runtime driving the resource shut down (its I/O driver is
/// gone), as opposed to an error of the operation itself. Such errors have kind
/// [`std::io::ErrorKind::Other`] and no OS error code; this tells them apart from other errors
/// of that kind. Also true for an address lookup cancelled by the shutdown.
pub fn is_runtime_shutdown(err: &std::io::Error) -> bool {
    err.get_ref()
        .is_some_and(|e| e.is::<driver::RuntimeShutdown>())
}
mod ready;
pub use ready::Ready;
#[cfg(unix)]
mod async_fd;
/// Unix-specific I/O: readiness of arbitrary file descriptors.
#[cfg(unix)]
pub mod unix {
    pub use super::async_fd::{
        AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdTryNewError, TryIoError,
    };
}

mod async_buf_read;
pub use async_buf_read::AsyncBufRead;

mod async_read;
pub use async_read::AsyncRead;

mod async_seek;
pub use async_seek::AsyncSeek;

mod async_write;
pub use async_write::AsyncWrite;

mod read_buf;
pub use read_buf::ReadBuf;

mod split;
pub use split::{split, ReadHalf, WriteHalf};

pub(crate) mod util;
pub use util::{
    copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, duplex, empty, repeat, sink,
    AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufStream, BufWriter,
    Chain, DuplexStream, Empty, Lines, Repeat, Sink, Split, Take,
};

pub use std::io::{Error, ErrorKind, Result, SeekFrom};
