//! corio against tokio: the same workloads, written once, run on both runtimes in one process.
//!
//! Why a hand-rolled harness instead of criterion: the two runtimes must be measured
//! *interleaved* (corio, tokio, corio, tokio, …) so that whatever else the machine is doing at
//! the moment hits both sides alike; criterion measures one benchmark to completion before the
//! next. Each workload runs `ROUNDS` times per side and the median is reported.
//!
//! The workloads are written once in the `workloads!` macro and instantiated for each crate
//! (`corio` and `tokio` expose the same names and signatures for this surface), so the two sides
//! run literally the same code.
//!
//! Run: `cargo bench -p corio --bench compare`.
//! Environment:
//! - `CORIO_BENCH_QUICK=1`: fewer rounds and smaller I/O workloads (finishes in well under a
//!   minute);
//! - `CORIO_BENCH_ONLY=name[,name]`: run only the named workloads;
//! - `CORIO_BENCH_SIDE=corio|tokio`: run only one side (for profiling with perf/callgrind);
//! - `CORIO_BENCH_ROUNDS=n`: override the number of rounds;
//! - `CORIO_BENCH_VERBOSE=1`: print every round's time (to stderr);
//! - `CORIO_BENCH_METRICS=1`: print corio's runtime metrics at the end.
//!
//! The table's `corio/tokio` column is the ratio of median wall times (per message for the echo
//! workloads), lower is better for corio. The last column is the ratio of median process CPU
//! time per round: it shows how much work each runtime did, independent of preemption by other
//! processes on a shared machine.

use std::time::Duration;

/// The sizes of one run.
#[derive(Clone, Copy)]
struct Params {
    /// Messages each TCP connection exchanges (1 KiB each way).
    tcp_msgs_per_conn: usize,
    /// Datagrams each UDP client exchanges (64 bytes each way).
    udp_pkts_per_client: usize,
}

const SPAWN_MANY: usize = 10_000;
const PING_PONG_PAIRS: usize = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const TCP_CONNS: usize = 64;
const TCP_MSG: usize = 1024;
const UDP_CLIENTS: usize = 16;
const UDP_PKT: usize = 64;

/// One measurement: how long the timed section took and how many operations it did.
#[derive(Clone, Copy)]
struct Sample {
    elapsed: Duration,
    ops: u64,
}

/// CPU time (user + system) of the whole process so far. Only the runtime being measured is
/// busy during a round (the other one is idle, its workers parked), so the difference across
/// one round is that runtime's CPU cost, including the cost of spinning, parking and waking.
/// Unlike wall time it does not grow when other processes preempt our threads. Unix only: the
/// CPU column reads zero elsewhere.
#[cfg(unix)]
fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(not(unix))]
fn process_cpu_time() -> Duration {
    Duration::ZERO
}

/// Runs one workload once and returns its sample and the CPU time it used.
fn measure<R>(f: fn(&R, Params) -> Sample, rt: &R, p: Params) -> (Sample, Duration) {
    let cpu = process_cpu_time();
    let sample = f(rt, p);
    (sample, process_cpu_time().saturating_sub(cpu))
}

