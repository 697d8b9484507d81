//! The one region type: a mapped range of memory shared with other processes, whatever
//! created it (anonymous shared mapping, System V segment, POSIX shared memory, mapped
//! file). It knows its base and length, copies in and out with bounds checks, hands out
//! raw pointers for callers who want them, checks placements (offset, size, alignment) for
//! objects put inside it (semaphores, mutexes, rings), and unmaps itself on drop.
//!
//! Fork: a mapping is inherited by a forked child at the same address; each process unmaps
//! its own copy. The memory lives until the last process unmaps it (and, for named kinds,
//! until it is also removed).

use std::ptr::NonNull;

use nix::errno::Errno;

use crate::error::{Error, Result};

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

/// A mapped shared region.
#[derive(Debug)]
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    writable: bool,
    kind: Kind,
    release: Release,
}

// SAFETY: the region is plain shared memory; access discipline is the caller's, as in C.
unsafe impl Send for Region {}

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
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let p = self.range(offset, out.len(), 1)?;
        // SAFETY: the range is inside the mapping; `out` is a distinct caller buffer.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copy `data` into the region at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(Error::new(
                crate::error::Status::IPCX_ERR_PERMISSION,
                "the region is mapped read-only",
            ));
        }
        let p = self.range(offset, data.len(), 1)?;
        // SAFETY: the range is inside the writable mapping; `data` is a distinct buffer.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
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
