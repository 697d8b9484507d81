#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Old glibc: build libipcx.so and libipcx.a that load on glibc 2.28 (RHEL 8, Debian 10,
# Ubuntu 20.04 has 2.31) with cargo-zigbuild, which links against the symbol versions of
# the glibc named in the target; check that no symbol needs a newer GLIBC_ version
# (objdump -T); run the C tests against that library on this machine, once as is and once
# with IPCX_FORCE_FALLBACKS=1, which makes the library use what it uses where glibc lacks
# sem_clockwait and pthread_mutex_clocklock (before 2.30), and the signal-mask SIGPIPE
# guard of kernels without RWF_NOSIGNAL.
#
#   tests/portability/oldglibc.sh      (needs: python3 with venv and pip; installs the pinned
#                                       ziglang and cargo-zigbuild from PyPI into
#                                       build/portability/zig)
set -eu
cd "$(dirname "$0")/../.."
glibc=${IPCX_GLIBC:-2.28}
target=x86_64-unknown-linux-gnu
venv=build/portability/zig
if [ ! -x $venv/bin/cargo-zigbuild ] || [ ! -x $venv/bin/python-zig ]; then
  echo "== installing ziglang and cargo-zigbuild into $venv"
  python3 -m venv $venv
  $venv/bin/pip install --quiet --disable-pip-version-check ziglang==0.15.2 cargo-zigbuild==0.24.1
fi
PATH=$(pwd)/$venv/bin:$PATH
export PATH
# A target directory of its own: the objects are linked against another glibc.
export CARGO_TARGET_DIR=target/glibc-$glibc

echo "== cargo zigbuild --release --target $target.$glibc"
cargo zigbuild --locked --release --target $target.$glibc
lib=$CARGO_TARGET_DIR/$target/release

echo "== the highest GLIBC_ symbol version libipcx.so needs"
objdump -T $lib/libipcx.so | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sort -uV | tail -3
highest=$(objdump -T $lib/libipcx.so | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sort -uV | tail -1)
if [ "$(printf '%s\n%s\n' "$highest" "GLIBC_$glibc" | sort -V | tail -1)" != "GLIBC_$glibc" ]; then
  echo "libipcx.so needs $highest, above GLIBC_$glibc:"
  objdump -T $lib/libipcx.so | grep -E 'GLIBC_' | sort -k5 -V | tail -10
  exit 1
fi
if objdump -T $lib/libipcx.so | grep -qE 'sem_clockwait|pthread_mutex_clocklock'; then
  echo "libipcx.so links sem_clockwait or pthread_mutex_clocklock (glibc 2.30): they must be looked up"
  exit 1
fi
readelf -d $lib/libipcx.so | grep -E 'NEEDED|SONAME'
tests/check_exports.sh $lib/libipcx.so include/ipcx.h

tests/portability/c-tests.sh build/portability/glibc-$glibc $lib "${CC:-cc}"
echo "== the same with the fallbacks of glibc before 2.30 (IPCX_FORCE_FALLBACKS=1)"
IPCX_FORCE_FALLBACKS=1 IPCX_C_BUILD=0 IPCX_C_TESTS="c_sem c_lock c_faults c_pipe c_fifo" \
  tests/portability/c-tests.sh build/portability/glibc-$glibc $lib "${CC:-cc}"
echo "old glibc ($glibc): all green"
