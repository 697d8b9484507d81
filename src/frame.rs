// SPDX-License-Identifier: MIT OR Apache-2.0
//! Message framing over byte streams (pipes, FIFOs, stream sockets).
//!
//! Wire format: a 4-byte big-endian length `L`, then `L` bytes of payload. `L` may be 0.
//!
//! Guarantees, whatever the timeouts:
//! - a message is delivered whole or not at all: a receive that times out in the middle of
//!   a message keeps the part already read inside the reader and resumes it on the next call;
//!   a send that times out before its first byte is not accepted (`IPCX_ERR_TIMEOUT`), a send
//!   that times out after its first byte is accepted and its tail is kept in a backlog that
//!   the next send, `flush` or a later write drains first, so frames never interleave;
//! - a length above the configured maximum is refused without allocating anything: the
//!   stream is then unusable (`IPCX_ERR_PROTOCOL`, sticky), because its framing is lost;
//! - a receive buffer that is too small gets `IPCX_ERR_TOO_BIG` with the size needed and the
//!   message stays queued for the next call.
//!
//! Costs are those of a raw program: one read(2) and one write(2) per message. A receive
//! asks the kernel for at most the caller's buffer size plus the header, as a raw read
//! with that buffer would (bytes of following messages are kept for the next receive, in
//! a small internal buffer); small messages go through that buffer with a plain read,
//! large ones land in the caller's buffer directly (`readv` of header and buffer), so
//! they are copied once. A small message is sent with one plain write of a header+payload
//! copy; a large one with one `writev`, without copying.

use std::io::{IoSlice, IoSliceMut};

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::time::{self, Deadline};

pub(crate) mod peer;
pub(crate) mod sp;
pub(crate) mod zmtp;

/// Size of the frame header.
pub(crate) const HEADER: usize = 4;

/// Initial size of the internal buffer (allocated on first receive).
const SPILL: usize = 4 * 1024;

/// Messages (with their header) up to this size are copied into one contiguous buffer
/// and moved with a single read(2)/write(2): cheaper in the kernel than readv/writev.
const SMALL: usize = 4 * 1024;
/// Most slices one `send_many` write passes to writev(2) (Linux's IOV_MAX is 1024).
const MANY_IOV: usize = 1024;
/// Small frames one `send_many` write copies together (a pipe's default capacity).
const MANY_BYTES: usize = 64 * 1024;

/// A piece of one `send_many` write: bytes of the writer's scratch buffer, or the body of
/// a large message from an offset.
enum Seg {
    Scratch(usize, usize),
    Body(usize, usize),
}

