//! The CQL frame reader and decoder (`cql_server::frame`) on hostile input: random bytes, and valid
//! request frames with bytes flipped, cut, inserted or lengths rewritten. Reading and decoding must
//! return (a frame or an error), never panic or hang, and never take more memory than the bytes
//! that arrived or the max frame size allow (a header's claimed length is not trusted).

use basalt_datanode::tables::cql_server::frame::{FrameError, HEADER_LEN, decode, read_frame};
use cassandra_protocol::compression::Compression;
use proptest::prelude::*;

const MAX_FRAME: usize = 64 << 10;

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

fn long(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as i32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// Query parameters: consistency, flags (values, page size, paging state, timestamp), the parts.
fn params(values: &[Vec<u8>], page: Option<i32>, paging: Option<Vec<u8>>, ts: Option<i64>) -> Vec<u8> {
    let mut flags = 0u8;
    let mut rest = Vec::new();
    if !values.is_empty() {
        flags |= 0x01;
        rest.extend((values.len() as u16).to_be_bytes());
        for v in values {
            rest.extend(long(v));
        }
    }
    if let Some(p) = page {
        flags |= 0x04;
        rest.extend(p.to_be_bytes());
    }
    if let Some(s) = paging {
        flags |= 0x08;
        rest.extend(long(&s));
    }
    if let Some(t) = ts {
        flags |= 0x20;
        rest.extend(t.to_be_bytes());
    }
    let mut v = 4u16.to_be_bytes().to_vec(); // QUORUM
    v.push(flags);
    v.extend(rest);
    v
}

fn frame(opcode: u8, stream: i16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![4, 0];
    v.extend(stream.to_be_bytes());
    v.push(opcode);
    v.extend((body.len() as i32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A valid request frame of each kind.
fn request() -> impl Strategy<Value = Vec<u8>> {
    // Statement texts are UTF-8 (a body with another text is malformed, and refused).
    let text = "[a-zA-Z0-9 *=?,()é]{0,40}".prop_map(String::into_bytes);
    let values = proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..4);
    (
        0u8..7,
        any::<i16>(),
        text,
        values,
        proptest::option::of(any::<i32>()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(kind, stream, text, values, page, paging, ts)| match kind {
            0 => frame(0x05, stream, &[]),
            1 => {
                let mut b = 1u16.to_be_bytes().to_vec();
                b.extend(string(b"CQL_VERSION"));
                b.extend(string(b"3.0.0"));
                frame(0x01, stream, &b)
            }
            2 => {
                let mut b = long(&text);
                b.extend(params(&values, page, paging, ts));
                frame(0x07, stream, &b)
            }
            3 => frame(0x09, stream, &long(&text)),
            4 => {
                let mut b = string(&text[..text.len().min(16)]); // prepared id: any bytes
                b.extend(params(&values, page, paging, ts));
                frame(0x0A, stream, &b)
            }
            5 => {
                let mut b = 2u16.to_be_bytes().to_vec();
                b.extend(string(b"SCHEMA_CHANGE"));
                b.extend(string(b"STATUS_CHANGE"));
                frame(0x0B, stream, &b)
            }
            _ => {
                // BATCH: type, n, (kind 0: query text | kind 1: id, values), consistency, flags.
                let mut b = vec![1u8];
                b.extend(2u16.to_be_bytes());
                b.push(0);
                b.extend(long(&text));
                b.extend((values.len() as u16).to_be_bytes());
                for v in &values {
                    b.extend(long(v));
                }
                b.push(1);
                b.extend(string(&text[..text.len().min(8)])); // prepared id
                b.extend(0u16.to_be_bytes());
                b.extend(4u16.to_be_bytes());
                b.push(0);
                frame(0x0D, stream, &b)
            }
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Length(i32),
    Flags(u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<i32>().prop_map(Mutation::Length),
        any::<u8>().prop_map(Mutation::Flags),
    ]
}

fn mutate(mut f: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        match m {
            Mutation::Flip(i, b) if !f.is_empty() => {
                let n = f.len();
                f[i % n] ^= b | 1;
            }
            Mutation::Cut(i) => f.truncate(i % (f.len() + 1)),
            Mutation::Insert(i, b) => {
                let at = i % (f.len() + 1);
                f.splice(at..at, b.iter().copied());
            }
            Mutation::Length(l) if f.len() >= HEADER_LEN => f[5..9].copy_from_slice(&l.to_be_bytes()),
            Mutation::Flags(b) if f.len() >= 2 => f[1] = *b,
            _ => {}
        }
    }
    f
}

/// Reads and decodes every frame of `bytes` until the first error, as the server would (with each
/// compression a connection may agree): returns how many frames decoded.
fn serve(bytes: &[u8]) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut decoded = 0;
        let mut rd = bytes;
        loop {
            let (header, frame) = match read_frame(&mut rd, MAX_FRAME).await {
                Ok(f) => f,
                Err(FrameError::Closed | FrameError::Io(_)) => return decoded,
                Err(_) => return decoded,
            };
            assert!(frame.len() <= MAX_FRAME, "a frame over the max was read");
            assert_eq!(frame.len(), HEADER_LEN + header.body_len);
            let mut any_ok = false;
            for c in [Compression::None, Compression::Lz4, Compression::Snappy] {
                let c = if header.flags & 0x01 != 0 { c } else { Compression::None };
                any_ok |= decode(&header, &frame, c, MAX_FRAME).is_ok();
            }
            if !any_ok {
                return decoded;
            }
            decoded += 1;
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn valid_frames_decode(frames in proptest::collection::vec(request(), 1..4)) {
        let bytes: Vec<u8> = frames.concat();
        prop_assert_eq!(serve(&bytes), frames.len());
    }

    #[test]
    fn mutated_frames_never_panic(f in request(), ms in proptest::collection::vec(mutation(), 1..4)) {
        serve(&mutate(f, &ms));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256), version in 0u8..8) {
        let mut b = bytes;
        if let Some(first) = b.first_mut() {
            // Often a v4 request, so the body decoders see the input too.
            if version < 6 { *first = 4; }
        }
        serve(&b);
    }
}

#[test]
fn a_claimed_length_is_not_allocated_before_the_bytes_arrive() {
    // 200 MiB announced (under a 256 MiB max), ten bytes sent: an error at once.
    let mut f = frame(0x07, 1, &[0; 10]);
    f[5..9].copy_from_slice(&(200i32 << 20).to_be_bytes());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let r = rt.block_on(read_frame(&mut f.as_slice(), 256 << 20));
    assert!(matches!(r, Err(FrameError::Io(_))), "{r:?}");
}

#[test]
fn compressed_bodies_announcing_more_than_the_max_are_refused_before_decompressing() {
    use basalt_datanode::tables::cql_server::frame::parse_header;
    // lz4: a 4-byte big-endian uncompressed length (2 GiB - 1); snappy: a varint (4 GiB - 1).
    for (c, body) in [
        (Compression::Lz4, vec![0x7f, 0xff, 0xff, 0xff, 0, 0]),
        (Compression::Snappy, vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0]),
    ] {
        let mut f = frame(0x07, 3, &body);
        f[1] = 0x01;
        let h = parse_header(f[..HEADER_LEN].try_into().unwrap(), MAX_FRAME).unwrap();
        let r = decode(&h, &f, c, MAX_FRAME);
        assert!(matches!(r, Err(FrameError::TooLarge { stream: 3, .. })), "{c:?}: {r:?}");
    }
}
