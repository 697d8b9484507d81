#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# 32-bit: build libipcx.so and libipcx.a for i686-unknown-linux-gnu, run the library's unit
# tests (and Miri over the handle table, where installed) and the C tests natively (an x86_64 kernel runs 32-bit programs). The C tests are
# built with Debian's i686 cross compiler (gcc-i686-linux-gnu; gcc -m32 from gcc-multilib
# works too, but conflicts with the aarch64 cross compiler) and run on the 32-bit C library
# of libc6-i386 and lib32gcc-s1.
#
#   tests/portability/i686.sh    (needs: gcc-i686-linux-gnu libc6-i386 lib32gcc-s1,
#                                 rustup target i686-unknown-linux-gnu)
set -eu
cd "$(dirname "$0")/../.."
target=i686-unknown-linux-gnu
if command -v i686-linux-gnu-gcc >/dev/null; then
  cc=i686-linux-gnu-gcc
else
  cc="gcc -m32"
fi
export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_LINKER="${cc%% *}"
[ "$cc" = "gcc -m32" ] && export CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-m32"
[ -e /lib/ld-linux.so.2 ] || { echo "i686: /lib/ld-linux.so.2 missing (apt-get install libc6-i386 lib32gcc-s1)"; exit 1; }
rustup target list --installed | grep -qx $target || rustup target add $target

echo "== cargo test --lib --target $target (the unit tests, 32-bit, debug assertions on)"
cargo test --locked --lib --target $target -- --test-threads=2

# The handle table packs index and generation differently on 32-bit targets: Miri checks it
# there too, where the nightly toolchain with miri is installed (tests/miri.sh does the host).
if rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
  echo "== cargo +nightly miri test --target $target (the handle table)"
  MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}" \
    cargo +nightly miri test --locked --lib --target $target -- ffi::handle
else
  echo "== miri: skipped (no nightly toolchain with miri)"
fi

echo "== cargo build --release --target $target"
cargo build --locked --release --target $target
lib=target/$target/release
readelf -h $lib/libipcx.so | grep -E 'Class|Machine'
tests/check_exports.sh $lib/libipcx.so include/ipcx.h

# shellcheck disable=SC2086
tests/portability/c-tests.sh build/portability/i686 $lib $cc
echo "i686: all green"
