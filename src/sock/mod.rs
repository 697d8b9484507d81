// SPDX-License-Identifier: MIT OR Apache-2.0
//! Sockets: Unix domain (stream, datagram, seqpacket; paths and abstract names; pairs;
//! descriptor passing; peer credentials) and TCP/UDP over IPv4 and IPv6.
//!
//! Two handle types: a [`Listener`] (bound and listening, gives connections with
//! [`Listener::accept`]) and a [`Sock`] (a connection, a socket pair end, or a datagram
//! socket).
//!
//! Messages:
//! - on stream sockets (Unix stream, TCP) a message is framed by [`crate::frame`] (a 4-byte
//!   big-endian length, then the bytes); raw bytes are available too;
//! - on datagram and seqpacket sockets a message is one kernel record (no header). A
//!   receive whose buffer is too small gets `IPCX_ERR_TOO_BIG` with the size needed and the
//!   record is kept (see [`Sock::recv`] for how, without a second system call).
//!
//! Blocking: descriptors of connections are left blocking, so a call with `IPCX_FOREVER`
//! makes exactly the system call a raw program makes (one send, one recv); a call with a
//! timeout passes MSG_DONTWAIT and waits with `ppoll` until the deadline. MSG_NOSIGNAL is
//! passed to every send: no SIGPIPE, ever. Listeners are non-blocking (accept waits with
//! `ppoll`).
//!
//! Layout: this file holds the [`Sock`] type and what every kind shares (options, errors,
//! addresses, shutdown); [`stream`] the byte-stream I/O, [`message`] the message calls
//! (framed records, datagrams, seqpackets, descriptors), [`listener`] listening sockets
//! and the calls that make sockets; [`addr`], [`unix`], [`inet`], [`cmsg`], [`allow`] and
//! [`adopt`] the pieces they use.

pub mod addr;
mod adopt;
pub mod allow;
pub mod cmsg;
pub mod inet;
mod listener;
mod message;
mod stream;
pub mod unix;

use std::collections::VecDeque;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::frame::{FrameReader, FrameWriter, HEADER, Transport};
use crate::options::{Opt, Options};
use crate::time::{self, Deadline};
use addr::{SockAddr, UnixName};
pub use adopt::adopt;
use cmsg::{CmsgBuf, Received};
pub use listener::{
    Listener, bind_udp, bind_unix, connect_tcp, connect_tcp_start, connect_udp, connect_unix,
    listen_tcp, listen_unix, pair,
};
use message::Record;
use stream::{Io, Rx};

pub use nix::sys::socket::Shutdown;

/// Receives with a buffer up to this size go through the socket's internal buffer with one
/// plain recv(2) (see [`Sock::recv`]); larger ones use recvmsg(2) with two iovecs.
const SMALL: usize = 4096;

/// The type of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SOCK_STREAM.
    Stream,
    /// SOCK_DGRAM.
    Dgram,
    /// SOCK_SEQPACKET.
    SeqPacket,
}

impl Kind {
    fn raw(self) -> libc::c_int {
        match self {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Dgram => libc::SOCK_DGRAM,
            Kind::SeqPacket => libc::SOCK_SEQPACKET,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Stream => "stream",
            Kind::Dgram => "datagram",
            Kind::SeqPacket => "seqpacket",
        }
    }
}

/// Per-socket settings taken from the options at creation.
#[derive(Clone, Copy, Debug)]
struct Config {
    max: usize,
    capacity: Option<usize>,
    keepalive: Option<u32>,
}

impl Config {
    fn new(opts: &Options) -> Config {
        Config {
            max: opts.max_message(),
            capacity: opts.capacity,
            keepalive: opts.keepalive,
        }
    }

    /// Apply to a new connection (`tcp`: also TCP_NODELAY and keepalive).
    fn apply(&self, fd: BorrowedFd<'_>, tcp: bool) -> Result<()> {
        if let Some(cap) = self.capacity {
            set_buffers(fd, cap)?;
        }
        if tcp {
            inet::set_nodelay(fd, true)?;
            if let Some(k) = self.keepalive {
                inet::set_keepalive(fd, k)?;
            }
        }
        Ok(())
    }
}

