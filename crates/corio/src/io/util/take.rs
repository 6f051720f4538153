//! [`Take`]: a reader limited to a number of bytes.

use crate::io::{AsyncBufRead, AsyncRead, ReadBuf};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Reads at most a limited number of bytes from an inner reader, created by
/// [`AsyncReadExt::take`](crate::io::AsyncReadExt::take).
#[derive(Debug)]
#[must_use = "streams do nothing unless you `.await` or poll them"]
pub struct Take<R> {
    inner: R,
    limit: u64,
}

pub(crate) fn take<R>(inner: R, limit: u64) -> Take<R> {
    Take { inner, limit }
}

impl<R> Take<R> {
    /// Returns how many more bytes may be read before this reader reports end of file.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many more bytes may be read.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit
    }

    /// Returns a shared reference to the inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Returns a mutable reference to the inner reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Returns a pinned mutable reference to the inner reader.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().0
    }

    /// Unwraps this `Take`, returning the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut R>, &mut u64) {
        // SAFETY: `inner` is structurally pinned: it is never moved out while pinned (only
        // `into_inner(self)` moves it), `Take` has no `Drop` impl and is `Unpin` only through
        // the auto trait (when `R: Unpin`). `limit` is never pinned.
        unsafe {
            let me = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut me.inner), &mut me.limit)
        }
    }
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (inner, limit) = self.project();
        if *limit == 0 {
            return Poll::Ready(Ok(()));
        }
        let max = usize::try_from(*limit).unwrap_or(usize::MAX);
        let mut sub = buf.take(max);
        let ptr = sub.filled().as_ptr();
        ready!(inner.poll_read(cx, &mut sub))?;
        if sub.filled().as_ptr() != ptr {
            return Poll::Ready(Err(io::Error::other(
                "AsyncRead implementation replaced the ReadBuf it was given",
            )));
        }
        let n = sub.filled().len();
        // SAFETY: `sub` covered the unfilled part of `buf` (its pointer was checked above) and
        // its first `n` bytes were filled, hence initialised.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        *limit -= n as u64;
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (inner, limit) = self.project();
        if *limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let buf = ready!(inner.poll_fill_buf(cx))?;
        let n = usize::try_from(*limit).unwrap_or(usize::MAX).min(buf.len());
        Poll::Ready(Ok(&buf[..n]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let (inner, limit) = self.project();
        let amt = (amt as u64).min(*limit);
        *limit -= amt;
        inner.consume(amt as usize);
    }
}
