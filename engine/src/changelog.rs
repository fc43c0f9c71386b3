//! The change log as pipes see it: a small trait the engine implements (and an
//! in-memory log for pipe tests), plus the conformance suite both must pass.
//!
//! Positions are local sequence numbers starting at 1; an entry's bytes are an
//! encoded [`ChangeEvent`]. `subscribe` gives a watch channel carrying the
//! last committed sequence, so a reader sleeps until there is something to
//! read instead of polling.

use crate::error::{Error, Result};
use crate::event::{ChangeEvent, EventHeader};
use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::watch;

/// One committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: u64,
    pub bytes: Vec<u8>,
}

impl LogEntry {
    pub fn header(&self) -> Result<EventHeader> {
        EventHeader::decode(&self.bytes)
    }
    pub fn decode(&self) -> Result<ChangeEvent> {
        ChangeEvent::decode(&self.bytes)
    }
}

pub trait ChangeLog: Send + Sync {
    /// Sequence of the newest committed entry; 0 before the first.
    fn last_seq(&self) -> u64;
    /// Oldest sequence still held (`last_seq() + 1` when trimming emptied it).
    fn first_seq(&self) -> u64;
    /// Entries with `seq >= from`, in order: at most `max_events`, and no more
    /// bytes than `max_bytes` except that one entry is always returned if any
    /// exists. `Error::Trimmed` if `from` is below `first_seq()`.
    fn read(&self, from: u64, max_events: usize, max_bytes: usize) -> Result<Vec<LogEntry>>;
    /// The last committed sequence, updated on every commit.
    fn subscribe(&self) -> watch::Receiver<u64>;
    /// Removes every entry with `seq < below`; returns how many were removed.
    fn trim_below(&self, below: u64) -> Result<u64>;
}

/// An in-memory change log for tests of code that reads logs (pipes).
pub struct MemLog {
    inner: Mutex<MemInner>,
    tx: watch::Sender<u64>,
}

struct MemInner {
    entries: VecDeque<LogEntry>,
    first: u64,
    last: u64,
}

impl Default for MemLog {
    fn default() -> Self {
        MemLog {
            inner: Mutex::new(MemInner {
                entries: VecDeque::new(),
                first: 1,
                last: 0,
            }),
            tx: watch::channel(0).0,
        }
    }
}

impl MemLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an encoded event and returns its sequence.
    pub fn append(&self, bytes: Vec<u8>) -> u64 {
        let mut g = self.inner.lock();
        g.last += 1;
        let seq = g.last;
        g.entries.push_back(LogEntry { seq, bytes });
        self.tx.send_replace(seq);
        seq
    }
}

impl ChangeLog for MemLog {
    fn last_seq(&self) -> u64 {
        self.inner.lock().last
    }
    fn first_seq(&self) -> u64 {
        self.inner.lock().first
    }
    fn read(&self, from: u64, max_events: usize, max_bytes: usize) -> Result<Vec<LogEntry>> {
        let g = self.inner.lock();
        if from < g.first {
            return Err(Error::Trimmed {
                requested: from,
                first: g.first,
            });
        }
        let skip = (from - g.first) as usize;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for e in g.entries.iter().skip(skip).take(max_events) {
            if !out.is_empty() && bytes + e.bytes.len() > max_bytes {
                break;
            }
            bytes += e.bytes.len();
            out.push(e.clone());
        }
        Ok(out)
    }
    fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
    fn trim_below(&self, below: u64) -> Result<u64> {
        let mut g = self.inner.lock();
        let below = below.min(g.last + 1);
        let mut removed = 0;
        while g.entries.front().is_some_and(|e| e.seq < below) {
            g.entries.pop_front();
            removed += 1;
        }
        g.first = g.first.max(below);
        Ok(removed)
    }
}

/// The conformance suite every [`ChangeLog`] must pass. A harness makes a
/// fresh, empty log and can append an entry to it the way that log's
/// writers do (for the engine: a real insert).
pub mod conformance {
    use super::*;
    use std::sync::Arc;

