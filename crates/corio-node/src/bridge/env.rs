//! The JS-thread half of the bridge: the state of one Node environment.
//!
//! Each env (main thread or worker_thread) gets one [`Env`], created lazily on its first
//! operation and kept in a thread local (Node runs exactly one env per thread). It owns:
//! - the op table: a slab of pending ops (promise deferred, abort handle, owning handles,
//!   the JS buffer of a read), indexed by [`OpKey`]; plus `opId → OpKey` for `cancel()`;
//! - the wake-up: one threadsafe function without a JS callback whose `call_js` drains the
//!   queue and settles every finished promise in that turn;
//! - ref counting: the threadsafe function is ref'd while anything keeps the loop alive
//!   (a ref'd pending op, or an open ref'd listener) and unref'd otherwise, so Node exits on
//!   its own like it does with node:net;
//! - an env cleanup hook, registered after the threadsafe function so it runs before Node's
//!   own teardown of it: the queue is marked dead and every pending op aborted, so runtime
//!   threads never call into a torn-down environment.
//! - runtime shutdown (`shutdownRuntime()`): ops whose futures the runtime dropped settle with
//!   `ERR_RUNTIME_SHUTDOWN`, later ops are refused with it, and the env stops holding its
//!   event loop open.
//!
//! Lazy ops ([`Env::start_lazy`], for stream reads, writes, shutdown and `copy`, and UDP sends
//! and receives that must wait): the op's future is polled once on the JS thread and handed to
//! the runtime only when it is woken ([`LazyOp`]). That first poll queues the op on its
//! socket's locks (a stream's direction locks, a UDP socket's send or receive lock) in call
//! order. A
//! read that waits for data thus also registers its interest with the I/O driver directly,
//! instead of waking a runtime worker just to poll it once and put it to sleep again: one
//! thread wake-up and its syscalls fewer per message in request/response traffic (measured in
//! docs/benchmarks.md).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use corio::task::AbortHandle;
use napi::sys;

use super::queue::{Completion, CompletionSender, EnvQueue, OpKey, OpResult, OpTask, Outcome};
use crate::errors::{self, OpError};
use crate::js;

/// Why JS asked an op to stop (recorded before aborting; read when its `Dropped` arrives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    Aborted,
    Closed,
}

/// Per-handle state shared by a JS handle object and the ops it owns.
pub(crate) struct HandleCore {
    refd: Cell<bool>,
    open: Cell<bool>,
    /// A listener keeps the loop alive merely by being open (and ref'd).
    holds_loop_while_open: bool,
    ops: RefCell<Vec<OpKey>>,
}

impl HandleCore {
    /// A stream: keeps the loop alive only through its pending ops.
    pub(crate) fn stream() -> Rc<HandleCore> {
        Rc::new(HandleCore {
            refd: Cell::new(true),
            open: Cell::new(true),
            holds_loop_while_open: false,
            ops: RefCell::new(Vec::new()),
        })
    }

    /// A listener: keeps the loop alive while open and ref'd (registers its ref now).
    pub(crate) fn listener(env: &Env) -> Rc<HandleCore> {
        let core = Rc::new(HandleCore {
            refd: Cell::new(true),
            open: Cell::new(true),
            holds_loop_while_open: true,
            ops: RefCell::new(Vec::new()),
        });
        env.add_handle_ref();
        core
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.get()
    }
}

/// How to start one op.
pub(crate) struct OpSpec {
    /// JS op id for `cancel()`; 0 = not cancellable.
    pub(crate) js_id: u64,
    /// Handles whose `close()` fails this op and whose ref state decides whether it holds the loop.
    pub(crate) owners: [Option<Rc<HandleCore>>; 2],
    /// For reads: a reference to the destination Uint8Array.
    pub(crate) buf: Option<sys::napi_ref>,
}

impl OpSpec {
    pub(crate) fn plain(js_id: u64) -> OpSpec {
        OpSpec {
            js_id,
            owners: [None, None],
            buf: None,
        }
    }
    pub(crate) fn on(js_id: u64, owner: &Rc<HandleCore>) -> OpSpec {
        OpSpec {
            js_id,
            owners: [Some(owner.clone()), None],
            buf: None,
        }
    }
}

/// The owner of JS-loop ops (a stream's read watcher, `net/jspoll.rs`): ops with no native
/// future, served on the JS thread by a libuv poll handle and settled by the owner through
/// [`Env::settle_js_read`].
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) trait JsLoopReads {
    /// Forgets op `key` (cancelled, closed or failed by the env); it is settled by the env.
    fn forget(&self, key: OpKey);
}

/// How to stop a pending op's native future.
enum Abort {
    /// A task spawned on the runtime.
    Task(AbortHandle),
    /// A lazy op: parked (its future is dropped right here) or already spawned.
    Lazy(Arc<LazyOp>),
    /// A JS-loop op: no future; stopping it settles it on the spot (see [`Env::stop`]).
    #[cfg_attr(not(unix), allow(dead_code))]
    JsLoop(Rc<dyn JsLoopReads>),
}

impl Abort {
    /// Stops the op; its `CompletionSender` then reports `Dropped` (unless it already finished).
    /// A JS-loop op has nothing to stop here (its owner closes its poll handle itself).
    fn abort(self) {
        match self {
            Abort::Task(a) => a.abort(),
            Abort::Lazy(l) => l.abort(),
            Abort::JsLoop(_) => {}
        }
    }
}

/// A boxed op future (an `OpTask`), as a lazy op holds it between its first poll and its spawn.
type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where a lazy op's future is.
enum LazyState {
    /// Being polled for the first time on the JS thread; `woken` records a wake meanwhile.
    Polling { woken: bool },
    /// Waiting for its waker (this op) to be woken; nothing polls it until then.
    Parked(BoxedTask),
    /// Being handed to the runtime by a waker, outside the lock; `aborted` records an abort
    /// meanwhile, which the waker applies to the spawned task.
    Spawning { aborted: bool },
    /// Handed to the runtime, which owns it now.
    Spawned(AbortHandle),
    /// Finished, dropped or aborted.
    Done,
}

