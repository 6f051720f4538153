//! The loom side of the shim: the same names, pointing at `loom`'s model-checked types.

#[allow(unused_imports)]
pub(crate) mod sync {
    /// `std`'s `Arc`, also under loom: the runtime coerces `Arc`s to trait objects
    /// (`Arc<dyn RawTask>`, `Arc<dyn JoinTarget<T>>`), which `loom::sync::Arc` cannot do, and hands
    /// them across module boundaries (driver and timer handles), so one `Arc` type must serve the
    /// whole crate. Loom still sees every atomic, cell, mutex and condvar the data sits behind.
    pub(crate) use std::sync::Arc;

    #[allow(unused_imports)]
    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
    }

    /// Loom's mutex with the infallible `lock` of the std wrapper.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().unwrap()
        }

        #[track_caller]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }

        #[track_caller]
        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex::new(T::default())
        }
    }

    /// A lock only ever taken with `try_lock`, built from a loom atomic and a loom cell.
    ///
    /// `loom::sync::Mutex::try_lock` can leave the trying thread blocked while another thread
    /// holds the lock (tokio-rs/loom#376): a worker holding the driver while parked in it would
    /// then "block" the worker that merely tried to take it, and loom would report a deadlock
    /// the real code cannot have. A compare-and-swap has exactly `try_lock`'s semantics.
    pub(crate) struct TryLock<T> {
        locked: super::sync::atomic::AtomicBool,
        value: loom::cell::UnsafeCell<T>,
    }

    // SAFETY: the value is only reached through a guard, and at most one guard exists at a
    // time (the `locked` flag), so sharing the lock only ever sends the value between threads.
    unsafe impl<T: Send> Sync for TryLock<T> {}
    // SAFETY: as above.
    unsafe impl<T: Send> Send for TryLock<T> {}

    impl<T> std::fmt::Debug for TryLock<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("TryLock").finish_non_exhaustive()
        }
    }

    /// The exclusive access a successful [`TryLock::try_lock`] gives.
    pub(crate) struct TryLockGuard<'a, T> {
        lock: &'a TryLock<T>,
        /// Loom tracks this access as exclusive for as long as the pointer lives.
        ptr: Option<loom::cell::MutPtr<T>>,
    }

    impl<T> TryLock<T> {
        pub(crate) fn new(value: T) -> Self {
            TryLock {
                locked: super::sync::atomic::AtomicBool::new(false),
                value: loom::cell::UnsafeCell::new(value),
            }
        }

        pub(crate) fn try_lock(&self) -> Option<TryLockGuard<'_, T>> {
            use super::sync::atomic::Ordering::{Acquire, Relaxed};
            self.locked
                .compare_exchange(false, true, Acquire, Relaxed)
                .ok()?;
            Some(TryLockGuard {
                lock: self,
                ptr: Some(self.value.get_mut()),
            })
        }
    }

    impl<T> std::ops::Deref for TryLockGuard<'_, T> {
        type Target = T;

        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock, so this is the only access to the value.
            unsafe { self.ptr.as_ref().expect("set until drop").deref() }
        }
    }

    impl<T> std::ops::DerefMut for TryLockGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: the guard holds the lock, so this is the only access to the value.
            unsafe { self.ptr.as_ref().expect("set until drop").deref() }
        }
    }

    impl<T> Drop for TryLockGuard<'_, T> {
        fn drop(&mut self) {
            // End the tracked access before another thread can take the lock.
            drop(self.ptr.take());
            self.lock
                .locked
                .store(false, super::sync::atomic::Ordering::Release);
        }
    }

    /// Loom's condvar with the infallible API of the std wrapper.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        #[track_caller]
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }

        /// Loom has no notion of time: a timed wait is an untimed wait.
        #[track_caller]
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _timeout: std::time::Duration,
        ) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one()
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all()
        }
    }
}

pub(crate) mod cell {
    /// Loom's `UnsafeCell`, with `with`/`with_mut` that return the closure's value.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(loom::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) fn new(value: T) -> Self {
            UnsafeCell(loom::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            self.0.with(f)
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            self.0.with_mut(f)
        }
    }

    impl<T: Default> Default for UnsafeCell<T> {
        fn default() -> Self {
            UnsafeCell::new(T::default())
        }
    }
}

#[allow(unused_imports)]
pub(crate) mod thread {
    pub(crate) use loom::thread::{current, spawn, yield_now, JoinHandle, LocalKey};
    pub(crate) use std::thread::panicking;
}

/// In a model a spin loop must yield, or loom explores it forever.
#[inline(always)]
pub(crate) fn spin_loop() {
    loom::thread::yield_now()
}
