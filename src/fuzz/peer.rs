// SPDX-License-Identifier: MIT OR Apache-2.0
//! The wire protocols of other libraries (src/frame/peer.rs, sp.rs, zmtp.rs): a receiving
//! [`PeerReader`] (a PULL side) against a hostile byte stream from a peer, in nng's SP
//! over TCP or IPC (target `sp`) or ZeroMQ's ZMTP 3.1 (target `zmtp`).
//!
//! Input: `flags`, `max` (u32, when flags ask for it), `script length` (u16), the script,
//! then the stream. The script interleaves receives with any buffer size, changes of the
//! read chunking, partial arrival (the transport says EAGAIN until more bytes are
//! released: timeouts inside handshakes, headers, messages and refused parts), EINTR,
//! and round trips of the senders' message headers through the decoder.
//!
//! Oracle: a reference parse of the stream ([`Model`]), written from the protocols'
//! rules, independent of the reader: every receive must return what it says (the next
//! message's exact bytes, `IPCX_ERR_TOO_BIG` with its length, `IPCX_ERR_PROTOCOL` for a
//! stranger, a failed handshake or a length above the maximum (sticky) and once for a
//! refused multipart message, `IPCX_ERR_TIMEOUT` while a unit is incomplete,
//! `IPCX_ERR_CLOSED` at the end), and a ZMTP PING must be answered by the PONG it asks
//! for. The fuzz binaries' allocator aborts on any allocation above 4 MiB: a reader
//! that sized a buffer from a peer's length (2^63) would be caught.

use std::io::{IoSlice, IoSliceMut};

use nix::errno::Errno;

use super::Input;
use crate::error::{Error, Result, Status};
use crate::frame::Transport;
use crate::frame::peer::{CONTROL_MAX, Head, PeerReader, Wire};
use crate::frame::sp::Sp;
use crate::frame::zmtp::Zmtp;
use crate::time::Deadline;

/// The stream as the kernel would deliver it.
struct Feed<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bytes released so far: reads past this say EAGAIN (end of file once all are).
    avail: usize,
    chunk: usize,
    eintr: bool,
}

