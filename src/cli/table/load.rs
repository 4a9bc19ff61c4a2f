//! `basalt table load`: rows of a CSV or Parquet file into a table.
//!
//! Phases:
//! 1. **Check.** The table from the catalog; the file's columns (the CSV header, the Parquet schema)
//!    matched to the table's by name (every primary key column present, no unknown column) and, for
//!    Parquet, each Arrow type to the column's CQL type ([`super::arrow_in`]). Nothing is sent
//!    before this passes.
//! 2. **Read.** A blocking thread reads the file and turns its rows into values (CSV cells as
//!    [`super::cells`] reads them), `batch_rows` rows at a time, into a bounded channel. A malformed
//!    line stops the load with `FILE:LINE: column C: reason`, or is reported and skipped with
//!    `skip_bad`.
//! 3. **Write.** Each group of rows is one prepared `BEGIN UNLOGGED BATCH` of INSERTs with bind values,
//!    at most `concurrency` of them in flight; the first failure stops the load.
//!
//! What is atomic: each batch is applied atomically per partition on each replica (an unlogged
//! batch, as in Cassandra), and acknowledged at the chosen consistency. The load as a whole is not:
//! a load that stops (a bad line, a failed batch) leaves the rows of the batches already acknowledged,
//! and possibly some of the batches in flight; re-running it after a fix is safe (INSERTs are
//! idempotent: the same rows are written again).

use super::{arrow_in, cells};
use anyhow::{Context, Result, anyhow, bail};
use arrow_array::RecordBatch;
use basalt_client::Client;
use basalt_client::cql::{CqlOptions, Prepared};
use basalt_table::cql::describe::quote_name;
use basalt_table::{Consistency, CqlType, TableDef, Value};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
}

impl FileFormat {
    /// The format of a file named with this extension.
    pub fn of_extension(ext: Option<&str>) -> Option<FileFormat> {
        match ext? {
            "csv" => Some(FileFormat::Csv),
            "parquet" | "pq" => Some(FileFormat::Parquet),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub keyspace: String,
    pub table: String,
    pub format: FileFormat,
    pub consistency: Consistency,
    /// Batches in flight at once.
    pub concurrency: usize,
    /// Rows per batch statement.
    pub batch_rows: usize,
    /// Report malformed lines and go on, instead of stopping.
    pub skip_bad: bool,
    /// Draw a progress bar (on a terminal only).
    pub progress: bool,
}

/// What a load did.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub rows: u64,
    pub skipped: u64,
    /// The file's size.
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Rows of the file, `batch_rows` at a time, or why the read stopped.
type Chunk = std::result::Result<Vec<Vec<Option<Value>>>, anyhow::Error>;

/// Loads the local file `path` (named `name` in messages) into the table.
pub async fn load(client: &Client, path: &Path, name: &str, opts: &LoadOptions) -> Result<LoadReport> {
    let started = Instant::now();
    let catalog = client.catalog().await.context("reading the catalog")?;
    let def = catalog
        .table(&opts.keyspace, &opts.table)
        .ok_or_else(|| anyhow!("table {}.{} does not exist", opts.keyspace, opts.table))?
        .clone();
    let bytes = std::fs::metadata(path).with_context(|| name.to_string())?.len();
    let batch_rows = opts.batch_rows.max(1);

    // Phase 1: the file's columns against the table's.
    let (columns, source) = match opts.format {
        FileFormat::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_path(path)
                .with_context(|| name.to_string())?;
            let header: Vec<String> = rdr
                .headers()
                .map_err(|e| anyhow!("{name}:1: {e}"))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            let columns = table_columns(&def, &header, name)?;
            (columns, Source::Csv(rdr))
        }
        FileFormat::Parquet => {
            let file = std::fs::File::open(path).with_context(|| name.to_string())?;
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| anyhow!("{name}: not a readable Parquet file: {e}"))?;
            let schema = builder.schema().clone();
            let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let columns = table_columns(&def, &header, name)?;
            for (f, (col, ty)) in schema.fields().iter().zip(&columns) {
                arrow_in::check(f.data_type(), ty).map_err(|e| anyhow!("{name}: column {col}: {e}"))?;
            }
            let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
            let reader = builder
                .with_batch_size(batch_rows.max(1024))
                .build()
                .map_err(|e| anyhow!("{name}: {e}"))?;
            (columns, Source::Parquet { reader, rows })
        }
    };
    let bar = progress_bar(opts.progress, &source, bytes);

