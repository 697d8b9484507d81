// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for message queues: System V (`ipcx_msgq`) and POSIX (`ipcx_mq`).

use std::ffi::{c_char, c_int, c_long, c_void};

use super::common::{
    IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_NONBLOCK, IPCX_OPEN_READ, IPCX_OPEN_WRITE,
};
use super::{
    Info, bytes, bytes_mut, call, call_on, disposition, handle, info_out, options, out, set_opt,
    str_arg,
};
use crate::error::{Error, ipcx_status};
use crate::flags::{Access, Disposition};
use crate::msgq::posix::{self, PosixQueue};
use crate::msgq::sysv::{self, MsgQueue, RecvFlags};
use crate::name;
use crate::sys::wide_i64;
use crate::time::Deadline;

// ------------------------------------------------------------------ System V

/// A System V message queue, as used by this process: the queue's id and a buffer.
/// Opaque.
///
/// The queue itself lives in the kernel until `ipcx_msgq_remove` (or reboot): closing the
/// handle does not remove it.
/// Thread safety: a one-thread handle: used by one thread at a time (it keeps a message
/// buffer); a call made while another thread is inside a call on the same handle returns
/// `IPCX_ERR_IN_USE`. Each thread may open its own handle on the same queue.
/// Fork: the child may use an inherited handle (it holds no descriptor, only the id);
/// each process closes its own. Unrelated processes open the queue by key, or by id
/// with `ipcx_msgq_open_id`.
#[allow(non_camel_case_types)]
pub struct ipcx_msgq(MsgQueue);

impl handle::Handle for ipcx_msgq {
    const KIND: u32 = 10;
    const NAME: &'static str = "ipcx_msgq";
}

/// Flag (`ipcx_msgq_recv`): take the first message whose type is NOT `mtype` (MSG_EXCEPT;
/// `mtype` must be > 0).
pub const IPCX_MSGQ_EXCEPT: u32 = 0x10000;
/// Flag (`ipcx_msgq_recv`): a message longer than the buffer is cut to the buffer's size
/// and removed, instead of failing with `IPCX_ERR_TOO_BIG` (MSG_NOERROR).
pub const IPCX_MSGQ_TRUNCATE: u32 = 0x20000;
const _: () = assert!(super::common::IPCX_KEY_PRIVATE == sysv::PRIVATE);

/// What `ipcx_msgq_stat` reports about a System V queue (msgctl(IPC_STAT)). A growable
/// struct: set `size` to `sizeof(ipcx_msgq_info)` before the call
/// (`ipcx_msgq_info info = { sizeof info };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ipcx_msgq_info {
    /// In: the size of the caller's struct. Out: the number of bytes the library wrote.
    pub size: u32,
    /// The queue's key (`IPCX_KEY_PRIVATE` for a private queue).
    pub key: i32,
    /// The queue's id (as `ipcx_msgq_id` and ipcs show it).
    pub id: i32,
    /// Permission bits (0600 by default).
    pub mode: u32,
    /// Owner's user id.
    pub uid: u32,
    /// Owner's group id.
    pub gid: u32,
    /// Creator's user id.
    pub creator_uid: u32,
    /// Creator's group id.
    pub creator_gid: u32,
    /// Number of messages in the queue.
    pub messages: usize,
    /// Bytes of message text in the queue.
    pub bytes: usize,
    /// The queue's byte limit (msg_qbytes): senders wait while a message would take the
    /// queue above it.
    pub max_bytes: usize,
    /// Process id of the last sender (0 if none yet).
    pub last_send_pid: i32,
    /// Process id of the last receiver (0 if none yet).
    pub last_recv_pid: i32,
    /// Time of the last send, seconds since the epoch (0 if none yet).
    pub last_send_time: i64,
    /// Time of the last receive, seconds since the epoch (0 if none yet).
    pub last_recv_time: i64,
    /// Time of the creation or of the last change of the mode or byte limit.
    pub change_time: i64,
}

// SAFETY: repr(C), starts with the u32 size, plain integers.
unsafe impl Info for ipcx_msgq_info {
    fn failed() -> Self {
        Self::default()
    }
}

