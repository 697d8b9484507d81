// SPDX-License-Identifier: MIT OR Apache-2.0
//! Descriptor-level helpers shared by every fd-based mechanism: non-blocking vectored
//! I/O that reports the raw errno, the SIGPIPE guard, and descriptor flags.
//!
//! All descriptors ipcx creates are close-on-exec. How a call blocks is decided per call by
//! [`IoMode`]: a call that may wait forever does a plain blocking read or write (one
//! system call, exactly what a raw program does); a call with a timeout must never block
//! in the kernel, so it uses `preadv2`/`pwritev2` with `RWF_NOWAIT` where the kernel
//! supports that for the descriptor (anonymous pipes), and otherwise switches the open file
//! to O_NONBLOCK, lazily, only when the mode changes from the previous call; on `EAGAIN`
//! it waits with `time::wait_fd` until the deadline and tries again.
//!
//! Why not poll first, or keep descriptors non-blocking and poll? Once a pipe has been
//! polled, the kernel wakes its readers on every write (`pipe->poll_usage`), which on one
//! CPU costs a context switch per message; blocking reads keep the kernel's batching.
//!
//! System calls go through nix (`fcntl`, `read`/`readv`, `write`/`writev`,
//! `pthread_sigmask`). Raw: `preadv2`/`pwritev2` (`crate::sys`: nix lacks them),
//! `sigtimedwait` and `ioctl(FIONREAD)` (nix lacks them), and the `F_GETFD` that checks a
//! caller's descriptor number (nix's `fcntl` takes a descriptor already known to be open).

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

use crate::error::{Error, Result};
use crate::sys::wide_i64;

/// The most buffers one `readv`/`writev` takes (`UIO_MAXIOV`); more are left for the next call.
const MAX_IOV: usize = libc::UIO_MAXIOV as usize;

/// Set or clear `bit` in the flags that `get` reads and `set` (given the new flags)
/// writes with `fcntl`.
fn fcntl_flag(
    fd: BorrowedFd<'_>,
    get: FcntlArg<'_>,
    set: impl FnOnce(i32) -> FcntlArg<'static>,
    bit: i32,
    on: bool,
    what: &str,
) -> Result<()> {
    let flags = fcntl(fd, get).map_err(|e| Error::os(e, format_args!("fcntl(get {what})")))?;
    let want = if on { flags | bit } else { flags & !bit };
    if want != flags {
        fcntl(fd, set(want)).map_err(|e| Error::os(e, format_args!("fcntl(set {what})")))?;
    }
    Ok(())
}

/// Set or clear O_NONBLOCK on the open file description of `fd`.
pub fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> Result<()> {
    fcntl_flag(
        fd,
        FcntlArg::F_GETFL,
        |f| FcntlArg::F_SETFL(OFlag::from_bits_retain(f)),
        OFlag::O_NONBLOCK.bits(),
        on,
        "O_NONBLOCK",
    )
}

/// A descriptor number a caller hands to an adopt function, borrowed for the call:
/// `IPCX_ERR_INVALID` unless it is an open descriptor. `what` names the argument.
pub fn caller_fd<'a>(fd: RawFd, what: &str) -> Result<BorrowedFd<'a>> {
    if fd < 0 {
        return Err(Error::invalid(format!("{what} is {fd}, not a descriptor")));
    }
    // SAFETY: F_GETFD only looks the number up in the descriptor table.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::os_as(
            crate::error::Status::IPCX_ERR_INVALID,
            Errno::last(),
            format_args!("{what} {fd} is not an open descriptor (fcntl(F_GETFD))"),
        ));
    }
    // SAFETY: open, as checked just above; the C caller keeps it open during the call.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Set or clear FD_CLOEXEC on `fd`.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> Result<()> {
    fcntl_flag(
        fd,
        FcntlArg::F_GETFD,
        |f| FcntlArg::F_SETFD(FdFlag::from_bits_retain(f)),
        FdFlag::FD_CLOEXEC.bits(),
        on,
        "FD_CLOEXEC",
    )
}

