//! The process's heap: glibc's malloc keeps one arena per thread that
//! contends (up to 8 per core), and freed memory stays in each of them. Under
//! ingest and replication (RocksDB's threads, the RPC and pipe workers) that
//! took a node to 590 MiB RSS with a 512 MiB budget, 256 MiB of it
//! RocksDB's; with two arenas the same `duet-bench all` run peaks at 245
//! MiB with the same throughput. So the server caps the arenas at start.

/// What malloc holds: bytes in use (RocksDB's memtables and cache are
/// among them) and bytes freed but kept in its arenas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heap {
    pub in_use: u64,
    pub free: u64,
}

/// The heap now (zeros where glibc's `mallinfo2` is not there).
pub fn heap() -> Heap {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads malloc's counters.
        let m = unsafe { libc::mallinfo2() };
        Heap {
            in_use: (m.uordblks + m.hblkhd) as u64,
            free: m.fordblks as u64,
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    Heap::default()
}

/// Arenas the server allows unless `MALLOC_ARENA_MAX` says otherwise.
pub const MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`] (call first in `main`,
/// before threads start). An explicit `MALLOC_ARENA_MAX` in the
/// environment wins (glibc reads it itself). Elsewhere (musl, other
/// systems) nothing to do.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a malloc parameter; called before any
        // other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}
