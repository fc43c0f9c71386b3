//! Changes from a peer: applied in one fsynced WriteBatch with each
//! origin's high-water mark (a batch sent again changes nothing), refused
//! when their versions are from beyond the clock-skew limit, and, when one
//! change cannot be applied for a reason in its data, applied without it
//! and the change kept in the conflict log.

use super::{Engine, Writer};
use crate::apply::{apply_body, SchemaDelta};
use crate::error::{Error, Result, StorageContext};
use crate::event::ChangeEvent;
use crate::hlc::NodeId;
use crate::keys::*;
use rocksdb::{WriteBatch, WriteOptions};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::watch;

/// What applying a batch from a peer did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOutcome {
    pub applied: usize,
    /// Already applied before (at or below the origin's high-water mark) or
    /// originating here.
    pub skipped: usize,
    /// Changes this node cannot apply (a path or time it refuses): skipped
    /// and recorded in the conflict log; the pipe goes on.
    pub rejected: usize,
}

/// Why one attempt at applying a peer's batch ended.
enum Applying {
    /// Event `.0` cannot be applied for a reason in its data: retry without it.
    Rejected(usize, String),
    Failed(Error),
}

impl From<Error> for Applying {
    fn from(e: Error) -> Self {
        Applying::Failed(e)
    }
}

/// The newest event of one origin applied here through one stream: its
/// sequence in the origin's log and its version's HLC. The HLC tells a
/// sender whether the event it holds at that sequence is the same one (a
/// node restored from a backup reuses sequences with new versions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub seq: u64,
    /// 0 when unknown (a mark written before versions were kept).
    pub hlc: u64,
}

impl Mark {
    fn encode(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.seq.to_le_bytes());
        out[8..].copy_from_slice(&self.hlc.to_le_bytes());
        out
    }

    pub(super) fn decode(v: &[u8]) -> Result<Mark> {
        let word = |b: &[u8]| {
            b.try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| Error::corrupt("high-water mark", "not 8 or 16 bytes"))
        };
        match v.len() {
            8 => Ok(Mark {
                seq: word(v)?,
                hlc: 0,
            }),
            16 => Ok(Mark {
                seq: word(&v[..8])?,
                hlc: word(&v[8..])?,
            }),
            _ => Err(Error::corrupt("high-water mark", "not 8 or 16 bytes")),
        }
    }
}

/// High-water marks by (origin node, sending pipe).
pub(crate) type Marks = HashMap<(NodeId, String), Mark>;

impl Engine {
    /// Applies events received from a peer, in one WriteBatch with each
    /// origin's new high-water mark: a batch sent again after a lost
    /// acknowledgement changes nothing. Events keep their origin, so a
    /// double-living pipe does not send them back. Marks are kept per
    /// `stream` (the sending pipe): two pipes from one node, each carrying
    /// part of its log, do not skip each other's events.
    /// Whether peers' changes are also appended to this node's change log.
    /// Only a pipe that forwards other nodes' changes (not double-living,
    /// `source.forwarding` on) reads them there; the pipe manager turns
    /// this off while no pipe does, which halves what a receiver writes.
    /// Returns once no apply that read the old setting is still running,
    /// so a log position taken after a call to turn it on misses nothing.
    pub fn set_log_remote(&self, on: bool) {
        let _w = self.writer.lock();
        self.log_remote
            .store(on, std::sync::atomic::Ordering::Release);
    }

    /// Applies a peer's batch; returns once it is durable here (the peer
    /// moves past these events once we answer, so losing them in a power
    /// cut would lose them for good). The batch is written under the writer
    /// lock and fsynced after it, one fsync for every batch written so far
    /// (a batch found already applied waits for that fsync too: an earlier
    /// copy of it may still be on its way to the disk).
    pub fn apply_remote(&self, stream: &str, events: &[Vec<u8>]) -> Result<ApplyOutcome> {
        let outcome = self.apply_remote_unsynced(stream, events)?;
        let written = self.wal_written.load(std::sync::atomic::Ordering::Acquire);
        self.sync_wal_upto(written)?;
        Ok(outcome)
    }

    fn apply_remote_unsynced(&self, stream: &str, events: &[Vec<u8>]) -> Result<ApplyOutcome> {
        let decoded: Vec<ChangeEvent> = events
            .iter()
            .map(|b| ChangeEvent::decode(b))
            .collect::<Result<_>>()?;
        // A batch the sender sent again because our reply was slow or lost:
        // marks guard events with a log position, but history events (and
        // the pieces of a cut event) have none, so applying such a batch
        // again would append the same events to the log again (it changes
        // no point). Recognise it by digest and answer at once. Batches of
        // realtime events only skip the digest: it costs a core at speed.
        let digest = decoded
            .iter()
            .any(|e| e.origin_seq == 0)
            .then(|| batch_digest(stream, events));
        let mut w = self.writer.lock();
        if digest.is_some_and(|d| w.recent_batches.contains(&d)) {
            return Ok(ApplyOutcome {
                skipped: decoded.len(),
                ..ApplyOutcome::default()
            });
        }
        let first_seq = w.next_seq;
        let mut rejected: BTreeMap<usize, String> = BTreeMap::new();
        loop {
            match self.apply_remote_locked(&mut w, stream, &decoded, events, &rejected) {
                Ok(outcome) => {
                    if let Some(d) = digest {
                        if w.recent_batches.len() == RECENT_BATCHES {
                            w.recent_batches.pop_front();
                        }
                        w.recent_batches.push_back(d);
                    }
                    return Ok(outcome);
                }
                Err(Applying::Rejected(i, why)) => {
                    w.next_seq = first_seq;
                    rejected.insert(i, why);
                }
                Err(Applying::Failed(e)) => {
                    w.next_seq = first_seq;
                    return Err(e);
                }
            }
        }
    }

