//! The bridge between corio futures and JS promises — where a native result reaches JS.
//!
//! ```text
//!  JS thread                                   runtime worker threads
//!  ─────────                                   ──────────────────────
//!  op call ──► env::start(): napi promise,
//!              slot in the env's op table,
//!              corio spawn(OpTask) ───────────► OpTask polls the operation future
//!                                               (catch_unwind around every poll)
//!                                               result ──► EnvQueue::push()
//!                                                   queue empty → non-empty? signal the env's
//!  wake-up (one threadsafe fn per env) ◄────────────  ONE threadsafe function (once per batch)
//!  env::drain(): take the whole queue,
//!  settle every promise in this turn
//! ```
//!
//! - [`queue`]: the thread-safe half — the per-env completion queue, the task wrapper that
//!   always delivers exactly one completion (result, panic, or "dropped" when aborted).
//! - [`env`]: the JS-thread half — per-env op table, cancellation by op id, handle ownership
//!   for `close()`, event-loop ref counting, the env cleanup hook, and settling promises.

pub(crate) mod env;
pub(crate) mod queue;
#[cfg(unix)]
pub(crate) mod uv;

pub(crate) use env::{
    fast_path_enabled, leave_js_thread, leave_js_thread_without_fast_path, Env as BridgeEnv,
    HandleCore, OpSpec,
};
#[cfg(unix)]
pub(crate) use env::{js_poll_enabled, JsLoopReads};
#[cfg(unix)]
pub(crate) use queue::OpKey;
pub(crate) use queue::{release_after_settle, wake_every_env, OpResult, Outcome};
