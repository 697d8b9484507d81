// SPDX-License-Identifier: MIT OR Apache-2.0
//! Channel ends that speak the wire protocols of other messaging libraries, so that the
//! other end may be an nng/nanomsg or ZeroMQ program (`nng+tcp:`, `nng+ipc:`, `zmq+tcp:`,
//! `zmq+ipc:`): an ipcx sender is a PUSH socket, an ipcx receiver a PULL socket.
//!
//! The wire formats are in `crate::frame::sp` and `crate::frame::zmtp`, read by
//! `crate::frame::peer::PeerReader`; this module makes the connections and the four
//! kinds of ends:
//! - a receiver that listens (the channel model: senders connect), a [`FanIn`] of
//!   [`PeerConn`]s: several PUSH sockets' connections, served fairly;
//! - a sender that connects to a listening PULL socket ([`DialSend`]);
//! - with `IPCX_CHAN_DIAL`, a receiver that connects to a listening PUSH socket
//!   ([`DialRecv`]): ZeroMQ and nng programs often bind their PUSH socket and let
//!   workers connect;
//! - with `IPCX_CHAN_LISTEN`, a sender that listens and hands each message to one of the
//!   PULL sockets connected at that moment, in turn ([`FanOut`], what a PUSH socket does).
//!
//! Every connection starts with a handshake: each side sends its hello at once (SP: an
//! 8-byte header naming its protocol; ZMTP: the 64-byte greeting and a READY command
//! naming its socket type) and checks the other's. The peer's hello is read by the first
//! receives and sends, never waited for by an open: the peer may be an ipcx end, which
//! answers only when it next receives or sends (its listener accepts then), and a
//! listening end must not let a slow peer hold up the others. A sender's first send
//! waits for the peer's hello: a ZeroMQ socket reads no message before it has sent READY,
//! and an SP header left unread would turn the sender's close into a reset that discards
//! its unsent messages (an ipcx receiver sends its hello when it next receives). A peer
//! of the wrong kind (a PUSH connecting to an ipcx sender, a ZeroMQ socket with CURVE
//! security) is refused with `IPCX_ERR_PROTOCOL` naming what it is, by the first receive
//! or send that reads its hello.

use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::addr::{Lib, Link};
use super::fanin::{Conn, FanIn};
use super::{CAP_MULTI_SENDER, CAP_PEER_CLOSED, CAP_POLL, Caps, Endpoint, Made, Role};
use crate::error::{Error, Result, Status};
use crate::frame::FrameWriter;
use crate::frame::peer::{Head, Kind, PeerReader, Wire};
use crate::frame::sp::Sp;
use crate::frame::zmtp::Zmtp;
use crate::options::Options;
use crate::sock::addr::UnixName;
use crate::sock::allow::Allow;
use crate::sock::{self, Listener, Sock, conn_error};
use crate::time::{self, Deadline, Timeout};

/// How often a sender looks for the peer's ZMTP commands (PING) while it sends.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The protocol of a connection: the library's wire, the link, and our side.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spec {
    lib: Lib,
    ipc: bool,
    /// We are the PUSH side (an ipcx sender).
    push: bool,
}

/// The wire of one connection.
#[derive(Clone, Debug)]
enum Proto {
    Sp(Sp),
    Zmtp(Zmtp),
}

impl Proto {
    fn new(s: Spec) -> Proto {
        match s.lib {
            Lib::Nng => Proto::Sp(Sp::new(s.push, s.ipc)),
            Lib::Zmq => Proto::Zmtp(Zmtp::new(s.push)),
        }
    }

    fn hello(&self) -> Vec<u8> {
        match self {
            Proto::Sp(p) => p.hello().to_vec(),
            Proto::Zmtp(p) => p.hello(),
        }
    }

    fn header(&self, len: usize, out: &mut [u8; 16]) -> usize {
        match self {
            Proto::Sp(p) => p.header(len, out),
            Proto::Zmtp(_) => Zmtp::header(len, out),
        }
    }
}

impl Wire for Proto {
    fn head(&self, p: &[u8]) -> std::result::Result<Head, String> {
        match self {
            Proto::Sp(w) => w.head(p),
            Proto::Zmtp(w) => w.head(p),
        }
    }

