// SPDX-License-Identifier: MIT OR Apache-2.0
//! Reading the wire formats of other messaging libraries over a byte stream: the
//! connection handshake and the message frames of nng's scalability protocols
//! ([`super::sp`]) and of ZeroMQ's ZMTP ([`super::zmtp`]).
//!
//! A [`Wire`] decodes frame headers and handles the frames that are not messages (the
//! handshake, ZMTP commands); [`PeerReader`] does the reading with the guarantees of
//! [`crate::frame::FrameReader`], whatever the wire:
//! - a message is delivered whole or not at all: a receive that times out inside a
//!   message keeps what it read and resumes; a buffer too small gets `IPCX_ERR_TOO_BIG`
//!   with the size needed and the message stays queued;
//! - a length above the maximum (a 2^63-byte message announced by a peer) is refused
//!   before anything is allocated or read: the stream is then unusable
//!   (`IPCX_ERR_PROTOCOL`, sticky), because its framing is lost. Frames that are not
//!   messages are at most [`CONTROL_MAX`] bytes, under the same rule;
//! - a message in several parts (ZMTP's MORE flag) is refused: its parts are read and
//!   discarded without being stored, and the receive reports `IPCX_ERR_PROTOCOL` once;
//!   the stream stays usable (the next message is received). Parts adding up to more than
//!   the maximum break the stream like an oversized message.
//!
//! Costs: a receive asks the kernel for at most a small buffer's worth beyond the header
//! ([`SMALL`]); small messages arrive with the header in one read and are copied once
//! from the internal buffer, the body of a large one is read straight into the caller's
//! buffer.

use std::io::IoSliceMut;

use super::{RxBuf, Transport, read_wait};
use crate::error::{Error, Result};
use crate::time::Deadline;

/// The largest frame header of any wire (ZMTP: flags and an 8-byte size; SP over IPC: a
/// type byte and an 8-byte size).
pub(crate) const HEADER_MAX: usize = 16;

/// The largest frame that is not a message (a handshake, a ZMTP command): READY carries
/// the peer's metadata, a few dozen bytes in practice.
pub(crate) const CONTROL_MAX: usize = 64 * 1024;

/// How much a receive reads beyond what it needs for a header: small messages come with
/// their header in one read; bytes of the next ones are kept for the next receive.
const SMALL: usize = 4 * 1024;

/// What a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The peer's side of the connection handshake (SP header, ZMTP greeting).
    Hello,
    /// A ZMTP command (READY, ERROR, PING...).
    Command,
    /// A part of a message, more parts follow (ZMTP's MORE flag).
    Part,
    /// A whole message, or the last part of one.
    Last,
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// More bytes are needed: the header is at least this long.
    Need(usize),
    /// A frame: `hdr` bytes of header, then `len` bytes of body.
    Frame {
        /// Header length.
        hdr: usize,
        /// Body length, as the peer announced it.
        len: u64,
        /// What the frame is.
        kind: Kind,
    },
}

/// A wire format, seen by the receiving side of a connection.
pub(crate) trait Wire {
    /// Decode the frame header at the start of `p` (the bytes not yet consumed). `Err`
    /// is the description of malformed bytes (the stream is then unusable).
    fn head(&self, p: &[u8]) -> std::result::Result<Head, String>;
    /// A whole frame that is not a message (`Hello`, `Command`): its header and body.
    /// `Err` ends the connection (a handshake the peer failed, its refusal...).
    fn control(&mut self, kind: Kind, hdr: &[u8], body: &[u8]) -> std::result::Result<(), String>;
    /// The handshake is done: messages may follow.
    fn ready(&self) -> bool;
    /// The protocol, for messages ("nng SP", "ZMTP").
    fn name(&self) -> &'static str;
}

/// A multipart message being discarded.
#[derive(Clone, Copy, Debug, Default)]
struct Refusing {
    parts: u64,
    bytes: u64,
    /// Its last part has been seen: report the refusal once its body is skipped.
    done: bool,
}

/// The receiving half of a connection to a peer library.
#[derive(Debug)]
pub(crate) struct PeerReader {
    max: usize,
    /// Bytes received but not yet consumed.
    rx: RxBuf,
    /// Set once the framing is lost; every later receive fails with this message.
    broken: Option<String>,
    /// Body bytes still to discard (a part of a refused multipart message).
    skip: u64,
    refusing: Option<Refusing>,
}

impl PeerReader {
    /// A reader refusing messages longer than `max` bytes.
    pub(crate) fn new(max: usize) -> PeerReader {
        PeerReader {
            max,
            rx: RxBuf::default(),
            broken: None,
            skip: 0,
            refusing: None,
        }
    }

