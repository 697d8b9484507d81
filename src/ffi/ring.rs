// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for shared-memory rings (`ipcx_ring`).

use std::ffi::{c_char, c_int, c_void};

use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::common::{iov_arg, ipcx_iov, ipcx_options};
use super::{
    Info, array_mut, bytes, bytes_mut, call, call_on, handle, info_out, options, out, recv_into,
    set_opt, str_arg,
};
use crate::error::{Error, ipcx_status};
use crate::flags::{Access, Disposition};
use crate::ring::{self, Ring, RingFlags, Role, layout};
use crate::time::Timeout;

/// One end of a shared-memory ring of messages: a producer or a consumer. Opaque.
///
/// A ring is a bounded queue of variable-size messages in shared memory: single-producer/
/// single-consumer (SPSC, the default) or multi-producer/multi-consumer (MPMC,
/// `IPCX_RING_MPMC`). Messages arrive whole, in order (per producer for MPMC), and can be
/// written and read in place (`ipcx_ring_reserve`/`_commit`, `ipcx_ring_borrow`/
/// `_release`).
/// Thread safety: a one-thread handle (it keeps the reservation, the borrowed message
/// and the poll state). A call made while another thread is inside a call on the same
/// handle returns `IPCX_ERR_IN_USE` at once; hand the handle to another thread between
/// calls, or open one handle per thread (MPMC) for concurrent use.
/// Fork: the child inherits the handle like a pipe end: the side stays alive while any
/// process holding it has not closed it, so each process closes the ends it does not
/// use. An SPSC end is used by one process at a time (`IPCX_ERR_IN_USE` otherwise); an
/// MPMC handle used in a child becomes a separate producer or consumer there. Descriptors
/// are close-on-exec.
/// Every function taking a handle returns `IPCX_ERR_INVALID` for NULL,
/// `IPCX_ERR_BAD_HANDLE` for a closed, stale or foreign one and `IPCX_ERR_IN_USE` while
/// another thread is inside a call on it; a corrupted shared region, or the object of a
/// named ring found truncated, makes every later call on the handle return
/// `IPCX_ERR_PROTOCOL` (close still works). A named ring's object is checked for
/// truncation on the slow paths only (a call that waits or sleeps, attach, liveness
/// checks, arming a poll descriptor, close): a fast-path send, receive, reserve or borrow
/// touches the memory directly, and if another process shrank the object (ftruncate by
/// a process with write access to it) and no slow path has seen it yet, that access
/// raises SIGBUS in the caller, as it would with the raw mapping (docs/ring.md, "Who can
/// break a ring"). Anonymous rings cannot be resized (sealed memfd).
#[allow(non_camel_case_types)]
pub struct ipcx_ring(Ring);

impl handle::Handle for ipcx_ring {
    const KIND: u32 = 7;
    const NAME: &'static str = "ipcx_ring";
}

/// Flag: a multi-producer/multi-consumer ring (when creating); when opening an existing
/// ring, require that it is one. `ipcx_ring_stat` reports it.
pub const IPCX_RING_MPMC: u32 = 0x10000;
/// The longest ring name in bytes, without the NUL: a slash and 255 bytes (the kernel's
/// limit for a file name in /dev/shm, where named rings live).
pub const IPCX_RING_NAME_MAX: usize = 256;
/// Smallest ring capacity in bytes (`ipcx_options_set_capacity`).
pub const IPCX_RING_MIN_CAPACITY: usize = 4096;
/// Largest ring capacity in bytes.
pub const IPCX_RING_MAX_CAPACITY: usize = 1073741824;
/// Default ring capacity in bytes.
pub const IPCX_RING_DEFAULT_CAPACITY: usize = 1048576;
const _: () = assert!(
    IPCX_RING_NAME_MAX == ring::NAME_MAX
        && IPCX_RING_MIN_CAPACITY == layout::MIN_CAPACITY
        && IPCX_RING_MAX_CAPACITY == layout::MAX_CAPACITY
        && IPCX_RING_DEFAULT_CAPACITY == layout::DEFAULT_CAPACITY
);

