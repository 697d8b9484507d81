#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# musl: build libipcx.so and libipcx.a for x86_64-unknown-linux-musl and run the C tests
# against them, built with musl-gcc (Debian: musl-tools; musl 1.2.3 in Debian 12). The
# shared library is linked against the system's musl (.cargo/config.toml); c_pipe_static is
# linked fully static (-static), with the unwinder Rust ships for the target.
#
#   tests/portability/musl.sh          (needs: musl-tools, rustup target x86_64-unknown-linux-musl)
set -eu
cd "$(dirname "$0")/../.."
target=x86_64-unknown-linux-musl
command -v musl-gcc >/dev/null || { echo "musl: musl-gcc not found (apt-get install musl-tools)"; exit 1; }
rustup target list --installed | grep -qx $target || rustup target add $target

echo "== cargo build --release --target $target"
cargo build --locked --release --target $target
lib=target/$target/release

echo "== the shared library needs only musl's libc.so and exports only ipcx_*"
readelf -d $lib/libipcx.so | grep -E 'NEEDED|SONAME'
needed=$(readelf -d $lib/libipcx.so | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ "$needed" = libc.so ] || { echo "libipcx.so needs $needed, not only libc.so"; exit 1; }
tests/check_exports.sh $lib/libipcx.so include/ipcx.h

unwind="$(rustc --print sysroot)/lib/rustlib/$target/lib/self-contained/libunwind.a"
IPCX_STATIC_LIBS="-static $unwind" \
  tests/portability/c-tests.sh build/portability/musl $lib musl-gcc

echo "== c_pipe_static is fully static"
if readelf -l build/portability/musl/c_pipe_static | grep -q INTERP; then
  echo "c_pipe_static has a program interpreter"; exit 1
fi
# The fallbacks of the clock waits (musl has neither sem_clockwait nor
# pthread_mutex_clocklock): the semaphore and lock tests above ran through them.
echo "musl: all green"
