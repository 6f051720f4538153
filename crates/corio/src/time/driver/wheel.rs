//! The hierarchical timing wheel: pure bookkeeping of deadlines in milliseconds.
//!
//! This module knows nothing of clocks, threads or wakers. Time is a `u64` count of
//! milliseconds handed in by the caller (the driver maps `Instant`s onto it; the tests use a
//! fake clock), which keeps the algorithm deterministic and directly testable.
//!
//! # Layout
//!
//! Six levels of 64 slots. A slot of level `L` covers `64^L` ms, so a whole level covers
//! `64^(L+1)` ms and the top level covers `64^6 = 2^36` ms (about 2.2 years). Entries live in
//! one slab (`Vec<Node>`) and every slot is a doubly linked list threaded through the slab by
//! index, so insertion and removal are O(1) and a timer costs one slab node (no allocation per
//! timer once the slab has grown). A bit mask per level says which slots are non-empty, so
//! finding the next expiration is a few bit operations per level.
//!
//! # Placement
//!
//! `elapsed` is the time up to which the wheel has been processed. An entry due at `when >
//! elapsed` goes to the level of the highest 6-bit digit in which `when` and `elapsed` differ,
//! at the slot given by `when`'s digit of that level. That slot is then always *after* the
//! current slot of its level, and its start time (`when` with the lower digits cleared) is never
//! later than `when`. When the slot's start time is reached the slot is taken out whole: entries
//! whose deadline has come are fired, the others are re-inserted relative to the new `elapsed`
//! (cascading down to a finer level). Entries due at `when <= elapsed` go to the `ready` list
//! and are returned by the next [`Wheel::poll`].
//!
//! The top level is a ring: a slot at or before the current top-level slot stands for the
//! *next* rotation. Deadlines that differ from `elapsed` only above the top digit but lie less
//! than one rotation ahead use that directly; deadlines further away than one rotation are
//! clamped into the current top-level slot of the next rotation (the latest slot that never
//! fires late) and simply re-inserted from there when it comes up, as often as needed.
//!
//! # Order
//!
//! `poll` returns entries in deadline order for every entry whose deadline was still ahead of
//! `elapsed` when it was inserted; entries inserted when already due come first, in insertion
//! order. No entry is ever returned before `now >= when`, and every entry is returned by the
//! first `poll(now)` with `now >= when` (after the ones due earlier).

/// Bits of one level's digit.
const LEVEL_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << LEVEL_BITS;
/// Number of levels.
const LEVELS: usize = 6;
/// Milliseconds covered by one full rotation of the top level (`64^6`).
const WHEEL_RANGE: u64 = 1 << (LEVEL_BITS * LEVELS as u32);
/// "No node" in the intrusive links.
const NIL: u32 = u32::MAX;
/// The list index of the `ready` list (after the `LEVELS * SLOTS` slot lists).
const READY: usize = LEVELS * SLOTS;
/// The list index of a free slab node.
const FREE: u16 = u16::MAX;

/// Identifies an entry of the wheel. The generation makes a key of a removed (fired) entry
/// stale, so removing it later is a harmless no-op even if its slab node was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

#[derive(Debug)]
struct Node<T> {
    when: u64,
    generation: u32,
    prev: u32,
    next: u32,
    /// Which list the node is on: `level * SLOTS + slot`, `READY`, or `FREE`.
    list: u16,
    value: Option<T>,
}

/// The earliest moment the wheel needs processing and which list is due then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiration {
    list: usize,
    deadline: u64,
}

/// A hierarchical timing wheel of values `T` keyed by deadline in milliseconds.
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    /// Time (ms) up to which every slot has been processed.
    elapsed: u64,
    /// Bit `s` of `occupied[L]` is set when slot `s` of level `L` is non-empty.
    occupied: [u64; LEVELS],
    /// Head of each slot list, then of the ready list. Ready also keeps its tail for FIFO order.
    heads: Box<[u32; READY + 1]>,
    ready_tail: u32,
    nodes: Vec<Node<T>>,
    free_head: u32,
    len: usize,
}

