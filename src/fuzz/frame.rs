// SPDX-License-Identifier: MIT OR Apache-2.0
//! Framed streams (pipes, FIFOs, stream sockets): [`FrameReader`] against a hostile byte
//! stream, and [`FrameWriter`] against a transport that takes any number of bytes.
//!
//! Input: `flags`, `max` (u32), `script length` (u16), the script, then the stream. The
//! script interleaves receives of any buffer size, stream-mode reads, changes of the
//! read chunking, partial arrival (the transport says EAGAIN or EINTR until more bytes
//! are released: timeouts mid-header and mid-message) and writer operations.
//!
//! Oracle: a reference parse of the stream ([`Model`]). Every receive must return what
//! the model says: the next message's exact bytes, `IPCX_ERR_TOO_BIG` with its length,
//! `IPCX_ERR_PROTOCOL` (sticky) for a length above the maximum, `IPCX_ERR_TIMEOUT` while
//! the message is incomplete (and nothing lost), `IPCX_ERR_CLOSED` at the end. The writer
//! must have written exactly the frames of the messages it accepted, in order.

use std::io::{IoSlice, IoSliceMut};

use nix::errno::Errno;

use super::Input;
use crate::error::{Error, Result, Status};
use crate::frame::{FrameReader, FrameWriter, HEADER, Transport};
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

/// A writer's transport: takes up to `room` bytes, `chunk` per write, then EAGAIN.
struct Sink {
    written: Vec<u8>,
    room: usize,
    chunk: usize,
    closed: bool,
}

impl Transport for Sink {
    fn read(
        &mut self,
        _: &mut [IoSliceMut<'_>],
        _: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn write(&mut self, bufs: &[IoSlice<'_>], _: &Deadline) -> std::result::Result<usize, Errno> {
        if self.closed {
            return Err(Errno::EPIPE);
        }
        if self.room == 0 {
            return Err(Errno::EAGAIN);
        }
        let limit = self.room.min(self.chunk);
        let mut n = 0;
        for b in bufs {
            let k = b.len().min(limit - n);
            self.written.extend_from_slice(&b[..k]);
            n += k;
            if n == limit {
                break;
            }
        }
        self.room -= n;
        Ok(n)
    }

    fn wait(&mut self, _: bool, deadline: &Deadline) -> Result<()> {
        Err(deadline.timeout_error("sink"))
    }

    fn describe(&self) -> String {
        "sink".into()
    }
}

/// What a receive must return, computed from the whole stream.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Msg(usize),
    TooBig(usize),
    Protocol,
    Timeout,
    Closed,
}

/// The reference parse: the reader's logical position in the stream.
#[derive(Clone, Copy)]
struct Model<'a> {
    s: &'a [u8],
    pos: usize,
    max: usize,
    broken: bool,
    /// Seen the end: stream-mode contents are no longer checked (bytes of a torn header
    /// may or may not still be returned).
    closed: bool,
}

impl Model<'_> {
    fn recv(&mut self, cap: usize, avail: usize) -> Expect {
        if self.broken {
            return Expect::Protocol;
        }
        let all = avail == self.s.len();
        if self.s.len() - self.pos < HEADER || avail - self.pos < HEADER {
            return if all { self.close() } else { Expect::Timeout };
        }
        let h = &self.s[self.pos..self.pos + HEADER];
        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len > self.max {
            self.broken = true;
            return Expect::Protocol;
        }
        if len > cap {
            return Expect::TooBig(len);
        }
        if avail - self.pos >= HEADER + len {
            self.pos += HEADER + len;
            return Expect::Msg(len);
        }
        if all { self.close() } else { Expect::Timeout }
    }

