//! [`AsyncBufReadExt`]: delimiter- and line-oriented helpers over any [`AsyncBufRead`].
//!
//! Also home of the shared scanning loop (`read_until_internal`) used by `read_line`,
//! [`Lines`](super::Lines) and [`Split`](super::Split).

use super::{Lines, Split};
use crate::io::AsyncBufRead;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// `async fn` helpers for every [`AsyncBufRead`].
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads bytes into `buf` until the delimiter `byte` (included) or end of file; returns
    /// how many bytes were read (0 at end of file).
    ///
    /// Cancel safe: bytes read before cancellation are already in `buf`; calling it again
    /// continues where the dropped call stopped.
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter: byte,
            buf,
            read: 0,
        }
    }

    /// Reads a line (up to and including `\n`) and appends it to `buf`; returns how many bytes
    /// were read (0 at end of file).
    ///
    /// Fails with [`io::ErrorKind::InvalidData`] if the line is not valid UTF-8; then `buf`
    /// keeps only its original contents. Not cancel safe: if dropped, the bytes of the partly
    /// read line are lost (`buf` keeps its original contents).
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        let start_len = buf.len();
        let bytes = Some(std::mem::take(buf).into_bytes());
        ReadLine {
            reader: self,
            buf,
            bytes,
            start_len,
            read: 0,
        }
    }

    /// Returns a stream of the segments of this reader separated by `byte`; see [`Split`].
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        super::split::split(self, byte)
    }

    /// Returns the contents of the internal buffer, filling it from the inner reader if it is
    /// empty; an empty slice means end of file. Follow it with
    /// [`consume`](AsyncBufReadExt::consume).
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Marks `amt` buffered bytes as read.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }

    /// Returns a stream over the lines of this reader; see [`Lines`].
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        super::lines::lines(self)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Appends bytes from `reader` to `buf` until `delimiter` (included) or end of file.
///
/// `read` counts the bytes appended so far and survives `Pending`, so the caller can resume.
/// Returns the total count and resets it to zero.
pub(crate) fn read_until_internal<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delimiter: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let (done, used) = {
            let available = ready!(reader.as_mut().poll_fill_buf(cx))?;
            match available.iter().position(|&b| b == delimiter) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.as_mut().consume(used);
        *read += used;
        if done {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delimiter: u8,
    buf: &'a mut Vec<u8>,
    read: usize,
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        read_until_internal(
            Pin::new(&mut *me.reader),
            cx,
            me.delimiter,
            me.buf,
            &mut me.read,
        )
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// The string's original bytes plus the line so far; `None` once completed.
    bytes: Option<Vec<u8>>,
    start_len: usize,
    read: usize,
}

pub(crate) fn invalid_utf8() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}

/// Converts bytes known to hold UTF-8 back into a `String` without `unsafe`.
fn utf8_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let bytes = me.bytes.as_mut().expect("ReadLine polled after completion");
        let res = ready!(read_until_internal(
            Pin::new(&mut *me.reader),
            cx,
            b'\n',
            bytes,
            &mut me.read
        ));
        let mut bytes = me.bytes.take().unwrap_or_default();
        let res = res.and_then(|n| {
            if std::str::from_utf8(&bytes[me.start_len..]).is_ok() {
                Ok(n)
            } else {
                Err(invalid_utf8())
            }
        });
        if res.is_err() {
            bytes.truncate(me.start_len);
        }
        *me.buf = utf8_to_string(bytes);
        Poll::Ready(res)
    }
}

impl<R: ?Sized> Drop for ReadLine<'_, R> {
    fn drop(&mut self) {
        if let Some(mut bytes) = self.bytes.take() {
            bytes.truncate(self.start_len);
            *self.buf = utf8_to_string(bytes);
        }
    }
}

/// Future of [`AsyncBufReadExt::fill_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct FillBuf<'a, R: ?Sized> {
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + ?Sized + Unpin> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let reader: &'a mut R = me.reader.take().expect("FillBuf polled after completion");
        let ptr: *mut R = reader;
        // SAFETY: `ptr` comes from the unique `&'a mut R` just moved out of `me.reader`, so this
        // is the only live reference to the reader.
        match Pin::new(unsafe { &mut *ptr }).poll_fill_buf(cx) {
            Poll::Ready(res) => Poll::Ready(res),
            Poll::Pending => {
                // SAFETY: `Poll::Pending` carries no borrow, so the reference created above is
                // dead and re-deriving the unique reference to put it back is sound.
                me.reader = Some(unsafe { &mut *ptr });
                Poll::Pending
            }
        }
    }
}
