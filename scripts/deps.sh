#!/usr/bin/env bash
# Installs what building and testing Basalt needs on Debian 12 and a fresh machine lacks.
#
# Each need is a check of the files that the consumer actually loads (not a neighbouring package's):
#   libclang   bindgen (RocksDB's bindings) dlopens libclang.so / libclang-N.so / libclang.so.N;
#              Debian's image ships libclang-cpp.so.14, which bindgen cannot use.
#   python3-venv the CQL client tests run the real cassandra-driver and cqlsh from a virtualenv made
#              by Debian's python3 (/usr/bin/python3), whose `venv` needs ensurepip, which Debian
#              ships apart (python3.N-venv); python3 itself when /usr/bin/python3 is missing.
#   chromium   the web UI tests drive Debian's headless Chromium (/usr/bin/chromium) through
#   chromium-driver  its WebDriver (/usr/bin/chromedriver) with selenium; two packages, each checked.
#
# Then the virtualenv: BASALT_PYENV (default ~/.cache/basalt/pyenv) with tests/cql/requirements.txt
# from PyPI, made again when the requirements change (a copy of them is kept inside it).
#
# Environment:
#   BASALT_DEPS_ROOT     the file-system root the checks look under (default /): tests point it at a
#                        fake fresh root
#   BASALT_DEPS_DRY_RUN  1: print the packages that would be installed ("install: PKG") and whether
#                        the virtualenv would be made ("venv: PATH"), and exit
#   BASALT_PYENV         where the virtualenv of the CQL client tests lives
set -euo pipefail
root="${BASALT_DEPS_ROOT:-}"
dry_run="${BASALT_DEPS_DRY_RUN:-0}"

# The library names bindgen's clang-sys searches for on Linux, in the directories it searches.
have_libclang() {
  local dir f base
  for dir in "$root"/usr/lib/llvm-*/lib "$root"/usr/lib/x86_64-linux-gnu "$root"/usr/lib/aarch64-linux-gnu \
    "$root"/usr/lib "$root"/usr/local/lib; do
    for f in "$dir"/libclang*.so*; do
      [ -e "$f" ] || continue
      base="${f##*/}"
      case "$base" in
        libclang.so | libclang.so.* | libclang-[0-9]*.so | libclang-[0-9]*.so.*) return 0 ;;
      esac
    done
  done
  return 1
}

# Debian's python3 and the ensurepip module of its python3.N-venv package.
have_python() { [ -x "$root/usr/bin/python3" ] || [ -L "$root/usr/bin/python3" ]; }
have_ensurepip() {
  local f
  for f in "$root"/usr/lib/python3.*/ensurepip/__init__.py; do
    [ -e "$f" ] && return 0
  done
  return 1
}

# Debian's Chromium and its WebDriver (a file or the alternatives symlink).
have_bin() { [ -x "$root/usr/bin/$1" ] || [ -L "$root/usr/bin/$1" ]; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$here/tests/cql/requirements.txt"
pyenv="${BASALT_PYENV:-$HOME/.cache/basalt/pyenv}"
venv_current() { [ -x "$pyenv/bin/python" ] && cmp -s "$requirements" "$pyenv/basalt-requirements.txt"; }

missing=()
have_libclang || missing+=(libclang-dev)
have_python || missing+=(python3)
have_ensurepip || missing+=(python3-venv)
have_bin chromium || missing+=(chromium)
have_bin chromedriver || missing+=(chromium-driver)

if [ "$dry_run" = 1 ]; then
  for p in "${missing[@]}"; do echo "install: $p"; done
  venv_current || echo "venv: $pyenv"
  exit 0
fi

make_venv() {
  venv_current && return 0
  echo "basalt: making the test clients' virtualenv in $pyenv (cassandra-driver, cqlsh, selenium from PyPI)" >&2
  rm -rf "$pyenv"
  /usr/bin/python3 -m venv "$pyenv"
  CASS_DRIVER_NO_CYTHON=1 CASS_DRIVER_NO_EXTENSIONS=1 \
    "$pyenv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$pyenv/basalt-requirements.txt"
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "basalt: cargo not found; install Rust (https://rustup.rs) and retry" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "basalt: installing ${missing[*]} (RocksDB's bindings; the CQL client and web UI tests)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "basalt: missing packages; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
make_venv
