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
