#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Build the C tests (c-tests/, the tests and peer programs registered in
# c-tests/CMakeLists.txt, and the `ipcx` tool) with a given C compiler against a libipcx
# built for another target, and run them: natively, or through an emulator.
#
#   tests/portability/c-tests.sh OUT LIBDIR CC [EMULATOR...]
#
# OUT: a scratch directory for the programs. LIBDIR holds libipcx.so and libipcx.a for the
# target (a cargo output directory); they are copied to OUT/lib with the SONAME link, and
# the programs find them there through their RUNPATH, so the library under test is the one
# that runs. Environment:
#   IPCX_STATIC_LIBS   what to link after libipcx.a for c_pipe_static (default: the glibc
#                      list of CMakeLists.txt); "-static ..." links that test fully static
#   IPCX_C_TESTS       test names to run (default: all), e.g. "c_pipe c_sem"
#   IPCX_TIMEOUT_SCALE factor for the time limits (an emulator is slower; default 1)
#   IPCX_C_BUILD=0     run the programs already in OUT (built by an earlier call)
# The test programs' own time limits (c-tests/test.h) grow with IPCX_TEST_SCALE, which is
# passed through. Prints one line per test and exits non-zero when any failed.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 OUT LIBDIR CC [EMULATOR...]" >&2; exit 2; }
out=$1 lib=$2 cc=$3
shift 3
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/lib"
out=$(cd "$out" && pwd)
static_libs=${IPCX_STATIC_LIBS:--lpthread -ldl -lm -lrt -lutil -lgcc_s}
scale=${IPCX_TIMEOUT_SCALE:-1}
flags="-std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-function \
  -I$src/include -I$src/c-tests"
link="-L$out/lib -Wl,-rpath,$out/lib -lipcx -lpthread -lrt"
# The programs c-tests/CMakeLists.txt registers: "name source [STATIC] [TIMEOUT n]".
list=$(sed -n 's/^ *ipcx_c_\(test\|program\)(\([A-Za-z0-9_]*\) SOURCES \([A-Za-z0-9_.]*\)\(.*\))/\1 \2 \3 \4/p' \
  "$src/c-tests/CMakeLists.txt")
[ -n "$list" ] || { echo "no tests found in c-tests/CMakeLists.txt" >&2; exit 1; }

build() { # name static sources...
  name=$1 static=$2
  shift 2
  files=
  for f in "$@"; do files="$files $src/c-tests/$f"; done
  if [ "$static" = STATIC ]; then
    # shellcheck disable=SC2086
    $cc $flags -o "$out/$name" $files "$out/lib/libipcx.a" $static_libs
  else
    # shellcheck disable=SC2086
    $cc $flags -o "$out/$name" $files $link
  fi
}

# Tests that need a library the target may not have (libuv): not built or run here.
needs_more() { [ "$1" = c_loop_libuv ]; }

if [ "${IPCX_C_BUILD:-1}" != 0 ]; then
  # The library under test as an install has it: libipcx.so.<major> (the SONAME) and the
  # libipcx.so link, so the programs load exactly this file.
  soname=$(readelf -d "$lib/libipcx.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ -n "$soname" ] || { echo "$lib/libipcx.so has no SONAME" >&2; exit 1; }
  cp "$lib/libipcx.so" "$out/lib/$soname"
  ln -sf "$soname" "$out/lib/libipcx.so"
  cp "$lib/libipcx.a" "$out/lib/libipcx.a"

  echo "== building with $cc against $lib"
  # shellcheck disable=SC2086
  $cc $flags -o "$out/ipcx" "$src/tools/ipcx.c" $link
  echo "$list" | while read -r kind name file rest; do
    case $name in c_inspect) continue ;; esac
    needs_more "$name" && continue
    static=
    case " $rest " in *" STATIC "*) static=STATIC ;; esac
    # More sources after the first (a test made of several files).
    # shellcheck disable=SC2046
    build "$name" "$static" "$file" $(echo " $rest " | tr ' ' '\n' | grep '\.c$' || true)
  done
  # shellcheck disable=SC2086
  $cc $flags -DIPCX_CLI_PATH="\"$out/ipcx\"" -o "$out/c_inspect" "$src/c-tests/test_inspect.c" $link
  # The header as strict C99 (compiled only).
  $cc -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$src/include" -c -o "$out/header_c99.o" \
    "$src/c-tests/header_c99.c"
fi

# What was built is for the target and loads the library under test.
readelf -h "$out/c_pipe" | grep -E 'Class|Machine' | sed 's/^ */   /'
readelf -l "$out/c_pipe" | sed -n 's/.*Requesting program interpreter: \(.*\)]/   interpreter: \1/p'
readelf -d "$out/c_pipe" | grep -E 'NEEDED|RUNPATH|RPATH' | sed 's/^ */   /'

echo "== running${*:+ under $*}"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() { # name timeout [env...]
  name=$1 limit=$(( $2 * scale ))
  shift 2
  if [ -n "${IPCX_C_TESTS:-}" ]; then
    case " $IPCX_C_TESTS " in *" $name "*) ;; *) return 0 ;; esac
  fi
  prog=$name
  [ "$name" = c_handle_count ] && prog=c_handle
  start=$(date +%s)
  set +e
  (cd "$out" && env "$@" timeout -k 10 "$limit" ${emu:+$emu} "./$prog" >"$out/$name.log" 2>&1)
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  if [ $rc = 0 ]; then
    echo "   ok    $name (${secs}s)"; echo ok >>"$results"
  elif [ $rc = 77 ]; then
    echo "   skip  $name (${secs}s): $(tail -1 "$out/$name.log")"; echo skip >>"$results"
  else
    echo "   FAIL  $name (exit $rc, ${secs}s): see $out/$name.log"; echo fail >>"$results"
    grep -E 'FAIL|failed|Assertion|error' "$out/$name.log" | head -20 | sed 's/^/      /'
  fi
}
emu="$*"
echo "$list" | while read -r kind name file rest; do
  [ "$kind" = test ] || continue
  needs_more "$name" && continue
  t=$(echo " $rest " | sed -n 's/.* TIMEOUT \([0-9]*\) .*/\1/p')
  run "$name" "${t:-120}" IPCX_TEST_SCALE="${IPCX_TEST_SCALE:-1}"
  [ "$name" = c_handle ] && run c_handle_count "${t:-120}" IPCX_HANDLE_PINS=count IPCX_TEST_SCALE="${IPCX_TEST_SCALE:-1}"
  :
done
ran=$(grep -c . "$results" || true)
fail=$(grep -c fail "$results" || true)
skipped=$(grep -c skip "$results" || true)
echo "== $ran C tests: $((ran - fail - skipped)) passed, $skipped skipped, $fail failed"
[ "$ran" -gt 0 ] && [ "$fail" = 0 ]
