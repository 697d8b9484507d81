//! C functions for shared-memory rings (`ipcx_ring`).

use std::ffi::{c_char, c_int, c_void};

use super::common::ipcx_options;
use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::{bytes, bytes_mut, call, call_on, handle, options, out, set_opt, str_arg};
use crate::error::ipcx_status;
use crate::name;
use crate::ring::{self, Ring, layout};

/// One end of a shared-memory ring of messages: a producer or a consumer. Opaque.
///
/// A ring is a bounded queue of variable-size messages in shared memory: single-producer/
/// single-consumer (SPSC, the default) or multi-producer/multi-consumer (MPMC,
/// `IPCX_RING_MPMC`). Messages arrive whole, in order (per producer for MPMC), and can be
/// written and read in place (`ipcx_ring_reserve`/`_commit`, `ipcx_ring_borrow`/
/// `_release`).
/// Thread safety: a handle may be used by one thread at a time; open one handle per
/// thread (MPMC) for concurrent use.
/// Fork: the child inherits the handle like a pipe end: the side stays alive while any
/// process holding it has not closed it, so each process closes the ends it does not
/// use. An SPSC end is used by one process at a time (`IPCX_ERR_IN_USE` otherwise); an
/// MPMC handle used in a child becomes a separate producer or consumer there. Descriptors
/// are close-on-exec.
/// Every function taking a handle returns `IPCX_ERR_INVALID` for NULL and
/// `IPCX_ERR_BAD_HANDLE` for a closed one; a corrupted shared region makes every later
/// call on the handle return `IPCX_ERR_PROTOCOL` (close still works).
#[allow(non_camel_case_types)]
pub struct ipcx_ring(Ring);

impl handle::Handle for ipcx_ring {
    const KIND: u32 = 45;
    const NAME: &'static str = "ipcx_ring";
}

/// Flag: a multi-producer/multi-consumer ring (when creating); when opening an existing
/// ring, require that it is one. `ipcx_ring_info` reports it.
pub const IPCX_RING_MPMC: u32 = 0x10000;
/// Smallest ring capacity in bytes (`ipcx_options_set_capacity`).
pub const IPCX_RING_MIN_CAPACITY: usize = 4096;
/// Largest ring capacity in bytes.
pub const IPCX_RING_MAX_CAPACITY: usize = 1073741824;
/// Default ring capacity in bytes.
pub const IPCX_RING_DEFAULT_CAPACITY: usize = 1048576;
const _: () = assert!(
    IPCX_OPEN_WRITE == ring::PRODUCER
        && IPCX_OPEN_READ == ring::CONSUMER
        && IPCX_OPEN_CREATE == ring::CREATE
        && IPCX_OPEN_EXCLUSIVE == ring::EXCL
        && IPCX_RING_MPMC == ring::MPMC
        && IPCX_RING_MIN_CAPACITY == layout::MIN_CAPACITY
        && IPCX_RING_MAX_CAPACITY == layout::MAX_CAPACITY
        && IPCX_RING_DEFAULT_CAPACITY == layout::DEFAULT_CAPACITY
);

