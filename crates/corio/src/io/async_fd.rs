//! `AsyncFd`: readiness-based async I/O for any Unix file descriptor.
//!
//! Users with a non-blocking fd that corio has no type for (a tun device, an inotify fd, a
//! socket from another library) wrap it in an `AsyncFd`, wait for readiness through the I/O
//! driver, and do the syscall themselves. Readiness is edge-triggered: after a `WouldBlock` the
//! user clears it through the guard (`clear_ready`, or `try_io` which does so automatically).
//! The `AsyncFd` does not own the fd's lifetime beyond owning `T`; it deregisters the fd before
//! `T` is dropped or handed back.

use std::error::Error;
use std::fmt;
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use mio::unix::SourceFd;

use crate::io::driver::{Handle, ReadyEvent, Registration};
use crate::io::{Interest, Ready};
use std::sync::Arc;

/// Associates an I/O object backed by a Unix file descriptor with the corio reactor, allowing
/// for readiness to be polled. The file descriptor must be of a type that can be used with the
/// OS polling facilities (ie, `poll`, `epoll`, `kqueue`, etc), such as a network socket or pipe,
/// and must be in non-blocking mode.
///
/// Readiness is edge-triggered: once the `AsyncFd` reports an fd readable, it keeps doing so
/// until the readiness is cleared through a guard ([`AsyncFdReadyGuard::clear_ready`]) after an
/// operation returned `WouldBlock`.
///
/// Dropping the `AsyncFd` deregisters the fd and then drops the inner object (which usually
/// closes it); [`AsyncFd::into_inner`] deregisters and returns the object without closing.
pub struct AsyncFd<T: AsRawFd> {
    registration: Registration,
    /// `None` only inside `into_inner` and `drop`.
    inner: Option<T>,
}

