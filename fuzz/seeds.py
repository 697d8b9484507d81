#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Write the seed inputs of fuzz/corpus/<target>/seed-* (small, hand-made starting points
in each harness's input format; see the module comment of src/fuzz/<target>.rs or
src/ring/fuzz.rs). Re-run after changing a harness's input format; fuzzer-found inputs
worth keeping are committed next to them as regress-* (findings) or found-* files."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


u8 = lambda v: struct.pack("<B", v & 0xFF)
u16 = lambda v: struct.pack("<H", v & 0xFFFF)
u32 = lambda v: struct.pack("<I", v & 0xFFFFFFFF)
u64 = lambda v: struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def frame(m):
    return struct.pack(">I", len(m)) + m


# frame: flags, [max u32 when flags&3 in (0,1)], script length u16, script, stream.
def frame_seed(name, flags, maxlen, script, stream):
    head = u8(flags) + (u32(maxlen) if flags & 3 in (0, 1) else b"")
    put("frame", name, head + u16(len(script)) + script + stream)


recv = lambda cap: u8(0) + u16(cap) + u8(0)
frame_seed("valid-three", 0, 4096, recv(4096) * 4,
           frame(b"hello") + frame(b"") + frame(b"x" * 300))
frame_seed("too-big-then-fits", 0, 4096, recv(3) + recv(16) + recv(16),
           frame(b"0123456789"))
frame_seed("above-max", 0, 8, recv(100) * 2, frame(b"0123456789"))
frame_seed("length-4g", 2, 0, recv(100) * 2, b"\xff\xff\xff\xff" + b"abc")
frame_seed("chunked-partial", 4, 0,
           u8(2) + u16(1) + recv(64) + u8(3) + u16(2) + recv(64) + u8(4) + recv(64) + recv(64),
           frame(b"split across reads") + frame(b"second"))
frame_seed("eintr-mid-header", 1, 65536,
           u8(2) + u16(2) + u8(5) + recv(64) + recv(64) + recv(64), frame(b"abc"))
frame_seed("stream-mode", 0, 4096, (u8(1) + u8(3)) * 4, frame(b"abcdef"))
frame_seed("writer", 16, 4096,
           u8(6) + u16(10) + u8(1) + u8(8) + u16(7) + u16(3) + u8(7) + u16(600) + u8(2) + u8(9),
           b"")

# ring: flags (bit0 MPMC, bit1 8 KiB), then ops (op % 12): 0|1 send len u16, fill u8;
# 2|3 recv cap u16; 4 reserve; 5 borrow; 6..8 hostile write sel u8, at u16, kind u8, value;
# 9 re-attach.
send = lambda n, fill=1: u8(0) + u16(n) + u8(fill)
rrecv = lambda n: u8(2) + u16(n)
for fl in (0, 1, 3):
    put("ring", "fifo-%d" % fl, u8(fl) + send(10) + send(100, 2) + rrecv(4096) + rrecv(4) + rrecv(4096))
    put("ring", "wrap-%d" % fl, u8(fl) + (send(1000) + rrecv(4096)) * 12)
    put("ring", "reserve-borrow-%d" % fl,
        u8(fl) + u8(4) + u16(200) + u16(50) + u8(0) + u8(7) + u8(5) + u8(0) + u8(9) + u8(0) + rrecv(4096))
put("ring", "hostile-index", u8(1) + send(10) + u8(6) + u8(0) + u16(0) + u8(2) + u8(0) + send(10) + rrecv(4096))

# names: selector byte, then the name.
for i, n in enumerate([b"/ok", b"/", b"/.", b"/..", b"/a/b", b"relative", b"@abstract", b"@",
                       b"/tmp/x\x00y", "/\u00e9t\u00e9".encode(), b"\xff\xfe"]):
    put("names", "n%02d" % i, u8(i) + n)
