//! `NativeUdpSocket`: a UDP socket driven by the runtime, with batched receive and send.
//!
//! Why it looks the way it does:
//! - **Same bridge as TCP.** Every waiting operation is one op started through
//!   [`BridgeEnv::start`] (or [`BridgeEnv::start_lazy`], below) with an op id for `cancel()`,
//!   owned by the socket's [`HandleCore`] (so `close()` rejects it with `ERR_SOCKET_CLOSED` and
//!   `ref()`/`unref()` apply to it).
//! - **Results that are more than a number** (a datagram plus its sender, a batch of datagrams)
//!   cannot travel through the bridge's [`Outcome`] today, which knows numbers, byte reads into
//!   one buffer, and TCP handles. Such an op parks its result in the socket's [`Stash`] under a
//!   fresh *ticket*, resolves the ticket number, and JS collects the result synchronously with
//!   `takeRecv(ticket, buf)` / `takeMany(ticket)` right in the promise's continuation. A ticket
//!   is taken at most once; results that nobody takes are freed with the socket.
//! - **A non-blocking attempt first** (`try*` methods, DESIGN "data path", step 2): a datagram
//!   already queued, or room in the send buffer, is handled by one system call on the JS
//!   thread, with no runtime round trip; only a `WouldBlock` falls back to an op. The TS layer
//!   decides when the fast path is fair (never ahead of receivers or sends already waiting).
//!   `CORIO_SYNC_BUDGET=0` turns it off: every `try*` then reports "would block" without a
//!   system call, so every call becomes an op (as it does for TCP streams).
//! - **Sends leave in call order, also when they wait** (as with node:dgram). Every waiting
//!   send (`send`, `sendTo`, `sendMany`) holds the socket's `send_lock` ([`UdpIo`]) while it
//!   sends, and is started lazily ([`BridgeEnv::start_lazy`]) like a TCP write: its first
//!   poll, on the JS thread at call time, takes its place in the lock's FIFO queue, so sends
//!   queue in call order, not in the order runtime workers happen to poll them. Holding the
//!   lock it moves to the runtime ([`leave_js_thread`]: registering with the I/O driver and
//!   name resolution need the runtime), so a send to a host name holds later sends until the
//!   name is resolved. The fast path stays off while any send waits (the TS layer counts them),
//!   so it never overtakes the queue; the `try*` path itself takes no lock.
//! - **Waiting receives are served in call order** the same way: every waiting receive
//!   (`recvFrom`, `recvMany`) queues at call time on the socket's `recv_lock` and holds it while
//!   it waits for readiness and takes its datagram(s), so when datagrams arrive the receive
//!   called first gets the first, not whichever one a runtime worker happens to poll first.
//!   Both directions share one helper (`NativeUdpSocket::op` with a [`Turn`]); a lock is
//!   released when its op's future ends or is dropped (completion, cancel, close, panic), and
//!   the two locks are independent, so sends never wait behind receives.
//! - **`connect` is ordered like a send** (as node:dgram queues the sends issued while it
//!   connects): it queues on `send_lock` at call time and holds it while it resolves the host
//!   and connects, so a `sendTo` called before it never runs on the connected socket (EISCONN
//!   on BSD/macOS) and a `send` called right after it, without awaiting it, goes to the new
//!   peer instead of failing with EDESTADDRREQ. It takes no place among receives: a waiting
//!   receive holds `recv_lock` until a datagram arrives, possibly forever (a `for await`
//!   loop), and a connect must not wait for that; nor could it make "only the peer's
//!   datagrams" exact, since datagrams queued before the connect stay queued.
//! - **Batches** use the core's `recv_many`/`send_many` (`recvmmsg`/`sendmmsg` on Linux; the
//!   core's send side also segments runs of equal-size datagrams with `UDP_SEGMENT`, with a
//!   GSO state kept in [`UdpIo`] so a route's refusal is remembered on both send paths). A
//!   batch reaches JS as one packed `Buffer` (layout in [`pack_many`]), so a batch of 64
//!   datagrams costs one JS/native crossing, not 64.
//! - **Coalesced receives** (Linux `UDP_GRO`, switched on by the first `recvMany`): a run of
//!   datagrams arrives as one buffer; [`receive`] splits it, and the datagrams beyond a call's
//!   `max` wait in [`UdpIo`]'s `rest` queue for the next receive of any kind. Once GRO is on,
//!   single receives go through the same path, so no receive ever sees a coalesced buffer.
//! - **Registered with the runtime only while an op waits** (see [`UdpIo`]): the fast path
//!   uses a plain non-blocking std socket, so a socket whose calls all complete on the JS
//!   thread never wakes a runtime worker; an op that must wait registers a duplicate of it
//!   (`UdpSocket::from_std`) and the last waiting op deregisters it.
//! - **No result objects built natively on the hot path**: `tryRecvFromInto` writes the sender
//!   into a scratch buffer (JS keeps the address string while the sender repeats), and integer
//!   arguments are checked without formatting an error message first.
//! - **Socket options before `bind`** (reuse address/port, IPv6-only, buffer sizes, broadcast)
//!   are set on a `socket2` socket before it is bound.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};

use corio::net::RecvMeta;
use napi::bindgen_prelude::{FromNapiValue, PromiseRaw};
use napi::{sys, Env, Unknown};
use napi_derive::napi;

use super::addr::{self, ip_literal};
use super::handle::{self, closed_error, sync_err, throw_op, ClosedMark};
use super::stream::NativeAddr;
use crate::args;
use crate::bridge::{fast_path_enabled, leave_js_thread, BridgeEnv, HandleCore, OpSpec, Outcome};
use crate::errors::{self, OpError};
use crate::js;

/// Receive slot size: the largest UDP payload (65,507 on IPv4, 65,527 on IPv6) fits.
const SLOT: usize = 65_536;
/// Largest `recvMany` batch.
const MAX_BATCH: f64 = 1024.0;
/// Receive slots kept for reuse per socket (beyond this they are freed).
const POOL_MAX: usize = 256;
/// Bytes per datagram record in a packed batch, before the address text and the payload.
const REC_HEADER: usize = 24;

/// One received datagram as `takeRecv`/`tryRecvFrom` report it.
#[napi(object)]
pub struct NativeRecv {
    /// Bytes written into the caller's buffer.
    pub bytes: u32,
    /// Sender's IP address (IPv6 bare, no brackets).
    pub address: String,
    /// Sender's port.
    pub port: u32,
    /// `'IPv4'` or `'IPv6'`.
    #[napi(ts_type = "'IPv4' | 'IPv6'")]
    pub family: String,
}

impl NativeRecv {
    fn new(bytes: usize, from: SocketAddr) -> NativeRecv {
        NativeRecv {
            bytes: bytes as u32,
            address: from.ip().to_string(),
            port: from.port() as u32,
            family: if from.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
        }
    }
}

/// Options of `NativeUdpSocket.bind` (typing only; read property by property natively).
#[allow(dead_code)]
#[napi(object)]
pub struct NativeUdpBindOptions {
    /// SO_REUSEADDR.
    pub reuse_address: Option<bool>,
    /// SO_REUSEPORT (ignored where the OS lacks it).
    pub reuse_port: Option<bool>,
    /// IPV6_V6ONLY (IPv6 sockets only).
    pub ipv6_only: Option<bool>,
    /// SO_BROADCAST.
    pub broadcast: Option<bool>,
    /// SO_RCVBUF in bytes.
    pub recv_buffer_size: Option<u32>,
    /// SO_SNDBUF in bytes.
    pub send_buffer_size: Option<u32>,
}

/// Socket options applied before `bind`.
#[derive(Default, Clone, Copy)]
struct BindOpts {
    reuse_address: bool,
    reuse_port: bool,
    ipv6_only: Option<bool>,
    broadcast: bool,
    recv_buffer_size: Option<usize>,
    send_buffer_size: Option<usize>,
}

/// The socket shared by the JS handle and its in-flight ops. Empty until `bind` completes.
///
/// Two handles on one socket: `sock`, a plain non-blocking std socket that every synchronous
/// call (the JS-thread fast path, options, addresses) uses, and `reg`, a duplicate of it
/// registered with the runtime's I/O driver that exists only while some op waits on it. A
/// socket registered with the driver wakes a runtime worker (epoll) for every datagram that
/// arrives and, on the sending side, for every datagram the kernel frees; with the fast path
/// doing the work on the JS thread those wake-ups were pure cost (a fifth to a quarter of the
/// CPU in the UDP benchmark's profiles). Registering lazily keeps them to the time a call
/// actually waits, as libuv only polls a UDP socket while it receives or has queued sends.
pub(crate) struct UdpIo {
    sock: OnceLock<std::net::UdpSocket>,
    reg: Mutex<Reg>,
    /// Reusable 64 KiB receive slots (so a 64-datagram batch does not allocate 4 MiB each time),
    /// kept in their `Arc`s so handing received datagrams out as [`Piece`]s allocates nothing.
    /// Every pooled slot is unshared.
    pool: Mutex<Vec<Arc<Vec<u8>>>>,
    /// Whether `UDP_GRO` is on (Linux; switched on by the first `recvMany`, never off): unset
    /// until that first attempt, then its outcome, so a kernel without `UDP_GRO` is asked once.
    gro: OnceLock<bool>,
    /// The socket's GSO state for batch sends (the core's, see `UdpSocket::GSO_ALL`): kept
    /// here, not in a registered duplicate that comes and goes, so both send paths remember
    /// a route's refusal of segmentation for the socket's lifetime.
    gso: AtomicUsize,
    /// Datagrams of coalesced (GRO) receives not yet handed out, oldest first. Every receive
    /// takes from here before it calls the kernel, and holds this lock across its system call,
    /// so datagrams leave in arrival order and none is stranded (see [`receive`]).
    rest: Mutex<VecDeque<Rest>>,
    /// Held by a waiting send for as long as it sends, queued for at call time: sends leave in
    /// call order (see the module docs). FIFO and cancel-safe: a send cancelled or closed while
    /// queued leaves the queue, and one dropped while holding the lock releases it.
    send_lock: Arc<corio::sync::Mutex<()>>,
    /// The receive side's counterpart of `send_lock`: held by a waiting receive while it waits
    /// for readiness and takes its datagrams, queued for at call time, so waiting receives are
    /// served in call order.
    recv_lock: Arc<corio::sync::Mutex<()>>,
    /// Set by the handle's `close()`; checked by every op once it holds its turn.
    closed: ClosedMark,
}

