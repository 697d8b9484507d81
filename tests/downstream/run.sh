#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Install the build tree into a scratch prefix, check what was installed, then build and run
# consumers against it: a CMake project (find_package(ipcx), ipcx::ipcx and
# ipcx::ipcx_static, from C and from C++ through ipcx.hpp), a plain Makefile using
# pkg-config (shared, static, fully static; C++), and libipcx.a linked beside another Rust
# static library.
set -eu
build=$1 src=$2 gen=${3:-Ninja}
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcx-downstream.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/ipcx.h"
test -f "$prefix/include/ipcx.hpp"
lib=$(dirname "$(ls "$prefix"/lib*/libipcx.so)")
soname=$(readelf -d "$lib/libipcx.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
case "$soname" in libipcx.so.0.[0-9]*|libipcx.so.[1-9]*) ;; *) echo "unexpected SONAME $soname"; exit 1 ;; esac
so=$(readlink -f "$lib/$soname")

# The artefacts: stripped libraries, the debug info installed only on request, only ipcx_*
# global in the archive, the man page of the tool.
if readelf -S "$so" | grep -q '\.debug_info'; then echo "installed $so has debug info"; exit 1; fi
readelf -S "$so" | grep -q '\.gnu_debuglink' || { echo "$so has no debug link"; exit 1; }
if readelf -S "$lib/libipcx.a" | grep -q '\.debug_info'; then echo "installed libipcx.a has debug info"; exit 1; fi
bad=$(nm -g --defined-only "$lib/libipcx.a" | awk 'NF==3 && $3 !~ /^ipcx_/' || true)
if [ -n "$bad" ]; then echo "libipcx.a defines global symbols outside ipcx_:"; echo "$bad" | head; exit 1; fi
if [ -e "$lib/.debug" ]; then echo "debug info installed without being asked for"; exit 1; fi
cmake --install "$build" --prefix "$prefix" --component debug >/dev/null
dbg=$lib/.debug/$(basename "$so").debug
readelf -S "$dbg" | grep -q '\.debug_info' || { echo "$dbg has no debug info"; exit 1; }
test -f "$prefix/share/man/man1/ipcx.1" || { echo "ipcx(1) not installed"; exit 1; }
echo "installed: $(basename "$so") $(stat -c %s "$so") bytes, libipcx.a $(stat -c %s "$lib/libipcx.a") bytes, debug file $(stat -c %s "$dbg") bytes"

cmake -S "$src" -B "$work/cmake" -G "$gen" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
# Until 1.0 a minor release may break the API: asking for the previous minor must fail.
mkdir -p "$work/old"
cat > "$work/old/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(old_consumer C)
find_package(ipcx 0.1 REQUIRED)
CMAKE
if cmake -S "$work/old" -B "$work/old/build" -G "$gen" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  echo "find_package(ipcx 0.1) accepted version $(grep -o '[0-9.]*' "$lib/cmake/ipcx/ipcxConfigVersion.cmake" | head -1)"; exit 1
fi
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
"$work/cmake/consumer_cxx"
"$work/cmake/consumer_cxx_static"
if readelf -d "$work/cmake/consumer_static" | grep -q libipcx; then
  echo "consumer_static links libipcx dynamically"; exit 1
fi

command -v pkg-config >/dev/null 2>&1 || { echo "pkg-config not installed"; exit 1; }
mkdir -p "$work/make"
PKG_CONFIG_PATH=$lib/pkgconfig make -s -C "$src" OUT="$work/make" >"$work/make.log" 2>&1 \
  || { cat "$work/make.log"; exit 1; }
"$work/make/consumer_pc"
"$work/make/consumer_pc_static"
"$work/make/consumer_pc_cxx"
if readelf -d "$work/make/consumer_pc_static" | grep -q libipcx; then
  echo "consumer_pc_static (pkg-config ipcx-static) links libipcx dynamically"; exit 1
fi
"$work/make/consumer_full_static"
if readelf -l "$work/make/consumer_full_static" | grep -q INTERP; then
  echo "consumer_full_static is not a static executable"; exit 1
fi

# libipcx.a beside another Rust static library: no duplicate symbols, both runtimes work.
CARGO_TARGET_DIR=$work/other cargo build -q --release --offline --locked \
  --manifest-path "$src/other/Cargo.toml"
cc -I"$prefix/include" -o "$work/mixed" "$src/mixed.c" \
  $(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --libs ipcx-static) "$work/other/release/libother.a"
"$work/mixed"

# Without split debug info the libraries install as built; --strip strips them.
cache=$build/CMakeCache.txt
val() { sed -n "s/^$1:[A-Z]*=//p" "$cache"; }
top=$(val CMAKE_HOME_DIRECTORY)
cmake -S "$top" -B "$work/nosplit" -G "$gen" -DCMAKE_BUILD_TYPE="$(val CMAKE_BUILD_TYPE)" \
      -DIPCX_CARGO_TARGET_DIR="$(val IPCX_CARGO_TARGET_DIR)" -DIPCX_CARGO_PROFILE="$(val IPCX_CARGO_PROFILE)" \
      -DIPCX_SPLIT_DEBUG=OFF -DIPCX_BUILD_TESTS=OFF -DIPCX_BUILD_EXAMPLES=OFF -DIPCX_BUILD_BENCH=OFF \
      -DIPCX_BUILD_TOUR=OFF >/dev/null
cmake --build "$work/nosplit" >/dev/null
cmake --install "$work/nosplit" --prefix "$work/full" >/dev/null
readelf -S "$work"/full/lib*/"$(basename "$so")" | grep -q '\.debug_info' \
  || { echo "IPCX_SPLIT_DEBUG=OFF: the library was installed without its debug info"; exit 1; }
cmake --install "$work/nosplit" --prefix "$work/stripped" --strip >/dev/null
for f in "$work"/stripped/lib*/"$(basename "$so")" "$work"/stripped/lib*/libipcx.a; do
  if readelf -S "$f" | grep -q '\.debug_info'; then echo "cmake --install --strip left debug info in $f"; exit 1; fi
done
echo "downstream consumers: ok"
