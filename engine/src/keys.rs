//! Key layouts of the three column families. All integers are big-endian so
//! RocksDB's bytewise order is numeric order: a range scan over `data` is a
//! time-ordered scan of one series, and `log` iterates in sequence order.

use crate::error::{Error, Result};

pub const CF_DATA: &str = "data";
pub const CF_LOG: &str = "log";
pub const CF_META: &str = "meta";

/// `data` key: series id ‖ bucket start with the sign bit flipped (so negative
/// timestamps sort before positive ones).
pub fn data_key(series: u64, bucket_start: i64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&series.to_be_bytes());
    k[8..].copy_from_slice(&((bucket_start as u64) ^ (1 << 63)).to_be_bytes());
    k
}

pub fn decode_data_key(k: &[u8]) -> Result<(u64, i64)> {
    if k.len() != 16 {
        return Err(Error::corrupt(
            "data key",
            format!("length {} instead of 16", k.len()),
        ));
    }
    let mut a = [0u8; 8];
    a.copy_from_slice(&k[..8]);
    let series = u64::from_be_bytes(a);
    a.copy_from_slice(&k[8..]);
    let bucket = (u64::from_be_bytes(a) ^ (1 << 63)) as i64;
    Ok((series, bucket))
}

/// Start of the bucket of span `span` that holds `t` (floor division, so
/// negative times land in the right bucket). `t` is within
/// [`crate::MIN_TIME`, `crate::MAX_TIME`], so this cannot overflow.
pub fn bucket_of(t: i64, span: i64) -> i64 {
    t - t.rem_euclid(span)
}

/// `log` key: local sequence number.
pub fn log_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub fn decode_log_key(k: &[u8]) -> Result<u64> {
    let a: [u8; 8] = k
        .try_into()
        .map_err(|_| Error::corrupt("log key", format!("length {} instead of 8", k.len())))?;
    Ok(u64::from_be_bytes(a))
}

// `meta` keys: a text prefix naming the record kind.
pub const META_NODE_ID: &[u8] = b"node/id";
pub const META_CLUSTER_ID: &[u8] = b"node/cluster";
pub const META_NEXT_SERIES: &[u8] = b"schema/next_series_id";
pub const META_LOG_FLOOR: &[u8] = b"log/first";
pub const META_HLC: &[u8] = b"hlc/last";
/// How many peers' changes this node has applied (u64 LE).
pub const META_REMOTE_APPLIED: &[u8] = b"remote/applied";
/// Bytes ever appended to the change log (u64 LE).
pub const META_LOG_CUM: &[u8] = b"log/cum";
/// Sparse index of the log's bytes: `logidx/<seq as 16 hex digits>` = the
/// bytes appended before that sequence (u64 LE), one about every MiB.
pub const PREFIX_LOGIDX: &str = "logidx/";
pub const PREFIX_DB: &str = "db/";
pub const PREFIX_SERIES: &str = "ts/";
pub const PREFIX_TOMB: &str = "tomb/";
pub const PREFIX_USER: &str = "user/";
/// A user's grants (`privileges::Grants::encode`).
pub const PREFIX_PRIV: &str = "priv/";
/// The version of the last change to a user's record (`authv/u/<name>`,
/// kept after a drop as its tombstone) or grants (`authv/g/<name>`):
/// `hlc` (u64 LE) `node` (u32 LE). Records without one predate replicated
/// users and lose to any replicated change.
pub const PREFIX_AUTHV: &str = "authv/";
/// A user's privilege cells (`users::replicated`).
pub const PREFIX_AUTHC: &str = "authc/";
pub const PREFIX_HWM: &str = "hwm/";
pub const PREFIX_RECORD: &str = "rec/";
pub const PREFIX_DROP: &str = "drop/";
/// TTL rules by path pattern (see `schema::TtlRule`).
pub const PREFIX_TTL: &str = "ttl/";

pub fn meta_key(prefix: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + name.len());
    k.extend_from_slice(prefix.as_bytes());
    k.extend_from_slice(name.as_bytes());
    k
}

/// Valid timestamps: ±2^62 ms (±146 million years) so bucket arithmetic
/// cannot overflow.
pub const MIN_TIME: i64 = -(1 << 62);
pub const MAX_TIME: i64 = 1 << 62;

/// An error unless `t` is a valid timestamp.
pub fn check_time(t: i64) -> crate::error::Result<()> {
    if (MIN_TIME..=MAX_TIME).contains(&t) {
        Ok(())
    } else {
        Err(crate::error::Error::invalid(format!(
            "timestamp {t} is out of range [{MIN_TIME}, {MAX_TIME}]"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keys_sort_by_series_then_time() {
        let times = [i64::MIN, -5_000, -1, 0, 1, 3_600_000, i64::MAX];
        let mut keys: Vec<_> = times.iter().map(|&t| data_key(7, t)).collect();
        let sorted = keys.clone();
        keys.sort();
        assert_eq!(keys, sorted);
        assert!(data_key(7, i64::MAX) < data_key(8, i64::MIN));
        for t in times {
            assert_eq!(decode_data_key(&data_key(7, t)).unwrap(), (7, t));
        }
        assert!(decode_data_key(b"short").is_err());
    }

    #[test]
    fn buckets_floor_negative_times() {
        assert_eq!(bucket_of(-1, 1000), -1000);
        assert_eq!(bucket_of(0, 1000), 0);
        assert_eq!(bucket_of(1999, 1000), 1000);
        assert_eq!(bucket_of(crate::MIN_TIME, 3_600_000) % 3_600_000, 0);
    }
}
