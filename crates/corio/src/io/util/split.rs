//! [`Split`]: iterate over the delimiter-separated segments of an [`AsyncBufRead`].

use super::async_buf_read_ext::read_until_internal;
use crate::io::AsyncBufRead;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The segments of a reader split on a delimiter byte, created by
/// [`AsyncBufReadExt::split`](crate::io::AsyncBufReadExt::split).
///
/// Each segment is returned without the delimiter.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Split<R> {
    reader: R,
    buf: Vec<u8>,
    delim: u8,
    read: usize,
}

pub(crate) fn split<R>(reader: R, delim: u8) -> Split<R> {
    Split {
        reader,
        buf: Vec::new(),
        delim,
        read: 0,
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// Returns the next segment, or `None` at end of file.
    ///
    /// Cancel safe: a partly read segment is kept and completed by the next call.
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// Polls for the next segment; `Ready(Ok(None))` at end of file.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        // SAFETY: `reader` is structurally pinned: never moved out while pinned, no `Drop`
        // impl, `Unpin` only via the auto trait. The other fields are never pinned.
        let me = unsafe { self.get_unchecked_mut() };
        let reader = unsafe { Pin::new_unchecked(&mut me.reader) };
        let n = ready!(read_until_internal(
            reader,
            cx,
            me.delim,
            &mut me.buf,
            &mut me.read
        ))?;
        if n == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut segment = std::mem::take(&mut me.buf);
        if segment.last() == Some(&me.delim) {
            segment.pop();
        }
        Poll::Ready(Ok(Some(segment)))
    }
}