/// Defines module `$side` with every workload written against the crate `$krate`.
macro_rules! workloads {
    ($side:ident, $krate:ident) => {
        mod $side {
            use super::*;
            use rt::io::{AsyncReadExt, AsyncWriteExt};
            use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
            use std::sync::{mpsc, Arc};
            use std::time::Instant;
            use $krate as rt;

            /// A multi-thread runtime with two workers (the benchmark machine has two cores).
            pub fn runtime() -> rt::runtime::Runtime {
                rt::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("building the runtime")
            }

            /// 10,000 tasks spawned from inside a task; done when the last one ran.
            pub fn spawn_many_local(rt: &rt::runtime::Runtime, _: Params) -> Sample {
                let (tx, rx) = mpsc::sync_channel(1);
                let rem = Arc::new(AtomicUsize::new(SPAWN_MANY));
                let start = Instant::now();
                rt.spawn(async move {
                    for _ in 0..SPAWN_MANY {
                        let rem = rem.clone();
                        let tx = tx.clone();
                        rt::spawn(async move {
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                });
                rx.recv().unwrap();
                Sample {
                    elapsed: start.elapsed(),
                    ops: SPAWN_MANY as u64,
                }
            }

            /// 10,000 tasks spawned from outside the runtime onto idle workers, then joined.
            pub fn spawn_many_remote_idle(rt: &rt::runtime::Runtime, _: Params) -> Sample {
                let mut handles = Vec::with_capacity(SPAWN_MANY);
                let start = Instant::now();
                for _ in 0..SPAWN_MANY {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles {
                        handle.await.unwrap();
                    }
                });
                Sample {
                    elapsed: start.elapsed(),
                    ops: SPAWN_MANY as u64,
                }
            }

            /// 1,000 pairs of tasks, each pair exchanging a ping and a pong over oneshots.
            pub fn ping_pong(rt: &rt::runtime::Runtime, _: Params) -> Sample {
                let (done_tx, done_rx) = mpsc::sync_channel(1);
                let rem = Arc::new(AtomicUsize::new(PING_PONG_PAIRS));
                let start = Instant::now();
                rt.spawn(async move {
                    for _ in 0..PING_PONG_PAIRS {
                        let rem = rem.clone();
                        let done_tx = done_tx.clone();
                        rt::spawn(async move {
                            let (tx1, rx1) = rt::sync::oneshot::channel::<()>();
                            let (tx2, rx2) = rt::sync::oneshot::channel::<()>();
                            rt::spawn(async move {
                                rx1.await.unwrap();
                                tx2.send(()).unwrap();
                            });
                            tx1.send(()).unwrap();
                            rx2.await.unwrap();
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                done_tx.send(()).unwrap();
                            }
                        });
                    }
                });
                done_rx.recv().unwrap();
                Sample {
                    elapsed: start.elapsed(),
                    ops: PING_PONG_PAIRS as u64,
                }
            }

            /// 200 tasks, each yielding 1,000 times.
            pub fn yield_many(rt: &rt::runtime::Runtime, _: Params) -> Sample {
                let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
                let start = Instant::now();
                for _ in 0..YIELD_TASKS {
                    let tx = tx.clone();
                    rt.spawn(async move {
                        for _ in 0..YIELDS_PER_TASK {
                            rt::task::yield_now().await;
                        }
                        tx.send(()).unwrap();
                    });
                }
                for _ in 0..YIELD_TASKS {
                    rx.recv().unwrap();
                }
                Sample {
                    elapsed: start.elapsed(),
                    ops: (YIELD_TASKS * YIELDS_PER_TASK) as u64,
                }
            }

            /// A chain of 1,000 tasks, each spawning the next.
            pub fn chained_spawn(rt: &rt::runtime::Runtime, _: Params) -> Sample {
                fn iter(done_tx: mpsc::SyncSender<()>, n: usize) {
                    if n == 0 {
                        done_tx.send(()).unwrap();
                    } else {
                        rt::spawn(async move { iter(done_tx, n - 1) });
                    }
                }
                let (done_tx, done_rx) = mpsc::sync_channel(1);
                let start = Instant::now();
                rt.spawn(async move { iter(done_tx, CHAIN_DEPTH) });
                done_rx.recv().unwrap();
                Sample {
                    elapsed: start.elapsed(),
                    ops: CHAIN_DEPTH as u64,
                }
            }

            /// 64 TCP connections over loopback; each client sends a 1 KiB message and reads the
            /// echo back, `tcp_msgs_per_conn` times. Connection setup is not timed.
            pub fn tcp_echo(rt: &rt::runtime::Runtime, p: Params) -> Sample {
                rt.block_on(async move {
                    let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = rt::spawn(async move {
                        for _ in 0..TCP_CONNS {
                            let (mut sock, _) = listener.accept().await.unwrap();
                            sock.set_nodelay(true).unwrap();
                            rt::spawn(async move {
                                let mut buf = vec![0u8; TCP_MSG];
                                loop {
                                    match sock.read(&mut buf).await {
                                        Ok(0) | Err(_) => return,
                                        Ok(n) => {
                                            if sock.write_all(&buf[..n]).await.is_err() {
                                                return;
                                            }
                                        }
                                    }
                                }
                            });
                        }
                    });
                    let mut clients = Vec::with_capacity(TCP_CONNS);
                    for _ in 0..TCP_CONNS {
                        let sock = rt::net::TcpStream::connect(addr).await.unwrap();
                        sock.set_nodelay(true).unwrap();
                        clients.push(sock);
                    }
                    server.await.unwrap();
                    let msgs = p.tcp_msgs_per_conn;
                    let start = Instant::now();
                    let tasks: Vec<_> = clients
                        .into_iter()
                        .map(|mut sock| {
                            rt::spawn(async move {
                                let out = vec![0xA5u8; TCP_MSG];
                                let mut back = vec![0u8; TCP_MSG];
                                for _ in 0..msgs {
                                    sock.write_all(&out).await.unwrap();
                                    sock.read_exact(&mut back).await.unwrap();
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                    Sample {
                        elapsed: start.elapsed(),
                        ops: (TCP_CONNS * msgs) as u64,
                    }
                })
            }

            /// `UDP_CLIENTS` sockets each exchange 64-byte datagrams with one echo socket, one in
            /// flight per client. A datagram lost on loopback (it should not happen) is resent
            /// after a timeout so the run cannot hang.
            pub fn udp_echo(rt: &rt::runtime::Runtime, p: Params) -> Sample {
                rt.block_on(async move {
                    let server = rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    let server_addr = server.local_addr().unwrap();
                    let server = rt::spawn(async move {
                        let mut buf = [0u8; 2048];
                        loop {
                            let (n, from) = server.recv_from(&mut buf).await.unwrap();
                            if n == 0 {
                                return; // an empty datagram ends the run
                            }
                            let _ = server.send_to(&buf[..n], from).await;
                        }
                    });
                    let pkts = p.udp_pkts_per_client;
                    let mut sockets = Vec::with_capacity(UDP_CLIENTS);
                    for _ in 0..UDP_CLIENTS {
                        let sock = rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                        sock.connect(server_addr).await.unwrap();
                        sockets.push(sock);
                    }
                    let start = Instant::now();
                    let tasks: Vec<_> = sockets
                        .into_iter()
                        .map(|sock| {
                            rt::spawn(async move {
                                let out = [0x5Au8; UDP_PKT];
                                let mut back = [0u8; 2048];
                                for _ in 0..pkts {
                                    loop {
                                        sock.send(&out).await.unwrap();
                                        let recv = sock.recv(&mut back);
                                        match rt::time::timeout(Duration::from_secs(1), recv).await
                                        {
                                            Ok(n) => {
                                                assert_eq!(n.unwrap(), UDP_PKT);
                                                break;
                                            }
                                            Err(_) => continue,
                                        }
                                    }
                                }
                                sock
                            })
                        })
                        .collect();
                    let mut last = None;
                    for task in tasks {
                        last = Some(task.await.unwrap());
                    }
                    let elapsed = start.elapsed();
                    last.unwrap().send(&[]).await.unwrap();
                    server.await.unwrap();
                    Sample {
                        elapsed,
                        ops: (UDP_CLIENTS * pkts) as u64,
                    }
                })
            }
        }
    };
}

workloads!(corio_side, corio);
workloads!(tokio_side, tokio);

/// How a workload's result is shown.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
    /// Time for the whole workload.
    Time,
    /// Operations per second (the table also shows time per run).
    Rate(&'static str),
}

type Workload<R> = fn(&R, Params) -> Sample;

struct Bench {
    name: &'static str,
    unit: Unit,
    corio: Workload<corio::runtime::Runtime>,
    tokio: Workload<tokio::runtime::Runtime>,
}

fn median(mut v: Vec<Sample>) -> Sample {
    v.sort_by_key(|s| s.elapsed);
    v[v.len() / 2]
}

fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects workloads like CORIO_BENCH_ONLY.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let quick = std::env::var("CORIO_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty());
    let only: Vec<String> = std::env::var("CORIO_BENCH_ONLY")
        .map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(args)
        .collect();
    let side = std::env::var("CORIO_BENCH_SIDE").unwrap_or_default();
    let verbose = std::env::var("CORIO_BENCH_VERBOSE").is_ok();
    let (run_corio, run_tokio) = match side.as_str() {
        "corio" => (true, false),
        "tokio" => (false, true),
        _ => (true, true),
    };
    let rounds: usize = std::env::var("CORIO_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 5 } else { 21 });
    let params = if quick {
        Params {
            tcp_msgs_per_conn: 200,
            udp_pkts_per_client: 500,
        }
    } else {
        Params {
            tcp_msgs_per_conn: 1_000,
            udp_pkts_per_client: 2_000,
        }
    };

    let benches = [
        Bench {
            name: "spawn_many_local",
            unit: Unit::Time,
            corio: corio_side::spawn_many_local,
            tokio: tokio_side::spawn_many_local,
        },
        Bench {
            name: "spawn_many_remote_idle",
            unit: Unit::Time,
            corio: corio_side::spawn_many_remote_idle,
            tokio: tokio_side::spawn_many_remote_idle,
        },
        Bench {
            name: "ping_pong",
            unit: Unit::Time,
            corio: corio_side::ping_pong,
            tokio: tokio_side::ping_pong,
        },
        Bench {
            name: "yield_many",
            unit: Unit::Time,
            corio: corio_side::yield_many,
            tokio: tokio_side::yield_many,
        },
        Bench {
            name: "chained_spawn",
            unit: Unit::Time,
            corio: corio_side::chained_spawn,
            tokio: tokio_side::chained_spawn,
        },
        Bench {
            name: "tcp_echo",
            unit: Unit::Rate("msgs/s"),
            corio: corio_side::tcp_echo,
            tokio: tokio_side::tcp_echo,
        },
        Bench {
            name: "udp_echo",
            unit: Unit::Rate("pkts/s"),
            corio: corio_side::udp_echo,
            tokio: tokio_side::udp_echo,
        },
    ];

    let corio_rt = corio_side::runtime();
    let tokio_rt = tokio_side::runtime();

    println!(
        "corio vs tokio — multi-thread runtimes, 2 workers each; {} rounds interleaved, median{}",
        rounds,
        if quick { " (quick mode)" } else { "" }
    );
    println!(
        "TCP: {TCP_CONNS} connections x {} msgs of {TCP_MSG} B; UDP: {UDP_CLIENTS} clients x {} datagrams of {UDP_PKT} B",
        params.tcp_msgs_per_conn, params.udp_pkts_per_client
    );
    println!();
    println!("| workload | corio | tokio | corio/tokio | CPU time corio/tokio |");
    println!("|---|---:|---:|---:|---:|");
    for bench in benches
        .iter()
        .filter(|b| only.is_empty() || only.iter().any(|o| o == b.name))
    {
        // Warm-up: one untimed run per side (thread caches, allocator, socket tables).
        if run_corio {
            (bench.corio)(&corio_rt, params);
        }
        if run_tokio {
            (bench.tokio)(&tokio_rt, params);
        }
        let mut c = Vec::with_capacity(rounds);
        let mut t = Vec::with_capacity(rounds);
        let mut c_cpu = Vec::with_capacity(rounds);
        let mut t_cpu = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            if run_corio {
                let (s, cpu) = measure(bench.corio, &corio_rt, params);
                c.push(s);
                c_cpu.push(cpu);
            }
            if run_tokio {
                let (s, cpu) = measure(bench.tokio, &tokio_rt, params);
                t.push(s);
                t_cpu.push(cpu);
            }
        }
        if verbose {
            let list = |v: &[Sample]| {
                let mut v: Vec<_> = v.iter().map(|s| s.elapsed).collect();
                v.sort();
                v.into_iter()
                    .map(fmt_duration)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            eprintln!("{}: corio [{}] tokio [{}]", bench.name, list(&c), list(&t));
        }
        c_cpu.sort();
        t_cpu.sort();
        let cpu_ratio = match (c_cpu.get(c_cpu.len() / 2), t_cpu.get(t_cpu.len() / 2)) {
            (Some(c), Some(t)) if !t.is_zero() => {
                format!("{:.2}", c.as_secs_f64() / t.as_secs_f64())
            }
            _ => "-".to_owned(),
        };
        let show = |s: Option<Sample>| match (s, bench.unit) {
            (None, _) => "-".to_owned(),
            (Some(s), Unit::Time) => fmt_duration(s.elapsed),
            (Some(s), Unit::Rate(unit)) => {
                format!("{:.0} {unit}", s.ops as f64 / s.elapsed.as_secs_f64())
            }
        };
        let c = (!c.is_empty()).then(|| median(c));
        let t = (!t.is_empty()).then(|| median(t));
        // The ratio is always a ratio of times (for rates: time per message), so lower is
        // better for corio on every line.
        let ratio = match (c, t) {
            (Some(c), Some(t)) => format!(
                "{:.2}",
                (c.elapsed.as_secs_f64() / c.ops as f64) / (t.elapsed.as_secs_f64() / t.ops as f64)
            ),
            _ => "-".to_owned(),
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            bench.name,
            show(c),
            show(t),
            ratio,
            cpu_ratio
        );
    }
    if std::env::var("CORIO_BENCH_METRICS").is_ok() {
        let m = corio_rt.metrics();
        println!();
        println!(
            "corio metrics: spawned {} remote_schedules {}, io events {}",
            m.spawned_tasks_count(),
            m.remote_schedule_count(),
            m.io_driver_ready_count()
        );
        for w in 0..m.num_workers() {
            println!(
                "  worker {w}: polls {} steals {} parks {}",
                m.worker_poll_count(w),
                m.worker_steal_count(w),
                m.worker_park_count(w)
            );
        }
    }
}
