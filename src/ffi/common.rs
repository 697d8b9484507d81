// SPDX-License-Identifier: MIT OR Apache-2.0
//! Library-wide C functions: version, error reporting, per-thread settings, options.

use std::ffi::{c_char, c_int};

use std::sync::Mutex;

use super::{array, call, call_ref, handle, out, str_arg};
use crate::error::{self, Status, ipcx_status};
use crate::options::Options;
use crate::time;

// IPCX_FOREVER and IPCX_NOWAIT are defined in cbindgen.toml (after_includes) so that the
// negative value is parenthesised and typed; they must equal these:
const _: () = assert!(time::FOREVER == -1 && time::NOWAIT == 0);

/// One message of a vectored send (`ipcx_chan_send_many`, `ipcx_pipe_send_many`,
/// `ipcx_ring_send_many`): `len` bytes at `buf` (`buf` may be NULL when `len` is 0). The
/// caller keeps the bytes. `ipcx_ring_recv_many` fills an array of them with where each
/// message it received lies in the caller's buffer.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy)]
pub struct ipcx_iov {
    /// The message's first byte.
    pub buf: *const std::ffi::c_void,
    /// The message's length in bytes.
    pub len: usize,
}

/// The messages of an `ipcx_iov` array as byte slices.
///
/// # Safety
/// `msgs` must be NULL or valid for reading `count` entries, each `buf` NULL or valid for
/// reading its `len` bytes, for the duration of the call.
pub(crate) unsafe fn iov_arg<'a>(
    msgs: *const ipcx_iov,
    count: usize,
) -> crate::error::Result<Vec<&'a [u8]>> {
    let v = unsafe { array(msgs, count, "msgs") }?;
    // One allocation of the right size (collecting the `Result`s would grow the vector
    // step by step: about a quarter of a batched ring send-and-receive of 64-byte messages).
    let mut out = Vec::with_capacity(v.len());
    for m in v {
        out.push(unsafe { super::bytes(m.buf, m.len, "msgs[].buf") }?);
    }
    Ok(out)
}

/// The library version, e.g. `"0.2.0"`: a static string, never freed.
///
/// Compare with `IPCX_VERSION_STRING` from the header to detect a header/library mismatch.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static description of a status code.
///
/// Arguments: `code`, any integer (codes outside the enum are described as unknown).
/// Returns: a NUL-terminated static string; never NULL, never freed, never allocates.
/// Thread-safe and async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_strerror(code: c_int) -> *const c_char {
    match Status::from_code(code) {
        Some(s) => s.describe().as_ptr(),
        None => c"unknown ipcx status code".as_ptr(),
    }
}

/// The name of a status code as the header spells it: `"IPCX_ERR_TIMEOUT"` for
/// `IPCX_ERR_TIMEOUT`, for logs and test output.
///
/// Arguments: `code`, any integer.
/// Returns: a NUL-terminated static string; `"IPCX_UNKNOWN"` for a code outside the enum.
/// Never NULL, never freed, never allocates. Thread-safe and async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_status_name(code: c_int) -> *const c_char {
    match Status::from_code(code) {
        Some(s) => s.name().as_ptr(),
        None => c"IPCX_UNKNOWN".as_ptr(),
    }
}

/// The detail of the last failure of an ipcx call on the calling thread: which function,
/// on what object, why, and the errno text, e.g.
/// `ipcx_fifo_open: open("/tmp/f", O_WRONLY): no process has the FIFO open for reading`.
///
/// Returns: a NUL-terminated string owned by the library, valid until the next failing
/// ipcx call on this thread; `""` before any failure. Successful calls do not clear it
/// (like errno): read it only right after a call returned an error.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_last_error() -> *const c_char {
    error::last_error_ptr()
}

/// The operating-system errno behind the last failure on the calling thread, 0 when the
/// failure was detected by ipcx itself (bad argument, timeout, protocol error...).
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_last_errno() -> c_int {
    error::last_errno()
}

