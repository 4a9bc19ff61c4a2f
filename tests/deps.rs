//! `scripts/deps.sh` decides what a fresh machine must install by looking for the files the build
//! and the tests load. Run against fake roots (`BASALT_DEPS_ROOT`, dry run), it must not mistake a
//! neighbouring library for the one bindgen needs (Debian's image ships libclang-cpp, which bindgen
//! cannot load), and must see that Debian's python3 without its ensurepip package cannot make the
//! virtualenv of the CQL client tests, and must install Chromium and its WebDriver (two packages) for
//! the web UI tests.

use std::path::Path;
use std::process::Command;

/// What deps.sh would do on a machine whose file system is `root`, with the CQL tests' virtualenv
/// at `pyenv`: the packages it would install, and whether it would make the virtualenv.
fn would_do(root: &Path, pyenv: &Path) -> (Vec<String>, bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deps.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("BASALT_DEPS_ROOT", root)
        .env("BASALT_DEPS_DRY_RUN", "1")
        .env("BASALT_PYENV", pyenv)
        .output()
        .expect("run deps.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = String::from_utf8(out.stdout).unwrap();
    let installs = out
        .lines()
        .filter_map(|l| l.strip_prefix("install: ").map(str::to_string))
        .collect();
    let venv = out.lines().any(|l| l == format!("venv: {}", pyenv.display()));
    (installs, venv)
}

fn would_install(root: &Path) -> Vec<String> {
    let pyenv = tempfile::tempdir().unwrap();
    would_do(root, pyenv.path()).0
}

/// A Debian 12 python with its venv package.
const PYTHON: [&str; 2] = ["usr/bin/python3", "usr/lib/python3.11/ensurepip/__init__.py"];
/// Debian's chromium and chromium-driver packages.
const CHROMIUM: [&str; 2] = ["usr/bin/chromium", "usr/bin/chromedriver"];

fn root_with(files: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for f in files {
        let path = root.path().join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"").unwrap();
        if f.contains("/bin/") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    root
}

#[test]
fn a_fresh_debian_image_gets_libclang_and_python_venv() {
    // What the image ships: the C++ interface only, and python3 without ensurepip.
    let fresh = root_with(&[
        "usr/lib/llvm-14/lib/libclang-cpp.so.14",
        "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14",
        "usr/bin/python3",
        "usr/lib/python3.11/os.py",
    ]);
    assert_eq!(
        would_install(fresh.path()),
        ["libclang-dev", "python3-venv", "chromium", "chromium-driver"]
    );
    assert_eq!(
        would_install(root_with(&[]).path()),
        ["libclang-dev", "python3", "python3-venv", "chromium", "chromium-driver"]
    );
}

#[test]
fn chromium_and_its_driver_are_checked_apart() {
    let base = ["usr/lib/libclang.so.1", PYTHON[0], PYTHON[1]];
    let only_browser = root_with(&[base[0], base[1], base[2], CHROMIUM[0]]);
    assert_eq!(would_install(only_browser.path()), ["chromium-driver"]);
    let only_driver = root_with(&[base[0], base[1], base[2], CHROMIUM[1]]);
    assert_eq!(would_install(only_driver.path()), ["chromium"]);
    // A browser elsewhere (a snap, /usr/local) is not Debian's: the tests use /usr/bin's.
    let elsewhere = root_with(&[base[0], base[1], base[2], "usr/local/bin/chromium", CHROMIUM[1]]);
    assert_eq!(would_install(elsewhere.path()), ["chromium"]);
    let both = root_with(&[base[0], base[1], base[2], CHROMIUM[0], CHROMIUM[1]]);
    assert!(would_install(both.path()).is_empty());
}

#[test]
fn an_installed_libclang_is_found_in_each_form_bindgen_loads() {
    for lib in [
        "usr/lib/llvm-14/lib/libclang.so",
        "usr/lib/llvm-14/lib/libclang-14.so.1",
        "usr/lib/x86_64-linux-gnu/libclang-14.so.14.0.6",
        "usr/lib/x86_64-linux-gnu/libclang.so.1",
    ] {
        let root = root_with(&[
            "usr/lib/llvm-14/lib/libclang-cpp.so.14",
            lib,
            PYTHON[0],
            PYTHON[1],
            CHROMIUM[0],
            CHROMIUM[1],
        ]);
        assert!(would_install(root.path()).is_empty(), "{lib} not recognised");
    }
}

#[test]
fn the_virtualenv_is_made_when_absent_or_its_requirements_changed() {
    let root = root_with(&["usr/lib/libclang.so.1", PYTHON[0], PYTHON[1], CHROMIUM[0], CHROMIUM[1]]);
    let pyenv = tempfile::tempdir().unwrap();
    assert_eq!(would_do(root.path(), pyenv.path()), (vec![], true), "absent");
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cql/requirements.txt");
    let python = root_with(&["bin/python"]);
    std::fs::create_dir_all(pyenv.path().join("bin")).unwrap();
    std::fs::copy(python.path().join("bin/python"), pyenv.path().join("bin/python")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(pyenv.path().join("bin/python"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        pyenv.path().join("basalt-requirements.txt"),
        "cassandra-driver==3.0.0\n",
    )
    .unwrap();
    assert_eq!(would_do(root.path(), pyenv.path()), (vec![], true), "outdated");
    std::fs::copy(&requirements, pyenv.path().join("basalt-requirements.txt")).unwrap();
    assert_eq!(would_do(root.path(), pyenv.path()), (vec![], false), "current");
}