/// Open or create a System V message queue (msgget).
///
/// Arguments:
/// - `key`: from `ipcx_sysv_key` (a path and a project id), a number the processes agree
///   on, or `IPCX_KEY_PRIVATE` (always a new queue, so it needs `IPCX_OPEN_CREATE`; other
///   processes reach it by its id, see `ipcx_msgq_id` / `ipcx_msgq_open_id`, or inherit the
///   handle across fork);
/// - `flags`: 0 opens an existing queue; `IPCX_OPEN_CREATE` creates it if needed;
///   `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` creates it and fails if it exists;
/// - `opts` may be NULL; honoured, only when this call creates the queue: mode (default
///   0600, applied exactly: System V permissions ignore the umask) and capacity (the
///   byte limit msg_qbytes; default /proc/sys/kernel/msgmnb; above it needs
///   CAP_SYS_RESOURCE). Opening an existing queue keeps its mode and limit;
/// - `out_queue` receives the handle.
///
/// Permissions (the rule of every System V family): opening by key or by id checks no
/// permission; the kernel checks each operation against the queue's mode (a send needs
/// write permission, a receive, `ipcx_msgq_stat` and the byte limit read permission), so
/// a process allowed only to write can open the queue and send.
///
/// Returns: `IPCX_OK` with `*out_queue` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (no queue has the key and `IPCX_OPEN_CREATE` was not
/// given), `IPCX_ERR_EXISTS` (exclusive creation of an existing key),
/// `IPCX_ERR_LIMIT` (the system has /proc/sys/kernel/msgmni queues; capacity above
/// msgmnb, and then the queue just created is removed again), `IPCX_ERR_INVALID` (NULL
/// `out_queue`, unknown flags, `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`,
/// `IPCX_KEY_PRIVATE` without `IPCX_OPEN_CREATE`, an option other than mode and
/// capacity), `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_queue` is NULL.
/// Ownership: close the handle with `ipcx_msgq_close`; the queue stays in the system until
/// `ipcx_msgq_remove`.
/// Fork: see `ipcx_msgq`.
///
/// # Safety
/// `opts` must be NULL or a live options handle; `out_queue` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_open(
    key: i32,
    flags: u32,
    opts: *const super::common::ipcx_options,
    out_queue: *mut *mut ipcx_msgq,
) -> ipcx_status {
    unsafe { set_opt(out_queue, std::ptr::null_mut()) };
    call("ipcx_msgq_open", || {
        let o = unsafe { out(out_queue, "out_queue") }?;
        let opts = unsafe { options(opts) }?;
        MsgQueue::check_options(&opts)?;
        let how = disposition(
            flags,
            IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE,
            "IPCX_OPEN_CREATE and IPCX_OPEN_EXCLUSIVE",
        )?;
        let q = MsgQueue::open(key, how, &opts)?;
        *o = handle::into_raw(ipcx_msgq(q))?;
        Ok(())
    })
}

/// Use the existing System V queue with id `id` (as `ipcx_msgq_id` gives it in another
/// process, or ipcs shows it): the way an unrelated process reaches a private queue.
///
/// Arguments: `id` the queue id; `out_queue` receives the handle.
/// Permissions: none are checked here (as for `ipcx_msgq_open`); each operation is.
/// Returns: `IPCX_OK` with `*out_queue` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (no queue has this id), `IPCX_ERR_INVALID` (negative id,
/// NULL `out_queue`). On failure `*out_queue` is NULL.
/// Ownership: close with `ipcx_msgq_close`.
/// Fork: see `ipcx_msgq`.
///
/// # Safety
/// `out_queue` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_open_id(id: i32, out_queue: *mut *mut ipcx_msgq) -> ipcx_status {
    unsafe { set_opt(out_queue, std::ptr::null_mut()) };
    call("ipcx_msgq_open_id", || {
        let o = unsafe { out(out_queue, "out_queue") }?;
        *o = handle::into_raw(ipcx_msgq(MsgQueue::open_id(id)?))?;
        Ok(())
    })
}

/// Close a System V queue handle and free it. The queue itself stays (see
/// `ipcx_msgq_remove`). NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `q` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_close(q: *mut ipcx_msgq) -> ipcx_status {
    call("ipcx_msgq_close", || handle::close(q))
}

/// The queue's id (msqid): what ipcs shows, and what `ipcx_msgq_open_id` takes.
///
/// Returns: `IPCX_OK` with `*out_id` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `q` or `out_id`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE` (another thread is inside a call on `q`). On error `*out_id` is -1.
///
/// # Safety
/// `out_id` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_id(q: *const ipcx_msgq, out_id: *mut i32) -> ipcx_status {
    unsafe { set_opt(out_id, -1) };
    call_on("ipcx_msgq_id", q, |q| {
        *unsafe { out(out_id, "out_id") }? = q.0.id();
        Ok(())
    })
}

