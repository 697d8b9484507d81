// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for robust process-shared mutexes (`ipcx_mutex`) and process-shared
//! condition variables (`ipcx_cond`) placed in shared memory.

use std::ffi::c_void;

use super::region::ipcx_region;
use super::{call, call_ref, handle, options, out, set_opt};
use crate::error::{Result, ipcx_status};
use crate::options::Options;
use crate::sync::lock::{Cond, Mutex};
use crate::sync::{SLOT_ALIGN, SLOT_SIZE};
use crate::time::Timeout;

/// A robust, process-shared, error-checking mutex living in shared memory. Opaque.
///
/// Thread safety: a thread-safe handle: any number of threads may use it at once (that is
/// its purpose), `ipcx_mutex_destroy` and `ipcx_mutex_close` included (a close waits for no
/// one: calls already inside finish first, see docs/conventions.md).
/// Destroy: `ipcx_mutex_destroy` destroys the mutex but leaves the handle open; every later
/// call on a handle to a destroyed mutex (through any handle, in any process) fails with
/// `IPCX_ERR_REMOVED`, until the handle is closed with `ipcx_mutex_close`.
/// Fork: the child inherits the handle and may use it; the mutex is shared. A lock held by
/// the parent is not held by the child (the child cannot unlock it).
#[allow(non_camel_case_types)]
pub struct ipcx_mutex(Mutex);

impl handle::Handle for ipcx_mutex {
    const KIND: u32 = 32;
    const NAME: &'static str = "ipcx_mutex";
}
impl handle::Shared for ipcx_mutex {}

/// A process-shared condition variable (timed waits on the monotonic clock) living in
/// shared memory. Opaque.
///
/// Thread safety, destroy and fork: as for `ipcx_mutex` (a thread-safe handle; calls on a
/// destroyed condition variable fail with `IPCX_ERR_REMOVED` until `ipcx_cond_close`).
#[allow(non_camel_case_types)]
pub struct ipcx_cond(Cond);

impl handle::Handle for ipcx_cond {
    const KIND: u32 = 33;
    const NAME: &'static str = "ipcx_cond";
}
impl handle::Shared for ipcx_cond {}

/// Bytes to reserve in shared memory for a mutex. The slot starts with the native
/// `pthread_mutex_t`; ipcx keeps a tag in its last 8 bytes.
pub const IPCX_MUTEX_SIZE: usize = 64;
/// Alignment of a mutex's offset in a region (a cache line).
pub const IPCX_MUTEX_ALIGN: usize = 64;
/// Bytes to reserve in shared memory for a condition variable (ipcx's futex words first,
/// not a `pthread_cond_t`: glibc's hangs every signaller once a waiter was killed; ipcx's
/// tag in the last 8 bytes).
pub const IPCX_COND_SIZE: usize = 64;
/// Alignment of a condition variable's offset in a region (a cache line).
pub const IPCX_COND_ALIGN: usize = 64;

const _: () = assert!(
    IPCX_MUTEX_SIZE == SLOT_SIZE
        && IPCX_MUTEX_ALIGN == SLOT_ALIGN
        && IPCX_COND_SIZE == SLOT_SIZE
        && IPCX_COND_ALIGN == SLOT_ALIGN
);

/// Options a mutex honours today: none (kept so that mutex kinds can be added without
/// changing the signature).
fn mutex_options(opts: &Options) -> Result<()> {
    opts.only(&[], "mutexes")
}

