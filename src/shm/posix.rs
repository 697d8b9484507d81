// SPDX-License-Identifier: MIT OR Apache-2.0
//! POSIX shared memory objects: shm_open, ftruncate/fallocate, fstat, mmap, shm_unlink.
//!
//! A [`PosixShm`] holds the object's descriptor; mapping it gives a [`Region`] that stays
//! valid after the descriptor is closed. The object lives (in /dev/shm, in memory) until it
//! is unlinked and the last descriptor and mapping are gone.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::name;
use crate::options::{Opt, Options};
use crate::shm::region::{Kind, Region};
use crate::shm::{Protection, fstat, map_fd, open_exact, owned};

/// An open POSIX shared memory object.
#[derive(Debug)]
pub struct PosixShm {
    fd: OwnedFd,
    name: String,
    writable: bool,
}

fn cname(n: &str) -> Result<CString> {
    let n = name::posix_name(n, name::SHM_NAME_MAX)?;
    CString::new(n).map_err(|_| Error::invalid("name contains a NUL byte"))
}

/// The first check of [`open`]: the options POSIX shared memory supports.
pub(crate) fn check_options(opts: &Options) -> Result<()> {
    opts.only(&[Opt::Mode], "POSIX shared memory")
}

/// Open (or create, as `how` says) the object `n` (see `ipcx_shm_open`).
pub fn open(n: &str, how: Disposition, prot: Protection, opts: &Options) -> Result<PosixShm> {
    check_options(opts)?;
    let c = cname(n)?;
    let writable = prot.writable();
    let acc = if writable {
        libc::O_RDWR
    } else {
        libc::O_RDONLY
    };
    let what = format!("POSIX shared memory object {n:?}");
    let (fd, created) = open_exact(
        &what,
        how,
        opts.mode(),
        acc | libc::O_CLOEXEC,
        |of, mode| {
            // SAFETY: a valid C string.
            owned(unsafe { libc::shm_open(c.as_ptr(), of, mode as libc::mode_t) })
        },
        // SAFETY: a valid C string; this call created the object a moment ago.
        || unsafe {
            libc::shm_unlink(c.as_ptr());
        },
    )?;
    if created {
        crate::hook::created_named(crate::hook::ObjKind::PosixShm, n, Some(fd.as_fd()));
    }
    Ok(PosixShm {
        fd,
        name: n.to_string(),
        writable,
    })
}

/// shm_unlink: remove the name. Mappings and descriptors keep the memory alive until they
/// are gone. Only POSIX shared memory objects can be removed this way.
pub fn unlink(n: &str) -> Result<()> {
    let c = cname(n)?;
    // SAFETY: a valid C string.
    if unsafe { libc::shm_unlink(c.as_ptr()) } < 0 {
        return Err(Error::last_os(format_args!("shm_unlink({n:?})")));
    }
    crate::hook::removed_named(crate::hook::ObjKind::PosixShm, n);
    Ok(())
}

impl PosixShm {
    fn what(&self) -> String {
        format!("POSIX shared memory object {:?}", self.name)
    }

    /// The object's current size (fstat).
    pub fn size(&self) -> Result<usize> {
        Ok(fstat(self.fd.as_fd(), &self.what())?.st_size as usize)
    }

    /// Set the size; growing reserves the memory in /dev/shm (see `shm::set_size`).
    pub fn set_size(&self, size: usize) -> Result<()> {
        if !self.writable {
            return Err(Error::new(
                Status::IPCX_ERR_PERMISSION,
                format!(
                    "{} was opened read-only (IPCX_OPEN_READ without IPCX_OPEN_WRITE): it \
                     cannot be resized",
                    self.what()
                ),
            ));
        }
        crate::shm::set_size(self.fd.as_fd(), size, &self.what(), "/dev/shm")
    }

    /// Map the whole object (its current size), shared.
    pub fn map(&self, prot: Protection) -> Result<Region> {
        let writable = prot.writable();
        if writable && !self.writable {
            return Err(Error::new(
                Status::IPCX_ERR_PERMISSION,
                format!(
                    "{} was opened read-only: map it read-only (IPCX_OPEN_READ without \
                     IPCX_OPEN_WRITE)",
                    self.what()
                ),
            ));
        }
        let size = self.size()?;
        if size == 0 {
            return Err(Error::invalid(format!(
                "{} is empty (size 0): set its size with ipcx_shm_set_size before mapping it",
                self.what()
            )));
        }
        map_fd(self.fd.as_fd(), size, writable, Kind::Posix, &self.name)
    }
}
