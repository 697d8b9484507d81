// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for channels (`ipcx_chan`): one message API over every transport.

use std::ffi::{c_char, c_int, c_void};

use super::common::{IPCX_OPEN_NONBLOCK, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::common::{iov_arg, ipcx_iov, ipcx_options};
use super::{
    Info, bytes, call, call_on, handle, info_out, options, out, recv_into, set_opt, str_arg,
};
use crate::chan::{self, Chan, ChanFlags, Role, Transport};
use crate::error::{Error, Result, Status, ipcx_status};
use crate::flags::Access;
use crate::time::Deadline;
use crate::time::Timeout;

/// One end of a channel: a sender or the receiver. Opaque.
///
/// A channel carries whole messages one way, from any number of senders to one receiver
/// (ZeroMQ PUSH/PULL, nng push/pull). The transport is chosen by the address string
/// given to `ipcx_chan_open` or `ipcx_chan_pair`; every call is the same for every
/// transport. Request/reply is two channels (each side receives on its own).
/// Thread safety: a handle may be used by one thread at a time.
/// Fork: the child inherits the handle. Use each handle in one process: a child closes
/// what it inherited and does not use (or just exits); closing an inherited receiver in
/// the child removes nothing (only the process that created the object removes it).
/// Descriptors are close-on-exec.
/// Every function taking a handle returns `IPCX_ERR_INVALID` for NULL and
/// `IPCX_ERR_BAD_HANDLE` for a closed one.
#[allow(non_camel_case_types)]
pub struct ipcx_chan(Chan);

impl handle::Handle for ipcx_chan {
    const KIND: u32 = 60;
    const NAME: &'static str = "ipcx_chan";
}

/// Flag (`ipcx_chan_open`, receivers of fifo:, mq:, sysvmq: and shm:): open the object
/// someone else created (waiting up to the timeout for it to appear) instead of creating
/// it.
pub const IPCX_CHAN_NO_CREATE: u32 = 0x10000;
/// Flag (`ipcx_chan_open`, receivers): close leaves the object this receiver created in
/// place (with its queued messages). No effect where nothing persists (pipe:, sockets).
pub const IPCX_CHAN_KEEP: u32 = 0x20000;
/// Flag (`ipcx_chan_open`): several senders will use the channel. For shm: the receiver
/// creates a multi-producer ring (and a sender requires one); every other transport but
/// pipe: always allows several senders and accepts the flag as is.
pub const IPCX_CHAN_MULTI_SENDER: u32 = 0x40000;
/// Flag (`ipcx_chan_open`, `nng+...:` and `zmq+...:` addresses): this end listens and the
/// other side connects. The default for receivers; a sender that listens accepts any
/// number of receivers (PULL sockets) and hands each message to one of those connected
/// at that moment, in turn, as a PUSH socket does.
pub const IPCX_CHAN_LISTEN: u32 = 0x80000;
/// Flag (`ipcx_chan_open`, `nng+...:` and `zmq+...:` addresses): this end connects to the
/// other side, which listens. The default for senders; a receiver that connects receives
/// from one listening PUSH socket (waiting up to its open timeout for it to be there).
pub const IPCX_CHAN_DIAL: u32 = 0x100000;

/// The role and options `ipcx_chan_open`'s flags select: unknown bits, then the role,
/// are refused here; the combinations that depend on the address are the channel's.
fn chan_flags(flags: u32) -> Result<(Role, ChanFlags)> {
    crate::flags::check(
        flags,
        IPCX_OPEN_WRITE
            | IPCX_OPEN_READ
            | IPCX_CHAN_NO_CREATE
            | IPCX_CHAN_KEEP
            | IPCX_CHAN_MULTI_SENDER
            | IPCX_CHAN_LISTEN
            | IPCX_CHAN_DIAL
            | IPCX_OPEN_NONBLOCK,
        "IPCX_OPEN_WRITE or IPCX_OPEN_READ, IPCX_CHAN_NO_CREATE, IPCX_CHAN_KEEP, \
         IPCX_CHAN_MULTI_SENDER, IPCX_CHAN_LISTEN or IPCX_CHAN_DIAL, IPCX_OPEN_NONBLOCK",
    )?;
    let role = match Access::from_c(flags) {
        Some(Access::Write) => Role::Send,
        Some(Access::Read) => Role::Recv,
        _ => {
            return Err(Error::invalid(
                "channel flags must contain exactly one of IPCX_OPEN_WRITE and IPCX_OPEN_READ",
            ));
        }
    };
    let on = |c: u32| flags & c != 0;
    let opts = ChanFlags::NONE
        .with(ChanFlags::NO_CREATE, on(IPCX_CHAN_NO_CREATE))
        .with(ChanFlags::KEEP, on(IPCX_CHAN_KEEP))
        .with(ChanFlags::MULTI_SENDER, on(IPCX_CHAN_MULTI_SENDER))
        .with(ChanFlags::LISTEN, on(IPCX_CHAN_LISTEN))
        .with(ChanFlags::DIAL, on(IPCX_CHAN_DIAL))
        .with(ChanFlags::NONBLOCK, on(IPCX_OPEN_NONBLOCK));
    Ok((role, opts))
}

/// `ipcx_chan_info.transport`: `pipe:`.
pub const IPCX_CHAN_PIPE: u32 = 1;
/// `ipcx_chan_info.transport`: `fifo:/path`.
pub const IPCX_CHAN_FIFO: u32 = 2;
/// `ipcx_chan_info.transport`: `unix:/path` (or a `unix:` pair).
pub const IPCX_CHAN_UNIX: u32 = 3;
/// `ipcx_chan_info.transport`: `unix:@name` (a Unix socket with an abstract name).
pub const IPCX_CHAN_UNIX_ABSTRACT: u32 = 4;
/// `ipcx_chan_info.transport`: `tcp:host:port`.
pub const IPCX_CHAN_TCP: u32 = 5;
/// `ipcx_chan_info.transport`: `mq:/name` (POSIX message queue).
pub const IPCX_CHAN_MQ: u32 = 6;
/// `ipcx_chan_info.transport`: `sysvmq:key[/type]` (System V message queue).
pub const IPCX_CHAN_SYSVMQ: u32 = 7;
/// `ipcx_chan_info.transport`: `shm:/name` (shared-memory ring; or a `shm:` pair).
pub const IPCX_CHAN_SHM: u32 = 8;
/// `ipcx_chan_info.transport`: `nng+tcp:host:port` (nng/nanomsg PUSH/PULL over TCP).
pub const IPCX_CHAN_NNG_TCP: u32 = 9;
/// `ipcx_chan_info.transport`: `nng+ipc:/path` or `nng+ipc:@name` (nng/nanomsg PUSH/PULL
/// over a Unix stream socket).
pub const IPCX_CHAN_NNG_IPC: u32 = 10;
/// `ipcx_chan_info.transport`: `zmq+tcp:host:port` (ZeroMQ PUSH/PULL over TCP).
pub const IPCX_CHAN_ZMQ_TCP: u32 = 11;
/// `ipcx_chan_info.transport`: `zmq+ipc:/path` or `zmq+ipc:@name` (ZeroMQ PUSH/PULL over a
/// Unix stream socket).
pub const IPCX_CHAN_ZMQ_IPC: u32 = 12;
const _: () = assert!(
    IPCX_CHAN_PIPE == Transport::Pipe as u32
        && IPCX_CHAN_FIFO == Transport::Fifo as u32
        && IPCX_CHAN_UNIX == Transport::Unix as u32
        && IPCX_CHAN_UNIX_ABSTRACT == Transport::UnixAbstract as u32
        && IPCX_CHAN_TCP == Transport::Tcp as u32
        && IPCX_CHAN_MQ == Transport::Mq as u32
        && IPCX_CHAN_SYSVMQ == Transport::SysvMq as u32
        && IPCX_CHAN_SHM == Transport::Shm as u32
        && IPCX_CHAN_NNG_TCP == Transport::NngTcp as u32
        && IPCX_CHAN_NNG_IPC == Transport::NngIpc as u32
        && IPCX_CHAN_ZMQ_TCP == Transport::ZmqTcp as u32
        && IPCX_CHAN_ZMQ_IPC == Transport::ZmqIpc as u32
);

/// `ipcx_chan_info.caps` bit: several senders may send at once.
pub const IPCX_CHAN_CAP_MULTI_SENDER: u32 = 1;
/// `ipcx_chan_info.caps` bit: `ipcx_chan_fd` gives a descriptor to poll, for the events
/// in `ipcx_chan_info.fd_events`: receivers of every transport but sysvmq: (readable when
/// a receive may progress); senders of pipe:, fifo:, unix:, tcp:, mq:, and of nng+... and
/// zmq+... when they dial (writable when a send may progress); shm: senders (the ring's
/// room descriptor: readable when room may be there); not sysvmq: senders, nor senders
/// that listen.
pub const IPCX_CHAN_CAP_POLL: u32 = 2;
/// `ipcx_chan_info.caps` bit: this end is told `IPCX_ERR_CLOSED` when the other side is
/// gone (closed or dead); without it, it only sees timeouts.
pub const IPCX_CHAN_CAP_PEER_CLOSED: u32 = 4;
/// `ipcx_chan_info.caps` bit: queued messages outlive the processes (queues, named
/// rings): they stay until received or the object is removed.
pub const IPCX_CHAN_CAP_PERSISTENT: u32 = 8;
const _: () = assert!(
    IPCX_CHAN_CAP_MULTI_SENDER == chan::CAP_MULTI_SENDER
        && IPCX_CHAN_CAP_POLL == chan::CAP_POLL
        && IPCX_CHAN_CAP_PEER_CLOSED == chan::CAP_PEER_CLOSED
        && IPCX_CHAN_CAP_PERSISTENT == chan::CAP_PERSISTENT
);

/// `ipcx_chan_info.fd_events` value: watch `ipcx_chan_fd` for reading. Equal to `POLLIN`
/// of `<poll.h>` and `EPOLLIN` of `<sys/epoll.h>` (libuv: `UV_READABLE`; Asio:
/// `wait_read`; glib: `G_IO_IN`).
pub const IPCX_CHAN_POLL_IN: u32 = 0x1;
/// `ipcx_chan_info.fd_events` value: watch `ipcx_chan_fd` for writing. Equal to `POLLOUT`
/// of `<poll.h>` and `EPOLLOUT` of `<sys/epoll.h>` (libuv: `UV_WRITABLE`; Asio:
/// `wait_write`; glib: `G_IO_OUT`).
pub const IPCX_CHAN_POLL_OUT: u32 = 0x4;
const _: () = assert!(
    IPCX_CHAN_POLL_IN == libc::POLLIN as u32
        && IPCX_CHAN_POLL_OUT == libc::POLLOUT as u32
        && IPCX_CHAN_POLL_IN == libc::EPOLLIN as u32
        && IPCX_CHAN_POLL_OUT == libc::EPOLLOUT as u32
);

/// What `ipcx_chan_stat` reports about a channel end. A growable struct: set `size` to
/// `sizeof(ipcx_chan_info)` before the call (`ipcx_chan_info info = { .size = sizeof info };`);
/// the library writes the fields that fit and sets `size` to the bytes it wrote.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ipcx_chan_info {
    /// In: the size of the caller's struct (at least the 0.2 size); out: the bytes written.
    pub size: u32,
    /// The transport: `IPCX_CHAN_PIPE` ... `IPCX_CHAN_ZMQ_IPC`.
    pub transport: u32,
    /// The role: `IPCX_OPEN_WRITE` (a sender) or `IPCX_OPEN_READ` (the receiver).
    pub role: u32,
    /// `IPCX_CHAN_CAP_*` bits for this end.
    pub caps: u32,
    /// The largest message a send accepts and a receive may return, in bytes.
    pub max_message: usize,
    /// True when this handle owns the object (FIFO, socket file, queue, ring): a receiver
    /// opened without `IPCX_CHAN_NO_CREATE`, which created it or adopted the one a
    /// previous receiver left (sysvmq: only the receiver that created the queue, since
    /// its other types are other channels). Close removes it unless `IPCX_CHAN_KEEP` was
    /// given.
    pub created: bool,
    /// sysvmq: the queue id (for ipcs, `ipcx_msgq_open_id`); -1 for other transports.
    pub sysv_id: i32,
    /// An address a sender can open: the one given, or for `tcp:host:0` the port the
    /// receiver got. NUL-terminated, owned by the handle, valid until it is closed.
    pub address: *const c_char,
    /// The object's path (fifo:, unix:/path, nng+ipc:/path, zmq+ipc:/path) or name (mq:,
    /// shm:), "" when it has none. Owned by the handle, valid until it is closed.
    pub object: *const c_char,
    /// Connections this end closed at once because the peer was not allowed to connect
    /// (`ipcx_options_set_allowed_uids`, `_gids`, `_networks`): senders refused by a
    /// receiver, receivers refused by a sender that listens. Added after 0.2.0: a caller
    /// whose `size` stops before it does not get it.
    pub refused: u64,
    /// The event to watch on `ipcx_chan_fd` for this end: `IPCX_CHAN_POLL_IN` (readable:
    /// every receiver, and shm: senders, whose descriptor is the ring's room descriptor,
    /// an epoll descriptor that is never writable) or `IPCX_CHAN_POLL_OUT` (writable: the
    /// other senders that have a descriptor); 0 when the end has none (no
    /// `IPCX_CHAN_CAP_POLL`). Added after 0.2.0: a caller whose `size` stops before it
    /// does not get it.
    pub fd_events: u32,
}

