//! [`copy`]: move every byte of a reader into a writer, and the `CopyBuffer` state machine
//! it shares with [`copy_bidirectional`](super::copy_bidirectional).

use super::async_write_ext::write_zero;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::runtime::coop;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Size of the buffer of [`copy`] and [`copy_bidirectional`](super::copy_bidirectional).
///
/// 8 KiB like tokio (and `std::io::copy`), which keeps a proxy with many idle connections
/// cheap. Larger buffers (64 KiB) cut the number of syscalls for bulk transfers; change it only
/// with a benchmark showing the gain (`copy_bidirectional_with_sizes` lets callers choose).
pub(crate) const COPY_BUF_SIZE: usize = 8 * 1024;

/// The state of one copying direction: a buffer between a reader and a writer.
#[derive(Debug)]
pub(crate) struct CopyBuffer {
    read_done: bool,
    /// Data was written since the last flush.
    need_flush: bool,
    pos: usize,
    cap: usize,
    amt: u64,
    buf: Box<[u8]>,
}

impl CopyBuffer {
    pub(crate) fn new(buf_size: usize) -> Self {
        CopyBuffer {
            read_done: false,
            need_flush: false,
            pos: 0,
            cap: 0,
            amt: 0,
            // A zero-sized buffer could never make progress.
            buf: vec![0; buf_size.max(1)].into_boxed_slice(),
        }
    }

    /// Copies until the reader reaches end of file and everything was written and flushed;
    /// returns the number of bytes copied. Does not shut the writer down.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            // Spend one unit of the task's budget per round, so copying between two streams
            // that are always ready (in-memory pipes) still yields to the scheduler.
            let coop = ready!(coop::poll_proceed(cx));

            if self.pos == self.cap && !self.read_done {
                let mut buf = ReadBuf::new(&mut self.buf);
                match reader.as_mut().poll_read(cx, &mut buf) {
                    Poll::Ready(Ok(())) => {
                        let n = buf.filled().len();
                        if n == 0 {
                            self.read_done = true;
                        }
                        self.pos = 0;
                        self.cap = n;
                        coop.made_progress();
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Nothing to read for now: push what was written so far out of any
                        // buffering writer, so it does not sit there while we wait.
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }

            while self.pos < self.cap {
                let n = ready!(writer
                    .as_mut()
                    .poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    return Poll::Ready(Err(write_zero()));
                }
                let n = n.min(self.cap - self.pos);
                self.pos += n;
                self.amt += n as u64;
                self.need_flush = true;
                coop.made_progress();
            }

            if self.pos == self.cap && self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies the entire contents of `reader` into `writer`, returning the number of bytes copied.
///
/// Data is moved through an 8 KiB buffer, partial writes are retried, and the writer is
/// flushed whenever the reader has nothing to offer and at end of file. The writer is **not**
/// shut down. Errors of either side end the copy.
///
/// Use [`copy_buf`](super::copy_buf) when the reader is already buffered.
pub async fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut state = CopyBuffer::new(COPY_BUF_SIZE);
    poll_fn(|cx| state.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}
