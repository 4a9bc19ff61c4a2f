//! Why a task attempt failed: reported to the scheduler as a one-line error (plus the command's stderr
//! tail for streaming), never fatal to the executor.

use basalt_client::ClientError;
use basalt_jobs::Partition;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{what} {path}: {source}")]
    Fs {
        what: &'static str,
        path: String,
        source: ClientError,
    },
    #[error("fetching map output {map} from {addr}: {message}")]
    FetchFailed {
        map: Partition,
        addr: String,
        message: String,
    },
    #[error("writing map output to the shuffle service of {addr}: {message}")]
    ShuffleWrite { addr: String, message: String },
    #[error("{role} command `{command}` {status}")]
    CommandFailed {
        role: &'static str,
        command: String,
        status: String,
        stderr_tail: Vec<String>,
    },
    #[error("starting the {role} command `{command}`: {source}")]
    Spawn {
        role: &'static str,
        command: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    LocalIo { path: PathBuf, source: std::io::Error },
    #[error("cancelled")]
    Cancelled,
    #[error("value {value:?} of key {key:?} is not a count")]
    NotACount { key: String, value: String },
    #[error("commit: neither {temp} nor {dest} exists")]
    PartMissing { temp: String, dest: String },
    #[error("a {task} task was sent a descriptor it cannot run: {why}")]
    BadDescriptor { task: &'static str, why: &'static str },
}

impl TaskError {
    pub fn fs<'a>(what: &'static str, path: &'a str) -> impl FnOnce(ClientError) -> TaskError + 'a {
        move |source| TaskError::Fs {
            what,
            path: path.to_string(),
            source,
        }
    }

    pub fn local(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> TaskError + '_ {
        move |source| TaskError::LocalIo {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The stderr lines to show with the error.
    pub fn stderr_tail(&self) -> Vec<String> {
        match self {
            TaskError::CommandFailed { stderr_tail, .. } => stderr_tail.clone(),
            _ => Vec::new(),
        }
    }

    /// The map output that must be recomputed, for a fetch failure.
    pub fn fetch_failed(&self) -> Option<Partition> {
        match self {
            TaskError::FetchFailed { map, .. } => Some(*map),
            _ => None,
        }
    }
}
