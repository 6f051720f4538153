//! The native bound of the echo benchmarks (`npm run bench`): a plain thread-per-connection
//! echo server on `std::net`, with no runtime at all.
//!
//! Each connection gets an OS thread that reads into a 64 KiB buffer and writes every byte
//! back with blocking calls. On a small machine with few connections this is as cheap as an
//! echo gets (two syscalls per message, the kernel does the scheduling), so corio's numbers are
//! read against it. It lives beside the core as an example because it needs nothing but std
//! and is built with the same toolchain and target dir as the rest of the workspace.
//!
//! ```text
//! cargo run --release -p corio --example std_echo_server [port=0]
//! ```
//! Prints `listening <port>` on stdout once bound to 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if s.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("std_echo_server: bind failed: {e}");
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("listening {}", a.port()),
        Err(e) => {
            eprintln!("std_echo_server: local_addr failed: {e}");
            std::process::exit(1);
        }
    }
    for s in listener.incoming() {
        match s {
            Ok(s) => {
                std::thread::spawn(move || serve(s));
            }
            Err(e) => eprintln!("std_echo_server: accept failed: {e}"),
        }
    }
}