/// Options of Unix sockets bound to a name.
const UNIX_BOUND_OPTIONS: &[Opt] = &[Opt::Mode, Opt::MaxMessage, Opt::Capacity];
/// Options of Unix sockets that create no file.
const UNIX_OPTIONS: &[Opt] = &[Opt::MaxMessage, Opt::Capacity];
/// Options of TCP sockets.
const TCP_OPTIONS: &[Opt] = &[Opt::MaxMessage, Opt::Capacity, Opt::Keepalive];
/// Options of UDP sockets.
const UDP_OPTIONS: &[Opt] = &[Opt::MaxMessage, Opt::Capacity];

fn check_unix_options(opts: &Options, name: &UnixName<'_>, what: &str) -> Result<()> {
    opts.only(UNIX_BOUND_OPTIONS, what)?;
    if opts.mode.is_some() && matches!(name, UnixName::Abstract(_)) {
        return Err(Error::invalid(format!(
            "option 'mode' does not apply to the abstract name {name}: abstract sockets have \
             no file and no permissions (any process in the network namespace may connect)"
        )));
    }
    Ok(())
}

/// The error for a failed socket()/socketpair()/accept(): descriptor limits named.
pub(crate) fn socket_error(e: Errno, what: &str) -> Error {
    match e {
        Errno::EMFILE => Error::os(
            e,
            format_args!(
                "{what}: the process is out of descriptors (RLIMIT_NOFILE {})",
                cmsg::nofile_limit()
            ),
        ),
        Errno::ENFILE => Error::os(
            e,
            format_args!("{what}: the system is out of files (/proc/sys/fs/file-max)"),
        ),
        Errno::EAFNOSUPPORT => Error::os(
            e,
            format_args!("{what}: this address family is not available on this system"),
        ),
        _ => Error::os(e, what),
    }
}

