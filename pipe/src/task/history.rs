//! A history transfer: the data that exists, as snapshot events, before the
//! pipe streams its log again; and why a pipe without history stops when its
//! position was trimmed.

use super::*;

/// Clears `history_running` however a transfer ends.
struct HistoryRunning<'a>(&'a PipeStats);

impl Drop for HistoryRunning<'_> {
    fn drop(&mut self) {
        self.0.history_running.store(false, Ordering::Release);
    }
}

impl PipeTask {
    /// A history transfer: remembers where the log is now, sends the data
    /// that exists, then resumes from that position. Returns it.
    pub(super) async fn history(
        &self,
        sink: &mut Option<Sink>,
        stop: &mut watch::Receiver<bool>,
        backoff: &mut Backoff,
        processor: &Processor,
    ) -> Result<u64, Exit> {
        let changes = self.stats.peer_changes.load(Ordering::Acquire);
        let start = if self.source.history {
            self.engine.last_seq() + 1
        } else {
            // No history wanted: stream from where the pipe was created. If
            // that was trimmed from the log, the changes in between cannot
            // be sent: stop and say so rather than skip them silently.
            let position = self.record.lock().position;
            let first = self.engine.first_seq();
            if position < first {
                return Err(Exit::Rejected(trimmed_without_history(position, first)));
            }
            position
        };
        self.save(|r| r.position = start);
        self.stats.history_transfers.fetch_add(1, Ordering::Relaxed);
        self.stats.history_running.store(true, Ordering::Release);
        let _running = HistoryRunning(&self.stats);
        let started = std::time::Instant::now();
        let (mut sent_events, mut sent_bytes) = (0usize, 0usize);
        if self.source.history {
            tracing::info!(
                "pipe {}: history transfer started (the data that exists now; the log follows from position {start})",
                self.name()
            );
            let inc = self.source.inclusion;
            let filter = SnapshotFilter {
                // A string prefix is read through the path pattern that
                // covers it, and cut exactly by `shape` below.
                pattern: self.source.pattern.clone().or_else(|| {
                    self.source
                        .prefix
                        .as_deref()
                        .map(crate::filter::prefix_cover)
                }),
                start: self.source.history_start,
                end: self.source.history_end,
                schema: inc.schema,
                inserts: inc.inserts,
                deletes: inc.deletes,
                auth: inc.auth,
            };
            let mut snap = Some(self.engine.snapshot(filter));
            let by_prefix = self.source.prefix.is_some().then(|| self.source.clone());
            // The transfer starts every series afresh; it is down-sampled
            // only with processor.down-sampling.split-file (IoTDB sends
            // its history files whole).
            processor.reset();
            let sampler = processor.samples_history().then(|| processor.clone());
            loop {
                if *stop.borrow() {
                    return Err(Exit::Stopped);
                }
                let Some(mut s) = snap.take() else { break };
                // One batch at a time, no larger than a log read: the
                // memory budget bounds history transfers as it bounds reads.
                let limit = self.sink.batch_bytes.min(self.read_bytes);
                let by_prefix = by_prefix.clone();
                let sampler = sampler.clone();
                let (s, batch) = match tokio::task::spawn_blocking(move || {
                    let mut batch = Vec::new();
                    let mut pending = Pending::default();
                    let mut bytes = 0;
                    while bytes < limit && batch.len() < MAX_EVENTS_PER_BATCH {
                        match s.next() {
                            Some(Ok(e)) => {
                                let e = match &by_prefix {
                                    Some(cfg) => match crate::filter::shape(cfg, e) {
                                        Some(e) => e,
                                        None => continue,
                                    },
                                    None => e,
                                };
                                let e = match &sampler {
                                    Some(p) => match p.apply(&mut pending, e) {
                                        Some(e) => e,
                                        None => continue,
                                    },
                                    None => e,
                                };
                                let b = e.encode();
                                bytes += b.len();
                                batch.push(b);
                            }
                            Some(Err(e)) => return (s, Err(e)),
                            None => break,
                        }
                    }
                    (s, Ok((batch, pending)))
                })
                .await
                {
                    Ok(x) => x,
                    Err(e) => return Err(Exit::Rejected(format!("history transfer failed: {e}"))),
                };
                self.stats
                    .history_remaining
                    .store(s.remaining_series as u64, Ordering::Relaxed);
                // Empty only at the end (a dropped point does not end a batch).
                let (batch, pending) =
                    batch.map_err(|e| Exit::Rejected(format!("history transfer failed: {e}")))?;
                let bytes: usize = batch.iter().map(Vec::len).sum();
                self.stats
                    .buffered_bytes
                    .store(bytes as u64, Ordering::Relaxed);
                if batch.is_empty() {
                    processor.commit(pending);
                    break;
                }
                sent_events += batch.len();
                sent_bytes += bytes;
                self.send_all(sink, stop, backoff, batch).await?;
                processor.commit(pending);
                snap = Some(s);
            }
        }
        self.stats.history_remaining.store(0, Ordering::Relaxed);
        if self.stats.peer_changes.load(Ordering::Acquire) != changes {
            // A different node answered during the transfer: start over.
            return Ok(start);
        }
        if self.source.history {
            tracing::info!(
                "pipe {}: history transfer finished: {sent_events} events, {sent_bytes} bytes in {:.1} s",
                self.name(),
                started.elapsed().as_secs_f64()
            );
        }
        self.save(|r| {
            r.history_pending = false;
            r.position = start;
            if r.exception.contains("resending history") {
                r.exception.clear();
            }
        });
        Ok(start)
    }
}

/// Why a pipe without history stops when its position was trimmed.
pub(super) fn trimmed_without_history(position: u64, first: u64) -> String {
    format!(
        "changes {position}..{} were trimmed from the change log before this pipe sent them, \
         and source.history.enable is false, so they cannot be sent; \
         to bring the peer up to date, drop the pipe and create it again with \
         source.history.enable=true (the peer gets the data that exists); \
         a larger replication.log_max_events keeps changes longer",
        first - 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trimmed_position_without_history_names_the_lost_range() {
        let m = trimmed_without_history(5, 120);
        assert!(m.contains("changes 5..119 were trimmed"), "{m}");
        assert!(m.contains("source.history.enable"), "{m}");
    }
}
