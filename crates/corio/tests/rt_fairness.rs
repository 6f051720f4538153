//! Fairness guarantees, checked deterministically on a current-thread runtime:
//! `yield_now` resumes only after the drivers were polled, and the cooperative budget forces a
//! task that always finds work to return `Pending` so its neighbours get to run.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::runtime::{Builder, Runtime};
use corio::sync::mpsc;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// A waker that only counts: lets a test see whether the driver woke a resource, independent of
/// the order in which the scheduler then runs tasks.
struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let c = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

#[test]
fn yield_now_resumes_after_an_expired_timer_was_fired() {
    let rt = current_thread();
    rt.block_on(async {
        corio::spawn(async {
            // First poll registers the timer with our counting waker. On a machine so slow
            // (or loaded, or under valgrind) that the deadline passed before that first poll,
            // try again with a longer one: the first poll must find the timer pending.
            let mut ms = 1;
            let (count, sleep) = loop {
                let (count, waker) = counting_waker();
                let mut sleep = Box::pin(corio::time::sleep(Duration::from_millis(ms)));
                if sleep
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
                {
                    break (count, sleep);
                }
                ms *= 2;
            };
            // Let the deadline pass in wall-clock time without giving the runtime a chance to
            // run the driver (a blocking wait is the point here, not synchronisation).
            let deadline = sleep.deadline() + Duration::from_millis(4);
            while corio::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(
                count.0.load(SeqCst),
                0,
                "nothing may fire the timer while we run"
            );
            corio::task::yield_now().await;
            // We resumed, so the time driver must have been polled: the timer fired.
            assert_eq!(
                count.0.load(SeqCst),
                1,
                "yield_now resumed before the timer driver ran"
            );
        })
        .await
        .unwrap();
    });
}

#[cfg(unix)]
#[test]
fn yield_now_resumes_after_socket_readiness_was_dispatched() {
    let rt = current_thread();
    rt.block_on(async {
        corio::spawn(async {
            let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
            let b = corio::net::UnixStream::from_std(b).unwrap();
            let (count, waker) = counting_waker();
            {
                let mut readable = Box::pin(b.readable());
                // Drain any readiness the driver may already hold: nothing to read yet.
                assert!(readable
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending());
                // Unix socket writes land in the peer's queue synchronously.
                std::io::Write::write_all(&mut a, b"x").unwrap();
                assert_eq!(count.0.load(SeqCst), 0);
                corio::task::yield_now().await;
                assert!(
                    count.0.load(SeqCst) >= 1,
                    "yield_now resumed before the I/O driver was polled"
                );
                assert!(readable
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready());
            }
            let mut buf = [0u8; 1];
            assert_eq!(b.try_read(&mut buf).unwrap(), 1);
        })
        .await
        .unwrap();
    });
}

/// Spawns, from inside the hot task, a neighbour that records how many operations the hot task
/// had done when the neighbour first ran. Spawned from the hot task itself, the neighbour can
/// only run once the hot task returns `Pending`, whatever the queue order.
fn spawn_neighbour(ops: &Arc<AtomicUsize>) -> corio::task::JoinHandle<usize> {
    let ops = ops.clone();
    corio::spawn(async move { ops.load(SeqCst) })
}

async fn run_hot_channel_consumer(items: usize) -> usize {
    let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
    for i in 0..items {
        tx.send(i).unwrap();
    }
    let ops = Arc::new(AtomicUsize::new(0));
    let hot = corio::spawn({
        let ops = ops.clone();
        async move {
            let neighbour = spawn_neighbour(&ops);
            // The channel is never empty: without a budget this loop would never yield.
            for _ in 0..items {
                rx.recv().await.unwrap();
                ops.fetch_add(1, SeqCst);
            }
            neighbour.await.unwrap()
        }
    });
    hot.await.unwrap()
}

#[test]
fn coop_budget_forces_pending_on_a_never_empty_channel() {
    const ITEMS: usize = 10_000;
    let seen = current_thread().block_on(run_hot_channel_consumer(ITEMS));
    assert!(
        seen < ITEMS,
        "the neighbour ran only after the hot task finished"
    );
    assert!(
        seen <= 128,
        "the hot task ran {seen} operations in one poll (budget is 128)"
    );
}

#[test]
fn coop_budget_forces_pending_on_a_single_worker_multi_thread_runtime() {
    const ITEMS: usize = 10_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seen = rt.block_on(run_hot_channel_consumer(ITEMS));
    assert!(seen < ITEMS, "the neighbour starved on the only worker");
    // The neighbour was spawned into the LIFO slot. When the hot task spends its budget it is
    // requeued at the back of the local queue, and the LIFO task (there is no budget left for
    // it in this tick) is queued behind it, so the hot task may get one more full poll first.
    assert!(
        seen <= 2 * 128,
        "the hot task ran {seen} operations before yielding (budget is 128)"
    );
}

#[test]
fn coop_budget_forces_pending_on_an_always_readable_socket() {
    let rt = current_thread();
    rt.block_on(async {
        const LEN: usize = 4096;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(&[7u8; LEN]).await.unwrap();
        // Wait until every byte sits in the server's receive queue.
        let mut peek = vec![0u8; LEN];
        while server.peek(&mut peek).await.unwrap() < LEN {
            corio::task::yield_now().await;
        }
        let reads = Arc::new(AtomicUsize::new(0));
        let hot = corio::spawn({
            let reads = reads.clone();
            async move {
                let neighbour = spawn_neighbour(&reads);
                let mut b = [0u8; 1];
                for _ in 0..LEN {
                    server.read_exact(&mut b).await.unwrap();
                    reads.fetch_add(1, SeqCst);
                }
                neighbour.await.unwrap()
            }
        });
        let seen = hot.await.unwrap();
        assert!(
            seen < LEN,
            "the neighbour ran only after the hot reader finished"
        );
        assert!(
            seen <= 128,
            "the hot reader did {seen} reads in one poll (budget is 128)"
        );
    });
}
