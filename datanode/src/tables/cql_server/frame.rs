//! Reading request frames off a connection: the 9-byte header is checked here (direction, version,
//! opcode, a length within the max frame size) before the body is read, so a bad or oversized frame
//! costs no allocation; then the envelope and the body are decoded by `cassandra-protocol`.
//!
//! That crate's body decoders index slices with lengths taken from the frame and can panic on a
//! truncated body (`cursor_next_value_ref`); decoding runs under `catch_unwind`, and a panic there
//! is a [`FrameError::Body`] like any other malformed body.

use cassandra_protocol::compression::Compression;
use cassandra_protocol::frame::message_request::RequestBody;
use cassandra_protocol::frame::{Envelope, Opcode, Version};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Length of a v4 frame header.
pub const HEADER_LEN: usize = 9;

/// The protocol versions this server speaks.
pub const SUPPORTED: u8 = 4;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection between frames.
    #[error("connection closed")]
    Closed,
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// A version this server does not speak (v5, DSE's v65/v66, v3): drivers look for the words
    /// "unsupported protocol version" and step down.
    #[error("Invalid or unsupported protocol version ({version}); supported versions are (4/v4)")]
    UnsupportedVersion { version: u8, stream: i16 },
    #[error("frame of {len} bytes exceeds the maximum frame size of {max} bytes")]
    TooLarge { len: u64, max: usize, stream: i16 },
    #[error("negative frame body length {len}")]
    NegativeLength { len: i32, stream: i16 },
    #[error("frame with the response direction bit set sent to a server")]
    Direction { stream: i16 },
    #[error("unknown opcode {opcode:#04x}")]
    UnknownOpcode { opcode: u8, stream: i16 },
    #[error("opcode {opcode:#04x} is not a request")]
    NotRequest { opcode: u8, stream: i16 },
    #[error("malformed {opcode} body: {reason}")]
    Body {
        opcode: &'static str,
        reason: String,
        stream: i16,
    },
}

impl FrameError {
    /// The stream id to answer on (0 when none was read).
    pub fn stream(&self) -> Option<i16> {
        match self {
            FrameError::Closed | FrameError::Io(_) => None,
            FrameError::UnsupportedVersion { stream, .. }
            | FrameError::TooLarge { stream, .. }
            | FrameError::NegativeLength { stream, .. }
            | FrameError::Direction { stream }
            | FrameError::UnknownOpcode { stream, .. }
            | FrameError::NotRequest { stream, .. }
            | FrameError::Body { stream, .. } => Some(*stream),
        }
    }
}

/// A checked frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub flags: u8,
    pub stream: i16,
    pub opcode: Opcode,
    pub body_len: usize,
}

/// Checks a header: a request (direction bit clear), v4, a request opcode, a body length in
/// `0..=max_frame - HEADER_LEN`.
pub fn parse_header(h: &[u8; HEADER_LEN], max_frame: usize) -> Result<Header, FrameError> {
    let stream = i16::from_be_bytes([h[2], h[3]]);
    let version = h[0] & 0x7f;
    if version != SUPPORTED {
        return Err(FrameError::UnsupportedVersion { version, stream });
    }
    if h[0] & 0x80 != 0 {
        return Err(FrameError::Direction { stream });
    }
    let len = i32::from_be_bytes([h[5], h[6], h[7], h[8]]);
    if len < 0 {
        return Err(FrameError::NegativeLength { len, stream });
    }
    if len as u64 + HEADER_LEN as u64 > max_frame as u64 {
        return Err(FrameError::TooLarge {
            len: len as u64 + HEADER_LEN as u64,
            max: max_frame,
            stream,
        });
    }
    let opcode = Opcode::try_from(h[4]).map_err(|_| FrameError::UnknownOpcode { opcode: h[4], stream })?;
    match opcode {
        Opcode::Startup
        | Opcode::Options
        | Opcode::Query
        | Opcode::Prepare
        | Opcode::Execute
        | Opcode::Register
        | Opcode::Batch
        | Opcode::AuthResponse => {}
        _ => return Err(FrameError::NotRequest { opcode: h[4], stream }),
    }
    Ok(Header {
        flags: h[1],
        stream,
        opcode,
        body_len: len as usize,
    })
}

