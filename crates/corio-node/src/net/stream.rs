//! `NativeTcpStream`: a connected stream socket driven by the runtime — TCP, or a Unix domain
//! socket (`connectUnix`, or accepted by a `NativeUnixListener`): one class for both, so the
//! fast path, JS-loop reads, slots and `copy` serve both ([`NetStream`]). TCP-only options
//! reject a Unix socket with `ENOTSUP`.
//!
//! Reads and writes are the free functions `tcpRead`, `tcpWrite` and `tcpWriteAll`, which
//! find the stream by its slot number (`slots.rs`): cheaper per call than a method on the
//! class object.
//!
//! Fast path: a read or write first tries its syscall on the JS thread when no native op of
//! the same direction is in flight (so FIFO order holds) and the env's synchronous budget
//! allows (64 completions per drain by default; `CORIO_SYNC_BUDGET=0` turns the fast path off,
//! see `bridge/env.rs`). `try_read`/`try_write` cost no syscall when the socket's cached
//! readiness already says "not ready" (a short read clears it, see `shared.rs`). A success
//! returns the result itself, not a promise (a read goes straight into the JS buffer, a write
//! straight from it; the TS layer makes the resolved promise); `WouldBlock` falls back to an
//! op, started lazily (polled once on the JS thread, handed to the runtime when woken:
//! `BridgeEnv::start_lazy`), or on unix to a JS-loop read (`jspoll.rs`). Measured in
//! docs/benchmarks.md.

use std::cell::RefCell;
use std::io::ErrorKind::WouldBlock;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::{sys, Env, Unknown};
use napi_derive::napi;

use super::addr;
use super::conn::NetStream;
use super::handle::{self, sync_err};
use super::shared::{Dir, InFlight, StreamIo};
use super::slots;
use super::sockopt;
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
        NativeAddr {
            address: a.ip().to_string(),
            port: a.port() as u32,
            family: if a.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
        }
    }
}

/// Options of `NativeTcpStream.connect` (typing only: `connect` reads them property by property
/// to name a bad one in its error, so the struct is never built in Rust).
#[allow(dead_code)]
#[napi(object, object_to_js = false, object_from_js = false)]
pub struct NativeConnectOptions {
    /// TCP_NODELAY on the new socket.
    pub no_delay: Option<bool>,
    /// SO_KEEPALIVE on the new socket.
    pub keep_alive: Option<bool>,
    /// Idle time before the first keep-alive probe (enables keep-alive unless `keepAlive: false`).
    pub keep_alive_initial_delay_ms: Option<u32>,
}

/// What a TCP stream handle is: shared by its JS object and the slot table that the hot-path
/// calls reach it through (`slots.rs`).
pub(crate) struct TcpState {
    core: Rc<HandleCore>,
    io: RefCell<Option<Arc<StreamIo>>>,
    /// The JS-loop read watcher (`jspoll.rs`), created on the first read that must wait.
    #[cfg(unix)]
    watcher: RefCell<Option<Rc<super::jspoll::ReadWatcher>>>,
}

/// A connected stream, TCP or Unix (internal; wrapped by `TcpStream` or `UnixStream` in the TS
/// API). Reads and writes
/// are the free functions `tcpRead`, `tcpWrite` and `tcpWriteAll`, which take its `slot`.
#[napi]
pub struct NativeTcpStream {
    state: Rc<TcpState>,
    /// This stream's number in the slot table, freed when the object is dropped.
    slot: f64,
    /// Counts this object in `metrics().liveHandles` until it is dropped.
    _live: handle::Live,
}