/// What `ipcx_ring_stat` reports about a ring end. Set `size` to `sizeof` the struct
/// before the call (`ipcx_ring_info info = { sizeof info };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ipcx_ring_info {
    /// In: `sizeof(ipcx_ring_info)` as the caller knows it. Out: the bytes written.
    pub size: u32,
    /// `IPCX_OPEN_WRITE` (a producer end) or `IPCX_OPEN_READ` (a consumer end), plus
    /// `IPCX_RING_MPMC` for a multi-producer/multi-consumer ring.
    pub flags: u32,
    /// The data capacity in bytes (a power of two).
    pub capacity: usize,
    /// The largest message the ring accepts, in bytes.
    pub max_message: usize,
}

// SAFETY: repr(C), starts with the u32 size, no padding (4 + 4 + 8 + 8 bytes, or
// 4 + 4 + 4 + 4 on 32-bit targets).
unsafe impl Info for ipcx_ring_info {
    fn failed() -> Self {
        ipcx_ring_info {
            size: 0,
            flags: 0,
            capacity: 0,
            max_message: 0,
        }
    }
}

/// The ring options of C `flags` (unknown bits already refused).
fn ring_flags(flags: u32) -> RingFlags {
    RingFlags::NONE.with(RingFlags::MPMC, flags & IPCX_RING_MPMC != 0)
}

/// Open, or create, the named ring `name` and attach to it as producer or consumer.
///
/// Arguments: `name`: a POSIX shared-memory name ("/name": one leading slash, no other,
/// at most `IPCX_RING_NAME_MAX` (256) bytes); `flags`: exactly one of `IPCX_OPEN_WRITE`
/// (attach as a producer) or `IPCX_OPEN_READ` (as a consumer), optionally
/// `IPCX_OPEN_CREATE` (create it if missing), `IPCX_OPEN_EXCLUSIVE` (with CREATE: it
/// must not exist) and `IPCX_RING_MPMC` (create a multi-producer/multi-consumer ring; on
/// an existing ring, require one); `opts` may be NULL (honoured: capacity in bytes,
/// default `IPCX_RING_DEFAULT_CAPACITY`, at least `IPCX_RING_MIN_CAPACITY` and at most
/// `IPCX_RING_MAX_CAPACITY` (outside: `IPCX_ERR_INVALID`), rounded up to a power of two;
/// max_message, default and at most
/// capacity/2 - 16; mode, default 0600, applied exactly; spin, see
/// `ipcx_options_set_spin`). Capacity, max_message and MPMC, when given, must match an
/// existing ring.
/// Semantics: the memory is allocated at creation (no SIGBUS later when /dev/shm is
/// full). Opening a ring whose users all died recovers it: dead attachments are freed,
/// a lock a dead process held is taken over, a half-written message is dropped, complete
/// ones are kept. A ring whose creator died while initialising it, or whose header is
/// corrupted, is re-initialised when nobody is attached. An object that is not an ipcx
/// ring is never modified. Anyone who may open the ring for writing may also shrink its
/// object: see docs/ring.md, "Who can break a ring".
/// Returns: `IPCX_OK` with `*out_ring` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_ring`; NULL, malformed or too long name: the
/// message names it; no role or both roles; unknown flags: the message names the
/// accepted ones; EXCLUSIVE without CREATE; bad or unsupported options; explicit options
/// that differ from the existing ring), `IPCX_ERR_EXISTS` (EXCLUSIVE and it exists; a
/// shared-memory object that is not an ipcx ring, or is empty or truncated, has the
/// name), `IPCX_ERR_NOT_FOUND` (no such ring, without CREATE), `IPCX_ERR_IN_USE` (SPSC
/// ring whose side is attached by a live process), `IPCX_ERR_LIMIT` (64 attachments,
/// /dev/shm full, out of descriptors), `IPCX_ERR_PERMISSION`, `IPCX_ERR_PROTOCOL`
/// (corrupted header while someone is attached), `IPCX_ERR_UNSUPPORTED` (another layout
/// version), `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_ring` is NULL.
/// Ownership: close with `ipcx_ring_close`; the ring itself stays until
/// `ipcx_ring_remove`.
/// Fork: a child inherits the handle (see `ipcx_ring`); an unrelated process opens the
/// ring by name.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out_ring` NULL or valid for writing;
/// `opts` NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_open(
    name: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_ring: *mut *mut ipcx_ring,
) -> ipcx_status {
    unsafe { set_opt(out_ring, std::ptr::null_mut()) };
    call("ipcx_ring_open", || {
        let o = unsafe { out(out_ring, "out_ring") }?;
        // Scanned up to PATH_MAX so that a name one byte too long is refused by the ring's
        // own check, whose message names it.
        let name = unsafe { str_arg(name, "name", crate::name::PATH_MAX) }?;
        let opts = unsafe { options(opts) }?;
        Ring::check_options(&opts)?;
        crate::flags::check(
            flags,
            IPCX_OPEN_WRITE
                | IPCX_OPEN_READ
                | IPCX_OPEN_CREATE
                | IPCX_OPEN_EXCLUSIVE
                | IPCX_RING_MPMC,
            "IPCX_OPEN_WRITE or IPCX_OPEN_READ, IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE and \
             IPCX_RING_MPMC",
        )?;
        let role = match Access::from_c(flags) {
            Some(Access::Write) => Role::Producer,
            Some(Access::Read) => Role::Consumer,
            _ => {
                return Err(Error::invalid(
                    "ring open flags must contain exactly one of IPCX_OPEN_WRITE and \
                     IPCX_OPEN_READ",
                ));
            }
        };
        let how = Disposition::from_c(flags)?;
        let r = Ring::open(name, role, how, ring_flags(flags), &opts)?;
        *o = handle::into_raw(ipcx_ring(r))?;
        Ok(())
    })
}

