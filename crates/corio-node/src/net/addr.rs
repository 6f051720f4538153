//! Address resolution, off the JS thread.

use std::net::{IpAddr, SocketAddr};

use crate::errors::OpError;

/// Parses an IP literal (bracketed IPv6 accepted).
pub(crate) fn ip_literal(host: &str) -> Option<IpAddr> {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// Resolves `host:port`: IP literals directly, names through the core's `lookup_host`
/// (getaddrinfo on a blocking thread). Runs inside an op future.
pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, OpError> {
    if let Some(ip) = ip_literal(host) {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match corio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let v: Vec<SocketAddr> = addrs.collect();
            if v.is_empty() {
                Err(OpError::NotFound {
                    host: host.to_owned(),
                    detail: "no addresses".to_owned(),
                })
            } else {
                Ok(v)
            }
        }
        // A lookup cancelled by a runtime shutdown is not a failed lookup.
        Err(e) if corio::io::is_runtime_shutdown(&e) => Err(OpError::io(e, "getaddrinfo")),
        Err(e) => Err(OpError::NotFound {
            host: host.to_owned(),
            detail: e.to_string(),
        }),
    }
}
