//! A minimal intrusive doubly linked list, used for the readiness waiters of a `ScheduledIo`.
//!
//! Why intrusive: the nodes live inside pinned futures (`Readiness`), so any number of tasks
//! can wait on one source without the driver allocating anything, and dropping a future frees
//! its node for free. The list itself owns nothing; it only strings together raw pointers.
//!
//! The list does no locking. The owner (here: the `ScheduledIo` waiter mutex) must serialise
//! every call, and node memory must stay valid and unmoved while the node is linked. Those two
//! obligations are why the mutating operations are `unsafe`.

use std::fmt;
use std::marker::PhantomPinned;
use std::ptr::{self, NonNull};

/// Implemented by node types that embed a [`Pointers`] field.
///
/// # Safety
///
/// `pointers` must return a pointer to a `Pointers<Self>` field inside `*node` (the same field
/// for every call) without creating a reference to the whole node.
pub(crate) unsafe trait Linked {
    /// Pointer to the node's embedded links.
    ///
    /// # Safety
    ///
    /// `node` must point to a live node.
    unsafe fn pointers(node: NonNull<Self>) -> NonNull<Pointers<Self>>;
}

/// The links embedded in every node. `PhantomPinned` makes the node `!Unpin`, so the pinned
/// future holding it can never be moved while its address is in a list (and it also tells the
/// compiler that `&mut` to the node may be aliased by the list's pointers).
pub(crate) struct Pointers<T: ?Sized> {
    prev: Option<NonNull<T>>,
    next: Option<NonNull<T>>,
    _pin: PhantomPinned,
}

impl<T: ?Sized> Pointers<T> {
    /// Unlinked links.
    pub(crate) const fn new() -> Self {
        Pointers {
            prev: None,
            next: None,
            _pin: PhantomPinned,
        }
    }
}

impl<T: ?Sized> fmt::Debug for Pointers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pointers")
            .field("prev", &self.prev.map(|p| p.as_ptr() as *const ()))
            .field("next", &self.next.map(|p| p.as_ptr() as *const ()))
            .finish()
    }
}

/// A doubly linked list: new nodes go to the front, the back is the oldest node.
pub(crate) struct LinkedList<T: Linked> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
}

// Raw-pointer helpers: every access is a raw read or write of one field of the `Pointers`, so no
// `&`/`&mut` to a node is ever created here.
//
// # Safety (all four)
//
// `node` must be live, and the caller must hold the list owner's lock so that the access is
// exclusive.

unsafe fn prev<T: Linked>(node: NonNull<T>) -> Option<NonNull<T>> {
    // SAFETY: `node` is live (caller contract), so `T::pointers` returns a valid, aligned pointer
    // to its `Pointers` field; `addr_of!` reads one field without referencing the node, and the
    // owner's lock rules out a concurrent write.
    unsafe { ptr::addr_of!((*T::pointers(node).as_ptr()).prev).read() }
}
unsafe fn next<T: Linked>(node: NonNull<T>) -> Option<NonNull<T>> {
    // SAFETY: as in `prev`.
    unsafe { ptr::addr_of!((*T::pointers(node).as_ptr()).next).read() }
}
unsafe fn set_prev<T: Linked>(node: NonNull<T>, value: Option<NonNull<T>>) {
    // SAFETY: as in `prev`; the owner's lock makes this write exclusive.
    unsafe { ptr::addr_of_mut!((*T::pointers(node).as_ptr()).prev).write(value) }
}
unsafe fn set_next<T: Linked>(node: NonNull<T>, value: Option<NonNull<T>>) {
    // SAFETY: as in `set_prev`.
    unsafe { ptr::addr_of_mut!((*T::pointers(node).as_ptr()).next).write(value) }
}