/// An op polled first on the JS thread: its own waker. The first wake (on a runtime thread,
/// from the I/O driver, or on any thread that releases something the op waits for) spawns the
/// parked future on the runtime, which polls it from then on with the task's own waker; later
/// wakes of this waker are no-ops. The mutex is never held while a future is polled, spawned or
/// dropped.
pub(crate) struct LazyOp {
    state: Mutex<LazyState>,
}

impl LazyOp {
    fn lock(&self) -> std::sync::MutexGuard<'_, LazyState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands `task` to the runtime; the caller has set the state to `Spawning` and released
    /// the lock. If the runtime is gone the future is dropped instead (its sender then reports
    /// `Dropped`), through [`drop_orphan`].
    fn hand_off(&self, task: BoxedTask) {
        match crate::runtime::handle() {
            Ok(h) => {
                let a = h.spawn(task).abort_handle();
                let mut st = self.lock();
                if let LazyState::Spawning { aborted: true } = *st {
                    a.abort();
                }
                *st = LazyState::Spawned(a);
            }
            Err(_) => {
                *self.lock() = LazyState::Done;
                drop_orphan(task);
            }
        }
    }

    /// JS thread (cancel/close/teardown): drops a parked future, aborts a spawned one.
    fn abort(&self) {
        // A parked future is taken out under the lock and dropped after it is released.
        let parked = {
            let mut st = self.lock();
            match &mut *st {
                LazyState::Parked(_) => std::mem::replace(&mut *st, LazyState::Done),
                LazyState::Spawned(a) => {
                    a.abort();
                    return;
                }
                LazyState::Spawning { aborted } => {
                    *aborted = true;
                    return;
                }
                LazyState::Polling { .. } | LazyState::Done => return,
            }
        };
        drop(parked);
    }
}

impl Wake for LazyOp {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let task = {
            let mut st = self.lock();
            match &mut *st {
                LazyState::Polling { woken } => {
                    *woken = true;
                    None
                }
                LazyState::Parked(_) => {
                    match std::mem::replace(&mut *st, LazyState::Spawning { aborted: false }) {
                        LazyState::Parked(task) => Some(task),
                        _ => None,
                    }
                }
                LazyState::Spawning { .. } | LazyState::Spawned(_) | LazyState::Done => None,
            }
        };
        if let Some(task) = task {
            self.hand_off(task);
        }
    }
}

thread_local! {
    /// Futures waiting to be dropped by an outer [`drop_orphan`] call on this thread (`None`
    /// when no such call is running).
    static ORPHANS: RefCell<Option<Vec<BoxedTask>>> = const { RefCell::new(None) };
}

/// Drops the future of a lazy op whose runtime is gone, without recursing. Dropping one op's
/// future can release a lock (a stream's read or write turn) and so wake the next lazy op queued
/// behind it, whose future is dropped the same way: with thousands of ops queued on one stream,
/// dropping them from inside each other's wakes overflowed the stack. Here the outermost call on
/// a thread drops them one after another; nested calls only queue their future for it.
fn drop_orphan(task: BoxedTask) {
    let first = ORPHANS.with(|o| {
        let mut o = o.borrow_mut();
        match o.as_mut() {
            Some(queued) => {
                queued.push(task);
                None
            }
            None => {
                *o = Some(Vec::new());
                Some(task)
            }
        }
    });
    let Some(first) = first else { return };
    /// Ends this thread's draining even if a drop unwinds (the futures still queued then are
    /// leaked, not dropped while unwinding, which could abort the process).
    struct Draining;
    impl Drop for Draining {
        fn drop(&mut self) {
            if let Some(left) = ORPHANS.with(|o| o.borrow_mut().take()) {
                std::mem::forget(left);
            }
        }
    }
    let _draining = Draining;
    drop(first);
    while let Some(next) = ORPHANS.with(|o| o.borrow_mut().as_mut().and_then(Vec::pop)) {
        drop(next);
    }
}

struct PendingOp {
    deferred: sys::napi_deferred,
    abort: Option<Abort>,
    stop: Option<StopReason>,
    js_id: u64,
    refd: bool,
    owners: [Option<Rc<HandleCore>>; 2],
    buf: Option<sys::napi_ref>,
}

struct Slot {
    gen: u32,
    op: Option<PendingOp>,
}

/// What [`Env::register`] made of a new op.
enum Registered {
    /// Registered under this key, with its promise; the runtime to run it on.
    Op(OpKey, sys::napi_value, &'static corio::runtime::Handle),
    /// Not registered: this promise is already rejected (no runtime).
    Rejected(sys::napi_value),
}

/// One Node environment's bridge state (JS thread only).
pub(crate) struct Env {
    env: sys::napi_env,
    queue: Arc<EnvQueue>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<u32>>,
    by_js_id: RefCell<HashMap<u64, OpKey>>,
    refs: Cell<usize>,
    pending: Cell<usize>,
    completions: Cell<u64>,
    wakeups: Cell<u64>,
    spare: RefCell<Vec<Completion>>,
    /// How many more ops may still complete synchronously on the JS thread (the fast path)
    /// before one must go through the runtime; refilled by every drain. A JS loop whose reads
    /// and writes always succeed at once would otherwise run in microtasks only and starve
    /// timers, other sockets and `accept` (the same idea as the core's cooperative budget).
    sync_budget: Cell<u32>,
    /// Of `refs`, those held by open listeners (as opposed to pending ops).
    handle_refs: Cell<usize>,
    /// Whether the threadsafe function is ref'd (keeps the event loop alive) right now.
    tsfn_refd: Cell<bool>,
    /// Set once the runtime was shut down and this env learnt of it: from then on only pending
    /// ops (which all settle soon) keep the event loop alive, open listeners no longer do.
    gone: Cell<bool>,
}

/// The synchronous-completion budget when `CORIO_SYNC_BUDGET` is not set (the setting measured
/// in docs/benchmarks.md).
const DEFAULT_SYNC_BUDGET: u32 = 64;

/// Ops that may complete synchronously between two drains of the completion queue: 64 by
/// default, or `CORIO_SYNC_BUDGET` when set to an integer (read once per process; `0` turns
/// the JS-thread fast path off, so every op goes through the runtime).
fn sync_budget() -> u32 {
    static BUDGET: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| parse_sync_budget(std::env::var("CORIO_SYNC_BUDGET").ok().as_deref()))
}