impl NativeTcpStream {
    /// Wraps a connected stream into a new JS object (settle path, JS thread).
    pub(crate) unsafe fn into_js(
        env: sys::napi_env,
        stream: NetStream,
    ) -> Result<sys::napi_value, OpError> {
        let state = Rc::new(TcpState {
            core: HandleCore::stream(),
            io: RefCell::new(Some(Arc::new(StreamIo::new(stream)))),
            #[cfg(unix)]
            watcher: RefCell::new(None),
        });
        let obj = NativeTcpStream {
            slot: slots::insert(state.clone()),
            state,
            _live: handle::Live::new(),
        };
        napi::bindgen_prelude::ToNapiValue::to_napi_value(env, obj)
            .map_err(|e| OpError::Internal(e.to_string()))
    }

    pub(crate) fn core(&self) -> &Rc<HandleCore> {
        &self.state.core
    }

    /// The shared socket, or `None` once closed.
    pub(crate) fn io(&self) -> Option<Arc<StreamIo>> {
        self.state.io()
    }
}

impl TcpState {
    /// The shared socket, or `None` once closed.
    pub(crate) fn io(&self) -> Option<Arc<StreamIo>> {
        self.io.borrow().clone()
    }

    /// Starts an op of direction `dir` on this stream (counted in flight until its future is
    /// gone); a closed stream gives a promise rejected with ERR_SOCKET_CLOSED.
    fn op<F, Fut>(
        &self,
        bridge: &BridgeEnv,
        spec: OpSpec,
        dir: Dir,
        f: F,
    ) -> napi::Result<sys::napi_value>
    where
        F: FnOnce(Arc<StreamIo>) -> Fut,
        Fut: std::future::Future<Output = crate::bridge::OpResult> + Send + 'static,
    {
        let p = match self.io() {
            // Lazy: polled once here first, so a read that waits for data (or a write that
            // waits for room) parks on the I/O driver without waking a runtime worker.
            Some(io) => {
                // Counted from here until the op's future finishes or is dropped.
                let in_flight = InFlight::start(&io, dir);
                let fut = f(io);
                bridge.start_lazy(spec, async move {
                    let _in_flight = in_flight;
                    fut.await
                })?
            }
            None => bridge.start(spec, async { Err(OpError::Closed) })?,
        };
        Ok(p)
    }

