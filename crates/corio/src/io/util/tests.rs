//! Unit tests of the I/O utilities, run on a minimal single-threaded executor (no runtime).

use crate::io::{
    self, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt,
    BufReader, BufWriter, ReadBuf,
};
use std::future::Future;
use std::io::{Cursor, IoSlice, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Wakes the test thread; `block_on` parks between polls.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

type Task<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs several futures concurrently on the test thread until all complete.
fn join_all(tasks: Vec<Task<'_>>) {
    let mut tasks: Vec<Option<Task<'_>>> = tasks.into_iter().map(Some).collect();
    block_on(std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in tasks.iter_mut() {
            if let Some(task) = slot {
                if task.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }))
}

/// Polls two futures concurrently inside one task until both complete.
async fn join<A: Future<Output = ()>, B: Future<Output = ()>>(a: A, b: B) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut a_done, mut b_done) = (false, false);
    std::future::poll_fn(|cx| {
        if !a_done {
            a_done = a.as_mut().poll(cx).is_ready();
        }
        if !b_done {
            b_done = b.as_mut().poll(cx).is_ready();
        }
        if a_done && b_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Test double: accepts one byte per write and returns `Pending` every other call.
#[derive(Default)]
struct TrickleWriter {
    data: Vec<u8>,
    flushes: usize,
    toggle: bool,
}

impl AsyncWrite for TrickleWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.toggle = !self.toggle;
        if self.toggle {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match buf.first() {
            Some(&b) => {
                self.data.push(b);
                Poll::Ready(Ok(1))
            }
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// Test double: a reader serving scripted chunks; `None` entries return `Pending` once.
struct ScriptedReader {
    script: Vec<Option<&'static [u8]>>,
    reads: usize,
}

impl ScriptedReader {
    fn new(mut script: Vec<Option<&'static [u8]>>) -> Self {
        script.reverse();
        ScriptedReader { script, reads: 0 }
    }
}

impl AsyncRead for ScriptedReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.reads += 1;
        match self.script.pop() {
            None => Poll::Ready(Ok(())),
            Some(None) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Some(chunk)) => {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.script.push(Some(&chunk[n..]));
                }
                Poll::Ready(Ok(()))
            }
        }
    }
}

#[test]
fn read_exact_reports_unexpected_eof() {
    block_on(async {
        let mut src: &[u8] = b"abc";
        let mut buf = [0u8; 4];
        let err = src.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        let mut src = ScriptedReader::new(vec![Some(b"ab"), None, Some(b"cd")]);
        assert_eq!(src.read_exact(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf, b"abcd");
    })
}

#[test]
fn read_to_end_and_to_string() {
    block_on(async {
        let mut src = ScriptedReader::new(vec![Some(b"hello "), None, Some(b"world")]);
        let mut out = b">".to_vec();
        assert_eq!(src.read_to_end(&mut out).await.unwrap(), 11);
        assert_eq!(out, b">hello world");

        let mut s = String::from("x");
        let mut src: &[u8] = "ünï".as_bytes();
        assert_eq!(src.read_to_string(&mut s).await.unwrap(), 5);
        assert_eq!(s, "xünï");

        let mut bad: &[u8] = &[b'o', b'k', 0xff];
        let err = bad.read_to_string(&mut s).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(s, "xünï", "buf unchanged on invalid UTF-8");
    })
}

#[test]
fn integers_round_trip() {
    block_on(async {
        let mut out = Vec::new();
        out.write_u8(1).await.unwrap();
        out.write_u16(0x0203).await.unwrap();
        out.write_u32_le(0x0708_0906).await.unwrap();
        out.write_i64(-2).await.unwrap();
        out.write_f64_le(1.5).await.unwrap();
        out.write_i128(-1).await.unwrap();
        assert_eq!(&out[..7], &[1, 2, 3, 6, 9, 8, 7]);
        let mut src = &out[..];
        assert_eq!(src.read_u8().await.unwrap(), 1);
        assert_eq!(src.read_u16().await.unwrap(), 0x0203);
        assert_eq!(src.read_u32_le().await.unwrap(), 0x0708_0906);
        assert_eq!(src.read_i64().await.unwrap(), -2);
        assert_eq!(src.read_f64_le().await.unwrap(), 1.5);
        assert_eq!(src.read_i128().await.unwrap(), -1);
        assert_eq!(
            src.read_u8().await.unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    })
}

#[test]
fn lines_split_and_read_line() {
    block_on(async {
        let src = ScriptedReader::new(vec![Some(b"one\r\ntw"), None, Some(b"o\n\nthree")]);
        let mut lines = BufReader::with_capacity(4, src).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "", "three"]);

        let mut segments = AsyncBufReadExt::split(&b"a,b,,c,"[..], b',');
        let mut got = Vec::new();
        while let Some(seg) = segments.next_segment().await.unwrap() {
            got.push(seg);
        }
        assert_eq!(got, [&b"a"[..], b"b", b"", b"c"]);

        let mut src: &[u8] = b"first\nsecond";
        let mut line = String::new();
        assert_eq!(src.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(src.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(src.read_line(&mut line).await.unwrap(), 0);
        assert_eq!(line, "first\nsecond");

        let mut bad: &[u8] = b"\xff\n";
        let err = bad.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(line, "first\nsecond");

        let mut src: &[u8] = b"abc";
        let mut until = Vec::new();
        assert_eq!(src.read_until(b'b', &mut until).await.unwrap(), 2);
        assert_eq!(src.fill_buf().await.unwrap(), b"c");
        AsyncBufReadExt::consume(&mut src, 1);
        assert_eq!(src.fill_buf().await.unwrap(), b"");
    })
}

#[test]
fn buf_reader_buffers_small_reads_and_bypasses_large_ones() {
    block_on(async {
        let src = ScriptedReader::new(vec![Some(b"abcdefgh"), Some(b"0123456789")]);
        let mut reader = BufReader::with_capacity(4, src);
        let mut two = [0u8; 2];
        reader.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ab");
        assert_eq!(reader.buffer(), b"cd");
        reader.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"cd");
        assert_eq!(reader.get_ref().reads, 1, "served from the buffer");
        // Empty buffer and a read at least as large as it: goes straight to the inner reader.
        let mut big = [0u8; 8];
        let n = reader.read(&mut big).await.unwrap();
        assert_eq!(&big[..n], b"efgh");
        assert!(reader.buffer().is_empty());
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"0123456789");
    })
}