    // Phase 2: the reader thread.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(opts.concurrency.max(1) * 2);
    let reader = {
        let (columns, name, bar, skip_bad) = (columns.clone(), name.to_string(), bar.clone(), opts.skip_bad);
        tokio::task::spawn_blocking(move || source.run(&columns, &name, batch_rows, skip_bad, &bar, &tx))
    };

    // Phase 3: batches in flight.
    let statements = Statements::new(client, &def, &columns);
    let cql = CqlOptions {
        consistency: opts.consistency,
        ..Default::default()
    };
    let mut in_flight = FuturesUnordered::new();
    let mut acked: u64 = 0;
    let mut failure: Option<anyhow::Error> = None;
    let mut read_done = false;
    loop {
        tokio::select! {
            chunk = rx.recv(), if !read_done && failure.is_none() && in_flight.len() < opts.concurrency.max(1) => {
                match chunk {
                    None => read_done = true,
                    Some(Err(e)) => failure = Some(e),
                    Some(Ok(rows)) => {
                        let n = rows.len() as u64;
                        let prepared = match statements.get(rows.len()).await {
                            Ok(p) => p,
                            Err(e) => { failure = Some(e); continue; }
                        };
                        let values: Vec<Option<Value>> = rows.into_iter().flatten().collect();
                        let (client, cql) = (client.clone(), cql.clone());
                        in_flight.push(async move { send_batch(&client, &prepared, &values, cql).await.map(|_| n) });
                    }
                }
            }
            done = in_flight.next(), if !in_flight.is_empty() => {
                match done {
                    Some(Ok(n)) => {
                        acked += n;
                        bar.set_message(rate(acked, started.elapsed()));
                    }
                    Some(Err(e)) if failure.is_none() => {
                        failure = Some(anyhow!("a batch of {batch_rows} rows failed: {e}"));
                    }
                    Some(Err(_)) => {}
                    None => {}
                }
            }
            else => break,
        }
        if failure.is_some() && in_flight.is_empty() {
            break;
        }
        if read_done && in_flight.is_empty() {
            break;
        }
    }
    drop(rx);
    let read = reader.await.map_err(|e| anyhow!("the file reader failed: {e}"))?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        bail!(
            "{e}; {acked} rows of batches already acknowledged stay in {}",
            def.qualified_name()
        );
    }
    let skipped = read?;
    Ok(LoadReport {
        rows: acked,
        skipped,
        bytes,
        elapsed: started.elapsed(),
    })
}

fn rate(rows: u64, d: Duration) -> String {
    format!("{rows} rows, {:.0} rows/s", rows as f64 / d.as_secs_f64().max(1e-9))
}

fn progress_bar(wanted: bool, source: &Source, bytes: u64) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (len, template) = match source {
        Source::Csv(_) => (bytes, "[{bar:30}] {bytes}/{total_bytes} {msg} eta {eta}"),
        Source::Parquet { rows, .. } => (*rows, "[{bar:30}] {pos}/{len} rows {msg} eta {eta}"),
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// The table columns of the file's columns, in file order; every primary key column must be there.
fn table_columns(def: &TableDef, header: &[String], name: &str) -> Result<Vec<(String, CqlType)>> {
    let mut out = Vec::with_capacity(header.len());
    for h in header {
        let c = def
            .column(h)
            .ok_or_else(|| anyhow!("{name}: column {h} is not a column of {}", def.qualified_name()))?;
        if out.iter().any(|(n, _)| n == h) {
            bail!("{name}: column {h} appears twice");
        }
        out.push((c.name.clone(), c.ty));
    }
    for k in def.columns.iter().filter(|c| c.kind.is_primary_key()) {
        if !out.iter().any(|(n, _)| *n == k.name) {
            bail!("{name}: the primary key column {} is missing", k.name);
        }
    }
    Ok(out)
}

/// The prepared batch statements, one per number of rows (the full size, and the last group's).
struct Statements<'a> {
    client: &'a Client,
    insert: String,
    cache: tokio::sync::Mutex<HashMap<usize, Prepared>>,
}

