//! An allocator that asks Linux for transparent huge pages on large blocks.
//!
//! The analyses walk arrays of hundreds of megabytes in random order (depth-first search,
//! semidominators, breadth-first distances). With 4 KiB pages nearly every step misses the
//! TLB, and filling a fresh array costs one page fault per 4 KiB. Where the kernel leaves
//! huge pages to the program (`/sys/kernel/mm/transparent_hugepage/enabled` = `madvise`, the
//! default on Debian), `madvise(MADV_HUGEPAGE)` on each large block turns that into one fault
//! and one TLB entry per 2 MiB. Elsewhere the call is a harmless no-op.
//!
//! A library does not pick the program's allocator; a binary opts in with
//! `#[global_allocator] static ALLOC: leakhunt_engine::huge_pages::HugePages = HugePages;`.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, plus the huge-page hint on blocks of [`HugePages::MIN_BYTES`] and up.
pub struct HugePages;

const HUGE_PAGE: usize = 2 << 20;

impl HugePages {
    /// Blocks smaller than this gain little (at most a few huge pages) and are left alone.
    pub const MIN_BYTES: usize = 8 << 20;
}

/// Hands memory freed inside the allocator's arenas back to the system. glibc returns a freed
/// block that came from `mmap` at once, but keeps free space inside its arenas (where a
/// block ended up when the mmap threshold had risen, or huge pages backed it) until asked:
/// a process that analyses one snapshot after another and keeps only small measures of each
/// (`hunt`) would otherwise hold on to hundreds of megabytes per snapshot.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Marks the whole huge pages inside `[ptr, ptr + len)`.
fn advise(ptr: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + len) & !(HUGE_PAGE - 1);
        if start < end {
            // SAFETY: the range lies inside a block we own; the hint changes no contents.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

// SAFETY: every call is forwarded to `System`; the hint only affects how pages are backed.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && layout.size() >= Self::MIN_BYTES {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && layout.size() >= Self::MIN_BYTES {
            advise(p, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's, under `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && new_size >= Self::MIN_BYTES {
            advise(p, new_size);
        }
        p
    }
}
