//! Shutdown and failure containment: dropping a runtime drops every task (and the sockets
//! they own), wakes I/O pending on its driver with an error, sockets outlive their runtime
//! without panicking, and a panicking task becomes a `JoinError` while its worker survives.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream, UdpSocket};
use corio::runtime::{Builder, Runtime};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

fn rts() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "current_thread",
            Builder::new_current_thread().enable_all().build().unwrap(),
        ),
        (
            "multi_thread(2)",
            Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        ),
    ]
}

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A connected TCP stream registered with `rt`'s driver, and its peer (keep it alive).
fn connected_pair(rt: &Runtime) -> (TcpStream, (TcpStream, std::net::SocketAddr)) {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let peer = listener.accept().await.unwrap();
        (stream, peer)
    })
}

/// Calls `release` if [`Watchdog::finish`] is not called within 60 s, so a test whose runtime
/// waits for a task or job it should not wait for ends in a failed assertion, not a hang.
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    fn start(release: impl FnOnce() + Send + 'static) -> Watchdog {
        let (done, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let fired = rx.recv_timeout(std::time::Duration::from_secs(60)).is_err();
            if fired {
                release();
            }
            fired
        });
        Watchdog { done, thread }
    }

    /// Stops the watchdog; returns whether it fired (and called `release`).
    fn finish(self) -> bool {
        let _ = self.done.send(());
        self.thread.join().unwrap()
    }
}

#[test]
fn shutdown_drops_tasks_blocked_in_io_and_closes_their_sockets() {
    for (name, rt) in rts() {
        let dropped = Arc::new(AtomicUsize::new(0));
        // Peers outside the runtime (std, blocking) observe what the runtime's drop does.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        rt.block_on(async {
            for _ in 0..10 {
                let d = DropCount(dropped.clone());
                let (tx, rx) = corio::sync::oneshot::channel();
                corio::spawn(async move {
                    let _d = d;
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    tx.send(()).unwrap();
                    let mut buf = [0u8; 16];
                    // Never answered: the task stays blocked in this read until shutdown.
                    let _ = s.read(&mut buf).await;
                    unreachable!("the peer never writes");
                });
                rx.await.unwrap();
            }
        });
        // The connections completed, so they wait in the backlog.
        let peers: Vec<_> = (0..10).map(|_| std_listener.accept().unwrap().0).collect();
        drop(rt);
        assert_eq!(
            dropped.load(SeqCst),
            10,
            "{name}: not every future was dropped"
        );
        for mut peer in peers {
            peer.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .unwrap();
            let mut b = [0u8; 1];
            // The task's stream was closed when its future was dropped: EOF, not a timeout.
            assert_eq!(peer.read(&mut b).unwrap(), 0, "{name}");
        }
    }
}

#[test]
fn shutdown_wakes_io_pending_on_its_driver_with_an_error() {
    for (name, io_rt) in rts() {
        // The socket is registered with `io_rt`'s driver but read from a task of `other`.
        let other = Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (stream, _peer) = connected_pair(&io_rt);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let reader = other.spawn(async move {
            let mut stream = stream;
            started_tx.send(()).unwrap();
            let mut buf = [0u8; 8];
            stream.read(&mut buf).await
        });
        started_rx.recv().unwrap();
        // Whether the read is already waiting or not yet polled, it must end in an error.
        drop(io_rt);
        let res = other.block_on(reader).unwrap();
        let err = res.expect_err(name);
        assert_ne!(
            err.kind(),
            std::io::ErrorKind::WouldBlock,
            "{name}: {err:?}"
        );
    }
}

#[test]
fn sockets_used_after_their_runtime_shut_down_fail_cleanly() {
    for (name, rt) in rts() {
        let (listener, mut stream, udp) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let stream = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            (listener, stream, udp)
        });
        let udp_addr = udp.local_addr().unwrap();
        drop(rt);
        let rt2 = Builder::new_current_thread().enable_all().build().unwrap();
        rt2.block_on(async {
            let mut buf = [0u8; 4];
            let err = stream.read(&mut buf).await.unwrap_err();
            assert!(corio::io::is_runtime_shutdown(&err), "{name}: read: {err}");
            let other = std::io::Error::other("runtime shut down: look-alike");
            assert!(
                !corio::io::is_runtime_shutdown(&other),
                "{name}: a look-alike is not it"
            );
            assert!(stream.write_all(b"late").await.is_err(), "{name}: write");
            assert!(listener.accept().await.is_err(), "{name}: accept");
            assert!(
                udp.send_to(b"x", udp_addr).await.is_err(),
                "{name}: send_to"
            );
            assert!(udp.recv_from(&mut buf).await.is_err(), "{name}: recv_from");
        });
        // Dropping them afterwards (deregistering from a dead driver) must not panic either.
        drop((listener, stream, udp));
    }
}

/// Polls `fut` to completion on the calling thread without any runtime.
fn block_on_no_runtime<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn sockets_outside_any_runtime_are_an_error_not_a_panic() {
    let err = block_on_no_runtime(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other, "{err}");
    let err = block_on_no_runtime(UdpSocket::bind("127.0.0.1:0")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other, "{err}");
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(TcpListener::from_std(std_l).is_err());
    // A runtime without the I/O driver: also an error.
    let rt = Builder::new_current_thread().enable_time().build().unwrap();
    let err = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other, "{err}");
}