/// How one descriptor is switched between blocking and non-blocking I/O (see the module
/// documentation). One per descriptor, owned by the handle that owns the descriptor.
#[derive(Debug)]
pub struct IoMode {
    /// Whether O_NONBLOCK is currently set on the open file description, as far as we know.
    nonblock: bool,
    /// Whether `RWF_NOWAIT` works on this descriptor (cleared on the first EOPNOTSUPP).
    nowait: bool,
}

impl IoMode {
    /// A mode for a descriptor whose O_NONBLOCK flag is currently `nonblock`.
    pub fn new(nonblock: bool) -> IoMode {
        IoMode {
            nonblock,
            nowait: true,
        }
    }

    fn ensure(&mut self, fd: BorrowedFd<'_>, nonblock: bool) -> std::result::Result<(), Errno> {
        if self.nonblock != nonblock {
            set_nonblocking(fd, nonblock).map_err(|e| Errno::from_raw(e.errno))?;
            self.nonblock = nonblock;
        }
        Ok(())
    }

    /// One vectored read: blocking when `deadline` is forever, never blocking otherwise.
    pub fn readv(
        &mut self,
        fd: BorrowedFd<'_>,
        bufs: &mut [IoSliceMut<'_>],
        deadline: &crate::time::Deadline,
    ) -> std::result::Result<usize, Errno> {
        if deadline.is_forever() {
            self.ensure(fd, false)?;
            return readv(fd, bufs);
        }
        if self.nowait && !self.nonblock {
            let cnt = bufs.len().min(MAX_IOV) as libc::c_int;
            // SAFETY: IoSliceMut is ABI-compatible with iovec; offset -1 = current position.
            let n = unsafe {
                crate::sys::preadv2(
                    fd.as_raw_fd(),
                    bufs.as_mut_ptr().cast(),
                    cnt,
                    -1,
                    libc::RWF_NOWAIT,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            match Errno::last() {
                Errno::EOPNOTSUPP | Errno::ENOSYS => self.nowait = false,
                e => return Err(e),
            }
        }
        self.ensure(fd, true)?;
        readv(fd, bufs)
    }

    /// One vectored write, blocking rules as for [`IoMode::readv`]; see [`writev`] for
    /// `guard_sigpipe`.
    pub fn writev(
        &mut self,
        fd: BorrowedFd<'_>,
        bufs: &[IoSlice<'_>],
        deadline: &crate::time::Deadline,
        guard_sigpipe: bool,
    ) -> std::result::Result<usize, Errno> {
        if deadline.is_forever() {
            self.ensure(fd, false)?;
            return writev(fd, bufs, guard_sigpipe);
        }
        if self.nowait && !self.nonblock {
            let raw = fd.as_raw_fd();
            let write = |flags| pwritev2(raw, bufs, libc::RWF_NOWAIT | flags);
            let r = if guard_sigpipe && nosignal_writes() {
                write(RWF_NOSIGNAL)
            } else if guard_sigpipe {
                let cnt = bufs.len().min(MAX_IOV);
                without_sigpipe(|| write(0), short_or_epipe(&bufs[..cnt]))
            } else {
                write(0)
            };
            match r {
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS) => self.nowait = false,
                other => return other,
            }
        }
        self.ensure(fd, true)?;
        writev(fd, bufs, guard_sigpipe)
    }
}

/// One `readv` (blocking or not, as the descriptor is). `Ok(0)` is end of file.
pub fn readv(fd: BorrowedFd<'_>, bufs: &mut [IoSliceMut<'_>]) -> std::result::Result<usize, Errno> {
    if let [one] = bufs {
        // read(2) is cheaper than readv(2).
        return nix::unistd::read(fd, one);
    }
    let cnt = bufs.len().min(MAX_IOV);
    nix::sys::uio::readv(fd, &mut bufs[..cnt])
}

/// One `writev` (blocking or not, as the descriptor is). With `guard_sigpipe`, a write to a pipe
/// whose readers are gone returns `EPIPE` instead of killing the process: one
/// `pwritev2(RWF_NOSIGNAL)` where the kernel has it (see [`nosignal_writes`]), the write
/// under [`without_sigpipe`] elsewhere.
pub fn writev(
    fd: BorrowedFd<'_>,
    bufs: &[IoSlice<'_>],
    guard_sigpipe: bool,
) -> std::result::Result<usize, Errno> {
    let cnt = bufs.len().min(MAX_IOV);
    let write = || match bufs {
        // write(2) is cheaper than writev(2).
        [one] => nix::unistd::write(fd, one),
        _ => nix::sys::uio::writev(fd, &bufs[..cnt]),
    };
    if guard_sigpipe && nosignal_writes() {
        pwritev2(fd.as_raw_fd(), bufs, RWF_NOSIGNAL)
    } else if guard_sigpipe {
        without_sigpipe(write, short_or_epipe(&bufs[..cnt]))
    } else {
        write()
    }
}

/// `RWF_NOSIGNAL` (Linux 6.18): a write to a pipe whose readers are gone fails with EPIPE
/// (or returns the bytes it wrote before they left) without raising SIGPIPE.
const RWF_NOSIGNAL: libc::c_int = 0x100;

/// Whether the kernel takes `RWF_NOSIGNAL`, found out once per process by a one-byte
/// write into a pipe of its own (the kernel checks the flags before it writes anything);
/// never with `IPCX_FORCE_FALLBACKS=1`, which keeps the signal-mask guard for tests.
pub(crate) fn nosignal_writes() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static STATE: AtomicU8 = AtomicU8::new(0); // 0 not known, 1 yes, 2 no
    match STATE.load(Ordering::Relaxed) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    let yes = !crate::sys::forced_fallback() && probe_nosignal();
    STATE.store(if yes { 1 } else { 2 }, Ordering::Relaxed);
    yes
}

fn probe_nosignal() -> bool {
    let Ok((r, w)) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK) else {
        return false;
    };
    let byte = [0u8; 1];
    let iov = [IoSlice::new(&byte)];
    // The readers are there (`r` is open): the byte goes into the empty pipe, or the flag is
    // refused before anything happens.
    let ok = matches!(pwritev2(w.as_raw_fd(), &iov, RWF_NOSIGNAL), Ok(1));
    drop((r, w));
    ok
}

/// One `pwritev2` with `flags` at the file position (a pipe has none), of at most
/// [`MAX_IOV`] slices.
fn pwritev2(
    fd: RawFd,
    bufs: &[IoSlice<'_>],
    flags: libc::c_int,
) -> std::result::Result<usize, Errno> {
    let cnt = bufs.len().min(MAX_IOV) as libc::c_int;
    // SAFETY: IoSlice is ABI-compatible with iovec; the slices are the caller's.
    let n = unsafe { crate::sys::pwritev2(fd, bufs.as_ptr().cast(), cnt, -1, flags) };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(n as usize)
    }
}

/// When a pipe write may have raised SIGPIPE: it failed with EPIPE, or it wrote less than
/// asked (the kernel returns the bytes it wrote before finding the readers gone, and
/// raises SIGPIPE all the same: a blocking write that slept on a full pipe whose last
/// reader then left).
fn short_or_epipe(bufs: &[IoSlice<'_>]) -> impl Fn(&std::result::Result<usize, Errno>) -> bool {
    let total: usize = bufs.iter().map(|b| b.len()).sum();
    move |r| match r {
        Err(e) => *e == Errno::EPIPE,
        Ok(n) => *n < total,
    }
}

/// Run `f` (a write to a pipe or FIFO) so that it cannot raise SIGPIPE in the calling
/// process, without touching the process's signal dispositions:
///
/// 1. block SIGPIPE in the calling thread (the old mask is kept);
/// 2. run `f`;
/// 3. if `raised` says the outcome may come with a SIGPIPE (EPIPE, or a short write: the
///    kernel raises it also when it returns the bytes written before the readers left)
///    and SIGPIPE was not blocked before, a SIGPIPE queued for this thread is ours:
///    consume it with `sigtimedwait` (zero timeout; nothing pending is fine);
/// 4. restore the old mask.
///
/// Cost: two `rt_sigprocmask` calls per write (one if the caller already blocks SIGPIPE),
/// and a `sigtimedwait` after a failed or short write. Sockets do not need this: they use
/// MSG_NOSIGNAL; nor do pipes where the kernel has `RWF_NOSIGNAL` ([`writev`]).
pub fn without_sigpipe<T>(
    f: impl FnOnce() -> std::result::Result<T, Errno>,
    raised: impl Fn(&std::result::Result<T, Errno>) -> bool,
) -> std::result::Result<T, Errno> {
    let set = SigSet::from(Signal::SIGPIPE);
    let mut old = SigSet::empty();
    // Cannot guard: refuse rather than risk killing the host.
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))?;
    let was_blocked = old.contains(Signal::SIGPIPE);
    let saved = Errno::last_raw();
    let r = f();
    if !was_blocked {
        if raised(&r) {
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // Raw: nix has no sigtimedwait.
            // SAFETY: a valid set and timespec; the siginfo output is not wanted (null).
            while unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &zero) } < 0
                && Errno::last() == Errno::EINTR
            {}
        }
        // Restoring a mask read just above cannot fail.
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    Errno::set_raw(saved);
    r
}

