//! Queries. A `FROM` path is a device or device pattern; a selected name `m`
//! means the series `from.m` (patterns allowed), `*` means `from.*`, as in
//! IoTDB. Raw queries stream rows aligned by time; aggregates run over the
//! same rows (or straight over each series when there is no predicate);
//! `GROUP BY` emits one row per window as the scan passes it.

use crate::convert;
use crate::dual::Reader;
use crate::error::{ExecError, Result};
use crate::predicate::{delete_range, scan_range, Pred, TimeRange};
use crate::{ColumnInfo, ResultSet, Row, RowStream, Session};
use duet_engine::privileges::{Access, Privilege};
use duet_engine::{Accumulator, AggFunc, AlignedRows, BlockIter, DataType, Engine, Series, Value};
use duet_parser::{Expr, Path, Select, SelectItem};
use std::collections::HashMap;
use std::sync::Arc;

mod align;
mod compute;
mod fill;

/// The series a query reads, each once, with their positions in a row.
struct ScanSet {
    series: Vec<Arc<Series>>,
    index: HashMap<String, usize>,
}

impl ScanSet {
    fn add(&mut self, s: &Arc<Series>) -> usize {
        if let Some(&i) = self.index.get(&s.path) {
            return i;
        }
        self.series.push(s.clone());
        self.index.insert(s.path.clone(), self.series.len() - 1);
        self.series.len() - 1
    }
}

/// The most series patterns one query may name: its selected items times
/// its `FROM` paths (IoTDB bounds the paths of a query too). Each pattern
/// is a walk over the schema, so the product is what a query costs before
/// it reads a point.
pub const MAX_QUERY_PATTERNS: usize = 100_000;

/// Refuses a query whose patterns are too many or too long before any is
/// built or walked.
fn check_patterns(q: &Select) -> Result<()> {
    let items = q
        .items
        .iter()
        .map(|i| item_suffixes(i).len())
        .sum::<usize>()
        + usize::from(q.where_clause.is_some());
    let n = items.saturating_mul(q.from.len());
    if n > MAX_QUERY_PATTERNS {
        return Err(ExecError::semantic(format!(
            "the query names {} selected items over {} FROM paths ({n} patterns); at most \
             {MAX_QUERY_PATTERNS} are allowed: split it",
            q.items.len(),
            q.from.len()
        )));
    }
    for f in &q.from {
        duet_engine::schema::check_path_size(&convert::path(f))?;
    }
    for suffix in q.items.iter().flat_map(item_suffixes) {
        duet_engine::schema::check_path_size(&suffix)?;
    }
    Ok(())
}

/// The series `from.suffix` names, each once, in order (the deadline is
/// checked for each pattern walked).
fn matching(
    engine: &dyn Reader,
    from: &[Path],
    suffix: &str,
    deadline: Deadline,
) -> Result<Vec<Arc<Series>>> {
    let mut out: Vec<Arc<Series>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in from {
        deadline.check()?;
        let pattern = format!("{}.{suffix}", convert::path(f));
        duet_engine::schema::check_path_size(&pattern)?;
        for s in engine.series_matching(&pattern) {
            if seen.insert(s.path.clone()) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// The series `from.suffix` names that `access` may read (the others are
/// left out, as IoTDB does; [`execute`] says how many).
fn resolve(
    engine: &dyn Reader,
    access: &Access,
    from: &[Path],
    suffix: &str,
    deadline: Deadline,
) -> Result<Vec<Arc<Series>>> {
    let mut out = matching(engine, from, suffix, deadline)?;
    out.retain(|s| access.allows(Privilege::ReadData, &s.path));
    Ok(out)
}

/// What a selected item names below each `FROM` path (`*` for an
/// aggregate without an argument); a computed item's names are in
/// [`item_suffixes`].
fn item_suffix(item: &SelectItem) -> &str {
    match item {
        SelectItem::Wildcard => "*",
        SelectItem::Column(c) => c.as_str(),
        SelectItem::Agg { arg, .. } => arg.as_deref().unwrap_or("*"),
        SelectItem::Expr(_) => "",
    }
}

/// Every name a selected item has below each `FROM` path.
fn item_suffixes(item: &SelectItem) -> Vec<String> {
    match item {
        SelectItem::Expr(e) => {
            let mut ls = Vec::new();
            compute::leaves(e, &mut ls);
            ls.into_iter()
                .map(|l| match l {
                    compute::Leaf::Column(c) => c,
                    compute::Leaf::Agg(_, a) => a.unwrap_or_else(|| "*".into()),
                })
                .collect()
        }
        other => vec![item_suffix(other).to_string()],
    }
}

/// For a session that may not read everything: how many series the
/// query names that it may not read (an error when it may read none of
/// them).
fn hidden_series(
    engine: &dyn Reader,
    access: &Access,
    q: &Select,
    deadline: Deadline,
) -> Result<usize> {
    if access.is_all() {
        return Ok(0);
    }
    let (mut readable, mut hidden) = (0usize, 0usize);
    let mut seen = std::collections::HashSet::new();
    let mut patterns = Vec::new();
    for suffix in q.items.iter().flat_map(item_suffixes) {
        for s in matching(engine, &q.from, &suffix, deadline)? {
            if seen.insert(s.path.clone()) {
                if access.allows(Privilege::ReadData, &s.path) {
                    readable += 1;
                } else {
                    hidden += 1;
                }
            }
        }
        patterns.extend(
            q.from
                .iter()
                .map(|f| format!("{}.{suffix}", convert::path(f))),
        );
    }
    if readable == 0 && hidden > 0 {
        return Err(crate::auth::denied(Privilege::ReadData, &patterns));
    }
    Ok(hidden)
}

/// When the statement must stop (`query.timeout_ms`, or the client's).
#[derive(Debug, Clone, Copy)]
struct Deadline(Option<(std::time::Instant, std::time::Duration)>);

impl Deadline {
    fn check(&self) -> duet_engine::Result<()> {
        match self.0 {
            Some((at, limit)) if std::time::Instant::now() > at => {
                Err(duet_engine::Error::Timeout(format!(
                    "the statement ran past its time limit of {} ms and was stopped \
                     (query.timeout_ms, or the client's timeout)",
                    limit.as_millis()
                )))
            }
            _ => Ok(()),
        }
    }

    /// `scan`, stopped with an error once past the deadline (checked per
    /// block, so a scan stops within a few thousand points).
    fn scan(self, scan: BlockIter) -> BlockIter {
        if self.0.is_none() {
            return scan;
        }
        let mut done = false;
        let mut scan = scan;
        Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            if let Err(e) = self.check() {
                done = true;
                return Some(Err(e));
            }
            scan.next()
        }))
    }
}

