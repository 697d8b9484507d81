// SPDX-License-Identifier: MIT OR Apache-2.0
//! ZeroMQ's wire format: ZMTP 3.1 (RFC 37, compatible with 3.0, RFC 23) with the NULL
//! security mechanism, for PUSH and PULL sockets.
//!
//! - Greeting, 64 bytes, sent by each side at once: signature (`FF`, 8 padding bytes,
//!   `7F`), version 3.1, the mechanism name "NULL" padded with zeros to 20 bytes, the
//!   as-server byte (0: NULL has no roles), 31 zero bytes.
//! - Then each side sends a READY command carrying its metadata; ours is
//!   `Socket-Type` = `PUSH` or `PULL`, and the peer's must be the other one. A peer that
//!   refuses the handshake sends an ERROR command with a reason.
//! - Frames: a flags byte (bit 0 MORE: another part of the message follows; bit 1 LONG:
//!   the size takes 8 bytes, big-endian, instead of 1; bit 2 COMMAND), the size, the body.
//!   A command's body starts with its name (one length byte, then the name).
//! - PING (ZMTP 3.1 heartbeats, off unless a ZeroMQ program sets ZMQ_HEARTBEAT_IVL) is
//!   answered with PONG carrying the PING's context, when the connection is next read.
//!
//! ipcx sends every message as one frame and refuses messages in several parts (see
//! [`super::peer`]).

use super::peer::{Head, Kind, Wire};

/// Size of the greeting.
pub(crate) const GREETING: usize = 64;

const MORE: u8 = 1;
const LONG: u8 = 2;
const COMMAND: u8 = 4;

/// The handshake's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Greeting,
    Ready0,
    Ready,
}

/// One side of a ZMTP PUSH/PULL connection.
#[derive(Clone, Debug)]
pub(crate) struct Zmtp {
    mine: &'static str,
    theirs: &'static str,
    state: State,
    /// Replies to send (PONG), in wire format.
    outbox: Vec<u8>,
}

/// The peer's first bytes are not a ZMTP 3 greeting: say what they look like.
fn not_a_greeting(p: &[u8]) -> String {
    let head = &p[..p.len().min(10)];
    let looks = if head.starts_with(&[0, b'S', b'P']) {
        ": they are an SP header (the peer is an nng or nanomsg socket: use nng+tcp: or \
         nng+ipc:)"
    } else {
        ": the peer is not a ZeroMQ socket, or speaks ZMTP 1.0"
    };
    format!("the first bytes are {head:02x?}, not a ZMTP 3 greeting (FF, 8 bytes, 7F){looks}")
}

