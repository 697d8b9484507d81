// SPDX-License-Identifier: MIT OR Apache-2.0
//! Opening the endpoints of every transport, and the endpoints of pipes, FIFOs, stream
//! sockets and rings (queues are in `queue.rs`, the stream listener in `fanin.rs`).

use std::ffi::CString;
use std::os::fd::RawFd;

use super::fanin::FanIn;
use super::{
    Addr, CAP_MULTI_SENDER, CAP_PEER_CLOSED, CAP_PERSISTENT, CAP_POLL, Caps, Endpoint, Made, Role,
};
use super::{peer, queue};
use crate::error::{Error, Result, Status};
use crate::fd::FileId;
use crate::flags::Disposition;
use crate::options::Options;
use crate::pipe::fifo;
use crate::pipe::{PIPE_BUF, PipeEnd};
use crate::ring::{self, Ring};
use crate::sock::{self, Sock};
use crate::time::{Deadline, Timeout};

/// The largest message a FIFO channel carries: what one write of PIPE_BUF bytes holds
/// with the frame header, so that several senders never interleave.
pub(crate) const FIFO_MAX: usize = PIPE_BUF - crate::frame::HEADER;

// ------------------------------------------------------------------ pipes and FIFOs

/// A pipe end or a FIFO end.
struct PipeChan {
    end: PipeEnd,
    /// The FIFO's path; `None` for an anonymous pipe.
    path: Option<String>,
    max: usize,
}

impl Endpoint for PipeChan {
    #[inline]
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        self.end.send(msg, &timeout.deadline())
    }

    fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout) -> (usize, Result<()>) {
        self.end.send_many(msgs, &timeout.deadline())
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        match self.end.recv(out, &timeout.deadline()) {
            Err(e) if self.path.is_some() => Err(self.fifo_failed(e)),
            r => r,
        }
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Ok(self.end.fds().0)
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        Ok(self.end.fds().1)
    }

    fn flush(&mut self, timeout: Timeout) -> Result<()> {
        self.end.flush(&timeout.deadline())
    }

    fn send_pollable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("FIFO {p:?}"),
            None => "pipe".into(),
        }
    }

    fn caps(&self) -> Caps {
        let multi = if self.path.is_some() {
            CAP_MULTI_SENDER
        } else {
            0
        };
        Caps {
            bits: CAP_POLL | CAP_PEER_CLOSED | multi,
            max_message: self.max,
        }
    }

    fn remove(&mut self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let (r, w) = self.end.fds();
        let fd = if r >= 0 { r } else { w };
        let ours = FileId::of_fd(fd);
        if !same(ours, path_id(path)) {
            // Gone, or replaced by another file: not ours to remove; our provenance record
            // names our inode, which is no longer there: forget it (only if it names it).
            crate::hook::gone_path(crate::hook::ObjKind::Fifo, path, fd);
            return Ok(());
        }
        match fifo::unlink(path) {
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => Ok(()),
            other => other,
        }
    }
}

impl PipeChan {
    /// A FIFO receive failed. Every ipcx sender writes each message whole in one atomic
    /// write, so bytes that break the framing come from some other writer. A protocol
    /// error (a length above the channel's maximum) and end of file with part of a frame
    /// buffered both mean such bytes: the receiver discards them with everything the FIFO
    /// holds at that moment (see `PipeEnd::resync`) and reports it once; the next
    /// receive starts on a frame of the next sender's write.
    #[cold]
    fn fifo_failed(&mut self, e: Error) -> Error {
        match e.status {
            Status::IPCX_ERR_PROTOCOL => {
                let n = self.end.resync();
                Error::protocol(format!(
                    "{}; something other than an ipcx sender wrote into the FIFO: the {n} \
                     bytes it held were discarded (messages of ipcx senders among them are \
                     lost) and the next messages are received",
                    e.msg.replace("; the stream is no longer usable", "")
                ))
            }
            Status::IPCX_ERR_CLOSED => {
                // Every writer is gone: a partial frame left in the reader is garbage. What
                // the FIFO holds now is not: a new sender may have opened and written since
                // the read that saw end of file, and its writes start on frame boundaries.
                self.end.drop_partial();
                e
            }
            _ => e,
        }
    }
}