/// Initialise a robust process-shared mutex at `offset` of `region` and return a handle to
/// it. Do this once, in one process, before other processes attach (`ipcx_mutex_attach`);
/// children forked afterwards inherit the handle.
///
/// The mutex is robust (an owner that dies, even by SIGKILL, releases it and the next
/// locker is told: `IPCX_ERR_OWNER_DEAD`) and error-checking (unlocking it without holding
/// it, or locking it twice from one thread, is an error).
/// Arguments: `region`: the region holding the mutex; `offset`: a multiple of
/// `IPCX_MUTEX_ALIGN` with `IPCX_MUTEX_SIZE` bytes inside the region; `opts` may be NULL
/// (no option applies to mutexes yet); `out_mutex` receives the handle.
/// Returns: `IPCX_OK` with `*out_mutex` set.
/// Errors: `IPCX_ERR_INVALID` (NULL region or `out_mutex`, misaligned offset, slot outside
/// the region, an option set), `IPCX_ERR_EXISTS` (the slot already holds an initialised
/// object: attach to it, or destroy it first), `IPCX_ERR_PERMISSION` (read-only region),
/// `IPCX_ERR_BAD_HANDLE` (closed region or options). On failure `*out_mutex` is NULL.
/// Ownership: the handle maps the mutex's page on its own, so it stays valid after
/// `ipcx_region_close`. `ipcx_mutex_close` detaches; `ipcx_mutex_destroy` destroys (the
/// handle then still needs `ipcx_mutex_close`).
/// Fork: see `ipcx_mutex`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_mutex` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_init(
    region: *const ipcx_region,
    offset: usize,
    opts: *const super::common::ipcx_options,
    out_mutex: *mut *mut ipcx_mutex,
) -> ipcx_status {
    unsafe { set_opt(out_mutex, std::ptr::null_mut()) };
    call("ipcx_mutex_init", || {
        let o = unsafe { out(out_mutex, "out_mutex") }?;
        mutex_options(&unsafe { options(opts) }?)?;
        let r = handle::pin(region)?;
        *o = handle::into_raw(ipcx_mutex(Mutex::init_in(&r.0, offset)?))?;
        Ok(())
    })
}

/// Like `ipcx_mutex_init`, at an address of memory the caller mapped itself (a file or
/// POSIX shared memory mapped with MAP_SHARED): how unrelated processes that do not hold
/// an `ipcx_region` share a mutex. `addr` must be a multiple of `IPCX_MUTEX_ALIGN` in a
/// writable shared mapping (private memory is refused with `IPCX_ERR_INVALID`); the caller
/// guarantees `IPCX_MUTEX_SIZE` bytes there.
///
/// Returns, errors and ownership as for `ipcx_mutex_init` (the handle keeps its own
/// mapping of the page, so the caller may unmap its own); `*out_mutex` is NULL on failure.
///
/// # Safety
/// `addr` must be NULL or point to `IPCX_MUTEX_SIZE` bytes of mapped shared memory reserved
/// for this mutex; `out_mutex` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_init_at(
    addr: *mut c_void,
    opts: *const super::common::ipcx_options,
    out_mutex: *mut *mut ipcx_mutex,
) -> ipcx_status {
    unsafe { set_opt(out_mutex, std::ptr::null_mut()) };
    call("ipcx_mutex_init_at", || {
        let o = unsafe { out(out_mutex, "out_mutex") }?;
        mutex_options(&unsafe { options(opts) }?)?;
        *o = handle::into_raw(ipcx_mutex(Mutex::init_at(addr.cast())?))?;
        Ok(())
    })
}

/// Attach to a mutex another process initialised at `offset` of `region`.
///
/// Returns: `IPCX_OK` with `*out_mutex` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (no mutex initialised there: never initialised, destroyed,
/// or still being initialised), `IPCX_ERR_INVALID` (another kind of object lives there;
/// misaligned or out-of-region offset; NULL arguments), `IPCX_ERR_PERMISSION` (read-only
/// region), `IPCX_ERR_BAD_HANDLE`. On failure `*out_mutex` is NULL.
/// Ownership: as for `ipcx_mutex_init`; `ipcx_mutex_close` detaches.
/// Fork: see `ipcx_mutex`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_mutex` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_attach(
    region: *const ipcx_region,
    offset: usize,
    out_mutex: *mut *mut ipcx_mutex,
) -> ipcx_status {
    unsafe { set_opt(out_mutex, std::ptr::null_mut()) };
    call("ipcx_mutex_attach", || {
        let o = unsafe { out(out_mutex, "out_mutex") }?;
        let r = handle::pin(region)?;
        *o = handle::into_raw(ipcx_mutex(Mutex::attach_in(&r.0, offset)?))?;
        Ok(())
    })
}

