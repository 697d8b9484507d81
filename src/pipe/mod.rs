// SPDX-License-Identifier: MIT OR Apache-2.0
//! Anonymous pipes (and the pipe ends that FIFOs open): byte streams and framed messages.
//!
//! A [`PipeEnd`] holds a read descriptor, a write descriptor, or both (a full-duplex end
//! made of two pipes). Descriptors are close-on-exec and non-blocking; every blocking
//! operation waits with `poll` against a monotonic deadline. Writes cannot raise SIGPIPE
//! (see `fd::writev`): a reader that is gone gives `IPCX_ERR_CLOSED`.
//!
//! Fork: a `PipeEnd` is inherited by the child with its descriptors. As with raw pipes,
//! each process must close the ends it does not use, or the reader never sees end of file.
//! Bytes already buffered inside a reader are duplicated by fork: use an end in one process.

pub mod fifo;

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};

use crate::error::{Error, Result, Status};
use crate::fd::IoMode;
use crate::frame::{FrameReader, FrameWriter, Transport};
use crate::options::{Opt, Options};
use crate::time::{self, Deadline};

/// PIPE_BUF: writes of at most this many bytes are atomic.
pub(crate) const PIPE_BUF: usize = libc::PIPE_BUF;

/// Where a pipe end came from: decides how a zero-byte read is interpreted.
#[derive(Debug)]
pub(crate) enum Origin {
    /// `pipe2`: a zero-byte read is end of file.
    Anonymous,
    /// A FIFO opened for reading: a zero-byte read before any writer connected is not end
    /// of file; `hold` keeps a write reference open so readers never see end of file.
    Fifo {
        path: String,
        _hold: Option<OwnedFd>,
    },
}

/// One end of a pipe: readable, writable, or both (duplex).
#[derive(Debug)]
pub struct PipeEnd {
    fds: Fds,
    reader: FrameReader,
    writer: FrameWriter,
}

/// The descriptors of a pipe end and how to use them.
#[derive(Debug)]
struct Fds {
    rfd: Option<OwnedFd>,
    wfd: Option<OwnedFd>,
    rmode: IoMode,
    wmode: IoMode,
    guard: bool,
    origin: Origin,
}

impl Fds {
    fn io(&mut self) -> Io<'_> {
        Io {
            rfd: self.rfd.as_ref().map(|f| f.as_fd()),
            wfd: self.wfd.as_ref().map(|f| f.as_fd()),
            rmode: &mut self.rmode,
            wmode: &mut self.wmode,
            guard: self.guard,
            origin: &self.origin,
        }
    }
}

/// The descriptors of one operation, borrowed from a `PipeEnd`.
struct Io<'a> {
    rfd: Option<BorrowedFd<'a>>,
    wfd: Option<BorrowedFd<'a>>,
    rmode: &'a mut IoMode,
    wmode: &'a mut IoMode,
    guard: bool,
    origin: &'a Origin,
}

impl Io<'_> {
    fn name(&self) -> String {
        match self.origin {
            Origin::Anonymous => "pipe".to_string(),
            Origin::Fifo { path, .. } => format!("FIFO {path:?}"),
        }
    }
}

