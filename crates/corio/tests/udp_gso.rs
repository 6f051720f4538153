//! `UdpSocket::send_many` with UDP segmentation offload (Linux `UDP_SEGMENT`): runs of
//! same-size datagrams to one destination leave as one super-datagram, and every receiver
//! still gets exactly the datagrams that were sent, with their boundaries, in order per
//! destination. Also: the run really is coalesced (seen by a receiver with `UDP_GRO`), and a
//! socket whose kernel path refuses segmentation still sends every datagram exactly once,
//! errors unrelated to segmentation leave it on, and `CORIO_UDP_GSO=0` turns it off.
//!
//! Order: loopback keeps the order of the datagrams of one system call (one super-datagram,
//! or the entries of one `sendmmsg`), but datagrams of separate calls can be reordered when
//! softirq processing is deferred to another CPU. So the tests compare what arrived from
//! separate calls as a multiset, and check order only within one super-datagram.
use corio::net::{RecvMeta, UdpSocket};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicUsize, Ordering};

/// `a` and `b` hold the same payloads, each as often, in any order.
fn same_multiset<'a>(
    a: impl IntoIterator<Item = &'a Vec<u8>>,
    b: impl IntoIterator<Item = &'a Vec<u8>>,
) -> bool {
    let mut a: Vec<&Vec<u8>> = a.into_iter().collect();
    let mut b: Vec<&Vec<u8>> = b.into_iter().collect();
    a.sort();
    b.sort();
    a == b
}

/// A payload unique to datagram `i` of length `len`.
fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i * 31 + k * 7) as u8).collect()
}

/// Sends the whole batch, re-sending from where a partial `send_many` stopped.
async fn send_all(tx: &UdpSocket, batch: &[(&[u8], SocketAddr)]) {
    let mut sent = 0;
    while sent < batch.len() {
        let n = tx.send_many(&batch[sent..]).await.unwrap();
        assert!(n >= 1 && n <= batch.len() - sent, "count {n} out of range");
        sent += n;
    }
}

/// Receives exactly `n` datagrams (waiting as needed), then checks nothing more is queued.
async fn recv_exactly(rx: &UdpSocket, n: usize) -> Vec<(Vec<u8>, SocketAddr)> {
    let mut out = Vec::new();
    let mut slots = vec![vec![0u8; 65_536]; 16];
    let mut meta = [RecvMeta::default(); 16];
    while out.len() < n {
        let got = recv_into(rx, &mut slots, &mut meta).await;
        for (slot, m) in slots.iter().zip(&meta).take(got) {
            assert!(!m.is_truncated());
            out.push((slot[..m.len()].to_vec(), m.addr()));
        }
    }
    assert_eq!(out.len(), n, "more datagrams than were sent");
    let mut bufs = [IoSliceMut::new(&mut slots[0])];
    assert_eq!(
        rx.try_recv_many(&mut bufs, &mut meta[..1])
            .unwrap_err()
            .kind(),
        io::ErrorKind::WouldBlock,
        "a datagram arrived twice"
    );
    out
}

