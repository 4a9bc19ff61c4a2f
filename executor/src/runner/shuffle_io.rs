//! The executor's side of the shuffle: writing a map attempt's runs to the shuffle service of its
//! host's datanode, and fetching one reduce partition's run of every map output.

use super::TaskEnv;
use super::error::TaskError;
use basalt_jobs::ids::AttemptRef;
use basalt_jobs::records::{Record, read_run};
use basalt_jobs::task::MapOutputLoc;
use basalt_proto::pb;
use basalt_proto::pb::shuffle_client::ShuffleClient;
use bytes::Bytes;
use std::time::Duration;
use tonic::transport::Endpoint;

const CHUNK: usize = 1 << 20;
const MAX_MESSAGE: usize = 16 << 20;

fn client(addr: &str) -> Result<ShuffleClient<tonic::transport::Channel>, String> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(120))
        .tcp_nodelay(true);
    Ok(ShuffleClient::new(endpoint.connect_lazy())
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE))
}

fn key(a: &AttemptRef, map: u32, attempt: u32) -> pb::ShuffleKey {
    pb::ShuffleKey {
        job: a.job.0,
        stage: a.stage.0,
        map,
        attempt,
    }
}

/// Writes one run per partition (framed records, already sorted) as attempt `a`'s map output; returns
/// the bytes of each partition.
pub fn write_runs(env: &TaskEnv, addr: &str, a: &AttemptRef, runs: Vec<Vec<u8>>) -> Result<Vec<u64>, TaskError> {
    let failed = |message: String| TaskError::ShuffleWrite {
        addr: addr.to_string(),
        message,
    };
    let sizes: Vec<u64> = runs.iter().map(|r| r.len() as u64).collect();
    let crcs: Vec<u32> = runs.iter().map(|r| crc32c::crc32c(r)).collect();
    let ends: Vec<u64> = sizes
        .iter()
        .scan(0u64, |acc, s| {
            *acc += s;
            Some(*acc)
        })
        .collect();
    let data = Bytes::from(runs.concat());
    let mut msgs = Vec::new();
    let mut at = 0;
    loop {
        let end = (at + CHUNK).min(data.len());
        let piece = data.slice(at..end);
        let last = end == data.len();
        msgs.push(pb::ShuffleWriteChunk {
            key: (at == 0).then(|| key(a, a.partition.0, a.attempt.0)),
            crc: crc32c::crc32c(&piece),
            data: piece,
            last,
            partition_ends: if last { ends.clone() } else { Vec::new() },
            partition_crcs: if last { crcs.clone() } else { Vec::new() },
        });
        at = end;
        if last {
            break;
        }
    }
    env.rt.block_on(async {
        let mut c = client(addr).map_err(failed)?;
        c.write_map_output(tokio_stream::iter(msgs))
            .await
            .map_err(|s| failed(basalt_proto::RemoteError::from(s).message))?;
        Ok(sizes)
    })
}

/// Fetches partition `partition` of one map output and decodes its records.
pub fn fetch_run(
    env: &TaskEnv,
    a: &AttemptRef,
    stage: u32,
    loc: &MapOutputLoc,
) -> Result<(Vec<Record>, u64), TaskError> {
    let failed = |message: String| TaskError::FetchFailed {
        map: loc.partition,
        addr: loc.addr.clone(),
        message,
    };
    let bytes = env.rt.block_on(async {
        let mut c = client(&loc.addr).map_err(failed)?;
        let req = pb::FetchPartitionRequest {
            key: Some(pb::ShuffleKey {
                job: a.job.0,
                stage,
                map: loc.partition.0,
                attempt: loc.attempt.0,
            }),
            partition: a.partition.0,
        };
        let mut stream = c
            .fetch_partition(req)
            .await
            .map_err(|s| failed(basalt_proto::RemoteError::from(s).message))?
            .into_inner();
        let mut out = Vec::new();
        let mut want = None;
        while let Some(chunk) = stream
            .message()
            .await
            .map_err(|s| failed(basalt_proto::RemoteError::from(s).message))?
        {
            if crc32c::crc32c(&chunk.data) != chunk.crc {
                return Err(failed(format!("chunk at byte {} failed its checksum", out.len())));
            }
            want.get_or_insert((chunk.total, chunk.total_crc));
            out.extend_from_slice(&chunk.data);
        }
        match want {
            Some((total, crc)) if total == out.len() as u64 && crc32c::crc32c(&out) == crc => Ok(out),
            _ => Err(failed("the run is incomplete or failed its checksum".into())),
        }
    })?;
    let n = bytes.len() as u64;
    let records = read_run(&bytes).map_err(|e| failed(e.to_string()))?;
    Ok((records, n))
}