/// Send one message of type `mtype` (msgsnd). The message is copied into the queue;
/// `buf` may be reused at once.
///
/// Arguments: `buf`/`len` the message text (`buf` may be NULL when `len` is 0; a
/// zero-length message is valid); `mtype` > 0, the channel readers select with;
/// `timeout_ms` bounds the wait while the queue is full (its byte limit reached).
/// Waiting: `IPCX_FOREVER` is one blocking msgsnd; `IPCX_NOWAIT` is IPC_NOWAIT; a finite
/// timeout retries with IPC_NOWAIT (the kernel has no timed msgsnd and ipcx installs no
/// signal handler): after `sched_yield` for the first 100 µs, then after sleeps of 50 µs
/// doubling to 2 ms. Room that appears is used within 2 ms; the call returns at the
/// deadline, never before. Cost: up to 100 µs of CPU, then about 1,000 system calls per
/// second of waiting.
/// Returns: `IPCX_OK` once the message is queued.
/// Errors: `IPCX_ERR_INVALID` (`mtype` <= 0, NULL `buf` with `len` > 0, timeout < -1),
/// `IPCX_ERR_TOO_BIG` (`len` above /proc/sys/kernel/msgmax, or above the queue's byte
/// limit so it could never fit), `IPCX_ERR_TIMEOUT` (the queue stayed full; nothing was
/// sent), `IPCX_ERR_REMOVED` (the queue was removed, also while waiting),
/// `IPCX_ERR_PERMISSION` (no write permission), `IPCX_ERR_LIMIT` (kernel out of memory),
/// `IPCX_ERR_INTERRUPTED` (see `ipcx_thread_set_interruptible`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE` (another thread is inside a call on `q`).
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_send(
    q: *mut ipcx_msgq,
    buf: *const c_void,
    len: usize,
    mtype: c_long,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_msgq_send", q, |q| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        q.0.send(unsafe { bytes(buf, len, "buf") }?, mtype, &deadline)
    })
}

/// Receive one message (msgrcv), chosen by `mtype` as msgrcv(2) does:
/// - `mtype` 0: the first message in the queue;
/// - `mtype` > 0: the first message of that type (with `IPCX_MSGQ_EXCEPT`: the first
///   message of any other type);
/// - `mtype` < 0: the first of the messages with the lowest type <= |mtype|.
///
/// So one queue carries independent channels: a reader of type 2 never sees type 1.
///
/// Arguments: `buf` receives the text; `len` in: the capacity of `buf`, out: the message
/// length (or, with `IPCX_ERR_TOO_BIG`, the size needed); `flags`: 0,
/// `IPCX_MSGQ_EXCEPT`, `IPCX_MSGQ_TRUNCATE`; `timeout_ms` as for `ipcx_msgq_send` (a
/// message that arrives while a timed receive waits is taken within 2 ms; a message
/// already there costs one msgrcv); `out_type` (optional, may be NULL) receives the
/// message's type.
/// Returns: `IPCX_OK` with the message removed from the queue.
/// Errors: `IPCX_ERR_TOO_BIG` (the chosen message is longer than `*len`: it stays queued
/// and `*len` is set to its size, found by copying the queued messages with MSG_COPY,
/// which removes nothing; without `IPCX_MSGQ_TRUNCATE` only), `IPCX_ERR_TIMEOUT` (no
/// matching message in time), `IPCX_ERR_REMOVED` (the queue was removed, also while
/// waiting), `IPCX_ERR_INVALID` (NULL `len`, NULL `buf` with `*len` > 0, unknown flags,
/// `IPCX_MSGQ_EXCEPT` with `mtype` <= 0, timeout < -1), `IPCX_ERR_PERMISSION` (no read
/// permission), `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE` (another
/// thread is inside a call on `q`). On error `*out_type` is 0 and `*len` unchanged except
/// with `IPCX_ERR_TOO_BIG`.
/// Truncation (`IPCX_MSGQ_TRUNCATE`): `*len` is the number of bytes stored; the rest of
/// the message is lost, as with MSG_NOERROR.
///
/// # Safety
/// `len` must be valid; `buf` valid for writing `*len` bytes; `out_type` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_recv(
    q: *mut ipcx_msgq,
    buf: *mut c_void,
    len: *mut usize,
    mtype: c_long,
    flags: u32,
    timeout_ms: i64,
    out_type: *mut c_long,
) -> ipcx_status {
    unsafe { set_opt(out_type, 0) };
    call_on("ipcx_msgq_recv", q, |q| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let len = unsafe { out(len, "len") }?;
        let dst = unsafe { bytes_mut(buf, *len, "buf") }?;
        crate::flags::check(
            flags,
            IPCX_MSGQ_EXCEPT | IPCX_MSGQ_TRUNCATE,
            "IPCX_MSGQ_EXCEPT and IPCX_MSGQ_TRUNCATE",
        )?;
        let flags = RecvFlags::NONE
            .with(RecvFlags::EXCEPT, flags & IPCX_MSGQ_EXCEPT != 0)
            .with(RecvFlags::TRUNCATE, flags & IPCX_MSGQ_TRUNCATE != 0);
        match q.0.recv(dst, mtype, flags, &deadline) {
            Ok((n, t)) => {
                *len = n;
                unsafe { set_opt(out_type, t) };
                Ok(())
            }
            Err(e) => Err(too_big_len(e, len)),
        }
    })
}

