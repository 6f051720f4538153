//! UDP generic segmentation offload (GSO) for `UdpSocket::send_many` on Linux/Android.
//!
//! Why it exists: `sendmmsg` saves system calls, but the kernel still walks the whole UDP/IP
//! stack once per datagram (route lookup, skb allocation, checksum, enqueue at the receiver).
//! That per-datagram kernel work was ~60% of corio's batch profile. With `UDP_SEGMENT` a run of
//! datagrams to one destination that all have one size (the last may be shorter) goes down as
//! one "super-datagram" with a segment size; the stack runs once for the run and the datagrams
//! are cut apart as late as possible (by the NIC, by the device layer, or, over loopback, by
//! the receiving socket). The receiver sees exactly the datagrams that were sent, with their
//! boundaries: segmentation is invisible on the wire and to every receiver.
//!
//! Rules kept here:
//! - A run holds at most [`MAX_SEGMENTS`] datagrams and [`MAX_RUN_BYTES`] payload bytes, and
//!   only non-empty datagrams; a datagram that cannot join a run is sent as its own entry
//!   (without the control message), exactly as before.
//! - Support is probed once per process (`getsockopt(UDP_SEGMENT)` fails with `ENOPROTOOPT`
//!   before Linux 4.18, whose `sendmsg` would silently ignore the control message and send a
//!   run as one big datagram, so the probe must come first).
//! - `CORIO_UDP_GSO=0` in the environment (read once per process) turns segmentation off for
//!   every socket: Linux 7.0.0–7.1.4 corrupts equal-size GSO runs on some real NICs.
//! - A super-datagram is built as one packet: its `sendmsg` either queues all of it or fails
//!   with nothing sent. Only a failing *segmented* first entry, failing with an error that can
//!   mean "no segmentation here" (`EIO`, `ENOPROTOOPT`, `EOPNOTSUPP`, `EINVAL`, `EMSGSIZE`),
//!   makes the batch go again without segmentation, so every datagram is still sent exactly
//!   once. Any other error, or any error of an unsegmented first entry (a lone oversize
//!   datagram, a bad destination), is the caller's error and changes nothing.
//! - The refusal is remembered in the caller's GSO state (an `AtomicUsize`, see
//!   [`UdpSocket::GSO_ALL`](super::UdpSocket::GSO_ALL)) only if the unsegmented resend then got
//!   its first datagram out (otherwise the error was not about segmentation, e.g. a bad
//!   destination of the whole run): `EIO`/`ENOPROTOOPT`/`EOPNOTSUPP` (route or kernel cannot
//!   segment at all) set it to 0, segmentation off; `EINVAL`/`EMSGSIZE` (segment larger than
//!   the path MTU allows) lower it to the refused segment size, and later runs are built only
//!   of smaller segments.
//! - A rare race: if the path MTU shrinks while a segmented `sendmsg` is under way, the kernel
//!   can fail the call with `EMSGSIZE` after the last (short) segment already left. The
//!   unsegmented resend then sends that datagram a second time. We accept this: UDP receivers
//!   must tolerate duplicates anyway, and never resending could lose a whole run silently.
//! - The count returned is in datagrams, never in super-datagrams.

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Most datagrams per super-datagram. Linux accepted 64 from 4.18 (`UDP_MAX_SEGMENTS`) and
/// raised it to 128 in 6.x; 64 is safe on every kernel with `UDP_SEGMENT`.
pub(super) const MAX_SEGMENTS: usize = 64;

/// Most payload bytes per super-datagram: the largest IPv4 UDP payload (the kernel builds the
/// run as one IP packet before segmenting it).
pub(super) const MAX_RUN_BYTES: usize = 65_507;

/// Largest batch handed to one `sendmmsg` (the kernel caps `vlen` at `UIO_MAXIOV` = 1024).
const MAX_ENTRIES: usize = 1024;

/// Process-wide kernel support: 0 = not probed yet, 1 = supported, 2 = not supported.
static KERNEL: AtomicU8 = AtomicU8::new(0);

/// Whether `CORIO_UDP_GSO=0` switched segmentation off for this process (read once).
fn disabled_by_env() -> bool {
    static OFF: OnceLock<bool> = OnceLock::new();
    *OFF.get_or_init(|| std::env::var_os("CORIO_UDP_GSO").is_some_and(|v| v == "0"))
}

/// Whether this kernel understands `UDP_SEGMENT` (probed once, on the first socket asked).
fn kernel_supports(fd: RawFd) -> bool {
    match KERNEL.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            match crate::net::sys::getsockopt::<libc::c_int>(fd, libc::SOL_UDP, libc::UDP_SEGMENT) {
                Ok(_) => {
                    KERNEL.store(1, Ordering::Relaxed);
                    true
                }
                // Old kernels answer ENOPROTOOPT; anything else (a socket that is not UDP, say)
                // says nothing about the kernel, so probe again on the next socket.
                Err(e) => {
                    if e.raw_os_error() == Some(libc::ENOPROTOOPT) {
                        KERNEL.store(2, Ordering::Relaxed);
                    }
                    false
                }
            }
        }
    }
}

