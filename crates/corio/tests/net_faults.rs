//! Faults and bad input in `corio::net`: every failure is an `io::Error` of the right kind,
//! never a panic; a listener survives running out of file descriptors in `accept`. Unix only:
//! the faults are injected with rlimits, Unix sockets and `SO_LINGER`.
#![cfg(unix)]

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use std::io::ErrorKind;
use std::time::Duration;

#[corio::test]
async fn bad_addresses_are_invalid_input() {
    for bad in [
        "not an address",
        "127.0.0.1:70000",
        "",
        "127.0.0.1",
        "127.0.0.1:-1",
    ] {
        let e = TcpListener::bind(bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "bind {bad:?}: {e:?}");
        let e = TcpStream::connect(bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "connect {bad:?}: {e:?}");
        let e = UdpSocket::bind(bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "udp bind {bad:?}: {e:?}");
        let e = corio::net::lookup_host(bad).await.err().expect(bad);
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidInput,
            "lookup_host {bad:?}: {e:?}"
        );
    }
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let e = udp.send_to(b"x", "not an address").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
    let e = udp.connect("127.0.0.1:70000").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
}

#[corio::test]
async fn empty_address_list_is_an_error() {
    let none: &[std::net::SocketAddr] = &[];
    assert!(TcpListener::bind(none).await.is_err());
    assert!(TcpStream::connect(none).await.is_err());
    assert!(UdpSocket::bind(none).await.is_err());
}

#[corio::test]
async fn addr_in_use_for_udp_and_unix() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let e = UdpSocket::bind(a.local_addr().unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);

    let dir = std::env::temp_dir().join(format!("corio-faults-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("in-use.sock");
    let _ = std::fs::remove_file(&path);
    let _l = UnixListener::bind(&path).unwrap();
    let e = UnixListener::bind(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
    let e = UnixStream::connect(dir.join("missing.sock"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let _ = std::fs::remove_file(&path);
}

#[corio::test]
async fn connection_reset_when_peer_aborts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    // Linger 0: close sends RST instead of FIN.
    server.set_linger(Some(Duration::ZERO)).unwrap();
    drop(server);
    let mut buf = [0u8; 8];
    let e = client.read(&mut buf).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e:?}");
}

#[corio::test]
async fn broken_pipe_after_own_write_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (_server, _) = listener.accept().await.unwrap();
    client.shutdown().await.unwrap();
    let e = client.write_all(b"after shutdown").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BrokenPipe, "{e:?}");
}

#[corio::test]
async fn timed_out_via_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (_server, _) = listener.accept().await.unwrap();
    let mut buf = [0u8; 8];
    let elapsed = corio::time::timeout(Duration::from_millis(20), client.read(&mut buf))
        .await
        .unwrap_err();
    let e: std::io::Error = elapsed.into();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
    // The stream is still usable after the timed-out read was dropped.
    let (mut server, _) = (_server, ());
    server.write_all(b"ok").await.unwrap();
    client.read_exact(&mut buf[..2]).await.unwrap();
    assert_eq!(&buf[..2], b"ok");
}

#[corio::test]
async fn connected_udp_to_closed_port_reports_connection_refused() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = closed.local_addr().unwrap();
    drop(closed);
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(target).await.unwrap();
    sock.send(b"anyone?").await.unwrap();
    let mut buf = [0u8; 16];
    // The ICMP port-unreachable comes back as a socket error; a guard keeps a regression from
    // hanging the suite.
    let res = corio::time::timeout(Duration::from_secs(30), sock.recv(&mut buf))
        .await
        .expect("the socket error never woke the receiver");
    assert_eq!(res.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}

// ---- accept under file-descriptor exhaustion -------------------------------------------------

/// Environment variable that turns the test below into its child-process half.
const EMFILE_CHILD: &str = "CORIO_TEST_EMFILE_CHILD";

/// Runs in a child process (the test binary re-executed), because lowering `RLIMIT_NOFILE`
/// affects the whole process and must not disturb the other tests.
#[test]
fn accept_survives_file_descriptor_exhaustion() {
    if std::env::var_os(EMFILE_CHILD).is_some() {
        emfile_child();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "accept_survives_file_descriptor_exhaustion",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EMFILE_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("EMFILE-CHILD-OK"),
        "child did not run the check:\n{stdout}\n{stderr}"
    );
}

fn emfile_child() {
    // A low limit keeps the fd-filling loop short.
    let lim = libc::rlimit {
        rlim_cur: 128,
        rlim_max: 128,
    };
    // SAFETY: setrlimit reads a valid, initialised rlimit struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let rt = corio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Connections wait in the backlog; they need their fds before the table is full.
        let c1 = std::net::TcpStream::connect(addr).unwrap();
        let c2 = std::net::TcpStream::connect(addr).unwrap();
        let mut filler = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => filler.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e:?}");
                    break;
                }
            }
        }
        // The accept future must finish with EMFILE (not spin, not panic, not hang).
        let res = corio::time::timeout(Duration::from_secs(30), listener.accept())
            .await
            .expect("accept hung under EMFILE");
        let e = res.expect_err("accept succeeded with no fd left");
        assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e:?}");
        // Again: the listener's readiness was not lost, the error repeats.
        let e = listener
            .accept()
            .await
            .expect_err("second accept succeeded with no fd left");
        assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e:?}");
        // Free a few descriptors: the pending connections are accepted.
        filler.truncate(filler.len().saturating_sub(4));
        let (mut s1, p1) = listener.accept().await.unwrap();
        let (_s2, p2) = listener.accept().await.unwrap();
        let mut peers = [p1, p2];
        peers.sort();
        let mut expect = [c1.local_addr().unwrap(), c2.local_addr().unwrap()];
        expect.sort();
        assert_eq!(peers, expect);
        s1.write_all(b"alive").await.unwrap();
        drop(filler);
        println!("EMFILE-CHILD-OK");
    });
}