/// Choose what a signal does to a blocking ipcx call on the calling thread.
///
/// Arguments: `on` = false (default): a call interrupted by a signal handler resumes and
/// waits for the time that remains; true: it returns `IPCX_ERR_INTERRUPTED`, so a handler
/// that sets a flag can stop a blocking call.
/// Fork: the child's thread inherits the setting of the thread that forked.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_thread_set_interruptible(on: bool) {
    time::set_interruptible(on);
}

/// Creation options, shared by every mechanism. Opaque; see `ipcx_options_create`.
///
/// Thread safety: thread-safe. A call that takes options copies them, so an options object
/// may be changed, reused or closed once the call returns.
#[allow(non_camel_case_types)]
pub struct ipcx_options(Mutex<Options>);

impl ipcx_options {
    /// A copy of the options.
    pub(crate) fn get(&self) -> Options {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(
        &self,
        f: impl FnOnce(&mut Options) -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl handle::Handle for ipcx_options {
    const KIND: u32 = 1;
    const NAME: &'static str = "ipcx_options";
}
impl handle::Shared for ipcx_options {}

/// Create an options object with every option unset (each mechanism's defaults apply).
///
/// Arguments: `out` receives the new object.
/// Returns: `IPCX_OK`; `IPCX_ERR_INVALID` if `out` is NULL.
/// Ownership: the caller owns the object and releases it with `ipcx_options_close`. An
/// options object is only read by the calls it is passed to; one object may be reused.
/// Fork: the child gets a copy it may use and must close separately.
///
/// # Safety
/// `out` must be NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_create(out_opts: *mut *mut ipcx_options) -> ipcx_status {
    call("ipcx_options_create", || {
        let o = unsafe { out(out_opts, "out") }?;
        *o = handle::into_raw(ipcx_options(Mutex::new(Options::default())))?;
        Ok(())
    })
}

/// Release an options object. NULL is a no-op. Calls that were given it have taken
/// their copy; a call still running on another thread finishes with its copy.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if it was already closed (nothing is freed
/// twice).
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_options_close(opts: *mut ipcx_options) -> ipcx_status {
    call("ipcx_options_close", || handle::close(opts))
}

/// Set the permission bits of objects created with these options (FIFOs, queues, shared
/// memory, semaphores, socket files). Default 0600. The mode is applied exactly: the
/// process umask does not remove bits from it.
///
/// Errors: `IPCX_ERR_INVALID` for bits outside 0777; `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_mode(opts: *mut ipcx_options, mode: u32) -> ipcx_status {
    call_ref("ipcx_options_set_mode", opts, |o| {
        o.set(|o| o.set_mode(mode))
    })
}

/// Set the largest message accepted by framed sends and receives (default 1 MiB, at most
/// 4 GiB - 1). A peer announcing a longer message breaks the stream with
/// `IPCX_ERR_PROTOCOL` before anything is allocated or read. For a POSIX message queue
/// created with these options: its message size (mq_msgsize; default
/// /proc/sys/fs/mqueue/msgsize_default).
///
/// Errors: `IPCX_ERR_INVALID` for 0 or above 4 GiB - 1; `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_max_message(
    opts: *mut ipcx_options,
    bytes: usize,
) -> ipcx_status {
    call_ref("ipcx_options_set_max_message", opts, |o| {
        o.set(|o| o.set_max_message(bytes))
    })
}

/// Set a buffer capacity in bytes: the kernel buffer of pipes and FIFOs (F_SETPIPE_SZ),
/// the byte limit of a System V message queue (msg_qbytes), the send and receive buffers
/// of sockets (SO_SNDBUF and SO_RCVBUF).
///
/// Errors: `IPCX_ERR_INVALID` for 0; `IPCX_ERR_BAD_HANDLE`. Limits are checked when the
/// object is created.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_capacity(
    opts: *mut ipcx_options,
    bytes: usize,
) -> ipcx_status {
    call_ref("ipcx_options_set_capacity", opts, |o| {
        o.set(|o| o.set_capacity(bytes))
    })
}

