// SPDX-License-Identifier: MIT OR Apache-2.0
//! TCP and UDP specifics: socket options set on TCP connections and listeners.

use std::os::fd::{AsRawFd, BorrowedFd};

use crate::error::{Error, Result};

/// setsockopt with an int value.
pub(crate) fn set_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    opt: libc::c_int,
    value: libc::c_int,
    what: &str,
) -> Result<()> {
    // SAFETY: one int, its size given.
    if unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    } < 0
    {
        return Err(Error::last_os(format_args!("setsockopt({what}, {value})")));
    }
    Ok(())
}

/// getsockopt of an int value.
pub(crate) fn get_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    opt: libc::c_int,
    what: &str,
) -> Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: one int, its size given.
    if unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    } < 0
    {
        return Err(Error::last_os(format_args!("getsockopt({what})")));
    }
    Ok(v)
}

/// TCP_NODELAY: send small messages at once instead of waiting to coalesce them (Nagle).
pub fn set_nodelay(fd: BorrowedFd<'_>, on: bool) -> Result<()> {
    set_int(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_NODELAY,
        on as libc::c_int,
        "TCP_NODELAY",
    )
}

/// SO_KEEPALIVE with TCP_KEEPIDLE = TCP_KEEPINTVL = `seconds`; 0 turns it off.
pub fn set_keepalive(fd: BorrowedFd<'_>, seconds: u32) -> Result<()> {
    if seconds == 0 {
        return set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 0, "SO_KEEPALIVE");
    }
    let s = seconds as libc::c_int;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, s, "TCP_KEEPIDLE")?;
    set_int(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_KEEPINTVL,
        s,
        "TCP_KEEPINTVL",
    )?;
    set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1, "SO_KEEPALIVE")
}

/// SO_REUSEADDR: a listener may bind a port that connections of an earlier process still
/// hold in TIME_WAIT (it does not allow two live listeners on one port).
pub fn set_reuseaddr(fd: BorrowedFd<'_>) -> Result<()> {
    set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1, "SO_REUSEADDR")
}

/// The largest UDP payload (IPv6 without jumbograms; IPv4 allows 65507).
pub(crate) const UDP_MAX: usize = 65_527;
