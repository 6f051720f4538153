//! `PollEvented`: a mio source registered with the I/O driver — the building block of every
//! socket type in `corio::net`.
//!
//! It owns the source and its [`Registration`], gives read access to the source (`Deref`), and
//! implements `poll_read` on top of the readiness protocol (writers call
//! `Registration::poll_write_io` with their own syscall, e.g. `send` with `MSG_NOSIGNAL`).
//! Dropping it (or `into_inner`) deregisters the source from the OS queue *before* the source is closed.

use std::fmt;
use std::io::{self, Read};
use std::ops::Deref;
use std::task::{Context, Poll};

use crate::io::driver::ReadyEvent;
use crate::io::driver::{Handle, Registration};
use crate::io::{Interest, ReadBuf, Ready};
use std::sync::Arc;

/// Whether a short stream read proves the receive queue drained and may clear the read
/// readiness (epoll and kqueue platforms; see [`PollEvented::poll_read`]).
pub(crate) const SHORT_READ_DRAINS: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
));

/// A mio source plus its registration with the I/O driver.
pub(crate) struct PollEvented<E: mio::event::Source> {
    /// `None` only after `into_inner` took it out (then `drop` has nothing to deregister).
    io: Option<E>,
    registration: Registration,
}

impl<E: mio::event::Source> PollEvented<E> {
    /// Registers `io` with the current runtime for readable and writable events.
    pub(crate) fn new(io: E) -> io::Result<Self> {
        PollEvented::new_with_interest(io, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `io` with the current runtime for `interest`.
    pub(crate) fn new_with_interest(io: E, interest: Interest) -> io::Result<Self> {
        let handle = crate::runtime::context::io_handle()?;
        PollEvented::new_with_interest_and_handle(io, interest, handle)
    }

    /// Registers `io` with the driver behind `handle` for `interest`.
    pub(crate) fn new_with_interest_and_handle(
        mut io: E,
        interest: Interest,
        handle: Arc<Handle>,
    ) -> io::Result<Self> {
        let registration = Registration::new_with_interest_and_handle(&mut io, interest, handle)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    /// The source's registration (readiness polling, `try_io`, `async_io`, ...).
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters the source and returns it.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = match self.io.take() {
            Some(io) => io,
            // Unreachable: `io` is only taken here, and `self` is consumed.
            None => return Err(io::Error::other("source already taken")),
        };
        self.registration.deregister(&mut io)?;
        Ok(io)
    }

    fn source(&self) -> &E {
        match &self.io {
            Some(io) => io,
            // `io` is `Some` for the whole life of a `PollEvented` reachable by `&self`; it is
            // only taken in `into_inner` (which consumes `self`) and `drop`.
            None => unreachable!("PollEvented source used after into_inner"),
        }
    }

    /// One `read` into `dst` against the read readiness `event` observed before it: clears
    /// `event` when the read would block and, on the epoll/kqueue platforms, after a short
    /// read (`0 < n < dst.len()`).
    ///
    /// Only stream sources (TCP and Unix streams) read through this, so a short read means the
    /// kernel's receive queue was empty when the read returned: the next read then waits for
    /// the driver's next event instead of paying a `read` that could only fail with `EAGAIN`
    /// (one syscall per message in request/response traffic). Clearing is tick-guarded, so
    /// data that arrives after the read brings a newer event that is kept; it never clears the
    /// closed states (end of stream after a short read is still seen) nor the error state.
    /// Known exceptions, shared with tokio, where the kernel stops a read early with bytes
    /// still queued and no new event follows: TCP urgent data without `SO_OOBINLINE`, and a
    /// Unix stream message carrying file descriptors. Not on Windows, where mio re-arms its
    /// one-shot poll only after a read returned `WouldBlock`.
    fn read_against<'a>(&'a self, event: ReadyEvent, dst: &mut [u8]) -> io::Result<usize>
    where
        &'a E: Read + 'a,
    {
        let asked = dst.len();
        let mut io = self.source();
        match io.read(dst) {
            Ok(n) => {
                if SHORT_READ_DRAINS && n > 0 && n < asked {
                    self.registration.clear_readiness(ReadyEvent {
                        ready: event.ready - Ready::ERROR,
                        tick: event.tick,
                    });
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::WouldBlock {
                    self.registration.clear_readiness(event);
                }
                Err(e)
            }
        }
    }

    /// Reads without waiting: `WouldBlock` (and no syscall) when the cached readiness says the
    /// source is not readable, else one `read` (see [`PollEvented::read_against`]).
    pub(crate) fn try_read<'a>(&'a self, dst: &mut [u8]) -> io::Result<usize>
    where
        &'a E: Read + 'a,
    {
        let event = self.registration.ready_event(Interest::READABLE)?;
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.read_against(event, dst)
    }

    /// Reads into `buf` when the source is readable, waiting (reserved read slot) otherwise
    /// (see [`PollEvented::read_against`] for when the readiness is cleared).
    pub(crate) fn poll_read<'a>(
        &'a self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>
    where
        &'a E: Read + 'a,
    {
        // Zeroes only the not-yet-initialised part, once per buffer, so no uninitialised
        // memory is ever handed to `read` as `&mut [u8]`.
        let dst = buf.initialize_unfilled();
        loop {
            let event = match self.registration.poll_read_ready(cx) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match self.read_against(event, dst) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl<E: mio::event::Source> Deref for PollEvented<E> {
    type Target = E;

    fn deref(&self) -> &E {
        self.source()
    }
}

impl<E: mio::event::Source + fmt::Debug> fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollEvented").field("io", &self.io).finish()
    }
}

impl<E: mio::event::Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregister before `io` is closed (dropped at the end of this scope). A failure
            // only means the driver keeps this source's state until it is dropped.
            let _ = self.registration.deregister(&mut io);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::io::driver::test_util::{block_on, join_all, yield_now};
    use crate::io::driver::Driver;
    use std::future::{poll_fn, Future};
    use std::pin::Pin;

    /// A boxed, type-erased test future (for `join_all` over differently typed futures).
    type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

    async fn read_some<E: mio::event::Source>(
        io: &PollEvented<E>,
        buf: &mut [u8],
    ) -> io::Result<usize>
    where
        for<'a> &'a E: Read,
    {
        let mut rb = ReadBuf::new(buf);
        poll_fn(|cx| io.poll_read(cx, &mut rb)).await?;
        Ok(rb.filled().len())
    }

    async fn write_all(io: &PollEvented<mio::net::TcpStream>, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            // Writers go through `poll_write_io` with their own syscall, as the net types do.
            let n = poll_fn(|cx| {
                io.registration().poll_write_io(cx, || {
                    let mut s: &mio::net::TcpStream = io;
                    std::io::Write::write(&mut s, buf)
                })
            })
            .await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// TCP echo through PollEvented: accept via `async_io`, reads and writes via the reserved
    /// slots, a payload large enough to fill the socket buffers so both sides really wait.
    #[test]
    fn tcp_echo_end_to_end() {
        let (mut driver, handle) = Driver::new(256).unwrap();
        let handle = Arc::new(handle);
        let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener =
            PollEvented::new_with_interest_and_handle(listener, Interest::READABLE, handle.clone())
                .unwrap();
        let client = mio::net::TcpStream::connect(addr).unwrap();
        let client = PollEvented::new_with_interest_and_handle(
            client,
            Interest::READABLE | Interest::WRITABLE,
            handle.clone(),
        )
        .unwrap();

        const LEN: usize = 4 << 20;
        let payload: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();

        let server = async {
            let (stream, _) = listener
                .registration()
                .async_io(Interest::READABLE, || listener.accept())
                .await?;
            let stream = PollEvented::new_with_interest_and_handle(
                stream,
                Interest::READABLE | Interest::WRITABLE,
                handle.clone(),
            )?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut echoed = 0;
            loop {
                let n = read_some(&stream, &mut buf).await?;
                if n == 0 {
                    return io::Result::Ok(echoed);
                }
                write_all(&stream, &buf[..n]).await?;
                echoed += n;
            }
        };
        let client_fut = async {
            let writer = async {
                write_all(&client, &payload).await?;
                client.shutdown(std::net::Shutdown::Write)?;
                io::Result::Ok(0usize)
            };
            let reader = async {
                let mut got = Vec::with_capacity(LEN);
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = read_some(&client, &mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                assert!(got == payload, "echoed bytes differ");
                io::Result::Ok(got.len())
            };
            let futs: Vec<BoxFut<io::Result<usize>>> = vec![Box::pin(writer), Box::pin(reader)];
            join_all(futs).await
        };
        let futs: Vec<BoxFut<io::Result<Vec<usize>>>> = vec![
            Box::pin(async { server.await.map(|n| vec![n]) }),
            Box::pin(async { client_fut.await.into_iter().collect::<io::Result<Vec<_>>>() }),
        ];
        let results = block_on(&mut driver, &handle, join_all(futs));
        assert_eq!(results[0].as_ref().unwrap(), &vec![LEN]);
        assert_eq!(results[1].as_ref().unwrap(), &vec![0, LEN]);

        drop((listener, client));
        assert_eq!(handle.num_registered(), 0, "drop deregisters");
    }

    /// 100 tasks wait in `recv_from` on one UDP socket; 100 datagrams serve all of them.
    #[test]
    fn udp_hundred_waiters_on_one_socket() {
        let (mut driver, handle) = Driver::new(256).unwrap();
        let handle = Arc::new(handle);
        let sock = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = sock.local_addr().unwrap();
        let sock =
            PollEvented::new_with_interest_and_handle(sock, Interest::READABLE, handle.clone())
                .unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();

        let recvs: Vec<BoxFut<io::Result<u8>>> = (0..100)
            .map(|_| {
                let sock = &sock;
                Box::pin(async move {
                    let mut buf = [0u8; 16];
                    let (n, _) = sock
                        .registration()
                        .async_io(Interest::READABLE, || sock.recv_from(&mut buf))
                        .await?;
                    assert_eq!(n, 1);
                    Ok(buf[0])
                }) as BoxFut<io::Result<u8>>
            })
            .collect();
        let send = async {
            // Let all 100 receivers link their waiters first.
            yield_now().await;
            for i in 0..100u8 {
                sender.send_to(&[i], addr).unwrap();
            }
            Ok(255)
        };
        let futs: Vec<BoxFut<io::Result<Vec<u8>>>> = vec![
            Box::pin(async { join_all(recvs).await.into_iter().collect() }),
            Box::pin(async { send.await.map(|v| vec![v]) }),
        ];
        let results = block_on(&mut driver, &handle, join_all(futs));
        let mut got = results[0].as_ref().unwrap().clone();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<u8>>());
    }

    #[test]
    fn shutdown_fails_pending_and_new_operations() {
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let sock = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let sock =
            PollEvented::new_with_interest_and_handle(sock, Interest::READABLE, handle.clone())
                .unwrap();
        let h2 = handle.clone();
        let result = block_on(&mut driver, &handle, async {
            let recv = async {
                let mut buf = [0u8; 4];
                sock.registration()
                    .async_io(Interest::READABLE, || sock.recv_from(&mut buf))
                    .await
                    .map(|_| ())
            };
            let stop = async {
                yield_now().await;
                h2.shutdown();
                Ok(())
            };
            let futs: Vec<BoxFut<io::Result<()>>> = vec![Box::pin(recv), Box::pin(stop)];
            join_all(futs).await
        });
        let err = result[0].as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("shut down"));
        let again = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(PollEvented::new_with_interest_and_handle(
            again,
            Interest::READABLE,
            handle.clone()
        )
        .is_err());
        assert!(sock
            .registration()
            .try_io(Interest::READABLE, || Ok(()))
            .is_err());
    }

    /// The futures of the readiness protocol must be `Send` so tasks holding them can be
    /// spawned on the multi-threaded runtime.
    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let (_driver, handle) = Driver::new(8).unwrap();
        let handle = Arc::new(handle);
        let sock = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let ev =
            PollEvented::new_with_interest_and_handle(sock, Interest::READABLE, handle).unwrap();
        let reg = ev.registration();
        assert_send(&reg.readiness(Interest::READABLE));
        let mut buf = [0u8; 4];
        assert_send(&reg.async_io(Interest::READABLE, || ev.recv_from(&mut buf)));
        fn assert_sync<T: Sync>() {}
        assert_sync::<PollEvented<mio::net::UdpSocket>>();
    }

