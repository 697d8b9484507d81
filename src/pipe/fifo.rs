// SPDX-License-Identifier: MIT OR Apache-2.0
//! Named pipes (FIFOs): create, open with a timeout, unlink.
//!
//! An opened FIFO is a [`PipeEnd`]: the same byte and message calls as anonymous pipes.
//!
//! Opening never blocks the way open(2) does:
//! - for reading, the open succeeds at once (O_NONBLOCK underneath); receiving then waits
//!   for data. A read end reports end of file only after a writer has connected and all
//!   writers have gone. A [`Side::KeepOpenReader`] also holds a write reference, so it
//!   never sees end of file while clients come and go: the server pattern;
//! - for writing, the open retries until a reader has the FIFO open or the timeout expires
//!   (the kernel offers no event for "a reader arrived", so ipcx polls: first after 1 ms,
//!   backing off to every 10 ms, never past the deadline).
//!
//! Several writers may share one FIFO: a write of at most PIPE_BUF (4096) bytes is atomic,
//! so a framed message of at most 4092 bytes arrives whole and is never interleaved with
//! another writer's. The `atomic` option makes the writer refuse larger messages.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::fd;
use crate::flags::Disposition;
use crate::name;
use crate::options::{Opt, Options};
use crate::pipe::{Origin, PipeEnd};
use crate::time::{self, Deadline};

/// Which end of a FIFO [`open`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The read end.
    Reader,
    /// The read end, also holding a write reference so reads never see end of file.
    KeepOpenReader,
    /// The write end.
    Writer,
}

/// Options FIFOs honour.
pub(crate) const FIFO_OPTIONS: &[Opt] = &[
    Opt::Mode,
    Opt::MaxMessage,
    Opt::Capacity,
    Opt::Atomic,
    Opt::SigpipeGuard,
];

fn cpath(path: &str) -> Result<CString> {
    CString::new(name::path(path)?).map_err(|_| Error::invalid("path contains a NUL byte"))
}

fn stat(c: &CString, follow: bool) -> std::result::Result<crate::sys::stat, Errno> {
    // SAFETY: a valid C string and a zeroed stat buffer.
    unsafe {
        let mut st: crate::sys::stat = std::mem::zeroed();
        let r = if follow {
            crate::sys::stat(c.as_ptr(), &mut st)
        } else {
            crate::sys::lstat(c.as_ptr(), &mut st)
        };
        if r < 0 { Err(Errno::last()) } else { Ok(st) }
    }
}

fn is_fifo(st: &crate::sys::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFIFO
}

/// Create a FIFO at `path` with `opts.mode` (default 0600, applied exactly: the umask does
/// not filter it). An existing file of any kind is `IPCX_ERR_EXISTS` and is left alone.
pub fn create(path: &str, opts: &Options) -> Result<()> {
    opts.only(&[Opt::Mode], "making a FIFO")?;
    let c = cpath(path)?;
    let mode = opts.mode();
    // SAFETY: valid C string.
    if unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) } < 0 {
        let e = Errno::last();
        if e == Errno::EEXIST {
            let what = match stat(&c, false) {
                Ok(st) if is_fifo(&st) => "a FIFO already exists there".to_string(),
                Ok(st) => format!(
                    "a {} is there, not a FIFO; it is left untouched",
                    kind_of(&st)
                ),
                Err(_) => "a file that is not a FIFO exists there; it is left untouched".into(),
            };
            return Err(Error::os_as(
                Status::IPCX_ERR_EXISTS,
                e,
                format!("mkfifo({path:?}): {what}"),
            ));
        }
        return Err(Error::os(e, format_args!("mkfifo({path:?})")));
    }
    // The umask may have removed bits the caller asked for: apply the mode exactly.
    // SAFETY: valid C string.
    if unsafe { libc::chmod(c.as_ptr(), mode as libc::mode_t) } < 0 {
        let err = Error::last_os(format_args!("chmod({path:?}, {mode:o})"));
        // SAFETY: we created it a moment ago; remove it rather than leave a wrong mode.
        unsafe { libc::unlink(c.as_ptr()) };
        return Err(err);
    }
    crate::hook::created_path(crate::hook::ObjKind::Fifo, path);
    Ok(())
}

/// The error for a file of another kind where a FIFO should be: `IPCX_ERR_EXISTS`, as
/// everywhere a path holds something of the wrong kind.
fn not_a_fifo(path: &str, st: &crate::sys::stat, what: &str) -> Error {
    Error::new(
        Status::IPCX_ERR_EXISTS,
        format!(
            "{what} {path:?}: a {} is there, not a FIFO; it is left untouched",
            kind_of(st)
        ),
    )
}

/// What kind of file a stat describes, for messages.
fn kind_of(st: &crate::sys::stat) -> &'static str {
    match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => "regular file",
        libc::S_IFDIR => "directory",
        libc::S_IFSOCK => "socket",
        libc::S_IFLNK => "symbolic link",
        libc::S_IFCHR => "character device",
        libc::S_IFBLK => "block device",
        libc::S_IFIFO => "FIFO",
        _ => "file",
    }
}

