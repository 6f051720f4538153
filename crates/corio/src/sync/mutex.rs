//! An asynchronous mutual-exclusion lock whose guard may be held across `.await`.
//!
//! It is a one-permit [`Semaphore`] around the data: `lock` acquires the permit (so waiters are
//! served in FIFO order and a cancelled `lock` passes a lock it was already handed to the next
//! waiter), and dropping the guard returns the permit. The permit hand-off through the
//! semaphore's internal lock orders every guard's accesses to the data after the previous
//! guard's, which is what makes the `unsafe` data accesses below sound.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::semaphore::{Semaphore, TryAcquireError};

/// An asynchronous mutex, fair (FIFO) and cancel-safe.
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one guard at a time, possibly on another thread,
// so `T: Send` suffices for both `Send` and `Sync` (same reasoning as `std::sync::Mutex`).
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: see above — shared `&Mutex<T>` only yields `&mut T` through an exclusive guard.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// A guard giving exclusive access to the data of a [`Mutex`]; unlocks on drop.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    // Makes the auto traits those of `&mut T`: `Sync` only if `T: Sync`.
    _marker: PhantomData<&'a mut T>,
}

/// An owned guard (holding an `Arc` of the [`Mutex`]); unlocks on drop.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    // `&OwnedMutexGuard` hands out `&T`, so the guard may be `Sync` only if `T: Sync`.
    _marker: PhantomData<Box<T>>,
}

/// Error returned by [`Mutex::try_lock`]: the lock is currently held.
#[derive(Debug)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}
impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `t`.
    pub fn new(t: T) -> Self {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(t),
        }
    }

    /// Creates an unlocked mutex in a `const` context (for statics).
    #[cfg(not(loom))]
    pub const fn const_new(t: T) -> Self {
        Mutex {
            sem: Semaphore::const_new(1),
            data: UnsafeCell::new(t),
        }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting (in FIFO order) until it is free.
    ///
    /// Cancel-safe: dropping the future gives up its place in the queue.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        match self.sem.acquire_inner(1).await {
            Ok(()) => MutexGuard {
                lock: self,
                _marker: PhantomData,
            },
            // The semaphore of a mutex is never closed.
            Err(_) => unreachable!("mutex semaphore closed"),
        }
    }

    /// Locks the mutex from synchronous code, blocking the current thread.
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::park::block_on(self.lock())
    }

    /// Locks the mutex through an `Arc`, returning a guard that owns the `Arc`.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        match self.sem.acquire_inner(1).await {
            Ok(()) => OwnedMutexGuard {
                lock: self,
                _marker: PhantomData,
            },
            Err(_) => unreachable!("mutex semaphore closed"),
        }
    }

    /// Locks an `Arc`ed mutex from synchronous code, blocking the current thread.
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        super::park::block_on(self.lock_owned())
    }

    /// Locks the mutex if it is free right now.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_inner(1) {
            Ok(()) => Ok(MutexGuard {
                lock: self,
                _marker: PhantomData,
            }),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    /// Locks an `Arc`ed mutex if it is free right now.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire_inner(1) {
            Ok(()) => Ok(OwnedMutexGuard {
                lock: self,
                _marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no `&mut T` exists elsewhere.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the only permit and is borrowed mutably, so access is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no `&mut T` exists elsewhere.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the only permit and is borrowed mutably, so access is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::sync::test_util::{block_on, poll_once, CountingWaker};

    #[test]
    fn lock_try_lock_and_fifo() {
        let m = Mutex::new(0);
        let g = m.try_lock().unwrap();
        assert!(m.try_lock().is_err());
        let w = CountingWaker::new();
        let mut a = Box::pin(m.lock());
        let mut b = Box::pin(m.lock());
        assert!(poll_once(&mut a, &w).is_pending());
        assert!(poll_once(&mut b, &w).is_pending());
        drop(g);
        // `a` was handed the lock; cancelling it passes it to `b`.
        drop(a);
        let mut gb = match poll_once(&mut b, &w) {
            std::task::Poll::Ready(g) => g,
            _ => panic!("b should own the lock"),
        };
        *gb += 1;
        drop(gb);
        assert_eq!(*block_on(m.lock()), 1);
    }

    #[test]
    fn owned_guard_and_into_inner() {
        let m = Arc::new(Mutex::new(vec![1]));
        let mut g = block_on(m.clone().lock_owned());
        g.push(2);
        assert!(m.clone().try_lock_owned().is_err());
        drop(g);
        let mut m = Arc::try_unwrap(m).unwrap();
        m.get_mut().push(3);
        assert_eq!(m.into_inner(), vec![1, 2, 3]);
    }

    #[test]
    fn threads_increment() {
        let m = Arc::new(Mutex::new(0u64));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..500 {
                        *m.blocking_lock() += 1;
                    }
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(*m.blocking_lock(), 2000);
    }

    #[test]
    fn unsized_and_static() {
        static M: Mutex<u8> = Mutex::const_new(7);
        assert_eq!(*block_on(M.lock()), 7);
        let m: Arc<Mutex<[u8]>> = Arc::new(Mutex::new([1u8, 2, 3]));
        assert_eq!(block_on(m.lock()).len(), 3);
    }
}
