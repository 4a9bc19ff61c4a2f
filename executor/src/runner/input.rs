//! Reading a map task's split from Basalt: whole lines (Hadoop's rule, `basalt_jobs::lines`) or
//! fixed-size records that start in the split.

use super::TaskEnv;
use super::error::TaskError;
use basalt_jobs::lines::{LineSplit, record_range};
use basalt_jobs::spec::{InputFormat, Split};

/// Bytes read past the split's end at a time while finishing its last line.
const READ_MORE: u64 = 64 * 1024;

/// The bytes of the split's records: whole lines (newlines kept), or whole fixed-size records.
pub fn read_split(env: &TaskEnv, split: &Split, format: InputFormat) -> Result<Vec<u8>, TaskError> {
    let path = split.path.as_str();
    env.rt.block_on(async {
        let mut r = env.client.open(path).await.map_err(TaskError::fs("opening", path))?;
        let ls = LineSplit {
            offset: split.offset,
            length: split.length,
            file_length: split.file_length.min(r.len()),
        };
        match format {
            InputFormat::Records { size } => {
                let range = record_range(&ls, size as u64);
                r.set_position(range.start);
                let mut buf = vec![0; (range.end - range.start) as usize];
                read_exact(&mut r, &mut buf, path).await?;
                Ok(buf)
            }
            InputFormat::Lines => {
                let start = ls.read_from();
                r.set_position(start);
                let mut buf = Vec::new();
                let mut want = (split.offset + split.length - start).min(ls.file_length - start);
                loop {
                    let have = buf.len();
                    buf.resize(want as usize, 0);
                    read_exact(&mut r, &mut buf[have..], path).await?;
                    let eof = start + want >= ls.file_length;
                    if let Some(range) = ls.lines_range(&buf, eof) {
                        buf.truncate(range.end);
                        buf.drain(..range.start);
                        return Ok(buf);
                    }
                    want = (want + READ_MORE).min(ls.file_length - start);
                }
            }
        }
    })
}

async fn read_exact(r: &mut basalt_client::FileReader, mut out: &mut [u8], path: &str) -> Result<(), TaskError> {
    while !out.is_empty() {
        let n = r.read(out).await.map_err(TaskError::fs("reading", path))?;
        if n == 0 {
            break;
        }
        out = &mut out[n..];
    }
    Ok(())
}