/// Remove the FIFO at `path`. Anything that is not a FIFO is never removed
/// (`IPCX_ERR_EXISTS`, like every path holding something of another kind); a missing path
/// is `IPCX_ERR_NOT_FOUND`.
pub fn unlink(path: &str) -> Result<()> {
    let c = cpath(path)?;
    match stat(&c, false) {
        Err(e) => return Err(Error::os(e, format_args!("unlink FIFO {path:?}"))),
        Ok(st) if !is_fifo(&st) => return Err(not_a_fifo(path, &st, "remove FIFO")),
        Ok(_) => {}
    }
    let stamp = crate::hook::path_stamp(path);
    // SAFETY: valid C string.
    if unsafe { libc::unlink(c.as_ptr()) } < 0 {
        return Err(Error::last_os(format_args!("unlink({path:?})")));
    }
    crate::hook::removed_path(crate::hook::ObjKind::Fifo, path, stamp.as_ref());
    Ok(())
}

fn open_raw(c: &CString, flags: libc::c_int) -> std::result::Result<OwnedFd, Errno> {
    // SAFETY: valid C string; the descriptor is fresh.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        Err(Errno::last())
    } else {
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Check that the opened descriptor really is a FIFO (the path may have changed).
fn verify(fd: &OwnedFd, path: &str) -> Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: fstat on an owned descriptor.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(Error::last_os(format_args!("fstat({path:?})")));
    }
    if !is_fifo(&st) {
        return Err(not_a_fifo(path, &st, "open FIFO"));
    }
    Ok(())
}

/// The first check of [`open`]: the options FIFOs support.
pub(crate) fn check_options(opts: &Options) -> Result<()> {
    opts.only(FIFO_OPTIONS, "FIFOs")
}

/// Open the FIFO at `path` for reading or writing (see the module documentation).
///
/// `how`: [`Disposition::Create`] makes the FIFO if the path is free (an existing FIFO is
/// used as is), [`Disposition::CreateNew`] fails with `IPCX_ERR_EXISTS` if anything exists
/// there. A file of another kind at the path is `IPCX_ERR_EXISTS` and is left untouched.
pub fn open(
    path: &str,
    side: Side,
    how: Disposition,
    opts: &Options,
    deadline: &Deadline,
) -> Result<PipeEnd> {
    check_options(opts)?;
    let read = side != Side::Writer;
    let c = cpath(path)?;
    if how.creates() {
        let mode = Options {
            mode: opts.mode,
            ..Options::default()
        };
        match create(path, &mode) {
            Ok(()) => {}
            // Without EXCLUSIVE an existing FIFO is used; anything else is refused below.
            Err(e) if e.status == Status::IPCX_ERR_EXISTS && !how.exclusive() => {}
            Err(e) => return Err(e),
        }
    }
    match stat(&c, true) {
        Err(e) => {
            // A symbolic link to nothing: something of another kind is there.
            if let (Errno::ENOENT, Ok(st)) = (e, stat(&c, false)) {
                return Err(not_a_fifo(path, &st, "open FIFO"));
            }
            return Err(Error::os(e, format_args!("open FIFO {path:?}")));
        }
        Ok(st) if !is_fifo(&st) => return Err(not_a_fifo(path, &st, "open FIFO")),
        Ok(_) => {}
    }
    let end = if read {
        let fd = time::retry_eintr(deadline, "open", || open_raw(&c, libc::O_RDONLY))?
            .map_err(|e| fd::new_fd_error(e, &format!("open({path:?}, O_RDONLY)")))?;
        verify(&fd, path)?;
        let hold =
            if side == Side::KeepOpenReader {
                Some(open_raw(&c, libc::O_WRONLY).map_err(|e| {
                    fd::new_fd_error(e, &format!("open({path:?}, O_WRONLY) to hold"))
                })?)
            } else {
                None
            };
        PipeEnd::from_fds(
            Some(fd),
            None,
            true,
            opts,
            Origin::Fifo {
                path: path.to_string(),
                _hold: hold,
            },
        )
    } else {
        let fd = open_writer(&c, path, deadline)?;
        verify(&fd, path)?;
        PipeEnd::from_fds(
            None,
            Some(fd),
            true,
            opts,
            Origin::Fifo {
                path: path.to_string(),
                _hold: None,
            },
        )
    };
    let mut end = end;
    if let Some(cap) = opts.capacity {
        end.set_capacity(cap)?;
    }
    Ok(end)
}

/// Open for writing: retry ENXIO (no reader yet) until the deadline, backing off 1..10 ms.
fn open_writer(c: &CString, path: &str, deadline: &Deadline) -> Result<OwnedFd> {
    let mut backoff = time::Backoff::new(Duration::from_millis(1), Duration::from_millis(10));
    loop {
        match open_raw(c, libc::O_WRONLY) {
            Ok(fd) => return Ok(fd),
            Err(Errno::ENXIO) => backoff.sleep(
                deadline,
                format_args!("open({path:?}, O_WRONLY): no process has the FIFO open for reading"),
            )?,
            Err(Errno::EINTR) => time::on_eintr(deadline, "open")?,
            Err(e) => return Err(fd::new_fd_error(e, &format!("open({path:?}, O_WRONLY)"))),
        }
    }
}
