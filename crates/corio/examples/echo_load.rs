//! The load client of the echo benchmarks (`npm run bench`, driven by `bench/echo.ts`).
//!
//! One `mio` event loop per thread (one thread unless told), non-blocking sockets: the client
//! costs a few syscalls per message and never blocks on one connection while others are ready, so on a 2-core machine it
//! stays cheaper than any server it measures (a Node client would pay the same JS costs as the
//! servers under test and become the bottleneck). It runs in its own process so its CPU time is
//! never charged to a server. No pipelining: each connection has at most one request in flight
//! in the request/response workloads.
//!
//! ```text
//! echo_load <port> <workload> <seconds> [connections] [size] [threads] [reads]
//!   rr    request/response: each connection writes `size` bytes, reads them back, repeats
//!         (workload (a) is `rr` with 1 connection and 64 B, (b) 64 connections and 1 KiB)
//!   bulk  streaming: each connection writes `size`-byte chunks while at most 4 chunks are
//!         un-echoed, and reads the echo concurrently (workload (c): 1 connection, 64 KiB)
//!   threads: load threads (default 1), each with its own event loop and a share of the
//!         connections (for (b), which one client thread cannot saturate)
//!   reads: when `rr` reads a response (default `event`):
//!     event  after writing a request, wait for the socket's readiness event before reading,
//!            as event-driven clients do (libuv/Node, tokio, wrk): a read that returned less
//!            than the buffer drained the socket, so the response's arrival is a new edge.
//!            Every server then costs the client one `recv` and one `send` per message (for
//!            responses shorter than the 64 KiB read buffer); `epoll_wait`s per message still
//!            differ with how the server's answers bunch up.
//!     eager  read right after writing. The read fails with `EAGAIN` when the response is not
//!            there yet — nearly always against an event-loop server, but often not against a
//!            thread-per-connection server co-located on a small machine, whose thread the
//!            write wakes and which answers first; so the client's CPU per message depends on
//!            the server's model (up to one extra `recv` per message).
//! ```
//! A warm-up of 20% of `seconds` (at most 1 s) runs first and is not in `ops`. Prints one JSON
//! line: `{"ops":…,"bytes":…,"secs":…,"totalOps":…,"cpuTicks":…}` (`ops`/`bytes` over the
//! measured window, `totalOps` over the whole run including warm-up and the final drain, for CPU
//! per message; `cpuTicks`: this process's utime + stime in clock ticks from /proc/self/stat,
//! `null` where there is none — on a small machine the client's CPU per message decides how
//! much CPU is left to the server).
//! Loopback only (127.0.0.1).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Rr,
    Bulk,
}

struct Conn {
    s: TcpStream,
    /// rr: bytes of the current request written; bulk: total bytes written.
    written: usize,
    /// rr: bytes of the current response read; bulk: total bytes read.
    read: usize,
    writing: bool,
    done: bool,
    /// The last read returned less than the buffer: the socket was empty then, so data that
    /// arrives later raises a new readiness event.
    drained: bool,
}

