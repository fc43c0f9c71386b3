// Included by the property suites that feed decoders arbitrary bytes
// (engine, rpc and pipe `tests/fuzz_*.rs`).

/// No single allocation over 64 MiB: the inputs are a few hundred bytes, so
/// one that big is a decoder trusting a declared length. Over it the test
/// process aborts (an allocator must not unwind), naming the size.
struct Capped;

fn cap(size: usize) {
    if size > 64 << 20 {
        // To the real stderr (eprintln! would go to the test's captured output).
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "allocation of {size} bytes: a decoder trusted a declared length"
        );
        std::process::abort();
    }
}

// SAFETY: the system allocator, unchanged, behind a size check.
unsafe impl std::alloc::GlobalAlloc for Capped {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        cap(l.size());
        std::alloc::System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        std::alloc::System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        cap(new);
        std::alloc::System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;
