#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Fail if libipcx.so exports anything but ipcx_* symbols, or the header declares a
# function, type or macro outside the ipcx_/IPCX_ namespace.
set -eu
lib=$1 header=$2
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^ipcx_' || true)
if [ -n "$bad" ]; then echo "exported symbols outside ipcx_: $bad"; exit 1; fi
n=$(nm -D --defined-only "$lib" | grep -c ' T ipcx_')
echo "$n ipcx_ functions exported"
bad=$(grep -oE '^#define [A-Za-z_][A-Za-z0-9_]*' "$header" | awk '{print $2}' | grep -v '^IPCX_' || true)
if [ -n "$bad" ]; then echo "macros outside IPCX_: $bad"; exit 1; fi
bad=$(grep -oE '^typedef (struct|enum) [A-Za-z_][A-Za-z0-9_]*|^} [A-Za-z_][A-Za-z0-9_]*;' "$header" \
      | awk '{print $NF}' | tr -d ';' | grep -v '^ipcx_' || true)
if [ -n "$bad" ]; then echo "types outside ipcx_: $bad"; exit 1; fi
bad=$(grep -oE '^[a-z].*[ *](\w+)\(' "$header" | grep -oE '\w+\($' | tr -d '(' | grep -v '^ipcx_' || true)
if [ -n "$bad" ]; then echo "functions outside ipcx_: $bad"; exit 1; fi
# Every exported function is declared in the header and vice versa.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2=="T"{print $3}' | sort >"$tmp/exports"
grep -oE '^[a-z].*\bipcx_\w+\(' "$header" | grep -oE 'ipcx_\w+\($' | tr -d '(' | sort -u >"$tmp/decls"
if ! diff "$tmp/exports" "$tmp/decls"; then echo "exports and header differ"; exit 1; fi
echo "exports and header agree"
