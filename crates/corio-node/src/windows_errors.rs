//! Windows error numbers as Node reports them.
//!
//! On Windows a socket call fails with a WinSock (`WSAE*`) or Win32 (`ERROR_*`) number, not an
//! errno value. libuv translates those into its own names and negative numbers
//! (`uv_translate_sys_error`; on Windows the numbers are -4095 ..= -4022), and Node's errors
//! carry the result: `code: 'ECONNREFUSED'`, `errno: -4078`. [`translate`] does the same for
//! the numbers socket calls produce, so an error from corio on Windows has the `code` and
//! `errno` node:net's would. A few WinSock numbers that libuv leaves as `UNKNOWN` get their
//! obvious name here instead (marked below).
//!
//! The table is plain data: it compiles on every platform so that its tests run everywhere;
//! only Windows builds call it.

#![cfg_attr(not(windows), allow(dead_code))]

/// Node's `code` and libuv's Windows `errno` for a WinSock or Win32 error number, or `None`
/// for a number outside the table.
pub(crate) fn translate(raw: i32) -> Option<(&'static str, i32)> {
    let name = match raw {
        // WSAEACCES, ERROR_ACCESS_DENIED
        10013 | 5 => "EACCES",
        // WSAEADDRINUSE, ERROR_ADDRESS_ALREADY_ASSOCIATED
        10048 | 1227 => "EADDRINUSE",
        10049 => "EADDRNOTAVAIL",
        10047 => "EAFNOSUPPORT",
        // WSAEWOULDBLOCK
        10035 => "EAGAIN",
        10037 => "EALREADY",
        // ERROR_INVALID_HANDLE
        6 => "EBADF",
        // ERROR_OPERATION_ABORTED, WSAEINTR (a blocking call cancelled by WSACancelBlockingCall)
        995 | 10004 => "ECANCELED",
        // WSAECONNABORTED, ERROR_CONNECTION_ABORTED
        10053 | 1236 => "ECONNABORTED",
        // WSAECONNREFUSED, ERROR_CONNECTION_REFUSED
        10061 | 1225 => "ECONNREFUSED",
        // WSAECONNRESET, ERROR_NETNAME_DELETED
        10054 | 64 => "ECONNRESET",
        // ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS
        183 | 80 => "EEXIST",
        10014 => "EFAULT",
        // WSAEHOSTUNREACH, ERROR_HOST_UNREACHABLE
        10065 | 1232 => "EHOSTUNREACH",
        // WSAEINVAL, WSAEPFNOSUPPORT, ERROR_INVALID_PARAMETER
        10022 | 10046 | 87 => "EINVAL",
        10056 => "EISCONN",
        // WSAEMFILE, ERROR_TOO_MANY_OPEN_FILES
        10024 | 4 => "EMFILE",
        10040 => "EMSGSIZE",
        // WSAENETUNREACH, ERROR_NETWORK_UNREACHABLE
        10051 | 1231 => "ENETUNREACH",
        10055 => "ENOBUFS",
        // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, WSAHOST_NOT_FOUND, WSANO_DATA
        2 | 3 | 11001 | 11004 => "ENOENT",
        // ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY
        8 | 14 => "ENOMEM",
        // WSAENOTCONN, ERROR_NOT_CONNECTED
        10057 | 2250 => "ENOTCONN",
        10038 => "ENOTSOCK",
        // ERROR_NOT_SUPPORTED
        50 => "ENOTSUP",
        // ERROR_BROKEN_PIPE
        109 => "EOF",
        // WSAESHUTDOWN, ERROR_NO_DATA, ERROR_PIPE_NOT_CONNECTED
        10058 | 232 | 233 => "EPIPE",
        10043 => "EPROTONOSUPPORT",
        10044 => "ESOCKTNOSUPPORT",
        // WSAETIMEDOUT, ERROR_SEM_TIMEOUT
        10060 | 121 => "ETIMEDOUT",
        // Not translated by libuv (Node says UNKNOWN); named here.
        10039 => "EDESTADDRREQ",
        10041 => "EPROTOTYPE",
        10042 => "ENOPROTOOPT",
        10045 => "ENOTSUP", // WSAEOPNOTSUPP
        10050 => "ENETDOWN",
        10052 => "ECONNRESET", // WSAENETRESET: the connection broke (keep-alive failure)
        10064 => "EHOSTDOWN",
        _ => return None,
    };
    Some((name, uv_errno(name)))
}

/// libuv's Windows `errno` for the error `code` `name` (its include/uv/errno.h values), or
/// `UNKNOWN`'s (-4094) for a name libuv does not define.
pub(crate) fn uv_errno(name: &str) -> i32 {
    match name {
        "EOF" => -4095,
        "EACCES" => -4092,
        "EADDRINUSE" => -4091,
        "EADDRNOTAVAIL" => -4090,
        "EAFNOSUPPORT" => -4089,
        "EAGAIN" => -4088,
        "EALREADY" => -4084,
        "EBADF" => -4083,
        "ECANCELED" => -4081,
        "ECONNABORTED" => -4079,
        "ECONNREFUSED" => -4078,
        "ECONNRESET" => -4077,
        "EDESTADDRREQ" => -4076,
        "EEXIST" => -4075,
        "EFAULT" => -4074,
        "EHOSTUNREACH" => -4073,
        "EINTR" => -4072,
        "EINVAL" => -4071,
        "EIO" => -4070,
        "EISCONN" => -4069,
        "EMFILE" => -4066,
        "EMSGSIZE" => -4065,
        "ENETDOWN" => -4063,
        "ENETUNREACH" => -4062,
        "ENOBUFS" => -4060,
        "ENOENT" => -4058,
        "ENOMEM" => -4057,
        "ENOTCONN" => -4053,
        "ENOTSOCK" => -4050,
        "ENOTSUP" => -4049,
        "EPERM" => -4048,
        "EPIPE" => -4047,
        "EPROTONOSUPPORT" => -4045,
        "EPROTOTYPE" => -4044,
        "ETIMEDOUT" => -4039,
        "ENOPROTOOPT" => -4035,
        "EHOSTDOWN" => -4031,
        "ESOCKTNOSUPPORT" => -4025,
        _ => -4094,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winsock_and_win32_numbers_get_nodes_code_and_errno() {
        // The values Node prints on Windows for the same failures.
        assert_eq!(translate(10061), Some(("ECONNREFUSED", -4078)));
        assert_eq!(translate(1225), Some(("ECONNREFUSED", -4078)));
        assert_eq!(translate(10048), Some(("EADDRINUSE", -4091)));
        assert_eq!(translate(10054), Some(("ECONNRESET", -4077)));
        assert_eq!(translate(10060), Some(("ETIMEDOUT", -4039)));
        assert_eq!(translate(10058), Some(("EPIPE", -4047)));
        assert_eq!(translate(10024), Some(("EMFILE", -4066)));
        assert_eq!(translate(10035), Some(("EAGAIN", -4088)));
        assert_eq!(translate(12345), None);
    }

    #[test]
    fn every_translated_name_has_a_libuv_number() {
        for raw in (0..12_000).filter_map(translate) {
            assert_ne!(raw.1, -4094, "{} has no libuv number", raw.0);
        }
    }
}
