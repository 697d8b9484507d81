#!/bin/sh
# Install the build tree into a scratch prefix, then build and run two consumers against
# it: a CMake project (find_package(ipcx), ipcx::ipcx and ipcx::ipcx_static) and a plain
# Makefile using pkg-config (shared and static).
set -eu
build=$1 src=$2 gen=${3:-Ninja}
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcx-downstream.XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/ipcx.h"
ls "$work"/prefix/lib*/libipcx.so.0 >/dev/null
cmake -S "$src" -B "$work/cmake" -G "$gen" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
if readelf -d "$work/cmake/consumer_static" | grep -q libipcx; then
  echo "consumer_static links libipcx dynamically"; exit 1
fi
if command -v pkg-config >/dev/null 2>&1; then
  pc=$(dirname "$(ls "$work"/prefix/lib*/pkgconfig/ipcx.pc)")
  mkdir -p "$work/make"
  PKG_CONFIG_PATH=$pc make -s -C "$src" OUT="$work/make" >/dev/null
  "$work/make/consumer_pc"
  "$work/make/consumer_pc_static"
else
  echo "pkg-config not installed: Makefile consumer skipped"; exit 1
fi
echo "downstream consumers: ok"