/// `CORIO_SYNC_BUDGET`'s value, or the default when it is unset or not a non-negative integer.
fn parse_sync_budget(var: Option<&str>) -> u32 {
    var.and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_SYNC_BUDGET)
}

thread_local! {
    /// Set while [`Env::poll_lazy`] polls an op for the first time on the JS thread.
    static IN_LAZY_FIRST_POLL: Cell<bool> = const { Cell::new(false) };
}

/// In an op started with [`Env::start_lazy`] (first polled on the JS thread, handed to the
/// runtime when woken): what follows runs on the runtime. During the op's first poll it returns
/// `Pending` once, waking itself; anywhere else (the op already moved to the runtime, e.g. it
/// waited for its lock) it is ready at once and costs nothing.
pub(crate) fn leave_js_thread() -> impl Future<Output = ()> {
    std::future::poll_fn(|cx| {
        if IN_LAZY_FIRST_POLL.with(Cell::get) {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
}

/// Whether the JS-thread fast path is on: `false` with `CORIO_SYNC_BUDGET=0`, which sends every
/// op's I/O to the runtime. Read once per process, so checking it costs one atomic load.
pub(crate) fn fast_path_enabled() -> bool {
    sync_budget() > 0
}

/// [`leave_js_thread`] when the JS-thread fast path is off (`CORIO_SYNC_BUDGET=0`: every op's
/// I/O on the runtime), else ready at once. Awaited by lazily started ops right after they
/// took their lock.
pub(crate) async fn leave_js_thread_without_fast_path() {
    if !fast_path_enabled() {
        leave_js_thread().await;
    }
}

/// Whether a stream read that must wait is served by the JS thread's own event loop (a libuv
/// poll handle on the socket, `net/jspoll.rs`) instead of the runtime: on by default on unix;
/// `CORIO_JS_POLL=0` turns it off (read once per process), and so does `CORIO_SYNC_BUDGET=0`
/// (every op on the runtime).
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn js_poll_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        cfg!(unix)
            && sync_budget() > 0
            && std::env::var("CORIO_JS_POLL")
                .map(|v| v.trim() != "0")
                .unwrap_or(true)
    })
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Env>>> = const { RefCell::new(None) };
}

/// Counters of one env for `metrics()`.
pub(crate) struct EnvCounters {
    pub(crate) pending: usize,
    pub(crate) refs: usize,
    pub(crate) completions: u64,
    pub(crate) wakeups: u64,
}

impl Env {
    /// The bridge state of `env`, created on first use.
    pub(crate) fn get(env: sys::napi_env) -> napi::Result<Rc<Env>> {
        if let Some(e) = CURRENT.with(|c| c.borrow().as_ref().filter(|e| e.env == env).cloned()) {
            return Ok(e);
        }
        let e = Rc::new(Env::create(env)?);
        CURRENT.with(|c| *c.borrow_mut() = Some(e.clone()));
        Ok(e)
    }