/// Append a frame's header for a body of `len` bytes (`flags` without LONG) to `out`.
fn put_header(out: &mut Vec<u8>, flags: u8, len: usize) {
    if len <= 255 {
        out.extend_from_slice(&[flags, len as u8]);
    } else {
        out.push(flags | LONG);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

impl Zmtp {
    /// A PUSH side (`push`) or a PULL side.
    pub(crate) fn new(push: bool) -> Zmtp {
        let (mine, theirs) = if push {
            ("PUSH", "PULL")
        } else {
            ("PULL", "PUSH")
        };
        Zmtp {
            mine,
            theirs,
            state: State::Greeting,
            outbox: Vec::new(),
        }
    }

    /// What this side sends at once: the greeting and the READY command.
    pub(crate) fn hello(&self) -> Vec<u8> {
        let mut g = vec![0u8; GREETING];
        g[0] = 0xff;
        g[8] = 1; // padding, as libzmq writes it (ZMTP 1.0's identity length + 1)
        g[9] = 0x7f;
        g[10] = 3;
        g[11] = 1;
        g[12..16].copy_from_slice(b"NULL");
        let mut ready = Vec::new();
        ready.push(5);
        ready.extend_from_slice(b"READY");
        ready.push(11);
        ready.extend_from_slice(b"Socket-Type");
        ready.extend_from_slice(&(self.mine.len() as u32).to_be_bytes());
        ready.extend_from_slice(self.mine.as_bytes());
        put_header(&mut g, COMMAND, ready.len());
        g.extend_from_slice(&ready);
        g
    }

    /// The header of a message of `len` bytes (one frame), into `out`; its length.
    pub(crate) fn header(len: usize, out: &mut [u8; 16]) -> usize {
        if len <= 255 {
            out[0] = 0;
            out[1] = len as u8;
            2
        } else {
            out[0] = LONG;
            out[1..9].copy_from_slice(&(len as u64).to_be_bytes());
            9
        }
    }

    /// Replies waiting to be sent (taken: the caller sends them).
    pub(crate) fn take_outbox(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outbox)
    }

    /// Whether replies wait to be sent.
    pub(crate) fn has_outbox(&self) -> bool {
        !self.outbox.is_empty()
    }

    fn greeting(&mut self, g: &[u8]) -> std::result::Result<(), String> {
        if g[0] != 0xff || g[9] & 1 == 0 {
            return Err(not_a_greeting(g));
        }
        if g[10] < 3 {
            return Err(format!(
                "the peer speaks ZMTP {}.{}; ipcx speaks 3.x (libzmq 4.0 and later)",
                g[10], g[11]
            ));
        }
        let mech = &g[12..32];
        let end = mech.iter().position(|&b| b == 0).unwrap_or(mech.len());
        if &mech[..end] != b"NULL" || mech[end..].iter().any(|&b| b != 0) {
            return Err(format!(
                "the peer uses the security mechanism {:?}; ipcx speaks NULL only (no \
                 authentication or encryption: see docs/channel.md)",
                String::from_utf8_lossy(&mech[..end])
            ));
        }
        self.state = State::Ready0;
        Ok(())
    }

    fn ready_command(&mut self, mut p: &[u8]) -> std::result::Result<(), String> {
        let mut socket_type = None;
        while !p.is_empty() {
            let n = p[0] as usize;
            if p.len() < 1 + n + 4 {
                return Err("READY: a property is cut short".into());
            }
            let name = &p[1..1 + n];
            let vlen = u32::from_be_bytes([p[1 + n], p[2 + n], p[3 + n], p[4 + n]]) as usize;
            let rest = &p[5 + n..];
            if rest.len() < vlen {
                return Err("READY: a property value is cut short".into());
            }
            if name.eq_ignore_ascii_case(b"Socket-Type") {
                socket_type = Some(&rest[..vlen]);
            }
            p = &rest[vlen..];
        }
        match socket_type {
            None => Err("READY without a Socket-Type property".into()),
            Some(t) if t == self.theirs.as_bytes() => {
                self.state = State::Ready;
                Ok(())
            }
            Some(t) => Err(format!(
                "the peer is a {} socket; a {} socket talks to {} only",
                String::from_utf8_lossy(t),
                self.mine,
                self.theirs
            )),
        }
    }
}

impl Wire for Zmtp {
    fn head(&self, p: &[u8]) -> std::result::Result<Head, String> {
        if self.state == State::Greeting {
            // Refuse a stranger on its first bytes rather than after 64.
            if p.first().is_some_and(|&b| b != 0xff) {
                return Err(not_a_greeting(p));
            }
            if p.len() < 10 {
                return Ok(Head::Need(10));
            }
            if p[9] & 1 == 0 {
                return Err(not_a_greeting(p));
            }
            return Ok(Head::Frame {
                hdr: 0,
                len: GREETING as u64,
                kind: Kind::Hello,
            });
        }
        let Some(&flags) = p.first() else {
            return Ok(Head::Need(1));
        };
        if flags & !(MORE | LONG | COMMAND) != 0 {
            return Err(format!("frame flags {flags:#04x} have reserved bits set"));
        }
        if flags & COMMAND != 0 && flags & MORE != 0 {
            return Err("a command frame with the MORE flag".into());
        }
        let (hdr, len) = if flags & LONG != 0 {
            if p.len() < 9 {
                return Ok(Head::Need(9));
            }
            let mut be = [0u8; 8];
            be.copy_from_slice(&p[1..9]);
            (9, u64::from_be_bytes(be))
        } else {
            if p.len() < 2 {
                return Ok(Head::Need(2));
            }
            (2, p[1] as u64)
        };
        let kind = if flags & COMMAND != 0 {
            Kind::Command
        } else if flags & MORE != 0 {
            Kind::Part
        } else {
            Kind::Last
        };
        Ok(Head::Frame { hdr, len, kind })
    }

    fn control(&mut self, kind: Kind, _hdr: &[u8], body: &[u8]) -> std::result::Result<(), String> {
        if kind == Kind::Hello {
            return self.greeting(body);
        }
        let n = *body.first().ok_or("an empty command")? as usize;
        if body.len() < 1 + n {
            return Err("a command name is cut short".into());
        }
        let (name, data) = (&body[1..1 + n], &body[1 + n..]);
        match (name, self.state) {
            (b"READY", State::Ready0) => self.ready_command(data),
            (b"READY", _) => Err("a second READY".into()),
            (b"ERROR", _) => {
                let reason = match data.split_first() {
                    Some((&l, r)) => &r[..(l as usize).min(r.len())],
                    None => &[][..],
                };
                Err(format!(
                    "the peer refused the connection: ERROR {:?}",
                    String::from_utf8_lossy(reason)
                ))
            }
            (_, State::Ready0) => Err(format!(
                "command {:?} before READY",
                String::from_utf8_lossy(name)
            )),
            (b"PING", _) => {
                // A 16-bit TTL, then up to 16 bytes of context that PONG returns.
                let ctx = data.get(2..).unwrap_or(&[]);
                let ctx = &ctx[..ctx.len().min(16)];
                put_header(&mut self.outbox, COMMAND, 5 + ctx.len());
                self.outbox.push(4);
                self.outbox.extend_from_slice(b"PONG");
                self.outbox.extend_from_slice(ctx);
                Ok(())
            }
            // PONG answers nothing we sent; other commands concern other socket types.
            _ => Ok(()),
        }
    }

    fn ready(&self) -> bool {
        self.state == State::Ready
    }

    fn name(&self) -> &'static str {
        "ZMTP"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `bytes` to `z` frame by frame (control frames only); the frames left.
    fn feed(z: &mut Zmtp, mut bytes: &[u8]) -> std::result::Result<usize, String> {
        while !bytes.is_empty() {
            match z.head(bytes)? {
                Head::Need(_) => return Ok(bytes.len()),
                Head::Frame { hdr, len, kind } => {
                    let end = hdr + len as usize;
                    if kind == Kind::Part || kind == Kind::Last || end > bytes.len() {
                        return Ok(bytes.len());
                    }
                    z.control(kind, &bytes[..hdr], &bytes[hdr..end])?;
                    bytes = &bytes[end..];
                }
            }
        }
        Ok(0)
    }

    #[test]
    fn push_and_pull_shake_hands() {
        let (mut push, mut pull) = (Zmtp::new(true), Zmtp::new(false));
        let (hp, hq) = (push.hello(), pull.hello());
        assert_eq!(hp.len(), GREETING + 2 + 26);
        assert_eq!(&hp[64..68], &[4, 26, 5, b'R']);
        assert_eq!(feed(&mut push, &hq), Ok(0));
        assert_eq!(feed(&mut pull, &hp), Ok(0));
        assert!(push.ready() && pull.ready());
        // Frames.
        let mut h = [0u8; 16];
        assert_eq!(Zmtp::header(255, &mut h), 2);
        assert_eq!(
            pull.head(&h[..2]).unwrap(),
            Head::Frame {
                hdr: 2,
                len: 255,
                kind: Kind::Last
            }
        );
        assert_eq!(Zmtp::header(256, &mut h), 9);
        assert_eq!(pull.head(&h[..5]).unwrap(), Head::Need(9));
        assert_eq!(
            pull.head(&[MORE, 3]).unwrap(),
            Head::Frame {
                hdr: 2,
                len: 3,
                kind: Kind::Part
            }
        );
        assert!(pull.head(&[0x80, 0]).unwrap_err().contains("reserved"));
    }

    #[test]
    fn ping_gets_pong_with_its_context() {
        let (push, mut pull) = (Zmtp::new(true), Zmtp::new(false));
        feed(&mut pull, &push.hello()).unwrap();
        let ping = [COMMAND, 9, 4, b'P', b'I', b'N', b'G', 0, 10, b'a', b'b'];
        assert_eq!(feed(&mut pull, &ping), Ok(0));
        assert_eq!(
            pull.take_outbox(),
            vec![COMMAND, 7, 4, b'P', b'O', b'N', b'G', b'a', b'b']
        );
    }

    #[test]
    fn refusals_are_explained() {
        let mut pull = Zmtp::new(false);
        let e = feed(&mut pull, &Zmtp::new(false).hello()).unwrap_err();
        assert!(
            e.contains("PULL socket; a PULL socket talks to PUSH"),
            "{e}"
        );
        let mut pull = Zmtp::new(false);
        let mut g = Zmtp::new(true).hello();
        g[12..17].copy_from_slice(b"CURVE");
        assert!(feed(&mut pull, &g).unwrap_err().contains("CURVE"));
        let mut pull = Zmtp::new(false);
        let e = feed(&mut pull, b"G").unwrap_err(); // refused on its first byte
        assert!(e.contains("not a ZMTP 3 greeting"), "{e}");
        assert_eq!(feed(&mut pull, &[0xff, 0, 0]), Ok(3)); // a signature's start: wait
        let e = feed(&mut pull, &[0, b'S', b'P', 0, 0, 0x50, 0, 0]).unwrap_err();
        assert!(e.contains("nng+tcp:"), "{e}");
        let mut pull = Zmtp::new(false);
        let mut g = Zmtp::new(true).hello();
        g.truncate(GREETING);
        g.extend_from_slice(&[
            COMMAND, 11, 5, b'E', b'R', b'R', b'O', b'R', 4, b'n', b'o', b'p', b'e',
        ]);
        assert!(feed(&mut pull, &g).unwrap_err().contains("ERROR \"nope\""));
    }
}
