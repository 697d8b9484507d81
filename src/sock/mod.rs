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

pub mod addr;
mod adopt;
pub mod allow;
pub mod cmsg;
pub mod inet;
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

/// Type flag: a byte stream (framed messages or raw bytes); also the type when no type
/// flag is given.
pub(crate) const STREAM: u32 = crate::flags::family(0);
/// Type flag: datagrams (unreliable for UDP, reliable and ordered for Unix).
pub(crate) const DGRAM: u32 = crate::flags::family(1);
/// Type flag: sequenced packets (connected, reliable, record boundaries kept).
pub(crate) const SEQPACKET: u32 = crate::flags::family(2);
/// Every type flag.
pub(crate) const TYPES: u32 = STREAM | DGRAM | SEQPACKET;
/// Shutdown: no more receiving.
pub(crate) const SHUT_RD: u32 = 1;
/// Shutdown: no more sending (the peer reads end of file).
pub(crate) const SHUT_WR: u32 = 2;

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
    /// The kind named by the type bits of `flags` (at most one; none is a stream). Other
    /// bits are the caller's to check.
    pub fn from_flags(flags: u32) -> Result<Kind> {
        match flags & TYPES {
            0 | STREAM => Ok(Kind::Stream),
            DGRAM => Ok(Kind::Dgram),
            SEQPACKET => Ok(Kind::SeqPacket),
            _ => Err(Error::invalid(format!(
                "flags {:#x} name several socket types: give at most one of \
                 IPCX_SOCK_STREAM, IPCX_SOCK_DGRAM and IPCX_SOCK_SEQPACKET",
                flags & TYPES
            ))),
        }
    }

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

/// Descriptors a stream read brought, with the stream offset where that read ended.
#[derive(Debug)]
struct FdBatch {
    end: u64,
    got: Received,
}

/// Receive-side state of a stream socket for descriptor passing.
#[derive(Debug, Default)]
struct Rx {
    /// Bytes received from the kernel so far.
    total: u64,
    /// Reads use recvmsg with room for descriptors (set by the first `recv_fds`).
    fd_mode: bool,
    /// Descriptors not yet handed over, in stream order.
    batches: VecDeque<FdBatch>,
}

impl Rx {
    /// Take the descriptors that arrived with bytes before stream offset `upto`.
    ///
    /// The kernel ends a read right after the chunk that carries descriptors, and an ipcx
    /// sender attaches them to the first chunk of their message's frame: so descriptors
    /// whose read ended inside a frame belong to that frame.
    fn take(&mut self, upto: u64) -> Received {
        let mut r = Received::default();
        while self.batches.front().is_some_and(|b| b.end <= upto) {
            if let Some(b) = self.batches.pop_front() {
                r.merge(b.got);
            }
        }
        r
    }
}

/// A stream socket as a framing transport.
struct Io<'a> {
    fd: BorrowedFd<'a>,
    rx: &'a mut Rx,
    /// Descriptors to attach to the next write (then cleared).
    send_fds: Option<&'a [RawFd]>,
    name: &'a str,
}