/// How a framed stream reaches the kernel. Implemented by pipe ends and stream sockets.
pub trait Transport {
    /// One vectored read. With a deadline of forever it may block until data arrives (one
    /// system call, like a raw blocking read); otherwise it must not block (`EAGAIN`).
    /// `Ok(0)` is a candidate end of file (see [`Transport::confirm_eof`]).
    fn read(
        &mut self,
        bufs: &mut [IoSliceMut<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno>;
    /// One vectored write that never raises SIGPIPE; blocking rules as for `read`.
    fn write(
        &mut self,
        bufs: &[IoSlice<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno>;
    /// Wait until readable (`true`) or writable (`false`), or the deadline passes.
    fn wait(&mut self, readable: bool, deadline: &Deadline) -> Result<()>;
    /// A read returned 0. Return `Ok(true)` if that is a real end of file, `Ok(false)` to
    /// read again (the default trusts the kernel).
    fn confirm_eof(&mut self, _deadline: &Deadline) -> Result<bool> {
        Ok(true)
    }
    /// What this stream is, for error messages ("pipe", "FIFO \"/tmp/f\"").
    fn describe(&self) -> String;
}

/// Read once, waiting as needed: `Ok(n > 0)`, or `Ok(0)` for a confirmed end of file (and,
/// with `reset_is_eof`, for a connection reset).
pub(crate) fn read_wait<T: Transport>(
    t: &mut T,
    deadline: &Deadline,
    bufs: &mut [IoSliceMut<'_>],
    reset_is_eof: bool,
) -> Result<usize> {
    loop {
        match t.read(bufs, deadline) {
            Ok(0) => {
                if t.confirm_eof(deadline)? {
                    return Ok(0);
                }
            }
            Ok(n) => return Ok(n),
            Err(Errno::EAGAIN) => t.wait(true, deadline)?,
            Err(Errno::EINTR) => time::on_eintr(deadline, "read")?,
            Err(Errno::ECONNRESET) if reset_is_eof => return Ok(0),
            Err(e) => return Err(Error::os(e, format_args!("read from {}", t.describe()))),
        }
    }
}

/// The receive buffer of the framing readers ([`FrameReader`], and the readers of other
/// libraries' wire formats in [`peer`]): fully initialised once (never re-zeroed); bytes
/// received but not yet consumed are `buf[start..end]`.
#[derive(Debug, Default)]
pub(crate) struct RxBuf {
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl RxBuf {
    /// Bytes buffered (already taken from the kernel).
    #[inline]
    pub(crate) fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The buffered bytes.
    #[inline]
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drop everything buffered.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Mark `n` buffered bytes consumed.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.clear();
        }
    }

    /// Grow the buffer to at least `n` bytes (zeroed once, when it grows).
    pub(crate) fn reserve(&mut self, n: usize) {
        if self.buf.len() < n {
            self.buf.resize(n.max(self.buf.len() * 2).max(SPILL), 0);
        }
    }

    /// Put `front` (in order) before the buffered bytes. In place when the buffer has room;
    /// only the rare paths (a message kept after `IPCX_ERR_TOO_BIG` or a timeout) may grow it.
    pub(crate) fn prepend(&mut self, front: &[&[u8]]) {
        let k: usize = front.iter().map(|s| s.len()).sum();
        if k == 0 {
            return;
        }
        if self.start < k {
            let have = self.buffered();
            self.reserve(k + have);
            self.buf.copy_within(self.start..self.end, k);
            self.start = k;
            self.end = k + have;
        }
        let mut at = self.start - k;
        self.start = at;
        for s in front {
            self.buf[at..at + s.len()].copy_from_slice(s);
            at += s.len();
        }
    }

    /// Move the buffered bytes to the front and read once, so that the buffer holds up to
    /// `want` bytes (at least one more). Returns the count read: 0 is end of file (see
    /// [`read_wait`] for `reset_is_eof`).
    pub(crate) fn fill<T: Transport>(
        &mut self,
        t: &mut T,
        want: usize,
        deadline: &Deadline,
        reset_is_eof: bool,
    ) -> Result<usize> {
        let have = self.buffered();
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = have;
        }
        let want = want.max(have + 1);
        self.reserve(want);
        let n = read_wait(
            t,
            deadline,
            &mut [IoSliceMut::new(&mut self.buf[have..want])],
            reset_is_eof,
        )?;
        self.end += n;
        Ok(n)
    }
}

/// Write once, waiting as needed. Never returns `Ok(0)` for a non-empty write.
fn write_wait<T: Transport>(t: &mut T, deadline: &Deadline, bufs: &[IoSlice<'_>]) -> Result<usize> {
    loop {
        match t.write(bufs, deadline) {
            Ok(n) => return Ok(n),
            Err(Errno::EAGAIN) => t.wait(false, deadline)?,
            Err(Errno::EINTR) => time::on_eintr(deadline, "write")?,
            Err(Errno::EPIPE | Errno::ECONNRESET) => {
                return Err(Error::closed(format!(
                    "write to {}: the reading side is closed",
                    t.describe()
                )));
            }
            Err(e) => return Err(Error::os(e, format_args!("write to {}", t.describe()))),
        }
    }
}

/// The receiving half of a framed stream: the spill buffer and resumable state.
#[derive(Debug)]
pub struct FrameReader {
    max: usize,
    /// Spill buffer.
    rx: RxBuf,
    /// Set once the framing is lost; every later receive fails with this message.
    broken: Option<String>,
    /// The last message fitted in the spill buffer: the next one probably will too, so a
    /// receive into a large buffer reads into the spill buffer with one plain read
    /// instead of a vectored read of header and body.
    small_last: bool,
}

impl FrameReader {
    /// A reader refusing messages longer than `max` bytes.
    pub fn new(max: usize) -> FrameReader {
        FrameReader {
            max,
            rx: RxBuf::default(),
            broken: None,
            small_last: true,
        }
    }

    /// The maximum message size.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes buffered inside the reader (already taken from the kernel).
    pub fn buffered(&self) -> usize {
        self.rx.buffered()
    }

    /// Forget the framing state: drop the buffered bytes and a broken stream's error.
    /// Returns how many buffered bytes were dropped. For streams whose writers each write
    /// whole frames at once (a FIFO channel), where the caller also empties the kernel
    /// buffer so that the next byte read starts a frame.
    pub fn reset(&mut self) -> usize {
        let n = self.buffered();
        self.rx.clear();
        self.broken = None;
        n
    }

    fn check_len(&mut self, len: usize, t: &impl Transport) -> Result<()> {
        if len > self.max {
            let what = t.describe();
            let why = format!(
                "{what}: peer announced a {len}-byte message, above the maximum of {} bytes \
                 (ipcx_options_set_max_message); the stream is no longer usable",
                self.max
            );
            self.broken = Some(why.clone());
            return Err(Error::protocol(why));
        }
        Ok(())
    }

    /// Read raw bytes (stream mode): at least one byte, at most `out.len()`. Buffered bytes
    /// left over from message mode come first. End of file is `IPCX_ERR_CLOSED`.
    pub fn read_some<T: Transport>(
        &mut self,
        t: &mut T,
        out: &mut [u8],
        deadline: &Deadline,
    ) -> Result<usize> {
        if out.is_empty() {
            return Err(Error::invalid("buffer length is 0"));
        }
        if self.buffered() > 0 {
            let n = self.buffered().min(out.len());
            out[..n].copy_from_slice(&self.rx.pending()[..n]);
            self.rx.consume(n);
            return Ok(n);
        }
        match read_wait(t, deadline, &mut [IoSliceMut::new(out)], false)? {
            0 => Err(Error::closed(format!(
                "read from {}: end of file",
                t.describe()
            ))),
            n => Ok(n),
        }
    }

    /// Receive one message into `out`; returns its length. See the module documentation.
    pub fn recv<T: Transport>(
        &mut self,
        t: &mut T,
        out: &mut [u8],
        deadline: &Deadline,
    ) -> Result<usize> {
        if let Some(why) = &self.broken {
            return Err(Error::protocol(why.clone()));
        }
        loop {
            // A complete header is buffered: serve from the buffer, then read the rest.
            if self.buffered() >= HEADER {
                let p = self.rx.pending();
                let len = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize;
                self.check_len(len, t)?;
                self.small_last = HEADER + len <= SMALL;
                if len > out.len() {
                    return Err(too_small(len, out.len()));
                }
                let have = (self.buffered() - HEADER).min(len);
                out[..have].copy_from_slice(&self.rx.pending()[HEADER..HEADER + have]);
                self.rx.consume(HEADER + have);
                if have == len {
                    return Ok(len);
                }
                return self.finish_body(t, out, len, have, deadline);
            }

            // Need (the rest of) the header. Read at most as many bytes as the caller's
            // buffer and a header hold, like a raw read(2) with that buffer would. Small
            // messages (the caller's buffer is small, or the last message was) go through
            // the spill buffer with one plain read (read(2)/recv(2) cost less than
            // readv(2)/recvmsg(2)); a large message found there has the rest of its body
            // read straight into the caller's buffer. After a large message, the header
            // and the body are read together straight into the caller's buffer.
            if out.len() <= SMALL - HEADER || self.small_last {
                self.fill(t, (out.len() + HEADER).min(SMALL), deadline)?;
                continue;
            }
            let mut hdr = [0u8; HEADER];
            let had = self.buffered();
            hdr[..had].copy_from_slice(self.rx.pending());
            self.rx.consume(had);
            let n = {
                let mut iov = [IoSliceMut::new(&mut hdr[had..]), IoSliceMut::new(out)];
                read_wait(t, deadline, &mut iov, false)
            };
            let n = match n {
                Ok(0) if had == 0 => {
                    return Err(Error::closed(format!(
                        "receive from {}: end of file",
                        t.describe()
                    )));
                }
                Ok(0) => {
                    return Err(Error::closed(format!(
                        "receive from {}: peer closed inside a header",
                        t.describe()
                    )));
                }
                Ok(n) => n,
                Err(e) => {
                    self.rx.prepend(&[&hdr[..had]]);
                    return Err(e);
                }
            };
            let need = HEADER - had;
            if n < need {
                self.rx.prepend(&[&hdr[..had + n]]);
                continue;
            }
            let in_out = n - need;
            let len = u32::from_be_bytes(hdr) as usize;
            self.check_len(len, t)?;
            self.small_last = HEADER + len <= SMALL;
            if len > out.len() {
                // Keep the whole message queued: the header and the part in `out`.
                self.rx.prepend(&[&hdr, &out[..in_out]]);
                return Err(too_small(len, out.len()));
            }
            if in_out >= len {
                // Bytes after the message belong to the next ones: keep them, in order.
                self.rx.prepend(&[&out[len..in_out]]);
                return Ok(len);
            }
            return self.finish_body(t, out, len, in_out, deadline);
        }
    }

    /// Read once into the buffer until it holds up to `want` bytes (at least one more).
    fn fill<T: Transport>(&mut self, t: &mut T, want: usize, deadline: &Deadline) -> Result<()> {
        let have = self.rx.buffered();
        if self.rx.fill(t, want, deadline, false)? == 0 {
            return Err(Error::closed(if have == 0 {
                format!("receive from {}: end of file", t.describe())
            } else {
                format!("receive from {}: peer closed inside a header", t.describe())
            }));
        }
        Ok(())
    }

    /// Read the rest of a message whose first `have` bytes are already in `out`. On any
    /// error except end of file, the partial message goes back into the buffer.
    fn finish_body<T: Transport>(
        &mut self,
        t: &mut T,
        out: &mut [u8],
        len: usize,
        mut have: usize,
        deadline: &Deadline,
    ) -> Result<usize> {
        while have < len {
            match read_wait(
                t,
                deadline,
                &mut [IoSliceMut::new(&mut out[have..len])],
                false,
            ) {
                Ok(0) => {
                    return Err(Error::closed(format!(
                        "receive from {}: peer closed after {have} of {len} bytes of a message",
                        t.describe()
                    )));
                }
                Ok(n) => have += n,
                Err(e) => {
                    let hdr = (len as u32).to_be_bytes();
                    self.rx.prepend(&[&hdr, &out[..have]]);
                    return Err(e);
                }
            }
        }
        Ok(len)
    }
}

fn too_small(len: usize, cap: usize) -> Error {
    Error::too_big(
        len,
        format!(
            "the next message is {len} bytes, the buffer holds {cap}; it stays queued \
             for a receive with a larger buffer"
        ),
    )
}

/// The sending half of a framed stream: limits and the backlog of an accepted message
/// whose tail could not be written before the deadline.
#[derive(Debug)]
pub struct FrameWriter {
    max: usize,
    /// Header + payload of a small message, written with one write(2).
    scratch: Vec<u8>,
    /// Largest frame (header included) that may be sent, for atomic mode; `None` = no limit.
    atomic_limit: Option<usize>,
    backlog: Vec<u8>,
    backlog_pos: usize,
}

impl FrameWriter {
    /// A writer refusing messages above `max`; with `atomic_limit`, also refusing frames
    /// (header included) above that many bytes.
    pub fn new(max: usize, atomic_limit: Option<usize>) -> FrameWriter {
        FrameWriter {
            max,
            scratch: Vec::new(),
            atomic_limit,
            backlog: Vec::new(),
            backlog_pos: 0,
        }
    }

    /// Bytes of an accepted message still waiting to be written.
    pub fn backlog(&self) -> usize {
        self.backlog.len() - self.backlog_pos
    }

    /// Write the backlog out, waiting up to the deadline. A reader that is gone
    /// (`IPCX_ERR_CLOSED`) can never take the rest: it is dropped (the next flush has
    /// nothing to do).
    pub fn flush<T: Transport>(&mut self, t: &mut T, deadline: &Deadline) -> Result<()> {
        while self.backlog() > 0 {
            let n = match write_wait(
                t,
                deadline,
                &[IoSlice::new(&self.backlog[self.backlog_pos..])],
            ) {
                Ok(n) => n,
                Err(e) => {
                    if e.status == Status::IPCX_ERR_CLOSED {
                        self.backlog.clear();
                        self.backlog_pos = 0;
                    }
                    return Err(e);
                }
            };
            self.backlog_pos += n;
        }
        self.backlog.clear();
        self.backlog_pos = 0;
        Ok(())
    }

    /// Send one message (see the module documentation for the guarantees).
    pub fn send<T: Transport>(&mut self, t: &mut T, msg: &[u8], deadline: &Deadline) -> Result<()> {
        self.check(msg)?;
        let hdr = (msg.len() as u32).to_be_bytes();
        self.send_with(t, &hdr, msg, deadline)
    }

    /// Send several messages, as many frames per write(2)/writev(2) as fit (small frames
    /// copied together up to `MANY_BYTES`, large bodies as slices of their own, up to
    /// `MANY_IOV` slices), with the guarantees of
    /// [`FrameWriter::send`] for each: a message is accepted once its first byte is
    /// written; one cut by the deadline has its tail kept and written first by the next
    /// send. Every message's size is checked before anything is written (one too big:
    /// nothing is sent). In atomic mode each frame is still one write of its own. Returns how many messages were accepted, in order, and the error
    /// that stopped it early, if any (`Ok` when all were accepted; with
    /// `IPCX_ERR_CLOSED`, the count of those written whole before the reader left).
    pub fn send_many<T: Transport>(
        &mut self,
        t: &mut T,
        msgs: &[&[u8]],
        deadline: &Deadline,
    ) -> (usize, Result<()>) {
        if let Some(e) = msgs.iter().find_map(|m| self.check(m).err()) {
            return (0, Err(e));
        }
        if self.atomic_limit.is_some() {
            // Atomic mode: one write per frame, so that writers sharing the FIFO never
            // interleave (a write above PIPE_BUF could be split between theirs).
            for (k, m) in msgs.iter().enumerate() {
                if let Err(e) = self.send(t, m, deadline) {
                    return (k, Err(e));
                }
            }
            return (msgs.len(), Ok(()));
        }
        if let Err(e) = self.flush(t, deadline) {
            return (0, Err(e));
        }
        if let [one] = msgs {
            // A lone message: exactly what `send` does (one write of header and body).
            let hdr = (one.len() as u32).to_be_bytes();
            return match self.send_with(t, &hdr, one, deadline) {
                Ok(()) => (1, Ok(())),
                Err(e) => (0, Err(e)),
            };
        }
        let hdrs: Vec<[u8; HEADER]> = msgs
            .iter()
            .map(|m| (m.len() as u32).to_be_bytes())
            .collect();
        let mut segs: Vec<Seg> = Vec::new();
        // Frames before `i` are written; `off` bytes of frame `i` are.
        let (mut i, mut off): (usize, usize) = (0, 0);
        while i < msgs.len() {
            // This write: small frames (and the headers of large ones) copied one after
            // the other into `scratch`, large bodies as slices of their own.
            self.scratch.clear();
            segs.clear();
            let (mut j, mut o) = (i, off);
            while j < msgs.len() && segs.len() + 2 <= MANY_IOV && self.scratch.len() < MANY_BYTES {
                let body = msgs[j];
                let p = o.saturating_sub(HEADER);
                let start = self.scratch.len();
                if o < HEADER {
                    self.scratch.extend_from_slice(&hdrs[j][o..]);
                }
                let small = HEADER + body.len() <= SMALL;
                if small {
                    self.scratch.extend_from_slice(&body[p..]);
                }
                match segs.last_mut() {
                    Some(Seg::Scratch(_, end)) if *end == start => *end = self.scratch.len(),
                    _ if self.scratch.len() > start => {
                        segs.push(Seg::Scratch(start, self.scratch.len()))
                    }
                    _ => {}
                }
                if !small && p < body.len() {
                    segs.push(Seg::Body(j, p));
                }
                j += 1;
                o = 0;
            }
            let r = {
                let iov: Vec<IoSlice<'_>> = segs
                    .iter()
                    .map(|s| match *s {
                        Seg::Scratch(a, b) => IoSlice::new(&self.scratch[a..b]),
                        Seg::Body(j, p) => IoSlice::new(&msgs[j][p..]),
                    })
                    .collect();
                write_wait(t, deadline, &iov)
            };
            match r {
                Ok(mut n) => {
                    while n > 0 {
                        let left = HEADER + msgs[i].len() - off;
                        if n >= left {
                            n -= left;
                            i += 1;
                            off = 0;
                        } else {
                            off += n;
                            n = 0;
                        }
                    }
                }
                Err(e) if off == 0 || e.status == crate::error::Status::IPCX_ERR_CLOSED => {
                    return (i, Err(e));
                }
                Err(e) => {
                    // Frame `i` is accepted: keep its tail so frames stay whole and in order.
                    let mut tail = Vec::with_capacity(HEADER + msgs[i].len() - off);
                    if off < HEADER {
                        tail.extend_from_slice(&hdrs[i][off..]);
                        tail.extend_from_slice(msgs[i]);
                    } else {
                        tail.extend_from_slice(&msgs[i][off - HEADER..]);
                    }
                    self.backlog = tail;
                    self.backlog_pos = 0;
                    i += 1;
                    return (i, if i == msgs.len() { Ok(()) } else { Err(e) });
                }
            }
        }
        (i, Ok(()))
    }

    /// Refuse a message above the limits (max_message, and in atomic mode PIPE_BUF).
    fn check(&self, msg: &[u8]) -> Result<()> {
        if msg.len() > self.max {
            return Err(Error::too_big(
                msg.len(),
                format!(
                    "message of {} bytes exceeds the maximum message size of {} bytes \
                     (ipcx_options_set_max_message)",
                    msg.len(),
                    self.max
                ),
            ));
        }
        if let Some(limit) = self.atomic_limit {
            if HEADER + msg.len() > limit {
                return Err(Error::too_big(
                    msg.len(),
                    format!(
                        "message of {} bytes is above {} bytes, the largest message written \
                         atomically (PIPE_BUF {limit} minus the {HEADER}-byte header); \
                         atomic mode refuses it so that writers never interleave",
                        msg.len(),
                        limit - HEADER
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Send one frame made of `hdr` and `msg` (a peer library's wire format: the caller
    /// built the header and checked the message's size), with the guarantees of
    /// [`FrameWriter::send`]: accepted once its first byte is written, its tail kept and
    /// written first by the next send.
    pub fn send_with<T: Transport>(
        &mut self,
        t: &mut T,
        hdr: &[u8],
        msg: &[u8],
        deadline: &Deadline,
    ) -> Result<()> {
        self.flush(t, deadline)?;
        let small = hdr.len() + msg.len() <= SMALL;
        if small {
            self.scratch.clear();
            self.scratch.extend_from_slice(hdr);
            self.scratch.extend_from_slice(msg);
        }
        // The frame is `first` followed by `second`.
        let (first, second): (&[u8], &[u8]) = if small {
            (&self.scratch, &[])
        } else {
            (hdr, msg)
        };
        let total = first.len() + second.len();
        let mut done = 0;
        while done < total {
            let r = if done < first.len() && !second.is_empty() {
                write_wait(
                    t,
                    deadline,
                    &[IoSlice::new(&first[done..]), IoSlice::new(second)],
                )
            } else if done < first.len() {
                write_wait(t, deadline, &[IoSlice::new(&first[done..])])
            } else {
                write_wait(t, deadline, &[IoSlice::new(&second[done - first.len()..])])
            };
            match r {
                Ok(n) => done += n,
                Err(e) if done == 0 || e.status == crate::error::Status::IPCX_ERR_CLOSED => {
                    return Err(e);
                }
                Err(_) => {
                    // Accepted: keep the tail so frames stay whole and in order.
                    let mut tail = Vec::with_capacity(total - done);
                    if done < first.len() {
                        tail.extend_from_slice(&first[done..]);
                        tail.extend_from_slice(second);
                    } else {
                        tail.extend_from_slice(&second[done - first.len()..]);
                    }
                    self.backlog = tail;
                    self.backlog_pos = 0;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Write raw bytes (stream mode) until all are written or the deadline passes.
    /// Returns how many bytes were written, and the error that stopped it early if any.
    pub fn write_all<T: Transport>(
        &mut self,
        t: &mut T,
        data: &[u8],
        deadline: &Deadline,
    ) -> (usize, Result<()>) {
        if data.is_empty() {
            return (0, Err(Error::invalid("length is 0")));
        }
        if let Err(e) = self.flush(t, deadline) {
            return (0, Err(e));
        }
        let mut done = 0;
        while done < data.len() {
            match write_wait(t, deadline, &[IoSlice::new(&data[done..])]) {
                Ok(n) => done += n,
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// An in-memory transport delivering at most `chunk` bytes per read.
    struct Mem {
        data: VecDeque<u8>,
        chunk: usize,
        eof: bool,
        written: Vec<u8>,
        room: usize,
    }

    impl Transport for Mem {
        fn read(
            &mut self,
            bufs: &mut [IoSliceMut<'_>],
            _: &Deadline,
        ) -> std::result::Result<usize, Errno> {
            if self.data.is_empty() {
                return if self.eof { Ok(0) } else { Err(Errno::EAGAIN) };
            }
            let mut n = 0;
            for b in bufs.iter_mut() {
                for slot in b.iter_mut() {
                    if n == self.chunk {
                        return Ok(n);
                    }
                    match self.data.pop_front() {
                        Some(x) => *slot = x,
                        None => return Ok(n),
                    }
                    n += 1;
                }
            }
            Ok(n)
        }
        fn write(
            &mut self,
            bufs: &[IoSlice<'_>],
            _: &Deadline,
        ) -> std::result::Result<usize, Errno> {
            if self.room == 0 {
                return Err(Errno::EAGAIN);
            }
            let mut n = 0;
            for b in bufs {
                for &x in b.iter() {
                    if self.room == 0 {
                        return Ok(n);
                    }
                    self.written.push(x);
                    self.room -= 1;
                    n += 1;
                }
            }
            Ok(n)
        }
        fn wait(&mut self, _readable: bool, deadline: &Deadline) -> Result<()> {
            Err(deadline.timeout_error("mem"))
        }
        fn describe(&self) -> String {
            "mem".into()
        }
    }

    fn frames(msgs: &[&[u8]]) -> VecDeque<u8> {
        let mut v = VecDeque::new();
        for m in msgs {
            v.extend((m.len() as u32).to_be_bytes());
            v.extend(m.iter().copied());
        }
        v
    }

    fn mem(data: VecDeque<u8>, chunk: usize) -> Mem {
        Mem {
            data,
            chunk,
            eof: true,
            written: Vec::new(),
            room: usize::MAX,
        }
    }

    #[test]
    fn many_messages_any_chunking() {
        let msgs: Vec<Vec<u8>> = (0..50).map(|i| vec![i as u8; i * 37 % 300]).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        for chunk in [1, 3, 4, 5, 7, 64, 100_000] {
            let mut t = mem(frames(&refs), chunk);
            let mut r = FrameReader::new(1 << 20);
            for m in &msgs {
                let mut out = [0u8; 400];
                let n = r.recv(&mut t, &mut out, &Deadline::forever()).unwrap();
                assert_eq!(&out[..n], &m[..], "chunk {chunk}");
            }
            let e = r
                .recv(&mut t, &mut [0u8; 8], &Deadline::forever())
                .unwrap_err();
            assert_eq!(e.status, crate::error::Status::IPCX_ERR_CLOSED);
        }
    }

    #[test]
    fn too_small_keeps_message() {
        let mut t = mem(frames(&[b"hello world", b"x"]), 100);
        let mut r = FrameReader::new(1024);
        let e = r
            .recv(&mut t, &mut [0u8; 4], &Deadline::forever())
            .unwrap_err();
        assert_eq!(e.needed, 11);
        let mut out = [0u8; 11];
        assert_eq!(r.recv(&mut t, &mut out, &Deadline::forever()).unwrap(), 11);
        assert_eq!(&out, b"hello world");
        assert_eq!(r.recv(&mut t, &mut out, &Deadline::forever()).unwrap(), 1);
    }

    #[test]
    fn hostile_length_refused_and_sticky() {
        let mut d = VecDeque::new();
        d.extend(u32::MAX.to_be_bytes());
        let mut t = mem(d, 100);
        let mut r = FrameReader::new(1024);
        let e = r
            .recv(&mut t, &mut [0u8; 16], &Deadline::forever())
            .unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_PROTOCOL);
        let e = r
            .recv(&mut t, &mut [0u8; 16], &Deadline::forever())
            .unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_PROTOCOL);
        assert!(r.rx.buf.len() <= SPILL);
    }

    #[test]
    fn reset_forgets_a_broken_stream() {
        let mut d = VecDeque::new();
        d.extend(u32::MAX.to_be_bytes());
        d.extend([1u8, 2, 3]);
        let mut t = mem(d, 5);
        let mut r = FrameReader::new(1024);
        let e = r
            .recv(&mut t, &mut [0u8; 16], &Deadline::forever())
            .unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_PROTOCOL);
        assert_eq!(r.reset(), 5);
        assert_eq!(r.buffered(), 0);
        t.data.extend(frames(&[b"ok"]));
        let mut out = [0u8; 16];
        // The two bytes left in the transport are what a resynchronising caller drains.
        t.data.drain(..2);
        assert_eq!(r.recv(&mut t, &mut out, &Deadline::forever()).unwrap(), 2);
        assert_eq!(&out[..2], b"ok");
    }

    #[test]
    fn timeout_mid_message_resumes() {
        let full = frames(&[&[7u8; 1000]]);
        let mut t = mem(full.iter().copied().take(500).collect(), 64);
        t.eof = false;
        let mut r = FrameReader::new(4096);
        let mut out = [0u8; 1000];
        let e = r.recv(&mut t, &mut out, &Deadline::now()).unwrap_err();
        assert!(e.is_timeout());
        t.data.extend(full.iter().copied().skip(500));
        let n = r.recv(&mut t, &mut out, &Deadline::now()).unwrap();
        assert_eq!(n, 1000);
        assert!(out.iter().all(|&b| b == 7));
    }

    #[test]
    fn send_backlog_keeps_frames_whole() {
        let mut t = mem(VecDeque::new(), 1);
        t.room = 10;
        let mut w = FrameWriter::new(1024, None);
        w.send(&mut t, &[1u8; 20], &Deadline::now()).unwrap();
        assert_eq!(w.backlog(), 14);
        // Nothing written: the next message is refused, the backlog stays.
        let e = w.send(&mut t, &[2u8; 5], &Deadline::now()).unwrap_err();
        assert!(e.is_timeout());
        t.room = usize::MAX;
        w.send(&mut t, &[2u8; 5], &Deadline::now()).unwrap();
        let mut expect: Vec<u8> = frames(&[&[1u8; 20], &[2u8; 5]]).into_iter().collect();
        assert_eq!(t.written, std::mem::take(&mut expect));
    }

    #[test]
    fn send_many_cut_anywhere_keeps_frames_whole_and_in_order() {
        // Under Miri (tests/miri.sh) fewer messages: a byte-at-a-time run of 700 takes it
        // longer than the whole test suite.
        let count = if cfg!(miri) { 20 } else { 700u32 };
        let msgs: Vec<Vec<u8>> = (0..count)
            .map(|i| {
                vec![
                    i as u8;
                    if i % 50 == 7 {
                        5000 + i as usize
                    } else {
                        (i as usize * 7) % 300
                    }
                ]
            })
            .collect();
        let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let all: Vec<u8> = frames(&refs).into_iter().collect();
        // Room for `room` bytes at a time: every cut, header or body, then the rest.
        for room in [1, 3, 4, 5, 67, 1000, 4099, 5003, 70000, usize::MAX] {
            let mut t = mem(VecDeque::new(), 1);
            let mut w = FrameWriter::new(1 << 20, None);
            let mut next = 0;
            while next < refs.len() {
                t.room = room;
                let (n, r) = w.send_many(&mut t, &refs[next..], &Deadline::now());
                assert!(r.is_ok() == (next + n == refs.len()), "room {room}: {r:?}");
                if let Err(e) = r {
                    assert!(e.is_timeout());
                }
                next += n;
                // What is written plus the kept tail is exactly the accepted frames.
                let accepted: usize = refs[..next].iter().map(|m| HEADER + m.len()).sum();
                assert_eq!(t.written.len() + w.backlog(), accepted, "room {room}");
            }
            t.room = usize::MAX;
            w.flush(&mut t, &Deadline::now()).unwrap();
            assert_eq!(t.written, all, "room {room}");
        }
    }

    #[test]
    fn send_many_checks_every_size_first() {
        let mut t = mem(VecDeque::new(), 1);
        let mut w = FrameWriter::new(10, None);
        let (n, r) = w.send_many(&mut t, &[&[1u8; 3], &[2u8; 11]], &Deadline::now());
        assert_eq!(n, 0);
        assert_eq!(
            r.unwrap_err().status,
            crate::error::Status::IPCX_ERR_TOO_BIG
        );
        assert!(t.written.is_empty());
        // Nothing to send is a success; so are empty messages.
        assert_eq!(w.send_many(&mut t, &[], &Deadline::now()).0, 0);
        let (n, r) = w.send_many(&mut t, &[&[], &[], &[5u8; 1]], &Deadline::now());
        assert!(r.is_ok() && n == 3);
        assert_eq!(t.written, vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5]);
        // Atomic mode: still whole frames, in order.
        let mut t = mem(VecDeque::new(), 1);
        let mut w = FrameWriter::new(1 << 20, Some(4096));
        let (n, r) = w.send_many(&mut t, &[&[1u8; 2], &[2u8; 3]], &Deadline::now());
        assert!(r.is_ok() && n == 2);
        let expect: Vec<u8> = frames(&[&[1u8; 2], &[2u8; 3]]).into_iter().collect();
        assert_eq!(t.written, expect);
    }

    #[test]
    fn atomic_limit() {
        let mut t = mem(VecDeque::new(), 1);
        let mut w = FrameWriter::new(1 << 20, Some(4096));
        assert!(w.send(&mut t, &[0u8; 4092], &Deadline::now()).is_ok());
        let e = w.send(&mut t, &[0u8; 4093], &Deadline::now()).unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_TOO_BIG);
    }
}
