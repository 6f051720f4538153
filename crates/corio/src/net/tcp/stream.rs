//! `TcpStream`: a connected TCP socket, readable and writable from tasks.

use crate::io::{AsyncRead, AsyncWrite, Interest, PollEvented, ReadBuf, Ready};
use crate::net::tcp::split::{split, ReadHalf, WriteHalf};
use crate::net::tcp::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::net::{to_socket_addrs, ToSocketAddrs};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
#[cfg(unix)]
use std::time::Duration;

/// A TCP stream between a local and a remote socket.
///
/// Created by [`connect`](TcpStream::connect), by accepting on a
/// [`TcpListener`](crate::net::TcpListener), or from a [`TcpSocket`](crate::net::TcpSocket).
/// Reading and writing go through [`AsyncRead`]/[`AsyncWrite`] (with the io extension traits),
/// or through the `try_*` methods after waiting for readiness. Writes never raise SIGPIPE: a
/// closed peer surfaces as `BrokenPipe`/`ConnectionReset`.
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn; returns the first
    /// established connection, or the error of the last attempt.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last_err = None;
        for addr in to_socket_addrs(addr).await? {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::new(mio::net::TcpStream::connect(addr)?)?;
        stream.wait_connected().await?;
        Ok(stream)
    }

    /// Waits until a non-blocking `connect` finished, successfully or not.
    pub(crate) async fn wait_connected(&self) -> io::Result<()> {
        loop {
            let event = self.io.registration().readiness(Interest::WRITABLE).await?;
            if let Some(e) = self.io.take_error()? {
                return Err(e);
            }
            match self.io.peer_addr() {
                Ok(_) => return Ok(()),
                // Spurious wake-up: the handshake is still in flight.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    self.io.registration().clear_readiness(event)
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn new(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        #[cfg(unix)]
        crate::net::sys::set_nosigpipe(std::os::fd::AsRawFd::as_raw_fd(&stream))?;
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Wraps a connected std stream. The socket is switched to non-blocking mode (tokio leaves
    /// that to the caller).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::new(mio::net::TcpStream::from_std(stream))
    }

    /// Turns this stream back into a std stream (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner().map(std::net::TcpStream::from)
    }

    /// The local address of this socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The remote address this socket is connected to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// Returns and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }

    /// Waits for any of the requested readiness states; many tasks may wait at once.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.io.registration().readiness(interest).await?.ready)
    }

    /// Waits until the socket is readable (data, EOF or an error is pending).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness; only the last task to call this is woken.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.registration().poll_read_ready(cx).map_ok(drop)
    }

    /// Polls for write readiness; only the last task to call this is woken.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.registration().poll_write_ready(cx).map_ok(drop)
    }

    /// Reads without waiting. `Ok(0)` means EOF (or an empty `buf`); `WouldBlock` means no
    /// data yet (and clears the readiness so the next wait really waits). A short read (fewer
    /// bytes than `buf` holds) clears it too on Linux, macOS and the BSDs: the stream is
    /// drained, so the next `try_read` returns `WouldBlock` without a syscall until new data
    /// arrives.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read(buf)
    }

    /// Vectored form of [`try_read`](Self::try_read).
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::READABLE, || (&*self.io).read_vectored(bufs))
    }

    /// Writes without waiting; `WouldBlock` when the send buffer is full.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || self.write_raw(buf))
    }

    /// Changes which readiness the I/O driver watches this socket for (unix; both by default).
    /// For an embedder that waits for readability through another poller for a while: while
    /// `READABLE` is off, incoming data no longer wakes the driver, and nothing on the runtime
    /// may wait for read readiness. Turning it back on reports a socket that is readable by
    /// then (epoll re-evaluates the fd on modification). Not part of the stable API.
    #[cfg(unix)]
    #[doc(hidden)]
    pub fn set_driver_interest(&self, interest: Interest) -> io::Result<()> {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&*self.io);
        self.io
            .registration()
            .reregister(&mut mio::unix::SourceFd(&fd), interest)
    }

    /// Vectored form of [`try_write`](Self::try_write).
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || self.write_vectored_raw(bufs))
    }

    /// Runs `f` if the socket is ready for `interest`; a `WouldBlock` from `f` clears that
    /// readiness. `f` must do the I/O itself (e.g. with a raw syscall) and must not block.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().try_io(interest, f)
    }

    /// Waits for `interest` and runs `f`, again and again until it returns something other
    /// than `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().async_io(interest, f).await
    }

    /// Receives data without removing it from the queue (`MSG_PEEK`).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.io.peek(buf))
            .await
    }

    /// Polls to peek at incoming data, filling `buf` without consuming it.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        let res = self.io.registration().poll_read_io(cx, || {
            // SAFETY: recv(MSG_PEEK) only writes into the buffer, never reads it, so handing
            // it the uninitialised tail is sound; `n` bytes are initialised afterwards.
            let unfilled = unsafe {
                &mut *(buf.unfilled_mut() as *mut [std::mem::MaybeUninit<u8>] as *mut [u8])
            };
            self.io.peek(unfilled)
        });
        match res {
            Poll::Ready(Ok(n)) => {
                // SAFETY: the kernel initialised the first `n` bytes of the unfilled part.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.set_nodelay(nodelay)
    }

    /// Gets `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.nodelay()
    }

    /// Sets `SO_LINGER` (whole seconds; `None` disables it).
    #[cfg(unix)]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        crate::net::sys::set_linger(std::os::fd::AsRawFd::as_raw_fd(&*self.io), dur)
    }

    /// Gets `SO_LINGER`.
    #[cfg(unix)]
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        crate::net::sys::linger(std::os::fd::AsRawFd::as_raw_fd(&*self.io))
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// Gets `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// Splits into borrowed halves usable concurrently (e.g. in `join!`), without allocation.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits into owned halves that can move to different tasks; see
    /// [`OwnedReadHalf::reunite`]. Dropping the write half shuts down the write direction.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    pub(crate) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        match self.io.shutdown(how) {
            // Shutting down an already reset connection is not an error worth surfacing twice.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    fn write_raw(&self, buf: &[u8]) -> io::Result<usize> {
        #[cfg(unix)]
        return crate::net::sys::send(std::os::fd::AsRawFd::as_raw_fd(&*self.io), buf);
        #[cfg(not(unix))]
        return std::io::Write::write(&mut &*self.io, buf);
    }

    fn write_vectored_raw(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        #[cfg(unix)]
        return crate::net::sys::send_vectored(std::os::fd::AsRawFd::as_raw_fd(&*self.io), bufs);
        #[cfg(not(unix))]
        return std::io::Write::write_vectored(&mut &*self.io, bufs);
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io.poll_read(cx, buf)
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .registration()
            .poll_write_io(cx, || self.write_raw(buf))
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .registration()
            .poll_write_io(cx, || self.write_vectored_raw(bufs))
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// Same as [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<Self> {
        TcpStream::from_std(stream)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// TCP has no user-space buffer in corio: flushing is a no-op.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write direction (the peer reads EOF); reading stays possible.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_std(Shutdown::Write))
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (*self.io).fmt(f)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&*self.io)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the descriptor stays open for as long as `self` (and so the borrow) lives.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(std::os::fd::AsRawFd::as_raw_fd(&*self.io)) }
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for TcpStream {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&*self.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for TcpStream {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&*self.io)
    }
}
