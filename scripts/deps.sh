#!/usr/bin/env bash
# Installs what building Basalt needs on Debian 12 and is not on a fresh machine: libclang (bindgen,
# for RocksDB) and a Rust toolchain check.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "basalt: cargo not found; install Rust (https://rustup.rs) and retry" >&2
  exit 1
fi
have_libclang() { ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; }
if ! have_libclang; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "basalt: installing libclang-dev (needed to build RocksDB's bindings)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null
  else
    echo "basalt: libclang is missing; run as root: apt-get install -y libclang-dev" >&2
    exit 1
  fi
fi