/// Which of a socket's two FIFO locks a waiting send or receive queues on ([`UdpIo`]'s
/// `send_lock` or `recv_lock`; see the module docs).
#[derive(Clone, Copy)]
enum Turn {
    Send,
    Recv,
}

/// A received buffer not yet fully handed out: bytes `off..end` of `slot`, all from `from`;
/// `seg > 0` when it holds coalesced datagrams of `seg` bytes (the last may be shorter),
/// `seg == 0` when it is one datagram (possibly empty).
struct Rest {
    slot: Arc<Vec<u8>>,
    off: usize,
    end: usize,
    seg: usize,
    from: SocketAddr,
}

/// One received datagram: `len` bytes at `off` of a receive slot shared with its neighbours.
struct Piece {
    slot: Arc<Vec<u8>>,
    off: usize,
    len: usize,
    from: SocketAddr,
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        &self.slot[self.off..self.off + self.len]
    }
}

/// The registered duplicate of a [`UdpIo`] and how many ops use it.
#[derive(Default)]
struct Reg {
    sock: Option<Arc<corio::net::UdpSocket>>,
    users: usize,
}

/// An op's use of the registered socket; the last one to finish deregisters it.
struct Registered<'a> {
    io: &'a UdpIo,
    sock: Option<Arc<corio::net::UdpSocket>>,
}

impl std::ops::Deref for Registered<'_> {
    type Target = corio::net::UdpSocket;
    fn deref(&self) -> &corio::net::UdpSocket {
        // `sock` is only emptied in `drop`.
        self.sock
            .as_deref()
            .expect("registered socket present until drop")
    }
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        drop(self.sock.take());
        self.io.remove_user();
    }
}

/// A queued op's claim on the registered socket, taken at call time (JS thread) and held until
/// the op finishes: sends and receives queued behind their lock then share one registration
/// instead of each registering and deregistering a duplicate in turn. Registers nothing itself.
struct RegClaim(Arc<UdpIo>);

impl RegClaim {
    fn new(io: &Arc<UdpIo>) -> RegClaim {
        io.reg.lock().unwrap_or_else(|p| p.into_inner()).users += 1;
        RegClaim(io.clone())
    }
}

impl Drop for RegClaim {
    fn drop(&mut self) {
        self.0.remove_user();
    }
}

impl UdpIo {
    fn new() -> UdpIo {
        UdpIo {
            sock: OnceLock::new(),
            reg: Mutex::new(Reg::default()),
            pool: Mutex::new(Vec::new()),
            gro: OnceLock::new(),
            gso: AtomicUsize::new(corio::net::UdpSocket::GSO_ALL),
            rest: Mutex::new(VecDeque::new()),
            send_lock: Arc::new(corio::sync::Mutex::new(())),
            recv_lock: Arc::new(corio::sync::Mutex::new(())),
            closed: ClosedMark::default(),
        }
    }

    /// The lock that orders this socket's waiting ops of one direction.
    fn turn_lock(&self, turn: Turn) -> &Arc<corio::sync::Mutex<()>> {
        match turn {
            Turn::Send => &self.send_lock,
            Turn::Recv => &self.recv_lock,
        }
    }

    fn sock(&self) -> Result<&std::net::UdpSocket, OpError> {
        self.sock.get().ok_or_else(not_bound)
    }

    /// Ends one use of the registered socket ([`Registered`], [`RegClaim`]); the last one
    /// deregisters the duplicate and closes it (outside the lock).
    fn remove_user(&self) {
        let last = {
            let mut r = self.reg.lock().unwrap_or_else(|p| p.into_inner());
            r.users -= 1;
            if r.users == 0 {
                r.sock.take()
            } else {
                None
            }
        };
        drop(last);
    }

    /// The socket registered with the runtime's driver, for an op that has to wait (runs on
    /// the runtime). Registers a duplicate of the socket if no other op (or [`RegClaim`]) holds
    /// one.
    fn registered(&self, syscall: &'static str) -> Result<Registered<'_>, OpError> {
        let std = self.sock()?;
        let mut r = self.reg.lock().unwrap_or_else(|p| p.into_inner());
        let sock = match &r.sock {
            Some(s) => s.clone(),
            None => {
                let dup = std.try_clone().map_err(|err| OpError::io(err, syscall))?;
                let s = Arc::new(
                    corio::net::UdpSocket::from_std(dup)
                        .map_err(|err| OpError::io(err, syscall))?,
                );
                r.sock = Some(s.clone());
                s
            }
        };
        r.users += 1;
        Ok(Registered {
            io: self,
            sock: Some(sock),
        })
    }

    fn take_slots(&self, n: usize) -> Vec<Arc<Vec<u8>>> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            out.push(pool.pop().unwrap_or_else(|| Arc::new(vec![0u8; SLOT])));
        }
        out
    }

    /// Pools `slots`; each must be unshared (see [`Self::recycle`] for pieces).
    fn give_slots(&self, slots: Vec<Arc<Vec<u8>>>) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        for s in slots {
            if pool.len() >= POOL_MAX {
                break;
            }
            pool.push(s);
        }
    }

    /// Returns the slots of handed-out datagrams to the pool (each when its last piece goes).
    fn recycle(&self, pieces: Vec<Piece>) {
        // Lazily, so each shared piece is dropped before its slot's last piece is looked at.
        // A count of 1 means this piece holds the only reference (no weak ones exist), so the
        // slot can go back unshared.
        let slots: Vec<Arc<Vec<u8>>> = pieces
            .into_iter()
            .map(|p| p.slot)
            .filter(|s| Arc::strong_count(s) == 1)
            .collect();
        self.give_slots(slots);
    }

    /// Whether `UDP_GRO` is on (see [`Self::enable_gro`]).
    fn gro(&self) -> bool {
        self.gro.get() == Some(&true)
    }

    /// Switches `UDP_GRO` on (Linux): the kernel may then hand a run of datagrams from one
    /// sender to one receive call as one coalesced buffer, which [`receive`] splits. Only
    /// batch receives switch it on; a socket that never used `recvMany` keeps receiving
    /// datagram by datagram straight into the caller's buffer. Called on the JS thread.
    fn enable_gro(&self) {
        #[cfg(target_os = "linux")]
        if let Some(sock) = self.sock.get() {
            self.gro.get_or_init(|| {
                use std::os::fd::AsRawFd;
                let on: libc::c_int = 1;
                // SAFETY: plain setsockopt on a live socket with a c_int that outlives the call.
                let r = unsafe {
                    libc::setsockopt(
                        sock.as_raw_fd(),
                        libc::SOL_UDP,
                        libc::UDP_GRO,
                        (&on as *const libc::c_int).cast(),
                        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                    )
                };
                // Kernels before 5.0 lack UDP_GRO: stay with plain receives (and do not ask
                // again on every `recvMany`).
                r == 0
            });
        }
    }
}

/// Moves up to `max - out.len()` datagrams from the front of `rest` to `out`.
fn take_rest(rest: &mut VecDeque<Rest>, max: usize, out: &mut Vec<Piece>) {
    while out.len() < max {
        let Some(r) = rest.front_mut() else { break };
        let len = if r.seg == 0 {
            r.end - r.off
        } else {
            r.seg.min(r.end - r.off)
        };
        out.push(Piece {
            slot: r.slot.clone(),
            off: r.off,
            len,
            from: r.from,
        });
        r.off += len;
        if r.seg == 0 || r.off >= r.end {
            rest.pop_front();
        }
    }
}