    /// Starts a read that must wait as a JS-loop op (`jspoll.rs`), served by this stream's poll
    /// watcher on the JS thread. `Ok(None)`: not possible now (no watcher, or a native op holds
    /// the read lock): the caller takes the runtime path.
    #[cfg(unix)]
    #[allow(clippy::too_many_arguments)]
    fn js_loop_read<'e>(
        &self,
        env: &'e Env,
        bridge: &BridgeEnv,
        io: &Arc<StreamIo>,
        buf: &Unknown<'e>,
        id: u64,
        max: usize,
        null_at_eof: bool,
    ) -> napi::Result<Option<sys::napi_value>> {
        let e = env.raw();
        let existing = self.watcher.borrow().clone().filter(|w| !w.is_closed());
        let w = match existing {
            Some(w) => w,
            None => match super::jspoll::ReadWatcher::new(e, io) {
                Some(w) => {
                    *self.watcher.borrow_mut() = Some(w.clone());
                    w
                }
                None => return Ok(None),
            },
        };
        if !w.acquire_lock() || !w.ensure_polling() {
            w.settle_idle();
            return Ok(None);
        }
        // Nothing on the runtime reads this stream (the caller checked): incoming data need not
        // wake a runtime thread (turned back on when a native read starts).
        debug_assert!(io.idle(Dir::Read));
        io.set_driver_reads(false);
        let r = match args::new_ref(e, buf) {
            Ok(r) => r,
            Err(err) => {
                w.settle_idle();
                return Err(err);
            }
        };
        let spec = OpSpec {
            js_id: id,
            owners: [Some(self.core.clone()), None],
            buf: Some(r),
        };
        match bridge.start_js_loop(spec, w.clone()) {
            Ok((key, p)) => {
                match key {
                    Some(key) => w.push(key, max, null_at_eof),
                    None => w.settle_idle(),
                }
                Ok(Some(p))
            }
            Err(err) => {
                w.settle_idle();
                Err(err)
            }
        }
    }

    fn sync_io(&self, env: &Env) -> napi::Result<Arc<StreamIo>> {
        self.io().ok_or_else(|| handle::closed_error(env))
    }

    /// `tcpRead`: reads up to `buf.byteLength` bytes into `buf`. The count, or at end of
    /// stream 0 (`null` when `nullAtEof` is true, what the TS API returns); a promise of it
    /// when the read must wait (see [`now`] for a read completed at once).
    fn read<'e>(
        &self,
        env: &'e Env,
        buf: Unknown<'e>,
        op_id: Unknown<'e>,
        null_at_eof: Unknown<'e>,
    ) -> napi::Result<sys::napi_value> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let null_at_eof =
            args::opt_boolean(e, args::raw(&null_at_eof), "nullAtEof")?.unwrap_or(false);
        let eof = if null_at_eof {
            Outcome::Null
        } else {
            Outcome::Number(0.0)
        };
        let (data, len) = args::u8_array(e, &buf, "buf")?;
        let max = len.min(MAX_IO as usize);
        let bridge = BridgeEnv::get(e)?;
        // JS-loop reads (unix): pending ones go first (FIFO); a read that must wait becomes one.
        #[cfg(unix)]
        let js_loop =
            max > 0 && crate::bridge::js_poll_enabled() && !crate::runtime::is_shut_down();
        #[cfg(unix)]
        let (queued, drained) = match self.watcher.borrow().as_ref() {
            Some(w) if js_loop => {
                let queued = w.has_reads();
                (queued, !queued && w.take_drained())
            }
            _ => (false, false),
        };
        #[cfg(not(unix))]
        let (queued, drained) = (false, false);
        let io = self.io();
        if let Some(io) = io.as_ref().filter(|io| {
            max > 0 && !queued && !drained && io.idle(Dir::Read) && bridge.sync_budget_left()
        }) {
            // SAFETY: `data` points to `len >= max > 0` live bytes of the typed array, queried
            // just now on the JS thread; no JS runs before `try_read` returns, and the slice
            // does not outlive this call.
            let dst = unsafe { std::slice::from_raw_parts_mut(data, max) };
            // While the driver does not watch reads (JS-loop reads, unix) the cached readiness
            // is stale: a real `recv` (skipped above when the last one found the socket empty).
            #[cfg(unix)]
            let r = if io.driver_reads() {
                io.try_read(dst)
            } else {
                let r = io.recv_now(dst);
                if matches!(r, Ok(n) if n > 0 && n < max) {
                    if let Some(w) = self.watcher.borrow().as_ref() {
                        w.mark_drained();
                    }
                }
                r
            };
            #[cfg(not(unix))]
            let r = io.try_read(dst);
            match r {
                Ok(0) => return now(&bridge, Ok(eof), "read"),
                Ok(n) => return now(&bridge, Ok(Outcome::Number(n as f64)), "read"),
                Err(err) if err.kind() == WouldBlock => {}
                Err(err) => return now(&bridge, Err(OpError::io(err, "read")), "read"),
            }
        }
        // Only while no native read (or `copy` reading this stream) is in flight or waiting
        // for the read lock: a read issued after one queues behind it on the lock (FIFO), and
        // reads joining the JS-loop queue meanwhile would keep the lock from it for as long
        // as JS keeps a read queued.
        #[cfg(unix)]
        if js_loop {
            if let Some(io) = io.as_ref().filter(|io| io.idle(Dir::Read)) {
                if let Some(p) = self.js_loop_read(env, &bridge, io, &buf, id, max, null_at_eof)? {
                    return Ok(p);
                }
            }
        }
        let r = args::new_ref(e, &buf)?;
        let spec = OpSpec {
            js_id: id,
            owners: [Some(self.core.clone()), None],
            buf: Some(r),
        };
        self.op(&bridge, spec, Dir::Read, move |io| async move {
            if max == 0 {
                return Ok(Outcome::Number(0.0));
            }
            io.in_turn(Dir::Read, async {
                let done = io.read(max).await.map_err(|e| OpError::io(e, "read"))?;
                if done.n == 0 {
                    done.recycle();
                    return Ok(eof);
                }
                Ok(Outcome::Read(done))
            })
            .await
        })
    }

    /// Tries `data` on the JS thread when nothing is queued before it: `Ok(n)` bytes written
    /// (0 when the fast path does not apply or the socket is not ready), or a settled rejection.
    fn try_write_now(&self, bridge: &BridgeEnv, data: &[u8]) -> Result<usize, OpError> {
        match self.io() {
            Some(io) if !data.is_empty() && io.idle(Dir::Write) && bridge.sync_budget_left() => {
                match io.try_write(data) {
                    Ok(n) => Ok(n),
                    Err(err) if err.kind() == WouldBlock => Ok(0),
                    Err(err) => Err(OpError::io(err, "write")),
                }
            }
            _ => Ok(0),
        }
    }

    /// `tcpWrite`: one write (may be partial); `data` is copied at call time. The bytes
    /// written, or a promise of them.
    fn write<'e>(
        &self,
        env: &'e Env,
        data: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<sys::napi_value> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let data = args::bytes(e, &data, "data")?;
        let bridge = BridgeEnv::get(e)?;
        match self.try_write_now(&bridge, data) {
            Ok(0) => {}
            Ok(n) => return now(&bridge, Ok(Outcome::Number(n as f64)), "write"),
            Err(err) => return now(&bridge, Err(err), "write"),
        }
        let owned = data.to_vec();
        self.op(
            &bridge,
            OpSpec::on(id, &self.core),
            Dir::Write,
            move |io| async move {
                if owned.is_empty() {
                    return Ok(Outcome::Number(0.0));
                }
                io.in_turn(Dir::Write, async {
                    io.write(&owned)
                        .await
                        .map(|n| Outcome::Number(n as f64))
                        .map_err(|e| OpError::io(e, "write"))
                })
                .await
            },
        )
    }

    /// `tcpWriteAll`: writes all of `data` (whatever is not written at once is copied at call
    /// time). `undefined` when all of it was written at once, else a promise.
    fn write_all<'e>(
        &self,
        env: &'e Env,
        data: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<sys::napi_value> {
        let e = env.raw();
        let id = args::op_id(e, &op_id)?;
        let data = args::bytes(e, &data, "data")?;
        let bridge = BridgeEnv::get(e)?;
        let done = match self.try_write_now(&bridge, data) {
            Ok(n) => n,
            Err(err) => return now(&bridge, Err(err), "write"),
        };
        if done > 0 && done == data.len() {
            return now(&bridge, Ok(Outcome::Undefined), "write");
        }
        let owned = data[done..].to_vec();
        self.op(
            &bridge,
            OpSpec::on(id, &self.core),
            Dir::Write,
            move |io| async move {
                io.in_turn(Dir::Write, async {
                    io.write_all(&owned)
                        .await
                        .map(|_| Outcome::Undefined)
                        .map_err(|e| OpError::io(e, "write"))
                })
                .await
            },
        )
    }
}