// SAFETY: repr(C), starts with the u32 size, plain data copied bytewise.
unsafe impl Info for ipcx_chan_info {
    /// The 0.2.0 struct ended with `object`.
    const MIN_SIZE: usize = std::mem::offset_of!(ipcx_chan_info, refused);

    fn failed() -> ipcx_chan_info {
        ipcx_chan_info {
            size: 0,
            transport: 0,
            role: 0,
            caps: 0,
            max_message: 0,
            created: false,
            sysv_id: -1,
            address: std::ptr::null(),
            object: std::ptr::null(),
            refused: 0,
            fd_events: 0,
        }
    }
}

/// Longest address accepted (a path of PATH_MAX plus a scheme).
const ADDRESS_MAX: usize = crate::name::PATH_MAX + 64;

/// Open one end of a channel.
///
/// Arguments:
/// - `address`: the transport and the object, one of `fifo:/path`, `unix:/path`,
///   `unix:@name` (a Unix socket in the abstract namespace, written as in the socket
///   functions; the name may not itself start with `@`), `tcp:host:port`
///   (`tcp:[v6]:port`; port 0 lets a receiver pick one, see `ipcx_chan_stat`), `mq:/name`
///   (POSIX queue), `sysvmq:key[/type]` (key decimal or 0x-hex, not 0; type > 0, default
///   1: the sub-channel, so several channels share one queue), `shm:/name`
///   (shared-memory ring). `pipe:`, and `unix:` and `shm:` without a name, are unnamed:
///   use `ipcx_chan_pair`. The wire protocols of other libraries, so that the other end
///   may be their program: `nng+tcp:host:port`, `nng+ipc:/path`, `nng+ipc:@name` (nng and
///   nanomsg PUSH/PULL: their `tcp://host:port`, `ipc:///path`, `abstract://name`);
///   `zmq+tcp:host:port`, `zmq+ipc:/path`, `zmq+ipc:@name` (ZeroMQ PUSH/PULL, ZMTP 3.1
///   with the NULL mechanism: its `tcp://host:port`, `ipc:///path`, `ipc://@name`). An
///   ipcx sender is a PUSH socket, an ipcx receiver a PULL socket.
/// - `flags`: exactly one of `IPCX_OPEN_WRITE` (a sender) / `IPCX_OPEN_READ` (the
///   receiver); receivers may add `IPCX_CHAN_NO_CREATE` and `IPCX_CHAN_KEEP`;
///   `IPCX_CHAN_MULTI_SENDER` (any role); for the `nng+` and `zmq+` addresses, at most one
///   of `IPCX_CHAN_LISTEN` (a sender that listens) and `IPCX_CHAN_DIAL` (a receiver that
///   connects to a listening sender); senders may add `IPCX_OPEN_NONBLOCK`: open without
///   waiting, for event loops; `timeout_ms` is then not used and no retry waits for the
///   receiver. `tcp:`, `nng+tcp:` and `zmq+tcp:` (dialing) take a numeric address then:
///   the connect is started and goes on in the background (the nng/ZeroMQ greeting is
///   sent once it is done), the sender's descriptor becomes writable when it is done, and
///   a send before that returns `IPCX_ERR_TIMEOUT` with `IPCX_NOWAIT`; a refused connect is
///   reported by the sends, `IPCX_ERR_NOT_FOUND`, or `IPCX_ERR_CLOSED` for one that timed
///   out. `unix:`, `nng+ipc:` and `zmq+ipc:` connect at once, or fail: `IPCX_ERR_NOT_FOUND`
///   with no receiver, `IPCX_ERR_TIMEOUT` with its backlog full. `fifo:`, `mq:`, `sysvmq:`
///   and `shm:` open their object if it is ready now (a FIFO with a reader, the queue or
///   ring the receiver created), else fail at once with `IPCX_ERR_TIMEOUT` (the kernel has
///   no event for a FIFO reader arriving or a queue or ring appearing: retry the open from
///   a timer of the loop). A sender that listens (`IPCX_CHAN_LISTEN`) never waits anyway.
/// - `opts`: may be NULL. Honoured per transport (anything else is `IPCX_ERR_INVALID`
///   naming the option, the transport and what it supports): max_message (all; fifo: at
///   most 4092); capacity (pipe/FIFO buffer, socket buffers, System V queue bytes, ring
///   bytes); max_messages (mq: depth); spin (shm:); mode (objects the receiver creates,
///   default 0600 applied exactly; not `unix:@name`); sigpipe_guard (pipe:, fifo:);
///   keepalive (tcp:, nng+tcp:, zmq+tcp:); allowed_uids and allowed_gids (Unix sockets:
///   unix:, nng+ipc:, zmq+ipc:), allowed_networks (tcp:, nng+tcp:, zmq+tcp:): who may
///   connect (see `ipcx_options_set_allowed_uids`). Sizes given to an end that opens an
///   existing queue or ring must match it.
/// - `timeout_ms`: how long a sender (or a `NO_CREATE` receiver, or a `DIAL` receiver)
///   waits for the object to appear and accept it (a FIFO reader, a listener, a queue, a
///   ring), and for a peer library's socket to complete its handshake; an end that
///   creates its object or listens does not wait.
/// - `out_chan` receives the channel end.
///
/// Semantics: the receiver creates the object (adopting an existing one of the right
/// kind, with the messages it holds); senders open it. Guarantees per transport
/// (docs/channel.md explains each):
///
/// | address | senders | order | max message (default) | receiver, senders gone | sender, receiver gone | after a crash |
/// |---|---|---|---|---|---|---|
/// | pipe: | one | FIFO | max_message (1 MiB) | CLOSED | CLOSED | nothing |
/// | fifo:/path | many | per sender | 4092 (PIPE_BUF - 4: atomic) | CLOSED | CLOSED | the FIFO file (data lost) |
/// | unix:/path, unix:@name | many | per sender, fair | max_message (1 MiB) | CLOSED | CLOSED | a socket file (replaced by the next receiver) |
/// | tcp:host:port | many | per sender, fair | max_message (1 MiB) | CLOSED | CLOSED | nothing |
/// | mq:/name | many | arrival (per sender) | mq_msgsize (msgsize_default) | timeout only | timeout (queue full) | queue and messages |
/// | sysvmq:key/type | many | arrival (per sender) | msgmax | timeout only | CLOSED if it removed the queue, else timeout | queue and messages |
/// | shm:/name | one (MULTI_SENDER: 63) | per sender | capacity/2 - 16 | CLOSED (within ~100 ms) | CLOSED | ring and messages (recovered by the next open) |
/// | nng+tcp:, nng+ipc:, zmq+tcp:, zmq+ipc: | many | per sender, fair | max_message (1 MiB) | CLOSED (DIAL: its one sender, sticky) | CLOSED (LISTEN: waits for a receiver) | ipc: a socket file |
///
/// Messages always arrive whole; a receiver's `IPCX_ERR_CLOSED` comes after every message
/// sent before is delivered, and is not sticky (a new sender makes the channel work again).
/// Returns: `IPCX_OK` with the channel end in `*out_chan`.
/// Errors: `IPCX_ERR_INVALID` (NULL or malformed address, the message naming what was
/// expected, including the 0.1 form `unix-abstract:name`; unknown flags, not exactly one
/// role, NO_CREATE or KEEP for a sender, LISTEN or DIAL with another transport, both;
/// IPCX_OPEN_NONBLOCK for a receiver, or over TCP with a host name or with
/// allowed_networks; unsupported option; NULL `out_chan`; bad timeout; shm: a POSIX shared-memory object
/// that is not an ipcx ring),
/// `IPCX_ERR_EXISTS` (a file of another kind at a fifo:, unix: or ipc path; it is left
/// untouched),
/// `IPCX_ERR_TIMEOUT` (a sender found nothing to open in time, or at once with
/// `IPCX_OPEN_NONBLOCK`, or the peer did not complete its handshake; the message says
/// why),
/// `IPCX_ERR_PROTOCOL` (the peer that answered is not a socket this end can talk to: not
/// nng/ZeroMQ, the wrong socket type, a security mechanism other than NULL; the message
/// names what it is),
/// `IPCX_ERR_IN_USE` (address in use by a live receiver: sockets, shm:),
/// `IPCX_ERR_PERMISSION` (also: the peer an end connected to is not allowed by its
/// allowed_* options), `IPCX_ERR_LIMIT` (a system limit, named with its value: msgmax,
/// msg_max, msgsize_max, descriptors, /dev/shm), `IPCX_ERR_NOT_FOUND` (tcp: host not
/// resolved), `IPCX_ERR_UNSUPPORTED`, `IPCX_ERR_BAD_HANDLE` (closed options),
/// `IPCX_ERR_INTERRUPTED`. On failure `*out_chan` is NULL.
/// Ownership: close with `ipcx_chan_close`.
/// Fork: see `ipcx_chan`; an unrelated process opens the same address.
///
/// # Safety
/// `address` must be NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_chan` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_open(
    address: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    timeout_ms: i64,
    out_chan: *mut *mut ipcx_chan,
) -> ipcx_status {
    unsafe { set_opt(out_chan, std::ptr::null_mut()) };
    call("ipcx_chan_open", || {
        let o = unsafe { out(out_chan, "out_chan") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        let address = unsafe { str_arg(address, "address", ADDRESS_MAX) }?;
        let opts = unsafe { options(opts) }?;
        let (role, flags) = chan_flags(flags)?;
        let c = Chan::open(address, role, flags, &opts, &deadline)?;
        *o = handle::into_raw(ipcx_chan(c))?;
        Ok(())
    })
}

/// Make both ends of an unnamed channel at once, to share across fork (create, fork,
/// each process closes the end it does not use).
///
/// Arguments: `address`: `"pipe:"` (an anonymous pipe), `"unix:"` (a Unix stream socket
/// pair) or `"shm:"` (an anonymous shared-memory ring); `flags`: 0 (no flag applies yet);
/// `opts` may be NULL (honoured: max_message, capacity; pipe: sigpipe_guard; shm: spin);
/// `out_send`, `out_recv` receive the sender and the receiver.
/// Semantics: one sender. The receiver gets `IPCX_ERR_CLOSED` once every copy of the send
/// end is closed (every process that inherited it closed it or exited) and the messages
/// sent before are delivered; the sender gets `IPCX_ERR_CLOSED` once the receive end is
/// gone.
/// Returns: `IPCX_OK` with both ends set.
/// Errors: `IPCX_ERR_INVALID` (NULL address or out-parameter; a named or malformed
/// address, which `ipcx_chan_open` takes; unknown flags; unsupported option),
/// `IPCX_ERR_LIMIT` (descriptors, memory, too many handles), `IPCX_ERR_BAD_HANDLE`
/// (closed options). On failure both out-handles are NULL.
/// Ownership: close each end with `ipcx_chan_close`.
/// Fork: see `ipcx_chan`.
///
/// # Safety
/// `address` must be NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// the out-pointers NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_pair(
    address: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_send: *mut *mut ipcx_chan,
    out_recv: *mut *mut ipcx_chan,
) -> ipcx_status {
    unsafe {
        set_opt(out_send, std::ptr::null_mut());
        set_opt(out_recv, std::ptr::null_mut());
    }
    call("ipcx_chan_pair", || {
        let s = unsafe { out(out_send, "out_send") }?;
        let r = unsafe { out(out_recv, "out_recv") }?;
        let address = unsafe { str_arg(address, "address", ADDRESS_MAX) }?;
        crate::flags::check(flags, 0, "no flags: 0")?;
        let (a, b) = Chan::pair(address, &unsafe { options(opts) }?)?;
        (*s, *r) = handle::into_raw_pair(ipcx_chan(a), ipcx_chan(b))?;
        Ok(())
    })
}

