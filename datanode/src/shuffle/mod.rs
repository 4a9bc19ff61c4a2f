//! The `Shuffle` service: map tasks' output kept on the datanode of their host, served to reducers.
//!
//! - **Write** (client stream): the key, then chunks (each CRC32C-checked on arrival) appended to a
//!   temporary file, then the index (each partition's end and CRC32C). The data file is fsynced and
//!   renamed into place, then the index; a broken stream or a bad chunk removes the temporary files.
//! - **Fetch**: one partition's run, verified against the index's CRC32C before it is sent (a damaged
//!   file is refused as Corrupt, so the reducer asks for the map output to be recomputed), in chunks
//!   each with its own CRC32C.
//! - **Delete**: a job's directory, when the job ends.
//!
//! Disk work runs on blocking threads; the layout is [`layout`]'s.

pub mod layout;

use basalt_common::ErrorKind;
use basalt_proto::pb;
use basalt_proto::pb::shuffle_server::Shuffle;
use bytes::Bytes;
use layout::{Index, OutputKey, ShuffleLayout};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::pin::Pin;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// Size of the chunks a fetch sends.
const CHUNK: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ShuffleError {
    #[error("shuffle write stream did not start with its key")]
    NoKey,
    #[error("shuffle write stream ended before its last message")]
    Truncated,
    #[error("shuffle chunk at byte {offset} of {key:?} failed its checksum")]
    BadChunk { key: OutputKey, offset: u64 },
    #[error("shuffle index of {key:?} does not match the {bytes} bytes written")]
    BadIndexSent { key: OutputKey, bytes: u64 },
    #[error("no shuffle output {key:?} on this datanode")]
    NotFound { key: OutputKey },
    #[error("no partition {partition} in shuffle output {key:?}")]
    NoPartition { key: OutputKey, partition: u32 },
    #[error("shuffle output {key:?} is corrupt: {what}")]
    Corrupt { key: OutputKey, what: &'static str },
    #[error("shuffle file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("shuffle disk task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl ShuffleError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ShuffleError::NoKey | ShuffleError::Truncated | ShuffleError::BadIndexSent { .. } => ErrorKind::Invalid,
            ShuffleError::BadChunk { .. } | ShuffleError::Corrupt { .. } => ErrorKind::Corrupt,
            ShuffleError::NotFound { .. } | ShuffleError::NoPartition { .. } => ErrorKind::NotFound,
            ShuffleError::Io { .. } | ShuffleError::Task(_) => ErrorKind::Internal,
        }
    }

    fn to_status(&self) -> Status {
        basalt_proto::to_status(self.kind(), self.to_string(), None)
    }
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ShuffleError + '_ {
    move |source| ShuffleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn key_of(k: &pb::ShuffleKey) -> OutputKey {
    OutputKey {
        job: k.job,
        stage: k.stage,
        map: k.map,
        attempt: k.attempt,
    }
}

#[derive(Clone, Debug)]
pub struct ShuffleService {
    layout: ShuffleLayout,
}

impl ShuffleService {
    pub fn new(data_dir: &std::path::Path) -> Self {
        ShuffleService {
            layout: ShuffleLayout::new(data_dir),
        }
    }

    async fn write(&self, mut stream: Streaming<pb::ShuffleWriteChunk>) -> Result<u64, ShuffleError> {
        let first = stream
            .next()
            .await
            .ok_or(ShuffleError::NoKey)?
            .map_err(|_| ShuffleError::Truncated)?;
        let key = key_of(first.key.as_ref().ok_or(ShuffleError::NoKey)?);
        // Chunks are checked as they arrive and kept until the last one (a map output is in the
        // executor's memory already); the disk work is one blocking step at the end.
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut written = 0u64;
        let mut msg = first;
        loop {
            if crc32c::crc32c(&msg.data) != msg.crc {
                return Err(ShuffleError::BadChunk { key, offset: written });
            }
            written += msg.data.len() as u64;
            chunks.push(std::mem::take(&mut msg.data));
            if msg.last {
                break;
            }
            msg = match stream.next().await {
                Some(Ok(m)) => m,
                _ => return Err(ShuffleError::Truncated),
            };
        }
        let ends = msg.partition_ends;
        if ends.len() != msg.partition_crcs.len() || !ends.is_sorted() || ends.last().copied().unwrap_or(0) != written {
            return Err(ShuffleError::BadIndexSent { key, bytes: written });
        }
        let index = Index {
            parts: ends.into_iter().zip(msg.partition_crcs).collect(),
        };
        let layout = self.layout.clone();
        tokio::task::spawn_blocking(move || {
            let dir = layout.job_dir(key.job);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let tmp = layout.temp(&key, "data");
            let itmp = layout.temp(&key, "index");
            let mut guard = TempGuard(vec![tmp.clone(), itmp.clone()]);
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            for c in &chunks {
                f.write_all(c).map_err(io(&tmp))?;
            }
            f.sync_data().map_err(io(&tmp))?;
            std::fs::write(&itmp, index.encode()).map_err(io(&itmp))?;
            let data = layout.data(&key);
            std::fs::rename(&tmp, &data).map_err(io(&data))?;
            let idx = layout.index(&key);
            std::fs::rename(&itmp, &idx).map_err(io(&idx))?;
            guard.0.clear();
            Ok::<_, ShuffleError>(())
        })
        .await??;
        Ok(written)
    }

