// SPDX-License-Identifier: MIT OR Apache-2.0
//! nng's and nanomsg's wire format: the scalability protocols (SP) over TCP and over IPC
//! (Unix stream sockets), as published in the SP TCP and IPC mapping documents.
//!
//! - Connection header, sent by each side at once, read and checked by the other: the
//!   bytes `00 'S' 'P' 00`, the sender's protocol id (16 bits, big-endian; PUSH is
//!   0x50, PULL 0x51), two reserved zero bytes.
//! - Messages over TCP: a 64-bit big-endian length, then the bytes. Over IPC the length
//!   is preceded by a message type byte, always 1.
//!
//! The pipeline protocol (PUSH/PULL) adds no header of its own to messages.

use super::peer::{Head, Kind, Wire};

/// The SP protocol id of PUSH (pipeline, v0).
pub(crate) const PUSH: u16 = 0x50;
/// The SP protocol id of PULL (pipeline, v0).
pub(crate) const PULL: u16 = 0x51;

/// A protocol id by name, for messages.
fn proto_name(id: u16) -> String {
    let n = match id {
        0x10 => "PAIR (v0)",
        0x11 => "PAIR (v1)",
        0x20 => "PUB",
        0x21 => "SUB",
        0x30 => "REQ",
        0x31 => "REP",
        0x50 => "PUSH",
        0x51 => "PULL",
        0x62 => "SURVEYOR",
        0x63 => "RESPONDENT",
        0x70 => "BUS",
        _ => return format!("{id:#x}"),
    };
    format!("{n} ({id:#x})")
}

/// The peer's first bytes are not an SP header: say what they look like.
fn not_a_header(p: &[u8]) -> String {
    let head = &p[..p.len().min(8)];
    let looks = if head.first() == Some(&0xff) {
        ": they start a ZMTP greeting (the peer is a ZeroMQ socket: use zmq+tcp: or zmq+ipc:)"
    } else {
        ": the peer is not an nng or nanomsg socket"
    };
    format!(
        "the first bytes are {head:02x?}, not an SP header (00 'S' 'P' 00, protocol, 00 00){looks}"
    )
}

/// One side of an SP pipeline connection.
#[derive(Clone, Debug)]
pub(crate) struct Sp {
    /// The IPC mapping (a type byte before each length).
    ipc: bool,
    /// Our protocol id, and the one the peer must have.
    mine: u16,
    theirs: u16,
    ready: bool,
}

impl Sp {
    /// A PUSH side (`push`) or a PULL side, over IPC (`ipc`) or TCP.
    pub(crate) fn new(push: bool, ipc: bool) -> Sp {
        let (mine, theirs) = if push { (PUSH, PULL) } else { (PULL, PUSH) };
        Sp {
            ipc,
            mine,
            theirs,
            ready: false,
        }
    }

    /// The connection header this side sends.
    pub(crate) fn hello(&self) -> [u8; 8] {
        let [hi, lo] = self.mine.to_be_bytes();
        [0, b'S', b'P', 0, hi, lo, 0, 0]
    }

    /// The header of a message of `len` bytes, into `out`; its length.
    pub(crate) fn header(&self, len: usize, out: &mut [u8; 16]) -> usize {
        let be = (len as u64).to_be_bytes();
        if self.ipc {
            out[0] = 1;
            out[1..9].copy_from_slice(&be);
            9
        } else {
            out[..8].copy_from_slice(&be);
            8
        }
    }
}

impl Wire for Sp {
    fn head(&self, p: &[u8]) -> std::result::Result<Head, String> {
        if !self.ready {
            // Refuse a stranger on its first bytes rather than after 8.
            let sig = [0, b'S', b'P', 0];
            let n = p.len().min(4);
            if p[..n] != sig[..n] {
                return Err(not_a_header(p));
            }
            if p.len() < 8 {
                return Ok(Head::Need(8));
            }
            return Ok(Head::Frame {
                hdr: 0,
                len: 8,
                kind: Kind::Hello,
            });
        }
        let hdr = if self.ipc { 9 } else { 8 };
        if p.len() < hdr {
            return Ok(Head::Need(hdr));
        }
        let at = if self.ipc {
            if p[0] != 1 {
                return Err(format!(
                    "message type {} (the SP IPC mapping has only type 1)",
                    p[0]
                ));
            }
            1
        } else {
            0
        };
        let mut be = [0u8; 8];
        be.copy_from_slice(&p[at..at + 8]);
        Ok(Head::Frame {
            hdr,
            len: u64::from_be_bytes(be),
            kind: Kind::Last,
        })
    }

    fn control(&mut self, kind: Kind, _hdr: &[u8], body: &[u8]) -> std::result::Result<(), String> {
        if kind != Kind::Hello || self.ready || body.len() != 8 {
            return Err("unexpected frame".into());
        }
        if body[..4] != [0, b'S', b'P', 0] || body[6..] != [0, 0] {
            return Err(not_a_header(body));
        }
        let peer = u16::from_be_bytes([body[4], body[5]]);
        if peer != self.theirs {
            return Err(format!(
                "the peer is a {} socket; a {} socket talks to {} only",
                proto_name(peer),
                proto_name(self.mine),
                proto_name(self.theirs)
            ));
        }
        self.ready = true;
        Ok(())
    }

    fn ready(&self) -> bool {
        self.ready
    }

    fn name(&self) -> &'static str {
        if self.ipc {
            "SP over IPC"
        } else {
            "SP over TCP"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_frames() {
        let mut pull = Sp::new(false, false);
        let push = Sp::new(true, false);
        assert_eq!(push.hello(), [0, b'S', b'P', 0, 0, 0x50, 0, 0]);
        assert!(!pull.ready());
        pull.control(Kind::Hello, &[], &push.hello()).unwrap();
        assert!(pull.ready());
        let mut h = [0u8; 16];
        assert_eq!(push.header(300, &mut h), 8);
        assert_eq!(
            pull.head(&h[..8]).unwrap(),
            Head::Frame {
                hdr: 8,
                len: 300,
                kind: Kind::Last
            }
        );
        assert_eq!(pull.head(&h[..7]).unwrap(), Head::Need(8));
        // IPC: a type byte.
        let ipc = Sp::new(true, true);
        assert_eq!(ipc.header(5, &mut h), 9);
        assert_eq!(&h[..9], &[1, 0, 0, 0, 0, 0, 0, 0, 5]);
        let mut rx = Sp::new(false, true);
        rx.control(Kind::Hello, &[], &ipc.hello()).unwrap();
        h[0] = 2;
        assert!(rx.head(&h[..9]).unwrap_err().contains("type 2"));
    }

    #[test]
    fn wrong_peers_are_named() {
        let mut pull = Sp::new(false, false);
        let e = pull
            .control(Kind::Hello, &[], &Sp::new(false, false).hello())
            .unwrap_err();
        assert!(e.contains("PULL (0x51) socket; a PULL (0x51)"), "{e}");
        let e = pull.control(Kind::Hello, &[], b"GET / HT").unwrap_err();
        assert!(e.contains("not an SP header"), "{e}");
        assert!(pull.head(b"G").unwrap_err().contains("not an SP header"));
        assert!(pull.head(&[0xff]).unwrap_err().contains("zmq+tcp:"));
        assert_eq!(pull.head(&[0, b'S']).unwrap(), Head::Need(8));
        assert!(!pull.ready());
    }
}