    /// The current thread's env state, if any (for finalizers, which get no env).
    pub(crate) fn current() -> Option<Rc<Env>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// The napi env this state belongs to.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn raw(&self) -> sys::napi_env {
        self.env
    }

    /// Counters of the current env, if it has one (does not create it).
    pub(crate) fn counters(env: sys::napi_env) -> EnvCounters {
        CURRENT.with(|c| match c.borrow().as_ref().filter(|e| e.env == env) {
            Some(e) => EnvCounters {
                pending: e.pending.get(),
                refs: e.loop_holders(),
                completions: e.completions.get(),
                wakeups: e.wakeups.get(),
            },
            None => EnvCounters {
                pending: 0,
                refs: 0,
                completions: 0,
                wakeups: 0,
            },
        })
    }

    fn create(env: sys::napi_env) -> napi::Result<Env> {
        let queue = Arc::new(EnvQueue::new());
        let mut tsfn = ptr::null_mut();
        // SAFETY: called on the JS thread of `env`. The finalize data is one strong count of
        // the queue, released in `tsfn_finalize`. No JS function is passed: `call_js` drains.
        let status = unsafe {
            let name = js::string(env, "corio");
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                ptr::null_mut(),
                name,
                0,
                1,
                Arc::into_raw(queue.clone()) as *mut c_void,
                Some(tsfn_finalize),
                ptr::null_mut(),
                Some(call_js),
                &mut tsfn,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(
                "corio: failed to create the completion wake-up (napi_create_threadsafe_function)",
            ));
        }
        queue.set_tsfn(tsfn);
        EnvQueue::register(&queue);
        // SAFETY: same thread/env. Unref'd until an op or listener needs the loop alive.
        // The cleanup hook is registered after the tsfn so it runs before Node's own tsfn
        // teardown (cleanup hooks run in reverse order of registration).
        unsafe {
            sys::napi_unref_threadsafe_function(env, tsfn);
            sys::napi_add_env_cleanup_hook(env, Some(env_cleanup), env as *mut c_void);
        }
        Ok(Env {
            env,
            queue,
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            by_js_id: RefCell::new(HashMap::new()),
            refs: Cell::new(0),
            pending: Cell::new(0),
            completions: Cell::new(0),
            wakeups: Cell::new(0),
            spare: RefCell::new(Vec::with_capacity(64)),
            sync_budget: Cell::new(sync_budget()),
            handle_refs: Cell::new(0),
            tsfn_refd: Cell::new(false),
            gone: Cell::new(false),
        })
    }

    fn add_ref(&self) {
        self.refs.set(self.refs.get() + 1);
        self.update_loop_ref();
    }

    fn remove_ref(&self) {
        let n = self.refs.get();
        debug_assert!(n > 0);
        self.refs.set(n.saturating_sub(1));
        self.update_loop_ref();
    }

    /// A ref held by an open listener (see [`HandleCore::listener`]).
    fn add_handle_ref(&self) {
        self.handle_refs.set(self.handle_refs.get() + 1);
        self.add_ref();
    }

    fn remove_handle_ref(&self) {
        self.handle_refs
            .set(self.handle_refs.get().saturating_sub(1));
        self.remove_ref();
    }

    /// What keeps the event loop alive now: ref'd pending ops and ref'd open handles — the
    /// handles no longer once the runtime is gone (they can never complete anything).
    fn loop_holders(&self) -> usize {
        if self.gone.get() {
            self.refs.get().saturating_sub(self.handle_refs.get())
        } else {
            self.refs.get()
        }
    }

    /// Refs or unrefs the threadsafe function to match [`Env::loop_holders`]: ref'd while
    /// anything holds the loop; once the runtime is gone, only while ref'd ops are pending.
    fn update_loop_ref(&self) {
        let want = self.loop_holders() > 0;
        if want != self.tsfn_refd.replace(want) {
            // SAFETY: JS thread of a live env; the tsfn is alive while the env is.
            unsafe {
                if want {
                    sys::napi_ref_threadsafe_function(self.env, self.queue.tsfn());
                } else {
                    sys::napi_unref_threadsafe_function(self.env, self.queue.tsfn());
                }
            }
        }
    }

    /// Starts `fut` on the runtime as one op; returns its promise. The caller has validated
    /// its arguments; an error here is thrown (not a rejected promise).
    pub(crate) fn start<F>(&self, spec: OpSpec, fut: F) -> napi::Result<sys::napi_value>
    where
        F: Future<Output = OpResult> + Send + 'static,
    {
        self.start_inner(spec, fut, false)
    }

    /// Like [`Env::start`], but polls `fut` once right here on the JS thread and hands it to
    /// the runtime only when it is woken (see [`LazyOp`]). Only for futures that may be polled
    /// outside the runtime: socket readiness, try-I/O and `corio::sync` locks (no
    /// `spawn_blocking`, timers or runtime context). A future that finishes in that first poll
    /// still settles through the completion queue, like any op.
    ///
    /// The first poll also takes the op's place in its stream's lock queue at call time, which
    /// is what keeps ops of one direction in call order. With `CORIO_SYNC_BUDGET=0` (no I/O on
    /// the JS thread) the futures call [`leave_js_thread_without_fast_path`] right after their
    /// lock, so the I/O itself runs on the runtime.
    pub(crate) fn start_lazy<F>(&self, spec: OpSpec, fut: F) -> napi::Result<sys::napi_value>
    where
        F: Future<Output = OpResult> + Send + 'static,
    {
        self.start_inner(spec, fut, true)
    }

    fn start_inner<F>(&self, spec: OpSpec, fut: F, lazy: bool) -> napi::Result<sys::napi_value>
    where
        F: Future<Output = OpResult> + Send + 'static,
    {
        let cancellable = spec.js_id != 0 || spec.owners[0].is_some();
        let (key, promise, handle) = match self.register(spec)? {
            Registered::Op(key, promise, handle) => (key, promise, handle),
            Registered::Rejected(promise) => return Ok(promise),
        };
        let task = OpTask::new(fut, CompletionSender::new(self.queue.clone(), key));
        let abort = if lazy {
            self.poll_lazy(Box::pin(task)).map(Abort::Lazy)
        } else {
            Some(Abort::Task(handle.spawn(task).abort_handle()))
        };
        if cancellable {
            self.with_op(key, |op| op.abort = abort);
        }
        Ok(promise)
    }

    /// The part of starting an op shared by runtime ops and JS-loop reads: checks `opId` and
    /// the runtime, makes the promise and registers the op (pending, ref'd, owned by its
    /// handles) with no abort handle yet. An error is thrown; no runtime gives a promise
    /// rejected as if the op had started a moment earlier.
    fn register(&self, spec: OpSpec) -> napi::Result<Registered> {
        let env = self.env;
        // Every early return below gives back the buffer reference the caller created for
        // this op (once the op is registered, settling it deletes the reference).
        let release_buf = || {
            if let Some(b) = spec.buf {
                // SAFETY: reference created by the caller in this env, not yet owned by an op.
                unsafe { sys::napi_delete_reference(env, b) };
            }
        };
        if spec.js_id != 0 && self.by_js_id.borrow().contains_key(&spec.js_id) {
            release_buf();
            return Err(errors::range_error(
                env,
                "opId",
                "unique among pending operations",
            ));
        }
        let handle = match crate::runtime::handle() {
            Ok(h) => h,
            Err(msg) => {
                // No runtime (shut down, or failed to start).
                release_buf();
                let code = crate::runtime::handle_error_code();
                return rejected(env, code, &msg).map(Registered::Rejected);
            }
        };
        let (deferred, promise) = match new_promise(env) {
            Ok(p) => p,
            Err(e) => {
                release_buf();
                return Err(e);
            }
        };
        let refd = spec.owners.iter().flatten().any(|o| o.refd.get())
            || spec.owners.iter().all(|o| o.is_none());
        let key = self.alloc(PendingOp {
            deferred,
            abort: None,
            stop: None,
            js_id: spec.js_id,
            refd,
            owners: spec.owners,
            buf: spec.buf,
        });
        self.with_op(key, |op| {
            for o in op.owners.iter().flatten() {
                o.ops.borrow_mut().push(key);
            }
        });
        if spec.js_id != 0 {
            self.by_js_id.borrow_mut().insert(spec.js_id, key);
        }
        self.pending.set(self.pending.get() + 1);
        if refd {
            self.add_ref();
        }
        Ok(Registered::Op(key, promise, handle))
    }

    /// First poll of a lazy op on the JS thread. Returns its abort handle, or `None` when the
    /// future finished in this poll (its result is already in the completion queue).
    fn poll_lazy(&self, mut task: BoxedTask) -> Option<Arc<LazyOp>> {
        let lazy = Arc::new(LazyOp {
            state: Mutex::new(LazyState::Polling { woken: false }),
        });
        let waker = Waker::from(lazy.clone());
        // OpTask catches a panic of the inner future and reports it as the op's result, so the
        // flag is always reset.
        IN_LAZY_FIRST_POLL.with(|f| f.set(true));
        let first = task.as_mut().poll(&mut Context::from_waker(&waker));
        IN_LAZY_FIRST_POLL.with(|f| f.set(false));
        if first.is_ready() {
            *lazy.lock() = LazyState::Done;
            return None;
        }
        let woken = {
            let mut st = lazy.lock();
            match *st {
                // Woken while being polled (e.g. the socket became ready meanwhile): spawn now.
                LazyState::Polling { woken: true } => {
                    *st = LazyState::Spawning { aborted: false };
                    Some(task)
                }
                _ => {
                    *st = LazyState::Parked(task);
                    None
                }
            }
        };
        if let Some(task) = woken {
            lazy.hand_off(task);
        }
        Some(lazy)
    }

    /// Whether an op may still complete synchronously on the JS thread before the next drain
    /// (when `false`, the caller starts the op on the runtime instead).
    /// Always `false` once the runtime is shut down, so that every later op goes through
    /// [`Env::start`] or [`Env::start_lazy`] and fails with `ERR_RUNTIME_SHUTDOWN` like the
    /// others.
    pub(crate) fn sync_budget_left(&self) -> bool {
        self.sync_budget.get() > 0 && !crate::runtime::is_shut_down()
    }

    /// A promise already settled with `result` (an op completed synchronously on the JS
    /// thread); spends one unit of the synchronous-completion budget.
    pub(crate) fn settled(
        &self,
        result: OpResult,
        syscall: &'static str,
    ) -> napi::Result<sys::napi_value> {
        let env = self.env;
        let (deferred, promise) = new_promise(env)?;
        // SAFETY: JS thread of `env`; the deferred is settled right here, exactly once.
        unsafe {
            match result.and_then(|o| outcome_to_js(env, o)) {
                Ok(v) => sys::napi_resolve_deferred(env, deferred, v),
                Err(e) => {
                    sys::napi_reject_deferred(env, deferred, error_to_js(env, &e, Some(syscall)))
                }
            };
        }
        self.spend_sync_budget();
        Ok(promise)
    }

    /// An op completed synchronously on the JS thread: counted, and one unit of the budget spent.
    fn spend_sync_budget(&self) {
        self.count_completion();
        self.sync_budget
            .set(self.sync_budget.get().saturating_sub(1));
    }

    /// Counts one completed op in `completions` (metrics only).
    pub(crate) fn count_completion(&self) {
        self.completions.set(self.completions.get() + 1);
    }

    /// The value of an op that completed synchronously on the JS thread, returned as it is
    /// instead of in a promise (the caller's JS wraps it: a resolved promise made in JS costs
    /// less than a napi one); an error still gives a rejected promise. Spends one unit of the
    /// synchronous-completion budget, like [`Env::settled`].
    pub(crate) fn completed_now(
        &self,
        result: OpResult,
        syscall: &'static str,
    ) -> napi::Result<sys::napi_value> {
        // SAFETY: JS thread of `self.env`.
        match result.and_then(|o| unsafe { outcome_to_js(self.env, o) }) {
            Ok(v) => {
                self.spend_sync_budget();
                Ok(v)
            }
            Err(e) => self.settled(Err(e), syscall),
        }
    }

    fn alloc(&self, op: PendingOp) -> OpKey {
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(i) => {
                let s = &mut slots[i as usize];
                s.gen = s.gen.wrapping_add(1);
                s.op = Some(op);
                ((s.gen as u64) << 32) | i as u64
            }
            None => {
                let i = slots.len() as u32;
                slots.push(Slot {
                    gen: 0,
                    op: Some(op),
                });
                i as u64
            }
        }
    }

    fn with_op<R>(&self, key: OpKey, f: impl FnOnce(&mut PendingOp) -> R) -> Option<R> {
        let mut slots = self.slots.borrow_mut();
        let s = slots.get_mut((key & 0xffff_ffff) as usize)?;
        if s.gen != (key >> 32) as u32 {
            return None;
        }
        s.op.as_mut().map(f)
    }

    fn take_op(&self, key: OpKey) -> Option<PendingOp> {
        let idx = (key & 0xffff_ffff) as u32;
        let op = {
            let mut slots = self.slots.borrow_mut();
            let s = slots.get_mut(idx as usize)?;
            if s.gen != (key >> 32) as u32 {
                return None;
            }
            s.op.take()?
        };
        self.free.borrow_mut().push(idx);
        if op.js_id != 0 {
            self.by_js_id.borrow_mut().remove(&op.js_id);
        }
        for o in op.owners.iter().flatten() {
            o.ops.borrow_mut().retain(|k| *k != key);
        }
        self.pending.set(self.pending.get() - 1);
        if op.refd {
            self.remove_ref();
        }
        Some(op)
    }

    fn stop(&self, key: OpKey, reason: StopReason) {
        let abort = self.with_op(key, |op| {
            if op.stop.is_none() {
                op.stop = Some(reason);
            }
            op.abort.take()
        });
        match abort {
            Some(Some(Abort::JsLoop(owner))) => {
                // No future and no completion to wait for: settle now with `reason`.
                owner.forget(key);
                // SAFETY: JS thread of the live env, inside a JS call (cancel/close) or a
                // callback that opened a handle scope.
                unsafe { self.settle_js_read(key, Err(OpError::Dropped), None) };
            }
            Some(Some(a)) => {
                // The task is dropped on a runtime thread; its CompletionSender then reports
                // `Dropped`, which settles the promise with `reason`. If it already finished,
                // its real result is in the queue and wins.
                a.abort();
            }
            _ => {}
        }
    }

    /// Registers a JS-loop op (a read with no native future, served by `owner` on this
    /// thread); returns its key and promise. `None` for the key: the promise is already
    /// rejected (no runtime: shut down). Same checks as [`Env::start`].
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn start_js_loop(
        &self,
        spec: OpSpec,
        owner: Rc<dyn JsLoopReads>,
    ) -> napi::Result<(Option<OpKey>, sys::napi_value)> {
        Ok(match self.register(spec)? {
            Registered::Op(key, promise, _) => {
                self.with_op(key, |op| op.abort = Some(Abort::JsLoop(owner)));
                (Some(key), promise)
            }
            Registered::Rejected(promise) => (None, promise),
        })
    }

    /// The destination bytes of pending read `key`, re-queried now like [`copy_into_js`] does:
    /// `None` if the op is no longer pending (or has no buffer), `Some(None)` if its JS buffer
    /// is gone (detached, or no longer a `Uint8Array`).
    ///
    /// # Safety
    /// JS thread of the live env, inside a handle scope.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) unsafe fn read_dst(&self, key: OpKey) -> Option<Option<(*mut u8, usize)>> {
        let buf = self.with_op(key, |op| op.buf)??;
        Some(js_bytes(self.env, buf))
    }

    /// Settles JS-loop op `key` with `result`; `copy` = bytes read into a native buffer, to be
    /// copied into the op's JS buffer first (re-validated, as for runtime reads).
    ///
    /// # Safety
    /// JS thread of the live env, inside a handle scope.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) unsafe fn settle_js_read(&self, key: OpKey, result: OpResult, copy: Option<&[u8]>) {
        if let Some(op) = self.take_op(key) {
            self.completions.set(self.completions.get() + 1);
            let result = match copy {
                Some(bytes) => copy_into_js(self.env, op.buf, bytes),
                None => result,
            };
            settle(self.env, op, result);
        }
    }

    /// A new event-loop turn served JS-loop ops: the synchronous budget is refilled, as a
    /// drain does.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) fn refill_budget(&self) {
        self.sync_budget.set(sync_budget());
    }

    /// The runtime is shut down: every pending JS-loop op settles with ERR_RUNTIME_SHUTDOWN
    /// (or its recorded stop reason), like the runtime's ops whose futures it dropped.
    fn fail_js_loop_ops(&self) {
        let keys: Vec<OpKey> = {
            let slots = self.slots.borrow();
            slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match &s.op {
                    Some(PendingOp {
                        abort: Some(Abort::JsLoop(_)),
                        ..
                    }) => Some(((s.gen as u64) << 32) | i as u64),
                    _ => None,
                })
                .collect()
        };
        for key in keys {
            let owner = self.with_op(key, |op| match op.abort.take() {
                Some(Abort::JsLoop(o)) => Some(o),
                _ => None,
            });
            if let Some(Some(o)) = owner {
                o.forget(key);
            }
            if let Some(op) = self.take_op(key) {
                // SAFETY: JS thread of the live env (drain: call_js or a JS call).
                unsafe { settle(self.env, op, Err(OpError::Dropped)) };
            }
        }
    }

    /// `cancel(opId)`: aborts the op if it is still pending.
    pub(crate) fn cancel(&self, js_id: u64) {
        let key = self.by_js_id.borrow().get(&js_id).copied();
        if let Some(key) = key {
            self.stop(key, StopReason::Aborted);
        }
    }

    /// `close()` of a handle: fails its pending ops with ERR_SOCKET_CLOSED and drops its
    /// loop ref. Idempotent.
    pub(crate) fn close_handle(&self, core: &HandleCore) {
        if !core.open.replace(false) {
            return;
        }
        if core.holds_loop_while_open && core.refd.get() {
            self.remove_handle_ref();
        }
        let keys: Vec<OpKey> = core.ops.borrow().clone();
        for key in keys {
            self.stop(key, StopReason::Closed);
        }
    }

    /// `ref()`/`unref()` of a handle: applies to the handle and to its pending ops.
    pub(crate) fn set_handle_ref(&self, core: &HandleCore, refd: bool) {
        if core.refd.replace(refd) == refd {
            return;
        }
        if core.holds_loop_while_open && core.open.get() {
            if refd {
                self.add_handle_ref()
            } else {
                self.remove_handle_ref()
            }
        }
        let keys: Vec<OpKey> = core.ops.borrow().clone();
        for key in keys {
            let change = self.with_op(key, |op| {
                let want = op.owners.iter().flatten().any(|o| o.refd.get());
                let changed = op.refd != want;
                op.refd = want;
                changed.then_some(want)
            });
            match change {
                Some(Some(true)) => self.add_ref(),
                Some(Some(false)) => self.remove_ref(),
                _ => {}
            }
        }
    }

    /// Drains the completion queue and settles every finished promise. JS thread, from the
    /// threadsafe function's call_js.
    fn drain(&self) {
        let mut batch = std::mem::take(&mut *self.spare.borrow_mut());
        self.queue.take_into(&mut batch);
        self.wakeups.set(self.wakeups.get() + 1);
        self.sync_budget.set(sync_budget());
        self.completions
            .set(self.completions.get() + batch.len() as u64);
        for c in batch.drain(..) {
            if let Some(op) = self.take_op(c.key) {
                // SAFETY: JS thread of the live env; Node opened a handle scope for call_js.
                unsafe { settle(self.env, op, c.result) };
            }
        }
        *self.spare.borrow_mut() = batch;
        if crate::runtime::is_shut_down() {
            self.fail_js_loop_ops();
            self.release_loop();
        }
    }

    /// The runtime is gone: open listeners, which can never accept again, stop keeping the
    /// event loop alive; pending ops still do until they settle (each one does: its future is
    /// gone with the runtime). Idempotent.
    fn release_loop(&self) {
        if !self.gone.replace(true) {
            self.update_loop_ref();
        }
    }

    /// After the runtime shut down (JS thread of `env`, from `shutdownRuntime()`'s promise):
    /// settles every cancellation already queued for this env, then releases its event loop
    /// (the drain does both: it sees the runtime shut down).
    pub(crate) fn runtime_gone(env: sys::napi_env) {
        let current = CURRENT.with(|c| c.borrow().as_ref().filter(|e| e.env == env).cloned());
        if let Some(e) = current {
            e.drain();
        }
    }

    /// Env teardown: no more signals, abort everything, release the wake-up.
    fn teardown(&self) {
        drop(self.queue.kill());
        let mut aborts = Vec::new();
        for s in self.slots.borrow_mut().iter_mut() {
            if let Some(op) = s.op.take() {
                if let Some(a) = op.abort {
                    aborts.push(a);
                }
                // Deferreds and references belong to the dying env; Node frees them.
            }
        }
        for a in aborts {
            a.abort();
        }
        let tsfn = self.queue.tsfn();
        // SAFETY: called from the env cleanup hook on the JS thread; the tsfn was created by
        // this env and is released exactly once, here.
        unsafe {
            sys::napi_release_threadsafe_function(tsfn, sys::ThreadsafeFunctionReleaseMode::abort)
        };
    }
}

