//! Asynchronous networking: TCP, UDP and Unix domain sockets on the corio reactor.
//!
//! Every socket type here owns a non-blocking mio socket inside a [`PollEvented`], so its
//! readiness is tracked by the I/O driver and tasks wait on it without blocking a worker.
//! The API mirrors `tokio::net` name for name; the module exists so that socket logic lives in
//! one place, above the driver (which knows nothing about sockets) and below the Node binding
//! (which only translates).
//!
//! [`PollEvented`]: crate::io::PollEvented

mod addr;
pub(crate) use addr::to_socket_addrs;
pub use addr::{lookup_host, ToSocketAddrs};

#[cfg(unix)]
mod sys;

pub mod tcp;
pub use tcp::listener::TcpListener;
#[cfg(unix)]
pub use tcp::socket::TcpSocket;
pub use tcp::stream::TcpStream;

mod udp;
pub use udp::{RecvMeta, UdpSocket};

#[cfg(unix)]
pub mod unix;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};