/// Create an anonymous ring, shared with the processes forked afterwards: one producer
/// end and one consumer end (the pattern of `ipcx_pipe_pair`: fork, then each process
/// closes the end it does not use).
///
/// Arguments: `flags`: 0 (single producer, single consumer) or `IPCX_RING_MPMC` (then
/// forked children using the producer end become separate producers, and the same for
/// consumers); `opts` may be NULL (honoured: capacity, max_message, spin; not mode).
/// Semantics: the memory is a memfd sealed against resizing (`F_SEAL_SHRINK`,
/// `F_SEAL_GROW`, `F_SEAL_SEAL`): a process that holds its descriptor cannot truncate it
/// under the other end.
/// Returns: `IPCX_OK` with both out-handles set.
/// Errors: `IPCX_ERR_INVALID` (NULL out-handle, unknown flags: the message names
/// `IPCX_RING_MPMC`, bad or unsupported option), `IPCX_ERR_LIMIT` (memory, descriptors),
/// `IPCX_ERR_BAD_HANDLE` (closed options). On failure both out-handles are NULL.
/// Ownership: close each end with `ipcx_ring_close`; the memory goes away with the last
/// process that uses it.
/// Fork: after fork each process closes the end it does not use; an end stays alive while
/// any process still holds it, so a consumer sees `IPCX_ERR_CLOSED` only once every copy
/// of the producer end is closed (or its processes died).
///
/// # Safety
/// Out-pointers must be NULL or valid for writing; `opts` NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_pair(
    flags: u32,
    opts: *const ipcx_options,
    out_producer: *mut *mut ipcx_ring,
    out_consumer: *mut *mut ipcx_ring,
) -> ipcx_status {
    unsafe {
        set_opt(out_producer, std::ptr::null_mut());
        set_opt(out_consumer, std::ptr::null_mut());
    }
    call("ipcx_ring_pair", || {
        let p = unsafe { out(out_producer, "out_producer") }?;
        let c = unsafe { out(out_consumer, "out_consumer") }?;
        let opts = unsafe { options(opts) }?;
        Ring::check_anonymous_options(&opts)?;
        crate::flags::check(flags, IPCX_RING_MPMC, "IPCX_RING_MPMC")?;
        let (rp, rc) = Ring::anonymous(&opts, ring_flags(flags))?;
        (*p, *c) = handle::into_raw_pair(ipcx_ring(rp), ipcx_ring(rc))?;
        Ok(())
    })
}

