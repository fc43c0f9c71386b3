//! Change events: what the change log stores and pipes ship. One event per
//! insert, delete or schema change, written in the same WriteBatch as the
//! change itself.
//!
//! Encoding: `FORMAT(u8) origin(u32) origin_seq(u64) hlc(u64) vnode(u32) kind(u8)`
//! (the fixed 26-byte header a pipe filter can read without decoding the
//! payload), then the payload of that kind.

use crate::chunk::Chunk;
use crate::codec::{put_ivarint, put_str, put_varint, Reader};
use crate::error::{Error, Result};
use crate::hlc::{NodeId, Version};
use crate::labels::LabelCell;
use crate::types::DataType;

const FORMAT: u8 = 1;
pub const HEADER_LEN: usize = 26;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Insert = 1,
    Delete = 2,
    Schema = 3,
    /// Users and privileges (replicated only by pipes whose inclusion
    /// names `auth`).
    Auth = 4,
}

/// The fixed part of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// The node where the change was first made.
    pub origin: NodeId,
    /// Its sequence number in the origin's log.
    pub origin_seq: u64,
    pub version: Version,
    pub kind: EventKind,
}

/// Points written to one series; `chunk` carries their versions.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesWrite {
    pub path: String,
    pub chunk: Chunk,
}

/// A time range deleted from one series (inclusive bounds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDelete {
    pub path: String,
    pub data_type: DataType,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaChange {
    CreateDatabase {
        path: String,
        bucket_span_ms: i64,
    },
    DropDatabase {
        path: String,
    },
    CreateTimeseries {
        path: String,
        data_type: DataType,
        encoding: String,
        compressor: String,
        /// Alias, tags and attributes given at creation (or, in a history
        /// transfer, the series' cells as they stand).
        labels: Vec<LabelCell>,
    },
    DeleteTimeseries {
        paths: Vec<String>,
    },
    /// `SET TTL TO pattern ms` / `UNSET TTL FROM pattern` (`ms` None).
    SetTtl {
        pattern: String,
        ms: Option<i64>,
    },
    /// `ALTER TIMESERIES`: the cells the change set, each with its version.
    /// It declares the series again as it stands (type, encoding,
    /// compressor), so it converges against a drop as a creation does: a
    /// drop older than it keeps the series, a newer one removes it.
    Labels {
        path: String,
        data_type: DataType,
        encoding: String,
        compressor: String,
        cells: Vec<LabelCell>,
    },
}

/// A change to users or privileges, as the state it leaves, so applying
/// it is the same on every node and the newer version of each piece wins
/// (see `users::replicated`). Passwords travel as their Argon2id record,
/// never as text.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthChange {
    /// A user's password record set (`CREATE USER`, `ALTER USER`), or
    /// removed (`DROP USER`: `None`). `reset` (create and drop) voids every
    /// grant of that name older than the change.
    User {
        name: String,
        record: Option<Vec<u8>>,
        reset: bool,
    },
    /// The grants of `name` older than the event's version are void (what
    /// a history transfer sends for a create or drop).
    Reset { name: String },
    /// Privileges of one user, each cell with its own version.
    Grants { name: String, cells: Vec<GrantCell> },
}

/// A password record is never printed, even by `{:?}`.
impl std::fmt::Debug for AuthChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthChange::User {
                name,
                record,
                reset,
            } => f
                .debug_struct("User")
                .field("name", name)
                .field("record", &record.as_ref().map(|_| "******"))
                .field("reset", reset)
                .finish(),
            AuthChange::Reset { name } => f.debug_struct("Reset").field("name", name).finish(),
            AuthChange::Grants { name, cells } => f
                .debug_struct("Grants")
                .field("name", name)
                .field("cells", cells)
                .finish(),
        }
    }
}

/// One privilege of one user on one grant path: held or not (and
/// passable), as of `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCell {
    pub path: String,
    /// One `Privilege` bit.
    pub privilege: u16,
    pub version: Version,
    pub held: bool,
    pub grant_option: bool,
}