    fn control(&mut self, kind: Kind, hdr: &[u8], body: &[u8]) -> std::result::Result<(), String> {
        match self {
            Proto::Sp(w) => w.control(kind, hdr, body),
            Proto::Zmtp(w) => w.control(kind, hdr, body),
        }
    }

    fn ready(&self) -> bool {
        match self {
            Proto::Sp(w) => w.ready(),
            Proto::Zmtp(w) => w.ready(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Proto::Sp(w) => w.name(),
            Proto::Zmtp(w) => w.name(),
        }
    }
}

/// One connection to a peer library's socket.
pub(super) struct PeerConn {
    sock: Sock,
    rd: PeerReader,
    wr: FrameWriter,
    proto: Proto,
    max: usize,
    /// We are the PUSH side.
    push: bool,
    /// Senders: when the peer's commands were last looked at.
    looked: Instant,
    /// A sender to a ZeroMQ socket over a Unix socket: the process whose close waits for
    /// the peer to read what it was sent (see [`linger`]); 0 for the others. A forked
    /// child's close leaves the connection open in its parent, so it does not wait.
    linger: libc::pid_t,
}

impl PeerConn {
    /// A new connection: send our hello (accepted once its first byte is written: a
    /// fresh connection's buffer has room for it). A connection a listener accepted
    /// (`accepted`) is kept even if the peer has already closed it: what it sent before
    /// is still to be received.
    fn start(
        mut sock: Sock,
        spec: Spec,
        max: usize,
        deadline: &Deadline,
        accepted: bool,
    ) -> Result<PeerConn> {
        let proto = Proto::new(spec);
        let mut wr = FrameWriter::new(usize::MAX, None);
        match wr.send_with(&mut sock.stream(), &proto.hello(), &[], deadline) {
            Err(e) if accepted && e.status == Status::IPCX_ERR_CLOSED => {}
            r => r.map_err(conn_error)?,
        }
        Ok(PeerConn {
            sock,
            rd: PeerReader::new(max),
            wr,
            proto,
            max,
            push: spec.push,
            looked: Instant::now(),
            linger: if spec.push && spec.ipc && matches!(spec.lib, Lib::Zmq) {
                // SAFETY: getpid has no preconditions.
                unsafe { libc::getpid() }
            } else {
                0
            },
        })
    }

    /// Read the peer's side of the handshake, waiting up to the deadline.
    fn handshake(&mut self, deadline: &Deadline) -> Result<()> {
        let r = self
            .rd
            .handshake(&mut self.sock.stream(), &mut self.proto, deadline);
        self.flush_outbox();
        r.map_err(|e| {
            let e = conn_error(e);
            if e.status == Status::IPCX_ERR_CLOSED {
                e.context(format_args!(
                    "during the {} handshake (is the peer a {} socket?)",
                    self.proto.name(),
                    if self.push { "PULL" } else { "PUSH" }
                ))
            } else {
                e
            }
        })
    }

    fn ready(&self) -> bool {
        self.proto.ready()
    }

    /// Send what the wire wants to answer (ZMTP's PONG), without waiting; a reply that
    /// finds no room is dropped (the peer asks again), a reply cut short is finished by
    /// the next write.
    fn flush_outbox(&mut self) {
        let out = match &mut self.proto {
            Proto::Zmtp(z) if z.has_outbox() => z.take_outbox(),
            _ => {
                if self.wr.backlog() > 0 {
                    let _ = self.wr.flush(&mut self.sock.stream(), &Deadline::now());
                }
                return;
            }
        };
        let _ = self
            .wr
            .send_with(&mut self.sock.stream(), &out, &[], &Deadline::now());
    }

    /// Write out the rest of a message a send accepted, waiting up to the deadline.
    fn flush(&mut self, deadline: &Deadline) -> Result<()> {
        self.wr
            .flush(&mut self.sock.stream(), deadline)
            .map_err(conn_error)
    }

    /// Receive one message (the handshake's frames are read first).
    fn recv_msg(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        let r = self
            .rd
            .recv(&mut self.sock.stream(), &mut self.proto, out, deadline);
        if matches!(&self.proto, Proto::Zmtp(z) if z.has_outbox()) {
            self.flush_outbox();
        }
        r.map_err(conn_error)
    }

