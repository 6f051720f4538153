//! What every socket handle (listener, TCP stream, UDP socket) does the same way: `close()`,
//! `ref()`/`unref()`, the "closed" error of a synchronous call, and throwing a synchronous I/O
//! error shaped like an op rejection.
//!
//! The napi classes still each declare their own methods (napi-rs generates the JS class
//! from them), but the bodies live here once, so the handles cannot drift apart.
//!
//! Each handle object also carries a [`Live`] token, so `metrics().liveHandles` can show that
//! handles dropped without `close()` are really freed (napi-rs drops the Rust object in the
//! finalizer it runs when V8 collects the JS object).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use napi::{sys, Env};

use super::stream::NativeAddr;
use crate::bridge::{BridgeEnv, HandleCore};
use crate::errors::{self, OpError};

/// Set by a socket handle's `close()` (JS thread) before its pending ops are stopped. Stopping
/// the op that holds a direction lock (a stream's read/write lock, a UDP socket's send/receive
/// turn) releases it, and the next op in line would otherwise be woken, run on the runtime and
/// complete — a `shutdown` queued behind a waiting `writeAll` resolved after `close()` — before
/// `close()` got to stop it; so every op checks the mark once it holds its lock and has left
/// the JS thread, and fails with `ERR_SOCKET_CLOSED` if it is set.
#[derive(Default)]
pub(crate) struct ClosedMark(AtomicBool);

impl ClosedMark {
    /// Marks the handle closed (its `close()`, before the ops are stopped).
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the handle's `close()` was called.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Native socket handle objects (listeners, TCP streams, UDP sockets) alive in the process.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// One live native handle object: a field of every socket handle class, counted in
/// [`live_handles`] from the object's creation until it is dropped, which happens when V8
/// collects the JS object, not at `close()` (a closed handle still referenced is still live).
pub(crate) struct Live(());

impl Live {
    /// Counts a new handle object.
    pub(crate) fn new() -> Live {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Live(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The number of native socket handle objects alive in the process (all Node environments).
pub(crate) fn live_handles() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// `close()` of a handle: drops the handle's share of its socket (`slot`), then rejects the
/// handle's pending ops with ERR_SOCKET_CLOSED and stops them holding the loop. Idempotent.
pub(crate) fn close<T>(
    env: &Env,
    core: &HandleCore,
    slot: &RefCell<Option<T>>,
) -> napi::Result<()> {
    slot.borrow_mut().take();
    BridgeEnv::get(env.raw())?.close_handle(core);
    Ok(())
}

/// `ref()` (`on = true`) / `unref()` (`on = false`) of a handle.
pub(crate) fn set_ref(env: &Env, core: &HandleCore, on: bool) -> napi::Result<()> {
    BridgeEnv::get(env.raw())?.set_handle_ref(core, on);
    Ok(())
}

/// The error a synchronous call on a closed handle throws.
pub(crate) fn closed_error(env: &Env) -> napi::Error {
    errors::plain_error(env.raw(), "ERR_SOCKET_CLOSED", "Socket is closed")
}

/// Throws `err` as the JS error an op rejecting with it would give.
pub(crate) fn throw_op(env: &Env, err: OpError) -> napi::Error {
    // SAFETY: JS thread of the current call.
    unsafe {
        let v = errors::op_error_to_js(env.raw(), &err);
        sys::napi_throw(env.raw(), v);
    }
    errors::pending()
}

/// Throws a synchronous I/O error shaped like an op rejection.
pub(crate) fn sync_err(env: &Env, err: std::io::Error, syscall: &'static str) -> napi::Error {
    throw_op(env, OpError::io(err, syscall))
}

/// A socket address query (`getsockname`/`getpeername`) as JS sees it: the address, or the
/// error thrown.
pub(crate) fn addr(
    env: &Env,
    r: std::io::Result<SocketAddr>,
    syscall: &'static str,
) -> napi::Result<NativeAddr> {
    r.map(Into::into).map_err(|err| sync_err(env, err, syscall))
}