impl GrantCell {
    /// Count, then per cell the path, the privilege bit, the version and
    /// the flags (held 1, grant option 2): in events and in the store.
    pub(crate) fn put_all(out: &mut Vec<u8>, cells: &[GrantCell]) {
        put_varint(out, cells.len() as u64);
        for c in cells {
            put_str(out, &c.path);
            out.extend_from_slice(&c.privilege.to_le_bytes());
            out.extend_from_slice(&c.version.hlc.to_le_bytes());
            out.extend_from_slice(&c.version.node.to_le_bytes());
            out.push(u8::from(c.held) | (u8::from(c.grant_option) << 1));
        }
    }

    pub(crate) fn read_all(r: &mut Reader<'_>) -> Result<Vec<GrantCell>> {
        let n = r.count(16)?;
        let mut cells = Vec::with_capacity(n);
        for _ in 0..n {
            let path = r.string()?;
            let privilege = r.u16()?;
            let version = Version::new(r.u64()?, r.u32()?);
            let flags = r.u8()?;
            if flags > 3 {
                return Err(r.corrupt(format!("bad grant flags {flags}")));
            }
            cells.push(GrantCell {
                path,
                privilege,
                version,
                held: flags & 1 != 0,
                grant_option: flags & 2 != 0,
            });
        }
        Ok(cells)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    Insert(Vec<SeriesWrite>),
    Delete(Vec<SeriesDelete>),
    Schema(SchemaChange),
    Auth(AuthChange),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    pub origin: NodeId,
    pub origin_seq: u64,
    pub version: Version,
    pub body: EventBody,
}

impl EventBody {
    pub fn kind(&self) -> EventKind {
        match self {
            EventBody::Insert(_) => EventKind::Insert,
            EventBody::Delete(_) => EventKind::Delete,
            EventBody::Schema(_) => EventKind::Schema,
            EventBody::Auth(_) => EventKind::Auth,
        }
    }

    /// Every series path the event names (for pattern filters).
    pub fn paths(&self) -> Vec<&str> {
        match self {
            EventBody::Insert(w) => w.iter().map(|w| w.path.as_str()).collect(),
            EventBody::Delete(d) => d.iter().map(|d| d.path.as_str()).collect(),
            EventBody::Schema(SchemaChange::CreateDatabase { path, .. })
            | EventBody::Schema(SchemaChange::DropDatabase { path })
            | EventBody::Schema(SchemaChange::CreateTimeseries { path, .. })
            | EventBody::Schema(SchemaChange::Labels { path, .. })
            | EventBody::Schema(SchemaChange::SetTtl { pattern: path, .. }) => vec![path.as_str()],
            EventBody::Schema(SchemaChange::DeleteTimeseries { paths }) => {
                paths.iter().map(String::as_str).collect()
            }
            EventBody::Auth(_) => Vec::new(),
        }
    }