impl Transport for Feed<'_> {
    fn read(
        &mut self,
        bufs: &mut [IoSliceMut<'_>],
        _: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        if self.eintr {
            self.eintr = false;
            return Err(Errno::EINTR);
        }
        if self.pos == self.avail {
            return if self.avail == self.data.len() {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let mut n = 0;
        let limit = self.chunk.min(self.avail - self.pos);
        for b in bufs.iter_mut() {
            let k = b.len().min(limit - n);
            b[..k].copy_from_slice(&self.data[self.pos..self.pos + k]);
            self.pos += k;
            n += k;
            if n == limit {
                break;
            }
        }
        Ok(n)
    }

    fn write(&mut self, _: &[IoSlice<'_>], _: &Deadline) -> std::result::Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn wait(&mut self, _: bool, deadline: &Deadline) -> Result<()> {
        Err(deadline.timeout_error("feed"))
    }

    fn describe(&self) -> String {
        "feed".into()
    }
}

/// What a receive must return.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Expect {
    Msg(usize),
    TooBig(usize),
    Protocol,
    Timeout,
    Closed,
}

fn status_of(e: &Error) -> Expect {
    match e.status {
        Status::IPCX_ERR_TOO_BIG => Expect::TooBig(e.needed),
        Status::IPCX_ERR_PROTOCOL => Expect::Protocol,
        Status::IPCX_ERR_TIMEOUT => Expect::Timeout,
        Status::IPCX_ERR_CLOSED => Expect::Closed,
        s => panic!("unexpected status {s:?}: {}", e.msg),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    SpTcp,
    SpIpc,
    Zmtp,
}

/// The reference parse: the reader's logical position and state.
#[derive(Clone, Debug)]
struct Model<'a> {
    s: &'a [u8],
    proto: Proto,
    pos: usize,
    max: usize,
    broken: bool,
    /// 0: hello; 1: ZMTP before READY; 2: messages.
    phase: u8,
    /// A multipart message being refused: its parts' total so far.
    refusing: Option<u64>,
    /// PONGs the PINGs so far ask for, in wire format.
    pongs: Vec<u8>,
}

/// One step of the parse: a unit needs more bytes, or ends the call, or was consumed.
enum Step {
    Need,
    Done(Expect),
    Next,
}

fn be64(p: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[..8]);
    u64::from_be_bytes(b)
}

impl Model<'_> {
    /// The result of a receive with a buffer of `cap` bytes when the stream's first
    /// `avail` bytes have arrived (`all`: and it ends there).
    fn recv(&mut self, cap: usize, avail: usize, all: bool) -> Expect {
        if self.broken {
            return Expect::Protocol;
        }
        loop {
            let p = &self.s[self.pos..avail];
            match self.step(p, cap, all) {
                Step::Next => {}
                Step::Done(e) => return e,
                Step::Need => return if all { Expect::Closed } else { Expect::Timeout },
            }
        }
    }

    fn protocol(&mut self) -> Step {
        self.broken = true;
        Step::Done(Expect::Protocol)
    }

    fn step(&mut self, p: &[u8], cap: usize, all: bool) -> Step {
        match (self.proto, self.phase) {
            (Proto::SpTcp | Proto::SpIpc, 0) => {
                let sig = [0, b'S', b'P', 0];
                let n = p.len().min(4);
                if p[..n] != sig[..n] {
                    return self.protocol();
                }
                if p.len() < 8 {
                    return Step::Need;
                }
                // A PUSH peer (0x50), reserved bytes zero.
                if p[4..8] != [0, 0x50, 0, 0] {
                    return self.protocol();
                }
                self.pos += 8;
                self.phase = 2;
                Step::Next
            }
            (Proto::SpTcp | Proto::SpIpc, _) => {
                let ipc = self.proto == Proto::SpIpc;
                let hdr = if ipc { 9 } else { 8 };
                if p.len() < hdr {
                    return Step::Need;
                }
                if ipc && p[0] != 1 {
                    return self.protocol();
                }
                let len = be64(&p[hdr - 8..]);
                self.message(p, hdr, len, false, cap, all)
            }
            (Proto::Zmtp, 0) => {
                if p.first().is_some_and(|&b| b != 0xff) {
                    return self.protocol();
                }
                if p.len() < 10 {
                    return Step::Need;
                }
                if p[9] & 1 == 0 {
                    return self.protocol();
                }
                if p.len() < 64 {
                    return Step::Need;
                }
                let mut mech = [0u8; 20];
                mech[..4].copy_from_slice(b"NULL");
                if p[10] < 3 || p[12..32] != mech {
                    return self.protocol();
                }
                self.pos += 64;
                self.phase = 1;
                Step::Next
            }
            (Proto::Zmtp, _) => {
                let Some(&flags) = p.first() else {
                    return Step::Need;
                };
                if flags & 0xf8 != 0 || flags & 5 == 5 {
                    return self.protocol();
                }
                let hdr = if flags & 2 != 0 { 9 } else { 2 };
                if p.len() < hdr {
                    return Step::Need;
                }
                let len = if hdr == 9 { be64(&p[1..]) } else { p[1] as u64 };
                if flags & 4 == 0 {
                    if self.phase == 1 {
                        return self.protocol(); // a message before READY
                    }
                    return self.message(p, hdr, len, flags & 1 != 0, cap, all);
                }
                if len > CONTROL_MAX as u64 {
                    return self.protocol();
                }
                let end = hdr + len as usize;
                if p.len() < end {
                    return Step::Need;
                }
                if self.command(&p[hdr..end]) {
                    self.pos += end;
                    Step::Next
                } else {
                    self.protocol()
                }
            }
        }
    }

    /// A data frame of `len` bytes after a `hdr`-byte header (`more`: ZMTP's MORE).
    fn message(
        &mut self,
        p: &[u8],
        hdr: usize,
        len: u64,
        more: bool,
        cap: usize,
        all: bool,
    ) -> Step {
        if len > self.max as u64 {
            return self.protocol();
        }
        if more || self.refusing.is_some() {
            let total = self.refusing.unwrap_or(0) + len;
            if total > self.max as u64 {
                return self.protocol();
            }
            let end = hdr as u64 + len;
            if (p.len() as u64) < end {
                return Step::Need;
            }
            self.pos += end as usize;
            if more {
                self.refusing = Some(total);
                return Step::Next;
            }
            self.refusing = None;
            return Step::Done(Expect::Protocol); // refused once, not sticky
        }
        let len = len as usize;
        if len > cap {
            return Step::Done(Expect::TooBig(len));
        }
        if p.len() < hdr + len {
            if all {
                // The peer closed inside the message: what it sent of it is dropped.
                self.pos = self.s.len();
            }
            return Step::Need;
        }
        self.pos += hdr + len;
        Step::Done(Expect::Msg(len))
    }

    /// A ZMTP command's body: whether it is acceptable (READY, PING answered).
    fn command(&mut self, b: &[u8]) -> bool {
        let Some(&n) = b.first() else { return false };
        let n = n as usize;
        if b.len() < 1 + n {
            return false;
        }
        let (name, data) = (&b[1..1 + n], &b[1 + n..]);
        if self.phase == 1 {
            if name != b"READY" {
                return false;
            }
            let mut q = data;
            let mut ty = None;
            while !q.is_empty() {
                let k = q[0] as usize;
                if q.len() < 5 + k {
                    return false;
                }
                let v = u32::from_be_bytes([q[1 + k], q[2 + k], q[3 + k], q[4 + k]]) as usize;
                if q.len() - 5 - k < v {
                    return false;
                }
                if q[1..1 + k].eq_ignore_ascii_case(b"socket-type") {
                    ty = Some(&q[5 + k..5 + k + v]);
                }
                q = &q[5 + k + v..];
            }
            if ty != Some(&b"PUSH"[..]) {
                return false;
            }
            self.phase = 2;
            return true;
        }
        match name {
            b"READY" | b"ERROR" => false,
            b"PING" => {
                let ctx = data.get(2..).unwrap_or(&[]);
                let ctx = &ctx[..ctx.len().min(16)];
                self.pongs.extend_from_slice(&[4, 5 + ctx.len() as u8, 4]);
                self.pongs.extend_from_slice(b"PONG");
                self.pongs.extend_from_slice(ctx);
                true
            }
            _ => true,
        }
    }
}