#[test]
fn buf_writer_buffers_until_flush() {
    block_on(async {
        let mut writer = BufWriter::with_capacity(8, Vec::new());
        writer.write_all(b"abc").await.unwrap();
        assert!(writer.get_ref().is_empty());
        assert_eq!(writer.buffer(), b"abc");
        writer.write_all(b"defghi").await.unwrap();
        assert_eq!(writer.get_ref(), b"abc", "flushed before overflowing");
        writer.flush().await.unwrap();
        assert_eq!(writer.get_ref(), b"abcdefghi");
        // Larger than the buffer: written through.
        writer.write_all(b"0123456789").await.unwrap();
        assert_eq!(writer.get_ref().len(), 19);
        let n = writer
            .write_vectored(&[IoSlice::new(b"xy"), IoSlice::new(b"z")])
            .await
            .unwrap();
        assert_eq!(n, 3);
        writer.shutdown().await.unwrap();
        assert_eq!(writer.into_inner(), b"abcdefghi0123456789xyz");

        // A trickling inner writer: flush completes across Pending and partial writes.
        let mut writer = BufWriter::with_capacity(16, TrickleWriter::default());
        writer.write_all(b"slowly").await.unwrap();
        writer.flush().await.unwrap();
        assert_eq!(writer.get_ref().data, b"slowly");
    })
}

#[test]
fn copy_handles_partial_writes() {
    block_on(async {
        let data: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
        let mut src = &data[..];
        let mut dst = TrickleWriter::default();
        assert_eq!(io::copy(&mut src, &mut dst).await.unwrap(), 20_000);
        assert_eq!(dst.data, data);
        assert!(dst.flushes >= 1, "flushed at end of file");

        let mut src = BufReader::with_capacity(7, &data[..]);
        let mut dst = TrickleWriter::default();
        assert_eq!(io::copy_buf(&mut src, &mut dst).await.unwrap(), 20_000);
        assert_eq!(dst.data, data);
    })
}

#[test]
fn copy_flushes_when_reader_is_pending() {
    let mut src = ScriptedReader::new(vec![Some(b"abc"), None, Some(b"def")]);
    let mut dst = BufWriter::new(Vec::new());
    {
        let fut = io::copy(&mut src, &mut dst);
        let mut fut = std::pin::pin!(fut);
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        // (the reader is Pending; copy must have flushed "abc" out of the BufWriter)
        assert_eq!(block_on(fut).unwrap(), 6);
    }
    assert_eq!(dst.get_ref(), b"abcdef");

    let mut src = ScriptedReader::new(vec![Some(b"abc"), None]);
    let mut dst = BufWriter::new(Vec::new());
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let fut = io::copy(&mut src, &mut dst);
    let mut fut = Box::pin(fut);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    drop(fut);
    assert_eq!(
        dst.get_ref(),
        b"abc",
        "data reached the inner writer while waiting"
    );
}

