//! [`Ready`]: the set of readiness states a source has been observed in.
//!
//! The driver translates each OS event into a `Ready` set and ORs it into the source's
//! `ScheduledIo`; tasks read it back (intersected with their [`Interest`]) to decide whether to
//! attempt the syscall. The bit values are internal and packed into the low bits of the
//! `ScheduledIo` state word, so they must stay below `READINESS_MASK` there.

use std::fmt;
use std::ops;

use crate::io::Interest;

const READABLE: usize = 0b00_0001;
const WRITABLE: usize = 0b00_0010;
const READ_CLOSED: usize = 0b00_0100;
const WRITE_CLOSED: usize = 0b00_1000;
#[cfg(any(target_os = "linux", target_os = "android"))]
const PRIORITY: usize = 0b01_0000;
const ERROR: usize = 0b10_0000;

/// Every bit a `Ready` can hold.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ALL_BITS: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | PRIORITY | ERROR;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ALL_BITS: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR;

/// Describes the readiness state of an I/O resource.
///
/// `Ready` tracks which operation an I/O resource is ready to perform.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready(usize);

impl Ready {
    /// Returns the empty `Ready` set.
    pub const EMPTY: Ready = Ready(0);

    /// Returns a `Ready` representing readable readiness.
    pub const READABLE: Ready = Ready(READABLE);

    /// Returns a `Ready` representing writable readiness.
    pub const WRITABLE: Ready = Ready(WRITABLE);

    /// Returns a `Ready` representing read closed readiness.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);

    /// Returns a `Ready` representing write closed readiness.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);

    /// Returns a `Ready` representing priority readiness.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Ready = Ready(PRIORITY);

    /// Returns a `Ready` representing error readiness.
    pub const ERROR: Ready = Ready(ERROR);

    /// Returns a `Ready` representing readiness for all operations.
    pub const ALL: Ready = Ready(ALL_BITS);

    /// The states that, once observed, stay set: a closed half never reopens.
    pub(crate) const ALL_CLOSED: Ready = Ready(READ_CLOSED | WRITE_CLOSED);

    /// Converts a mio event into the readiness it reports.
    pub(crate) fn from_mio(event: &mio::event::Event) -> Ready {
        let mut ready = Ready::EMPTY;
        if event.is_readable() {
            ready |= Ready::READABLE;
        }
        if event.is_writable() {
            ready |= Ready::WRITABLE;
        }
        if event.is_read_closed() {
            ready |= Ready::READ_CLOSED;
        }
        if event.is_write_closed() {
            ready |= Ready::WRITE_CLOSED;
        }
        if event.is_error() {
            ready |= Ready::ERROR;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if event.is_priority() {
            ready |= Ready::PRIORITY;
        }
        ready
    }

    /// Returns true if `Ready` is the empty set.
    pub fn is_empty(self) -> bool {
        self == Ready::EMPTY
    }

    /// Returns `true` if the value includes `readable` (or read closed, which makes a read
    /// return immediately as well).
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE) || self.is_read_closed()
    }

    /// Returns `true` if the value includes writable `readiness` (or write closed).
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE) || self.is_write_closed()
    }

    /// Returns `true` if the value includes read-closed `readiness`.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }

    /// Returns `true` if the value includes write-closed `readiness`.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }

    /// Returns `true` if the value includes priority `readiness`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn is_priority(self) -> bool {
        self.contains(Ready::PRIORITY)
    }

    /// Returns `true` if the value includes error `readiness`.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }

    /// Returns true if every bit of `other` is also set in `self`.
    pub(crate) fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// Builds a set from raw bits, dropping bits that name no state.
    pub(crate) fn from_usize(bits: usize) -> Ready {
        Ready(bits & ALL_BITS)
    }

    /// The raw bits (always within `Ready::ALL`).
    pub(crate) fn as_usize(self) -> usize {
        self.0
    }

    /// The states that satisfy `interest` (e.g. READABLE | READ_CLOSED | ERROR for
    /// `Interest::READABLE`).
    ///
    /// A pending socket error (`EPOLLERR` alone, e.g. the ICMP port-unreachable answer to a
    /// connected UDP socket) satisfies reads and writes: the next syscall returns the error at
    /// once. Without this, a task waiting in `recv` would never be woken to see it.
    pub(crate) fn from_interest(interest: Interest) -> Ready {
        let mut ready = Ready::EMPTY;
        if interest.is_readable() {
            ready |= Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR;
        }
        if interest.is_writable() {
            ready |= Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if interest.is_priority() {
            ready |= Ready::PRIORITY | Ready::READ_CLOSED;
        }
        if interest.is_error() {
            ready |= Ready::ERROR;
        }
        ready
    }

    /// The part of `self` that is relevant to `interest`.
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        Ready(self.0 & Ready::from_interest(interest).0)
    }
}

impl ops::BitOr<Ready> for Ready {
    type Output = Ready;

    #[inline]
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign<Ready> for Ready {
    #[inline]
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd<Ready> for Ready {
    type Output = Ready;

    #[inline]
    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub<Ready> for Ready {
    type Output = Ready;

    #[inline]
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = fmt.debug_struct("Ready");
        s.field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        s.field("is_priority", &self.is_priority());
        s.finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let r = Ready::READABLE | Ready::WRITE_CLOSED;
        assert!(r.is_readable());
        assert!(r.is_writable(), "write closed counts as writable");
        assert!(!r.is_read_closed());
        assert_eq!(r - Ready::READABLE, Ready::WRITE_CLOSED);
        assert_eq!(r & Ready::READABLE, Ready::READABLE);
        assert!(Ready::EMPTY.is_empty());
        assert_eq!(Ready::from_usize(usize::MAX), Ready::ALL);
    }

    #[test]
    fn intersection_with_interest() {
        let all = Ready::ALL;
        assert_eq!(
            all.intersection(Interest::READABLE),
            Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR
        );
        assert_eq!(
            all.intersection(Interest::WRITABLE),
            Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR
        );
        assert_eq!(all.intersection(Interest::ERROR), Ready::ERROR);
        assert!(Ready::WRITABLE.intersection(Interest::READABLE).is_empty());
        // A pending socket error wakes readers and writers: their next syscall reports it.
        assert_eq!(Ready::ERROR.intersection(Interest::READABLE), Ready::ERROR);
        assert_eq!(Ready::ERROR.intersection(Interest::WRITABLE), Ready::ERROR);
    }
}
