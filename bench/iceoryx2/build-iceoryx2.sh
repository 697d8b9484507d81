#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Builds bench/iceoryx2 for bench_ring: build-iceoryx2.sh CARGO MANIFEST TARGET_DIR LOG
# On failure: no program is left, the log says why, and this says so loudly without
# stopping the build of the other benchmarks (bench_ring then fails, naming the log).
cargo=$1 manifest=$2 dir=$3 log=$4
mkdir -p "$dir"
if "$cargo" build --release --locked --manifest-path "$manifest" --target-dir "$dir" >"$log" 2>&1; then
    exit 0
fi
rm -f "$dir/release/bench_iceoryx2"
echo "************************************************************************" >&2
echo "bench/iceoryx2: cargo build FAILED: iceoryx2 will NOT be measured; log: $log" >&2
tail -n 20 "$log" >&2
echo "************************************************************************" >&2
exit 0