/// Settles one op's promise with its result.
unsafe fn settle(env: sys::napi_env, op: PendingOp, result: OpResult) {
    let result = match result {
        Err(OpError::Dropped) => Err(match op.stop {
            Some(StopReason::Aborted) => OpError::Aborted,
            Some(StopReason::Closed) => OpError::Closed,
            None => OpError::Dropped,
        }),
        Ok(Outcome::Read(done)) => {
            let r = copy_into_js(env, op.buf, done.bytes());
            done.recycle();
            r
        }
        other => other,
    };
    // A read's own errors name their syscall; "closed" does too, as node:net's do.
    let syscall = if op.buf.is_some() { Some("read") } else { None };
    if let Some(b) = op.buf {
        sys::napi_delete_reference(env, b);
    }
    match result.and_then(|o| outcome_to_js(env, o)) {
        Ok(v) => {
            sys::napi_resolve_deferred(env, op.deferred, v);
        }
        Err(e) => {
            let v = error_to_js(env, &e, syscall);
            sys::napi_reject_deferred(env, op.deferred, v);
        }
    }
}

/// A promise already rejected with an `Error` carrying `code` (JS thread of `env`).
fn rejected(env: sys::napi_env, code: &str, msg: &str) -> napi::Result<sys::napi_value> {
    let (deferred, promise) = new_promise(env)?;
    // SAFETY: JS thread of `env`; the deferred is settled right here, exactly once.
    unsafe { sys::napi_reject_deferred(env, deferred, js::error(env, code, msg)) };
    Ok(promise)
}