put("names", "long-posix", u8(0x80 | 0x40 | 6) + b"abc")
# A POSIX name of the kernel's length (a slash and 255 bytes: IPCX_SHM_NAME_MAX), accepted.
put("names", "posix-kernel-max", u8(0x80 | 0x40 | 8) + b"abc")
put("names", "long-path", u8(0x80 | 9) + b"/d/")

# addr: even selector = text; odd = raw sockaddr (family by (sel>>1)%4, len u16, bytes).
for i, s in enumerate(["127.0.0.1:80", "[::1]:443", "[fe80::1%1]:9", "*:0", ":7", "host:http",
                       "a:70000", "[::1", "1.2.3.4", "@abs", "/tmp/sock", "::1:80",
                       "[::ffff:1.2.3.4]:1"]):
    put("addr", "t%02d" % i, u8(2 * (i % 4)) + s.encode())
for i, s in enumerate(["pipe:", "fifo:/tmp/f", "unix:/tmp/s", "unix:", "unix:@x",
                       "tcp:127.0.0.1:80", "mq:/q", "sysvmq:1234/5", "sysvmq:0x10", "shm:/r",
                       "shm:", "bogus:x", "unix-abstract:x", "unix:@@x", "unix:@"]):
    put("addr", "chan%02d" % i, u8(0) + s.encode())
put("addr", "raw-unix", u8(1) + u16(2 + 8) + b"/tmp/s\x00\x00")
put("addr", "raw-unix-abstract", u8(1) + u16(2 + 4) + b"\x00abc")
put("addr", "raw-inet", u8(3) + u16(16) + b"\x00\x50\x7f\x00\x00\x01" + b"\x00" * 8)
put("addr", "raw-inet6", u8(5) + u16(28) + b"\x01\xbb" + b"\x00" * 4 + b"\x00" * 15 + b"\x01" + u32(3))
put("addr", "raw-odd-family", u8(7) + u16(0x4242) + u16(300) + b"z" * 200)

# msgq: ops: even = send (type sel, [value], len u16); odd = recv (type sel, flags u8, cap u16).
def mtype(kind, v=0):
    return u8(kind) + (u8(v) if kind == 2 else u64(v) if kind == 3 else b"")
msend = lambda k, n, v=0: u8(0) + mtype(k, v) + u16(n)
mrecv = lambda k, f, cap, v=0: u8(1) + mtype(k, v) + u8(f) + u16(cap)
put("msgq", "fifo", msend(4, 10) + msend(5, 20) + mrecv(4, 0, 100) + mrecv(4, 0, 100))
put("msgq", "select-lowest", msend(5, 5) + msend(4, 5) + mrecv(2, 0, 100, 7) + mrecv(0, 0, 100))
put("msgq", "too-big-truncate", msend(4, 300) + mrecv(4, 0, 10) + mrecv(4, 2, 10))
put("msgq", "except", msend(5, 1) + msend(4, 1) + mrecv(5, 1, 100) + mrecv(1, 1, 100))
put("msgq", "bad-types", msend(0, 1) + msend(2, 1, 3) + mrecv(3, 0, 10, 2**63))

# cmsg: even selector = control bytes (len u16, bytes); odd = hand-over (total, room, cut).
hdr = lambda ln, level, typ: u64(ln) + struct.pack("<ii", level, typ)
put("cmsg", "scm-rights-2", u8(0) + u16(24) + hdr(24, 1, 1) + struct.pack("<ii", -1, -1))
put("cmsg", "two-headers", u8(0) + u16(48) + hdr(20, 1, 1) + b"\xff" * 4 + b"\x00" * 4 +
    hdr(20, 1, 2) + b"\x00" * 8)
put("cmsg", "handover-fits", u8(1) + u8(3) + u8(5) + u8(0))
put("cmsg", "handover-short", u8(1) + u8(5) + u8(2) + u8(0))
put("cmsg", "handover-ctrunc", u8(1) + u8(2) + u8(2) + u8(1))