/// Send one message. The receiver gets it whole. A zero-length message is valid.
///
/// Arguments: `buf`/`len` the message (`buf` may be NULL when `len` is 0); `timeout_ms`
/// bounds the wait for room (a full pipe, socket buffer, queue or ring).
/// Returns: `IPCX_OK` once the message is accepted (copied into the transport; over a
/// stream whose send timed out midway, its tail is kept and written first by the next
/// send, so messages are never cut).
/// Errors: `IPCX_ERR_TIMEOUT` (no room in time, or, zmq+: the receiver has not yet
/// answered the handshake a ZeroMQ peer needs before the first message, or, a sender
/// with `IPCX_CHAN_LISTEN`: no receiver is connected, or, a tcp:, nng+tcp: or zmq+tcp:
/// sender opened with `IPCX_OPEN_NONBLOCK`: its connect is still in progress; nothing was
/// sent), `IPCX_ERR_NOT_FOUND` (such a sender whose connect was refused or found no
/// route: at every send), `IPCX_ERR_CLOSED`
/// (the receiver is gone, where the transport can tell; no SIGPIPE is raised),
/// `IPCX_ERR_TOO_BIG` (above the channel's max_message, see `ipcx_chan_stat`),
/// `IPCX_ERR_INVALID` (NULL handle, a receiver handle, NULL buffer with a length, bad
/// timeout), `IPCX_ERR_PROTOCOL` (shm: corrupted ring; nng+, zmq+: the peer is not a
/// receiver of that protocol, the message says what it is), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE` (another thread is inside a call on this handle),
/// `IPCX_ERR_INTERRUPTED`.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_chan`.
///
/// # Safety
/// `buf` must be NULL or valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_send(
    c: *mut ipcx_chan,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_chan_send", c, |c| {
        c.0.send(
            unsafe { bytes(buf, len, "buf") }?,
            Timeout::from_ms(timeout_ms)?,
        )
    })
}

