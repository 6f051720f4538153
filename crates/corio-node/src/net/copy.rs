//! Native `copy` and `copy_bidirectional` between streams: bytes never reach JS.

use napi::bindgen_prelude::{ClassInstance, FromNapiValue, JavaScriptClassExt, PromiseRaw};
use napi::{Env, JsValue, Unknown};
use napi_derive::napi;

use super::shared::{lock_all, Dir, InFlight, Shared};
use super::stream::NativeTcpStream;
use crate::args;
use crate::bridge::{leave_js_thread, BridgeEnv, OpSpec, Outcome};
use crate::errors::{self, OpError};

/// Buffer size of a native `copy`.
const COPY_BUF: usize = 64 * 1024;

fn stream_arg<'e>(
    env: &Env,
    v: &Unknown<'e>,
    name: &str,
) -> napi::Result<ClassInstance<'e, NativeTcpStream>> {
    if !NativeTcpStream::instance_of(env, v).unwrap_or(false) {
        return Err(errors::type_error(
            env.raw(),
            name,
            "an instance of NativeTcpStream",
        ));
    }
    // SAFETY: JS thread; napi-rs checks the class's type tag before unwrapping.
    unsafe { ClassInstance::<NativeTcpStream>::from_napi_value(env.raw(), v.value().value) }
}

/// Copies `from` → `to` natively until end of stream, then shuts `to` down for writing.
/// Resolves the number of bytes copied. `copy(s, s)` is an echo.
#[napi(
    ts_args_type = "from: NativeTcpStream, to: NativeTcpStream, opId?: number",
    ts_return_type = "Promise<number>"
)]
pub fn copy<'e>(
    env: &'e Env,
    from: Unknown<'e>,
    to: Unknown<'e>,
    op_id: Unknown<'e>,
) -> napi::Result<PromiseRaw<'e, ()>> {
    let e = env.raw();
    let from = stream_arg(env, &from, "from")?;
    let to = stream_arg(env, &to, "to")?;
    let id = args::op_id(e, &op_id)?;
    let bridge = BridgeEnv::get(e)?;
    let spec = OpSpec {
        js_id: id,
        owners: [Some(from.core().clone()), Some(to.core().clone())],
        buf: None,
    };
    let p = match (from.io(), to.io()) {
        (Some(a), Some(b)) => {
            let in_flight = [
                InFlight::start(&a, Dir::Read),
                InFlight::start(&b, Dir::Write),
            ];
            bridge.start_lazy(spec, async move {
                let _in_flight = in_flight;
                // Kept until the copy's completion is queued (see `release_after_settle`).
                crate::bridge::release_after_settle(
                    lock_all(&mut [&a.read_lock, &b.write_lock]).await,
                );
                // Copies start lazily: their first poll, on the JS thread at call time, queues them
                // on the direction locks in call order (spawned, a copy queued only when a worker
                // first polled it, possibly after later reads). The copying itself runs on the
                // runtime: it could go on for as long as the peer keeps sending.
                leave_js_thread().await;
                if a.closed.is_set() || b.closed.is_set() {
                    return Err(OpError::Closed);
                }
                // A 64 KiB buffer (the core's `copy` uses 8 KiB): bulk transfers move a socket
                // buffer's worth per syscall, like node:net's 64 KiB reads. Measured in
                // docs/benchmarks.md (workload (c)).
                let mut reader = corio::io::BufReader::with_capacity(COPY_BUF, Shared(&a));
                let n = corio::io::copy_buf(&mut reader, &mut Shared(&b))
                    .await
                    .map_err(|e| OpError::io(e, "copy"))?;
                b.shutdown_write().map_err(|e| OpError::io(e, "shutdown"))?;
                Ok(Outcome::Number(n as f64))
            })?
        }
        _ => bridge.start(spec, async { Err(OpError::Closed) })?,
    };
    Ok(PromiseRaw::new(e, p))
}

/// Copies both ways natively until both directions reach end of stream (each side is shut
/// down for writing when the other reaches EOF). Resolves `[a→b bytes, b→a bytes]`.
#[napi(
    ts_args_type = "a: NativeTcpStream, b: NativeTcpStream, opId?: number",
    ts_return_type = "Promise<[number, number]>"
)]
pub fn copy_bidirectional<'e>(
    env: &'e Env,
    a: Unknown<'e>,
    b: Unknown<'e>,
    op_id: Unknown<'e>,
) -> napi::Result<PromiseRaw<'e, ()>> {
    let e = env.raw();
    let a = stream_arg(env, &a, "a")?;
    let b = stream_arg(env, &b, "b")?;
    let id = args::op_id(e, &op_id)?;
    let bridge = BridgeEnv::get(e)?;
    let spec = OpSpec {
        js_id: id,
        owners: [Some(a.core().clone()), Some(b.core().clone())],
        buf: None,
    };
    let p = match (a.io(), b.io()) {
        (Some(x), Some(y)) => {
            let in_flight = [
                InFlight::start(&x, Dir::Read),
                InFlight::start(&x, Dir::Write),
                InFlight::start(&y, Dir::Read),
                InFlight::start(&y, Dir::Write),
            ];
            bridge.start_lazy(spec, async move {
                let _in_flight = in_flight;
                crate::bridge::release_after_settle(
                    lock_all(&mut [&x.read_lock, &x.write_lock, &y.read_lock, &y.write_lock]).await,
                );
                // Started lazily and off the JS thread once locked, as in `copy`.
                leave_js_thread().await;
                if x.closed.is_set() || y.closed.is_set() {
                    return Err(OpError::Closed);
                }
                let (ab, ba) = corio::io::copy_bidirectional(&mut Shared(&x), &mut Shared(&y))
                    .await
                    .map_err(|e| OpError::io(e, "copy"))?;
                Ok(Outcome::Pair(ab as f64, ba as f64))
            })?
        }
        _ => bridge.start(spec, async { Err(OpError::Closed) })?,
    };
    Ok(PromiseRaw::new(e, p))
}