fn same(a: Option<FileId>, b: Option<FileId>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.same_inode(&b))
}

fn path_id(path: &str) -> Option<FileId> {
    let c = CString::new(path).ok()?;
    // SAFETY: a valid C string and a zeroed stat buffer.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    (unsafe { crate::sys::lstat(c.as_ptr(), &mut st) } == 0).then(|| FileId::of(&st))
}

/// The identity of the POSIX message queue (`mq`) or shared-memory object named `name`,
/// by opening it for a moment (read-only, else read-write / write-only).
pub(super) fn posix_object_id(name: &str, mq: bool) -> Option<FileId> {
    let c = CString::new(name).ok()?;
    let second = if mq { libc::O_WRONLY } else { libc::O_RDWR };
    for acc in [libc::O_RDONLY, second] {
        // SAFETY: a valid C string; the descriptor is closed below.
        let fd = unsafe {
            if mq {
                libc::mq_open(c.as_ptr(), acc | libc::O_CLOEXEC)
            } else {
                libc::shm_open(c.as_ptr(), acc | libc::O_CLOEXEC, 0)
            }
        };
        if fd >= 0 {
            let id = FileId::of_fd(fd);
            // SAFETY: the descriptor opened just above.
            unsafe { libc::close(fd) };
            return id;
        }
    }
    None
}

/// The options of a FIFO channel: always atomic (several senders never interleave), so
/// messages are at most [`FIFO_MAX`] bytes.
fn fifo_options(opts: &Options) -> Result<Options> {
    let max = opts.max_message.unwrap_or(FIFO_MAX);
    if max > FIFO_MAX {
        return Err(Error::invalid(format!(
            "option max_message {max} is above {FIFO_MAX}, the largest message a fifo: channel \
             carries: several senders may write to a FIFO, and only writes of at most \
             PIPE_BUF ({PIPE_BUF}) bytes, the 4-byte frame header included, are never \
             interleaved (use unix:, mq: or shm: for larger messages)"
        )));
    }
    Ok(Options {
        max_message: Some(max),
        atomic: Some(true),
        ..opts.clone()
    })
}

fn fifo_end(path: &str, end: PipeEnd, o: &Options) -> PipeChan {
    PipeChan {
        end,
        path: Some(path.to_string()),
        max: o.max_message(),
    }
}

// ------------------------------------------------------------------ stream sockets

/// A connection of a sender to a stream listener, or one end of a socket pair.
struct SockChan {
    s: Sock,
    multi: bool,
    max: usize,
    what: &'static str,
}

impl Endpoint for SockChan {
    #[inline]
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        let dl = timeout.deadline();
        if self.s.is_connecting() {
            finish_connect(&mut self.s, &dl)?;
        }
        self.s.send(msg, &dl)
    }

    fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout) -> (usize, Result<()>) {
        let dl = timeout.deadline();
        if self.s.is_connecting() {
            if let Err(e) = finish_connect(&mut self.s, &dl) {
                return (0, Err(e));
            }
        }
        self.s.send_many(msgs, &dl)
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        self.s.recv(out, &timeout.deadline())
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        Ok(self.s.fd())
    }

    fn send_fd(&mut self) -> Result<RawFd> {
        Ok(self.s.fd())
    }

    fn flush(&mut self, timeout: Timeout) -> Result<()> {
        let dl = timeout.deadline();
        if self.s.is_connecting() {
            finish_connect(&mut self.s, &dl)?;
        }
        self.s.flush(&dl)
    }

    fn send_pollable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        self.what.into()
    }

    fn caps(&self) -> Caps {
        Caps {
            bits: CAP_POLL | CAP_PEER_CLOSED | if self.multi { CAP_MULTI_SENDER } else { 0 },
            max_message: self.max,
        }
    }
}