fn agg_func(f: duet_parser::AggFunc) -> AggFunc {
    use duet_parser::AggFunc as P;
    match f {
        P::Count => AggFunc::Count,
        P::Sum => AggFunc::Sum,
        P::Avg => AggFunc::Avg,
        P::MinValue => AggFunc::MinValue,
        P::MaxValue => AggFunc::MaxValue,
        P::FirstValue => AggFunc::FirstValue,
        P::LastValue => AggFunc::LastValue,
        P::MaxTime => AggFunc::MaxTime,
        P::MinTime => AggFunc::MinTime,
        P::Extreme => AggFunc::Extreme,
        P::Stddev => AggFunc::Stddev,
        P::Variance => AggFunc::Variance,
        P::StddevSamp => AggFunc::StddevSamp,
        P::StddevPop => AggFunc::StddevPop,
        P::VarSamp => AggFunc::VarSamp,
        P::VarPop => AggFunc::VarPop,
        P::TimeDuration => AggFunc::TimeDuration,
    }
}

pub fn execute(engine: &dyn Reader, session: &Session, q: &Select) -> Result<ResultSet> {
    check_patterns(q)?;
    let hidden = hidden_series(engine, &session.access, q, Deadline(session.deadline))?;
    if q.last && q.fill.is_some() {
        return Err(ExecError::semantic(
            "SELECT LAST does not take FILL: it shows each series' last value",
        ));
    }
    let mut rs = if q.fill.is_none() && q.having.is_none() {
        run(engine, session, q)?
    } else {
        // Filtered and filled first, then paged: rows OFFSET skips still
        // fill the rows after them, and LIMIT counts the rows HAVING kept
        // (IoTDB's order).
        let unpaged = Select {
            limit: None,
            offset: None,
            ..q.clone()
        };
        let mut rs = run(engine, session, &unpaged)?;
        if let Some(f) = &q.fill {
            rs = fill::apply(rs, f, session)?;
        }
        let (skip, take) = (
            q.offset.unwrap_or(0) as usize,
            q.limit.map_or(usize::MAX, |l| l as usize),
        );
        rs.rows = Box::new(rs.rows.skip(skip).take(take));
        rs
    };
    if hidden > 0 {
        rs.warning = Some(format!(
            "{hidden} time series left out: no READ_DATA privilege on them"
        ));
    }
    Ok(rs)
}

/// The query in the view it asks for (by time, or by device).
fn run(engine: &dyn Reader, session: &Session, q: &Select) -> Result<ResultSet> {
    if q.align_by_device {
        return align::by_device(engine, session, q);
    }
    if q.order_device.is_some() {
        return Err(ExecError::semantic(
            "ORDER BY DEVICE needs ALIGN BY DEVICE (rows are aligned by time)",
        ));
    }
    execute_readable(engine, session, q)
}

