//! Unix domain sockets (stream, listener, datagram): the IPC transport of Node services.
//! Same readiness model as TCP/UDP; stream writes use `MSG_NOSIGNAL` (see `net::sys`).

mod datagram;
mod listener;
mod socket_addr;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use socket_addr::SocketAddr;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use stream::UCred;
pub use stream::UnixStream;