/// A sender opened with IPCX_OPEN_NONBLOCK: finish its TCP connect, waiting for
/// writability up to the deadline. In progress at the deadline: `IPCX_ERR_TIMEOUT`
/// (nothing sent); a failed connect: `IPCX_ERR_CLOSED` or `IPCX_ERR_NOT_FOUND` (refused),
/// at every send.
#[cold]
pub(super) fn finish_connect(s: &mut Sock, dl: &Deadline) -> Result<()> {
    loop {
        match s.connect_finish() {
            Err(e) if e.is_timeout() && e.errno == 0 => {
                if dl.expired() {
                    return Err(e);
                }
                let fd = s.fd();
                // SAFETY: the socket's own descriptor, open while `s` lives.
                let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                crate::time::wait_fd(b, libc::POLLOUT, dl, "connect")?;
            }
            Err(e) if e.is_timeout() => {
                return Err(Error {
                    status: Status::IPCX_ERR_CLOSED,
                    ..e
                });
            }
            r => return r,
        }
    }
}

/// IPCX_OPEN_NONBLOCK with allowed_networks: refused (the receiver's address is checked
/// once connected, which a connect in the background is not yet).
pub(super) fn check_nonblocking_allow(address: &str, opts: &Options) -> Result<()> {
    if opts.allow.is_open() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{address}: IPCX_OPEN_NONBLOCK cannot be combined with allowed_networks (the \
         receiver's address is checked once connected: open with a timeout)"
    )))
}

/// A sender opened with IPCX_OPEN_NONBLOCK (unix:, tcp:): a TCP connect is started and
/// left to finish in the background (the first send finishes it); a Unix connect, which
/// never waits for a handshake, is made at once.
pub(super) fn open_nonblocking(a: Addr<'_>, opts: &Options) -> Result<Made> {
    match a {
        Addr::Tcp(hp) => {
            check_nonblocking_allow(&format!("tcp:{hp}"), opts)?;
            let s = sock::connect_tcp_start(hp, &without_mode(opts))?;
            Ok(Made::new(
                SockChan {
                    s,
                    multi: true,
                    max: opts.max_message(),
                    what: "TCP connection",
                },
                format!("tcp:{hp}"),
                "",
            ))
        }
        Addr::Unix(Some(_)) | Addr::UnixAbstract(_) => {
            open_existing(a, Role::Send, false, opts, &Deadline::now())
        }
        _ => Err(Error::internal(
            "IPCX_OPEN_NONBLOCK reached another transport",
        )),
    }
}

/// The options of a connecting socket: no mode (it creates no file) and no connection
/// filter (the channel checks its peer itself).
fn without_mode(opts: &Options) -> Options {
    Options {
        mode: None,
        ..opts.without_allow()
    }
}

// ------------------------------------------------------------------ rings

/// A ring end (named or anonymous).
struct RingChan {
    ring: Ring,
    name: Option<String>,
}

impl Endpoint for RingChan {
    #[inline]
    fn send(&mut self, msg: &[u8], timeout: Timeout) -> Result<()> {
        self.ring.send(msg, timeout, "send")
    }

    /// One call into the ring for the batch: each message is published as it is written.
    fn send_many(&mut self, msgs: &[&[u8]], timeout: Timeout) -> (usize, Result<()>) {
        if let Err(e) = self.check_sizes(msgs) {
            return (0, Err(e));
        }
        self.ring.send_many(msgs, timeout, "send")
    }

    #[inline]
    fn recv(&mut self, out: &mut [u8], timeout: Timeout) -> Result<usize> {
        self.ring.recv(out, timeout, "receive")
    }

    fn poll_fd(&mut self) -> Result<RawFd> {
        self.ring.poll_fd("poll")
    }

    /// The producer's room descriptor: armed by a send that found the ring full, readable
    /// (not writable: an epoll descriptor) when the consumer has taken a message since.
    fn send_fd(&mut self) -> Result<RawFd> {
        self.ring.poll_fd("poll")
    }

    fn send_pollable(&self) -> bool {
        true
    }

    fn send_fd_events(&self) -> u32 {
        libc::POLLIN as u32
    }

    fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("ring {n:?}"),
            None => "anonymous ring".into(),
        }
    }

    fn caps(&self) -> Caps {
        let (_, max, _, mpmc) = self.ring.info();
        let mut bits = CAP_POLL | CAP_PEER_CLOSED;
        if mpmc {
            bits |= CAP_MULTI_SENDER;
        }
        if self.name.is_some() {
            bits |= CAP_PERSISTENT;
        }
        Caps {
            bits,
            max_message: max,
        }
    }

    fn remove(&mut self) -> Result<()> {
        let Some(name) = &self.name else {
            return Ok(());
        };
        if !same(self.ring.file_id(), posix_object_id(name, false)) {
            return Ok(());
        }
        match ring::unlink(name) {
            Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => Ok(()),
            other => other,
        }
    }
}