fn execute_readable(engine: &dyn Reader, session: &Session, q: &Select) -> Result<ResultSet> {
    let mut aggs = 0;
    for item in &q.items {
        aggs += usize::from(is_aggregate(item)?);
    }
    if aggs > 0 && aggs < q.items.len() {
        return Err(ExecError::semantic(
            "a query cannot mix aggregates with raw columns",
        ));
    }
    if q.group_by.is_some() && aggs == 0 {
        return Err(ExecError::semantic(
            "GROUP BY needs aggregate functions in SELECT",
        ));
    }
    if q.last && aggs > 0 {
        return Err(ExecError::semantic(
            "SELECT LAST takes measurements, not aggregates",
        ));
    }
    if let Some(w) = &q.where_clause {
        let mut in_where = Vec::new();
        crate::predicate::aggregates_in(w, &mut in_where);
        if let Some(a) = in_where.first() {
            return Err(ExecError::semantic(format!(
                "WHERE filters points, not aggregates: put {a} in HAVING"
            )));
        }
    }
    if q.having.is_some() && aggs == 0 {
        return Err(ExecError::semantic(
            "HAVING needs aggregate functions in SELECT",
        ));
    }
    if q.having.is_some() && q.group_by_level.is_some() {
        return Err(ExecError::semantic(
            "HAVING with GROUP BY LEVEL is not supported yet",
        ));
    }
    let mut tag_groups = match &q.group_by_tags {
        Some(keys) => Some(TagGroups::new(keys.clone(), q, aggs, session)?),
        None => None,
    };
    let mut set = ScanSet {
        series: Vec::new(),
        index: HashMap::new(),
    };
    let range = scan_range(q.where_clause.as_ref(), session)?;
    let deadline = Deadline(session.deadline);
    if q.last {
        return last(engine, &session.access, q, range, deadline);
    }

    // Output columns: (function or none, scan positions, name): one
    // series each, or with GROUP BY LEVEL every series of its group.
    let levels = q.group_by_level.as_deref();
    if levels.is_some() && aggs == 0 {
        return Err(ExecError::semantic(
            "GROUP BY LEVEL needs aggregate functions in SELECT",
        ));
    }
    // Accumulators (aggregate queries) and the columns shown, each taken
    // from a row position or computed from several.
    let mut outputs: Vec<Output> = Vec::new();
    let mut shown: Vec<(Shown, ColumnInfo)> = Vec::new();
    for (n, item) in q.items.iter().enumerate() {
        let first = shown.len();
        if let SelectItem::Expr(e) = item {
            if levels.is_some() {
                return Err(ExecError::semantic(
                    "GROUP BY LEVEL takes aggregates, not computed columns",
                ));
            }
            if tag_groups.is_some() {
                return Err(ExecError::semantic(format!(
                    "{e} can't be used in GROUP BY TAGS: it takes aggregates of series"
                )));
            }
            let mut ls = Vec::new();
            compute::leaves(e, &mut ls);
            let mut choices: Vec<Vec<Arc<Series>>> = Vec::new();
            for l in &ls {
                let suffix = match l {
                    compute::Leaf::Column(c) => c.as_str(),
                    compute::Leaf::Agg(_, a) => a.as_deref().unwrap_or("*"),
                };
                choices.push(resolve(engine, &session.access, &q.from, suffix, deadline)?);
            }
            let counts: Vec<usize> = choices.iter().map(Vec::len).collect();
            for combo in compute::combinations(&counts)? {
                let (mut at, mut names) = (Vec::new(), Vec::new());
                for (i, l) in ls.iter().enumerate() {
                    let s = &choices[i][combo[i]];
                    match l {
                        compute::Leaf::Column(_) => {
                            at.push(set.add(s));
                            names.push(s.path.clone());
                        }
                        compute::Leaf::Agg(f, _) => {
                            let (i, name) = hidden_aggregate(&mut outputs, &mut set, *f, s)?;
                            at.push(i);
                            names.push(name);
                        }
                    }
                }
                let (b, name) = compute::bind(e, &ls, &|i| at[i], &|i| names[i].clone());
                shown.push((
                    Shown::Eval(b),
                    ColumnInfo {
                        name,
                        data_type: DataType::Double,
                    },
                ));
            }
        } else {
            let func = match item {
                SelectItem::Agg { func, .. } => Some(agg_func(*func)),
                _ => None,
            };
            let suffix = item_suffix(item);
            // With GROUP BY LEVEL: this item's columns by grouped name.
            let mut groups: HashMap<String, usize> = HashMap::new();
            for s in resolve(engine, &session.access, &q.from, suffix, deadline)? {
                let pos = set.add(&s);
                let info = match func {
                    None => ColumnInfo {
                        name: s.path.clone(),
                        data_type: s.data_type,
                    },
                    Some(f) => aggregate_column(
                        f,
                        &s,
                        &levels.map_or_else(|| s.path.clone(), |l| level_path(&s.path, l)),
                    )?,
                };
                if func.is_none() {
                    shown.push((Shown::At(pos), info));
                    continue;
                }
                if let (Some(tg), Some(f)) = (&mut tag_groups, func) {
                    // One column per function of a measurement, one row
                    // per combination of tag values.
                    let (_, measurement) = duet_engine::schema::device_and_measurement(&s.path);
                    let info = aggregate_column(f, &s, measurement)?;
                    let slot = tg.slot(&s, &info);
                    match tg.cells.get(&slot).copied() {
                        Some(at) => {
                            let o = &mut outputs[at];
                            if o.2.data_type != info.data_type {
                                return Err(ExecError::semantic(format!(
                                    "GROUP BY TAGS puts {} series and {} series in {}: the \
                                     group needs one type for this function",
                                    o.2.data_type.name(),
                                    info.data_type.name(),
                                    info.name
                                )));
                            }
                            o.1.push(pos);
                        }
                        None => {
                            // Its place in the wide row: the shown columns.
                            tg.cells.insert(slot, shown.len());
                            shown.push((Shown::At(outputs.len()), info.clone()));
                            outputs.push((func, vec![pos], info));
                        }
                    }
                    continue;
                }
                match (levels, groups.get(&info.name)) {
                    (Some(_), Some(&at)) => {
                        let o = &mut outputs[at];
                        if o.2.data_type != info.data_type {
                            return Err(ExecError::semantic(format!(
                                "GROUP BY LEVEL puts {} series and {} series in {}: the group \
                                 needs one type for this function (count, sum, avg and the \
                                 deviations take any numeric mix)",
                                o.2.data_type.name(),
                                info.data_type.name(),
                                info.name
                            )));
                        }
                        o.1.push(pos);
                    }
                    _ => {
                        groups.insert(info.name.clone(), outputs.len());
                        shown.push((Shown::At(outputs.len()), info.clone()));
                        outputs.push((func, vec![pos], info));
                    }
                }
            }
        }
        if let (Some(Some(alias)), None) = (q.aliases.get(n), &tag_groups) {
            let made = shown.len() - first;
            if made > 1 {
                return Err(ExecError::semantic(format!(
                    "alias {alias} would name {made} columns: an alias takes an item that \
                     matches one series"
                )));
            }
            if let Some(c) = shown.get_mut(first) {
                c.1.name = alias.clone();
            }
        }
    }
    // SLIMIT / SOFFSET: which columns the result shows.
    let shown: Vec<(Shown, ColumnInfo)> = shown
        .into_iter()
        .skip(q.soffset.unwrap_or(0) as usize)
        .take(q.slimit.map_or(usize::MAX, |n| n as usize))
        .collect();
    let columns: Vec<ColumnInfo> = shown.iter().map(|c| c.1.clone()).collect();
    let shown: Arc<Vec<Shown>> = Arc::new(shown.into_iter().map(|c| c.0).collect());
    // HAVING's aggregates, computed as hidden columns after the shown ones
    // (it may name aggregates the SELECT does not).
    let having = match &q.having {
        None => None,
        Some(h) => {
            let mut named = Vec::new();
            crate::predicate::aggregates_in(h, &mut named);
            let mut at: HashMap<String, Vec<usize>> = HashMap::new();
            for o in &named {
                let duet_parser::Operand::Agg { func, arg } = o else {
                    continue;
                };
                let suffix = arg.as_deref().unwrap_or("*");
                for s in resolve(engine, &session.access, &q.from, suffix, deadline)? {
                    let (i, _) = hidden_aggregate(&mut outputs, &mut set, *func, &s)?;
                    at.entry(o.to_string()).or_default().push(i);
                }
            }
            Some(Pred::compile(h, session, &mut |name: &str| {
                Ok(at.get(name).cloned().unwrap_or_default())
            })?)
        }
    };
    let pred = match &q.where_clause {
        Some(e) => Some(compile_pred(engine, e, session, &q.from, &mut set)?),
        None => None,
    };
    let offset = q.offset.unwrap_or(0) as usize;
    let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);

    if aggs == 0 {
        let shape = shown.clone();
        let rows = aligned(engine, &set, range, q.order_desc, pred, deadline)
            .map(move |r| {
                r.map(|(t, row)| Row {
                    time: Some(t),
                    values: shape.iter().map(|s| s.value(&row)).collect(),
                })
            })
            // A row with no value in any shown column is no row.
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |row| row.values.iter().any(Option::is_some))
            })
            .skip(offset)
            .take(limit);
        return Ok(ResultSet {
            has_time: true,
            columns,
            rows: Box::new(rows),
            warning: None,
        });
    }

    let specs: Vec<(AggFunc, Vec<usize>)> = outputs
        .iter()
        .map(|o| (o.0.unwrap_or(AggFunc::Count), o.1.clone()))
        .collect();
    if let Some(gb) = &q.group_by {
        let (mut start, mut end) = (
            convert::time(&gb.start, session)?,
            convert::time(&gb.end, session)?,
        );
        if end <= start {
            return Err(ExecError::semantic(format!(
                "GROUP BY window [{start}, {end}) is empty: end must be after start"
            )));
        }
        let positive = |(m, ms): (i64, i64)| m >= 0 && ms >= 0 && (m, ms) != (0, 0);
        let interval = (gb.step_months, gb.step_ms);
        let step = gb.sliding.unwrap_or(interval);
        if !positive(interval) || !positive(step) {
            return Err(ExecError::semantic(
                "GROUP BY interval and step must be positive",
            ));
        }
        // `(a, b]` in whole milliseconds is `[a + 1, b + 1)`.
        if gb.left_open {
            start = start.saturating_add(1);
            end = end.saturating_add(1);
        }
        let win = Windows {
            start,
            months: step.0,
            ms: step.1,
            interval: (step != interval).then_some(interval),
            offset_minutes: session.utc_offset_minutes,
        };
        let windows = win.count_before(end) as i128;
        // OFFSET and LIMIT pick windows by number: the skipped ones are
        // neither scanned nor iterated.
        let skip = (offset as i128).min(windows);
        let count = (limit as i128).min(windows - skip);
        let (first, lowest) = if q.order_desc {
            (windows - 1 - skip, windows - skip - count)
        } else {
            (skip, skip)
        };
        let last_end = if count > 0 {
            win.end_of((lowest + count - 1) as i64)
        } else {
            win.bound(lowest as i64)
        };
        let scan = TimeRange {
            start: range.start.max(win.bound(lowest as i64)),
            end: range.end.min(end - 1).min(last_end.saturating_sub(1)),
        };
        let rows = aligned(engine, &set, scan, q.order_desc, pred, deadline);
        let iter = GroupBy {
            rows: rows.peekable(),
            accs: specs.iter().map(|(f, _)| Accumulator::new(*f)).collect(),
            specs,
            win,
            end,
            next: first as i64,
            windows: windows as i64,
            left: count,
            desc: q.order_desc,
            deadline,
            held: std::collections::VecDeque::new(),
            overlapping: win.overlapping(),
            left_open: gb.left_open,
        };
        let rs = ResultSet {
            has_time: true,
            columns,
            rows: kept(Box::new(iter), having, shown),
            warning: None,
        };
        return Ok(TagGroups::apply(tag_groups, rs));
    }

    if specs.is_empty() {
        // Nothing matched: an empty result, not a row of nothing.
        let rs = ResultSet::from_rows(false, columns, Vec::new());
        return Ok(TagGroups::apply(tag_groups, rs));
    }
    let mut accs: Vec<Accumulator> = specs.iter().map(|(f, _)| Accumulator::new(*f)).collect();
    if pred.is_none() {
        // No predicate: each series on its own, without aligning rows.
        for ((_, positions), acc) in specs.iter().zip(&mut accs) {
            for pos in positions {
                for block in
                    deadline.scan(engine.scan(&set.series[*pos], range.start, range.end, false))
                {
                    let block = block?;
                    for (i, &t) in block.times.iter().enumerate() {
                        if let Some(v) = block.values.get(i) {
                            acc.update(t, &v);
                        }
                    }
                }
            }
        }
    } else {
        for r in aligned(engine, &set, range, false, pred, deadline) {
            let (t, row) = r?;
            for ((_, positions), acc) in specs.iter().zip(&mut accs) {
                for pos in positions {
                    if let Some(v) = &row[*pos] {
                        acc.update(t, v);
                    }
                }
            }
        }
    }
    let row = Row {
        time: None,
        values: accs.iter().map(Accumulator::finish).collect(),
    };
    let rows = kept(Box::new(std::iter::once(Ok(row))), having, shown);
    let rs = ResultSet {
        has_time: false,
        columns,
        rows: Box::new(rows.skip(offset).take(limit)),
        warning: None,
    };
    Ok(TagGroups::apply(tag_groups, rs))
}

