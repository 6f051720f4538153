//! The runtime peers of the echo benchmarks: the same echo server on corio's core or on tokio,
//! for reading corio's native `copy` numbers (`npm run bench`) against the peer runtime and the
//! thread-per-connection bound (`std_echo_server`) with the same load client.
//!
//! Both sides run literally the same code (written once in a macro, instantiated for each
//! crate, as in `benches/compare.rs`): a multi-thread runtime with 2 workers, an accept loop,
//! and per connection a task that reads into a 64 KiB buffer and writes every byte back with
//! `write_all`, Nagle off.
//!
//! ```text
//! cargo run --release -p corio --example rt_echo_server -- corio|tokio [port=0]
//! ```
//! Prints `listening <port>` on stdout once bound to 127.0.0.1.

macro_rules! echo_server {
    ($name:ident, $rt:ident) => {
        #[cfg(not(loom))]
        fn $name(port: u16) {
            use $rt::io::{AsyncReadExt, AsyncWriteExt};
            let rt = $rt::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = $rt::net::TcpListener::bind(("127.0.0.1", port))
                    .await
                    .expect("bind 127.0.0.1");
                println!(
                    "listening {}",
                    listener.local_addr().expect("local_addr").port()
                );
                loop {
                    let (mut s, _) = match listener.accept().await {
                        Ok(c) => c,
                        Err(e) => {
                            // e.g. EMFILE: back off instead of spinning on the error.
                            eprintln!("accept: {e}");
                            $rt::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    $rt::spawn(async move {
                        let _ = s.set_nodelay(true);
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
        }
    };
}

echo_server!(serve_corio, corio);
echo_server!(serve_tokio, tokio);

#[cfg(not(loom))]
fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    match which.as_str() {
        "corio" => serve_corio(port),
        "tokio" => serve_tokio(port),
        _ => {
            eprintln!("usage: rt_echo_server corio|tokio [port]");
            std::process::exit(2);
        }
    }
}

/// tokio is not a dependency of loom builds (see Cargo.toml).
#[cfg(loom)]
fn main() {}
