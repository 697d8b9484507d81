#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# ipcx(1) documents every option and command the tool's --help shows.
set -eu
tool=$1 page=$2
for w in $("$tool" --help | grep -oE -- '--[a-z-]+|^ *(usage: )?ipcx [a-z]+' | awk '{print $NF}' | sort -u); do
  esc=$(printf '%s' "$w" | sed 's/-/\\-/g')
  if ! grep -qF -- "$esc" "$page"; then echo "$page does not document $w"; exit 1; fi
done
echo "ipcx(1) documents every option of ipcx --help"
