//! [`BufReader`]: adds a read buffer to any [`AsyncRead`].
//!
//! Small reads from a socket each cost a system call; `BufReader` reads in large chunks and
//! serves small reads from memory. It is also what turns a plain reader into an
//! [`AsyncBufRead`] for `read_line`, `lines` and `copy_buf`.

use crate::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Default buffer size of [`BufReader`] and [`BufWriter`](super::BufWriter): 8 KiB, like
/// `std::io` and tokio.
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// Adds buffering to a reader.
///
/// Reads as large as the buffer bypass it. Data in the buffer is lost when the `BufReader` is
/// dropped. Writes are passed straight to the inner object.
#[derive(Debug)]
pub struct BufReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
}

impl<R: AsyncRead> BufReader<R> {
    /// Creates a `BufReader` with the default 8 KiB buffer.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Creates a `BufReader` with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            cap: 0,
        }
    }
}

impl<R> BufReader<R> {
    /// Returns a shared reference to the inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Returns a mutable reference to the inner reader. Reading from it directly skips (and
    /// desynchronises from) the buffer.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Returns a pinned mutable reference to the inner reader.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().0
    }

    /// Unwraps this `BufReader`, returning the inner reader; buffered data is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Returns the currently buffered, not yet consumed data.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    fn discard_buffer(self: Pin<&mut Self>) {
        let (_, state) = self.project();
        *state.pos = 0;
        *state.cap = 0;
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut R>, BufState<'_>) {
        // SAFETY: `inner` is structurally pinned: it is never moved out while pinned (only
        // `into_inner(self)` moves it), `BufReader` has no `Drop` impl and is `Unpin` only
        // through the auto trait. The buffer fields are never pinned.
        unsafe {
            let me = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut me.inner),
                BufState {
                    buf: &mut me.buf,
                    pos: &mut me.pos,
                    cap: &mut me.cap,
                },
            )
        }
    }
}

/// The unpinned fields of a [`BufReader`].
struct BufState<'a> {
    buf: &'a mut Box<[u8]>,
    pos: &'a mut usize,
    cap: &'a mut usize,
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Nothing buffered and a large read: skip our buffer entirely.
        if self.pos == self.cap && buf.remaining() >= self.buf.len() {
            let res = ready!(self.as_mut().get_pin_mut().poll_read(cx, buf));
            self.discard_buffer();
            return Poll::Ready(res);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let (inner, state) = self.project();
        if *state.pos >= *state.cap {
            let mut read_buf = ReadBuf::new(state.buf);
            ready!(inner.poll_read(cx, &mut read_buf))?;
            *state.cap = read_buf.filled().len();
            *state.pos = 0;
        }
        Poll::Ready(Ok(&state.buf[*state.pos..*state.cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let (_, state) = self.project();
        *state.pos = (*state.pos + amt).min(*state.cap);
    }
}

impl<R: AsyncRead + AsyncSeek> AsyncSeek for BufReader<R> {
    /// Seeks the inner reader. `SeekFrom::Current` is relative to the position of the
    /// *buffered* reader (what the caller has consumed). The buffer is discarded once the inner
    /// seek was started successfully.
    fn start_seek(mut self: Pin<&mut Self>, pos: SeekFrom) -> io::Result<()> {
        let pos = match pos {
            SeekFrom::Current(n) => {
                let remainder = (self.cap - self.pos) as i64;
                SeekFrom::Current(n.checked_sub(remainder).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "seek offset overflows")
                })?)
            }
            other => other,
        };
        self.as_mut().get_pin_mut().start_seek(pos)?;
        self.discard_buffer();
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        // Without a seek in progress this reports the inner position, which is ahead of the
        // caller's position by the buffered bytes.
        let buffered = (self.cap - self.pos) as u64;
        let pos = ready!(self.get_pin_mut().poll_complete(cx))?;
        Poll::Ready(Ok(pos.saturating_sub(buffered)))
    }
}

impl<R: AsyncRead + AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_shutdown(cx)
    }
}
