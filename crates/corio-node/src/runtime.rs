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
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
/// Where the shutdown stands, so every `shutdownRuntime()` caller (not just the first) resolves
/// only once the runtime's threads have stopped. Set under [`OWNER`]'s lock by the first call;
/// taken last (nothing is locked while it is held). [`PHASE_DONE`] is signalled on `Done`.
static PHASE: Mutex<Phase> = Mutex::new(Phase::NotStarted);
/// Notified (all waiters) when [`PHASE`] becomes [`Phase::Done`].
static PHASE_DONE: Condvar = Condvar::new();

/// The progress of `shutdownRuntime()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not called yet.
    NotStarted,
    /// The `corio-shutdown` thread is stopping the runtime.
    Running,
    /// The runtime's threads stopped (or the wait for them timed out), or it never started.
    Done,
}

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

/// Records settings for the runtime; fails once the runtime has started (or was shut down:
/// [`begin_shutdown`] takes the config before it flags the shutdown, so no `Ok` comes after).
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
        // shut-down scheduler cancels such a task at once, and its op settles with
        // ERR_RUNTIME_SHUTDOWN (see `bridge::env`).
        Ok(h) => Ok(h),
        Err(e) => Err(e.clone()),
    }
}

/// The runtime's handle if it has started and is not shut down (metrics must not start it,
/// and report no workers once they are gone).
pub(crate) fn started() -> Option<&'static Handle> {
    if is_shut_down() {
        return None;
    }
    match HANDLE.get() {
        Some(Ok(h)) => Some(h),
        _ => None,
    }
}

/// Marks the runtime shut down and takes it (if it ever started and nobody took it yet) into a
/// [`Stopper`] at once, so no path drops it with an unbounded wait, and moves [`PHASE`] on from
/// `NotStarted`: to `Running` when this call got the runtime to stop, to `Done` when there is
/// none. Idempotent.
fn begin_shutdown() -> Option<Stopper> {
    // Lock order: OWNER, then PENDING_CONFIG (as the start path), then PHASE.
    let mut owner = OWNER.lock().unwrap_or_else(|p| p.into_inner());
    // configure() fails from now on, as after a start. The config is taken before the flag is
    // set, under its lock: a configure() that succeeds happened before the shutdown.
    let mut pending = PENDING_CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    pending.take();
    SHUT_DOWN.store(true, Ordering::Release);
    drop(pending);
    let stopper = owner.take().map(|rt| Stopper { rt: Some(rt) });
    {
        let mut phase = PHASE.lock().unwrap_or_else(|p| p.into_inner());
        if *phase == Phase::NotStarted {
            *phase = if stopper.is_some() {
                Phase::Running
            } else {
                Phase::Done
            };
        }
    }
    drop(owner);
    // Every env drains once and sees the shutdown: its listeners stop holding its event loop
    // even if it has nothing pending (a drain only happens on a completion otherwise).
    crate::bridge::wake_every_env();
    stopper
}

/// Sets [`PHASE`] to `Done` and wakes every caller waiting for it.
fn finish_phase() {
    let mut phase = PHASE.lock().unwrap_or_else(|p| p.into_inner());
    *phase = Phase::Done;
    PHASE_DONE.notify_all();
}

