// SPDX-License-Identifier: MIT OR Apache-2.0
//! Unix domain specifics: binding a name (with the stale-socket-file rules), the socket
//! file a listener owns, socket pairs, and peer credentials.
//!
//! System calls go through nix (`socket`, `socketpair`, `fchmod`, `fchmodat`, `unlink`,
//! `getpid`, SO_PEERCRED). Raw: `bind` and `connect` of the address that `addr::SockAddr`
//! holds in its own storage (nix's calls take its own address types), and `lstat` through
//! `crate::sys` (the LFS call on 32-bit glibc).

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, getsockopt, sockopt};
use nix::sys::stat::{FchmodatFlags, Mode, fchmod, fchmodat};
use nix::unistd::{getpid, unlink};

use super::Kind;
use super::addr::{SockAddr, UnixName};
use crate::error::{Error, Result, Status};
use crate::fd::FileId;

fn lstat(c: &CString) -> std::result::Result<crate::sys::stat, Errno> {
    // SAFETY: a valid C string and a zeroed stat buffer.
    unsafe {
        let mut st: crate::sys::stat = std::mem::zeroed();
        if crate::sys::lstat(c.as_ptr(), &mut st) < 0 {
            Err(Errno::last())
        } else {
            Ok(st)
        }
    }
}

fn is_socket(st: &crate::sys::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFSOCK
}

/// A connect to `name` was refused (`e`, ECONNREFUSED): if a file that is not a socket is
/// at that path, say so with `IPCX_ERR_EXISTS` (something of another kind at the path, as
/// everywhere); otherwise `e` stands (nobody is listening on a socket file).
pub(crate) fn refused_by_non_socket(e: Error, name: &UnixName<'_>) -> Error {
    if e.errno != libc::ECONNREFUSED {
        return e;
    }
    let Some(c) = name.c_path() else { return e };
    match lstat(&c) {
        Ok(st) if !is_socket(&st) => Error::os_as(
            Status::IPCX_ERR_EXISTS,
            Errno::ECONNREFUSED,
            format!("connect to {name}: a file that is not a socket is there"),
        ),
        _ => e,
    }
}

/// A socket file created by bind(2), removed when the socket is closed, if it is still
/// the file this process created and this is the process that created it (a forked child
/// closing an inherited listener leaves the file alone).
///
/// "The same file" is a [`FileId`] match (device, inode number and change time).
#[derive(Debug)]
pub struct BoundPath {
    path: CString,
    id: FileId,
    owner: libc::pid_t,
    /// The identity its provenance record holds (to forget the record when the file was
    /// replaced by someone else's, and so not removed).
    stamp: Option<crate::hook::Stamp>,
}

impl Drop for BoundPath {
    fn drop(&mut self) {
        if getpid().as_raw() != self.owner {
            return;
        }
        let Ok(p) = self.path.to_str() else { return };
        match lstat(&self.path) {
            Ok(st) if is_socket(&st) && FileId::of(&st) == self.id => {
                // Verified to be our socket file just above.
                if unlink(self.path.as_c_str()).is_ok() {
                    crate::hook::removed_path(crate::hook::ObjKind::Socket, p, None);
                }
            }
            // Gone, or replaced by another file (left alone): our record names our inode,
            // which is no longer there; forget it (only if it names that inode).
            _ => {
                if let Some(s) = &self.stamp {
                    crate::hook::removed_path(crate::hook::ObjKind::Socket, p, Some(s));
                }
            }
        }
    }
}

/// What a connect probe tells about a socket file that is in the way.
enum Probe {
    /// Nobody has it bound: a leftover of a process that did not unlink it.
    Stale,
    /// A live socket answers there.
    Live,
}

/// Probe a socket file with a datagram connect: ECONNREFUSED means no socket is bound to
/// it. A datagram probe never disturbs a live server (a stream listener answers
/// EPROTOTYPE, a datagram socket accepts the connect without any data being sent).
fn probe(addr: &SockAddr, shown: &str) -> Result<Probe> {
    let fd = nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::os(e, "socket(AF_UNIX) to probe a socket file"))?;
    let (p, l) = addr.raw();
    // SAFETY: a valid address of length l.
    if unsafe { libc::connect(fd.as_raw_fd(), p, l) } == 0 {
        return Ok(Probe::Live);
    }
    match Errno::last() {
        Errno::ECONNREFUSED => Ok(Probe::Stale),
        Errno::EPROTOTYPE => Ok(Probe::Live),
        e @ (Errno::EACCES | Errno::EPERM) => Err(Error::os_as(
            Status::IPCX_ERR_PERMISSION,
            e,
            format!(
                "bind({shown}): a socket file is there and cannot be checked (no write \
                 permission to connect to it); it is left untouched"
            ),
        )),
        e => Err(Error::os(
            e,
            format_args!("bind({shown}): probing the socket file already there"),
        )),
    }
}

/// Whether a socket is bound to the socket file at `path` (the same non-disturbing probe
/// bind uses for a file in its way); an error when it cannot be told (no permission).
pub(crate) fn path_is_bound(path: &str) -> Result<bool> {
    let name = UnixName::parse(path)?;
    let addr = SockAddr::unix(name);
    Ok(matches!(probe(&addr, path)?, Probe::Live))
}

