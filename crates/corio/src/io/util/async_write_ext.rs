//! [`AsyncWriteExt`]: `async fn` helpers over any [`AsyncWrite`], and the futures they return.
//!
//! `write_all`, `flush` and `shutdown` drive the poll methods in a loop so callers can write
//! `stream.write_all(b"hi").await?` as with blocking `std::io`.

use crate::io::AsyncWrite;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

macro_rules! write_int_methods {
    ($($(#[$doc:meta])* $name:ident => $fut:ident, $ty:ty;)*) => {$(
        $(#[$doc])*
        fn $name(&mut self, n: $ty) -> $fut<&mut Self>
        where
            Self: Unpin,
        {
            $fut::new(self, n)
        }
    )*};
}

/// Writes bytes to a sink: `async fn` helpers for every [`AsyncWrite`].
///
/// Implemented for every `AsyncWrite` type; import it to call `writer.write_all(..).await`.
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some bytes of `src` into this writer, returning how many were written.
    ///
    /// Cancel safe: if the future is dropped before completing, nothing was written.
    fn write<'a>(&'a mut self, src: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write {
            writer: self,
            buf: src,
        }
    }

    /// Like [`write`](AsyncWriteExt::write), from a list of buffers.
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Writes all of `src` into this writer, failing with [`io::ErrorKind::WriteZero`] if the
    /// writer stops accepting data.
    ///
    /// Not cancel safe: an unknown prefix of `src` may have been written when it is dropped.
    fn write_all<'a>(&'a mut self, src: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll {
            writer: self,
            buf: src,
        }
    }

    /// Flushes this writer, so buffered data reaches its destination.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Shuts down the write direction of this writer (after flushing it).
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown { writer: self }
    }

    write_int_methods! {
        /// Writes an unsigned 8-bit integer.
        write_u8 => WriteU8, u8;
        /// Writes a signed 8-bit integer.
        write_i8 => WriteI8, i8;
        /// Writes an unsigned 16-bit integer in big-endian order.
        write_u16 => WriteU16, u16;
        /// Writes a signed 16-bit integer in big-endian order.
        write_i16 => WriteI16, i16;
        /// Writes an unsigned 32-bit integer in big-endian order.
        write_u32 => WriteU32, u32;
        /// Writes a signed 32-bit integer in big-endian order.
        write_i32 => WriteI32, i32;
        /// Writes an unsigned 64-bit integer in big-endian order.
        write_u64 => WriteU64, u64;
        /// Writes a signed 64-bit integer in big-endian order.
        write_i64 => WriteI64, i64;
        /// Writes an unsigned 128-bit integer in big-endian order.
        write_u128 => WriteU128, u128;
        /// Writes a signed 128-bit integer in big-endian order.
        write_i128 => WriteI128, i128;
        /// Writes a 32-bit floating point number in big-endian order.
        write_f32 => WriteF32, f32;
        /// Writes a 64-bit floating point number in big-endian order.
        write_f64 => WriteF64, f64;
        /// Writes an unsigned 16-bit integer in little-endian order.
        write_u16_le => WriteU16Le, u16;
        /// Writes a signed 16-bit integer in little-endian order.
        write_i16_le => WriteI16Le, i16;
        /// Writes an unsigned 32-bit integer in little-endian order.
        write_u32_le => WriteU32Le, u32;
        /// Writes a signed 32-bit integer in little-endian order.
        write_i32_le => WriteI32Le, i32;
        /// Writes an unsigned 64-bit integer in little-endian order.
        write_u64_le => WriteU64Le, u64;
        /// Writes a signed 64-bit integer in little-endian order.
        write_i64_le => WriteI64Le, i64;
        /// Writes an unsigned 128-bit integer in little-endian order.
        write_u128_le => WriteU128Le, u128;
        /// Writes a signed 128-bit integer in little-endian order.
        write_i128_le => WriteI128Le, i128;
        /// Writes a 32-bit floating point number in little-endian order.
        write_f32_le => WriteF32Le, f32;
        /// Writes a 64-bit floating point number in little-endian order.
        write_f64_le => WriteF64Le, f64;
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

pub(crate) fn write_zero() -> io::Error {
    io::Error::new(io::ErrorKind::WriteZero, "write zero byte into writer")
}

/// Future of [`AsyncWriteExt::write`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        Pin::new(&mut *me.writer).poll_write(cx, me.buf)
    }
}

/// Future of [`AsyncWriteExt::write_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteVectored<'a, 'b, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'b>],
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        Pin::new(&mut *me.writer).poll_write_vectored(cx, me.bufs)
    }
}

/// Future of [`AsyncWriteExt::write_all`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.get_mut();
        while !me.buf.is_empty() {
            let n = ready!(Pin::new(&mut *me.writer).poll_write(cx, me.buf))?;
            if n == 0 {
                return Poll::Ready(Err(write_zero()));
            }
            // A writer claiming more than it was given is buggy; never slice out of bounds.
            me.buf = &me.buf[n.min(me.buf.len())..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncWriteExt::flush`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future of [`AsyncWriteExt::shutdown`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shutdown<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_shutdown(cx)
    }
}

macro_rules! write_int_futures {
    ($($fut:ident, $ty:ty, $to:ident;)*) => {$(
        #[doc = concat!("Future writing a `", stringify!($ty), "` (see [`AsyncWriteExt`]).")]
        #[derive(Debug)]
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $fut<W> {
            dst: W,
            buf: [u8; std::mem::size_of::<$ty>()],
            written: usize,
        }

        impl<W> $fut<W> {
            pub(crate) fn new(dst: W, n: $ty) -> Self {
                $fut { dst, buf: n.$to(), written: 0 }
            }
        }

        impl<W: AsyncWrite + Unpin> Future for $fut<W> {
            type Output = io::Result<()>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let me = self.get_mut();
                while me.written < me.buf.len() {
                    let n = ready!(Pin::new(&mut me.dst).poll_write(cx, &me.buf[me.written..]))?;
                    if n == 0 {
                        return Poll::Ready(Err(write_zero()));
                    }
                    me.written = (me.written + n).min(me.buf.len());
                }
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

write_int_futures! {
    WriteU8, u8, to_be_bytes;
    WriteI8, i8, to_be_bytes;
    WriteU16, u16, to_be_bytes;
    WriteI16, i16, to_be_bytes;
    WriteU32, u32, to_be_bytes;
    WriteI32, i32, to_be_bytes;
    WriteU64, u64, to_be_bytes;
    WriteI64, i64, to_be_bytes;
    WriteU128, u128, to_be_bytes;
    WriteI128, i128, to_be_bytes;
    WriteF32, f32, to_be_bytes;
    WriteF64, f64, to_be_bytes;
    WriteU16Le, u16, to_le_bytes;
    WriteI16Le, i16, to_le_bytes;
    WriteU32Le, u32, to_le_bytes;
    WriteI32Le, i32, to_le_bytes;
    WriteU64Le, u64, to_le_bytes;
    WriteI64Le, i64, to_le_bytes;
    WriteU128Le, u128, to_le_bytes;
    WriteI128Le, i128, to_le_bytes;
    WriteF32Le, f32, to_le_bytes;
    WriteF64Le, f64, to_le_bytes;
}
