//! Thin, checked helpers over raw Node-API calls used on the hot path (promises, errors,
//! properties, typed arrays). napi-rs' typed wrappers are used for argument parsing and
//! classes; these exist where the binding needs exact control (no per-promise threadsafe
//! function, no hidden allocations).
//!
//! Every function here must be called on the JS thread of `env`, with values that belong to
//! that env and are alive in the current handle scope. Failures are swallowed into a fallback
//! value (null) because the callers are completion paths that cannot propagate errors.

use std::ptr;

use napi::sys;

/// Which JS error constructor to use.
#[derive(Clone, Copy)]
pub(crate) enum ErrorKind {
    Plain,
    Type,
    Range,
}

/// Creates a JS string (UTF-8).
pub(crate) unsafe fn string(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut v = ptr::null_mut();
    sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v);
    v
}

/// Creates an `Error` (`kind` chooses the constructor) with `code` set.
pub(crate) unsafe fn error_of(
    env: sys::napi_env,
    kind: ErrorKind,
    code: &str,
    msg: &str,
) -> sys::napi_value {
    let code_v = string(env, code);
    let msg_v = string(env, msg);
    let mut e = ptr::null_mut();
    match kind {
        ErrorKind::Plain => sys::napi_create_error(env, code_v, msg_v, &mut e),
        ErrorKind::Type => sys::napi_create_type_error(env, code_v, msg_v, &mut e),
        ErrorKind::Range => sys::napi_create_range_error(env, code_v, msg_v, &mut e),
    };
    e
}

/// Creates a plain `Error` with `code` set.
pub(crate) unsafe fn error(env: sys::napi_env, code: &str, msg: &str) -> sys::napi_value {
    error_of(env, ErrorKind::Plain, code, msg)
}

/// Throws an error built by [`error_of`].
pub(crate) unsafe fn throw(env: sys::napi_env, kind: ErrorKind, code: &str, msg: &str) {
    let e = error_of(env, kind, code, msg);
    if !e.is_null() {
        sys::napi_throw(env, e);
    }
}

pub(crate) unsafe fn set(env: sys::napi_env, obj: sys::napi_value, key: &str, v: sys::napi_value) {
    if obj.is_null() || v.is_null() {
        return;
    }
    let k = string(env, key);
    sys::napi_set_property(env, obj, k, v);
}

pub(crate) unsafe fn set_str(env: sys::napi_env, obj: sys::napi_value, key: &str, s: &str) {
    set(env, obj, key, string(env, s));
}

pub(crate) unsafe fn set_i32(env: sys::napi_env, obj: sys::napi_value, key: &str, n: i32) {
    let mut v = ptr::null_mut();
    sys::napi_create_int32(env, n, &mut v);
    set(env, obj, key, v);
}

pub(crate) unsafe fn number(env: sys::napi_env, n: f64) -> sys::napi_value {
    let mut v = ptr::null_mut();
    sys::napi_create_double(env, n, &mut v);
    v
}

pub(crate) unsafe fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut v = ptr::null_mut();
    sys::napi_get_undefined(env, &mut v);
    v
}

/// JS `null` (a read's end of stream).
pub(crate) unsafe fn null(env: sys::napi_env) -> sys::napi_value {
    let mut v = ptr::null_mut();
    sys::napi_get_null(env, &mut v);
    v
}

/// `[a, b]` as a JS array of numbers.
pub(crate) unsafe fn pair(env: sys::napi_env, a: f64, b: f64) -> sys::napi_value {
    let mut arr = ptr::null_mut();
    sys::napi_create_array_with_length(env, 2, &mut arr);
    sys::napi_set_element(env, arr, 0, number(env, a));
    sys::napi_set_element(env, arr, 1, number(env, b));
    arr
}

/// The bytes of a live `Uint8Array` (or `Buffer`): `Some((ptr, len))`, with `ptr` possibly null
/// when `len == 0`; `None` when `v` is not a `Uint8Array`/`Uint8ClampedArray`.
///
/// A detached array reports length 0 and a null pointer, so callers never write through a
/// stale pointer as long as they re-query right before every access on the JS thread.
pub(crate) unsafe fn u8_array(env: sys::napi_env, v: sys::napi_value) -> Option<(*mut u8, usize)> {
    let mut is_ta = false;
    if sys::napi_is_typedarray(env, v, &mut is_ta) != sys::Status::napi_ok || !is_ta {
        return None;
    }
    let mut ty = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut off = 0usize;
    if sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off)
        != sys::Status::napi_ok
    {
        return None;
    }
    if ty != sys::TypedarrayType::uint8_array && ty != sys::TypedarrayType::uint8_clamped_array {
        return None;
    }
    if data.is_null() {
        len = 0;
    }
    Some((data.cast(), len))
}
