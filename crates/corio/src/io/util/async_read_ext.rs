//! [`AsyncReadExt`]: `async fn` helpers over any [`AsyncRead`], and the futures they return.
//!
//! The futures borrow the reader and the caller's buffer and drive `poll_read` in a loop, so
//! `stream.read_exact(&mut buf).await` reads exactly like its blocking `std::io` counterpart.

use super::{Chain, Take};
use crate::io::{AsyncRead, ReadBuf};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

macro_rules! read_int_methods {
    ($($(#[$doc:meta])* $name:ident => $fut:ident, $ty:ty;)*) => {$(
        $(#[$doc])*
        ///
        /// Fails with [`io::ErrorKind::UnexpectedEof`] if the source ends first.
        fn $name(&mut self) -> $fut<&mut Self>
        where
            Self: Unpin,
        {
            $fut::new(self)
        }
    )*};
}

/// Reads bytes from a source: `async fn` helpers for every [`AsyncRead`].
///
/// Implemented for every `AsyncRead` type; import it to call `reader.read(..).await`.
pub trait AsyncReadExt: AsyncRead {
    /// Creates an adapter that reads all of `self` and then all of `next`.
    fn chain<R>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
        R: AsyncRead,
    {
        super::chain::chain(self, next)
    }

    /// Pulls some bytes from this source into `buf`, returning how many bytes were read.
    ///
    /// `Ok(0)` means end of file (or an empty `buf`). Cancel safe: if the future is dropped
    /// before completing, no data was read.
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes, failing with [`io::ErrorKind::UnexpectedEof`] if the
    /// source ends first. Returns `buf.len()`.
    ///
    /// Not cancel safe: bytes read before cancellation are lost to the caller.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf: ReadBuf::new(buf),
        }
    }

    /// Reads all bytes until end of file, appending them to `buf`; returns how many were read.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start_len = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start_len,
        }
    }

    /// Reads all bytes until end of file, appending them to `buf` if they are valid UTF-8
    /// (otherwise `buf` is left unchanged and an [`io::ErrorKind::InvalidData`] error is
    /// returned); returns how many bytes were read.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        let start_len = buf.len();
        let bytes = Some(std::mem::take(buf).into_bytes());
        ReadToString {
            reader: self,
            buf,
            bytes,
            start_len,
        }
    }

    /// Creates an adapter that reads at most `limit` bytes from this source.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        super::take::take(self, limit)
    }

    read_int_methods! {
        /// Reads an unsigned 8-bit integer.
        read_u8 => ReadU8, u8;
        /// Reads a signed 8-bit integer.
        read_i8 => ReadI8, i8;
        /// Reads an unsigned 16-bit integer in big-endian order.
        read_u16 => ReadU16, u16;
        /// Reads a signed 16-bit integer in big-endian order.
        read_i16 => ReadI16, i16;
        /// Reads an unsigned 32-bit integer in big-endian order.
        read_u32 => ReadU32, u32;
        /// Reads a signed 32-bit integer in big-endian order.
        read_i32 => ReadI32, i32;
        /// Reads an unsigned 64-bit integer in big-endian order.
        read_u64 => ReadU64, u64;
        /// Reads a signed 64-bit integer in big-endian order.
        read_i64 => ReadI64, i64;
        /// Reads an unsigned 128-bit integer in big-endian order.
        read_u128 => ReadU128, u128;
        /// Reads a signed 128-bit integer in big-endian order.
        read_i128 => ReadI128, i128;
        /// Reads a 32-bit floating point number in big-endian order.
        read_f32 => ReadF32, f32;
        /// Reads a 64-bit floating point number in big-endian order.
        read_f64 => ReadF64, f64;
        /// Reads an unsigned 16-bit integer in little-endian order.
        read_u16_le => ReadU16Le, u16;
        /// Reads a signed 16-bit integer in little-endian order.
        read_i16_le => ReadI16Le, i16;
        /// Reads an unsigned 32-bit integer in little-endian order.
        read_u32_le => ReadU32Le, u32;
        /// Reads a signed 32-bit integer in little-endian order.
        read_i32_le => ReadI32Le, i32;
        /// Reads an unsigned 64-bit integer in little-endian order.
        read_u64_le => ReadU64Le, u64;
        /// Reads a signed 64-bit integer in little-endian order.
        read_i64_le => ReadI64Le, i64;
        /// Reads an unsigned 128-bit integer in little-endian order.
        read_u128_le => ReadU128Le, u128;
        /// Reads a signed 128-bit integer in little-endian order.
        read_i128_le => ReadI128Le, i128;
        /// Reads a 32-bit floating point number in little-endian order.
        read_f32_le => ReadF32Le, f32;
        /// Reads a 64-bit floating point number in little-endian order.
        read_f64_le => ReadF64Le, f64;
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + ?Sized + Unpin> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let mut buf = ReadBuf::new(me.buf);
        ready!(Pin::new(&mut *me.reader).poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: ReadBuf<'a>,
}

pub(crate) fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "early eof")
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        while me.buf.remaining() > 0 {
            let before = me.buf.remaining();
            ready!(Pin::new(&mut *me.reader).poll_read(cx, &mut me.buf))?;
            if me.buf.remaining() == before {
                return Poll::Ready(Err(eof()));
            }
        }
        Poll::Ready(Ok(me.buf.capacity()))
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start_len: usize,
}