/// With `IPCX_ERR_TOO_BIG`, report the size needed in the length out-parameter.
fn too_big_len(e: Error, len: &mut usize) -> Error {
    if e.status == ipcx_status::IPCX_ERR_TOO_BIG && e.needed > 0 {
        *len = e.needed;
    }
    e
}

/// The queue's status (msgctl(IPC_STAT)): messages and bytes queued, byte limit, last
/// sender and receiver, times, owner and mode.
///
/// Arguments: `out_info`: the caller's struct with `size` set to `sizeof(ipcx_msgq_info)`
/// (`ipcx_msgq_info info = { sizeof info };`); the library writes at most `size` bytes and
/// sets `size` to the number it wrote.
/// Returns: `IPCX_OK` with `*out_info` filled.
/// Errors: `IPCX_ERR_INVALID` (NULL `q` or `out_info`; `out_info->size` below the 0.2 size
/// of the struct: then nothing is written), `IPCX_ERR_REMOVED` (the queue was removed),
/// `IPCX_ERR_PERMISSION` (no read permission), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// On other errors the fields of `*out_info` are zeroed.
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_stat(
    q: *const ipcx_msgq,
    out_info: *mut ipcx_msgq_info,
) -> ipcx_status {
    // The handle is pinned inside, so that every failure leaves the failure values.
    call("ipcx_msgq_stat", || unsafe {
        info_out(out_info, "out_info", || {
            let q = handle::pin_mut(q)?;
            let ds = q.0.stat()?;
            let perm = &ds.msg_perm;
            Ok(ipcx_msgq_info {
                size: 0,
                key: crate::sys::ipc_key(perm),
                id: q.0.id(),
                mode: u32::from(perm.mode) & 0o777,
                uid: perm.uid,
                gid: perm.gid,
                creator_uid: perm.cuid,
                creator_gid: perm.cgid,
                messages: ds.msg_qnum as usize,
                bytes: ds.__msg_cbytes as usize,
                max_bytes: ds.msg_qbytes as usize,
                last_send_pid: ds.msg_lspid,
                last_recv_pid: ds.msg_lrpid,
                last_send_time: wide_i64(ds.msg_stime),
                last_recv_time: wide_i64(ds.msg_rtime),
                change_time: wide_i64(ds.msg_ctime),
            })
        })
    })
}

/// Set the queue's byte limit (msg_qbytes; msgctl(IPC_SET)): the total of message bytes
/// it holds before senders wait. It also caps the number of messages (each counts at
/// least one byte). Senders waiting for room are woken if it grows.
///
/// Returns: `IPCX_OK` once the limit is set.
/// Errors: `IPCX_ERR_INVALID` (0 or above SSIZE_MAX), `IPCX_ERR_LIMIT` (above
/// /proc/sys/kernel/msgmnb without CAP_SYS_RESOURCE; the message gives the value),
/// `IPCX_ERR_PERMISSION` (not the queue's owner or creator), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
///
/// # Safety
/// `q` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_set_max_bytes(q: *mut ipcx_msgq, bytes: usize) -> ipcx_status {
    call_on("ipcx_msgq_set_max_bytes", q, |q| q.0.set_max_bytes(bytes))
}