/// What a failed segmented first entry says about segmentation.
enum Refusal {
    /// The kernel or route cannot segment at all (`EIO`: no checksum offload on the route,
    /// `ENOPROTOOPT`/`EOPNOTSUPP`): segmentation off for the state.
    Never,
    /// The segment size was refused (`EINVAL`: larger than the path MTU allows, `EMSGSIZE`):
    /// only smaller segments from now on.
    Size,
}

/// How `err` of a segmented first entry refuses segmentation; `None`: unrelated to it.
fn refusal(err: &io::Error) -> Option<Refusal> {
    match err.raw_os_error()? {
        libc::EIO | libc::ENOPROTOOPT | libc::EOPNOTSUPP => Some(Refusal::Never),
        libc::EINVAL | libc::EMSGSIZE => Some(Refusal::Size),
        _ => None,
    }
}

/// Sends `datagrams` with one `sendmmsg`, coalescing runs into super-datagrams of segments
/// smaller than `state` (the caller's GSO state: `usize::MAX` = any size, 0 = off), and
/// records a refusal in it (see the module doc). Returns how many datagrams (from the front)
/// were sent, or the first datagram's error.
pub(super) fn send_many(
    fd: RawFd,
    datagrams: &[(&[u8], SocketAddr)],
    state: &AtomicUsize,
) -> io::Result<usize> {
    let limit = state.load(Ordering::Relaxed);
    let limit = if limit > 1 && datagrams.len() > 1 && !disabled_by_env() && kernel_supports(fd) {
        limit
    } else {
        0
    };
    match send_entries(fd, datagrams, limit) {
        Err(Refused { err, seg }) if seg > 0 => {
            let Some(kind) = refusal(&err) else {
                return Err(err);
            };
            // Nothing of the refused super-datagram was sent: send the batch plainly.
            let r = send_entries(fd, datagrams, 0).map_err(|r| r.err);
            // Remember the refusal only if the plain send got past the datagram whose run was
            // refused: otherwise the error was not about segmentation.
            if r.is_ok() {
                match kind {
                    Refusal::Never => state.store(0, Ordering::Relaxed),
                    Refusal::Size => {
                        state.fetch_min(seg, Ordering::Relaxed);
                    }
                }
            }
            r
        }
        r => r.map_err(|r| r.err),
    }
}

/// The error of a `sendmmsg` whose first entry failed (nothing was sent), and that entry's
/// segment size (0: it was not segmented).
struct Refused {
    err: io::Error,
    seg: usize,
}

/// One `sendmmsg` entry: datagrams `start..start + count`, all of `seg` bytes but the last
/// (`seg == 0`: a single datagram sent without a segment size).
struct Entry {
    start: usize,
    count: usize,
    seg: usize,
}

/// Groups `datagrams` into entries: runs of equal-size datagrams to one destination with
/// segments smaller than `limit`, else one entry per datagram (`limit` 0: no runs).
fn plan(datagrams: &[(&[u8], SocketAddr)], limit: usize) -> Vec<Entry> {
    let mut entries = Vec::with_capacity(if limit > 0 { 4 } else { datagrams.len() });
    let mut i = 0;
    while i < datagrams.len() && entries.len() < MAX_ENTRIES {
        let (first, to) = datagrams[i];
        let seg = first.len();
        let mut j = i + 1;
        if seg > 0 && seg < limit && seg <= MAX_RUN_BYTES / 2 {
            let mut total = seg;
            while j < datagrams.len() && j - i < MAX_SEGMENTS {
                let (p, a) = datagrams[j];
                if a != to || p.is_empty() || p.len() > seg || total + p.len() > MAX_RUN_BYTES {
                    break;
                }
                total += p.len();
                j += 1;
                if p.len() < seg {
                    break; // a shorter datagram ends the run
                }
            }
        }
        let count = j - i;
        entries.push(Entry {
            start: i,
            count,
            seg: if count > 1 { seg } else { 0 },
        });
        i = j;
    }
    entries
}

/// Space for one `UDP_SEGMENT` control message (a `u16`), aligned for `cmsghdr`.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct SegmentCmsg([u8; 32]);

