//! One client connection. Phases:
//!
//! 1. Handshake: OPTIONS → SUPPORTED, STARTUP → READY (no users: AllowAll), or, with users
//!    ([`super::auth`]), STARTUP → AUTHENTICATE, then AUTH_RESPONSE (SASL PLAIN) → AUTH_SUCCESS or an
//!    authentication error (the client may try again). The COMPRESSION option, lz4 or snappy,
//!    applies to every frame after the answer to STARTUP. Any other request first is a protocol
//!    error.
//! 2. Requests: each frame is read and checked ([`super::frame`]), then runs in its own task
//!    (drivers multiplex streams on one connection), at most `max_in_flight` at once: one more is
//!    answered Overloaded at once, never queued. Responses go back through one bounded writer
//!    channel in completion order, tagged by stream (a client that does not read its answers
//!    stops being read).
//! 3. End: the client closes, a frame is malformed (answered with a protocol ERROR, then the
//!    connection is closed), or the server shuts down.
//!
//! REGISTER subscribes the connection to server events ([`super::events`]), pushed on stream -1.
//!
//! `USE` sets this connection's keyspace, for the requests that start after its answer.

use super::CqlServerConfig;
use super::frame::{self, FrameError, Header};
use super::handler::Handler;
use super::response;
use cassandra_protocol::compression::Compression;
use cassandra_protocol::frame::events::{ServerEvent, SimpleServerEvent};
use cassandra_protocol::frame::message_auth_success::BodyReqAuthSuccess;
use cassandra_protocol::frame::message_authenticate::BodyResAuthenticate;
use cassandra_protocol::frame::message_error::{ErrorBody, ErrorType};
use cassandra_protocol::frame::message_event::BodyResEvent;
use cassandra_protocol::frame::message_request::RequestBody;
use cassandra_protocol::frame::message_result::ResResultBody;
use cassandra_protocol::frame::message_supported::BodyResSupported;
use cassandra_protocol::frame::{Direction, Envelope, Flags, Opcode, Serialize, Version};
use cassandra_protocol::types::CBytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, broadcast, mpsc, watch};

/// The per-connection state requests read.
struct Session {
    keyspace: Mutex<Option<String>>,
}