/// Send several messages in order, as one call: over byte streams (pipe:, unix:, tcp:) as
/// many messages per system call as fit (one write of up to 512 frames, one SIGPIPE guard
/// for all), so that a sender that has several messages queued pays one system call for
/// them instead of one each; over the other transports one send each. Each message
/// arrives whole and separately, exactly as if sent by `ipcx_chan_send` one after the
/// other; nothing is delayed or held back: the call writes at once and returns when every
/// message is accepted or the timeout expires.
///
/// Arguments: `msgs`/`count` the messages (`msgs` may be NULL when `count` is 0; an entry's
/// `buf` may be NULL when its `len` is 0); `timeout_ms` bounds the whole call (the wait for
/// room, over all messages); `out_sent` (may be NULL) receives how many messages were
/// accepted, the first `*out_sent` of the array, also on failure.
/// Returns: `IPCX_OK` when all `count` messages are accepted (`*out_sent` is `count`); as
/// with `ipcx_chan_send`, a message cut by the timeout midway is accepted, its tail kept
/// and written first by the next send or flush.
/// Errors: those of `ipcx_chan_send`, for the first message not accepted: `*out_sent`
/// tells which (`IPCX_ERR_TIMEOUT`: messages from `*out_sent` on were not sent, send them
/// again; `IPCX_ERR_CLOSED`: the receiver left after `*out_sent` messages were written
/// whole). `IPCX_ERR_TOO_BIG` (a message above the channel's max_message: the sizes are
/// checked first, nothing is sent), `IPCX_ERR_INVALID` also for a NULL `msgs` with a count
/// or an entry with a NULL `buf` and a length (nothing is sent).
/// Ownership: the caller keeps `msgs` and the bytes.
/// Fork: see `ipcx_chan`.
///
/// # Safety
/// `msgs` must be NULL or valid for reading `count` entries, each entry's `buf` NULL or
/// valid for reading its `len` bytes; `out_sent` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_send_many(
    c: *mut ipcx_chan,
    msgs: *const ipcx_iov,
    count: usize,
    timeout_ms: i64,
    out_sent: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_sent, 0) };
    call_on("ipcx_chan_send_many", c, |c| {
        let msgs = unsafe { iov_arg(msgs, count) }?;
        let (n, r) = c.0.send_many(&msgs, Timeout::from_ms(timeout_ms)?);
        unsafe { set_opt(out_sent, n) };
        r
    })
}