/// Set the depth of a queue: the most messages it holds before senders wait (POSIX
/// message queues: mq_maxmsg; default /proc/sys/fs/mqueue/msg_default).
///
/// Errors: `IPCX_ERR_INVALID` for 0; `IPCX_ERR_BAD_HANDLE`. The system limit
/// (/proc/sys/fs/mqueue/msg_max) is checked when the queue is created.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_max_messages(
    opts: *mut ipcx_options,
    count: usize,
) -> ipcx_status {
    call_ref("ipcx_options_set_max_messages", opts, |o| {
        o.set(|o| o.set_max_messages(count))
    })
}

/// Atomic mode for FIFO writers shared by several processes: refuse (`IPCX_ERR_TOO_BIG`)
/// any message larger than 4092 bytes (PIPE_BUF minus the 4-byte frame header), the
/// largest the kernel writes in one piece, so messages of concurrent writers never
/// interleave. Default off.
///
/// Errors: `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_atomic(opts: *mut ipcx_options, on: bool) -> ipcx_status {
    call_ref("ipcx_options_set_atomic", opts, |o| {
        o.set(|o| {
            o.atomic = Some(on);
            Ok(())
        })
    })
}

/// Guard writes to pipes and FIFOs against SIGPIPE (default on). Where the kernel has
/// `RWF_NOSIGNAL` (Linux 6.18), each write is one `pwritev2(RWF_NOSIGNAL)`, which raises
/// no SIGPIPE: the guard costs a little more than a plain write(2) (docs/pipes.md,
/// "Performance"), and no signal mask is touched. Elsewhere it blocks SIGPIPE in the
/// calling thread around each write and consumes the signal a broken pipe raises, costing
/// two system calls per write. Turn it off only if SIGPIPE is ignored or blocked in every
/// thread that writes; otherwise a write to a pipe whose reader is gone kills the process,
/// as a raw write(2) would.
///
/// Errors: `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_sigpipe_guard(
    opts: *mut ipcx_options,
    on: bool,
) -> ipcx_status {
    call_ref("ipcx_options_set_sigpipe_guard", opts, |o| {
        o.set(|o| {
            o.sigpipe_guard = Some(on);
            Ok(())
        })
    })
}

/// TCP keepalive for sockets made with these options (`ipcx_sock_connect_tcp`, and the
/// connections `ipcx_sock_accept` returns from an `ipcx_sock_listen_tcp` listener).
///
/// Arguments: `seconds` = 0 turns keepalive off (the default, as for a raw socket);
/// 1..=32767 turns SO_KEEPALIVE on with TCP_KEEPIDLE and TCP_KEEPINTVL set to `seconds`
/// (the probe count stays the system's, /proc/sys/net/ipv4/tcp_keepalive_probes). A peer
/// that stops answering is then reported by the next receive or send as `IPCX_ERR_CLOSED`.
/// Errors: `IPCX_ERR_INVALID` above 32767 (the kernel's limit); `IPCX_ERR_BAD_HANDLE`.
/// Other mechanisms refuse options that carry this setting (`IPCX_ERR_INVALID`).
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_keepalive(
    opts: *mut ipcx_options,
    seconds: u32,
) -> ipcx_status {
    call_ref("ipcx_options_set_keepalive", opts, |o| {
        o.set(|o| o.set_keepalive(seconds))
    })
}

/// `ipcx_options_set_spin` value: spin without ever sleeping (busy polling).
pub const IPCX_SPIN_FOREVER: u64 = u64::MAX;

