// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for sockets: `ipcx_sock` (connections, pair ends, datagram sockets) and
//! `ipcx_sock_listener`.

use std::ffi::{c_char, c_int, c_void};

use super::common::ipcx_options;
use super::stream;
use super::{
    array, array_mut, bytes, bytes_mut, call, call_on, handle, options, out, recv_into, set_opt,
    str_arg, text_out,
};
use crate::error::{Error, Result, Status, ipcx_status};
use crate::name;
use crate::sock::addr::{self, SockAddr};
use crate::sock::{self, FdsOut, Kind, Listener, Sock};
use crate::time::Deadline;

/// A socket that sends and receives: a connection (Unix stream or seqpacket, TCP), one end
/// of a socket pair, or a datagram socket (Unix or UDP). Opaque.
///
/// Messages: on stream sockets (Unix stream, TCP) `ipcx_sock_send` frames each message
/// (a 4-byte big-endian length, then the bytes), so the peer must use ipcx or read that
/// framing; `ipcx_sock_write`/`ipcx_sock_read` move raw bytes. On datagram and seqpacket
/// sockets a message is one kernel record, with no header: any program can be the peer.
/// Thread safety: used by one thread at a time; a call made while another thread is
/// inside a call on the same handle returns `IPCX_ERR_IN_USE` (the handle keeps read-ahead
/// bytes, a record kept after `IPCX_ERR_TOO_BIG` and the tail of a partly sent message).
/// Hand it to another thread freely between calls.
/// Fork: the child inherits the handle and its descriptor; both processes use the same
/// kernel socket. Bytes or a record already taken from the kernel by a receive are
/// duplicated by fork, so receive on a given socket in one process only. Descriptors are
/// close-on-exec: an exec'd program does not inherit them.
#[allow(non_camel_case_types)]
pub struct ipcx_sock(Sock);

stream::impl_stream!(ipcx_sock);

impl handle::Handle for ipcx_sock {
    const KIND: u32 = 50;
    const NAME: &'static str = "ipcx_sock";
}

/// A listening socket (Unix stream or seqpacket, TCP): gives connections with
/// `ipcx_sock_accept`. Opaque.
///
/// Thread safety: used by one thread at a time; a call made while another thread is
/// inside a call on the same handle returns `IPCX_ERR_IN_USE`. Hand it to another thread
/// freely between calls.
/// Fork: the child inherits it and may accept too (a pre-forked server); a connection goes
/// to one of the accepting processes. A listener bound to a path removes its socket file on
/// close only in the process that created it, so a child closing its inherited copy leaves
/// the parent's file alone.
#[allow(non_camel_case_types)]
pub struct ipcx_sock_listener(Listener);

impl handle::Handle for ipcx_sock_listener {
    const KIND: u32 = 51;
    const NAME: &'static str = "ipcx_sock_listener";
}

/// Flag (socket type): a byte stream (Unix stream, TCP): framed messages or raw bytes.
/// Also the type when `flags` holds no type flag.
pub const IPCX_SOCK_STREAM: u32 = 0x10000;
/// Flag (socket type): datagrams (Unix datagram: reliable and ordered; UDP: neither).
pub const IPCX_SOCK_DGRAM: u32 = 0x20000;
/// Flag (socket type): sequenced packets (Unix): connected, reliable, ordered, record
/// boundaries kept.
pub const IPCX_SOCK_SEQPACKET: u32 = 0x40000;
/// `ipcx_sock_shutdown` direction: stop receiving.
pub const IPCX_SOCK_SHUT_RD: u32 = 1;
/// `ipcx_sock_shutdown` direction: stop sending; the peer reads end of file
/// (`IPCX_ERR_CLOSED`).
pub const IPCX_SOCK_SHUT_WR: u32 = 2;
/// `ipcx_sock_shutdown` direction: both.
pub const IPCX_SOCK_SHUT_RDWR: u32 = 3;
/// A buffer of this many bytes holds any address text ipcx writes, with its NUL (the
/// capacity that always suffices for the text out-buffers of the socket functions).
pub const IPCX_SOCK_ADDR_MAX: usize = 512;
/// The longest Unix socket path, and the longest abstract name (without its `@`), in
/// bytes: sun_path holds 108 bytes including the terminating NUL or the abstract marker.
pub const IPCX_SOCK_PATH_MAX: usize = 107;
/// The most descriptors one message carries (SCM_MAX_FD).
pub const IPCX_SOCK_FDS_MAX: usize = 253;
const _: () = assert!(
    IPCX_SOCK_SHUT_RDWR == (IPCX_SOCK_SHUT_RD | IPCX_SOCK_SHUT_WR)
        && IPCX_SOCK_ADDR_MAX == addr::ADDR_TEXT_MAX
        && IPCX_SOCK_PATH_MAX == addr::UNIX_PATH_MAX
        && IPCX_SOCK_PATH_MAX == name::ABSTRACT_MAX
        && IPCX_SOCK_FDS_MAX == sock::cmsg::FDS_MAX
);

/// Longest `host:port` string accepted.
const HOST_PORT_MAX: usize = 1024;

unsafe fn unix_name<'a>(p: *const c_char) -> Result<&'a str> {
    unsafe { str_arg(p, "name", name::PATH_MAX) }
}

unsafe fn host_port<'a>(p: *const c_char) -> Result<&'a str> {
    unsafe { str_arg(p, "address", HOST_PORT_MAX) }
}

/// Every socket type flag.
const TYPES: u32 = IPCX_SOCK_STREAM | IPCX_SOCK_DGRAM | IPCX_SOCK_SEQPACKET;

/// The kind named by the type bits of `flags` (at most one; none is a stream). Other bits
/// are the caller's to check.
fn kind_of(flags: u32) -> Result<Kind> {
    match flags & TYPES {
        0 | IPCX_SOCK_STREAM => Ok(Kind::Stream),
        IPCX_SOCK_DGRAM => Ok(Kind::Dgram),
        IPCX_SOCK_SEQPACKET => Ok(Kind::SeqPacket),
        _ => Err(Error::invalid(format!(
            "flags {:#x} name several socket types: give at most one of \
             IPCX_SOCK_STREAM, IPCX_SOCK_DGRAM and IPCX_SOCK_SEQPACKET",
            flags & TYPES
        ))),
    }
}

/// The socket type named by `flags`, which may hold nothing else.
fn kind(flags: u32) -> Result<Kind> {
    crate::flags::check(
        flags,
        TYPES,
        "at most one of IPCX_SOCK_STREAM, IPCX_SOCK_DGRAM, IPCX_SOCK_SEQPACKET",
    )?;
    kind_of(flags)
}