impl Transport for Io<'_> {
    fn read(
        &mut self,
        bufs: &mut [IoSliceMut<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        let fd = self.fd.as_raw_fd();
        let flags = dontwait(deadline);
        let n = if self.rx.fd_mode {
            let mut cbuf = CmsgBuf::new();
            // SAFETY: msghdr is plain data.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = bufs.as_mut_ptr().cast();
            msg.msg_iovlen = bufs.len() as _;
            msg.msg_control = cbuf.ptr();
            msg.msg_controllen = cbuf.recv_len() as _;
            // SAFETY: iovecs valid for writing (IoSliceMut is ABI-compatible), control
            // buffer of the given length.
            let n = ret(unsafe { libc::recvmsg(fd, &mut msg, flags | libc::MSG_CMSG_CLOEXEC) })?;
            let mut got = Received::default();
            cmsg::decode(&msg, &mut got.fds);
            got.cut = msg.msg_flags & libc::MSG_CTRUNC != 0;
            if !got.fds.is_empty() || got.cut {
                self.rx.batches.push_back(FdBatch {
                    end: self.rx.total + n as u64,
                    got,
                });
            }
            n
        } else if let [one] = bufs {
            // SAFETY: the slice is valid for writing.
            ret(unsafe { libc::recv(fd, one.as_mut_ptr().cast(), one.len(), flags) })?
        } else {
            // SAFETY: msghdr is plain data; iovecs valid for writing.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = bufs.as_mut_ptr().cast();
            msg.msg_iovlen = bufs.len() as _;
            ret(unsafe { libc::recvmsg(fd, &mut msg, flags) })?
        };
        self.rx.total += n as u64;
        Ok(n)
    }

    fn write(
        &mut self,
        bufs: &[IoSlice<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        let fd = self.fd.as_raw_fd();
        let flags = libc::MSG_NOSIGNAL | dontwait(deadline);
        if let [one] = bufs {
            if self.send_fds.is_none() {
                // SAFETY: the slice is valid for reading.
                return ret(unsafe { libc::send(fd, one.as_ptr().cast(), one.len(), flags) });
            }
        }
        let mut cbuf = CmsgBuf::new();
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len() as _;
        if let Some(fds) = self.send_fds {
            msg.msg_controllen = cbuf.encode(fds) as _;
            msg.msg_control = cbuf.ptr();
        }
        // SAFETY: iovecs valid for reading; the kernel does not write through msg_iov.
        let n = ret(unsafe { crate::sys::sendmsg(fd, &msg, flags) })?;
        self.send_fds = None;
        Ok(n)
    }

    fn wait(&mut self, readable: bool, deadline: &Deadline) -> Result<()> {
        let ev = if readable {
            libc::POLLIN
        } else {
            libc::POLLOUT
        };
        time::wait_fd(self.fd, ev, deadline, On("wait on", self.name)).map(|_| ())
    }

    fn describe(&self) -> String {
        self.name.to_string()
    }
}

/// A record (datagram or seqpacket message) taken from the kernel but not yet delivered,
/// because the caller's buffer was too small.
#[derive(Debug)]
struct Record {
    data: Vec<u8>,
    got: Received,
    from: Option<SockAddr>,
}

/// What a record receive brought besides the bytes.
struct RecordMeta {
    len: usize,
    got: Received,
    from: Option<SockAddr>,
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

    /// The connection as a plain byte stream (stream sockets), for the wire formats of
    /// other messaging libraries (`crate::frame::peer`): reads and writes go straight to
    /// the kernel, with this socket's blocking rules and MSG_NOSIGNAL; its own framing
    /// state is not used (do not mix with [`Sock::send`] and [`Sock::recv`]).
    pub(crate) fn stream(&mut self) -> impl Transport + '_ {
        Io {
            fd: self.fd.as_fd(),
            rx: &mut self.rx,
            send_fds: None,
            name: &self.name,
        }
    }

    /// The largest record this socket accepts (UDP payloads cannot exceed 65527 bytes).
    fn record_limit(&self) -> usize {
        if self.unix {
            self.cfg.max
        } else {
            self.cfg.max.min(inet::UDP_MAX)
        }
    }

    fn stream_only(&self, op: &str) -> Result<()> {
        if self.kind != Kind::Stream {
            return Err(Error::invalid(format!(
                "{op}: raw bytes need a stream socket; {} is a {} socket: use \
                 ipcx_sock_send/ipcx_sock_recv (one message per record)",
                self.name,
                self.kind.name()
            )));
        }
        Ok(())
    }

    fn unix_only(&self, op: &str) -> Result<()> {
        if !self.unix {
            return Err(Error::unsupported(format!(
                "{op}: {} is not a Unix domain socket (descriptors and credentials travel \
                 only between processes of one host, over Unix sockets)",
                self.name
            )));
        }
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len > self.cfg.max {
            return Err(Error::too_big(
                len,
                format!(
                    "message of {len} bytes exceeds the maximum message size of {} bytes \
                     (ipcx_options_set_max_message)",
                    self.cfg.max
                ),
            ));
        }
        Ok(())
    }

    /// Send one message (framed on streams, one record otherwise) to the connected peer.
    pub fn send(&mut self, msg: &[u8], deadline: &Deadline) -> Result<()> {
        self.ready("send")?;
        if self.kind == Kind::Stream {
            let (_, writer, mut io) = self.parts(None);
            return writer.send(&mut io, msg, deadline).map_err(conn_error);
        }
        self.send_record(msg, deadline, None, None)
    }

    /// Send several messages: on streams as many frames per write as fit (see
    /// `FrameWriter::send_many`), otherwise one record each. How many were accepted,
    /// and the error that stopped it early.
    pub fn send_many(&mut self, msgs: &[&[u8]], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.ready("send") {
            return (0, Err(e));
        }
        if self.kind == Kind::Stream {
            let (_, writer, mut io) = self.parts(None);
            let (n, r) = writer.send_many(&mut io, msgs, deadline);
            return (n, r.map_err(conn_error));
        }
        for (k, m) in msgs.iter().enumerate() {
            if let Err(e) = self.send_record(m, deadline, None, None) {
                return (k, Err(e));
            }
        }
        (msgs.len(), Ok(()))
    }

    /// Send one message carrying descriptors (Unix sockets).
    pub fn send_fds(&mut self, msg: &[u8], fds: &[RawFd], deadline: &Deadline) -> Result<()> {
        self.ready("send with descriptors")?;
        self.unix_only("send descriptors")?;
        cmsg::check_send_count(fds.len())?;
        if self.kind != Kind::Stream {
            return self.send_record(msg, deadline, None, Some(fds));
        }
        if msg.is_empty() {
            return Err(Error::invalid(
                "a message carrying descriptors over a stream socket needs at least one byte \
                 (the kernel attaches descriptors to bytes)",
            ));
        }
        self.check_len(msg.len())?;
        // The tail of an earlier message goes first, without the descriptors, so that they
        // are attached to the first bytes of this message's frame.
        let (_, writer, mut io) = self.parts(None);
        writer.flush(&mut io, deadline)?;
        let (_, writer, mut io) = self.parts(Some(fds));
        writer.send(&mut io, msg, deadline).map_err(conn_error)
    }

    /// Send one datagram to `to` (datagram sockets).
    pub fn sendto(&mut self, msg: &[u8], to: &str, deadline: &Deadline) -> Result<()> {
        if self.kind != Kind::Dgram {
            return Err(Error::invalid(format!(
                "sendto: {} is a {} socket; only datagram sockets send to an address",
                self.name,
                self.kind.name()
            )));
        }
        if self.unix {
            let un = UnixName::parse(to)?;
            return self
                .send_record(msg, deadline, Some(&SockAddr::unix(un)), None)
                .map_err(|e| unix::refused_by_non_socket(e, &un));
        }
        let dest = {
            match addr::numeric(to) {
                Some(a) => a,
                None => {
                    let all = addr::resolve(to, libc::SOCK_DGRAM, false)?;
                    let mine = self.local_addr().map(|a| a.family()).unwrap_or(0);
                    *all.iter().find(|a| a.family() == mine).unwrap_or(&all[0])
                }
            }
        };
        self.send_record(msg, deadline, Some(&dest), None)
    }

    fn send_record(
        &mut self,
        msg: &[u8],
        deadline: &Deadline,
        to: Option<&SockAddr>,
        fds: Option<&[RawFd]>,
    ) -> Result<()> {
        if to.is_none() && !self.connected {
            return Err(Error::invalid(format!(
                "send: {} is not connected: use ipcx_sock_sendto with an address",
                self.name
            )));
        }
        if msg.is_empty() && self.kind == Kind::SeqPacket {
            return Err(Error::invalid(
                "an empty message cannot be sent over a seqpacket socket: the receiver could \
                 not tell it from end of file",
            ));
        }
        self.check_len(msg.len())?;
        let raw = self.fd.as_raw_fd();
        let mut cbuf = CmsgBuf::new();
        let mut pause = Duration::from_millis(1);
        loop {
            let flags = libc::MSG_NOSIGNAL | dontwait(deadline);
            let r = if to.is_none() && fds.is_none() {
                // SAFETY: the message is valid for reading.
                ret(unsafe { libc::send(raw, msg.as_ptr().cast(), msg.len(), flags) })
            } else {
                let mut iov = libc::iovec {
                    iov_base: msg.as_ptr() as *mut libc::c_void,
                    iov_len: msg.len(),
                };
                // SAFETY: msghdr is plain data.
                let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
                m.msg_iov = &mut iov;
                m.msg_iovlen = 1;
                if let Some(a) = to {
                    let (p, l) = a.raw();
                    m.msg_name = p as *mut libc::c_void;
                    m.msg_namelen = l;
                }
                if let Some(fds) = fds {
                    m.msg_controllen = cbuf.encode(fds) as _;
                    m.msg_control = cbuf.ptr();
                }
                // SAFETY: every pointer in `m` is valid for the call; nothing is written.
                ret(unsafe { crate::sys::sendmsg(raw, &m, flags) })
            };
            match r {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => time::on_eintr(deadline, "send")?,
                Err(Errno::EAGAIN) if to.is_some() && !self.connected => {
                    // An unconnected datagram socket is writable even when the receiver's
                    // queue is full (poll cannot see it): retry every 1 to 10 ms.
                    let left = deadline.remaining().unwrap_or(pause);
                    if left.is_zero() {
                        return Err(deadline.timeout_error(On("send on", &self.name)));
                    }
                    std::thread::sleep(left.min(pause));
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                Err(Errno::EAGAIN) => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLOUT,
                        deadline,
                        On("send on", &self.name),
                    )?;
                }
                Err(e) => return Err(self.record_send_error(e, msg.len(), to)),
            }
        }
    }

    #[cold]
    fn record_send_error(&self, e: Errno, len: usize, to: Option<&SockAddr>) -> Error {
        let dest = to.map_or_else(String::new, |a| format!(" to {a}"));
        match e {
            Errno::EMSGSIZE => {
                let sndbuf = inet::get_int(
                    self.fd.as_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    "SO_SNDBUF",
                )
                .unwrap_or(0);
                let why = if self.unix {
                    format!(
                        "larger than this socket's send buffer allows (SO_SNDBUF {sndbuf}; \
                         raise it with ipcx_options_set_capacity up to \
                         /proc/sys/net/core/wmem_max)"
                    )
                } else {
                    "larger than a UDP datagram can be (65507 bytes over IPv4, 65527 over IPv6)"
                        .to_string()
                };
                Error::os_as(
                    Status::IPCX_ERR_TOO_BIG,
                    e,
                    format!(
                        "send on {}{dest}: message of {len} bytes is {why}",
                        self.name
                    ),
                )
            }
            Errno::ECONNREFUSED if to.is_none() => Error::os_as(
                Status::IPCX_ERR_CLOSED,
                e,
                format!("send on {}: the peer is gone", self.name),
            ),
            Errno::EPIPE | Errno::ECONNRESET => Error::os_as(
                Status::IPCX_ERR_CLOSED,
                e,
                format!("send on {}: the peer closed", self.name),
            ),
            Errno::ECONNREFUSED | Errno::ENOENT => Error::os(
                e,
                format_args!("send on {}{dest}: nobody receives there", self.name),
            ),
            _ => conn_error(Error::os(e, format_args!("send on {}{dest}", self.name))),
        }
    }

    /// Receive one message into `out`; returns its length.
    ///
    /// Records (datagram, seqpacket) never get lost to a small buffer, and cost one system
    /// call: a buffer at least as large as the socket's maximum message receives directly;
    /// a small one (up to 4 KiB) receives into the socket's internal buffer (one plain
    /// recv, then a copy); a larger one receives with recvmsg into the buffer followed by
    /// the internal buffer. A record longer than the caller's buffer stays in the internal
    /// buffer (`IPCX_ERR_TOO_BIG` with the size) for the next receive. MSG_TRUNC reveals
    /// records above the maximum message size: those are discarded (`IPCX_ERR_PROTOCOL`).
    pub fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.ready("receive")?;
        if self.kind != Kind::Stream {
            return self.recv_record(out, deadline, false, false).map(|m| m.len);
        }
        let start = self.rx.total - self.reader.buffered() as u64;
        let (reader, _, mut io) = self.parts(None);
        let n = reader.recv(&mut io, out, deadline).map_err(conn_error)?;
        if self.rx.fd_mode {
            // Descriptors sent with this message are not wanted: close them.
            drop(self.rx.take(start + (HEADER + n) as u64));
        }
        Ok(n)
    }

    /// Receive one message and the descriptors sent with it (Unix sockets).
    pub fn recv_fds(
        &mut self,
        out: &mut [u8],
        fds: FdsOut<'_>,
        deadline: &Deadline,
    ) -> Result<RecvFds> {
        self.ready("receive")?;
        self.unix_only("receive descriptors")?;
        if fds.fds.is_empty() {
            return Err(Error::invalid(
                "the descriptor array holds 0: use ipcx_sock_recv for messages without \
                 descriptors",
            ));
        }
        let (len, got) = if self.kind == Kind::Stream {
            self.rx.fd_mode = true;
            let start = self.rx.total - self.reader.buffered() as u64;
            let (reader, _, mut io) = self.parts(None);
            let n = reader.recv(&mut io, out, deadline).map_err(conn_error)?;
            (n, self.rx.take(start + (HEADER + n) as u64))
        } else {
            let m = self.recv_record(out, deadline, true, false)?;
            (m.len, m.got)
        };
        let (nfds, cut) = got.hand_over(fds.fds);
        Ok(RecvFds { len, nfds, cut })
    }

    /// Receive one datagram and its sender's address (datagram sockets). An unnamed Unix
    /// sender's address is empty (it prints as `""`).
    ///
    /// `accept` is given the datagram's length and its sender once the datagram is in
    /// `out`; if it fails, the datagram stays queued (as with a buffer too small) and its
    /// error is returned. With `IPCX_ERR_TOO_BIG` (the datagram does not fit `out`),
    /// `accept` is also called, its result ignored, so the caller learns the sender too.
    pub fn recvfrom(
        &mut self,
        out: &mut [u8],
        deadline: &Deadline,
        accept: impl FnOnce(usize, &SockAddr) -> Result<()>,
    ) -> Result<usize> {
        if self.kind != Kind::Dgram {
            return Err(Error::invalid(format!(
                "recvfrom: {} is a {} socket; only datagram sockets have a sender per message",
                self.name,
                self.kind.name()
            )));
        }
        match self.recv_record(out, deadline, false, true) {
            Ok(m) => {
                let from = m.from.unwrap_or_else(SockAddr::unix_autobind);
                if let Err(e) = accept(m.len, &from) {
                    // Keep the datagram for the next receive, with its sender.
                    self.pending = Some(Record {
                        data: out[..m.len].to_vec(),
                        got: m.got,
                        from: Some(from),
                    });
                    return Err(e);
                }
                Ok(m.len)
            }
            Err(e) if e.status == Status::IPCX_ERR_TOO_BIG => {
                if let Some(p) = &self.pending {
                    let from = p.from.unwrap_or_else(SockAddr::unix_autobind);
                    let _ = accept(p.data.len(), &from);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn recv_record(
        &mut self,
        out: &mut [u8],
        deadline: &Deadline,
        want_fds: bool,
        want_from: bool,
    ) -> Result<RecordMeta> {
        if let Some(p) = &self.pending {
            if p.data.len() > out.len() {
                return Err(too_small(p.data.len(), out.len()));
            }
            let p = self.pending.take().expect("checked");
            out[..p.data.len()].copy_from_slice(&p.data);
            return Ok(RecordMeta {
                len: p.data.len(),
                got: if want_fds { p.got } else { Received::default() },
                from: p.from,
            });
        }
        if self.shut_rd {
            return Err(Error::closed(format!(
                "receive on {}: reading was shut down",
                self.name
            )));
        }
        let limit = self.record_limit();
        loop {
            match self.recv_record_once(out, limit, deadline, want_fds, want_from) {
                Ok(m) => return Ok(m),
                Err(Errno::EAGAIN) => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLIN,
                        deadline,
                        On("wait on", &self.name),
                    )?;
                }
                Err(Errno::EINTR) => time::on_eintr(deadline, "receive")?,
                Err(Errno::EMSGSIZE) => {
                    // Sentinel from recv_record_once: the record did not fit in `out`.
                    let n = self.pending.as_ref().map_or(0, |p| p.data.len());
                    return Err(too_small(n, out.len()));
                }
                Err(Errno::E2BIG) => {
                    return Err(Error::protocol(format!(
                        "receive on {}: a message above the maximum message size of {limit} \
                         bytes arrived (ipcx_options_set_max_message); it was discarded",
                        self.name
                    )));
                }
                Err(Errno::ESHUTDOWN) => {
                    return Err(Error::closed(format!(
                        "receive on {}: end of file (the peer closed)",
                        self.name
                    )));
                }
                Err(e) => {
                    return Err(conn_error(Error::os(
                        e,
                        format_args!("receive on {}", self.name),
                    )));
                }
            }
        }
    }

    /// A sender's address as the kernel reported it. An unnamed Unix socket comes with no
    /// address at all (length 0): it is the unnamed Unix address, which prints as `""`.
    fn sender(&self, from: SockAddr) -> SockAddr {
        if self.unix && (from.byte_len() < size_of::<libc::sa_family_t>() || from.family() == 0) {
            return SockAddr::unix_autobind();
        }
        from
    }

    /// One receive system call. Errors are raw errnos, with three sentinels: EMSGSIZE (the
    /// record is kept in `pending`, too big for `out`), E2BIG (above `limit`, discarded),
    /// ESHUTDOWN (end of file on a seqpacket socket).
    fn recv_record_once(
        &mut self,
        out: &mut [u8],
        limit: usize,
        deadline: &Deadline,
        want_fds: bool,
        want_from: bool,
    ) -> std::result::Result<RecordMeta, Errno> {
        let raw = self.fd.as_raw_fd();
        let flags = libc::MSG_TRUNC | dontwait(deadline);
        let eof = |n: usize, kind: Kind| n == 0 && kind == Kind::SeqPacket;
        // Datagram sockets always learn the sender (recv(2) is the recvfrom system call
        // anyway), so a record kept after IPCX_ERR_TOO_BIG still tells recvfrom who sent it.
        let track = want_from || self.kind == Kind::Dgram;
        let direct = out.len() >= limit;
        if !direct && self.ibuf.len() < limit {
            self.ibuf = vec![0; limit];
        }
        if !want_fds && (direct || out.len() <= SMALL) {
            // One recvfrom: straight into `out` when it holds any record, else into the
            // internal buffer.
            let (ptr, len) = if direct {
                (out.as_mut_ptr(), out.len())
            } else {
                (self.ibuf.as_mut_ptr(), limit)
            };
            let mut from = SockAddr::empty();
            let (fp, fl) = if track {
                let (p, l) = from.raw_mut();
                (p, l as *mut libc::socklen_t)
            } else {
                (std::ptr::null_mut(), std::ptr::null_mut())
            };
            // SAFETY: `ptr` is valid for writing `len` bytes; the address slot is NULL or
            // a sockaddr_storage with its length.
            let n = ret(unsafe { libc::recvfrom(raw, ptr.cast(), len, flags, fp, fl) })?;
            if eof(n, self.kind) {
                return Err(Errno::ESHUTDOWN);
            }
            if n > limit {
                return Err(Errno::E2BIG);
            }
            let from = track.then(|| self.sender(from));
            if !direct {
                if n > out.len() {
                    self.pending = Some(Record {
                        data: self.ibuf[..n].to_vec(),
                        got: Received::default(),
                        from,
                    });
                    return Err(Errno::EMSGSIZE);
                }
                out[..n].copy_from_slice(&self.ibuf[..n]);
            }
            return Ok(RecordMeta {
                len: n,
                got: Received::default(),
                from,
            });
        }
        // General case: recvmsg into `out` then the internal buffer, with the sender's
        // address and descriptors as asked.
        let cap = out.len();
        let spare = limit.saturating_sub(cap);
        let mut iov = [
            libc::iovec {
                iov_base: out.as_mut_ptr().cast(),
                iov_len: cap,
            },
            libc::iovec {
                iov_base: self.ibuf.as_mut_ptr().cast(),
                iov_len: spare,
            },
        ];
        let mut from = SockAddr::empty();
        let mut cbuf = CmsgBuf::new();
        // SAFETY: msghdr is plain data.
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_iov = iov.as_mut_ptr();
        m.msg_iovlen = if spare > 0 { 2 } else { 1 };
        if track {
            let (p, l) = from.raw_mut();
            m.msg_name = p.cast();
            m.msg_namelen = *l;
        }
        if want_fds {
            m.msg_control = cbuf.ptr();
            m.msg_controllen = cbuf.recv_len() as _;
        }
        // SAFETY: every buffer in `m` is valid for writing with its length.
        let n = ret(unsafe { libc::recvmsg(raw, &mut m, flags | libc::MSG_CMSG_CLOEXEC) })?;
        let mut got = Received::default();
        if want_fds {
            cmsg::decode(&m, &mut got.fds);
            got.cut = m.msg_flags & libc::MSG_CTRUNC != 0;
        }
        if eof(n, self.kind) && got.fds.is_empty() {
            return Err(Errno::ESHUTDOWN);
        }
        let from = track.then(|| {
            from.set_len(m.msg_namelen);
            self.sender(from)
        });
        if n > limit {
            return Err(Errno::E2BIG); // `got` is dropped: its descriptors are closed
        }
        if n > cap {
            let mut data = Vec::with_capacity(n);
            data.extend_from_slice(out);
            data.extend_from_slice(&self.ibuf[..n - cap]);
            self.pending = Some(Record { data, got, from });
            return Err(Errno::EMSGSIZE);
        }
        Ok(RecordMeta { len: n, got, from })
    }

    /// Write raw bytes (stream sockets) until all are written or the deadline passes.
    pub fn write(&mut self, data: &[u8], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.ready("write") {
            return (0, Err(e));
        }
        if let Err(e) = self.stream_only("write") {
            return (0, Err(e));
        }
        let (_, writer, mut io) = self.parts(None);
        let (n, r) = writer.write_all(&mut io, data, deadline);
        (n, r.map_err(conn_error))
    }

    /// Read at least one and at most `out.len()` raw bytes (stream sockets).
    pub fn read(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.ready("read")?;
        self.stream_only("read")?;
        let (reader, _, mut io) = self.parts(None);
        let n = reader
            .read_some(&mut io, out, deadline)
            .map_err(conn_error)?;
        if self.rx.fd_mode {
            let pos = self.rx.total - self.reader.buffered() as u64;
            drop(self.rx.take(pos));
        }
        Ok(n)
    }

    /// Write out the tail of a message accepted by a send that timed out midway.
    pub fn flush(&mut self, deadline: &Deadline) -> Result<()> {
        self.ready("flush")?;
        if self.kind != Kind::Stream {
            return Ok(());
        }
        let (_, writer, mut io) = self.parts(None);
        writer.flush(&mut io, deadline).map_err(conn_error)
    }

    /// Bytes of an accepted message not yet written.
    pub fn backlog(&self) -> usize {
        self.writer.backlog()
    }

    /// shutdown(2): `how` is a combination of [`SHUT_RD`] and [`SHUT_WR`]. A socket
    /// without a peer (a datagram socket that is not connected) is refused, as the kernel
    /// refuses it for every other socket type (ENOTCONN).
    pub fn shutdown(&mut self, how: u32) -> Result<()> {
        self.ready("shutdown")?;
        let h = match how {
            SHUT_RD => libc::SHUT_RD,
            SHUT_WR => libc::SHUT_WR,
            3 => libc::SHUT_RDWR,
            _ => {
                return Err(Error::invalid(format!(
                    "shutdown direction {how} is invalid (IPCX_SOCK_SHUT_RD 1, \
                     IPCX_SOCK_SHUT_WR 2, IPCX_SOCK_SHUT_RDWR 3)"
                )));
            }
        };
        if !self.connected {
            // A Unix datagram socket would accept it and stop receiving from every
            // sender: not what shutdown means, and not what UDP does.
            return Err(Error::invalid(format!(
                "shutdown of {}: the socket is not connected (a datagram socket made with a \
                 bind call has no peer to shut down; close it instead)",
                self.name
            )));
        }
        if how & SHUT_WR != 0 && self.writer.backlog() > 0 {
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
        // SAFETY: shutdown on an owned descriptor.
        if unsafe { libc::shutdown(self.fd.as_raw_fd(), h) } < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::ENOTCONN => Error::os_as(
                    Status::IPCX_ERR_INVALID,
                    e,
                    format!("shutdown of {}: the socket is not connected", self.name),
                ),
                _ => Error::os(e, format_args!("shutdown of {}", self.name)),
            });
        }
        if how & SHUT_RD != 0 {
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

fn too_small(len: usize, cap: usize) -> Error {
    Error::too_big(
        len,
        format!(
            "the next message is {len} bytes, the buffer holds {cap}; it stays queued for a \
             receive with a larger buffer"
        ),
    )
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

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
    kind: Kind,
    unix: bool,
    name: String,
    cfg: Config,
    _bound: Option<unix::BoundPath>,
}

impl Listener {
    /// The descriptor (readable when a connection waits). Owned by the listener.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The bound address (the real port when listening on port 0).
    pub fn local_address(&self) -> Result<SockAddr> {
        name_of(self.fd.as_fd(), false)
            .map_err(|e| e.context(format_args!("address of {}", self.name)))
    }

    /// Accept one connection, waiting until the deadline.
    pub fn accept(&mut self, deadline: &Deadline) -> Result<Sock> {
        let raw = self.fd.as_raw_fd();
        loop {
            let mut peer = SockAddr::empty();
            let (p, l) = peer.raw_mut();
            // SAFETY: storage and its length; the new descriptor is close-on-exec and
            // blocking (see the module documentation).
            let fd = unsafe { libc::accept4(raw, p, l, libc::SOCK_CLOEXEC) };
            if fd >= 0 {
                // SAFETY: a fresh descriptor.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                let tcp = !self.unix;
                self.cfg.apply(fd.as_fd(), tcp)?;
                let name = if tcp {
                    format!("TCP connection from {peer} (accepted on {})", self.name)
                } else {
                    format!(
                        "Unix {} connection accepted on {}",
                        self.kind.name(),
                        self.name
                    )
                };
                return Ok(Sock::new(
                    fd, self.kind, self.unix, true, name, self.cfg, None,
                ));
            }
            match Errno::last() {
                Errno::EAGAIN => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLIN,
                        deadline,
                        On("accept on", &self.name),
                    )?;
                }
                Errno::EINTR => time::on_eintr(deadline, "accept")?,
                // A connection reset before it was accepted: wait for the next one.
                Errno::ECONNABORTED | Errno::EPROTO => {}
                e => {
                    return Err(socket_error(e, &format!("accept on {}", self.name)));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ constructors

/// A connected pair of Unix sockets (socketpair).
pub fn pair(kind: Kind, opts: &Options) -> Result<(Sock, Sock)> {
    opts.only(UNIX_OPTIONS, "socket pairs")?;
    let cfg = Config::new(opts);
    let (a, b) = unix::pair(kind)?;
    cfg.apply(a.as_fd(), false)?;
    cfg.apply(b.as_fd(), false)?;
    let name = format!("Unix {} socket pair", kind.name());
    Ok((
        Sock::new(a, kind, true, true, name.clone(), cfg, None),
        Sock::new(b, kind, true, true, name, cfg, None),
    ))
}

/// Listen on a Unix path or abstract name.
pub fn listen_unix(name: &str, kind: Kind, opts: &Options) -> Result<Listener> {
    let un = UnixName::parse(name)?;
    check_unix_options(opts, &un, "Unix listeners")?;
    if kind == Kind::Dgram {
        return Err(Error::invalid(
            "datagram sockets do not listen: use ipcx_sock_bind_unix",
        ));
    }
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, kind, true)?;
    let bound = unix::bind(&fd, un, opts.mode())?;
    // SAFETY: listen on an owned, bound descriptor.
    if unsafe { libc::listen(fd.as_raw_fd(), libc::SOMAXCONN) } < 0 {
        return Err(Error::last_os(format_args!("listen({un})")));
    }
    Ok(Listener {
        fd,
        kind,
        unix: true,
        name: format!("Unix {} listener {un}", kind.name()),
        cfg,
        _bound: bound,
    })
}

/// Connect to a Unix path or abstract name. A datagram socket is also bound to an
/// automatic abstract name, so that the peer can answer it.
pub fn connect_unix(name: &str, kind: Kind, opts: &Options, deadline: &Deadline) -> Result<Sock> {
    let un = UnixName::parse(name)?;
    opts.only(UNIX_OPTIONS, "Unix connections")?;
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, kind, false)?;
    if kind == Kind::Dgram {
        autobind(&fd)?;
    }
    connect(&fd, &SockAddr::unix(un), deadline, &un.to_string())
        .map_err(|e| unix::refused_by_non_socket(e, &un))?;
    cfg.apply(fd.as_fd(), false)?;
    let name = format!("Unix {} socket connected to {un}", kind.name());
    Ok(Sock::new(fd, kind, true, true, name, cfg, None))
}

fn autobind(fd: &OwnedFd) -> Result<()> {
    let auto = SockAddr::unix_autobind();
    let (p, l) = auto.raw();
    // SAFETY: an address of family only: the kernel picks a unique abstract name.
    if unsafe { libc::bind(fd.as_raw_fd(), p, l) } < 0 {
        return Err(Error::last_os("bind(AF_UNIX, automatic abstract name)"));
    }
    Ok(())
}

/// A Unix datagram socket bound to a path or abstract name, or (`None`) to an automatic
/// abstract name.
pub fn bind_unix(name: Option<&str>, opts: &Options) -> Result<Sock> {
    let un = name.map(UnixName::parse).transpose()?;
    match &un {
        Some(un) => check_unix_options(opts, un, "Unix datagram sockets")?,
        None => opts.only(UNIX_OPTIONS, "Unix datagram sockets with an automatic name")?,
    }
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, Kind::Dgram, false)?;
    let bound = match un {
        Some(un) => unix::bind(&fd, un, opts.mode())?,
        None => {
            autobind(&fd)?;
            None
        }
    };
    cfg.apply(fd.as_fd(), false)?;
    let shown = name_of(fd.as_fd(), false)?;
    let name = format!("Unix datagram socket {shown}");
    Ok(Sock::new(fd, Kind::Dgram, true, false, name, cfg, bound))
}

/// Try `f` on each address in turn; the first success wins, else the last error.
fn each_addr<T>(addrs: &[SockAddr], mut f: impl FnMut(&SockAddr) -> Result<T>) -> Result<T> {
    let mut last = None;
    for a in addrs {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => {
                let stop = e.status == Status::IPCX_ERR_TIMEOUT
                    || e.status == Status::IPCX_ERR_INTERRUPTED;
                last = Some(e);
                if stop {
                    break;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::internal("no address to try")))
}

fn bind_inet(fd: &OwnedFd, a: &SockAddr, proto: &str) -> Result<()> {
    let (p, l) = a.raw();
    // SAFETY: a valid address of length l.
    if unsafe { libc::bind(fd.as_raw_fd(), p, l) } < 0 {
        let e = Errno::last();
        return Err(match e {
            Errno::EADDRINUSE => Error::os_as(
                Status::IPCX_ERR_IN_USE,
                e,
                format!("bind({proto} {a}): the port is in use"),
            ),
            Errno::EACCES => Error::os(
                e,
                format_args!(
                    "bind({proto} {a}): ports below /proc/sys/net/ipv4/ip_unprivileged_port_start \
                     need CAP_NET_BIND_SERVICE"
                ),
            ),
            _ => Error::os(e, format_args!("bind({proto} {a})")),
        });
    }
    Ok(())
}

/// Check the options, resolve `host_port` and try `make` on each address in turn.
fn on_each_inet<T>(
    host_port: &str,
    opts: &Options,
    allowed: &[Opt],
    what: &str,
    socktype: libc::c_int,
    passive: bool,
    mut make: impl FnMut(&SockAddr, Config) -> Result<T>,
) -> Result<T> {
    opts.only(allowed, what)?;
    let cfg = Config::new(opts);
    let addrs = addr::resolve(host_port, socktype, passive)?;
    each_addr(&addrs, |a| make(a, cfg))
}

/// Listen for TCP connections on `host:port`.
pub fn listen_tcp(host_port: &str, opts: &Options) -> Result<Listener> {
    let (ty, allowed) = (libc::SOCK_STREAM, TCP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "TCP listeners",
        ty,
        true,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Stream, true)?;
            inet::set_reuseaddr(fd.as_fd())?;
            if let Some(cap) = cfg.capacity {
                // Before listen, so that the window scale of connections reflects it.
                set_buffers(fd.as_fd(), cap)?;
            }
            bind_inet(&fd, a, "TCP")?;
            // SAFETY: listen on an owned, bound descriptor.
            if unsafe { libc::listen(fd.as_raw_fd(), libc::SOMAXCONN) } < 0 {
                return Err(Error::last_os(format_args!("listen(TCP {a})")));
            }
            let bound = name_of(fd.as_fd(), false)?;
            Ok(Listener {
                fd,
                kind: Kind::Stream,
                unix: false,
                name: format!("TCP listener {bound}"),
                cfg,
                _bound: None,
            })
        },
    )
}

/// Connect over TCP to `host:port`, trying each resolved address within the deadline.
pub fn connect_tcp(host_port: &str, opts: &Options, deadline: &Deadline) -> Result<Sock> {
    let (ty, allowed) = (libc::SOCK_STREAM, TCP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "TCP connections",
        ty,
        false,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Stream, false)?;
            let shown = a.to_string();
            connect(&fd, a, deadline, &shown)?;
            cfg.apply(fd.as_fd(), true)?;
            let name = format!("TCP connection to {shown}");
            Ok(Sock::new(fd, Kind::Stream, false, true, name, cfg, None))
        },
    )
}