    fn apply_remote_locked(
        &self,
        w: &mut Writer,
        stream: &str,
        decoded: &[ChangeEvent],
        raw: &[Vec<u8>],
        rejected: &BTreeMap<usize, String>,
    ) -> std::result::Result<ApplyOutcome, Applying> {
        let mut batch = WriteBatch::default();
        let mut outcome = ApplyOutcome::default();
        let mut delta = SchemaDelta::default();
        let mut new_hwm: HashMap<NodeId, Mark> = HashMap::new();
        let mut appended = w.log_bytes.begin();
        let key = |origin: NodeId| (origin, stream.to_string());
        let log_it = self.log_remote.load(std::sync::atomic::Ordering::Acquire);
        let now = crate::hlc::wall_clock_ms();
        let latest = now.saturating_add(self.opts.max_clock_skew_ms);
        for (i, (event, bytes)) in decoded.iter().zip(raw).enumerate() {
            // The event's version, and every point's and tombstone's it
            // carries (a history transfer's points keep their own).
            let newest = newest_version_ms(event);
            if newest > latest {
                return Err(Applying::Failed(Error::ClockSkew(format!(
                    "a change from node {} has a version {} ms ahead of this node's clock, \
                     over replication.max_clock_skew_ms = {}: the clocks of the two nodes \
                     disagree (check NTP on both); the change is refused, not applied",
                    event.origin,
                    newest - now,
                    self.opts.max_clock_skew_ms
                ))));
            }
            if event.origin == self.node_id {
                outcome.skipped += 1;
                continue;
            }
            // origin_seq 0 marks a snapshot event (history transfer): no
            // position in the origin's log, always applied (the merge makes
            // applying it again harmless), no high-water mark.
            let snapshot = event.origin_seq == 0;
            let seen = new_hwm
                .get(&event.origin)
                .or(w.hwm.get(&key(event.origin)))
                .map_or(0, |m| m.seq);
            if !snapshot && event.origin_seq <= seen {
                outcome.skipped += 1;
                continue;
            }
            let mark_it = |new_hwm: &mut HashMap<NodeId, Mark>| {
                if !snapshot {
                    new_hwm.insert(
                        event.origin,
                        Mark {
                            seq: event.origin_seq,
                            hlc: event.version.hlc,
                        },
                    );
                }
            };
            if let Some(why) = rejected.get(&i) {
                // Skipped, kept in the conflict log with what it carried;
                // its mark moves so it is not sent again.
                self.record_conflict(&mut batch, rejected_conflict(event, stream, why))?;
                mark_it(&mut new_hwm);
                outcome.rejected += 1;
                continue;
            }
            self.hlc.observe(event.version.hlc);
            let env = self.apply_env();
            if let Err(e) = apply_body(
                &env,
                &mut w.apply,
                &mut batch,
                event,
                bytes,
                stream,
                &mut delta,
            ) {
                return Err(match e {
                    Error::Invalid(_)
                    | Error::NotFound(_)
                    | Error::AlreadyExists(_)
                    | Error::TypeMismatch(_) => Applying::Rejected(i, e.to_string()),
                    other => Applying::Failed(other),
                });
            }
            if log_it {
                appended.append(self, &mut batch, w.next_seq, bytes.len())?;
                batch.put_cf(self.cf(CF_LOG)?, log_key(w.next_seq), bytes);
                w.next_seq += 1;
            }
            mark_it(&mut new_hwm);
            outcome.applied += 1;
        }
        if outcome.applied == 0 && outcome.rejected == 0 {
            return Ok(outcome);
        }
        for (origin, mark) in &new_hwm {
            batch.put_cf(
                self.cf(CF_META)?,
                meta_key(PREFIX_HWM, &format!("{origin}/{stream}")),
                mark.encode(),
            );
        }
        appended.finish(self, &mut batch)?;
        batch.put_cf(self.cf(CF_META)?, META_HLC, self.hlc.last().to_le_bytes());
        let applied_ever = w.remote_applied + outcome.applied as u64;
        batch.put_cf(
            self.cf(CF_META)?,
            META_REMOTE_APPLIED,
            applied_ever.to_le_bytes(),
        );
        // Not synced here: `apply_remote` fsyncs after the writer lock is
        // released, one fsync for every batch written by then.
        self.db
            .write_opt(batch, &WriteOptions::default())
            .ctx(|| format!("applying {} events from a peer", outcome.applied))?;
        self.wal_batch_written();
        w.log_bytes.commit(appended);
        w.remote_applied = applied_ever;
        w.hwm
            .extend(new_hwm.into_iter().map(|(o, seq)| (key(o), seq)));
        self.publish(delta, w.next_seq - 1);
        Ok(outcome)
    }