/// What identifies one file over time: device, inode number and change time.
/// Filesystems reuse the inode number of a removed file at once (ext4 does), so the number
/// alone could match a file someone else made at the same path later. Used before removing
/// a path: only the file ipcx created (or still holds open) is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
}

impl FileId {
    /// The identity in a stat result.
    pub(crate) fn of(st: &crate::sys::stat) -> FileId {
        FileId {
            dev: st.st_dev,
            ino: st.st_ino,
            ctime: (wide_i64(st.st_ctime), wide_i64(st.st_ctime_nsec)),
        }
    }

    /// The identity of the file open on `fd` (fstat); `None` if fstat fails (a descriptor
    /// that is not open is just an error for fstat).
    pub(crate) fn of_fd(fd: RawFd) -> Option<FileId> {
        // SAFETY: fstat writes into a zeroed stat buffer; any integer is a valid argument.
        let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
        (unsafe { crate::sys::fstat(fd, &mut st) } == 0).then(|| FileId::of(&st))
    }

    /// The same file as `other`, by device and inode only: valid while the caller holds
    /// one of the two open (an inode in use cannot be freed, so its number is not reused),
    /// and immune to the change time moving with every write (FIFOs, queues).
    pub(crate) fn same_inode(&self, other: &FileId) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

/// Number of bytes readable without blocking (FIONREAD).
pub fn readable_bytes(fd: BorrowedFd<'_>) -> Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) } < 0 {
        return Err(Error::last_os("ioctl(FIONREAD)"));
    }
    Ok(n.max(0) as usize)
}

/// Bytes this socket has sent that its peer has not read yet (SIOCOUTQ): for a Unix
/// stream socket, what waits in the peer's receive queue.
pub fn unread_by_peer(fd: BorrowedFd<'_>) -> Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one int.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut n) } < 0 {
        return Err(Error::last_os("ioctl(SIOCOUTQ)"));
    }
    Ok(n.max(0) as usize)
}

/// The error for a call that creates a descriptor (pipe2, eventfd, signalfd...): running
/// out of descriptors names the limit that was hit.
#[cold]
pub fn new_fd_error(e: Errno, call: &str) -> Error {
    match e {
        Errno::EMFILE => Error::os(
            e,
            format_args!("{call}: the process is out of descriptors (RLIMIT_NOFILE)"),
        ),
        Errno::ENFILE => Error::os(
            e,
            format_args!("{call}: the system is out of files (fs.file-max)"),
        ),
        e => Error::os(e, call),
    }
}