    fn close(&mut self) -> Expect {
        self.pos = self.s.len();
        self.closed = true;
        Expect::Closed
    }
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

/// Frame `msgs` as the writer must have written them.
fn frames(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for m in msgs {
        v.extend_from_slice(&(m.len() as u32).to_be_bytes());
        v.extend_from_slice(m);
    }
    v
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let flags = inp.u8();
    let max = match flags & 3 {
        0 => inp.u32() as usize % 70_000,
        1 => inp.u32() as usize,
        2 => 1 << 30,
        _ => usize::MAX,
    };
    let script_len = inp.u16() as usize % 4096;
    let mut script = Input::new(inp.take(script_len));
    let stream = inp.rest();

    let mut feed = Feed {
        data: stream,
        pos: 0,
        avail: if flags & 4 != 0 { 0 } else { stream.len() },
        chunk: usize::MAX,
        eintr: false,
    };
    let mut reader = FrameReader::new(max);
    let mut model = Model {
        s: stream,
        pos: 0,
        max,
        broken: false,
        closed: false,
    };
    let wmax = if flags & 8 != 0 { 1 << 16 } else { 4096 };
    let mut writer = FrameWriter::new(wmax, (flags & 16 != 0).then_some(512));
    let mut sink = Sink {
        written: Vec::new(),
        room: usize::MAX,
        chunk: usize::MAX,
        closed: false,
    };
    let mut accepted: Vec<Vec<u8>> = Vec::new();
    let now = Deadline::now();
    let mut buf = vec![0u8; 1 << 17];

    while !script.is_empty() {
        match script.u8() % 10 {
            0 => {
                let cap = script.u16() as usize + if script.u8() & 1 != 0 { 65_536 } else { 0 };
                let before = model;
                let mut expect = model.recv(cap, feed.avail);
                let eintr = feed.eintr;
                let out = &mut buf[..cap];
                let got = match reader.recv(&mut feed, out, &now) {
                    Ok(n) => Expect::Msg(n),
                    Err(e) => status_of(&e),
                };
                if eintr && !feed.eintr {
                    // EINTR with the deadline passed is a timeout; nothing may be lost.
                    model = before;
                    expect = Expect::Timeout;
                }
                assert_eq!(
                    got, expect,
                    "recv(cap {cap}) at stream offset {}",
                    model.pos
                );
                if let Expect::Msg(n) = got {
                    let start = model.pos - n;
                    assert_eq!(&out[..n], &stream[start..model.pos], "message bytes");
                }
            }
            1 => {
                let n = script.u8() as usize;
                let eintr = feed.eintr;
                let r = reader.read_some(&mut feed, &mut buf[..n], &now);
                if eintr && !feed.eintr {
                    assert!(r.unwrap_err().is_timeout(), "EINTR past the deadline");
                    continue;
                }
                if n == 0 {
                    assert_eq!(r.unwrap_err().status, Status::IPCX_ERR_INVALID);
                    continue;
                }
                if model.broken || model.closed {
                    continue; // the framing is gone: stream-mode contents are unchecked
                }
                match r {
                    Ok(k) => {
                        assert!(
                            k >= 1 && k <= n && model.pos + k <= feed.avail,
                            "read_some {k}"
                        );
                        assert_eq!(&buf[..k], &stream[model.pos..model.pos + k]);
                        model.pos += k;
                    }
                    Err(e) => {
                        let want = if feed.avail == stream.len() {
                            model.close()
                        } else {
                            Expect::Timeout
                        };
                        assert_eq!(model.pos, feed.avail, "read_some failed with bytes left");
                        assert_eq!(status_of(&e), want);
                    }
                }
            }
            2 => feed.chunk = 1 + script.u16() as usize % 8192,
            3 => feed.avail = (feed.avail + script.u16() as usize % 512).min(stream.len()),
            4 => feed.avail = stream.len(),
            5 => feed.eintr = true,
            6 | 7 => {
                let len = script.u16() as usize % 8192;
                let fill = script.u8();
                // The sink keeps every byte written: stay far below the harness's
                // allocation limit (a long script of large sends exceeded it).
                if accepted.iter().map(Vec::len).sum::<usize>() + len > 1 << 20 {
                    continue;
                }
                let msg: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                match writer.send(&mut sink, &msg, &now) {
                    Ok(()) => {
                        assert!(len <= wmax && (flags & 16 == 0 || len + HEADER <= 512));
                        accepted.push(msg);
                    }
                    Err(e) => match e.status {
                        Status::IPCX_ERR_TOO_BIG => {
                            assert!(len > wmax || (flags & 16 != 0 && len + HEADER > 512));
                            assert_eq!(e.needed, len);
                        }
                        Status::IPCX_ERR_TIMEOUT | Status::IPCX_ERR_CLOSED => {}
                        s => panic!("send: unexpected {s:?}: {}", e.msg),
                    },
                }
            }
            8 => {
                sink.room = script.u16() as usize % 16384;
                sink.chunk = 1 + script.u16() as usize;
            }
            _ => {
                // Flush with whatever room is left; it may time out, never lose bytes.
                let before = sink.written.len() + writer.backlog();
                match writer.flush(&mut sink, &now) {
                    Ok(()) => assert_eq!(writer.backlog(), 0),
                    Err(e) => assert!(e.is_timeout() || e.status == Status::IPCX_ERR_CLOSED),
                }
                assert_eq!(sink.written.len() + writer.backlog(), before);
            }
        }
    }

    // Every accepted message is written whole and in order once the peer reads again.
    sink.room = usize::MAX;
    sink.chunk = usize::MAX;
    writer
        .flush(&mut sink, &now)
        .expect("flush with unlimited room");
    assert_eq!(
        sink.written,
        frames(&accepted),
        "written bytes are the accepted frames"
    );
}
