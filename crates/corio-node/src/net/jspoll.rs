//! JS-loop reads (unix): a stream read that must wait for data is woken by the JS thread's own
//! libuv loop, through a `uv_poll_t` on the socket, instead of by a runtime worker.
//!
//! With the runtime path a request/response round trip costs two thread wake-ups (a runtime
//! worker woken by the readiness does the `recv`, then wakes the JS thread through the env's
//! threadsafe function). Here the poll callback runs on the JS thread: it does the `recv`
//! straight into the read's JS buffer, settles the read and closes its callback scope, which
//! runs the microtasks (the awaiting JS continues in the same loop turn).
//!
//! One [`ReadWatcher`] per stream, created on the first read that must wait, `uv_unref`'d (the
//! bridge's ref counting of pending ops keeps the loop alive). Its reads are FIFO: a read
//! started while JS-loop reads are pending queues behind them. While it has reads pending it
//! holds the stream's `read_lock`, so a native `copy` started meanwhile reads after them.
//! The poll is stopped when no read is pending (checked after the callback's microtasks, so a
//! request/response loop never stops and restarts it) and the handle closed on `close()`, on
//! the stream object's finalization (once no read is pending) and in env teardown (an async
//! cleanup hook, so Node runs the loop until the close callbacks ran). It holds the socket
//! open until it is closed, so the fd is never closed under an active poll.
//!
//! JS thread only: nothing here is `Send`, and every libuv call is made on the loop's thread.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::os::fd::AsRawFd;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use napi::sys;

use super::shared::StreamIo;
use crate::bridge::{uv, BridgeEnv, JsLoopReads, OpKey, Outcome};
use crate::errors::OpError;
use crate::js;

/// One pending JS-loop read.
struct JsRead {
    key: OpKey,
    max: usize,
    null_at_eof: bool,
}

/// The socket, and its `read_lock` while reads are pending.
struct Held {
    guard: Option<corio::sync::OwnedMutexGuard<()>>,
    io: Arc<StreamIo>,
}

/// The per-stream poll watcher.
pub(crate) struct ReadWatcher {
    env: sys::napi_env,
    /// The `uv_poll_t`; null once `uv_close` was called on it.
    handle: Cell<*mut uv::UvHandle>,
    /// `None` once closed.
    held: RefCell<Option<Held>>,
    reads: RefCell<VecDeque<JsRead>>,
    polling: Cell<bool>,
    /// Inside the poll callback (until after its microtasks): the poll is not stopped meanwhile.
    in_cb: Cell<bool>,
    /// The last `recv` of the callback was short (the kernel had no more bytes): the next read
    /// skips its synchronous attempt (the level-triggered poll reports any newer data).
    drained: Cell<bool>,
    /// The stream object was finalized: close once no read is pending.
    orphaned: Cell<bool>,
    /// For a read whose JS buffer shrank or was detached meanwhile (rare).
    scratch: RefCell<Vec<u8>>,
}

/// Per-env state (one env per thread).
struct LoopState {
    env: sys::napi_env,
    uv_loop: *mut uv::UvLoop,
    /// Resource object and async context of the poll callbacks' callback scopes.
    resource: sys::napi_ref,
    ctx: sys::napi_async_context,
    hook: sys::napi_async_cleanup_hook_handle,
    watchers: Vec<Weak<ReadWatcher>>,
    /// Handles initialized and not yet through their close callback.
    live_uv: usize,
    torn_down: bool,
}

thread_local! {
    static LOOP: RefCell<Option<LoopState>> = const { RefCell::new(None) };
}

