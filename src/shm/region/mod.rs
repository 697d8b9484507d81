// SPDX-License-Identifier: MIT OR Apache-2.0
//! The one region type: a mapped range of memory shared with other processes, whatever
//! created it (anonymous shared mapping, System V segment, POSIX shared memory, mapped
//! file). It knows its base and length, copies in and out with bounds checks, hands out
//! raw pointers for callers who want them, checks placements (offset, size, alignment) for
//! objects put inside it (semaphores, mutexes, rings), and unmaps itself on drop.
//!
//! Fork: a mapping is inherited by a forked child at the same address; each process unmaps
//! its own copy. The memory lives until the last process unmaps it (and, for named kinds,
//! until it is also removed).
//!
//! Shrinking: the backing store of a POSIX shared memory object or of a mapped file can be
//! made smaller by any process that can open it (ftruncate). Pages past the new end are
//! then gone from every mapping, and touching them raises SIGBUS. Raw pointer users must
//! agree with their peers never to shrink a mapped object. The region's own copies
//! ([`Region::read`], [`Region::write`]) never touch such memory directly for those two
//! kinds: they go through [`fault_safe`] (a system call per copy), or, once the program has
//! installed the SIGBUS trap, through [`fault_trap`] (a copy loop whose faults the trap
//! recovers); both report `IPCX_ERR_REMOVED` instead of crashing. Anonymous mappings and System V segments cannot shrink; their copies are a
//! plain `memcpy`.

mod fault_safe;
pub(crate) mod fault_trap;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;

use crate::error::{Error, Result, Status};

/// How a region's mapping is released.
#[derive(Debug)]
pub enum Release {
    /// `munmap(base, len)` (anonymous, POSIX shm, file mappings).
    Munmap,
    /// `shmdt(base)` (System V segments).
    Shmdt,
}

/// What created the region, for messages and introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anonymous shared mapping (MAP_SHARED | MAP_ANONYMOUS), inherited across fork.
    Anonymous,
    /// System V shared memory segment.
    SysV,
    /// POSIX shared memory object.
    Posix,
    /// Shared mapping of a file.
    File,
}

impl Kind {
    /// What this kind is called in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Anonymous => "anonymous shared mapping",
            Kind::SysV => "System V shared memory segment",
            Kind::Posix => "POSIX shared memory object",
            Kind::File => "mapped file",
        }
    }

    /// Whether another process can shrink the backing store of this kind (ftruncate), so
    /// that touching the mapping may raise SIGBUS.
    pub fn can_shrink(self) -> bool {
        matches!(self, Kind::Posix | Kind::File)
    }
}

/// A mapped shared region.
#[derive(Debug)]
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    writable: bool,
    kind: Kind,
    release: Release,
    /// The name or path behind the mapping, for messages (set by the creating module).
    origin: Option<Box<str>>,
    /// Bounded copies go through the fault-safe path (default: kinds that can shrink).
    checked: AtomicBool,
}

// SAFETY: the region is plain shared memory; access discipline is the caller's, as in C.
// Its own fields are immutable after creation except `checked`, an atomic.
unsafe impl Send for Region {}
// SAFETY: as above: `&Region` methods only read immutable fields, copy bytes with bounds
// checks, or touch the atomic.
unsafe impl Sync for Region {}

impl Region {
    /// Wrap an existing mapping. `base` must be a live mapping of `len` bytes that `release`
    /// undoes; the region owns it from now on.
    ///
    /// # Safety
    /// As above: the mapping must be valid and owned by nobody else.
    pub unsafe fn from_raw(
        base: NonNull<u8>,
        len: usize,
        writable: bool,
        kind: Kind,
        release: Release,
    ) -> Region {
        Region {
            base,
            len,
            writable,
            kind,
            release,
            origin: None,
            checked: AtomicBool::new(kind.can_shrink()),
        }
    }

    /// Choose whether bounded copies are fault-safe. Only kinds whose backing can shrink
    /// ([`Kind::can_shrink`]) need it; turning it off there trades SIGBUS safety (a peer
    /// that shrinks the object makes the copy fault, as a raw access would) for memcpy
    /// speed. Kinds that cannot shrink always copy directly.
    pub fn set_checked_copies(&self, on: bool) {
        self.checked
            .store(on && self.kind.can_shrink(), Ordering::Relaxed);
    }

