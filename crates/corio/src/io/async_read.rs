//! The [`AsyncRead`] trait: the non-blocking counterpart of `std::io::Read`.
//!
//! Every byte source of the runtime (sockets, pipes, in-memory streams, adapters) implements
//! this one poll method, so the combinators in [`crate::io::util`] work on all of them.

use super::ReadBuf;
use std::io;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads bytes from a source asynchronously.
///
/// Like `std::io::Read`, except that when no data is available, `poll_read` returns
/// `Poll::Pending` and arranges for the current task to be woken once the source may be
/// readable again. Use [`AsyncReadExt`](crate::io::AsyncReadExt) for `async fn` helpers.
pub trait AsyncRead {
    /// Attempts to read from the source into `buf`.
    ///
    /// On `Poll::Ready(Ok(()))` the data read was appended to `buf.filled()`; if nothing was
    /// appended (and `buf.remaining()` was not zero) the source reached end of file.
    /// On `Poll::Pending` the task will be woken when the source is readable.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>;
}

macro_rules! deref_async_read {
    () => {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_read(cx, buf)
        }
    };
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for Box<T> {
    deref_async_read!();
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    deref_async_read!();
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_read(cx, buf)
    }
}

impl AsyncRead for &[u8] {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.len().min(buf.remaining());
        let (head, tail) = self.split_at(n);
        buf.put_slice(head);
        *self = tail;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncRead for io::Cursor<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pos = self.position();
        let data = self.get_ref().as_ref();
        // A position past the end (set by `set_position`) reads as end of file.
        let start = usize::try_from(pos).map_or(data.len(), |p| p.min(data.len()));
        let n = (data.len() - start).min(buf.remaining());
        buf.put_slice(&data[start..start + n]);
        self.set_position(pos.max(start as u64) + n as u64);
        Poll::Ready(Ok(()))
    }
}