impl<T: Linked> LinkedList<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        LinkedList {
            head: None,
            tail: None,
        }
    }

    /// True when no node is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The oldest node, if any.
    pub(crate) fn back(&self) -> Option<NonNull<T>> {
        self.tail
    }

    /// Links `node` at the front.
    ///
    /// # Safety
    ///
    /// `node` must be live, not linked in any list, and must stay live and unmoved until it
    /// has been removed again (by `remove` or `pop_back`).
    pub(crate) unsafe fn push_front(&mut self, node: NonNull<T>) {
        debug_assert!(self.head != Some(node));
        // SAFETY: `node` and the current head are live (caller contract / list invariant).
        unsafe {
            set_next(node, self.head);
            set_prev(node, None);
            match self.head {
                Some(head) => set_prev(head, Some(node)),
                None => self.tail = Some(node),
            }
        }
        self.head = Some(node);
    }

    /// Unlinks and returns the oldest node.
    #[allow(dead_code)] // part of the list's API; exercised by the tests
    pub(crate) fn pop_back(&mut self) -> Option<NonNull<T>> {
        let tail = self.tail?;
        // SAFETY: `tail` is linked, hence live (push_front contract), and linked in this list.
        unsafe { self.remove(tail) };
        Some(tail)
    }

    /// Unlinks `node` if it is linked in this list; returns whether it was.
    ///
    /// A node that was already removed (its links were reset to `None`) is recognised and left
    /// alone, so a future's drop can call this whether or not the driver already unlinked it.
    ///
    /// # Safety
    ///
    /// `node` must be live and either linked in *this* list or in no list at all.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<T>) -> bool {
        // SAFETY: `node` is live (caller contract); its neighbours are linked, hence live.
        unsafe {
            let p = prev(node);
            let n = next(node);
            match p {
                Some(p) => set_next(p, n),
                None => {
                    if self.head != Some(node) {
                        // Not linked: an unlinked node has no prev and is not the head.
                        return false;
                    }
                    self.head = n;
                }
            }
            match n {
                Some(n) => set_prev(n, p),
                None => self.tail = p,
            }
            set_prev(node, None);
            set_next(node, None);
        }
        true
    }

    /// The node linked before (newer than) `node`, for walking from the back to the front.
    ///
    /// # Safety
    ///
    /// `node` must be live and linked in this list.
    pub(crate) unsafe fn prev_of(&self, node: NonNull<T>) -> Option<NonNull<T>> {
        // SAFETY: forwarded caller contract.
        unsafe { prev(node) }
    }
}

impl<T: Linked> Default for LinkedList<T> {
    fn default() -> Self {
        LinkedList::new()
    }
}

impl<T: Linked> fmt::Debug for LinkedList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedList")
            .field("head", &self.head.map(|p| p.as_ptr() as *const ()))
            .field("tail", &self.tail.map(|p| p.as_ptr() as *const ()))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::pin::Pin;

    struct Node {
        pointers: Pointers<Node>,
        value: u32,
    }

    // SAFETY: returns the address of the `pointers` field without creating a reference.
    unsafe impl Linked for Node {
        unsafe fn pointers(node: NonNull<Self>) -> NonNull<Pointers<Self>> {
            // SAFETY: `node` is live (trait contract), so the field projection is in bounds.
            unsafe { NonNull::new_unchecked(ptr::addr_of_mut!((*node.as_ptr()).pointers)) }
        }
    }

    fn node(value: u32) -> Pin<Box<Node>> {
        Box::pin(Node {
            pointers: Pointers::new(),
            value,
        })
    }

    fn ptr(n: &Pin<Box<Node>>) -> NonNull<Node> {
        NonNull::from(&**n)
    }

    fn collect(list: &LinkedList<Node>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = list.back();
        while let Some(n) = cur {
            // SAFETY: every linked node is alive for the whole test.
            unsafe {
                out.push((*n.as_ptr()).value);
                cur = list.prev_of(n);
            }
        }
        out
    }

    #[test]
    fn push_remove_pop() {
        let (a, b, c) = (node(1), node(2), node(3));
        let mut list = LinkedList::new();
        // SAFETY: the nodes are pinned boxes that outlive the list's use of them.
        unsafe {
            list.push_front(ptr(&a));
            list.push_front(ptr(&b));
            list.push_front(ptr(&c));
            assert_eq!(collect(&list), vec![1, 2, 3]);
            assert!(list.remove(ptr(&b)));
            assert!(!list.remove(ptr(&b)), "second remove is a no-op");
            assert_eq!(collect(&list), vec![1, 3]);
        }
        assert_eq!(list.pop_back(), Some(ptr(&a)));
        assert_eq!(list.pop_back(), Some(ptr(&c)));
        assert_eq!(list.pop_back(), None);
        assert!(list.is_empty());
        // SAFETY: `a` is live and unlinked.
        assert!(!unsafe { list.remove(ptr(&a)) });
    }
}