/// `GROUP BY TAGS(k, ...)` (IoTDB's): the aggregates are computed wide,
/// one column per (combination of tag values, function of a measurement),
/// then each row becomes one row per combination: the tag values (`NULL`
/// for a series without the tag, as IoTDB prints it), then one column per
/// function of a measurement (null where the combination has no such
/// series).
struct TagGroups {
    keys: Vec<String>,
    /// Each combination of values seen, in order of first sight.
    combos: Vec<Vec<Option<String>>>,
    /// The distinct output columns (`avg(temperature)`), in order.
    names: Vec<ColumnInfo>,
    /// (combination, column) -> position in the wide row.
    cells: HashMap<(usize, usize), usize>,
}

impl TagGroups {
    fn new(keys: Vec<String>, q: &Select, aggs: usize, session: &Session) -> Result<TagGroups> {
        let refuse = |what: &str| Err(ExecError::semantic(what.to_string()));
        if aggs == 0 {
            return refuse("GROUP BY TAGS needs aggregate functions in SELECT");
        }
        if q.having.is_some() {
            return refuse("HAVING is not supported in a GROUP BY TAGS query (as in IoTDB)");
        }
        if q.limit.is_some() || q.offset.is_some() || q.slimit.is_some() || q.soffset.is_some() {
            return refuse(
                "LIMIT, OFFSET, SLIMIT and SOFFSET are not supported in GROUP BY TAGS (as in IoTDB)",
            );
        }
        if q.fill.is_some() {
            return refuse("FILL is not supported with GROUP BY TAGS");
        }
        if q.group_by_level.is_some() {
            return refuse("GROUP BY TAGS does not go with GROUP BY LEVEL");
        }
        crate::predicate::time_only_range(q.where_clause.as_ref(), session, "GROUP BY TAGS")?;
        Ok(TagGroups {
            keys,
            combos: Vec::new(),
            names: Vec::new(),
            cells: HashMap::new(),
        })
    }

