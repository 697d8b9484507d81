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
for i, s in enumerate(["nng+tcp:127.0.0.1:5555", "nng+ipc:/tmp/n", "nng+ipc:@n", "zmq+tcp:[::1]:0",
                       "zmq+ipc:/tmp/z", "zmq+ipc:@z", "zmq+ipc:@@z", "nng+tcp:", "zmq+ipc:",
                       "zmq+tcp:tcp://a:1", "nng+ipc:abstract://n", "nng+udp:x"]):
    put("addr", "peer%02d" % i, u8(0) + s.encode())
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

# sp and zmtp (src/fuzz/peer.rs): flags (sp: bit0 IPC; bits 1-2 max: 0 u32 % 70000, 1 u32,
# 2 1 MiB, 3 none; bit3 nothing arrived yet), [max u32], script length u16, script, stream.
# Ops (op % 6): 0 recv cap u16 + u8 (bit0: +64 KiB); 1 chunk u16; 2 release u16;
# 3 release all; 4 EINTR; 5 header round trip len u64.
def peer_seed(target, name, flags, maxlen, script, stream):
    head = u8(flags) + (u32(maxlen) if (flags >> 1) & 3 in (0, 1) else b"")
    put(target, name, head + u16(len(script)) + script + stream)


precv = lambda cap, big=0: u8(0) + u16(cap) + u8(big)
chunk = lambda n: u8(1) + u16(n)
release = lambda n: u8(2) + u16(n)
RALL, EINTR = u8(3), u8(4)
rtrip = lambda n: u8(5) + u64(n)
be64 = lambda v: struct.pack(">Q", v)
SP_PUSH = b"\x00SP\x00\x00\x50\x00\x00"
sp_tcp = lambda m: be64(len(m)) + m
sp_ipc = lambda m: b"\x01" + be64(len(m)) + m
msgs = [b"hello", b"", b"x" * 300, b"y" * 70000]
for ipc, fr in ((0, sp_tcp), (1, sp_ipc)):
    t = "ipc" if ipc else "tcp"
    peer_seed("sp", t + "-valid", ipc | 4, 0, precv(100, 1) * 5, SP_PUSH + b"".join(fr(m) for m in msgs))
    peer_seed("sp", t + "-too-small", ipc | 4, 0, precv(3) + precv(5), SP_PUSH + fr(b"hello"))
    peer_seed("sp", t + "-length-2-63", ipc | 6, 0, precv(100) * 2,
              SP_PUSH + (b"\x01" if ipc else b"") + be64(1 << 63) + b"abc")
    peer_seed("sp", t + "-above-max", ipc, 10, precv(100) * 2, SP_PUSH + fr(b"0123456789a"))
    peer_seed("sp", t + "-stranger", ipc | 4, 0, precv(100) * 2, b"GET / HTTP/1.1\r\n\r\n")
    peer_seed("sp", t + "-zmtp-greeting", ipc | 4, 0, precv(100), b"\xff" + b"\x00" * 8 + b"\x7f")
    peer_seed("sp", t + "-wrong-protocol", ipc | 4, 0, precv(100), b"\x00SP\x00\x00\x51\x00\x00")
    peer_seed("sp", t + "-reserved", ipc | 4, 0, precv(100), b"\x00SP\x00\x00\x50\x00\x01")
    peer_seed("sp", t + "-partial", ipc | 4 | 8, 0,
              release(3) + precv(100) + release(6) + precv(100) + chunk(2) + release(20) + precv(100) +
              RALL + precv(100) + precv(100), SP_PUSH + fr(b"split across reads") + fr(b"two"))
    peer_seed("sp", t + "-eintr", ipc | 4 | 8, 0,
              EINTR + precv(100) + release(12) + EINTR + precv(100) + RALL + precv(100) + precv(100),
              SP_PUSH + fr(b"abc"))
    peer_seed("sp", t + "-round-trips", ipc | 4, 0, rtrip(0) + rtrip(255) + rtrip(1 << 40), b"")
peer_seed("sp", "ipc-bad-type", 1 | 4, 0, precv(100) * 2, SP_PUSH + b"\x02" + be64(3) + b"abc")

# ZMTP: greeting, READY (Socket-Type PUSH), frames.
def greeting(mech=b"NULL", major=3, sig9=0x7f):
    return b"\xff" + b"\x00" * 7 + b"\x01" + bytes([sig9, major, 1]) + mech.ljust(20, b"\x00") + b"\x00" * 32


