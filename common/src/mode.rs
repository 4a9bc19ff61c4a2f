//! Permission bits of an inode as HDFS shows them (`hadoop fs -ls`, the NameNode UI, and the
//! `Permission denied: ... inode="/p":owner:group:drwxr-xr-x` message).

/// The sticky bit of a directory: only an entry's owner, the directory's owner or the superuser may
/// delete or rename the entry.
pub const STICKY: u32 = 0o1000;

/// `drwxr-xr-x`: the kind, then `rwx` for owner, group and others; the sticky bit is `t` in the last
/// place, `T` when others may not search. setuid and setgid are not shown (HDFS gives them no
/// meaning).
pub fn mode_string(is_dir: bool, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(if is_dir { 'd' } else { '-' });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(match (shift, mode & STICKY != 0, bits & 1 != 0) {
            (0, true, true) => 't',
            (0, true, false) => 'T',
            (_, _, true) => 'x',
            _ => '-',
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::mode_string;

    #[test]
    fn modes_read_as_hadoop_prints_them() {
        assert_eq!(mode_string(true, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(false, 0o640), "-rw-r-----");
        assert_eq!(mode_string(true, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(true, 0o1770), "drwxrwx--T");
    }
}