/// Remove the queue from the system (msgctl(IPC_RMID)) at once: queued messages are
/// discarded, and every process blocked in a send or receive on it, or waiting with a
/// timeout, returns `IPCX_ERR_REMOVED`, as do later calls. The handle must still be
/// closed with `ipcx_msgq_close`.
///
/// Returns: `IPCX_OK` once removed.
/// Errors: `IPCX_ERR_REMOVED` (already removed), `IPCX_ERR_PERMISSION` (not the owner or
/// creator), `IPCX_ERR_INVALID` (NULL `q`), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`
/// (another thread is inside a call on `q`).
///
/// # Safety
/// `q` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_remove(q: *mut ipcx_msgq) -> ipcx_status {
    call_on("ipcx_msgq_remove", q, |q| q.0.remove())
}

/// The system limits on System V message queues (msgctl(IPC_INFO)): the largest message
/// (`out_msgmax`, /proc/sys/kernel/msgmax), the default byte limit of a new queue and the
/// most an unprivileged process may set (`out_msgmnb`, /proc/sys/kernel/msgmnb), the most
/// queues in the system (`out_msgmni`, /proc/sys/kernel/msgmni). Each out-parameter is
/// optional (may be NULL).
///
/// Returns: `IPCX_OK` with the values set.
/// Errors: `IPCX_ERR_SYSTEM` if the kernel refuses IPC_INFO. On error the values are 0.
///
/// # Safety
/// Each pointer must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_msgq_limits(
    out_msgmax: *mut usize,
    out_msgmnb: *mut usize,
    out_msgmni: *mut usize,
) -> ipcx_status {
    unsafe {
        set_opt(out_msgmax, 0);
        set_opt(out_msgmnb, 0);
        set_opt(out_msgmni, 0);
    }
    call("ipcx_msgq_limits", || {
        let l = sysv::limits()?;
        unsafe {
            set_opt(out_msgmax, l.msgmax);
            set_opt(out_msgmnb, l.msgmnb);
            set_opt(out_msgmni, l.msgmni);
        }
        Ok(())
    })
}

// ------------------------------------------------------------------ POSIX

/// An open POSIX message queue (a queue descriptor). Opaque.
///
/// Thread safety: a one-thread handle: used by one thread at a time (it keeps the
/// notification state); a call made while another thread is inside a call on the same
/// handle returns `IPCX_ERR_IN_USE`.
/// Fork: the child inherits the handle and its descriptor and may send and receive; the
/// descriptor shares its open file description, so non-blocking mode set by one process
/// applies to both. An arrival notification belongs to the process that armed it.
/// Descriptors are close-on-exec. The queue stays in the system until `ipcx_mq_remove`
/// and the last close.
#[allow(non_camel_case_types)]
pub struct ipcx_mq(PosixQueue);

impl handle::Handle for ipcx_mq {
    const KIND: u32 = 11;
    const NAME: &'static str = "ipcx_mq";
}

/// Priorities are 0 to `IPCX_MQ_PRIO_MAX` - 1 (MQ_PRIO_MAX on Linux); higher first.
pub const IPCX_MQ_PRIO_MAX: u32 = 32768;
/// The longest POSIX queue name, the leading slash included, the NUL excluded: a slash and
/// 255 bytes (NAME_MAX, the kernel's limit for the entry in /dev/mqueue).
pub const IPCX_MQ_NAME_MAX: usize = 256;
const _: () = assert!(IPCX_MQ_PRIO_MAX == posix::PRIO_MAX && IPCX_MQ_NAME_MAX == name::MQ_NAME_MAX);

/// A POSIX queue's attributes (`ipcx_mq_stat`; mq_getattr). A growable struct: set
/// `size` to `sizeof(ipcx_mq_info)` before the call (`ipcx_mq_info info = { sizeof info };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ipcx_mq_info {
    /// In: the size of the caller's struct. Out: the number of bytes the library wrote.
    pub size: u32,
    /// Depth: the most messages the queue holds (mq_maxmsg), fixed at creation.
    pub max_messages: usize,
    /// The largest message (mq_msgsize), fixed at creation; receive buffers must be at
    /// least this large.
    pub message_size: usize,
    /// Messages queued now (mq_curmsgs).
    pub messages: usize,
    /// Non-blocking mode (O_NONBLOCK), the only attribute that can change.
    pub nonblocking: bool,
}

// SAFETY: repr(C), starts with the u32 size, plain values.
unsafe impl Info for ipcx_mq_info {
    fn failed() -> Self {
        Self::default()
    }
}

