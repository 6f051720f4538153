//! Sleep, timeout and interval through the public tokio-style API on a real runtime.
//!
//! Deterministic on a loaded machine: the only timing assertions are "not earlier than the
//! deadline"; nothing waits on a fixed sleep for synchronisation.

use corio::time::{self, Duration, Instant, MissedTickBehavior};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that does nothing (`Waker::noop` needs a newer Rust than the crate's MSRV).
struct NoopWaker;
impl Wake for NoopWaker {
    fn wake(self: Arc<Self>) {}
}

fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(NoopWaker));
    f.poll(&mut Context::from_waker(&waker))
}

#[corio::test]
async fn sleep_completes_not_early() {
    for ms in [0u64, 1, 2, 10, 25] {
        let d = Duration::from_millis(ms);
        let start = Instant::now();
        time::sleep(d).await;
        assert!(
            start.elapsed() >= d,
            "slept {:?} < {:?}",
            start.elapsed(),
            d
        );
    }
}

#[corio::test]
async fn sub_millisecond_rounds_up() {
    for us in [1u64, 100, 999, 1001, 1500] {
        let d = Duration::from_micros(us);
        let deadline = Instant::now() + d;
        time::sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
    }
}

#[corio::test]
async fn sleep_until_past_is_ready() {
    let past = Instant::now() - Duration::from_millis(5);
    let s = time::sleep_until(past);
    assert_eq!(s.deadline(), past);
    s.await;
}

#[corio::test]
async fn sleep_reset_earlier_and_later() {
    let s = time::sleep(Duration::from_secs(3600));
    let mut s = std::pin::pin!(s);
    assert!(poll_once(s.as_mut()).is_pending());
    assert!(!s.is_elapsed());
    let target = Instant::now() + Duration::from_millis(5);
    s.as_mut().reset(target);
    assert_eq!(s.deadline(), target);
    s.as_mut().await;
    assert!(Instant::now() >= target);
    assert!(s.is_elapsed());
    // Re-armed by a reset (a deadline no slow machine reaches before the assertion), then
    // once more to a near one, which fires again.
    s.as_mut().reset(Instant::now() + Duration::from_secs(3600));
    assert!(!s.is_elapsed());
    let later = Instant::now() + Duration::from_millis(3);
    s.as_mut().reset(later);
    s.as_mut().await;
    assert!(s.is_elapsed());
    assert!(Instant::now() >= later);
}

#[corio::test]
async fn far_sleep_and_max_duration_do_not_panic() {
    let s = time::sleep(Duration::MAX);
    let mut s = std::pin::pin!(s);
    assert!(poll_once(s.as_mut()).is_pending());
    let t = time::timeout(Duration::MAX, async { 1 }).await;
    assert_eq!(t, Ok(1));
}

#[corio::test]
async fn timeout_elapses() {
    let start = Instant::now();
    let r = time::timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
    let err = r.unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert_eq!(err.to_string(), "deadline has elapsed");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[corio::test]
async fn timeout_inner_first() {
    assert_eq!(time::timeout(Duration::ZERO, async { 5 }).await, Ok(5));
    let deadline = Instant::now() + Duration::from_secs(3600);
    let r = time::timeout_at(deadline, async {
        time::sleep(Duration::from_millis(2)).await;
        "done"
    })
    .await;
    assert_eq!(r, Ok("done"));
    let mut t = time::timeout(Duration::from_secs(1), std::future::ready(3));
    let _: &std::future::Ready<i32> = t.get_ref();
    let _inner: &mut std::future::Ready<i32> = t.get_mut();
    assert_eq!(t.into_inner().await, 3);
}

#[corio::test]
async fn interval_burst_keeps_schedule() {
    let start = Instant::now();
    let mut iv = time::interval(Duration::from_millis(4));
    assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
    assert_eq!(iv.period(), Duration::from_millis(4));
    let first = iv.tick().await;
    assert!(first >= start);
    let mut prev = first;
    for _ in 0..5 {
        let t = iv.tick().await;
        assert_eq!(t, prev + Duration::from_millis(4));
        assert!(Instant::now() >= t);
        prev = t;
    }
}

#[corio::test]
async fn interval_missed_ticks() {
    let period = Duration::from_millis(10);
    for behavior in [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ] {
        let start = Instant::now();
        let mut iv = time::interval_at(start, period);
        iv.set_missed_tick_behavior(behavior);
        assert_eq!(iv.tick().await, start);
        // Miss at least two ticks (whatever the first tick's own lateness on a loaded machine).
        time::sleep(Duration::from_millis(35)).await;
        let before_late = Instant::now();
        let late = iv.tick().await;
        assert!(late + Duration::from_millis(20) <= before_late);
        let next = iv.tick().await;
        match behavior {
            // The missed ticks follow immediately, on the original schedule.
            MissedTickBehavior::Burst => {
                assert_eq!(late, start + period);
                assert_eq!(next, start + 2 * period);
            }
            // The schedule restarts from when the late tick was observed.
            MissedTickBehavior::Delay => assert!(next >= before_late + period),
            // The next tick stays on the late tick's grid, after the moment it was observed.
            MissedTickBehavior::Skip => {
                let offset = next.duration_since(late).as_nanos() % period.as_nanos();
                assert_eq!(offset, 0);
                assert!(next > before_late);
            }
        }
        assert!(Instant::now() >= next);
    }
}

#[corio::test]
async fn interval_resets() {
    let mut iv = time::interval(Duration::from_secs(3600));
    iv.tick().await; // the immediate first tick
    iv.reset_immediately();
    let t = iv.tick().await;
    assert!(t <= Instant::now());
    let target = Instant::now() + Duration::from_millis(3);
    iv.reset_at(target);
    assert_eq!(iv.tick().await, target);
    assert!(Instant::now() >= target);
    iv.reset_after(Duration::from_millis(2));
    let t = iv.tick().await;
    assert!(Instant::now() >= t);
    iv.reset();
    let mut tick = Box::pin(iv.tick());
    assert!(poll_once(tick.as_mut()).is_pending());
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn interval_zero_period_panics() {
    let rt = corio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = time::interval(Duration::ZERO);
    });
}

#[test]
fn many_short_sleeps_multi_thread() {
    let rt = corio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..1000u64)
            .map(|i| {
                corio::spawn(async move {
                    let d = Duration::from_micros((i * 37) % 3000);
                    let start = Instant::now();
                    time::sleep(d).await;
                    assert!(start.elapsed() >= d);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn many_pending_timers_dropped() {
    let rt = corio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut sleeps: Vec<_> = (0..100_000u64)
            .map(|i| Box::pin(time::sleep(Duration::from_secs(60 + i % 5000))))
            .collect();
        for s in &mut sleeps {
            assert!(poll_once(s.as_mut()).is_pending());
        }
        drop(sleeps);
        // The driver still works afterwards.
        time::sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn runtime_shutdown_with_pending_sleep_does_not_hang() {
    let rt = corio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let sleep = time::sleep(Duration::from_secs(3600));
        tx.send(()).unwrap();
        sleep.await;
    });
    rx.recv().unwrap();
    drop(rt);
}