/// Write out the rest of a message that a send accepted but could not write whole
/// (byte-stream transports: pipe:, unix:, tcp:, nng+..., zmq+...; see `ipcx_chan_fd`),
/// waiting up to the timeout. The next send does this first anyway; an event loop calls
/// it with `IPCX_NOWAIT` when it has nothing more to send, and again when the sender's
/// descriptor is writable, until it returns `IPCX_OK`, so that its last message leaves
/// whole before it closes the sender.
///
/// Arguments: `timeout_ms` (`IPCX_NOWAIT`: write what fits now).
/// Returns: `IPCX_OK` when nothing of an accepted message is left in the handle (always,
/// at once, for fifo:, mq:, sysvmq: and shm:, which take messages whole).
/// Errors: `IPCX_ERR_TIMEOUT` (some is still left: wait for writability and call again),
/// `IPCX_ERR_CLOSED` (the receiver is gone; what was left is dropped), `IPCX_ERR_INVALID`
/// (NULL handle, a receiver handle, bad timeout), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`.
/// Ownership: nothing changes hands.
/// Fork: see `ipcx_chan`.
///
/// # Safety
/// None beyond the C contract: `c` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_flush(c: *mut ipcx_chan, timeout_ms: i64) -> ipcx_status {
    call_on("ipcx_chan_flush", c, |c| {
        c.0.flush(Timeout::from_ms(timeout_ms)?)
    })
}