/// Set how long a call that must wait spins (busy-polls shared memory) before it sleeps,
/// in nanoseconds. Used by shared-memory rings (`ipcx_ring_*`); default 20000 (20 us).
///
/// Arguments: `ns`: 0 sleeps at once (no spinning: the least CPU, a kernel wake-up per
/// wait); `IPCX_SPIN_FOREVER` never sleeps (the lowest latency; the waiting thread keeps
/// its CPU busy until the message arrives or the timeout expires); anything between spins
/// that long, then sleeps.
/// Errors: `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_spin(opts: *mut ipcx_options, ns: u64) -> ipcx_status {
    call_ref("ipcx_options_set_spin", opts, |o| {
        o.set(|o| {
            o.spin_ns = Some(ns);
            Ok(())
        })
    })
}

/// Admit only these users as the peers of channel ends over Unix sockets (`unix:/path`,
/// `unix:@name`, `nng+ipc:`, `zmq+ipc:`): who may send to a receiver (or, for a sender,
/// who may receive what it sends). Each connection is checked once, when it is made,
/// against the credentials the kernel recorded for the peer (SO_PEERCRED: its effective
/// uid). With `ipcx_options_set_allowed_gids` too, a peer is admitted when either list
/// admits it. Unset (the default): every peer that can reach the socket is admitted.
///
/// Arguments: `uids`, `count`: the users (copied; NULL only with a count of 0).
/// Semantics: a listening end (a receiver; a sender with `IPCX_CHAN_LISTEN`) closes a
/// refused connection at once, before reading anything from it, and counts it
/// (`ipcx_chan_info.refused`); an end that connects fails its open with
/// `IPCX_ERR_PERMISSION` when the peer it reached is refused. Transports without Unix
/// sockets refuse the option (`IPCX_ERR_INVALID` at open).
/// Errors: `IPCX_ERR_INVALID` (a count of 0: to admit everyone, leave it unset; NULL
/// `uids` with a count; the id (uid_t)-1), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle; `uids` NULL or valid for reading `count`
/// values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_allowed_uids(
    opts: *mut ipcx_options,
    uids: *const u32,
    count: usize,
) -> ipcx_status {
    call_ref("ipcx_options_set_allowed_uids", opts, |o| {
        let ids = unsafe { array(uids, count, "uids") }?;
        o.set(|o| o.set_allowed_ids(ids, false))
    })
}

/// Admit only members of these groups as the peers of channel ends over Unix sockets: a
/// peer whose effective gid (SO_PEERCRED) or one of whose supplementary groups
/// (SO_PEERGROUPS, as they were when it connected or listened) is in the list. See
/// `ipcx_options_set_allowed_uids` for when it is checked and what a refusal does.
///
/// Arguments: `gids`, `count`: the groups (copied; NULL only with a count of 0).
/// Errors: `IPCX_ERR_INVALID` (a count of 0; NULL `gids` with a count; the id
/// (gid_t)-1), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle; `gids` NULL or valid for reading `count`
/// values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_allowed_gids(
    opts: *mut ipcx_options,
    gids: *const u32,
    count: usize,
) -> ipcx_status {
    call_ref("ipcx_options_set_allowed_gids", opts, |o| {
        let ids = unsafe { array(gids, count, "gids") }?;
        o.set(|o| o.set_allowed_ids(ids, true))
    })
}

