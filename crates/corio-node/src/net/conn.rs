//! `NetStream`: the connected socket behind a stream handle — a TCP stream or (unix) a Unix
//! domain stream socket.
//!
//! Why one type: every stream handle shares the same machinery (direction locks, the JS-thread
//! fast path, JS-loop reads, native `copy`, idle timeouts, the slot table), none of which
//! cares which kind of socket it drives. This enum gives that machinery the few socket
//! operations it needs, forwarded to the core's `TcpStream` or `UnixStream`, so the binding
//! has one stream class and a TCP↔Unix `copy` is an ordinary copy. What only TCP has
//! (`TCP_NODELAY`, keep-alive, IP addresses) is reached through [`NetStream::as_tcp`];
//! what only Unix sockets have (paths) through [`NetStream::path`].

use std::io;
use std::net::Shutdown;
use std::task::{Context, Poll};

use corio::net::TcpStream;
#[cfg(unix)]
use corio::net::UnixStream;
use socket2::SockRef;

/// A connected stream socket of either kind.
pub(crate) enum NetStream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

/// Runs `$body` with `$s` bound to the inner socket, whichever kind it is.
macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            NetStream::Tcp($s) => $body,
            #[cfg(unix)]
            NetStream::Unix($s) => $body,
        }
    };
}

impl NetStream {
    /// The TCP stream, or `None` for a Unix socket (TCP-only options).
    pub(crate) fn as_tcp(&self) -> Option<&TcpStream> {
        match self {
            NetStream::Tcp(s) => Some(s),
            #[cfg(unix)]
            NetStream::Unix(_) => None,
        }
    }

    /// The local (`peer = false`) or peer path of a Unix socket: `Some("")` when unnamed,
    /// `None` for a TCP stream.
    pub(crate) fn path(&self, peer: bool) -> Option<io::Result<String>> {
        #[cfg(not(unix))]
        let _ = peer;
        match self {
            NetStream::Tcp(_) => None,
            #[cfg(unix)]
            NetStream::Unix(s) => {
                let a = if peer { s.peer_addr() } else { s.local_addr() };
                Some(a.map(|a| {
                    a.as_pathname()
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default()
                }))
            }
        }
    }

    /// Waits until the socket is readable.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        each!(self, s => s.readable().await)
    }

    /// Waits until the socket is writable.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        each!(self, s => s.writable().await)
    }

    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_read_ready(cx))
    }

    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_write_ready(cx))
    }

    /// The core's `try_read` (short-read aware: a short read clears the cached readiness).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        each!(self, s => s.try_read(buf))
    }

    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        each!(self, s => s.try_write(data))
    }

    /// Returns and clears the pending socket error (`SO_ERROR`).
    #[cfg_attr(not(unix), allow(dead_code))] // only JS-loop reads (unix) ask
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        each!(self, s => s.take_error())
    }

    /// Which readiness the runtime's I/O driver watches the socket for (see `shared.rs`).
    #[cfg(unix)]
    pub(crate) fn set_driver_interest(&self, interest: corio::io::Interest) -> io::Result<()> {
        each!(self, s => s.set_driver_interest(interest))
    }

    /// `shutdown(2)` through a shared reference.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        each!(self, s => SockRef::from(s).shutdown(how))
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for NetStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        each!(self, s => s.as_raw_fd())
    }
}
