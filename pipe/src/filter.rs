//! What a pipe forwards: pure functions over change events, no IO.

use crate::config::SourceConfig;
use duet_engine::event::{ChangeEvent, EventBody, EventHeader, EventKind, SchemaChange};
use duet_engine::schema::{matches, matches_prefix_of, path_nodes};
use duet_engine::NodeId;

/// The first decision, on the header alone: origin and kind.
pub fn wanted(cfg: &SourceConfig, self_node: NodeId, h: &EventHeader) -> bool {
    let local = h.origin == self_node;
    if (cfg.double_living || !cfg.forwarding) && !local {
        return false;
    }
    match h.kind {
        EventKind::Insert => cfg.inclusion.inserts,
        EventKind::Delete => cfg.inclusion.deletes,
        EventKind::Schema => cfg.inclusion.schema,
        EventKind::Auth => cfg.inclusion.auth,
    }
}

/// Whether the body must be looked at (a path or time filter is set).
pub fn needs_shaping(cfg: &SourceConfig) -> bool {
    cfg.pattern.is_some() || cfg.prefix.is_some() || cfg.start != i64::MIN || cfg.end != i64::MAX
}

/// A path pattern that holds every series `prefix` (a string prefix, see
/// [`SourceConfig::prefix`]) can take: below its last whole node.
pub fn prefix_cover(prefix: &str) -> String {
    match prefix.rsplit_once('.') {
        Some((whole, _)) => format!("{whole}.**"),
        None => format!("{prefix}.**"),
    }
}