/// Attach to a mutex initialised at `addr` (see `ipcx_mutex_init_at`).
///
/// Returns: `IPCX_OK` with `*out_mutex` set.
/// Errors: as for `ipcx_mutex_attach`, plus `IPCX_ERR_INVALID` for memory that is not a
/// shared mapping. On failure `*out_mutex` is NULL.
///
/// # Safety
/// `addr` must be NULL or point to mapped memory of `IPCX_MUTEX_SIZE` bytes; `out_mutex`
/// NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_attach_at(
    addr: *mut c_void,
    out_mutex: *mut *mut ipcx_mutex,
) -> ipcx_status {
    unsafe { set_opt(out_mutex, std::ptr::null_mut()) };
    call("ipcx_mutex_attach_at", || {
        let o = unsafe { out(out_mutex, "out_mutex") }?;
        *o = handle::into_raw(ipcx_mutex(Mutex::attach_at(addr.cast())?))?;
        Ok(())
    })
}

/// Lock the mutex.
///
/// Arguments: `timeout_ms`: `IPCX_FOREVER` (pthread_mutex_lock), `IPCX_NOWAIT` (the
/// try-lock), or a positive timeout on the monotonic clock (pthread_mutex_clocklock).
/// Returns: `IPCX_OK` with the lock held, or `IPCX_ERR_OWNER_DEAD` *also with the lock
/// held*: its previous owner died holding it, so the data it protects may be half-updated.
/// Repair the data and call `ipcx_mutex_consistent`, then use the mutex as usual; unlocking
/// without doing so makes the mutex unusable for everyone (`IPCX_ERR_NOT_RECOVERABLE`).
/// Errors: `IPCX_ERR_TIMEOUT` (held by someone else until the deadline),
/// `IPCX_ERR_NOT_RECOVERABLE` (not held: see above; destroy and initialise it again),
/// `IPCX_ERR_IN_USE` (the calling thread already holds it), `IPCX_ERR_INVALID` (timeout
/// below -1, NULL handle), `IPCX_ERR_REMOVED` (the mutex was destroyed),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `m` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_lock(m: *const ipcx_mutex, timeout_ms: i64) -> ipcx_status {
    call_ref("ipcx_mutex_lock", m, |m| {
        m.0.lock(Timeout::from_ms(timeout_ms)?)
    })
}

/// Unlock the mutex.
///
/// Returns: `IPCX_OK` once unlocked.
/// Errors: `IPCX_ERR_PERMISSION` (the calling thread does not hold it: an error, not
/// undefined behaviour; nothing changes), `IPCX_ERR_INVALID` (NULL handle),
/// `IPCX_ERR_REMOVED` (the mutex was destroyed), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `m` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_unlock(m: *const ipcx_mutex) -> ipcx_status {
    call_ref("ipcx_mutex_unlock", m, |m| m.0.unlock())
}

/// Declare the data protected by a mutex consistent again, after `ipcx_mutex_lock` (or
/// `ipcx_cond_wait`) returned `IPCX_ERR_OWNER_DEAD` to the calling thread. The thread still
/// holds the lock and unlocks it as usual.
///
/// Returns: `IPCX_OK` once marked consistent.
/// Errors: `IPCX_ERR_INVALID` (the mutex is not in the owner-died state; NULL handle),
/// `IPCX_ERR_REMOVED` (the mutex was destroyed), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `m` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_consistent(m: *const ipcx_mutex) -> ipcx_status {
    call_ref("ipcx_mutex_consistent", m, |m| m.0.consistent())
}

/// Destroy the mutex (pthread_mutex_destroy). The handle stays open: close it with
/// `ipcx_mutex_close`. Every later call on it, and on any other handle to the mutex in any
/// process, fails with `IPCX_ERR_REMOVED`; new attaches fail with `IPCX_ERR_NOT_FOUND`, and
/// the slot may be initialised again.
///
/// Returns: `IPCX_OK` once destroyed.
/// Errors: `IPCX_ERR_IN_USE` (some thread holds it: unlock first; nothing changes),
/// `IPCX_ERR_REMOVED` (destroyed already, through this handle or another one),
/// `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `m` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_destroy(m: *mut ipcx_mutex) -> ipcx_status {
    call_ref("ipcx_mutex_destroy", m, |m| m.0.destroy())
}