/// Sets an int socket option on `fd` (test helper).
#[cfg(unix)]
fn set_int_opt(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: plain setsockopt with a c_int that lives for the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Raises `SO_RCVBUF` (capped by the OS) so a group of test datagrams is never dropped.
#[cfg(unix)]
fn big_rcvbuf(sock: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let _ = set_int_opt(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
}

#[cfg(not(unix))]
fn big_rcvbuf(_sock: &UdpSocket) {}

/// One group of a mixed batch: `(length, to receiver B?)` per datagram.
type Group = Vec<(usize, bool)>;

/// Groups of datagrams, each sent with one `send_all` and fully received before the next
/// (so no receive buffer overflows), covering every way a run starts and ends.
fn groups() -> Vec<Group> {
    let mut g1: Group = vec![(64, false); 70]; // a run of 64 and one of 6
    for i in 0..10 {
        g1.push((64, i % 2 == 1)); // alternating destinations: no runs
    }
    let g2: Group = vec![(1400, false); 50]; // 46 fit in 65,507 bytes, then 4
    let mut g3: Group = vec![(1400, true); 3];
    g3.push((700, true)); // a shorter last datagram ends the run
    g3.push((1400, true)); // and the next one starts a new run
    g3.push((0, true)); // empty datagrams never join a run
    g3.push((0, true));
    g3.extend([(100, false), (100, false), (200, false)]); // a longer one ends the run
    g3.extend(vec![(20_000, true); 5]); // 3 fit in 65,507 bytes, then 2
    let g4: Group = vec![(65_507, false), (64, true), (64, true)];
    vec![g1, g2, g3, g4]
}

async fn mixed_runs_arrive_exactly(host: &str) {
    let tx = UdpSocket::bind(format!("{host}:0")).await.unwrap();
    let a = UdpSocket::bind(format!("{host}:0")).await.unwrap();
    let b = UdpSocket::bind(format!("{host}:0")).await.unwrap();
    big_rcvbuf(&a);
    big_rcvbuf(&b);
    let (to_a, to_b, from) = (
        a.local_addr().unwrap(),
        b.local_addr().unwrap(),
        tx.local_addr().unwrap(),
    );
    let mut next = 0;
    for group in groups() {
        let payloads: Vec<(Vec<u8>, bool)> = group
            .iter()
            .map(|&(len, to_b)| {
                next += 1;
                (payload(next, len), to_b)
            })
            .collect();
        let batch: Vec<(&[u8], SocketAddr)> = payloads
            .iter()
            .map(|(p, tb)| (&p[..], if *tb { to_b } else { to_a }))
            .collect();
        send_all(&tx, &batch).await;
        for (rx, want_b) in [(&a, false), (&b, true)] {
            let want: Vec<&Vec<u8>> = payloads
                .iter()
                .filter(|(_, tb)| *tb == want_b)
                .map(|(p, _)| p)
                .collect();
            let got = recv_exactly(rx, want.len()).await;
            assert!(
                got.iter().all(|g| g.1 == from),
                "a datagram from another sender"
            );
            assert!(
                same_multiset(got.iter().map(|g| &g.0), want.iter().copied()),
                "the datagrams received differ from those sent"
            );
        }
    }
}

#[corio::test]
async fn mixed_runs_arrive_as_the_datagrams_sent_ipv4() {
    mixed_runs_arrive_exactly("127.0.0.1").await;
}

#[corio::test]
async fn mixed_runs_arrive_as_the_datagrams_sent_ipv6() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    mixed_runs_arrive_exactly("[::1]").await;
}

/// A sender and a receiver on IPv4 loopback, with `UDP_GRO` on for the receiver: the kernel
/// then hands it a super-datagram whole, with its segment size in a control message. `None`
/// (the test is skipped) where the kernel lacks `UDP_GRO` (< 5.0).
#[cfg(target_os = "linux")]
async fn gro_pair() -> Option<(UdpSocket, UdpSocket)> {
    use std::os::fd::AsRawFd;
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    if set_int_opt(rx.as_raw_fd(), libc::SOL_UDP, libc::UDP_GRO, 1).is_err() {
        eprintln!("skipped: this kernel has no UDP_GRO");
        return None;
    }
    Some((tx, rx))
}

/// One `recv_many` into `slots` (one datagram per slot), its metadata into `meta`.
async fn recv_into(rx: &UdpSocket, slots: &mut [Vec<u8>], meta: &mut [RecvMeta]) -> usize {
    let mut bufs: Vec<IoSliceMut<'_>> = slots.iter_mut().map(|s| IoSliceMut::new(s)).collect();
    rx.recv_many(&mut bufs, meta).await.unwrap()
}

/// Sends the whole batch with a non-blocking `_std` send, re-sending from where a partial send
/// stopped and yielding while the send buffer is full.
async fn send_all_std(
    batch: &[(&[u8], SocketAddr)],
    mut send: impl FnMut(&[(&[u8], SocketAddr)]) -> io::Result<usize>,
) {
    let mut sent = 0;
    while sent < batch.len() {
        match send(&batch[sent..]) {
            Ok(n) => {
                assert!(n >= 1 && n <= batch.len() - sent, "count {n} out of range");
                sent += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => corio::task::yield_now().await,
            Err(e) => panic!("send: {e}"),
        }
    }
}

/// One `recvmsg` on a `UDP_GRO` socket: the bytes and the segment size (0 = not coalesced).
#[cfg(target_os = "linux")]
async fn recv_gro(sock: &UdpSocket, buf: &mut [u8]) -> (usize, usize) {
    use std::os::fd::AsRawFd;
    sock.async_io(corio::io::Interest::READABLE, || {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = [0u64; 8];
        // SAFETY: all-zero is a valid msghdr.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_iov = &mut iov;
        hdr.msg_iovlen = 1;
        hdr.msg_control = control.as_mut_ptr().cast();
        hdr.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `hdr` points at one iovec over `buf` and a 64-byte control buffer.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut hdr, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut seg = 0;
        // SAFETY: `msg_controllen` is now the number of bytes of control messages the kernel
        // wrote into `control`; CMSG_FIRSTHDR/NXTHDR only return headers lying whole within
        // them, and the int payload is read only if the message's `cmsg_len` covers it.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&hdr);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_UDP
                    && (*c).cmsg_type == libc::UDP_GRO
                    && (*c).cmsg_len as usize
                        >= libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as _) as usize
                {
                    seg = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                }
                c = libc::CMSG_NXTHDR(&hdr, c);
            }
        }
        Ok((n as usize, seg as usize))
    })
    .await
    .unwrap()
}