/// Close a ring end and release the handle. NULL is a no-op.
///
/// An outstanding reservation is aborted; an outstanding borrowed message is released
/// (consumed). The peers learn at once that this end is gone (unless another process
/// still holds it after fork): a consumer gets `IPCX_ERR_CLOSED` once the ring is empty
/// and no producer is left; a producer gets it when no consumer is left. Pointers from
/// `ipcx_ring_reserve`/`_borrow` become invalid. A close racing a call on another
/// thread never waits: the ring is released when that call returns.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed, stale or not a ring
/// (nothing is freed twice).
/// Fork: closing in one process does not affect the copies other processes hold; only
/// what this process has outstanding is aborted or released.
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_close(r: *mut ipcx_ring) -> ipcx_status {
    call("ipcx_ring_close", || handle::close(r))
}

/// Remove the named ring. Only an ipcx ring is removed: its header is checked first, and
/// an object too damaged to show one (truncated or scribbled over by a peer) is removed
/// only when the provenance record of the ring ipcx created under that name names this
/// very object (docs/inspect.md). Attached ends keep working until closed, and a later
/// `ipcx_ring_open` with `IPCX_OPEN_CREATE` makes a new ring.
///
/// Arguments: `name`, as for `ipcx_ring_open`.
/// Returns: `IPCX_OK` once the name is gone.
/// Errors: `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_INVALID` (NULL, malformed or too long name;
/// the object is not an ipcx ring and no record shows ipcx created it: not removed),
/// `IPCX_ERR_PERMISSION`.
/// Fork: safe in any process.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_remove(name: *const c_char) -> ipcx_status {
    call("ipcx_ring_remove", || {
        ring::unlink(unsafe { str_arg(name, "name", crate::name::PATH_MAX) }?)
    })
}

/// Send one message (producer): copied into the ring, delivered whole.
///
/// Arguments: `buf`/`len`, the message (`buf` may be NULL when `len` is 0; zero-length
/// messages are delivered); `timeout_ms` bounds the wait for room.
/// Waiting: spins for the spin budget, then sleeps on a futex; the consumer wakes it with
/// at most one system call, and only when it sleeps.
/// Returns: `IPCX_OK` once the message is published.
/// Errors: `IPCX_ERR_TIMEOUT` (no room in time; nothing sent), `IPCX_ERR_CLOSED` (no
/// consumer: it closed, or died; a consumer that is killed is noticed within about
/// 100 ms of waiting for room), `IPCX_ERR_TOO_BIG` (above the ring's max_message),
/// `IPCX_ERR_INVALID` (NULL or consumer handle, NULL buffer with a length, length above
/// SSIZE_MAX, bad timeout), `IPCX_ERR_IN_USE` (a reservation is outstanding; another
/// thread is inside a call on the handle; another process uses this SPSC end),
/// `IPCX_ERR_PROTOCOL` (the shared memory is corrupted, or a named ring's object was
/// truncated; sticky), `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `buf` valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_send(
    r: *mut ipcx_ring,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_ring_send", r, |r| {
        r.0.send(
            unsafe { bytes(buf, len, "buf") }?,
            Timeout::from_ms(timeout_ms)?,
            "send",
        )
    })
}