/// The ring role and options of a channel end.
fn ring_end(role: Role, multi: bool) -> (ring::Role, ring::RingFlags) {
    let side = match role {
        Role::Send => ring::Role::Producer,
        Role::Recv => ring::Role::Consumer,
    };
    (
        side,
        ring::RingFlags::NONE.with(ring::RingFlags::MPMC, multi),
    )
}

fn ring_made(ring: Ring, name: &str, created: bool) -> Made {
    let mut m = Made::new(
        RingChan {
            ring,
            name: Some(name.to_string()),
        },
        format!("shm:{name}"),
        name,
    );
    m.created = created;
    m
}

// ------------------------------------------------------------------ opening

/// A receiver that creates its object (adopting an existing one of the right kind: the
/// stale object of a receiver that crashed, with the messages it holds).
pub(super) fn create(a: Addr<'_>, multi: bool, opts: &Options) -> Result<Made> {
    match a {
        Addr::Fifo(path) => {
            let o = fifo_options(opts)?;
            let mode = Options {
                mode: opts.mode,
                ..Options::default()
            };
            let created = match fifo::create(path, &mode) {
                Ok(()) => true,
                Err(e) if e.status == Status::IPCX_ERR_EXISTS => false,
                Err(e) => return Err(e),
            };
            let end = match fifo::open(
                path,
                fifo::Side::Reader,
                Disposition::Existing,
                &o,
                &Deadline::now(),
            ) {
                Ok(end) => end,
                Err(e) => {
                    if created {
                        let _ = fifo::unlink(path);
                    }
                    return Err(e);
                }
            };
            let mut m = Made::new(fifo_end(path, end, &o), format!("fifo:{path}"), path);
            m.created = created;
            Ok(m)
        }
        Addr::Unix(Some(path)) => {
            let l = sock::listen_unix(path, sock::Kind::Stream, &opts.without_allow())?;
            let fan = FanIn::<Sock>::new(l, opts.max_message(), "unix", (), opts.allow.clone())?;
            let mut m = Made::new(fan, format!("unix:{path}"), path);
            m.created = true; // the socket file goes with the listener
            Ok(m)
        }
        Addr::UnixAbstract(name) => {
            let at = format!("@{name}");
            let l = sock::listen_unix(&at, sock::Kind::Stream, &opts.without_allow())?;
            let fan = FanIn::<Sock>::new(l, opts.max_message(), "unix", (), opts.allow.clone())?;
            Ok(Made::new(fan, format!("unix:@{name}"), ""))
        }
        Addr::Tcp(hp) => {
            let l = sock::listen_tcp(hp, &opts.without_allow())?;
            let bound = l.local_address()?.text();
            let fan = FanIn::<Sock>::new(l, opts.max_message(), "tcp", (), opts.allow.clone())?;
            Ok(Made::new(fan, format!("tcp:{bound}"), ""))
        }
        Addr::Peer(lib, link) => peer::listen(lib, link, Role::Recv, opts),
        Addr::Mq(name) => queue::create_mq(name, opts),
        Addr::SysvMq { key, mtype } => queue::create_sysv(key, mtype, opts),
        Addr::Shm(Some(name)) => {
            let (side, flags) = ring_end(Role::Recv, multi);
            for _ in 0..100 {
                match Ring::open(name, side, Disposition::CreateNew, flags, opts) {
                    Ok(r) => return Ok(ring_made(r, name, true)),
                    Err(e) if e.status == Status::IPCX_ERR_EXISTS => {}
                    Err(e) => return Err(e),
                }
                match Ring::open(name, side, Disposition::Existing, flags, opts) {
                    Ok(r) => return Ok(ring_made(r, name, false)),
                    Err(e) if e.status == Status::IPCX_ERR_NOT_FOUND => {} // removed meanwhile
                    Err(e) => return Err(e),
                }
            }
            Err(Error::new(
                Status::IPCX_ERR_IN_USE,
                format!("shm:{name}: the ring keeps appearing and disappearing; giving up"),
            ))
        }
        Addr::Pipe | Addr::Unix(None) | Addr::Shm(None) => {
            Err(Error::internal("unnamed address reached create"))
        }
    }
}