/// One `sendmmsg` over the entries planned for `datagrams` (runs only of segments smaller
/// than `limit`).
fn send_entries(
    fd: RawFd,
    datagrams: &[(&[u8], SocketAddr)],
    limit: usize,
) -> Result<usize, Refused> {
    let entries = plan(datagrams, limit);
    let covered = entries.last().map_or(0, |e| e.start + e.count);
    let mut iovs: Vec<libc::iovec> = datagrams[..covered]
        .iter()
        .map(|(p, _)| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        })
        .collect();
    let iov_base = iovs.as_mut_ptr();
    let mut names: Vec<(libc::sockaddr_storage, libc::socklen_t)> = entries
        .iter()
        .map(|e| crate::net::sys::sockaddr_from(&datagrams[e.start].1))
        .collect();
    let segmented = entries.iter().filter(|e| e.seg > 0).count();
    let mut cmsgs = vec![SegmentCmsg([0; 32]); segmented];
    // SAFETY: all-zero is a valid (empty) mmsghdr.
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { mem::zeroed() }; entries.len()];
    let mut next_cmsg = 0;
    for (k, e) in entries.iter().enumerate() {
        let hdr = &mut msgs[k].msg_hdr;
        hdr.msg_name = (&mut names[k].0 as *mut libc::sockaddr_storage).cast();
        hdr.msg_namelen = names[k].1;
        // SAFETY: `e.start + e.count <= covered == iovs.len()`, so the offset stays inside
        // `iovs`; every header's pointer derives from the one `iov_base`, which stays valid
        // because `iovs` is not touched again until `sendmmsg` returns.
        hdr.msg_iov = unsafe { iov_base.add(e.start) };
        hdr.msg_iovlen = e.count as _;
        if e.seg > 0 {
            let buf = &mut cmsgs[next_cmsg];
            next_cmsg += 1;
            hdr.msg_control = buf.0.as_mut_ptr().cast();
            // SAFETY: CMSG_SPACE only computes a size.
            hdr.msg_controllen = unsafe { libc::CMSG_SPACE(mem::size_of::<u16>() as _) } as _;
            // SAFETY: `hdr` points at a control buffer of `msg_controllen` bytes
            // (CMSG_SPACE(2): 24 on 64-bit, 16 on 32-bit), within the 32 bytes of `buf`,
            // aligned for `cmsghdr`; CMSG_FIRSTHDR returns its start, and the header plus the
            // u16 payload (CMSG_LEN(2) bytes) fit in it.
            unsafe {
                let c = libc::CMSG_FIRSTHDR(hdr);
                (*c).cmsg_level = libc::SOL_UDP;
                (*c).cmsg_type = libc::UDP_SEGMENT;
                (*c).cmsg_len = libc::CMSG_LEN(mem::size_of::<u16>() as _) as _;
                std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), e.seg as u16);
            }
        }
    }
    // SAFETY: every header points at a live address, `count` live iovecs over live payloads,
    // and (for a run) a live control buffer; all outlive the call. sendmmsg only reads them
    // (the `*mut` in iovec is the C API's, not a write).
    let sent = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), msgs.len() as _, 0) };
    if sent < 0 {
        return Err(Refused {
            err: io::Error::last_os_error(),
            seg: entries.first().map_or(0, |e| e.seg),
        });
    }
    Ok(entries[..sent as usize].iter().map(|e| e.count).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Runs break at a new destination, a longer datagram, after a shorter one, at an empty
    /// one, at 64 segments and at 65,507 bytes; without segmentation every datagram is alone.
    #[test]
    fn plan_groups_runs() {
        let big = vec![0u8; 1400];
        let small = vec![0u8; 100];
        let mut batch: Vec<(&[u8], SocketAddr)> = Vec::new();
        for _ in 0..3 {
            batch.push((&big, addr(1)));
        }
        batch.push((&small, addr(1))); // shorter: joins and ends the run
        batch.push((&big, addr(1))); // new run
        batch.push((&big, addr(2))); // new destination
        batch.push((&[], addr(2))); // empty: alone
        batch.push((&small, addr(2)));
        let runs: Vec<(usize, usize, usize)> = plan(&batch, usize::MAX)
            .iter()
            .map(|e| (e.start, e.count, e.seg))
            .collect();
        assert_eq!(
            runs,
            vec![(0, 4, 1400), (4, 1, 0), (5, 1, 0), (6, 1, 0), (7, 1, 0)]
        );
        assert!(plan(&batch, 0).iter().all(|e| e.count == 1));

        let many: Vec<(&[u8], SocketAddr)> = (0..130).map(|_| (&small[..64], addr(1))).collect();
        let counts: Vec<usize> = plan(&many, usize::MAX).iter().map(|e| e.count).collect();
        assert_eq!(counts, vec![64, 64, 2]);
        let large: Vec<(&[u8], SocketAddr)> = (0..50).map(|_| (&big[..], addr(1))).collect();
        let counts: Vec<usize> = plan(&large, usize::MAX).iter().map(|e| e.count).collect();
        assert_eq!(counts, vec![46, 4]); // 46 * 1400 = 64,400 <= 65,507 < 47 * 1400

        // A refused segment size: only smaller segments form runs.
        assert!(plan(&large, 1400).iter().all(|e| e.seg == 0));
        let counts: Vec<usize> = plan(&large, 1401).iter().map(|e| e.count).collect();
        assert_eq!(counts, vec![46, 4]);
    }
}
