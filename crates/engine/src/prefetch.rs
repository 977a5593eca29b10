//! Software prefetch for the passes that stream over edges and look up each target in a
//! per-node array: the lookups are random and the CPU cannot guess them, but the edge array
//! tells us which ones come next, so we ask for them a few edges ahead.

/// How many edges ahead to prefetch: far enough to hide a memory access, near enough for
/// the lines to still be in cache when used.
pub const DISTANCE: usize = 16;

/// Hints that `slice[i]` will be read soon. Does nothing when `i` is out of range or on
/// other architectures.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = slice.get(i) {
        // SAFETY: a prefetch never faults and has no visible effect; the pointer is to an
        // element of `slice`, so it is valid anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                item as *const T as *const i8,
                std::arch::x86_64::_MM_HINT_T0,
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, i);
}
