#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Check include/ipcx.h against the rules of docs/conventions.md that a script can check.

    tests/lint_header.py [include/ipcx.h]
    tests/lint_header.py --self-test     (every rule catches a seeded violation)

Rules:
  flags      Constants documented as "Flag ..." are single bits. IPCX_OPEN_* are the open
             flags (bits 0-15, the same values everywhere); every other flag is
             IPCX_<FAMILY>_* in bits 16-31, distinct within its family.
  order      Parameters named out_* come last; timeout_ms comes right before them; flags
             come before opts, and both before timeout_ms; no parameter named like an
             out-parameter (len aside) without the out_ prefix after timeout_ms.
  release    Every handle type has exactly one release function, ipcx_<type>_close(ipcx_<type> *),
             and no function is named _free, _delete, _release_handle or _destroy_handle.
  const      Getters (_fd, _fds, _stat, _id, _value, _size, _capacity, _base, _count, _get,
             _get_all, _warnings, _address, _waiters, _pid, _peer_credentials) take a const
             handle; _close, _remove, _destroy and _set_<setting> never do.
  types      Flags are uint32_t, System V ids int32_t, timeouts int64_t; no `int type`.
  structs    Every struct the library fills (ipcx_*_info, ipcx_siginfo,
             ipcx_signal_disposition) starts with `uint32_t size`.