    /// The framing is lost (every receive fails).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// Bytes taken from the kernel and not yet consumed.
    pub(crate) fn buffered(&self) -> usize {
        self.rx.buffered()
    }

    /// Read once into the buffer, which then holds up to `want` bytes (at least one
    /// more). End of file is `IPCX_ERR_CLOSED`.
    fn fill<T: Transport>(&mut self, t: &mut T, want: usize, deadline: &Deadline) -> Result<()> {
        let have = self.rx.buffered();
        if self.rx.fill(t, want, deadline, true)? == 0 {
            let inside = have > 0 || self.skip > 0 || self.refusing.is_some();
            return Err(Error::closed(if inside {
                format!(
                    "receive from {}: the peer closed inside a frame",
                    t.describe()
                )
            } else {
                format!("receive from {}: end of file", t.describe())
            }));
        }
        Ok(())
    }

    #[cold]
    fn break_stream(&mut self, why: String) -> Error {
        self.broken = Some(why.clone());
        self.rx.buf = Vec::new();
        self.rx.start = 0;
        self.rx.end = 0;
        Error::protocol(why)
    }

    /// The next frame's header, complete in the buffer (not consumed). `room` is the
    /// caller's buffer size: a small message is read with its header.
    fn head<T: Transport, W: Wire>(
        &mut self,
        t: &mut T,
        w: &W,
        room: usize,
        deadline: &Deadline,
    ) -> Result<(usize, u64, Kind)> {
        loop {
            match w.head(self.rx.pending()) {
                Ok(Head::Need(n)) => self.fill(t, n + room.min(SMALL), deadline)?,
                Ok(Head::Frame { hdr, len, kind }) => return Ok((hdr, len, kind)),
                Err(why) => {
                    let why = format!("{}: {} from the peer: {why}", t.describe(), w.name());
                    return Err(self.break_stream(why));
                }
            }
        }
    }

    /// Read a whole control frame and hand it to the wire.
    fn control<T: Transport, W: Wire>(
        &mut self,
        t: &mut T,
        w: &mut W,
        (hdr, len, kind): (usize, u64, Kind),
        deadline: &Deadline,
    ) -> Result<()> {
        if len > CONTROL_MAX as u64 {
            let why = format!(
                "{}: the peer announced a {len}-byte {} frame, above the {CONTROL_MAX} bytes \
                 ipcx reads of frames that are not messages",
                t.describe(),
                w.name()
            );
            return Err(self.break_stream(why));
        }
        let total = hdr + len as usize;
        while self.buffered() < total {
            self.fill(t, total, deadline)?;
        }
        let p = &self.rx.buf[self.rx.start..self.rx.start + total];
        if let Err(why) = w.control(kind, &p[..hdr], &p[hdr..]) {
            let why = format!("{}: {}: {why}", t.describe(), w.name());
            return Err(self.break_stream(why));
        }
        self.rx.consume(total);
        Ok(())
    }

    /// Discard the body bytes of a refused part.
    fn skip_body<T: Transport>(&mut self, t: &mut T, deadline: &Deadline) -> Result<()> {
        while self.skip > 0 {
            if self.buffered() == 0 {
                let want = self.skip.min(64 * 1024) as usize;
                self.fill(t, want, deadline)?;
            }
            let n = (self.buffered() as u64).min(self.skip) as usize;
            self.rx.consume(n);
            self.skip -= n as u64;
        }
        Ok(())
    }

    /// Read the peer's side of the handshake, waiting up to the deadline, and stop as
    /// soon as it is done (bytes that follow stay buffered for the receives).
    pub(crate) fn handshake<T: Transport, W: Wire>(
        &mut self,
        t: &mut T,
        w: &mut W,
        deadline: &Deadline,
    ) -> Result<()> {
        if let Some(why) = &self.broken {
            return Err(Error::protocol(why.clone()));
        }
        while !w.ready() {
            let h = self.head(t, &*w, 0, deadline)?;
            if matches!(h.2, Kind::Part | Kind::Last) {
                let why = format!(
                    "{}: {}: the peer sent a message before the handshake ended",
                    t.describe(),
                    w.name()
                );
                return Err(self.break_stream(why));
            }
            self.control(t, w, h, deadline)?;
        }
        Ok(())
    }