/// Admit only peers from these networks as the peers of channel ends over TCP (`tcp:`,
/// `nng+tcp:`, `zmq+tcp:`): who may send to a receiver (or, for a sender, who may
/// receive what it sends), by the source address of the connection. See
/// `ipcx_options_set_allowed_uids` for when it is checked and what a refusal does.
///
/// Arguments: `networks`: CIDR networks separated by commas or spaces, IPv4 and IPv6
/// (`"10.0.0.0/8, 192.168.1.7, fd00::/8"`; a bare address is one host). An IPv4 peer
/// reaching an IPv6 listener is matched against the IPv4 networks.
/// Semantics: an address filter, not authentication: addresses can be forged off the
/// local network, and nothing on the connection is encrypted (docs/channel.md says what
/// to put in front of a channel that crosses an untrusted network).
/// Errors: `IPCX_ERR_INVALID` (NULL, an empty list, a malformed network, the message
/// naming it), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `opts` must be NULL or a live options handle; `networks` NULL or a NUL-terminated
/// string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_options_set_allowed_networks(
    opts: *mut ipcx_options,
    networks: *const c_char,
) -> ipcx_status {
    call_ref("ipcx_options_set_allowed_networks", opts, |o| {
        let text = unsafe { str_arg(networks, "networks", 64 * 1024) }?;
        o.set(|o| o.set_allowed_networks(text))
    })
}

/// Flag: create the object if it does not exist (every `_open`). Open flags are one set
/// with the same values in every family (bits 0-15); family flags use bits 16-31.
pub const IPCX_OPEN_CREATE: u32 = 1;
/// Flag: with `IPCX_OPEN_CREATE`, fail with `IPCX_ERR_EXISTS` if the object exists.
pub const IPCX_OPEN_EXCLUSIVE: u32 = 2;
/// Flag: open for reading: the reader of a FIFO or queue, the consumer of a ring, the
/// receiver of a channel; for shared memory and files without `IPCX_OPEN_WRITE`, read-only.
pub const IPCX_OPEN_READ: u32 = 4;
/// Flag: open for writing: the writer of a FIFO or queue, the producer of a ring, a
/// channel sender.
pub const IPCX_OPEN_WRITE: u32 = 8;
/// Flag: non-blocking mode (`ipcx_mq_open`); an open that does not wait (`ipcx_chan_open`
/// of senders: a TCP connect goes on in the background, other objects open if they are
/// ready now or fail at once).
pub const IPCX_OPEN_NONBLOCK: u32 = 16;
const _: () = assert!(
    IPCX_OPEN_CREATE == crate::flags::CREATE
        && IPCX_OPEN_EXCLUSIVE == crate::flags::EXCLUSIVE
        && IPCX_OPEN_READ == crate::flags::READ
        && IPCX_OPEN_WRITE == crate::flags::WRITE
        && IPCX_OPEN_NONBLOCK == crate::flags::NONBLOCK
);

/// The System V private key (IPC_PRIVATE), for every System V open function: always a new
/// object, reachable by other processes only through its id (or by children that inherit
/// the handle).
pub const IPCX_KEY_PRIVATE: i32 = 0;

/// The System V IPC key for an existing file and a project id (ftok(3)): processes that
/// agree on a path and an id get the same key for `ipcx_msgq_open` (and the other
/// System V objects) without agreeing on a number.
///
/// Arguments: `path` must exist (only its device and inode numbers are used, so the key
/// changes if the file is deleted and re-created); `proj_id` 1..255 (ftok uses its low
/// 8 bits); `out_key` receives the key.
/// Collisions: the key packs 8 bits of the project id, 8 bits of the device number and
/// 16 bits of the inode number, so two different files can give the same key; use
/// exclusive creation to detect that.
/// Errors: `IPCX_ERR_NOT_FOUND` (no such path), `IPCX_ERR_PERMISSION` (a directory on
/// the path cannot be searched), `IPCX_ERR_INVALID` (NULL `path` or `out_key`, bad path,
/// `proj_id` out of range). On error `*out_key` is 0 (when `out_key` is not NULL).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out_key` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sysv_key(
    path: *const c_char,
    proj_id: c_int,
    out_key: *mut i32,
) -> ipcx_status {
    unsafe { super::set_opt(out_key, 0) };
    call("ipcx_sysv_key", || {
        let key = unsafe { out(out_key, "out_key") }?;
        let path = unsafe { super::str_arg(path, "path", crate::name::PATH_MAX) }?;
        *key = crate::name::sysv_key(path, proj_id)?;
        Ok(())
    })
}