/// Open or create a POSIX message queue (mq_open). No /dev/mqueue mount is needed.
///
/// Arguments:
/// - `name`: "/name": one leading slash, no other, at most `IPCX_MQ_NAME_MAX` (256) bytes
///   with the slash (the kernel's limit: a slash and 255 bytes);
/// - `flags`: `IPCX_OPEN_READ`, `IPCX_OPEN_WRITE` or both (at least one); optionally
///   `IPCX_OPEN_CREATE`, `IPCX_OPEN_EXCLUSIVE` (with CREATE), `IPCX_OPEN_NONBLOCK`;
/// - `opts` may be NULL; honoured: mode (default 0600, applied exactly when this call
///   creates the queue), max_messages (depth, default /proc/sys/fs/mqueue/msg_default, at
///   most /proc/sys/fs/mqueue/msg_max) and max_message (message size, default
///   /proc/sys/fs/mqueue/msgsize_default, at most /proc/sys/fs/mqueue/msgsize_max); depth
///   and size need `IPCX_OPEN_CREATE`, and an existing queue keeps its own (check with
///   `ipcx_mq_stat`);
/// - `out_queue` receives the handle.
///
/// Returns: `IPCX_OK` with `*out_queue` set.
/// Errors: `IPCX_ERR_INVALID` (NULL, malformed or too long name: the message names it;
/// unknown flags, neither `IPCX_OPEN_READ` nor `IPCX_OPEN_WRITE`, `IPCX_OPEN_EXCLUSIVE`
/// without `IPCX_OPEN_CREATE`, NULL `out_queue`, an unsupported option, depth or size
/// options without `IPCX_OPEN_CREATE`),
/// `IPCX_ERR_NOT_FOUND` (no such queue, no CREATE), `IPCX_ERR_EXISTS` (exclusive
/// creation of an existing name), `IPCX_ERR_PERMISSION` (mode denies access),
/// `IPCX_ERR_LIMIT` (depth or size above the /proc/sys/fs/mqueue limits, the message
/// names the file and its value; the per-user RLIMIT_MSGQUEUE bytes or the descriptor
/// limit reached; /proc/sys/fs/mqueue/queues_max queues exist), `IPCX_ERR_UNSUPPORTED`
/// (kernel without POSIX queues), `IPCX_ERR_BAD_HANDLE` (closed options). On failure
/// `*out_queue` is NULL.
/// Ownership: close with `ipcx_mq_close`; the queue stays until `ipcx_mq_remove`.
/// Fork: see `ipcx_mq`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `opts` NULL or a live options handle;
/// `out_queue` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_open(
    name: *const c_char,
    flags: u32,
    opts: *const super::common::ipcx_options,
    out_queue: *mut *mut ipcx_mq,
) -> ipcx_status {
    unsafe { set_opt(out_queue, std::ptr::null_mut()) };
    call("ipcx_mq_open", || {
        let o = unsafe { out(out_queue, "out_queue") }?;
        let n = unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?;
        let opts = unsafe { options(opts) }?;
        PosixQueue::check_open(n, &opts)?;
        crate::flags::check(
            flags,
            IPCX_OPEN_READ
                | IPCX_OPEN_WRITE
                | IPCX_OPEN_CREATE
                | IPCX_OPEN_EXCLUSIVE
                | IPCX_OPEN_NONBLOCK,
            "IPCX_OPEN_READ, IPCX_OPEN_WRITE, IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE and \
             IPCX_OPEN_NONBLOCK",
        )?;
        let access = Access::from_c(flags).ok_or_else(|| {
            Error::invalid("POSIX queue open flags need IPCX_OPEN_READ, IPCX_OPEN_WRITE or both")
        })?;
        let how = Disposition::from_c(flags)?;
        let nonblock = flags & IPCX_OPEN_NONBLOCK != 0;
        let q = PosixQueue::open(n, access, how, nonblock, &opts)?;
        *o = handle::into_raw(ipcx_mq(q))?;
        Ok(())
    })
}

/// Close a POSIX queue handle and its descriptor (mq_close). The queue stays in the
/// system until unlinked and closed everywhere. An armed notification of this process
/// is cancelled. NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `q` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_close(q: *mut ipcx_mq) -> ipcx_status {
    call("ipcx_mq_close", || handle::close(q))
}

/// Remove the queue's name (mq_unlink). Processes that have it open keep using it; the
/// queue is destroyed when the last descriptor is closed. A new queue may be created
/// under the same name at once. (Unlike System V removal, this wakes nobody.)
///
/// Returns: `IPCX_OK` once the name is removed.
/// Errors: `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_PERMISSION`, `IPCX_ERR_INVALID` (NULL,
/// malformed or too long name).
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_remove(name: *const c_char) -> ipcx_status {
    call("ipcx_mq_remove", || {
        posix::unlink(unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?)
    })
}

