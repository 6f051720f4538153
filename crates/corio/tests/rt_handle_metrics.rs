//! `Handle` (current / try_current / enter / block_on), concurrent `block_on` on a
//! current-thread runtime, `JoinSet`, the blocking pool and the runtime metrics.
//!
//! Metrics that depend on thread timing (steals, blocking threads exiting after keep-alive) are
//! checked with a bounded retry loop, never with a timing assertion.

use corio::runtime::{Builder, Handle, Runtime, RuntimeFlavor};
use corio::sync::oneshot;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// Retries `cond` (with short pauses) until it holds or `limit` passed; returns whether it held.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

#[test]
fn handle_current_try_current_enter_and_block_on() {
    assert!(
        Handle::try_current().is_err(),
        "no runtime on a fresh test thread"
    );
    let rt = multi(2);
    let h = rt.block_on(async { Handle::current() });
    assert_eq!(h.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert!(
        Handle::try_current().is_err(),
        "block_on restores the previous context"
    );
    {
        let _guard = rt.enter();
        let inner = Handle::try_current().unwrap();
        // Spawning works inside `enter` without block_on.
        let j = corio::spawn(async { 5 });
        assert_eq!(inner.block_on(j).unwrap(), 5);
    }
    assert!(
        Handle::try_current().is_err(),
        "the enter guard restores the previous context"
    );

    // Handle::block_on from plain OS threads, with I/O and timers driven by the runtime.
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let h = rt.handle().clone();
            std::thread::spawn(move || {
                h.block_on(async move {
                    corio::time::sleep(Duration::from_millis(1)).await;
                    let l = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let a = l.local_addr().unwrap();
                    let _c = corio::net::TcpStream::connect(a).await.unwrap();
                    l.accept().await.unwrap();
                    i
                })
            })
        })
        .collect();
    let sum: i32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(sum, 3);

    let ct = Builder::new_current_thread().enable_all().build().unwrap();
    assert_eq!(ct.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
}

#[test]
fn current_thread_block_on_from_two_threads_at_once() {
    let rt = Arc::new(Builder::new_current_thread().enable_all().build().unwrap());
    // Each thread's future needs the other one to make progress: both block_on calls must be
    // live at the same time, one driving the runtime and the other woken through it.
    let (a_tx, a_rx) = oneshot::channel::<u32>();
    let (b_tx, b_rx) = oneshot::channel::<u32>();
    let spawned = Arc::new(AtomicUsize::new(0));
    let t1 = {
        let (rt, spawned) = (rt.clone(), spawned.clone());
        std::thread::spawn(move || {
            rt.block_on(async move {
                corio::spawn(async move { spawned.fetch_add(1, SeqCst) })
                    .await
                    .unwrap();
                a_tx.send(1).unwrap();
                b_rx.await.unwrap()
            })
        })
    };
    let t2 = {
        let (rt, spawned) = (rt.clone(), spawned.clone());
        std::thread::spawn(move || {
            rt.block_on(async move {
                let a = a_rx.await.unwrap();
                corio::time::sleep(Duration::from_millis(1)).await;
                corio::spawn(async move { spawned.fetch_add(1, SeqCst) })
                    .await
                    .unwrap();
                b_tx.send(a + 1).unwrap();
                a
            })
        })
    };
    assert_eq!(t1.join().unwrap(), 2);
    assert_eq!(t2.join().unwrap(), 1);
    assert_eq!(spawned.load(SeqCst), 2);
}