/// Receives up to `max` datagrams: first those left over from earlier coalesced receives,
/// and only when there are none, one `recv` call (a non-blocking `recvmmsg`) into pooled
/// slots. A coalesced buffer (`UDP_GRO`) is split at its segment size into the datagrams the
/// sender sent, with their boundaries; whatever exceeds `max` stays in `io.rest` for the next
/// receive of any kind. The `rest` lock is held across the system call: a concurrent receive
/// either sees the leftovers or finds the kernel queue as this one left it, so a receive that
/// gets `WouldBlock` (and waits for readiness) never leaves datagrams behind in `rest`.
///
/// Dropped like a kernel drop, never handed out: on a `UDP_GRO` socket, a buffer whose
/// control messages were cut short (`MSG_CTRUNC`) and that shows no segment size (it may
/// have been lost, so the buffer could be several datagrams posing as one; the binding sets
/// no option that adds control messages, so this needs options set behind its back); and
/// the cut tail of a truncated coalesced buffer
/// (whole segments are kept). If a call drops everything it received, it receives again, so
/// `Ok` always carries at least one datagram.
fn receive(
    io: &UdpIo,
    max: usize,
    mut recv: impl FnMut(&mut [IoSliceMut<'_>], &mut [RecvMeta]) -> io::Result<usize>,
) -> io::Result<Vec<Piece>> {
    let mut rest = io.rest.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::with_capacity(max.min(64));
    take_rest(&mut rest, max, &mut out);
    while out.is_empty() {
        receive_into(io, max, &mut recv, &mut rest)?;
        take_rest(&mut rest, max, &mut out);
    }
    Ok(out)
}

/// One `recv` call of [`receive`]: appends what it got to `rest` (minus what must be dropped).
fn receive_into(
    io: &UdpIo,
    max: usize,
    recv: &mut impl FnMut(&mut [IoSliceMut<'_>], &mut [RecvMeta]) -> io::Result<usize>,
    rest: &mut VecDeque<Rest>,
) -> io::Result<()> {
    let mut slots = io.take_slots(max);
    let mut metas = vec![RecvMeta::default(); max];
    let r = {
        // Pooled slots are unshared, so `make_mut` never copies.
        let mut bufs: Vec<IoSliceMut<'_>> = slots
            .iter_mut()
            .map(|s| IoSliceMut::new(Arc::make_mut(s).as_mut_slice()))
            .collect();
        recv(&mut bufs, &mut metas)
    };
    let n = match r {
        Ok(n) if n > 0 => n.min(max),
        // A receive that got nothing (not expected with `max >= 1`) must not spin the loop.
        Ok(_) => {
            io.give_slots(slots);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Err(e) => {
            io.give_slots(slots);
            return Err(e);
        }
    };
    io.give_slots(slots.split_off(n));
    let gro = io.gro();
    let mut dropped = Vec::new();
    for (slot, m) in slots.into_iter().zip(&metas) {
        let seg = m.segment_size().unwrap_or(0);
        if gro && seg == 0 && m.is_control_truncated() {
            // The control messages were cut short and no segment size survived, so this may
            // be a coalesced buffer posing as one datagram: its boundaries are unknown. Drop
            // it, as the kernel drops a datagram that does not fit, rather than hand out
            // several datagrams as one. (A segment size that did arrive is complete: split.)
            dropped.push(slot);
            continue;
        }
        // A truncated coalesced buffer: the kernel discarded the datagrams beyond it, and the
        // last segment in it may be cut. Keep the whole segments; the rest counts as dropped.
        let end = if seg > 0 && m.is_truncated() {
            m.len() / seg * seg
        } else {
            m.len()
        };
        rest.push_back(Rest {
            slot,
            off: 0,
            end,
            seg,
            from: m.addr(),
        });
    }
    io.give_slots(dropped);
    Ok(())
}

/// [`receive`] on the plain socket (the JS-thread fast path): `WouldBlock` when nothing is
/// queued.
fn receive_now(io: &UdpIo, max: usize) -> io::Result<Vec<Piece>> {
    let sock = io
        .sock
        .get()
        .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
    receive(io, max, |bufs, metas| {
        corio::net::UdpSocket::try_recv_many_std(sock, bufs, metas)
    })
}

/// [`receive`] for an op that may wait: leftovers at once, else waits for readiness on the
/// registered socket and receives (the plain socket shares the registered one's file). Its
/// op holds the socket's `recv_lock`, so waiting receives run one at a time, in call order.
async fn receive_waiting(
    io: &UdpIo,
    reg: &corio::net::UdpSocket,
    max: usize,
) -> io::Result<Vec<Piece>> {
    {
        let mut rest = io.rest.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        take_rest(&mut rest, max, &mut out);
        if !out.is_empty() {
            return Ok(out);
        }
    }
    reg.async_io(corio::io::Interest::READABLE, || receive_now(io, max))
        .await
}

/// A result parked for JS to take by ticket.
enum Stashed {
    /// One datagram (its first `len` bytes are delivered: `len` is capped at the receive size).
    One { piece: Piece, len: usize },
    /// A batch of datagrams.
    Many(Vec<Piece>),
}

/// Results of finished ops, keyed by ticket (written on runtime threads, taken on the JS thread).
#[derive(Default)]
struct Stash {
    next: u64,
    items: HashMap<u64, Stashed>,
}

type SharedStash = Arc<Mutex<Stash>>;

fn park(stash: &SharedStash, item: Stashed) -> Outcome {
    let mut s = stash.lock().unwrap_or_else(|p| p.into_inner());
    s.next = if s.next >= (1u64 << 53) - 1 {
        1
    } else {
        s.next + 1
    };
    let t = s.next;
    s.items.insert(t, item);
    Outcome::Number(t as f64)
}

fn not_bound() -> OpError {
    OpError::Io {
        err: io::Error::new(io::ErrorKind::NotConnected, "socket is not bound"),
        syscall: "send",
        endpoint: None,
    }
}

/// Packs `n` received datagrams into one JS `Buffer`. Layout (little endian):
///
/// ```text
/// u32 count
/// per datagram: u32 len | u16 port | u8 family (4|6) | u8 addrTextLen | 16 B raw IP
///               | addrText (ASCII) | len payload bytes
/// ```
///
/// The raw IP lets JS reuse the address string of the previous datagram when they match.
unsafe fn pack_many(env: sys::napi_env, pieces: &[Piece]) -> napi::Result<sys::napi_value> {
    let n = pieces.len();
    // Senders usually repeat: format an address once per run of equal addresses.
    let mut texts: Vec<(IpAddr, Rc<str>)> = Vec::new();
    let mut text_of = |ip: IpAddr| -> Rc<str> {
        match texts.last() {
            Some((last, t)) if *last == ip => t.clone(),
            _ => {
                let t: Rc<str> = ip.to_string().into();
                texts.push((ip, t.clone()));
                t
            }
        }
    };
    let texts: Vec<Rc<str>> = pieces.iter().map(|p| text_of(p.from.ip())).collect();
    let total = 4
        + (0..n)
            .map(|i| REC_HEADER + texts[i].len() + pieces[i].len)
            .sum::<usize>();
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut buf = ptr::null_mut();
    if sys::napi_create_buffer(env, total, &mut data, &mut buf) != sys::Status::napi_ok
        || (data.is_null() && total > 0)
    {
        return Err(napi::Error::from_reason("corio: napi_create_buffer failed"));
    }
    // SAFETY: napi_create_buffer gave `total` writable bytes at `data`; nothing else aliases
    // them before the buffer is returned to JS.
    let out = std::slice::from_raw_parts_mut(data.cast::<u8>(), total);
    out[..4].copy_from_slice(&(n as u32).to_le_bytes());
    let mut o = 4;
    for i in 0..n {
        let p = &pieces[i];
        let len = p.len;
        let a = p.from;
        out[o..o + 4].copy_from_slice(&(len as u32).to_le_bytes());
        out[o + 4..o + 6].copy_from_slice(&a.port().to_le_bytes());
        match a.ip() {
            IpAddr::V4(v4) => {
                out[o + 6] = 4;
                out[o + 8..o + 24].fill(0);
                out[o + 8..o + 12].copy_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out[o + 6] = 6;
                out[o + 8..o + 24].copy_from_slice(&v6.octets());
            }
        }
        let t = texts[i].as_bytes();
        out[o + 7] = t.len() as u8;
        o += REC_HEADER;
        out[o..o + t.len()].copy_from_slice(t);
        o += t.len();
        out[o..o + len].copy_from_slice(p.bytes());
        o += len;
    }
    Ok(buf)
}

/// Writes a sender into the `info` scratch of `tryRecvFromInto`: `u16 port | u8 family (4|6) |
/// u8 textLen | text`, with `textLen = 0` when the address equals `last` (JS keeps its string).
fn write_sender(info: &mut [u8], from: SocketAddr, last: &mut Option<IpAddr>) {
    info[..2].copy_from_slice(&from.port().to_le_bytes());
    info[2] = if from.is_ipv4() { 4 } else { 6 };
    let ip = from.ip();
    if *last == Some(ip) {
        info[3] = 0;
        return;
    }
    use std::io::Write;
    let mut w = &mut info[4..];
    let room = w.len();
    // An IP address prints in at most 39 bytes (IPv6); `info` holds 60 after the header.
    let _ = write!(w, "{ip}");
    let len = room - w.len();
    info[3] = len as u8;
    *last = Some(ip);
}

/// One `try*` call's syscall on the JS thread: never with `CORIO_SYNC_BUDGET=0` (no fast
/// path), else always, even past the env's synchronous-completion budget. That budget is TCP's
/// (a spent one sends the next stream op through the runtime); for UDP it would send the rest
/// of a burst of calls through the waiting path, since none may overtake the first that
/// waits — 25% more CPU per datagram in `bench/udp.ts`. The TS layer keeps UDP loops from
/// starving the event loop instead (`src/internal/sync-budget.ts`: past the budget, promises of
/// calls that completed at once settle after the next event-loop turn). A completed call is
/// counted in the env's `completions`.
struct SyncAttempt(Rc<BridgeEnv>);

impl SyncAttempt {
    /// `None` when the fast path is off.
    fn begin(env: &Env) -> napi::Result<Option<SyncAttempt>> {
        if !fast_path_enabled() {
            return Ok(None);
        }
        Ok(Some(SyncAttempt(BridgeEnv::get(env.raw())?)))
    }

    /// Passes the syscall's result through, counting a completion unless it would block.
    fn done<T>(&self, r: io::Result<T>) -> io::Result<T> {
        if !matches!(&r, Err(err) if err.kind() == io::ErrorKind::WouldBlock) {
            self.0.count_completion();
        }
        r
    }
}

/// A fast-path send's result for JS: the count sent, `-1` if the socket would block, or the
/// error (`to_op` shapes it) thrown.
fn sent_or_would_block(
    env: &Env,
    r: io::Result<usize>,
    to_op: impl FnOnce(io::Error) -> OpError,
) -> napi::Result<f64> {
    match r {
        Ok(n) => Ok(n as f64),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(-1.0),
        Err(err) => Err(throw_op(env, to_op(err))),
    }
}

/// A failed send to `to`, naming the destination in the error.
fn send_error(err: io::Error, to: SocketAddr) -> OpError {
    OpError::io_at(err, "send", &to.ip().to_string(), to.port())
}

/// A send to the connected peer on a socket that has none (EDESTADDRREQ).
fn no_destination() -> OpError {
    OpError::Io {
        err: io::Error::from_raw_os_error(destaddr_req()),
        syscall: "send",
        endpoint: None,
    }
}

/// The receive buffer `p`/`len` (from `js::u8_array`) as a slice; empty when it has no bytes.
///
/// # Safety
/// `p` must point to `len` live bytes of a typed array queried on the JS thread during the
/// current call, and the slice must not be used after JS runs again or the call returns.
unsafe fn recv_dst<'a>(p: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 || p.is_null() {
        &mut []
    } else {
        // SAFETY: `p` points to `len` live bytes (the caller's contract), and no JS runs while
        // the slice is in use.
        unsafe { std::slice::from_raw_parts_mut(p, len) }
    }
}

/// Validates a batch description: `meta` holds 8 bytes per datagram (`u32 len | u16 port |
/// u16 hostIndex`, little endian) and the lengths must add up to at most `payload_len`.
fn parse_meta(env: &Env, meta: &[u8], payload_len: usize, hosts: usize) -> napi::Result<Vec<Rec>> {
    if meta.len() % 8 != 0 {
        return Err(errors::range_error(
            env.raw(),
            "meta",
            "a multiple of 8 bytes long",
        ));
    }
    let mut out = Vec::with_capacity(meta.len() / 8);
    let mut off = 0usize;
    for rec in meta.chunks_exact(8) {
        let len = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]) as usize;
        let port = u16::from_le_bytes([rec[4], rec[5]]);
        let host = u16::from_le_bytes([rec[6], rec[7]]) as usize;
        if host >= hosts {
            return Err(errors::range_error(
                env.raw(),
                "meta",
                "host indexes within hosts",
            ));
        }
        let end = off.checked_add(len).filter(|e| *e <= payload_len);
        let Some(end) = end else {
            return Err(errors::range_error(
                env.raw(),
                "meta",
                "lengths that fit in payload",
            ));
        };
        out.push((off, len, port, host));
        off = end;
    }
    Ok(out)
}

/// Reads a JS array of strings (`hosts` of a batch; `''` = the connected peer).
fn string_array(env: &Env, v: &Unknown<'_>, name: &str) -> napi::Result<Vec<String>> {
    let e = env.raw();
    let raw = args::raw(v);
    let mut is_array = false;
    // SAFETY: JS thread; `raw` is a live argument.
    unsafe { sys::napi_is_array(e, raw, &mut is_array) };
    if !is_array {
        return Err(errors::type_error(e, name, "an instance of Array"));
    }
    let mut len = 0u32;
    // SAFETY: `raw` is an array.
    unsafe { sys::napi_get_array_length(e, raw, &mut len) };
    if len > 65_536 {
        return Err(errors::range_error(e, name, "at most 65536 entries long"));
    }
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut el = ptr::null_mut();
        // SAFETY: `raw` is an array; `i` is in bounds.
        unsafe { sys::napi_get_element(e, raw, i, &mut el) };
        if el.is_null() {
            return Err(errors::pending());
        }
        // SAFETY: `el` is a live value of this env.
        let u = unsafe { Unknown::from_napi_value(e, el)? };
        out.push(args::string(e, &u, &format!("{name}[{i}]"), 1024)?);
    }
    Ok(out)
}