#[napi]
impl NativeTcpStream {
    /// Connects to `host:port` (names resolved natively, off the JS thread).
    #[napi(
        ts_args_type = "host: string, port: number, opts?: NativeConnectOptions | undefined | null, opId?: number",
        ts_return_type = "Promise<NativeTcpStream>"
    )]
    pub fn connect<'e>(
        env: &'e Env,
        host: Unknown<'e>,
        port: Unknown<'e>,
        opts: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::port(e, &port)?;
        let no_delay =
            args::opt_boolean(e, args::prop(e, &opts, "opts", "noDelay")?, "opts.noDelay")?;
        let keep_alive = args::opt_boolean(
            e,
            args::prop(e, &opts, "opts", "keepAlive")?,
            "opts.keepAlive",
        )?;
        let delay = args::prop_int(
            e,
            args::prop(e, &opts, "opts", "keepAliveInitialDelayMs")?,
            "opts.keepAliveInitialDelayMs",
            0.0,
            2_147_483_647.0,
        )?;
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let p = bridge.start(OpSpec::plain(id), async move {
            let addrs = addr::resolve(&host, port).await?;
            let mut last = None;
            for a in addrs {
                match corio::net::TcpStream::connect(a).await {
                    Ok(s) => {
                        if let Some(on) = no_delay {
                            s.set_nodelay(on)
                                .map_err(|e| OpError::io(e, "setsockopt"))?;
                        }
                        if keep_alive == Some(true) || delay.is_some() && keep_alive != Some(false)
                        {
                            sockopt::set_keepalive(&s, true, delay)
                                .map_err(|e| OpError::io(e, "setsockopt"))?;
                        }
                        return Ok(Outcome::Stream(NetStream::Tcp(s)));
                    }
                    Err(err) => {
                        last = Some(OpError::io_at(err, "connect", &a.ip().to_string(), port))
                    }
                }
            }
            Err(last.unwrap_or(OpError::NotFound {
                host,
                detail: "no addresses".into(),
            }))
        })?;
        Ok(PromiseRaw::new(e, p))
    }

    /// Connects to the Unix domain stream socket at `path` (unix; elsewhere it rejects with
    /// `ENOTSUP`). Errors carry the path as `address`.
    #[napi(
        ts_args_type = "path: string, opId?: number",
        ts_return_type = "Promise<NativeTcpStream>"
    )]
    pub fn connect_unix<'e>(
        env: &'e Env,
        path: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let path = args::string(e, &path, "path", 4096)?;
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let p = bridge.start(OpSpec::plain(id), async move {
            #[cfg(unix)]
            let r = corio::net::UnixStream::connect(&path)
                .await
                .map(|s| Outcome::Stream(NetStream::Unix(s)));
            #[cfg(not(unix))]
            let r = Err(std::io::ErrorKind::Unsupported.into());
            r.map_err(|err| OpError::io_path(err, "connect", &path))
        })?;
        Ok(PromiseRaw::new(e, p))
    }

    /// Half-close: shuts the write side down after pending writes; reading goes on.
    #[napi(ts_args_type = "opId?: number", ts_return_type = "Promise<void>")]
    pub fn shutdown<'e>(
        &self,
        env: &'e Env,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let id = args::op_id(env.raw(), &op_id)?;
        let bridge = BridgeEnv::get(env.raw())?;
        let p = self.state.op(
            &bridge,
            OpSpec::on(id, &self.state.core),
            Dir::Write,
            move |io| async move {
                io.in_turn(Dir::Write, async {
                    io.shutdown_write()
                        .map(|_| Outcome::Undefined)
                        .map_err(|e| OpError::io(e, "shutdown"))
                })
                .await
            },
        )?;
        Ok(PromiseRaw::new(env.raw(), p))
    }

    /// This stream's slot number: what `tcpRead`, `tcpWrite` and `tcpWriteAll` take.
    #[napi(getter)]
    pub fn slot(&self) -> f64 {
        self.slot
    }

    /// Closes the stream: pending ops reject with ERR_SOCKET_CLOSED; idempotent. Also ends the
    /// idle timer task, so it does not hold the socket open.
    #[napi]
    pub fn close(&self, env: &Env) -> napi::Result<()> {
        if let Some(io) = self.io() {
            io.closed.set();
            io.stop_idle_timer();
        }
        // Stops and closes the poll while the socket is still open; the pending JS-loop reads
        // are then settled with ERR_SOCKET_CLOSED by the bridge, like every other op.
        #[cfg(unix)]
        if let Some(w) = self.state.watcher.borrow_mut().take() {
            w.close();
        }
        handle::close(env, &self.state.core, &self.state.io)
    }

    /// Sets the idle timeout in milliseconds (0 disables it): after `ms` without a byte read or
    /// written, the stream is shut down and its ops fail with ETIMEDOUT (see `shared.rs`).
    #[napi(ts_args_type = "ms: number")]
    pub fn set_idle_timeout(&self, env: &Env, ms: Unknown<'_>) -> napi::Result<()> {
        let ms = args::int_in(env.raw(), &ms, "ms", 0.0, 2_147_483_647.0)? as u64;
        let io = self.state.sync_io(env)?;
        let rt = crate::runtime::handle().map_err(|msg| {
            errors::plain_error(env.raw(), crate::runtime::handle_error_code(), &msg)
        })?;
        io.set_idle_timeout(rt, ms);
        Ok(())
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        !self.state.core.is_open()
    }

    /// Enables/disables Nagle's algorithm (TCP_NODELAY = on).
    #[napi(ts_args_type = "on: boolean")]
    pub fn set_no_delay(&self, env: &Env, on: Unknown<'_>) -> napi::Result<()> {
        let on = args::boolean(env.raw(), args::raw(&on), "on")?;
        let io = self.state.sync_io(env)?;
        tcp_only(env, &io.stream, "setsockopt")?
            .set_nodelay(on)
            .map_err(|e| sync_err(env, e, "setsockopt"))
    }

    /// Enables/disables TCP keep-alive, optionally with the idle time before the first probe.
    #[napi(ts_args_type = "on: boolean, initialDelayMs?: number")]
    pub fn set_keep_alive(
        &self,
        env: &Env,
        on: Unknown<'_>,
        initial_delay_ms: Unknown<'_>,
    ) -> napi::Result<()> {
        let e = env.raw();
        let on = args::boolean(e, args::raw(&on), "on")?;
        let delay = args::opt_int_in(e, &initial_delay_ms, "initialDelayMs", 0.0, 2_147_483_647.0)?;
        let io = self.state.sync_io(env)?;
        sockopt::set_keepalive(tcp_only(env, &io.stream, "setsockopt")?, on, delay)
            .map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// The local address.
    #[napi]
    pub fn local_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.state.sync_io(env)?;
        let s = tcp_only(env, &io.stream, "getsockname")?;
        handle::addr(env, s.local_addr(), "getsockname")
    }

    /// The remote address.
    #[napi]
    pub fn peer_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.state.sync_io(env)?;
        let s = tcp_only(env, &io.stream, "getpeername")?;
        handle::addr(env, s.peer_addr(), "getpeername")
    }

    /// The local path of a Unix stream (`''` when unnamed); `ENOTSUP` for TCP.
    #[napi]
    pub fn local_path(&self, env: &Env) -> napi::Result<String> {
        self.path(env, false, "getsockname")
    }

    /// The peer's path of a Unix stream (`''` when unnamed); `ENOTSUP` for TCP.
    #[napi]
    pub fn peer_path(&self, env: &Env) -> napi::Result<String> {
        self.path(env, true, "getpeername")
    }

    /// Pending ops of this stream keep the event loop alive (default).
    #[napi(js_name = "ref")]
    pub fn ref_(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.state.core, true)
    }

    /// Pending ops of this stream no longer keep the event loop alive.
    #[napi]
    pub fn unref(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.state.core, false)
    }
}

