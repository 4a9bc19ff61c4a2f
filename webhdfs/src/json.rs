//! The JSON bodies of Hadoop's WebHDFS (`FileStatus`, `FileStatuses`, `ContentSummary`,
//! `FileChecksum`, `boolean`, `Path`, `Location`), field names and types as Hadoop writes them (keys
//! sorted, as serde_json writes a map).

use basalt_client::{ContentSummary, FileStatus};
use serde_json::{Value, json};

/// One `FileStatus` object. `path_suffix` is the entry's name in a listing, "" for GETFILESTATUS.
pub fn file_status(s: &FileStatus, path_suffix: &str) -> Value {
    json!({
        "accessTime": s.atime_ms,
        "blockSize": s.block_size,
        "childrenNum": s.children_num,
        "fileId": s.inode_id,
        "group": s.group,
        "length": s.length,
        "modificationTime": s.mtime_ms,
        "owner": s.owner,
        "pathSuffix": path_suffix,
        "permission": permission(s.mode),
        "replication": s.replication,
        "storagePolicy": 0,
        "type": if s.is_dir { "DIRECTORY" } else { "FILE" },
    })
}

/// Hadoop's permission text: octal, no leading zeros (`"755"`, `"1777"`).
pub fn permission(mode: u32) -> String {
    format!("{:o}", mode & 0o7777)
}

/// GETFILESTATUS's body.
pub fn status_body(s: &FileStatus) -> Value {
    json!({ "FileStatus": file_status(s, "") })
}

/// LISTSTATUS's body: each entry named by its last component, or "" when `path` is a file listed as
/// itself.
pub fn statuses_body(path: &str, entries: &[FileStatus]) -> Value {
    let list: Vec<Value> = entries
        .iter()
        .map(|s| {
            let suffix = if s.path == path {
                ""
            } else {
                s.path.rsplit('/').next().unwrap_or("")
            };
            file_status(s, suffix)
        })
        .collect();
    json!({ "FileStatuses": { "FileStatus": list } })
}

/// GETCONTENTSUMMARY's body (no quotas: -1, as Hadoop writes "none").
pub fn content_summary_body(s: &ContentSummary) -> Value {
    json!({
        "ContentSummary": {
            "directoryCount": s.directories,
            "fileCount": s.files,
            "length": s.length,
            "quota": -1,
            "spaceConsumed": s.space_consumed,
            "spaceQuota": -1,
            "typeQuota": {},
        }
    })
}

pub fn boolean_body(b: bool) -> Value {
    json!({ "boolean": b })
}

pub fn path_body(p: &str) -> Value {
    json!({ "Path": p })
}

/// The body of a data op asked with `noredirect=true`: where to send it.
pub fn location_body(url: &str) -> Value {
    json!({ "Location": url })
}

/// GETFILECHECKSUM's body.
pub fn checksum_body(algorithm: &str, bytes: &[u8]) -> Value {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "FileChecksum": {
            "algorithm": algorithm,
            "bytes": hex,
            "length": bytes.len(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(path: &str, is_dir: bool) -> FileStatus {
        FileStatus {
            path: path.into(),
            is_dir,
            length: if is_dir { 0 } else { 24930 },
            replication: if is_dir { 0 } else { 3 },
            block_size: if is_dir { 0 } else { 134217728 },
            mtime_ms: 1320171722771,
            atime_ms: 1320171722771,
            owner: "webuser".into(),
            group: "supergroup".into(),
            mode: if is_dir { 0o1777 } else { 0o644 },
            under_construction: false,
            block_count: 1,
            inode_id: 16387,
            children_num: if is_dir { 2 } else { 0 },
        }
    }

    #[test]
    fn file_status_is_hadoops() {
        let body = status_body(&status("/user/webuser/a.patch", false));
        assert_eq!(
            body.to_string(),
            concat!(
                r#"{"FileStatus":{"accessTime":1320171722771,"blockSize":134217728,"childrenNum":0,"#,
                r#""fileId":16387,"group":"supergroup","length":24930,"modificationTime":1320171722771,"#,
                r#""owner":"webuser","pathSuffix":"","permission":"644","replication":3,"storagePolicy":0,"#,
                r#""type":"FILE"}}"#
            )
        );
        let dir = file_status(&status("/tmp", true), "tmp");
        assert_eq!(dir["type"], "DIRECTORY");
        assert_eq!(dir["permission"], "1777");
        assert_eq!(dir["childrenNum"], 2);
    }

    #[test]
    fn listings_name_entries_by_suffix() {
        let body = statuses_body("/d", &[status("/d/a", false), status("/d/b", true)]);
        let list = body["FileStatuses"]["FileStatus"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (&list[0]["pathSuffix"], &list[1]["pathSuffix"]),
            (&json!("a"), &json!("b"))
        );
        let file = statuses_body("/d/a", &[status("/d/a", false)]);
        assert_eq!(file["FileStatuses"]["FileStatus"][0]["pathSuffix"], "");
    }

    #[test]
    fn summary_checksum_and_small_bodies() {
        let s = ContentSummary {
            length: 24930,
            files: 1,
            directories: 2,
            space_consumed: 74790,
        };
        assert_eq!(
            content_summary_body(&s).to_string(),
            r#"{"ContentSummary":{"directoryCount":2,"fileCount":1,"length":24930,"quota":-1,"spaceConsumed":74790,"spaceQuota":-1,"typeQuota":{}}}"#
        );
        let c = checksum_body("MD5-of-0MD5-of-65536CRC32C", &[0, 0, 1, 0, 0xab]);
        assert_eq!(c["FileChecksum"]["bytes"], "00000100ab");
        assert_eq!(c["FileChecksum"]["length"], 5);
        assert_eq!(boolean_body(true).to_string(), r#"{"boolean":true}"#);
        assert_eq!(path_body("/user/a").to_string(), r#"{"Path":"/user/a"}"#);
        assert_eq!(permission(0o40755), "755");
    }
}
