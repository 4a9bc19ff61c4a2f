//! `scripts/deps.sh` decides what a fresh machine must install by looking for the files the build
//! loads. Run against fake roots (`BASALT_DEPS_ROOT`, dry run), it must not mistake a neighbouring
//! library for the one bindgen needs: Debian's image ships libclang-cpp, which bindgen cannot load.

use std::path::Path;
use std::process::Command;

/// What deps.sh would install on a machine whose file system is `root`.
fn would_install(root: &Path) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deps.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("BASALT_DEPS_ROOT", root)
        .env("BASALT_DEPS_DRY_RUN", "1")
        .output()
        .expect("run deps.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("install: ").map(str::to_string))
        .collect()
}

fn root_with(files: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for f in files {
        let path = root.path().join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }
    root
}

#[test]
fn a_fresh_debian_image_gets_libclang() {
    // What the image ships: the C++ interface only.
    let fresh = root_with(&[
        "usr/lib/llvm-14/lib/libclang-cpp.so.14",
        "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14",
    ]);
    assert_eq!(would_install(fresh.path()), ["libclang-dev"]);
    assert_eq!(would_install(root_with(&[]).path()), ["libclang-dev"]);
}

#[test]
fn an_installed_libclang_is_found_in_each_form_bindgen_loads() {
    for lib in [
        "usr/lib/llvm-14/lib/libclang.so",
        "usr/lib/llvm-14/lib/libclang-14.so.1",
        "usr/lib/x86_64-linux-gnu/libclang-14.so.14.0.6",
        "usr/lib/x86_64-linux-gnu/libclang.so.1",
    ] {
        let root = root_with(&["usr/lib/llvm-14/lib/libclang-cpp.so.14", lib]);
        assert!(would_install(root.path()).is_empty(), "{lib} not recognised");
    }
}
