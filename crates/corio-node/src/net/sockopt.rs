//! The socket options the core has no method for (tokio has none either), through `socket2`,
//! which knows each platform's spelling: TCP keep-alive with an idle time (`TCP_KEEPIDLE` on
//! Linux, `TCP_KEEPALIVE` on macOS, `SIO_KEEPALIVE_VALS` on Windows), and `SO_REUSEPORT` for
//! the TCP listener and the UDP socket alike (refused where the platform has none).

use std::io;
use std::time::Duration;

use corio::net::TcpStream;
use socket2::{SockRef, Socket, TcpKeepalive};

/// Sets `SO_REUSEPORT` on a socket not bound yet when `on`; where the platform has no such
/// option (Windows), `on` is refused rather than binding a socket that does not share the port.
pub(crate) fn set_reuse_port(sock: &Socket, on: bool) -> io::Result<()> {
    if !on {
        return Ok(());
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    return sock.set_reuse_port(true);
    #[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
    {
        let _ = sock;
        Err(io::ErrorKind::Unsupported.into())
    }
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