/// One datagram of a batch: `(offset in payload, length, port, host index)`.
type Rec = (usize, usize, u16, usize);

/// The checked arguments of `trySendMany`/`sendMany`.
struct Batch<'a> {
    hosts: Vec<String>,
    /// The caller's payload bytes: valid only until JS runs again.
    payload: &'a [u8],
    /// The datagrams `from..` of the batch.
    recs: Vec<Rec>,
}

/// Reads and checks a batch's `payload`, `meta`, `hosts` and `from`.
fn batch_args<'a>(
    env: &Env,
    payload: &Unknown<'_>,
    meta: &Unknown<'_>,
    hosts: &Unknown<'_>,
    from: &Unknown<'_>,
) -> napi::Result<Batch<'a>> {
    let e = env.raw();
    // Read `hosts` first: its element getters can run JS, which could detach `payload` or
    // `meta`; the raw slices below are taken only after the last call that can run JS.
    let hosts = string_array(env, hosts, "hosts")?;
    let payload = args::bytes(e, payload, "payload")?;
    let meta = args::bytes(e, meta, "meta")?;
    let mut recs = parse_meta(env, meta, payload.len(), hosts.len())?;
    let from = args::int_in(e, from, "from", 0.0, recs.len() as f64)? as usize;
    recs.drain(..from);
    Ok(Batch {
        hosts,
        payload,
        recs,
    })
}

/// The datagrams of `recs` with their destinations: `payload` starts at offset `base` of the
/// batch, `ips[i]` is the address of `hosts[i]`, and an empty host means the peer's port.
fn datagrams<'a>(
    recs: &[Rec],
    hosts: &[String],
    ips: &[IpAddr],
    peer_port: u16,
    payload: &'a [u8],
    base: usize,
) -> Vec<(&'a [u8], SocketAddr)> {
    recs.iter()
        .map(|&(off, len, port, h)| {
            let port = if hosts[h].is_empty() { peer_port } else { port };
            (
                &payload[off - base..off - base + len],
                SocketAddr::new(ips[h], port),
            )
        })
        .collect()
}

/// Resolves a batch's hosts (IP literals directly, names natively; `''` = `peer`).
async fn resolve_hosts(
    hosts: &[String],
    ports: &[u16],
    peer: Option<SocketAddr>,
) -> Result<Vec<IpAddr>, OpError> {
    let mut out = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        if h.is_empty() {
            match peer {
                Some(p) => out.push(p.ip()),
                None => return Err(no_destination()),
            }
        } else {
            out.push(addr::resolve(h, ports.get(i).copied().unwrap_or(0)).await?[0].ip());
        }
    }
    Ok(out)
}

fn destaddr_req() -> i32 {
    #[cfg(unix)]
    {
        libc::EDESTADDRREQ
    }
    #[cfg(not(unix))]
    {
        10039 // WSAEDESTADDRREQ
    }
}

/// Builds, configures and binds the socket (options must be set before `bind`).
fn bind_socket(a: SocketAddr, o: BindOpts) -> Result<std::net::UdpSocket, OpError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let ip = a.ip().to_string();
    let at = |err, syscall| OpError::io_at(err, syscall, &ip, a.port());
    let s = Socket::new(Domain::for_address(a), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| at(e, "socket"))?;
    if o.reuse_address {
        s.set_reuse_address(true).map_err(|e| at(e, "setsockopt"))?;
    }
    super::sockopt::set_reuse_port(&s, o.reuse_port).map_err(|e| at(e, "setsockopt"))?;
    if let (Some(v6only), true) = (o.ipv6_only, a.is_ipv6()) {
        s.set_only_v6(v6only).map_err(|e| at(e, "setsockopt"))?;
    }
    if o.broadcast {
        s.set_broadcast(true).map_err(|e| at(e, "setsockopt"))?;
    }
    if let Some(n) = o.recv_buffer_size {
        s.set_recv_buffer_size(n).map_err(|e| at(e, "setsockopt"))?;
    }
    if let Some(n) = o.send_buffer_size {
        s.set_send_buffer_size(n).map_err(|e| at(e, "setsockopt"))?;
    }
    s.bind(&a.into()).map_err(|e| at(e, "bind"))?;
    s.set_nonblocking(true).map_err(|e| at(e, "bind"))?;
    Ok(s.into())
}

/// A UDP socket (internal; wrapped by `UdpSocket` in the TS API). Created unbound with
/// `new NativeUdpSocket()`, usable once `bind()` resolved.
#[napi]
pub struct NativeUdpSocket {
    core: Rc<HandleCore>,
    /// Counts this object in `metrics().liveHandles` until it is dropped.
    _live: handle::Live,
    io: RefCell<Option<Arc<UdpIo>>>,
    stash: SharedStash,
    /// The sender last reported by `tryRecvFromInto` (JS caches its address string).
    last_from: RefCell<Option<IpAddr>>,
}

impl NativeUdpSocket {
    fn io(&self) -> Option<Arc<UdpIo>> {
        self.io.borrow().clone()
    }

    /// Starts an op on this socket; a closed socket gives a promise rejected with
    /// ERR_SOCKET_CLOSED.
    ///
    /// With a `turn` (every send and receive that may wait) the op keeps call order with the
    /// socket's other waiting ops of that direction: it is started lazily, so its first poll,
    /// right here on the JS thread, queues it on the turn's lock; once it holds the lock it
    /// moves to the runtime and runs `f`'s future, still holding the lock (see the module docs).
    /// `connect` takes the send turn too, so it keeps call order with the sends. Without a
    /// turn (`bind`) the future is spawned on the runtime at once.
    fn op<'e, F, Fut>(
        &self,
        env: &'e Env,
        id: u64,
        turn: Option<Turn>,
        f: F,
    ) -> napi::Result<PromiseRaw<'e, ()>>
    where
        F: FnOnce(Arc<UdpIo>) -> Fut,
        Fut: std::future::Future<Output = crate::bridge::OpResult> + Send + 'static,
    {
        let bridge = BridgeEnv::get(env.raw())?;
        let spec = OpSpec::on(id, &self.core);
        let p = match (self.io(), turn) {
            (None, _) => bridge.start(spec, async { Err(OpError::Closed) })?,
            (Some(io), None) => bridge.start(spec, f(io))?,
            (Some(io), Some(turn)) => {
                // Ops queued behind each other share one registration (a bind still pending
                // has no socket to register: its op then fails as not bound, as before).
                let claim = io.sock.get().is_some().then(|| RegClaim::new(&io));
                let work = f(io.clone());
                bridge.start_lazy(spec, async move {
                    let _claim = claim;
                    // Kept by the op's task until its completion (or its cancellation or
                    // panic) is queued, so the op queued next cannot settle first.
                    crate::bridge::release_after_settle(
                        io.turn_lock(turn).clone().lock_owned().await,
                    );
                    leave_js_thread().await;
                    if io.closed.is_set() {
                        return Err(OpError::Closed);
                    }
                    work.await
                })?
            }
        };
        Ok(PromiseRaw::new(env.raw(), p))
    }

    /// The bound socket for a synchronous call (throws ERR_SOCKET_CLOSED / not bound).
    fn sync_io(&self, env: &Env) -> napi::Result<Arc<UdpIo>> {
        let io = self.io().ok_or_else(|| closed_error(env))?;
        if io.sock.get().is_none() {
            return Err(throw_op(env, not_bound()));
        }
        Ok(io)
    }

    /// The socket for a send or receive on the JS thread (`try*`): [`Self::sync_io`], and
    /// refused after `runtime.shutdown()` like every op that goes through the runtime.
    fn sync_io_for_transfer(&self, env: &Env) -> napi::Result<Arc<UdpIo>> {
        let io = self.sync_io(env)?;
        if crate::runtime::is_shut_down() {
            return Err(errors::plain_error(
                env.raw(),
                crate::runtime::SHUTDOWN_CODE,
                crate::runtime::SHUTDOWN_MSG,
            ));
        }
        Ok(io)
    }

    fn take(&self, env: &Env, ticket: &Unknown<'_>) -> napi::Result<Stashed> {
        let t = args::int_in(env.raw(), ticket, "ticket", 1.0, ((1u64 << 53) - 1) as f64)? as u64;
        let item = self
            .stash
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .items
            .remove(&t);
        item.ok_or_else(|| {
            errors::range_error(
                env.raw(),
                "ticket",
                "the ticket of a finished, untaken receive",
            )
        })
    }

    fn give_back(&self, pieces: Vec<Piece>) {
        if let Some(io) = self.io() {
            io.recycle(pieces);
        }
    }

    /// Receives one queued datagram into `dst` now (truncated to it): `(bytes, sender)`, or
    /// `WouldBlock`. With `UDP_GRO` on, through [`receive`] (leftovers first, coalesced
    /// buffers split); otherwise straight into `dst` with one `recvfrom`.
    fn recv_one_now(io: &UdpIo, dst: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let sock = io
            .sock
            .get()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        if !io.gro() {
            return sock
                .recv_from(dst)
                .map(|(n, from)| (n.min(dst.len()), from));
        }
        let mut got = receive_now(io, 1)?;
        let Some(p) = got.pop() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let n = p.len.min(dst.len());
        dst[..n].copy_from_slice(&p.bytes()[..n]);
        let from = p.from;
        io.recycle(vec![p]);
        Ok((n, from))
    }
}

