//! The two stream options the core's streams have no method for (tokio has none either):
//! a shutdown through a shared reference (the write side, or both ways for the idle
//! timeout; TCP and Unix streams alike), and TCP keep-alive with an idle time.
//!
//! Both go through `socket2` on the stream's borrowed socket, which knows each platform's
//! spelling (`TCP_KEEPIDLE` on Linux, `TCP_KEEPALIVE` on macOS, `SIO_KEEPALIVE_VALS` on
//! Windows). Everything else (reuseaddr, reuseport, backlog, nodelay) goes through
//! `corio::net` or the listener's own socket setup.

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use corio::net::TcpStream;
use socket2::{SockRef, TcpKeepalive};

use super::conn::NetStream;

/// Shuts the write side down (`SHUT_WR`): the peer reads end of stream, reading goes on.
pub(crate) fn shutdown_write(s: &NetStream) -> io::Result<()> {
    s.shutdown(Shutdown::Write)
}

/// Shuts both ways down (`SHUT_RDWR`): the peer reads end of stream, and the kernel wakes
/// every op waiting on the socket.
pub(crate) fn shutdown_both(s: &NetStream) -> io::Result<()> {
    s.shutdown(Shutdown::Both)
}

/// `SO_KEEPALIVE` on or off; with `idle_ms > 0` also the idle time before the first probe
/// (whole seconds, at least 1, like Node's `setKeepAlive`).
pub(crate) fn set_keepalive(s: &TcpStream, on: bool, idle_ms: Option<f64>) -> io::Result<()> {
    let sock = SockRef::from(s);
    sock.set_keepalive(on)?;
    if let (true, Some(ms)) = (on, idle_ms) {
        if ms > 0.0 {
            let secs = ((ms / 1000.0) as u64).max(1);
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(Duration::from_secs(secs)))?;
        }
    }
    Ok(())
}
