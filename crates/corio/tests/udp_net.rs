//! UDP integration tests for `corio::net::UdpSocket` (single and batched datagrams).
use corio::net::{RecvMeta, UdpSocket};
use std::collections::HashSet;
use std::io::IoSliceMut;
use std::sync::Arc;

#[corio::test]
async fn send_recv_connected_and_send_to_recv_from() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.send_to(b"ping", ba).await.unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"ping"[..], aa));

    a.connect(ba).await.unwrap();
    b.connect(aa).await.unwrap();
    assert_eq!(a.peer_addr().unwrap(), ba);
    b.send(b"pong").await.unwrap();
    let mut peek = [0u8; 16];
    let (n, from) = a.peek_from(&mut peek).await.unwrap();
    assert_eq!((&peek[..n], from), (&b"pong"[..], ba));
    let n = a.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"pong");
    assert_eq!(
        a.try_recv(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_receivers_get_distinct_datagrams() {
    let rx = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = rx.local_addr().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let rx = rx.clone();
        tasks.push(corio::spawn(async move {
            let mut buf = [0u8; 8];
            let (n, _) = rx.recv_from(&mut buf).await.unwrap();
            u32::from_le_bytes(buf[..n].try_into().unwrap())
        }));
    }
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 0..100u32 {
        tx.send_to(&i.to_le_bytes(), addr).await.unwrap();
    }
    let mut seen = HashSet::new();
    for t in tasks {
        assert!(seen.insert(t.await.unwrap()));
    }
    assert_eq!(seen.len(), 100);
}

#[corio::test]
async fn recv_many_send_many_thousand_datagrams() {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = rx.local_addr().unwrap();
    let payloads: Vec<[u8; 4]> = (0..1000u32).map(|i| i.to_le_bytes()).collect();
    let mut received = Vec::new();
    let mut storage = vec![[0u8; 64]; 32];
    let mut meta = vec![RecvMeta::default(); 32];
    // Lock-step batches of 50 so the receive buffer never overflows (UDP may drop otherwise).
    for chunk in payloads.chunks(50) {
        let batch: Vec<(&[u8], _)> = chunk.iter().map(|p| (&p[..], to)).collect();
        let mut sent = 0;
        while sent < batch.len() {
            sent += tx.send_many(&batch[sent..]).await.unwrap();
        }
        let target = received.len() + chunk.len();
        while received.len() < target {
            let mut bufs: Vec<IoSliceMut<'_>> =
                storage.iter_mut().map(|b| IoSliceMut::new(b)).collect();
            let n = rx.recv_many(&mut bufs, &mut meta).await.unwrap();
            assert!(n >= 1);
            for m in &meta[..n] {
                assert_eq!(m.addr(), tx.local_addr().unwrap());
                assert!(!m.is_truncated());
            }
            for (i, m) in meta[..n].iter().enumerate() {
                received.push(u32::from_le_bytes(
                    storage[i][..m.len()].try_into().unwrap(),
                ));
            }
        }
    }
    assert_eq!(received, (0..1000).collect::<Vec<u32>>());
    assert_eq!(tx.send_many(&[]).await.unwrap(), 0);
}

#[corio::test]
async fn recv_many_reports_truncation() {
    let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    tx.send_to(&[7u8; 100], rx.local_addr().unwrap())
        .await
        .unwrap();
    let mut small = [0u8; 10];
    let mut bufs = [IoSliceMut::new(&mut small)];
    let mut meta = [RecvMeta::default()];
    assert_eq!(rx.recv_many(&mut bufs, &mut meta).await.unwrap(), 1);
    assert!(meta[0].is_truncated());
    assert_eq!(meta[0].len(), 10);
}

#[corio::test]
async fn max_datagram_round_trip_and_oversize_error() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let big = vec![0xabu8; 65_507];
    assert_eq!(
        a.send_to(&big, b.local_addr().unwrap()).await.unwrap(),
        65_507
    );
    let mut buf = vec![0u8; 70_000];
    let (n, _) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!(n, 65_507);
    assert!(buf[..n].iter().all(|&x| x == 0xab));
    let too_big = vec![0u8; 65_508];
    let err = a
        .send_to(&too_big, b.local_addr().unwrap())
        .await
        .unwrap_err();
    #[cfg(unix)]
    assert_eq!(err.raw_os_error(), Some(libc_emsgsize()), "{err:?}");
    let _ = err;
    let err = a
        .send_many(&[(&too_big[..], b.local_addr().unwrap())])
        .await
        .unwrap_err();
    #[cfg(unix)]
    assert_eq!(err.raw_os_error(), Some(libc_emsgsize()), "{err:?}");
    let _ = err;
}

#[cfg(unix)]
fn libc_emsgsize() -> i32 {
    // EMSGSIZE is 90 on Linux, 40 on the BSDs and macOS.
    if cfg!(any(target_os = "linux", target_os = "android")) {
        90
    } else {
        40
    }
}

#[corio::test]
async fn ipv6_loopback_udp() {
    let a = match UdpSocket::bind("[::1]:0").await {
        Ok(s) => s,
        Err(e) => {
            println!("skipping: ::1 unavailable ({e})");
            return;
        }
    };
    let b = UdpSocket::bind("[::1]:0").await.unwrap();
    a.send_to(b"six", b.local_addr().unwrap()).await.unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"six"[..], a.local_addr().unwrap()));
}
