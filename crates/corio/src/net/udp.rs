//! `UdpSocket`: datagrams, one at a time or in batches.
//!
//! Every async method waits through the driver's intrusive waiter list
//! (`Registration::readiness`/`async_io`), so any number of tasks may send or receive on one
//! shared socket at once and each is woken when the socket becomes ready; each datagram is
//! delivered to exactly one receiver.
//!
//! Batches: [`UdpSocket::recv_many`] and [`UdpSocket::send_many`] move many datagrams per
//! system call on Linux/Android (`recvmmsg`/`sendmmsg`); elsewhere they loop over
//! `recvmsg`/`send_to` with the same results. On Linux/Android `send_many` also hands runs of
//! same-size datagrams to one destination to the kernel as one segmented super-datagram
//! (`UDP_SEGMENT`, see `udp_gso.rs`), so the network stack runs once per run, not once per
//! datagram; receivers still see exactly the datagrams sent.

#[cfg(any(target_os = "linux", target_os = "android"))]
#[path = "udp_gso.rs"]
mod gso;

use crate::io::{Interest, PollEvented, ReadBuf, Ready};
use crate::net::{to_socket_addrs, ToSocketAddrs};
use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::task::{Context, Poll};

/// A UDP socket.
///
/// Not connected by default: use [`send_to`](Self::send_to)/[`recv_from`](Self::recv_from),
/// or [`connect`](Self::connect) and then [`send`](Self::send)/[`recv`](Self::recv). Share it
/// between tasks with an `Arc`; every method takes `&self`.
///
/// corio never enables `UDP_GRO` (Linux receive coalescing). If you enable it yourself on the
/// socket, the kernel may hand several datagrams of one sender to one receive as one buffer:
/// [`recv`](Self::recv), [`recv_from`](Self::recv_from) and [`peek_from`](Self::peek_from)
/// then return such coalesced buffers without saying so; only
/// [`recv_many`](Self::recv_many) reports where to split them ([`RecvMeta::segment_size`]).
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
    /// This socket's GSO state (see [`UdpSocket::GSO_ALL`]): lowered when the kernel refuses a
    /// segmented batch, so later batches avoid the refused segment sizes (or segmentation).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    gso: std::sync::atomic::AtomicUsize,
}

/// What [`UdpSocket::recv_many`] learned about one received datagram.
///
/// `recv_many` fills `meta[i]` for the datagram it wrote into `bufs[i]`. Create the slice with
/// `RecvMeta::default()` values; they are overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    len: usize,
    addr: SocketAddr,
    truncated: bool,
    control_truncated: bool,
    segment: usize,
}

impl Default for RecvMeta {
    fn default() -> Self {
        RecvMeta {
            len: 0,
            addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            truncated: false,
            control_truncated: false,
            segment: 0,
        }
    }
}

impl RecvMeta {
    /// Number of bytes written into the matching buffer (at most its length).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty (zero-length) datagram.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sender's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// True when the datagram was larger than the buffer and its tail was discarded
    /// (`MSG_TRUNC`). [`len`](Self::len) is then the buffer length, not the datagram's.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// `Some(size)` when the buffer holds several datagrams that the kernel coalesced: only on
    /// Linux, only for a socket on which `UDP_GRO` was enabled (corio's core never enables
    /// it). The buffer then holds consecutive datagrams of `size` bytes each from one sender,
    /// the last possibly shorter; split it at multiples of `size`. `None` otherwise (the
    /// buffer holds one datagram, as far as the control data tells: see
    /// [`is_control_truncated`](Self::is_control_truncated)).
    ///
    /// If the buffer was also [truncated](Self::is_truncated), the kernel discarded the
    /// coalesced datagrams beyond it and the last segment in it may be cut: only the first
    /// `len / size * size` bytes are whole datagrams; treat the rest as dropped (corio's Node
    /// binding does). Not in tokio.
    pub fn segment_size(&self) -> Option<usize> {
        (self.segment > 0 && self.segment < self.len).then_some(self.segment)
    }

