//! The waiter queue shared by every primitive of `corio::sync`.
//!
//! Each primitive keeps its waiters in a [`WaitQueue`] behind its own mutex. The queue is a
//! doubly linked list threaded through a slab (`Vec` of slots plus a free list), so a waiter
//! is named by a plain `usize` key that its future stores:
//!
//! * `push_back` allocates a slot and links it at the tail — O(1);
//! * `unlink` takes a slot out of the FIFO order but keeps its value, so the notifier can
//!   record *why* it was woken (a permit count, a notification) for the owner to read — O(1);
//! * `remove` frees the slot — O(1). Only the owning future calls it (when it completes or is
//!   dropped), so a key is never reused while its owner still holds it: no generation counter is
//!   needed, and a dropped future leaves no trace because its `Drop` always removes its slot.
//!
//! Freed slots are recycled, so memory is bounded by the largest number of simultaneous waiters.

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    prev: usize,
    next: usize,
    linked: bool,
}

/// A FIFO of waiters addressed by stable keys (see the module doc).
#[derive(Debug)]
pub(crate) struct WaitQueue<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    linked: usize,
}

impl<T> WaitQueue<T> {
    /// An empty queue; `const` so primitives can offer `const_new`.
    pub(crate) const fn new() -> Self {
        WaitQueue {
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            linked: 0,
        }
    }

    /// Allocates a slot for `value` and links it at the back of the queue.
    pub(crate) fn push_back(&mut self, value: T) -> usize {
        let slot = Slot {
            value: Some(value),
            prev: self.tail,
            next: NIL,
            linked: true,
        };
        let key = match self.free.pop() {
            Some(key) => {
                self.slots[key] = slot;
                key
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.slots[self.tail].next = key;
        }
        self.tail = key;
        self.linked += 1;
        key
    }

    /// Takes `key` out of the queue order (if it is still linked); its value stays in place.
    pub(crate) fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let slot = &mut self.slots[key];
            if !slot.linked {
                return;
            }
            slot.linked = false;
            (
                std::mem::replace(&mut slot.prev, NIL),
                std::mem::replace(&mut slot.next, NIL),
            )
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
        self.linked -= 1;
    }

    /// Unlinks and frees `key`, returning its value. Called only by the key's owner.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        self.unlink(key);
        self.free.push(key);
        self.slots[key]
            .value
            .take()
            .expect("wait queue key freed twice")
    }

    /// Whether `key` is still waiting in the queue order.
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.slots[key].linked
    }

    /// The value stored for `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: usize) -> &T {
        self.slots[key]
            .value
            .as_ref()
            .expect("wait queue key not allocated")
    }

    /// The value stored for `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        self.slots[key]
            .value
            .as_mut()
            .expect("wait queue key not allocated")
    }

    /// The key at the front of the queue.
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// The key at the back of the queue.
    pub(crate) fn back(&self) -> Option<usize> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Unlinks the front key and returns it (its value stays until the owner removes it).
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Whether no key is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Number of linked keys.
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// Number of allocated slots (linked or not); used by tests to check for leaks.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

impl<T> Default for WaitQueue<T> {
    fn default() -> Self {
        WaitQueue::new()
    }
}

#[cfg(test)]
mod tests {
    use super::WaitQueue;

    #[test]
    fn fifo_unlink_remove_and_reuse() {
        let mut q = WaitQueue::new();
        let a = q.push_back('a');
        let b = q.push_back('b');
        let c = q.push_back('c');
        assert_eq!(q.len(), 3);
        q.unlink(b);
        assert!(!q.is_linked(b));
        assert_eq!(*q.get(b), 'b');
        assert_eq!(q.pop_front(), Some(a));
        assert_eq!(q.front(), Some(c));
        assert_eq!(q.back(), Some(c));
        assert_eq!(q.remove(b), 'b');
        assert_eq!(q.remove(a), 'a');
        let d = q.push_back('d');
        assert!(d == a || d == b, "freed slot reused");
        assert_eq!(q.pop_front(), Some(c));
        assert_eq!(q.pop_front(), Some(d));
        assert_eq!(q.pop_front(), None);
        assert!(q.is_empty());
        q.remove(c);
        q.remove(d);
        assert_eq!(q.allocated(), 0);
    }

    #[test]
    fn remove_middle_keeps_links() {
        let mut q = WaitQueue::new();
        let keys: Vec<_> = (0..5).map(|i| q.push_back(i)).collect();
        q.remove(keys[2]);
        q.remove(keys[0]);
        q.remove(keys[4]);
        let mut order = Vec::new();
        while let Some(k) = q.pop_front() {
            order.push(*q.get(k));
        }
        assert_eq!(order, vec![1, 3]);
    }
}