#[test]
fn join_set_collects_aborts_and_drops() {
    let rt = multi(2);
    rt.block_on(async {
        let mut set = corio::task::JoinSet::new();
        for i in 0..50u32 {
            set.spawn(async move {
                corio::task::yield_now().await;
                i
            });
        }
        assert_eq!(set.len(), 50);
        let mut seen = Vec::new();
        while let Some(r) = set.join_next().await {
            seen.push(r.unwrap());
        }
        seen.sort();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert!(set.is_empty());

        // abort_all: every pending task ends cancelled.
        for _ in 0..10 {
            set.spawn(std::future::pending::<u32>());
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            assert!(r.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 10);

        // Dropping the set aborts its tasks: their futures are dropped.
        struct D(Arc<AtomicUsize>);
        impl Drop for D {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let (started_tx, mut started_rx) = corio::sync::mpsc::unbounded_channel();
        let mut set = corio::task::JoinSet::new();
        for _ in 0..10 {
            let d = D(dropped.clone());
            let started = started_tx.clone();
            set.spawn(async move {
                let _d = d;
                started.send(()).unwrap();
                std::future::pending::<()>().await
            });
        }
        for _ in 0..10 {
            started_rx.recv().await.unwrap();
        }
        drop(set);
        // The aborted tasks are dropped by the workers; wait for it without a timing bound.
        while dropped.load(SeqCst) < 10 {
            corio::task::yield_now().await;
        }
    });
}

#[test]
fn spawn_blocking_many_concurrent_is_bounded_and_idle_threads_exit() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .thread_keep_alive(Duration::from_millis(50))
        .enable_all()
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    // Four tasks meet at a barrier: proves four really run at once.
    let barrier = Arc::new(Barrier::new(4));
    let sum = rt.block_on(async {
        let hs: Vec<_> = (0..64usize)
            .map(|i| {
                let (running, max, barrier) = (running.clone(), max.clone(), barrier.clone());
                corio::task::spawn_blocking(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    max.fetch_max(now, SeqCst);
                    if i < 4 {
                        barrier.wait();
                    }
                    running.fetch_sub(1, SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..64).sum::<usize>());
    assert!(
        max.load(SeqCst) <= 4,
        "{} blocking tasks ran at once with max 4",
        max.load(SeqCst)
    );
    let m = rt.metrics();
    assert!(
        m.num_blocking_threads() >= 1 && m.num_blocking_threads() <= 4,
        "{m:?}"
    );
    // After the keep-alive, idle blocking threads exit (bounded wait, no timing assertion).
    assert!(
        eventually(Duration::from_secs(30), || m.num_blocking_threads() == 0),
        "blocking threads never exited: {} left",
        m.num_blocking_threads()
    );
    // And the pool starts threads again on demand.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 9)).unwrap(), 9);
}

#[test]
fn metrics_count_workers_spawns_polls_parks_and_io() {
    let rt = multi(2);
    let m = rt.metrics();
    assert_eq!(m.num_workers(), 2);
    let before = m.spawned_tasks_count();
    rt.block_on(async {
        let hs: Vec<_> = (0..100).map(|_| corio::spawn(async {})).collect();
        for h in hs {
            h.await.unwrap();
        }
        let l = corio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = corio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let (s, _) = l.accept().await.unwrap();
        c.writable().await.unwrap();
        c.try_write(b"x").unwrap();
        s.readable().await.unwrap();
    });
    assert_eq!(m.spawned_tasks_count() - before, 100);
    let polls: u64 = (0..2).map(|w| m.worker_poll_count(w)).sum();
    assert!(polls >= 100, "{polls} polls for 100 tasks");
    assert!(m.io_driver_ready_count() > 0, "no I/O events counted");
    assert!(
        m.remote_schedule_count() > 0,
        "spawns from block_on go through the injector"
    );
    assert!(
        eventually(Duration::from_secs(30), || (0..2)
            .map(|w| m.worker_park_count(w))
            .sum::<u64>()
            > 0),
        "idle workers never parked"
    );
    assert!(
        eventually(Duration::from_secs(30), || m.num_alive_tasks() == 0),
        "{m:?}"
    );
    assert_eq!(m.worker_poll_count(2), 0, "out-of-range worker reads as 0");
    assert_eq!(m.worker_local_queue_depth(2), 0);
}

#[test]
fn metrics_steals_happen_under_imbalanced_load() {
    let rt = multi(2);
    let m = rt.metrics();
    let steals = || (0..2).map(|w| m.worker_steal_count(w)).sum::<u64>();
    let mut rounds = 0;
    // Each round: one task on one worker spawns a burst of CPU-bound tasks into its own local
    // queue while it keeps that worker busy; the other worker can only get work by stealing.
    while steals() == 0 && rounds < 200 {
        rounds += 1;
        rt.block_on(async {
            corio::spawn(async {
                let hs: Vec<_> = (0..256)
                    .map(|_| {
                        corio::spawn(async {
                            let mut x = 0u64;
                            for i in 0..20_000u64 {
                                x = x.wrapping_mul(31).wrapping_add(i);
                            }
                            std::hint::black_box(x);
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            })
            .await
            .unwrap();
        });
    }
    assert!(
        steals() > 0,
        "no steal in {rounds} rounds of imbalanced load"
    );
}