    /// Number of points an insert carries (0 for other kinds).
    pub fn point_count(&self) -> usize {
        match self {
            EventBody::Insert(w) => w.iter().map(|w| w.chunk.len()).sum(),
            _ => 0,
        }
    }
}

impl ChangeEvent {
    pub fn header(&self) -> EventHeader {
        EventHeader {
            origin: self.origin,
            origin_seq: self.origin_seq,
            version: self.version,
            kind: self.body.kind(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(FORMAT);
        out.extend_from_slice(&self.origin.to_le_bytes());
        out.extend_from_slice(&self.origin_seq.to_le_bytes());
        out.extend_from_slice(&self.version.hlc.to_le_bytes());
        out.extend_from_slice(&self.version.node.to_le_bytes());
        out.push(self.body.kind() as u8);
        match &self.body {
            EventBody::Insert(writes) => {
                put_varint(&mut out, writes.len() as u64);
                for w in writes {
                    put_str(&mut out, &w.path);
                    let chunk = w.chunk.encode();
                    put_varint(&mut out, chunk.len() as u64);
                    out.extend_from_slice(&chunk);
                }
            }
            EventBody::Delete(dels) => {
                put_varint(&mut out, dels.len() as u64);
                for d in dels {
                    put_str(&mut out, &d.path);
                    out.push(d.data_type as u8);
                    put_ivarint(&mut out, d.start);
                    put_ivarint(&mut out, d.end);
                }
            }
            EventBody::Schema(s) => match s {
                SchemaChange::CreateDatabase {
                    path,
                    bucket_span_ms,
                } => {
                    out.push(1);
                    put_str(&mut out, path);
                    put_ivarint(&mut out, *bucket_span_ms);
                }
                SchemaChange::DropDatabase { path } => {
                    out.push(2);
                    put_str(&mut out, path);
                }
                SchemaChange::CreateTimeseries {
                    path,
                    data_type,
                    encoding,
                    compressor,
                    labels,
                } => {
                    // 3 as before labels existed; 6 with labels after.
                    out.push(if labels.is_empty() { 3 } else { 6 });
                    put_str(&mut out, path);
                    out.push(*data_type as u8);
                    put_str(&mut out, encoding);
                    put_str(&mut out, compressor);
                    if !labels.is_empty() {
                        LabelCell::put_all(&mut out, labels);
                    }
                }
                SchemaChange::DeleteTimeseries { paths } => {
                    out.push(4);
                    put_varint(&mut out, paths.len() as u64);
                    for p in paths {
                        put_str(&mut out, p);
                    }
                }
                SchemaChange::SetTtl { pattern, ms } => {
                    out.push(7);
                    put_str(&mut out, pattern);
                    match ms {
                        Some(ms) => {
                            out.push(1);
                            put_ivarint(&mut out, *ms);
                        }
                        None => out.push(0),
                    }
                }
                SchemaChange::Labels {
                    path,
                    data_type,
                    encoding,
                    compressor,
                    cells,
                } => {
                    out.push(5);
                    put_str(&mut out, path);
                    out.push(*data_type as u8);
                    put_str(&mut out, encoding);
                    put_str(&mut out, compressor);
                    LabelCell::put_all(&mut out, cells);
                }
            },
            EventBody::Auth(a) => match a {
                AuthChange::User {
                    name,
                    record,
                    reset,
                } => {
                    out.push(1);
                    put_str(&mut out, name);
                    match record {
                        Some(r) => {
                            out.push(1);
                            put_varint(&mut out, r.len() as u64);
                            out.extend_from_slice(r);
                        }
                        None => out.push(0),
                    }
                    out.push(u8::from(*reset));
                }
                AuthChange::Reset { name } => {
                    out.push(2);
                    put_str(&mut out, name);
                }
                AuthChange::Grants { name, cells } => {
                    out.push(3);
                    put_str(&mut out, name);
                    GrantCell::put_all(&mut out, cells);
                }
            },
        }
        out
    }

    /// The encoded chunks of an encoded insert event, in order, as they
    /// stand in `bytes` (none for other kinds): the engine merges them as
    /// they are instead of encoding the decoded chunks again.
    pub fn insert_chunks(bytes: &[u8]) -> Result<Vec<&[u8]>> {
        let header = EventHeader::decode(bytes)?;
        if header.kind != EventKind::Insert {
            return Ok(Vec::new());
        }
        let mut r = Reader::new(bytes, "change event");
        r.bytes(HEADER_LEN)?;
        let n = r.count(2)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.count(1)?;
            r.bytes(len)?;
            let len = r.count(1)?;
            out.push(r.bytes(len)?);
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<ChangeEvent> {
        let header = EventHeader::decode(bytes)?;
        let mut r = Reader::new(bytes, "change event");
        r.bytes(HEADER_LEN)?;
        let body = match header.kind {
            EventKind::Insert => {
                let n = r.count(2)?;
                let mut writes = Vec::with_capacity(n);
                for _ in 0..n {
                    let path = r.string()?;
                    let len = r.count(1)?;
                    let chunk = Chunk::decode(r.bytes(len)?)?;
                    writes.push(SeriesWrite { path, chunk });
                }
                EventBody::Insert(writes)
            }
            EventKind::Delete => {
                let n = r.count(4)?;
                let mut dels = Vec::with_capacity(n);
                for _ in 0..n {
                    let path = r.string()?;
                    let data_type = data_type(&mut r)?;
                    let start = r.ivarint()?;
                    let end = r.ivarint()?;
                    dels.push(SeriesDelete {
                        path,
                        data_type,
                        start,
                        end,
                    });
                }
                EventBody::Delete(dels)
            }
            EventKind::Schema => EventBody::Schema(match r.u8()? {
                1 => SchemaChange::CreateDatabase {
                    path: r.string()?,
                    bucket_span_ms: r.ivarint()?,
                },
                2 => SchemaChange::DropDatabase { path: r.string()? },
                kind @ (3 | 6) => SchemaChange::CreateTimeseries {
                    path: r.string()?,
                    data_type: data_type(&mut r)?,
                    encoding: r.string()?,
                    compressor: r.string()?,
                    labels: if kind == 6 {
                        LabelCell::read_all(&mut r)?
                    } else {
                        Vec::new()
                    },
                },
                4 => {
                    let n = r.count(1)?;
                    let mut paths = Vec::with_capacity(n);
                    for _ in 0..n {
                        paths.push(r.string()?);
                    }
                    SchemaChange::DeleteTimeseries { paths }
                }
                7 => SchemaChange::SetTtl {
                    pattern: r.string()?,
                    ms: match r.u8()? {
                        0 => None,
                        1 => Some(r.ivarint()?),
                        f => return Err(r.corrupt(format!("bad ttl flag {f}"))),
                    },
                },
                5 => SchemaChange::Labels {
                    path: r.string()?,
                    data_type: data_type(&mut r)?,
                    encoding: r.string()?,
                    compressor: r.string()?,
                    cells: LabelCell::read_all(&mut r)?,
                },
                other => return Err(r.corrupt(format!("unknown schema change {other}"))),
            }),
            EventKind::Auth => EventBody::Auth(match r.u8()? {
                1 => {
                    let name = r.string()?;
                    let record = match r.u8()? {
                        0 => None,
                        1 => {
                            let len = r.count(1)?;
                            Some(r.bytes(len)?.to_vec())
                        }
                        other => return Err(r.corrupt(format!("bad user record flag {other}"))),
                    };
                    let reset = match r.u8()? {
                        0 => false,
                        1 => true,
                        other => return Err(r.corrupt(format!("bad reset flag {other}"))),
                    };
                    AuthChange::User {
                        name,
                        record,
                        reset,
                    }
                }
                2 => AuthChange::Reset { name: r.string()? },
                3 => AuthChange::Grants {
                    name: r.string()?,
                    cells: GrantCell::read_all(&mut r)?,
                },
                other => return Err(r.corrupt(format!("unknown auth change {other}"))),
            }),
        };
        if !r.is_empty() {
            return Err(r.corrupt("trailing bytes"));
        }
        Ok(ChangeEvent {
            origin: header.origin,
            origin_seq: header.origin_seq,
            version: header.version,
            body,
        })
    }
}

fn data_type(r: &mut Reader<'_>) -> Result<DataType> {
    let b = r.u8()?;
    DataType::from_u8(b).ok_or_else(|| r.corrupt(format!("unknown data type {b}")))
}

impl EventHeader {
    /// Reads the fixed header only.
    pub fn decode(bytes: &[u8]) -> Result<EventHeader> {
        let mut r = Reader::new(bytes, "change event");
        let format = r.u8()?;
        if format != FORMAT {
            return Err(r.corrupt(format!("unknown event format {format}")));
        }
        let origin = r.u32()?;
        let origin_seq = r.u64()?;
        let version = Version::new(r.u64()?, r.u32()?);
        let kind = match r.u8()? {
            1 => EventKind::Insert,
            2 => EventKind::Delete,
            3 => EventKind::Schema,
            4 => EventKind::Auth,
            k => return Err(Error::corrupt("change event", format!("unknown kind {k}"))),
        };
        Ok(EventHeader {
            origin,
            origin_seq,
            version,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Column;

    pub(crate) fn samples() -> Vec<ChangeEvent> {
        let v = Version::new(77 << 16, 3);
        let chunk = Chunk::from_write(&[1, 2], &Column::F64(vec![1.5, 2.5]), v);
        let bodies = vec![
            EventBody::Insert(vec![SeriesWrite {
                path: "root.a.b.c".into(),
                chunk,
            }]),
            EventBody::Delete(vec![SeriesDelete {
                path: "root.a.b.c".into(),
                data_type: DataType::Double,
                start: i64::MIN / 4,
                end: 5,
            }]),
            EventBody::Schema(SchemaChange::CreateDatabase {
                path: "root.a".into(),
                bucket_span_ms: 3_600_000,
            }),
            EventBody::Schema(SchemaChange::DropDatabase {
                path: "root.a".into(),
            }),
            EventBody::Schema(SchemaChange::CreateTimeseries {
                path: "root.a.b.c".into(),
                data_type: DataType::Text,
                encoding: "PLAIN".into(),
                compressor: "LZ4".into(),
                labels: Vec::new(),
            }),
            EventBody::Schema(SchemaChange::CreateTimeseries {
                path: "root.a.b.d".into(),
                data_type: DataType::Int32,
                encoding: "RLE".into(),
                compressor: "LZ4".into(),
                labels: vec![LabelCell {
                    kind: crate::labels::LabelKind::Tag,
                    key: "unit".into(),
                    value: Some("c".into()),
                    version: Version::new(9, 2),
                }],
            }),
            EventBody::Schema(SchemaChange::Labels {
                path: "root.a.b.d".into(),
                data_type: DataType::Int32,
                encoding: "RLE".into(),
                compressor: "LZ4".into(),
                cells: vec![LabelCell {
                    kind: crate::labels::LabelKind::Alias,
                    key: String::new(),
                    value: None,
                    version: Version::new(10, 1),
                }],
            }),
            EventBody::Schema(SchemaChange::DeleteTimeseries {
                paths: vec!["root.a.b.c".into(), "root.a.b.d".into()],
            }),
            EventBody::Schema(SchemaChange::SetTtl {
                pattern: "root.a.**".into(),
                ms: Some(3_600_000),
            }),
            EventBody::Schema(SchemaChange::SetTtl {
                pattern: "root.a.b.**".into(),
                ms: None,
            }),
            EventBody::Auth(AuthChange::User {
                name: "alice".into(),
                record: Some(b"$argon2id$v=19$m=12288,t=3,p=1$c2FsdA$aGFzaA".to_vec()),
                reset: true,
            }),
            EventBody::Auth(AuthChange::User {
                name: "alice".into(),
                record: None,
                reset: false,
            }),
            EventBody::Auth(AuthChange::Reset {
                name: "alice".into(),
            }),
            EventBody::Auth(AuthChange::Grants {
                name: "alice".into(),
                cells: vec![GrantCell {
                    path: "root.sg.**".into(),
                    privilege: 2,
                    version: Version::new(5 << 16, 2),
                    held: true,
                    grant_option: true,
                }],
            }),
        ];
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| ChangeEvent {
                origin: 3,
                origin_seq: i as u64 + 1,
                version: v,
                body,
            })
            .collect()
    }

    #[test]
    fn a_password_record_is_not_printed() {
        let e = AuthChange::User {
            name: "alice".into(),
            record: Some(b"$argon2id$v=19$secret".to_vec()),
            reset: false,
        };
        let text = format!("{e:?}");
        assert!(text.contains("alice") && !text.contains("argon2"), "{text}");
    }

    #[test]
    fn every_kind_round_trips_and_truncation_is_an_error() {
        for e in samples() {
            let bytes = e.encode();
            assert_eq!(ChangeEvent::decode(&bytes).unwrap(), e);
            assert_eq!(EventHeader::decode(&bytes).unwrap(), e.header());
            for cut in 0..bytes.len() {
                assert!(ChangeEvent::decode(&bytes[..cut]).is_err());
            }
        }
    }
}
