//! The compact stored form of a row (its clustering is in the key, not here), written by hand:
//! rows are most of what a table holds, and field names per cell would double their size.
//!
//! ```text
//! row   = flags:u8 [liveness] [deletion] n:varint (column:varint deletion){n} m:varint cell{m}
//!         flags: 1 marker, 2 marker with expiry, 4 row deletion
//! liveness = timestamp:i64 [ttl:varint expires_at:i64]
//! deletion = timestamp:i64 local_time:i64
//! cell  = column:varint tag:u8 [path_len:varint path] timestamp:i64 body
//!         tag: low 2 bits 0 live, 1 expiring, 2 tombstone; 4 has a path
//! body  = live: len:varint bytes | expiring: ttl:varint expires_at:i64 len:varint bytes
//!         | tombstone: local_time:i64
//! ```
//! Integers are big-endian; varints are LEB128. Decoding checks every length and that cells are
//! strictly sorted by `(column, path)`, so bad bytes are an error, never a panic or a broken row.

use basalt_common::ColumnId;
use basalt_table::partition::{Cell, CellValue, Deletion, Liveness, Row};

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn deletion(d: &Deletion, out: &mut Vec<u8>) {
    out.extend_from_slice(&d.timestamp.to_be_bytes());
    out.extend_from_slice(&d.local_time.to_be_bytes());
}

/// Appends the stored form of `row` (without its clustering).
pub fn encode_row(row: &Row, out: &mut Vec<u8>) {
    let mut flags = 0u8;
    if let Some(l) = &row.liveness {
        flags |= 1;
        if l.expiry.is_some() {
            flags |= 2;
        }
    }
    if row.deletion.is_some() {
        flags |= 4;
    }
    out.push(flags);
    if let Some(l) = &row.liveness {
        out.extend_from_slice(&l.timestamp.to_be_bytes());
        if let Some((ttl, at)) = l.expiry {
            varint(ttl.into(), out);
            out.extend_from_slice(&at.to_be_bytes());
        }
    }
    if let Some(d) = &row.deletion {
        deletion(d, out);
    }
    varint(row.collection_deletions.len() as u64, out);
    for (c, d) in &row.collection_deletions {
        varint(c.0, out);
        deletion(d, out);
    }
    varint(row.cells.len() as u64, out);
    for c in &row.cells {
        varint(c.column.0, out);
        let kind = match c.value {
            CellValue::Live(_) => 0,
            CellValue::Expiring { .. } => 1,
            CellValue::Tombstone { .. } => 2,
        };
        out.push(kind | if c.path.is_some() { 4 } else { 0 });
        if let Some(p) = &c.path {
            bytes(p, out);
        }
        out.extend_from_slice(&c.timestamp.to_be_bytes());
        match &c.value {
            CellValue::Live(v) => bytes(v, out),
            CellValue::Expiring { value, ttl, expires_at } => {
                varint((*ttl).into(), out);
                out.extend_from_slice(&expires_at.to_be_bytes());
                bytes(value, out);
            }
            CellValue::Tombstone { local_time } => out.extend_from_slice(&local_time.to_be_bytes()),
        }
    }
}