/// Receive one message.
///
/// Arguments: `buf` receives the message; `len` in: the capacity of `buf`, out: the
/// message's length (with `IPCX_ERR_TOO_BIG`: the size needed); `timeout_ms`.
/// Senders: messages of one sender arrive in the order it sent them; several senders'
/// messages interleave (fairly, one message per connection in turn, for sockets).
/// Returns: `IPCX_OK` with one whole message in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing arrived in time), `IPCX_ERR_CLOSED` (every sender
/// is gone and everything they sent was delivered, where the transport can tell: pipe:,
/// fifo:, sockets, shm:; not sticky), `IPCX_ERR_TOO_BIG` (`*len` set to the size needed;
/// the message stays queued), `IPCX_ERR_PROTOCOL` (reported once, then the channel
/// receives again: over sockets a sender broke the framing and its connection was
/// dropped; over fifo: something other than an ipcx sender wrote into the FIFO, and what
/// the FIFO held at that moment was discarded with it, messages of well-behaved senders
/// included; over shm: a corrupted ring; over nng+ and zmq+: a peer that is not a sender
/// of that protocol, or broke it, was dropped, or a ZeroMQ message in several parts was
/// refused, its parts discarded and its connection kept; over nng+ and zmq+ with
/// `IPCX_CHAN_DIAL`, the one peer was dropped: the next receives say so again),
/// `IPCX_ERR_INVALID` (NULL handle or `len`, a sender handle, NULL `buf` with a nonzero
/// `*len`, bad timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`. On failure `*len` is unchanged, except with
/// `IPCX_ERR_TOO_BIG`, and what `buf` holds is unspecified: a byte-stream receive reads
/// part of a message into it before it knows the message is whole; the handle keeps those
/// bytes and the message stays queued whole.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_chan`: receive on a given end in one process only.
///
/// # Safety
/// `len` must be NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_recv(
    c: *mut ipcx_chan,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_chan_recv", c, |c| unsafe {
        recv_into(buf, len, |dst| c.0.recv(dst, Timeout::from_ms(timeout_ms)?))
    })
}