/// The codec under test.
enum Codec {
    Sp(Sp),
    Zmtp(Zmtp),
}

impl Wire for Codec {
    fn head(&self, p: &[u8]) -> std::result::Result<Head, String> {
        match self {
            Codec::Sp(w) => w.head(p),
            Codec::Zmtp(w) => w.head(p),
        }
    }
    fn control(
        &mut self,
        kind: crate::frame::peer::Kind,
        hdr: &[u8],
        body: &[u8],
    ) -> std::result::Result<(), String> {
        match self {
            Codec::Sp(w) => w.control(kind, hdr, body),
            Codec::Zmtp(w) => w.control(kind, hdr, body),
        }
    }
    fn ready(&self) -> bool {
        match self {
            Codec::Sp(w) => w.ready(),
            Codec::Zmtp(w) => w.ready(),
        }
    }
    fn name(&self) -> &'static str {
        "fuzzed wire"
    }
}

/// The `sp` target: SP over TCP (flags bit 0 clear) or IPC.
pub fn run_sp(data: &[u8]) {
    let ipc = data.first().is_some_and(|f| f & 1 != 0);
    run(data, if ipc { Proto::SpIpc } else { Proto::SpTcp });
}

/// The `zmtp` target.
pub fn run_zmtp(data: &[u8]) {
    run(data, Proto::Zmtp);
}