/// Receive one message (consumer), copied into `buf`.
///
/// Arguments: `buf`/`len`: `*len` in: the capacity of `buf`; out: the message length
/// (with `IPCX_ERR_TOO_BIG`: the size needed; the message stays queued; unchanged on
/// other errors); `timeout_ms`.
/// Returns: `IPCX_OK` with the message in `buf`.
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_CLOSED` (the ring is empty and every producer
/// closed or died: a killed producer is noticed within about 100 ms),
/// `IPCX_ERR_TOO_BIG`, `IPCX_ERR_PROTOCOL` (corrupted shared memory: a header or index
/// out of range, nothing out of bounds was read; or a named ring's object truncated;
/// sticky), `IPCX_ERR_INVALID` (NULL or producer handle, NULL `len`, NULL buffer with a
/// capacity), `IPCX_ERR_IN_USE` (a borrowed message is outstanding; another thread is
/// inside a call on the handle), `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `len` NULL or valid; `buf` valid for writing
/// `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_recv(
    r: *mut ipcx_ring,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_ring_recv", r, |r| unsafe {
        recv_into(buf, len, |dst| {
            r.0.recv(dst, Timeout::from_ms(timeout_ms)?, "recv")
        })
    })
}

/// Send several messages in order (producer), as one call: the consumer receives them as
/// if sent by `ipcx_ring_send` one after the other. They are copied back to back and
/// published together, by one store, when the last is written, or before the call waits
/// for room (so a batch larger than the free room is never held back from the consumer).
/// Nothing waits for a later call. With `IPCX_RING_MPMC` the producers' lock is held for
/// the whole batch: another producer's messages come before or after it, never inside.
/// One call pays the handle's checks, the lock, the tail's store and the look for a
/// sleeping consumer once for the whole batch, so that small messages go at the ring's
/// own speed.
///
/// Arguments: `msgs`/`count` the messages (`msgs` may be NULL when `count` is 0; an
/// entry's `buf` may be NULL when its `len` is 0); `timeout_ms` bounds the whole call
/// (every wait for room, over all messages); `out_sent` (may be NULL) receives how many
/// messages were published, the first `*out_sent` of the array, also on failure.
/// Waiting: as `ipcx_ring_send`, for each message that finds the ring full.
/// Returns: `IPCX_OK` when all `count` messages are published (`*out_sent` is `count`).
/// Errors: those of `ipcx_ring_send`, for the first message not published: `*out_sent`
/// tells which (`IPCX_ERR_TIMEOUT`: messages from `*out_sent` on were not sent, send them
/// again). `IPCX_ERR_TOO_BIG` (a message above the ring's max_message: the sizes are
/// checked first, nothing is sent), `IPCX_ERR_INVALID` also for a NULL `msgs` with a
/// count or an entry with a NULL `buf` and a length (nothing is sent).
/// Ownership: the caller keeps `msgs` and the bytes.
/// Fork: see `ipcx_ring`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `msgs` NULL or valid for reading `count`
/// entries, each entry's `buf` NULL or valid for reading its `len` bytes; `out_sent` NULL
/// or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_send_many(
    r: *mut ipcx_ring,
    msgs: *const ipcx_iov,
    count: usize,
    timeout_ms: i64,
    out_sent: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_sent, 0) };
    call_on("ipcx_ring_send_many", r, |r| {
        let msgs = unsafe { iov_arg(msgs, count) }?;
        let (n, res) = r.0.send_many(&msgs, Timeout::from_ms(timeout_ms)?, "send");
        unsafe { set_opt(out_sent, n) };
        res
    })
}