    /// Send one message. The first send waits, up to its deadline, for the peer's side of
    /// the handshake: a ZeroMQ socket reads no message before it has sent its READY, and
    /// over SP a hello left unread would make the kernel reset the connection when we
    /// close it (a socket closed with unread input sends RST), discarding the messages
    /// still in our send buffer. The peer sends nothing else a sender must read but ZMTP
    /// commands (PING), which are looked at while sending and drained at close.
    fn send_msg(&mut self, msg: &[u8], deadline: &Deadline) -> Result<()> {
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
        if !self.ready() {
            // One look without waiting: the answer is usually there (and over SP it is
            // how a peer of the wrong kind is found).
            match self.handshake(&Deadline::now()) {
                Err(e) if e.is_timeout() => {}
                r => r?,
            }
            if !self.ready() {
                let zmtp = matches!(self.proto, Proto::Zmtp(_));
                self.handshake(deadline).map_err(|e| {
                    if !e.is_timeout() {
                        e
                    } else if zmtp {
                        e.context(
                            "the receiver has not answered the ZMTP handshake (a ZeroMQ socket \
                             reads no message before it has sent READY; an ipcx receiver \
                             answers when it next receives)",
                        )
                    } else {
                        e.context(
                            "the receiver has not sent its SP header (an ipcx receiver sends \
                             it when it next receives)",
                        )
                    }
                })?;
            }
        } else if matches!(self.proto, Proto::Zmtp(_)) && self.looked.elapsed() >= LOOK_EVERY {
            self.looked = Instant::now();
            let r = self
                .rd
                .control_only(&mut self.sock.stream(), &mut self.proto);
            self.flush_outbox();
            r.map_err(conn_error)?;
        }
        let mut h = [0u8; 16];
        let n = self.proto.header(msg.len(), &mut h);
        self.wr
            .send_with(&mut self.sock.stream(), &h[..n], msg, deadline)
            .map_err(conn_error)
    }
}

impl Drop for PeerConn {
    fn drop(&mut self) {
        if self.wr.backlog() > 0 {
            let _ = self.wr.flush(&mut self.sock.stream(), &Deadline::now());
        }
        if self.push {
            // Input left unread (a ZMTP PING) would turn the close into a reset that
            // discards what the kernel has not sent yet: read it away first.
            read_away(self.sock.as_fd());
        }
        // SAFETY: getpid has no preconditions.
        if self.linger != 0 && self.linger == unsafe { libc::getpid() } {
            linger(self.sock.as_fd());
        }
    }
}

/// Read away what the peer sent without waiting (at most 64 KiB). False if the peer shut
/// its side or the connection broke.
fn read_away(fd: BorrowedFd<'_>) -> bool {
    use nix::sys::socket::{MsgFlags, recv};
    let mut scratch = [0u8; 512];
    for _ in 0..128 {
        match recv(fd.as_raw_fd(), &mut scratch, MsgFlags::MSG_DONTWAIT) {
            Ok(n) if n > 0 => {}
            Err(Errno::EAGAIN) => return true,
            Err(Errno::EINTR) => {}
            _ => return false,
        }
    }
    true
}

/// How long a closing `zmq+ipc:` sender waits for its peer to read on: when the peer has
/// read nothing for `LINGER_STALL`, or `LINGER_MAX` has passed, the close goes on.
const LINGER_STALL: Duration = Duration::from_secs(1);
const LINGER_MAX: Duration = Duration::from_secs(10);

/// Before a `zmq+ipc:` sender's connection is closed, wait while the ZeroMQ receiver
/// still has bytes of ours to read in its socket. libzmq (4.3) loses them otherwise: a
/// Unix stream socket whose peer closes reports a hang-up at once, even with data still
/// queued, and a ZeroMQ engine that is at its receive high-water mark (it has stopped
/// reading) takes the hang-up as an error and drops the connection without reading the
/// rest (libzmq issue #4660; TCP reports no hang-up for a FIN, and nng reads on). The
/// wait ends when the peer has read everything (the kernel's count of unread bytes,
/// SIOCOUTQ, is zero), hangs up, reads nothing for `LINGER_STALL`, or after `LINGER_MAX`.
/// It costs one ioctl when everything was read.
fn linger(fd: BorrowedFd<'_>) {
    let mut left = match crate::fd::unread_by_peer(fd) {
        Ok(n) if n > 0 => n,
        _ => return,
    };
    let start = Instant::now();
    let mut moved = start;
    while moved.elapsed() < LINGER_STALL && start.elapsed() < LINGER_MAX {
        let pause = Deadline::after(Duration::from_millis(2));
        match time::wait_fd(fd, libc::POLLIN, &pause, "close: waiting for the receiver") {
            Ok(ev) if ev & (libc::POLLHUP | libc::POLLERR) != 0 => return,
            // A PING: read it away (unread input turns a close into a reset).
            Ok(_) if !read_away(fd) => return,
            Ok(_) => {}
            Err(e) if e.is_timeout() => {}
            Err(_) => return,
        }
        match crate::fd::unread_by_peer(fd) {
            Ok(0) | Err(_) => return,
            Ok(n) if n < left => {
                left = n;
                moved = Instant::now();
            }
            Ok(_) => {}
        }
    }
}

impl Conn for PeerConn {
    type Spec = Spec;

