# Basalt: the two commands of the README.
#   make demo   build, start a local cluster (basalt local), put/get/ls/du files, show status, stop
#   make test   build and run the whole test suite (unit, property, in-process and multi-process cluster tests)
# Both install what a fresh Debian 12 machine lacks (libclang-dev, for RocksDB's bindings).

export CARGO_TARGET_DIR ?= $(HOME)/.cache/basalt/target
CARGO ?= cargo

.PHONY: deps build demo test bench lint

deps:
	@scripts/deps.sh

build: deps
	$(CARGO) build --locked

demo: deps
	@test -x $(CARGO_TARGET_DIR)/debug/basalt || echo "basalt: first build: about 10 minutes on 2 cores (RocksDB's C++ is most of it); later builds take seconds"
	$(CARGO) build --locked
	BASALT_BIN=$(CARGO_TARGET_DIR)/debug/basalt scripts/demo.sh

test: deps
	@test -d $(CARGO_TARGET_DIR)/debug/deps || echo "basalt: first build: about 10 minutes on 2 cores (RocksDB's C++ is most of it); later builds take seconds"
	$(CARGO) test --workspace --locked

bench: deps
	$(CARGO) build --locked --release
	BASALT_BIN=$(CARGO_TARGET_DIR)/release/basalt scripts/bench.sh

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
