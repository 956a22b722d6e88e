//! The system allocator, counting the heap bytes in use: what a test run
//! keeps, without the freed pages the allocator holds on to (which RSS
//! shows too), the most in use at once, and how many allocations. Included with `#[path]` by the
//! test binaries that measure memory, each with a single test or its tests
//! run one at a time, so that no other test's allocations blur the count.

#![allow(unsafe_code)]
// Not every binary that includes this reads every counter.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct CountingAllocator;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The heap bytes allocated and not yet freed, by the whole process.
pub fn heap_bytes() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// The most heap bytes in use at once since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from the bytes in use now, and returns them.
pub fn reset_peak() -> usize {
    let now = heap_bytes();
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// The allocations made by the whole process so far (a reallocation counts
/// as one).
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

fn added(size: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; the counter only observes the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` is passed on as received.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            added(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` and `layout` come from `System`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Old and new both count until the old is gone, as when a
            // reallocation moves.
            added(new_size);
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}
