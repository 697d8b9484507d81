#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Build the fuzz targets with coverage instrumentation (stable Rust) and run them.
#   fuzz/run.sh                 list the targets
#   fuzz/run.sh TARGET SECONDS  fuzz one target (or "all", SECONDS each), growing its corpus
#   fuzz/run.sh replay [TARGET] run every corpus input once (a regression check)
#   fuzz/run.sh build           only build
# Extra libFuzzer options go in IPCX_FUZZ_ARGS (e.g. "-jobs=2 -workers=2").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
targets=(frame ring names addr msgq cmsg sp zmtp)

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

# The msgq target works on a real System V queue; it records the queue's id here so that
# the queue is removed even when the fuzzer stops on a finding (abort).
export IPCX_FUZZ_TRACK="${TMPDIR:-/tmp}/ipcx-fuzz-track.$$"
cleanup() {
  if [ -f "$IPCX_FUZZ_TRACK" ]; then
    while read -r id; do ipcrm -q "$id" 2>/dev/null || true; done <"$IPCX_FUZZ_TRACK"
    rm -f "$IPCX_FUZZ_TRACK"
  fi
}
trap cleanup EXIT

# fuzz TARGET SECONDS: new inputs go to fuzz/work/TARGET (not committed), seeded by the
# committed corpus; findings go to fuzz/artifacts/.
fuzz() {
  local t=$1 secs=$2
  mkdir -p "$here/work/$t" "$here/artifacts" "$here/corpus/$t"
  echo "== fuzz $t for ${secs}s"
  # shellcheck disable=SC2086
  "$bin/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
    -artifact_prefix="$here/artifacts/$t-" ${IPCX_FUZZ_ARGS:-} "$here/work/$t" "$here/corpus/$t"
}

# replay TARGET: run every committed input once (regression inputs included).
replay() {
  local t=$1 log rc=0
  local files=("$here/corpus/$t"/*)
  [ -e "${files[0]}" ] || { echo "== replay $t: no corpus"; return 1; }
  echo "== replay $t: ${#files[@]} inputs"
  log="$(mktemp)"
  "$bin/$t" -timeout=10 -rss_limit_mb=1024 "${files[@]}" >"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then grep -avE '^(Running|Executed|INFO|WARNING)' "$log" | tail -40; fi
  rm -f "$log"
  return "$rc"
}

case "${1:-}" in
  ""|-h|--help)
    echo "targets: ${targets[*]}"
    echo "usage: $0 TARGET|all SECONDS   fuzz (SECONDS per target)"
    echo "       $0 replay [TARGET]      run the committed corpus once"
    echo "       $0 build                build only"
    exit 0;;
  build) build; exit 0;;
  replay)
    build
    if [ -n "${2:-}" ]; then replay "$2"; else for t in "${targets[@]}"; do replay "$t"; done; fi
    echo "replay: all inputs passed";;
  *)
    secs="${2:?seconds}"
    build
    if [ "$1" = all ]; then
      for t in "${targets[@]}"; do fuzz "$t" "$secs"; done
    else
      [[ " ${targets[*]} " == *" $1 "* ]] || { echo "unknown target $1 (${targets[*]})"; exit 2; }
      fuzz "$1" "$secs"
    fi;;
esac