#[napi]
impl NativeUdpSocket {
    /// An unbound socket handle; call `bind` next.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> NativeUdpSocket {
        NativeUdpSocket {
            core: HandleCore::stream(),
            _live: handle::Live::new(),
            io: RefCell::new(Some(Arc::new(UdpIo::new()))),
            stash: Arc::new(Mutex::new(Stash::default())),
            last_from: RefCell::new(None),
        }
    }

    /// Creates the OS socket with `opts` and binds it to `host:port` (names resolved natively,
    /// first address wins). `close()` while pending rejects with ERR_SOCKET_CLOSED.
    #[napi(
        ts_args_type = "host: string, port: number, opts?: NativeUdpBindOptions | undefined | null, opId?: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn bind<'e>(
        &self,
        env: &'e Env,
        host: Unknown<'e>,
        port: Unknown<'e>,
        opts: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::port(e, &port)?;
        let flag = |key: &str| -> napi::Result<Option<bool>> {
            args::opt_boolean(
                e,
                args::prop(e, &opts, "opts", key)?,
                &format!("opts.{key}"),
            )
        };
        let size = |key: &str| -> napi::Result<Option<usize>> {
            Ok(args::prop_int(
                e,
                args::prop(e, &opts, "opts", key)?,
                &format!("opts.{key}"),
                1.0,
                2_147_483_647.0,
            )?
            .map(|n| n as usize))
        };
        let o = BindOpts {
            reuse_address: flag("reuseAddress")?.unwrap_or(false),
            reuse_port: flag("reusePort")?.unwrap_or(false),
            ipv6_only: flag("ipv6Only")?,
            broadcast: flag("broadcast")?.unwrap_or(false),
            recv_buffer_size: size("recvBufferSize")?,
            send_buffer_size: size("sendBufferSize")?,
        };
        let id = args::op_id(e, &op_id)?;
        self.op(env, id, None, move |io| async move {
            let a = addr::resolve(&host, port).await?.remove(0);
            let sock = bind_socket(a, o)?;
            io.sock.set(sock).map_err(|_| {
                OpError::io_at(
                    io::Error::from(io::ErrorKind::InvalidInput),
                    "bind",
                    &a.ip().to_string(),
                    port,
                )
            })?;
            Ok(Outcome::Undefined)
        })
    }

    /// Connects the socket to `host:port`: `send`/`recv` then use it, and the OS drops
    /// datagrams from other senders. Takes its place among the socket's waiting sends at call
    /// time (like a send, in the send lock, holding it while `host` is resolved): sends called
    /// before it leave before it, sends called after it leave after it. Receives are not
    /// ordered against it (a receive holds its lock until a datagram arrives, which must not
    /// hold up a connect).
    #[napi(
        ts_args_type = "host: string, port: number, opId?: number",
        ts_return_type = "Promise<void>"
    )]
    pub fn connect<'e>(
        &self,
        env: &'e Env,
        host: Unknown<'e>,
        port: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::int_in(e, &port, "port", 1.0, 65535.0)? as u16;
        let id = args::op_id(e, &op_id)?;
        // In the send turn: the sends called before it leave first (to their old
        // destination), the sends called after it wait until the socket is connected.
        self.op(env, id, Some(Turn::Send), move |io| async move {
            let addrs = addr::resolve(&host, port).await?;
            let sock = io.sock()?;
            let mut last = None;
            for a in addrs {
                // A UDP connect only records the peer: it never blocks.
                match sock.connect(a) {
                    Ok(()) => return Ok(Outcome::Undefined),
                    Err(err) => {
                        last = Some(OpError::io_at(err, "connect", &a.ip().to_string(), port))
                    }
                }
            }
            Err(last.unwrap_or(OpError::NotFound {
                host,
                detail: "no addresses".into(),
            }))
        })
    }

    /// Sends one datagram to `host:port` now if the socket can take it: resolves nothing,
    /// returns the bytes sent, `-1` if the socket would block, `-2` if `host` needs name
    /// resolution (use `sendTo`). Errors (EMSGSIZE, ...) are thrown. Like every `try*`
    /// method, reports "would block" without a system call when `CORIO_SYNC_BUDGET=0`.
    #[napi(ts_args_type = "data: Uint8Array, host: string, port: number")]
    pub fn try_send_to(
        &self,
        env: &Env,
        data: Unknown<'_>,
        host: Unknown<'_>,
        port: Unknown<'_>,
    ) -> napi::Result<f64> {
        let e = env.raw();
        let bytes = args::bytes(e, &data, "data")?;
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::int_in(e, &port, "port", 1.0, 65535.0)? as u16;
        let Some(ip) = ip_literal(&host) else {
            return Ok(-2.0);
        };
        let io = self.sync_io_for_transfer(env)?;
        let sock = io.sock().map_err(|err| throw_op(env, err))?;
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(-1.0);
        };
        let to = SocketAddr::new(ip, port);
        sent_or_would_block(env, attempt.done(sock.send_to(bytes, to)), |err| {
            send_error(err, to)
        })
    }

    /// Sends one datagram to `host:port` (data copied at call time), after the socket's
    /// waiting sends called before it (`host` is resolved in turn); resolves the bytes sent.
    #[napi(
        ts_args_type = "data: Uint8Array, host: string, port: number, opId?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn send_to<'e>(
        &self,
        env: &'e Env,
        data: Unknown<'e>,
        host: Unknown<'e>,
        port: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let owned = args::bytes(e, &data, "data")?.to_vec();
        let host = args::string(e, &host, "host", 1024)?;
        let port = args::int_in(e, &port, "port", 1.0, 65535.0)? as u16;
        let id = args::op_id(e, &op_id)?;
        self.op(env, id, Some(Turn::Send), move |io| async move {
            let a = addr::resolve(&host, port).await?[0];
            let sock = io.registered("send")?;
            sock.send_to(&owned, a)
                .await
                .map(|n| Outcome::Number(n as f64))
                .map_err(|err| send_error(err, a))
        })
    }

    /// `trySendTo` for a connected socket: bytes sent, or `-1` if it would block.
    #[napi(ts_args_type = "data: Uint8Array")]
    pub fn try_send(&self, env: &Env, data: Unknown<'_>) -> napi::Result<f64> {
        let bytes = args::bytes(env.raw(), &data, "data")?;
        let io = self.sync_io_for_transfer(env)?;
        let sock = io.sock().map_err(|err| throw_op(env, err))?;
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(-1.0);
        };
        sent_or_would_block(env, attempt.done(sock.send(bytes)), |err| {
            OpError::io(err, "send")
        })
    }

    /// Sends one datagram to the connected peer (data copied at call time), after the socket's
    /// waiting sends called before it.
    #[napi(
        ts_args_type = "data: Uint8Array, opId?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn send<'e>(
        &self,
        env: &'e Env,
        data: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let owned = args::bytes(e, &data, "data")?.to_vec();
        let id = args::op_id(e, &op_id)?;
        self.op(env, id, Some(Turn::Send), move |io| async move {
            let sock = io.registered("send")?;
            sock.send(&owned)
                .await
                .map(|n| Outcome::Number(n as f64))
                .map_err(|err| OpError::io(err, "send"))
        })
    }

    /// Receives one queued datagram straight into `buf` (truncated to its length), or returns
    /// `null` when none is queued.
    #[napi(ts_args_type = "buf: Uint8Array", ts_return_type = "NativeRecv | null")]
    pub fn try_recv_from(&self, env: &Env, buf: Unknown<'_>) -> napi::Result<Option<NativeRecv>> {
        let e = env.raw();
        let (p, len) = args::u8_array(e, &buf, "buf")?;
        let io = self.sync_io_for_transfer(env)?;
        io.sock().map_err(|err| throw_op(env, err))?;
        // SAFETY: `p`/`len` were queried just now on the JS thread; no JS runs until this
        // synchronous call returns, and `dst` does not outlive it.
        let dst = unsafe { recv_dst(p, len) };
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(None);
        };
        match attempt.done(Self::recv_one_now(&io, dst)) {
            Ok((n, from)) => Ok(Some(NativeRecv::new(n, from))),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(err) => Err(sync_err(env, err, "recv")),
        }
    }

    /// `tryRecvFrom` without building a result object (the per-call object showed up in the
    /// profile): receives one queued datagram into `buf` and returns its length, or `-1` when
    /// none is queued. The sender goes into `info` (at least 64 bytes): `u16 port | u8 family
    /// (4|6) | u8 textLen | address text`, `textLen = 0` meaning "the same address as the last
    /// datagram this method reported", so JS can keep its string.
    #[napi(ts_args_type = "buf: Uint8Array, info: Uint8Array")]
    pub fn try_recv_from_into(
        &self,
        env: &Env,
        buf: Unknown<'_>,
        info: Unknown<'_>,
    ) -> napi::Result<f64> {
        let e = env.raw();
        let (p, len) = args::u8_array(e, &buf, "buf")?;
        // SAFETY: JS thread; `info` is a live argument.
        let info = match unsafe { js::u8_array(e, args::raw(&info)) } {
            Some((ip, il)) if il >= 64 && !ip.is_null() => ip,
            _ => {
                return Err(errors::type_error(
                    e,
                    "info",
                    "a Uint8Array of at least 64 bytes",
                ))
            }
        };
        let io = self.sync_io_for_transfer(env)?;
        io.sock().map_err(|err| throw_op(env, err))?;
        // SAFETY: `p`/`len` were queried just now on the JS thread; no JS runs until this
        // synchronous call returns, and `dst` does not outlive it.
        let dst = unsafe { recv_dst(p, len) };
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(-1.0);
        };
        match attempt.done(Self::recv_one_now(&io, dst)) {
            Ok((n, from)) => {
                // SAFETY: `info` points to at least 64 live bytes (checked above), distinct
                // from `buf`'s unless JS passed the same memory, which only garbles its data.
                let info = unsafe { std::slice::from_raw_parts_mut(info, 64) };
                write_sender(info, from, &mut self.last_from.borrow_mut());
                Ok(n.min(len) as f64)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(-1.0),
            Err(err) => Err(sync_err(env, err, "recv")),
        }
    }

    /// Waits for one datagram of at most `size` bytes (longer ones are truncated), after the
    /// socket's waiting receives called before it; resolves a ticket for `takeRecv`.
    #[napi(
        ts_args_type = "size: number, opId?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn recv_from<'e>(
        &self,
        env: &'e Env,
        size: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let size = args::int_in(e, &size, "size", 0.0, SLOT as f64)? as usize;
        let id = args::op_id(e, &op_id)?;
        let stash = self.stash.clone();
        self.op(env, id, Some(Turn::Recv), move |io| async move {
            let sock = io.registered("recv")?;
            let mut got = receive_waiting(&io, &sock, 1)
                .await
                .map_err(|err| OpError::io(err, "recv"))?;
            match got.pop() {
                Some(piece) => {
                    let len = piece.len.min(size);
                    Ok(park(&stash, Stashed::One { piece, len }))
                }
                None => Err(OpError::io(io::ErrorKind::WouldBlock.into(), "recv")),
            }
        })
    }

    /// Copies the datagram of a finished `recvFrom` into `buf` and returns its sender. Throws
    /// ERR_INVALID_STATE if `buf` is now shorter than the datagram (the datagram is lost).
    #[napi(ts_args_type = "ticket: number, buf: Uint8Array")]
    pub fn take_recv(
        &self,
        env: &Env,
        ticket: Unknown<'_>,
        buf: Unknown<'_>,
    ) -> napi::Result<NativeRecv> {
        let e = env.raw();
        // SAFETY: JS thread; `buf` is a live argument.
        let Some((p, cap)) = (unsafe { js::u8_array(e, args::raw(&buf)) }) else {
            return Err(errors::type_error(e, "buf", "an instance of Uint8Array"));
        };
        let Stashed::One { piece, len } = self.take(env, &ticket)? else {
            return Err(errors::range_error(e, "ticket", "the ticket of a recvFrom"));
        };
        if len > cap {
            self.give_back(vec![piece]);
            return Err(errors::plain_error(e, "ERR_INVALID_STATE", "the receive buffer was detached or shrunk while the receive was pending; the datagram is lost"));
        }
        if len > 0 {
            // SAFETY: `p` points to `cap >= len` live bytes, queried just now on the JS thread;
            // `piece` holds at least `len` bytes.
            unsafe { ptr::copy_nonoverlapping(piece.bytes().as_ptr(), p, len) };
        }
        let from = piece.from;
        self.give_back(vec![piece]);
        Ok(NativeRecv::new(len, from))
    }

    /// Receives every queued datagram up to `max` in one system call (recvmmsg), as a packed
    /// Buffer; `null` when none is queued.
    #[napi(ts_args_type = "max: number", ts_return_type = "Buffer | null")]
    pub fn try_recv_many<'e>(
        &self,
        env: &'e Env,
        max: Unknown<'e>,
    ) -> napi::Result<Option<Unknown<'e>>> {
        let e = env.raw();
        let max = args::int_in(e, &max, "max", 1.0, MAX_BATCH)? as usize;
        let io = self.sync_io_for_transfer(env)?;
        io.enable_gro();
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(None);
        };
        match attempt.done(receive_now(&io, max)) {
            Ok(pieces) => {
                // SAFETY: JS thread of the current call.
                let r = unsafe { pack_many(e, &pieces) };
                io.recycle(pieces);
                // SAFETY: `v` is a live value created in this env just now.
                r.and_then(|v| unsafe { Unknown::from_napi_value(e, v) })
                    .map(Some)
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(err) => Err(sync_err(env, err, "recv")),
        }
    }

    /// Waits until at least one datagram is queued, then receives every queued one up to
    /// `max` in one system call, after the socket's waiting receives called before it;
    /// resolves a ticket for `takeMany`.
    #[napi(
        ts_args_type = "max: number, opId?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn recv_many<'e>(
        &self,
        env: &'e Env,
        max: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let e = env.raw();
        let max = args::int_in(e, &max, "max", 1.0, MAX_BATCH)? as usize;
        let id = args::op_id(e, &op_id)?;
        let stash = self.stash.clone();
        if let Some(io) = self.io() {
            io.enable_gro();
        }
        self.op(env, id, Some(Turn::Recv), move |io| async move {
            let sock = io.registered("recv")?;
            match receive_waiting(&io, &sock, max).await {
                Ok(pieces) => Ok(park(&stash, Stashed::Many(pieces))),
                Err(err) => Err(OpError::io(err, "recv")),
            }
        })
    }

    /// The packed Buffer of a finished `recvMany` (layout: see the binding's `pack_many`).
    #[napi(ts_args_type = "ticket: number", ts_return_type = "Buffer")]
    pub fn take_many<'e>(&self, env: &'e Env, ticket: Unknown<'e>) -> napi::Result<Unknown<'e>> {
        let e = env.raw();
        let Stashed::Many(pieces) = self.take(env, &ticket)? else {
            return Err(errors::range_error(e, "ticket", "the ticket of a recvMany"));
        };
        // SAFETY: JS thread of the current call.
        let r = unsafe { pack_many(e, &pieces) };
        self.give_back(pieces);
        // SAFETY: `v` is a live value created in this env just now.
        r.and_then(|v| unsafe { Unknown::from_napi_value(e, v) })
    }

    /// Sends datagrams `from..` of a batch now, as far as the socket takes them (sendmmsg).
    /// `payload` holds the datagrams back to back; `meta` 8 bytes per datagram
    /// (`u32 len | u16 port | u16 hostIndex`, little endian); `hosts[i]` an IP literal or `''`
    /// for the connected peer. Returns how many were sent, `-1` if none could be (would
    /// block), `-2` if a host needs name resolution (use `sendMany`).
    #[napi(ts_args_type = "payload: Uint8Array, meta: Uint8Array, hosts: string[], from: number")]
    pub fn try_send_many(
        &self,
        env: &Env,
        payload: Unknown<'_>,
        meta: Unknown<'_>,
        hosts: Unknown<'_>,
        from: Unknown<'_>,
    ) -> napi::Result<f64> {
        // `batch.payload` is a raw view of the caller's bytes: `batch_args` reads `hosts` (whose
        // getters can run JS) before taking it, and no JS runs from here to the return.
        let batch = batch_args(env, &payload, &meta, &hosts, &from)?;
        let io = self.sync_io_for_transfer(env)?;
        let sock = io.sock().map_err(|err| throw_op(env, err))?;
        let Some(attempt) = SyncAttempt::begin(env)? else {
            return Ok(-1.0);
        };
        let mut ips = Vec::with_capacity(batch.hosts.len());
        for h in &batch.hosts {
            if h.is_empty() {
                match sock.peer_addr() {
                    Ok(p) => ips.push(p.ip()),
                    Err(_) => return Err(throw_op(env, no_destination())),
                }
            } else {
                match ip_literal(h) {
                    Some(ip) => ips.push(ip),
                    None => return Ok(-2.0),
                }
            }
        }
        let peer_port = sock.peer_addr().map(|p| p.port()).unwrap_or(0);
        let dgrams = datagrams(&batch.recs, &batch.hosts, &ips, peer_port, batch.payload, 0);
        if dgrams.is_empty() {
            return Ok(0.0);
        }
        sent_or_would_block(
            env,
            attempt.done(corio::net::UdpSocket::try_send_many_std_gso(
                sock, &dgrams, &io.gso,
            )),
            |err| send_error(err, dgrams[0].1),
        )
    }

    /// Sends datagrams `from..` of a batch (arguments as for `trySendMany`, copied at call
    /// time), waiting for room as needed and after the socket's waiting sends called before
    /// it; resolves how many were sent. An error on the first datagram rejects; an error after
    /// some were sent resolves the count so far.
    #[napi(
        ts_args_type = "payload: Uint8Array, meta: Uint8Array, hosts: string[], from: number, opId?: number",
        ts_return_type = "Promise<number>"
    )]
    pub fn send_many<'e>(
        &self,
        env: &'e Env,
        payload: Unknown<'e>,
        meta: Unknown<'e>,
        hosts: Unknown<'e>,
        from: Unknown<'e>,
        op_id: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let Batch {
            hosts,
            payload,
            recs,
        } = batch_args(env, &payload, &meta, &hosts, &from)?;
        let id = args::op_id(env.raw(), &op_id)?;
        // Copied before returning to JS: `payload` is only valid until then.
        let start = recs.first().map(|r| r.0).unwrap_or(0);
        let end = recs.last().map(|r| r.0 + r.1).unwrap_or(0);
        let owned = payload[start..end].to_vec();
        self.op(env, id, Some(Turn::Send), move |io| async move {
            let sock = io.registered("send")?;
            let peer = sock.peer_addr().ok();
            let ports: Vec<u16> = {
                let mut p = vec![0u16; hosts.len()];
                for r in &recs {
                    p[r.3] = r.2;
                }
                p
            };
            let ips = resolve_hosts(&hosts, &ports, peer).await?;
            let peer_port = peer.map(|p| p.port()).unwrap_or(0);
            let dgrams = datagrams(&recs, &hosts, &ips, peer_port, &owned, start);
            let mut sent = 0;
            // Sent on the plain socket (it shares the registered duplicate's file, whose
            // readiness we wait for) with the socket's lasting GSO state.
            let plain = io.sock()?;
            while sent < dgrams.len() {
                let r = sock
                    .async_io(corio::io::Interest::WRITABLE, || {
                        corio::net::UdpSocket::try_send_many_std_gso(
                            plain,
                            &dgrams[sent..],
                            &io.gso,
                        )
                    })
                    .await;
                match r {
                    Ok(n) => sent += n,
                    Err(_) if sent > 0 => break,
                    Err(err) => return Err(send_error(err, dgrams[0].1)),
                }
            }
            Ok(Outcome::Number(sent as f64))
        })
    }

    /// Test hook, hidden like the binding's `__panicForTest`: queues an op in the socket's
    /// receive turn (`recv`) or send turn (the one `send`/`sendTo`/`sendMany`/`connect` take)
    /// whose future panics once it holds the turn, on the runtime. Its promise rejects with
    /// ERR_NATIVE_PANIC, and the turn must pass on to the ops queued behind it.
    #[napi(
        js_name = "__panicInTurnForTest",
        ts_args_type = "recv: boolean",
        ts_return_type = "Promise<void>"
    )]
    pub fn panic_in_turn_for_test<'e>(
        &self,
        env: &'e Env,
        recv: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, ()>> {
        let recv = args::boolean(env.raw(), args::raw(&recv), "recv")?;
        let turn = if recv { Turn::Recv } else { Turn::Send };
        self.op(env, 0, Some(turn), |_io| async {
            if std::hint::black_box(true) {
                panic!("__panicInTurnForTest: deliberate panic holding the turn");
            }
            Ok(Outcome::Undefined)
        })
    }

    /// Sets SO_BROADCAST.
    #[napi(ts_args_type = "on: boolean")]
    pub fn set_broadcast(&self, env: &Env, on: Unknown<'_>) -> napi::Result<()> {
        let on = args::boolean(env.raw(), args::raw(&on), "on")?;
        let io = self.sync_io(env)?;
        io.sock()
            .map_err(|e| throw_op(env, e))?
            .set_broadcast(on)
            .map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// Sets the unicast TTL (IPv4 `IP_TTL`, IPv6 `IPV6_UNICAST_HOPS`), 1..=255.
    #[napi(ts_args_type = "ttl: number")]
    pub fn set_ttl(&self, env: &Env, ttl: Unknown<'_>) -> napi::Result<()> {
        let ttl = args::int_in(env.raw(), &ttl, "ttl", 1.0, 255.0)? as u32;
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|e| throw_op(env, e))?;
        let r = match sock.local_addr() {
            Ok(a) if a.is_ipv6() => v6_opt(sock, |s| s.set_unicast_hops_v6(ttl)),
            _ => sock.set_ttl(ttl),
        };
        r.map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// Sets the multicast TTL (IPv4 `IP_MULTICAST_TTL`, IPv6 `IPV6_MULTICAST_HOPS`), 0..=255.
    #[napi(ts_args_type = "ttl: number")]
    pub fn set_multicast_ttl(&self, env: &Env, ttl: Unknown<'_>) -> napi::Result<()> {
        let ttl = args::int_in(env.raw(), &ttl, "ttl", 0.0, 255.0)? as u32;
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|e| throw_op(env, e))?;
        let r = match sock.local_addr() {
            Ok(a) if a.is_ipv6() => v6_opt(sock, |s| s.set_multicast_hops_v6(ttl)),
            _ => sock.set_multicast_ttl_v4(ttl),
        };
        r.map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// Sets whether multicast datagrams loop back to this host.
    #[napi(ts_args_type = "on: boolean")]
    pub fn set_multicast_loopback(&self, env: &Env, on: Unknown<'_>) -> napi::Result<()> {
        let on = args::boolean(env.raw(), args::raw(&on), "on")?;
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|e| throw_op(env, e))?;
        let r = match sock.local_addr() {
            Ok(a) if a.is_ipv6() => sock.set_multicast_loop_v6(on),
            _ => sock.set_multicast_loop_v4(on),
        };
        r.map_err(|err| sync_err(env, err, "setsockopt"))
    }

    /// Joins a multicast group. `iface`: for IPv4 the local interface address (`''` = any),
    /// for IPv6 the interface index as a decimal string (`''` = 0, the default interface).
    #[napi(ts_args_type = "group: string, iface: string")]
    pub fn join_multicast(
        &self,
        env: &Env,
        group: Unknown<'_>,
        iface: Unknown<'_>,
    ) -> napi::Result<()> {
        self.membership(env, group, iface, true)
    }

    /// Leaves a multicast group (arguments as for `joinMulticast`).
    #[napi(ts_args_type = "group: string, iface: string")]
    pub fn leave_multicast(
        &self,
        env: &Env,
        group: Unknown<'_>,
        iface: Unknown<'_>,
    ) -> napi::Result<()> {
        self.membership(env, group, iface, false)
    }

    /// The bound address (the actual port when bound to port 0).
    #[napi]
    pub fn local_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|e| throw_op(env, e))?;
        handle::addr(env, sock.local_addr(), "getsockname")
    }

    /// The connected peer's address (ENOTCONN when not connected).
    #[napi]
    pub fn peer_addr(&self, env: &Env) -> napi::Result<NativeAddr> {
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|e| throw_op(env, e))?;
        handle::addr(env, sock.peer_addr(), "getpeername")
    }

    /// Closes the socket: pending ops reject with ERR_SOCKET_CLOSED; idempotent.
    #[napi]
    pub fn close(&self, env: &Env) -> napi::Result<()> {
        if let Some(io) = self.io() {
            io.closed.set();
        }
        handle::close(env, &self.core, &self.io)
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        !self.core.is_open()
    }

    /// Pending ops of this socket keep the event loop alive (default).
    #[napi(js_name = "ref")]
    pub fn ref_(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.core, true)
    }

    /// Pending ops of this socket no longer keep the event loop alive.
    #[napi]
    pub fn unref(&self, env: &Env) -> napi::Result<()> {
        handle::set_ref(env, &self.core, false)
    }
}