impl NativeTcpStream {
    fn path(&self, env: &Env, peer: bool, syscall: &'static str) -> napi::Result<String> {
        let io = self.state.sync_io(env)?;
        match io.stream.path(peer) {
            Some(r) => r.map_err(|err| sync_err(env, err, syscall)),
            None => Err(sync_err(
                env,
                std::io::ErrorKind::Unsupported.into(),
                syscall,
            )),
        }
    }
}

/// The TCP stream of a handle, or a thrown `ENOTSUP` for a Unix socket (TCP-only calls).
fn tcp_only<'s>(
    env: &Env,
    s: &'s NetStream,
    syscall: &'static str,
) -> napi::Result<&'s corio::net::TcpStream> {
    s.as_tcp()
        .ok_or_else(|| sync_err(env, std::io::ErrorKind::Unsupported.into(), syscall))
}

impl Drop for NativeTcpStream {
    /// A stream collected without `close()` stops its idle timer (which would otherwise hold
    /// the socket open until it fires).
    fn drop(&mut self) {
        slots::remove(self.slot);
        if let Some(io) = self.state.io() {
            io.stop_idle_timer();
        }
        // Pending JS-loop reads keep the watcher (and the socket) until they are served.
        #[cfg(unix)]
        if let Some(w) = self.state.watcher.borrow_mut().take() {
            w.orphan();
        }
    }
}