/// The descriptor to poll (poll/epoll/select, libuv, Boost.Asio): a receiver's is readable
/// when a receive may make progress (a message, a sender connecting or leaving); a
/// sender's is writable when a send may (a shm: sender's is readable: see below). The
/// event to watch is in `ipcx_chan_info.fd_events` (`ipcx_chan_stat`):
/// `IPCX_CHAN_POLL_IN` or `IPCX_CHAN_POLL_OUT`, so a loop need not know the transport.
///
/// Arguments: `out_fd` receives the descriptor.
///
/// Receivers: use it like an edge-triggered descriptor: when it is readable, receive with
/// `IPCX_NOWAIT` until `IPCX_ERR_TIMEOUT` (or `IPCX_ERR_CLOSED`), since messages already
/// taken from the kernel (read ahead, or a message kept after `IPCX_ERR_TOO_BIG`) do not
/// make it readable. The descriptor is the pipe or FIFO, the queue, the epoll descriptor
/// of a socket receiver (listener and connections), the ring's notification
/// descriptor, or the connection of a receiver that dialed (`IPCX_CHAN_DIAL`).
///
/// Senders (pipe:, fifo:, unix:, tcp:, mq:, and nng+... and zmq+... senders that dial,
/// the default): the transport's own descriptor (the pipe's or FIFO's write end, the
/// connection, the queue), so polling it costs nothing more. Poll it for POLLOUT: when it
/// is writable, a send with `IPCX_NOWAIT` makes progress (a pipe or FIFO has a free
/// buffer page, a socket room in its send buffer by the kernel's measure, a queue a free
/// slot); under back-pressure it is not writable, and it becomes writable again as the
/// receiver drains. POLLERR or POLLHUP: the receiver is gone, and the next send says
/// `IPCX_ERR_CLOSED`. A send with `IPCX_NOWAIT` never loses or cuts a message: it returns
/// `IPCX_OK` when the whole message was accepted, `IPCX_ERR_TIMEOUT` when nothing of it
/// was written. A message that only partly fits: over fifo: (a message is at most one
/// atomic write) and mq: it is not written at all (`IPCX_ERR_TIMEOUT`); over the byte
/// streams (pipe:, unix:, tcp:, nng+..., zmq+...) it is accepted once its first byte is
/// written (`IPCX_OK`): the handle keeps the rest and the next send writes it first, before
/// its own message, returning `IPCX_ERR_TIMEOUT` with nothing of its own message written
/// while the rest does not fit (so a loop waits for writability and sends again; with
/// nothing more to send it calls `ipcx_chan_flush` until `IPCX_OK` before closing, since
/// close writes only what fits of the rest without waiting). zmq+: the first send needs the
/// receiver's answer to the ZeroMQ handshake: until it came a send returns
/// `IPCX_ERR_TIMEOUT` with the descriptor writable; wait for it to be readable (the
/// answer) or make the first send with a timeout.
///
/// shm: senders: the ring producer's room descriptor (as `ipcx_ring_fd` of an `ipcx_ring`
/// producer), an epoll descriptor: poll it for POLLIN (`fd_events` is
/// `IPCX_CHAN_POLL_IN`), never POLLOUT. A send with `IPCX_NOWAIT` that finds the ring
/// full (`IPCX_ERR_TIMEOUT`) arms it; it becomes readable when the receiver has taken a
/// message since (one datagram from the receiver, paid only while armed), or when the
/// receiver is gone (the send then says `IPCX_ERR_CLOSED`). A wake-up means room may be
/// there: a message may still not fit (a larger one, or one where the ring wraps), and
/// its send re-arms the descriptor. Ask for it before the sends that may fill the ring
/// (asked for later, it may wake once without room). It may stay readable until a send
/// finds no room again, so stop watching it while there is nothing to send.
/// The descriptor stays owned by the channel: do not close, read or write it.
/// Returns: `IPCX_OK` with the descriptor in `*out_fd`.
/// Errors: `IPCX_ERR_UNSUPPORTED` with what a loop can do instead (sysvmq: System V
/// queues have no descriptor, either way: send or receive with `IPCX_NOWAIT` from a timer
/// of the loop, or with a timeout from a thread of its own; nng+ and zmq+ senders that listen,
/// `IPCX_CHAN_LISTEN`: a listener and a connection per receiver, no single descriptor),
/// `IPCX_ERR_INVALID` (NULL handle, NULL `out_fd`), `IPCX_ERR_IN_USE` (shm: another
/// handle polls this end of the ring; or another thread is inside a call on this handle),
/// `IPCX_ERR_LIMIT`, `IPCX_ERR_BAD_HANDLE`. On failure `*out_fd` is -1.
/// Ownership: the descriptor stays the channel's (borrowed: valid until the handle is
/// closed; dup it to keep it longer).
/// Fork: a shm: descriptor belongs to the process that asked for it; the others are
/// inherited with the handle.
///
/// # Safety
/// `out_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_fd(c: *const ipcx_chan, out_fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_chan_fd", c, |c| {
        let o = unsafe { out(out_fd, "out_fd") }?;
        *o = c.0.poll_fd()?;
        Ok(())
    })
}