/// Send one message with a priority (mq_send). Messages are received highest priority
/// first, in order within a priority.
///
/// Arguments: `buf`/`len` the message (`buf` may be NULL when `len` is 0; zero-length
/// messages are valid), at most the queue's message size; `priority` 0 to
/// `IPCX_MQ_PRIO_MAX` - 1; `timeout_ms` bounds the wait while the queue is full.
/// Waiting: `IPCX_FOREVER` is one blocking mq_send. A timeout is measured on the
/// monotonic clock: ipcx tries without blocking and waits with ppoll on the descriptor,
/// so a change of the wall clock does not move the deadline. In non-blocking mode the
/// call never waits, whatever `timeout_ms`.
/// Returns: `IPCX_OK` once the message is queued.
/// Errors: `IPCX_ERR_TOO_BIG` (`len` above the queue's message size),
/// `IPCX_ERR_TIMEOUT` (full until the deadline, or full in non-blocking mode; nothing
/// was sent), `IPCX_ERR_INVALID` (not opened for writing, priority out of range, NULL
/// `buf` with `len` > 0, timeout < -1), `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE` (another thread is inside a call on `q`).
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_send(
    q: *mut ipcx_mq,
    buf: *const c_void,
    len: usize,
    priority: u32,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_mq_send", q, |q| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        q.0.send(unsafe { bytes(buf, len, "buf") }?, priority, &deadline)
    })
}

/// Receive the oldest message of the highest priority (mq_receive).
///
/// Arguments: `buf` receives the message; `len` in: the capacity of `buf`, which must be
/// at least the queue's message size (a POSIX rule: see `ipcx_mq_stat`), out: the
/// message length; `timeout_ms` as for `ipcx_mq_send`; `out_priority` (optional, may be
/// NULL) receives the message's priority.
/// Returns: `IPCX_OK` with the message removed from the queue.
/// Errors: `IPCX_ERR_TOO_BIG` (`*len` is below the queue's message size: `*len` is set
/// to that size and nothing is received), `IPCX_ERR_TIMEOUT` (empty until the deadline,
/// or empty in non-blocking mode), `IPCX_ERR_INVALID` (not opened for reading, NULL
/// `len`, NULL `buf` with `*len` > 0, timeout < -1), `IPCX_ERR_INTERRUPTED`,
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. On error `*out_priority` is 0 and `*len`
/// unchanged except with `IPCX_ERR_TOO_BIG`.
///
/// # Safety
/// `len` must be valid; `buf` valid for writing `*len` bytes; `out_priority` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_recv(
    q: *mut ipcx_mq,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
    out_priority: *mut u32,
) -> ipcx_status {
    unsafe { set_opt(out_priority, 0) };
    call_on("ipcx_mq_recv", q, |q| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let len = unsafe { out(len, "len") }?;
        let dst = unsafe { bytes_mut(buf, *len, "buf") }?;
        match q.0.recv(dst, &deadline) {
            Ok((n, p)) => {
                *len = n;
                unsafe { set_opt(out_priority, p) };
                Ok(())
            }
            Err(e) => Err(too_big_len(e, len)),
        }
    })
}

/// The queue's attributes (mq_getattr): depth, message size, messages queued, and
/// whether non-blocking mode is on.
///
/// Arguments: `out_info`: the caller's struct with `size` set to `sizeof(ipcx_mq_info)`
/// (`ipcx_mq_info info = { sizeof info };`); the library writes at most `size` bytes and
/// sets `size` to the number it wrote.
/// Returns: `IPCX_OK` with `*out_info` filled.
/// Errors: `IPCX_ERR_INVALID` (NULL `q` or `out_info`; `out_info->size` below the 0.2 size
/// of the struct: then nothing is written), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`
/// (another thread is inside a call on `q`). On other errors the fields of `*out_info`
/// are zeroed.
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_stat(
    q: *const ipcx_mq,
    out_info: *mut ipcx_mq_info,
) -> ipcx_status {
    call("ipcx_mq_stat", || unsafe {
        info_out(out_info, "out_info", || {
            let mut q = handle::pin_mut(q)?;
            let a = q.get_mut().0.attr()?;
            Ok(ipcx_mq_info {
                size: 0,
                max_messages: a.max_messages,
                message_size: a.message_size,
                messages: a.messages,
                nonblocking: a.nonblocking,
            })
        })
    })
}

