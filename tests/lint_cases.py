#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Check that every case of a C test program runs.

    tests/lint_cases.py c-tests/*.c
    tests/lint_cases.py --self-test     (a seeded unlisted case is caught)

A case is a function made with T_CASE(name); it runs only if its program lists it with
T_ENTRY(name) (in T_MAIN, or in the case table of a program with its own main). The compiler cannot tell (test.h's helpers make
-Wno-unused-function necessary), so a case left out of T_MAIN would silently never run.
Files that list no case (cases included into other programs) are checked against the
lists of every file that includes them.
Exit status 1 with one line per unlisted case.
"""
import os
import re
import sys

CASE = re.compile(r"^T_CASE\((\w+)\)", re.M)
ENTRY = re.compile(r"T_ENTRY\((\w+)\)")
INCLUDE = re.compile(r'^#include "(\w+\.c)"', re.M)


def unlisted(sources):
    """The (file, case) pairs whose case no T_MAIN lists; `sources` maps names to text."""
    entries = {}  # file -> the entries of the T_MAIN that runs its cases
    for name, text in sources.items():
        listed = set(ENTRY.findall(text))
        if not listed:
            continue
        entries.setdefault(name, set()).update(listed)
        for inc in INCLUDE.findall(text):
            entries.setdefault(inc, set()).update(listed)
    bad = []
    for name, text in sorted(sources.items()):
        for case in CASE.findall(text):
            if case not in entries.get(name, set()):
                bad.append((name, case))
    return bad


def self_test():
    ok = {"a.c": "T_CASE(one) {}\nT_CASE(two) {}\nT_MAIN(T_ENTRY(one), T_ENTRY(two))\n",
          "cases.c": "T_CASE(three) {}\n",
          "b.c": '#include "cases.c"\nT_MAIN(T_ENTRY(three))\n'}
    assert unlisted(ok) == [], unlisted(ok)
    seeded = dict(ok)
    seeded["a.c"] = "T_CASE(one) {}\nT_CASE(two) {}\nT_MAIN(T_ENTRY(one))\n"
    seeded["cases.c"] = "T_CASE(three) {}\nT_CASE(four) {}\n"
    got = unlisted(seeded)
    assert got == [("a.c", "two"), ("cases.c", "four")], got
    print("lint_cases self-test: an unlisted case and an unlisted included case are caught")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    sources = {}
    for path in argv[1:]:
        with open(path, encoding="utf-8") as f:
            sources[os.path.basename(path)] = f.read()
    bad = unlisted(sources)
    for name, case in bad:
        print(f"{name}: T_CASE({case}) is not listed with T_ENTRY: it never runs")
    if not bad:
        cases = sum(len(CASE.findall(t)) for t in sources.values())
        print(f"lint_cases: {cases} cases in {len(sources)} files, every one listed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
