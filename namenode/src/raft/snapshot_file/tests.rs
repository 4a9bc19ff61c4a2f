use super::*;
use crate::state::Request;
use crate::state::namespace::{FsCommand, Perm};
use std::io::Cursor;

fn sample() -> SmState {
    let mut s = SmState::default();
    for i in 0..50 {
        let path = basalt_common::BPath::parse(&format!("/d/f{i}")).unwrap();
        let cmd = FsCommand::Mkdirs {
            path,
            parents: true,
            perm: Perm::default_dir(),
            mtime_ms: 1,
        };
        s.meta.apply(&Request::new("c", i + 1, cmd));
    }
    s.snapshot_id = "1-50-7".into();
    s.last_applied = log_id(50);
    s
}

fn log_id(index: u64) -> Option<LogId> {
    Some(openraft::LogId::new(openraft::CommittedLeaderId::new(1, 1), index))
}

/// The image of `state`, in memory (tests only).
fn image(state: &SmState) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let len = write_image(&mut out, state).unwrap();
    let out = out.into_inner();
    assert_eq!(len, out.len() as u64);
    out
}

fn read(bytes: &[u8]) -> Result<(SmState, bool), SnapshotError> {
    read_image(Path::new("s"), bytes)
}

#[test]
fn the_streamed_image_has_the_format_3_layout() {
    let state = sample();
    let bytes = image(&state);
    assert_eq!(&bytes[..8], SNAPSHOT_MAGIC);
    let crc = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    assert_eq!(crc, crc32c::crc32c(&bytes[12..]));
    let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let header: Header = codec::decode(&bytes[PREFIX..PREFIX + header_len]).unwrap();
    assert_eq!(header.snapshot_id, "1-50-7");
    let body: MetaState = codec::decode(&bytes[PREFIX + header_len..]).unwrap();
    assert_eq!(body.namespace.counts(), state.namespace.counts());
    // Written over a longer file's start, the image is the same bytes.
    let mut over = Cursor::new(vec![0xee; bytes.len() * 2]);
    write_image(&mut over, &state).unwrap();
    assert_eq!(&over.get_ref()[..bytes.len()], &bytes[..]);
}

#[test]
fn an_image_reads_back_and_every_corruption_is_caught() {
    let state = sample();
    let bytes = image(&state);
    let (back, v3) = read(&bytes).unwrap();
    assert!(v3);
    assert_eq!(meta_of(&back), meta_of(&state));
    assert_eq!(back.namespace.counts(), state.namespace.counts());
    assert_eq!(back.dedup_len(), 50);
    for at in [9, 13, 20, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        assert!(
            matches!(read(&bad), Err(SnapshotError::Corrupt { .. })),
            "flip at {at} not detected"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(read(&long).is_err(), "trailing bytes");
    assert!(matches!(read(b"short"), Err(SnapshotError::Corrupt { .. })));
    assert!(matches!(
        read(&bytes[..bytes.len() - 3]),
        Err(SnapshotError::Corrupt { .. })
    ));
    // A header length past the end is an error, not a panic.
    let mut far = bytes.clone();
    far[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let crc = crc32c::crc32c(&far[12..]);
    far[8..12].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(read(&far), Err(SnapshotError::Corrupt { .. })));
}

#[test]
fn a_published_snapshot_loads_and_opens_with_its_meta() {
    let dir = tempfile::tempdir().unwrap();
    let on_disk = Mutex::new(None);
    assert!(open_current(dir.path(), &on_disk).unwrap().is_none());
    assert!(load(&dir.path().join(SNAPSHOT_FILE)).unwrap().is_none());
    let state = sample();
    let mut tmp = TempSnapshot::create(dir.path()).unwrap();
    write_image(&mut tmp.file, &state).unwrap();
    let (mut file, published) = publish(dir.path(), &on_disk, &meta_of(&state), tmp).unwrap();
    assert!(published);
    let mut read_back = Vec::new();
    file.read_to_end(&mut read_back).unwrap();
    assert_eq!(read_back, image(&state), "the returned file is read from its start");
    let loaded = load(&dir.path().join(SNAPSHOT_FILE)).unwrap().unwrap();
    assert_eq!(meta_of(&loaded), meta_of(&state));
    let (meta, _file) = open_current(dir.path(), &on_disk).unwrap().unwrap();
    assert_eq!(meta, meta_of(&state));
    assert_eq!(names(dir.path()), vec![SNAPSHOT_FILE.to_string()]);
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn an_older_snapshot_is_not_published_and_temp_files_do_not_outlive_their_use() {
    let dir = tempfile::tempdir().unwrap();
    let on_disk = Mutex::new(None);
    let publish_at = |index, content: &[u8]| {
        let mut tmp = TempSnapshot::create(dir.path()).unwrap();
        tmp.file.write_all(content).unwrap();
        let meta = Meta {
            last_log_id: log_id(index),
            ..Meta::default()
        };
        let (mut file, published) = publish(dir.path(), &on_disk, &meta, tmp).unwrap();
        let mut back = Vec::new();
        file.read_to_end(&mut back).unwrap();
        assert_eq!(back, content, "the image is readable published or not");
        published
    };
    assert!(publish_at(5, b"five"));
    assert!(!publish_at(3, b"three"));
    assert_eq!(std::fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap(), b"five");
    assert!(publish_at(7, b"seven"));
    assert_eq!(names(dir.path()), vec![SNAPSHOT_FILE.to_string()]);

    // A temp file dropped unpublished (an abandoned transfer) is removed.
    let tmp = TempSnapshot::create(dir.path()).unwrap();
    let other = File::open(dir.path().join(SNAPSHOT_FILE)).unwrap();
    assert!(tmp.is(&tmp.file.try_clone().unwrap()) && !tmp.is(&other));
    assert_eq!(names(dir.path()).len(), 2);
    drop(tmp);
    assert_eq!(names(dir.path()), vec![SNAPSHOT_FILE.to_string()]);

    // Those a crash left behind are removed at start.
    for stale in [".snapshot.bin.tmp.0123456789abcdef", "snapshot.bin.tmp"] {
        std::fs::write(dir.path().join(stale), b"torn").unwrap();
    }
    remove_stale_temps(dir.path());
    assert_eq!(names(dir.path()), vec![SNAPSHOT_FILE.to_string()]);
}