/// Represents an IO-ready event detected on a particular file descriptor that has not yet been
/// acknowledged. This is a `must_use` structure to help ensure that you do not forget to
/// explicitly clear (or not clear) the event.
///
/// This type exposes an immutable reference to the underlying IO object.
#[must_use = "You must explicitly choose whether to clear the readiness state by calling a method on ReadyGuard"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// Represents an IO-ready event detected on a particular file descriptor that has not yet been
/// acknowledged. This is a `must_use` structure to help ensure that you do not forget to
/// explicitly clear (or not clear) the event.
///
/// This type exposes a mutable reference to the underlying IO object.
#[must_use = "You must explicitly choose whether to clear the readiness state by calling a method on ReadyGuard"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Creates an `AsyncFd` backed by (and taking ownership of) an object implementing
    /// `AsRawFd`, registered for readable and writable readiness.
    ///
    /// Returns an error (kind `Other`) outside a runtime with I/O enabled, and the OS error if
    /// the fd cannot be registered (e.g. a regular file under epoll).
    pub fn new(inner: T) -> io::Result<Self>
    where
        T: AsRawFd,
    {
        Self::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Creates an `AsyncFd` backed by (and taking ownership of) an object implementing
    /// `AsRawFd`, with a specific [`Interest`].
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<Self>
    where
        T: AsRawFd,
    {
        Self::try_with_interest(inner, interest).map_err(|e| e.cause)
    }

    /// Like [`AsyncFd::new`], but hands the inner object back inside the error on failure.
    pub fn try_new(inner: T) -> Result<Self, AsyncFdTryNewError<T>>
    where
        T: AsRawFd,
    {
        Self::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Like [`AsyncFd::with_interest`], but hands the inner object back inside the error on
    /// failure.
    pub fn try_with_interest(inner: T, interest: Interest) -> Result<Self, AsyncFdTryNewError<T>>
    where
        T: AsRawFd,
    {
        match crate::runtime::context::io_handle() {
            Ok(handle) => Self::try_with_interest_and_handle(inner, interest, handle),
            Err(cause) => Err(AsyncFdTryNewError { inner, cause }),
        }
    }

    pub(crate) fn try_with_interest_and_handle(
        inner: T,
        interest: Interest,
        handle: Arc<Handle>,
    ) -> Result<Self, AsyncFdTryNewError<T>> {
        let fd = inner.as_raw_fd();
        match Registration::new_with_interest_and_handle(&mut SourceFd(&fd), interest, handle) {
            Ok(registration) => Ok(AsyncFd {
                registration,
                inner: Some(inner),
            }),
            Err(cause) => Err(AsyncFdTryNewError { inner, cause }),
        }
    }

    /// Returns a shared reference to the backing object of this `AsyncFd`.
    #[inline]
    pub fn get_ref(&self) -> &T {
        match &self.inner {
            Some(inner) => inner,
            None => unreachable!("AsyncFd inner is only taken while consuming the AsyncFd"),
        }
    }

    /// Returns a mutable reference to the backing object of this `AsyncFd`.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Some(inner) => inner,
            None => unreachable!("AsyncFd inner is only taken while consuming the AsyncFd"),
        }
    }

    fn take_inner(&mut self) -> Option<T> {
        let inner = self.inner.take()?;
        let fd = inner.as_raw_fd();
        // A failed deregistration only means the driver keeps this fd's state until it is
        // dropped; there is nothing useful to report to the caller.
        let _ = self.registration.deregister(&mut SourceFd(&fd));
        Some(inner)
    }

    /// Deregisters this file descriptor and returns ownership of the backing object.
    pub fn into_inner(mut self) -> T {
        match self.take_inner() {
            Some(inner) => inner,
            None => unreachable!("AsyncFd inner is only taken while consuming the AsyncFd"),
        }
    }

    /// Polls for read readiness.
    ///
    /// If the file descriptor is not currently ready for reading, this method will store a clone
    /// of the `Waker` from the provided `Context`. When the file descriptor becomes ready for
    /// reading, `Waker::wake` will be called. Only the `Waker` from the `Context` passed to the
    /// most recent call is scheduled to receive a wakeup (use [`AsyncFd::readable`] for any
    /// number of concurrent waiters).
    ///
    /// This method takes `&self`, so it is possible to call this method concurrently with other
    /// methods on this struct. This method only provides shared access to the inner IO resource
    /// when handling the [`AsyncFdReadyGuard`].
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.registration.poll_read_ready(cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for read readiness; the returned guard gives mutable access to the inner object.
    ///
    /// See [`AsyncFd::poll_read_ready`] for details.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.registration.poll_read_ready(cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness.
    ///
    /// If the file descriptor is not currently ready for writing, this method will store a clone
    /// of the `Waker` from the provided `Context`. Only the `Waker` from the `Context` passed to
    /// the most recent call is scheduled to receive a wakeup.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.registration.poll_write_ready(cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness; the returned guard gives mutable access to the inner object.
    ///
    /// See [`AsyncFd::poll_write_ready`] for details.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.registration.poll_write_ready(cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Waits for any of the requested ready states, returning a [`AsyncFdReadyGuard`] that must
    /// be dropped to resume polling for the requested ready states.
    ///
    /// Any number of tasks may wait concurrently. Returns an error if the runtime shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits for any of the requested ready states, returning a [`AsyncFdReadyMutGuard`] that
    /// must be dropped to resume polling for the requested ready states.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.registration.readiness(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits for the file descriptor to become readable, returning a [`AsyncFdReadyGuard`] that
    /// must be dropped to resume read-readiness polling.
    #[allow(clippy::needless_lifetimes)]
    pub async fn readable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits for the file descriptor to become readable, returning a [`AsyncFdReadyMutGuard`]
    /// that must be dropped to resume read-readiness polling.
    #[allow(clippy::needless_lifetimes)]
    pub async fn readable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits for the file descriptor to become writable, returning a [`AsyncFdReadyGuard`] that
    /// must be dropped to resume write-readiness polling.
    #[allow(clippy::needless_lifetimes)]
    pub async fn writable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits for the file descriptor to become writable, returning a [`AsyncFdReadyMutGuard`]
    /// that must be dropped to resume write-readiness polling.
    #[allow(clippy::needless_lifetimes)]
    pub async fn writable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Reads or writes from the file descriptor using a user-provided IO operation.
    ///
    /// Waits for `interest`, calls `f`; if `f` returns `WouldBlock` the readiness is cleared and
    /// the wait starts again. Any other result (success or error) is returned.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = self.get_ref();
        self.registration.async_io(interest, || f(inner)).await
    }

    /// Like [`AsyncFd::async_io`], but `f` gets mutable access to the inner object.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let AsyncFd {
            registration,
            inner,
        } = self;
        let inner = match inner {
            Some(inner) => inner,
            None => unreachable!("AsyncFd inner is only taken while consuming the AsyncFd"),
        };
        registration.async_io(interest, || f(inner)).await
    }

    /// Tries to read or write from the file descriptor using a user-provided IO operation,
    /// without waiting.
    ///
    /// If the fd is not known to be ready for `interest`, returns `WouldBlock` without calling
    /// `f`. If `f` returns `WouldBlock`, the readiness is cleared. Otherwise `f`'s result is
    /// returned.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, || f(self.get_ref()))
    }

    /// Like [`AsyncFd::try_io`], but `f` gets mutable access to the inner object.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let AsyncFd {
            registration,
            inner,
        } = self;
        let inner = match inner {
            Some(inner) => inner,
            None => unreachable!("AsyncFd inner is only taken while consuming the AsyncFd"),
        };
        registration.try_io(interest, || f(inner))
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd belongs to `inner`, which this `AsyncFd` owns, so it stays open for the
        // lifetime of the returned borrow (`&self`).
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl<T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // Deregister before `inner` (and with it, usually, the fd) is dropped.
        drop(self.take_inner());
    }
}