/// Detach: free the handle (and its mapping of the mutex's page). The mutex stays for the
/// other processes. A handle to a destroyed mutex is closed the same way. NULL is a no-op.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_IN_USE` (a thread of this process holds the mutex: unlock it first,
/// since the kernel's robust-list bookkeeping points into the handle's mapping; the handle
/// stays open), `IPCX_ERR_BAD_HANDLE` (already closed).
///
/// # Safety
/// `m` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_mutex_close(m: *mut ipcx_mutex) -> ipcx_status {
    call("ipcx_mutex_close", || {
        if m.is_null() {
            return Ok(());
        }
        handle::pin(m)?.0.check_closable()?;
        handle::close(m)
    })
}

/// Initialise a process-shared condition variable (CLOCK_MONOTONIC for timed waits) at
/// `offset` of `region`, once, in one process.
///
/// Arguments: `region`: the region holding it; `offset`: a multiple of `IPCX_COND_ALIGN`
/// with `IPCX_COND_SIZE` bytes inside the region; `out_cond` receives the handle.
/// Returns: `IPCX_OK` with `*out_cond` set.
/// Errors: `IPCX_ERR_INVALID` (NULL region or `out_cond`, misaligned offset, slot outside
/// the region), `IPCX_ERR_EXISTS` (the slot already holds an initialised object),
/// `IPCX_ERR_PERMISSION` (read-only region), `IPCX_ERR_BAD_HANDLE`. On failure `*out_cond`
/// is NULL.
/// Ownership: as for `ipcx_mutex_init` (`ipcx_cond_destroy`, then `ipcx_cond_close`).
/// Fork: see `ipcx_cond`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_cond` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_init(
    region: *const ipcx_region,
    offset: usize,
    out_cond: *mut *mut ipcx_cond,
) -> ipcx_status {
    unsafe { set_opt(out_cond, std::ptr::null_mut()) };
    call("ipcx_cond_init", || {
        let o = unsafe { out(out_cond, "out_cond") }?;
        let r = handle::pin(region)?;
        *o = handle::into_raw(ipcx_cond(Cond::init_in(&r.0, offset)?))?;
        Ok(())
    })
}

/// Like `ipcx_cond_init`, at an address in a shared mapping the caller made (see
/// `ipcx_mutex_init_at`).
///
/// Returns: `IPCX_OK` with `*out_cond` set.
/// Errors: as for `ipcx_cond_init`, plus `IPCX_ERR_INVALID` for memory that is not a
/// shared mapping. On failure `*out_cond` is NULL.
///
/// # Safety
/// `addr` must be NULL or point to `IPCX_COND_SIZE` bytes of mapped shared memory reserved
/// for this condition variable; `out_cond` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_init_at(
    addr: *mut c_void,
    out_cond: *mut *mut ipcx_cond,
) -> ipcx_status {
    unsafe { set_opt(out_cond, std::ptr::null_mut()) };
    call("ipcx_cond_init_at", || {
        let o = unsafe { out(out_cond, "out_cond") }?;
        *o = handle::into_raw(ipcx_cond(Cond::init_at(addr.cast())?))?;
        Ok(())
    })
}

/// Attach to a condition variable another process initialised at `offset` of `region`.
///
/// Returns: `IPCX_OK` with `*out_cond` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (none initialised there, or destroyed), `IPCX_ERR_INVALID`
/// (another kind of object; misaligned or out-of-region offset; NULL arguments),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure `*out_cond` is NULL.
/// Fork: see `ipcx_cond`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_cond` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_attach(
    region: *const ipcx_region,
    offset: usize,
    out_cond: *mut *mut ipcx_cond,
) -> ipcx_status {
    unsafe { set_opt(out_cond, std::ptr::null_mut()) };
    call("ipcx_cond_attach", || {
        let o = unsafe { out(out_cond, "out_cond") }?;
        let r = handle::pin(region)?;
        *o = handle::into_raw(ipcx_cond(Cond::attach_in(&r.0, offset)?))?;
        Ok(())
    })
}