impl Transport for Io<'_> {
    fn read(
        &mut self,
        bufs: &mut [IoSliceMut<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        self.rmode
            .readv(self.rfd.ok_or(Errno::EBADF)?, bufs, deadline)
    }

    fn write(
        &mut self,
        bufs: &[IoSlice<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        self.wmode
            .writev(self.wfd.ok_or(Errno::EBADF)?, bufs, deadline, self.guard)
    }

    fn wait(&mut self, readable: bool, deadline: &Deadline) -> Result<()> {
        let (fd, ev) = if readable {
            (self.rfd, libc::POLLIN)
        } else {
            (self.wfd, libc::POLLOUT)
        };
        let fd = fd.ok_or_else(|| Error::invalid("pipe end is not open in that direction"))?;
        time::wait_fd_again(
            fd,
            ev,
            deadline,
            format!("wait on {}", self.name()).as_str(),
        )
    }

    fn confirm_eof(&mut self, deadline: &Deadline) -> Result<bool> {
        let Origin::Fifo { .. } = self.origin else {
            return Ok(true);
        };
        // A FIFO reader reads 0 both when its writers left (POLLHUP) and when no writer
        // has connected yet (no POLLHUP): only the first is end of file.
        let fd = self.rfd.ok_or_else(|| Error::invalid("not readable"))?;
        let rev = time::wait_fd(fd, libc::POLLIN, &Deadline::now(), "poll FIFO").unwrap_or(0);
        if rev & libc::POLLIN != 0 {
            return Ok(false);
        }
        if rev & libc::POLLHUP != 0 {
            return Ok(true);
        }
        let what = format!("wait for a writer on {}", self.name());
        time::wait_fd(fd, libc::POLLIN, deadline, what.as_str())?;
        Ok(false)
    }

    fn describe(&self) -> String {
        self.name()
    }
}

fn bad_direction(op: &str, dir: &str) -> Error {
    Error::invalid(format!("{op}: this pipe end is not open for {dir}"))
}

/// Options pipes honour.
pub(crate) const PIPE_OPTIONS: &[Opt] = &[Opt::MaxMessage, Opt::Capacity, Opt::SigpipeGuard];

/// Options an adopted pipe end honours (its capacity: `PipeEnd::set_capacity`).
const ADOPT_OPTIONS: &[Opt] = &[Opt::MaxMessage, Opt::SigpipeGuard];

/// A descriptor handed to `PipeEnd::adopt` as `what`: open, a pipe or FIFO, open for
/// reading (`read`) or writing. Returns it borrowed with its O_NONBLOCK flag.
fn adoptable<'a>(fd: RawFd, what: &str, read: bool) -> Result<(BorrowedFd<'a>, bool)> {
    let b = crate::fd::caller_fd(fd, what)?;
    // SAFETY: a zeroed stat buffer filled by fstat on an open descriptor.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::fstat(fd, &mut st) } < 0 {
        return Err(Error::last_os(format_args!("fstat({what} {fd})")));
    }
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO => None,
        libc::S_IFREG => Some("a regular file"),
        libc::S_IFSOCK => Some("a socket (adopt it with ipcx_sock_adopt)"),
        libc::S_IFCHR => Some("a character device"),
        libc::S_IFDIR => Some("a directory"),
        _ => Some("not a pipe"),
    };
    if let Some(k) = kind {
        return Err(Error::invalid(format!(
            "{what} {fd} is {k}, not a pipe or FIFO"
        )));
    }
    let fl = fcntl(b, FcntlArg::F_GETFL)
        .map(OFlag::from_bits_retain)
        .map_err(|e| Error::os(e, format_args!("fcntl({what} {fd}, F_GETFL)")))?;
    let acc = fl & OFlag::O_ACCMODE;
    let ok = acc == OFlag::O_RDWR
        || acc
            == if read {
                OFlag::O_RDONLY
            } else {
                OFlag::O_WRONLY
            };
    if !ok {
        return Err(Error::invalid(format!(
            "{what} {fd} is not open for {} (it is the pipe's other end?)",
            if read { "reading" } else { "writing" }
        )));
    }
    Ok((b, fl.contains(OFlag::O_NONBLOCK)))
}

fn pipe2() -> Result<(OwnedFd, OwnedFd)> {
    // Blocking descriptors: see `fd::IoMode` for how calls with a timeout avoid blocking.
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| crate::fd::new_fd_error(e, "pipe2"))
}