/// A run really leaves as one super-datagram: a receiver with `UDP_GRO` gets 64 datagrams of
/// 64 bytes as one 4,096-byte message with segment size 64, then the remaining 36.
#[cfg(target_os = "linux")]
#[corio::test]
async fn a_run_leaves_as_one_segmented_datagram() {
    let Some((tx, rx)) = gro_pair().await else {
        return;
    };
    let to = rx.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..100).map(|i| payload(i, 64)).collect();
    let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    send_all(&tx, &batch).await;
    // Two super-datagrams; if `send_all` needed two calls they may arrive in either order.
    let mut buf = vec![0u8; 65_536];
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (n, seg) = recv_gro(&rx, &mut buf).await;
        runs.push((n, seg, buf[..n].to_vec()));
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    assert_eq!(
        (runs[0].0, runs[0].1),
        (64 * 64, 64),
        "the first 64 were not coalesced"
    );
    assert!(runs[0].2 == payloads[..64].concat());
    assert_eq!((runs[1].0, runs[1].1), (36 * 64, 64));
    assert!(runs[1].2 == payloads[64..].concat());

    // `recv_many` reports the segment size of a coalesced buffer; a lone datagram has none.
    send_all(&tx, &batch[..10]).await;
    tx.send_to(&payloads[10][..20], to).await.unwrap();
    let mut slots = vec![vec![0u8; 65_536]; 4];
    let mut meta = [RecvMeta::default(); 4];
    let mut got = Vec::new();
    while got.len() < 2 {
        let k = recv_into(&rx, &mut slots, &mut meta).await;
        got.extend(meta[..k].iter().map(|m| (m.len(), m.segment_size())));
    }
    got.sort(); // two send calls: loopback may deliver them in either order
    assert_eq!(got, vec![(20, None), (640, Some(64))]);
}

/// Sets `SO_NO_CHECK` (no UDP checksums): Linux then refuses segmented sends with EINVAL,
/// while plain ones still work — a real kernel refusal to exercise the fallback.
#[cfg(target_os = "linux")]
fn refuse_segmentation(fd: std::os::fd::RawFd) {
    if let Err(e) = set_int_opt(fd, libc::SOL_SOCKET, libc::SO_NO_CHECK, 1) {
        panic!("SO_NO_CHECK: {e}");
    }
}

/// When the kernel refuses a super-datagram, every datagram is still sent exactly once (the
/// refused send sent nothing), on the async path and on later batches (segmentation is then
/// off for the socket), and on the `_std` path that has no per-socket memory.
#[cfg(target_os = "linux")]
#[corio::test]
async fn refused_segmentation_falls_back_and_sends_each_datagram_once() {
    use std::os::fd::AsRawFd;
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    big_rcvbuf(&rx);
    refuse_segmentation(tx.as_raw_fd());
    let to = rx.local_addr().unwrap();
    for round in 0..2 {
        let payloads: Vec<Vec<u8>> = (0..100)
            .map(|i| payload(round * 1000 + i, if i < 80 { 64 } else { 1400 }))
            .collect();
        let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
        send_all(&tx, &batch).await;
        let got = recv_exactly(&rx, 100).await;
        assert!(same_multiset(got.iter().map(|g| &g.0), &payloads));
    }

    // The `_std` path without a state, then with one: the state records the refused size.
    let std_tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    std_tx.set_nonblocking(true).unwrap();
    refuse_segmentation(std_tx.as_raw_fd());
    let gso = AtomicUsize::new(UdpSocket::GSO_ALL);
    for with_state in [false, true] {
        let payloads: Vec<Vec<u8>> = (0..70)
            .map(|i| payload(5000 + i + 100 * with_state as usize, 64))
            .collect();
        let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
        send_all_std(&batch, |rest| {
            if with_state {
                UdpSocket::try_send_many_std_gso(&std_tx, rest, &gso)
            } else {
                UdpSocket::try_send_many_std(&std_tx, rest)
            }
        })
        .await;
        let got = recv_exactly(&rx, 70).await;
        assert!(same_multiset(got.iter().map(|g| &g.0), &payloads));
    }
    // SO_NO_CHECK refuses with EINVAL (a size refusal): segments of 64 bytes and more are off.
    assert_eq!(gso.load(Ordering::Relaxed), 64);
}

