//! Error mapping between Rust and JavaScript.
//!
//! Two kinds of errors cross the boundary:
//! - argument errors, thrown synchronously as `TypeError`/`RangeError` whose message names the
//!   argument and whose `code` is Node's (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`);
//! - operation failures ([`OpError`]), which reject the operation's promise with an `Error`
//!   shaped like Node's: `code` (ECONNREFUSED, ...), `errno` (negative, like libuv), `syscall`,
//!   and `address`/`port` where they apply.

use std::io;

use napi::sys;

use crate::js;

/// Why an operation failed; converted to a JS `Error` on the JS thread at completion.
#[derive(Debug)]
pub(crate) enum OpError {
    /// An OS-level failure of `syscall`, optionally about a remote/local endpoint.
    Io {
        err: io::Error,
        syscall: &'static str,
        /// The address (host, or a Unix socket's path) and port (none for a path).
        endpoint: Option<(String, Option<u16>)>,
    },
    /// Host name resolution failed (`ENOTFOUND`, syscall `getaddrinfo`).
    NotFound { host: String, detail: String },
    /// The handle was closed before or while the operation ran.
    Closed,
    /// The operation was cancelled through `cancel(opId)`.
    Aborted,
    /// The native future panicked; the payload's message.
    Panic(String),
    /// The runtime dropped the future without a cancel or close from JS (runtime shutdown).
    Dropped,
    /// A failure inside the binding itself (e.g. creating the JS object for a result).
    Internal(String),
    /// The JS buffer of a read was detached or shrunk while the read was in flight.
    BufferGone { needed: usize, available: usize },
}

impl OpError {
    pub(crate) fn io(err: io::Error, syscall: &'static str) -> OpError {
        OpError::Io {
            err,
            syscall,
            endpoint: None,
        }
    }
    pub(crate) fn io_at(err: io::Error, syscall: &'static str, host: &str, port: u16) -> OpError {
        OpError::Io {
            err,
            syscall,
            endpoint: Some((host.to_owned(), Some(port))),
        }
    }
    /// An OS failure about a Unix socket path (`address` is the path; no `port`).
    pub(crate) fn io_path(err: io::Error, syscall: &'static str, path: &str) -> OpError {
        OpError::Io {
            err,
            syscall,
            endpoint: Some((path.to_owned(), None)),
        }
    }
}

/// Node's error code name and libuv-style (negative) errno for an `io::Error`.
///
/// On Windows both come from libuv's translation of WinSock/Win32 numbers
/// ([`crate::windows_errors`]), as Node reports them there.
pub(crate) fn code_of(err: &io::Error) -> (&'static str, i32) {
    #[cfg(unix)]
    if let Some(raw) = err.raw_os_error() {
        if let Some(name) = unix_errno_name(raw) {
            return (name, -raw);
        }
    }
    #[cfg(windows)]
    if let Some(found) = err
        .raw_os_error()
        .and_then(crate::windows_errors::translate)
    {
        return found;
    }
    use io::ErrorKind as K;
    let name = match err.kind() {
        K::ConnectionRefused => "ECONNREFUSED",
        K::AddrInUse => "EADDRINUSE",
        K::ConnectionReset => "ECONNRESET",
        K::BrokenPipe => "EPIPE",
        K::TimedOut => "ETIMEDOUT",
        K::InvalidInput => "EINVAL",
        K::AddrNotAvailable => "EADDRNOTAVAIL",
        K::ConnectionAborted => "ECONNABORTED",
        K::NotConnected => "ENOTCONN",
        K::PermissionDenied => "EACCES",
        K::HostUnreachable => "EHOSTUNREACH",
        K::NetworkUnreachable => "ENETUNREACH",
        K::WouldBlock => "EAGAIN",
        K::Interrupted => "EINTR",
        K::OutOfMemory => "ENOMEM",
        K::Unsupported => "ENOTSUP",
        _ => "EIO",
    };
    #[cfg(windows)]
    let errno = crate::windows_errors::uv_errno(name);
    #[cfg(not(windows))]
    let errno = err.raw_os_error().map(|e| -e).unwrap_or(0);
    (name, errno)
}

#[cfg(unix)]
fn unix_errno_name(raw: i32) -> Option<&'static str> {
    Some(match raw {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ECONNRESET => "ECONNRESET",
        libc::EPIPE => "EPIPE",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EINVAL => "EINVAL",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ENOTCONN => "ENOTCONN",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOBUFS => "ENOBUFS",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EDESTADDRREQ => "EDESTADDRREQ",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EAGAIN => "EAGAIN",
        libc::EINTR => "EINTR",
        libc::ENOMEM => "ENOMEM",
        libc::ENODEV => "ENODEV",
        libc::ENOTSUP => "ENOTSUP",
        libc::EISCONN => "EISCONN",
        libc::EALREADY => "EALREADY",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EBADF => "EBADF",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EPROTOTYPE => "EPROTOTYPE",
        libc::ENETDOWN => "ENETDOWN",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::ESHUTDOWN => "ESHUTDOWN",
        libc::ENOENT => "ENOENT",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::EROFS => "EROFS",
        libc::ENOSPC => "ENOSPC",
        libc::ENXIO => "ENXIO",
        libc::ENOSYS => "ENOSYS",
        libc::EPROTO => "EPROTO",
        _ => return None,
    })
}