    fn combo_of(&self, s: &Series) -> Vec<Option<String>> {
        self.keys
            .iter()
            .map(|k| {
                duet_engine::labels::get(&s.labels, duet_engine::labels::LabelKind::Tag, k)
                    .map(str::to_string)
            })
            .collect()
    }

    /// `s`'s (combination, column), each added when first seen.
    fn slot(&mut self, s: &Series, info: &ColumnInfo) -> (usize, usize) {
        let combo = self.combo_of(s);
        let c = match self.combos.iter().position(|x| *x == combo) {
            Some(c) => c,
            None => {
                self.combos.push(combo);
                self.combos.len() - 1
            }
        };
        let n = match self.names.iter().position(|x| x.name == info.name) {
            Some(n) => n,
            None => {
                self.names.push(info.clone());
                self.names.len() - 1
            }
        };
        (c, n)
    }

    /// The wide result as IoTDB shows it (unchanged without GROUP BY TAGS).
    fn apply(tg: Option<TagGroups>, rs: ResultSet) -> ResultSet {
        match tg {
            Some(tg) => tg.reshape(rs),
            None => rs,
        }
    }

    fn reshape(self, rs: ResultSet) -> ResultSet {
        let mut columns: Vec<ColumnInfo> = self
            .keys
            .iter()
            .map(|k| ColumnInfo {
                name: k.clone(),
                data_type: DataType::Text,
            })
            .collect();
        columns.extend(self.names.iter().cloned());
        // Combinations in value order, a series without the tag after
        // those with it (IoTDB leaves the order open; its page lists NULL
        // last).
        let mut order: Vec<usize> = (0..self.combos.len()).collect();
        let key = |c: &Vec<Option<String>>| -> Vec<(bool, String)> {
            c.iter()
                .map(|v| (v.is_none(), v.clone().unwrap_or_default()))
                .collect()
        };
        order.sort_by_key(|&c| key(&self.combos[c]));
        let (combos, cells, width) = (self.combos, self.cells, self.names.len());
        let rows = rs.rows.flat_map(move |r| {
            let out: Vec<Result<Row>> = match r {
                Err(e) => vec![Err(e)],
                Ok(row) => order
                    .iter()
                    .map(|&c| {
                        let mut values: Vec<Option<Value>> = combos[c]
                            .iter()
                            .map(|v| Some(Value::Text(v.clone().unwrap_or_else(|| "NULL".into()))))
                            .collect();
                        values.extend((0..width).map(|n| {
                            cells
                                .get(&(c, n))
                                .and_then(|&at| row.values.get(at).cloned().flatten())
                        }));
                        Ok(Row {
                            time: row.time,
                            values,
                        })
                    })
                    .collect(),
            };
            out
        });
        ResultSet {
            has_time: rs.has_time,
            columns,
            rows: Box::new(rows),
            warning: rs.warning,
        }
    }
}

