//! `basalt table export`: a table to a CSV or Parquet file, through [`Client::scan`] (every token range
//! once, from one replica each), streaming: batches go from the scan to a writer thread through a
//! bounded channel, so memory stays at a few batches whatever the table's size.
//!
//! The file appears whole or not at all: it is written to a temporary name and renamed (a local
//! file) or uploaded (a Basalt file) only once the scan has finished. Rows come in token order within
//! each token range, ranges in no defined order.

use super::cells::format_cell;
use super::load::FileFormat;
use anyhow::{Context, Result, anyhow};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use basalt_client::{Client, ScanOptions};
use basalt_table::CqlType;
use futures::StreamExt;
use std::io::Write;
use std::path::Path;

/// What an export did.
pub struct ExportReport {
    pub rows: u64,
    pub bytes: u64,
}

/// Scans `keyspace.table` into the local file `out` (written whole: the caller renames it into place).
pub async fn export(
    client: &Client,
    keyspace: &str,
    table: &str,
    format: FileFormat,
    out: &Path,
    parallelism: usize,
) -> Result<ExportReport> {
    let mut scan = client
        .scan(
            keyspace,
            table,
            ScanOptions {
                parallelism,
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("scanning {keyspace}.{table}"))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(4);
    let writer = {
        let (schema, columns, out) = (scan.schema(), scan.columns().to_vec(), out.to_path_buf());
        tokio::task::spawn_blocking(move || write_file(format, &out, schema, &columns, rx))
    };
    let mut rows = 0u64;
    let mut failure = None;
    while let Some(b) = scan.next().await {
        match b {
            Ok(b) => {
                rows += b.num_rows() as u64;
                if tx.send(b).is_err() {
                    break;
                }
            }
            Err(e) => {
                failure = Some(anyhow!("scanning {keyspace}.{table}: {e}"));
                break;
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| anyhow!("the file writer failed: {e}"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let bytes = written?;
    Ok(ExportReport { rows, bytes })
}

/// Writes every batch of `rx` to `out`; returns the file's size.
fn write_file(
    format: FileFormat,
    out: &Path,
    schema: SchemaRef,
    columns: &[(String, CqlType)],
    rx: std::sync::mpsc::Receiver<RecordBatch>,
) -> Result<u64> {
    let file = std::fs::File::create(out).with_context(|| out.display().to_string())?;
    match format {
        FileFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
            w.write_record(columns.iter().map(|(n, _)| n.as_str()))?;
            let mut record: Vec<String> = Vec::with_capacity(columns.len());
            for batch in rx {
                let mut cols = Vec::with_capacity(columns.len());
                for (i, (name, ty)) in columns.iter().enumerate() {
                    cols.push(
                        basalt_table::arrow::array_values(batch.column(i).as_ref(), ty, i)
                            .map_err(|e| anyhow!("column {name}: {e}"))?,
                    );
                }
                for r in 0..batch.num_rows() {
                    record.clear();
                    record.extend(cols.iter().map(|c| c[r].as_ref().map(format_cell).unwrap_or_default()));
                    w.write_record(&record)?;
                }
            }
            let mut inner = w.into_inner().map_err(|e| anyhow!("{}: {e}", out.display()))?;
            inner.flush()?;
            inner.get_ref().sync_all()?;
        }
        FileFormat::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props))
                .map_err(|e| anyhow!("{}: {e}", out.display()))?;
            for batch in rx {
                w.write(&batch).map_err(|e| anyhow!("{}: {e}", out.display()))?;
            }
            let file = w.into_inner().map_err(|e| anyhow!("{}: {e}", out.display()))?;
            file.sync_all()?;
        }
    }
    Ok(std::fs::metadata(out)?.len())
}
