//! Which bytes of a file belong to a split, as Hadoop's `LineRecordReader` decides: **a line belongs to
//! the split in which it starts**. A reader of a split that does not start the file backs up one byte
//! and skips to just after the first newline (the partial line it lands in is the previous split's);
//! it reads past the split's end to finish the last line it started. Fixed-size records
//! ([`record_range`]) follow the same rule.
//!
//! Pure: the executor reads bytes from [`LineSplit::read_from`] and asks [`LineSplit::lines_range`]
//! which of them are the split's lines, reading more while it answers `None`.

use std::ops::Range;

/// A split of a text file: `length` bytes from `offset` of a file of `file_length` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineSplit {
    pub offset: u64,
    pub length: u64,
    pub file_length: u64,
}

impl LineSplit {
    /// The file offset a reader starts at (one byte early, to see whether the split starts a line).
    pub fn read_from(&self) -> u64 {
        self.offset.saturating_sub(1)
    }

    /// Given `buf`, the file's bytes from [`Self::read_from`] (`eof`: up to the end of the file), the
    /// range of `buf` holding exactly this split's whole lines; `None` when more bytes are needed.
    pub fn lines_range(&self, buf: &[u8], eof: bool) -> Option<Range<usize>> {
        let base = self.read_from();
        let split_end = (self.offset + self.length).min(self.file_length);
        let begin = if self.offset == 0 {
            0
        } else {
            match memchr(b'\n', buf, 0) {
                Some(i) => i + 1,
                None if eof => return Some(buf.len()..buf.len()),
                None => return None,
            }
        };
        // No line starts inside the split: the partial line skipped ran past its end.
        if base + begin as u64 >= split_end {
            return Some(begin..begin);
        }
        // The last line starting before the split's end ends at the first newline at or after the
        // split's last byte.
        let last_byte = (split_end - 1 - base) as usize;
        match memchr(b'\n', buf, last_byte.max(begin)) {
            Some(i) => Some(begin..i + 1),
            None if eof => Some(begin..buf.len()),
            None => None,
        }
    }
}

/// The lines of a range [`LineSplit::lines_range`] returned: split on `\n`, a trailing `\r` dropped;
/// empty lines included; a final line without a newline included.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let none = bytes.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !none)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// The byte range of the fixed-size records (of `size` bytes) that start in the split, within the
/// file; a reader reads exactly these bytes.
pub fn record_range(split: &LineSplit, size: u64) -> Range<u64> {
    let end = (split.offset + split.length).min(split.file_length);
    let first = split.offset.div_ceil(size) * size;
    let last_start = end.saturating_sub(1) / size * size;
    if first >= end {
        return first..first;
    }
    first..(last_start + size).min(split.file_length)
}

fn memchr(needle: u8, hay: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.iter().position(|&b| b == needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every split's lines, read the way an executor does (all bytes from `read_from`), concatenated.
    fn split_lines(data: &[u8], block: u64) -> Vec<Vec<u8>> {
        let len = data.len() as u64;
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < len {
            let s = LineSplit {
                offset,
                length: block.min(len - offset),
                file_length: len,
            };
            let buf = &data[s.read_from() as usize..];
            let r = s.lines_range(buf, true).unwrap();
            out.extend(lines(&buf[r]).map(|l| l.to_vec()));
            offset += block;
        }
        out
    }

    #[test]
    fn every_line_is_read_once_whatever_the_block_size() {
        let data = "alpha beta\n\ngamma\r\nδέλτα ε\nlast line without newline".as_bytes();
        let want: Vec<Vec<u8>> = lines(data).map(|l| l.to_vec()).collect();
        assert_eq!(want.len(), 5);
        for block in 1..=data.len() as u64 + 1 {
            assert_eq!(split_lines(data, block), want, "block size {block}");
        }
        let trailing = b"a\nb\n\n";
        for block in 1..=6 {
            assert_eq!(split_lines(trailing, block), vec![b"a".to_vec(), b"b".to_vec(), vec![]]);
        }
    }

    #[test]
    fn asks_for_more_until_the_last_line_ends() {
        let data = b"0123\n5678\nabc";
        let s = LineSplit {
            offset: 0,
            length: 7,
            file_length: 13,
        };
        assert_eq!(s.lines_range(&data[..8], false), None);
        assert_eq!(s.lines_range(&data[..10], false), Some(0..10));
        let s = LineSplit {
            offset: 7,
            length: 6,
            file_length: 13,
        };
        assert_eq!(s.lines_range(&data[6..8], false), None);
        assert_eq!(s.lines_range(&data[6..], true), Some(4..7));
    }

    #[test]
    fn records_start_in_one_split_only() {
        for block in [1u64, 7, 100, 150, 1000] {
            let len = 1000;
            let mut covered = Vec::new();
            let mut off = 0;
            while off < len {
                let s = LineSplit {
                    offset: off,
                    length: block.min(len - off),
                    file_length: len,
                };
                let r = record_range(&s, 100);
                if !r.is_empty() {
                    covered.push(r);
                }
                off += block;
            }
            let starts: Vec<u64> = covered.iter().flat_map(|r| (r.start..r.end).step_by(100)).collect();
            assert_eq!(starts, (0..1000).step_by(100).collect::<Vec<_>>(), "block {block}");
        }
    }
}