    /// Peers' changes applied on this node, ever (history events and the
    /// pieces of cut events included; a change sent again is not counted
    /// again).
    pub fn remote_changes_applied(&self) -> u64 {
        self.writer.lock().remote_applied
    }

    /// The highest sequence of `origin`'s log applied here through `stream`
    /// (0 if none).
    pub fn high_water_mark(&self, origin: NodeId, stream: &str) -> u64 {
        self.mark(origin, stream).seq
    }

    /// Every stream `origin`'s changes came here through, with its mark.
    pub fn streams_of(&self, origin: NodeId) -> Vec<(String, Mark)> {
        self.writer
            .lock()
            .hwm
            .iter()
            .filter(|((o, _), _)| *o == origin)
            .map(|((_, s), m)| (s.clone(), *m))
            .collect()
    }

    /// A receiver saw `origin` start a new stream epoch because its log went
    /// back: changes it had sent may now be only here (lost on `origin`,
    /// never sent to other peers), so the pipe manager resends history.
    pub fn note_sender_went_back(&self, origin: NodeId) {
        self.went_back.send_modify(|(n, who)| {
            *n += 1;
            *who = origin;
        });
    }

    /// Changes whenever [`Engine::note_sender_went_back`] is called.
    pub fn subscribe_went_back(&self) -> watch::Receiver<(u64, NodeId)> {
        self.went_back.subscribe()
    }

    /// The newest event of `origin` applied here through `stream`.
    pub fn mark(&self, origin: NodeId, stream: &str) -> Mark {
        self.writer
            .lock()
            .hwm
            .get(&(origin, stream.to_string()))
            .copied()
            .unwrap_or_default()
    }
}

/// How many applied batches are remembered to recognise one sent again.
const RECENT_BATCHES: usize = 64;

/// SHA-256 of a batch and the stream it came through.
fn batch_digest(stream: &str, events: &[Vec<u8>]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update((stream.len() as u64).to_le_bytes());
    h.update(stream.as_bytes());
    for e in events {
        h.update((e.len() as u64).to_le_bytes());
        h.update(e);
    }
    h.finalize().into()
}

/// The conflict record of a peer's change this node skipped.
fn rejected_conflict(event: &ChangeEvent, stream: &str, why: &str) -> crate::conflicts::Conflict {
    use crate::event::EventBody;
    let mut detail = String::new();
    let mut range: Option<(i64, i64)> = None;
    let mut widen = |first: i64, last: i64| {
        range = Some(range.map_or((first, last), |(a, b)| (a.min(first), b.max(last))));
    };
    match &event.body {
        EventBody::Insert(writes) => {
            for w in writes {
                if let (Some(&first), Some(&last)) = (w.chunk.times.first(), w.chunk.times.last()) {
                    widen(first, last);
                }
                detail.push_str(&w.path);
                detail.push(':');
                for (i, t) in w.chunk.times.iter().enumerate() {
                    if detail.len() > 8192 {
                        break;
                    }
                    let v = w
                        .chunk
                        .values
                        .get(i)
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    detail.push_str(&format!(" {t}={v}"));
                }
                detail.push_str("; ");
            }
        }
        EventBody::Delete(dels) => {
            for d in dels {
                widen(d.start, d.end);
                detail.push_str(&format!("delete {} [{}, {}]; ", d.path, d.start, d.end));
            }
        }
        EventBody::Schema(change) => detail = format!("{change:?}"),
        // Never the password record itself.
        EventBody::Auth(crate::event::AuthChange::User { name, record, .. }) => {
            detail = match record {
                Some(_) => format!("user {name} created or its password changed"),
                None => format!("user {name} dropped"),
            }
        }
        EventBody::Auth(crate::event::AuthChange::Grants { name, .. }) => {
            detail = format!("the privileges of user {name}")
        }
        EventBody::Auth(crate::event::AuthChange::Reset { name }) => {
            detail = format!("user {name} made again or dropped (its older grants void)")
        }
    }
    crate::conflicts::Conflict {
        id: 0,
        range,
        at_ms: crate::hlc::wall_clock_ms() as i64,
        kind: "rejected".into(),
        origin: event.origin,
        stream: stream.to_string(),
        path: crate::codec::truncate(&event.body.paths().join(", "), 1024),
        reason: why.to_string(),
        detail,
    }
}

/// The newest wall-clock milliseconds an event carries: its own version's,
/// its points' and its tombstones'.
fn newest_version_ms(event: &ChangeEvent) -> u64 {
    let mut newest = event.version.millis();
    if let crate::event::EventBody::Insert(writes) = &event.body {
        for w in writes {
            let points = w.chunk.versions.iter().map(|v| v.millis());
            let tombs = w.chunk.tombstones.iter().map(|t| t.version.millis());
            newest = points.chain(tombs).fold(newest, u64::max);
        }
    }
    newest
}