/// Body bytes reserved before any arrive.
const INITIAL_BODY: usize = 64 << 10;

/// Reads one frame: its header, checked, then its body. [`FrameError::Closed`] at a clean end of
/// stream between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max_frame: usize) -> Result<(Header, Vec<u8>), FrameError> {
    let mut h = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        let n = r.read(&mut h[got..]).await?;
        if n == 0 {
            return Err(if got == 0 {
                FrameError::Closed
            } else {
                FrameError::Io(std::io::ErrorKind::UnexpectedEof.into())
            });
        }
        got += n;
    }
    let header = parse_header(&h, max_frame)?;
    // The buffer grows with the bytes that arrive, not with the length the header claims: a peer
    // that announces a large frame and sends little costs little.
    let mut frame = Vec::with_capacity(HEADER_LEN + header.body_len.min(INITIAL_BODY));
    frame.extend_from_slice(&h);
    let got = r.take(header.body_len as u64).read_to_end(&mut frame).await?;
    if got < header.body_len {
        return Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok((header, frame))
}

fn opcode_name(o: Opcode) -> &'static str {
    match o {
        Opcode::Startup => "STARTUP",
        Opcode::Options => "OPTIONS",
        Opcode::Query => "QUERY",
        Opcode::Prepare => "PREPARE",
        Opcode::Execute => "EXECUTE",
        Opcode::Register => "REGISTER",
        Opcode::Batch => "BATCH",
        Opcode::AuthResponse => "AUTH_RESPONSE",
        _ => "response",
    }
}

/// The uncompressed length a compressed body announces (lz4: a 4-byte big-endian prefix; snappy:
/// a little-endian varint), which the decompressors allocate at once.
fn announced_len(compression: Compression, body: &[u8]) -> Option<u64> {
    match compression {
        Compression::Lz4 => body
            .get(..4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]).max(0) as u64),
        Compression::Snappy => {
            let mut n = 0u64;
            for (i, b) in body.iter().take(5).enumerate() {
                n |= u64::from(b & 0x7f) << (7 * i);
                if b & 0x80 == 0 {
                    return Some(n);
                }
            }
            None
        }
        _ => Some(0),
    }
}

/// Decodes a whole frame (as [`read_frame`] returns it) into its request body; a compressed body
/// that announces more than `max_frame` bytes uncompressed is refused before it is decompressed.
pub fn decode(
    header: &Header,
    frame: &[u8],
    compression: Compression,
    max_frame: usize,
) -> Result<RequestBody, FrameError> {
    let bad = |reason: String| FrameError::Body {
        opcode: opcode_name(header.opcode),
        reason,
        stream: header.stream,
    };
    if header.flags & 0x01 != 0 {
        match announced_len(compression, &frame[HEADER_LEN.min(frame.len())..]) {
            Some(n) if n + HEADER_LEN as u64 <= max_frame as u64 => {}
            Some(n) => {
                return Err(FrameError::TooLarge {
                    len: n + HEADER_LEN as u64,
                    max: max_frame,
                    stream: header.stream,
                });
            }
            None => return Err(bad("bad compressed length".into())),
        }
    }
    let decoded = std::panic::catch_unwind(|| -> Result<RequestBody, String> {
        let parsed = Envelope::from_buffer(frame, compression).map_err(|e| e.to_string())?;
        if parsed.envelope_len != frame.len() {
            return Err("trailing bytes after the frame".into());
        }
        RequestBody::try_from(&parsed.envelope.body, header.opcode, Version::V4).map_err(|e| e.to_string())
    });
    match decoded {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(reason)) => Err(bad(reason)),
        Err(_) => Err(bad("truncated or inconsistent lengths".into())),
    }
}