#[test]
fn copy_bidirectional_over_duplex_pairs() {
    let (mut client, mut proxy_a) = io::duplex(64);
    let (mut proxy_b, server) = io::duplex(16);
    let payload: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let mut proxied = None;
    let mut echoed = Vec::new();
    join_all(vec![
        Box::pin(async {
            proxied = Some(
                io::copy_bidirectional(&mut proxy_a, &mut proxy_b)
                    .await
                    .unwrap(),
            );
        }),
        Box::pin(async move {
            // Echo server: everything it reads goes back; then it shuts down its side.
            let (mut rd, mut wr) = io::split(server);
            io::copy(&mut rd, &mut wr).await.unwrap();
            wr.shutdown().await.unwrap();
        }),
        Box::pin(async {
            let (mut rd, mut wr) = io::split(&mut client);
            let write = async {
                wr.write_all(&payload).await.unwrap();
                wr.shutdown().await.unwrap();
            };
            let read = async {
                rd.read_to_end(&mut echoed).await.unwrap();
            };
            join(write, read).await;
        }),
    ]);
    assert_eq!(echoed, payload);
    assert_eq!(proxied, Some((5000, 5000)));
}

#[test]
fn duplex_backpressure_and_close() {
    block_on(async {
        let (mut a, mut b) = io::duplex(4);
        assert_eq!(a.write(b"0123456789").await.unwrap(), 4);
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        assert!(
            Pin::new(&mut a).poll_write(&mut cx, b"x").is_pending(),
            "full"
        );
        let mut buf = [0u8; 3];
        assert_eq!(b.read(&mut buf).await.unwrap(), 3);
        assert_eq!(a.write(b"456789").await.unwrap(), 3);
        drop(a);
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"3456");
        let err = b.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    })
}

#[test]
fn split_and_unsplit() {
    let (one, _two) = io::duplex(8);
    let (other, _three) = io::duplex(8);
    let (rd, wr) = io::split(one);
    let (rd2, wr2) = io::split(other);
    assert!(rd.is_pair_of(&wr));
    assert!(wr.is_pair_of(&rd));
    assert!(!rd.is_pair_of(&wr2));
    let _one = rd.unsplit(wr);
    let _other = rd2.unsplit(wr2);
}

#[test]
#[should_panic]
fn unsplit_unrelated_halves_panics() {
    let (rd, _) = io::split(io::duplex(8).0);
    let (_, wr) = io::split(io::duplex(8).0);
    let _ = rd.unsplit(wr);
}

#[test]
fn take_chain_empty_sink_repeat() {
    block_on(async {
        let mut out = String::new();
        let reader = (&b"hello"[..]).chain(&b" world"[..]).take(8);
        let mut reader = reader;
        reader.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "hello wo");
        assert_eq!(reader.limit(), 0);

        let mut buf = [7u8; 4];
        assert_eq!(io::empty().read(&mut buf).await.unwrap(), 0);
        assert_eq!(io::sink().write(b"abc").await.unwrap(), 3);
        io::repeat(b'z').read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"zzzz");
        let mut limited = Vec::new();
        io::repeat(1)
            .take(10)
            .read_to_end(&mut limited)
            .await
            .unwrap();
        assert_eq!(limited, [1; 10]);

        let mut buffered = BufReader::new(&b"abcdef"[..]).take(4);
        assert_eq!(buffered.fill_buf().await.unwrap(), b"abcd");
        AsyncBufReadExt::consume(&mut buffered, 3);
        assert_eq!(buffered.fill_buf().await.unwrap(), b"d");
    })
}

#[test]
fn seek_cursor_and_buf_reader() {
    block_on(async {
        let mut cursor = Cursor::new(b"0123456789".to_vec());
        assert_eq!(cursor.seek(SeekFrom::End(-3)).await.unwrap(), 7);
        assert_eq!(cursor.read_u8().await.unwrap(), b'7');
        assert_eq!(cursor.rewind().await.unwrap(), 0);

        let mut reader = BufReader::with_capacity(4, Cursor::new(b"0123456789".to_vec()));
        assert_eq!(reader.read_u8().await.unwrap(), b'0');
        assert_eq!(reader.stream_position().await.unwrap(), 1);
        assert_eq!(reader.seek(SeekFrom::Current(2)).await.unwrap(), 3);
        assert_eq!(reader.read_u8().await.unwrap(), b'3');
    })
}

#[test]
fn vec_and_cursor_writers() {
    block_on(async {
        let mut storage = [0u8; 4];
        let mut cursor = Cursor::new(&mut storage[..]);
        assert_eq!(cursor.write(b"abcdef").await.unwrap(), 4);
        assert_eq!(cursor.write(b"g").await.unwrap(), 0);
        let err = cursor.write_all(b"g").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(&storage, b"abcd");
    })
}
