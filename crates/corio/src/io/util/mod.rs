//! The I/O utilities: extension traits with `async fn` helpers, buffered adapters, copying,
//! in-memory streams. Everything here is built only on the four I/O traits, so it works the
//! same over sockets, pipes and test doubles.

mod async_buf_read_ext;
pub use async_buf_read_ext::AsyncBufReadExt;

mod async_read_ext;
pub use async_read_ext::AsyncReadExt;

mod async_seek_ext;
pub use async_seek_ext::AsyncSeekExt;

mod async_write_ext;
pub use async_write_ext::AsyncWriteExt;

mod buf_reader;
pub use buf_reader::BufReader;

mod buf_stream;
pub use buf_stream::BufStream;

mod buf_writer;
pub use buf_writer::BufWriter;

mod chain;
pub use chain::Chain;

mod copy;
pub use copy::copy;

mod copy_bidirectional;
pub use copy_bidirectional::{copy_bidirectional, copy_bidirectional_with_sizes};

mod copy_buf;
pub use copy_buf::copy_buf;

mod empty;
pub use empty::{empty, repeat, sink, Empty, Repeat, Sink};

mod lines;
pub use lines::Lines;

mod mem;
pub use mem::{duplex, DuplexStream};

mod split;
pub use split::Split;

mod take;
pub use take::Take;

#[cfg(test)]
mod tests;
