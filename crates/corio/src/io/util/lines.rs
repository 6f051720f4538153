//! [`Lines`]: iterate over the lines of an [`AsyncBufRead`] with `next_line().await`.

use super::async_buf_read_ext::{invalid_utf8, read_until_internal};
use crate::io::AsyncBufRead;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The lines of a reader, created by
/// [`AsyncBufReadExt::lines`](crate::io::AsyncBufReadExt::lines).
///
/// Each line is returned without its trailing `\n` (or `\r\n`).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Lines<R> {
    reader: R,
    /// Bytes of the line being read; kept across `Pending`, so `next_line` is cancel safe.
    buf: Vec<u8>,
    read: usize,
}

pub(crate) fn lines<R>(reader: R) -> Lines<R> {
    Lines {
        reader,
        buf: Vec::new(),
        read: 0,
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// Returns the next line, or `None` at end of file.
    ///
    /// Cancel safe: a partly read line is kept and completed by the next call.
    /// Fails with [`io::ErrorKind::InvalidData`] if a line is not valid UTF-8.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// Polls for the next line; `Ready(Ok(None))` at end of file.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        // SAFETY: `reader` is structurally pinned: it is never moved out while pinned (only
        // `into_inner(self)` moves it, which needs an unpinned `Lines`), `Lines` has no `Drop`
        // impl and implements `Unpin` only when `R` does (auto trait). The other fields are
        // never pinned.
        let me = unsafe { self.get_unchecked_mut() };
        let reader = unsafe { Pin::new_unchecked(&mut me.reader) };
        let n = ready!(read_until_internal(
            reader,
            cx,
            b'\n',
            &mut me.buf,
            &mut me.read
        ))?;
        if n == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(&mut me.buf);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Poll::Ready(
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| invalid_utf8()),
        )
    }
}

impl<R> Lines<R> {
    /// Returns a shared reference to the underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// Returns a mutable reference to the underlying reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Unwraps this `Lines`, returning the underlying reader. A partly read line is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}
