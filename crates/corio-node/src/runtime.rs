//! The one corio runtime of the process.
//!
//! Every Node environment (the main thread and each `worker_thread`) loads this addon into the
//! same process image, so process-wide statics give them one shared multi-thread runtime:
//! sockets opened in a worker are driven by the same reactor and worker threads as the main
//! thread's. It starts lazily on the first native operation; `configure()` may change its
//! settings only before that. Environments that go away cancel their own operations (see
//! `bridge::env`); the runtime itself lives until the process exits, unless JS calls
//! `shutdownRuntime()` ([`shutdown_runtime`]): then every task is cancelled (each pending op of
//! every environment settles with `ERR_RUNTIME_SHUTDOWN`, see `bridge::env`) and every later
//! operation fails with that code. The runtime never restarts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use corio::runtime::{Builder, Handle, Runtime};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

/// Settings applied when the runtime starts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Config {
    /// Worker threads; `None` = the core's default (one per CPU).
    pub(crate) worker_threads: Option<usize>,
}

/// `Some` until the runtime starts (or is shut down); `configure` edits it, `start` takes it.
static PENDING_CONFIG: Mutex<Option<Config>> = Mutex::new(Some(Config {
    worker_threads: None,
}));
/// The running runtime's handle (or why it failed to start), set once on first use.
static HANDLE: OnceLock<Result<Handle, String>> = OnceLock::new();
/// The runtime itself, owned here until [`shutdown_runtime`] takes it. Its lock also orders
/// the start against a concurrent shutdown: whoever holds it sees `SHUT_DOWN` up to date.
static OWNER: Mutex<Option<Runtime>> = Mutex::new(None);
/// Set (for good) when `shutdownRuntime()` is called.
static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// The JS error code of every operation refused or cancelled because the runtime shut down.
pub(crate) const SHUTDOWN_CODE: &str = "ERR_RUNTIME_SHUTDOWN";
/// The message that goes with [`SHUTDOWN_CODE`].
pub(crate) const SHUTDOWN_MSG: &str = "corio: the runtime was shut down (runtime.shutdown())";
/// How long the shutdown waits for the runtime's threads to stop before it resolves anyway
/// (its tasks are cancelled before that wait; a blocking-pool job cannot be interrupted).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// Why `configure` refused.
pub(crate) enum ConfigureError {
    AlreadyStarted,
}

/// Records settings for the runtime; fails once the runtime has started (or was shut down).
pub(crate) fn configure(config: Config) -> Result<(), ConfigureError> {
    let mut pending = PENDING_CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    match pending.as_mut() {
        Some(c) => {
            *c = config;
            Ok(())
        }
        None => Err(ConfigureError::AlreadyStarted),
    }
}

/// Whether `shutdownRuntime()` was called.
pub(crate) fn is_shut_down() -> bool {
    SHUT_DOWN.load(Ordering::Acquire)
}

/// The JS error code for an error of [`handle`]: `ERR_RUNTIME_SHUTDOWN` after a shutdown,
/// `ERR_RUNTIME_START` when the runtime failed to start.
pub(crate) fn handle_error_code() -> &'static str {
    if is_shut_down() {
        SHUTDOWN_CODE
    } else {
        "ERR_RUNTIME_START"
    }
}

/// The runtime's handle, starting the runtime on first use; an error once it is shut down.
pub(crate) fn handle() -> Result<&'static Handle, String> {
    if is_shut_down() {
        return Err(SHUTDOWN_MSG.to_owned());
    }
    let rt = HANDLE.get_or_init(|| {
        let mut owner = OWNER.lock().unwrap_or_else(|p| p.into_inner());
        if is_shut_down() {
            return Err(SHUTDOWN_MSG.to_owned());
        }
        // Taking the config under its lock closes the window in which a concurrent configure()
        // (from another worker thread) could succeed after the runtime read its settings.
        let config = PENDING_CONFIG
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        let mut builder = Builder::new_multi_thread();
        builder.enable_all().thread_name("corio-worker");
        if let Some(n) = config.worker_threads {
            builder.worker_threads(n);
        }
        let rt = builder
            .build()
            .map_err(|e| format!("failed to start the corio runtime: {e}"))?;
        let handle = rt.handle().clone();
        *owner = Some(rt);
        Ok(handle)
    });
    match rt {
        // A thread that got the handle just before a shutdown may still spawn on it: the
        // shut-down scheduler cancels such a task at once, and its op settles as cancelled.
        Ok(h) => Ok(h),
        Err(e) => Err(e.clone()),
    }
}

/// The runtime's handle if it has started (metrics must not start it).
pub(crate) fn started() -> Option<&'static Handle> {
    match HANDLE.get() {
        Some(Ok(h)) => Some(h),
        _ => None,
    }
}

/// Marks the runtime shut down and takes it (if it ever started); idempotent.
fn begin_shutdown() -> Option<Runtime> {
    let mut owner = OWNER.lock().unwrap_or_else(|p| p.into_inner());
    SHUT_DOWN.store(true, Ordering::Release);
    // configure() fails from now on, as after a start.
    PENDING_CONFIG
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    owner.take()
}

/// The work of `shutdownRuntime()`: runs on libuv's thread pool, since stopping the runtime's
/// threads blocks (bounded by [`SHUTDOWN_WAIT`]).
pub struct ShutdownTask {
    rt: Option<Runtime>,
}

impl Task for ShutdownTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        if let Some(rt) = self.rt.take() {
            // Cancels every task (each op's future is dropped, so its promise settles), wakes
            // every I/O waiter with an error, and waits for the worker threads to exit. On a
            // thread of its own: dropping the runtime after `shutdown_timeout` still waits for
            // running blocking-pool jobs (a slow name lookup) without a bound, and this libuv
            // pool thread, and the promise, must not wait that long.
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let spawned = std::thread::Builder::new()
                .name("corio-shutdown".into())
                .spawn(move || {
                    rt.shutdown_timeout(SHUTDOWN_WAIT);
                    let _ = done_tx.send(());
                });
            // A failed spawn dropped the closure, and the runtime in it: that shut it down here.
            if spawned.is_ok() {
                let _ = done_rx.recv_timeout(SHUTDOWN_WAIT + Duration::from_secs(1));
            }
        }
        Ok(())
    }

    fn resolve(&mut self, env: Env, _output: ()) -> napi::Result<()> {
        // Settle this environment's cancelled ops before the shutdown promise resolves, and
        // stop holding the event loop open for a runtime that is gone.
        crate::bridge::BridgeEnv::runtime_gone(env.raw());
        Ok(())
    }
}

/// Shuts the process-wide runtime down (`runtime.shutdown()` in TS). Every pending operation of
/// every environment settles — rejecting with `ERR_RUNTIME_SHUTDOWN` unless it finished first —
/// and every later operation throws or rejects with that code; the runtime never restarts.
/// Resolves once the runtime's threads have stopped (waiting at most 10 s for them) and this
/// environment's pending promises have settled. Idempotent: a second call resolves at once.
#[napi(ts_return_type = "Promise<void>")]
pub fn shutdown_runtime() -> AsyncTask<ShutdownTask> {
    AsyncTask::new(ShutdownTask {
        rt: begin_shutdown(),
    })
}
