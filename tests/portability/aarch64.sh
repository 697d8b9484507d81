#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# aarch64: cross-build libipcx.so and libipcx.a for aarch64-unknown-linux-gnu with Debian's
# cross compiler as the linker, check what was built, and run the C tests under qemu-user
# (qemu-user-static) with the cross C library (/usr/aarch64-linux-gnu).
#
#   tests/portability/aarch64.sh        (needs: gcc-aarch64-linux-gnu, qemu-user-static,
#                                        rustup target aarch64-unknown-linux-gnu)
#   IPCX_AARCH64_RUN=0 tests/portability/aarch64.sh    build and check only
set -eu
cd "$(dirname "$0")/../.."
target=aarch64-unknown-linux-gnu
cc=aarch64-linux-gnu-gcc
command -v $cc >/dev/null || { echo "aarch64: $cc not found (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$cc
rustup target list --installed | grep -qx $target || rustup target add $target

echo "== cargo build --release --target $target"
cargo build --locked --release --target $target
lib=target/$target/release
readelf -h $lib/libipcx.so | grep -E 'Class|Machine'
readelf -d $lib/libipcx.so | grep -E 'NEEDED|SONAME'
tests/check_exports.sh $lib/libipcx.so include/ipcx.h

if [ "${IPCX_AARCH64_RUN:-1}" = 0 ]; then echo "aarch64: built (not run)"; exit 0; fi
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
[ -n "$qemu" ] || { echo "aarch64: qemu-aarch64 not found (apt-get install qemu-user-static)"; exit 1; }
# QEMU_LD_PREFIX tells qemu where the aarch64 C library is.
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
# qemu-user (7.2, Debian 12) does not emulate everything the other tests use: mremap of a
# shared page with old size 0 (placed semaphores, mutexes, condition variables: ENOMEM),
# mq_timedsend/mq_timedreceive and msgsnd/msgrcv (EFAULT), and a test's exec of a peer
# program needs binfmt_misc. These run everywhere qemu is faithful; IPCX_C_TESTS=all runs
# every test (on aarch64 hardware, or a qemu that emulates them).
default="c_common c_handle c_handle_count c_pipe c_pipe_static c_sock_netns c_security"
tests=${IPCX_C_TESTS:-$default}
[ "$tests" = all ] && tests=
IPCX_C_TESTS=$tests IPCX_TIMEOUT_SCALE=${IPCX_TIMEOUT_SCALE:-5} IPCX_TEST_SCALE=${IPCX_TEST_SCALE:-5} \
  tests/portability/c-tests.sh build/portability/aarch64 $lib $cc "$qemu"
echo "aarch64: all green"
