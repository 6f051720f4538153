//! [`ReadBuf`]: the cursor every `poll_read` writes into.
//!
//! A read target may be partly uninitialised memory (a `Vec`'s spare capacity), and handing
//! uninitialised bytes to safe code as `&mut [u8]` is undefined behaviour. `ReadBuf` therefore
//! tracks two positions over one buffer: how much has been *filled* with read data, and how much
//! is known to be *initialised*, with `filled <= initialized <= capacity` at all times. Readers
//! that can write into uninitialised memory (the OS) use [`ReadBuf::unfilled_mut`]; everyone else
//! asks for an initialised slice with [`ReadBuf::initialize_unfilled`] and pays for zeroing once.

use std::fmt;
use std::mem::MaybeUninit;

/// A wrapper around a byte buffer that is incrementally filled and initialised.
///
/// The buffer is split into three regions:
///
/// ```text
/// [             capacity              ]
/// [ filled |         unfilled         ]
/// [    initialized    | uninitialized ]
/// ```
///
/// `filled` is always a prefix of `initialized`, which is a prefix of the whole buffer.
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// Creates a new `ReadBuf` over a fully initialised buffer; nothing is filled yet.
    #[inline]
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and `ReadBuf` never
        // writes uninitialised bytes into the buffer (every write path stores a real `u8`), so
        // the caller's `&mut [u8]` stays fully initialised for its whole lifetime.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// Creates a new `ReadBuf` over a possibly uninitialised buffer; nothing is filled or
    /// known to be initialised yet.
    #[inline]
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// Returns the total capacity of the buffer.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Returns the filled part of the buffer.
    #[inline]
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `filled <= initialized`, so the first `filled` bytes are initialised.
        unsafe { slice_assume_init(&self.buf[..self.filled]) }
    }

    /// Returns a mutable reference to the filled part of the buffer.
    #[inline]
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: `filled <= initialized`, so the first `filled` bytes are initialised.
        unsafe { slice_assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// Returns a new `ReadBuf` over the unfilled part of this one.
    ///
    /// The new buffer starts empty; at most `n` bytes of it are visible.
    #[inline]
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let max = n.min(self.remaining());
        let initialized = self.initialized - self.filled;
        ReadBuf {
            buf: &mut self.buf[self.filled..self.filled + max],
            filled: 0,
            initialized: initialized.min(max),
        }
    }

    /// Returns the initialised part of the buffer (which includes the filled part).
    #[inline]
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: the invariant of the type says the first `initialized` bytes are initialised.
        unsafe { slice_assume_init(&self.buf[..self.initialized]) }
    }

    /// Returns a mutable reference to the initialised part of the buffer.
    #[inline]
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: the invariant of the type says the first `initialized` bytes are initialised.
        unsafe { slice_assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// Returns the whole buffer as a possibly uninitialised slice.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialise any byte that was initialised before (for example by
    /// writing `MaybeUninit::uninit()` into it).
    #[inline]
    pub unsafe fn inner_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        self.buf
    }

    /// Returns the unfilled part of the buffer as a possibly uninitialised slice.
    ///
    /// # Safety
    ///
    /// The caller must not de-initialise any byte that was initialised before.
    #[inline]
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// Returns the unfilled part of the buffer, zeroing whatever part of it was not
    /// initialised yet.
    #[inline]
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// Returns the first `n` bytes of the unfilled part, zeroing whatever part of them was not
    /// initialised yet.
    ///
    /// # Panics
    ///
    /// Panics if `self.remaining()` is less than `n`.
    #[inline]
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(self.remaining() >= n, "n overflows remaining");
        let end = self.filled + n;
        if self.initialized < end {
            for byte in &mut self.buf[self.initialized..end] {
                *byte = MaybeUninit::new(0);
            }
            self.initialized = end;
        }
        // SAFETY: every byte below `end` is initialised: below the old `initialized` by the
        // invariant, and the rest was just zeroed.
        unsafe { slice_assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// Returns the number of bytes at the end of the buffer that are not filled yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Clears the buffer: nothing is filled any more; initialisation is kept.
    #[inline]
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Advances the filled position by `n` bytes.
    ///
    /// # Panics
    ///
    /// Panics if the filled region would grow beyond the initialised region.
    #[inline]
    pub fn advance(&mut self, n: usize) {
        let new = self.filled.checked_add(n).expect("filled overflow");
        self.set_filled(new);
    }

    /// Sets the filled position to `n` bytes from the start of the buffer.
    ///
    /// Setting it lower than the current position forgets filled bytes (they stay
    /// initialised).
    ///
    /// # Panics
    ///
    /// Panics if the filled region would grow beyond the initialised region.
    #[inline]
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "filled must not become larger than initialized"
        );
        self.filled = n;
    }

    /// Asserts that the first `n` unfilled bytes of the buffer are initialised.
    ///
    /// `ReadBuf` assumes that bytes are never de-initialised, so this never shrinks the
    /// initialised region.
    ///
    /// # Safety
    ///
    /// The caller must ensure that the first `n` unfilled bytes really are initialised.
    #[inline]
    pub unsafe fn assume_init(&mut self, n: usize) {
        let new = self.filled + n;
        if new > self.initialized {
            self.initialized = new;
        }
    }

    /// Appends `buf` to the filled part of the buffer.
    ///
    /// # Panics
    ///
    /// Panics if `self.remaining()` is less than `buf.len()`.
    #[inline]
    pub fn put_slice(&mut self, buf: &[u8]) {
        assert!(
            self.remaining() >= buf.len(),
            "buf.len() must fit in remaining(); buf.len() = {}, remaining() = {}",
            buf.len(),
            self.remaining()
        );
        let end = self.filled + buf.len();
        for (dst, src) in self.buf[self.filled..end].iter_mut().zip(buf) {
            *dst = MaybeUninit::new(*src);
        }
        if self.initialized < end {
            self.initialized = end;
        }
        self.filled = end;
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// # Safety
/// Every byte of `slice` must be initialised.
unsafe fn slice_assume_init(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; the caller guarantees initialisation.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// # Safety
/// Every byte of `slice` must be initialised.
unsafe fn slice_assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: same layout; the caller guarantees initialisation.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_is_initialized_not_filled() {
        let mut storage = [1u8; 8];
        let buf = ReadBuf::new(&mut storage);
        assert_eq!(buf.capacity(), 8);
        assert_eq!(buf.filled(), &[] as &[u8]);
        assert_eq!(buf.initialized().len(), 8);
        assert_eq!(buf.remaining(), 8);
    }

    #[test]
    fn uninit_tracks_initialization() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        assert_eq!(buf.initialized().len(), 0);
        buf.put_slice(b"ab");
        assert_eq!(buf.filled(), b"ab");
        assert_eq!(buf.initialized().len(), 2);
        let unfilled = buf.initialize_unfilled_to(3);
        assert_eq!(unfilled, &[0, 0, 0]);
        unfilled.copy_from_slice(b"cde");
        assert_eq!(buf.initialized().len(), 5);
        buf.advance(3);
        assert_eq!(buf.filled(), b"abcde");
        buf.clear();
        assert_eq!(buf.filled().len(), 0);
        assert_eq!(buf.initialized().len(), 5, "clear keeps initialisation");
        buf.set_filled(4);
        assert_eq!(buf.filled(), b"abcd");
        // SAFETY: nothing beyond byte 5 is read; asserting fewer bytes than known is a no-op.
        unsafe { buf.assume_init(1) };
        assert_eq!(buf.initialized().len(), 5);
    }

    #[test]
    #[should_panic]
    fn advance_past_initialized_panics() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.advance(1);
    }

    #[test]
    #[should_panic]
    fn put_slice_overflow_panics() {
        let mut storage = [0u8; 2];
        let mut buf = ReadBuf::new(&mut storage);
        buf.put_slice(b"abc");
    }

    #[test]
    fn take_limits_and_shares_memory() {
        let mut storage = [0u8; 8];
        let mut buf = ReadBuf::new(&mut storage);
        buf.put_slice(b"xy");
        let mut sub = buf.take(3);
        assert_eq!(sub.capacity(), 3);
        assert_eq!(sub.initialized().len(), 3);
        sub.put_slice(b"123");
        assert_eq!(sub.remaining(), 0);
        let n = sub.filled().len();
        buf.advance(n);
        assert_eq!(buf.filled(), b"xy123");
        assert_eq!(buf.take(100).capacity(), 3);
    }
}
