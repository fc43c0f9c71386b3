//! Does the receiver's mark for this node's stream agree with this node's
//! log? The receiver reports, at every handshake, the newest event of this
//! node it applied through the stream (sequence and version). Two ordinary
//! operations break the agreement, and each has its own remedy:
//!
//! - **This node went back** (restored from a backup, or its disk copy is
//!   older): the receiver has applied sequences this log does not hold, or
//!   holds with other versions. Sending the new events under those numbers
//!   would make the receiver skip them as already applied. Remedy: a new
//!   stream epoch (the receiver starts a fresh mark) and a history transfer.
//! - **The receiver went back**: its mark is below what it acknowledged to
//!   this pipe, so it lost acknowledged changes (its own included, which
//!   only this node still has). Remedy: a history transfer, which carries
//!   every point this node holds, whatever its origin.
//!
//! Pure decisions; the task does the IO (STYLE habit 4).

use duet_engine::{Mark, NodeId, Version};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkCheck {
    Consistent,
    /// This node's log went back: new epoch and history. The message says why.
    SenderWentBack(String),
    /// The receiver lost acknowledged changes: history. The message says why.
    ReceiverWentBack(String),
}

/// `receiver`: the mark the receiver reported; `acked`: the newest own
/// event this pipe saw acknowledged (saved lazily, so never ahead of the
/// truth); `last_seq`: the newest sequence in this node's log;
/// `version_at(seq)`: the version of the event this log holds at `seq`
/// (`None` when trimmed).
pub fn check(
    node: NodeId,
    receiver: Mark,
    acked: Mark,
    last_seq: u64,
    version_at: impl FnOnce(u64) -> Option<Version>,
) -> MarkCheck {
    if receiver.seq > last_seq {
        return MarkCheck::SenderWentBack(format!(
            "the peer has applied this node's change {} but this node's log ends at {last_seq} \
             (this node was restored from an older copy): resending history under a new stream",
            receiver.seq
        ));
    }
    if receiver.seq > 0 && receiver.hlc != 0 {
        if let Some(v) = version_at(receiver.seq) {
            if v.node != node || v.hlc != receiver.hlc {
                return MarkCheck::SenderWentBack(format!(
                    "change {} in this node's log is not the one the peer applied \
                     (this node was restored from an older copy and reused the number): \
                     resending history under a new stream",
                    receiver.seq
                ));
            }
        }
    }
    if receiver.seq < acked.seq {
        return MarkCheck::ReceiverWentBack(format!(
            "the peer acknowledged this node's changes up to {} but now has them only up to {} \
             (it was restored from an older copy): resending history",
            acked.seq, receiver.seq
        ));
    }
    MarkCheck::Consistent
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: NodeId = 7;

    fn mark(seq: u64, hlc: u64) -> Mark {
        Mark { seq, hlc }
    }

    /// A log holding `seq -> (hlc, origin)`.
    fn log(entries: &[(u64, u64, NodeId)]) -> impl Fn(u64) -> Option<Version> + '_ {
        move |seq| {
            entries
                .iter()
                .find(|e| e.0 == seq)
                .map(|e| Version::new(e.1, e.2))
        }
    }

    #[test]
    fn agreement_is_consistent() {
        let l = [(10, 100, ME), (11, 110, ME)];
        assert_eq!(
            check(ME, mark(10, 100), mark(10, 100), 11, log(&l)),
            MarkCheck::Consistent
        );
        // The receiver ahead of a lazily saved acked mark (a crash here).
        assert_eq!(
            check(ME, mark(11, 110), mark(5, 50), 11, log(&l)),
            MarkCheck::Consistent
        );
        // Nothing sent yet on either side; or the mark's event was trimmed.
        assert_eq!(
            check(ME, Mark::default(), Mark::default(), 11, log(&l)),
            MarkCheck::Consistent
        );
        assert_eq!(
            check(ME, mark(3, 30), mark(3, 30), 11, log(&l)),
            MarkCheck::Consistent
        );
        // A mark from before versions were kept (hlc 0) is trusted.
        assert_eq!(
            check(ME, mark(11, 0), mark(11, 0), 11, log(&l)),
            MarkCheck::Consistent
        );
    }

    #[test]
    fn a_log_that_went_back_is_seen() {
        // Restored at 1000; the peer applied up to 1500.
        let l = [(1000, 1000, ME)];
        assert!(matches!(
            check(ME, mark(1500, 1500), mark(990, 990), 1000, log(&l)),
            MarkCheck::SenderWentBack(m) if m.contains("log ends at 1000")
        ));
        // ... and already wrote past 1500 again, with new versions.
        let l = [(1500, 9999, ME)];
        assert!(matches!(
            check(ME, mark(1500, 1500), mark(990, 990), 1600, log(&l)),
            MarkCheck::SenderWentBack(m) if m.contains("change 1500")
        ));
        // ... or the number now holds an event received from the peer.
        let l = [(1500, 1500, 8)];
        assert!(matches!(
            check(ME, mark(1500, 1500), mark(990, 990), 1600, log(&l)),
            MarkCheck::SenderWentBack(_)
        ));
    }

    #[test]
    fn a_receiver_that_went_back_is_seen() {
        let l = [(1500, 1500, ME)];
        assert!(matches!(
            check(ME, mark(1000, 1000), mark(1500, 1500), 1600, log(&l)),
            MarkCheck::ReceiverWentBack(m) if m.contains("up to 1500") && m.contains("up to 1000")
        ));
        // Restored to before it had anything from this stream.
        assert!(matches!(
            check(ME, Mark::default(), mark(1500, 1500), 1600, log(&l)),
            MarkCheck::ReceiverWentBack(_)
        ));
    }
}
