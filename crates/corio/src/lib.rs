//! corio: a Tokio-style async runtime.
//!
//! A work-stealing scheduler on `crossbeam-deque` ([`runtime`], [`task`]), a reactor on `mio`
//! ([`io`], [`net`]), a hierarchical timing wheel ([`time`]) and async synchronisation
//! primitives ([`sync`]). The API mirrors tokio's for the surface it covers, so code written
//! for tokio compiles against corio with `use corio as tokio;`.
//!
//! ```
//! use corio::io::{AsyncReadExt, AsyncWriteExt};
//! use corio::net::{TcpListener, TcpStream};
//!
//! #[corio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     corio::spawn(async move {
//!         let (mut socket, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 1024];
//!         loop {
//!             let n = socket.read(&mut buf).await.unwrap();
//!             if n == 0 { return; }
//!             socket.write_all(&buf[..n]).await.unwrap();
//!         }
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut reply = [0; 5];
//!     client.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"hello");
//!     Ok(())
//! }
//! ```

#![warn(missing_docs, missing_debug_implementations, unsafe_op_in_unsafe_fn)]

pub(crate) mod loom;

pub mod io;
pub mod net;
pub mod runtime;
pub mod sync;
pub mod task;
pub mod time;

pub use corio_macros::{main, test};
pub use task::spawn;