    /// True when the kernel had more control data (ancillary messages) than fit in corio's
    /// receive control buffer (`MSG_CTRUNC`; 128 bytes per datagram, room for `UDP_GRO`
    /// together with the usual timestamp and drop-counter options). The control messages
    /// were then cut short, so [`segment_size`](Self::segment_size) may say `None` for a
    /// coalesced buffer: on a `UDP_GRO` socket such a buffer cannot be split safely. Always
    /// false where `recv_many` uses no control buffer (off Linux/Android). Not in tokio.
    pub fn is_control_truncated(&self) -> bool {
        self.control_truncated
    }
}

/// A receive that reports the sender: `recv_from` or `peek_from` of the mio socket.
type ReceiveFrom = fn(&mio::net::UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)>;

impl UdpSocket {
    /// Binds a socket to `addr`, trying each resolved address until one binds (returns the
    /// last error otherwise).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let mut last_err = None;
        for addr in to_socket_addrs(addr).await? {
            match mio::net::UdpSocket::bind(addr).and_then(UdpSocket::new) {
                Ok(socket) => return Ok(socket),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    fn new(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            gso: std::sync::atomic::AtomicUsize::new(UdpSocket::GSO_ALL),
        })
    }

    /// Wraps a std socket, switching it to non-blocking mode (tokio leaves that to the caller).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::new(mio::net::UdpSocket::from_std(socket))
    }

    /// Turns this socket back into a std socket (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner().map(std::net::UdpSocket::from)
    }

    /// The local address of this socket.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The address this socket is connected to (`NotConnected` if none).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// Connects the socket: `send`/`recv` then use `addr`, and datagrams from other addresses
    /// are dropped by the OS. Tries each resolved address; returns the last error.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let mut last_err = None;
        for addr in to_socket_addrs(addr).await? {
            match self.io.connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    /// Waits for any of the requested readiness states.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.io.registration().readiness(interest).await?.ready)
    }

    /// Waits until a datagram may be received.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a datagram may be sent.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for send readiness (only the last task polling is woken).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.registration().poll_write_ready(cx).map_ok(drop)
    }

    /// Polls for receive readiness (only the last task polling is woken).
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.registration().poll_read_ready(cx).map_ok(drop)
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .registration()
            .async_io(Interest::WRITABLE, || self.io.send(buf))
            .await
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .registration()
            .poll_write_io(cx, || self.io.send(buf))
    }

    /// Sends without waiting (`WouldBlock` if the socket is not writable).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || self.io.send(buf))
    }

    /// Receives one datagram from the connected peer. A datagram longer than `buf` is
    /// truncated (use [`recv_many`](Self::recv_many) to learn about truncation).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.io.recv(buf))
            .await
    }

    /// Polls to receive one datagram from the connected peer into `buf`.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let res = self
            .io
            .registration()
            .poll_read_io(cx, || self.io.recv(unfilled(buf)));
        res.map_ok(|n| fill(buf, n))
    }

    /// Receives without waiting (`WouldBlock` if nothing is queued).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::READABLE, || self.io.recv(buf))
    }

    /// Sends `buf` to `target` (the first address it resolves to).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        match to_socket_addrs(target).await?.next() {
            Some(target) => {
                self.io
                    .registration()
                    .async_io(Interest::WRITABLE, || self.io.send_to(buf, target))
                    .await
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no addresses to send data to",
            )),
        }
    }

    /// Polls to send `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .registration()
            .poll_write_io(cx, || self.io.send_to(buf, target))
    }

    /// Sends to `target` without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || self.io.send_to(buf, target))
    }

    /// Receives one datagram and its source address (truncating like [`recv`](Self::recv)).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.io.recv_from(buf))
            .await
    }

    /// Polls to receive one datagram into `buf`, returning its source address.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_from(cx, buf, mio::net::UdpSocket::recv_from)
    }

    /// Receives one datagram without waiting.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .registration()
            .try_io(Interest::READABLE, || self.io.recv_from(buf))
    }

    /// Receives the next datagram without removing it from the queue.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.io.peek_from(buf))
            .await
    }

    /// Polls to peek at the next datagram.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_from(cx, buf, mio::net::UdpSocket::peek_from)
    }

    /// Polls `op` into the unfilled part of `buf`.
    fn poll_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        op: ReceiveFrom,
    ) -> Poll<io::Result<SocketAddr>> {
        let res = self
            .io
            .registration()
            .poll_read_io(cx, || op(&self.io, unfilled(buf)));
        res.map_ok(|(n, addr)| {
            fill(buf, n);
            addr
        })
    }

    /// Peeks at the next datagram without waiting.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .registration()
            .try_io(Interest::READABLE, || self.io.peek_from(buf))
    }

    /// Receives a batch of datagrams: datagram `i` goes into `bufs[i]` and is described by
    /// `meta[i]`. Returns how many were received (`1..=min(bufs.len(), meta.len())`).
    ///
    /// Whatever is already queued is returned at once; the call waits only while nothing is
    /// queued. A datagram longer than its buffer is truncated and flagged
    /// ([`RecvMeta::is_truncated`]). With empty `bufs` or `meta`, returns `Ok(0)` at once.
    /// On Linux/Android this is one `recvmmsg` call; elsewhere a `recvmsg` loop. If the caller
    /// enabled `UDP_GRO` on the socket, one buffer may hold several coalesced datagrams: see
    /// [`RecvMeta::segment_size`].
    pub async fn recv_many(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        if bufs.is_empty() || meta.is_empty() {
            return Ok(0);
        }
        self.io
            .registration()
            .async_io(Interest::READABLE, || self.recv_many_raw(bufs, meta))
            .await
    }

    /// [`recv_many`](Self::recv_many) without waiting: `WouldBlock` when nothing is queued.
    pub fn try_recv_many(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        if bufs.is_empty() || meta.is_empty() {
            return Ok(0);
        }
        self.io
            .registration()
            .try_io(Interest::READABLE, || self.recv_many_raw(bufs, meta))
    }

    /// Sends a batch of datagrams, each `(payload, destination)`. Returns how many were sent,
    /// from the front of the slice (`1..=datagrams.len()`): it waits only until the socket
    /// accepts at least one. An error on the first datagram is returned (e.g. `EMSGSIZE` for
    /// a payload over 65,507 bytes on IPv4); an error on a later one ends the batch early with
    /// the count so far, and re-sending the rest reports it. Empty input returns `Ok(0)`.
    /// On Linux/Android this is one `sendmmsg` call; elsewhere a `send_to` loop.
    ///
    /// On Linux/Android, consecutive datagrams to one destination with one size (the last of a
    /// run may be shorter; at most 64 datagrams and 65,507 bytes per run) go down as one
    /// segmented send (`UDP_SEGMENT`, kernel 4.18+): one pass through the network stack for
    /// the run. The datagrams arrive exactly as if sent one by one. If the kernel refuses a
    /// segmented send (e.g. `EIO` on a route without checksum offload, `EINVAL` when the size
    /// exceeds the path MTU), the batch is sent again unsegmented — nothing of the refused
    /// send went out — and this socket remembers it: after `EIO` it stops segmenting, after a
    /// size refusal it segments only smaller datagrams. Errors of an unsegmented datagram
    /// (oversize, bad destination) never change this. `CORIO_UDP_GSO=0` in the environment
    /// turns segmentation off for the process. The count is always in datagrams.
    pub async fn send_many(&self, datagrams: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
        if datagrams.is_empty() {
            return Ok(0);
        }
        self.io
            .registration()
            .async_io(Interest::WRITABLE, || self.send_many_raw(datagrams))
            .await
    }

    /// [`send_many`](Self::send_many) without waiting: `WouldBlock` when nothing could be sent.
    pub fn try_send_many(&self, datagrams: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
        if datagrams.is_empty() {
            return Ok(0);
        }
        self.io
            .registration()
            .try_io(Interest::WRITABLE, || self.send_many_raw(datagrams))
    }

    /// [`try_recv_many`](Self::try_recv_many) on a plain non-blocking `std::net::UdpSocket`
    /// that no runtime tracks: the same system call (`recvmmsg` on Linux/Android), without
    /// readiness bookkeeping, so `WouldBlock` means the queue really is empty. Not in tokio: for
    /// callers that poll on their own, such as corio's Node binding, which tries every receive
    /// on the JS thread first and registers the socket with the runtime only while a call has
    /// to wait (a registered socket wakes a runtime worker for every datagram).
    pub fn try_recv_many_std(
        socket: &std::net::UdpSocket,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        if bufs.is_empty() || meta.is_empty() {
            return Ok(0);
        }
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            recv_many_fd(socket.as_raw_fd(), bufs, meta)
        }
        #[cfg(not(unix))]
        {
            recv_many_loop(bufs, meta, |b| socket.recv_from(b))
        }
    }

    /// [`try_send_many`](Self::try_send_many) on a plain non-blocking `std::net::UdpSocket`
    /// that no runtime tracks (`sendmmsg` on Linux/Android, segmenting runs as
    /// [`send_many`](Self::send_many) does); see [`try_recv_many_std`](Self::try_recv_many_std).
    /// A plain socket has no place to remember a refused segmented send, so on such a route
    /// every call tries once and falls back (still sending each datagram once); callers that
    /// send repeatedly should keep a GSO state and use
    /// [`try_send_many_std_gso`](Self::try_send_many_std_gso). Not in tokio.
    pub fn try_send_many_std(
        socket: &std::net::UdpSocket,
        datagrams: &[(&[u8], SocketAddr)],
    ) -> io::Result<usize> {
        let fresh = std::sync::atomic::AtomicUsize::new(UdpSocket::GSO_ALL);
        UdpSocket::try_send_many_std_gso(socket, datagrams, &fresh)
    }

    /// A fresh GSO state for [`try_send_many_std_gso`](Self::try_send_many_std_gso): keep one
    /// `AtomicUsize::new(UdpSocket::GSO_ALL)` per socket. The state holds the smallest segment
    /// size the kernel refused on this socket's route (`GSO_ALL`: none yet; 0: segmentation
    /// off); `send_many` only coalesces runs of smaller datagrams. Not in tokio.
    pub const GSO_ALL: usize = usize::MAX;

    /// [`try_send_many_std`](Self::try_send_many_std) with a caller-kept GSO state `gso` (see
    /// [`GSO_ALL`](Self::GSO_ALL)), so a route's refusal of segmentation is remembered across
    /// calls as [`send_many`](Self::send_many) remembers it per socket. Off Linux/Android
    /// `gso` is ignored. Not in tokio.
    pub fn try_send_many_std_gso(
        socket: &std::net::UdpSocket,
        datagrams: &[(&[u8], SocketAddr)],
        gso: &std::sync::atomic::AtomicUsize,
    ) -> io::Result<usize> {
        if datagrams.is_empty() {
            return Ok(0);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            gso::send_many(socket.as_raw_fd(), datagrams, gso)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = gso;
            send_many_loop(datagrams, |p, a| socket.send_to(p, a))
        }
    }

    fn recv_many_raw(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> io::Result<usize> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            recv_many_fd(self.io.as_raw_fd(), bufs, meta)
        }
        #[cfg(not(unix))]
        {
            recv_many_loop(bufs, meta, |b| self.io.recv_from(b))
        }
    }

    fn send_many_raw(&self, datagrams: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            gso::send_many(self.io.as_raw_fd(), datagrams, &self.gso)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            send_many_loop(datagrams, |p, a| self.io.send_to(p, a))
        }
    }

    /// Runs `f` if the socket is ready for `interest`; a `WouldBlock` from `f` clears that
    /// readiness.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().try_io(interest, f)
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.registration().async_io(interest, f).await
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.set_broadcast(on)
    }

    /// Gets `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.broadcast()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.set_multicast_loop_v4(on)
    }

    /// Gets `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.set_multicast_ttl_v4(ttl)
    }

    /// Gets `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.set_multicast_loop_v6(on)
    }

    /// Gets `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.multicast_loop_v6()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.set_ttl(ttl)
    }

    /// Gets `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index `interface` (0: any).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.leave_multicast_v6(multiaddr, interface)
    }

    /// Returns and clears the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.take_error()
    }
}