    /// Whether bounded copies are fault-safe.
    pub fn checked_copies(&self) -> bool {
        self.checked.load(Ordering::Relaxed)
    }

    /// Record the name or path behind the mapping, used in error messages.
    pub fn set_origin(&mut self, origin: impl Into<Box<str>>) {
        self.origin = Some(origin.into());
    }

    /// "POSIX shared memory object \"/x\"", "anonymous shared mapping"...: for messages.
    fn what(&self) -> String {
        match &self.origin {
            Some(o) => format!("{} {o:?}", self.kind.describe()),
            None => self.kind.describe().to_string(),
        }
    }

    /// Map `len` bytes of anonymous shared memory (zero-filled), shared with children
    /// forked afterwards.
    pub fn anonymous(len: usize) -> Result<Region> {
        if len == 0 {
            return Err(Error::invalid("region size is 0"));
        }
        if len > isize::MAX as usize {
            return Err(Error::invalid(format!(
                "region size {len} is larger than SSIZE_MAX"
            )));
        }
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            let e = Errno::last();
            return Err(if e == Errno::ENOMEM {
                Error::os(
                    e,
                    format_args!(
                        "mmap({len} bytes, anonymous shared): not enough memory or address space (RLIMIT_AS, vm.overcommit)"
                    ),
                )
            } else {
                Error::os(e, format_args!("mmap({len} bytes, anonymous shared)"))
            });
        }
        let base = NonNull::new(p.cast()).ok_or_else(|| Error::internal("mmap returned NULL"))?;
        Ok(Region {
            base,
            len,
            writable: true,
            kind: Kind::Anonymous,
            release: Release::Munmap,
            origin: None,
            checked: AtomicBool::new(false),
        })
    }

    /// The first byte of the mapping.
    pub fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: regions have at least one byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the mapping may be written.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// What created the region.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Check that `[offset, offset + size)` lies inside the region and that `offset` is a
    /// multiple of `align` (a power of two; the base is page-aligned); returns a pointer to
    /// it. Used to place objects (semaphores, mutexes, rings) and for bounded copies.
    pub fn range(&self, offset: usize, size: usize, align: usize) -> Result<*mut u8> {
        let end = offset.checked_add(size);
        if end.is_none_or(|e| e > self.len) {
            return Err(Error::invalid(format!(
                "range [{offset}, {offset} + {size}) is outside the {}-byte region",
                self.len
            )));
        }
        if align > 1 && offset % align != 0 {
            return Err(Error::invalid(format!(
                "offset {offset} is not aligned to {align} bytes"
            )));
        }
        // SAFETY: offset <= len, inside the mapping.
        Ok(unsafe { self.base.as_ptr().add(offset) })
    }

    /// Copy `out.len()` bytes from the region at `offset` into `out`.
    ///
    /// For kinds whose backing can shrink ([`Kind::can_shrink`]) the copy is fault-safe:
    /// pages lost to a truncation give `IPCX_ERR_REMOVED` (and `out` may hold part of the
    /// data) instead of SIGBUS. Other kinds copy with `memcpy`.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let p = self.range(offset, out.len(), 1)?;
        if self.checked.load(Ordering::Relaxed) {
            if fault_trap::active() {
                // SAFETY: the range is inside the mapping (its pages may be lost: the trap
                // recovers); `out` is a distinct caller buffer.
                return unsafe { fault_trap::copy(out.as_mut_ptr(), p, out.len()) }
                    .map_err(|copied| self.trapped("read", offset, out.len(), copied));
            }
            return fault_safe::copy(fault_safe::Dir::FromRegion, p, out.as_mut_ptr(), out.len())
                .map_err(|f| self.copy_error("read", offset, out.len(), f));
        }
        // SAFETY: the range is inside the mapping, which cannot shrink; `out` is a distinct
        // caller buffer.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copy `data` into the region at `offset` (fault-safe as for [`Region::read`]).
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(Error::new(
                Status::IPCX_ERR_PERMISSION,
                format!("the {} is mapped read-only", self.what()),
            ));
        }
        let p = self.range(offset, data.len(), 1)?;
        if self.checked.load(Ordering::Relaxed) {
            if fault_trap::active() {
                // SAFETY: as in `read`, the other way.
                return unsafe { fault_trap::copy(p, data.as_ptr(), data.len()) }
                    .map_err(|copied| self.trapped("write", offset, data.len(), copied));
            }
            return fault_safe::copy(
                fault_safe::Dir::ToRegion,
                p,
                data.as_ptr().cast_mut(),
                data.len(),
            )
            .map_err(|f| self.copy_error("write", offset, data.len(), f));
        }
        // SAFETY: the range is inside the writable mapping, which cannot shrink; `data` is a
        // distinct buffer.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn trapped(&self, op: &str, offset: usize, len: usize, copied: usize) -> Error {
        Error::os_as(
            Status::IPCX_ERR_REMOVED,
            Errno::EFAULT,
            format_args!(
                "{op} of [{offset}, {offset} + {len}) in the {}-byte {}: the pages from offset \
                 {} on are no longer backed: another process truncated the object (the SIGBUS \
                 of the copy was caught by the fault trap; touching them through the raw \
                 pointer raises SIGBUS); {copied} bytes were copied",
                self.len,
                self.what(),
                offset + copied
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn copy_error(&self, op: &str, offset: usize, len: usize, f: fault_safe::Failure) -> Error {
        let what = self.what();
        match f {
            fault_safe::Failure::Lost { copied, errno } => Error::os_as(
                Status::IPCX_ERR_REMOVED,
                errno,
                format_args!(
                    "{op} of [{offset}, {offset} + {len}) in the {}-byte {what}: the pages from \
                     offset {} on are no longer backed; another process truncated the object \
                     (touching them through the raw pointer would raise SIGBUS), or the buffer \
                     is not valid memory; {copied} bytes were copied",
                    self.len,
                    offset + copied
                ),
            ),
            fault_safe::Failure::Unavailable { errno } => Error::os_as(
                Status::IPCX_ERR_UNSUPPORTED,
                errno,
                format_args!(
                    "{op} in the {what}: no fault-safe copy is available in this process \
                     (process_vm_readv/writev are refused, by a seccomp filter for example, and \
                     /proc/self/mem cannot be opened); use the raw pointer from ipcx_region_base"
                ),
            ),
            fault_safe::Failure::Other { errno } => {
                Error::os(errno, format_args!("{op} in the {what}: fault-safe copy"))
            }
        }
    }

    /// Flush `[offset, offset + len)` of the mapping to its backing store (msync): with
    /// `asynchronous` the write-back is only scheduled (MS_ASYNC), otherwise the call waits
    /// for it (MS_SYNC). The range is widened to whole pages. Only mapped files have a
    /// backing store on disk; for the other kinds it succeeds and does nothing useful.
    pub fn sync(&self, offset: usize, len: usize, asynchronous: bool) -> Result<()> {
        let p = self.range(offset, len, 1)? as usize;
        if len == 0 {
            return Ok(());
        }
        let page = crate::sys::page_size();
        let start = p & !(page - 1);
        let flags = if asynchronous {
            libc::MS_ASYNC
        } else {
            libc::MS_SYNC
        };
        // SAFETY: [start, p + len) lies within the mapping (the base is page-aligned).
        if unsafe { libc::msync(start as *mut libc::c_void, p + len - start, flags) } < 0 {
            return Err(Error::last_os(format_args!(
                "msync([{offset}, {offset} + {len}) of the {}, {})",
                self.what(),
                if asynchronous { "MS_ASYNC" } else { "MS_SYNC" }
            )));
        }
        Ok(())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the region owns the mapping (see `from_raw`).
        unsafe {
            match self.release {
                Release::Munmap => {
                    libc::munmap(self.base.as_ptr().cast(), self.len);
                }
                Release::Shmdt => {
                    libc::shmdt(self.base.as_ptr().cast());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_alignment() {
        let r = Region::anonymous(4096).unwrap();
        r.write(10, b"abc").unwrap();
        let mut b = [0u8; 3];
        r.read(10, &mut b).unwrap();
        assert_eq!(&b, b"abc");
        assert!(r.read(4095, &mut [0u8; 2]).is_err());
        assert!(r.write(usize::MAX, b"x").is_err());
        assert!(r.range(8, 8, 8).is_ok());
        assert!(r.range(4, 8, 8).is_err());
        assert!(Region::anonymous(0).is_err());
    }
}