/// Open, or create, the named ring `name` and attach to it as producer or consumer.
///
/// Arguments: `name`: a POSIX shared-memory name ("/name": one leading slash, no other,
/// at most 255 bytes); `flags`: exactly one of `IPCX_OPEN_WRITE` /
/// `IPCX_OPEN_READ`, optionally `IPCX_OPEN_CREATE` (create if missing),
/// `IPCX_OPEN_EXCLUSIVE` (with CREATE: the ring must not exist), `IPCX_RING_MPMC`; `opts` may
/// be NULL (honoured: capacity in bytes, default `IPCX_RING_DEFAULT_CAPACITY`, rounded up
/// to a power of two in `IPCX_RING_MIN_CAPACITY..IPCX_RING_MAX_CAPACITY`; max_message,
/// default and at most capacity/2 - 16; mode, default 0600, applied exactly; spin, see
/// `ipcx_options_set_spin`). Capacity, max_message and MPMC, when given, must match an
/// existing ring.
/// Semantics: the memory is allocated at creation (no SIGBUS later when /dev/shm is
/// full). Opening a ring whose users all died recovers it: dead attachments are freed,
/// a lock a dead process held is taken over, a half-written message is dropped, complete
/// ones are kept. A ring whose creator died while initialising it, or whose header is
/// corrupted, is re-initialised when nobody is attached. An object that is not an ipcx
/// ring is never modified.
/// Errors: `IPCX_ERR_INVALID` (bad name, flags or options; the name exists but is not an
/// ipcx ring; explicit options differ from the existing ring), `IPCX_ERR_NOT_FOUND` (no
/// such ring, without CREATE), `IPCX_ERR_EXISTS` (EXCL and it exists), `IPCX_ERR_IN_USE`
/// (SPSC ring whose side is attached by a live process), `IPCX_ERR_LIMIT` (64
/// attachments, /dev/shm full, out of descriptors), `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_PROTOCOL` (corrupted header while someone is attached),
/// `IPCX_ERR_UNSUPPORTED` (another layout version), `IPCX_ERR_BAD_HANDLE` (closed
/// options). On failure `*out` is NULL.
/// Ownership: close with `ipcx_ring_close`; the ring itself stays until
/// `ipcx_ring_remove`.
/// Fork: a child inherits the handle (see `ipcx_ring`); an unrelated process opens the
/// ring by name.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_open(
    name: *const c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_ring: *mut *mut ipcx_ring,
) -> ipcx_status {
    unsafe { set_opt(out_ring, std::ptr::null_mut()) };
    call("ipcx_ring_open", || {
        let o = unsafe { out(out_ring, "out") }?;
        let name = unsafe { str_arg(name, "name", name::POSIX_NAME_MAX) }?;
        let r = Ring::open(name, flags, &unsafe { options(opts) }?)?;
        *o = handle::into_raw(ipcx_ring(r))?;
        Ok(())
    })
}

/// Create an anonymous ring, shared with the processes forked afterwards: one producer
/// end and one consumer end (the pattern of `ipcx_pipe_pair`: fork, then each process
/// closes the end it does not use).
///
/// Arguments: `flags`: 0 or `IPCX_RING_MPMC`; `opts` may be NULL (honoured: capacity,
/// max_message, spin). With `IPCX_RING_MPMC` (then forked children using the producer end become separate
/// producers, and the same for consumers).
/// Errors: `IPCX_ERR_INVALID` (NULL out-handle, unknown flag, bad or unsupported option),
/// `IPCX_ERR_LIMIT` (memory, descriptors), `IPCX_ERR_BAD_HANDLE`. On failure both
/// out-handles are NULL.
/// Ownership: close each end with `ipcx_ring_close`; the memory goes away with the last
/// process that uses it.
/// Fork: after fork each process closes the end it does not use; an end stays alive while
/// any process still holds it, so a consumer sees `IPCX_ERR_CLOSED` only once every copy
/// of the producer end is closed (or its processes died).
///
/// # Safety
/// Out-pointers must be NULL or valid for writing; `opts` NULL or a live options handle.
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
        let (rp, rc) = Ring::anonymous(&unsafe { options(opts) }?, flags)?;
        (*p, *c) = handle::into_raw_pair(ipcx_ring(rp), ipcx_ring(rc))?;
        Ok(())
    })
}

/// Close a ring end and free the handle. NULL is a no-op.
///
/// An outstanding reservation is aborted; an outstanding borrowed message is released
/// (consumed). The peers learn at once that this end is gone (unless another process
/// still holds it after fork): a consumer gets `IPCX_ERR_CLOSED` once the ring is empty
/// and no producer is left; a producer gets it when no consumer is left. Pointers from
/// `ipcx_ring_reserve`/`_borrow` become invalid.
/// Fork: closing in one process does not affect the copies other processes hold; only
/// what this process has outstanding is aborted or released.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `r` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_close(r: *mut ipcx_ring) -> ipcx_status {
    call("ipcx_ring_close", || handle::close(r))
}

/// Remove the named ring. Only an ipcx ring is removed (its header is checked first);
/// attached ends keep working until closed, and a later `ipcx_ring_open` with
/// `IPCX_OPEN_CREATE` makes a new ring.
///
/// Errors: `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_INVALID` (bad name; the object is not an ipcx
/// ring: not removed), `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_remove(name: *const c_char) -> ipcx_status {
    call("ipcx_ring_remove", || {
        ring::unlink(unsafe { str_arg(name, "name", name::POSIX_NAME_MAX) }?)
    })
}

