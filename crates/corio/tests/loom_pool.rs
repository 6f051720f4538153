//! Loom models of the whole multi-thread runtime: two workers, the injector, the idle protocol,
//! parking and shutdown, driven through the public API (I/O and time disabled: loom cannot
//! model the OS event queue, so the driver is the condvar-based `ParkThread`).
//!
//! Every model must terminate in every explored interleaving: a lost wake-up leaves a thread
//! blocked forever, which loom reports as a deadlock. Futures carry drop counters so that
//! shutdown can be checked to drop each of them exactly once.
//!
//! Run with `bash scripts/test-loom.sh` (it builds with `--cfg loom` in its own target dir).
#![cfg(loom)]

use corio::runtime::{Builder, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Explores `f` with a bounded number of preemptions (whole-runtime models are large).
fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    let bound = builder
        .preemption_bound
        .map_or(preemptions, |b| b.min(preemptions));
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

fn runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Counts how often it is dropped.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Never completes; counts its drop.
struct PendingForever(#[allow(dead_code)] DropCount);

impl Future for PendingForever {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// A task spawned from outside the runtime reaches a worker through the injector and its
/// completion wakes the thread blocked on its `JoinHandle`.
#[test]
fn spawn_from_outside_then_block_on_join() {
    model(2, || {
        let rt = runtime();
        let join = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(join).unwrap(), 7);
        drop(rt);
    });
}

/// Two tasks spawned from outside, each completing while the other may be running on the
/// other worker; `block_on` waits for both.
#[test]
fn two_spawns_from_outside() {
    model(1, || {
        let rt = runtime();
        let a = rt.spawn(async { 1 });
        let b = rt.spawn(async { 2 });
        let sum = rt.block_on(async move { a.await.unwrap() + b.await.unwrap() });
        assert_eq!(sum, 3);
    });
}

/// Tasks that wake each other: a ping-pong over oneshot channels between two tasks that may
/// run on different workers (the wakes cross workers through queues, the LIFO slot, stealing
/// and the idle protocol).
#[test]
fn tasks_wake_each_other() {
    model(1, || {
        let rt = runtime();
        let (ping_tx, ping_rx) = corio::sync::oneshot::channel::<u32>();
        let (pong_tx, pong_rx) = corio::sync::oneshot::channel::<u32>();
        let ponger = rt.spawn(async move {
            let n = ping_rx.await.unwrap();
            pong_tx.send(n + 1).unwrap();
        });
        let pinger = rt.spawn(async move {
            ping_tx.send(1).unwrap();
            pong_rx.await.unwrap()
        });
        let got = rt.block_on(async move {
            ponger.await.unwrap();
            pinger.await.unwrap()
        });
        assert_eq!(got, 2);
    });
}

/// A task spawned from inside a task (to the worker's local queue or LIFO slot) is found by the
/// other worker or by its own, and its completion reaches the outside.
#[test]
fn spawn_from_inside() {
    model(2, || {
        let rt = runtime();
        let outer = rt.spawn(async { corio::spawn(async { 5 }).await.unwrap() });
        assert_eq!(rt.block_on(outer).unwrap(), 5);
    });
}

/// Dropping the runtime with tasks that never complete: shutdown drops every future exactly
/// once, whichever worker holds the task (queued, or parked waiting) when shutdown starts.
#[test]
fn drop_runtime_with_pending_tasks() {
    model(2, || {
        let drops = counter();
        let rt = runtime();
        for _ in 0..2 {
            drop(rt.spawn(PendingForever(DropCount(drops.clone()))));
        }
        drop(rt);
        assert_eq!(
            drops.load(SeqCst),
            2,
            "every future is dropped exactly once"
        );
    });
}

/// A future whose destructor spawns a new task: shutdown drops it, and the task spawned during
/// shutdown is cancelled at once (its future dropped exactly once, nothing keeps the runtime
/// alive); a third task is spawned from another thread while the runtime shuts down.
#[test]
fn spawn_during_shutdown() {
    struct SpawnOnDrop {
        handle: corio::runtime::Handle,
        drops: Arc<AtomicUsize>,
        _count: DropCount,
    }
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let late = PendingForever(DropCount(self.drops.clone()));
            drop(self.handle.spawn(late));
        }
    }
    impl Future for SpawnOnDrop {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    model(1, || {
        let drops = counter();
        let rt = runtime();
        let handle = rt.handle().clone();
        drop(rt.spawn(SpawnOnDrop {
            handle: handle.clone(),
            drops: drops.clone(),
            _count: DropCount(drops.clone()),
        }));
        let spawner = {
            let drops = drops.clone();
            loom::thread::spawn(move || {
                let join = handle.spawn(PendingForever(DropCount(drops)));
                drop(join);
            })
        };
        drop(rt);
        spawner.join().unwrap();
        assert_eq!(
            drops.load(SeqCst),
            3,
            "every future is dropped exactly once"
        );
    });
}

/// `abort()` from a thread outside the runtime while a worker may be polling the task: the
/// future is dropped exactly once and the handle resolves to `Cancelled`.
#[test]
fn abort_from_another_thread() {
    model(1, || {
        let drops = counter();
        let rt = runtime();
        let join = rt.spawn(PendingForever(DropCount(drops.clone())));
        let abort = join.abort_handle();
        let aborter = loom::thread::spawn(move || abort.abort());
        let res = rt.block_on(join);
        assert!(res.unwrap_err().is_cancelled());
        aborter.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        drop(rt);
    });
}

/// A task woken from a thread outside the runtime (through the injector) while the workers go
/// idle: the wake must reach a worker (no lost wake-up between "queue empty" and "park").
#[test]
fn wake_from_outside_while_workers_park() {
    model(1, || {
        let rt = runtime();
        let (tx, rx) = corio::sync::oneshot::channel::<u32>();
        let join = rt.spawn(async move { rx.await.unwrap() });
        let sender = loom::thread::spawn(move || tx.send(9).unwrap());
        assert_eq!(rt.block_on(join).unwrap(), 9);
        sender.join().unwrap();
    });
}
