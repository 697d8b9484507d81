// SPDX-License-Identifier: MIT OR Apache-2.0
//! Adopting a socket the program already has (`ipcx_sock_adopt`): a connected stream or
//! seqpacket socket, a connection the program's own listener accepted, or a datagram
//! socket, Unix or TCP/UDP. Its type and family are read from the kernel (SO_TYPE,
//! SO_DOMAIN, SO_PROTOCOL); nothing is closed or changed when it is refused.
//!
//! SO_ACCEPTCONN goes through nix's typed `getsockopt`. Raw (`inet::get_int`): SO_TYPE,
//! because nix's `SockType` option refuses a type it has no variant for (the message here
//! names the type it refuses), and SO_DOMAIN and SO_PROTOCOL, which nix lacks.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::inet::get_int;
use super::{Config, Kind, Sock, TCP_OPTIONS, UDP_OPTIONS, UNIX_OPTIONS, name_of};
use crate::error::{Error, Result, Status};
use crate::options::Options;

fn sockopt(fd: BorrowedFd<'_>, opt: libc::c_int, what: &str) -> Result<libc::c_int> {
    get_int(fd, libc::SOL_SOCKET, opt, what)
}

/// A socket made of `fd`, which the caller hands over: `want` is the type it expects
/// (`None`: the socket's own). On success the socket owns the descriptor, made
/// close-on-exec and blocking (see the module documentation of `sock`); on failure the
/// descriptor is the caller's still (an option the caller asked for, the socket buffer
/// sizes, may have been applied).
pub fn adopt(raw: RawFd, want: Option<Kind>, opts: &Options) -> Result<Sock> {
    let fd = crate::fd::caller_fd(raw, "fd")?;
    let ty = match sockopt(fd, libc::SO_TYPE, "SO_TYPE") {
        Ok(t) => t,
        Err(e) if e.errno == Errno::ENOTSOCK as i32 => {
            return Err(Error::os_as(
                Status::IPCX_ERR_INVALID,
                Errno::ENOTSOCK,
                format_args!(
                    "descriptor {raw} is not a socket (a pipe end is adopted with \
                     ipcx_pipe_adopt)"
                ),
            ));
        }
        Err(e) => return Err(e.context(format_args!("descriptor {raw}"))),
    };
    let kind = match ty {
        libc::SOCK_STREAM => Kind::Stream,
        libc::SOCK_DGRAM => Kind::Dgram,
        libc::SOCK_SEQPACKET => Kind::SeqPacket,
        other => {
            return Err(Error::invalid(format!(
                "descriptor {raw} is a socket of type {other}; ipcx adopts stream, \
                 datagram and seqpacket sockets"
            )));
        }
    };
    if let Some(w) = want {
        if w != kind {
            return Err(Error::invalid(format!(
                "descriptor {raw} is a {} socket; the flags say {}",
                kind.name(),
                w.name()
            )));
        }
    }
    let listening = nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::AcceptConn)
        .map_err(|e| Error::os(e, "getsockopt(SO_ACCEPTCONN)"))?;
    if listening {
        return Err(Error::invalid(format!(
            "descriptor {raw} is a listening socket: adopt the connections it accepts"
        )));
    }
    let domain = sockopt(fd, libc::SO_DOMAIN, "SO_DOMAIN")?;
    let proto = sockopt(fd, libc::SO_PROTOCOL, "SO_PROTOCOL")?;
    let unix = match domain {
        libc::AF_UNIX => true,
        libc::AF_INET | libc::AF_INET6 => {
            let ok = match kind {
                Kind::Stream => proto == libc::IPPROTO_TCP,
                Kind::Dgram => proto == libc::IPPROTO_UDP,
                Kind::SeqPacket => false,
            };
            if !ok {
                return Err(Error::invalid(format!(
                    "descriptor {raw} is an IP {} socket of protocol {proto}; ipcx adopts \
                     TCP and UDP sockets",
                    kind.name()
                )));
            }
            false
        }
        other => {
            return Err(Error::invalid(format!(
                "descriptor {raw} is a socket of address family {other}; ipcx adopts Unix \
                 (AF_UNIX) and IP (AF_INET, AF_INET6) sockets"
            )));
        }
    };
    let peer = match name_of(fd, true) {
        Ok(a) => Some(a),
        Err(e) if e.status == Status::IPCX_ERR_CLOSED && kind == Kind::Dgram => None,
        Err(e) if e.status == Status::IPCX_ERR_CLOSED => {
            return Err(Error::os_as(
                Status::IPCX_ERR_INVALID,
                Errno::ENOTCONN,
                format_args!(
                    "descriptor {raw} is a {} socket that is not connected: connect it \
                     first (or adopt a connection its listener accepted)",
                    kind.name()
                ),
            ));
        }
        Err(e) => return Err(e.context(format_args!("descriptor {raw}"))),
    };
    let (allowed, what) = match (unix, kind) {
        (true, _) => (UNIX_OPTIONS, "adopted Unix sockets"),
        (false, Kind::Dgram) => (UDP_OPTIONS, "adopted UDP sockets"),
        (false, _) => (TCP_OPTIONS, "adopted TCP connections"),
    };
    opts.only(allowed, what)?;
    let cfg = Config::new(opts);
    let tcp = !unix && kind == Kind::Stream;
    cfg.apply(fd, tcp)?;
    crate::fd::set_cloexec(fd, true)?;
    crate::fd::set_nonblocking(fd, false)?;
    let name = match (unix, &peer) {
        (true, _) => format!("adopted Unix {} socket (descriptor {raw})", kind.name()),
        (false, Some(p)) if tcp => format!("adopted TCP connection to {p}"),
        (false, Some(p)) => format!("adopted UDP socket connected to {p}"),
        (false, None) => format!("adopted UDP socket (descriptor {raw})"),
    };
    // SAFETY: an open descriptor (checked) that the caller hands over on success; from
    // here nothing fails.
    let owned = unsafe { OwnedFd::from_raw_fd(fd.as_raw_fd()) };
    Ok(Sock::new(
        owned,
        kind,
        unix,
        peer.is_some(),
        name,
        cfg,
        None,
    ))
}