/// A segmented run refused after an unsegmented entry that went out: `sendmmsg` reports the
/// one datagram sent, and the re-send of the rest (whose first entry is now the refused run)
/// falls back and reports the other ten. Every datagram arrives exactly once.
#[cfg(target_os = "linux")]
#[corio::test]
async fn a_run_refused_after_a_sent_entry_counts_one_then_the_rest() {
    use std::os::fd::AsRawFd;
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    big_rcvbuf(&rx);
    refuse_segmentation(tx.as_raw_fd());
    let to = rx.local_addr().unwrap();
    // 32 bytes, then ten of 64: the first cannot start a run with longer ones, so it is a
    // plain entry, and the ten form a run.
    let payloads: Vec<Vec<u8>> = (0..11)
        .map(|i| payload(i, if i == 0 { 32 } else { 64 }))
        .collect();
    let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    assert_eq!(tx.send_many(&batch).await.unwrap(), 1);
    assert_eq!(tx.send_many(&batch[1..]).await.unwrap(), 10);
    let got = recv_exactly(&rx, 11).await;
    assert!(same_multiset(got.iter().map(|g| &g.0), &payloads));
}

/// Errors that have nothing to do with segmentation leave it on: a lone datagram too large
/// for UDP (`EMSGSIZE`), a lone datagram to port 0 (`EINVAL`), and a whole run to port 0
/// (refused segmented, then refused again unsegmented: the destination was the problem).
/// Afterwards a run still leaves as one super-datagram, on the socket and on a `_std` state.
#[cfg(target_os = "linux")]
#[corio::test]
async fn unrelated_errors_leave_segmentation_on() {
    let Some((tx, rx)) = gro_pair().await else {
        return;
    };
    let to = rx.local_addr().unwrap();
    let nowhere: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let huge = vec![7u8; 70_000];
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| payload(i, 64)).collect();
    let run: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    let run_nowhere: Vec<(&[u8], SocketAddr)> =
        payloads.iter().map(|p| (&p[..], nowhere)).collect();
    let lone_huge: Vec<(&[u8], SocketAddr)> = std::iter::once((&huge[..], to))
        .chain(run.iter().copied())
        .collect();
    let lone_nowhere: Vec<(&[u8], SocketAddr)> = std::iter::once((&payloads[0][..32], nowhere))
        .chain(run.iter().copied())
        .collect();

    let std_tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    std_tx.set_nonblocking(true).unwrap();
    let gso = AtomicUsize::new(UdpSocket::GSO_ALL);
    for (batch, errno) in [
        (&lone_huge, libc::EMSGSIZE),
        (&lone_nowhere, libc::EINVAL),
        (&run_nowhere, libc::EINVAL),
    ] {
        let e = tx.send_many(batch).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(errno), "{e}");
        let e = UdpSocket::try_send_many_std_gso(&std_tx, batch, &gso).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(errno), "{e}");
    }
    assert_eq!(gso.load(Ordering::Relaxed), UdpSocket::GSO_ALL);

    let mut slots = vec![vec![0u8; 65_536]; 4];
    let mut meta = [RecvMeta::default(); 4];
    for sender in 0..2 {
        if sender == 0 {
            send_all(&tx, &run).await;
        } else {
            assert_eq!(
                UdpSocket::try_send_many_std_gso(&std_tx, &run, &gso).unwrap(),
                10
            );
        }
        let k = recv_into(&rx, &mut slots, &mut meta).await;
        assert_eq!(k, 1, "sender {sender}: the run arrived in pieces");
        assert_eq!((meta[0].len(), meta[0].segment_size()), (640, Some(64)));
        assert!(slots[0][..640] == payloads.concat()[..]);
    }
}

