//! Each `corio::sync` primitive on a real multi-thread runtime, with tasks spread across
//! workers (the unit tests beside each primitive poll by hand; these run it under a scheduler).

use corio::sync::{broadcast, oneshot, watch, Mutex, Notify, Semaphore};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_waiters_wakes_every_registered_task_and_notify_one_chains() {
    let notify = Arc::new(Notify::new());
    let ready = Arc::new(Semaphore::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (notify, ready) = (notify.clone(), ready.clone());
        tasks.push(corio::spawn(async move {
            let notified = notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before we report ready, so notify_waiters cannot miss us.
            notified.as_mut().enable();
            ready.add_permits(1);
            notified.await;
        }));
    }
    ready.acquire_many(50).await.unwrap().forget();
    notify.notify_waiters();
    for t in tasks {
        t.await.unwrap();
    }
    // notify_one stores a permit when nobody waits; a chain of 20 tasks hands it on.
    let counter = Arc::new(AtomicUsize::new(0));
    let mut chain = Vec::new();
    for _ in 0..20 {
        let (notify, counter) = (notify.clone(), counter.clone());
        chain.push(corio::spawn(async move {
            notify.notified().await;
            counter.fetch_add(1, SeqCst);
            notify.notify_one();
        }));
    }
    notify.notify_one();
    for t in chain {
        t.await.unwrap();
    }
    assert_eq!(counter.load(SeqCst), 20);
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_bounds_concurrency_and_close_fails_waiters() {
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
        tasks.push(corio::spawn(async move {
            for _ in 0..10 {
                let _permit = sem.acquire().await.unwrap();
                let now = inside.fetch_add(1, SeqCst) + 1;
                max.fetch_max(now, SeqCst);
                corio::task::yield_now().await;
                inside.fetch_sub(1, SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        max.load(SeqCst) <= 3,
        "{} tasks held a 3-permit semaphore",
        max.load(SeqCst)
    );
    assert_eq!(sem.available_permits(), 3);

    let all = sem.clone().acquire_many_owned(3).await.unwrap();
    let waiter = {
        let sem = sem.clone();
        corio::spawn(async move { sem.acquire().await.map(|_| ()) })
    };
    corio::task::yield_now().await;
    sem.close();
    assert!(
        waiter.await.unwrap().is_err(),
        "a closed semaphore fails its waiters"
    );
    drop(all);
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutex_held_across_awaits_is_exclusive() {
    let m = Arc::new(Mutex::new(Vec::<usize>::new()));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let m = m.clone();
        tasks.push(corio::spawn(async move {
            for i in 0..20 {
                let mut g = m.lock().await;
                let len = g.len();
                // Hold the guard across a yield: nobody else may push meanwhile.
                corio::task::yield_now().await;
                assert_eq!(g.len(), len);
                g.push(t * 100 + i);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let g = m.lock().await;
    assert_eq!(g.len(), 16 * 20);
    drop(g);
    let owned = m.clone().lock_owned().await;
    assert!(m.try_lock().is_err());
    drop(owned);
    assert!(m.try_lock().is_ok());
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_receivers_see_the_latest_value_and_sender_drop() {
    let (tx, rx) = watch::channel(0u64);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let mut rx = rx.clone();
        tasks.push(corio::spawn(async move {
            let mut last = *rx.borrow_and_update();
            // Values only grow; the receiver may skip some but never goes back.
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v > last, "{v} after {last}");
                last = v;
            }
            last
        }));
    }
    drop(rx);
    for i in 1..=1000 {
        tx.send(i).unwrap();
        if i % 100 == 0 {
            corio::task::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 1000, "the final value is always seen");
    }
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_every_receiver_gets_every_value_in_order() {
    let (tx, _) = broadcast::channel::<u32>(1024);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut rx = tx.subscribe();
        tasks.push(corio::spawn(async move {
            let mut got = Vec::new();
            loop {
                match rx.recv().await {
                    Ok(v) => got.push(v),
                    Err(broadcast::error::RecvError::Closed) => return got,
                    Err(e) => panic!("{e:?}"),
                }
            }
        }));
    }
    for i in 0..500 {
        tx.send(i).unwrap();
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), (0..500).collect::<Vec<_>>());
    }
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_slow_receiver_lags() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    match rx.recv().await {
        Err(broadcast::error::RecvError::Lagged(n)) => assert_eq!(n, 6),
        other => panic!("{other:?}"),
    }
    assert_eq!(rx.recv().await.unwrap(), 6);
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oneshot_across_threads_and_closed_sender() {
    // A sender on a plain OS thread completes a receiver awaited on a worker.
    let (tx, rx) = oneshot::channel::<String>();
    let t = std::thread::spawn(move || tx.send("from a thread".to_owned()).unwrap());
    assert_eq!(rx.await.unwrap(), "from a thread");
    t.join().unwrap();

    // Dropping the sender fails the receiver.
    let (tx, rx) = oneshot::channel::<u8>();
    let h = corio::spawn(rx);
    drop(tx);
    assert!(h.await.unwrap().is_err());

    // `closed()` resolves once the receiver is dropped; then send hands the value back.
    let (mut tx, rx) = oneshot::channel::<u8>();
    let h = corio::spawn(async move {
        tx.closed().await;
        tx.send(5)
    });
    drop(rx);
    assert_eq!(h.await.unwrap(), Err(5));

    // 200 request/response pairs between tasks.
    let mut hs = Vec::new();
    for i in 0..200u32 {
        let (tx, rx) = oneshot::channel();
        corio::spawn(async move { tx.send(i * 3).unwrap() });
        hs.push(corio::spawn(async move { rx.await.unwrap() }));
    }
    for (i, h) in hs.into_iter().enumerate() {
        assert_eq!(h.await.unwrap(), i as u32 * 3);
    }
}
