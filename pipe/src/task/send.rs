//! Sending: connect (handshake and mark check), cut events to the peer's
//! request limit, and send each batch until it is acknowledged, retrying an
//! unreachable peer with capped, jittered backoff.

use super::*;

impl PipeTask {
    /// Connects (handshake and mark check included), retrying an
    /// unreachable peer with backoff until it answers or the pipe stops.
    pub(super) async fn connect(
        &self,
        sink: &mut Option<Sink>,
        stop: &mut watch::Receiver<bool>,
        backoff: &mut Backoff,
    ) -> Result<(), Exit> {
        loop {
            if sink.as_ref().is_some_and(Sink::is_connected) {
                return Ok(());
            }
            match self.with_sink(sink, Sink::probe).await? {
                Ok(()) => {
                    self.peer_up();
                    return Ok(());
                }
                Err(SendError::Rejected(m)) => return Err(Exit::Rejected(m)),
                Err(SendError::Unreachable(msg)) => {
                    let first = self.peer_down();
                    let wait = backoff.next();
                    if first || backoff.attempt == 1 {
                        tracing::warn!(
                            "pipe {}: peer unreachable: {msg}; retrying in {wait:?}",
                            self.name()
                        );
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return Err(Exit::Stopped),
                    }
                }
            }
        }
    }

    /// Sends events (split into batches by size, each within the peer's
    /// request limit; an event larger than that is cut, see [`split`]),
    /// each batch until acknowledged.
    pub(super) async fn send_all(
        &self,
        sink: &mut Option<Sink>,
        stop: &mut watch::Receiver<bool>,
        backoff: &mut Backoff,
        events: Vec<Vec<u8>>,
    ) -> Result<(), Exit> {
        // The peer's limit is learned at the handshake: connect first.
        self.connect(sink, stop, backoff).await?;
        let limit = sink.as_ref().map_or(64 << 20, Sink::max_request_bytes);
        let target = self.sink.batch_bytes.min(limit);
        let mut chunk: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0usize;
        for e in events {
            // Room for the batch header and each event's length prefix.
            let (pieces, left_out) =
                split::fit(e, limit.saturating_sub(64)).map_err(Exit::Rejected)?;
            for l in left_out {
                self.record_too_large(l);
            }
            for p in pieces {
                if !chunk.is_empty() && bytes + p.len() + 4 > limit {
                    self.send_one(sink, stop, backoff, std::mem::take(&mut chunk))
                        .await?;
                    bytes = 0;
                }
                bytes += p.len() + 4;
                chunk.push(p);
                if self.sink.single_events || bytes >= target {
                    self.send_one(sink, stop, backoff, std::mem::take(&mut chunk))
                        .await?;
                    bytes = 0;
                }
            }
        }
        if !chunk.is_empty() {
            self.send_one(sink, stop, backoff, chunk).await?;
        }
        Ok(())
    }

    pub(super) async fn send_one(
        &self,
        sink: &mut Option<Sink>,
        stop: &mut watch::Receiver<bool>,
        backoff: &mut Backoff,
        events: Vec<Vec<u8>>,
    ) -> Result<(), Exit> {
        let count = events.len() as u64;
        let body = encode_batch(&events, &self.sink.compressors);
        let size = body.len() as u64;
        let raw_size = raw_batch_len(&events) as u64;
        loop {
            let started = Instant::now();
            // Connect (and check the receiver's mark) before anything is sent.
            let connected = sink.as_ref().is_some_and(Sink::is_connected);
            let ready = if connected {
                Ok(())
            } else {
                self.with_sink(sink, Sink::probe).await?
            };
            let result = match ready {
                Ok(()) => {
                    let b = body.clone();
                    self.with_sink(sink, move |s| s.send(b)).await?
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    backoff.reset();
                    self.peer_up();
                    self.stats.events_sent.fetch_add(count, Ordering::Relaxed);
                    self.stats.bytes_sent.fetch_add(size, Ordering::Relaxed);
                    self.stats
                        .raw_bytes_sent
                        .fetch_add(raw_size, Ordering::Relaxed);
                    self.stats.batches_sent.fetch_add(1, Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64().max(1e-3);
                    let rate = (count as f64 / secs * 1000.0) as u64;
                    let old = self.stats.rate_milli.load(Ordering::Relaxed);
                    self.stats.rate_milli.store(
                        if old == 0 { rate } else { (old * 7 + rate) / 8 },
                        Ordering::Relaxed,
                    );
                    if let Some(limit) = self.sink.rate_limit_bytes_per_sec.filter(|&l| l > 0) {
                        let due = Duration::from_secs_f64(size as f64 / limit as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            tokio::time::sleep(wait).await;
                        }
                    }
                    return Ok(());
                }
                Err(SendError::Rejected(msg)) => return Err(Exit::Rejected(msg)),
                Err(SendError::Unreachable(msg)) => {
                    self.peer_down();
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = backoff.next();
                    // Warn on the first failure and then about every minute.
                    let n = self.stats.retries.load(Ordering::Relaxed);
                    if backoff.attempt == 1 || n % 30 == 0 {
                        tracing::warn!(
                            "pipe {}: peer unreachable: {msg}; retrying (attempt {}) in {wait:?}",
                            self.name(),
                            backoff.attempt
                        );
                    } else {
                        tracing::debug!("pipe {}: {msg}; retrying in {wait:?}", self.name());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return Err(Exit::Stopped),
                    }
                }
            }
        }
    }

    /// A point the peer cannot take in one request (its
    /// `rpc.max_frame_bytes` is smaller than the point): it is not sent, the
    /// pipe goes on, and this node's conflict log names it, once (read
    /// again, after a restart or in a history transfer, it is not recorded
    /// again; after a replay it is, if it is still too large).
    fn record_too_large(&self, l: split::TooLarge) {
        let c = duet_engine::conflicts::Conflict {
            id: 0,
            range: Some((l.time, l.time)),
            at_ms: duet_engine::hlc::wall_clock_ms() as i64,
            kind: "too-large".into(),
            origin: self.engine.node_id(),
            stream: self.name().to_string(),
            reason: format!(
                "the point at time {} takes {} bytes, more than the peer accepts in one request \
                 ({} bytes): not sent; raise the peer's rpc.max_frame_bytes, then REPLAY CONFLICT \
                 with this record's id",
                l.time, l.bytes, l.max
            ),
            detail: format!("{}={}", l.time, l.value),
            path: l.path,
        };
        let once = duet_engine::conflicts::too_large_key(&c.stream, &c.path, l.time, l.version);
        if let Err(e) = self.engine.add_conflict_once(c, &once) {
            tracing::error!(
                "pipe {}: recording a point too large to send: {e}",
                self.name()
            );
        }
    }
}