    fn accepted(s: Sock, spec: Spec, max: usize) -> Result<PeerConn> {
        PeerConn::start(s, spec, max, &Deadline::now(), true)
    }

    fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.recv_msg(out, deadline)
    }

    fn buffered(&self) -> usize {
        self.rd.buffered()
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    fn survives(&self, e: &Error) -> bool {
        e.status == Status::IPCX_ERR_PROTOCOL && !self.rd.is_broken()
    }
}

// ------------------------------------------------------------------ making ends

fn spec(lib: Lib, link: &Link<'_>, role: Role) -> Spec {
    Spec {
        lib,
        ipc: matches!(link, Link::Ipc(_)),
        push: role == Role::Send,
    }
}

/// The scheme of a peer address, for messages.
fn scheme(lib: Lib, link: &Link<'_>) -> &'static str {
    match (lib, link) {
        (Lib::Nng, Link::Tcp(_)) => "nng+tcp",
        (Lib::Nng, Link::Ipc(_)) => "nng+ipc",
        (Lib::Zmq, Link::Tcp(_)) => "zmq+tcp",
        (Lib::Zmq, Link::Ipc(_)) => "zmq+ipc",
    }
}

/// A Unix socket name as the socket functions write it (`/path`, `@name`), and the
/// object a channel reports for it (the path; nothing for an abstract name).
fn unix_text(n: &UnixName<'_>) -> (String, String) {
    match n {
        UnixName::Path(p) => (p.to_string(), p.to_string()),
        UnixName::Abstract(a) => (format!("@{a}"), String::new()),
    }
}

/// Listen at `link` (a receiver, or a sender with `IPCX_CHAN_LISTEN`).
pub(super) fn listen(lib: Lib, link: Link<'_>, role: Role, opts: &Options) -> Result<Made> {
    let sp = spec(lib, &link, role);
    let scheme = scheme(lib, &link);
    let sock_opts = opts.without_allow();
    let (l, address, object) = match link {
        Link::Tcp(hp) => {
            let l = sock::listen_tcp(hp, &sock_opts)?;
            let bound = l.local_address()?.text();
            (l, format!("{scheme}:{bound}"), String::new())
        }
        Link::Ipc(n) => {
            let (name, object) = unix_text(&n);
            let l = sock::listen_unix(&name, sock::Kind::Stream, &sock_opts)?;
            (l, format!("{scheme}:{name}"), object)
        }
    };
    let max = opts.max_message();
    let allow = opts.allow.clone();
    let mut m = match role {
        Role::Recv => {
            let fan = FanIn::<PeerConn>::new(l, max, scheme, sp, allow)?;
            Made::new(fan, address, &object)
        }
        Role::Send => {
            let out = FanOut {
                listener: l,
                conns: Vec::new(),
                next: 0,
                spec: sp,
                max,
                allow,
                refused: 0,
                scheme,
            };
            Made::new(out, address, &object)
        }
    };
    m.created = true; // a socket file goes with the listener
    Ok(m)
}

/// Connect to the peer listening at `link` and finish the handshake before the deadline
/// (a sender, or a receiver with `IPCX_CHAN_DIAL`). `IPCX_ERR_NOT_FOUND` with an errno
/// means nobody listens there yet (the caller retries until its deadline).
pub(super) fn dial(
    lib: Lib,
    link: Link<'_>,
    role: Role,
    opts: &Options,
    deadline: &Deadline,
) -> Result<Made> {
    let sp = spec(lib, &link, role);
    let scheme = scheme(lib, &link);
    let sock_opts = Options {
        mode: None,
        ..opts.without_allow()
    };
    let (s, address, object) = match link {
        Link::Tcp(hp) => (
            sock::connect_tcp(hp, &sock_opts, deadline)?,
            format!("{scheme}:{hp}"),
            String::new(),
        ),
        Link::Ipc(n) => {
            let (name, object) = unix_text(&n);
            let s = sock::connect_unix(&name, sock::Kind::Stream, &sock_opts, deadline)?;
            (s, format!("{scheme}:{name}"), object)
        }
    };
    if let Err(why) = opts.allow.check(&s)? {
        return Err(Error::new(
            Status::IPCX_ERR_PERMISSION,
            format!("{address}: {why} (the allowed_* options of this end); disconnected"),
        ));
    }
    // The peer's side of the handshake is read by the first receive or send: a peer that
    // is an ipcx end answers only when it next receives or sends.
    let c = PeerConn::start(s, sp, opts.max_message(), deadline, false)?;
    let what = format!("{scheme}: {} connected to {address}", role.name());
    Ok(match role {
        Role::Send => Made::new(
            DialSend {
                max: c.max,
                c: Some(c),
                connecting: None,
                what,
            },
            address,
            &object,
        ),
        Role::Recv => Made::new(DialRecv { c, what }, address, &object),
    })
}

// ------------------------------------------------------------------ connecting ends

/// A sender opened with IPCX_OPEN_NONBLOCK (`nng+...`/`zmq+...`, dialing): over TCP the
/// connect is started and left to finish in the background, and the first send (or
/// flush) finishes it and sends our hello, as a `tcp:` sender does; over IPC the Unix
/// connect is made at once (the handshake is read by the first send in either case).
pub(super) fn dial_nonblocking(lib: Lib, link: Link<'_>, opts: &Options) -> Result<Made> {
    let Link::Tcp(hp) = link else {
        return dial(lib, link, Role::Send, opts, &Deadline::now());
    };
    let scheme = scheme(lib, &link);
    let address = format!("{scheme}:{hp}");
    super::ends::check_nonblocking_allow(&address, opts)?;
    let sock_opts = Options {
        mode: None,
        ..opts.without_allow()
    };
    let s = sock::connect_tcp_start(hp, &sock_opts)?;
    let what = format!("{scheme}: {} connected to {address}", Role::Send.name());
    Ok(Made::new(
        DialSend {
            c: None,
            connecting: Some((s, spec(lib, &link, Role::Send))),
            max: opts.max_message(),
            what,
        },
        address,
        "",
    ))
}

/// A sender connected to a peer's PULL socket.
struct DialSend {
    /// The connection (`None` while an IPCX_OPEN_NONBLOCK connect goes on, or after it
    /// failed to start the wire).
    c: Option<PeerConn>,
    /// IPCX_OPEN_NONBLOCK: the socket whose TCP connect goes on, and its wire.
    connecting: Option<(Sock, Spec)>,
    max: usize,
    what: String,
}

impl DialSend {
    /// The connection, finishing a connect in the background first (waiting up to the
    /// deadline for it; in progress at the deadline: `IPCX_ERR_TIMEOUT`; failed: its error,
    /// at every call).
    fn conn(&mut self, dl: &Deadline) -> Result<&mut PeerConn> {
        if self.c.is_none() {
            let Some((s, _)) = self.connecting.as_mut() else {
                return Err(Error::closed(format!(
                    "{}: the connection failed when it started the wire protocol",
                    self.what
                )));
            };
            super::ends::finish_connect(s, dl)?;
            if let Some((s, sp)) = self.connecting.take() {
                self.c = Some(PeerConn::start(s, sp, self.max, dl, false)?);
            }
        }
        self.c
            .as_mut()
            .ok_or_else(|| Error::internal("no connection"))
    }
}

impl Endpoint for DialSend {
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        let dl = timeout.deadline();
        self.conn(&dl)?.send_msg(msg, &dl)
    }

    fn recv(&mut self, _out: &mut [u8], _timeout: Timeout) -> Result<usize> {
        Err(Error::internal("receive on a channel sender"))
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Err(Error::internal("poll on a channel sender"))
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        match (&self.c, &self.connecting) {
            (Some(c), _) => Ok(c.sock.fd()),
            (None, Some((s, _))) => Ok(s.fd()),
            (None, None) => Err(Error::closed(format!(
                "{}: the connection failed when it started the wire protocol",
                self.what
            ))),
        }
    }

    fn flush(&mut self, timeout: Timeout) -> Result<()> {
        let dl = timeout.deadline();
        if self.c.is_none() && self.connecting.is_none() {
            return Ok(()); // nothing was ever accepted
        }
        self.conn(&dl)?.flush(&dl)
    }

    fn send_pollable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        self.what.clone()
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_POLL | CAP_PEER_CLOSED | CAP_MULTI_SENDER,
            max_message: self.max,
        }
    }
}

