// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared memory: System V segments ([`sysv`]), POSIX shared memory objects ([`posix`]) and
//! shared file mappings ([`file`]). Every kind maps into a [`Region`](crate::shm::region::Region),
//! like the anonymous shared mappings of `region.rs`, so one set of access calls works for
//! all of them.
//!
//! This module holds what the descriptor-backed kinds (POSIX objects and files) share:
//! creating with an exact mode, growing the backing store without SIGBUS or SIGXFSZ later,
//! and mapping a descriptor.

pub mod file;
pub mod posix;
pub mod region;
pub mod sysv;

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::shm::region::{Kind, Region, Release};
use crate::sys;

/// How an object or a mapping may be accessed. Memory is always readable, so there is
/// no write-only protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Read only.
    ReadOnly,
    /// Read and write.
    ReadWrite,
}

impl Protection {
    /// Whether it allows writing.
    pub fn writable(self) -> bool {
        self == Protection::ReadWrite
    }
}

/// Open (and when `how` creates, create) a descriptor-backed object with `opener(oflags, mode)`,
/// applying `mode` exactly (no umask) when this call created it; if that fails, `remove`
/// deletes what was just created. Returns the descriptor and whether it was created here.
/// `what` names the object in messages.
pub(crate) fn open_exact(
    what: &str,
    how: Disposition,
    mode: u32,
    base_oflags: libc::c_int,
    opener: impl Fn(libc::c_int, u32) -> std::result::Result<OwnedFd, Errno>,
    remove: impl FnOnce(),
) -> Result<(OwnedFd, bool)> {
    let open_err = |e: Errno, how: &str| match e {
        Errno::ENOENT => Error::os(e, format_args!("{how} {what}: it does not exist")),
        Errno::EEXIST => Error::os(e, format_args!("{how} {what}: it already exists")),
        Errno::EMFILE => Error::os(
            e,
            format_args!("{how} {what}: too many open descriptors in this process (RLIMIT_NOFILE)"),
        ),
        Errno::EISDIR => Error::os_as(
            Status::IPCX_ERR_INVALID,
            e,
            format_args!("{how} {what}: it is a directory"),
        ),
        Errno::ENOSPC => Error::os(
            e,
            format_args!(
                "{how} {what}: the filesystem has no room for a new entry (for /dev/shm: the \
                 tmpfs nr_inodes= and size= mount options)"
            ),
        ),
        Errno::ENFILE => Error::os(
            e,
            format_args!("{how} {what}: too many open files in the system (/proc/sys/fs/file-max)"),
        ),
        _ => Error::os(e, format_args!("{how} {what}")),
    };
    if !how.creates() {
        return opener(base_oflags, 0)
            .map(|fd| (fd, false))
            .map_err(|e| open_err(e, "open"));
    }
    // Create exclusively first, so we know whether this call created it (and only then set
    // the mode); fall back to opening the existing object unless EXCLUSIVE was asked.
    for _ in 0..100 {
        match opener(base_oflags | libc::O_CREAT | libc::O_EXCL, mode) {
            Ok(fd) => {
                // SAFETY: fchmod on the descriptor we own.
                if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } < 0 {
                    let err = Error::last_os(format_args!("fchmod({what}, {mode:o})"));
                    remove();
                    return Err(err);
                }
                return Ok((fd, true));
            }
            Err(Errno::EEXIST) if how.exclusive() => {
                return Err(open_err(Errno::EEXIST, "create"));
            }
            Err(Errno::EEXIST) => match opener(base_oflags, 0) {
                Ok(fd) => return Ok((fd, false)),
                Err(Errno::ENOENT) => continue, // removed in between: try creating again
                Err(e) => return Err(open_err(e, "open")),
            },
            Err(e) => return Err(open_err(e, "create")),
        }
    }
    Err(Error::new(
        Status::IPCX_ERR_IN_USE,
        format!("create {what}: it keeps appearing and disappearing; giving up"),
    ))
}

/// A new open file description of the object behind `fd` (read-write, close-on-exec),
/// through /proc/self/fd: unlike dup(2), it has its own file offset, status flags and
/// open-file-description locks (which the ring uses for liveness).
pub(crate) fn reopen(fd: BorrowedFd<'_>, what: &str) -> Result<OwnedFd> {
    let path = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|_| Error::internal("descriptor path"))?;
    // SAFETY: a valid C string.
    owned(unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) }).map_err(|e| {
        Error::os(
            e,
            format_args!(
                "open(/proc/self/fd/N) for a second description of {what} (is /proc mounted?)"
            ),
        )
    })
}