impl<T> Wheel<T> {
    /// An empty wheel whose clock starts at 0 ms.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            occupied: [0; LEVELS],
            heads: Box::new([NIL; READY + 1]),
            ready_tail: NIL,
            nodes: Vec::new(),
            free_head: NIL,
            len: 0,
        }
    }

    /// Number of entries in the wheel.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Time (ms) up to which the wheel has been processed.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Adds `value` due at `when` (ms). Returns its key.
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let index = match self.free_head {
            NIL => {
                let index = u32::try_from(self.nodes.len()).expect("more than 2^32 timers");
                self.nodes.push(Node {
                    when,
                    generation: 0,
                    prev: NIL,
                    next: NIL,
                    list: FREE,
                    value: Some(value),
                });
                index
            }
            index => {
                let node = &mut self.nodes[index as usize];
                self.free_head = node.next;
                node.when = when;
                node.value = Some(value);
                index
            }
        };
        self.len += 1;
        self.place(index);
        Key {
            index,
            generation: self.nodes[index as usize].generation,
        }
    }

    /// Removes the entry of `key` and returns its value, or `None` if the key is stale (the
    /// entry was already returned by `poll`, removed, or drained).
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let node = self.nodes.get(key.index as usize)?;
        if node.generation != key.generation || node.list == FREE {
            return None;
        }
        self.unlink(key.index);
        Some(self.release(key.index).1)
    }

    /// The deadline (ms) at which the wheel next needs `poll`: the earliest slot start or, if
    /// entries are ready, `elapsed`. `None` when the wheel is empty. Never later than the
    /// earliest entry's deadline (it may be earlier, when a coarse slot must cascade first).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_list().map(|e| e.deadline)
    }

    /// Returns the next entry due at or before `now` (ms), with its deadline, or `None` when
    /// nothing more is due. Advances the wheel's clock to `now` (the clock never goes back).
    pub(crate) fn poll(&mut self, now: u64) -> Option<(u64, T)> {
        loop {
            let head = self.heads[READY];
            if head != NIL {
                self.unlink(head);
                return Some(self.release(head));
            }
            match self.next_list() {
                Some(exp) if exp.deadline <= now => self.process_list(exp),
                _ => {
                    self.elapsed = self.elapsed.max(now);
                    return None;
                }
            }
        }
    }

    /// Removes every entry (in no particular order), e.g. on shutdown.
    pub(crate) fn drain(&mut self, mut f: impl FnMut(T)) {
        for index in 0..self.nodes.len() as u32 {
            if self.nodes[index as usize].list != FREE {
                self.unlink(index);
                f(self.release(index).1);
            }
        }
    }

    /// The list of slot (level, slot) where an entry due at `when > elapsed` belongs.
    fn list_for(&self, when: u64) -> usize {
        debug_assert!(when > self.elapsed);
        let differing = (self.elapsed ^ when) | (SLOTS as u64 - 1);
        let level = ((63 - differing.leading_zeros()) / LEVEL_BITS) as usize;
        let (level, slot) = if level < LEVELS {
            (level, digit(when, level))
        } else if when - self.elapsed < WHEEL_RANGE {
            // In the top level's next rotation: its slot there is at or before the current one.
            (LEVELS - 1, digit(when, LEVELS - 1))
        } else {
            // Beyond the wheel's range: wait one whole rotation, then re-insert.
            (LEVELS - 1, digit(self.elapsed, LEVELS - 1))
        };
        level * SLOTS + slot
    }

    /// Puts an unlinked node on the list its deadline calls for.
    fn place(&mut self, index: u32) {
        let when = self.nodes[index as usize].when;
        if when <= self.elapsed {
            self.push_ready(index);
        } else {
            let list = self.list_for(when);
            self.push_slot(list, index);
        }
    }

    fn next_list(&self) -> Option<Expiration> {
        if self.heads[READY] != NIL {
            return Some(Expiration {
                list: READY,
                deadline: self.elapsed,
            });
        }
        // A non-empty finer level always expires before any coarser one: all its slots lie
        // inside the current slot of the next level, whose occupied slots all come later.
        for level in 0..LEVELS {
            let occupied = self.occupied[level];
            if occupied == 0 {
                continue;
            }
            let slot_ms = slot_range(level);
            let level_ms = slot_ms << LEVEL_BITS;
            let current = digit(self.elapsed, level) as u32;
            let base = self.elapsed & !(level_ms - 1);
            let later = if current == 63 {
                0
            } else {
                occupied & (u64::MAX << (current + 1))
            };
            let deadline = if later != 0 {
                base + u64::from(later.trailing_zeros()) * slot_ms
            } else {
                // Only the top level wraps (next rotation).
                debug_assert_eq!(level, LEVELS - 1);
                base + level_ms + u64::from(occupied.trailing_zeros()) * slot_ms
            };
            let slot = if later != 0 { later } else { occupied }.trailing_zeros() as usize;
            return Some(Expiration {
                list: level * SLOTS + slot,
                deadline,
            });
        }
        None
    }

    /// Advances to the start of an expired slot and fires or cascades its entries.
    fn process_list(&mut self, exp: Expiration) {
        debug_assert!(exp.deadline >= self.elapsed);
        debug_assert!(exp.list < READY);
        self.elapsed = exp.deadline;
        let mut index = self.heads[exp.list];
        self.heads[exp.list] = NIL;
        self.occupied[exp.list / SLOTS] &= !(1u64 << (exp.list % SLOTS));
        while index != NIL {
            let next = self.nodes[index as usize].next;
            self.place(index);
            index = next;
        }
    }

    fn push_slot(&mut self, list: usize, index: u32) {
        let head = self.heads[list];
        let node = &mut self.nodes[index as usize];
        node.list = list as u16;
        node.prev = NIL;
        node.next = head;
        if head != NIL {
            self.nodes[head as usize].prev = index;
        }
        self.heads[list] = index;
        self.occupied[list / SLOTS] |= 1u64 << (list % SLOTS);
    }

    fn push_ready(&mut self, index: u32) {
        let tail = self.ready_tail;
        let node = &mut self.nodes[index as usize];
        node.list = READY as u16;
        node.prev = tail;
        node.next = NIL;
        if tail == NIL {
            self.heads[READY] = index;
        } else {
            self.nodes[tail as usize].next = index;
        }
        self.ready_tail = index;
    }

    /// Takes a linked node off its list.
    fn unlink(&mut self, index: u32) {
        let Node {
            prev, next, list, ..
        } = self.nodes[index as usize];
        let list = list as usize;
        match prev {
            NIL => self.heads[list] = next,
            prev => self.nodes[prev as usize].next = next,
        }
        match next {
            NIL if list == READY => self.ready_tail = prev,
            NIL => {}
            next => self.nodes[next as usize].prev = prev,
        }
        if list < READY && self.heads[list] == NIL {
            self.occupied[list / SLOTS] &= !(1u64 << (list % SLOTS));
        }
    }

    /// Returns an unlinked node to the free list; its key becomes stale.
    fn release(&mut self, index: u32) -> (u64, T) {
        let node = &mut self.nodes[index as usize];
        node.list = FREE;
        node.generation = node.generation.wrapping_add(1);
        node.next = self.free_head;
        self.free_head = index;
        self.len -= 1;
        let value = node.value.take().expect("linked node holds a value");
        (node.when, value)
    }

    #[cfg(test)]
    fn level_of(&self, key: Key) -> Option<usize> {
        let node = &self.nodes[key.index as usize];
        (node.generation == key.generation && node.list != FREE).then_some(
            if node.list as usize == READY {
                LEVELS
            } else {
                node.list as usize / SLOTS
            },
        )
    }
}