impl NativeUdpSocket {
    fn membership(
        &self,
        env: &Env,
        group: Unknown<'_>,
        iface: Unknown<'_>,
        join: bool,
    ) -> napi::Result<()> {
        let e = env.raw();
        let group_s = args::string(e, &group, "group", 64)?;
        let iface_s = args::string(e, &iface, "iface", 64)?;
        let Some(group) = ip_literal(&group_s).filter(|g| g.is_multicast()) else {
            return Err(errors::type_error(e, "group", "a multicast IP address"));
        };
        let io = self.sync_io(env)?;
        let sock = io.sock().map_err(|err| throw_op(env, err))?;
        let syscall = if join {
            "addMembership"
        } else {
            "dropMembership"
        };
        let r = match group {
            IpAddr::V4(g) => {
                let i = if iface_s.is_empty() {
                    Ipv4Addr::UNSPECIFIED
                } else {
                    iface_s
                        .parse()
                        .map_err(|_| errors::type_error(e, "iface", "an IPv4 interface address"))?
                };
                if join {
                    sock.join_multicast_v4(&g, &i)
                } else {
                    sock.leave_multicast_v4(&g, &i)
                }
            }
            IpAddr::V6(g) => {
                let i: u32 = if iface_s.is_empty() {
                    0
                } else {
                    iface_s
                        .parse()
                        .map_err(|_| errors::type_error(e, "iface", "an IPv6 interface index"))?
                };
                let g: Ipv6Addr = g;
                if join {
                    sock.join_multicast_v6(&g, i)
                } else {
                    sock.leave_multicast_v6(&g, i)
                }
            }
        };
        r.map_err(|err| throw_op(env, OpError::io_at(err, syscall, &group_s, 0)))
    }
}