/// Start a TCP connect to the numeric address `host_port` without waiting: the socket is
/// returned with the handshake in progress; its descriptor becomes writable when the
/// handshake ends, and [`Sock::connect_finish`] then says how it went. Names are refused
/// (the resolver cannot be bounded).
pub fn connect_tcp_start(host_port: &str, opts: &Options) -> Result<Sock> {
    opts.only(TCP_OPTIONS, "TCP connections")?;
    let a = addr::numeric(host_port).ok_or_else(|| {
        Error::invalid(format!(
            "{host_port:?}: a connect that does not wait takes a numeric address, \
             a.b.c.d:port or [v6]:port (a name goes through the resolver, which no timeout \
             bounds: resolve it beforehand, or use ipcx_sock_connect_tcp)"
        ))
    })?;
    let cfg = Config::new(opts);
    let fd = new_socket(a.family(), Kind::Stream, true)?;
    if let Some(cap) = cfg.capacity {
        set_buffers(fd.as_fd(), cap)?; // before connect: the window scale reflects it
    }
    let shown = a.to_string();
    let (p, l) = a.raw();
    // SAFETY: a valid address of length l, on a non-blocking socket.
    if unsafe { libc::connect(fd.as_raw_fd(), p, l) } < 0 {
        match Errno::last() {
            // EINTR: the connect goes on asynchronously, as EINPROGRESS.
            Errno::EINPROGRESS | Errno::EINTR => {}
            e => return Err(connect_error(e, &shown)),
        }
    }
    let name = format!("TCP connection to {shown}");
    let mut s = Sock::new(fd, Kind::Stream, false, true, name, cfg, None);
    s.connecting = Some(Connecting {
        shown,
        failed: None,
    });
    Ok(s)
}

/// A UDP socket bound to `host:port` (port 0: any free port), or connected to it (its
/// default destination and only source).
fn udp(host_port: &str, opts: &Options, connected: bool) -> Result<Sock> {
    let (ty, allowed) = (libc::SOCK_DGRAM, UDP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "UDP sockets",
        ty,
        !connected,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Dgram, false)?;
            cfg.apply(fd.as_fd(), false)?;
            let name = if connected {
                let shown = a.to_string();
                connect(&fd, a, &Deadline::forever(), &shown)?;
                format!("UDP socket connected to {shown}")
            } else {
                bind_inet(&fd, a, "UDP")?;
                format!("UDP socket {}", name_of(fd.as_fd(), false)?)
            };
            Ok(Sock::new(
                fd,
                Kind::Dgram,
                false,
                connected,
                name,
                cfg,
                None,
            ))
        },
    )
}

/// A UDP socket bound to `host:port` (port 0: any free port).
pub fn bind_udp(host_port: &str, opts: &Options) -> Result<Sock> {
    udp(host_port, opts, false)
}

/// A UDP socket connected to `host:port` (its default destination and only source).
pub fn connect_udp(host_port: &str, opts: &Options) -> Result<Sock> {
    udp(host_port, opts, true)
}
