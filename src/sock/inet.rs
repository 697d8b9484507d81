// SPDX-License-Identifier: MIT OR Apache-2.0
//! TCP and UDP specifics: socket options set on TCP connections and listeners.
//!
//! The named options go through nix's typed `setsockopt`. Raw: [`set_int`] and
//! [`get_int`], which take any level and option number from the caller (nix's options are
//! one type per option, with no by-number form).

use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sys::socket::{SetSockOpt, setsockopt, sockopt};

use crate::error::{Error, Result};

/// setsockopt of one of nix's typed options; `shown` is the value as the message shows it.
fn set<O: SetSockOpt>(
    fd: BorrowedFd<'_>,
    opt: O,
    value: &O::Val,
    shown: libc::c_int,
    what: &str,
) -> Result<()> {
    setsockopt(&fd, opt, value)
        .map_err(|e| Error::os(e, format_args!("setsockopt({what}, {shown})")))
}

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
    set(fd, sockopt::TcpNoDelay, &on, on.into(), "TCP_NODELAY")
}

/// SO_KEEPALIVE with TCP_KEEPIDLE = TCP_KEEPINTVL = `seconds`; 0 turns it off.
pub fn set_keepalive(fd: BorrowedFd<'_>, seconds: u32) -> Result<()> {
    if seconds == 0 {
        return set(fd, sockopt::KeepAlive, &false, 0, "SO_KEEPALIVE");
    }
    // The kernel reads an int: the message shows the value as one.
    let s = seconds as libc::c_int;
    set(fd, sockopt::TcpKeepIdle, &seconds, s, "TCP_KEEPIDLE")?;
    set(fd, sockopt::TcpKeepInterval, &seconds, s, "TCP_KEEPINTVL")?;
    set(fd, sockopt::KeepAlive, &true, 1, "SO_KEEPALIVE")
}

/// SO_REUSEADDR: a listener may bind a port that connections of an earlier process still
/// hold in TIME_WAIT (it does not allow two live listeners on one port).
pub fn set_reuseaddr(fd: BorrowedFd<'_>) -> Result<()> {
    set(fd, sockopt::ReuseAddr, &true, 1, "SO_REUSEADDR")
}

/// The largest UDP payload (IPv6 without jumbograms; IPv4 allows 65507).
pub(crate) const UDP_MAX: usize = 65_527;
