//! `basalt fs`: the HDFS shell verbs.

mod perms;

use super::format::{date_time, mode_string, size};
use anyhow::{Context, Result, bail};
use basalt_client::{Client, CreateOptions, FileStatus};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes moved per read/write call between local files and the cluster.
const IO_CHUNK: usize = 4 << 20;

#[derive(Subcommand, Debug)]
pub enum FsCommand {
    /// Copy local files (or `-` for stdin) into the cluster.
    Put {
        /// Overwrite the destination if it exists.
        #[arg(short = 'f')]
        force: bool,
        /// Replication factor of the new files.
        #[arg(short = 'r', value_name = "N")]
        replication: Option<u32>,
        /// Block size of the new files (e.g. 64MiB, 1M).
        #[arg(long, value_parser = parse_size)]
        block_size: Option<u64>,
        /// Local sources followed by the destination.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<String>,
    },
    /// Append local files (or `-` for stdin) to the end of a file in the cluster.
    Append {
        /// Create the file if it does not exist.
        #[arg(short = 'c')]
        create: bool,
        /// Local sources followed by the destination file.
        #[arg(required = true, num_args = 2..)]
        paths: Vec<String>,
    },
    /// Copy a file from the cluster to a local path (`-` for stdout); an existing local file is kept
    /// unless `-f` is given.
    Get {
        /// Overwrite the local file if it exists.
        #[arg(short = 'f')]
        force: bool,
        src: String,
        local: String,
    },
    /// Print files to stdout.
    Cat {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// List a directory (or a file).
    Ls {
        /// Recurse into subdirectories.
        #[arg(short = 'R')]
        recursive: bool,
        #[arg(default_value = "/")]
        path: String,
    },
    /// Create directories.
    Mkdir {
        /// Create parents as needed; no error if the directory exists.
        #[arg(short = 'p')]
        parents: bool,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Delete files or directories.
    Rm {
        /// Delete directories and their contents.
        #[arg(short = 'r', short_alias = 'R')]
        recursive: bool,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Move or rename.
    Mv { src: String, dst: String },
    /// Show a file's or directory's status.
    Stat { path: String },
    /// Space used below paths.
    #[command(disable_help_flag = true)]
    Du {
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
        /// Only the total of each path.
        #[arg(short = 's')]
        summary: bool,
        /// Human-readable sizes.
        #[arg(short = 'h')]
        human: bool,
        #[arg(default_value = "/")]
        path: String,
    },
    /// Change a file's replication factor.
    Setrep { replication: u32, path: String },
    /// Change modes: octal (755, 1777: sticky) or symbolic (u+x,go-w,a=r,+t), as `hadoop fs -chmod`.
    /// The owner or the superuser only.
    Chmod {
        /// Also everything below each directory.
        #[arg(short = 'R')]
        recursive: bool,
        mode: String,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Change the owner (the superuser only) and optionally the group: OWNER[:GROUP].
    Chown {
        /// Also everything below each directory.
        #[arg(short = 'R')]
        recursive: bool,
        #[arg(value_name = "OWNER[:GROUP]")]
        owner: String,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Change the group: the owner (to one of its groups) or the superuser.
    Chgrp {
        /// Also everything below each directory.
        #[arg(short = 'R')]
        recursive: bool,
        group: String,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Check block health below a path; exits with 1 when a block has no live replica or a corrupt one.
    Fsck {
        #[arg(default_value = "/")]
        path: String,
        /// List every file, not only unhealthy ones.
        #[arg(long)]
        files: bool,
    },
}

fn parse_size(s: &str) -> Result<u64, String> {
    basalt_common::units::parse_bytes(s).map_err(|e| e.to_string())
}

pub async fn run(namenode: &str, cmd: FsCommand) -> Result<ExitCode> {
    let client = super::client(namenode)?;
    match cmd {
        FsCommand::Put {
            force,
            replication,
            block_size,
            mut paths,
        } => {
            let dest = paths.pop().expect("clap requires two paths");
            let opts = CreateOptions {
                overwrite: force,
                replication: replication.unwrap_or(0),
                block_size: block_size.unwrap_or(0),
                create_parent: false,
            };
            put(&client, &paths, &dest, opts).await?;
        }
        FsCommand::Append { create, mut paths } => {
            let dest = paths.pop().expect("clap requires two paths");
            append(&client, &paths, &dest, create)
                .await
                .with_context(|| format!("append: {dest}"))?;
        }
        FsCommand::Get { force, src, local } => get(&client, &src, &local, force).await?,
        FsCommand::Cat { paths } => {
            let mut out = tokio::io::stdout();
            for p in paths {
                copy_out(&client, &p, &mut out, None).await?;
            }
            out.flush().await?;
        }
        FsCommand::Ls { recursive, path } => ls(&client, &path, recursive).await?,
        FsCommand::Mkdir { parents, paths } => {
            for p in paths {
                client.mkdirs(&p, parents).await.with_context(|| format!("mkdir {p}"))?;
            }
        }
        FsCommand::Rm { recursive, paths } => {
            for p in paths {
                client.delete(&p, recursive).await.with_context(|| format!("rm {p}"))?;
                println!("Deleted {p}");
            }
        }
        FsCommand::Mv { src, dst } => client
            .rename(&src, &dst)
            .await
            .with_context(|| format!("mv {src} {dst}"))?,
        FsCommand::Stat { path } => stat(&client, &path).await?,
        FsCommand::Du {
            summary, human, path, ..
        } => du(&client, &path, summary, human).await?,
        FsCommand::Fsck { path, files } => return fsck(&client, &path, files).await,
        FsCommand::Setrep { replication, path } => {
            client
                .set_replication(&path, replication)
                .await
                .with_context(|| format!("setrep {path}"))?;
            println!("Replication {replication} set: {path}");
        }
        FsCommand::Chmod { recursive, mode, paths } => perms::chmod(&client, &mode, &paths, recursive).await?,
        FsCommand::Chown {
            recursive,
            owner,
            paths,
        } => {
            let (o, g) = perms::parse_owner(&owner)?;
            perms::chown(&client, o.as_deref(), g.as_deref(), &paths, recursive).await?;
        }
        FsCommand::Chgrp {
            recursive,
            group,
            paths,
        } => perms::chown(&client, None, Some(&group), &paths, recursive).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn progress(len: u64, label: &str) -> Option<ProgressBar> {
    if !std::io::stdout().is_terminal() || len < (8 << 20) {
        return None;
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_string());
    Some(pb)
}

async fn put(client: &Client, sources: &[String], dest: &str, opts: CreateOptions) -> Result<()> {
    let dest_is_dir = match client.stat(dest).await {
        Ok(st) => st.is_dir,
        Err(e) if e.kind() == basalt_common::ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("put: {dest}")),
    };
    if sources.len() > 1 && !dest_is_dir {
        bail!("put: {dest}: not a directory (several sources need a directory destination)");
    }
    for src in sources {
        let target = if dest_is_dir {
            let name = Path::new(src)
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|_| src != "-");
            let Some(name) = name else {
                bail!("put: cannot name a file read from stdin inside {dest}")
            };
            format!("{}/{name}", dest.trim_end_matches('/'))
        } else {
            dest.to_string()
        };
        put_one(client, src, &target, opts.clone())
            .await
            .with_context(|| format!("put {src} {target}"))?;
    }
    Ok(())
}

async fn append(client: &Client, sources: &[String], dest: &str, create: bool) -> Result<()> {
    let mut writer = match client.append(dest).await {
        Err(e) if create && e.kind() == basalt_common::ErrorKind::NotFound => {
            client.create(dest, CreateOptions::default()).await?
        }
        other => other?,
    };
    for src in sources {
        let (input, len) = open_source(src).await?;
        copy_in(input, len, src, dest, &mut writer).await?;
    }
    writer.close().await?;
    Ok(())
}

/// A local file (or stdin for `-`) to copy into the cluster, and its length when known.
async fn open_source(src: &str) -> Result<(Box<dyn tokio::io::AsyncRead + Unpin + Send>, u64)> {
    if src == "-" {
        return Ok((Box::new(tokio::io::stdin()), 0));
    }
    let meta = tokio::fs::metadata(src).await.with_context(|| src.to_string())?;
    if meta.is_dir() {
        bail!("{src}: is a directory");
    }
    Ok((
        Box::new(tokio::fs::File::open(src).await.with_context(|| src.to_string())?),
        meta.len(),
    ))
}

/// Copies `input` into `writer`, with a progress bar on a terminal.
async fn copy_in(
    mut input: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    len: u64,
    src: &str,
    target: &str,
    writer: &mut basalt_client::FileWriter,
) -> Result<()> {
    let bar = progress(len, target);
    let mut buf = vec![0u8; IO_CHUNK];
    loop {
        let n = input.read(&mut buf).await.with_context(|| format!("reading {src}"))?;
        if n == 0 {
            break;
        }
        writer.write(&buf[..n]).await?;
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

async fn put_one(client: &Client, src: &str, target: &str, opts: CreateOptions) -> Result<()> {
    let (input, len) = open_source(src).await?;
    let mut writer = client.create(target, opts).await?;
    copy_in(input, len, src, target, &mut writer).await?;
    writer.close().await?;
    Ok(())
}

/// Copies `src` to `local` (a directory: a file of the same name in it) through a temp file renamed into
/// place, so a failed copy leaves nothing behind; without `force` an existing file is never replaced,
/// not even one created while the copy ran.
async fn get(client: &Client, src: &str, local: &str, force: bool) -> Result<()> {
    if local == "-" {
        let mut out = tokio::io::stdout();
        copy_out(client, src, &mut out, None).await?;
        return Ok(out.flush().await?);
    }
    let mut target = PathBuf::from(local);
    if target.is_dir() {
        let name = src.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("file");
        target = target.join(name);
    }
    let exists = || anyhow::anyhow!("get: {}: File exists", target.display());
    if !force && tokio::fs::symlink_metadata(&target).await.is_ok() {
        return Err(exists());
    }
    let tmp = target.with_extension("basalt-part");
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .with_context(|| format!("{}", tmp.display()))?;
    let res = copy_out(client, src, &mut file, Some(src)).await;
    if let Err(e) = res {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    file.sync_all().await?;
    if force {
        tokio::fs::rename(&tmp, &target)
            .await
            .with_context(|| format!("{}", target.display()))?;
        return Ok(());
    }
    // A hard link fails if the name was taken meanwhile (rename would replace it); on a file system
    // without hard links, the check above has to do.
    match tokio::fs::hard_link(&tmp, &target).await {
        Ok(()) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(exists())
        }
        Err(_) => tokio::fs::rename(&tmp, &target)
            .await
            .with_context(|| format!("{}", target.display())),
    }
}

async fn copy_out<W: tokio::io::AsyncWrite + Unpin>(
    client: &Client,
    src: &str,
    out: &mut W,
    bar_label: Option<&str>,
) -> Result<()> {
    let mut reader = client.open(src).await.with_context(|| src.to_string())?;
    let bar = bar_label.and_then(|l| progress(reader.len(), l));
    let mut buf = vec![0u8; IO_CHUNK];
    loop {
        let n = reader.read(&mut buf).await.with_context(|| src.to_string())?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).await?;
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

fn ls_line(st: &FileStatus) -> String {
    let repl = if st.is_dir {
        "-".to_string()
    } else {
        st.replication.to_string()
    };
    format!(
        "{} {:>3} {:<8} {:<10} {:>12} {} {}",
        mode_string(st.is_dir, st.mode),
        repl,
        st.owner,
        st.group,
        st.length,
        date_time(st.mtime_ms),
        st.path
    )
}

async fn ls(client: &Client, path: &str, recursive: bool) -> Result<()> {
    let entries = client.list(path).await.with_context(|| format!("ls {path}"))?;
    let is_file = entries.len() == 1 && !entries[0].is_dir && entries[0].path == path.trim_end_matches('/');
    if !recursive && !is_file {
        println!("Found {} items", entries.len());
    }
    let mut stack: Vec<FileStatus> = entries.into_iter().rev().collect();
    while let Some(st) = stack.pop() {
        println!("{}", ls_line(&st));
        if recursive && st.is_dir {
            let children = client.list(&st.path).await.with_context(|| format!("ls {}", st.path))?;
            stack.extend(children.into_iter().rev());
        }
    }
    Ok(())
}

async fn stat(client: &Client, path: &str) -> Result<()> {
    let st = client.stat(path).await.with_context(|| format!("stat {path}"))?;
    println!("  Path: {}", st.path);
    println!("  Type: {}", if st.is_dir { "directory" } else { "regular file" });
    if !st.is_dir {
        println!("  Size: {} bytes", st.length);
        println!("  Replication: {}", st.replication);
        println!("  Block size: {}", st.block_size);
        println!("  Blocks: {}", st.block_count);
        if st.under_construction {
            println!("  Open for writing: yes");
        }
    }
    println!("  Owner: {}  Group: {}", st.owner, st.group);
    println!("  Permission: {} ({:04o})", mode_string(st.is_dir, st.mode), st.mode);
    println!("  Modified: {} UTC", date_time(st.mtime_ms));
    Ok(())
}

async fn du(client: &Client, path: &str, summary: bool, human: bool) -> Result<()> {
    let targets: Vec<String> = if summary {
        vec![path.to_string()]
    } else {
        client
            .list(path)
            .await
            .with_context(|| format!("du {path}"))?
            .into_iter()
            .map(|s| s.path)
            .collect()
    };
    for t in targets {
        let s = client.content_summary(&t).await.with_context(|| format!("du {t}"))?;
        println!(
            "{:<12} {:<12} {}",
            size(s.length, human),
            size(s.space_consumed, human),
            t
        );
    }
    Ok(())
}

async fn fsck(client: &Client, path: &str, all: bool) -> Result<ExitCode> {
    let r = client.fsck(path).await.with_context(|| format!("fsck {path}"))?;
    for f in &r.files {
        let state = if f.missing > 0 {
            format!("MISSING {} block(s)", f.missing)
        } else if f.corrupt > 0 {
            format!("CORRUPT REPLICA in {} block(s) (being replaced)", f.corrupt)
        } else if f.under_replicated > 0 {
            format!("UNDER-REPLICATED {} block(s)", f.under_replicated)
        } else {
            "OK".to_string()
        };
        if all || state != "OK" {
            let open = if f.open { ", open for writing" } else { "" };
            println!(
                "{}: {} bytes, {} block(s), {} live replica(s), RF {}{open}: {state}",
                f.path, f.length, f.blocks, f.live_replicas, f.replication
            );
        }
    }
    println!(
        "Total: {} files, {} blocks, {} live replicas; under-replicated {}, over-replicated {}, corrupt {}, missing {}",
        r.total_files, r.total_blocks, r.live_replicas, r.under_replicated, r.over_replicated, r.corrupt, r.missing
    );
    let status = if r.missing > 0 {
        "MISSING BLOCKS"
    } else if r.corrupt > 0 {
        "CORRUPT REPLICAS (good copies are replacing them)"
    } else if r.under_replicated > 0 {
        "HEALTHY (under-replicated blocks are being repaired)"
    } else {
        "HEALTHY"
    };
    println!("Status: {status}");
    Ok(if r.missing > 0 || r.corrupt > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