/// Bind `fd` to `name`. For a path: the file is created with `mode` exactly (fchmod before
/// bind so it is never more open than asked, chmod after so the umask does not remove
/// bits); a socket file already there is removed only if it is a socket that nobody
/// answers on (see [`probe`]); any other file is `IPCX_ERR_EXISTS`, a live socket
/// `IPCX_ERR_IN_USE`. Returns the owned path for paths.
pub fn bind(fd: &OwnedFd, name: UnixName<'_>, mode: u32) -> Result<Option<BoundPath>> {
    let addr = SockAddr::unix(name);
    let raw = fd.as_raw_fd();
    let c = name.c_path();
    let bits = Mode::from_bits_retain(mode as libc::mode_t);
    if c.is_some() {
        // fchmod on a socket descriptor sets the mode bind(2) creates the file with
        // (minus the umask).
        fchmod(fd, bits).map_err(|e| Error::os(e, format_args!("fchmod(socket, {mode:o})")))?;
    }
    let mut attempts = 0;
    loop {
        let (p, l) = addr.raw();
        // SAFETY: a valid address of length l.
        if unsafe { libc::bind(raw, p, l) } == 0 {
            break;
        }
        let e = Errno::last();
        let Some(c) = c.as_ref().filter(|_| e == Errno::EADDRINUSE) else {
            return Err(match e {
                Errno::EADDRINUSE => Error::os_as(
                    Status::IPCX_ERR_IN_USE,
                    e,
                    format!("bind({name}): another socket has this abstract name"),
                ),
                _ => Error::os(e, format_args!("bind({name})")),
            });
        };
        attempts += 1;
        let st = match lstat(c) {
            Err(Errno::ENOENT) if attempts < 3 => continue, // removed meanwhile: retry
            Err(e) => return Err(Error::os(e, format_args!("bind({name}): lstat"))),
            Ok(st) => st,
        };
        if !is_socket(&st) {
            return Err(Error::os_as(
                Status::IPCX_ERR_EXISTS,
                e,
                format!(
                    "bind({name}): a file that is not a socket exists there; it is left untouched"
                ),
            ));
        }
        let shown = name.to_string();
        match probe(&addr, &shown)? {
            Probe::Live => {
                return Err(Error::os_as(
                    Status::IPCX_ERR_IN_USE,
                    e,
                    format!(
                        "bind({name}): a live socket is bound there (a process answers on it); it is left untouched"
                    ),
                ));
            }
            Probe::Stale if attempts < 3 => {
                // Remove it only if it is still the file we probed.
                if let Ok(again) = lstat(c) {
                    if FileId::of(&again) == FileId::of(&st) {
                        // Checked to be the stale socket file.
                        let _ = unlink(c.as_c_str());
                    }
                }
            }
            Probe::Stale => {
                return Err(Error::os_as(
                    Status::IPCX_ERR_IN_USE,
                    e,
                    format!("bind({name}): the path keeps being taken by other sockets"),
                ));
            }
        }
    }
    let Some(c) = c else { return Ok(None) };
    // The umask may have removed bits: apply the mode exactly.
    let chmod = fchmodat(
        nix::fcntl::AT_FDCWD,
        c.as_c_str(),
        bits,
        FchmodatFlags::FollowSymlink,
    );
    let st = if let Err(e) = chmod {
        Err(Error::os(e, format_args!("chmod({name}, {mode:o})")))
    } else {
        lstat(&c).map_err(|e| Error::os(e, format_args!("lstat({name}) after bind")))
    };
    match st {
        Ok(st) => {
            let mut stamp = None;
            if let Ok(p) = c.to_str() {
                crate::hook::created_path(crate::hook::ObjKind::Socket, p);
                stamp = crate::hook::path_stamp(p);
            }
            Ok(Some(BoundPath {
                path: c,
                id: FileId::of(&st),
                owner: getpid().as_raw(),
                stamp,
            }))
        }
        Err(err) => {
            // We created it a moment ago; do not leave it with a wrong mode.
            let _ = unlink(c.as_c_str());
            Err(err)
        }
    }
}

/// socketpair(AF_UNIX, kind, CLOEXEC).
pub fn pair(kind: Kind) -> Result<(OwnedFd, OwnedFd)> {
    // Stream, datagram and seqpacket are all types nix knows.
    let ty = SockType::try_from(kind.raw())
        .map_err(|e| super::socket_error(e, "socketpair(AF_UNIX)"))?;
    nix::sys::socket::socketpair(AddressFamily::Unix, ty, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|e| super::socket_error(e, "socketpair(AF_UNIX)"))
}

/// The peer's credentials (pid, uid, gid) as the kernel recorded them at connect time.
pub fn peer_credentials(fd: &OwnedFd) -> Result<(i32, u32, u32)> {
    let cred = getsockopt(fd, sockopt::PeerCredentials)
        .map_err(|e| Error::os(e, "getsockopt(SO_PEERCRED)"))?;
    if cred.pid() == 0 {
        return Err(Error::unsupported(
            "the kernel recorded no credentials for this socket's peer: only connected \
             stream and seqpacket sockets and socket pairs have them",
        ));
    }
    Ok((cred.pid(), cred.uid(), cred.gid()))
}