/// Attach to a condition variable initialised at `addr` (see `ipcx_cond_init_at`).
///
/// Returns: `IPCX_OK` with `*out_cond` set.
/// Errors: as for `ipcx_cond_attach`, plus `IPCX_ERR_INVALID` for memory that is not a
/// shared mapping. On failure `*out_cond` is NULL.
///
/// # Safety
/// `addr` must be NULL or point to mapped memory of `IPCX_COND_SIZE` bytes; `out_cond`
/// NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_attach_at(
    addr: *mut c_void,
    out_cond: *mut *mut ipcx_cond,
) -> ipcx_status {
    unsafe { set_opt(out_cond, std::ptr::null_mut()) };
    call("ipcx_cond_attach_at", || {
        let o = unsafe { out(out_cond, "out_cond") }?;
        *o = handle::into_raw(ipcx_cond(Cond::attach_at(addr.cast())?))?;
        Ok(())
    })
}

/// Wait on the condition variable: atomically release `m` (which the calling thread must
/// hold), sleep until signalled, and take `m` back before returning. Every process waiting
/// on one condition variable at the same time must use the same mutex.
///
/// Arguments: `timeout_ms`: `IPCX_FOREVER`, `IPCX_NOWAIT` (returns `IPCX_ERR_TIMEOUT` at
/// once, `m` untouched, once it has checked that the calling thread holds `m`), or a
/// positive timeout on the monotonic clock. A process killed while it waits leaves the
/// condition variable usable by every other process.
/// Returns: `IPCX_OK` (woken; possibly spuriously: re-check the condition in a loop) with `m`
/// held; `IPCX_ERR_TIMEOUT` with `m` held; `IPCX_ERR_INTERRUPTED` with `m` held (a signal
/// handler ran on a thread made interruptible with `ipcx_thread_set_interruptible`; on
/// other threads a handler does not end the wait); `IPCX_ERR_OWNER_DEAD` with `m` held:
/// while this thread waited, a process died holding `m` (this takes precedence over a
/// timeout): repair the data and call `ipcx_mutex_consistent` as after `ipcx_mutex_lock`.
/// Errors (with `m` not held): `IPCX_ERR_PERMISSION` (the calling thread did not hold `m`;
/// nothing waited), `IPCX_ERR_NOT_RECOVERABLE`, `IPCX_ERR_INVALID` (NULL handles, timeout
/// below -1), `IPCX_ERR_REMOVED` (the condition variable or the mutex was destroyed; if the
/// mutex is destroyed while this thread waits, it is not taken back), `IPCX_ERR_BAD_HANDLE`
/// (either handle closed).
///
/// # Safety
/// `c` and `m` must be NULL or handles from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_wait(
    c: *const ipcx_cond,
    m: *const ipcx_mutex,
    timeout_ms: i64,
) -> ipcx_status {
    call_ref("ipcx_cond_wait", c, |c| {
        let m = handle::pin(m)?;
        c.0.wait(&m.0, Timeout::from_ms(timeout_ms)?)
    })
}

/// Wake one process or thread waiting on the condition variable (if any). Signal while
/// holding the mutex, after changing the condition, so that no wake-up is lost.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_REMOVED` (destroyed),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `c` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_signal(c: *const ipcx_cond) -> ipcx_status {
    call_ref("ipcx_cond_signal", c, |c| c.0.signal())
}

/// Wake every process and thread waiting on the condition variable.
///
/// Returns: `IPCX_OK`.
/// Errors: `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_REMOVED` (destroyed),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `c` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_broadcast(c: *const ipcx_cond) -> ipcx_status {
    call_ref("ipcx_cond_broadcast", c, |c| c.0.broadcast())
}

/// Destroy the condition variable. The handle stays open: close it with
/// `ipcx_cond_close`. Every later call on it, and on any other handle to it in any process,
/// fails with `IPCX_ERR_REMOVED`; new attaches fail with `IPCX_ERR_NOT_FOUND`. Nobody may be
/// waiting on it (a waiter that was never signalled would wait until its timeout).
///
/// Returns: `IPCX_OK` once destroyed.
/// Errors: `IPCX_ERR_REMOVED` (destroyed already, through this handle or another one),
/// `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `c` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_destroy(c: *mut ipcx_cond) -> ipcx_status {
    call_ref("ipcx_cond_destroy", c, |c| c.0.destroy())
}

/// Detach: free the handle (and its mapping of the condition variable's page); the
/// condition variable stays for the other processes. A handle to a destroyed condition
/// variable is closed the same way. NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `c` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_cond_close(c: *mut ipcx_cond) -> ipcx_status {
    call("ipcx_cond_close", || handle::close(c))
}