    /// Reads and verifies one partition's run.
    async fn read_partition(&self, key: OutputKey, partition: u32) -> Result<(Vec<u8>, u32), ShuffleError> {
        let layout = self.layout.clone();
        tokio::task::spawn_blocking(move || {
            let idx_path = layout.index(&key);
            let bytes = match std::fs::read(&idx_path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ShuffleError::NotFound { key }),
                Err(e) => return Err(io(&idx_path)(e)),
            };
            let index = Index::decode(&bytes).map_err(|_| ShuffleError::Corrupt { key, what: "index" })?;
            let (start, end, crc) = index
                .range(partition as usize)
                .ok_or(ShuffleError::NoPartition { key, partition })?;
            let path = layout.data(&key);
            let mut f = std::fs::File::open(&path).map_err(io(&path))?;
            f.seek(SeekFrom::Start(start)).map_err(io(&path))?;
            let mut buf = vec![0; (end - start) as usize];
            f.read_exact(&mut buf).map_err(|_| ShuffleError::Corrupt {
                key,
                what: "data file too short",
            })?;
            if crc32c::crc32c(&buf) != crc {
                return Err(ShuffleError::Corrupt {
                    key,
                    what: "partition checksum",
                });
            }
            Ok((buf, crc))
        })
        .await?
    }
}

/// Removes its files when dropped (a failed write leaves nothing behind).
struct TempGuard(Vec<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::ShuffleChunk, Status>> + Send>>;

#[tonic::async_trait]
impl Shuffle for ShuffleService {
    async fn write_map_output(
        &self,
        r: Request<Streaming<pb::ShuffleWriteChunk>>,
    ) -> Result<Response<pb::ShuffleWriteResponse>, Status> {
        match self.write(r.into_inner()).await {
            Ok(bytes) => Ok(Response::new(pb::ShuffleWriteResponse { bytes })),
            Err(e) => {
                tracing::warn!(error = %e, "shuffle write failed");
                Err(e.to_status())
            }
        }
    }

    type FetchPartitionStream = ChunkStream;

    async fn fetch_partition(&self, r: Request<pb::FetchPartitionRequest>) -> Result<Response<ChunkStream>, Status> {
        let r = r.into_inner();
        let key = key_of(&r.key.unwrap_or_default());
        let (data, total_crc) = self.read_partition(key, r.partition).await.map_err(|e| e.to_status())?;
        let data = Bytes::from(data);
        let total = data.len() as u64;
        let mut chunks: Vec<Result<pb::ShuffleChunk, Status>> = Vec::new();
        let mut at = 0;
        loop {
            let end = (at + CHUNK).min(data.len());
            let piece = data.slice(at..end);
            chunks.push(Ok(pb::ShuffleChunk {
                crc: crc32c::crc32c(&piece),
                data: piece,
                total,
                total_crc,
            }));
            at = end;
            if at >= data.len() {
                break;
            }
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    async fn delete_shuffle(
        &self,
        r: Request<pb::DeleteShuffleRequest>,
    ) -> Result<Response<pb::DeleteShuffleResponse>, Status> {
        let dir = self.layout.job_dir(r.into_inner().job);
        let files = tokio::task::spawn_blocking(move || {
            let n = std::fs::read_dir(&dir).map(|d| d.count() as u64).unwrap_or(0);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
                Err(e) => Err(io(&dir)(e)),
            }
        })
        .await
        .map_err(|e| ShuffleError::Task(e).to_status())?
        .map_err(|e| e.to_status())?;
        Ok(Response::new(pb::DeleteShuffleResponse { files }))
    }
}