/// `recvmmsg` on `fd` (non-blocking): what is queued, up to `bufs.len()`, or `WouldBlock`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_many_fd(
    fd: std::os::fd::RawFd,
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    use std::mem;
    let n = bufs.len().min(meta.len()).min(u32::MAX as usize);
    // SAFETY: all-zero is a valid sockaddr_storage and a valid (empty) mmsghdr.
    let mut names: Vec<libc::sockaddr_storage> = vec![unsafe { mem::zeroed() }; n];
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { mem::zeroed() }; n];
    // Control buffers (u64 words: aligned for `cmsghdr`), 128 bytes per datagram: room for the
    // `UDP_GRO` message of a coalesced receive next to the timestamp (`SO_TIMESTAMP(NS)`,
    // 32 bytes) and drop counter (`SO_RXQ_OVFL`, 24 bytes) a caller may have switched on.
    let mut controls = vec![[0u64; 16]; n];
    for i in 0..n {
        let hdr = &mut msgs[i].msg_hdr;
        hdr.msg_name = (&mut names[i] as *mut libc::sockaddr_storage).cast();
        hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // `IoSliceMut` is guaranteed ABI-compatible with `struct iovec` on Unix.
        hdr.msg_iov = (&mut bufs[i] as *mut IoSliceMut<'_>).cast::<libc::iovec>();
        hdr.msg_iovlen = 1;
        hdr.msg_control = controls[i].as_mut_ptr().cast();
        hdr.msg_controllen = mem::size_of::<[u64; 16]>() as _;
    }
    // SAFETY: `msgs` holds `n` headers, each pointing at a live name buffer, a live iovec
    // describing a writable buffer and a live, `cmsghdr`-aligned control buffer of
    // `msg_controllen` bytes; all outlive the call. The socket is non-blocking, so the call
    // returns what is queued (or EAGAIN).
    let got = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), n as _, 0, std::ptr::null_mut()) };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = got as usize;
    for i in 0..got {
        let hdr = &msgs[i].msg_hdr;
        meta[i] = RecvMeta {
            len: (msgs[i].msg_len as usize).min(bufs[i].len()),
            addr: crate::net::sys::sockaddr_to(&names[i], hdr.msg_namelen)?,
            truncated: hdr.msg_flags & libc::MSG_TRUNC != 0,
            control_truncated: hdr.msg_flags & libc::MSG_CTRUNC != 0,
            segment: gro_segment(hdr),
        };
    }
    Ok(got)
}