/// Wrap a raw descriptor returned by open/shm_open.
pub(crate) fn owned(fd: libc::c_int) -> std::result::Result<OwnedFd, Errno> {
    if fd < 0 {
        Err(Errno::last())
    } else {
        // SAFETY: a fresh descriptor we own.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// fstat a descriptor.
pub(crate) fn fstat(fd: BorrowedFd<'_>, what: &str) -> Result<sys::stat> {
    // SAFETY: a zeroed stat buffer and a live descriptor.
    let mut st: sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { sys::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(Error::last_os(format_args!("fstat({what})")));
    }
    Ok(st)
}

/// Set the size of a descriptor-backed object to `size`. Growing reserves the storage
/// (fallocate), so that running out of space is reported now as `IPCX_ERR_LIMIT` rather
/// than later as SIGBUS in whoever touches the page; where fallocate is not supported it
/// falls back to ftruncate (a sparse object). A size above RLIMIT_FSIZE is refused before
/// the kernel would send SIGXFSZ. `space` names the filesystem for the ENOSPC message.
pub(crate) fn set_size(fd: BorrowedFd<'_>, size: usize, what: &str, space: &str) -> Result<()> {
    if size > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "{what}: size {size} is larger than SSIZE_MAX ({})",
            isize::MAX
        )));
    }
    let cur = fstat(fd, what)?.st_size as u64;
    let size64 = size as u64;
    if size64 > cur {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: a valid rlimit buffer.
        if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim) } == 0
            && lim.rlim_cur != libc::RLIM_INFINITY
            && size64 > sys::wide_u64(lim.rlim_cur)
        {
            return Err(Error::limit(format!(
                "{what}: size {size} is above this process's file size limit RLIMIT_FSIZE ({}; \
                 ulimit -f); growing past it would raise SIGXFSZ",
                lim.rlim_cur
            )));
        }
        // SAFETY: fallocate on a live descriptor.
        let r = unsafe { sys::fallocate(fd.as_raw_fd(), 0, 0, size as sys::off_t) };
        if r == 0 {
            return Ok(());
        }
        let e = Errno::last();
        match e {
            Errno::EOPNOTSUPP | Errno::ENOSYS | Errno::EINVAL => {} // fall back to ftruncate
            Errno::ENOSPC | Errno::EDQUOT => {
                // Leave the size as it was (a filesystem may have grown it part way).
                // SAFETY: ftruncate on a live descriptor.
                unsafe { sys::ftruncate(fd.as_raw_fd(), cur as sys::off_t) };
                return Err(Error::os_as(
                    Status::IPCX_ERR_LIMIT,
                    e,
                    format_args!(
                        "{what}: cannot reserve {size} bytes: {space} is full ({}); raise the \
                         filesystem's size (for tmpfs, the size= mount option) or use less",
                        space_left(fd)
                    ),
                ));
            }
            _ => return Err(Error::os(e, format_args!("fallocate({what}, {size})"))),
        }
    }
    // SAFETY: ftruncate on a live descriptor.
    if unsafe { sys::ftruncate(fd.as_raw_fd(), size as sys::off_t) } < 0 {
        let e = Errno::last();
        return Err(match e {
            Errno::EINVAL => Error::os(
                e,
                format_args!("ftruncate({what}, {size}): not opened for writing, or not resizable"),
            ),
            _ => Error::os(e, format_args!("ftruncate({what}, {size})")),
        });
    }
    Ok(())
}

/// "N bytes free of M" for the filesystem of `fd`, for messages.
fn space_left(fd: BorrowedFd<'_>) -> String {
    // SAFETY: a zeroed statvfs buffer and a live descriptor.
    let mut s: sys::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { sys::fstatvfs(fd.as_raw_fd(), &mut s) } < 0 {
        return "free space unknown".into();
    }
    let f = s.f_frsize as u128;
    format!(
        "{} bytes free of {}",
        s.f_bavail as u128 * f,
        s.f_blocks as u128 * f
    )
}

/// Map `len` bytes of `fd` from offset 0, shared, into a region of `kind`; `origin` is the
/// name or path, for messages.
pub(crate) fn map_fd(
    fd: BorrowedFd<'_>,
    len: usize,
    writable: bool,
    kind: Kind,
    origin: &str,
) -> Result<Region> {
    let prot = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    // SAFETY: a fresh shared mapping of a descriptor we hold; no existing memory is touched.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        let e = Errno::last();
        let what = format!("{} {origin:?}", kind.describe());
        return Err(match e {
            Errno::ENOMEM => Error::os(
                e,
                format_args!(
                    "mmap({what}, {len} bytes): not enough address space (RLIMIT_AS) or too many \
                     mappings (/proc/sys/vm/max_map_count)"
                ),
            ),
            Errno::EACCES => Error::os(
                e,
                format_args!(
                    "mmap({what}, {len} bytes, {}): the descriptor does not allow it",
                    if writable { "read-write" } else { "read-only" }
                ),
            ),
            _ => Error::os(e, format_args!("mmap({what}, {len} bytes)")),
        });
    }
    let base = NonNull::new(p.cast()).ok_or_else(|| Error::internal("mmap returned NULL"))?;
    // SAFETY: a live mapping of `len` bytes that munmap releases, owned by nobody else.
    let mut r = unsafe { Region::from_raw(base, len, writable, kind, Release::Munmap) };
    r.set_origin(origin);
    Ok(r)
}