/// Run `make` and store the new socket in `*out_sock` (NULL on failure).
unsafe fn new_sock(
    func: &'static str,
    out_sock: *mut *mut ipcx_sock,
    make: impl FnOnce() -> Result<Sock>,
) -> ipcx_status {
    unsafe { set_opt(out_sock, std::ptr::null_mut()) };
    call(func, || {
        let o = unsafe { out(out_sock, "out_sock") }?;
        *o = handle::into_raw(ipcx_sock(make()?))?;
        Ok(())
    })
}

/// Run `make` and store the new listener in `*out_listener` (NULL on failure).
unsafe fn new_listener(
    func: &'static str,
    out_listener: *mut *mut ipcx_sock_listener,
    make: impl FnOnce() -> Result<Listener>,
) -> ipcx_status {
    unsafe { set_opt(out_listener, std::ptr::null_mut()) };
    call(func, || {
        let o = unsafe { out(out_listener, "out_listener") }?;
        *o = handle::into_raw(ipcx_sock_listener(make()?))?;
        Ok(())
    })
}

/// Write an address as text into a caller's text out-buffer (docs/conventions.md).
unsafe fn addr_out(a: &SockAddr, buf: *mut c_char, len: *mut usize) -> Result<()> {
    unsafe { text_out(buf, len, &a.text()) }
}

/// Create a connected pair of Unix sockets (socketpair(2)) for related processes: what
/// one end sends, the other receives, both ways. After fork, one process keeps `*out_a`
/// and closes `*out_b`, the other the reverse.
///
/// Arguments: `flags`: the socket type, `IPCX_SOCK_STREAM` (also when 0),
/// `IPCX_SOCK_DGRAM` or `IPCX_SOCK_SEQPACKET`; `opts` may be NULL (honoured: max_message,
/// capacity); `out_a`, `out_b` receive the two ends.
/// Returns: `IPCX_OK` with both handles set.
/// Errors: `IPCX_ERR_INVALID` (unknown flags or several types, NULL out-parameter,
/// unsupported option), `IPCX_ERR_LIMIT` (out of descriptors: RLIMIT_NOFILE; capacity
/// above /proc/sys/net/core/wmem_max or rmem_max; too many handles),
/// `IPCX_ERR_BAD_HANDLE` (closed options). On failure both out-handles are NULL.
/// Ownership: close each end with `ipcx_sock_close`.
/// Fork: see `ipcx_sock`.
///
/// # Safety
/// `out_a`, `out_b` must be NULL or valid for writing a pointer; `opts` NULL or a handle
/// from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_pair(
    flags: u32,
    opts: *const ipcx_options,
    out_a: *mut *mut ipcx_sock,
    out_b: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        set_opt(out_a, std::ptr::null_mut());
        set_opt(out_b, std::ptr::null_mut());
    }
    call("ipcx_sock_pair", || {
        let a = unsafe { out(out_a, "out_a") }?;
        let b = unsafe { out(out_b, "out_b") }?;
        let (x, y) = sock::pair(kind(flags)?, &unsafe { options(opts) }?)?;
        (*a, *b) = handle::into_raw_pair(ipcx_sock(x), ipcx_sock(y))?;
        Ok(())
    })
}

/// Make a handle of a socket the program already has: a connected Unix or TCP stream
/// socket, a connected Unix seqpacket socket, a connection the program's own listener
/// accepted, or a Unix or UDP datagram socket (connected or not; an unconnected one
/// sends with `ipcx_sock_sendto`). Its type and family are read from the kernel (SO_TYPE,
/// SO_DOMAIN, SO_PROTOCOL, getpeername).
///
/// Arguments: `fd` the descriptor; `flags`: 0 (take the socket's own type), or the type
/// the caller expects, `IPCX_SOCK_STREAM`, `IPCX_SOCK_DGRAM` or `IPCX_SOCK_SEQPACKET` (a
/// socket of another type is refused); `opts` may be NULL (honoured: max_message, which
/// bounds received messages as for the library's own sockets; capacity, applied to the
/// socket's buffers; keepalive for TCP); `out_sock` receives the handle.
/// The socket then behaves as one ipcx made: stream sockets carry framed messages (both
/// sides must be ipcx, or speak its framing: docs/sockets.md), datagram and seqpacket
/// sockets one record per message. As for its own descriptors, the library makes it
/// close-on-exec, clears O_NONBLOCK (ipcx manages it: calls with a timeout never block)
/// and, for TCP, sets TCP_NODELAY.
/// Returns: `IPCX_OK` with the handle in `*out_sock`.
/// Errors: `IPCX_ERR_INVALID` (`fd` negative, not an open descriptor, not a socket (a
/// regular file, a pipe), a listening socket, a stream or seqpacket socket that is not
/// connected, a family other than Unix and IP, an IP socket other than TCP and UDP, a type
/// other than the one `flags` names, unknown flags or several types, an option this kind
/// of socket does not honour, NULL `out_sock`), `IPCX_ERR_LIMIT` (capacity above
/// /proc/sys/net/core/wmem_max or rmem_max; too many handles), `IPCX_ERR_BAD_HANDLE`
/// (closed options), `IPCX_ERR_SYSTEM`. On failure `*out_sock` is NULL.
/// Ownership: on success the handle owns `fd`: `ipcx_sock_close` closes it, and the
/// program no longer closes, reads or writes it (`ipcx_sock_fd` gives it back, borrowed,
/// for polling). On failure the caller keeps `fd`, open (close-on-exec, blocking mode and
/// buffer sizes may have been set before a late failure).
/// Fork: see `ipcx_sock`.
///
/// # Safety
/// `out_sock` must be NULL or valid for writing a pointer; `opts` NULL or a handle from
/// ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_adopt(
    fd: c_int,
    flags: u32,
    opts: *const ipcx_options,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe { set_opt(out_sock, std::ptr::null_mut()) };
    call("ipcx_sock_adopt", || {
        let o = unsafe { out(out_sock, "out_sock") }?;
        crate::flags::check(
            flags,
            TYPES,
            "0 (the socket's own type) or one of IPCX_SOCK_STREAM, IPCX_SOCK_DGRAM, \
             IPCX_SOCK_SEQPACKET",
        )?;
        let want = match flags {
            0 => None,
            f => Some(kind_of(f)?),
        };
        let s = sock::adopt(fd, want, &unsafe { options(opts) }?)?;
        match handle::try_into_raw(ipcx_sock(s)) {
            Ok(h) => {
                *o = h;
                Ok(())
            }
            Err((e, ipcx_sock(s))) => {
                // The caller keeps its descriptor.
                let _ = std::os::fd::IntoRawFd::into_raw_fd(s.into_fd());
                Err(e)
            }
        }
    })
}