/// Send one message (producer): copied into the ring, delivered whole.
///
/// Arguments: `buf`/`len`, the message (`buf` may be NULL when `len` is 0; zero-length
/// messages are delivered); `timeout_ms` bounds the wait for room.
/// Waiting: spins for the spin budget, then sleeps on a futex; the consumer wakes it with
/// at most one system call, and only when it sleeps.
/// Errors: `IPCX_ERR_TIMEOUT` (no room in time; nothing sent), `IPCX_ERR_CLOSED` (no
/// consumer: it closed, or died; a consumer that is killed is noticed within about
/// 100 ms of waiting for room), `IPCX_ERR_TOO_BIG` (above the ring's max_message),
/// `IPCX_ERR_INVALID` (consumer handle, NULL buffer with a length, bad timeout),
/// `IPCX_ERR_IN_USE` (a reservation is outstanding; or another process uses this SPSC
/// end), `IPCX_ERR_PROTOCOL` (the shared memory is corrupted; sticky),
/// `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_send(
    r: *mut ipcx_ring,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_ring_send", r, |r| {
        r.0.send(unsafe { bytes(buf, len, "buf") }?, timeout_ms, "send")
    })
}

/// Receive one message (consumer), copied into `buf`.
///
/// Arguments: `len` in: the capacity of `buf`; out: the message length (with
/// `IPCX_ERR_TOO_BIG`: the size needed; the message stays queued; unchanged on other
/// errors); `timeout_ms`.
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_CLOSED` (the ring is empty and every producer
/// closed or died: a killed producer is noticed within about 100 ms),
/// `IPCX_ERR_TOO_BIG`, `IPCX_ERR_PROTOCOL` (corrupted shared memory: a header or index
/// out of range; nothing out of bounds was read; sticky), `IPCX_ERR_INVALID` (producer
/// handle, NULL `len` or buffer), `IPCX_ERR_IN_USE` (a borrowed message is outstanding),
/// `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `len` must be valid; `buf` valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_recv(
    r: *mut ipcx_ring,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_ring_recv", r, |r| {
        let len = unsafe { out(len, "len") }?;
        let dst = unsafe { bytes_mut(buf, *len, "buf") }?;
        match r.0.recv(dst, timeout_ms, "recv") {
            Ok(n) => {
                *len = n;
                Ok(())
            }
            Err(e) => {
                if e.needed > 0 {
                    *len = e.needed;
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
/// Arguments: `len` (0 allowed); `ptr` receives the address (8-byte aligned; writable for
/// `len` bytes, until commit, abort or close); `timeout_ms` bounds the wait for room.
/// On an MPMC ring the producers' lock is held until commit or abort: other producers
/// wait meanwhile.
/// Errors: as `ipcx_ring_send`; `IPCX_ERR_IN_USE` if a reservation is already
/// outstanding (one per handle). On failure `*ptr` is NULL.
/// Ownership: the memory belongs to the ring; closing the handle aborts the reservation.
///
/// # Safety
/// `ptr` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_reserve(
    r: *mut ipcx_ring,
    len: usize,
    ptr: *mut *mut c_void,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe { set_opt(ptr, std::ptr::null_mut()) };
    call_on("ipcx_ring_reserve", r, |r| {
        let o = unsafe { out(ptr, "ptr") }?;
        *o = r.0.reserve(len, timeout_ms, "reserve")?.cast();
        Ok(())
    })
}

/// Publish the reserved message with its final length `len` (at most what was
/// reserved; 0 allowed). The consumer sees it whole, never before this call.
///
/// Errors: `IPCX_ERR_INVALID` (no reservation outstanding; `len` above the reservation:
/// the reservation stays), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_PROTOCOL`.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_commit(r: *mut ipcx_ring, len: usize) -> ipcx_status {
    call_on("ipcx_ring_commit", r, |r| r.0.commit(len, "commit"))
}

/// Drop the outstanding reservation: nothing is published.
///
/// Errors: `IPCX_ERR_INVALID` (no reservation outstanding, consumer handle),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_abort(r: *mut ipcx_ring) -> ipcx_status {
    call_on("ipcx_ring_abort", r, |r| r.0.abort("abort"))
}

/// Borrow the next message in place (zero-copy receive): `*ptr`/`*len` describe it in the
/// shared memory until `ipcx_ring_release`.
///
/// The bytes live in memory the producer can write: with an untrusted producer, copy them
/// before validating them. On an MPMC ring the consumers' lock is held until release.
/// Errors: as `ipcx_ring_recv` (no TOO_BIG); `IPCX_ERR_IN_USE` if a borrowed message is
/// already outstanding (one per handle). On failure `*ptr` is NULL and `*len` 0.
/// Ownership: the memory belongs to the ring; closing the handle releases the message.
///
/// # Safety
/// `ptr`/`len` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_borrow(
    r: *mut ipcx_ring,
    ptr: *mut *const c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe {
        set_opt(ptr, std::ptr::null());
        set_opt(len, 0);
    }
    call_on("ipcx_ring_borrow", r, |r| {
        let po = unsafe { out(ptr, "ptr") }?;
        let lo = unsafe { out(len, "len") }?;
        let (p, n) = r.0.borrow(timeout_ms, "borrow")?;
        *po = p.cast();
        *lo = n;
        Ok(())
    })
}

