//! Bridge round-trip probes: `noop` (our completion queue) vs `noopBaseline` (napi-rs'
//! per-promise path), and hidden test hooks for the bridge's failure paths.

use napi::bindgen_prelude::{AsyncTask, PromiseRaw};
use napi::{Env, Task, Unknown};
use napi_derive::napi;

use crate::args;
use crate::bridge::{BridgeEnv, OpSpec, Outcome};

/// A no-op native async round trip through the runtime and the env's completion queue.
#[napi(ts_args_type = "opId?: number", ts_return_type = "Promise<void>")]
pub fn noop<'e>(env: &'e Env, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
    let id = args::op_id(env.raw(), &op_id)?;
    let p =
        BridgeEnv::get(env.raw())?.start(OpSpec::plain(id), async { Ok(Outcome::Undefined) })?;
    Ok(PromiseRaw::new(env.raw(), p))
}

/// napi-rs' per-promise async path (one `napi_async_work` + deferred per call, run on libuv's
/// thread pool): the baseline `noop` is measured against.
pub struct NoopTask;

impl Task for NoopTask {
    type Output = ();
    type JsValue = ();
    fn compute(&mut self) -> napi::Result<()> {
        Ok(())
    }
    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// The baseline no-op round trip (napi-rs per-promise `AsyncTask`).
#[napi(ts_return_type = "Promise<void>")]
pub fn noop_baseline() -> AsyncTask<NoopTask> {
    AsyncTask::new(NoopTask)
}

/// Test hook: a native future that panics; its promise must reject with ERR_NATIVE_PANIC.
#[napi(js_name = "__panicForTest", ts_return_type = "Promise<void>")]
pub fn panic_for_test<'e>(env: &'e Env) -> napi::Result<PromiseRaw<'e, ()>> {
    let p = BridgeEnv::get(env.raw())?.start(OpSpec::plain(0), async {
        if std::hint::black_box(true) {
            panic!("__panicForTest: deliberate panic in a native future");
        }
        Ok(Outcome::Undefined)
    })?;
    Ok(PromiseRaw::new(env.raw(), p))
}

/// Test hook: a native future that never completes until cancelled or its env is torn down.
#[napi(
    js_name = "__pendingForTest",
    ts_args_type = "opId?: number",
    ts_return_type = "Promise<void>"
)]
pub fn pending_for_test<'e>(env: &'e Env, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
    let id = args::op_id(env.raw(), &op_id)?;
    let p = BridgeEnv::get(env.raw())?.start(OpSpec::plain(id), std::future::pending())?;
    Ok(PromiseRaw::new(env.raw(), p))
}
