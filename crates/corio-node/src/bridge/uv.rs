//! Minimal libuv FFI (unix only): just what a `uv_poll_t` watcher on a socket needs.
//!
//! The symbols are resolved against the Node binary when the addon is loaded, like the napi
//! symbols are (Node exports libuv's API for addons). Handles are allocated with
//! `uv_handle_size(UV_POLL)`, so nothing here assumes libuv's struct layouts.
//!
//! Constants checked against libuv's `include/uv.h` (v1.x, the series Node ships):
//! `UV_HANDLE_TYPE_MAP` numbers handle types from 1 in the order ASYNC, CHECK, FS_EVENT,
//! FS_POLL, HANDLE, IDLE, NAMED_PIPE, POLL, ... so `UV_POLL = 8`; `enum uv_poll_event` has
//! `UV_READABLE = 1, UV_WRITABLE = 2, UV_DISCONNECT = 4, UV_PRIORITIZED = 8`.

use std::ffi::{c_int, c_void};

/// `uv_loop_t` (opaque).
pub(crate) type UvLoop = c_void;
/// `uv_poll_t` / `uv_handle_t` (opaque).
pub(crate) type UvHandle = c_void;

/// `uv_handle_type::UV_POLL`.
pub(crate) const UV_POLL: c_int = 8;
/// `uv_poll_event::UV_READABLE`.
pub(crate) const UV_READABLE: c_int = 1;
/// `uv_poll_event::UV_DISCONNECT`.
pub(crate) const UV_DISCONNECT: c_int = 4;

/// `uv_poll_cb`.
pub(crate) type PollCb = unsafe extern "C" fn(handle: *mut UvHandle, status: c_int, events: c_int);
/// `uv_close_cb`.
pub(crate) type CloseCb = unsafe extern "C" fn(handle: *mut UvHandle);

extern "C" {
    pub(crate) fn uv_handle_size(kind: c_int) -> usize;
    pub(crate) fn uv_poll_init(lp: *mut UvLoop, handle: *mut UvHandle, fd: c_int) -> c_int;
    pub(crate) fn uv_poll_start(handle: *mut UvHandle, events: c_int, cb: PollCb) -> c_int;
    pub(crate) fn uv_poll_stop(handle: *mut UvHandle) -> c_int;
    pub(crate) fn uv_close(handle: *mut UvHandle, cb: Option<CloseCb>);
    pub(crate) fn uv_handle_set_data(handle: *mut UvHandle, data: *mut c_void);
    pub(crate) fn uv_handle_get_data(handle: *const UvHandle) -> *mut c_void;
    pub(crate) fn uv_unref(handle: *mut UvHandle);
}