/// Listen for connections on a Unix socket: a filesystem path, or with a leading `@` a
/// name in the Linux abstract namespace (`"@myapp"`).
///
/// Abstract names have no file and no permissions: ANY process in the same network
/// namespace can connect to them, whatever its user. Use a path (mode 0600 by default) when
/// only some users may connect, or check `ipcx_sock_peer_credentials` of each connection.
/// An abstract name is written with one `@` and may not itself start with `@` (`"@@x"`
/// is refused): `@` is only the marker of the abstract namespace.
///
/// Arguments: `name`: a path of at most `IPCX_SOCK_PATH_MAX` (107) bytes, or `@` and 1..107
/// bytes; `flags`: the socket type, `IPCX_SOCK_STREAM` (also when 0) or
/// `IPCX_SOCK_SEQPACKET`; `opts` may be NULL (honoured: mode for paths, default 0600,
/// applied exactly; max_message and capacity for the accepted connections);
/// `out_listener` receives the listener. The backlog is SOMAXCONN (capped by
/// /proc/sys/net/core/somaxconn).
/// Socket files: a socket file left at `name` by a process that died is removed, only after
/// checking that it is a socket and that nobody answers on it. Any other file is never
/// touched (`IPCX_ERR_EXISTS`); a live socket is `IPCX_ERR_IN_USE`. The listener removes its
/// socket file on close, if the file is still the one it created.
/// Returns: `IPCX_OK` with the listener in `*out_listener`.
/// Errors: `IPCX_ERR_INVALID` (NULL, empty, non-UTF-8 or too long name: the message gives
/// the limit; `"@@x"`: an abstract name starting with `@`; unknown flags, several types or
/// `IPCX_SOCK_DGRAM`; mode with an abstract name; NULL `out_listener`),
/// `IPCX_ERR_EXISTS` (a file of another kind at the path), `IPCX_ERR_IN_USE` (a live
/// socket there), `IPCX_ERR_NOT_FOUND` (missing directory), `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_LIMIT`, `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_listener` is
/// NULL.
/// Ownership: close with `ipcx_sock_listener_close`.
/// Fork: a child inherits the listener and may accept on it too; only this process
/// removes the socket file.
///
/// # Safety
/// `name` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_listener` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_listen_unix(
    name: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_listener: *mut *mut ipcx_sock_listener,
) -> ipcx_status {
    unsafe {
        new_listener("ipcx_sock_listen_unix", out_listener, || {
            let kind = kind(flags)?;
            sock::listen_unix(unix_name(name)?, kind, &options(opts)?)
        })
    }
}

/// Connect to a Unix socket: a filesystem path or an `@abstract` name (reachable by any
/// process in the network namespace; see `ipcx_sock_listen_unix`).
///
/// Arguments: `name` as for `ipcx_sock_listen_unix`; `flags`: the socket type,
/// `IPCX_SOCK_STREAM` (also when 0) or `IPCX_SOCK_SEQPACKET` (to a listener), or
/// `IPCX_SOCK_DGRAM` (to a socket made with `ipcx_sock_bind_unix`: the new socket's
/// default destination; it is bound to an automatic abstract name so the peer can answer
/// with `ipcx_sock_sendto`); `opts` may be NULL (honoured: max_message, capacity);
/// `timeout_ms` bounds the wait while the listener's backlog is full (retried every 1 to
/// 10 ms; `IPCX_FOREVER` blocks in connect(2)); `out_sock` receives the connection.
/// Returns: `IPCX_OK` with the connected socket in `*out_sock`.
/// Errors: `IPCX_ERR_NOT_FOUND` (no such file, or nobody listening there),
/// `IPCX_ERR_EXISTS` (a file that is not a socket is at the path), `IPCX_ERR_TIMEOUT`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_UNSUPPORTED` (the socket file there is of another type; an abstract name
/// bound by a socket of another type is invisible to this type, as the kernel keeps one
/// abstract namespace per type: `IPCX_ERR_NOT_FOUND`),
/// `IPCX_ERR_INVALID` (bad name, unknown flags or several types, NULL `out_sock`, bad
/// timeout, unsupported option), `IPCX_ERR_LIMIT`, `IPCX_ERR_BAD_HANDLE` (closed
/// options), `IPCX_ERR_INTERRUPTED`. On failure `*out_sock` is NULL.
/// Ownership: close with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `name` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx; `out_sock`
/// NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_connect_unix(
    name: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    timeout_ms: i64,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_connect_unix", out_sock, || {
            let deadline = Deadline::from_ms(timeout_ms)?;
            let kind = kind(flags)?;
            sock::connect_unix(unix_name(name)?, kind, &options(opts)?, &deadline)
        })
    }
}

/// Create a Unix datagram socket bound to a path or an `@abstract` name (reachable by any
/// process in the network namespace: no permissions apply), or with `name` NULL to an
/// automatic abstract name the kernel picks (`ipcx_sock_local_address` tells it).
///
/// It receives datagrams sent to that name (`ipcx_sock_recv`, `ipcx_sock_recvfrom` to learn
/// the sender) and sends with `ipcx_sock_sendto`. Socket files follow the rules of
/// `ipcx_sock_listen_unix` (stale files replaced after checking, other files never touched,
/// the file removed on close).
/// Arguments: `opts` may be NULL (honoured: mode for paths, max_message, capacity).
/// Returns: `IPCX_OK` with the bound socket in `*out_sock`.
/// Errors: as for `ipcx_sock_listen_unix`. On failure `*out_sock` is NULL.
/// Ownership: close with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `name` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_bind_unix(
    name: *const c_char,
    opts: *const ipcx_options,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_bind_unix", out_sock, || {
            let n = if name.is_null() {
                None
            } else {
                Some(unix_name(name)?)
            };
            sock::bind_unix(n, &options(opts)?)
        })
    }
}

/// Listen for TCP connections on `address`: `"host:port"`, `"[ipv6]:port"`, or `":port"`
/// (every local address: IPv6 and IPv4). Port 0 picks a free port
/// (`ipcx_sock_listener_address` tells it). SO_REUSEADDR is set.
///
/// Arguments: `opts` may be NULL (honoured: max_message, capacity, keepalive; they apply to
/// the accepted connections, which also get TCP_NODELAY).
/// Returns: `IPCX_OK` with the listener in `*out_listener`.
/// Errors: `IPCX_ERR_IN_USE` (port in use), `IPCX_ERR_NOT_FOUND` (unknown host: the
/// resolver's message), `IPCX_ERR_INVALID` (malformed address or port),
/// `IPCX_ERR_PERMISSION` (privileged port), `IPCX_ERR_UNSUPPORTED` (address family not
/// available), `IPCX_ERR_LIMIT`, `IPCX_ERR_BAD_HANDLE` (closed options). Name resolution
/// (getaddrinfo) may block. On failure `*out_listener` is NULL.
/// Ownership: close with `ipcx_sock_listener_close`.
/// Fork: a child inherits the listener and may accept on it too.
///
/// # Safety
/// `address` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_listener` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_listen_tcp(
    address: *const c_char,
    opts: *const ipcx_options,
    out_listener: *mut *mut ipcx_sock_listener,
) -> ipcx_status {
    unsafe {
        new_listener("ipcx_sock_listen_tcp", out_listener, || {
            sock::listen_tcp(host_port(address)?, &options(opts)?)
        })
    }
}

