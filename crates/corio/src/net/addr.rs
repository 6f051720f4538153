//! Address resolution for every `bind`/`connect` in `corio::net`.
//!
//! [`ToSocketAddrs`] is sealed like tokio's: it is implemented for literal socket addresses
//! (resolved on the spot, never blocking) and for host-name strings, which are resolved by the
//! system resolver on the blocking pool (`getaddrinfo` may block for seconds and must never
//! run on a worker thread).

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Converts or resolves without blocking to one or more `SocketAddr` values.
///
/// Implemented for socket addresses, `(ip, port)` tuples, `&[SocketAddr]`, and for strings
/// (`"host:port"`, `(host, port)`). Strings that are literal addresses are parsed directly;
/// host names are resolved on the blocking thread pool. This trait is sealed: it cannot be
/// implemented outside corio.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

type ReadyIter = std::vec::IntoIter<SocketAddr>;

/// Resolves `addr` to its socket addresses (used by every `bind`/`connect`).
pub(crate) async fn to_socket_addrs<T: ToSocketAddrs>(addr: T) -> io::Result<ReadyIter> {
    addr.to_socket_addrs(sealed::Internal).await
}

/// Performs a DNS resolution of `host` (`"host:port"` or any [`ToSocketAddrs`]).
///
/// Literal addresses resolve immediately; names are looked up with the system resolver on the
/// blocking pool, so a slow resolver never stalls the runtime.
pub async fn lookup_host<T>(host: T) -> io::Result<impl Iterator<Item = SocketAddr>>
where
    T: ToSocketAddrs,
{
    to_socket_addrs(host).await
}

/// The future behind every [`ToSocketAddrs`] implementation: either already resolved or
/// waiting for a blocking-pool lookup.
pub enum MaybeReady {
    Ready(Option<io::Result<ReadyIter>>),
    Blocking(crate::task::JoinHandle<io::Result<ReadyIter>>),
}

impl std::fmt::Debug for MaybeReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaybeReady::Ready(_) => f.write_str("MaybeReady::Ready"),
            MaybeReady::Blocking(_) => f.write_str("MaybeReady::Blocking"),
        }
    }
}

impl MaybeReady {
    fn one(addr: SocketAddr) -> MaybeReady {
        MaybeReady::Ready(Some(Ok(vec![addr].into_iter())))
    }

    fn blocking(host: String) -> MaybeReady {
        MaybeReady::Blocking(crate::task::spawn_blocking(move || {
            std::net::ToSocketAddrs::to_socket_addrs(&host)
                .map(|it| it.collect::<Vec<_>>().into_iter())
        }))
    }
}

impl Future for MaybeReady {
    type Output = io::Result<ReadyIter>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            MaybeReady::Ready(slot) => Poll::Ready(slot.take().unwrap_or_else(|| {
                Err(io::Error::other("address future polled after completion"))
            })),
            MaybeReady::Blocking(handle) => match Pin::new(handle).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(res)) => Poll::Ready(res),
                // Blocking tasks are cancelled only by a runtime shutdown.
                Poll::Ready(Err(e)) if e.is_cancelled() => {
                    Poll::Ready(Err(crate::io::driver::shutdown_error()))
                }
                Poll::Ready(Err(_)) => {
                    Poll::Ready(Err(io::Error::other("the address lookup task failed")))
                }
            },
        }
    }
}

pub(crate) mod sealed {
    //! The private half of [`ToSocketAddrs`](super::ToSocketAddrs).

    /// Token that keeps the trait method uncallable from outside the crate.
    #[derive(Debug, Clone, Copy)]
    pub struct Internal;

    /// The conversion itself; only corio can name or implement it.
    pub trait ToSocketAddrsPriv {
        /// Starts the conversion.
        fn to_socket_addrs(&self, internal: Internal) -> super::MaybeReady;
    }
}

use sealed::{Internal, ToSocketAddrsPriv};

macro_rules! literal {
    ($($t:ty => |$s:ident| $e:expr;)*) => {$(
        impl ToSocketAddrs for $t {}
        impl ToSocketAddrsPriv for $t {
            fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
                let $s = self;
                MaybeReady::one($e)
            }
        }
    )*};
}

literal! {
    SocketAddr => |s| *s;
    SocketAddrV4 => |s| SocketAddr::V4(*s);
    SocketAddrV6 => |s| SocketAddr::V6(*s);
    (IpAddr, u16) => |s| SocketAddr::new(s.0, s.1);
    (Ipv4Addr, u16) => |s| SocketAddr::new(IpAddr::V4(s.0), s.1);
    (Ipv6Addr, u16) => |s| SocketAddr::new(IpAddr::V6(s.0), s.1);
}

impl ToSocketAddrs for &[SocketAddr] {}
impl ToSocketAddrsPriv for &[SocketAddr] {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        MaybeReady::Ready(Some(Ok(Vec::from(*self).into_iter())))
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        match self.parse::<SocketAddr>() {
            Ok(addr) => MaybeReady::one(addr),
            Err(_) => MaybeReady::blocking(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_socket_addrs(&self, i: Internal) -> MaybeReady {
        self.as_str().to_socket_addrs(i)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => MaybeReady::one(SocketAddr::new(ip, port)),
            // Bracket IPv6-looking names so "host:port" parsing in std stays unambiguous.
            Err(_) if host.contains(':') => MaybeReady::blocking(format!("[{host}]:{port}")),
            Err(_) => MaybeReady::blocking(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_socket_addrs(&self, i: Internal) -> MaybeReady {
        (self.0.as_str(), self.1).to_socket_addrs(i)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_socket_addrs(&self, i: Internal) -> MaybeReady {
        (**self).to_socket_addrs(i)
    }
}
