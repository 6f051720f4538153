//! `NativeTcpStream`: a connected TCP socket driven by the runtime.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::PromiseRaw;
use napi::{sys, Env, Unknown};
use napi_derive::napi;
use socket2::TcpKeepalive;

use super::addr;
use super::shared::StreamIo;
use crate::args;
use crate::bridge::{BridgeEnv, HandleCore, OpSpec, Outcome};
use crate::errors::{self, OpError};

/// Largest single read/write accepted (1 GiB): bounds the native buffer a read allocates.
pub(crate) const MAX_IO: f64 = (1u64 << 30) as f64;

/// A local or remote socket address.
#[napi(object)]
pub struct NativeAddr {
    pub address: String,
    pub port: u32,
    #[napi(ts_type = "'IPv4' | 'IPv6'")]
    pub family: String,
}

impl From<std::net::SocketAddr> for NativeAddr {
    fn from(a: std::net::SocketAddr) -> NativeAddr {
        NativeAddr { address: a.ip().to_string(), port: a.port() as u32, family: if a.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned() }
    }
}

/// Options of `NativeTcpStream.connect` (typing only; read property by property natively).
#[allow(dead_code)]
#[napi(object)]
pub struct NativeConnectOptions {
    /// TCP_NODELAY on the new socket.
    pub no_delay: Option<bool>,
    /// SO_KEEPALIVE on the new socket.
    pub keep_alive: Option<bool>,
    /// Idle time before the first keep-alive probe (enables keep-alive unless `keepAlive: false`).
    pub keep_alive_initial_delay_ms: Option<u32>,
}

/// A connected TCP stream (internal; wrapped by `TcpStream` in the TS API).
#[napi]
pub struct NativeTcpStream {
    core: Rc<HandleCore>,
    io: RefCell<Option<Arc<StreamIo>>>,
}

impl NativeTcpStream {
    /// Wraps a connected stream into a new JS object (settle path, JS thread).
    pub(crate) unsafe fn into_js(env: sys::napi_env, stream: corio::net::TcpStream) -> Result<sys::napi_value, OpError> {
        let obj = NativeTcpStream { core: HandleCore::stream(), io: RefCell::new(Some(Arc::new(StreamIo::new(stream)))) };
        napi::bindgen_prelude::ToNapiValue::to_napi_value(env, obj).map_err(|e| OpError::Internal(e.to_string()))
    }

    pub(crate) fn core(&self) -> &Rc<HandleCore> {
        &self.core
    }

    /// The shared socket, or `None` once closed.
    pub(crate) fn io(&self) -> Option<Arc<StreamIo>> {
        self.io.borrow().clone()
    }

    /// Starts an op on this stream; a closed stream gives a promise rejected with ERR_SOCKET_CLOSED.
    fn op<'e, F, Fut>(&self, env: &'e Env, spec: OpSpec, f: F) -> napi::Result<PromiseRaw<'e, ()>>
    where
        F: FnOnce(Arc<StreamIo>) -> Fut,
        Fut: std::future::Future<Output = crate::bridge::OpResult> + Send + 'static,
    {
        let bridge = BridgeEnv::get(env.raw())?;
        let p = match self.io() {
            Some(io) => bridge.start(spec, f(io))?,
            None => bridge.start(spec, async { Err(OpError::Closed) })?,
        };
        Ok(PromiseRaw::new(env.raw(), p))
    }

    fn sync_io(&self, env: &Env) -> napi::Result<Arc<StreamIo>> {
        self.io().ok_or_else(|| errors::plain_error(env.raw(), "ERR_SOCKET_CLOSED", "Socket is closed"))
    }
}