/// Receive several messages (consumer), as one call: waits up to the timeout for the
/// next message, then also takes those already queued behind it, without waiting, as long
/// as they fit in `buf` and `max_count` allows, and copies them into `buf` one after the
/// other, each starting at an offset that is a multiple of 8 (with an 8-byte aligned
/// `buf`, every message is 8-byte aligned). `msgs[i]` says where message `i` lies:
/// `buf` points into `buf`, `len` is its length. Messages arrive whole, in order, each
/// exactly once, as from `ipcx_ring_recv` one after the other; the room they took goes
/// back to the producers once, at the end of the call.
///
/// Arguments: `buf`/`len` the buffer and its capacity in bytes; `msgs`/`max_count`
/// the array to fill (at least 1 entry); `timeout_ms` bounds the wait for the first
/// message; `out_count` (may be NULL) receives how many messages were received (0 on
/// failure).
/// Returns: `IPCX_OK` with at least one message (`*out_count` >= 1). A queued message that
/// does not fit in what is left of `buf` stays queued for the next call.
/// Errors: `IPCX_ERR_TIMEOUT` (no message in time), `IPCX_ERR_CLOSED` (the ring is empty
/// and every producer closed or died), `IPCX_ERR_TOO_BIG` (the next message is larger
/// than `len`: it stays queued; `msgs[0].len` is the size needed and
/// `msgs[0].buf` NULL), `IPCX_ERR_PROTOCOL` (corrupted shared memory, as
/// `ipcx_ring_recv`; one found behind the first message ends the batch and is reported by
/// the next call), `IPCX_ERR_INVALID` (NULL or producer handle, NULL `msgs` or
/// `max_count` 0, NULL `buf` with a length, bad timeout), `IPCX_ERR_IN_USE` (a borrowed
/// message is outstanding; another thread is inside a call on the handle),
/// `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
/// Ownership: the caller keeps `buf` and `msgs`; `msgs[i].buf` points into `buf`.
/// Fork: see `ipcx_ring`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `buf` NULL or valid for writing `len` bytes;
/// `msgs` NULL or valid for writing `max_count` entries; `out_count` NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_recv_many(
    r: *mut ipcx_ring,
    buf: *mut c_void,
    len: usize,
    msgs: *mut ipcx_iov,
    max_count: usize,
    timeout_ms: i64,
    out_count: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_count, 0) };
    call_on("ipcx_ring_recv_many", r, |r| {
        let msgs = unsafe { array_mut(msgs, max_count, "msgs") }?;
        if msgs.is_empty() {
            return Err(Error::invalid(
                "max_count is 0: msgs needs room for at least one message",
            ));
        }
        let dst = unsafe { bytes_mut(buf, len, "buf") }?;
        let base = dst.as_mut_ptr();
        let mut i = 0;
        let res = r.0.recv_many(
            dst,
            msgs.len(),
            |off, n| {
                msgs[i] = ipcx_iov {
                    // SAFETY: off + n <= len (recv_many's contract).
                    buf: if buf.is_null() {
                        buf
                    } else {
                        unsafe { base.add(off) }.cast()
                    },
                    len: n,
                };
                i += 1;
            },
            Timeout::from_ms(timeout_ms)?,
            "recv",
        );
        match res {
            Ok(n) => {
                unsafe { set_opt(out_count, n) };
                Ok(())
            }
            Err(e) => {
                if e.needed > 0 {
                    msgs[0] = ipcx_iov {
                        buf: std::ptr::null(),
                        len: e.needed,
                    };
                }
                Err(e)
            }
        }
    })
}

