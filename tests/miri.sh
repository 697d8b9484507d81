#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Miri over the modules that need no system call: the handle table and the boundary's
# argument conversions (src/ffi/handle.rs, hazard.rs, mod.rs), the ring's layout and
# record decoding, framing, control-message parsing, socket and channel address parsing,
# names and errors. Miri interprets them and reports undefined behaviour: out-of-bounds or
# misaligned accesses, data races, use after free, invalid values.
#
#   tests/miri.sh            (needs the nightly toolchain with the miri component:
#                             rustup toolchain install nightly --component miri rust-src)
set -eu
cd "$(dirname "$0")/.."
MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}" exec cargo +nightly miri test --lib -- \
  ffi:: chan::addr frame:: ring::layout sock::addr sock::cmsg error:: \
  name::tests::posix_names name::tests::paths "$@"
