//! A global allocator that zero-fills every block before freeing it. Secrets pass through
//! buffers custody does not own (serde's scratch space, `std::process::Command`'s copies of
//! the child's environment, age's decryption buffers); wiping on free erases those copies too.
//! The binary installs it (`src/main.rs`); the cost is one memset per free.

use std::alloc::{GlobalAlloc, Layout, System};

/// [`System`], wiping each block on `dealloc` (and the old block on `realloc`).
pub struct WipeOnFree;

// A global allocator is unsafe by definition (GlobalAlloc is an unsafe trait).
// SAFETY: every method forwards to `System` with the caller's layout; `dealloc` only writes
// zeros into the block the caller is giving up, within its size, before freeing it.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for WipeOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            std::ptr::write_bytes(ptr, 0, layout.size());
            // Keep the stores: the optimiser may not treat them as dead before `free`.
            std::hint::black_box(ptr);
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Always move, so that the old block is wiped rather than released by `realloc`.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = System.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