impl<'a> Statements<'a> {
    fn new(client: &'a Client, def: &TableDef, columns: &[(String, CqlType)]) -> Statements<'a> {
        let names: Vec<String> = columns.iter().map(|(n, _)| quote_name(n)).collect();
        let marks = vec!["?"; columns.len()].join(", ");
        let insert = format!(
            "INSERT INTO {}.{} ({}) VALUES ({marks})",
            quote_name(&def.keyspace),
            quote_name(&def.name),
            names.join(", ")
        );
        Statements {
            client,
            insert,
            cache: Default::default(),
        }
    }

    async fn get(&self, rows: usize) -> Result<Prepared> {
        let mut cache = self.cache.lock().await;
        if let Some(p) = cache.get(&rows) {
            return Ok(p.clone());
        }
        let text = if rows == 1 {
            self.insert.clone()
        } else {
            let mut t = String::from("BEGIN UNLOGGED BATCH ");
            for _ in 0..rows {
                t.push_str(&self.insert);
                t.push_str("; ");
            }
            t.push_str("APPLY BATCH");
            t
        };
        let p = self
            .client
            .prepare(&text, None)
            .await
            .context("preparing the INSERT batch")?;
        cache.insert(rows, p.clone());
        Ok(p)
    }
}

/// The file being read.
enum Source {
    Csv(csv::Reader<std::fs::File>),
    Parquet {
        reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
        rows: u64,
    },
}

impl Source {
    /// Reads every row into `tx`; returns how many malformed lines were skipped.
    fn run(
        self,
        columns: &[(String, CqlType)],
        name: &str,
        batch_rows: usize,
        skip_bad: bool,
        bar: &ProgressBar,
        tx: &tokio::sync::mpsc::Sender<Chunk>,
    ) -> Result<u64> {
        let mut skipped = 0;
        let mut chunk = Vec::with_capacity(batch_rows);
        let send = |chunk: Chunk| tx.blocking_send(chunk).is_ok();
        match self {
            Source::Csv(mut rdr) => {
                let mut record = csv::StringRecord::new();
                loop {
                    match rdr.read_record(&mut record) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => {
                            let line = e.position().map_or(0, |p| p.line());
                            let msg = anyhow!("{name}:{line}: {}", csv_error(&e));
                            if skip_bad && line > 0 && !matches!(e.kind(), csv::ErrorKind::Io(_)) {
                                eprintln!("{msg} (skipped)");
                                skipped += 1;
                                continue;
                            }
                            send(Err(msg));
                            return Ok(skipped);
                        }
                    }
                    let line = record.position().map_or(0, |p| p.line());
                    match csv_row(&record, columns) {
                        Ok(row) => chunk.push(row),
                        Err(reason) => {
                            let msg = anyhow!("{name}:{line}: {reason}");
                            if skip_bad {
                                eprintln!("{msg} (skipped)");
                                skipped += 1;
                                continue;
                            }
                            send(Err(msg));
                            return Ok(skipped);
                        }
                    }
                    if chunk.len() == batch_rows {
                        bar.set_position(record.position().map_or(0, |p| p.byte()));
                        if !send(Ok(std::mem::replace(&mut chunk, Vec::with_capacity(batch_rows)))) {
                            return Ok(skipped);
                        }
                    }
                }
            }
            Source::Parquet { reader, .. } => {
                let mut row_base = 0usize;
                for batch in reader {
                    let batch = match batch {
                        Ok(b) => b,
                        Err(e) => {
                            send(Err(anyhow!("{name}: after row {row_base}: {e}")));
                            return Ok(skipped);
                        }
                    };
                    let rows = match parquet_rows(&batch, columns) {
                        Ok(r) => r,
                        Err((row, col, reason)) => {
                            send(Err(anyhow!(
                                "{name}: row {}: column {col}: {reason}",
                                row_base + row + 1
                            )));
                            return Ok(skipped);
                        }
                    };
                    row_base += batch.num_rows();
                    for r in rows {
                        chunk.push(r);
                        if chunk.len() == batch_rows
                            && !send(Ok(std::mem::replace(&mut chunk, Vec::with_capacity(batch_rows))))
                        {
                            return Ok(skipped);
                        }
                    }
                    bar.set_position(row_base as u64);
                }
            }
        }
        if !chunk.is_empty() {
            send(Ok(chunk));
        }
        Ok(skipped)
    }
}

