#!/usr/bin/env bash
# Installs what building and testing Basalt needs on Debian 12 and a fresh machine lacks.
#
# Each need is a check of the files that the consumer actually loads (not a neighbouring package's):
#   libclang   bindgen (RocksDB's bindings) dlopens libclang.so / libclang-N.so / libclang.so.N;
#              Debian's image ships libclang-cpp.so.14, which bindgen cannot use.
#
# Environment:
#   BASALT_DEPS_ROOT     the file-system root the checks look under (default /): tests point it at a
#                        fake fresh root
#   BASALT_DEPS_DRY_RUN  1: print the packages that would be installed ("install: PKG") and exit
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

missing=()
have_libclang || missing+=(libclang-dev)

if [ "$dry_run" = 1 ]; then
  for p in "${missing[@]}"; do echo "install: $p"; done
  exit 0
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "basalt: cargo not found; install Rust (https://rustup.rs) and retry" >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "basalt: installing ${missing[*]} (needed to build RocksDB's bindings)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "basalt: missing packages; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