/// Reserve room for a message of up to `len` bytes and get a pointer to write it in
/// place (zero-copy send). Publish it with `ipcx_ring_commit`, or drop it with
/// `ipcx_ring_abort`.
///
/// Arguments: `len` (0 allowed); `timeout_ms` bounds the wait for room; `out_ptr`
/// receives the address (8-byte aligned; writable for `len` bytes, until commit, abort
/// or close).
/// On an MPMC ring the producers' lock is held until commit or abort: other producers
/// wait meanwhile.
/// Returns: `IPCX_OK` with `*out_ptr` set.
/// Errors: as `ipcx_ring_send` (NULL `out_ptr` is `IPCX_ERR_INVALID`); `IPCX_ERR_IN_USE`
/// if a reservation is already outstanding (one per handle). On failure `*out_ptr` is
/// NULL.
/// Ownership: the memory belongs to the ring; closing the handle aborts the reservation.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_ptr` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_reserve(
    r: *mut ipcx_ring,
    len: usize,
    timeout_ms: i64,
    out_ptr: *mut *mut c_void,
) -> ipcx_status {
    unsafe { set_opt(out_ptr, std::ptr::null_mut()) };
    call_on("ipcx_ring_reserve", r, |r| {
        let o = unsafe { out(out_ptr, "out_ptr") }?;
        *o =
            r.0.reserve(len, Timeout::from_ms(timeout_ms)?, "reserve")?
                .cast();
        Ok(())
    })
}

/// Publish the reserved message with its final length `len` (at most what was
/// reserved; 0 allowed). The consumer sees it whole, never before this call.
///
/// Returns: `IPCX_OK` once published.
/// Errors: `IPCX_ERR_INVALID` (NULL or consumer handle; no reservation outstanding;
/// `len` above the reservation: the reservation stays), `IPCX_ERR_IN_USE` (another
/// thread is inside a call on the handle), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_PROTOCOL`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_commit(r: *mut ipcx_ring, len: usize) -> ipcx_status {
    call_on("ipcx_ring_commit", r, |r| r.0.commit(len, "commit"))
}

/// Drop the outstanding reservation: nothing is published.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_INVALID` (NULL or consumer handle, no reservation outstanding),
/// `IPCX_ERR_IN_USE` (another thread is inside a call on the handle),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_PROTOCOL`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_abort(r: *mut ipcx_ring) -> ipcx_status {
    call_on("ipcx_ring_abort", r, |r| r.0.abort("abort"))
}

/// Borrow the next message in place (zero-copy receive): `*out_ptr`/`*out_len` describe
/// it in the shared memory until `ipcx_ring_release`.
///
/// Arguments: `timeout_ms`; `out_ptr` receives the address of the message, `out_len`
/// its length (both required).
/// The bytes live in memory the producer can write: with an untrusted producer, copy them
/// before validating them. On an MPMC ring the consumers' lock is held until release.
/// Returns: `IPCX_OK` with the message described.
/// Errors: as `ipcx_ring_recv` (no TOO_BIG; NULL `out_ptr` or `out_len` is
/// `IPCX_ERR_INVALID`); `IPCX_ERR_IN_USE` if a borrowed message is already outstanding
/// (one per handle). On failure `*out_ptr` is NULL and `*out_len` 0.
/// Ownership: the memory belongs to the ring; closing the handle releases the message.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_ptr`/`out_len` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_borrow(
    r: *mut ipcx_ring,
    timeout_ms: i64,
    out_ptr: *mut *const c_void,
    out_len: *mut usize,
) -> ipcx_status {
    unsafe {
        set_opt(out_ptr, std::ptr::null());
        set_opt(out_len, 0);
    }
    call_on("ipcx_ring_borrow", r, |r| {
        let po = unsafe { out(out_ptr, "out_ptr") }?;
        let lo = unsafe { out(out_len, "out_len") }?;
        let (p, n) = r.0.borrow(Timeout::from_ms(timeout_ms)?, "borrow")?;
        *po = p.cast();
        *lo = n;
        Ok(())
    })
}

/// Release the borrowed message: it is consumed and its space returns to the producers.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_INVALID` (NULL or producer handle, nothing borrowed),
/// `IPCX_ERR_IN_USE` (another thread is inside a call on the handle),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_PROTOCOL`.
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_release(r: *mut ipcx_ring) -> ipcx_status {
    call_on("ipcx_ring_release", r, |r| r.0.release("release"))
}

