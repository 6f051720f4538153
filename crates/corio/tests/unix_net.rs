//! Unix socket integration tests for `corio::net` (stream, listener, datagram).
#![cfg(unix)]
use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{UnixDatagram, UnixListener, UnixStream};

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("corio-{}-{}-{name}", std::process::id(), line!()));
    let _ = std::fs::remove_file(&p);
    p
}

#[corio::test]
async fn listener_accept_and_stream_echo() {
    let path = temp_path("stream.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = corio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (mut rd, mut wr) = stream.into_split();
        corio::io::copy(&mut rd, &mut wr).await.unwrap()
    });
    let mut client = UnixStream::connect(&path).await.unwrap();
    assert_eq!(
        client.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    client.write_all(b"over unix").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"over unix");
    assert_eq!(server.await.unwrap(), 9);
    let _ = std::fs::remove_file(&path);
}

#[corio::test]
async fn stream_pair_try_io_and_broken_pipe() {
    let (a, b) = UnixStream::pair().unwrap();
    a.writable().await.unwrap();
    assert_eq!(a.try_write(b"hi").unwrap(), 2);
    let mut buf = [0u8; 2];
    b.readable().await.unwrap();
    assert_eq!(b.try_read(&mut buf).unwrap(), 2);
    drop(b);
    let err = loop {
        match a.try_write(&[0u8; 1024]) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => a.writable().await.unwrap(),
            Err(e) => break e,
            Ok(_) => {}
        }
    };
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
}

#[corio::test]
async fn datagram_pair_and_bound_send_to() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.send(b"dgram").await.unwrap();
    let mut buf = [0u8; 16];
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"dgram");

    let path = temp_path("dgram.sock");
    let server = UnixDatagram::bind(&path).unwrap();
    let client = UnixDatagram::unbound().unwrap();
    client.send_to(b"to path", &path).await.unwrap();
    let (n, from) = server.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"to path");
    assert!(from.is_unnamed());
    let _ = std::fs::remove_file(&path);
}

/// `set_driver_interest` on a Unix stream (as on TCP): with read interest off, writing still
/// works; turning it back on reports data that arrived meanwhile, and a short read clears the
/// readiness (the next `try_read` is `WouldBlock` without new data).
#[corio::test]
async fn driver_read_interest_off_then_on_reports_data_that_arrived_meanwhile() {
    use corio::io::Interest;
    use std::os::fd::AsRawFd;
    let (mut a, mut b) = UnixStream::pair().unwrap();
    b.set_driver_interest(Interest::WRITABLE).unwrap();
    a.write_all(b"hi").await.unwrap();
    b.write_all(b"ok").await.unwrap();
    let mut back = [0u8; 2];
    a.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ok");
    let mut pfd = libc::pollfd {
        fd: b.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 10_000) }, 1);
    b.set_driver_interest(Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    b.readable().await.unwrap();
    let mut buf = [0u8; 8];
    let n = loop {
        match b.try_read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => b.readable().await.unwrap(),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(&buf[..n], b"hi");
    // Short read: drained, so no syscall finds data that is not there.
    let e = b.try_read(&mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
}
