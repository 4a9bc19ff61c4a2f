//! Where `basalt table load` reads and `basalt table export` writes: a local path, or a file of Basalt
//! FS written `basalt:/path`. A Basalt file is staged through a local temporary file (streamed, so
//! memory stays bounded): Parquet needs to seek, and the CSV and Parquet code is then the same for both.

use anyhow::{Context, Result};
use basalt_client::{Client, CreateOptions};
use std::path::{Path, PathBuf};

/// A file argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Basalt(String),
}

impl Location {
    pub fn parse(s: &str) -> Location {
        match s.strip_prefix("basalt:") {
            Some(p) => Location::Basalt(p.to_string()),
            None => Location::Local(PathBuf::from(s)),
        }
    }

    /// The file's name as messages show it (`events.csv`, `basalt:/in/events.csv`).
    pub fn display(&self) -> String {
        match self {
            Location::Local(p) => p.display().to_string(),
            Location::Basalt(p) => format!("basalt:{p}"),
        }
    }

    /// The lowercase extension, if any.
    pub fn extension(&self) -> Option<String> {
        let name = match self {
            Location::Local(p) => p.to_string_lossy().to_string(),
            Location::Basalt(p) => p.clone(),
        };
        let base = name.rsplit('/').next().unwrap_or("");
        base.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
    }
}

/// A temporary local file, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(what: &str) -> TempFile {
        let name = format!("basalt-{what}-{}-{:08x}", std::process::id(), fastrand::u32(..));
        TempFile(std::env::temp_dir().join(name))
    }

    /// A temporary file at a chosen path (beside a target it is renamed to).
    pub fn at(path: PathBuf) -> TempFile {
        TempFile(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A local path to read `loc` from (a Basalt file is copied to a temporary file first, kept alive by
/// the returned guard).
pub async fn readable(client: &Client, loc: &Location) -> Result<(PathBuf, Option<TempFile>)> {
    match loc {
        Location::Local(p) => {
            std::fs::metadata(p).with_context(|| p.display().to_string())?;
            Ok((p.clone(), None))
        }
        Location::Basalt(p) => {
            let tmp = TempFile::new("load");
            let mut reader = client.open(p).await.with_context(|| format!("basalt:{p}"))?;
            let mut out = tokio::fs::File::create(tmp.path())
                .await
                .with_context(|| tmp.path().display().to_string())?;
            tokio::io::copy(&mut reader, &mut out)
                .await
                .with_context(|| format!("copying basalt:{p} to {}", tmp.path().display()))?;
            out.sync_all().await?;
            Ok((tmp.path().to_path_buf(), Some(tmp)))
        }
    }
}

/// Writes the local file `from` to `loc`, creating missing parent directories (for a local `loc`,
/// `from` is already there).
pub async fn publish(client: &Client, from: &Path, loc: &Location) -> Result<()> {
    let Location::Basalt(p) = loc else { return Ok(()) };
    let mut input = tokio::fs::File::open(from).await?;
    let mut w = client
        .create(
            p,
            CreateOptions {
                create_parent: true,
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("basalt:{p}"))?;
    tokio::io::copy(&mut input, &mut w)
        .await
        .with_context(|| format!("writing basalt:{p}"))?;
    w.close().await.with_context(|| format!("closing basalt:{p}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(Location::parse("basalt:/a/b.csv"), Location::Basalt("/a/b.csv".into()));
        assert_eq!(Location::parse("x/y.PARQUET").extension().as_deref(), Some("parquet"));
        assert_eq!(Location::parse("basalt:/d.v/file").extension(), None);
        assert_eq!(Location::parse("basalt:/a.csv").display(), "basalt:/a.csv");
    }
}