/// Builds the JS `Error` for a failed operation. Never fails: on an internal napi failure it
/// returns whatever value could be created (possibly `undefined`).
pub(crate) unsafe fn op_error_to_js(env: sys::napi_env, err: &OpError) -> sys::napi_value {
    match err {
        OpError::Io {
            err,
            syscall,
            endpoint,
        } => {
            let (code, errno) = code_of(err);
            let msg = match endpoint {
                Some((host, Some(port))) => {
                    format!("{syscall} {code} {}", fmt_endpoint(host, *port))
                }
                Some((path, None)) => format!("{syscall} {code} {path}"),
                None => format!("{syscall} {code}: {err}"),
            };
            let e = js::error(env, code, &msg);
            js::set_i32(env, e, "errno", errno);
            js::set_str(env, e, "syscall", syscall);
            if let Some((host, port)) = endpoint {
                js::set_str(env, e, "address", host);
                if let Some(port) = port {
                    js::set_i32(env, e, "port", *port as i32);
                }
            }
            e
        }
        OpError::NotFound { host, detail } => {
            let e = js::error(
                env,
                "ENOTFOUND",
                &format!("getaddrinfo ENOTFOUND {host} ({detail})"),
            );
            js::set_str(env, e, "syscall", "getaddrinfo");
            js::set_str(env, e, "hostname", host);
            e
        }
        OpError::Closed => js::error(env, "ERR_SOCKET_CLOSED", "Socket is closed"),
        OpError::Aborted => {
            let e = js::error(env, "ABORT_ERR", "The operation was aborted");
            js::set_str(env, e, "name", "AbortError");
            e
        }
        OpError::Panic(msg) => js::error(
            env,
            "ERR_NATIVE_PANIC",
            &format!("corio native panic: {msg}"),
        ),
        OpError::Dropped => js::error(
            env,
            "ERR_NATIVE_CANCELLED",
            "the corio runtime dropped the operation before it completed",
        ),
        OpError::Internal(msg) => {
            js::error(env, "ERR_INTERNAL", &format!("corio internal error: {msg}"))
        }
        OpError::BufferGone { needed, available } => js::error(
            env,
            "ERR_INVALID_STATE",
            &format!(
                "the read buffer was detached or shrunk while the read was pending \
                 ({needed} bytes read, {available} bytes available); the data is lost"
            ),
        ),
    }
}

fn fmt_endpoint(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The `napi::Error` returned after an exception was thrown by hand (napi-rs does not rethrow).
pub(crate) fn pending() -> napi::Error {
    napi::Error::from_status(napi::Status::PendingException)
}

/// Throws `TypeError [ERR_INVALID_ARG_TYPE]: The "<name>" argument must be <expected>`.
pub(crate) fn type_error(env: sys::napi_env, name: &str, expected: &str) -> napi::Error {
    let msg = format!("The \"{name}\" argument must be {expected}");
    // SAFETY: `env` is the live env of the current call; strings are valid for the call.
    unsafe { js::throw(env, js::ErrorKind::Type, "ERR_INVALID_ARG_TYPE", &msg) };
    pending()
}

/// Throws `RangeError [ERR_OUT_OF_RANGE]: The value of "<name>" is out of range. It must be ...`.
pub(crate) fn range_error(env: sys::napi_env, name: &str, expected: &str) -> napi::Error {
    let msg = format!("The value of \"{name}\" is out of range. It must be {expected}");
    // SAFETY: as in `type_error`.
    unsafe { js::throw(env, js::ErrorKind::Range, "ERR_OUT_OF_RANGE", &msg) };
    pending()
}

/// Throws `TypeError [ERR_INVALID_ARG_VALUE]: The argument '<name>' <reason>. Received <shown>`.
pub(crate) fn invalid_arg_value(
    env: sys::napi_env,
    name: &str,
    reason: &str,
    shown: &str,
) -> napi::Error {
    let msg = format!("The argument '{name}' {reason}. Received {shown}");
    // SAFETY: as in `type_error`.
    unsafe { js::throw(env, js::ErrorKind::Type, "ERR_INVALID_ARG_VALUE", &msg) };
    pending()
}

/// Throws a plain `Error` with a `code`.
pub(crate) fn plain_error(env: sys::napi_env, code: &str, msg: &str) -> napi::Error {
    // SAFETY: as in `type_error`.
    unsafe { js::throw(env, js::ErrorKind::Plain, code, msg) };
    pending()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_node_codes() {
        assert_eq!(
            code_of(&io::Error::from(io::ErrorKind::ConnectionRefused)).0,
            "ECONNREFUSED"
        );
        assert_eq!(
            code_of(&io::Error::from(io::ErrorKind::AddrInUse)).0,
            "EADDRINUSE"
        );
        assert_eq!(
            code_of(&io::Error::from(io::ErrorKind::BrokenPipe)).0,
            "EPIPE"
        );
        #[cfg(target_os = "linux")]
        {
            assert_eq!(
                code_of(&io::Error::from_raw_os_error(104)),
                ("ECONNRESET", -104)
            );
            assert_eq!(
                code_of(&io::Error::from_raw_os_error(110)),
                ("ETIMEDOUT", -110)
            );
        }
    }

    #[test]
    fn ipv6_endpoints_are_bracketed_in_messages() {
        assert_eq!(fmt_endpoint("::1", 80), "[::1]:80");
        assert_eq!(fmt_endpoint("127.0.0.1", 80), "127.0.0.1:80");
    }
}
