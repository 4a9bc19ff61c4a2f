//! `basalt table`: the token ring, loading files into tables, exporting tables to files, and each
//! datanode's table store. One module per command; CSV cells in [`cells`], the Arrow types a Parquet
//! file may bring in [`arrow_in`], file arguments (local or `basalt:/path`) in [`location`].

mod arrow_in;
mod cells;
mod export;
pub mod load;
mod location;
mod ring;
mod status;

use anyhow::{Context, Result, anyhow};
use basalt_table::Consistency;
use clap::Subcommand;
use load::{FileFormat, LoadOptions};
use location::Location;
use std::process::ExitCode;

pub use ring::ring_text;

#[derive(Subcommand, Debug)]
pub enum TableCommand {
    /// The token ring: each datanode's share of the tokens, then every token with its owner (as
    /// `nodetool status` and `nodetool ring`).
    Ring {
        /// Only the per-datanode summary, not every token.
        #[arg(long)]
        summary: bool,
    },
    /// Load a CSV or Parquet file (local, or `basalt:/path`) into KS.TABLE.
    ///
    /// CSV: a header line naming table columns, then one row per line, values as cqlsh's COPY writes
    /// them (an empty cell is null; collections as CQL literals). Parquet: columns named as table
    /// columns, Arrow types mapped to the CQL types (a mismatch is refused before anything is sent).
    ///
    /// Atomicity: each batch of --batch-rows rows is one unlogged batch, applied atomically per
    /// partition on each replica and acknowledged at --consistency. The load as a whole is NOT
    /// all-or-nothing: a load that stops (a malformed line without --skip-bad, a failed batch) leaves
    /// the rows of the batches already acknowledged (the count is printed), and possibly some in
    /// flight. Running it again after a fix is safe: the same rows are written again.
    #[command(verbatim_doc_comment)]
    Load {
        /// The table, as KEYSPACE.TABLE.
        table: String,
        /// The file: a local path, or basalt:/path on Basalt FS.
        file: String,
        /// The format (default: from the extension, .csv or .parquet).
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Batches in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Rows per batch statement.
        #[arg(long, default_value_t = 500)]
        batch_rows: usize,
        /// Consistency level of each batch.
        #[arg(long, default_value = "ONE")]
        consistency: Consistency,
        /// Report malformed lines (line and column) and skip them, instead of stopping at the first.
        #[arg(long)]
        skip_bad: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Export KS.TABLE to a CSV or Parquet file (local, or basalt:/path), streaming through a full
    /// scan (every token range once, from one replica each; consistency ONE). The file appears whole
    /// or not at all.
    Export {
        table: String,
        out: String,
        #[arg(long, value_enum)]
        format: Option<FileFormat>,
        /// Token ranges scanned at once.
        #[arg(long, default_value_t = 8)]
        parallelism: usize,
        /// Replace an existing file.
        #[arg(long)]
        overwrite: bool,
    },
    /// Each datanode's table store: tables with row and byte estimates, pending hints, unhealthy
    /// tables.
    Status,
}

/// `KS.TABLE` as its two names.
fn split_table(s: &str) -> Result<(String, String)> {
    let (ks, t) = s
        .split_once('.')
        .ok_or_else(|| anyhow!("{s}: name the table as KEYSPACE.TABLE"))?;
    if ks.is_empty() || t.is_empty() || t.contains('.') {
        return Err(anyhow!("{s}: name the table as KEYSPACE.TABLE"));
    }
    Ok((ks.to_string(), t.to_string()))
}

pub async fn run(namenode: &str, cmd: TableCommand) -> Result<ExitCode> {
    let client = super::client(namenode)?;
    match cmd {
        TableCommand::Ring { summary } => {
            let view = client.ring().await.context("table ring")?;
            print!("{}", ring_text(&view, !summary));
        }
        TableCommand::Load {
            table,
            file,
            format,
            concurrency,
            batch_rows,
            consistency,
            skip_bad,
            quiet,
        } => {
            let (keyspace, table) = split_table(&table)?;
            let loc = Location::parse(&file);
            let name = loc.display();
            let format = load::format_of(format, loc.extension(), &name)?;
            let (path, _guard) = location::readable(&client, &loc).await?;
            let opts = LoadOptions {
                keyspace,
                table,
                format,
                consistency,
                concurrency,
                batch_rows,
                skip_bad,
                progress: !quiet,
            };
            let r = load::load(&client, &path, &name, &opts).await?;
            let secs = r.elapsed.as_secs_f64().max(1e-9);
            println!(
                "{} rows loaded into {}.{} from {name} in {:.1} s ({:.0} rows/s, {:.1} MiB/s){}",
                r.rows,
                opts.keyspace,
                opts.table,
                secs,
                r.rows as f64 / secs,
                r.bytes as f64 / (1 << 20) as f64 / secs,
                if r.skipped > 0 {
                    format!("; {} malformed lines skipped", r.skipped)
                } else {
                    String::new()
                }
            );
        }
        TableCommand::Export {
            table,
            out,
            format,
            parallelism,
            overwrite,
        } => {
            let (keyspace, table) = split_table(&table)?;
            let loc = Location::parse(&out);
            let name = loc.display();
            let format = load::format_of(format, loc.extension(), &name)?;
            let started = std::time::Instant::now();
            // A temporary file beside the target (renamed into place), or in the temp dir (uploaded).
            let tmp = match &loc {
                Location::Local(p) => {
                    if p.exists() && !overwrite {
                        return Err(anyhow!("{name} exists (give --overwrite to replace it)"));
                    }
                    let dir = p
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    let base = p
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_default();
                    location::TempFile::at(dir.join(format!(".{base}.tmp-{}", std::process::id())))
                }
                Location::Basalt(p) => {
                    if !overwrite && client.exists(p).await? {
                        return Err(anyhow!("{name} exists (give --overwrite to replace it)"));
                    }
                    location::TempFile::new("export")
                }
            };
            let r = export::export(&client, &keyspace, &table, format, tmp.path(), parallelism).await?;
            match &loc {
                Location::Local(p) => {
                    std::fs::rename(tmp.path(), p).with_context(|| name.clone())?;
                }
                Location::Basalt(p) => {
                    if overwrite && client.exists(p).await? {
                        client.delete(p, false).await.with_context(|| name.clone())?;
                    }
                    location::publish(&client, tmp.path(), &loc).await?;
                }
            }
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            println!(
                "{} rows of {keyspace}.{table} exported to {name} ({}) in {secs:.1} s ({:.0} rows/s)",
                r.rows,
                basalt_common::units::format_bytes(r.bytes),
                r.rows as f64 / secs
            );
        }
        TableCommand::Status => {
            let nodes = client.table_status().await.context("table status")?;
            print!("{}", status::status_text(&nodes));
        }
    }
    Ok(ExitCode::SUCCESS)
}