impl PipeEnd {
    /// A pipe end from descriptors whose O_NONBLOCK flag is `nonblock`.
    pub(crate) fn from_fds(
        rfd: Option<OwnedFd>,
        wfd: Option<OwnedFd>,
        nonblock: bool,
        opts: &Options,
        origin: Origin,
    ) -> PipeEnd {
        let atomic = opts.atomic.unwrap_or(false).then_some(PIPE_BUF);
        PipeEnd {
            fds: Fds {
                rfd,
                wfd,
                rmode: IoMode::new(nonblock),
                wmode: IoMode::new(nonblock),
                guard: opts.sigpipe_guard(),
                origin,
            },
            reader: FrameReader::new(opts.max_message()),
            writer: FrameWriter::new(opts.max_message(), atomic),
        }
    }

    /// Create an anonymous pipe: `(read end, write end)`.
    pub fn pipe(opts: &Options) -> Result<(PipeEnd, PipeEnd)> {
        opts.only(PIPE_OPTIONS, "pipes")?;
        let (r, w) = pipe2()?;
        let mut re = PipeEnd::from_fds(Some(r), None, false, opts, Origin::Anonymous);
        let we = PipeEnd::from_fds(None, Some(w), false, opts, Origin::Anonymous);
        if let Some(cap) = opts.capacity {
            re.set_capacity(cap)?;
        }
        Ok((re, we))
    }

    /// A pipe end made of descriptors the caller hands over (`ipcx_pipe_adopt`): a read
    /// end, a write end (-1 for none), or both (a duplex end). Each must be a pipe or
    /// FIFO open in its direction. On success the end owns them, made close-on-exec (their
    /// O_NONBLOCK flag is left as it is: ipcx switches it as its calls need); on failure
    /// they are the caller's still (close-on-exec may have been set on the first).
    pub fn adopt(rfd: RawFd, wfd: RawFd, opts: &Options) -> Result<PipeEnd> {
        opts.only(ADOPT_OPTIONS, "adopted pipe ends")?;
        if rfd < 0 && wfd < 0 {
            return Err(Error::invalid(format!(
                "read_fd {rfd} and write_fd {wfd}: give at least one descriptor"
            )));
        }
        if rfd == wfd {
            return Err(Error::invalid(format!(
                "read_fd and write_fd are both {rfd}: a FIFO open for reading and writing \
                 is given once, as read_fd or write_fd"
            )));
        }
        let r = (rfd >= 0)
            .then(|| adoptable(rfd, "read_fd", true))
            .transpose()?;
        let w = (wfd >= 0)
            .then(|| adoptable(wfd, "write_fd", false))
            .transpose()?;
        let first = r.or(w).map(|(fd, _)| fd).expect("one descriptor given");
        let origin = match std::fs::read_link(format!("/proc/self/fd/{}", first.as_raw_fd())) {
            Ok(target) => match target.to_str() {
                Some(t) if !t.starts_with("pipe:") => Origin::Fifo {
                    path: t.to_string(),
                    _hold: None,
                },
                _ => Origin::Anonymous,
            },
            Err(_) => Origin::Anonymous,
        };
        for (fd, _) in r.iter().chain(w.iter()) {
            crate::fd::set_cloexec(*fd, true)?;
        }
        let atomic = opts.atomic.unwrap_or(false).then_some(PIPE_BUF);
        // SAFETY (both): open descriptors (checked) that the caller hands over on success;
        // from here nothing fails.
        let own = |fd: BorrowedFd<'_>| unsafe { OwnedFd::from_raw_fd(fd.as_raw_fd()) };
        Ok(PipeEnd {
            fds: Fds {
                rfd: r.map(|(fd, _)| own(fd)),
                wfd: w.map(|(fd, _)| own(fd)),
                rmode: IoMode::new(r.is_some_and(|(_, nb)| nb)),
                wmode: IoMode::new(w.is_some_and(|(_, nb)| nb)),
                guard: opts.sigpipe_guard(),
                origin,
            },
            reader: FrameReader::new(opts.max_message()),
            writer: FrameWriter::new(opts.max_message(), atomic),
        })
    }