/// A new pending promise and its deferred (JS thread of `env`); the caller must settle the
/// deferred exactly once.
fn new_promise(env: sys::napi_env) -> napi::Result<(sys::napi_deferred, sys::napi_value)> {
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: JS thread of `env`; both out-pointers are valid locals.
    if unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) } != sys::Status::napi_ok
    {
        return Err(napi::Error::from_reason(
            "corio: napi_create_promise failed",
        ));
    }
    Ok((deferred, promise))
}

/// The JS error of `e`; `ERR_SOCKET_CLOSED` gets `syscall` when one is given.
unsafe fn error_to_js(env: sys::napi_env, e: &OpError, syscall: Option<&str>) -> sys::napi_value {
    if is_shutdown_error(e) {
        return js::error(
            env,
            crate::runtime::SHUTDOWN_CODE,
            crate::runtime::SHUTDOWN_MSG,
        );
    }
    let v = errors::op_error_to_js(env, e);
    if let (OpError::Closed, Some(s)) = (e, syscall) {
        js::set_str(env, v, "syscall", s);
    }
    v
}

/// Whether `e` is how an op ends because the runtime was shut down: its future dropped by the
/// runtime with no cancel or close from JS (after `runtime.shutdown()`), or failed by the I/O
/// driver or the blocking pool that the shutdown stopped (a typed error of the core, so an
/// op that genuinely failed before the shutdown keeps its own error).
fn is_shutdown_error(e: &OpError) -> bool {
    match e {
        OpError::Dropped => crate::runtime::is_shut_down(),
        OpError::Io { err, .. } => corio::io::is_runtime_shutdown(err),
        _ => false,
    }
}

