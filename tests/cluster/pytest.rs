//! Running a pytest suite of real Python clients (`tests/cql`, `tests/webhdfs`, `tests/web`) against
//! a cluster of real processes: the interpreter of the virtualenv `scripts/deps.sh` makes
//! (`make test` and CI run it first; `BASALT_PYENV` names another one), the suite's folder as the
//! working directory, the cluster's addresses in environment variables, and on failure pytest's
//! output with the cluster's logs.

use crate::harness::TestCluster;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The virtualenv's directory; fails saying what to run when it is missing.
pub fn pyenv() -> PathBuf {
    let dir = std::env::var_os("BASALT_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/basalt/pyenv"));
    assert!(
        dir.join("bin/python").exists(),
        "no virtualenv of the Python test clients at {}: run scripts/deps.sh (make test does)",
        dir.display()
    );
    dir
}

/// The virtualenv's `python`.
pub fn python() -> PathBuf {
    pyenv().join("bin/python")
}

/// Runs pytest on `args` (files, flags) in `tests/<suite>` with `env`, and asserts that it passed.
/// `note` is printed after the suite's name (e.g. where artifacts went).
pub async fn run(c: &TestCluster, suite: &str, args: &[String], env: &[(&str, String)], note: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(suite);
    let mut cmd = Command::new(python());
    cmd.args([
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=5",
        "-o",
        "console_output_style=classic",
    ])
    .args(args)
    .current_dir(&dir)
    .env("PYTHONDONTWRITEBYTECODE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run pytest"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "pytest tests/{suite} {args:?} ({:.1?}){note}:\n{stdout}",
        started.elapsed()
    );
    assert!(
        out.status.success(),
        "pytest tests/{suite} {args:?} failed:\n{stdout}\n{}\ncluster logs:\n{}",
        String::from_utf8_lossy(&out.stderr),
        c.logs()
    );
}