/// Describe a channel end: transport, role, capabilities, largest message, the object
/// and an address a sender can open.
///
/// Arguments: `out_info` receives the description; set `out_info->size` to
/// `sizeof(ipcx_chan_info)` first (`ipcx_chan_info info = { .size = sizeof info };`):
/// the library writes the fields that fit in `size` bytes and sets `size` to the bytes it
/// wrote. Its strings are owned by the handle and valid until it is closed.
/// Returns: `IPCX_OK` with `*out_info` filled.
/// Errors: `IPCX_ERR_INVALID` (NULL handle or `out_info`; `out_info->size` below the 0.2
/// size of the struct), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. On failure the fields
/// that fit are zeroed (NULL strings, `sysv_id` -1), except with a `size` that is too
/// small, when nothing is written.
/// Ownership: the strings stay the handle's (see above).
/// Fork: a child's copy of the handle describes the same end.
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_stat(
    c: *const ipcx_chan,
    out_info: *mut ipcx_chan_info,
) -> ipcx_status {
    let s = call_on("ipcx_chan_stat", c, |c| unsafe {
        info_out(out_info, "out_info", || Ok(describe(&c.0)))
    });
    if s != Status::IPCX_OK {
        // The handle was refused before the struct was filled: write its failure values
        // (nothing when its size is too small or it is NULL).
        let _ = unsafe { info_out(out_info, "out_info", || Err(Error::internal("failed"))) };
    }
    s
}

fn describe(ch: &Chan) -> ipcx_chan_info {
    let caps = ch.caps();
    ipcx_chan_info {
        size: 0,
        transport: ch.transport() as u32,
        role: match ch.role() {
            Role::Send => IPCX_OPEN_WRITE,
            Role::Recv => IPCX_OPEN_READ,
        },
        caps: caps.bits,
        max_message: caps.max_message,
        created: ch.created(),
        sysv_id: ch.sysv_id(),
        address: ch.address().as_ptr(),
        object: ch.object().as_ptr(),
        refused: ch.refused(),
        fd_events: ch.fd_events(),
    }
}

/// Close a channel end and free the handle. NULL is a no-op.
///
/// A receiver removes the object it owns (FIFO, socket file, queue with its unreceived
/// messages, ring; created, or adopted from a receiver that died) unless it was opened
/// with `IPCX_CHAN_KEEP`, and only after checking the name still refers to that object; a
/// forked child closing an inherited receiver removes nothing. Senders remove nothing. A
/// stream send that timed out midway writes its tail if there is room now. A `zmq+ipc:`
/// sender's close waits while the ZeroMQ receiver still reads what was sent (libzmq drops
/// the unread rest of a Unix connection whose peer hangs up while it is at its receive
/// high-water mark): until it has read everything or hangs up, at most 1 s without
/// progress and 10 s in all (a forked child's close of an inherited sender does not wait:
/// the connection stays open in its parent); every other close returns without waiting.
/// Arguments: `c` the channel end; NULL does nothing.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if it was already closed (nothing is freed
/// twice); an error of the removal (for example `IPCX_ERR_PERMISSION`), in which case the
/// handle is freed all the same. A close racing calls on other threads never waits: the
/// end is released (and its object removed) when the last of them returns, and errors of
/// that deferred release are not reported.
/// Errors: `IPCX_ERR_BAD_HANDLE`, or an error of the removal (see Returns).
/// Ownership: releases the handle; `c` must not be used again.
/// Fork: see `ipcx_chan`: a forked child's close removes nothing.
///
/// # Safety
/// None beyond the C contract: `c` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_chan_close(c: *mut ipcx_chan) -> ipcx_status {
    call("ipcx_chan_close", || match handle::take(c)? {
        Some(b) => b.0.close(),
        None => Ok(()),
    })
}
