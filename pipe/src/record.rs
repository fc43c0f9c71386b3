//! A pipe's durable record in `meta`: definition, state, acknowledged
//! position and incarnation. Written on every state change and (lazily)
//! as acknowledgements come in.

use crate::config::Params;
use duet_engine::codec::{put_str, put_varint, Reader};
use duet_engine::{Engine, Mark, Result};

pub const NAMESPACE: &str = "pipe";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeRecord {
    pub name: String,
    pub source: Params,
    pub processor: Params,
    pub sink: Params,
    pub created_ms: i64,
    pub running: bool,
    /// Why the pipe stopped itself, or what it is recovering from.
    pub exception: String,
    /// Next change-log sequence to send.
    pub position: u64,
    /// Identifies this creation of the pipe; a task of an older one (dropped
    /// and created again under the same name) never writes its progress.
    /// 0 once the pipe is dropped.
    pub incarnation: u64,
    /// A history transfer is due (new pipe, or the position was trimmed).
    pub history_pending: bool,
    /// The receiving node, once known. A different node there later (a
    /// peer rebuilt from scratch) gets the history again.
    pub peer_node_id: u32,
    /// Bumped when this node's log turns out to have gone back (restored
    /// from a backup): the stream gets a new name, so the receiver's marks
    /// for the old one do not make it skip reused sequences.
    pub epoch: u64,
    /// The newest event of this node's own origin that the receiver
    /// acknowledged (sequence and version HLC; saved with the position). A
    /// receiver whose mark is below it lost acknowledged changes.
    pub acked_mark: Mark,
}

fn put_map(out: &mut Vec<u8>, m: &Params) {
    put_varint(out, m.len() as u64);
    for (k, v) in m {
        put_str(out, k);
        put_str(out, v);
    }
}

fn map(r: &mut Reader<'_>) -> Result<Params> {
    let n = r.count(2)?;
    let mut m = Params::new();
    for _ in 0..n {
        let k = r.string()?;
        m.insert(k, r.string()?);
    }
    Ok(m)
}

impl PipeRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![2u8];
        put_str(&mut out, &self.name);
        put_map(&mut out, &self.source);
        put_map(&mut out, &self.processor);
        put_map(&mut out, &self.sink);
        out.extend_from_slice(&self.created_ms.to_le_bytes());
        out.push(self.running as u8);
        put_str(&mut out, &self.exception);
        out.extend_from_slice(&self.position.to_le_bytes());
        out.extend_from_slice(&self.incarnation.to_le_bytes());
        out.push(self.history_pending as u8);
        out.extend_from_slice(&self.peer_node_id.to_le_bytes());
        out.extend_from_slice(&self.epoch.to_le_bytes());
        out.extend_from_slice(&self.acked_mark.seq.to_le_bytes());
        out.extend_from_slice(&self.acked_mark.hlc.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<PipeRecord> {
        let mut r = Reader::new(bytes, "pipe record");
        let format = r.u8()?;
        if !(1..=2).contains(&format) {
            return Err(r.corrupt("unknown pipe record format"));
        }
        let mut rec = PipeRecord {
            name: r.string()?,
            source: map(&mut r)?,
            processor: map(&mut r)?,
            sink: map(&mut r)?,
            created_ms: r.u64()? as i64,
            running: r.u8()? == 1,
            exception: r.string()?,
            position: r.u64()?,
            incarnation: r.u64()?,
            history_pending: r.u8()? == 1,
            peer_node_id: r.u32()?,
            epoch: 0,
            acked_mark: Mark::default(),
        };
        if format >= 2 {
            rec.epoch = r.u64()?;
            rec.acked_mark = Mark {
                seq: r.u64()?,
                hlc: r.u64()?,
            };
        }
        if !r.is_empty() {
            return Err(r.corrupt("trailing bytes"));
        }
        Ok(rec)
    }

    /// The name the receiver keys its marks by: `name#incarnation`, and
    /// `.epoch` once the log went back.
    pub fn stream(&self) -> String {
        if self.epoch == 0 {
            format!("{}#{}", self.name, self.incarnation)
        } else {
            format!("{}#{}.{}", self.name, self.incarnation, self.epoch)
        }
    }

    pub fn save(&self, engine: &Engine) -> Result<()> {
        engine.put_record(NAMESPACE, &self.name, &self.encode())
    }

    pub fn load_all(engine: &Engine) -> Result<Vec<PipeRecord>> {
        engine
            .records(NAMESPACE)?
            .iter()
            .map(|(_, v)| PipeRecord::decode(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let r = PipeRecord {
            name: "AB".into(),
            source: [("source.mode.double-living".to_string(), "true".to_string())].into(),
            processor: Params::new(),
            sink: [("sink".to_string(), "iotdb-thrift-sink".to_string())].into(),
            created_ms: 1_700_000_000_000,
            running: true,
            exception: String::new(),
            position: 42,
            incarnation: 7,
            history_pending: true,
            peer_node_id: 9,
            epoch: 2,
            acked_mark: Mark { seq: 40, hlc: 77 },
        };
        let b = r.encode();
        assert_eq!(PipeRecord::decode(&b).unwrap(), r);
        for cut in 0..b.len() {
            assert!(PipeRecord::decode(&b[..cut]).is_err());
        }
        assert_eq!(r.stream(), "AB#7.2");
        // A record saved before epochs and marks existed still loads.
        let mut v1 = b[..b.len() - 24].to_vec();
        v1[0] = 1;
        let old = PipeRecord::decode(&v1).unwrap();
        assert_eq!((old.epoch, old.acked_mark), (0, Mark::default()));
        assert_eq!(old.stream(), "AB#7");
    }
}