struct Load {
    mode: Mode,
    size: usize,
    window: usize,
    out: Vec<u8>,
    inb: Vec<u8>,
    /// Completed messages (rr: round trips; bulk: echoed chunks, counted by bytes).
    ops: u64,
    bytes: u64,
    /// `rr` with `reads = eager`: read right after each request is written.
    eager_reads: bool,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Load {
    /// Makes all the progress the socket allows; returns Err on a connection failure.
    fn drive(&mut self, c: &mut Conn, stopping: bool) -> io::Result<()> {
        match self.mode {
            Mode::Rr => loop {
                if c.writing && !stopping {
                    match c.s.write(&self.out[c.written..self.size]) {
                        Ok(n) => {
                            c.written += n;
                            if c.written == self.size {
                                c.writing = false;
                                c.read = 0;
                                if !self.eager_reads && c.drained {
                                    // The response's arrival will be an event.
                                    return Ok(());
                                }
                            }
                        }
                        Err(e) if would_block(&e) => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                } else {
                    match c.s.read(&mut self.inb) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => {
                            c.drained = n < self.inb.len();
                            c.read += n;
                            self.bytes += n as u64;
                            if !c.writing && c.read >= self.size {
                                self.ops += 1;
                                c.writing = true;
                                c.written = 0;
                            }
                        }
                        Err(e) if would_block(&e) => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            },
            Mode::Bulk => loop {
                let mut progressed = false;
                while !stopping && c.written - c.read < self.window {
                    let off = c.written % self.size;
                    match c.s.write(&self.out[off..self.size]) {
                        Ok(n) => {
                            c.written += n;
                            progressed = true;
                        }
                        Err(e) if would_block(&e) => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                loop {
                    match c.s.read(&mut self.inb) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => {
                            let before = c.read / self.size;
                            c.read += n;
                            self.bytes += n as u64;
                            self.ops += (c.read / self.size - before) as u64;
                            progressed = true;
                        }
                        Err(e) if would_block(&e) => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if !progressed {
                    return Ok(());
                }
            },
        }
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("echo_load: {e}");
        std::process::exit(1);
    }
}

fn arg<T: std::str::FromStr>(
    args: &[String],
    i: usize,
    name: &str,
    default: Option<T>,
) -> io::Result<T> {
    match args.get(i) {
        Some(s) => s
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {name}: {s}"))),
        None => default
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("missing {name}"))),
    }
}

fn run() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = arg(&args, 1, "port", None)?;
    let mode = match args.get(2).map(String::as_str) {
        Some("rr") => Mode::Rr,
        Some("bulk") => Mode::Bulk,
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("workload must be rr or bulk, got {other:?}"),
            ))
        }
    };
    let secs: f64 = arg(&args, 3, "seconds", None)?;
    let nconn: usize = arg(&args, 4, "connections", Some(1))?;
    let size: usize = arg(&args, 5, "size", Some(64))?;
    let threads: usize = arg(&args, 6, "threads", Some(1))?;
    let eager_reads = match args.get(7).map(String::as_str) {
        None | Some("event") => false,
        Some("eager") => true,
        Some(other) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("reads must be event or eager, got {other}"),
            ))
        }
    };
    // `secs.is_nan()` is rejected too: a NaN is not a positive duration.
    if nconn == 0 || size == 0 || threads == 0 || threads > nconn || secs.is_nan() || secs <= 0.0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "connections, size and seconds must be positive; threads from 1 to connections",
        ));
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // Each thread drives its share of the connections with its own event loop.
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let n = nconn / threads + usize::from(t < nconn % threads);
            std::thread::spawn(move || drive_all(addr, mode, secs, n, size, eager_reads))
        })
        .collect();
    let (mut ops, mut bytes, mut window, mut total) = (0, 0, 0.0f64, 0);
    for w in workers {
        let r = w
            .join()
            .map_err(|_| io::Error::other("a load thread panicked"))??;
        ops += r.ops;
        bytes += r.bytes;
        window = window.max(r.secs);
        total += r.total_ops;
    }
    let cpu = cpu_ticks().map_or("null".to_owned(), |t| t.to_string());
    println!(
        "{{\"ops\":{ops},\"bytes\":{bytes},\"secs\":{window:.6},\"totalOps\":{total},\"cpuTicks\":{cpu}}}"
    );
    Ok(())
}

/// What one load thread measured.
struct Measured {
    ops: u64,
    bytes: u64,
    secs: f64,
    total_ops: u64,
}

/// utime + stime of this process in clock ticks (Linux's /proc/self/stat fields 14 and 15).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    // The fields after the command name start at field 3 (state).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// One load thread: connects `nconn` connections and drives them for the warm-up and `secs`.
fn drive_all(
    addr: SocketAddr,
    mode: Mode,
    secs: f64,
    nconn: usize,
    size: usize,
    eager_reads: bool,
) -> io::Result<Measured> {
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(nconn);
    for i in 0..nconn {
        let std = std::net::TcpStream::connect(addr)?;
        std.set_nodelay(true)?;
        std.set_nonblocking(true)?;
        let mut s = TcpStream::from_std(std);
        poll.registry()
            .register(&mut s, Token(i), Interest::READABLE | Interest::WRITABLE)?;
        conns.push(Conn {
            s,
            written: 0,
            read: 0,
            writing: true,
            done: false,
            drained: true,
        });
    }
    let out: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut load = Load {
        mode,
        size,
        window: 4 * size,
        out,
        inb: vec![0; size.max(64 * 1024)],
        ops: 0,
        bytes: 0,
        eager_reads,
    };

    let warmup = Duration::from_secs_f64((secs * 0.2).min(1.0));
    let measure = Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let mut measure_start: Option<(Instant, u64, u64)> = None;
    let mut events = Events::with_capacity(1024);

    // Kick every connection once (the first write needs no event).
    for c in conns.iter_mut() {
        load.drive(c, false)?;
    }
    let (ops, bytes, secs) = loop {
        let now = Instant::now();
        if measure_start.is_none() && now >= t0 + warmup {
            measure_start = Some((now, load.ops, load.bytes));
        }
        if let Some((ms, ops0, bytes0)) = measure_start {
            if now >= ms + measure {
                break (
                    load.ops - ops0,
                    load.bytes - bytes0,
                    (now - ms).as_secs_f64(),
                );
            }
        }
        poll.poll(&mut events, Some(Duration::from_millis(20)))?;
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            load.drive(c, false)?;
        }
    };

    // Drain: stop sending, half-close, read the echo of what is in flight until each server
    // closes its side (bounded: 3 s), so servers see a clean end of stream, not a reset.
    for c in conns.iter_mut() {
        let _ = c.s.shutdown(Shutdown::Write);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut open = nconn;
    while open > 0 && Instant::now() < deadline {
        for c in conns.iter_mut().filter(|c| !c.done) {
            if let Err(e) = load.drive(c, true) {
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    eprintln!("echo_load: while draining: {e}");
                }
                c.done = true;
                open -= 1;
            }
        }
        if open > 0 {
            poll.poll(&mut events, Some(Duration::from_millis(20)))?;
        }
    }
    Ok(Measured {
        ops,
        bytes,
        secs,
        total_ops: load.ops,
    })
}
