//! [`Interest`]: which readiness events a task (or a registration) cares about.
//!
//! An `Interest` is given when a source is registered with the driver (it becomes the
//! `mio::Interest` of the registration) and when a task waits for readiness (it selects which
//! `Ready` bits wake the task).

use std::fmt;
use std::ops;

const READABLE: usize = 0b0001;
const WRITABLE: usize = 0b0010;
#[cfg(any(target_os = "linux", target_os = "android"))]
const PRIORITY: usize = 0b0100;
const ERROR: usize = 0b1000;

/// Readiness event interest.
///
/// Specifies the readiness events the caller is interested in when awaiting on I/O resource
/// readiness states.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct Interest(usize);

impl Interest {
    /// Interest in all readable events.
    ///
    /// Readable interest includes read-closed events.
    pub const READABLE: Interest = Interest(READABLE);

    /// Interest in all writable events.
    ///
    /// Writable interest includes write-closed events.
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Interest in error events.
    ///
    /// Passes error interest to the underlying OS selector. Errors are always reported by the
    /// OS, so on its own this registers the source for readable events with the OS queue.
    pub const ERROR: Interest = Interest(ERROR);

    /// Returns a `Interest` set representing priority completion interests.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Interest = Interest(PRIORITY);

    /// Returns true if the value includes readable interest.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Returns true if the value includes writable interest.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Returns true if the value includes error interest.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Returns true if the value includes priority interest.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Add together two `Interest` values.
    ///
    /// This function works from a `const` context.
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// Remove `Interest` from `self`.
    ///
    /// Interests present in `other` but *not* in `self` are ignored. Returns `None` if the set
    /// would be empty after removing `other`.
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let value = self.0 & !other.0;
        if value != 0 {
            Some(Interest(value))
        } else {
            None
        }
    }

    /// The interest as mio understands it. mio has no error interest (errors are always
    /// reported), so an error-only interest registers for readable events.
    pub(crate) fn to_mio(self) -> mio::Interest {
        fn add(acc: Option<mio::Interest>, i: mio::Interest) -> Option<mio::Interest> {
            Some(match acc {
                Some(acc) => acc | i,
                None => i,
            })
        }
        let mut mio = None;
        if self.is_readable() {
            mio = add(mio, mio::Interest::READABLE);
        }
        if self.is_writable() {
            mio = add(mio, mio::Interest::WRITABLE);
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.is_priority() {
            mio = add(mio, mio::Interest::PRIORITY);
        }
        mio.unwrap_or(mio::Interest::READABLE)
    }
}

impl ops::BitOr for Interest {
    type Output = Self;

    #[inline]
    fn bitor(self, other: Self) -> Self {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    #[inline]
    fn bitor_assign(&mut self, other: Self) {
        *self = *self | other;
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if self.is_readable() {
            names.push("READABLE");
        }
        if self.is_writable() {
            names.push("WRITABLE");
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.is_priority() {
            names.push("PRIORITY");
        }
        if self.is_error() {
            names.push("ERROR");
        }
        write!(fmt, "{}", names.join(" | "))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn add_remove() {
        let both = Interest::READABLE.add(Interest::WRITABLE);
        assert!(both.is_readable() && both.is_writable());
        assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
        assert_eq!(
            Interest::READABLE.remove(Interest::WRITABLE),
            Some(Interest::READABLE)
        );
        assert_eq!(format!("{:?}", both), "READABLE | WRITABLE");
    }

    #[test]
    fn to_mio() {
        assert_eq!(
            (Interest::READABLE | Interest::WRITABLE).to_mio(),
            mio::Interest::READABLE | mio::Interest::WRITABLE
        );
        assert_eq!(Interest::ERROR.to_mio(), mio::Interest::READABLE);
    }
}