/// Reads from `reader` into the spare capacity of `buf` until end of file.
///
/// Appended bytes stay in `buf` even when `Pending` or an error is returned, so a caller that
/// keeps `buf` loses nothing. Returns the total length of `buf` at end of file.
pub(crate) fn read_to_end_internal<R: AsyncRead + ?Sized>(
    buf: &mut Vec<u8>,
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(32);
        }
        let spare = buf.spare_capacity_mut();
        let mut read_buf = ReadBuf::uninit(spare);
        let ptr = read_buf.filled().as_ptr();
        ready!(reader.as_mut().poll_read(cx, &mut read_buf))?;
        if read_buf.filled().as_ptr() != ptr {
            return Poll::Ready(Err(io::Error::other(
                "AsyncRead implementation replaced the ReadBuf it was given",
            )));
        }
        let n = read_buf.filled().len();
        if n == 0 {
            return Poll::Ready(Ok(buf.len()));
        }
        let new_len = buf.len() + n;
        // SAFETY: the ReadBuf covered exactly the spare capacity of `buf` (its pointer was
        // checked above), and its first `n` bytes are filled, hence initialised; `n` is at most
        // the spare capacity, so `new_len <= capacity`.
        unsafe { buf.set_len(new_len) };
    }
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let total = ready!(read_to_end_internal(me.buf, Pin::new(&mut *me.reader), cx))?;
        Poll::Ready(Ok(total - me.start_len))
    }
}

/// Future of [`AsyncReadExt::read_to_string`].
///
/// If dropped before completion, the string gets back its original contents (bytes read so far
/// are lost).
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    /// The string's bytes plus what was read so far; `None` once the future completed.
    bytes: Option<Vec<u8>>,
    start_len: usize,
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        let bytes = me
            .bytes
            .as_mut()
            .expect("ReadToString polled after completion");
        let res = ready!(read_to_end_internal(bytes, Pin::new(&mut *me.reader), cx));
        let mut bytes = me.bytes.take().unwrap_or_default();
        let res = res.and_then(|total| {
            if std::str::from_utf8(&bytes[me.start_len..]).is_ok() {
                Ok(total - me.start_len)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                ))
            }
        });
        if res.is_err() {
            bytes.truncate(me.start_len);
        }
        *me.buf = into_string_lossless(bytes);
        Poll::Ready(res)
    }
}

impl<R: ?Sized> Drop for ReadToString<'_, R> {
    fn drop(&mut self) {
        if let Some(mut bytes) = self.bytes.take() {
            bytes.truncate(self.start_len);
            *self.buf = into_string_lossless(bytes);
        }
    }
}

/// Converts bytes known to be UTF-8 (a `String`'s prefix plus validated data) back into a
/// `String` without `unsafe`; never loses data for such input.
fn into_string_lossless(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

macro_rules! read_int_futures {
    ($($fut:ident, $ty:ty, $from:ident;)*) => {$(
        #[doc = concat!("Future reading a `", stringify!($ty), "` (see [`AsyncReadExt`]).")]
        #[derive(Debug)]
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $fut<R> {
            src: R,
            buf: [u8; std::mem::size_of::<$ty>()],
            read: usize,
        }

        impl<R> $fut<R> {
            pub(crate) fn new(src: R) -> Self {
                $fut { src, buf: [0; std::mem::size_of::<$ty>()], read: 0 }
            }
        }

        impl<R: AsyncRead + Unpin> Future for $fut<R> {
            type Output = io::Result<$ty>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let me = self.get_mut();
                while me.read < me.buf.len() {
                    let mut buf = ReadBuf::new(&mut me.buf[me.read..]);
                    ready!(Pin::new(&mut me.src).poll_read(cx, &mut buf))?;
                    let n = buf.filled().len();
                    if n == 0 {
                        return Poll::Ready(Err(eof()));
                    }
                    me.read += n;
                }
                Poll::Ready(Ok(<$ty>::$from(me.buf)))
            }
        }
    )*};
}

read_int_futures! {
    ReadU8, u8, from_be_bytes;
    ReadI8, i8, from_be_bytes;
    ReadU16, u16, from_be_bytes;
    ReadI16, i16, from_be_bytes;
    ReadU32, u32, from_be_bytes;
    ReadI32, i32, from_be_bytes;
    ReadU64, u64, from_be_bytes;
    ReadI64, i64, from_be_bytes;
    ReadU128, u128, from_be_bytes;
    ReadI128, i128, from_be_bytes;
    ReadF32, f32, from_be_bytes;
    ReadF64, f64, from_be_bytes;
    ReadU16Le, u16, from_le_bytes;
    ReadI16Le, i16, from_le_bytes;
    ReadU32Le, u32, from_le_bytes;
    ReadI32Le, i32, from_le_bytes;
    ReadU64Le, u64, from_le_bytes;
    ReadI64Le, i64, from_le_bytes;
    ReadU128Le, u128, from_le_bytes;
    ReadI128Le, i128, from_le_bytes;
    ReadF32Le, f32, from_le_bytes;
    ReadF64Le, f64, from_le_bytes;
}