/// A CSV reader error without the csv crate's own position text.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => e.to_string(),
    }
}

/// One CSV record as values of the columns; `Err` is `column C: reason` or a field count mismatch.
pub fn csv_row(
    record: &csv::StringRecord,
    columns: &[(String, CqlType)],
) -> std::result::Result<Vec<Option<Value>>, String> {
    if record.len() != columns.len() {
        return Err(format!("{} fields, the header has {}", record.len(), columns.len()));
    }
    record
        .iter()
        .zip(columns)
        .map(|(cell, (name, ty))| cells::parse_cell(cell, ty).map_err(|r| format!("column {name}: {r}")))
        .collect()
}

/// Attempts of one batch: a write timeout or too few live replicas (a node restarting, a loaded
/// machine) is transient, as for Cassandra's loaders.
const BATCH_ATTEMPTS: u32 = 5;

/// Sends one batch, again after a transient failure (Unavailable: a timeout or too few replicas)
/// with backoff. Every attempt carries the timestamp of the first, so a batch applied by some
/// replicas before its attempt failed is written again as the same cells, not as newer ones.
async fn send_batch(
    client: &Client,
    prepared: &Prepared,
    values: &[Option<Value>],
    mut cql: CqlOptions,
) -> std::result::Result<(), basalt_client::ClientError> {
    cql.timestamp.get_or_insert_with(basalt_client::cql::now_micros);
    let mut backoff = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match client.execute(prepared, values, &cql).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == basalt_common::ErrorKind::Unavailable && attempt < BATCH_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A bad Parquet value: (row in the batch, column, reason).
type BadValue = (usize, String, String);

/// The rows of a Parquet batch.
fn parquet_rows(
    batch: &RecordBatch,
    columns: &[(String, CqlType)],
) -> std::result::Result<Vec<Vec<Option<Value>>>, BadValue> {
    let mut cols = Vec::with_capacity(columns.len());
    for (i, (name, ty)) in columns.iter().enumerate() {
        cols.push(arrow_in::values(batch.column(i), ty).map_err(|(row, r)| (row, name.clone(), r))?);
    }
    let mut iters: Vec<_> = cols.into_iter().map(Vec::into_iter).collect();
    Ok((0..batch.num_rows())
        .map(|_| iters.iter_mut().map(|c| c.next().flatten()).collect())
        .collect())
}

/// The format of `loc`: the flag, else the extension.
pub fn format_of(flag: Option<FileFormat>, ext: Option<String>, name: &str) -> Result<FileFormat> {
    flag.or_else(|| FileFormat::of_extension(ext.as_deref()))
        .ok_or_else(|| anyhow!("{name}: cannot tell the format from the name: give --format csv or --format parquet"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_table::NativeType;

    #[test]
    fn a_bad_cell_names_its_column() {
        let cols = vec![
            ("id".to_string(), CqlType::Native(NativeType::Int)),
            ("amount".to_string(), CqlType::Native(NativeType::Double)),
        ];
        let rec = csv::StringRecord::from(vec!["1", "abc"]);
        assert_eq!(
            csv_row(&rec, &cols).unwrap_err(),
            "column amount: 'abc' is not a double"
        );
        let rec = csv::StringRecord::from(vec!["1"]);
        assert_eq!(csv_row(&rec, &cols).unwrap_err(), "1 fields, the header has 2");
        let rec = csv::StringRecord::from(vec!["1", ""]);
        assert_eq!(csv_row(&rec, &cols).unwrap(), [Some(Value::Int(1)), None]);
    }

    #[test]
    fn formats_come_from_the_flag_or_the_name() {
        assert_eq!(format_of(None, Some("csv".into()), "a.csv").unwrap(), FileFormat::Csv);
        assert_eq!(
            format_of(Some(FileFormat::Parquet), Some("csv".into()), "a.csv").unwrap(),
            FileFormat::Parquet
        );
        assert!(
            format_of(None, Some("txt".into()), "a.txt")
                .unwrap_err()
                .to_string()
                .contains("--format")
        );
    }
}
