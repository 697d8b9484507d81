#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Model-check the ring's wake-up protocol (model/ring_wake.pml) and a producer's room
# descriptor (model/ring_room_poll.pml; docs/testing.md) with spin: every configuration
# must be free of lost wake-ups, and the broken variants must be caught (proof that the
# models can fail). Needs spin and a C compiler
# (apt-get install -y spin). Usage: model/run.sh [N messages, default 3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${1:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/ring_wake.pml" "$here/ring_room_poll.pml" "$work/"
cd "$work"
fail=0
model=ring_wake.pml
check() { # expect(pass|fail) defines...
  local expect=$1; shift
  spin -a "$@" -DN="$n" "$model" >/dev/null
  gcc -O2 -DSAFETY -DVECTORSZ=2048 -o pan pan.c 2>/dev/null
  local out errors states
  out="$(./pan -m1000000 2>&1)"
  errors="$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")"
  states="$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' <<<"$out")"
  local verdict=ok
  if grep -q "max search depth too small" <<<"$out"; then errors="depth-limit"; fi
  if [ "$expect" = pass ] && [ "$errors" != 0 ]; then verdict=FAIL; fi
  if [ "$expect" = fail ] && [ "$errors" = 0 ]; then verdict=FAIL; fi
  [ "$verdict" = ok ] || fail=1
  printf '%-4s %-14s %-44s expected to %-4s errors %s, %s states\n' "$verdict" "${model%.pml}" "$*" "$expect" "$errors" "$states"
  if [ "$verdict" = FAIL ]; then grep -E "invalid end state|assertion|error" <<<"$out" | head -5; fi
  rm -f pan pan.* ./*.trail
}
for c in 1 2; do
  for light in 1 0; do
    for spin0 in 0 1; do
      check pass -DCONSUMERS=$c -DLIGHT=$light -DSPIN0=$spin0
    done
  done
done
check fail -DCONSUMERS=1 -DLIGHT=1 -DSPIN0=0 -DBROKEN=1
check fail -DCONSUMERS=1 -DLIGHT=1 -DSPIN0=1 -DBROKEN=2
model=ring_room_poll.pml
for cap in 1 2; do
  for close in 0 1; do
    check pass -DCAP=$cap -DCLOSE=$close
  done
done
check fail -DCAP=1 -DCLOSE=0 -DBROKEN=1
check fail -DCAP=1 -DCLOSE=0 -DBROKEN=2
check fail -DCAP=1 -DCLOSE=1 -DBROKEN=3
[ "$fail" = 0 ] && echo "model: all checks as expected" || { echo "model: unexpected result"; exit 1; }