/// A receiver connected to a peer's PUSH socket. Its one connection is its life: when
/// the peer goes, every receive after the last message says `IPCX_ERR_CLOSED`.
struct DialRecv {
    c: PeerConn,
    what: String,
}

impl Endpoint for DialRecv {
    fn send(&mut self, _msg: &[u8], _timeout: Timeout) -> Result<()> {
        Err(Error::internal("send on a channel receiver"))
    }

    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        self.c
            .recv_msg(out, &timeout.deadline())
            .map_err(|e| match e.status {
                Status::IPCX_ERR_CLOSED => e.context(format_args!(
                    "{}: the peer closed the connection (reopen the channel to connect again)",
                    self.what
                )),
                _ => e,
            })
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Ok(self.c.sock.fd())
    }

    fn describe(&self) -> String {
        self.what.clone()
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_POLL | CAP_PEER_CLOSED,
            max_message: self.c.max,
        }
    }
}

// ------------------------------------------------------------------ a listening sender

/// A sender that listens: each message goes to one of the PULL sockets connected at that
/// moment, in turn, skipping those whose buffers are full (ZeroMQ's and nng's PUSH). With
/// none connected, a send waits for one up to its timeout.
struct FanOut {
    listener: Listener,
    conns: Vec<PeerConn>,
    next: usize,
    spec: Spec,
    max: usize,
    allow: Allow,
    refused: u64,
    scheme: &'static str,
}