/// The part of `e` the pipe carries, or `None` if nothing is left.
pub fn shape(cfg: &SourceConfig, mut e: ChangeEvent) -> Option<ChangeEvent> {
    let pat = cfg.pattern.as_deref().map(path_nodes);
    let text = cfg.prefix.as_deref();
    let series_ok = |p: &str| {
        pat.as_ref().is_none_or(|pat| matches(pat, &path_nodes(p)))
            && text.is_none_or(|t| p.starts_with(t))
    };
    // A database or series-level path is carried when something below it could match.
    let prefix_ok = |p: &str| {
        pat.as_ref()
            .is_none_or(|pat| matches_prefix_of(pat, &path_nodes(p)))
            && text.is_none_or(|t| {
                let below = format!("{p}.");
                t.starts_with(&below) || below.starts_with(t)
            })
    };
    let (lo, hi) = (cfg.start, cfg.end);
    match &mut e.body {
        EventBody::Insert(writes) => {
            writes.retain(|w| series_ok(&w.path));
            for w in writes.iter_mut() {
                let c = &w.chunk;
                if c.times.first().is_some_and(|&t| t < lo)
                    || c.times.last().is_some_and(|&t| t > hi)
                {
                    let keep: Vec<usize> = (0..c.len())
                        .filter(|&i| (lo..=hi).contains(&c.times[i]))
                        .collect();
                    w.chunk = c.select(&keep);
                }
            }
            writes.retain(|w| !w.chunk.is_empty());
            (!writes.is_empty()).then_some(e)
        }
        EventBody::Delete(dels) => {
            dels.retain(|d| series_ok(&d.path) && d.start <= hi && d.end >= lo);
            for d in dels.iter_mut() {
                d.start = d.start.max(lo);
                d.end = d.end.min(hi);
            }
            (!dels.is_empty()).then_some(e)
        }
        EventBody::Schema(change) => {
            let keep =
                match change {
                    SchemaChange::CreateDatabase { path, .. }
                    | SchemaChange::DropDatabase { path } => prefix_ok(path),
                    SchemaChange::CreateTimeseries { path, .. }
                    | SchemaChange::Labels { path, .. } => series_ok(path),
                    SchemaChange::DeleteTimeseries { paths } => {
                        paths.retain(|p| series_ok(p));
                        !paths.is_empty()
                    }
                    SchemaChange::SetTtl { pattern, .. } => {
                        prefix_ok(pattern.strip_suffix(".**").unwrap_or(pattern))
                    }
                };
            keep.then_some(e)
        }
        // Users and privileges are node-wide: neither paths nor times cut
        // them (a grant's paths are not data).
        EventBody::Auth(_) => Some(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Inclusion, SourceConfig};
    use duet_engine::chunk::Chunk;
    use duet_engine::event::{SeriesDelete, SeriesWrite};
    use duet_engine::{Column, DataType, Version};

    fn cfg() -> SourceConfig {
        SourceConfig {
            double_living: true,
            forwarding: true,
            pattern: None,
            prefix: None,
            history: true,
            realtime: true,
            start: i64::MIN,
            end: i64::MAX,
            history_start: i64::MIN,
            history_end: i64::MAX,
            inclusion: Inclusion {
                inserts: true,
                deletes: true,
                schema: true,
                auth: false,
            },
            snapshot: false,
        }
    }

    fn insert(origin: u32, paths: &[&str], times: &[i64]) -> ChangeEvent {
        let writes = paths
            .iter()
            .map(|p| SeriesWrite {
                path: p.to_string(),
                chunk: Chunk::from_write(
                    times,
                    &Column::I64(times.to_vec()),
                    Version::new(1, origin),
                ),
            })
            .collect();
        ChangeEvent {
            origin,
            origin_seq: 1,
            version: Version::new(1, origin),
            body: EventBody::Insert(writes),
        }
    }

    #[test]
    fn double_living_forwards_only_local_events() {
        let c = cfg();
        assert!(wanted(&c, 1, &insert(1, &["root.a.b.c"], &[1]).header()));
        assert!(
            !wanted(&c, 1, &insert(2, &["root.a.b.c"], &[1]).header()),
            "an event from the peer is not sent back"
        );
        let plain = SourceConfig {
            double_living: false,
            ..cfg()
        };
        assert!(
            wanted(&plain, 1, &insert(2, &["root.a.b.c"], &[1]).header()),
            "plain pipes forward what arrived"
        );
        let no_fwd = SourceConfig {
            double_living: false,
            forwarding: false,
            ..cfg()
        };
        assert!(!wanted(
            &no_fwd,
            1,
            &insert(2, &["root.a.b.c"], &[1]).header()
        ));
        let inserts_only = SourceConfig {
            inclusion: Inclusion {
                inserts: true,
                deletes: false,
                schema: false,
                auth: false,
            },
            ..cfg()
        };
        let del = ChangeEvent {
            origin: 1,
            origin_seq: 2,
            version: Version::new(2, 1),
            body: EventBody::Delete(vec![SeriesDelete {
                path: "root.a.b.c".into(),
                data_type: DataType::Int64,
                start: 0,
                end: 5,
            }]),
        };
        assert!(!wanted(&inserts_only, 1, &del.header()));
    }

    #[test]
    fn patterns_and_time_ranges_cut_events() {
        let c = SourceConfig {
            pattern: Some("root.a.**".into()),
            start: 10,
            end: 20,
            ..cfg()
        };
        assert!(needs_shaping(&c));
        let e = shape(
            &c,
            insert(1, &["root.a.x.s", "root.b.x.s"], &[5, 10, 15, 25]),
        )
        .unwrap();
        let EventBody::Insert(w) = &e.body else {
            panic!()
        };
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].chunk.times, vec![10, 15]);
        assert!(shape(&c, insert(1, &["root.b.x.s"], &[15])).is_none());
        assert!(shape(&c, insert(1, &["root.a.x.s"], &[1, 2])).is_none());
        let db = ChangeEvent {
            origin: 1,
            origin_seq: 3,
            version: Version::new(3, 1),
            body: EventBody::Schema(SchemaChange::CreateDatabase {
                path: "root.a".into(),
                bucket_span_ms: 1,
            }),
        };
        assert!(
            shape(&c, db).is_some(),
            "a database above the pattern is carried"
        );
    }

    /// IoTDB's `pattern`: a character prefix of the series' full path.
    #[test]
    fn a_prefix_pattern_is_a_string_prefix() {
        let c = SourceConfig {
            prefix: Some("root.aligned.1".into()),
            ..cfg()
        };
        assert!(needs_shaping(&c));
        let paths = [
            "root.aligned.1.s",
            "root.aligned.1TS.s",
            "root.aligned.100TS.s",
            "root.aligned.2.s",
            "root.aligned.`123`.s",
            "root.other.1.s",
        ];
        let e = shape(&c, insert(1, &paths, &[1])).unwrap();
        let EventBody::Insert(w) = &e.body else {
            panic!()
        };
        let kept: Vec<&str> = w.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            kept,
            vec![
                "root.aligned.1.s",
                "root.aligned.1TS.s",
                "root.aligned.100TS.s"
            ]
        );
        let db = |path: &str| ChangeEvent {
            origin: 1,
            origin_seq: 3,
            version: Version::new(3, 1),
            body: EventBody::Schema(SchemaChange::CreateDatabase {
                path: path.into(),
                bucket_span_ms: 1,
            }),
        };
        assert!(shape(&c, db("root.aligned")).is_some());
        assert!(shape(&c, db("root.aligned.1TS")).is_some());
        assert!(shape(&c, db("root.align")).is_none());
        assert!(shape(&c, db("root.other")).is_none());
        assert_eq!(prefix_cover("root.aligned.1"), "root.aligned.**");
        assert_eq!(prefix_cover("root"), "root.**");
    }
}
