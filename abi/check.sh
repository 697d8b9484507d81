#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# The ABI check (README "Versions and ABI").
#
#   abi/check.sh LIB HEADER            compare with the committed baseline of this version
#   abi/check.sh --update LIB HEADER   write the baseline of this version (a new one only)
#   abi/check.sh --self-test LIB HEADER   prove the check fails where it must
#
# A baseline is taken once per release that may break: per minor version while the major is
# 0 (abi/ipcx-0.2.*), per major version from 1.0 on (abi/ipcx-1.*). It holds
#   .abi        abidw's description of the probe (abi/probe.py): every function's
#               parameter and return types and every type's layout, from the header;
#   .symbols    the functions the shared library exports, and its SONAME;
#   .constants  the integer constants of the header.
# The check fails when, against the baseline of the current version:
#   - abidiff reports a change (abi/ipcx.suppr allows only what docs/conventions.md allows:
#     fields appended to the structs that carry their size, enumerators appended);
#   - an exported function is gone, or the SONAME differs;
#   - a constant is gone or has another value (the IPCX_VERSION_* macros excepted);
#   - the baseline itself was changed since the commit that added it.
# So an incompatible change passes only with a new version (a new minor before 1.0, a new
# major after), whose new baseline is committed with it; the new baseline's SONAME must also
# differ from every earlier baseline's (libipcx.so.0.<minor> before 1.0, libipcx.so.<major>
# after: build.rs).
set -eu
mode=check
case "${1:-}" in
  --update) mode=update; shift ;;
  --self-test) mode=selftest; shift ;;
