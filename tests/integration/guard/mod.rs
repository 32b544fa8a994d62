//! Test-only buffers that sit flush against an inaccessible guard page, so a kernel that reads or
//! writes one element past the end (or before the start) of its slice faults at once instead of
//! silently touching a neighbour's memory.
//!
//! Layout of one mapping: `[guard page][data pages][guard page]`, both guards `PROT_NONE`. The
//! slice is placed either so it ENDS exactly where the trailing guard begins, or so it STARTS exactly
//! where the leading guard ends.
#![allow(dead_code)]

use std::marker::PhantomData;
use std::ptr::NonNull;

/// Where the slice sits in its mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// The last element's last byte is the last byte before the trailing guard page.
    End,
    /// The first element's first byte is the first byte after the leading guard page.
    Start,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is a valid name on every unix.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    assert!(p > 0, "sysconf(_SC_PAGESIZE) failed");
    p as usize
}

/// A slice of `len` elements of `T` flush against a guard page.
pub struct Guarded<T: bytemuck::Pod> {
    map: NonNull<u8>,
    map_len: usize,
    data: NonNull<T>,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: bytemuck::Pod> Guarded<T> {
    /// A zeroed buffer of `len` elements placed by `flush`. Panics if the mapping fails.
    pub fn new(len: usize, flush: Flush) -> Self {
        let size = std::mem::size_of::<T>();
        assert!(size > 0 && page_size().is_multiple_of(std::mem::align_of::<T>()));
        // Sizes that are powers of two (all element types here) keep `T` aligned at both
        // placements: the page boundary is aligned, and `len * size` is a multiple of `size`.
        assert!(size.is_power_of_two(), "element size must be a power of two");
        let page = page_size();
        let bytes = len.checked_mul(size).expect("buffer size");
        let data_pages = bytes.div_ceil(page).max(1);
        let map_len = (data_pages + 2) * page;
        // SAFETY: an anonymous private mapping at an address the kernel picks; no existing memory
        // is affected. The result is checked against MAP_FAILED below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(map != libc::MAP_FAILED, "mmap of {map_len} bytes failed");
        let map = NonNull::new(map as *mut u8).expect("mmap returned null");
        // SAFETY: both ranges are whole pages inside the mapping just created (offset 0 and
        // offset map_len - page, each one page long), and nothing references them.
        unsafe {
            assert_eq!(libc::mprotect(map.as_ptr() as *mut libc::c_void, page, libc::PROT_NONE), 0);
            let tail = map.as_ptr().add(map_len - page);
            assert_eq!(libc::mprotect(tail as *mut libc::c_void, page, libc::PROT_NONE), 0);
        }
        let offset = match flush {
            Flush::Start => page,
            Flush::End => map_len - page - bytes,
        };
        // SAFETY: `offset` lies in [page, map_len - page] by construction (bytes <= data_pages *
        // page), so the pointer stays inside the mapping; it is aligned for T (see above).
        let data = unsafe { NonNull::new_unchecked(map.as_ptr().add(offset) as *mut T) };
        Guarded { map, map_len, data, len, _t: PhantomData }
    }

    /// A buffer holding a copy of `values`.
    pub fn from_slice(values: &[T], flush: Flush) -> Self {
        let mut g = Self::new(values.len(), flush);
        g.as_mut_slice().copy_from_slice(values);
        g
    }

    /// A buffer of `len` copies of `value`.
    pub fn filled(len: usize, value: T, flush: Flush) -> Self {
        let mut g = Self::new(len, flush);
        g.as_mut_slice().fill(value);
        g
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `data .. data + len` lies in the read-write part of the mapping, which lives as
        // long as `self`; the mapping was zero-filled by the kernel and every bit pattern is a valid
        // `T` (Pod). The shared borrow of `self` prevents concurrent mutable access.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`; the exclusive borrow of `self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }

    /// Address of the first byte after the slice (the guard page for `Flush::End`).
    pub fn end_addr(&self) -> usize {
        self.data.as_ptr() as usize + self.len * std::mem::size_of::<T>()
    }
    /// Address of the slice's first byte (right after the guard page for `Flush::Start`).
    pub fn start_addr(&self) -> usize {
        self.data.as_ptr() as usize
    }
    /// Address of the first byte of the trailing guard page.
    pub fn trailing_guard(&self) -> usize {
        self.map.as_ptr() as usize + self.map_len - page_size()
    }
    /// Address of the first byte after the leading guard page.
    pub fn after_leading_guard(&self) -> usize {
        self.map.as_ptr() as usize + page_size()
    }
}

impl<T: bytemuck::Pod> Drop for Guarded<T> {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; no slice borrowed from it outlives
        // `self` (the borrows above are tied to `&self` / `&mut self`).
        let rc = unsafe { libc::munmap(self.map.as_ptr() as *mut libc::c_void, self.map_len) };
        assert_eq!(rc, 0, "munmap failed");
    }
}