/// The uv loop of `env`, setting up the per-env state on first use (JS thread, inside a JS
/// call). `None`: torn down, or a napi call failed (the caller keeps the runtime path).
fn loop_of(env: sys::napi_env) -> Option<*mut uv::UvLoop> {
    let existing = LOOP.with(|l| {
        l.borrow()
            .as_ref()
            .map(|s| (s.env == env, s.torn_down, s.uv_loop))
    });
    match existing {
        Some((true, false, lp)) => return Some(lp),
        Some((true, true, _)) => return None,
        Some((false, false, _)) => return None, // another live env on this thread: never in Node
        Some((false, true, _)) | None => {}
    }
    let mut lp: *mut sys::uv_loop_s = ptr::null_mut();
    let mut res = ptr::null_mut();
    let mut rref = ptr::null_mut();
    let mut ctx = ptr::null_mut();
    let mut hook = ptr::null_mut();
    // SAFETY: JS thread of `env`, inside a JS call (a handle scope is open); every out-pointer
    // is a valid local. The hook's `arg` is the env pointer, only compared, never dereferenced.
    unsafe {
        if sys::napi_get_uv_event_loop(env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
            return None;
        }
        if sys::napi_create_object(env, &mut res) != sys::Status::napi_ok
            || sys::napi_create_reference(env, res, 1, &mut rref) != sys::Status::napi_ok
        {
            return None;
        }
        let name = js::string(env, "corio:read");
        if sys::napi_async_init(env, res, name, &mut ctx) != sys::Status::napi_ok {
            sys::napi_delete_reference(env, rref);
            return None;
        }
        if sys::napi_add_async_cleanup_hook(env, Some(teardown_hook), env as *mut c_void, &mut hook)
            != sys::Status::napi_ok
        {
            sys::napi_async_destroy(env, ctx);
            sys::napi_delete_reference(env, rref);
            return None;
        }
    }
    LOOP.with(|l| {
        *l.borrow_mut() = Some(LoopState {
            env,
            uv_loop: lp.cast(),
            resource: rref,
            ctx,
            hook,
            watchers: Vec::new(),
            live_uv: 0,
            torn_down: false,
        })
    });
    Some(lp.cast())
}

impl ReadWatcher {
    /// A new watcher on `io`'s socket (JS thread of `env`, inside a JS call); `None` when the
    /// poll handle cannot be set up (the caller keeps the runtime path).
    pub(crate) fn new(env: sys::napi_env, io: &Arc<StreamIo>) -> Option<Rc<ReadWatcher>> {
        let lp = loop_of(env)?;
        let fd = io.stream.as_raw_fd();
        // SAFETY: `uv_handle_size` only reads a table. The allocation is zeroed, of the size
        // libuv reports for a `uv_poll_t`, and malloc's alignment suits any libuv struct. On
        // success `uv_poll_init` registers the handle with the loop, which now owns it until
        // its close callback (the only place it is freed); on failure the loop never saw it.
        let h = unsafe {
            let size = uv::uv_handle_size(uv::UV_POLL);
            let h = libc::calloc(1, size);
            if h.is_null() {
                return None;
            }
            if uv::uv_poll_init(lp, h, fd) != 0 {
                libc::free(h);
                return None;
            }
            uv::uv_unref(h);
            h
        };
        let w = Rc::new(ReadWatcher {
            env,
            handle: Cell::new(h),
            held: RefCell::new(Some(Held {
                guard: None,
                io: io.clone(),
            })),
            reads: RefCell::new(VecDeque::new()),
            polling: Cell::new(false),
            in_cb: Cell::new(false),
            drained: Cell::new(false),
            orphaned: Cell::new(false),
            scratch: RefCell::new(Vec::new()),
        });
        // SAFETY: `h` is the initialized handle above. Its data is one strong count of the
        // watcher, given back in `close_cb`.
        unsafe { uv::uv_handle_set_data(h, Rc::into_raw(w.clone()) as *mut c_void) };
        LOOP.with(|l| {
            if let Some(s) = l.borrow_mut().as_mut() {
                s.watchers.retain(|w| w.strong_count() > 0);
                s.watchers.push(Rc::downgrade(&w));
                s.live_uv += 1;
            }
        });
        Some(w)
    }

    /// Whether the handle was closed (the watcher is then of no more use).
    pub(crate) fn is_closed(&self) -> bool {
        self.handle.get().is_null()
    }

    /// Whether JS-loop reads are pending.
    pub(crate) fn has_reads(&self) -> bool {
        !self.reads.borrow().is_empty()
    }

    /// Whether the last callback drained the socket; clears the flag.
    pub(crate) fn take_drained(&self) -> bool {
        self.drained.replace(false)
    }

    /// A `recv` outside the callback was short: the next read may skip its attempt too.
    pub(crate) fn mark_drained(&self) {
        self.drained.set(true);
    }