/// What an op completed at once on the JS thread returns: its value as it is (the TS layer
/// wraps it in a resolved promise, cheaper than a napi promise), or a rejected promise.
fn now(
    bridge: &BridgeEnv,
    result: crate::bridge::OpResult,
    syscall: &'static str,
) -> napi::Result<sys::napi_value> {
    bridge.completed_now(result, syscall)
}

/// The stream in slot `slot` (a `NativeTcpStream.slot`), or a thrown error.
fn stream_at(env: &Env, slot: &Unknown<'_>) -> napi::Result<Rc<TcpState>> {
    let slot = args::int_in(env.raw(), slot, "slot", 0.0, slots::MAX_SLOT)?;
    slots::get(slot).ok_or_else(|| {
        errors::invalid_arg_value(
            env.raw(),
            "slot",
            "is not a live stream of this thread",
            &slot.to_string(),
        )
    })
}

/// A value made during this call, as what a napi function returns.
fn returned<'e>(env: &'e Env, v: sys::napi_value) -> napi::Result<Unknown<'e>> {
    // SAFETY: `v` is a value of this env, created during the current call.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
}

/// Reads into `buf` from the stream in `slot`: the count (at end of stream 0, or `null` when
/// `nullAtEof`), or a promise of it when the read must wait. Rejections are `Error`s with
/// `code` and `syscall: 'read'`.
#[napi(
    ts_args_type = "slot: number, buf: Uint8Array, opId?: number, nullAtEof?: boolean",
    ts_return_type = "number | null | Promise<number | null>"
)]
pub fn tcp_read<'e>(
    env: &'e Env,
    slot: Unknown<'e>,
    buf: Unknown<'e>,
    op_id: Unknown<'e>,
    null_at_eof: Unknown<'e>,
) -> napi::Result<Unknown<'e>> {
    returned(
        env,
        stream_at(env, &slot)?.read(env, buf, op_id, null_at_eof)?,
    )
}

/// One write (may be partial) of `data` to the stream in `slot`, copied at call time: the
/// bytes written, or a promise of them.
#[napi(
    ts_args_type = "slot: number, data: Uint8Array, opId?: number",
    ts_return_type = "number | Promise<number>"
)]
pub fn tcp_write<'e>(
    env: &'e Env,
    slot: Unknown<'e>,
    data: Unknown<'e>,
    op_id: Unknown<'e>,
) -> napi::Result<Unknown<'e>> {
    returned(env, stream_at(env, &slot)?.write(env, data, op_id)?)
}

/// Writes all of `data` to the stream in `slot` (what is not written at once is copied at call
/// time): `undefined` when it was all written at once, else a promise.
#[napi(
    ts_args_type = "slot: number, data: Uint8Array, opId?: number",
    ts_return_type = "undefined | Promise<void>"
)]
pub fn tcp_write_all<'e>(
    env: &'e Env,
    slot: Unknown<'e>,
    data: Unknown<'e>,
    op_id: Unknown<'e>,
) -> napi::Result<Unknown<'e>> {
    returned(env, stream_at(env, &slot)?.write_all(env, data, op_id)?)
}