/// Copies a read's bytes into the JS buffer, re-validated now (it may have been detached,
/// transferred or shrunk while the read was in flight).
unsafe fn copy_into_js(env: sys::napi_env, buf: Option<sys::napi_ref>, bytes: &[u8]) -> OpResult {
    let n = bytes.len();
    if n == 0 {
        return Ok(Outcome::Number(0.0)); // read ops settle end of stream without a ReadDone
    }
    let Some(r) = buf else {
        return Ok(Outcome::Number(n as f64));
    };
    match js_bytes(env, r) {
        Some((data, len)) if len >= n && !data.is_null() => {
            // SAFETY: `data` points to `len >= n` live bytes of the typed array, queried just
            // now on the JS thread; no JS runs during this copy.
            ptr::copy_nonoverlapping(bytes.as_ptr(), data, n);
            Ok(Outcome::Number(n as f64))
        }
        other => Err(OpError::BufferGone {
            needed: n,
            available: other.map(|(_, l)| l).unwrap_or(0),
        }),
    }
}

/// The current data pointer and length of the `Uint8Array` behind `r` (`None` once it is
/// gone).
///
/// # Safety
/// JS thread of `env`, inside a handle scope; `r` a live reference of `env`.
unsafe fn js_bytes(env: sys::napi_env, r: sys::napi_ref) -> Option<(*mut u8, usize)> {
    let mut v = ptr::null_mut();
    sys::napi_get_reference_value(env, r, &mut v);
    if v.is_null() {
        None
    } else {
        js::u8_array(env, v)
    }
}