/// A sender, or a receiver with NO_CREATE: open the existing object. `IPCX_ERR_NOT_FOUND`
/// (with an errno) means "not there yet": the caller retries until its deadline.
pub(super) fn open_existing(
    a: Addr<'_>,
    role: Role,
    multi: bool,
    opts: &Options,
    deadline: &Deadline,
) -> Result<Made> {
    match a {
        Addr::Fifo(path) => {
            let o = fifo_options(opts)?;
            let side = match role {
                Role::Send => fifo::Side::Writer,
                Role::Recv => fifo::Side::Reader,
            };
            let end = fifo::open(path, side, Disposition::Existing, &o, deadline)?;
            Ok(Made::new(
                fifo_end(path, end, &o),
                format!("fifo:{path}"),
                path,
            ))
        }
        Addr::Unix(Some(path)) => {
            let s = sock::connect_unix(path, sock::Kind::Stream, &without_mode(opts), deadline)?;
            sender(
                s,
                opts,
                format!("unix:{path}"),
                path,
                "Unix stream connection",
            )
        }
        Addr::UnixAbstract(name) => {
            let at = format!("@{name}");
            let s = sock::connect_unix(&at, sock::Kind::Stream, &without_mode(opts), deadline)?;
            let shown = format!("unix:@{name}");
            sender(s, opts, shown, "", "Unix stream connection")
        }
        Addr::Tcp(hp) => {
            let s = sock::connect_tcp(hp, &without_mode(opts), deadline)?;
            sender(s, opts, format!("tcp:{hp}"), "", "TCP connection")
        }
        Addr::Peer(lib, link) => peer::dial(lib, link, role, opts, deadline),
        Addr::Mq(name) => queue::open_mq(name, role, opts),
        Addr::SysvMq { key, mtype } => queue::open_sysv(key, mtype, opts),
        Addr::Shm(Some(name)) => {
            let (side, flags) = ring_end(role, multi);
            let r = Ring::open(name, side, Disposition::Existing, flags, opts)?;
            Ok(ring_made(r, name, false))
        }
        Addr::Pipe | Addr::Unix(None) | Addr::Shm(None) => {
            Err(Error::internal("unnamed address reached open"))
        }
    }
}

fn sender(
    s: Sock,
    opts: &Options,
    address: String,
    object: &str,
    what: &'static str,
) -> Result<Made> {
    // Who may receive what this sender sends: the listener's user or network.
    if let Err(why) = opts.allow.check(&s)? {
        return Err(Error::new(
            Status::IPCX_ERR_PERMISSION,
            format!("{address}: {why} (the allowed_* options of this end); disconnected"),
        ));
    }
    Ok(Made::new(
        SockChan {
            s,
            multi: true,
            max: opts.max_message(),
            what,
        },
        address,
        object,
    ))
}

/// Both ends of an unnamed channel: (sender, receiver).
pub(super) fn pair(a: Addr<'_>, opts: &Options) -> Result<(Made, Made)> {
    match a {
        Addr::Pipe => {
            let (r, w) = PipeEnd::pipe(opts)?;
            let max = opts.max_message();
            let end = |end| PipeChan {
                end,
                path: None,
                max,
            };
            Ok((
                Made::new(end(w), "pipe:".into(), ""),
                Made::new(end(r), "pipe:".into(), ""),
            ))
        }
        Addr::Unix(None) => {
            let (a, b) = sock::pair(sock::Kind::Stream, opts)?;
            let end = |s| SockChan {
                s,
                multi: false,
                max: opts.max_message(),
                what: "Unix stream socket pair",
            };
            Ok((
                Made::new(end(a), "unix:".into(), ""),
                Made::new(end(b), "unix:".into(), ""),
            ))
        }
        Addr::Shm(None) => {
            let (p, c) = Ring::anonymous(opts, ring::RingFlags::NONE)?;
            let end = |ring| RingChan { ring, name: None };
            Ok((
                Made::new(end(p), "shm:".into(), ""),
                Made::new(end(c), "shm:".into(), ""),
            ))
        }
        _ => Err(Error::internal("named address reached pair")),
    }
}
