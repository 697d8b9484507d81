#!/bin/sh
# Install the build tree into a scratch prefix, then build and run two consumers against
# it: a CMake project (find_package(ipcx), ipcx::ipcx and ipcx::ipcx_static, from C and from
# C++ through ipcx.hpp) and a plain Makefile using pkg-config (shared and static; C++).
set -eu
build=$1 src=$2 gen=${3:-Ninja}
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcx-downstream.XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/ipcx.h"
test -f "$work/prefix/include/ipcx.hpp"
ls "$work"/prefix/lib*/libipcx.so.0 >/dev/null
cmake -S "$src" -B "$work/cmake" -G "$gen" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
# Until 1.0 a minor release may break the API: asking for the previous minor must fail.
mkdir -p "$work/old"
cat > "$work/old/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(old_consumer C)
find_package(ipcx 0.1 REQUIRED)
CMAKE
if cmake -S "$work/old" -B "$work/old/build" -G "$gen" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null 2>&1; then
  echo "find_package(ipcx 0.1) accepted version $(grep -o '[0-9.]*' "$work"/prefix/lib*/cmake/ipcx/ipcxConfigVersion.cmake | head -1)"; exit 1
fi
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
"$work/cmake/consumer_cxx"
"$work/cmake/consumer_cxx_static"
if readelf -d "$work/cmake/consumer_static" | grep -q libipcx; then
  echo "consumer_static links libipcx dynamically"; exit 1
fi
if command -v pkg-config >/dev/null 2>&1; then
  pc=$(dirname "$(ls "$work"/prefix/lib*/pkgconfig/ipcx.pc)")
  mkdir -p "$work/make"
  PKG_CONFIG_PATH=$pc make -s -C "$src" OUT="$work/make" >/dev/null
  "$work/make/consumer_pc"
  "$work/make/consumer_pc_static"
  "$work/make/consumer_pc_cxx"
else
  echo "pkg-config not installed: Makefile consumer skipped"; exit 1
fi
echo "downstream consumers: ok"
