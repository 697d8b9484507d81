//! PRIVATE, TEMPORARY: the few POSIX shared-memory calls the ring needs (shm_open,
//! ftruncate + fallocate, mmap, shm_unlink), plus memfd for anonymous rings.
//!
//! TO BE REPLACED AT MERGE TIME by the shared-memory module's API (built in parallel on
//! another branch): the ring only needs "create exclusively with an exact mode / open
//! existing / size / map as a `Region` / unlink / anonymous object with a descriptor".
//! Names are validated with `name::posix_name`; objects are created 0600 unless the
//! caller sets a mode, applied exactly (fchmod, not filtered by the umask); descriptors
//! are close-on-exec.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::name;
use crate::region::{Kind, Region, Release};

fn cname(n: &str) -> Result<CString> {
    let n = name::posix_name(n, name::POSIX_NAME_MAX)?;
    CString::new(n).map_err(|_| Error::invalid("name contains a NUL byte"))
}

/// Create `name` exclusively with exactly `mode`. `IPCX_ERR_EXISTS` if it exists.
pub(crate) fn create_excl(n: &str, mode: u32) -> Result<OwnedFd> {
    let c = cname(n)?;
    // SAFETY: a valid C string.
    let fd = unsafe {
        libc::shm_open(
            c.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
            mode as libc::mode_t,
        )
    };
    if fd < 0 {
        return Err(Error::last_os(format_args!(
            "shm_open({n:?}, O_CREAT | O_EXCL)"
        )));
    }
    // SAFETY: a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // The umask may have removed bits: apply the mode exactly.
    // SAFETY: valid descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } < 0 {
        let e = Error::last_os(format_args!("fchmod({n:?}, {mode:o})"));
        let _ = unlink(n);
        return Err(e);
    }
    Ok(fd)
}

/// Open the existing object `name` read-write.
pub(crate) fn open_existing(n: &str) -> Result<OwnedFd> {
    let c = cname(n)?;
    // SAFETY: a valid C string.
    let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os(format_args!("shm_open({n:?})")));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Remove `name`.
pub(crate) fn unlink(n: &str) -> Result<()> {
    let c = cname(n)?;
    // SAFETY: a valid C string.
    if unsafe { libc::shm_unlink(c.as_ptr()) } < 0 {
        return Err(Error::last_os(format_args!("shm_unlink({n:?})")));
    }
    Ok(())
}

/// An anonymous shared-memory object (memfd), for rings shared across fork.
pub(crate) fn anonymous() -> Result<OwnedFd> {
    // SAFETY: a valid C string.
    let fd = unsafe { libc::memfd_create(c"ipcx-ring".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os("memfd_create(\"ipcx-ring\")"));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A new open file description of the same object (its own OFD locks), via /proc.
pub(crate) fn reopen(fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    let path = CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|_| Error::internal("fd path"))?;
    // SAFETY: a valid C string.
    let nfd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if nfd < 0 {
        return Err(Error::last_os(
            "open(/proc/self/fd/N) to get a second description of the ring (is /proc mounted?)",
        ));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(nfd) })
}

/// Size of the object.
pub(crate) fn size(fd: BorrowedFd<'_>) -> Result<usize> {
    // SAFETY: fstat into a zeroed buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(Error::last_os("fstat(ring)"));
    }
    Ok(st.st_size as usize)
}

/// Set the size to `len` and allocate the memory now, so that running out of space is an
/// error here (`IPCX_ERR_LIMIT`) rather than a SIGBUS when a page is first touched.
pub(crate) fn allocate(fd: BorrowedFd<'_>, len: usize, what: &str) -> Result<()> {
    // SAFETY: valid descriptor.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } < 0 {
        return Err(Error::last_os(format_args!("ftruncate({what}, {len})")));
    }
    // SAFETY: valid descriptor.
    let r = unsafe { libc::posix_fallocate(fd.as_raw_fd(), 0, len as libc::off_t) };
    if r != 0 {
        let e = Errno::from_raw(r);
        if e == Errno::ENOSPC {
            return Err(Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!(
                    "{what}: not enough room for {len} bytes in the shared-memory filesystem \
                     (/dev/shm, its size is set by its mount options; see df /dev/shm)"
                ),
            ));
        }
        if e != Errno::EOPNOTSUPP && e != Errno::EINVAL {
            return Err(Error::os(e, format_args!("posix_fallocate({what}, {len})")));
        }
    }
    Ok(())
}

/// Map `len` bytes of the object shared, read-write (or read-only).
pub(crate) fn map(fd: BorrowedFd<'_>, len: usize, writable: bool, kind: Kind) -> Result<Region> {
    let prot = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    // SAFETY: a fresh shared mapping of an open descriptor.
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
        return Err(Error::last_os(format_args!("mmap(ring, {len} bytes)")));
    }
    let base = NonNull::new(p.cast()).ok_or_else(|| Error::internal("mmap returned NULL"))?;
    // SAFETY: we own this fresh mapping; munmap undoes it.
    Ok(unsafe { Region::from_raw(base, len, writable, kind, Release::Munmap) })
}

/// flock(fd, LOCK_EX / LOCK_UN), retrying EINTR: the open/recovery lock of a named ring
/// (released by the kernel if its holder dies).
pub(crate) fn flock(fd: BorrowedFd<'_>, op: libc::c_int) -> Result<()> {
    loop {
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(fd.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = Errno::last();
        if e != Errno::EINTR {
            return Err(Error::os(e, "flock(ring)"));
        }
    }
}
