//! Argument validation at the native boundary.
//!
//! The TS layer validates too, but the binding is callable directly (`require('corio/index.js')`)
//! and must never crash or misbehave on bad input: every argument is read from its raw
//! `napi_value` here, and a wrong type or range throws `TypeError`/`RangeError` naming it.

use std::ptr;

use napi::{sys, JsValue, Unknown};

use crate::errors::{range_error, type_error};
use crate::js;

/// Largest integer a JS number holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

pub(crate) fn raw(v: &Unknown<'_>) -> sys::napi_value {
    v.value().value
}

fn type_of(env: sys::napi_env, v: sys::napi_value) -> sys::napi_valuetype {
    let mut t = 0;
    // SAFETY: JS thread; `v` is a live argument of the current call.
    unsafe { sys::napi_typeof(env, v, &mut t) };
    t
}

fn is_nullish(env: sys::napi_env, v: sys::napi_value) -> bool {
    v.is_null()
        || matches!(
            type_of(env, v),
            sys::ValueType::napi_undefined | sys::ValueType::napi_null
        )
}

/// An integer in `min..=max` read from a raw value. The error text is formatted only when the
/// value is wrong: this runs on every I/O call (`opId`), where an allocation and two float
/// formattings per call showed up in the echo profile (docs/benchmarks.md).
fn int_value(
    env: sys::napi_env,
    v: sys::napi_value,
    name: &str,
    min: f64,
    max: f64,
) -> napi::Result<f64> {
    match int_fast(env, v, min, max) {
        Some(n) => Ok(n),
        None => Err(int_error(env, v, name, min, max)),
    }
}

/// The common case in one napi call: `Some` when `v` is a number that is an integer in
/// `min..=max`. A non-number (or a null handle) makes napi_get_value_double fail without
/// touching `n`, which stays NaN and fails the check.
fn int_fast(env: sys::napi_env, v: sys::napi_value, min: f64, max: f64) -> Option<f64> {
    let mut n = f64::NAN;
    // SAFETY: JS thread of `env`; `n` is a valid out-pointer.
    unsafe { sys::napi_get_value_double(env, v, &mut n) };
    (n.fract() == 0.0 && n >= min && n <= max).then_some(n)
}

/// Why [`int_fast`] refused `v`: a `TypeError` for a non-number, else (NaN, a fraction, out
/// of range) a `RangeError`.
fn int_error(
    env: sys::napi_env,
    v: sys::napi_value,
    name: &str,
    min: f64,
    max: f64,
) -> napi::Error {
    if v.is_null() || type_of(env, v) != sys::ValueType::napi_number {
        return type_error(env, name, "of type number");
    }
    range_error(env, name, &format!("an integer >= {min} and <= {max}"))
}

/// An integer in `min..=max`.
pub(crate) fn int_in(
    env: sys::napi_env,
    v: &Unknown<'_>,
    name: &str,
    min: f64,
    max: f64,
) -> napi::Result<f64> {
    int_value(env, raw(v), name, min, max)
}

/// An optional integer (`undefined`/`null` → `None`).
pub(crate) fn opt_int_in(
    env: sys::napi_env,
    v: &Unknown<'_>,
    name: &str,
    min: f64,
    max: f64,
) -> napi::Result<Option<f64>> {
    prop_int(env, raw(v), name, min, max)
}

/// An op id: a non-negative safe integer, `undefined`/`null` = 0 (not cancellable).
pub(crate) fn op_id(env: sys::napi_env, v: &Unknown<'_>) -> napi::Result<u64> {
    Ok(opt_int_in(env, v, "opId", 0.0, MAX_SAFE_INTEGER)?.unwrap_or(0.0) as u64)
}

/// A TCP port, 0..=65535.
pub(crate) fn port(env: sys::napi_env, v: &Unknown<'_>) -> napi::Result<u16> {
    Ok(int_in(env, v, "port", 0.0, 65535.0)? as u16)
}

pub(crate) fn boolean(env: sys::napi_env, v: sys::napi_value, name: &str) -> napi::Result<bool> {
    if v.is_null() || type_of(env, v) != sys::ValueType::napi_boolean {
        return Err(type_error(env, name, "of type boolean"));
    }
    let mut b = false;
    // SAFETY: `v` is a boolean.
    unsafe { sys::napi_get_value_bool(env, v, &mut b) };
    Ok(b)
}