impl<'a, Inner: AsRawFd> AsyncFdReadyGuard<'a, Inner> {
    /// Indicates to corio that the file descriptor is no longer ready. All internal readiness
    /// flags that this guard observed will be cleared, and the next poll will wait for a new
    /// readiness event — unless one arrived after the guard was created, which is kept.
    ///
    /// Call this after an operation returned `WouldBlock`.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Indicates to corio that the file descriptor no longer has the given readiness (e.g.
    /// only `Ready::READABLE` after a read returned `WouldBlock` on an fd polled for both).
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        if let Some(mut event) = self.event.take() {
            self.async_fd.registration.clear_readiness(ReadyEvent {
                ready: event.ready & ready,
                tick: event.tick,
            });
            event.ready = event.ready - ready;
            if !event.ready.is_empty() {
                self.event = Some(event);
            }
        }
    }

    /// This method should be invoked when you intentionally want to keep the ready flag
    /// asserted. While this function is itself a no-op, it satisfies the `#[must_use]`
    /// constraint on the guard.
    pub fn retain_ready(&mut self) {
        // Nothing to do: dropping the guard without clearing keeps the readiness.
    }

    /// Get the [`Ready`] value associated with this guard (empty once cleared).
    pub fn ready(&self) -> Ready {
        match &self.event {
            Some(event) => event.ready,
            None => Ready::EMPTY,
        }
    }

    /// Performs the provided IO operation.
    ///
    /// If `f` returns a `WouldBlock` error, the readiness state associated with this guard is
    /// cleared and `Err(TryIoError)` is returned; otherwise `Ok(f's result)` is returned.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<Inner>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// Returns a shared reference to the inner [`AsyncFd`].
    pub fn get_ref(&self) -> &'a AsyncFd<Inner> {
        self.async_fd
    }

    /// Returns a shared reference to the backing object of the inner [`AsyncFd`].
    pub fn get_inner(&self) -> &'a Inner {
        self.async_fd.get_ref()
    }
}

impl<'a, Inner: AsRawFd> AsyncFdReadyMutGuard<'a, Inner> {
    /// Indicates to corio that the file descriptor is no longer ready (see
    /// [`AsyncFdReadyGuard::clear_ready`]).
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.registration.clear_readiness(event);
        }
    }

    /// Indicates to corio that the file descriptor no longer has the given readiness.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        if let Some(mut event) = self.event.take() {
            self.async_fd.registration.clear_readiness(ReadyEvent {
                ready: event.ready & ready,
                tick: event.tick,
            });
            event.ready = event.ready - ready;
            if !event.ready.is_empty() {
                self.event = Some(event);
            }
        }
    }

    /// Keeps the ready flag asserted; a no-op that satisfies the `#[must_use]` constraint.
    pub fn retain_ready(&mut self) {
        // Nothing to do: dropping the guard without clearing keeps the readiness.
    }

    /// Get the [`Ready`] value associated with this guard (empty once cleared).
    pub fn ready(&self) -> Ready {
        match &self.event {
            Some(event) => event.ready,
            None => Ready::EMPTY,
        }
    }

    /// Performs the provided IO operation; clears readiness and returns `Err(TryIoError)` if
    /// it returned `WouldBlock`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<Inner>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// Returns a shared reference to the inner [`AsyncFd`].
    pub fn get_ref(&self) -> &AsyncFd<Inner> {
        self.async_fd
    }

    /// Returns a mutable reference to the inner [`AsyncFd`].
    pub fn get_mut(&mut self) -> &mut AsyncFd<Inner> {
        self.async_fd
    }

    /// Returns a shared reference to the backing object of the inner [`AsyncFd`].
    pub fn get_inner(&self) -> &Inner {
        self.async_fd.get_ref()
    }

    /// Returns a mutable reference to the backing object of the inner [`AsyncFd`].
    pub fn get_inner_mut(&mut self) -> &mut Inner {
        self.async_fd.get_mut()
    }
}

impl<'a, T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFdReadyGuard<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}

