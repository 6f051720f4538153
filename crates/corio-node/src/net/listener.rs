//! `NativeTcpListener`: a listening TCP socket.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::{sys, Env, Unknown};
use napi_derive::napi;

use super::addr;
use super::conn::NetStream;
use super::handle;
use super::stream::NativeAddr;
use crate::args;
use crate::bridge::{BridgeEnv, HandleCore, OpSpec, Outcome};
use crate::errors::OpError;

/// A listening TCP socket (internal; wrapped by `TcpListener` in the TS API).
#[napi]
pub struct NativeTcpListener {
    core: Rc<HandleCore>,
    /// Counts this object in `metrics().liveHandles` until it is dropped.
    _live: handle::Live,
    inner: RefCell<Option<Arc<corio::net::TcpListener>>>,
}

impl NativeTcpListener {
    pub(crate) unsafe fn into_js(
        env: sys::napi_env,
        l: corio::net::TcpListener,
    ) -> Result<sys::napi_value, OpError> {
        let bridge = BridgeEnv::get(env).map_err(|e| OpError::Internal(e.to_string()))?;
        let obj = NativeTcpListener {
            core: HandleCore::listener(&bridge),
            _live: handle::Live::new(),
            inner: RefCell::new(Some(Arc::new(l))),
        };
        napi::bindgen_prelude::ToNapiValue::to_napi_value(env, obj)
            .map_err(|e| OpError::Internal(e.to_string()))
    }
}

impl Drop for NativeTcpListener {
    /// A listener collected without `close()` stops holding the event loop.
    fn drop(&mut self) {
        if self.core.is_open() {
            self.inner.borrow_mut().take();
            if let Some(bridge) = BridgeEnv::current() {
                bridge.close_handle(&self.core);
            }
        }
    }
}

#[napi]
impl NativeTcpListener {
    /// Binds and listens on `host:port` (port 0 = any free port). SO_REUSEADDR is set on Unix
    /// like Node does; `reusePort` sets SO_REUSEPORT where the OS has it.
    #[napi(
        ts_args_type = "host: string, port: number, backlog?: number, reusePort?: boolean, opId?: number",
        ts_return_type = "Promise<NativeTcpListener>"
    )]
    pub fn bind<'e>(
        env: &'e Env,
        host: Unknown<'e>,
        port: Unknown<'e>,
        backlog: Unknown<'e>,
        reuse_port: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::port(e, &port)?;
        let backlog =
            args::opt_int_in(e, &backlog, "backlog", 1.0, 65535.0)?.unwrap_or(1024.0) as u32;
        let reuse_port =
            args::opt_boolean(e, args::raw(&reuse_port), "reusePort")?.unwrap_or(false);
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let p = bridge.start(OpSpec::plain(id), async move {
            let a = addr::resolve(&host, port).await?.remove(0);
            let ip = a.ip().to_string();
            let at = |err, syscall| OpError::io_at(err, syscall, &ip, port);
            let l = listen_socket(a, backlog, reuse_port).map_err(|(e, syscall)| at(e, syscall))?;
            Ok(Outcome::Listener(l))
        })?;
        Ok(PromiseRaw::new(e, p))
    }

    /// Accepts one connection; rejects with ERR_SOCKET_CLOSED if the listener closes first.
    #[napi(
        ts_args_type = "opId?: number",
        ts_return_type = "Promise<NativeTcpStream>"
    )]
    pub fn accept<'e>(&self, env: &'e Env, op_id: Unknown<'e>) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let spec = OpSpec::on(id, &self.core);
        let p = match self.inner.borrow().clone() {
            Some(l) => bridge.start(spec, async move {
                let (s, _) = l.accept().await.map_err(|e| OpError::io(e, "accept"))?;
                Ok(Outcome::Stream(NetStream::Tcp(s)))
            })?,
            None => bridge.start(spec, async { Err(OpError::Closed) })?,
        };
        Ok(PromiseRaw::new(e, p))
    }

    /// The bound address (the actual port when bound to port 0).
    #[napi]
    pub fn local_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let l = self.inner.borrow().clone();
        let l = l.ok_or_else(|| handle::closed_error(env))?;
        handle::addr(env, l.local_addr(), "getsockname")
    }

    /// Stops listening; a pending accept rejects with ERR_SOCKET_CLOSED. Idempotent.
    #[napi]
    pub fn close(&self, env: &Env) -> napi::Result<()> {
        handle::close(env, &self.core, &self.inner)
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        !self.core.is_open()
    }

    /// An open listener keeps the event loop alive (default).
    #[napi(js_name = "ref")]
    pub fn ref_(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.core, true)
    }

    /// The listener (and its pending accept) no longer keeps the event loop alive.
    #[napi]
    pub fn unref(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.core, false)
    }
}

/// Makes the listening socket: `SO_REUSEADDR` on Unix (as libuv does, so a restarted server
/// can bind while old connections linger in `TIME_WAIT`; on Windows it would let another
/// process steal the port), `SO_REUSEPORT` when asked, then bind and listen. One path on every
/// platform, through socket2. A failure names its syscall.
fn listen_socket(
    a: std::net::SocketAddr,
    backlog: u32,
    reuse_port: bool,
) -> Result<corio::net::TcpListener, (std::io::Error, &'static str)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(a), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| (e, "socket"))?;
    #[cfg(unix)]
    sock.set_reuse_address(true)
        .map_err(|e| (e, "setsockopt"))?;
    super::sockopt::set_reuse_port(&sock, reuse_port).map_err(|e| (e, "setsockopt"))?;
    sock.bind(&a.into()).map_err(|e| (e, "bind"))?;
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    sock.listen(backlog).map_err(|e| (e, "listen"))?;
    corio::net::TcpListener::from_std(sock.into()).map_err(|e| (e, "listen"))
}