    /// Takes the stream's `read_lock` for the JS-loop reads (kept until none is pending);
    /// `false` if a native op holds it (then the read takes the runtime path, behind it).
    pub(crate) fn acquire_lock(&self) -> bool {
        let mut held = self.held.borrow_mut();
        let Some(h) = held.as_mut() else { return false };
        if h.guard.is_some() {
            return true;
        }
        match h.io.read_lock.clone().try_lock_owned() {
            Ok(g) => {
                h.guard = Some(g);
                true
            }
            Err(_) => false,
        }
    }

    /// Starts polling for readability (no-op if polling already).
    pub(crate) fn ensure_polling(&self) -> bool {
        if self.polling.get() {
            return true;
        }
        let h = self.handle.get();
        if h.is_null() {
            return false;
        }
        // SAFETY: `h` is a live, initialized poll handle of this thread's loop (not closed:
        // `handle` is nulled when `uv_close` is called).
        let rc = unsafe { uv::uv_poll_start(h, uv::UV_READABLE | uv::UV_DISCONNECT, poll_cb) };
        self.polling.set(rc == 0);
        rc == 0
    }

    /// Queues a registered JS-loop read.
    pub(crate) fn push(&self, key: OpKey, max: usize, null_at_eof: bool) {
        self.reads.borrow_mut().push_back(JsRead {
            key,
            max,
            null_at_eof,
        });
    }

    /// With no read pending (and outside the callback): stops the poll, releases the
    /// `read_lock`, and closes the handle if the stream object is gone.
    pub(crate) fn settle_idle(&self) {
        if self.in_cb.get() || self.has_reads() {
            return;
        }
        self.stop_polling();
        if let Some(h) = self.held.borrow_mut().as_mut() {
            h.guard = None;
        }
        if self.orphaned.get() {
            self.close();
        }
    }

    /// Stops polling (no-op if not polling).
    fn stop_polling(&self) {
        if self.polling.replace(false) {
            let h = self.handle.get();
            if !h.is_null() {
                // SAFETY: live handle of this thread's loop (see `ensure_polling`).
                unsafe { uv::uv_poll_stop(h) };
            }
        }
    }

    /// Stops and closes the handle and lets the socket go; forgets pending reads (the caller
    /// settles them). Idempotent.
    pub(crate) fn close(&self) {
        let h = self.handle.replace(ptr::null_mut());
        if !h.is_null() {
            // SAFETY: live handle of this thread's loop, closed exactly once (`handle` was
            // nulled above). The fd is still open: `held` keeps the socket until after this.
            // Its memory and the data's strong count are released in `close_cb`.
            unsafe { uv::uv_close(h, Some(close_cb)) };
        }
        self.polling.set(false);
        self.reads.borrow_mut().clear();
        let held = self.held.borrow_mut().take();
        drop(held);
    }

    /// The stream object was finalized: close now, or once the pending reads are served.
    pub(crate) fn orphan(&self) {
        self.orphaned.set(true);
        self.settle_idle();
    }

    fn io(&self) -> Option<Arc<StreamIo>> {
        self.held.borrow().as_ref().map(|h| h.io.clone())
    }