impl FanOut {
    fn accept_all(&mut self) -> Result<()> {
        loop {
            let s = match self.listener.accept(&Deadline::now()) {
                Ok(s) => s,
                Err(e) if e.is_timeout() => return Ok(()),
                Err(e) => return Err(e),
            };
            match self.allow.check(&s) {
                Ok(Ok(())) => {}
                _ => {
                    self.refused += 1;
                    continue;
                }
            }
            if let Ok(c) = PeerConn::start(s, self.spec, self.max, &Deadline::now(), false) {
                self.conns.push(c);
            }
        }
    }

    /// Read what the connections sent without waiting: handshakes, PINGs; drop those
    /// that failed or closed.
    fn look(&mut self) {
        let now = Deadline::now();
        let mut i = 0;
        while i < self.conns.len() {
            let c = &mut self.conns[i];
            let r = if c.ready() {
                let r = c.rd.control_only(&mut c.sock.stream(), &mut c.proto);
                c.flush_outbox();
                r
            } else {
                match c.handshake(&now) {
                    Err(e) if e.is_timeout() => Ok(()),
                    r => r,
                }
            };
            if r.is_err() {
                self.drop_conn(i);
            } else {
                i += 1;
            }
        }
    }

    fn drop_conn(&mut self, i: usize) {
        self.conns.remove(i);
        if self.next > i {
            self.next -= 1;
        }
    }

