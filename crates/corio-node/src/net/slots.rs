//! Stream slots: the hot-path calls (`tcpRead`, `tcpWrite`, `tcpWriteAll`) reach a stream by a
//! number instead of by its JS object.
//!
//! Why: a method call on a napi-rs class object unwraps `this` (`napi_unwrap`), checks its
//! type tag and records the borrow in napi-rs's process-wide borrow registry (a global mutex
//! and a hash map) — about 7% of the echo server's CPU per message, measured in
//! docs/benchmarks.md. A slot number needs one `napi_get_value_double` and an index into this
//! thread's table.
//!
//! Each JS thread (main thread or worker_thread) has its own table: a stream's object, and so
//! its slot, belongs to the environment that created it, and an environment runs on one
//! thread. A slot number is `generation × 2³² + index`, and every insertion in the process
//! takes the next generation (modulo 2²⁰) from one counter, so a stale number, or one from
//! another thread's table, finds nothing until a million streams later the same index meets
//! the same generation. The table holds a shared reference to the stream's state and drops it
//! when the stream's JS object is collected, or when the environment is torn down; it is never
//! dropped by a thread-local destructor (at `process.exit()` the states are left to the OS, as
//! before there was a table).

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::stream::TcpState;

/// Generations wrap at 2²⁰, which keeps every slot number below 2⁵² (exact in a JS number).
const GEN_MASK: u32 = (1 << 20) - 1;

/// The next generation handed out, process-wide (see the module doc).
static NEXT_GEN: AtomicU32 = AtomicU32::new(0);

fn next_gen() -> u32 {
    NEXT_GEN.fetch_add(1, Ordering::Relaxed) & GEN_MASK
}

/// Largest slot number (for argument validation).
pub(crate) const MAX_SLOT: f64 = ((GEN_MASK as u64) << 32 | u32::MAX as u64) as f64;

struct Entry<T> {
    gen: u32,
    value: Option<T>,
}

/// A table of values addressed by slot numbers (generic so it can be tested on its own).
struct Table<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
}

impl<T: Clone> Table<T> {
    const fn new() -> Self {
        Table {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }

    fn insert(&mut self, value: T) -> f64 {
        let gen = next_gen();
        let index = match self.free.pop() {
            Some(i) => {
                let e = &mut self.entries[i as usize];
                e.gen = gen;
                e.value = Some(value);
                i
            }
            None => {
                let i = u32::try_from(self.entries.len()).expect("fewer than 2^32 live streams");
                self.entries.push(Entry {
                    gen,
                    value: Some(value),
                });
                i
            }
        };
        ((gen as u64) << 32 | index as u64) as f64
    }

    fn get(&self, slot: f64) -> Option<T> {
        let (index, gen) = split(slot);
        let e = self.entries.get(index)?;
        if e.gen != gen {
            return None;
        }
        e.value.clone()
    }

    fn take(&mut self, slot: f64) -> Option<T> {
        let (index, gen) = split(slot);
        let e = self.entries.get_mut(index)?;
        if e.gen != gen {
            return None;
        }
        let v = e.value.take()?;
        self.free.push(index as u32);
        Some(v)
    }
}

thread_local! {
    /// `ManuallyDrop`: no thread-local destructor (see the module doc); [`clear`] empties it.
    static TABLE: ManuallyDrop<RefCell<Table<Rc<TcpState>>>> =
        const { ManuallyDrop::new(RefCell::new(Table::new())) };
}

/// A slot number's index and generation (`slot` is a validated integer in `0..=MAX_SLOT`).
fn split(slot: f64) -> (usize, u32) {
    let v = slot as u64;
    ((v & 0xffff_ffff) as usize, (v >> 32) as u32)
}

/// Puts `state` in a free slot of this thread's table; returns the slot number.
pub(crate) fn insert(state: Rc<TcpState>) -> f64 {
    TABLE.with(|t| t.borrow_mut().insert(state))
}

/// The stream in `slot`, if that slot number is current on this thread.
pub(crate) fn get(slot: f64) -> Option<Rc<TcpState>> {
    TABLE.with(|t| t.borrow().get(slot))
}

/// Frees `slot` (the stream's JS object was collected). A no-op once this thread's table is
/// gone (thread exit).
pub(crate) fn remove(slot: f64) {
    // The state is dropped after the table's borrow ends: its drop may run other cleanup.
    let taken = TABLE.try_with(|t| t.borrow_mut().take(slot)).ok().flatten();
    drop(taken);
}

/// Env teardown (the bridge's env cleanup hook, on the env's thread): drops every stream state
/// still in this thread's table and frees the table. Objects finalized later find their slot
/// gone, which is fine.
pub(crate) fn clear() {
    let taken = TABLE.try_with(|t| std::mem::replace(&mut *t.borrow_mut(), Table::new()));
    drop(taken);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_numbers_are_exact_in_a_js_number() {
        let below_2_53 = MAX_SLOT < 9_007_199_254_740_992.0;
        assert!(below_2_53);
        assert_eq!(split(MAX_SLOT), (u32::MAX as usize, GEN_MASK));
    }

    #[test]
    fn a_reused_index_gets_a_new_generation_and_stale_numbers_find_nothing() {
        let mut t = Table::new();
        let a = t.insert(1);
        let b = t.insert(2);
        assert_eq!((t.get(a), t.get(b)), (Some(1), Some(2)));
        assert_eq!(t.take(a), Some(1));
        assert_eq!(t.get(a), None);
        assert_eq!(t.take(a), None, "taken twice");
        let c = t.insert(3);
        assert_eq!(split(c).0, split(a).0, "index reused");
        assert_ne!(c, a);
        assert_eq!((t.get(a), t.get(c)), (None, Some(3)));
        assert_eq!(t.get(c + 1.0), None, "an index never handed out");
        // Another table (thread) never hands out the same number meanwhile.
        let mut other = Table::new();
        let o = other.insert(9);
        assert_eq!(split(o).0, 0);
        assert_eq!((t.get(o), other.get(a), other.get(c)), (None, None, None));
        // Generations wrap within the mask.
        for _ in 0..(GEN_MASK as usize + 5) {
            let s = t.insert(0);
            assert!(s <= MAX_SLOT);
            t.take(s);
        }
    }
}
