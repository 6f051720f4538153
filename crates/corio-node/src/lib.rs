//! Node.js binding of the corio runtime (napi-rs v3).
//!
//! Thin by design: it translates, it does not decide. Socket logic lives in the `corio` crate;
//! this crate owns the things only a binding can: the one runtime of the process
//! ([`runtime`]), the bridge that turns finished futures into settled promises with one
//! wake-up per batch ([`bridge`]), JS-facing error shapes ([`errors`]), argument validation
//! ([`args`]), and the napi classes over TCP ([`net`]).
//!
//! Exposed to JS as the generated `index.js`/`index.d.ts` (internal; the public API is the
//! hand-written TS in `src/`).

#![allow(clippy::missing_safety_doc)]
// napi-derive compiles the module registration out of `cargo test` builds, so every exported
// function looks unused there; the JS tests exercise them.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod bench;
mod bridge;
mod errors;
mod js;
mod net;
mod runtime;
mod windows_errors;

use napi::{Env, Unknown};
use napi_derive::napi;

/// Runtime metrics (core) plus this environment's bridge counters.
#[napi(object)]
pub struct NativeMetrics {
    /// Runtime worker threads (0 if the runtime has not started).
    pub workers: u32,
    /// Tasks alive in the runtime.
    pub alive_tasks: u32,
    /// Tasks waiting in the runtime's global queue.
    pub global_queue_depth: u32,
    /// Ops of this environment started and not yet settled.
    pub pending_ops: u32,
    /// Things keeping this environment's event loop alive (ref'd pending ops, open ref'd listeners).
    pub refs: u32,
    /// Promises settled through this environment's completion queue.
    pub completions: f64,
    /// JS-thread wake-ups of this environment (completions / wakeups = mean batch size).
    pub wakeups: f64,
    /// Native socket handle objects (listeners, TCP streams, UDP sockets) alive in the process,
    /// closed or not; one dropped without `close()` leaves the count once V8 collects it.
    pub live_handles: u32,
}

/// Sets runtime options; valid only before the first native operation of the process.
#[napi(ts_args_type = "config: { workerThreads?: number }")]
pub fn configure(env: &Env, config: Unknown<'_>) -> napi::Result<()> {
    let e = env.raw();
    let wt = args::prop(e, &config, "config", "workerThreads")?;
    let worker_threads =
        args::prop_int(e, wt, "config.workerThreads", 1.0, 1024.0)?.map(|n| n as usize);
    runtime::configure(runtime::Config { worker_threads }).map_err(|runtime::ConfigureError::AlreadyStarted| {
        if runtime::is_shut_down() {
            return errors::plain_error(e, runtime::SHUTDOWN_CODE, runtime::SHUTDOWN_MSG);
        }
        errors::plain_error(e, "ERR_RUNTIME_STARTED", "corio: configure() must be called before the first native operation; the runtime has already started")
    })
}

/// The runtime's metrics as a plain object (does not start the runtime).
#[napi]
pub fn metrics(env: &Env) -> NativeMetrics {
    let c = bridge::BridgeEnv::counters(env.raw());
    let (workers, alive_tasks, global_queue_depth) = match runtime::started() {
        Some(rt) => {
            let m = rt.metrics();
            (
                m.num_workers() as u32,
                m.num_alive_tasks() as u32,
                m.global_queue_depth() as u32,
            )
        }
        None => (0, 0, 0),
    };
    NativeMetrics {
        workers,
        alive_tasks,
        global_queue_depth,
        pending_ops: c.pending as u32,
        refs: c.refs as u32,
        completions: c.completions as f64,
        wakeups: c.wakeups as f64,
        live_handles: net::handle::live_handles() as u32,
    }
}

/// Cancels the pending op `opId` of this environment (no-op if unknown or finished); its
/// promise rejects with `AbortError` (`code: 'ABORT_ERR'`) once the native future is dropped.
#[napi(ts_args_type = "opId: number")]
pub fn cancel(env: &Env, op_id: Unknown<'_>) -> napi::Result<()> {
    let id = args::op_id(env.raw(), &op_id)?;
    if id != 0 {
        if let Some(b) = bridge::BridgeEnv::current() {
            b.cancel(id);
        }
    }
    Ok(())
}