    pub trait Harness: Send + Sync + 'static {
        fn log(&self) -> &dyn ChangeLog;
        /// Commits one change; returns its sequence.
        fn append(&self, i: u64) -> u64;
    }

    /// Runs every check against fresh logs from `make`.
    pub fn run_all<H: Harness>(make: impl Fn() -> H) {
        empty_log(&make());
        appends_are_consecutive_and_readable(&make());
        reads_respect_limits(&make());
        subscribers_wake_on_commit(Arc::new(make()));
        trimming(&make());
        concurrent_appends_leave_no_gaps(Arc::new(make()));
    }

    pub fn empty_log(h: &impl Harness) {
        let log = h.log();
        assert_eq!(log.last_seq(), 0, "empty log has last_seq 0");
        assert_eq!(log.first_seq(), 1, "empty log starts at 1");
        assert!(log.read(1, 10, 1 << 20).expect("read empty").is_empty());
    }

    pub fn appends_are_consecutive_and_readable(h: &impl Harness) {
        let seqs: Vec<u64> = (0..20).map(|i| h.append(i)).collect();
        assert_eq!(
            seqs,
            (1..=20).collect::<Vec<_>>(),
            "sequences are consecutive from 1"
        );
        let log = h.log();
        assert_eq!(log.last_seq(), 20);
        let all = log.read(1, 100, usize::MAX).expect("read all");
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
        for e in &all {
            e.decode().expect("every entry decodes as a change event");
        }
        let tail = log.read(15, 100, usize::MAX).expect("read tail");
        assert_eq!(
            tail.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (15..=20).collect::<Vec<_>>()
        );
        assert_eq!(tail[0], all[14], "the same position reads the same bytes");
        assert!(log
            .read(21, 10, usize::MAX)
            .expect("read past end")
            .is_empty());
    }

    pub fn reads_respect_limits(h: &impl Harness) {
        for i in 0..10 {
            h.append(i);
        }
        let log = h.log();
        assert_eq!(log.read(1, 3, usize::MAX).expect("read").len(), 3);
        let one = log.read(1, 10, 1).expect("read");
        assert_eq!(one.len(), 1, "at least one entry even over the byte limit");
        let size = one[0].bytes.len();
        let some = log.read(1, 10, size * 3).expect("read");
        assert!(!some.is_empty() && some.iter().map(|e| e.bytes.len()).sum::<usize>() <= size * 3);
    }

    pub fn subscribers_wake_on_commit<H: Harness>(h: Arc<H>) {
        let mut rx = h.log().subscribe();
        assert_eq!(*rx.borrow_and_update(), h.log().last_seq());
        let (tx, seen) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let woke = block_on(rx.changed()).is_ok();
            let _ = tx.send(woke.then(|| *rx.borrow()));
        });
        let seq = h.append(1);
        match seen.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(Some(last)) => assert!(last >= seq, "woke with {last}, committed {seq}"),
            Ok(None) => panic!("the log's notifier was dropped"),
            Err(_) => panic!("a subscriber was not woken within 10 s of a commit"),
        }
        waiter.join().expect("waiter thread");
    }

    pub fn trimming(h: &impl Harness) {
        for i in 0..10 {
            h.append(i);
        }
        let log = h.log();
        let removed = log.trim_below(6).expect("trim");
        assert_eq!(removed, 5);
        assert_eq!(log.first_seq(), 6);
        match log.read(3, 10, usize::MAX) {
            Err(Error::Trimmed {
                requested: 3,
                first: 6,
            }) => {}
            other => panic!("reading a trimmed position must say Trimmed, got {other:?}"),
        }
        assert_eq!(
            log.read(6, 10, usize::MAX)
                .expect("read")
                .first()
                .map(|e| e.seq),
            Some(6)
        );
        assert_eq!(log.trim_below(4).expect("trim again below floor"), 0);
        assert_eq!(log.first_seq(), 6, "trimming never moves the floor back");
        log.trim_below(1_000).expect("trim past the end");
        assert_eq!(
            log.first_seq(),
            11,
            "trimming past the end stops after the last entry"
        );
        assert_eq!(log.last_seq(), 10);
        assert_eq!(h.append(99), 11, "sequences continue after a trim");
    }

    pub fn concurrent_appends_leave_no_gaps<H: Harness>(h: Arc<H>) {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let h = h.clone();
                std::thread::spawn(move || {
                    (0..50).map(|i| h.append(w * 1000 + i)).collect::<Vec<_>>()
                })
            })
            .collect();
        // A reader that follows the log while writers commit must never see a gap.
        let mut next = 1;
        let mut seen = 0;
        while seen < 200 {
            let batch = h
                .log()
                .read(next, 64, usize::MAX)
                .expect("read while writing");
            for e in &batch {
                assert_eq!(e.seq, next, "a reader saw a gap");
                next += 1;
                seen += 1;
            }
            if batch.is_empty() {
                std::thread::yield_now();
            }
        }
        let mut all: Vec<u64> = writers
            .into_iter()
            .flat_map(|w| w.join().expect("writer"))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=200).collect::<Vec<_>>());
    }

    /// Drives a future on this thread (the suite needs no async runtime).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Wake};
        struct ThreadWaker(std::thread::Thread);
        impl Wake for ThreadWaker {
            fn wake(self: Arc<Self>) {
                self.0.unpark()
            }
        }
        let waker = Arc::new(ThreadWaker(std::thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::conformance::{run_all, Harness};
    use super::*;
    use crate::event::{ChangeEvent, EventBody, SchemaChange};
    use crate::hlc::Version;

    struct Mem(MemLog);

    impl Harness for Mem {
        fn log(&self) -> &dyn ChangeLog {
            &self.0
        }
        fn append(&self, i: u64) -> u64 {
            let e = ChangeEvent {
                origin: 1,
                origin_seq: i,
                version: Version::new(i, 1),
                body: EventBody::Schema(SchemaChange::DropDatabase {
                    path: format!("root.db{i}"),
                }),
            };
            self.0.append(e.encode())
        }
    }

    #[test]
    fn mem_log_conforms() {
        run_all(|| Mem(MemLog::new()));
    }
}