unsafe fn outcome_to_js(env: sys::napi_env, o: Outcome) -> Result<sys::napi_value, OpError> {
    Ok(match o {
        Outcome::Undefined => js::undefined(env),
        Outcome::Null => js::null(env),
        Outcome::Number(n) => js::number(env, n),
        Outcome::Pair(a, b) => js::pair(env, a, b),
        Outcome::Read(_) => unreachable!("reads are converted to numbers by copy_into_js"),
        Outcome::Stream(s) => crate::net::stream::NativeTcpStream::into_js(env, s)?,
        Outcome::Listener(l) => crate::net::listener::NativeTcpListener::into_js(env, l)?,
        Outcome::UnixListener(l) => crate::net::unix_listener::NativeUnixListener::into_js(env, l)?,
    })
}

/// The threadsafe function's JS-thread callback: one call per batch.
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_cb: sys::napi_value,
    _ctx: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() {
        return; // the tsfn is being torn down
    }
    let current = CURRENT.with(|c| c.borrow().as_ref().filter(|e| e.env == env).cloned());
    if let Some(e) = current {
        // A panic must not unwind into Node.
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.drain())) {
            eprintln!(
                "corio: internal panic while settling promises: {}",
                super::queue::panic_message(&p)
            );
        }
    }
}

/// The threadsafe function's finalizer: marks the queue dead (second line of defence after the
/// cleanup hook) and releases the queue reference it held.
unsafe extern "C" fn tsfn_finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Arc::into_raw` made in `Env::create`, released exactly once here.
    let queue = Arc::from_raw(data as *const EnvQueue);
    drop(queue.kill());
}

/// napi env cleanup hook (worker terminate, env teardown).
unsafe extern "C" fn env_cleanup(arg: *mut c_void) {
    let env = arg as sys::napi_env;
    let current = CURRENT.with(|c| {
        let mut slot = c.borrow_mut();
        if slot.as_ref().map(|e| e.env == env).unwrap_or(false) {
            slot.take()
        } else {
            None
        }
    });
    if let Some(e) = current {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.teardown()));
    }
    // The env's TCP streams not yet finalized (their slot table is per thread = per env).
    let _ = std::panic::catch_unwind(crate::net::slots::clear);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::queue::{Completion, CompletionSender, OpTask};

    fn lazy(state: LazyState) -> Arc<LazyOp> {
        Arc::new(LazyOp {
            state: Mutex::new(state),
        })
    }

    fn drained(q: &EnvQueue) -> Vec<Completion> {
        let mut v = Vec::new();
        q.take_into(&mut v);
        v
    }

    /// A future whose drop orphans the next one in a chain, as dropping a lazy op's future can
    /// wake (and so drop) the op queued behind it once the runtime is gone.
    struct Chained {
        next: Option<BoxedTask>,
        dropped: Arc<std::sync::atomic::AtomicUsize>,
    }
    impl Future for Chained {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> std::task::Poll<()> {
            std::task::Poll::Pending
        }
    }
    impl Drop for Chained {
        fn drop(&mut self) {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(next) = self.next.take() {
                drop_orphan(next);
            }
        }
    }

    #[test]
    fn dropping_a_long_chain_of_orphans_does_not_recurse() {
        // Deep enough that one stack frame per link would overflow a 2 MiB test thread.
        const LINKS: usize = 200_000;
        let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut chain: Option<BoxedTask> = None;
        for _ in 0..LINKS {
            chain = Some(Box::pin(Chained {
                next: chain.take(),
                dropped: dropped.clone(),
            }));
        }
        drop_orphan(chain.unwrap());
        assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), LINKS);
        // The thread is back to its idle state: the next orphan is dropped at once.
        let again = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        drop_orphan(Box::pin(Chained {
            next: None,
            dropped: again.clone(),
        }));
        assert_eq!(again.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn aborting_a_parked_lazy_op_drops_its_future_and_reports_dropped() {
        let q = Arc::new(EnvQueue::new());
        let task: BoxedTask = Box::pin(OpTask::new(
            std::future::pending::<OpResult>(),
            CompletionSender::new(q.clone(), 5),
        ));
        let op = lazy(LazyState::Parked(task));
        op.abort();
        assert!(matches!(*op.lock(), LazyState::Done));
        let got = drained(&q);
        assert_eq!(got.len(), 1);
        assert!(matches!(got[0].result, Err(OpError::Dropped)));
        // Later wakes (a stale registration firing) do nothing.
        Waker::from(op.clone()).wake_by_ref();
        assert!(matches!(*op.lock(), LazyState::Done));
        assert!(drained(&q).is_empty());
    }

    #[test]
    fn a_wake_while_polling_is_recorded_and_a_wake_when_parked_spawns() {
        let op = lazy(LazyState::Polling { woken: false });
        Waker::from(op.clone()).wake_by_ref();
        assert!(matches!(*op.lock(), LazyState::Polling { woken: true }));

        let q = Arc::new(EnvQueue::new());
        let task: BoxedTask = Box::pin(OpTask::new(
            async { Ok(Outcome::Number(3.0)) },
            CompletionSender::new(q.clone(), 9),
        ));
        let op = lazy(LazyState::Parked(task));
        Waker::from(op.clone()).wake();
        assert!(
            matches!(*op.lock(), LazyState::Spawned(_)),
            "the first wake hands the future to the runtime"
        );
        // The runtime polls it to completion; wait for its single completion (bounded).
        let mut got = Vec::new();
        for _ in 0..10_000 {
            got.extend(drained(&q));
            if !got.is_empty() {
                break;
            }
            std::thread::yield_now();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(got.len(), 1);
        assert!(matches!(got[0].result, Ok(Outcome::Number(n)) if n == 3.0));
    }

    #[test]
    fn sync_budget_defaults_on_and_env_overrides() {
        assert_eq!(
            parse_sync_budget(None),
            64,
            "the fast path is on by default"
        );
        assert_eq!(parse_sync_budget(Some("0")), 0, "0 turns the fast path off");
        assert_eq!(parse_sync_budget(Some(" 8 ")), 8);
        assert_eq!(
            parse_sync_budget(Some("-1")),
            DEFAULT_SYNC_BUDGET,
            "bad values keep the default"
        );
        assert_eq!(parse_sync_budget(Some("lots")), DEFAULT_SYNC_BUDGET);
    }
}