    /// The poll callback's work (handle and callback scopes open): serves queued reads while
    /// the socket has data.
    fn serve(&self, bridge: &BridgeEnv, status: c_int) {
        // Closing forgets every queued read, so there is nothing to serve without the socket.
        let Some(io) = self.io() else { return };
        loop {
            let front = self
                .reads
                .borrow()
                .front()
                .map(|r| (r.key, r.max, r.null_at_eof));
            let Some((key, max, null_at_eof)) = front else {
                break;
            };
            if crate::runtime::is_shut_down() {
                // Like the runtime's ops whose futures it dropped: ERR_RUNTIME_SHUTDOWN.
                self.reads.borrow_mut().pop_front();
                // SAFETY: JS thread of the live env; the callback opened a handle scope.
                unsafe { bridge.settle_js_read(key, Err(OpError::Dropped), None) };
                continue;
            }
            // SAFETY: JS thread of the live env; the callback opened a handle scope.
            let Some(avail) = (unsafe { bridge.read_dst(key) }) else {
                self.reads.borrow_mut().pop_front(); // no longer pending
                continue;
            };
            let mut scratch = self.scratch.borrow_mut();
            let (r, copied) = match avail {
                Some((data, len)) if len >= max && !data.is_null() => {
                    // SAFETY: `data` points to `len >= max` live bytes of the typed array,
                    // queried just now on the JS thread; no JS runs during the `recv`, and the
                    // slice does not outlive it.
                    let dst = unsafe { std::slice::from_raw_parts_mut(data, max) };
                    (io.recv_now(dst), false)
                }
                _ => {
                    // Shrunk or detached: read natively, then fail like a runtime read would.
                    if scratch.len() < max {
                        scratch.resize(max, 0);
                    }
                    (io.recv_now(&mut scratch[..max]), true)
                }
            };
            // Bytes read (> 0), and whether that was less than asked: the kernel had no more.
            let mut got = 0;
            let result = match r {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if status >= 0 {
                        break; // spurious wake-up: keep polling
                    }
                    // libuv saw an error condition yet no data or error came out of `recv`:
                    // the socket's pending error is the read's error (libuv's own status
                    // only says that polling failed).
                    let err = io
                        .stream
                        .take_error()
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| std::io::Error::from_raw_os_error(-status));
                    Err(OpError::io(err, "read"))
                }
                Err(e) => Err(OpError::io(e, "read")),
                Ok(0) => Ok(if null_at_eof {
                    Outcome::Null
                } else {
                    Outcome::Number(0.0)
                }),
                Ok(n) => {
                    got = n;
                    Ok(Outcome::Number(n as f64))
                }
            };
            let short = got > 0 && got < max;
            if short {
                self.drained.set(true);
            }
            self.reads.borrow_mut().pop_front();
            let copy = (copied && got > 0).then(|| &scratch[..got]);
            // SAFETY: JS thread of the live env; the callback opened a handle scope.
            unsafe { bridge.settle_js_read(key, result, copy) };
            if copied {
                // Reads into a detached buffer are rare; do not keep up to MAX_IO around.
                scratch.truncate(64 * 1024);
                scratch.shrink_to_fit();
            }
            drop(scratch);
            if short {
                break; // the kernel had no more: wait for the next readiness
            }
        }
    }

    /// The poll callback (libuv, JS thread, outside any JS scope).
    fn on_readable(&self, status: c_int) {
        // The poll is level-triggered: a callback that cannot serve its reads must stop it,
        // or libuv would call it again on every loop turn. The reads stay queued: the env is
        // going away, and its teardown settles or drops them.
        let Some(bridge) = BridgeEnv::current().filter(|b| b.raw() == self.env) else {
            self.stop_polling();
            return;
        };
        let Some((resource, ctx)) = LOOP.with(|l| {
            l.borrow()
                .as_ref()
                .filter(|s| s.env == self.env && !s.torn_down)
                .map(|s| (s.resource, s.ctx))
        }) else {
            self.stop_polling();
            return;
        };
        if status < 0 {
            // libuv stopped the handle itself before reporting an error (POLLERR, e.g. a
            // reset): polling must be started anew for any read still queued after this call.
            self.polling.set(false);
        }
        let env = self.env;
        let mut hs = ptr::null_mut();
        // SAFETY: JS thread of the live env (its bridge state is current and not torn down),
        // in a libuv callback with no JS on the stack: a handle scope then a callback scope
        // are opened, and closed in reverse order below.
        unsafe {
            if sys::napi_open_handle_scope(env, &mut hs) != sys::Status::napi_ok {
                self.stop_polling();
                return;
            }
            let mut res = ptr::null_mut();
            sys::napi_get_reference_value(env, resource, &mut res);
            let mut cs = ptr::null_mut();
            let scoped = !res.is_null()
                && sys::napi_open_callback_scope(env, res, ctx, &mut cs) == sys::Status::napi_ok;
            self.in_cb.set(true);
            bridge.refill_budget();
            let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.serve(&bridge, status)
            }));
            if let Err(p) = served {
                eprintln!(
                    "corio: internal panic in a JS-loop read: {}",
                    crate::bridge::queue::panic_message(&p)
                );
            }
            if scoped {
                // Runs process.nextTick callbacks and microtasks: the awaiting JS continues
                // here, and usually starts its next read before the poll could be stopped.
                sys::napi_close_callback_scope(env, cs);
            }
            sys::napi_close_handle_scope(env, hs);
        }
        self.in_cb.set(false);
        if self.has_reads() {
            // Reads queued during the callback's microtasks (or left after an error stopped
            // the handle) are served by the next readiness.
            self.ensure_polling();
        }
        self.settle_idle();
    }
}

