#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Turn include/ipcx.h into the input of Doxygen (docs/CMakeLists.txt, the `docs` preset).

cbindgen writes the Rust doc comments into the header as `//` comments, which Doxygen does
not read. This writes a copy in which each of those comments is a Doxygen comment (`///`),
the `Returns:`, `Errors:`, ... paragraphs are Doxygen paragraphs, and every function, type
and constant is put in the group of its family (docs/conventions.md: `ipcx_pipe_*`,
`IPCX_PIPE_*`, `ipcx_pipe_info` ... in ipcx_pipe), so that the reference has one page per
family and the man pages one page each (ipcx_pipe(3) ...). The committed header is not
changed.

usage: doxy_header.py HEADER OUT.h
"""
import re
import sys

# The families of docs/conventions.md, longest prefix first, and their titles.
FAMILIES = {
    "chan": "Channels: one message API over every transport",
    "pipe": "Pipes",
    "fifo": "FIFOs (named pipes)",
    "sock": "Sockets (Unix, TCP, UDP)",
    "sock_listener": "Socket listeners",
    "mq": "POSIX message queues",
    "msgq": "System V message queues",
    "shm": "POSIX shared memory",
    "shm_segment": "System V shared memory segments",
    "file": "Mapped files",
    "region": "Regions: mapped memory with bounded copies",
    "ring": "Shared-memory rings",
    "sem": "POSIX semaphores",
    "semset": "System V semaphore sets",
    "mutex": "Robust process-shared mutexes",
    "cond": "Process-shared condition variables",
    "signal": "Signals",
    "sigset": "Signal sets",
    "signalfd": "Signal descriptors",
    "notifier": "Handler-safe notifiers",
    "options": "Options shared by every mechanism",
    "inspect": "Inspection and cleanup of IPC objects",
    "object_list": "Lists of IPC objects",
    "sysv": "System V keys",
}
# Names whose prefix is not their family's.
SPECIAL = {
    "semop": "semset", "siginfo": "signal", "sigval": "signal", "object": "inspect",
    "key": "sysv", "sa": "signal",
}
LIBRARY = "library"
LIBRARY_TITLE = "Status codes, errors, versions, flags and timeouts shared by every family"
PARAGRAPHS = ("Returns", "Errors", "Ownership", "Fork", "Semantics", "Thread safety",
              "Blocking", "Signals", "Notes", "Note", "Limits", "Example")


def family_of(name):
    base = name.lower()
    base = base[len("ipcx_"):] if base.startswith("ipcx_") else base
    for fam in sorted(FAMILIES, key=len, reverse=True):
        if base == fam or base.startswith(fam + "_"):
            return fam
    for pre, fam in SPECIAL.items():
        if base == pre or base.startswith(pre + "_"):
            return fam
    return LIBRARY


def item_name(line):
    """The name a declaration line declares, or None (struct bodies, blank lines)."""
    for pat in (r"#define (IPCX_\w+)", r"typedef struct (ipcx_\w+) \1;",
                r"typedef [^(]*\(\*(ipcx_\w+)\)\(", r"typedef [\w ]+?\b(ipcx_\w+);",
                r"[A-Za-z_][\w \*]*?\b(ipcx_\w+)\("):
        m = re.match(pat, line)
        if m:
            return m.group(1)
    return None


def block_target(lines, i):
    """Name declared by the item that starts at lines[i] (for typedef struct {: the name
    after its closing brace)."""
    line = lines[i]
    if re.match(r"typedef (struct|enum|union) \{", line):
        for j in range(i + 1, len(lines)):
            m = re.match(r"\} (ipcx_\w+);", lines[j])
            if m:
                return m.group(1)
        return None
    return item_name(line)


def escape(text):
    """Outside `code` spans, @ and \\ start Doxygen commands (`unix:@name` would be
    `@name`): escape them."""
    parts = text.split("`")
    for k in range(0, len(parts), 2):
        parts[k] = re.sub(r"([@\\])", r"\\\1", parts[k])
    return "`".join(parts)


def doxy_comment(block, indent):
    out = []
    for text in block:
        text = escape(text)
        m = re.match(r"# (\w[\w ]*)$", text)
        if m:
            out.append(f"{indent}/// \\par {m.group(1)}")
            continue
        m = re.match(r"(%s): ?(.*)$" % "|".join(PARAGRAPHS), text)
        if m:
            out.append(f"{indent}/// \\par {m.group(1)}")
            if m.group(2):
                out.append(f"{indent}/// {m.group(2)}")
            continue
        out.append(f"{indent}/// {text}" if text else f"{indent}///")
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
    out, block, used = [], [], set()
    counts = {}
    # The C++ linkage block means nothing to the reference (and Doxygen would give the
    # first function's comment to the block).
    cxx = re.compile(r'#ifdef __cplusplus|extern "C" \{|\}  // extern "C"|#endif +// __cplusplus')
    lines = [ln for ln in lines if not cxx.match(ln)]
    for i, line in enumerate(lines):
        m = re.match(r"(\s*)// ?(.*)$", line)
        if m and not line.lstrip().startswith("///"):
            block.append((m.group(1), m.group(2)))
            continue
        name = block_target(lines, i) if not line.startswith((" ", "\t")) else None
        if block:
            indent = block[0][0]
            out += doxy_comment([t for _, t in block], indent)
            block = []
            if name and name != "IPCX_H":
                fam = family_of(name)
                used.add(fam)
                counts[fam] = counts.get(fam, 0) + 1
                out.append(f"{indent}/// \\ingroup ipcx_{fam}")
        elif name and name != "IPCX_H":
            fam = family_of(name)
            used.add(fam)
            counts[fam] = counts.get(fam, 0) + 1
            out.append(f"/// \\ingroup ipcx_{fam}")
        out.append(line)
    groups = ["/// \\file ipcx.h", "/// The ipcx C API (generated by cbindgen from the Rust sources).", ""]
    for fam in sorted(used):
        title = LIBRARY_TITLE if fam == LIBRARY else FAMILIES[fam]
        groups += [f"/// \\defgroup ipcx_{fam} {title}", "/// \\ingroup ipcx", ""]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(groups + out) + "\n")
    unused = sorted(set(FAMILIES) - used)
    if unused:
        sys.exit(f"doxy_header.py: families with nothing in them: {unused}")
    print("doxy_header.py: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
