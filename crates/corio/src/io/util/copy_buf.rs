//! [`copy_buf`]: like [`copy`](super::copy), reusing the reader's own buffer.

use super::async_write_ext::write_zero;
use crate::io::{AsyncBufRead, AsyncWrite};
use crate::runtime::coop;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Poll};

/// Copies the entire contents of the buffered `reader` into `writer`, returning the number of
/// bytes copied.
///
/// No extra buffer is allocated: bytes go straight from the reader's buffer to the writer. The
/// writer is flushed at end of file and whenever the reader has nothing to offer; it is not
/// shut down.
pub async fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut amt = 0u64;
    let mut need_flush = false;
    poll_fn(|cx| loop {
        let coop = ready!(coop::poll_proceed(cx));
        let mut reader = Pin::new(&mut *reader);
        let mut writer = Pin::new(&mut *writer);
        let buf = match reader.as_mut().poll_fill_buf(cx) {
            Poll::Ready(res) => res?,
            Poll::Pending => {
                if need_flush {
                    ready!(writer.as_mut().poll_flush(cx))?;
                    need_flush = false;
                }
                return Poll::Pending;
            }
        };
        if buf.is_empty() {
            ready!(writer.as_mut().poll_flush(cx))?;
            return Poll::Ready(Ok(amt));
        }
        let n = ready!(writer.as_mut().poll_write(cx, buf))?;
        if n == 0 {
            return Poll::Ready(Err(write_zero()));
        }
        let n = n.min(buf.len());
        reader.consume(n);
        amt += n as u64;
        need_flush = true;
        coop.made_progress();
    })
    .await
}