    #[test]
    fn into_inner_deregisters() {
        let (_driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let sock = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let ev =
            PollEvented::new_with_interest_and_handle(sock, Interest::READABLE, handle.clone())
                .unwrap();
        assert_eq!(handle.num_registered(), 1);
        let sock = ev.into_inner().unwrap();
        assert_eq!(handle.num_registered(), 0);
        drop(sock);
    }

    /// A Unix stream that counts the `read` syscalls made through it.
    #[cfg(unix)]
    struct CountedReads {
        inner: mio::net::UnixStream,
        reads: std::sync::atomic::AtomicUsize,
    }

    #[cfg(unix)]
    impl mio::event::Source for CountedReads {
        fn register(
            &mut self,
            registry: &mio::Registry,
            token: mio::Token,
            interests: mio::Interest,
        ) -> io::Result<()> {
            self.inner.register(registry, token, interests)
        }
        fn reregister(
            &mut self,
            registry: &mio::Registry,
            token: mio::Token,
            interests: mio::Interest,
        ) -> io::Result<()> {
            self.inner.reregister(registry, token, interests)
        }
        fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
            self.inner.deregister(registry)
        }
    }

    #[cfg(unix)]
    impl Read for &CountedReads {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (&self.inner).read(buf)
        }
    }

    /// A short read means the stream is drained: the next `poll_read` waits for the next event
    /// without a `read` syscall; data sent afterwards is still delivered, and end of stream
    /// after a short read is still seen.
    #[cfg(unix)]
    #[test]
    fn short_read_clears_readiness_without_losing_data_or_eof() {
        use std::io::Write;
        use std::sync::atomic::Ordering::Relaxed;
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let (ours, mut peer) = mio::net::UnixStream::pair().unwrap();
        let io = PollEvented::new_with_interest_and_handle(
            CountedReads {
                inner: ours,
                reads: Default::default(),
            },
            Interest::READABLE,
            handle.clone(),
        )
        .unwrap();
        let mut buf = [0u8; 64];
        peer.write_all(b"hello").unwrap();
        let n = block_on(&mut driver, &handle, read_some(&io, &mut buf)).unwrap();
        assert_eq!(&buf[..n], b"hello");
        let reads = io.reads.load(Relaxed);

        // Drained: one more poll is Pending and makes no syscall.
        let again = block_on(&mut driver, &handle, async {
            let mut rb = ReadBuf::new(&mut buf);
            poll_fn(|cx| Poll::Ready(io.poll_read(cx, &mut rb).is_pending())).await
        });
        assert!(again, "nothing to read yet");
        assert_eq!(
            io.reads.load(Relaxed),
            reads,
            "a drained stream costs no read"
        );

        // New data wakes the reader; then data + end of stream after a short read.
        peer.write_all(b"world").unwrap();
        let n = block_on(&mut driver, &handle, read_some(&io, &mut buf)).unwrap();
        assert_eq!(&buf[..n], b"world");
        peer.write_all(b"bye").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        loop {
            let n = block_on(&mut driver, &handle, read_some(&io, &mut buf)).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"bye");
    }

    /// Every platform (Windows included, where a short read must not clear readiness): after
    /// a short read, later data and end of stream still reach the reader over TCP.
    #[test]
    fn tcp_short_reads_then_more_data_then_eof() {
        use std::io::Write;
        let (mut driver, handle) = Driver::new(64).unwrap();
        let handle = Arc::new(handle);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let io = PollEvented::new_with_interest_and_handle(
            mio::net::TcpStream::from_std(ours),
            Interest::READABLE,
            handle.clone(),
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        for word in [&b"one"[..], b"two", b"three"] {
            peer.write_all(word).unwrap();
            let mut have = 0;
            while have < word.len() {
                let n = block_on(&mut driver, &handle, read_some(&io, &mut buf)).unwrap();
                assert!(n > 0 && n < buf.len(), "a short read");
                got.extend_from_slice(&buf[..n]);
                have += n;
            }
        }
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(
            block_on(&mut driver, &handle, read_some(&io, &mut buf)).unwrap(),
            0
        );
        assert_eq!(got, b"onetwothree");
    }
}
