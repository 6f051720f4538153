//! `NativeUnixListener`: a listening Unix domain stream socket (unix; on other platforms the
//! class exists and `bind` rejects with `ENOTSUP`).
//!
//! Separate from the TCP listener because what differs is most of it: the address is a path,
//! and the listener owns a file. As libuv (and so `node:net`) does, closing the listener removes
//! its socket file; unlike libuv it first checks that the path still names the file it bound
//! (same device and inode), so a file that another process bound there meanwhile survives.
//! Accepted connections are ordinary stream handles (`NativeTcpStream`, see `conn.rs`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::{sys, Env, Unknown};
use napi_derive::napi;

#[cfg(unix)]
use super::conn::NetStream;
use super::handle;
use crate::args;
use crate::bridge::{BridgeEnv, HandleCore, OpSpec, Outcome};
use crate::errors::OpError;

#[cfg(unix)]
type Listener = corio::net::UnixListener;

/// No Unix sockets on this platform: never constructed.
#[cfg(not(unix))]
pub(crate) enum Listener {}

/// A freshly bound listener, on its way to JS (an op's outcome). Dropped on the way (the bind
/// was aborted, or the env went away), it removes its socket file.
pub(crate) struct UnixBound {
    listener: Option<Listener>,
    path: String,
    /// Device and inode of the socket file just after binding (`None` if `stat` failed: the
    /// file is then not removed on close).
    file: Option<(u64, u64)>,
}

/// A listening Unix stream socket (internal; wrapped by `UnixListener` in the TS API).
#[napi]
pub struct NativeUnixListener {
    core: Rc<HandleCore>,
    /// Counts this object in `metrics().liveHandles` until it is dropped.
    _live: handle::Live,
    inner: RefCell<Option<Arc<Listener>>>,
    path: String,
    /// The socket file to remove on close (taken then, so it is removed once).
    file: RefCell<Option<(u64, u64)>>,
}

impl NativeUnixListener {
    pub(crate) unsafe fn into_js(
        env: sys::napi_env,
        mut b: UnixBound,
    ) -> Result<sys::napi_value, OpError> {
        let bridge = BridgeEnv::get(env).map_err(|e| OpError::Internal(e.to_string()))?;
        let obj = NativeUnixListener {
            core: HandleCore::listener(&bridge),
            _live: handle::Live::new(),
            inner: RefCell::new(b.listener.take().map(Arc::new)),
            path: std::mem::take(&mut b.path),
            file: RefCell::new(b.file.take()),
        };
        napi::bindgen_prelude::ToNapiValue::to_napi_value(env, obj)
            .map_err(|e| OpError::Internal(e.to_string()))
    }

    /// Removes the socket file if the path still names the file bound (once).
    fn unlink(&self) {
        let file = self.file.borrow_mut().take();
        unlink_if_same(&self.path, file);
    }
}

impl Drop for UnixBound {
    fn drop(&mut self) {
        // The file first, while the socket (dropped after this, with the fields) still holds
        // its inode (see `NativeUnixListener`'s `Drop`).
        unlink_if_same(&self.path, self.file.take());
    }
}

/// Removes `path` if it still names the file `file` identifies (device, inode).
fn unlink_if_same(path: &str, file: Option<(u64, u64)>) {
    #[cfg(unix)]
    if let Some((dev, ino)) = file {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if m.dev() == dev && m.ino() == ino {
                // Gone meanwhile or not removable: nothing to do either way.
                let _ = std::fs::remove_file(path);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, file);
}

impl Drop for NativeUnixListener {
    /// A listener collected without `close()` stops holding the event loop and removes its
    /// socket file, as `close()` would.
    fn drop(&mut self) {
        if self.core.is_open() {
            // The file first, while the socket still holds its inode: once it is gone, a
            // file created at the path meanwhile could get the same inode number.
            self.unlink();
            self.inner.borrow_mut().take();
            if let Some(bridge) = BridgeEnv::current() {
                bridge.close_handle(&self.core);
            }
        }
    }
}

/// The longest socket path `bind`/`connect` accept, in bytes (`sun_path` less its NUL; 0 where
/// there are no Unix sockets).
#[napi]
pub fn unix_path_max() -> u32 {
    #[cfg(unix)]
    {
        // SAFETY: `sockaddr_un` is plain old data: all zeroes is a valid value.
        let a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        (std::mem::size_of_val(&a.sun_path) - 1) as u32
    }
    #[cfg(not(unix))]
    0
}

#[napi]
impl NativeUnixListener {
    /// Binds and listens on `path`, which must not exist (else `EADDRINUSE`, like Node).
    #[napi(
        ts_args_type = "path: string, backlog?: number, opId?: number",
        ts_return_type = "Promise<NativeUnixListener>"
    )]
    pub fn bind<'e>(
        env: &'e Env,
        path: Unknown<'e>,
        backlog: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let path = args::string(e, &path, "path", 4096)?;
        let backlog =
            args::opt_int_in(e, &backlog, "backlog", 1.0, 65535.0)?.unwrap_or(1024.0) as i32;
        let id = args::op_id(e, &op_id)?;
        let bridge = BridgeEnv::get(e)?;
        let p = bridge.start(OpSpec::plain(id), async move {
            let b = listen(&path, backlog)
                .map_err(|(err, syscall)| OpError::io_path(err, syscall, &path))?;
            Ok(Outcome::UnixListener(b))
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
            #[cfg(unix)]
            Some(l) => bridge.start(spec, async move {
                let (s, _) = l.accept().await.map_err(|e| OpError::io(e, "accept"))?;
                Ok(Outcome::Stream(NetStream::Unix(s)))
            })?,
            #[cfg(not(unix))]
            Some(l) => match *l {},
            None => bridge.start(spec, async { Err(OpError::Closed) })?,
        };
        Ok(PromiseRaw::new(e, p))
    }

    /// The path bound, as given to `bind`.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// Stops listening and removes the socket file; a pending accept rejects with
    /// ERR_SOCKET_CLOSED. Idempotent.
    #[napi]
    pub fn close(&self, env: &Env) -> napi::Result<()> {
        // The file first, while the socket still holds its inode (see `Drop`).
        self.unlink();
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

/// Makes the listening socket: bind `path`, listen with `backlog`, remember the file's
/// identity. A failure names its syscall.
#[cfg(unix)]
fn listen(path: &str, backlog: i32) -> Result<UnixBound, (std::io::Error, &'static str)> {
    use socket2::{Domain, SockAddr, Socket, Type};
    use std::os::unix::fs::MetadataExt;
    let addr = SockAddr::unix(path).map_err(|e| (e, "bind"))?;
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| (e, "socket"))?;
    sock.bind(&addr).map_err(|e| (e, "bind"))?;
    let file = std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()));
    let unlink = |e| {
        if file.is_some() {
            let _ = std::fs::remove_file(path);
        }
        e
    };
    sock.listen(backlog).map_err(|e| unlink((e, "listen")))?;
    let std_listener: std::os::unix::net::UnixListener = sock.into();
    let listener =
        corio::net::UnixListener::from_std(std_listener).map_err(|e| unlink((e, "listen")))?;
    Ok(UnixBound {
        listener: Some(listener),
        path: path.to_owned(),
        file,
    })
}

#[cfg(not(unix))]
fn listen(_path: &str, _backlog: i32) -> Result<UnixBound, (std::io::Error, &'static str)> {
    Err((std::io::ErrorKind::Unsupported.into(), "bind"))
}