/// Why stored row bytes are bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowCodecError {
    #[error("row truncated at byte {0}")]
    Truncated(usize),
    #[error("bad {what} at byte {at}")]
    Bad { what: &'static str, at: usize },
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RowCodecError> {
        let end = self.at.checked_add(n).ok_or(RowCodecError::Truncated(self.at))?;
        let s = self.b.get(self.at..end).ok_or(RowCodecError::Truncated(self.at))?;
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, RowCodecError> {
        Ok(self.take(1)?[0])
    }

    fn i64(&mut self) -> Result<i64, RowCodecError> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn varint(&mut self) -> Result<u64, RowCodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.bad("varint"))
    }

    fn u32(&mut self) -> Result<u32, RowCodecError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.bad("ttl"))
    }

    /// A count of items of at least `min` bytes each, checked against what is left.
    fn count(&mut self, min: usize) -> Result<usize, RowCodecError> {
        let n = self.varint()?;
        let left = (self.b.len() - self.at) as u64;
        if n.saturating_mul(min as u64) > left {
            return Err(self.bad("count"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, RowCodecError> {
        let n = self.count(1)?;
        Ok(self.take(n)?.to_vec())
    }

    fn deletion(&mut self) -> Result<Deletion, RowCodecError> {
        Ok(Deletion {
            timestamp: self.i64()?,
            local_time: self.i64()?,
        })
    }

    fn bad(&self, what: &'static str) -> RowCodecError {
        RowCodecError::Bad { what, at: self.at }
    }
}

/// Decodes a stored row (with an empty clustering) that fills all of `b`.
pub fn decode_row(b: &[u8]) -> Result<Row, RowCodecError> {
    let mut r = Reader { b, at: 0 };
    let flags = r.u8()?;
    if flags & !7 != 0 || flags & 3 == 2 {
        return Err(RowCodecError::Bad {
            what: "row flags",
            at: 0,
        });
    }
    let mut row = Row::default();
    if flags & 1 != 0 {
        let timestamp = r.i64()?;
        let expiry = if flags & 2 != 0 {
            Some((r.u32()?, r.i64()?))
        } else {
            None
        };
        row.liveness = Some(Liveness { timestamp, expiry });
    }
    if flags & 4 != 0 {
        row.deletion = Some(r.deletion()?);
    }
    let n = r.count(17)?;
    for _ in 0..n {
        let c = ColumnId(r.varint()?);
        if row.collection_deletions.last().is_some_and(|(l, _)| *l >= c) {
            return Err(r.bad("collection deletion order"));
        }
        row.collection_deletions.push((c, r.deletion()?));
    }
    let m = r.count(11)?;
    row.cells.reserve(m);
    for _ in 0..m {
        let column = ColumnId(r.varint()?);
        let tag = r.u8()?;
        if tag & !7 != 0 || tag & 3 == 3 {
            return Err(r.bad("cell tag"));
        }
        let path = if tag & 4 != 0 { Some(r.bytes()?) } else { None };
        let timestamp = r.i64()?;
        let value = match tag & 3 {
            0 => CellValue::Live(r.bytes()?),
            1 => {
                let ttl = r.u32()?;
                let expires_at = r.i64()?;
                CellValue::Expiring {
                    value: r.bytes()?,
                    ttl,
                    expires_at,
                }
            }
            _ => CellValue::Tombstone { local_time: r.i64()? },
        };
        if row.cells.last().is_some_and(|l| (l.column, &l.path) >= (column, &path)) {
            return Err(r.bad("cell order"));
        }
        row.cells.push(Cell {
            column,
            path,
            timestamp,
            value,
        });
    }
    if r.at != b.len() {
        return Err(r.bad("trailing bytes"));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = CellValue> {
        let bytes = proptest::collection::vec(any::<u8>(), 0..40);
        prop_oneof![
            bytes.clone().prop_map(CellValue::Live),
            (bytes, any::<u32>(), any::<i64>()).prop_map(|(value, ttl, expires_at)| CellValue::Expiring {
                value,
                ttl,
                expires_at
            }),
            any::<i64>().prop_map(|local_time| CellValue::Tombstone { local_time }),
        ]
    }

    fn deletion() -> impl Strategy<Value = Deletion> {
        (any::<i64>(), any::<i64>()).prop_map(|(timestamp, local_time)| Deletion { timestamp, local_time })
    }

    fn row() -> impl Strategy<Value = Row> {
        let key = (
            any::<u64>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..5)),
        );
        (
            proptest::option::of((any::<i64>(), proptest::option::of((any::<u32>(), any::<i64>())))),
            proptest::option::of(deletion()),
            proptest::collection::btree_map(any::<u64>(), deletion(), 0..3),
            proptest::collection::btree_map(key, (any::<i64>(), value()), 0..6),
        )
            .prop_map(|(l, deletion, colls, cells)| Row {
                clustering: vec![],
                liveness: l.map(|(timestamp, expiry)| Liveness { timestamp, expiry }),
                deletion,
                collection_deletions: colls.into_iter().map(|(c, d)| (ColumnId(c), d)).collect(),
                cells: cells
                    .into_iter()
                    .map(|((c, path), (timestamp, value))| Cell {
                        column: ColumnId(c),
                        path,
                        timestamp,
                        value,
                    })
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn rows_round_trip_and_every_truncation_fails(r in row()) {
            let mut b = Vec::new();
            encode_row(&r, &mut b);
            prop_assert_eq!(decode_row(&b).unwrap(), r);
            for cut in 0..b.len() {
                prop_assert!(decode_row(&b[..cut]).is_err());
            }
        }

        #[test]
        fn garbage_is_an_error_not_a_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_row(&b);
        }
    }

    #[test]
    fn a_100_byte_row_is_small() {
        let r = Row {
            liveness: Some(Liveness {
                timestamp: 1_700_000_000_000_000,
                expiry: None,
            }),
            cells: vec![
                Cell {
                    column: ColumnId(3),
                    path: None,
                    timestamp: 1_700_000_000_000_000,
                    value: CellValue::Live(vec![1; 4]),
                },
                Cell {
                    column: ColumnId(4),
                    path: None,
                    timestamp: 1_700_000_000_000_000,
                    value: CellValue::Live(vec![b'x'; 80]),
                },
            ],
            ..Row::default()
        };
        let mut b = Vec::new();
        encode_row(&r, &mut b);
        assert_eq!(b.len(), 1 + 8 + 1 + 1 + 2 * (1 + 1 + 8 + 1) + 4 + 80);
    }
}
