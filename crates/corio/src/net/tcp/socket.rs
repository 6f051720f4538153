//! `TcpSocket`: a TCP socket configured before it becomes a listener or a stream (options
//! such as `SO_REUSEPORT` or buffer sizes must be set before `bind`/`connect`). Built on
//! plain libc calls (see `net::sys`), so corio needs no socket2 dependency.

use crate::net::sys;
use crate::net::{TcpListener, TcpStream};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A TCP socket that has not yet been turned into a [`TcpStream`] or [`TcpListener`].
#[derive(Debug)]
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// Creates an IPv4 TCP socket (non-blocking, close-on-exec).
    pub fn new_v4() -> io::Result<TcpSocket> {
        sys::socket(libc::AF_INET, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    /// Creates an IPv6 TCP socket (non-blocking, close-on-exec).
    pub fn new_v6() -> io::Result<TcpSocket> {
        sys::socket(libc::AF_INET6, libc::SOCK_STREAM).map(|fd| TcpSocket { fd })
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sets `SO_REUSEADDR`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        sys::set_bool(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEADDR, reuseaddr)
    }

    /// Gets `SO_REUSEADDR`.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        sys::get_bool(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    /// Sets `SO_REUSEPORT`.
    #[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        sys::set_bool(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEPORT, reuseport)
    }

    /// Gets `SO_REUSEPORT`.
    #[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
    pub fn reuseport(&self) -> io::Result<bool> {
        sys::get_bool(self.raw(), libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    /// Sets `SO_SNDBUF` (the OS may round or double the value).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        let size = size.min(libc::c_int::MAX as u32) as libc::c_int;
        sys::setsockopt(self.raw(), libc::SOL_SOCKET, libc::SO_SNDBUF, size)
    }

    /// Gets `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        sys::getsockopt::<libc::c_int>(self.raw(), libc::SOL_SOCKET, libc::SO_SNDBUF)
            .map(|v| v.max(0) as u32)
    }

    /// Sets `SO_RCVBUF` (the OS may round or double the value).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        let size = size.min(libc::c_int::MAX as u32) as libc::c_int;
        sys::setsockopt(self.raw(), libc::SOL_SOCKET, libc::SO_RCVBUF, size)
    }

    /// Gets `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        sys::getsockopt::<libc::c_int>(self.raw(), libc::SOL_SOCKET, libc::SO_RCVBUF)
            .map(|v| v.max(0) as u32)
    }

    /// Sets `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        sys::set_bool(self.raw(), libc::SOL_SOCKET, libc::SO_KEEPALIVE, keepalive)
    }

    /// Gets `SO_KEEPALIVE`.
    pub fn keepalive(&self) -> io::Result<bool> {
        sys::get_bool(self.raw(), libc::SOL_SOCKET, libc::SO_KEEPALIVE)
    }

    /// Sets `TCP_NODELAY`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        sys::set_bool(self.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY, nodelay)
    }

    /// Gets `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        sys::get_bool(self.raw(), libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    /// Sets `SO_LINGER` (whole seconds; `None` disables it).
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        sys::set_linger(self.raw(), dur)
    }

    /// Gets `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sys::linger(self.raw())
    }

    /// The local address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sys::local_addr(self.raw())
    }

    /// Returns and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let err: libc::c_int = sys::getsockopt(self.raw(), libc::SOL_SOCKET, libc::SO_ERROR)?;
        Ok((err != 0).then(|| io::Error::from_raw_os_error(err)))
    }

    /// Binds the socket to `addr`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        sys::bind(self.raw(), &addr)
    }

    /// Connects to `addr` and waits for the handshake, consuming the socket.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        sys::connect(self.raw(), &addr)?;
        let std = std::net::TcpStream::from(self.fd);
        let stream = TcpStream::new(mio::net::TcpStream::from_std(std))?;
        stream.wait_connected().await?;
        Ok(stream)
    }

    /// Starts listening with the given backlog, consuming the socket.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        sys::listen(self.raw(), backlog)?;
        let std = std::net::TcpListener::from(self.fd);
        TcpListener::new(mio::net::TcpListener::from_std(std))
    }

    /// Turns a std stream into a `TcpSocket` (to read or change its options); the socket is
    /// switched to non-blocking mode.
    pub fn from_std_stream(std_stream: std::net::TcpStream) -> TcpSocket {
        let _ = std_stream.set_nonblocking(true);
        TcpSocket {
            fd: OwnedFd::from(std_stream),
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    /// `fd` must be an open TCP socket that the caller owns and hands over.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: forwarded to the caller's contract above.
        TcpSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }
}
