#!/usr/bin/env bash
# Build the fuzz targets with coverage instrumentation (stable Rust) and run them.
#   fuzz/run.sh                 list the targets
#   fuzz/run.sh TARGET SECONDS  fuzz one target (or "all", SECONDS each), growing its corpus
#   fuzz/run.sh replay [TARGET] run every corpus input once (a regression check)
#   fuzz/run.sh build           only build
# Extra libFuzzer options go in IPCX_FUZZ_ARGS (e.g. "-jobs=2 -workers=2").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
targets=(frame ring names addr msgq cmsg)

# Coverage instrumentation as cargo-fuzz does it, with stable flags only (no sanitizer:
# -Zsanitizer needs nightly). Overflow checks and debug assertions are on in the fuzz
# profile (fuzz/Cargo.toml), so arithmetic on hostile lengths panics instead of wrapping.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cforce-frame-pointers=yes"
export CARGO_TARGET_DIR="${IPCX_FUZZ_TARGET_DIR:-$here/target}"
# An explicit --target keeps RUSTFLAGS off build scripts (they must not be instrumented).
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="$CARGO_TARGET_DIR/$triple/release"

build() {
  cargo build --locked --release --target "$triple" --manifest-path "$here/Cargo.toml" --bins >&2
}

case "${1:-}" in
  "") echo "targets: ${targets[*]}"; echo "usage: $0 TARGET|all SECONDS | replay [TARGET] | build"; exit 0;;
  build) build; exit 0;;
esac
