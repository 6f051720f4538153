//! One internal shim for every synchronisation primitive the core uses.
//!
//! Atomics, cells, mutexes, condvars, `Arc` and threads are imported from here and never from
//! `std` directly, so the same code is model-checked when built with `RUSTFLAGS="--cfg loom"`:
//! under `cfg(loom)` these names point at the `loom` crate, otherwise at thin wrappers over `std`.
//! The wrappers give both worlds one API (a `Mutex::lock` that cannot fail, an `UnsafeCell` with
//! `with`/`with_mut`), so no module needs a `cfg` of its own.

#[cfg(not(loom))]
mod std_impl;
#[cfg(not(loom))]
pub(crate) use std_impl::*;

#[cfg(loom)]
mod loom_impl;
#[cfg(loom)]
pub(crate) use loom_impl::*;

/// `thread_local!` for the core's per-thread context (`const { .. }` initialisers only).
///
/// Under loom every thread of a model runs on one OS thread, so a `std` thread-local would be
/// shared by all of them and would outlive a model iteration; loom's own `thread_local!` gives
/// each model thread a fresh value and drops it when that thread ends.
#[cfg(loom)]
macro_rules! thread_local_shim {
    ($($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };)*) => {
        $(loom::thread_local! { $(#[$attr])* $vis static $name: $t = $init; })*
    };
}

/// `thread_local!` for the core's per-thread context: `std`'s in a normal build.
#[cfg(not(loom))]
macro_rules! thread_local_shim {
    ($($tt:tt)*) => { std::thread_local! { $($tt)* } };
}

pub(crate) use thread_local_shim as thread_local;