/// Start a TCP connect without waiting, for event loops: the socket comes back at once
/// with the handshake in progress. Wait until its descriptor (`ipcx_sock_fd`) is
/// writable (POLLOUT; POLLERR/POLLHUP when it failed), then call
/// `ipcx_sock_connect_finish`, which says how it went. Until it returned `IPCX_OK`, the
/// socket's sends, receives, reads, writes, flush, shutdown and peer address are
/// `IPCX_ERR_INVALID`.
///
/// Arguments: `address`: a numeric `"a.b.c.d:port"` or `"[ipv6]:port"` (names are refused:
/// the resolver cannot be bounded; resolve them beforehand, or use `ipcx_sock_connect_tcp`
/// from a thread); `opts` may be NULL (honoured: max_message, capacity, keepalive, as for
/// `ipcx_sock_connect_tcp`); `out_sock` receives the socket.
/// Returns: `IPCX_OK` with the connecting socket in `*out_sock`.
/// Errors: `IPCX_ERR_INVALID` (a name or malformed address, NULL `address` or `out_sock`,
/// unsupported option), `IPCX_ERR_NOT_FOUND` (refused or unreachable at once: no route),
/// `IPCX_ERR_LIMIT` (descriptors; capacity above the system maximum; handles),
/// `IPCX_ERR_BAD_HANDLE` (closed options), `IPCX_ERR_SYSTEM`. On failure `*out_sock` is
/// NULL.
/// Ownership: close with `ipcx_sock_close` (also while connecting: the connect is
/// abandoned).
/// Fork: finish the connect in the process that uses the socket.
///
/// # Safety
/// `address` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_connect_tcp_start(
    address: *const c_char,
    opts: *const ipcx_options,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_connect_tcp_start", out_sock, || {
            sock::connect_tcp_start(host_port(address)?, &options(opts)?)
        })
    }
}

/// Finish a connect `ipcx_sock_connect_tcp_start` started: call it when the socket's
/// descriptor is writable (calling earlier is harmless).
///
/// Arguments: `s` the socket.
/// Returns: `IPCX_OK` once the connection is established (TCP_NODELAY and the options
/// applied; the socket is then used as any other); also at once for a socket that is
/// connected already (another call, or a socket that was never connecting).
/// Errors: `IPCX_ERR_TIMEOUT` (the handshake is still in progress: wait for writability
/// and call again), `IPCX_ERR_NOT_FOUND` (connection refused: nobody listens there; no
/// route), `IPCX_ERR_TIMEOUT` with errno ETIMEDOUT (the host did not answer), other
/// connect errors as `ipcx_sock_connect_tcp` gives them (a failed connect gives its error
/// on every later call: close the socket), `IPCX_ERR_INVALID` (NULL handle),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// Ownership: nothing changes hands.
/// Fork: see `ipcx_sock_connect_tcp_start`.
///
/// # Safety
/// None beyond the C contract: `s` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_connect_finish(s: *mut ipcx_sock) -> ipcx_status {
    call_on("ipcx_sock_connect_finish", s, |s| s.0.connect_finish())
}

/// Connect over TCP to `address` (`"host:port"` or `"[ipv6]:port"`), trying each address
/// the name resolves to, in order, within the timeout. The connection has TCP_NODELAY on.
///
/// Arguments: `opts` may be NULL (honoured: max_message, capacity, keepalive);
/// `timeout_ms` bounds the handshake (name resolution is not bounded by it: pass a numeric
/// address to avoid the resolver).
/// Returns: `IPCX_OK` with the connected socket in `*out_sock`.
/// Errors: `IPCX_ERR_NOT_FOUND` (unknown host, connection refused, no route),
/// `IPCX_ERR_TIMEOUT`, `IPCX_ERR_INVALID` (malformed address, NULL `out_sock`, bad
/// timeout, unsupported option), `IPCX_ERR_UNSUPPORTED`, `IPCX_ERR_LIMIT`,
/// `IPCX_ERR_BAD_HANDLE` (closed options), `IPCX_ERR_INTERRUPTED`. On failure `*out_sock`
/// is NULL.
/// Ownership: close with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `address` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_connect_tcp(
    address: *const c_char,
    opts: *const ipcx_options,
    timeout_ms: i64,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_connect_tcp", out_sock, || {
            let deadline = Deadline::from_ms(timeout_ms)?;
            sock::connect_tcp(host_port(address)?, &options(opts)?, &deadline)
        })
    }
}

/// Create a UDP socket bound to `address` (`"host:port"`, `"[ipv6]:port"`, `":port"` for
/// every local address; port 0 picks a free port). It receives datagrams sent to it and
/// sends with `ipcx_sock_sendto`.
///
/// Arguments: `opts` may be NULL (honoured: max_message, capacity).
/// Returns: `IPCX_OK` with the bound socket in `*out_sock`.
/// Errors: `IPCX_ERR_IN_USE` (port in use), `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_INVALID`
/// (malformed address, NULL `out_sock`, unsupported option), `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_LIMIT`, `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_sock` is
/// NULL.
/// Ownership: close with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `address` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_bind_udp(
    address: *const c_char,
    opts: *const ipcx_options,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_bind_udp", out_sock, || {
            sock::bind_udp(host_port(address)?, &options(opts)?)
        })
    }
}

/// Create a UDP socket connected to `address`: `ipcx_sock_send` sends there, and only
/// datagrams from there are received. Connecting sends nothing (UDP has no handshake):
/// a missing peer shows later as `IPCX_ERR_NOT_FOUND` from a send or receive.
///
/// Arguments: `address` the peer; `opts` may be NULL (honoured: max_message, capacity);
/// `out_sock` receives the socket.
/// Returns: `IPCX_OK` with the connected socket in `*out_sock`.
/// Errors: `IPCX_ERR_NOT_FOUND` (unknown host), `IPCX_ERR_INVALID` (malformed address,
/// NULL `out_sock`, unsupported option), `IPCX_ERR_LIMIT`, `IPCX_ERR_UNSUPPORTED`,
/// `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_sock` is NULL.
/// Ownership: close with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `address` NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_connect_udp(
    address: *const c_char,
    opts: *const ipcx_options,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe {
        new_sock("ipcx_sock_connect_udp", out_sock, || {
            sock::connect_udp(host_port(address)?, &options(opts)?)
        })
    }
}

