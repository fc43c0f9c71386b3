//! The process's heap: glibc's malloc keeps one arena per thread that
//! contends (up to 8 per core), and freed memory stays in each of them. Under
//! ingest and replication (RocksDB's threads, the RPC and pipe workers) that
//! took a node to 590 MiB RSS with a 512 MiB budget, 256 MiB of it
//! RocksDB's; with two arenas the same `duet-bench all` run peaks at 245
//! MiB with the same throughput. So the server caps the arenas at start.

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
