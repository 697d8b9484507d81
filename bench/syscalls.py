#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""System calls per message and side on the one-way paths of the benchmarks.

    syscalls.py STRACE BENCH_PIPE BENCH_CHAN BENCH_RING [COUNT]

Runs each path's one-way transfer (`bench_x oneway ...`: COUNT 64-byte messages, child on
CPU1 sending, parent on CPU0 receiving) under `strace -f`, and counts, per process, the
system calls between the markers bench.h puts around each side's message loop
(access("/ipcx-bench-mark/begin") ... access("/ipcx-bench-mark/end")). Prints calls per
message per side with the calls that make them up, and the verdict against the goal: at
most one call per message and side on a blocking path, none on a spinning one (the raw
paths are the references, shown for comparison). strace slows every system call down,
which lets a blocking receiver find more messages waiting than it would untraced: the
counts of the wake-ups are lower bounds, those of the transfers exact. A path over
its goal is a finding printed as such (with its calls), not a failure: the program fails
only when a measurement could not be made.
"""
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter

if len(sys.argv) < 5:
    sys.exit(__doc__)
STRACE, PIPE, CHAN, RING = sys.argv[1:5]
COUNT = int(sys.argv[5]) if len(sys.argv) > 5 else 20000

# (name, command, blocking)
PATHS = [
    ("pipe raw write/read", [PIPE, "oneway", "pipe", "raw"], True),
    ("ipcx_pipe (guard on, default)", [PIPE, "oneway", "pipe", "ipcx"], True),
    ("ipcx_pipe (guard off)", [PIPE, "oneway", "pipe", "ipcx-noguard"], True),
    ("ipcx_pipe_send_many (32/call)", [PIPE, "oneway", "pipe", "ipcx send_many"], True),
    ("FIFO raw write/read", [PIPE, "oneway", "FIFO", "raw"], True),
    ("ipcx FIFO (guard on, default)", [PIPE, "oneway", "FIFO", "ipcx"], True),
    ("chan pipe: (default)", [CHAN, "oneway", "pipe:", "channel"], True),
    ("chan pipe: send_many (32/call)", [CHAN, "oneway", "pipe:", "chan send_many"], True),
    ("raw unix stream send/recv", [CHAN, "oneway", "unix:", "raw"], True),
    ("chan unix: (default)", [CHAN, "oneway", "unix:", "channel"], True),
    ("chan unix: send_many (32/call)", [CHAN, "oneway", "unix:", "chan send_many"], True),
    ("raw futex ring", [RING, "oneway", "raw futex ring"], True),
    ("ring blocking, copy", [RING, "oneway", "ipcx block, copy"], True),
    ("ring blocking, zero-copy", [RING, "oneway", "ipcx block, zero-copy"], True),
    ("raw spin ring", [RING, "oneway", "raw spin ring"], False),
    ("ring spinning, copy", [RING, "oneway", "ipcx spin, copy"], False),
    ("ring spinning, zero-copy", [RING, "oneway", "ipcx spin, zero-copy"], False),
]

LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)(\(| resumed>)")


def count(trace):
    """{pid: Counter(syscall -> calls between the markers)}, pid order of first line."""
    inside, calls, order = {}, {}, []
    with open(trace, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            pid, name, how = int(m.group(1)), m.group(2), m.group(3)
            if pid not in calls:
                calls[pid] = Counter()
                order.append(pid)
            if how != "(":  # the second half of an interrupted call: counted once
                continue
            if name == "access" and "/ipcx-bench-mark/begin" in line:
                inside[pid] = True
                continue
            if name == "access" and "/ipcx-bench-mark/end" in line:
                inside[pid] = False
                calls[pid]["<end>"] += 1
                continue
            if inside.get(pid):
                calls[pid][name] += 1
    return order, calls


def main():
    print(f"System calls per 64 B message and side, one way, cross-core ({COUNT} messages, "
          "strace -f, only the message loops)")
    print("goal: <= 1 per message and side on a blocking path (the wake-up or the transfer), "
          "0 while spinning\n")
    print(f"  {'path':32} {'side':9} {'calls/msg':>9}  {'verdict':12} calls/msg by call")
    findings, broken = [], []
    for name, cmd, blocking in PATHS:
        with tempfile.NamedTemporaryFile(prefix="ipcx-bench-strace-", suffix=".txt", delete=False) as t:
            trace = t.name
        try:
            r = subprocess.run([STRACE, "-f", "-qq", "-o", trace] + cmd + [str(COUNT)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=600)
            order, calls = count(trace)
        except subprocess.TimeoutExpired:
            broken.append(f"{name}: timed out")
            continue
        finally:
            os.unlink(trace)
        sides = [p for p in order if calls[p]["<end>"]]
        if r.returncode != 0 or len(sides) != 2:
            broken.append(f"{name}: exit {r.returncode}, {len(sides)} marked sides: {r.stdout.strip()[-300:]}")
            continue
        # The first process is the parent, the receiver; the other the sending child.
        for side, pid in (("sender", sides[1]), ("receiver", sides[0])):
            c = calls[pid]
            del c["<end>"]
            total = sum(c.values()) / COUNT
            limit = 1.0 if blocking else 0.0
            ok = total <= limit + 0.01
            parts = ", ".join(f"{k} {v / COUNT:.2f}" for k, v in c.most_common() if v / COUNT >= 0.005)
            raw = name.startswith("raw ") or " raw " in name
            verdict = "(reference)" if raw else "ok" if ok else "OVER GOAL"
            print(f"  {name:32} {side:9} {total:9.3f}  {verdict:12} {parts or '-'}")
            if not ok and not raw:
                findings.append(f"{name}, {side}: {total:.2f} calls per message ({parts}); goal "
                                f"{'<= 1' if blocking else '0'}")
    print()
    if findings:
        print("Findings (paths over the goal):")
        for f in findings:
            print("  " + f)
    else:
        print("Every path is within its goal.")
    if broken:
        print("\nNOT MEASURED:")
        for b in broken:
            print("  " + b)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