fn new_socket(domain: libc::c_int, kind: Kind, nonblock: bool) -> Result<OwnedFd> {
    let mut ty = kind.raw() | libc::SOCK_CLOEXEC;
    if nonblock {
        ty |= libc::SOCK_NONBLOCK;
    }
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(domain, ty, 0) };
    if fd < 0 {
        let what = match domain {
            libc::AF_UNIX => "socket(AF_UNIX)",
            libc::AF_INET => "socket(AF_INET)",
            _ => "socket(AF_INET6)",
        };
        return Err(socket_error(Errno::last(), what));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn read_limit(file: &str) -> Option<usize> {
    std::fs::read_to_string(format!("/proc/sys/net/core/{file}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// SO_SNDBUF and SO_RCVBUF. Above /proc/sys/net/core/{w,r}mem_max the kernel would
/// silently cap the value: report `IPCX_ERR_LIMIT` instead.
fn set_buffers(fd: BorrowedFd<'_>, cap: usize) -> Result<()> {
    for (opt, file, what) in [
        (libc::SO_SNDBUF, "wmem_max", "SO_SNDBUF"),
        (libc::SO_RCVBUF, "rmem_max", "SO_RCVBUF"),
    ] {
        if let Some(max) = read_limit(file) {
            if cap > max {
                return Err(Error::limit(format!(
                    "capacity {cap} bytes is above /proc/sys/net/core/{file} ({max}), the \
                     largest {what} a process may set"
                )));
            }
        }
        let v = libc::c_int::try_from(cap)
            .map_err(|_| Error::invalid(format!("capacity {cap} is out of range")))?;
        inet::set_int(fd, libc::SOL_SOCKET, opt, v, what)?;
    }
    Ok(())
}

/// MSG_DONTWAIT for calls with a finite deadline.
fn dontwait(deadline: &Deadline) -> libc::c_int {
    if deadline.is_forever() {
        0
    } else {
        libc::MSG_DONTWAIT
    }
}

fn ret(n: isize) -> std::result::Result<usize, Errno> {
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// "what name" for wait messages, formatted only on error paths.
#[derive(Clone, Copy)]
struct On<'a>(&'static str, &'a str);

impl std::fmt::Display for On<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// Connect `fd` to `to` within the deadline. Forever: a blocking connect(2), as a raw
/// program does. Otherwise non-blocking: TCP waits for the handshake with ppoll; a Unix
/// listener whose backlog is full is retried every 1 to 10 ms (the kernel offers no event
/// for "room in the backlog" to a non-blocking connect).
fn connect(fd: &OwnedFd, to: &SockAddr, deadline: &Deadline, shown: &str) -> Result<()> {
    let raw = fd.as_raw_fd();
    let finite = !deadline.is_forever();
    if finite {
        crate::fd::set_nonblocking(fd.as_fd(), true)?;
    }
    let what = On("connect to", shown);
    let mut pause = Duration::from_millis(1);
    let r = loop {
        let (p, l) = to.raw();
        // SAFETY: a valid address of length l.
        if unsafe { libc::connect(raw, p, l) } == 0 {
            break Ok(());
        }
        match Errno::last() {
            Errno::EISCONN => break Ok(()),
            Errno::EINTR => time::on_eintr(deadline, what)?,
            Errno::EINPROGRESS | Errno::EALREADY => {
                time::wait_fd(fd.as_fd(), libc::POLLOUT, deadline, what)?;
                let e = inet::get_int(fd.as_fd(), libc::SOL_SOCKET, libc::SO_ERROR, "SO_ERROR")?;
                break if e == 0 {
                    Ok(())
                } else {
                    Err(connect_error(Errno::from_raw(e), shown))
                };
            }
            Errno::EAGAIN if finite && to.family() == libc::AF_UNIX => {
                let left = deadline.remaining().unwrap_or_default();
                if left.is_zero() {
                    break Err(Error::timeout(format!(
                        "connect to {shown}: timed out (the listener's backlog is full: it \
                         is not accepting connections)"
                    )));
                }
                std::thread::sleep(left.min(pause));
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            e => break Err(connect_error(e, shown)),
        }
    };
    if finite && r.is_ok() {
        crate::fd::set_nonblocking(fd.as_fd(), false)?;
    }
    r
}

fn connect_error(e: Errno, shown: &str) -> Error {
    match e {
        Errno::ECONNREFUSED => Error::os(
            e,
            format_args!("connect to {shown}: nobody is listening there"),
        ),
        Errno::ENETUNREACH | Errno::EHOSTUNREACH => Error::os_as(
            Status::IPCX_ERR_NOT_FOUND,
            e,
            format!("connect to {shown}: no route to that host"),
        ),
        Errno::ETIMEDOUT => Error::os_as(
            Status::IPCX_ERR_TIMEOUT,
            e,
            format!("connect to {shown}: the host did not answer"),
        ),
        Errno::EPROTOTYPE => Error::os(
            e,
            format_args!("connect to {shown}: the socket there is of another type"),
        ),
        _ => Error::os(e, format_args!("connect to {shown}")),
    }
}

/// Errors of established connections: a connection that died of keepalive or
/// retransmission timeouts is closed, not "try again later".
pub(crate) fn conn_error(mut e: Error) -> Error {
    if e.errno == libc::ETIMEDOUT || e.errno == libc::EHOSTUNREACH {
        e.status = Status::IPCX_ERR_CLOSED;
        e.msg.push_str(
            " (the connection is dead: keepalive probes or retransmissions got no answer)",
        );
    }
    e
}

/// A socket that sends and receives: a connection, a pair end, or a datagram socket.
#[derive(Debug)]
pub struct Sock {
    fd: OwnedFd,
    kind: Kind,
    unix: bool,
    /// Has a default peer (connections, pairs, connected datagram sockets).
    connected: bool,
    /// What this socket is, for messages.
    name: String,
    cfg: Config,
    reader: FrameReader,
    writer: FrameWriter,
    rx: Rx,
    /// Internal receive buffer of record sockets (allocated on first use).
    ibuf: Vec<u8>,
    pending: Option<Record>,
    shut_rd: bool,
    _bound: Option<unix::BoundPath>,
    /// A TCP connect started without waiting and not finished yet (`connect_tcp_start`).
    connecting: Option<Connecting>,
}

/// A connect in progress: the address, and its failure once `connect_finish` saw it (the
/// kernel reports SO_ERROR once).
#[derive(Debug)]
struct Connecting {
    shown: String,
    failed: Option<Error>,
}

/// What descriptors a receive wants.
pub struct FdsOut<'a> {
    /// Where to put them.
    pub fds: &'a mut [RawFd],
}

/// The result of a receive with descriptors: the message length, how many descriptors
/// were handed over, and the `IPCX_ERR_LIMIT` error when some were cut.
pub struct RecvFds {
    /// Message length.
    pub len: usize,
    /// Descriptors handed over (the caller owns them).
    pub nfds: usize,
    /// Set when descriptors were cut (the message and `nfds` descriptors were delivered).
    pub cut: Option<Error>,
}

impl Sock {
    fn new(
        fd: OwnedFd,
        kind: Kind,
        unix: bool,
        connected: bool,
        name: String,
        cfg: Config,
        bound: Option<unix::BoundPath>,
    ) -> Sock {
        Sock {
            fd,
            kind,
            unix,
            connected,
            name,
            cfg,
            reader: FrameReader::new(cfg.max),
            writer: FrameWriter::new(cfg.max, None),
            rx: Rx::default(),
            ibuf: Vec::new(),
            pending: None,
            shut_rd: false,
            _bound: bound,
            connecting: None,
        }
    }

    /// Whether a connect started by [`connect_tcp_start`] is not finished yet.
    pub fn is_connecting(&self) -> bool {
        self.connecting.is_some()
    }

    /// Refuse I/O on a connection whose connect was started and not finished.
    #[inline]
    fn ready(&self, op: &str) -> Result<()> {
        match &self.connecting {
            None => Ok(()),
            Some(c) => Err(self.not_ready(op, c)),
        }
    }

    #[cold]
    fn not_ready(&self, op: &str, c: &Connecting) -> Error {
        Error::invalid(format!(
            "{op}: the connect to {} was started and not finished: wait until the descriptor \
             is writable and call ipcx_sock_connect_finish",
            c.shown
        ))
    }

    /// Finish a connect started by [`connect_tcp_start`]: `Ok` once connected (and at once
    /// for a socket that is connected already), `IPCX_ERR_TIMEOUT` while the handshake is
    /// in progress, the connect's error once it failed (every time after).
    pub fn connect_finish(&mut self) -> Result<()> {
        let Some(c) = &mut self.connecting else {
            return Ok(());
        };
        if let Some(e) = &c.failed {
            return Err(e.clone());
        }
        let fd = self.fd.as_fd();
        let e = inet::get_int(fd, libc::SOL_SOCKET, libc::SO_ERROR, "SO_ERROR")?;
        if e != 0 {
            let err = connect_error(Errno::from_raw(e), &c.shown);
            c.failed = Some(err.clone());
            return Err(err);
        }
        match name_of(fd, true) {
            Ok(_) => {}
            Err(x) if x.status == Status::IPCX_ERR_CLOSED => {
                return Err(Error::timeout(format!(
                    "connect to {}: the handshake is still in progress (wait until the \
                     descriptor is writable, then call again)",
                    c.shown
                )));
            }
            Err(x) => return Err(x),
        }
        crate::fd::set_nonblocking(fd, false)?;
        self.cfg.apply(fd, true)?;
        self.connecting = None;
        Ok(())
    }

    /// The framing halves and the transport, borrowed side by side.
    fn parts<'s>(
        &'s mut self,
        send_fds: Option<&'s [RawFd]>,
    ) -> (&'s mut FrameReader, &'s mut FrameWriter, Io<'s>) {
        let io = Io {
            fd: self.fd.as_fd(),
            rx: &mut self.rx,
            send_fds,
            name: &self.name,
        };
        (&mut self.reader, &mut self.writer, io)
    }

    /// Give the descriptor back without closing it (an adopt whose handle could not be
    /// made: the caller keeps its descriptor). Nothing may be buffered.
    pub fn into_fd(self) -> OwnedFd {
        let mut me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again: the descriptor is moved out once and
        // every other field that owns memory is dropped in place once.
        unsafe {
            let fd = std::ptr::read(&me.fd);
            std::ptr::drop_in_place(&mut me.name);
            std::ptr::drop_in_place(&mut me.reader);
            std::ptr::drop_in_place(&mut me.writer);
            std::ptr::drop_in_place(&mut me.rx);
            std::ptr::drop_in_place(&mut me.ibuf);
            std::ptr::drop_in_place(&mut me.pending);
            std::ptr::drop_in_place(&mut me._bound);
            std::ptr::drop_in_place(&mut me.connecting);
            fd
        }
    }

    /// The descriptor, for poll/epoll. Owned by the socket.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The descriptor, borrowed.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Bytes of a stream already taken from the kernel and not yet delivered (the next
    /// receive starts with them; poll does not see them).
    pub(crate) fn buffered(&self) -> usize {
        self.reader.buffered()
    }

    fn is_tcp(&self) -> bool {
        !self.unix && self.kind == Kind::Stream
    }

    /// A Unix domain socket (else TCP or UDP).
    pub(crate) fn is_unix(&self) -> bool {
        self.unix
    }

    /// The largest record this socket accepts (UDP payloads cannot exceed 65527 bytes).
    /// Whether the socket can be shut down now: not while a non-blocking connect is
    /// under way (checked by `shutdown` too; the boundary asks first, before it reads the
    /// direction).
    pub fn check_shutdown(&self) -> Result<()> {
        self.ready("shutdown")
    }

    /// shutdown(2) of one direction or both. A socket without a peer (a datagram socket
    /// that is not connected) is refused, as the kernel refuses it for every other socket
    /// type (ENOTCONN).
    pub fn shutdown(&mut self, how: Shutdown) -> Result<()> {
        self.ready("shutdown")?;
        let writes = matches!(how, Shutdown::Write | Shutdown::Both);
        let reads = matches!(how, Shutdown::Read | Shutdown::Both);
        if !self.connected {
            // A Unix datagram socket would accept it and stop receiving from every
            // sender: not what shutdown means, and not what UDP does.
            return Err(Error::invalid(format!(
                "shutdown of {}: the socket is not connected (a datagram socket made with a \
                 bind call has no peer to shut down; close it instead)",
                self.name
            )));
        }
        if writes && self.writer.backlog() > 0 {
            let _ = self.flush(&Deadline::now());
            if self.writer.backlog() > 0 {
                return Err(Error::timeout(format!(
                    "shutdown of {}: {} bytes of a message are still to be written; call \
                     ipcx_sock_flush first (shutting down now would cut the message)",
                    self.name,
                    self.writer.backlog()
                )));
            }
        }
        if let Err(e) = nix::sys::socket::shutdown(self.fd.as_raw_fd(), how) {
            return Err(match e {
                Errno::ENOTCONN => Error::os_as(
                    Status::IPCX_ERR_INVALID,
                    e,
                    format!("shutdown of {}: the socket is not connected", self.name),
                ),
                _ => Error::os(e, format_args!("shutdown of {}", self.name)),
            });
        }
        if reads {
            self.shut_rd = true;
        }
        Ok(())
    }

    /// The peer's (pid, uid, gid), Unix sockets.
    pub fn peer_credentials(&self) -> Result<(i32, u32, u32)> {
        self.unix_only("peer credentials")?;
        unix::peer_credentials(&self.fd)
            .map_err(|e| e.context(format_args!("credentials of the peer of {}", self.name)))
    }

    fn local_addr(&self) -> Result<SockAddr> {
        name_of(self.fd.as_fd(), false)
    }

    /// The local address.
    pub fn local_address(&self) -> Result<SockAddr> {
        self.local_addr()
            .map_err(|e| e.context(format_args!("local address of {}", self.name)))
    }

    /// The peer's address.
    pub fn peer_address(&self) -> Result<SockAddr> {
        self.ready("peer address")?;
        name_of(self.fd.as_fd(), true)
            .map_err(|e| e.context(format_args!("peer address of {}", self.name)))
    }

    /// TCP_NODELAY on (default for ipcx TCP connections) or off.
    pub fn set_nodelay(&mut self, on: bool) -> Result<()> {
        if !self.is_tcp() {
            return Err(Error::invalid(format!(
                "TCP_NODELAY applies to TCP connections; {} is not one",
                self.name
            )));
        }
        inet::set_nodelay(self.fd.as_fd(), on)
    }

    /// Best-effort non-blocking flush of a pending message tail, used on close.
    fn flush_now(&mut self) {
        if self.writer.backlog() > 0 {
            let _ = self.flush(&Deadline::now());
        }
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        self.flush_now();
    }
}

/// getsockname (`peer` false) or getpeername.
fn name_of(fd: BorrowedFd<'_>, peer: bool) -> Result<SockAddr> {
    let mut a = SockAddr::empty();
    let (p, l) = a.raw_mut();
    // SAFETY: storage and its length.
    let r = unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), p, l)
        } else {
            libc::getsockname(fd.as_raw_fd(), p, l)
        }
    };
    if r < 0 {
        let e = Errno::last();
        return Err(match e {
            Errno::ENOTCONN => Error::os_as(Status::IPCX_ERR_CLOSED, e, "not connected"),
            _ => Error::os(e, if peer { "getpeername" } else { "getsockname" }),
        });
    }
    Ok(a)
}