/// One accumulator output: its function, the scan positions it reads and
/// its column.
type Output = (Option<AggFunc>, Vec<usize>, ColumnInfo);

/// The column of `f` over series `s`, named `f(shown)`.
fn aggregate_column(f: AggFunc, s: &Series, shown: &str) -> Result<ColumnInfo> {
    Ok(ColumnInfo {
        name: format!("{}({shown})", f.name()),
        data_type: f.result_type(s.data_type, &s.path)?,
    })
}

/// Adds an accumulator of `f` over `s` that no column shows as itself (a
/// computed column's or HAVING's): its output index and column name.
fn hidden_aggregate(
    outputs: &mut Vec<Output>,
    set: &mut ScanSet,
    f: duet_parser::AggFunc,
    s: &Arc<Series>,
) -> Result<(usize, String)> {
    let f = agg_func(f);
    let info = aggregate_column(f, s, &s.path)?;
    let name = info.name.clone();
    outputs.push((Some(f), vec![set.add(s)], info));
    Ok((outputs.len() - 1, name))
}

/// The aggregate rows HAVING keeps (all without one), as the `shown`
/// columns (HAVING's and computed columns' aggregates are hidden ones).
fn kept(rows: RowStream, having: Option<Pred>, shown: Arc<Vec<Shown>>) -> RowStream {
    Box::new(rows.filter_map(move |r| match r {
        Err(e) => Some(Err(e)),
        Ok(row) => {
            let keep = having
                .as_ref()
                .is_none_or(|h| h.eval(row.time.unwrap_or(0), &row.values) == Some(true));
            keep.then(|| {
                Ok(Row {
                    time: row.time,
                    values: shown.iter().map(|s| s.value(&row.values)).collect(),
                })
            })
        }
    }))
}

/// Where a shown column's value comes from: a position of the row (a
/// series, or an aggregate), or computed from several.
#[derive(Debug, Clone)]
enum Shown {
    At(usize),
    Eval(compute::Bound),
}

impl Shown {
    fn value(&self, row: &[Option<Value>]) -> Option<Value> {
        match self {
            Shown::At(i) => row.get(*i).cloned().flatten(),
            Shown::Eval(b) => compute::eval(b, row).map(Value::F64),
        }
    }
}

/// Whether a selected item is an aggregate (or computed from aggregates
/// only); a computed item that mixes both, or names no series, is refused.
fn is_aggregate(item: &SelectItem) -> Result<bool> {
    match item {
        SelectItem::Agg { .. } => Ok(true),
        SelectItem::Wildcard | SelectItem::Column(_) => Ok(false),
        SelectItem::Expr(e) => {
            let mut ls = Vec::new();
            compute::leaves(e, &mut ls);
            let agg = ls
                .iter()
                .filter(|l| matches!(l, compute::Leaf::Agg(..)))
                .count();
            if ls.is_empty() {
                return Err(ExecError::semantic(format!(
                    "{item} names no series: a computed column needs one"
                )));
            }
            if agg > 0 && agg < ls.len() {
                return Err(ExecError::semantic(format!(
                    "{item} mixes aggregates with raw columns"
                )));
            }
            Ok(agg > 0)
        }
    }
}