/// Accept one connection, waiting at most `timeout_ms`.
///
/// Arguments: `l` the listener; `timeout_ms`; `out_sock` receives the connection (a
/// stream or seqpacket socket, with the listener's options applied).
/// Returns: `IPCX_OK` with the connection in `*out_sock`.
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_LIMIT` (out of descriptors; capacity above the
/// system's maximum; too many handles), `IPCX_ERR_INVALID` (NULL listener or `out_sock`,
/// bad timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE` (another thread is inside a call
/// on this listener), `IPCX_ERR_INTERRUPTED`. On failure `*out_sock` is NULL.
/// Ownership: close the connection with `ipcx_sock_close`.
/// Fork: as for every `ipcx_sock`, a child shares the kernel socket; receive on it in one
/// process only.
///
/// # Safety
/// `l` NULL or a handle from ipcx; `out_sock` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_accept(
    l: *mut ipcx_sock_listener,
    timeout_ms: i64,
    out_sock: *mut *mut ipcx_sock,
) -> ipcx_status {
    unsafe { set_opt(out_sock, std::ptr::null_mut()) };
    call_on("ipcx_sock_accept", l, |l| {
        let o = unsafe { out(out_sock, "out_sock") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        *o = handle::into_raw(ipcx_sock(l.0.accept(&deadline)?))?;
        Ok(())
    })
}

/// Close a listener and free the handle. NULL is a no-op. A socket file it created is
/// removed if it is still the same file (device and inode) and this is the process that
/// created the listener; connections already accepted stay open.
///
/// Arguments: `l` the listener; NULL does nothing.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if it was already closed (nothing is freed
/// twice). A close racing calls on other threads never waits: the listener is released
/// when the last of them returns.
/// Errors: `IPCX_ERR_BAD_HANDLE` only (see Returns).
/// Ownership: releases the handle and its descriptor; `l` must not be used again.
/// Fork: closes the calling process's descriptor; the socket file is removed only by
/// the process that created the listener.
///
/// # Safety
/// None beyond the C contract: `l` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_listener_close(l: *mut ipcx_sock_listener) -> ipcx_status {
    call("ipcx_sock_listener_close", || handle::close(l))
}

/// The listener's descriptor, for poll/epoll: readable when a connection is waiting to be
/// accepted. It stays owned by the listener (do not close it); it is non-blocking.
///
/// Arguments: `out_fd` receives the descriptor.
/// Returns: `IPCX_OK` with the descriptor in `*out_fd`.
/// Errors: `IPCX_ERR_INVALID` (NULL listener or `out_fd`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`. On failure `*out_fd` is -1.
/// Ownership: the descriptor stays the listener's.
/// Fork: a child's copy of the handle has the same descriptor number.
///
/// # Safety
/// `out_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_listener_fd(
    l: *const ipcx_sock_listener,
    out_fd: *mut c_int,
) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_sock_listener_fd", l, |l| {
        *unsafe { out(out_fd, "out_fd") }? = l.0.fd();
        Ok(())
    })
}

/// The address the listener is bound to, as text: `"/path"`, `"@name"`, `"127.0.0.1:4000"`,
/// `"[::1]:4000"` (with the real port when it listened on port 0).
///
/// Arguments: a text out-buffer: `buf` receives the text and a NUL; `len` in: the capacity
/// of `buf`, out: always the length of the text without its NUL (with `IPCX_OK` and with
/// `IPCX_ERR_TOO_BIG`, when `buf` then needs `*len + 1` bytes). `IPCX_SOCK_ADDR_MAX`
/// bytes always suffice. `buf` may be NULL with a capacity of 0 (to learn the length).
/// Returns: `IPCX_OK` with the text in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_TOO_BIG` (`buf` holds `""` when it has room for anything),
/// `IPCX_ERR_INVALID` (NULL listener or `len`, NULL `buf` with a capacity),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// Ownership: the caller keeps `buf`.
/// Fork: the same in every process that holds the listener.
///
/// # Safety
/// `len` NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_listener_address(
    l: *const ipcx_sock_listener,
    buf: *mut c_char,
    len: *mut usize,
) -> ipcx_status {
    call_on("ipcx_sock_listener_address", l, |l| unsafe {
        addr_out(&l.0.local_address()?, buf, len)
    })
}

/// Close a socket and free the handle. NULL is a no-op. A message tail left by a send that
/// timed out midway is written if the socket has room right now (call `ipcx_sock_flush`
/// first to wait for it). A socket file made by `ipcx_sock_bind_unix` is removed as for
/// listeners. Descriptors received but not yet handed over are closed.
///
/// Arguments: `s` the socket; NULL does nothing.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if it was already closed (nothing is freed
/// twice). A close racing calls on other threads never waits: the socket is released when
/// the last of them returns.
/// Errors: `IPCX_ERR_BAD_HANDLE` only (see Returns).
/// Ownership: releases the handle and its descriptor; `s` must not be used again.
/// Fork: this closes the calling process's descriptor only. The peer sees end of file
/// when every process holding the socket has closed it; `ipcx_sock_shutdown` ends the
/// connection for all of them.
///
/// # Safety
/// None beyond the C contract: `s` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_close(s: *mut ipcx_sock) -> ipcx_status {
    call("ipcx_sock_close", || handle::close(s))
}

/// Send one message to the connected peer: framed on stream sockets, one record on
/// datagram and seqpacket sockets. A zero-length message is valid, except on seqpacket
/// sockets (where the receiver could not tell it from end of file).
///
/// Arguments: `buf`/`len` the message (`buf` may be NULL when `len` is 0); `timeout_ms`.
/// Returns: `IPCX_OK` once the message is accepted: on a stream, written, or, if the
/// timeout expired after its first byte, its tail kept to be written before anything else
/// (see `ipcx_sock_flush`), so messages are never cut or interleaved.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing was sent), `IPCX_ERR_CLOSED` (the peer closed or
/// reset the connection; no SIGPIPE is raised), `IPCX_ERR_TOO_BIG` (above max_message, or
/// above what the socket can send as one record: the message names the limit),
/// `IPCX_ERR_INVALID` (NULL handle, NULL buffer with a length; a datagram socket that is
/// not connected; an empty seqpacket message; bad timeout), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_sock`; on a stream shared by several processes, each message is one
/// frame, but frames of several senders may interleave: send from one process.
///
/// # Safety
/// `buf` must be NULL or valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_send(
    s: *mut ipcx_sock,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe { stream::send("ipcx_sock_send", s, buf, len, timeout_ms) }
}

