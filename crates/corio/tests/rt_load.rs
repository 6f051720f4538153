//! The scheduler under load: spawning from foreign threads while the workers are busy,
//! completion of many tasks ping-ponging across workers, and I/O that must still progress
//! while 100 tasks wake themselves forever.

use corio::io::{AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use corio::runtime::{Builder, Runtime};
use corio::sync::mpsc;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

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
        (
            "multi_thread(4)",
            Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap(),
        ),
    ]
}

/// A future that wakes itself and returns `Pending` on every poll until `stop` is set: the
/// worst neighbour a scheduler can have (it is always runnable).
struct SelfWaking {
    stop: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
}

impl Future for SelfWaking {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, SeqCst);
        if self.stop.load(SeqCst) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Spawns `n` tasks that stay runnable until `stop` is set: half wake themselves by
/// `wake_by_ref`, half loop on `yield_now`.
fn spawn_hogs(
    rt: &Runtime,
    n: usize,
    stop: &Arc<AtomicBool>,
    polls: &Arc<AtomicUsize>,
) -> Vec<corio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let (stop, polls) = (stop.clone(), polls.clone());
            if i % 2 == 0 {
                rt.spawn(SelfWaking { stop, polls })
            } else {
                rt.spawn(async move {
                    while !stop.load(SeqCst) {
                        polls.fetch_add(1, SeqCst);
                        corio::task::yield_now().await;
                    }
                })
            }
        })
        .collect()
}

#[test]
fn spawn_from_other_threads_under_load() {
    for (name, rt) in rts() {
        let stop = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let hogs = spawn_hogs(&rt, 8, &stop, &polls);
        let count = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let handle = rt.handle().clone();
                let count = count.clone();
                std::thread::spawn(move || {
                    (0..500)
                        .map(|i| {
                            let count = count.clone();
                            handle.spawn(async move {
                                // Some of them spawn again, from inside a worker.
                                if i % 10 == 0 {
                                    let c = count.clone();
                                    corio::spawn(async move { c.fetch_add(1, SeqCst) })
                                        .await
                                        .unwrap();
                                }
                                count.fetch_add(1, SeqCst);
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let handles: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(count.load(SeqCst), 4 * 500 + 4 * 50, "{name}");
        stop.store(true, SeqCst);
        rt.block_on(async {
            for h in hogs {
                h.await.unwrap();
            }
        });
    }
}

#[test]
fn completion_under_load_ping_pong_across_workers() {
    const PAIRS: usize = 64;
    const ROUNDS: u32 = 200;
    for (name, rt) in rts() {
        let stop = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let hogs = spawn_hogs(&rt, 4, &stop, &polls);
        let total = rt.block_on(async {
            let mut pairs = Vec::new();
            for _ in 0..PAIRS {
                let (ping_tx, mut ping_rx) = mpsc::channel::<u32>(1);
                let (pong_tx, mut pong_rx) = mpsc::unbounded_channel::<u32>();
                let ponger = corio::spawn(async move {
                    let mut n = 0;
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v + 1).unwrap();
                        n += 1;
                    }
                    n
                });
                let pinger = corio::spawn(async move {
                    let mut v = 0;
                    for _ in 0..ROUNDS {
                        ping_tx.send(v).await.unwrap();
                        v = pong_rx.recv().await.unwrap();
                    }
                    v
                });
                pairs.push((pinger, ponger));
            }
            let mut total = 0;
            for (pinger, ponger) in pairs {
                assert_eq!(pinger.await.unwrap(), ROUNDS);
                total += ponger.await.unwrap();
            }
            total
        });
        assert_eq!(total, PAIRS as u32 * ROUNDS, "{name}");
        stop.store(true, SeqCst);
        rt.block_on(async {
            for h in hogs {
                h.await.unwrap();
            }
        });
    }
}

#[test]
fn io_progresses_while_hundred_tasks_wake_themselves_forever() {
    for (name, rt) in rts() {
        let stop = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                loop {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    s.write_all(&buf[..n]).await.unwrap();
                }
            });
            // The hogs are spawned from inside the runtime so they land on the local queues.
            let hogs: Vec<_> = (0..100)
                .map(|i| {
                    let (stop, polls) = (stop.clone(), polls.clone());
                    if i % 2 == 0 {
                        corio::spawn(SelfWaking { stop, polls })
                    } else {
                        corio::spawn(async move {
                            while !stop.load(SeqCst) {
                                polls.fetch_add(1, SeqCst);
                                corio::task::yield_now().await;
                            }
                        })
                    }
                })
                .collect();
            let mut client = TcpStream::connect(addr).await.unwrap();
            for round in 0..50u32 {
                let msg = round.to_le_bytes();
                client.write_all(&msg).await.unwrap();
                let mut back = [0u8; 4];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg, "{name}");
            }
            drop(client);
            server.await.unwrap();
            // The hogs really were running the whole time.
            assert!(polls.load(SeqCst) > 100, "{name}: hogs were not polled");
            stop.store(true, SeqCst);
            for h in hogs {
                h.await.unwrap();
            }
        });
    }
}
