//! Result values and the rows of a query, fetched page by page.

use super::*;

/// A value of a result row. `Display` prints what IoTDB's CLI prints
/// (floats with `{:?}` so 20.0 stays "20.0"); DATE (yyyyMMdd) and TIMESTAMP
/// columns arrive as plain I32/I64, see [`ResultRows::column_types`].
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Null,
    Bool(bool),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    /// TEXT and STRING (invalid UTF-8 is replaced).
    Text(String),
    /// BLOB columns, shown as `0x` + hex.
    Blob(Vec<u8>),
}

impl Field {
    fn from_value(value: Option<Value>, type_name: &str) -> Field {
        match value {
            None => Field::Null,
            Some(Value::Bool(b)) => Field::Bool(b),
            Some(Value::I32(x)) => Field::I32(x),
            Some(Value::I64(x)) => Field::I64(x),
            Some(Value::F32(x)) => Field::F32(x),
            Some(Value::F64(x)) => Field::F64(x),
            Some(Value::Timestamp(x)) => Field::I64(x),
            Some(Value::Date(x)) => Field::I32(x),
            Some(Value::Text(bytes) | Value::Blob(bytes)) if type_name == "BLOB" => {
                Field::Blob(bytes)
            }
            Some(Value::Text(bytes) | Value::Blob(bytes) | Value::Str(bytes)) => {
                Field::Text(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }
}

/// Java spells infinities out; Rust's `{:?}` says `inf`.
fn fmt_float(f: &mut fmt::Formatter<'_>, x: f64, debug: &dyn fmt::Debug) -> fmt::Result {
    if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        write!(f, "{debug:?}")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Null => f.write_str("null"),
            Field::Bool(b) => write!(f, "{b}"),
            Field::I32(x) => write!(f, "{x}"),
            Field::I64(x) => write!(f, "{x}"),
            Field::F32(x) => fmt_float(f, f64::from(*x), x),
            Field::F64(x) => fmt_float(f, *x, x),
            Field::Text(s) => f.write_str(s),
            Field::Blob(bytes) => {
                f.write_str("0x")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// The rows of one query, read page by page. Holds the session: finish or
/// drop it before the next statement.
pub struct ResultRows<'s> {
    session: &'s mut Session,
    generation: u64,
    sql: String,
    query_id: i64,
    columns: Vec<String>,
    types: Vec<String>,
    has_time: bool,
    /// TsBlock value column of each non-time display column.
    block_columns: Vec<usize>,
    pending: VecDeque<Vec<u8>>,
    block: Option<TsBlock>,
    row: usize,
    more_data: bool,
    empty_fetches: u32,
    /// The message of the success status, if the server sent one (Duet: a
    /// dual read whose peer did not answer).
    warning: Option<String>,
    /// The statement's reply held the whole result (nothing to close).
    server_done: bool,
    closed: bool,
}

impl<'s> ResultRows<'s> {
    pub(super) fn new(
        session: &'s mut Session,
        sql: &str,
        resp: TSExecuteStatementResp,
    ) -> Result<ResultRows<'s>, ClientError> {
        let endpoint = session.endpoint().unwrap_or_default().to_string();
        let generation = session.generation;
        let value_columns = resp.columns.unwrap_or_default();
        let value_types = resp.data_type_list.unwrap_or_default();
        let has_time = !resp.ignore_time_stamp.unwrap_or(false);
        let block_columns = match resp.column_index2_ts_block_column_index_list {
            Some(list) => list
                .into_iter()
                .map(|i| usize::try_from(i).unwrap_or(usize::MAX))
                .collect(),
            None => (0..value_columns.len()).collect(),
        };
        let mut columns = Vec::with_capacity(value_columns.len() + 1);
        let mut types = Vec::with_capacity(value_columns.len() + 1);
        if has_time {
            columns.push("Time".to_string());
            types.push("TIMESTAMP".to_string());
        }
        let (n_columns, n_types) = (value_columns.len(), value_types.len());
        columns.extend(value_columns);
        types.extend(value_types);
        let rows = ResultRows {
            session,
            generation,
            sql: sql.to_string(),
            // Without a queryId the rows cannot be fetched or closed; the
            // check below reports it (and the close goes nowhere useful).
            query_id: resp.query_id.unwrap_or(-1),
            columns,
            types,
            has_time,
            block_columns,
            pending: resp.query_result.unwrap_or_default().into(),
            block: None,
            row: 0,
            more_data: resp.more_data.unwrap_or(false),
            empty_fetches: 0,
            warning: resp.status.message.clone().filter(|m| !m.is_empty()),
            server_done: !resp.more_data.unwrap_or(false),
            closed: resp.query_id.is_none(),
        };
        // Dropping `rows` on these errors closes the query on the server.
        if resp.query_id.is_none() {
            return Err(protocol(&endpoint, "query reply has no queryId"));
        }
        if n_columns != n_types || rows.block_columns.len() != n_columns {
            return Err(protocol(
                &endpoint,
                format!(
                    "{n_columns} columns, {n_types} data types, {} column indexes",
                    rows.block_columns.len()
                ),
            ));
        }
        Ok(rows)
    }

    /// Display names, starting with "Time" unless the result has no time column.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// What the server said with a successful result (e.g. that a dual
    /// read holds this node's data alone), if anything.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// IoTDB type names per column ("TIMESTAMP" for Time, then e.g. "INT64").
    pub fn column_types(&self) -> &[String] {
        &self.types
    }

    /// Whether column 0 is "Time".
    pub fn has_time_column(&self) -> bool {
        self.has_time
    }

    /// The server's timestamp precision ("ms", "us", "ns").
    pub fn timestamp_precision(&self) -> &str {
        self.session.timestamp_precision()
    }

    /// The next row, one `Field` per column (Time as `I64`), or `None` at
    /// the end. Fetches the next page when the current one is used up.
    pub fn next_row(&mut self) -> Result<Option<Vec<Field>>, ClientError> {
        let result = self.advance();
        if result.is_err() {
            // An error ends the rows: a caller looping until `None` stops.
            self.more_data = false;
            self.pending.clear();
            self.block = None;
        }
        result
    }

    fn advance(&mut self) -> Result<Option<Vec<Field>>, ClientError> {
        loop {
            if let Some(block) = &self.block {
                if self.row < block.row_count() {
                    let row = self.row_of(block, self.row);
                    self.row += 1;
                    return Ok(Some(row));
                }
            }
            self.block = None;
            self.row = 0;
            if let Some(bytes) = self.pending.pop_front() {
                self.block = Some(self.decode(&bytes)?);
                continue;
            }
            if !self.more_data || self.closed {
                return Ok(None);
            }
            self.fetch()?;
        }
    }

    fn endpoint(&self) -> String {
        self.session.endpoint().unwrap_or_default().to_string()
    }

    fn decode(&self, bytes: &[u8]) -> Result<TsBlock, ClientError> {
        let block = TsBlock::decode(bytes).map_err(|e| protocol(&self.endpoint(), e))?;
        let available = block.columns().len();
        if let Some(bad) = self.block_columns.iter().find(|&&i| i >= available) {
            return Err(protocol(
                &self.endpoint(),
                format!("column index {bad} but the TsBlock has {available} value columns"),
            ));
        }
        Ok(block)
    }

    fn row_of(&self, block: &TsBlock, row: usize) -> Vec<Field> {
        let mut out = Vec::with_capacity(self.columns.len());
        if self.has_time {
            out.push(
                block
                    .times()
                    .get(row)
                    .map_or(Field::Null, |t| Field::I64(*t)),
            );
        }
        let value_types = self.types.iter().skip(usize::from(self.has_time));
        for (&index, type_name) in self.block_columns.iter().zip(value_types) {
            let value = block.columns().get(index).and_then(|c| c.value(row));
            out.push(Field::from_value(value, type_name));
        }
        out
    }

    fn fetch(&mut self) -> Result<(), ClientError> {
        let fetch_size = self.session.cfg.fetch_size;
        let (sql, query_id) = (&self.sql, self.query_id);
        let resp = self.session.call(Some(self.generation), |c, ids| {
            // The Python client swaps the two ids here (iotdb-rpc.md,
            // gotcha #1); send what it sends, so a server that works with
            // this client works with it too. Servers find the query by id.
            c.fetch_results_v2(TSFetchResultsReq::new(
                ids.statement_id,
                sql.clone(),
                fetch_size,
                query_id,
                true,
                0,
                ids.session_id,
            ))
        })?;
        check(&resp.status)?;
        self.more_data = resp.has_result_set && resp.more_data.unwrap_or(false);
        let pages = resp.query_result.unwrap_or_default();
        if resp.has_result_set && pages.is_empty() {
            self.empty_fetches += 1;
            if self.empty_fetches >= MAX_EMPTY_FETCHES {
                return Err(protocol(
                    &self.endpoint(),
                    format!("{MAX_EMPTY_FETCHES} empty pages in a row"),
                ));
            }
        } else {
            self.empty_fetches = 0;
        }
        self.pending.extend(pages);
        Ok(())
    }

    /// Ends the query on the server (`closeOperation`). Dropping the rows
    /// does the same, ignoring errors.
    pub fn close(mut self) -> Result<(), ClientError> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Result<(), ClientError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if self.server_done {
            // The whole result came with the statement's reply: the server
            // holds nothing for it (Duet keeps a query only while more
            // pages follow), so no round trip to close it. A paged query is
            // closed as IoTDB's clients close it.
            return Ok(());
        }
        let query_id = self.query_id;
        let status = self.session.call(Some(self.generation), |c, ids| {
            // Swapped ids, as in `fetch`.
            c.close_operation(TSCloseOperationReq::new(
                ids.statement_id,
                query_id,
                ids.session_id,
                None,
            ))
        })?;
        check(&status)
    }
}

impl Iterator for ResultRows<'_> {
    type Item = Result<Vec<Field>, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

impl Drop for ResultRows<'_> {
    fn drop(&mut self) {
        let _ = self.close_inner();
    }
}