    /// Give the descriptors back without closing them (an adopt whose handle could not
    /// be made). Nothing may be buffered.
    pub fn into_fds(self) -> (Option<OwnedFd>, Option<OwnedFd>) {
        let mut me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again: the descriptors are moved out once
        // and every other field that owns memory is dropped in place once.
        unsafe {
            let r = std::ptr::read(&me.fds.rfd);
            let w = std::ptr::read(&me.fds.wfd);
            std::ptr::drop_in_place(&mut me.fds.origin);
            std::ptr::drop_in_place(&mut me.reader);
            std::ptr::drop_in_place(&mut me.writer);
            (r, w)
        }
    }

    /// Create a full-duplex pair from two pipes: what one end writes, the other reads.
    pub fn duplex(opts: &Options) -> Result<(PipeEnd, PipeEnd)> {
        opts.only(PIPE_OPTIONS, "pipes")?;
        let (r1, w1) = pipe2()?;
        let (r2, w2) = pipe2()?;
        let mut a = PipeEnd::from_fds(Some(r1), Some(w2), false, opts, Origin::Anonymous);
        let b = PipeEnd::from_fds(Some(r2), Some(w1), false, opts, Origin::Anonymous);
        if let Some(cap) = opts.capacity {
            // a's descriptors reach both pipes.
            a.set_capacity(cap)?;
        }
        Ok((a, b))
    }

    fn check_read(&self, op: &str) -> Result<()> {
        if self.fds.rfd.is_none() {
            Err(bad_direction(op, "reading"))
        } else {
            Ok(())
        }
    }

    fn check_write(&self, op: &str) -> Result<()> {
        if self.fds.wfd.is_none() {
            Err(bad_direction(op, "writing"))
        } else {
            Ok(())
        }
    }

    /// Send one framed message.
    pub fn send(&mut self, msg: &[u8], deadline: &Deadline) -> Result<()> {
        self.check_write("send")?;
        self.writer.send(&mut self.fds.io(), msg, deadline)
    }

    /// Send several framed messages, as many per write as fit (see
    /// [`FrameWriter::send_many`]): how many were accepted, and the error that stopped it.
    pub fn send_many(&mut self, msgs: &[&[u8]], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.check_write("send") {
            return (0, Err(e));
        }
        self.writer.send_many(&mut self.fds.io(), msgs, deadline)
    }