/// An optional boolean (`undefined`/`null` → `None`).
pub(crate) fn opt_boolean(
    env: sys::napi_env,
    v: sys::napi_value,
    name: &str,
) -> napi::Result<Option<bool>> {
    if is_nullish(env, v) {
        return Ok(None);
    }
    boolean(env, v, name).map(Some)
}

/// A string (UTF-8), at most `max` bytes.
pub(crate) fn string(
    env: sys::napi_env,
    v: &Unknown<'_>,
    name: &str,
    max: usize,
) -> napi::Result<String> {
    let v = raw(v);
    if v.is_null() || type_of(env, v) != sys::ValueType::napi_string {
        return Err(type_error(env, name, "of type string"));
    }
    let mut len = 0usize;
    // SAFETY: `v` is a string; first call queries the length.
    unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) };
    if len > max {
        return Err(range_error(
            env,
            name,
            &format!("a string of at most {max} bytes"),
        ));
    }
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` has room for `len` bytes plus the terminating NUL napi writes.
    unsafe {
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut written)
    };
    buf.truncate(written);
    String::from_utf8(buf).map_err(|_| type_error(env, name, "a valid string"))
}

/// A `Uint8Array` (or `Buffer`): its bytes, valid only until JS runs again.
pub(crate) fn bytes<'a>(env: sys::napi_env, v: &Unknown<'_>, name: &str) -> napi::Result<&'a [u8]> {
    // SAFETY: JS thread; `v` is a live argument.
    match unsafe { js::u8_array(env, raw(v)) } {
        Some((_, 0)) => Ok(&[]),
        // SAFETY: `p` points to `len` bytes of the live typed array; the caller copies them
        // before returning to JS (the borrow never crosses an await or a JS call).
        Some((p, len)) => Ok(unsafe { std::slice::from_raw_parts(p, len) }),
        None => Err(type_error(env, name, "an instance of Uint8Array")),
    }
}

/// A `Uint8Array`: its data pointer and length, valid only until JS runs again (`ptr` is
/// non-null whenever `len > 0`).
pub(crate) fn u8_array(
    env: sys::napi_env,
    v: &Unknown<'_>,
    name: &str,
) -> napi::Result<(*mut u8, usize)> {
    // SAFETY: JS thread; `v` is a live argument.
    unsafe { js::u8_array(env, raw(v)) }
        .ok_or_else(|| type_error(env, name, "an instance of Uint8Array"))
}

/// A strong reference to `v` (deleted when the op that holds it settles, or by the env at teardown).
pub(crate) fn new_ref(env: sys::napi_env, v: &Unknown<'_>) -> napi::Result<sys::napi_ref> {
    let mut r = ptr::null_mut();
    // SAFETY: JS thread; `v` is a live argument.
    if unsafe { sys::napi_create_reference(env, raw(v), 1, &mut r) } != sys::Status::napi_ok {
        return Err(napi::Error::from_reason(
            "corio: napi_create_reference failed",
        ));
    }
    Ok(r)
}

/// An optional plain object's property (`undefined` if absent or not an object).
pub(crate) fn prop(
    env: sys::napi_env,
    obj: &Unknown<'_>,
    name: &str,
    key: &str,
) -> napi::Result<sys::napi_value> {
    let o = raw(obj);
    if is_nullish(env, o) {
        // SAFETY: JS thread.
        return Ok(unsafe { js::undefined(env) });
    }
    if type_of(env, o) != sys::ValueType::napi_object {
        return Err(type_error(env, name, "of type object"));
    }
    let mut v = ptr::null_mut();
    // SAFETY: `o` is an object; key is a fresh string.
    unsafe {
        let k = js::string(env, key);
        sys::napi_get_property(env, o, k, &mut v);
    }
    if v.is_null() {
        return Err(crate::errors::pending());
    }
    Ok(v)
}

/// Reads a number property as an optional integer in range.
pub(crate) fn prop_int(
    env: sys::napi_env,
    v: sys::napi_value,
    name: &str,
    min: f64,
    max: f64,
) -> napi::Result<Option<f64>> {
    // The fast path first: `opId` takes this path on every I/O call, always with a number.
    if let Some(n) = int_fast(env, v, min, max) {
        return Ok(Some(n));
    }
    if is_nullish(env, v) {
        return Ok(None);
    }
    Err(int_error(env, v, name, min, max))
}