impl Session {
    fn keyspace(&self) -> Option<String> {
        self.keyspace.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// An encoded response frame.
fn encode(stream: i16, opcode: Opcode, body: Vec<u8>, compression: Compression) -> Vec<u8> {
    let env = Envelope::new(
        Version::V4,
        Direction::Response,
        Flags::empty(),
        opcode,
        stream,
        body,
        None,
        Vec::new(),
    );
    match env.encode_with(compression) {
        Ok(b) => b,
        Err(_) => env.encode_with(Compression::None).unwrap_or_default(),
    }
}

fn error_frame(stream: i16, e: &ErrorBody, compression: Compression) -> Vec<u8> {
    encode(stream, Opcode::Error, e.serialize_to_vec(Version::V4), compression)
}

fn outcome_frame(stream: i16, o: Result<ResResultBody, ErrorBody>, compression: Compression) -> Vec<u8> {
    match o {
        Ok(r) => encode(stream, Opcode::Result, r.serialize_to_vec(Version::V4), compression),
        Err(e) => error_frame(stream, &e, compression),
    }
}

fn supported() -> Vec<u8> {
    let mut data = HashMap::new();
    data.insert(
        "CQL_VERSION".to_string(),
        vec![crate::tables::exec::system::CQL_VERSION.to_string()],
    );
    data.insert("COMPRESSION".to_string(), vec!["lz4".to_string(), "snappy".to_string()]);
    data.insert("PROTOCOL_VERSIONS".to_string(), vec!["4/v4".to_string()]);
    BodyResSupported { data }.serialize_to_vec(Version::V4)
}

async fn write_loop<W: AsyncWrite + Unpin>(mut w: W, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(buf) = rx.recv().await {
        if w.write_all(&buf).await.is_err() {
            return;
        }
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}

/// Serves one connection until it ends (see the module doc).
pub async fn serve<R, W>(
    mut rd: R,
    wr: W,
    handler: Arc<Handler>,
    config: CqlServerConfig,
    mut shutdown: watch::Receiver<bool>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Vec<u8>>(config.max_in_flight.max(1));
    let writer = tokio::spawn(write_loop(wr, rx));
    let session = Arc::new(Session {
        keyspace: Mutex::new(None),
    });
    let slots = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut compression = Compression::None;
    let mut ready = false;
    let mut authenticating = false;
    let mut wanted: Vec<SimpleServerEvent> = Vec::new();
    let mut forwarder: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        let read = tokio::select! {
            r = frame::read_frame(&mut rd, config.max_frame_size) => r,
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let (header, bytes) = match read {
            Ok(f) => f,
            Err(FrameError::Closed | FrameError::Io(_)) => break,
            Err(e) => {
                tracing::debug!(error = %e, "CQL connection: bad frame; closing");
                let stream = e.stream().unwrap_or(0);
                let _ = tx
                    .send(error_frame(
                        stream,
                        &response::protocol_error(e.to_string()),
                        compression,
                    ))
                    .await;
                break;
            }
        };
        let body = match decode(&header, &bytes, compression, config.max_frame_size) {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(error = %e, "CQL connection: malformed body; closing");
                let _ = tx
                    .send(error_frame(
                        header.stream,
                        &response::protocol_error(e.to_string()),
                        compression,
                    ))
                    .await;
                break;
            }
        };
        let stream = header.stream;
        match body {
            RequestBody::Options(_) => {
                let _ = tx
                    .send(encode(stream, Opcode::Supported, supported(), compression))
                    .await;
            }
            RequestBody::Startup(s) => {
                let asked = s.map.get("COMPRESSION").map(|c| c.to_ascii_lowercase());
                let chosen = match asked.as_deref() {
                    None | Some("") => Some(Compression::None),
                    Some("lz4") => Some(Compression::Lz4),
                    Some("snappy") => Some(Compression::Snappy),
                    Some(_) => None,
                };
                let Some(chosen) = chosen else {
                    let e = response::protocol_error(format!(
                        "Unknown compression algorithm: {}",
                        asked.unwrap_or_default()
                    ));
                    let _ = tx.send(error_frame(stream, &e, compression)).await;
                    break;
                };
                // The answer to STARTUP is not compressed; every frame after it is.
                if config.users.is_some() {
                    let body = BodyResAuthenticate {
                        data: super::auth::PASSWORD_AUTHENTICATOR.to_string(),
                    };
                    let _ = tx
                        .send(encode(
                            stream,
                            Opcode::Authenticate,
                            body.serialize_to_vec(Version::V4),
                            Compression::None,
                        ))
                        .await;
                    authenticating = true;
                } else {
                    let _ = tx
                        .send(encode(stream, Opcode::Ready, Vec::new(), Compression::None))
                        .await;
                    ready = true;
                }
                compression = chosen;
            }
            RequestBody::AuthResponse(r) if authenticating => {
                let users = config.users.as_deref().expect("authenticating only with users");
                match users.authenticate(r.data.as_slice().unwrap_or_default()) {
                    Ok(user) => {
                        tracing::debug!(%user, "CQL connection authenticated");
                        let body = BodyReqAuthSuccess {
                            data: CBytes::new_null(),
                        };
                        let _ = tx
                            .send(encode(
                                stream,
                                Opcode::AuthSuccess,
                                body.serialize_to_vec(Version::V4),
                                compression,
                            ))
                            .await;
                        authenticating = false;
                        ready = true;
                    }
                    Err(message) => {
                        let e = ErrorBody {
                            message,
                            ty: ErrorType::Authentication,
                        };
                        let _ = tx.send(error_frame(stream, &e, compression)).await;
                    }
                }
            }
            _ if !ready => {
                let expecting = if authenticating {
                    "AUTH_RESPONSE"
                } else {
                    "STARTUP or OPTIONS"
                };
                let e =
                    response::protocol_error(format!("Unexpected message {:?}, expecting {expecting}", header.opcode));
                let _ = tx.send(error_frame(stream, &e, compression)).await;
                break;
            }
            RequestBody::Register(r) => {
                wanted.extend(r.events.iter().copied());
                if let Some(old) = forwarder.take() {
                    old.abort();
                }
                forwarder = Some(tokio::spawn(forward_events(
                    handler.events.subscribe(),
                    wanted.clone(),
                    tx.clone(),
                    compression,
                )));
                let _ = tx.send(encode(stream, Opcode::Ready, Vec::new(), compression)).await;
            }
            RequestBody::AuthResponse(_) => {
                let e = response::protocol_error("Unexpected AUTH_RESPONSE: this connection is authenticated".into());
                let _ = tx.send(error_frame(stream, &e, compression)).await;
                break;
            }
            body => {
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    let e = response::overloaded(format!(
                        "Too many requests in flight on this connection (max {})",
                        config.max_in_flight
                    ));
                    let _ = tx.send(error_frame(stream, &e, compression)).await;
                    continue;
                };
                let handler = handler.clone();
                let session = session.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let out = run(&handler, &session, body).await;
                    let _ = tx.send(outcome_frame(stream, out, compression)).await;
                    drop(permit);
                });
            }
        }
    }
    if let Some(f) = forwarder {
        f.abort();
    }
    drop(tx);
    let _ = writer.await;
}