/// Receive one message (sent with `ipcx_sock_send`, or one record from any sender on
/// datagram and seqpacket sockets). Descriptors sent with the message are closed (use
/// `ipcx_sock_recv_fds` to get them).
///
/// Arguments: `buf` receives the message; `len` in: the capacity of `buf`, out: the
/// message length (or, with `IPCX_ERR_TOO_BIG`, the size needed); `timeout_ms`.
/// Returns: `IPCX_OK` with one whole message in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing consumed, or a partly received framed message kept
/// for the next call), `IPCX_ERR_CLOSED` (end of file: the peer closed or shut down its
/// sending side, or reset the connection), `IPCX_ERR_TOO_BIG` (`*len` set to the size
/// needed; the message stays queued for the next receive), `IPCX_ERR_PROTOCOL` (a framed
/// stream announced a length above max_message: the stream is unusable; or a record above
/// max_message arrived and was discarded), `IPCX_ERR_INVALID` (NULL handle or `len`, NULL
/// `buf` with a capacity, bad timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`. On failure `*len` is unchanged, except with
/// `IPCX_ERR_TOO_BIG`, and what `buf` holds is unspecified: a byte-stream receive reads
/// part of a message into it before it knows the message is whole; the handle keeps those
/// bytes and the message stays queued whole.
/// Cost: with `IPCX_FOREVER`, one recv(2) per message, as a raw program.
/// Ownership: the caller keeps `buf`.
/// Fork: receive on a given socket in one process only: a receive may take bytes of the
/// following messages from the kernel, and those stay in the process that took them.
///
/// # Safety
/// `len` must be NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_recv(
    s: *mut ipcx_sock,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe { stream::recv("ipcx_sock_recv", s, buf, len, timeout_ms) }
}

/// Write raw bytes (stream sockets, no framing) until all `len` bytes are written or the
/// timeout expires; partial writes are continued.
///
/// Arguments: `buf`/`len` the bytes (`len` > 0); `timeout_ms`; `out_written` (optional,
/// may be NULL) receives how many bytes were written, also on error.
/// Returns: `IPCX_OK` when all `len` bytes were written (`*out_written` is `len`).
/// Errors: `IPCX_ERR_INVALID` (NULL handle, `len` 0 or above SSIZE_MAX, NULL buffer, not a
/// stream socket, bad timeout), `IPCX_ERR_TIMEOUT` (`*out_written` tells how far it got),
/// `IPCX_ERR_CLOSED` (no SIGPIPE), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`. On failure `*out_written` is the count written before it (0 when
/// nothing was).
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_sock`.
///
/// # Safety
/// `buf` must be NULL or valid for reading `len` bytes; `out_written` NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_write(
    s: *mut ipcx_sock,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
    out_written: *mut usize,
) -> ipcx_status {
    unsafe { stream::write("ipcx_sock_write", s, buf, len, timeout_ms, out_written) }
}

/// Read raw bytes (stream sockets): waits until at least one byte is available, then
/// returns what is there, up to `len`.
///
/// Arguments: `buf`/`len` where to put the bytes (`len` > 0); `timeout_ms`; `out_nread`
/// (required) receives the count.
/// Returns: `IPCX_OK` with 1 to `len` bytes in `buf` (`*out_nread`).
/// Errors: `IPCX_ERR_CLOSED` (end of file or reset), `IPCX_ERR_TIMEOUT`,
/// `IPCX_ERR_INVALID` (NULL handle or `out_nread`, `len` 0 or above SSIZE_MAX, NULL
/// buffer, not a stream socket, bad timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`. On failure `*out_nread` is 0.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_sock`: read a given socket in one process only.
///
/// # Safety
/// `buf` must be NULL or valid for writing `len` bytes; `out_nread` NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_read(
    s: *mut ipcx_sock,
    buf: *mut c_void,
    len: usize,
    timeout_ms: i64,
    out_nread: *mut usize,
) -> ipcx_status {
    unsafe { stream::read("ipcx_sock_read", s, buf, len, timeout_ms, out_nread) }
}

/// Wait until the tail of a message accepted by a send that timed out midway is written.
/// Returns `IPCX_OK` at once when nothing is pending (always on datagram and seqpacket
/// sockets).
///
/// Arguments: `s` the socket; `timeout_ms` bounds the wait for room.
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_CLOSED` (the peer is gone; the tail is dropped, so a
/// later flush returns `IPCX_OK`), `IPCX_ERR_INVALID` (NULL handle, bad
/// timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`.
/// Ownership: nothing changes hands.
/// Fork: the tail belongs to the process whose send timed out.
///
/// # Safety
/// None beyond the C contract: `s` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_flush(s: *mut ipcx_sock, timeout_ms: i64) -> ipcx_status {
    stream::flush("ipcx_sock_flush", s, timeout_ms)
}

/// Shut down one direction of a connection (shutdown(2)); the socket stays open.
///
/// Arguments: `how`: `IPCX_SOCK_SHUT_WR` (the peer's receives then report end of file,
/// `IPCX_ERR_CLOSED`; its sends still arrive), `IPCX_SOCK_SHUT_RD` (this socket's receives
/// report `IPCX_ERR_CLOSED`), or `IPCX_SOCK_SHUT_RDWR`.
/// Returns: `IPCX_OK` once the direction is shut down.
/// Errors: `IPCX_ERR_INVALID` (NULL handle; `how` not one of the three; the socket is not
/// connected: a datagram socket made with `ipcx_sock_bind_unix` or `ipcx_sock_bind_udp`,
/// or a connection the kernel no longer holds), `IPCX_ERR_TIMEOUT` (a message tail is still
/// pending: shutting down would cut it; call `ipcx_sock_flush` first),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// Ownership: the socket stays open and owned by the caller (close it as usual).
/// Fork: the shutdown applies to the kernel socket, so to every process sharing it.
///
/// # Safety
/// None beyond the C contract: `s` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_shutdown(s: *mut ipcx_sock, how: u32) -> ipcx_status {
    call_on("ipcx_sock_shutdown", s, |s| {
        s.0.check_shutdown()?;
        let how = match how {
            IPCX_SOCK_SHUT_RD => sock::Shutdown::Read,
            IPCX_SOCK_SHUT_WR => sock::Shutdown::Write,
            IPCX_SOCK_SHUT_RDWR => sock::Shutdown::Both,
            _ => {
                return Err(Error::invalid(format!(
                    "shutdown direction {how} is invalid (IPCX_SOCK_SHUT_RD 1, \
                     IPCX_SOCK_SHUT_WR 2, IPCX_SOCK_SHUT_RDWR 3)"
                )));
            }
        };
        s.0.shutdown(how)
    })
}

/// The socket's descriptor, for poll/epoll: readable when a receive would find data,
/// writable when a send would make progress.
///
/// Arguments: `out_fd` receives the descriptor.
/// The descriptor stays owned by the handle: do not close it, and do not read or write it
/// directly (bytes taken behind the handle's back break its framing). A receive may take
/// several framed messages from the kernel at once, or keep a record after
/// `IPCX_ERR_TOO_BIG`: after a wake-up, receive with `IPCX_NOWAIT` until `IPCX_ERR_TIMEOUT`.
/// Returns: `IPCX_OK` with the descriptor in `*out_fd`.
/// Errors: `IPCX_ERR_INVALID` (NULL handle or `out_fd`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`. On failure `*out_fd` is -1.
/// Ownership: the descriptor stays the handle's: it is lent, valid until the handle is
/// closed; to keep the socket beyond that, dup(2) it (the duplicate shares the socket, and
/// its framing is the handle's business only while the handle lives).
/// Fork: a child's copy of the handle has the same descriptor number.
///
/// # Safety
/// `out_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_fd(s: *const ipcx_sock, out_fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_sock_fd", s, |s| {
        *unsafe { out(out_fd, "out_fd") }? = s.0.fd();
        Ok(())
    })
}