Exit status 1 with one line per violation.
"""
import re
import sys

def lint(text):
    """The violations of `text` (a header), one string each."""
    errors = []


    def err(rule, msg):
        errors.append(f"{rule}: {msg}")


    # ------------------------------------------------------------------ constants and their docs
    lines = text.splitlines()
    consts = {}  # name -> (value, doc)
    doc = []
    for line in lines:
        s = line.strip()
        if s.startswith("//"):
            doc.append(s[2:].strip())
            continue
        m = re.match(r"#define (IPCX_\w+) \(?(?:\(\w+\))?(-?\w+)\)?$", s)
        if m:
            try:
                consts[m.group(1)] = (int(m.group(2), 0), " ".join(doc))
            except ValueError:
                pass
        if s or not doc:
            doc = [] if not s.startswith("//") else doc
        if not s:
            doc = []

    flags = {n: v for n, (v, d) in consts.items() if d.startswith("Flag")}
    for n, (v, d) in consts.items():
        if re.match(r"(`[\w.]+` flag\b|\w+ flag\b)", d) and not d.startswith("Flag"):
            err("flags", f"{n}: document flags as `Flag (function): ...` (doc: {d[:40]!r})")
    open_flags = {n: v for n, v in flags.items() if n.startswith("IPCX_OPEN_")}
    if "ipcx_version" in text:
        for n in ["IPCX_OPEN_CREATE", "IPCX_OPEN_EXCLUSIVE", "IPCX_OPEN_READ", "IPCX_OPEN_WRITE"]:
            if n not in open_flags:
                err("flags", f"{n} is missing or not documented as a flag")
    families = {}
    for n, v in flags.items():
        if v <= 0 or v & (v - 1):
            err("flags", f"{n} = {v:#x} is not a single bit")
        if n.startswith("IPCX_OPEN_"):
            if v >= 1 << 16:
                err("flags", f"{n} = {v:#x}: open flags use bits 0-15")
            continue
        if v < 1 << 16:
            err("flags", f"{n} = {v:#x}: family flags use bits 16-31")
        fam = n.split("_")[1]
        families.setdefault(fam, {}).setdefault(v, []).append(n)
    for fam, by_value in families.items():
        for v, names in by_value.items():
            if len(names) > 1:
                err("flags", f"family {fam}: {', '.join(names)} share the value {v:#x}")
    if len(set(open_flags.values())) != len(open_flags):
        err("flags", "two IPCX_OPEN_* flags share a value")

    # ------------------------------------------------------------------ types
    handles = set(re.findall(r"typedef struct (ipcx_\w+) \1;", text))
    structs = {}
    for m in re.finditer(r"typedef struct \{(.*?)\} (ipcx_\w+);", text, re.S):
        body = "\n".join(l for l in m.group(1).splitlines() if not l.strip().startswith("//"))
        fields = [f.strip() for f in body.split(";") if f.strip()]
        structs[m.group(2)] = fields
    for name, fields in structs.items():
        filled = name.endswith("_info") or name in ("ipcx_siginfo", "ipcx_signal_disposition")
        if filled and (not fields or fields[0] != "uint32_t size"):
            err("structs", f"{name} must start with `uint32_t size` (starts with {fields[:1]})")
        for f in fields:
            if re.search(r"\[\d{3,}\]", f):
                err("structs", f"{name}: inline array `{f}` cannot grow; use a pointer")

    # ------------------------------------------------------------------ functions
    protos = re.findall(r"^(?:[\w ]+?\**) ?\**(ipcx_\w+)\((.*?)\);", text, re.M | re.S)
    if len(protos) < 150 and "ipcx_version" in text:
        err("parse", f"only {len(protos)} prototypes found")
    funcs = {}
    for name, params in protos:
        ps = []
        for p in params.split(","):
            p = " ".join(p.split())
            if p in ("void", ""):
                continue
            m = re.match(r"(.*?)(\w+)$", p)
            ps.append((m.group(1).strip(), m.group(2)))
        funcs[name] = ps

    GETTERS = {"_fd", "_fds", "_stat", "_id", "_value", "_size", "_capacity", "_base", "_count",
               "_get", "_get_all", "_warnings", "_address", "_local_address", "_peer_address",
               "_waiters", "_pid", "_peer_credentials"}
    DESTRUCTIVE = ("_close", "_remove", "_destroy")


    def handle_type(ctype):
        m = re.match(r"(const )?(ipcx_\w+) \*$", ctype)
        if m and m.group(2) in handles:
            return m.group(2), bool(m.group(1))
        return None, None


    for name, ps in funcs.items():
        names = [n for _, n in ps]
        # order
        outs = [i for i, n in enumerate(names) if n.startswith("out_")]
        if outs and outs != list(range(len(names) - len(outs), len(names))):
            err("order", f"{name}: out_* parameters must come last ({', '.join(names)})")
        if "timeout_ms" in names:
            t = names.index("timeout_ms")
            if any(not n.startswith("out_") for n in names[t + 1:]):
                err("order", f"{name}: only out_* parameters may follow timeout_ms ({', '.join(names)})")
            if ps[t][0] != "int64_t":
                err("types", f"{name}: timeout_ms is {ps[t][0]}, not int64_t")
        if "flags" in names and "opts" in names and names.index("flags") > names.index("opts"):
            err("order", f"{name}: flags must come before opts")
        if "opts" in names and "timeout_ms" in names and names.index("opts") > names.index("timeout_ms"):
            err("order", f"{name}: opts must come before timeout_ms")
        for ctype, n in ps:
            if n == "flags" and ctype != "uint32_t":
                err("types", f"{name}: flags is {ctype}, not uint32_t")
            if n in ("id", "out_id") and ctype not in ("int32_t", "int32_t *"):
                err("types", f"{name}: {n} is {ctype}, not int32_t")
            if n == "type" and ctype == "int":
                err("types", f"{name}: `int type`: socket types are flags")
            if n.startswith("out_") and (ctype.startswith("const ") and not ctype.endswith("**")):
                err("order", f"{name}: out-parameter {n} is const ({ctype})")
        # release verbs
        if re.search(r"_(free|delete)$", name):
            err("release", f"{name}: the release verb is _close")
        # const
        if ps:
            h, is_const = handle_type(ps[0][0])
            if h and name.startswith(h + "_"):
                verb = name[len(h):]
                if verb in GETTERS and not is_const:
                    err("const", f"{name}: a getter takes `const {h} *`")
                # _set_<setting> changes the handle; ipcx_semset_set_all sets semaphore values.
                setting = verb.startswith("_set_") and verb != "_set_all"
                if (verb in DESTRUCTIVE or setting) and is_const:
                    err("const", f"{name}: {verb} changes the handle: not const")

    for h in sorted(handles):
        close = funcs.get(h + "_close")
        if close is None:
            err("release", f"{h} has no {h}_close")
        elif [c for c, _ in close] != [h + " *"]:
            err("release", f"{h}_close must take exactly `{h} *` (takes {close})")

    return errors, (len(funcs), len(handles), len(flags), len(structs))


SELF_TEST = [
    # (rule expected, header text)
    ("flags", "// Flag: x.\n#define IPCX_OPEN_CREATE 3\n"),
    ("flags", "// Flag: x.\n#define IPCX_FIFO_KEEP_OPEN 8\n"),
    ("flags", "// Flag: a.\n#define IPCX_RING_A 65536\n\n// Flag: b.\n#define IPCX_RING_B 65536\n"),
    ("flags", "// `ipcx_x_recv` flag: something.\n#define IPCX_X_THING 65536\n"),
    ("order", "ipcx_status ipcx_x_recv(int a, int64_t timeout_ms, size_t *count);\n"),
    ("order", "ipcx_status ipcx_x_open(int *out_a, int b);\n"),
    ("order", "ipcx_status ipcx_x_open(const ipcx_options *opts, uint32_t flags);\n"),
    ("types", "ipcx_status ipcx_x_pair(int type, int *out_a);\n"),
    ("release", "typedef struct ipcx_thing ipcx_thing;\nipcx_status ipcx_thing_free(ipcx_thing *t);\n"),
    ("const", "typedef struct ipcx_thing ipcx_thing;\nipcx_status ipcx_thing_fd(ipcx_thing *t, int *out_fd);\n"),
    ("const", "typedef struct ipcx_thing ipcx_thing;\nipcx_status ipcx_thing_close(const ipcx_thing *t);\n"),
    ("structs", "typedef struct {\n  int32_t id;\n} ipcx_thing_info;\n"),
]


def self_test():
    """Each rule must catch its seeded violation (a lint that cannot fail proves nothing)."""
    ok = True
    for rule, text in SELF_TEST:
        errors, _ = lint(text)
        if not any(e.startswith(rule + ":") for e in errors):
            print(f"self-test: the {rule} rule missed:\n{text}")
            ok = False
    print(f"lint_header self-test: {len(SELF_TEST)} seeded violations, "
          f"{'all caught' if ok else 'some missed'}")
    return ok


if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
    sys.exit(0 if self_test() else 1)
path = sys.argv[1] if len(sys.argv) > 1 else "include/ipcx.h"
errors, (nf, nh, nfl, ns) = lint(open(path).read())
for e in errors:
    print(e)
print(f"lint_header: {nf} functions, {nh} handle types, {nfl} flags, {ns} structs: "
      f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