#[test]
fn panics_become_join_errors_and_workers_survive() {
    for (name, rt) in rts() {
        let workers = rt.metrics().num_workers();
        rt.block_on(async {
            let panics: Vec<_> = (0..50)
                .map(|i| corio::spawn(async move { panic!("task {i} panics") }))
                .collect();
            for (i, h) in panics.into_iter().enumerate() {
                let err = h.await.unwrap_err();
                assert!(err.is_panic(), "{name}");
                let payload = err.into_panic();
                let msg = payload.downcast_ref::<String>().unwrap();
                assert_eq!(msg, &format!("task {i} panics"));
            }
            let err = corio::task::spawn_blocking(|| panic!("blocking panics"))
                .await
                .unwrap_err();
            assert!(err.is_panic(), "{name}");
            // The workers are all still there and run new work.
            let hs: Vec<_> = (0..1000u64)
                .map(|i| corio::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            assert_eq!(sum, (0..1000).sum::<u64>(), "{name}");
        });
        assert_eq!(rt.metrics().num_workers(), workers, "{name}");
        // A panic inside a task spawned from outside block_on also stays contained.
        let h = rt.spawn(async { panic!("outside") });
        assert!(rt.block_on(h).unwrap_err().is_panic(), "{name}");
        assert_eq!(rt.block_on(async { 7 }), 7);
    }
}

#[test]
fn shutdown_timeout_and_background_do_not_hang_on_pending_tasks() {
    for (_, rt) in rts() {
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let d = DropCount(dropped.clone());
            rt.spawn(async move {
                let _d = d;
                corio::time::sleep(std::time::Duration::from_secs(3600)).await;
            });
        }
        rt.shutdown_timeout(std::time::Duration::from_secs(10));
        assert_eq!(dropped.load(SeqCst), 20);
    }
    for (_, rt) in rts() {
        rt.spawn(std::future::pending::<()>());
        rt.shutdown_background();
    }
}

/// `shutdown_timeout` returns once its timeout passed even while a blocking-pool job still
/// runs; the runtime's `Drop` afterwards must not wait for that job again. The job is released
/// only after `shutdown_timeout` returned (or, if the runtime waits for it, by a watchdog much
/// later, which the assertion then reports instead of hanging).
#[test]
fn shutdown_timeout_does_not_wait_again_for_blocking_jobs_on_drop() {
    use std::sync::mpsc;
    for (_, rt) in rts() {
        let (release, wait) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        rt.spawn_blocking(move || {
            let _ = started_tx.send(());
            let _ = wait.recv();
        });
        started.recv().unwrap();
        let release_w = release.clone();
        let watchdog = Watchdog::start(move || {
            let _ = release_w.send(());
        });
        rt.shutdown_timeout(std::time::Duration::from_millis(10));
        let watchdog_fired = watchdog.finish();
        let _ = release.send(());
        assert!(
            !watchdog_fired,
            "shutdown_timeout waited for a running blocking job"
        );
    }
}

/// A task that never yields keeps its worker from exiting, so `shutdown_timeout` times out
/// waiting for it. The runtime must still cancel every other task and stop its drivers then:
/// a task parked on a timer has its future dropped, and I/O registered with the runtime's
/// driver (awaited from another runtime) fails, by the time `shutdown_timeout` returns (the
/// timer task) or promptly after (the reader, which runs on the other runtime). The blocking
/// task is released only after those checks (or by a watchdog much later, which the
/// assertions then report instead of hanging).
#[test]
fn shutdown_timeout_cancels_tasks_and_stops_drivers_despite_a_stuck_worker() {
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc;
    use std::time::Duration;
    // One worker: the stuck task holds it, so no worker is left to do the cancelling.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let other = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A socket registered with `rt`'s driver, read from a task of `other`.
    let (stream, _peer) = connected_pair(&rt);
    let (read_tx, read_rx) = mpsc::channel();
    let (reading_tx, reading_rx) = mpsc::channel::<()>();
    other.spawn(async move {
        let mut stream = stream;
        let _ = reading_tx.send(());
        let mut buf = [0u8; 8];
        let _ = read_tx.send(stream.read(&mut buf).await);
    });
    reading_rx.recv().unwrap();

    // A task parked on a timer: polled to Pending before the stuck task takes the worker.
    let dropped = Arc::new(AtomicUsize::new(0));
    let (sleeping_tx, sleeping_rx) = mpsc::channel::<()>();
    let d = DropCount(dropped.clone());
    rt.spawn(async move {
        let _d = d;
        let _ = sleeping_tx.send(());
        corio::time::sleep(Duration::from_secs(3600)).await;
    });
    sleeping_rx.recv().unwrap();

    let release = Arc::new(AtomicBool::new(false));
    let (stuck_tx, stuck_rx) = mpsc::channel::<()>();
    let r = release.clone();
    rt.spawn(async move {
        let _ = stuck_tx.send(());
        while !r.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    stuck_rx.recv().unwrap();

    let r = release.clone();
    let watchdog = Watchdog::start(move || r.store(true, SeqCst));

    rt.shutdown_timeout(Duration::from_millis(10));
    let dropped_at_return = dropped.load(SeqCst);
    // The reader runs on `other`: bounded by the watchdog, which releases the stuck task (and
    // with it the runtime's own cancellation, if the fix is missing) after 60 s.
    let read = read_rx.recv();
    let watchdog_fired = watchdog.finish();
    release.store(true, SeqCst);
    assert!(
        !watchdog_fired,
        "the pending I/O was only woken once the stuck worker was released"
    );
    assert_eq!(
        dropped_at_return, 1,
        "the timer task's future was not dropped by shutdown_timeout"
    );
    let err = read
        .unwrap()
        .expect_err("the read must fail: its driver shut down");
    assert_ne!(err.kind(), std::io::ErrorKind::WouldBlock, "{err:?}");
    drop(other);
}
