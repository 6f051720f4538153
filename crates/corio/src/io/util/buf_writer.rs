//! [`BufWriter`]: adds a write buffer to any [`AsyncWrite`].
//!
//! Many small writes to a socket each cost a system call; `BufWriter` collects them and writes
//! in large chunks. Call `flush` (or `shutdown`) before dropping it: buffered data is not
//! written on drop, since drop cannot wait.

use super::buf_reader::DEFAULT_BUF_SIZE;
use crate::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Adds buffering to a writer.
///
/// Writes as large as the buffer bypass it. Reads are passed straight to the inner object.
#[derive(Debug)]
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    /// How much of `buf` was already written by an interrupted flush.
    written: usize,
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Creates a `BufWriter` with the default 8 KiB buffer.
    pub fn new(inner: W) -> Self {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Creates a `BufWriter` with a buffer of `cap` bytes.
    pub fn with_capacity(cap: usize, inner: W) -> Self {
        BufWriter {
            inner,
            buf: Vec::with_capacity(cap),
            written: 0,
        }
    }

    fn flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (mut inner, buf, written) = self.project();
        while *written < buf.len() {
            match ready!(inner.as_mut().poll_write(cx, &buf[*written..])) {
                Ok(0) => {
                    buf.drain(..*written);
                    *written = 0;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "failed to write the buffered data",
                    )));
                }
                Ok(n) => *written = (*written + n).min(buf.len()),
                Err(e) => {
                    buf.drain(..*written);
                    *written = 0;
                    return Poll::Ready(Err(e));
                }
            }
        }
        buf.clear();
        *written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W> BufWriter<W> {
    /// Returns a shared reference to the inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns a mutable reference to the inner writer. Writing to it directly skips the
    /// buffer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns a pinned mutable reference to the inner writer.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().0
    }

    /// Unwraps this `BufWriter`, returning the inner writer; buffered data is lost.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Returns the buffered data that was not written yet.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut W>, &mut Vec<u8>, &mut usize) {
        // SAFETY: `inner` is structurally pinned: it is never moved out while pinned (only
        // `into_inner(self)` moves it), `BufWriter` has no `Drop` impl and is `Unpin` only
        // through the auto trait. The buffer fields are never pinned.
        unsafe {
            let me = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut me.inner),
                &mut me.buf,
                &mut me.written,
            )
        }
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len() + buf.len() > self.buf.capacity() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let (inner, me_buf, _) = self.project();
        if buf.len() >= me_buf.capacity() {
            inner.poll_write(cx, buf)
        } else {
            me_buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs
            .iter()
            .fold(0usize, |acc, b| acc.saturating_add(b.len()));
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.buf.len().saturating_add(total) > self.buf.capacity() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let vectored = self.inner.is_write_vectored();
        let (inner, me_buf, _) = self.project();
        let cap = me_buf.capacity();
        if total >= cap {
            // Too large to buffer: hand it to the inner writer (buffer is empty here).
            if vectored {
                return inner.poll_write_vectored(cx, bufs);
            }
            if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
                if first.len() >= cap {
                    return inner.poll_write(cx, first);
                }
            }
        }
        // Copy as much as fits; a vectored write may be partial.
        let mut n = 0;
        for b in bufs {
            let room = cap - me_buf.len();
            if room == 0 {
                break;
            }
            let chunk = &b[..b.len().min(room)];
            me_buf.extend_from_slice(chunk);
            n += chunk.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_shutdown(cx)
    }
}

impl<W: AsyncWrite + AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_read(cx, buf)
    }
}

impl<W: AsyncWrite + AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_pin_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_pin_mut().consume(amt)
    }
}
