//! The two stream options the core's `TcpStream` has no method for (tokio has none either):
//! a shutdown through a shared `&TcpStream` (the write side, or both ways for the idle
//! timeout), and keep-alive with an idle time, made directly
//! through libc on the stream's file descriptor.
//!
//! Everything else (reuseaddr, reuseport, backlog, nodelay) goes through `corio::net`. These two
//! are kept here, small, until the core grows an equivalent; they replace the socket2 crate,
//! which the binding needed only for them.

use std::io;
use std::os::fd::AsRawFd;

use corio::net::TcpStream;

fn cvt(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set_int(
    s: &TcpStream,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the fd is owned by `s`, alive for this call; `value` is a live c_int whose size
    // is passed as the option length.
    cvt(unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
}

fn shutdown(s: &TcpStream, how: libc::c_int) -> io::Result<()> {
    // SAFETY: the fd is owned by `s` and alive for this call; shutdown takes no pointers.
    cvt(unsafe { libc::shutdown(s.as_raw_fd(), how) })
}

/// Shuts the write side down (`SHUT_WR`): the peer reads end of stream, reading goes on.
pub(crate) fn shutdown_write(s: &TcpStream) -> io::Result<()> {
    shutdown(s, libc::SHUT_WR)
}

/// Shuts both ways down (`SHUT_RDWR`): the peer reads end of stream, and the kernel wakes
/// every op waiting on the socket.
pub(crate) fn shutdown_both(s: &TcpStream) -> io::Result<()> {
    shutdown(s, libc::SHUT_RDWR)
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
const KEEPIDLE: libc::c_int = libc::TCP_KEEPALIVE;
#[cfg(not(any(target_os = "macos", target_os = "ios")))]
const KEEPIDLE: libc::c_int = libc::TCP_KEEPIDLE;

/// `SO_KEEPALIVE` on or off; with `idle_ms > 0` also the idle time before the first probe
/// (whole seconds, at least 1, like Node's `setKeepAlive`).
pub(crate) fn set_keepalive(s: &TcpStream, on: bool, idle_ms: Option<f64>) -> io::Result<()> {
    set_int(s, libc::SOL_SOCKET, libc::SO_KEEPALIVE, on as libc::c_int)?;
    if let (true, Some(ms)) = (on, idle_ms) {
        if ms > 0.0 {
            let secs = ((ms / 1000.0) as libc::c_int).max(1);
            set_int(s, libc::IPPROTO_TCP, KEEPIDLE, secs)?;
        }
    }
    Ok(())
}