/// Answers the first request of a connection over the server's limit with Overloaded (within a
/// second), then closes it.
pub async fn refuse(stream: tokio::net::TcpStream, max_frame: usize) {
    let (mut rd, mut wr) = stream.into_split();
    let first = tokio::time::timeout(REFUSE_WAIT, frame::read_frame(&mut rd, max_frame)).await;
    let stream_id = match first {
        Ok(Ok((header, _))) => header.stream,
        _ => return,
    };
    let e = response::overloaded("Too many connections to this node".into());
    let _ = wr.write_all(&error_frame(stream_id, &e, Compression::None)).await;
    let _ = wr.shutdown().await;
}

const REFUSE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Sends the events of the `wanted` types to the connection as EVENT frames (stream -1), until
/// the connection or the server ends.
async fn forward_events(
    mut events: broadcast::Receiver<Arc<ServerEvent>>,
    wanted: Vec<SimpleServerEvent>,
    tx: mpsc::Sender<Vec<u8>>,
    compression: Compression,
) {
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if !wanted.contains(&SimpleServerEvent::from(&*event)) {
            continue;
        }
        let body = BodyResEvent {
            event: (*event).clone(),
        }
        .serialize_to_vec(Version::V4);
        if tx.send(encode(-1, Opcode::Event, body, compression)).await.is_err() {
            return;
        }
    }
}

fn decode(header: &Header, bytes: &[u8], compression: Compression, max: usize) -> Result<RequestBody, FrameError> {
    let c = if header.flags & 0x01 != 0 {
        compression
    } else {
        Compression::None
    };
    if header.flags & 0x01 != 0 && c == Compression::None {
        return Err(FrameError::Body {
            opcode: "compressed",
            reason: "the compression flag is set but no compression was agreed".into(),
            stream: header.stream,
        });
    }
    frame::decode(header, bytes, c, max)
}

async fn run(handler: &Handler, session: &Session, body: RequestBody) -> Result<ResResultBody, ErrorBody> {
    handler
        .engine
        .cql
        .counters
        .cql_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ks = session.keyspace();
    let ks = ks.as_deref();
    let out = match body {
        RequestBody::Query(q) => handler.query(q.query, &q.query_params, ks).await,
        RequestBody::Prepare(p) => {
            let ks = p.keyspace.as_deref().or(ks);
            handler.prepare(p.query, ks).await
        }
        RequestBody::Execute(e) => {
            let id = e.id.into_bytes().unwrap_or_default();
            handler.execute(id, &e.query_parameters, ks).await
        }
        RequestBody::Batch(b) => handler.batch(b, ks).await,
        _ => Err(response::protocol_error("Unexpected message".into())),
    };
    if let Ok(ResResultBody::SetKeyspace(k)) = &out {
        *session.keyspace.lock().unwrap_or_else(|e| e.into_inner()) = Some(k.body.clone());
    }
    out
}