/// The segment size of a coalesced receive (`UDP_GRO` control message), 0 if none.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn gro_segment(hdr: &libc::msghdr) -> usize {
    let mut seg = 0;
    // SAFETY: `hdr` is a header the kernel just filled: its `msg_control` points at our live
    // control buffer and `msg_controllen` was set by the kernel to the bytes of control
    // messages it wrote there (at most the buffer's size). CMSG_FIRSTHDR/NXTHDR only return
    // headers that lie whole within those bytes (or null). The int payload is read only when
    // the message's own `cmsg_len` covers it (the kernel's data is trusted no further), and
    // read unaligned to be safe.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP
                && (*c).cmsg_type == libc::UDP_GRO
                && (*c).cmsg_len as usize
                    >= libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as _) as usize
            {
                seg = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
            }
            c = libc::CMSG_NXTHDR(hdr, c);
        }
    }
    seg.max(0) as usize
}

/// A `recvmsg` loop on `fd` (non-blocking) where there is no `recvmmsg`.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn recv_many_fd(
    fd: std::os::fd::RawFd,
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    use std::mem;
    let n = bufs.len().min(meta.len());
    let mut got = 0;
    while got < n {
        // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
        let mut name: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
        hdr.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
        hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        hdr.msg_iov = (&mut bufs[got] as *mut IoSliceMut<'_>).cast::<libc::iovec>();
        hdr.msg_iovlen = 1;
        // SAFETY: `hdr` points at a live name buffer and one iovec of a writable buffer.
        let len = unsafe { libc::recvmsg(fd, &mut hdr, 0) };
        if len < 0 {
            let err = io::Error::last_os_error();
            return if got > 0 && err.kind() == io::ErrorKind::WouldBlock {
                Ok(got)
            } else {
                Err(err)
            };
        }
        meta[got] = RecvMeta {
            len: (len as usize).min(bufs[got].len()),
            addr: crate::net::sys::sockaddr_to(&name, hdr.msg_namelen)?,
            truncated: hdr.msg_flags & libc::MSG_TRUNC != 0,
            control_truncated: false,
            segment: 0,
        };
        got += 1;
    }
    Ok(got)
}