    /// Receive one framed message into `out`; returns its length.
    pub fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.check_read("receive")?;
        self.reader.recv(&mut self.fds.io(), out, deadline)
    }

    /// Write raw bytes until all are written or the deadline passes: `(written, result)`.
    pub fn write(&mut self, data: &[u8], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.check_write("write") {
            return (0, Err(e));
        }
        self.writer.write_all(&mut self.fds.io(), data, deadline)
    }

    /// Read at least one and at most `out.len()` raw bytes.
    pub fn read(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.check_read("read")?;
        self.reader.read_some(&mut self.fds.io(), out, deadline)
    }

    /// Write out the tail of a message accepted by a send that timed out midway.
    pub fn flush(&mut self, deadline: &Deadline) -> Result<()> {
        if self.fds.wfd.is_none() {
            return Ok(());
        }
        self.writer.flush(&mut self.fds.io(), deadline)
    }

    /// Bytes of an accepted message not yet written (see [`PipeEnd::flush`]).
    pub fn backlog(&self) -> usize {
        self.writer.backlog()
    }

    /// The kernel buffer size of the pipe (the outgoing one for a duplex end).
    pub fn capacity(&self) -> Result<usize> {
        let fd = self
            .fds
            .wfd
            .as_ref()
            .or(self.fds.rfd.as_ref())
            .ok_or_else(|| Error::invalid("closed"))?;
        let n =
            fcntl(fd, FcntlArg::F_GETPIPE_SZ).map_err(|e| Error::os(e, "fcntl(F_GETPIPE_SZ)"))?;
        Ok(n as usize)
    }

    /// Set the kernel buffer size (both pipes of a duplex end); returns the size the
    /// kernel chose (rounded up to a power-of-two number of pages).
    pub fn set_capacity(&mut self, bytes: usize) -> Result<usize> {
        if bytes == 0 || bytes > i32::MAX as usize {
            return Err(Error::invalid(format!(
                "pipe capacity {bytes} is out of range"
            )));
        }
        let mut actual = 0;
        for fd in [self.fds.rfd.as_ref(), self.fds.wfd.as_ref()]
            .into_iter()
            .flatten()
        {
            let n = fcntl(fd, FcntlArg::F_SETPIPE_SZ(bytes as libc::c_int))
                .map_err(|e| set_capacity_error(e, bytes))?;
            actual = n as usize;
        }
        Ok(actual)
    }

    /// The read and write descriptors (-1 where absent), for poll/epoll. They stay owned
    /// by the pipe end.
    pub fn fds(&self) -> (RawFd, RawFd) {
        (
            self.fds.rfd.as_ref().map_or(-1, |f| f.as_raw_fd()),
            self.fds.wfd.as_ref().map_or(-1, |f| f.as_raw_fd()),
        )
    }

    /// Resynchronise a message stream whose writers each write whole frames in one
    /// atomic write (a FIFO shared by ipcx senders, every message at most PIPE_BUF with its
    /// header), after something else broke its framing: drop what the reader buffered and
    /// what the pipe holds right now (without waiting), and forget the broken state, so the
    /// next byte read starts a frame of the next atomic write. Returns the bytes discarded.
    ///
    /// A read that returns less than it asked for emptied the pipe, and an atomic write is
    /// never split across reads that empty the pipe: stopping there is a frame boundary.
    /// Draining stops after 64 full reads (a writer flooding the FIFO): the framing may
    /// then still be off, and the next receive reports it again.
    pub(crate) fn resync(&mut self) -> usize {
        let mut dropped = self.reader.reset();
        if self.fds.rfd.is_none() {
            return dropped;
        }
        let mut scratch = vec![0u8; 64 * 1024];
        let now = Deadline::now();
        for _ in 0..64 {
            let mut io = self.fds.io();
            match io.read(&mut [IoSliceMut::new(&mut scratch)], &now) {
                Ok(n) => {
                    dropped += n;
                    if n < scratch.len() {
                        break;
                    }
                }
                Err(Errno::EINTR) => {}
                Err(_) => break, // EAGAIN: the pipe is empty
            }
        }
        dropped
    }

    /// Drop a partial frame the reader buffered (after end of file: its writer is gone),
    /// leaving what the pipe holds alone. Returns the bytes dropped.
    pub(crate) fn drop_partial(&mut self) -> usize {
        self.reader.reset()
    }

    /// Best-effort non-blocking flush of a pending backlog, used on close.
    pub fn flush_now(&mut self) {
        if self.writer.backlog() > 0 {
            let _ = self.flush(&Deadline::now());
        }
    }
}

fn set_capacity_error(e: Errno, bytes: usize) -> Error {
    let max = crate::error::proc_limit("/proc/sys/fs/pipe-max-size");
    match e {
        Errno::EPERM => Error::os_as(
            Status::IPCX_ERR_LIMIT,
            e,
            format!(
                "fcntl(F_SETPIPE_SZ, {bytes}): above {max} or the \
                 per-user pipe limit (fs.pipe-user-pages-soft), and the process lacks \
                 CAP_SYS_RESOURCE"
            ),
        ),
        Errno::EBUSY => Error::os_as(
            Status::IPCX_ERR_IN_USE,
            e,
            format!("fcntl(F_SETPIPE_SZ, {bytes}): the pipe holds more data than that"),
        ),
        _ => Error::os(e, format_args!("fcntl(F_SETPIPE_SZ, {bytes})")),
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.flush_now();
    }
}