    /// For a sender, whose peer only sends frames that are not messages (ZMTP's PING):
    /// process those already buffered or readable now, without waiting. A message from
    /// the peer breaks the connection (a sender's peer receives).
    pub(crate) fn control_only<T: Transport, W: Wire>(
        &mut self,
        t: &mut T,
        w: &mut W,
    ) -> Result<()> {
        if let Some(why) = &self.broken {
            return Err(Error::protocol(why.clone()));
        }
        let now = Deadline::now();
        loop {
            let h = match self.head(t, &*w, 0, &now) {
                Ok(h) => h,
                Err(e) if e.is_timeout() => return Ok(()),
                Err(e) => return Err(e),
            };
            if matches!(h.2, Kind::Part | Kind::Last) {
                let why = format!(
                    "{}: {}: the peer sent a message, but it is the receiving side (its socket \
                     type should not send)",
                    t.describe(),
                    w.name()
                );
                return Err(self.break_stream(why));
            }
            match self.control(t, w, h, &now) {
                Ok(()) => {}
                Err(e) if e.is_timeout() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Receive one message into `out`; returns its length. See the module documentation.
    pub(crate) fn recv<T: Transport, W: Wire>(
        &mut self,
        t: &mut T,
        w: &mut W,
        out: &mut [u8],
        deadline: &Deadline,
    ) -> Result<usize> {
        if let Some(why) = &self.broken {
            return Err(Error::protocol(why.clone()));
        }
        loop {
            if self.skip > 0 {
                self.skip_body(t, deadline)?;
            }
            if let Some(r) = self.refusing.filter(|r| r.done) {
                self.refusing = None;
                return Err(Error::protocol(format!(
                    "{}: refused a message in {} parts ({} bytes): ipcx channels carry \
                     single-part messages; its parts were discarded and the next messages \
                     are received",
                    t.describe(),
                    r.parts,
                    r.bytes
                )));
            }
            let h = self.head(t, &*w, out.len(), deadline)?;
            let (hdr, len, kind) = h;
            match kind {
                Kind::Hello | Kind::Command => {
                    self.control(t, w, h, deadline)?;
                    continue;
                }
                Kind::Part | Kind::Last if !w.ready() => {
                    let why = format!(
                        "{}: {}: the peer sent a message before the handshake ended",
                        t.describe(),
                        w.name()
                    );
                    return Err(self.break_stream(why));
                }
                _ => {}
            }
            if len > self.max as u64 {
                let why = format!(
                    "{}: the peer announced a {len}-byte message, above the maximum of {} \
                     bytes (ipcx_options_set_max_message); the connection is no longer usable",
                    t.describe(),
                    self.max
                );
                return Err(self.break_stream(why));
            }
            if kind == Kind::Part || self.refusing.is_some() {
                let r = self.refusing.get_or_insert_with(Refusing::default);
                r.parts += 1;
                r.bytes += len;
                r.done = kind == Kind::Last;
                if r.bytes > self.max as u64 {
                    let why = format!(
                        "{}: the peer sent a message in parts adding up to more than the \
                         maximum of {} bytes (ipcx_options_set_max_message); the connection is \
                         no longer usable",
                        t.describe(),
                        self.max
                    );
                    return Err(self.break_stream(why));
                }
                self.rx.consume(hdr);
                self.skip = len;
                continue;
            }
            let len = len as usize;
            if len > out.len() {
                return Err(Error::too_big(
                    len,
                    format!(
                        "the next message is {len} bytes, the buffer holds {}; it stays queued \
                         for a receive with a larger buffer",
                        out.len()
                    ),
                ));
            }
            let mut head = [0u8; HEADER_MAX];
            head[..hdr].copy_from_slice(&self.rx.pending()[..hdr]);
            let have = (self.buffered() - hdr).min(len);
            out[..have].copy_from_slice(&self.rx.pending()[hdr..hdr + have]);
            self.rx.consume(hdr + have);
            if have == len {
                return Ok(len);
            }
            return self.finish_body(t, out, len, have, &head[..hdr], deadline);
        }
    }

    /// Read the rest of a message whose first `have` bytes are in `out`. On any error but
    /// end of file, the header and the partial message go back into the buffer.
    fn finish_body<T: Transport>(
        &mut self,
        t: &mut T,
        out: &mut [u8],
        len: usize,
        mut have: usize,
        head: &[u8],
        deadline: &Deadline,
    ) -> Result<usize> {
        while have < len {
            match read_wait(
                t,
                deadline,
                &mut [IoSliceMut::new(&mut out[have..len])],
                true,
            ) {
                Ok(0) => {
                    return Err(Error::closed(format!(
                        "receive from {}: the peer closed after {have} of {len} bytes of a \
                         message",
                        t.describe()
                    )));
                }
                Ok(n) => have += n,
                Err(e) => {
                    self.rx.prepend(&[head, &out[..have]]);
                    return Err(e);
                }
            }
        }
        Ok(len)
    }
}
