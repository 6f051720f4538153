//! Integration tests of `corio::sync` through the public API, on the runtime: tasks talking
//! over every channel kind, and a Mutex/Semaphore shared by many tasks.

use std::sync::Arc;

use corio::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, Semaphore};

#[corio::test]
async fn mpsc_bounded_between_tasks() {
    let (tx, mut rx) = mpsc::channel(4);
    for t in 0..4u32 {
        let tx = tx.clone();
        corio::spawn(async move {
            for i in 0..100 {
                tx.send(t * 1000 + i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut n = 0;
    while rx.recv().await.is_some() {
        n += 1;
    }
    assert_eq!(n, 400);
}

#[corio::test]
async fn unbounded_and_oneshot_round_trip() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u32, oneshot::Sender<u32>)>();
    corio::spawn(async move {
        while let Some((v, reply)) = rx.recv().await {
            let _ = reply.send(v * 2);
        }
    });
    for i in 0..50 {
        let (rtx, rrx) = oneshot::channel();
        tx.send((i, rtx)).unwrap();
        assert_eq!(rrx.await.unwrap(), i * 2);
    }
}

#[corio::test]
async fn watch_and_broadcast_fan_out() {
    let (wtx, mut wrx) = watch::channel(0u32);
    let (btx, mut brx) = broadcast::channel(16);
    let h = corio::spawn(async move {
        let v = *wrx.wait_for(|v| *v == 3).await.unwrap();
        let mut sum = 0;
        while let Ok(x) = brx.recv().await {
            sum += x;
        }
        (v, sum)
    });
    for i in 1..=3 {
        wtx.send(i).unwrap();
        btx.send(i).unwrap();
    }
    drop(btx);
    assert_eq!(h.await.unwrap(), (3, 6));
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutex_and_semaphore_under_contention() {
    let m = Arc::new(Mutex::new(0u64));
    let sem = Arc::new(Semaphore::new(3));
    let notify = Arc::new(Notify::new());
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (m, sem) = (m.clone(), sem.clone());
        handles.push(corio::spawn(async move {
            for _ in 0..100 {
                let _p = sem.clone().acquire_owned().await.unwrap();
                *m.lock().await += 1;
            }
        }));
    }
    let n2 = notify.clone();
    let waiter = corio::spawn(async move { n2.notified().await });
    for h in handles {
        h.await.unwrap();
    }
    notify.notify_one();
    waiter.await.unwrap();
    assert_eq!(*m.lock().await, 800);
    assert_eq!(sem.available_permits(), 3);
}