/// Send one datagram to `to` (datagram sockets): for a Unix socket a path or an
/// `@abstract` name (any process in the network namespace may have bound it), for UDP
/// `"host:port"` or `"[ipv6]:port"` (numeric addresses skip the resolver). An address
/// given by `ipcx_sock_recvfrom` answers its sender.
///
/// Arguments: `buf`/`len` the datagram (`buf` may be NULL when `len` is 0); `to` the
/// destination; `timeout_ms`.
/// Returns: `IPCX_OK` once the datagram is sent.
/// Errors: `IPCX_ERR_NOT_FOUND` (nobody bound at a Unix name; unknown host),
/// `IPCX_ERR_TIMEOUT` (the receiver's queue stayed full: Unix datagrams are reliable and
/// wait; retried every 1 to 10 ms), `IPCX_ERR_TOO_BIG`, `IPCX_ERR_INVALID` (NULL handle,
/// bad address, not a datagram socket, NULL buffer with a length, bad timeout),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_sock`.
///
/// # Safety
/// `buf` NULL or valid for reading `len` bytes; `to` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_sendto(
    s: *mut ipcx_sock,
    buf: *const c_void,
    len: usize,
    to: *const c_char,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_sock_sendto", s, |s| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let to = unsafe { str_arg(to, "to", HOST_PORT_MAX) }?;
        s.0.sendto(unsafe { bytes(buf, len, "buf") }?, to, &deadline)
    })
}

/// Receive one datagram and its sender's address (datagram sockets).
///
/// Arguments: `buf`/`len` as for `ipcx_sock_recv`; `from`/`from_len` a text out-buffer
/// for the sender's address (forms as for `ipcx_sock_local_address`; `""` for an unnamed
/// Unix socket): `*from_len` in: the capacity of `from`, out: always the length of the
/// address text without its NUL. `IPCX_SOCK_ADDR_MAX` bytes always suffice. Both NULL:
/// the sender is not wanted. `from` may be NULL with `*from_len` 0 (the datagram stays
/// queued and `*from_len` tells the room needed: `IPCX_ERR_TOO_BIG`).
/// Returns: `IPCX_OK` with the datagram in `buf` (`*len`) and the sender in `from`.
/// Errors: as for `ipcx_sock_recv`; `IPCX_ERR_TOO_BIG` when the datagram does not fit
/// `buf` or its sender's address does not fit `from`: nothing is consumed (the datagram
/// stays queued with its sender for the next receive), `*len` is the datagram's size and
/// `*from_len` the address text's length, so whichever buffer is too small can be grown
/// (`from` needs `*from_len + 1` bytes); `from` then holds the address if it fits, else
/// `""`. `IPCX_ERR_INVALID` also for a socket that is not a datagram socket, and for
/// `from` without `from_len`. On other errors `from` holds `""` and `*from_len` is 0
/// (when they are not NULL).
/// Ownership: the caller keeps `buf` and `from`.
/// Fork: see `ipcx_sock`: receive on a given socket in one process only.
///
/// # Safety
/// `len` NULL or valid; `buf` NULL or valid for writing `*len` bytes; `from_len` NULL or
/// valid; `from` NULL or valid for writing `*from_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_recvfrom(
    s: *mut ipcx_sock,
    buf: *mut c_void,
    len: *mut usize,
    from: *mut c_char,
    from_len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    let r = call_on("ipcx_sock_recvfrom", s, |s| {
        if !from.is_null() && from_len.is_null() {
            return Err(Error::invalid(
                "from is not NULL but from_len is: give the capacity of from in *from_len",
            ));
        }
        let want_from = !from_len.is_null();
        let deadline = Deadline::from_ms(timeout_ms)?;
        let len = unsafe { out(len, "len") }?;
        let dst = unsafe { bytes_mut(buf, *len, "buf") }?;
        if want_from {
            // Checked before anything is received: a NULL `from` with a capacity.
            unsafe { bytes_mut(from.cast(), *from_len, "from") }?;
        }
        let mut size = None;
        let r = s.0.recvfrom(dst, &deadline, |n, a| {
            size = Some(n);
            if !want_from {
                return Ok(());
            }
            // The address does not fit: TOO_BIG about `from`, whose length `text_out` has
            // written; `*len` gets the datagram's size below.
            unsafe { text_out(from, from_len, &a.text()) }
        });
        match r {
            Ok(n) => {
                *len = n;
                Ok(())
            }
            Err(e) => {
                // TOO_BIG (the datagram or its sender's address does not fit): the
                // datagram's size, whichever it was.
                if let (Status::IPCX_ERR_TOO_BIG, Some(n)) = (e.status, size) {
                    *len = n;
                }
                Err(e)
            }
        }
    });
    if r != Status::IPCX_OK && r != Status::IPCX_ERR_TOO_BIG {
        // SAFETY: per the contract; "" and length 0 on failure.
        unsafe {
            if let Some(n) = from_len.as_mut() {
                if *n > 0 && !from.is_null() {
                    *from = 0;
                }
                *n = 0;
            }
        }
    }
    r
}

/// Send one message with `nfds` descriptors attached (SCM_RIGHTS; Unix sockets). The
/// receiver gets new descriptors for the same open files (`ipcx_sock_recv_fds`).
///
/// Arguments: `buf`/`len` the message; `fds`/`nfds`: 1..=`IPCX_SOCK_FDS_MAX` (253) open
/// descriptors (the caller keeps its own: close them when no longer needed);
/// `timeout_ms`. The receiver may be any process holding the other end: a forked child, or
/// an unrelated process connected by name. Otherwise as `ipcx_sock_send`; on a stream
/// socket the message needs at least one byte (the kernel attaches descriptors to bytes).
/// Returns: `IPCX_OK` once the message and its descriptors are sent.
/// Errors: as for `ipcx_sock_send`, and `IPCX_ERR_INVALID` (`nfds` 0 or above 253, NULL
/// or misaligned `fds`, a descriptor that is not open), `IPCX_ERR_UNSUPPORTED` (not a Unix
/// socket). On `IPCX_ERR_TIMEOUT` nothing was sent, descriptors included.
/// Ownership: the caller keeps `buf`, `fds` and its descriptors.
/// Fork: see `ipcx_sock`.
///
/// # Safety
/// `buf` NULL or valid for reading `len` bytes; `fds` NULL or valid for reading `nfds`
/// ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_send_fds(
    s: *mut ipcx_sock,
    buf: *const c_void,
    len: usize,
    fds: *const c_int,
    nfds: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_sock_send_fds", s, |s| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        sock::cmsg::check_send_count(nfds)?;
        let fds = unsafe { array(fds, nfds, "fds") }?;
        s.0.send_fds(unsafe { bytes(buf, len, "buf") }?, fds, &deadline)
    })
}

