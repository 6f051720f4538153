#![cfg(not(loom))]
use corio::runtime::Builder;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

fn rts() -> Vec<corio::runtime::Runtime> {
    vec![
        Builder::new_current_thread().enable_all().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
        Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap(),
    ]
}

#[test]
fn block_on_and_spawn_many() {
    for rt in rts() {
        let n = rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..10_000u64 {
                hs.push(corio::spawn(async move { i }));
            }
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(n, (0..10_000u64).sum());
    }
}

#[test]
fn spawn_from_outside_and_other_threads() {
    for rt in rts() {
        let count = Arc::new(AtomicUsize::new(0));
        let handle = rt.handle().clone();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let handle = handle.clone();
                let count = count.clone();
                std::thread::spawn(move || {
                    let hs: Vec<_> = (0..1000)
                        .map(|_| {
                            let c = count.clone();
                            handle.spawn(async move {
                                c.fetch_add(1, SeqCst);
                            })
                        })
                        .collect();
                    hs
                })
            })
            .collect();
        let hs: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        rt.block_on(async {
            for h in hs {
                h.await.unwrap();
            }
        });
        assert_eq!(count.load(SeqCst), 4000);
    }
}

#[test]
fn chained_spawn_and_yield() {
    fn chain(n: usize) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> {
        Box::pin(async move {
            if n == 0 {
                0
            } else {
                corio::spawn(chain(n - 1)).await.unwrap() + 1
            }
        })
    }
    for rt in rts() {
        assert_eq!(rt.block_on(chain(1000)), 1000);
        let n = rt.block_on(async {
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    corio::spawn(async {
                        for _ in 0..1000 {
                            corio::task::yield_now().await;
                        }
                        1
                    })
                })
                .collect();
            let mut s = 0;
            for h in hs {
                s += h.await.unwrap();
            }
            s
        });
        assert_eq!(n, 200);
    }
}

#[test]
fn panic_and_abort() {
    for rt in rts() {
        rt.block_on(async {
            let e = corio::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(e.is_panic());
            let h = corio::spawn(std::future::pending::<()>());
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());
        });
    }
}

struct DropFlag(Arc<AtomicUsize>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn shutdown_drops_pending_futures() {
    for rt in rts() {
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let f = DropFlag(dropped.clone());
            rt.spawn(async move {
                let _f = f;
                std::future::pending::<()>().await
            });
        }
        // Tasks that keep spawning during shutdown.
        fn respawn() {
            corio::spawn(async {
                respawn();
                std::future::pending::<()>().await
            });
        }
        rt.block_on(async {
            respawn();
            corio::task::yield_now().await;
        });
        drop(rt);
        assert_eq!(dropped.load(SeqCst), 100);
    }
}

#[test]
fn join_set_and_blocking() {
    for rt in rts() {
        rt.block_on(async {
            let mut set = corio::task::JoinSet::new();
            for i in 0..100usize {
                set.spawn(async move { i });
            }
            set.spawn_blocking(|| 1000);
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            assert_eq!(sum, (0..100).sum::<usize>() + 1000);
        });
    }
}
#[test]
fn chain_only() {
    fn chain(n: usize) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>> {
        Box::pin(async move {
            if n == 0 {
                0
            } else {
                corio::spawn(chain(n - 1)).await.unwrap() + 1
            }
        })
    }
    for (i, rt) in rts().into_iter().enumerate() {
        eprintln!("rt {i}");
        assert_eq!(rt.block_on(chain(1000)), 1000);
    }
}
#[test]
fn yield_only() {
    for (i, rt) in rts().into_iter().enumerate() {
        eprintln!("rt {i}");
        let n = rt.block_on(async {
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    corio::spawn(async {
                        for _ in 0..1000 {
                            corio::task::yield_now().await;
                        }
                        1
                    })
                })
                .collect();
            let mut s = 0;
            for h in hs {
                s += h.await.unwrap();
            }
            s
        });
        assert_eq!(n, 200);
    }
}

/// A join waker that panics when woken (foreign code the runtime must not trust).
struct PanickingWaker;
impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("join waker panicked");
    }
}

#[test]
fn panicking_join_waker_neither_unwinds_into_the_runtime_nor_leaks_the_task() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, rx) = corio::sync::oneshot::channel::<()>();
    let mut handle = rt.spawn(async move {
        rx.await.unwrap();
        7
    });
    // Register the panicking waker as the join waker while the task waits.
    let waker = std::task::Waker::from(Arc::new(PanickingWaker));
    let mut cx = std::task::Context::from_waker(&waker);
    rt.block_on(corio::task::yield_now());
    assert!(std::future::Future::poll(std::pin::Pin::new(&mut handle), &mut cx).is_pending());
    // Completing the task wakes that waker on the runtime's thread.
    rt.block_on(async move {
        tx.send(()).unwrap();
        corio::task::yield_now().await;
        corio::task::yield_now().await;
    });
    assert!(handle.is_finished());
    assert_eq!(rt.metrics().num_alive_tasks(), 0, "the task was released");
    assert_eq!(rt.block_on(handle).unwrap(), 7);
    assert_eq!(
        rt.block_on(async { corio::spawn(async { 1 }).await.unwrap() }),
        1
    );
}