/// Applies an IPv6 socket option the core does not expose, through socket2.
fn v6_opt(
    sock: &std::net::UdpSocket,
    f: impl FnOnce(&socket2::SockRef<'_>) -> io::Result<()>,
) -> io::Result<()> {
    #[cfg(unix)]
    {
        f(&socket2::SockRef::from(sock))
    }
    #[cfg(not(unix))]
    {
        let _ = (sock, f);
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_parse_with_and_without_brackets() {
        assert_eq!(
            ip_literal("127.0.0.1"),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(ip_literal("[::1]"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(ip_literal("::1"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(ip_literal("localhost"), None);
    }

    #[test]
    fn sender_info_reuses_the_previous_address() {
        let mut info = [0u8; 64];
        let mut last = None;
        let a: SocketAddr = "127.0.0.1:4660".parse().unwrap();
        write_sender(&mut info, a, &mut last);
        assert_eq!(u16::from_le_bytes([info[0], info[1]]), 4660);
        assert_eq!(info[2], 4);
        assert_eq!(&info[4..4 + info[3] as usize], b"127.0.0.1");
        write_sender(&mut info, "127.0.0.1:1".parse().unwrap(), &mut last);
        assert_eq!((info[3], u16::from_le_bytes([info[0], info[1]])), (0, 1));
        let v6: SocketAddr = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:9"
            .parse()
            .unwrap();
        write_sender(&mut info, v6, &mut last);
        assert_eq!((info[2], info[3]), (6, 39));
        assert_eq!(&info[4..43], b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    }

    #[test]
    fn tickets_are_unique_and_taken_once() {
        let stash: SharedStash = Arc::new(Mutex::new(Stash::default()));
        let from: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let t1 = match park(
            &stash,
            Stashed::One {
                piece: Piece {
                    slot: Arc::new(vec![1]),
                    off: 0,
                    len: 1,
                    from,
                },
                len: 1,
            },
        ) {
            Outcome::Number(n) => n as u64,
            _ => unreachable!(),
        };
        let t2 = match park(
            &stash,
            Stashed::One {
                piece: Piece {
                    slot: Arc::new(vec![2]),
                    off: 0,
                    len: 1,
                    from,
                },
                len: 1,
            },
        ) {
            Outcome::Number(n) => n as u64,
            _ => unreachable!(),
        };
        assert_ne!(t1, t2);
        let mut s = stash.lock().unwrap();
        assert!(s.items.remove(&t1).is_some());
        assert!(s.items.remove(&t1).is_none());
        assert_eq!(s.items.len(), 1);
    }

    /// A [`UdpIo`] bound to a non-blocking loopback socket with `UDP_GRO` on, and its
    /// address; `None` (the test is skipped) where the kernel has no `UDP_GRO`.
    #[cfg(target_os = "linux")]
    fn gro_receiver() -> Option<(UdpIo, SocketAddr)> {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_nonblocking(true).unwrap();
        let to = rx.local_addr().unwrap();
        let io = UdpIo::new();
        io.sock.set(rx).unwrap();
        io.enable_gro();
        if !io.gro() {
            eprintln!("skipped: this kernel has no UDP_GRO");
            return None;
        }
        Some((io, to))
    }

    /// With `UDP_GRO` on, runs sent as segmented super-datagrams come back split into the
    /// datagrams that were sent: batches never exceed their `max`, the segments beyond it are
    /// handed to the next receive of either kind (batch or single), nothing is lost or
    /// repeated, and a datagram from another sender keeps its address. Order is checked only
    /// where loopback guarantees it, within one super-datagram: pieces of one receive that
    /// share a buffer are consecutive datagrams of one run (separate send calls may arrive
    /// reordered when softirq work is deferred to another CPU).
    #[cfg(target_os = "linux")]
    #[test]
    fn gro_receives_split_runs_and_keep_leftovers_in_order() {
        let Some((io, to)) = gro_receiver() else {
            return;
        };
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.set_nonblocking(true).unwrap();
        let other = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut want: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let send =
            |want: &mut Vec<(Vec<u8>, SocketAddr)>, size: usize, count: usize, first: usize| {
                let payloads: Vec<Vec<u8>> = (first..first + count)
                    .map(|i| (0..size).map(|k| (i * 13 + k) as u8).collect())
                    .collect();
                let batch: Vec<(&[u8], SocketAddr)> =
                    payloads.iter().map(|p| (&p[..], to)).collect();
                let mut sent = 0;
                while sent < batch.len() {
                    match corio::net::UdpSocket::try_send_many_std(&tx, &batch[sent..]) {
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                        Err(e) => panic!("send: {e}"),
                    }
                }
                want.extend(payloads.into_iter().map(|p| (p, tx.local_addr().unwrap())));
            };
        send(&mut want, 64, 100, 0); // runs of 64 and 36
        send(&mut want, 1400, 50, 100); // runs of 46 and 4
        other.send_to(b"from another sender", to).unwrap();
        want.push((b"from another sender".to_vec(), other.local_addr().unwrap()));

        let index: HashMap<Vec<u8>, usize> = want
            .iter()
            .enumerate()
            .map(|(i, w)| (w.0.clone(), i))
            .collect();
        assert_eq!(index.len(), want.len(), "payloads must be unique");
        let mut got: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let mut single = [0u8; 2048];
        let mut coalesced = false;
        for round in 0.. {
            if round % 3 == 2 {
                match NativeUdpSocket::recv_one_now(&io, &mut single) {
                    Ok((n, from)) => got.push((single[..n].to_vec(), from)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("recv: {e}"),
                }
                continue;
            }
            let max = [10, 7][round % 2];
            match receive_now(&io, max) {
                Ok(pieces) => {
                    assert!(
                        !pieces.is_empty() && pieces.len() <= max,
                        "{}",
                        pieces.len()
                    );
                    for w in pieces.windows(2) {
                        if Arc::ptr_eq(&w[0].slot, &w[1].slot) {
                            coalesced = true;
                            assert_eq!(
                                index.get(w[1].bytes()).copied(),
                                index.get(w[0].bytes()).map(|i| i + 1),
                                "segments of one buffer out of order"
                            );
                        }
                    }
                    got.extend(pieces.iter().map(|p| (p.bytes().to_vec(), p.from)));
                    io.recycle(pieces);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert!(coalesced, "no receive was coalesced: GRO did not engage");
        assert_eq!(got.len(), want.len());
        got.sort();
        want.sort();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.1, w.1, "datagram {i}: sender");
            assert!(g.0 == w.0, "datagram {i}: payload");
        }
        assert!(io.rest.lock().unwrap().is_empty());
    }

    /// A coalesced buffer cut short by a small receive buffer: the kernel discards the rest
    /// of the run, and only the whole segments in the buffer are handed out (the cut one is
    /// dropped, never delivered as a datagram).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_truncated_coalesced_buffer_yields_only_whole_segments() {
        let Some((io, to)) = gro_receiver() else {
            return;
        };
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let payloads: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 64]).collect();
        let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
        // One call: the run leaves as one super-datagram (or, without GSO, as ten datagrams).
        assert_eq!(
            corio::net::UdpSocket::try_send_many_std(&tx, &batch).unwrap(),
            10
        );
        let sock = io.sock.get().unwrap();
        let mut got: Vec<Vec<u8>> = Vec::new();
        loop {
            // Receive into 150-byte buffers: a 640-byte coalesced buffer is truncated.
            let r = receive(&io, 10, |bufs, metas| {
                let mut small: Vec<IoSliceMut<'_>> = bufs
                    .iter_mut()
                    .map(|b| IoSliceMut::new(&mut b[..150]))
                    .collect();
                corio::net::UdpSocket::try_recv_many_std(sock, &mut small, metas)
            });
            match r {
                Ok(pieces) => {
                    got.extend(pieces.iter().map(|p| p.bytes().to_vec()));
                    io.recycle(pieces);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert!(
            got.iter().all(|g| g.len() == 64),
            "a cut segment was handed out"
        );
        if got.len() < 10 {
            // Coalesced: 150 bytes hold two whole segments, the first two of the run.
            assert_eq!(got, payloads[..2].to_vec());
        } else {
            got.sort();
            assert_eq!(got, payloads);
        }
    }

    /// Queued sends hold a [`RegClaim`] from call time: the registration made by the first of
    /// them serves the ones behind it, and goes with the last claim, not with each send.
    #[test]
    fn a_claim_keeps_one_registration_for_the_sends_behind_it() {
        on_runtime(async {
            let s = bind_socket("127.0.0.1:0".parse().unwrap(), BindOpts::default()).unwrap();
            let io = Arc::new(UdpIo::new());
            io.sock.set(s).unwrap();
            let claims = [RegClaim::new(&io), RegClaim::new(&io)];
            assert!(
                io.reg.lock().unwrap().sock.is_none(),
                "a claim registers nothing"
            );
            let first = io.registered("send").unwrap().sock.clone().unwrap();
            let second = io.registered("send").unwrap();
            assert!(Arc::ptr_eq(&first, second.sock.as_ref().unwrap()));
            drop(second);
            let [a, b] = claims;
            drop(a);
            assert!(io.reg.lock().unwrap().sock.is_some());
            drop(b);
            assert!(io.reg.lock().unwrap().sock.is_none());
        });
    }

    /// Runs `f` on a one-worker runtime (for tests that register sockets with the driver).
    fn on_runtime<F: std::future::Future>(f: F) -> F::Output {
        corio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn bind_options_apply_before_bind() {
        on_runtime(async {
            let o = BindOpts {
                reuse_address: true,
                recv_buffer_size: Some(1 << 20),
                broadcast: true,
                ..BindOpts::default()
            };
            let s = bind_socket("127.0.0.1:0".parse().unwrap(), o).unwrap();
            assert!(s.broadcast().unwrap());
            let sr = socket2::SockRef::from(&s);
            assert!(sr.reuse_address().unwrap());
            assert!(sr.recv_buffer_size().unwrap() >= 1 << 20);
            // Bound, so it can receive from itself.
            let me = s.local_addr().unwrap();
            let io = UdpIo::new();
            io.sock.set(s).unwrap();
            {
                // Concurrent ops share one registration...
                let a = io.registered("send").unwrap();
                let b = io.registered("recv").unwrap();
                assert!(Arc::ptr_eq(
                    a.sock.as_ref().unwrap(),
                    b.sock.as_ref().unwrap()
                ));
                a.send_to(b"x", me).await.unwrap();
                let mut buf = [0u8; 4];
                assert_eq!(b.recv_from(&mut buf).await.unwrap(), (1, me));
            }
            // ...which ends with the last of them.
            assert!(io.reg.lock().unwrap().sock.is_none());
            // A datagram queued while unregistered (sent on the plain socket) is seen by the
            // next registration.
            io.sock().unwrap().send_to(b"yz", me).unwrap();
            let r = io.registered("recv").unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(r.recv_from(&mut buf).await.unwrap(), (2, me));
        });
    }
}