/// Waits (on a libuv pool thread, never the JS thread) until [`PHASE`] is not `Running`, at
/// most `bound`.
fn wait_for_done(bound: Duration) {
    let deadline = Instant::now() + bound;
    let mut phase = PHASE.lock().unwrap_or_else(|p| p.into_inner());
    while *phase == Phase::Running {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        phase = PHASE_DONE
            .wait_timeout(phase, deadline - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Owns the runtime being shut down. Every path that drops it without [`Stopper::run`] (a
/// failed thread spawn drops the thread's closure, a panic unwinds) stops the runtime with
/// `shutdown_background`: its tasks are cancelled and its drivers stopped, but nothing waits
/// for its threads, so no thread (least of all the JS thread) waits without a bound. Either
/// way [`PHASE`] ends `Done`.
struct Stopper {
    rt: Option<Runtime>,
}

impl Stopper {
    /// Stops the runtime, waiting at most [`SHUTDOWN_WAIT`] for its worker threads, then as
    /// long again at most for blocking-pool jobs (a slow name lookup cannot be interrupted).
    fn run(mut self) {
        if let Some(rt) = self.rt.take() {
            // Cancels every task (each op's future is dropped, so its promise settles), wakes
            // every I/O waiter with an error, and waits for the worker threads to exit.
            rt.shutdown_timeout(SHUTDOWN_WAIT);
        }
        // Dropping `self` marks the shutdown done.
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        finish_phase();
    }
}

/// Starts stopping the runtime on a thread of its own (`corio-shutdown`), so the runtime stops
/// now, whether or not libuv's pool has a thread free for the promise's work. Falls back to
/// `shutdown_background` on the calling thread when that thread cannot be started.
fn start_stopper(stopper: Stopper) {
    let spawned = std::thread::Builder::new()
        .name("corio-shutdown".into())
        .spawn(move || stopper.run());
    // A failed spawn dropped the closure, and the `Stopper` in it: that stopped the runtime
    // in the background and marked the shutdown done.
    drop(spawned);
}

/// The work of `shutdownRuntime()`'s promise: on libuv's thread pool, it waits (bounded) for
/// the `corio-shutdown` thread, which the first call started, to finish. It owns nothing, so
/// napi-rs failing to queue it drops nothing that could block.
pub struct ShutdownTask;

impl Task for ShutdownTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        // Past the bound the promise resolves anyway: the shutdown thread's own waits are
        // bounded by SHUTDOWN_WAIT each, so only a blocking-pool job can take it longer.
        wait_for_done(SHUTDOWN_WAIT + Duration::from_secs(1));
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
/// Resolves once the runtime's threads have stopped (waiting at most about 10 s for them) and
/// this environment's pending promises have settled. Idempotent: every call, from any
/// environment, resolves only once the first call's shutdown has finished (or its wait
/// passed the same bound).
#[napi(ts_return_type = "Promise<void>")]
pub fn shutdown_runtime() -> AsyncTask<ShutdownTask> {
    if let Some(stopper) = begin_shutdown() {
        start_stopper(stopper);
    }
    AsyncTask::new(ShutdownTask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;
    use std::sync::Arc;

    struct DropCount(Arc<AtomicUsize>);
    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The fallback when the `corio-shutdown` thread cannot start: dropping the `Stopper` (as
    /// the failed spawn does with its closure) must not wait for a worker that a task keeps
    /// busy, yet must cancel the other tasks and mark the shutdown done. The busy task is
    /// released only after the drop returned (or by a watchdog much later, which the
    /// assertion then reports instead of hanging). Uses a runtime of its own, not the
    /// process-wide one; only [`PHASE`] is shared (no other test of this crate reads it).
    #[test]
    fn a_dropped_stopper_stops_the_runtime_without_waiting_for_busy_workers() {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let (sleeping_tx, sleeping) = mpsc::channel::<()>();
        let d = DropCount(dropped.clone());
        rt.spawn(async move {
            let _d = d;
            let _ = sleeping_tx.send(());
            corio::time::sleep(Duration::from_secs(3600)).await;
        });
        sleeping.recv().unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let (busy_tx, busy) = mpsc::channel::<()>();
        let r = release.clone();
        rt.spawn(async move {
            let _ = busy_tx.send(());
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        busy.recv().unwrap();
        let fired = Arc::new(AtomicBool::new(false));
        let (done_tx, done) = mpsc::channel::<()>();
        let (r, f) = (release.clone(), fired.clone());
        let watchdog = std::thread::spawn(move || {
            if done.recv_timeout(Duration::from_secs(60)).is_err() {
                f.store(true, Ordering::SeqCst);
                r.store(true, Ordering::SeqCst);
            }
        });
        *PHASE.lock().unwrap() = Phase::Running;
        drop(Stopper { rt: Some(rt) });
        let dropped_at_return = dropped.load(Ordering::SeqCst);
        let phase = *PHASE.lock().unwrap();
        let _ = done_tx.send(());
        release.store(true, Ordering::SeqCst);
        watchdog.join().unwrap();
        assert!(
            !fired.load(Ordering::SeqCst),
            "dropping the Stopper waited for the busy worker"
        );
        assert_eq!(dropped_at_return, 1, "the timer task was not cancelled");
        assert_eq!(phase, Phase::Done);
    }
}