    /// Wait until the listener has a connection, a handshaking connection has bytes, or
    /// a ready one has room.
    fn wait(&self, deadline: &Deadline) -> Result<()> {
        let mut fds = Vec::with_capacity(self.conns.len() + 1);
        fds.push(libc::pollfd {
            fd: self.listener.fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        for c in &self.conns {
            fds.push(libc::pollfd {
                fd: c.sock.fd(),
                events: if c.ready() {
                    libc::POLLOUT
                } else {
                    libc::POLLIN
                },
                revents: 0,
            });
        }
        loop {
            let ts = deadline.remaining_timespec();
            let tsp = ts
                .as_ref()
                .map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: a valid pollfd array, a valid or null timespec.
            let n = unsafe {
                libc::ppoll(
                    fds.as_mut_ptr(),
                    fds.len() as libc::nfds_t,
                    tsp,
                    std::ptr::null(),
                )
            };
            if n > 0 {
                return Ok(());
            }
            if n == 0 {
                if deadline.expired() {
                    let ready = self.conns.iter().filter(|c| c.ready()).count();
                    return Err(deadline.timeout_error(format_args!(
                        "send on {}: {}",
                        self.describe(),
                        if ready == 0 {
                            "no receiver is connected".to_string()
                        } else {
                            format!("the {ready} connected receivers have no room")
                        }
                    )));
                }
                continue;
            }
            match Errno::last() {
                Errno::EINTR => time::on_eintr(deadline, "send")?,
                e => return Err(Error::os(e, "ppoll")),
            }
        }
    }
}

impl Endpoint for FanOut {
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        let deadline = timeout.deadline();
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
        loop {
            self.accept_all()?;
            self.look();
            let n = self.conns.len();
            let mut sent = false;
            let mut dead = Vec::new();
            for i in 0..n {
                let k = (self.next + i) % n;
                if !self.conns[k].ready() {
                    continue;
                }
                match self.conns[k].send_msg(msg, &Deadline::now()) {
                    Ok(()) => {
                        // Accepted (its first byte is out): the rest goes out before the
                        // caller's deadline, as a dialing sender's send does; what still
                        // does not fit then is kept for the next send or flush. A
                        // connection that fails takes the rest with it (its receiver
                        // is gone).
                        match self.conns[k].flush(&deadline) {
                            Err(e) if !e.is_timeout() => dead.push(k),
                            _ => {}
                        }
                        self.next = k + 1;
                        sent = true;
                        break;
                    }
                    Err(e) if e.is_timeout() => {}
                    // Gone: the next one takes the message.
                    Err(_) => dead.push(k),
                }
            }
            dead.sort_unstable();
            for k in dead.into_iter().rev() {
                self.drop_conn(k);
            }
            if sent {
                return Ok(());
            }
            self.wait(&deadline)?;
        }
    }

    fn recv(&mut self, _out: &mut [u8], _timeout: Timeout) -> Result<usize> {
        Err(Error::internal("receive on a channel sender"))
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Err(Error::internal("poll on a channel sender"))
    }

    fn flush(&mut self, timeout: Timeout) -> Result<()> {
        let deadline = timeout.deadline();
        // A connection that fails takes the rest of its message with it, as a send to it
        // would (the receiver is gone).
        let mut i = 0;
        while i < self.conns.len() {
            match self.conns[i].flush(&deadline) {
                Ok(()) => i += 1,
                Err(e) if e.is_timeout() => return Err(e),
                Err(_) => self.drop_conn(i),
            }
        }
        Ok(())
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        Err(Error::unsupported(
            "a sender that listens (IPCX_CHAN_LISTEN) has a listener and one connection per \
             receiver, no single descriptor to poll: send with IPCX_NOWAIT and retry from a \
             timer of the loop, or dial (the default) to get the connection's descriptor",
        ))
    }

    fn describe(&self) -> String {
        let at = self
            .listener
            .local_address()
            .map(|a| a.text())
            .unwrap_or_default();
        format!("{}: listening sender on {at}", self.scheme)
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: 0,
            max_message: self.max,
        }
    }

    fn refused(&self) -> u64 {
        self.refused
    }
}
