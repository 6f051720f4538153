//! Socket handles exposed to JS: TCP and Unix listeners, the stream handle both kinds of
//! stream share, UDP sockets, and the native copy operations.
//!
//! Each handle is a napi class holding a [`HandleCore`](crate::bridge::HandleCore) (ref state,
//! pending ops for `close()`) and an `Arc` of the socket that in-flight ops clone. `close()`
//! drops the handle's `Arc` and aborts its ops, so the socket closes as soon as the last
//! aborted future is dropped on the runtime.

pub(crate) mod addr;
pub(crate) mod conn;
pub(crate) mod copy;
pub(crate) mod handle;
#[cfg(unix)]
pub(crate) mod jspoll;
pub(crate) mod listener;
pub(crate) mod shared;
pub(crate) mod slots;
pub(crate) mod sockopt;
pub(crate) mod stream;
pub(crate) mod udp;
pub(crate) mod unix_listener;