def zframe(flags, body):
    if len(body) <= 255 and not flags & 2:
        return bytes([flags, len(body)]) + body
    return bytes([flags | 2]) + be64(len(body)) + body


def zcmd(name, data=b""):
    return zframe(4, bytes([len(name)]) + name + data)


def prop(name, value):
    return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value


READY = zcmd(b"READY", prop(b"Socket-Type", b"PUSH"))
HELLO = greeting() + READY
zmsg = lambda m, more=0: zframe(1 if more else 0, m)
peer_seed("zmtp", "valid", 4, 0, precv(100, 1) * 5, HELLO + b"".join(zmsg(m) for m in msgs))
peer_seed("zmtp", "long-frame-short-size", 4, 0, precv(100) * 2, HELLO + bytes([2]) + be64(3) + b"abc")
peer_seed("zmtp", "multipart-refused", 4, 0, precv(100) * 3,
          HELLO + zmsg(b"one", 1) + zmsg(b"two", 1) + zmsg(b"three") + zmsg(b"after"))
peer_seed("zmtp", "multipart-above-max", 0, 10, precv(100) * 3,
          HELLO + zmsg(b"123456", 1) + zmsg(b"789012") + zmsg(b"after"))
peer_seed("zmtp", "ping-pong", 4, 0, precv(100) * 2,
          HELLO + zcmd(b"PING", b"\x00\x0actx") + zmsg(b"m") + zcmd(b"PING", b"\x00\x01" + b"c" * 20))
peer_seed("zmtp", "error", 4, 0, precv(100), greeting() + zcmd(b"ERROR", b"\x04nope"))
peer_seed("zmtp", "curve", 4, 0, precv(100), greeting(b"CURVE") + READY)
peer_seed("zmtp", "zmtp2", 4, 0, precv(100), greeting(major=2) + READY)
peer_seed("zmtp", "sp-header", 4, 0, precv(100), SP_PUSH)
peer_seed("zmtp", "signature-bit", 4, 0, precv(100), greeting(sig9=0x7e))
peer_seed("zmtp", "wrong-type", 4, 0, precv(100),
          greeting() + zcmd(b"READY", prop(b"socket-type", b"PULL")))
peer_seed("zmtp", "no-type", 4, 0, precv(100), greeting() + zcmd(b"READY", prop(b"Identity", b"")))
peer_seed("zmtp", "cut-property", 4, 0, precv(100), greeting() + zcmd(b"READY", b"\x0bSocket-Type\x00\x00"))
peer_seed("zmtp", "message-before-ready", 4, 0, precv(100), greeting() + zmsg(b"early"))
peer_seed("zmtp", "command-before-ready", 4, 0, precv(100), greeting() + zcmd(b"PING", b"\x00\x01"))
peer_seed("zmtp", "second-ready", 4, 0, precv(100), HELLO + READY)
peer_seed("zmtp", "reserved-flags", 4, 0, precv(100), HELLO + b"\x80\x00")
peer_seed("zmtp", "command-more", 4, 0, precv(100), HELLO + b"\x05\x00")
peer_seed("zmtp", "length-2-63", 6, 0, precv(100) * 2, HELLO + b"\x02" + be64(1 << 63))
peer_seed("zmtp", "command-2-63", 4, 0, precv(100) * 2, HELLO + b"\x06" + be64(1 << 63))
peer_seed("zmtp", "command-above-limit", 4, 0, precv(100), HELLO + b"\x06" + be64(65537))
peer_seed("zmtp", "empty-command", 4, 0, precv(100), HELLO + b"\x04\x00")
peer_seed("zmtp", "partial", 4 | 8, 0,
          release(5) + precv(100) + release(60) + precv(100) + chunk(3) + release(40) + precv(100) +
          RALL + precv(100) * 3, HELLO + zmsg(b"one", 1) + zmsg(b"two") + zmsg(b"x" * 400))
peer_seed("zmtp", "eintr", 4 | 8, 0,
          EINTR + precv(100) + release(70) + EINTR + precv(100) + RALL + EINTR + precv(100) + precv(100),
          HELLO + zmsg(b"abc"))
peer_seed("zmtp", "round-trips", 4, 0, rtrip(0) + rtrip(255) + rtrip(256) + rtrip(1 << 63), b"")