/// Switch non-blocking mode (mq_setattr; depth and message size cannot change). In
/// non-blocking mode a send to a full queue or a receive from an empty one fails at once
/// with `IPCX_ERR_TIMEOUT`, whatever its timeout. The mode belongs to the open file
/// description: a forked child sharing the descriptor sees the change too.
///
/// Returns: `IPCX_OK` once the mode is set.
/// Errors: `IPCX_ERR_INVALID` (NULL `q`), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
///
/// # Safety
/// `q` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_set_nonblocking(q: *mut ipcx_mq, on: bool) -> ipcx_status {
    call_on("ipcx_mq_set_nonblocking", q, |q| q.0.set_nonblocking(on))
}

/// A descriptor of the queue for poll/epoll/select and event loops: readable when a
/// message is queued, writable when there is room. It is the queue opened once more, with
/// an open file description of its own (made on the first call, close-on-exec; every call
/// returns the same one): an event loop that switches it to non-blocking (libuv's
/// `uv_poll_init` and Boost.Asio's waits do) leaves the queue's non-blocking mode, and so
/// ipcx's timed calls, alone. Where /proc is not mounted it is the queue descriptor itself,
/// whose O_NONBLOCK is the queue's mode. It stays owned by the handle: do not close it or
/// receive through it; switch non-blocking mode with `ipcx_mq_set_nonblocking`. After a
/// wake-up, receive with `IPCX_NOWAIT` (another process may have taken the message).
/// Fork: the child's handle lends the same descriptor.
///
/// Returns: `IPCX_OK` with `*out_fd` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `q` or `out_fd`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`. On error `*out_fd` is -1.
///
/// # Safety
/// `out_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_fd(q: *const ipcx_mq, out_fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_mq_fd", q, |q| {
        *unsafe { out(out_fd, "out_fd") }? = q.0.poll_fd();
        Ok(())
    })
}

/// Arm arrival notification (mq_notify) and get a descriptor that becomes readable when
/// it fires: no signal, no handler, no thread. (ipcx registers a netlink socket, the
/// kernel's own form of SIGEV_THREAD, and hands it out.)
///
/// The kernel's rules: the notification fires once, when a message arrives on an EMPTY
/// queue while no process is blocked in the kernel's receive; then it is disarmed. (An
/// ipcx receive with a finite timeout waits in ppoll, not in the kernel's receive, so the
/// notification fires then too; only `IPCX_FOREVER` receives block there. The receiver
/// still gets the message: the loop wakes and finds the queue empty.) Only one process
/// may be registered per queue; closing any descriptor of the queue in the registering
/// process cancels it, and the kernel then makes the descriptor readable too (re-arming,
/// as below, registers again).
/// Use: call `ipcx_mq_notify`, then receive with `IPCX_NOWAIT` until
/// `IPCX_ERR_TIMEOUT` (messages already queued never notify), then poll `*out_fd`. When it is
/// readable, call `ipcx_mq_notify` again FIRST (it consumes the event and re-arms), then
/// drain the queue again. Calling it while armed changes nothing.
///
/// Returns: `IPCX_OK` with `*out_fd` set; the descriptor is the same for the life of the
/// handle, owned by it (do not read or close it).
/// Errors: `IPCX_ERR_IN_USE` (another process, or another handle in this process, is
/// registered; or another thread is inside a call on `q`), `IPCX_ERR_INVALID` (NULL `q` or
/// `out_fd`; a handle whose notification a parent set up before fork), `IPCX_ERR_LIMIT`
/// (no descriptor left), `IPCX_ERR_BAD_HANDLE`. On error `*out_fd` is -1.
/// Fork: the registration and the descriptor belong to the process that called this
/// first on the handle; in a forked child the call fails with `IPCX_ERR_INVALID` (it would
/// steal the parent's events): open the queue again in the child.
///
/// # Safety
/// `out_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_notify(q: *mut ipcx_mq, out_fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_mq_notify", q, |q| {
        let o = unsafe { out(out_fd, "out_fd") }?;
        *o = q.0.notify()?;
        Ok(())
    })
}

/// Cancel an armed arrival notification (mq_notify(NULL)) and consume any pending event,
/// so the descriptor from `ipcx_mq_notify` is no longer readable. Nothing happens if
/// none is armed.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_INVALID` (NULL `q`; a handle whose notification a parent set up before
/// fork), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
///
/// # Safety
/// `q` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mq_notify_cancel(q: *mut ipcx_mq) -> ipcx_status {
    call_on("ipcx_mq_notify_cancel", q, |q| q.0.notify_cancel())
}