/// A `recv_from` loop where there is no `recvmsg`.
#[cfg(not(unix))]
fn recv_many_loop(
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
    mut recv_from: impl FnMut(&mut [u8]) -> io::Result<(usize, SocketAddr)>,
) -> io::Result<usize> {
    let n = bufs.len().min(meta.len());
    let mut got = 0;
    while got < n {
        match recv_from(&mut bufs[got]) {
            Ok((len, addr)) => {
                meta[got] = RecvMeta {
                    len,
                    addr,
                    truncated: false,
                    control_truncated: false,
                    segment: 0,
                }
            }
            Err(e) if got > 0 && e.kind() == io::ErrorKind::WouldBlock => return Ok(got),
            Err(e) => return Err(e),
        }
        got += 1;
    }
    Ok(got)
}

/// A `send_to` loop where there is no `sendmmsg`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_many_loop(
    datagrams: &[(&[u8], SocketAddr)],
    mut send_to: impl FnMut(&[u8], SocketAddr) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut sent = 0;
    for (payload, addr) in datagrams {
        match send_to(payload, *addr) {
            Ok(_) => sent += 1,
            Err(_) if sent > 0 => return Ok(sent),
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// The unfilled part of `buf` as a byte slice for a receive call.
fn unfilled<'a>(buf: &'a mut ReadBuf<'_>) -> &'a mut [u8] {
    // SAFETY: receive calls only write into the slice and never read it, so exposing the
    // uninitialised tail as `[u8]` to the kernel is sound; `fill` marks what was written.
    unsafe { &mut *(buf.unfilled_mut() as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) }
}

/// Marks `n` freshly received bytes as initialised and filled.
fn fill(buf: &mut ReadBuf<'_>, n: usize) {
    // SAFETY: the receive call just wrote `n` bytes at the start of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// Same as [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<Self> {
        UdpSocket::from_std(socket)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (*self.io).fmt(f)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&*self.io)
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the descriptor stays open for as long as `self` (and so the borrow) lives.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(std::os::fd::AsRawFd::as_raw_fd(&*self.io)) }
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for UdpSocket {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&*self.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for UdpSocket {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&*self.io)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The `_std` batch calls work on plain non-blocking sockets no runtime tracks: a batch
    /// sent with `try_send_many_std` arrives whole, in order, through `try_recv_many_std`
    /// (waiting in blocking mode for the first datagram keeps this deterministic), and an empty
    /// queue reports `WouldBlock`.
    #[test]
    fn std_batches_round_trip_without_a_runtime() {
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        tx.set_nonblocking(true).unwrap();
        let payloads: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10 + i as usize]).collect();
        let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
        let mut sent = 0;
        while sent < batch.len() {
            match UdpSocket::try_send_many_std(&tx, &batch[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("send: {e}"),
            }
        }
        let mut slots = vec![[0u8; 64]; 8];
        let mut meta = [RecvMeta::default(); 8];
        let mut got = 0;
        while got < 8 {
            // Block for the next datagram, then take whatever is queued without blocking.
            rx.set_nonblocking(false).unwrap();
            let mut peek = [0u8; 1];
            rx.peek_from(&mut peek).unwrap();
            rx.set_nonblocking(true).unwrap();
            let mut bufs: Vec<IoSliceMut<'_>> = slots[got..]
                .iter_mut()
                .map(|s| IoSliceMut::new(s))
                .collect();
            let n = UdpSocket::try_recv_many_std(&rx, &mut bufs, &mut meta[got..]).unwrap();
            assert!(n >= 1);
            got += n;
        }
        for i in 0..8 {
            assert_eq!(meta[i].len(), payloads[i].len());
            assert_eq!(&slots[i][..meta[i].len()], &payloads[i][..]);
            assert_eq!(meta[i].addr(), tx.local_addr().unwrap());
        }
        let mut bufs = [IoSliceMut::new(&mut slots[0])];
        let err = UdpSocket::try_recv_many_std(&rx, &mut bufs, &mut meta[..1]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(UdpSocket::try_send_many_std(&tx, &[]).unwrap(), 0);
    }
}