/// Milliseconds covered by one slot of `level`.
fn slot_range(level: usize) -> u64 {
    1 << (LEVEL_BITS as usize * level)
}

/// `when`'s 6-bit digit of `level`: its slot index there.
fn digit(when: u64, level: usize) -> usize {
    ((when >> (LEVEL_BITS as usize * level)) & (SLOTS as u64 - 1)) as usize
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drain_until(wheel: &mut Wheel<u32>, now: u64) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| wheel.poll(now)).collect()
    }

    #[test]
    fn level_selection() {
        let mut w = Wheel::new();
        let cases = [
            (1, 0),
            (63, 0),
            (64, 1),
            (64 * 64 - 1, 1),
            (64 * 64, 2),
            (1 << 24, 4),
            ((1 << 30) - 1, 4),
            (1 << 30, 5),
            ((1 << 36) - 1, 5),
            (1 << 36, 5), // beyond range: clamped to the top level
            (u64::MAX / 2, 5),
        ];
        for (i, (when, level)) in cases.into_iter().enumerate() {
            let key = w.insert(when, i as u32);
            assert_eq!(w.level_of(key), Some(level), "when = {when}");
        }
        let already_due = w.insert(0, 99);
        assert_eq!(w.level_of(already_due), Some(LEVELS));
        assert_eq!(w.len(), cases.len() + 1);
    }

    #[test]
    fn next_expiration_is_slot_start() {
        let mut w = Wheel::new();
        assert_eq!(w.next_expiration(), None);
        w.insert(100, 1); // level 1, slot 1 starts at 64
        assert_eq!(w.next_expiration(), Some(64));
        w.insert(10, 2);
        assert_eq!(w.next_expiration(), Some(10));
        w.insert(0, 3);
        assert_eq!(w.next_expiration(), Some(0));
    }

    #[test]
    fn cascading_fires_exactly_at_deadline() {
        let mut w = Wheel::new();
        w.insert(100, 1);
        w.insert(64, 2);
        w.insert(5000, 3);
        assert_eq!(drain_until(&mut w, 63), vec![]);
        assert_eq!(drain_until(&mut w, 64), vec![(64, 2)]);
        assert_eq!(w.next_expiration(), Some(100));
        assert_eq!(drain_until(&mut w, 99), vec![]);
        assert_eq!(drain_until(&mut w, 100), vec![(100, 1)]);
        assert_eq!(drain_until(&mut w, 4999), vec![]);
        assert_eq!(w.next_expiration(), Some(5000));
        assert_eq!(drain_until(&mut w, 10_000), vec![(5000, 3)]);
        assert_eq!(w.len(), 0);
        assert_eq!(w.elapsed(), 10_000);
    }

    #[test]
    fn one_big_jump_fires_in_order() {
        let mut w = Wheel::new();
        let deadlines = [7u64, 1 << 20, 64, 3, 4096, 70_000, 65, 1 << 33];
        for (i, d) in deadlines.iter().enumerate() {
            w.insert(*d, i as u32);
        }
        let fired: Vec<u64> = drain_until(&mut w, u64::MAX / 4)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let mut sorted = deadlines.to_vec();
        sorted.sort();
        assert_eq!(fired, sorted);
    }

    #[test]
    fn removal() {
        let mut w = Wheel::new();
        let a = w.insert(10, 1);
        let b = w.insert(10, 2);
        let c = w.insert(10, 3);
        assert_eq!(w.remove(b), Some(2));
        assert_eq!(w.remove(b), None, "stale key");
        assert_eq!(drain_until(&mut w, 10).len(), 2);
        assert_eq!(w.remove(a), None, "fired key is stale");
        assert_eq!(w.remove(c), None);
        // The freed node is reused; the old key must not reach the new entry.
        let d = w.insert(20, 4);
        assert_eq!(w.remove(a), None);
        assert_eq!(w.remove(d), Some(4));
        assert_eq!(w.next_expiration(), None);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn reset_to_earlier_and_later() {
        let mut w = Wheel::new();
        let k = w.insert(1000, 1);
        let v = w.remove(k).unwrap();
        let k = w.insert(5, v);
        assert_eq!(w.next_expiration(), Some(5));
        let v = w.remove(k).unwrap();
        w.insert(200_000, v);
        assert_eq!(drain_until(&mut w, 199_999), vec![]);
        assert_eq!(drain_until(&mut w, 200_000), vec![(200_000, 1)]);
    }

    #[test]
    fn far_deadlines_recascade() {
        let mut w = Wheel::new();
        let far = 5 * WHEEL_RANGE + 12_345;
        w.insert(far, 1);
        w.insert(WHEEL_RANGE + 1, 2);
        let mut fired = Vec::new();
        // Jump through the wheel in big but uneven steps; the entries must never fire early.
        let mut now = 0;
        while now < far + 10 {
            now += WHEEL_RANGE / 3 + 17;
            for (when, v) in drain_until(&mut w, now) {
                assert!(when <= now);
                fired.push((when, v, now));
            }
        }
        assert_eq!(fired.len(), 2);
        assert_eq!((fired[0].0, fired[0].1), (WHEEL_RANGE + 1, 2));
        assert_eq!((fired[1].0, fired[1].1), (far, 1));
        // Stepping exactly to the deadline fires it then, not later.
        let mut w = Wheel::new();
        w.insert(far, 1);
        let mut next = w.next_expiration().unwrap();
        while next < far {
            assert!(drain_until(&mut w, next).is_empty());
            next = w.next_expiration().unwrap();
        }
        assert_eq!(next, far);
        assert_eq!(drain_until(&mut w, far), vec![(far, 1)]);
    }

    #[test]
    fn top_level_next_rotation() {
        let mut w = Wheel::new();
        // Move the clock into the last top-level slot, then add a deadline just past the epoch.
        assert_eq!(drain_until(&mut w, WHEEL_RANGE - 10), vec![]);
        w.insert(WHEEL_RANGE + 5, 1);
        assert!(w.next_expiration().unwrap() <= WHEEL_RANGE + 5);
        assert_eq!(drain_until(&mut w, WHEEL_RANGE + 4), vec![]);
        assert_eq!(
            drain_until(&mut w, WHEEL_RANGE + 5),
            vec![(WHEEL_RANGE + 5, 1)]
        );
    }

    #[test]
    fn many_timers() {
        let mut w = Wheel::new();
        for i in 0..100_000u32 {
            w.insert(u64::from(i % 5000) + 1, i);
        }
        let mut count = 0;
        let mut last = 0;
        for now in (0..=5000).step_by(7) {
            while let Some((when, _)) = w.poll(now) {
                assert!(when >= last && when <= now);
                last = when;
                count += 1;
            }
        }
        count += drain_until(&mut w, 5001).len();
        assert_eq!(count, 100_000);
        assert_eq!(w.len(), 0);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn deadline() -> impl Strategy<Value = u64> {
            prop_oneof![
                0u64..200,
                0u64..100_000,
                0u64..(1 << 31),
                0u64..(3 * WHEEL_RANGE)
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Deadlines inserted up front fire exactly once, in order, never early, and on the
            /// first poll at or after their deadline.
            #[test]
            fn fire_once_in_order(
                deadlines in prop::collection::vec(deadline(), 1..200),
                steps in prop::collection::vec(prop_oneof![1u64..100, 1u64..(1 << 20), 1u64..(1 << 37)], 1..100),
            ) {
                let mut w = Wheel::new();
                for (i, d) in deadlines.iter().enumerate() {
                    w.insert(*d, i);
                }
                let mut fired = vec![false; deadlines.len()];
                let mut last = 0;
                let mut now = 0;
                let mut steps = steps.into_iter();
                while w.len() > 0 {
                    // Use the given steps, then the wheel's own next expiration.
                    now = match steps.next() { Some(s) => now + s, None => w.next_expiration().unwrap().max(now) };
                    while let Some((when, i)) = w.poll(now) {
                        prop_assert_eq!(when, deadlines[i]);
                        prop_assert!(when <= now, "fired early");
                        prop_assert!(!fired[i], "fired twice");
                        prop_assert!(when >= last, "out of order");
                        fired[i] = true;
                        last = when;
                    }
                    // Nothing left that is due.
                    for (i, d) in deadlines.iter().enumerate() {
                        prop_assert!(fired[i] || *d > now, "late: {} at {}", d, now);
                    }
                }
                prop_assert!(fired.iter().all(|f| *f));
            }

            /// Interleaved inserts, removals and polls (with resets as remove + insert).
            #[test]
            fn interleaved(ops in prop::collection::vec((0u8..4, deadline(), 1u64..5000), 1..300)) {
                let mut w = Wheel::new();
                let mut live: Vec<(Key, u64, usize)> = Vec::new();
                let mut expected: Vec<Option<u64>> = Vec::new();
                let mut now = 0;
                for (op, d, step) in ops {
                    match op {
                        0 | 1 => {
                            let id = expected.len();
                            let when = now + d;
                            expected.push(Some(when));
                            live.push((w.insert(when, id), when, id));
                        }
                        2 if !live.is_empty() => {
                            let (key, _, id) = live.swap_remove(d as usize % live.len());
                            let got = w.remove(key);
                            prop_assert_eq!(got, Some(id).filter(|_| expected[id].is_some()));
                            expected[id] = None;
                        }
                        _ => {
                            now += step;
                            while let Some((when, id)) = w.poll(now) {
                                prop_assert_eq!(Some(when), expected[id]);
                                prop_assert!(when <= now);
                                expected[id] = None;
                            }
                            for e in expected.iter().flatten() {
                                prop_assert!(*e > now, "late");
                            }
                        }
                    }
                }
            }
        }
    }
}
