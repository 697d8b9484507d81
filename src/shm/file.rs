// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared file mappings: open (or create) a file, size it, mmap it MAP_SHARED.
//!
//! The region is the only thing kept: the descriptor is closed once the file is mapped (the
//! mapping holds the file). Every process that maps the same file shares the same pages (the
//! page cache), related or not; `Region::sync` (msync) writes them back to the file.

use std::ffi::CString;
use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::flags::Disposition;
use crate::name;
use crate::options::{Opt, Options};
use crate::shm::region::{Kind, Region};
use crate::shm::{Protection, fstat, map_fd, open_exact, owned};

/// The first check of [`map`]: the options file mappings support.
pub(crate) fn check_options(opts: &Options) -> Result<()> {
    opts.only(&[Opt::Mode], "file mappings")
}

/// Map `size` bytes of the file at `path` (0: its whole current size); see `ipcx_file_map`.
pub fn map(
    path: &str,
    size: usize,
    how: Disposition,
    prot: Protection,
    opts: &Options,
) -> Result<Region> {
    check_options(opts)?;
    let path = name::path(path)?;
    if size > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "map {path:?}: size {size} is larger than SSIZE_MAX"
        )));
    }
    let c = CString::new(path).map_err(|_| Error::invalid("path contains a NUL byte"))?;
    let writable = prot.writable();
    let acc = if writable {
        libc::O_RDWR
    } else {
        libc::O_RDONLY
    };
    let what = format!("file {path:?}");
    // O_NONBLOCK: opening a FIFO by mistake must not block (it is refused below).
    let oflags = acc | libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NONBLOCK;
    let unlink = || {
        // SAFETY: a valid C string; only called for a file this call created.
        unsafe { libc::unlink(c.as_ptr()) };
    };
    let (fd, created) = open_exact(
        &what,
        how,
        opts.mode(),
        oflags,
        |of, mode| {
            // SAFETY: a valid C string.
            owned(unsafe { libc::open(c.as_ptr(), of | libc::O_LARGEFILE, mode as libc::c_uint) })
        },
        unlink,
    )?;
    let result = (|| {
        let st = fstat(fd.as_fd(), &what)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Error::invalid(format!(
                "map {what}: it is not a regular file; only regular files can be mapped"
            )));
        }
        let cur = st.st_size as u64;
        let len = if size == 0 { cur as usize } else { size };
        if len == 0 {
            return Err(Error::invalid(format!(
                "map {what}: the file is empty; pass a size (with IPCX_OPEN_CREATE to extend it)"
            )));
        }
        if len as u64 > cur {
            if !how.creates() || !writable {
                return Err(Error::invalid(format!(
                    "map {what}: the file is {cur} bytes, shorter than the {len} asked for; \
                     touching a mapping past the end of a file raises SIGBUS, so ipcx refuses \
                     (pass IPCX_OPEN_CREATE, and not IPCX_OPEN_READ alone, to extend the file)"
                )));
            }
            crate::shm::set_size(
                fd.as_fd(),
                len,
                &what,
                &format!("the filesystem of {path:?}"),
            )?;
        }
        map_fd(fd.as_fd(), len, writable, Kind::File, path)
    })();
    if result.is_err() && created {
        unlink();
    }
    result
}
