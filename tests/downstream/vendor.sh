#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Vendored ipcx, as a C project would take it, in Release with gcc (tests/downstream/vendor):
#  1. add_subdirectory() of a pristine copy of the source tree;
#  2. FetchContent from a local git URL (a repository made from that copy).
# Each must build the library and the consumer's own programs and nothing else (no tests,
# examples, benchmarks, tour or tool), leave the vendored tree untouched (the cargo target
# directory is in the build tree), install nothing of ipcx unless asked, and run.
set -eu
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcx-vendor.XXXXXX")
trap 'rm -rf "$work"' EXIT
command -v git >/dev/null 2>&1 || { echo "git is needed"; exit 1; }

# The source as a consumer gets it: the files git knows (committed or not), in a repository.
repo=$work/ipcx
mkdir -p "$repo"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$repo")
else
  (cd "$src" && tar cf - --exclude=./build --exclude=./target .) | (cd "$repo" && tar xf -)
fi
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=ipcx -c user.email=ipcx@localhost commit -q -m vendored
tag=$(git -C "$repo" rev-parse HEAD)

# only_own BUILD: the build links exactly the consumer's two programs.
only_own() {
  linked=$(ninja -C "$1" -t targets all | awk -F': ' '$2 ~ /_(EXECUTABLE|LIBRARY)_LINKER/ {print $1}' \
           | xargs -n1 basename | sort | tr '\n' ' ')
  if [ "$linked" != "consumer consumer_static " ]; then
    echo "$2: the build links more than the consumer's programs: $linked"; exit 1
  fi
  steps=$(ninja -C "$1" -t commands all | wc -l)
  echo "$2: $steps build steps, linked: $linked"
  if [ -e "$1/ipcx/CTestTestfile.cmake" ] || [ -e "$1/_deps/ipcx-build/CTestTestfile.cmake" ]; then
    echo "$2: ipcx registered tests in the consumer's build"; exit 1
  fi
}

pristine() {
  if [ -n "$(git -C "$1" status --porcelain --ignored)" ]; then
    git -C "$1" status --porcelain --ignored | head
    echo "$2: the vendored source tree was written to"; exit 1
  fi
}

opts="-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc"

echo "== add_subdirectory (Release, gcc)"
b=$work/sub
# shellcheck disable=SC2086
cmake -S "$here/vendor" -B "$b" $opts -DIPCX_VENDOR=subdirectory -DIPCX_SOURCE="$repo" >/dev/null
cmake --build "$b" >"$work/sub.log" 2>&1 || { cat "$work/sub.log"; exit 1; }
only_own "$b" add_subdirectory
test -d "$b/ipcx/cargo" || { echo "add_subdirectory: no cargo target directory in the build tree"; exit 1; }
pristine "$repo" add_subdirectory
"$b/consumer"
"$b/consumer_static"
cmake --install "$b" --prefix "$work/sub-prefix" >/dev/null
inst=$(cd "$work/sub-prefix" && find . -type f | sort | tr '\n' ' ')
if [ "$inst" != "./bin/consumer " ]; then
  echo "add_subdirectory: cmake --install installed more than the consumer: $inst"; exit 1
fi
# Asked for, ipcx installs with the consumer.
cmake -S "$here/vendor" -B "$b" -DIPCX_INSTALL=ON >/dev/null
cmake --build "$b" >/dev/null 2>&1
cmake --install "$b" --prefix "$work/sub-prefix2" >/dev/null
test -f "$work/sub-prefix2/include/ipcx.h"
ls "$work"/sub-prefix2/lib*/libipcx.so >/dev/null

echo "== FetchContent from a git URL (Release, gcc)"
b=$work/fc
# The registry crates built above are reused (the same cargo target directory); ipcx itself
# builds again from the fetched tree.
# shellcheck disable=SC2086
cmake -S "$here/vendor" -B "$b" $opts -DIPCX_VENDOR=fetchcontent -DIPCX_GIT_URL="file://$repo" \
      -DIPCX_GIT_TAG="$tag" -DIPCX_CARGO_TARGET_DIR="$work/sub/ipcx/cargo" >/dev/null
cmake --build "$b" >"$work/fc.log" 2>&1 || { cat "$work/fc.log"; exit 1; }
only_own "$b" FetchContent
pristine "$b/_deps/ipcx-src" FetchContent
"$b/consumer"
"$b/consumer_static"
cmake --install "$b" --prefix "$work/fc-prefix" >/dev/null
inst=$(cd "$work/fc-prefix" && find . -type f | sort | tr '\n' ' ')
if [ "$inst" != "./bin/consumer " ]; then
  echo "FetchContent: cmake --install installed more than the consumer: $inst"; exit 1
fi
echo "vendored consumers: ok"