/// A descriptor for poll/epoll. A consumer's is readable when a message may be
/// available, or when every producer is gone; a producer's is readable (POLLIN: it is an
/// epoll descriptor, never writable) when room may be available, or when the consumers
/// are gone. "Gone" includes a process that held the other end and died or exited
/// without closing it, even one that never used it (docs/ring.md, "Polling": the ring's
/// object is watched for closes; other closes of the object wake it without news).
///
/// Arguments: `out_fd` receives the descriptor.
/// Use (consumers): poll it; when readable, receive with `IPCX_NOWAIT` until
/// `IPCX_ERR_TIMEOUT` (or `IPCX_ERR_CLOSED`). A receive that finds the ring empty re-arms
/// the descriptor; until then it may stay readable (like epoll's edge-triggered mode with
/// re-arm on EAGAIN). Costs nothing to the producers while nobody polls; while armed, the
/// first message costs its producer one datagram.
/// Use (producers): send with `IPCX_NOWAIT` until `IPCX_ERR_TIMEOUT` (the ring is full),
/// then poll it for POLLIN; when readable, send again. A send that finds no room for its
/// message re-arms it; until then it may stay readable (so stop watching it while there
/// is nothing to send). A wake-up means the consumer took a message since: room for a
/// larger message may still be missing (or the wake-up was a close of the ring's object
/// by another process), and the send then re-arms it. Costs nothing to
/// the consumers while nobody polls; while armed, the first message taken costs its
/// consumer one datagram.
/// Returns: `IPCX_OK` with `*out_fd` set (the same descriptor on every call).
/// Errors: `IPCX_ERR_INVALID` (NULL handle, NULL `out_fd`), `IPCX_ERR_IN_USE`
/// (another handle polls this slot; another thread is inside a call on the handle),
/// `IPCX_ERR_LIMIT` (descriptors), `IPCX_ERR_PROTOCOL`, `IPCX_ERR_BAD_HANDLE`.
/// On failure `*out_fd` is -1.
/// Ownership: the descriptor (an epoll descriptor) stays owned by the handle: do not
/// close or read it; it is closed with the handle.
/// Fork: it is close-on-exec; after fork, call this again in the process that polls.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_fd` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_fd(r: *const ipcx_ring, out_fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_ring_fd", r, |r| {
        let o = unsafe { out(out_fd, "out_fd") }?;
        *o = r.0.poll_fd("fd")?;
        Ok(())
    })
}

/// Describe a ring end: its role, kind, capacity and largest message.
///
/// Arguments: `out_info` (required): set its `size` to `sizeof(ipcx_ring_info)` first;
/// the library writes at most `size` bytes and sets `size` to what it wrote.
/// Returns: `IPCX_OK` with `*out_info` filled. It reads only what the handle keeps (the
/// geometry checked at open), never the shared memory.
/// Errors: `IPCX_ERR_INVALID` (NULL ring or `out_info`; `out_info->size` below the 0.2
/// size of the struct: nothing is written), `IPCX_ERR_IN_USE` (another thread is inside
/// a call on the handle), `IPCX_ERR_BAD_HANDLE`. On other failures the fields are 0.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_info` NULL or valid for reading its
/// `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_stat(
    r: *const ipcx_ring,
    out_info: *mut ipcx_ring_info,
) -> ipcx_status {
    // The failure values first, for when the handle is refused before the body runs.
    let _ = unsafe { info_out(out_info, "out_info", || Ok(ipcx_ring_info::failed())) };
    call_on("ipcx_ring_stat", r, |r| unsafe {
        info_out(out_info, "out_info", || {
            let (cap, max, role, mpmc) = r.0.info();
            Ok(ipcx_ring_info {
                size: 0,
                flags: match role {
                    ring::Role::Producer => IPCX_OPEN_WRITE,
                    ring::Role::Consumer => IPCX_OPEN_READ,
                } | if mpmc { IPCX_RING_MPMC } else { 0 },
                capacity: cap,
                max_message: max,
            })
        })
    })
}