impl<'a, T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFdReadyMutGuard<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutReadyGuard")
            .field("async_fd", &self.async_fd)
            .finish()
    }
}

/// The error type returned by [`try_io`](AsyncFdReadyGuard::try_io): the operation would have
/// blocked, and the readiness has been cleared.
#[derive(Debug)]
pub struct TryIoError(());

/// Error returned by [`try_new`](AsyncFd::try_new) or
/// [`try_with_interest`](AsyncFd::try_with_interest): the registration failed, and the inner
/// object is handed back.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdTryNewError<T> {
    /// Returns the original object passed to [`AsyncFd::try_new`] along with the original
    /// cause error.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    fn from(value: AsyncFdTryNewError<T>) -> Self {
        value.cause
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::io::driver::test_util::{block_on, join_all, yield_now};
    use crate::io::driver::Driver;
    use std::future::Future;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::pin::Pin;

    /// A boxed, type-erased test future (for `join_all` over differently typed futures).
    type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

    #[test]
    fn readable_guard_try_io_and_clear() {
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let fd =
            AsyncFd::try_with_interest_and_handle(a, Interest::READABLE, handle.clone()).unwrap();

        let out = block_on(&mut driver, &handle, async {
            let reader = async {
                let mut got = Vec::new();
                while got.len() < 6 {
                    let mut guard = fd.readable().await?;
                    assert!(guard.ready().is_readable());
                    let mut buf = [0u8; 16];
                    match guard.try_io(|inner| inner.get_ref().read(&mut buf)) {
                        Ok(res) => got.extend_from_slice(&buf[..res?]),
                        Err(TryIoError(())) => {
                            assert!(guard.ready().is_empty(), "try_io cleared the guard");
                        }
                    }
                }
                io::Result::Ok(got)
            };
            let writer = async {
                yield_now().await;
                b.write_all(b"abc").unwrap();
                yield_now().await;
                b.write_all(b"def").unwrap();
                io::Result::Ok(Vec::new())
            };
            let futs: Vec<BoxFut<io::Result<Vec<u8>>>> = vec![Box::pin(reader), Box::pin(writer)];
            join_all(futs).await
        });
        assert_eq!(out[0].as_ref().unwrap(), b"abcdef");

        // Nothing buffered: `try_io` does not even call the closure once readiness is cleared.
        let mut buf = [0u8; 4];
        let r = fd.try_io(Interest::READABLE, |s| (&*s).read(&mut buf));
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        let r = fd.try_io(Interest::READABLE, |_| -> io::Result<()> {
            panic!("not ready")
        });
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);

        assert_eq!(handle.num_registered(), 1);
        let a = fd.into_inner();
        assert_eq!(handle.num_registered(), 0);
        drop(a);
    }

    #[test]
    fn writable_mut_and_async_io() {
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let mut fa = AsyncFd::try_with_interest_and_handle(
            a,
            Interest::READABLE | Interest::WRITABLE,
            handle.clone(),
        )
        .unwrap();
        let fb =
            AsyncFd::try_with_interest_and_handle(b, Interest::READABLE, handle.clone()).unwrap();
        block_on(&mut driver, &handle, async {
            let mut guard = fa.writable_mut().await.unwrap();
            assert!(guard.ready().is_writable());
            let n = guard.get_inner_mut().write(b"hello").unwrap();
            assert_eq!(n, 5);
            guard.retain_ready();
            drop(guard);
            let mut buf = [0u8; 8];
            let n = fb
                .async_io(Interest::READABLE, |s| (&*s).read(&mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"hello");
        });
    }

    #[test]
    fn registration_error_hands_back_inner() {
        let (_driver, handle) = Driver::new(8).unwrap();
        let handle = Arc::new(handle);
        // epoll refuses regular files (EPERM); the file must come back to the caller.
        let file =
            std::fs::File::open("/proc/self/exe").or_else(|_| std::fs::File::open("/bin/sh"));
        if let Ok(file) = file {
            match AsyncFd::try_with_interest_and_handle(file, Interest::READABLE, handle.clone()) {
                Ok(_) => {} // kqueue accepts regular files
                Err(e) => {
                    let (_file, cause) = e.into_parts();
                    assert_ne!(cause.kind(), io::ErrorKind::WouldBlock);
                }
            }
        }
        assert_eq!(handle.num_registered(), 0);
    }

    #[test]
    fn new_outside_runtime_is_an_error() {
        let (a, _b) = UnixStream::pair().unwrap();
        if crate::runtime::context::io_handle().is_err() {
            let err = AsyncFd::new(a).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Other);
        }
    }
}
