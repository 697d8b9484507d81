#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Same-run comparison of two builds of libipcx.so with one benchmark program.

    bench/compare_libs.py OLD_LIBDIR NEW_LIBDIR ROUNDS PROGRAM [ARGS...]

runs PROGRAM (a bench_* program, which prints "ratio N.NNNx" rows: ipcx against the raw
calls in the same run) ROUNDS times against each library, alternating which goes first,
with LD_LIBRARY_PATH pointing at OLD_LIBDIR or NEW_LIBDIR (the programs find libipcx through
their RUNPATH, which LD_LIBRARY_PATH overrides). For every row it prints the median ratio
of each build over the rounds, their min-max, and new/old. A restructuring that changes no
behaviour should give new/old within the spread of the two builds' own rounds; the
"outside" column flags rows whose ranges do not overlap.

Example (docs/testing.md): a build of the previous commit in /work/old/lib:
    bench/compare_libs.py /work/old/lib build/default/lib 3 build/default/bench/bench_sync 1
"""

import os
import re
import statistics
import subprocess
import sys

ROW = re.compile(r"^  (\S.*?)\s{2,}(\S+)\s+.*\bratio ([0-9.]+)x")
# bench_ring's rows: "  RT median   ipcx spin, copy   0.21 us  (0.21-0.21)   1.050x (...) [...]"
RING_ROW = re.compile(r"^  (\S.*?)\s{2,}(\S.*?)\s{2,}\S+ \S+\s+\(\S+\)\s+([0-9.]+)x \(")


def run(libdir, argv):
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.abspath(libdir))
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    rows, section, sub = {}, "", ""
    for line in out.splitlines():
        if line and not line.startswith(" "):
            section, sub = line.strip(), ""
            continue
        if line.startswith(" ") and not line.startswith("  "):
            sub = line.strip().split(" messages")[0] + " "  # bench_ring: " 64 B messages"
            continue
        m = ROW.match(line) or RING_ROW.match(line)
        if m:
            key = f"{section.split('(')[0].strip()[:22]} | {sub}{m.group(1).strip()} {m.group(2)}"
            rows[key] = float(m.group(3))
    return rows


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    old, new, rounds, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    got = {"old": [], "new": []}
    for i in range(rounds):
        order = [("old", old), ("new", new)] if i % 2 == 0 else [("new", new), ("old", old)]
        for name, lib in order:
            got[name].append(run(lib, argv))
    keys = [k for k in got["old"][0] if all(k in r for r in got["old"] + got["new"])]
    print(f"{'row':80} {'old':>8} {'new':>8} {'new/old':>8}  old min-max   new min-max")
    for k in keys:
        o = [r[k] for r in got["old"]]
        n = [r[k] for r in got["new"]]
        mo, mn = statistics.median(o), statistics.median(n)
        outside = max(n) < min(o) or min(n) > max(o)
        print(
            f"{k[:80]:80} {mo:8.3f} {mn:8.3f} {mn / mo if mo else 0:8.3f}  "
            f"{min(o):.3f}-{max(o):.3f}  {min(n):.3f}-{max(n):.3f}{'  outside' if outside else ''}"
        )


if __name__ == "__main__":
    main()