esac
[ $# -eq 2 ] || { sed -n '3,6p' "$0" >&2; exit 2; }
lib=$1 header=$2
here=$(cd "$(dirname "$0")" && pwd)
abidir=${IPCX_ABI_DIR:-$here}
CC=${CC:-cc}
for t in abidw abidiff readelf nm python3 "$CC"; do
  if ! command -v "$t" >/dev/null 2>&1; then
    echo "abi check: SKIPPED: $t is not installed (apt-get install abigail-tools binutils)"
    exit 77
  fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcx-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The ABI level of a header: "0.MINOR" before 1.0, "MAJOR" after.
level_of() {
  major=$(sed -n 's/^#define IPCX_VERSION_MAJOR \([0-9]*\)$/\1/p' "$1")
  minor=$(sed -n 's/^#define IPCX_VERSION_MINOR \([0-9]*\)$/\1/p' "$1")
  [ -n "$major" ] && [ -n "$minor" ] || { echo "abi check: no version macros in $1" >&2; exit 2; }
  if [ "$major" = 0 ]; then echo "0.$minor"; else echo "$major"; fi
}

# describe HEADER LIB OUT: OUT.abi, OUT.symbols, OUT.constants
describe() {
  # Built in a directory of its own, under relative names, so the description holds no
  # path of this machine.
  rm -rf "$3.d"
  mkdir -p "$3.d"
  cp "$1" "$3.d/ipcx.h"
  python3 "$here/probe.py" "$3.d/ipcx.h" "$3.d/probe.c" >/dev/null
  (cd "$3.d" && "$CC" -g -O0 -shared -fPIC -fdebug-prefix-map="$(pwd)"=. -I. -o probe.so probe.c \
     && "$CC" -DIPCX_PROBE_CONSTANTS -I. -o print probe.c)
  abidw --no-corpus-path --no-comp-dir-path "$3.d/probe.so" >"$3.abi"
  {
    echo "# SONAME $(readelf -d "$2" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
    nm -D --defined-only "$2" | awk '$2=="T"{print $3}' | sort
  } >"$3.symbols"
  "$3.d/print" | grep -v '^IPCX_VERSION_' | sort >"$3.constants"
}

# compare BASE CUR: prints what breaks; returns 1 if anything does.
compare() {
  bad=0
  rc=0
  abidiff --no-added-syms --suppressions "$here/ipcx.suppr" "$1.abi" "$2.abi" >"$tmp/abidiff.txt" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "abidiff (exit $rc) finds an incompatible change:"; sed 's/^/  /' "$tmp/abidiff.txt"; bad=1
  fi
  gone=$(grep -v '^#' "$1.symbols" | sort | comm -23 - "$tmp/cur.sym.sorted" || true)
  if [ -n "$gone" ]; then echo "exported functions removed: $gone"; bad=1; fi
  bs=$(head -1 "$1.symbols") cs=$(head -1 "$2.symbols")
  if [ "$bs" != "$cs" ]; then echo "SONAME changed: baseline ${bs#\# SONAME }, library ${cs#\# SONAME }"; bad=1; fi
  changed=$(comm -23 "$1.constants" "$2.constants" || true)
  if [ -n "$changed" ]; then
    echo "constants removed or changed (baseline value):"; echo "$changed" | sed 's/^/  /'
    bad=1
  fi
  return $bad
}

level=$(level_of "$header")
base="$abidir/ipcx-$level"

if [ "$mode" = update ]; then
  if [ -e "$base.abi" ]; then
    echo "abi/ipcx-$level.abi exists: a baseline is taken once per version that may break"
    echo "(before 1.0 a new minor, after it a new major); bump the version in Cargo.toml first."
    exit 1
  fi
  describe "$header" "$lib" "$tmp/cur"
  for other in "$abidir"/ipcx-*.symbols; do
    [ -e "$other" ] || continue
    if [ "$(head -1 "$other")" = "$(head -1 "$tmp/cur.symbols")" ]; then
      echo "the SONAME of $level must differ from the one in $other"; exit 1
    fi
  done
  cp "$tmp/cur.abi" "$base.abi"
  cp "$tmp/cur.symbols" "$base.symbols"
  cp "$tmp/cur.constants" "$base.constants"
  echo "abi: wrote $base.abi, .symbols, .constants"
  exit 0
fi

check_against() {  # check_against HEADER: 0 = compatible with the baseline of its version
  lvl=$(level_of "$1")
  b="$abidir/ipcx-$lvl"
  if [ ! -e "$b.abi" ]; then
    echo "no ABI baseline for ipcx $lvl (abi/ipcx-$lvl.abi): a version that may break takes"
    echo "a new one, committed with it: abi/check.sh --update LIB HEADER"
    return 1
  fi
  describe "$1" "$lib" "$tmp/cur"
  grep -v '^#' "$tmp/cur.symbols" | sort >"$tmp/cur.sym.sorted"
  compare "$b" "$tmp/cur"
}

if [ "$mode" = check ]; then
  # abi/ipcx.suppr lets exactly the structs that carry their size grow.
  sized=$(python3 "$here/probe.py" --sized "$header" | tr '\n' '|' | sed 's/|$//')
  allowed=$(sed -n 's/^ *name_regexp = ^ipcx_(\(.*\))\$$/\1/p' "$here/ipcx.suppr" | tr '|' '\n' \
            | sed 's/^/ipcx_/' | sort | tr '\n' '|' | sed 's/|$//')
  if [ "$sized" != "$allowed" ]; then
    echo "abi/ipcx.suppr names the structs $allowed as growable; the header's structs that"
    echo "start with uint32_t size are $sized"; exit 1
  fi
  # A committed baseline never changes: compare it with the commit that added it.
  if git -C "$abidir" rev-parse --git-dir >/dev/null 2>&1; then
    for f in "$base.abi" "$base.symbols" "$base.constants"; do
      [ -e "$f" ] || continue
      added=$(git -C "$abidir" log --diff-filter=A --format=%H -1 -- "$f" 2>/dev/null || true)
      [ -n "$added" ] || continue
      rel=$(git -C "$abidir" ls-files --full-name -- "$f")
      if ! git -C "$abidir" show "$added:$rel" | cmp -s - "$f"; then
        echo "$rel differs from the baseline committed in $added: a baseline is never edited;"
        echo "an incompatible change needs a new version and a new baseline"
        exit 1
      fi
    done
  fi
  if check_against "$header"; then
    echo "ABI of $(basename "$lib") and $(basename "$header") compatible with abi/ipcx-$level"
    exit 0
  fi
  echo "ABI check failed: an incompatible change needs a new version (a new minor before 1.0,"
  echo "a new major after it, with a new SONAME) and its baseline (abi/check.sh --update)."
  exit 1
fi

# --self-test: seeded changes to a copy of the header, each must pass or fail as stated.
fails=0
expect() {  # expect pass|fail WHAT FILE
  out=$(check_against "$3" 2>&1) && got=pass || got=fail
  if [ "$got" = "$1" ]; then
    echo "ok: $2 -> $got"
  else
    echo "NOT OK: $2 -> $got, expected $1"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  fi
}
h=$tmp/h
mkdir -p "$h"
cp "$header" "$h/same.h"
expect pass "the header unchanged" "$h/same.h"
# a field appended to a struct that carries its size (docs/conventions.md: allowed)
awk '/^} ipcx_msgq_info;/{print "  int64_t appended;"} {print}' "$header" >"$h/append.h"
expect pass "a field appended to ipcx_msgq_info" "$h/append.h"
# a field inserted before the others
awk '{print} /^  uint32_t size;/ && !done {print "  uint32_t inserted;"; done=1}' "$header" >"$h/insert.h"
expect fail "a field inserted at the start of a struct" "$h/insert.h"
# a field appended to a value type (never grows)
awk '/^} ipcx_semop;/{print "  int32_t appended;"} {print}' "$header" >"$h/semop.h"
expect fail "a field appended to ipcx_semop" "$h/semop.h"
# a parameter's type
sed 's/^\(ipcx_status ipcx_pipe_send(ipcx_pipe \*[a-z_]*, const void \*[a-z_]*, \)size_t/\1uint32_t/' "$header" >"$h/param.h"
cmp -s "$header" "$h/param.h" && { echo "NOT OK: the parameter mutation did not apply"; fails=$((fails + 1)); }
expect fail "ipcx_pipe_send's length parameter made uint32_t" "$h/param.h"
# a parameter added
sed 's/^\(ipcx_status ipcx_pipe_close(ipcx_pipe \*[a-z_]*\))/\1, int extra)/' "$header" >"$h/arity.h"
cmp -s "$header" "$h/arity.h" && { echo "NOT OK: the arity mutation did not apply"; fails=$((fails + 1)); }
expect fail "a parameter added to ipcx_pipe_close" "$h/arity.h"
# a function removed
grep -v '^ipcx_status ipcx_pipe_send(' "$header" >"$h/removed.h"
expect fail "ipcx_pipe_send removed" "$h/removed.h"
# a function added
sed 's/^\(ipcx_status ipcx_pipe_send(.*\)$/\1\nipcx_status ipcx_pipe_added(int x);/' "$header" >"$h/added.h"
expect pass "a function added" "$h/added.h"
# status codes renumbered; one appended
sed 's/^  IPCX_ERR_TIMEOUT = 2,/  IPCX_ERR_TIMEOUT = 200,/' "$header" >"$h/enum.h"
expect fail "IPCX_ERR_TIMEOUT renumbered" "$h/enum.h"
# a constant's value
sed 's/^#define IPCX_OPEN_CREATE .*/#define IPCX_OPEN_CREATE 64/' "$header" >"$h/const.h"
expect fail "IPCX_OPEN_CREATE changed" "$h/const.h"
# the incompatible change with a new version: fails until that version's baseline exists
sed 's/^#define IPCX_VERSION_MINOR .*/#define IPCX_VERSION_MINOR 99/' "$h/insert.h" >"$h/bumped.h"
expect fail "the inserted field with version 0.99 and no baseline for it" "$h/bumped.h"
mkdir -p "$tmp/abi"
cp "$abidir"/ipcx-*.* "$tmp/abi/" 2>/dev/null || true
# the new version's baseline is refused while the library keeps an earlier version's SONAME
if ls "$tmp/abi"/ipcx-*.symbols >/dev/null 2>&1; then
  if IPCX_ABI_DIR=$tmp/abi "$0" --update "$lib" "$h/bumped.h" >/dev/null 2>&1; then
    echo "NOT OK: the 0.99 baseline taken with an earlier version's SONAME"; fails=$((fails + 1))
  else
    echo "ok: the 0.99 baseline with an earlier version's SONAME -> refused"
  fi
fi
# this library stands for one built as 0.99 (with its own SONAME): the earlier baselines go
rm -f "$tmp/abi"/ipcx-*
IPCX_ABI_DIR=$tmp/abi "$0" --update "$lib" "$h/bumped.h" >/dev/null
abidir_saved=$abidir
abidir=$tmp/abi
expect pass "the same with the new version's baseline committed" "$h/bumped.h"
abidir=$abidir_saved
if [ "$fails" -ne 0 ]; then echo "abi self-test: $fails wrong"; exit 1; fi
echo "abi self-test: every seeded change judged as expected"
