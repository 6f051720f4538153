//! [`split`]: use one `AsyncRead + AsyncWrite` object from two tasks, one reading, one writing.
//!
//! Both halves share the object behind an `Arc<Mutex<_>>` that is held only for the duration
//! of one poll call, so they never block each other for long. Types with their own split
//! (`TcpStream::into_split`) avoid the lock and should be preferred.

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::loom::sync::{Arc, Mutex};
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The readable half of an object split by [`split`].
pub struct ReadHalf<T> {
    inner: Arc<Inner<T>>,
}

/// The writable half of an object split by [`split`].
pub struct WriteHalf<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    stream: Mutex<T>,
}

/// Splits one `AsyncRead + AsyncWrite` object into a [`ReadHalf`] and a [`WriteHalf`], which
/// can be moved to different tasks. [`ReadHalf::unsplit`] puts them back together.
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite,
{
    let inner = Arc::new(Inner {
        stream: Mutex::new(stream),
    });
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

impl<T> Inner<T> {
    fn with_lock<R>(&self, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
        let mut guard = self.stream.lock();
        // SAFETY: the stream lives inside the `Arc` allocation and is never moved while either
        // half exists; the only way to move it out is `unsplit`, which requires `T: Unpin`.
        let stream = unsafe { Pin::new_unchecked(&mut *guard) };
        f(stream)
    }
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half split from the same object as this read half.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Reunites this half with its write half, returning the original object.
    ///
    /// # Panics
    ///
    /// Panics if `wr` was not split from the same object (see
    /// [`is_pair_of`](ReadHalf::is_pair_of)); that is a bug in the calling code.
    #[track_caller]
    pub fn unsplit(self, wr: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&wr),
            "unrelated `WriteHalf` passed to `ReadHalf::unsplit`"
        );
        drop(wr);
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.stream.into_inner(),
            // Both halves are owned here and there is no other clone of the `Arc`.
            Err(_) => unreachable!("ReadHalf and WriteHalf are the only owners"),
        }
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half split from the same object as this write half.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_read(cx, buf))
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.with_lock(|stream| stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .with_lock(|stream| stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.stream.lock().is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_shutdown(cx))
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::ReadHalf").finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::WriteHalf").finish()
    }
}