fn run(data: &[u8], proto: Proto) {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let max = match (flags >> 1) & 3 {
        0 => inp.u32() as usize % 70_000,
        1 => inp.u32() as usize,
        2 => 1 << 20,
        _ => usize::MAX,
    };
    let script_len = inp.u16() as usize % 4096;
    let mut script = Input::new(inp.take(script_len));
    let stream = inp.rest();

    let mut feed = Feed {
        data: stream,
        pos: 0,
        avail: if flags & 8 != 0 { 0 } else { stream.len() },
        chunk: usize::MAX,
        eintr: false,
    };
    let mut codec = match proto {
        Proto::SpTcp => Codec::Sp(Sp::new(false, false)),
        Proto::SpIpc => Codec::Sp(Sp::new(false, true)),
        Proto::Zmtp => Codec::Zmtp(Zmtp::new(false)),
    };
    let mut reader = PeerReader::new(max);
    let mut model = Model {
        s: stream,
        proto,
        pos: 0,
        max,
        broken: false,
        phase: 0,
        refusing: None,
        pongs: Vec::new(),
    };
    let now = Deadline::now();
    let mut buf = vec![0u8; 1 << 17];

    while !script.is_empty() {
        match script.u8() % 6 {
            0 => {
                let cap = script.u16() as usize + if script.u8() & 1 != 0 { 65_536 } else { 0 };
                let before_pos = feed.pos;
                let eintr = feed.eintr;
                let out = &mut buf[..cap];
                let got = match reader.recv(&mut feed, &mut codec, out, &now) {
                    Ok(n) => Expect::Msg(n),
                    Err(e) => status_of(&e),
                };
                let expect = if eintr && !feed.eintr {
                    // The reader's first read of this call was interrupted, with the
                    // deadline passed: a timeout, after what it had buffered before.
                    let e = model.recv(cap, before_pos, false);
                    assert!(e == Expect::Timeout, "EINTR after {e:?}");
                    e
                } else {
                    model.recv(cap, feed.avail, feed.avail == stream.len())
                };
                assert_eq!(
                    got, expect,
                    "recv(cap {cap}) at stream offset {}",
                    model.pos
                );
                if let Expect::Msg(n) = got {
                    assert_eq!(
                        &out[..n],
                        &stream[model.pos - n..model.pos],
                        "message bytes"
                    );
                }
                if let Codec::Zmtp(z) = &mut codec {
                    assert_eq!(z.take_outbox(), std::mem::take(&mut model.pongs), "PONGs");
                }
            }
            1 => feed.chunk = 1 + script.u16() as usize % 8192,
            2 => feed.avail = (feed.avail + script.u16() as usize % 512).min(stream.len()),
            3 => feed.avail = stream.len(),
            4 => feed.eintr = true,
            _ => {
                // A sender's header for a message of any length decodes back to it.
                let len = script.u64() as usize;
                let mut h = [0u8; 16];
                let (n, w): (usize, Codec) = match proto {
                    Proto::Zmtp => {
                        let mut z = Zmtp::new(false);
                        let mut hello = Zmtp::new(true).hello();
                        let g = hello.split_off(64);
                        z.control(crate::frame::peer::Kind::Hello, &[], &hello)
                            .unwrap();
                        z.control(crate::frame::peer::Kind::Command, &g[..2], &g[2..])
                            .unwrap();
                        (Zmtp::header(len, &mut h), Codec::Zmtp(z))
                    }
                    _ => {
                        let ipc = proto == Proto::SpIpc;
                        let push = Sp::new(true, ipc);
                        let mut pull = Sp::new(false, ipc);
                        pull.control(crate::frame::peer::Kind::Hello, &[], &push.hello())
                            .unwrap();
                        (push.header(len, &mut h), Codec::Sp(pull))
                    }
                };
                assert!(w.ready());
                assert_eq!(
                    w.head(&h[..n]).unwrap(),
                    Head::Frame {
                        hdr: n,
                        len: len as u64,
                        kind: crate::frame::peer::Kind::Last
                    }
                );
                assert_eq!(w.head(&h[..n - 1]).unwrap(), Head::Need(n));
            }
        }
    }
}