/// A series path as GROUP BY LEVEL names its group: the nodes at `levels`
/// (0 is `root`) and the measurement kept, every other node `*`
/// (`root.ln.wf01.wt01.status` at level 1: `root.ln.*.*.status`).
fn level_path(path: &str, levels: &[u32]) -> String {
    let nodes = duet_engine::schema::path_nodes(path);
    let last = nodes.len().saturating_sub(1);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 0 || i == last || levels.contains(&(i as u32)) {
                *n
            } else {
                "*"
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn compile_pred(
    engine: &dyn Reader,
    e: &Expr,
    session: &Session,
    from: &[Path],
    set: &mut ScanSet,
) -> Result<Pred> {
    Pred::compile(e, session, &mut |name: &str| {
        let found = resolve(
            engine,
            &session.access,
            from,
            name,
            Deadline(session.deadline),
        )?;
        // A name that matches no series has no value at any time: no
        // comparison with it holds, so no row passes (IoTDB: an empty
        // result, not an error).
        Ok(found.iter().map(|s| set.add(s)).collect())
    })
}

type AlignedIter = Box<dyn Iterator<Item = Result<(i64, Vec<Option<Value>>)>> + Send>;

fn aligned(
    engine: &dyn Reader,
    set: &ScanSet,
    range: TimeRange,
    desc: bool,
    pred: Option<Pred>,
    deadline: Deadline,
) -> AlignedIter {
    if range.is_empty() || set.series.is_empty() {
        return Box::new(std::iter::empty());
    }
    let scans = set
        .series
        .iter()
        .map(|s| deadline.scan(engine.scan(s, range.start, range.end, desc)))
        .collect();
    let rows = AlignedRows::new(scans, desc).map(|r| r.map_err(ExecError::from));
    match pred {
        None => Box::new(rows),
        Some(p) => Box::new(rows.filter(move |r| match r {
            Ok((t, row)) => p.eval(*t, row) == Some(true),
            Err(_) => true,
        })),
    }
}

/// GROUP BY's windows: window `k` starts `k` steps after `start`, a step
/// being `months` calendar months (in the session's zone) and `ms` fixed
/// milliseconds, and ends where window `k + 1` starts, or `interval`
/// after its start when it is given (a sliding step: windows overlap or
/// leave gaps).
#[derive(Debug, Clone, Copy)]
struct Windows {
    start: i64,
    months: i64,
    ms: i64,
    interval: Option<(i64, i64)>,
    offset_minutes: i32,
}

impl Windows {
    /// Where window `k` starts (saturating).
    fn bound(&self, k: i64) -> i64 {
        let fixed = i128::from(k) * i128::from(self.ms);
        let base = if self.months == 0 {
            self.start
        } else {
            duet_parser::add_calendar_months(
                self.start,
                k.saturating_mul(self.months),
                self.offset_minutes,
            )
        };
        (i128::from(base) + fixed).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Where window `k` ends (exclusive).
    fn end_of(&self, k: i64) -> i64 {
        match self.interval {
            None => self.bound(k.saturating_add(1)),
            Some((months, ms)) => {
                let lo = self.bound(k);
                let base = if months == 0 {
                    lo
                } else {
                    duet_parser::add_calendar_months(lo, months, self.offset_minutes)
                };
                base.saturating_add(ms)
            }
        }
    }

    /// Whether windows overlap (a step shorter than the interval): a point
    /// then counts in more than one.
    fn overlapping(&self) -> bool {
        match self.interval {
            None => false,
            Some(_) => self.end_of(0) > self.bound(1),
        }
    }

    /// How many windows start before `end` (> `start`).
    fn count_before(&self, end: i64) -> i64 {
        let span = i128::from(end) - i128::from(self.start);
        if self.months == 0 {
            let step = i128::from(self.ms);
            return ((span + step - 1) / step).min(i128::from(i64::MAX)) as i64;
        }
        // A month is at least 28 days: the answer is at most `hi`, found
        // by bisection on the calendar (window starts increase with k).
        let shortest = i128::from(self.months) * 28 * 86_400_000 + i128::from(self.ms);
        let (mut lo, mut hi) = (0i64, ((span + shortest - 1) / shortest).min(1 << 62) as i64);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.bound(mid) < end {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Rows an overlapping GROUP BY may hold for one window.
const MAX_WINDOW_ROWS: usize = 1_000_000;

struct GroupBy {
    rows: std::iter::Peekable<AlignedIter>,
    specs: Vec<(AggFunc, Vec<usize>)>,
    accs: Vec<Accumulator>,
    win: Windows,
    end: i64,
    next: i64,
    windows: i64,
    /// Windows still to emit (OFFSET and LIMIT applied).
    left: i128,
    desc: bool,
    deadline: Deadline,
    /// Overlapping windows: the rows the next windows may still need.
    held: std::collections::VecDeque<(i64, Vec<Option<Value>>)>,
    /// `win.overlapping()`, worked out once.
    overlapping: bool,
    /// Windows `(a, b]`: each shown at its right end.
    left_open: bool,
}

impl GroupBy {
    fn add(&mut self, t: i64, row: &[Option<Value>]) {
        for ((_, positions), acc) in self.specs.iter().zip(&mut self.accs) {
            for pos in positions {
                if let Some(v) = &row[*pos] {
                    acc.update(t, v);
                }
            }
        }
    }

    /// Windows that follow one another or leave gaps: each row is used
    /// once, rows in a gap are passed over.
    fn stream(&mut self, lo: i64, hi: i64) -> Result<()> {
        loop {
            let t = match self.rows.peek() {
                None => return Ok(()),
                Some(Err(_)) => match self.rows.next() {
                    Some(Err(e)) => return Err(e),
                    _ => return Ok(()),
                },
                Some(Ok((t, _))) => *t,
            };
            let before = if self.desc { t >= hi } else { t < lo };
            let after = if self.desc { t < lo } else { t >= hi };
            if after {
                return Ok(());
            }
            if let Some(Ok((t, row))) = self.rows.next() {
                if !before {
                    self.add(t, &row);
                }
            }
        }
    }

    /// Overlapping windows: the rows of this window are held, as the next
    /// windows need some of them again.
    fn overlap(&mut self, lo: i64, hi: i64) -> Result<()> {
        let gone = |t: i64| if self.desc { t >= hi } else { t < lo };
        while self.held.front().is_some_and(|(t, _)| gone(*t)) {
            self.held.pop_front();
        }
        loop {
            let t = match self.rows.peek() {
                None => break,
                Some(Err(_)) => match self.rows.next() {
                    Some(Err(e)) => return Err(e),
                    _ => break,
                },
                Some(Ok((t, _))) => *t,
            };
            if (self.desc && t < lo) || (!self.desc && t >= hi) {
                break;
            }
            if let Some(Ok(r)) = self.rows.next() {
                if !gone(r.0) {
                    if self.held.len() >= MAX_WINDOW_ROWS {
                        return Err(ExecError::semantic(format!(
                            "a GROUP BY window holds over {MAX_WINDOW_ROWS} rows with a sliding \
                             step shorter than its interval: use a shorter interval or a longer \
                             step"
                        )));
                    }
                    self.held.push_back(r);
                }
            }
        }
        let held = std::mem::take(&mut self.held);
        for (t, row) in held.iter().filter(|(t, _)| (lo..hi).contains(t)) {
            self.add(*t, row);
        }
        self.held = held;
        Ok(())
    }
}

impl Iterator for GroupBy {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        if self.next < 0 || self.next >= self.windows || self.left <= 0 {
            return None;
        }
        if let Err(e) = self.deadline.check() {
            self.left = 0;
            return Some(Err(e.into()));
        }
        self.left -= 1;
        let k = self.next;
        self.next += if self.desc { -1 } else { 1 };
        self.accs.iter_mut().for_each(Accumulator::reset);
        let (lo, hi) = (self.win.bound(k), self.win.end_of(k).min(self.end));
        let r = if self.overlapping {
            self.overlap(lo, hi)
        } else {
            self.stream(lo, hi)
        };
        if let Err(e) = r {
            self.left = 0;
            return Some(Err(e));
        }
        Some(Ok(Row {
            time: Some(if self.left_open { hi - 1 } else { lo }),
            values: self.accs.iter().map(Accumulator::finish).collect(),
        }))
    }
}

fn last(
    engine: &dyn Reader,
    access: &Access,
    q: &Select,
    range: TimeRange,
    deadline: Deadline,
) -> Result<ResultSet> {
    let mut series: Vec<Arc<Series>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in &q.items {
        if matches!(item, SelectItem::Agg { .. } | SelectItem::Expr(_)) {
            return Err(ExecError::semantic("SELECT LAST takes measurements"));
        }
        let suffix = item_suffix(item);
        for s in resolve(engine, access, &q.from, suffix, deadline)? {
            if seen.insert(s.path.clone()) {
                series.push(s);
            }
        }
    }
    let mut rows = Vec::new();
    for s in series {
        if range.is_empty() {
            break;
        }
        let mut scan = deadline.scan(engine.scan(&s, range.start, range.end, true));
        if let Some(block) = scan.next() {
            let block = block?;
            if let (Some(&t), Some(v)) = (block.times.first(), block.values.get(0)) {
                rows.push(Row {
                    time: Some(t),
                    values: vec![
                        Some(Value::Text(s.path.clone())),
                        Some(Value::Text(v.to_string())),
                        Some(Value::Text(s.data_type.name().to_string())),
                    ],
                });
            }
        }
    }
    let columns = ["Timeseries", "Value", "DataType"]
        .iter()
        .map(|n| ColumnInfo {
            name: n.to_string(),
            data_type: DataType::Text,
        })
        .collect();
    let offset = q.offset.unwrap_or(0) as usize;
    let limit = q.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    Ok(ResultSet::from_rows(
        true,
        columns,
        rows.into_iter().skip(offset).take(limit).collect(),
    ))
}

/// `DELETE FROM paths [WHERE time conditions]`.
pub fn delete(
    engine: &Engine,
    session: &Session,
    paths: &[Path],
    where_clause: Option<&Expr>,
) -> Result<usize> {
    let range = delete_range(where_clause, session)?;
    if range.is_empty() {
        return Ok(0);
    }
    // IoTDB: a path deletes its series and every series below it (a
    // device's, a database's), where the session may write them.
    let mut patterns: Vec<String> = Vec::new();
    for p in paths.iter().map(convert::path) {
        let below = format!("{p}.**");
        if !p.ends_with("**") && session.access.allows_all(Privilege::WriteData, &below) {
            patterns.push(below);
        }
        patterns.push(p);
    }
    // A path that matches nothing deletes nothing, and is no error (IoTDB).
    match engine.delete_points(&patterns, range.start, range.end) {
        Err(duet_engine::Error::NotFound(_)) => Ok(0),
        r => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::level_path;

    #[test]
    fn group_by_level_names_its_groups_as_iotdb() {
        let p = "root.ln.wf01.wt01.status";
        assert_eq!(level_path(p, &[1]), "root.ln.*.*.status");
        assert_eq!(level_path(p, &[3]), "root.*.*.wt01.status");
        assert_eq!(level_path(p, &[1, 3]), "root.ln.*.wt01.status");
        assert_eq!(level_path(p, &[0]), "root.*.*.*.status");
        assert_eq!(level_path("root.a.`b.c`.s", &[2]), "root.*.`b.c`.s");
    }
}