/// Release the borrowed message: it is consumed and its space returns to the producers.
///
/// Errors: `IPCX_ERR_INVALID` (nothing borrowed, producer handle),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_release(r: *mut ipcx_ring) -> ipcx_status {
    call_on("ipcx_ring_release", r, |r| r.0.release("release"))
}

/// A descriptor for poll/epoll (consumers): readable when a message may be available,
/// or when every producer is gone.
///
/// Use: poll it; when readable, receive with `IPCX_NOWAIT` until `IPCX_ERR_TIMEOUT` (or
/// `IPCX_ERR_CLOSED`). A receive that finds the ring empty re-arms the descriptor; until
/// then it may stay readable (like epoll's edge-triggered mode with re-arm on EAGAIN).
/// Costs nothing to the producers while nobody polls; while armed, the first message
/// costs its producer one datagram. The descriptor (an epoll descriptor) stays owned by
/// the handle: do not close or read it. It is close-on-exec; after fork, call this again
/// in the process that polls.
/// Errors: `IPCX_ERR_INVALID` (producer handle, NULL `fd`), `IPCX_ERR_IN_USE` (another
/// handle polls this consumer slot), `IPCX_ERR_LIMIT` (descriptors),
/// `IPCX_ERR_BAD_HANDLE`. On failure `*fd` is -1.
///
/// # Safety
/// `fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_fd(r: *mut ipcx_ring, fd: *mut c_int) -> ipcx_status {
    unsafe { set_opt(fd, -1) };
    call_on("ipcx_ring_fd", r, |r| {
        let o = unsafe { out(fd, "fd") }?;
        *o = r.0.poll_fd("fd")?;
        Ok(())
    })
}

/// Describe a ring end. Any out-pointer may be NULL.
///
/// Arguments: `capacity` receives the data capacity in bytes (a power of two);
/// `max_message` the largest message; `flags` `IPCX_OPEN_WRITE` or
/// `IPCX_OPEN_READ`, plus `IPCX_RING_MPMC` for a multi-producer/multi-consumer ring.
/// Errors: `IPCX_ERR_INVALID` (NULL ring), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// Out-pointers must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_ring_info(
    r: *const ipcx_ring,
    capacity: *mut usize,
    max_message: *mut usize,
    flags: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(capacity, 0);
        set_opt(max_message, 0);
        set_opt(flags, 0);
    }
    call_on("ipcx_ring_info", r, |r| {
        let (cap, max, role, mpmc) = r.0.info();
        let f = match role {
            ring::Role::Producer => IPCX_OPEN_WRITE,
            ring::Role::Consumer => IPCX_OPEN_READ,
        } | if mpmc { IPCX_RING_MPMC } else { 0 };
        unsafe {
            set_opt(capacity, cap);
            set_opt(max_message, max);
            set_opt(flags, f);
        }
        Ok(())
    })
}
