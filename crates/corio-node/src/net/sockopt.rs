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
/// (whole seconds, at least 1) and, as libuv does for Node's `setKeepAlive`, probes 1 s apart,
/// 10 of them before the connection is dropped (Windows: the count stays the system's). The
/// interval must be set on Windows: `SIO_KEEPALIVE_VALS` takes both, and 0 there means probes
/// with no gap.
pub(crate) fn set_keepalive(s: &TcpStream, on: bool, idle_ms: Option<f64>) -> io::Result<()> {
    let sock = SockRef::from(s);
    sock.set_keepalive(on)?;
    if let (true, Some(ms)) = (on, idle_ms) {
        if ms > 0.0 {
            let secs = ((ms / 1000.0) as u64).max(1);
            let params = TcpKeepalive::new()
                .with_time(Duration::from_secs(secs))
                .with_interval(Duration::from_secs(1));
            #[cfg(not(windows))]
            let params = params.with_retries(10);
            sock.set_tcp_keepalive(&params)?;
        }
    }
    Ok(())
}