/// With `SO_TIMESTAMPNS` and `SO_RXQ_OVFL` on next to `UDP_GRO`, a coalesced receive carries
/// three control messages (80 bytes on 64-bit); `recv_many` still finds the segment size and
/// reports no control truncation. With three more (`IP_PKTINFO`, `IP_RECVTTL`, `IP_RECVTOS`:
/// 160 bytes) the control buffer overflows, and `recv_many` says so.
#[cfg(target_os = "linux")]
#[corio::test]
async fn gro_segment_size_survives_other_control_messages() {
    use std::os::fd::AsRawFd;
    let Some((tx, rx)) = gro_pair().await else {
        return;
    };
    set_int_opt(rx.as_raw_fd(), libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1).expect("setsockopt");
    set_int_opt(rx.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1).expect("setsockopt");
    let to = rx.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| payload(i, 64)).collect();
    let run: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    send_all(&tx, &run).await;
    let mut slots = vec![vec![0u8; 65_536]; 2];
    let mut meta = [RecvMeta::default(); 2];
    let k = recv_into(&rx, &mut slots, &mut meta).await;
    assert_eq!(k, 1);
    assert!(!meta[0].is_control_truncated());
    assert_eq!((meta[0].len(), meta[0].segment_size()), (640, Some(64)));

    set_int_opt(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1).expect("setsockopt");
    set_int_opt(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTTL, 1).expect("setsockopt");
    set_int_opt(rx.as_raw_fd(), libc::IPPROTO_IP, libc::IP_RECVTOS, 1).expect("setsockopt");
    send_all(&tx, &run).await;
    let k = recv_into(&rx, &mut slots, &mut meta).await;
    assert_eq!((k, meta[0].len()), (1, 640));
    assert!(meta[0].is_control_truncated());
}

/// `CORIO_UDP_GSO=0` turns segmentation off for the process: run in a child process (the
/// variable is read once per process), where a run reaches a `UDP_GRO` receiver datagram by
/// datagram.
#[cfg(target_os = "linux")]
#[test]
fn env_opt_out_turns_segmentation_off() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "env_opt_out_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CORIO_UDP_GSO", "0")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("env_opt_out_child: checked") || text.contains("skipped"),
        "the child did not run:\n{text}"
    );
}

/// The child of [`env_opt_out_turns_segmentation_off`] (ignored unless run by it).
#[cfg(target_os = "linux")]
#[corio::test]
#[ignore = "run by env_opt_out_turns_segmentation_off with CORIO_UDP_GSO=0"]
async fn env_opt_out_child() {
    assert_eq!(std::env::var("CORIO_UDP_GSO").as_deref(), Ok("0"));
    let Some((tx, rx)) = gro_pair().await else {
        return;
    };
    big_rcvbuf(&rx);
    let to = rx.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..10).map(|i| payload(i, 64)).collect();
    let run: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    send_all(&tx, &run).await;
    let mut slots = vec![vec![0u8; 65_536]; 16];
    let mut meta = [RecvMeta::default(); 16];
    let mut got = 0;
    while got < 10 {
        let k = recv_into(&rx, &mut slots, &mut meta).await;
        for m in &meta[..k] {
            assert_eq!(
                (m.len(), m.segment_size()),
                (64, None),
                "a run was coalesced"
            );
        }
        got += k;
    }
    assert_eq!(got, 10);
    println!("env_opt_out_child: checked");
}

/// The `_std` path segments too and counts datagrams, not super-datagrams: 130 datagrams of
/// one size to one destination (runs of 64, 64, 2) report 130 and arrive in order.
#[corio::test]
async fn std_path_counts_datagrams() {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    big_rcvbuf(&rx);
    let to = rx.local_addr().unwrap();
    let std_tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    std_tx.set_nonblocking(true).unwrap();
    let payloads: Vec<Vec<u8>> = (0..130).map(|i| payload(i, 64)).collect();
    let batch: Vec<(&[u8], SocketAddr)> = payloads.iter().map(|p| (&p[..], to)).collect();
    send_all_std(&batch, |rest| UdpSocket::try_send_many_std(&std_tx, rest)).await;
    let got = recv_exactly(&rx, 130).await;
    assert!(same_multiset(got.iter().map(|g| &g.0), &payloads));
}