/// Receive one message and the descriptors sent with it (Unix sockets). Received
/// descriptors are close-on-exec and owned by the caller.
///
/// Arguments: `buf`/`len` as for `ipcx_sock_recv`; `fds` receives the descriptors; `nfds`
/// in: the capacity of `fds` (at least 1), out: how many were handed over; `timeout_ms`.
/// Returns: `IPCX_OK` with the message and `*nfds` descriptors (0 if it carried none).
/// `IPCX_ERR_LIMIT` is a distinct result: descriptors were cut, because the message
/// carried more than `fds` holds or because the kernel could not install them all
/// (MSG_CTRUNC: the process is at RLIMIT_NOFILE). The message IS delivered (`*len`), and
/// the first `*nfds` descriptors are handed over: the caller owns them; ipcx closed the
/// others. Nothing ever leaks.
/// On a stream socket, descriptors arrive with the message they were sent with. Use this
/// call for every receive from the first message that may carry descriptors: a plain
/// `ipcx_sock_recv` before it may read ahead past its message, and the kernel then closes
/// the descriptors of the bytes it read.
/// Errors: as for `ipcx_sock_recv` (with `IPCX_ERR_TOO_BIG` the message and its
/// descriptors stay queued), and `IPCX_ERR_INVALID` (`*nfds` 0, NULL or misaligned `fds`,
/// NULL `nfds`), `IPCX_ERR_UNSUPPORTED` (not a Unix socket). On errors other than
/// `IPCX_ERR_LIMIT`, `*nfds` is 0.
/// Ownership: the caller owns the `*nfds` descriptors handed over and closes them.
/// Fork: see `ipcx_sock`: receive on a given socket in one process only.
///
/// # Safety
/// `len`/`nfds` NULL or valid; `buf` NULL or valid for writing `*len` bytes; `fds` NULL or
/// valid for writing `*nfds` ints.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_recv_fds(
    s: *mut ipcx_sock,
    buf: *mut c_void,
    len: *mut usize,
    fds: *mut c_int,
    nfds: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    let cap = unsafe { nfds.as_ref() }.copied().unwrap_or(0);
    unsafe { set_opt(nfds, 0) };
    call_on("ipcx_sock_recv_fds", s, |s| {
        let nfds = unsafe { out(nfds, "nfds") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        let arr = unsafe { array_mut(fds, cap, "fds") }?;
        let mut cut = None;
        unsafe {
            recv_into(buf, len, |dst| {
                let r = s.0.recv_fds(dst, FdsOut { fds: arr }, &deadline)?;
                *nfds = r.nfds;
                cut = r.cut;
                Ok(r.len)
            })
        }?;
        cut.map_or(Ok(()), Err)
    })
}

/// The credentials of the connected peer (SO_PEERCRED), as the kernel recorded them when
/// the connection or pair was made: process id, user id, group id.
///
/// Arguments: `out_pid`, `out_uid`, `out_gid`: each optional (may be NULL).
/// Returns: `IPCX_OK` with the values wanted.
/// Errors: `IPCX_ERR_UNSUPPORTED` (not a Unix socket, or a connected datagram socket: the
/// kernel records credentials for stream and seqpacket connections and socket pairs),
/// `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. On failure
/// `*out_pid` is -1 and `*out_uid`, `*out_gid` are `(uint32_t)-1`.
/// Note: the pid is the process that connected (or created the pair); after fork it may
/// be another process that now uses the socket.
/// Ownership: nothing changes hands.
/// Fork: the values are fixed when the connection is made (see the note).
///
/// # Safety
/// Out-pointers must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_peer_credentials(
    s: *const ipcx_sock,
    out_pid: *mut i32,
    out_uid: *mut u32,
    out_gid: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(out_pid, -1);
        set_opt(out_uid, u32::MAX);
        set_opt(out_gid, u32::MAX);
    }
    call_on("ipcx_sock_peer_credentials", s, |s| {
        let (p, u, g) = s.0.peer_credentials()?;
        unsafe {
            set_opt(out_pid, p);
            set_opt(out_uid, u);
            set_opt(out_gid, g);
        }
        Ok(())
    })
}

/// The socket's own address as text (`"/path"`, `"@name"`, `""` for an unnamed Unix
/// socket, `"127.0.0.1:4000"`, `"[::1]:4000"`).
///
/// Arguments and errors as for `ipcx_sock_listener_address` (a text out-buffer: `*len` is
/// always the text length without its NUL).
/// Returns: `IPCX_OK` with the text in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_TOO_BIG`, `IPCX_ERR_INVALID`, `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// Ownership: the caller keeps `buf`.
/// Fork: the same in every process that holds the socket.
///
/// # Safety
/// `len` NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_local_address(
    s: *const ipcx_sock,
    buf: *mut c_char,
    len: *mut usize,
) -> ipcx_status {
    call_on("ipcx_sock_local_address", s, |s| unsafe {
        addr_out(&s.0.local_address()?, buf, len)
    })
}

/// The connected peer's address as text (forms as for `ipcx_sock_local_address`).
///
/// Arguments and errors as for `ipcx_sock_listener_address` (a text out-buffer: `*len` is
/// always the text length without its NUL), and `IPCX_ERR_CLOSED` when the socket is not
/// connected (an unconnected datagram socket, a reset connection).
/// Returns: `IPCX_OK` with the text in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_CLOSED`, `IPCX_ERR_TOO_BIG`, `IPCX_ERR_INVALID`,
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// Ownership: the caller keeps `buf`.
/// Fork: the same in every process that holds the socket.
///
/// # Safety
/// `len` NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_peer_address(
    s: *const ipcx_sock,
    buf: *mut c_char,
    len: *mut usize,
) -> ipcx_status {
    call_on("ipcx_sock_peer_address", s, |s| unsafe {
        addr_out(&s.0.peer_address()?, buf, len)
    })
}

/// Turn TCP_NODELAY on (the default for ipcx TCP connections: each message leaves at once)
/// or off (Nagle's algorithm coalesces small writes, for raw byte streams written in small
/// pieces).
///
/// Arguments: `s` a TCP connection; `on` the setting.
/// Returns: `IPCX_OK` once set.
/// Errors: `IPCX_ERR_INVALID` (NULL handle; not a TCP connection), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`.
/// Ownership: nothing changes hands.
/// Fork: the setting is the kernel socket's: every process sharing it sees it.
///
/// # Safety
/// None beyond the C contract: `s` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sock_set_nodelay(s: *mut ipcx_sock, on: bool) -> ipcx_status {
    call_on("ipcx_sock_set_nodelay", s, |s| s.0.set_nodelay(on))
}