impl JsLoopReads for ReadWatcher {
    fn forget(&self, key: OpKey) {
        self.reads.borrow_mut().retain(|r| r.key != key);
        self.settle_idle();
    }
}

/// `uv_poll_cb`.
unsafe extern "C" fn poll_cb(h: *mut uv::UvHandle, status: c_int, _events: c_int) {
    // SAFETY: the handle's data is the strong count set in `ReadWatcher::new`, released only
    // in `close_cb` (after which libuv calls no more poll callbacks); one more count is taken
    // for the duration of this call, as the callback may close the watcher.
    let w = unsafe {
        let data = uv::uv_handle_get_data(h) as *const ReadWatcher;
        if data.is_null() {
            return;
        }
        Rc::increment_strong_count(data);
        Rc::from_raw(data)
    };
    // A panic must never unwind into libuv.
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.on_readable(status))).is_err() {
        eprintln!("corio: internal panic in a JS-loop poll callback");
    }
}

/// `uv_close_cb`: frees the handle and gives back the watcher's strong count.
unsafe extern "C" fn close_cb(h: *mut uv::UvHandle) {
    // SAFETY: libuv is done with `h` (close callback); it was `calloc`ed in `ReadWatcher::new`
    // and its data is the strong count set there, released exactly once, here.
    let w = unsafe {
        let data = uv::uv_handle_get_data(h) as *const ReadWatcher;
        libc::free(h);
        (!data.is_null()).then(|| Rc::from_raw(data))
    };
    let remove = LOOP.with(|l| {
        let mut l = l.borrow_mut();
        let s = l.as_mut()?;
        s.live_uv = s.live_uv.saturating_sub(1);
        if s.torn_down && s.live_uv == 0 && !s.hook.is_null() {
            Some(std::mem::replace(&mut s.hook, ptr::null_mut()))
        } else {
            None
        }
    });
    if let Some(hook) = remove {
        // SAFETY: the async cleanup hook registered in `loop_of`, started and not yet removed.
        unsafe { sys::napi_remove_async_cleanup_hook(hook) };
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(w)));
}

/// Env teardown (async cleanup hook): closes every watcher without calling into JS; Node keeps
/// running the loop until the last close callback removes this hook.
unsafe extern "C" fn teardown_hook(hook: sys::napi_async_cleanup_hook_handle, arg: *mut c_void) {
    let env = arg as sys::napi_env;
    let taken = LOOP.with(|l| {
        let mut l = l.borrow_mut();
        let s = l.as_mut().filter(|s| s.env == env)?;
        s.torn_down = true;
        let ctx = std::mem::replace(&mut s.ctx, ptr::null_mut());
        let resource = std::mem::replace(&mut s.resource, ptr::null_mut());
        Some((std::mem::take(&mut s.watchers), ctx, resource))
    });
    let watchers = taken.as_ref().map(|(w, _, _)| w);
    if let Some((_, ctx, resource)) = taken.as_ref() {
        // The callback scopes' async context and resource object are of no more use: no poll
        // callback serves reads once `torn_down` is set. Released here, on the env's thread
        // while it still exists (async cleanup hook), exactly once (the fields were nulled).
        // SAFETY: both were created by `loop_of` for this env and not released before.
        unsafe {
            if !ctx.is_null() {
                sys::napi_async_destroy(env, *ctx);
            }
            if !resource.is_null() {
                sys::napi_delete_reference(env, *resource);
            }
        }
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for w in watchers.into_iter().flatten().filter_map(Weak::upgrade) {
            w.close();
        }
    }));
    let remove_now = LOOP.with(|l| {
        let mut l = l.borrow_mut();
        match l.as_mut().filter(|s| s.env == env) {
            Some(s) if s.live_uv > 0 => false,
            Some(s) => {
                s.hook = ptr::null_mut();
                true
            }
            None => true,
        }
    });
    if remove_now {
        // SAFETY: `hook` is this hook's own handle, removed exactly once (here, or in the last
        // `close_cb`, which finds `hook` set only if this did not remove it).
        unsafe { sys::napi_remove_async_cleanup_hook(hook) };
    }
}
