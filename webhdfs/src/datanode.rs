//! The datanode's side of WebHDFS: the data ops a namenode redirected here, streamed through the
//! client library (write pipeline, verified reads) in bounded memory.
//!
//! - CREATE (PUT) and APPEND (POST): the request body, as it arrives (a length or chunked), goes into a
//!   [`FileWriter`](basalt_client::FileWriter) a frame at a time; the file is closed (`201 Created` /
//!   `200`) only when the whole body arrived. A body that ends early (the caller disconnected) drops
//!   the writer unclosed: the file stays open, under construction, for lease recovery, never closed
//!   short. Memory per upload: the writer's packets not yet acknowledged (at most 32 of 1 MiB) plus
//!   one body frame.
//! - OPEN (GET): a [`FileReader`](basalt_client::FileReader) from `offset` for `length` bytes, sent as
//!   the response body in [`READ_CHUNK`] pieces as the connection takes them (one piece in memory).
//! - GETFILECHECKSUM: see [`crate::checksum`].
//!
//! A `doas` is resolved by the namenode before it redirects; one sent here is refused.

use crate::checksum::{BlockDigest, file_checksum};
use crate::compat;
use crate::error::{Result, WebHdfsError};
use crate::json;
use crate::op::Op;
use crate::request::WebRequest;
use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use basalt_client::{Client, CreateOptions, FileReader};
use basalt_common::checksum::DEFAULT_CHUNK_SIZE;
use bytes::Bytes;
use futures::StreamExt;
use std::sync::Arc;

/// Bytes of a file read per piece of an OPEN response body.
pub const READ_CHUNK: usize = 1 << 20;

/// What the datanode's WebHDFS handlers share.
pub struct DatanodeGateway {
    /// Connected to the datanode's namenodes; each request acts through it as its caller.
    pub client: Client,
}

pub(crate) async fn handle(State(gw): State<Arc<DatanodeGateway>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    match WebRequest::parse(&parts) {
        Ok(r) => {
            let path = r.path.clone();
            gw.serve(r, body)
                .await
                .unwrap_or_else(|e| e.about(&path).into_response())
        }
        Err(e) => e.into_response(),
    }
}

impl DatanodeGateway {
    async fn serve(&self, r: WebRequest, body: Body) -> Result<Response> {
        let user = r.effective_user(|_| false)?;
        let client = compat::as_user(&self.client, user);
        let path = r.path.as_str();
        let p = &r.params;
        p.positive("buffersize")?;
        match r.op {
            Op::Create => {
                let opts = CreateOptions {
                    overwrite: p.bool("overwrite", false)?,
                    replication: p.replication()?.unwrap_or(0),
                    block_size: p.positive("blocksize")?.unwrap_or(0),
                    create_parent: true,
                };
                let mode = p.permission()?;
                let mut w = client.create(path, opts).await?;
                if let Some(mode) = mode {
                    compat::set_permission(&client, path, mode).await?;
                }
                upload(&mut w, body).await?;
                w.close().await?;
                let nn = p.get("namenoderpcaddress").unwrap_or("");
                let location = format!("hdfs://{nn}{path}");
                Ok((StatusCode::CREATED, [(header::LOCATION, location)], Body::empty()).into_response())
            }
            Op::Append => {
                let mut w = client.append(path).await?;
                upload(&mut w, body).await?;
                w.close().await?;
                Ok(StatusCode::OK.into_response())
            }
            Op::Open => {
                let offset = p.u64("offset")?.unwrap_or(0);
                let length = p.u64("length")?;
                let mut reader = client.open(path).await?;
                if offset > reader.len() {
                    return Err(WebHdfsError::OffsetOutOfRange {
                        offset,
                        length: reader.len(),
                        path: path.to_string(),
                    });
                }
                let n = length.unwrap_or(u64::MAX).min(reader.len() - offset);
                reader.set_position(offset);
                Ok((
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                        (header::CONTENT_LENGTH, n.to_string()),
                    ],
                    Body::from_stream(download(reader, n)),
                )
                    .into_response())
            }
            Op::GetFileChecksum => {
                let (algorithm, bytes) = checksum(&client, path).await?;
                Ok((StatusCode::OK, Json(json::checksum_body(&algorithm, &bytes))).into_response())
            }
            op => Err(WebHdfsError::WrongOp { op: op.name() }),
        }
    }
}

/// Streams `body` into `w`; an error (the body ended early) leaves `w` unclosed.
async fn upload(w: &mut basalt_client::FileWriter, body: Body) -> Result<()> {
    let mut frames = body.into_data_stream();
    while let Some(frame) = frames.next().await {
        let data = frame.map_err(|e| WebHdfsError::BodyInterrupted {
            received: w.written(),
            reason: e.to_string(),
        })?;
        w.write(&data).await?;
    }
    Ok(())
}

/// `n` bytes of `reader` from its position, in pieces of at most [`READ_CHUNK`].
fn download(reader: FileReader, n: u64) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    futures::stream::try_unfold((reader, n), |(mut reader, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; (left as usize).min(READ_CHUNK)];
        let got = reader.read(&mut buf).await.map_err(std::io::Error::other)?;
        if got == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ended {left} bytes early"),
            ));
        }
        buf.truncate(got);
        Ok(Some((Bytes::from(buf), (reader, left - got as u64))))
    })
}

/// The file checksum of `path` (see [`crate::checksum`]): each block read through the verified reader,
/// its digest computed off the async runtime.
async fn checksum(client: &Client, path: &str) -> Result<(String, Vec<u8>)> {
    let status = client.stat(path).await?;
    let blocks = client.block_locations(path).await?;
    let mut reader = client.open(path).await?;
    // The writer's chunk size: the CRCs the datanodes store.
    let bytes_per_crc = DEFAULT_CHUNK_SIZE
        .min(status.block_size.min(u32::MAX as u64) as u32)
        .max(1);
    let mut digests = Vec::with_capacity(blocks.len());
    for b in &blocks {
        let len = b.block.as_ref().map_or(0, |x| x.length);
        reader.set_position(b.offset);
        let mut digest = BlockDigest::new(bytes_per_crc);
        let mut left = len;
        while left > 0 {
            let mut buf = vec![0u8; (left as usize).min(READ_CHUNK)];
            let got = reader.read(&mut buf).await?;
            if got == 0 {
                break;
            }
            buf.truncate(got);
            left -= got as u64;
            digest = tokio::task::spawn_blocking(move || {
                digest.update(&buf);
                digest
            })
            .await
            .expect("checksum task");
        }
        digests.push(digest.finish());
    }
    Ok(file_checksum(bytes_per_crc, status.block_size, &digests))
}