#[napi]
impl NativeTcpStream {
    /// Connects to `host:port` (names resolved natively, off the JS thread).
    #[napi(
        ts_args_type = "host: string, port: number, opts?: NativeConnectOptions | undefined | null, opId?: number",
        ts_return_type = "Promise<NativeTcpStream>"
    )]
    pub fn connect<'e>(env: &'e Env, host: Unknown<'e>, port: Unknown<'e>, opts: Unknown<'e>, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::port(e, &port)?;
        let no_delay = args::opt_boolean(e, args::prop(e, &opts, "opts", "noDelay")?, "opts.noDelay")?;
        let keep_alive = args::opt_boolean(e, args::prop(e, &opts, "opts", "keepAlive")?, "opts.keepAlive")?;
        let delay = args::prop_int(e, args::prop(e, &opts, "opts", "keepAliveInitialDelayMs")?, "opts.keepAliveInitialDelayMs", 0.0, 2_147_483_647.0)?;
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let p = bridge.start(OpSpec::plain(id), async move {
            let addrs = addr::resolve(&host, port).await?;
            let mut last = None;
            for a in addrs {
                match corio::net::TcpStream::connect(a).await {
                    Ok(s) => {
                        if let Some(on) = no_delay {
                            s.set_nodelay(on).map_err(|e| OpError::io(e, "setsockopt"))?;
                        }
                        if keep_alive == Some(true) || delay.is_some() && keep_alive != Some(false) {
                            apply_keepalive(&s, true, delay).map_err(|e| OpError::io(e, "setsockopt"))?;
                        }
                        return Ok(Outcome::Stream(s));
                    }
                    Err(err) => last = Some(OpError::io_at(err, "connect", &a.ip().to_string(), port)),
                }
            }
            Err(last.unwrap_or(OpError::NotFound { host, detail: "no addresses".into() }))
        })?;
        Ok(PromiseRaw::new(e, p))
    }

    /// Reads up to `buf.byteLength` bytes into `buf`; resolves the count (0 = end of stream).
    #[napi(ts_args_type = "buf: Uint8Array, opId?: number", ts_return_type = "Promise<number>")]
    pub fn read<'e>(&self, env: &'e Env, buf: Unknown<'e>, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let (len, r) = args::u8_array_ref(e, &buf, "buf")?;
        let max = len.min(MAX_IO as usize);
        let spec = OpSpec { js_id: id, owners: [Some(self.core.clone()), None], buf: Some(r) };
        self.op(env, spec, move |io| async move {
            if max == 0 {
                return Ok(Outcome::Number(0.0));
            }
            let _g = io.read_lock.lock().await;
            io.read(max).await.map(Outcome::Read).map_err(|e| OpError::io(e, "read"))
        })
    }

    /// One write (may be partial); `data` is copied at call time. Resolves bytes written.
    #[napi(ts_args_type = "data: Uint8Array, opId?: number", ts_return_type = "Promise<number>")]
    pub fn write<'e>(&self, env: &'e Env, data: Unknown<'e>, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let owned = args::bytes(e, &data, "data")?.to_vec();
        self.op(env, OpSpec::on(id, &self.core), move |io| async move {
            if owned.is_empty() {
                return Ok(Outcome::Number(0.0));
            }
            let _g = io.write_lock.lock().await;
            io.write(&owned).await.map(|n| Outcome::Number(n as f64)).map_err(|e| OpError::io(e, "write"))
        })
    }

    /// Writes all of `data` (copied at call time).
    #[napi(ts_args_type = "data: Uint8Array, opId?: number", ts_return_type = "Promise<void>")]
    pub fn write_all<'e>(&self, env: &'e Env, data: Unknown<'e>, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let owned = args::bytes(e, &data, "data")?.to_vec();
        self.op(env, OpSpec::on(id, &self.core), move |io| async move {
            let _g = io.write_lock.lock().await;
            io.write_all(&owned).await.map(|_| Outcome::Undefined).map_err(|e| OpError::io(e, "write"))
        })
    }

    /// Half-close: shuts the write side down after pending writes; reading goes on.
    #[napi(ts_args_type = "opId?: number", ts_return_type = "Promise<void>")]
    pub fn shutdown<'e>(&self, env: &'e Env, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let id = args::op_id(env.raw(), &op_id)?;
        self.op(env, OpSpec::on(id, &self.core), move |io| async move {
            let _g = io.write_lock.lock().await;
            io.shutdown_write().map(|_| Outcome::Undefined).map_err(|e| OpError::io(e, "shutdown"))
        })
    }

    /// Closes the stream: pending ops reject with ERR_SOCKET_CLOSED; idempotent.
    #[napi]
    pub fn close(&self, env: &Env) -> napi::Result<()> {
        self.io.borrow_mut().take();
        BridgeEnv::get(env.raw())?.close_handle(&self.core);
        Ok(())
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        !self.core.is_open()
    }

    /// Enables/disables Nagle's algorithm (TCP_NODELAY = on).
    #[napi(ts_args_type = "on: boolean")]
    pub fn set_no_delay(&self, env: &Env, on: Unknown<'_>) -> napi::Result<()> {
        let on = args::boolean(env.raw(), args::raw(&on), "on")?;
        let io = self.sync_io(env)?;
        io.stream.set_nodelay(on).map_err(|e| sync_err(env, e, "setsockopt"))
    }

    /// Enables/disables TCP keep-alive, optionally with the idle time before the first probe.
    #[napi(ts_args_type = "on: boolean, initialDelayMs?: number")]
    pub fn set_keep_alive(&self, env: &Env, on: Unknown<'_>, initial_delay_ms: Unknown<'_>) -> napi::Result<()> {
        let e = env.raw();
        let on = args::boolean(e, args::raw(&on), "on")?;
        let delay = args::opt_int_in(e, &initial_delay_ms, "initialDelayMs", 0.0, 2_147_483_647.0)?;
        let io = self.sync_io(env)?;
        apply_keepalive(&io.stream, on, delay).map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// The local address.
    #[napi]
    pub fn local_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.sync_io(env)?;
        io.stream.local_addr().map(Into::into).map_err(|e| sync_err(env, e, "getsockname"))
    }

    /// The remote address.
    #[napi]
    pub fn peer_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.sync_io(env)?;
        io.stream.peer_addr().map(Into::into).map_err(|e| sync_err(env, e, "getpeername"))
    }

    /// Pending ops of this stream keep the event loop alive (default).
    #[napi(js_name = "ref")]
    pub fn ref_(&self, env: &Env) -> napi::Result<()> {
        BridgeEnv::get(env.raw())?.set_handle_ref(&self.core, true);
        Ok(())
    }

    /// Pending ops of this stream no longer keep the event loop alive.
    #[napi]
    pub fn unref(&self, env: &Env) -> napi::Result<()> {
        BridgeEnv::get(env.raw())?.set_handle_ref(&self.core, false);
        Ok(())
    }
}

fn apply_keepalive(s: &corio::net::TcpStream, on: bool, delay_ms: Option<f64>) -> std::io::Result<()> {
    let sock = socket2::SockRef::from(s);
    match (on, delay_ms) {
        (true, Some(ms)) if ms > 0.0 => sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(Duration::from_millis(ms as u64))),
        _ => sock.set_keepalive(on),
    }
}

/// Throws a synchronous I/O error shaped like an op rejection.
pub(crate) fn sync_err(env: &Env, err: std::io::Error, syscall: &'static str) -> napi::Error {
    // SAFETY: JS thread of the current call.
    unsafe {
        let v = errors::op_error_to_js(env.raw(), &OpError::io(err, syscall));
        sys::napi_throw(env.raw(), v);
    }
    errors::pending()
}
