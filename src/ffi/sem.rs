//! C functions for POSIX semaphores (`ipcx_sem`: named, unnamed in shared memory,
//! thread-only) and System V semaphore sets (`ipcx_semset`).

use std::ffi::{c_char, c_void};

use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE};
use super::region::ipcx_region;
use super::{bytes, call, call_ref, handle, options, out, set_opt, str_arg};
use crate::error::{Error, Result, ipcx_status};
use crate::sync::sem::{self, Sem};
use crate::sync::sysv::{self, SemSet, ipcx_semop};
use crate::sync::{SLOT_ALIGN, SLOT_SIZE};
use crate::time::Deadline;

/// A POSIX semaphore: named (`ipcx_sem_open`), unnamed in shared memory
/// (`ipcx_sem_init` / `ipcx_sem_attach`, or `_at` for memory the caller mapped), or
/// thread-only (`ipcx_sem_create`). Opaque.
///
/// Thread safety: a semaphore handle may be used by any number of threads at once (that is
/// its purpose); only `ipcx_sem_close` / `ipcx_sem_destroy` need every other call on it to
/// have returned.
/// Fork: the child inherits the handle and may use it. Named and unnamed semaphores live in
/// shared memory, so parent and child share the same counter. A thread-only semaphore is
/// in private memory: after fork the child has its own copy, unconnected to the parent's.
/// An exec'd program inherits nothing: it opens the name, or attaches to the shared memory.
#[allow(non_camel_case_types)]
pub struct ipcx_sem(Sem);

impl handle::Handle for ipcx_sem {
    const KIND: u32 = 30;
    const NAME: &'static str = "ipcx_sem";
}
impl handle::Shared for ipcx_sem {}

/// A System V semaphore set. Opaque.
///
/// Thread safety: a set handle may be used by any number of threads at once; only
/// `ipcx_semset_close` needs every other call on it to have returned.
/// Fork: the child inherits the handle and may use it (the set is a kernel object). SEM_UNDO
/// adjustments are per process: a child starts with none, and its own are reverted when it
/// exits.
#[allow(non_camel_case_types)]
pub struct ipcx_semset(SemSet);

impl handle::Handle for ipcx_semset {
    const KIND: u32 = 31;
    const NAME: &'static str = "ipcx_semset";
}
impl handle::Shared for ipcx_semset {}

/// Bytes to reserve in shared memory for an unnamed semaphore (`ipcx_sem_init`). The
/// slot starts with the native `sem_t` (so raw `sem_*` calls work at the same address);
/// ipcx keeps a tag in its last 8 bytes. The size may only grow in a later major version.
pub const IPCX_SEM_SIZE: usize = 64;
/// Alignment of an unnamed semaphore's offset in a region (a cache line).
pub const IPCX_SEM_ALIGN: usize = 64;
/// The largest value of a POSIX semaphore (SEM_VALUE_MAX).
pub const IPCX_SEM_VALUE_MAX: i64 = 2147483647;
/// The longest name of a named semaphore, the leading slash included (glibc stores "/name"
/// as the file /dev/shm/sem.name, whose name is limited to 255 bytes).
pub const IPCX_SEM_NAME_MAX: usize = 252;
/// `ipcx_semop` flag and P/V flag: undo the operation when the process exits (SEM_UNDO),
/// even if it is killed.
pub const IPCX_SEMSET_UNDO: u32 = 0x10000;
/// The largest value of a System V semaphore (SEMVMX, fixed by the kernel).
pub const IPCX_SEMSET_VALUE_MAX: i32 = 32767;

const _: () = assert!(
    IPCX_SEM_SIZE == SLOT_SIZE
        && IPCX_SEM_ALIGN == SLOT_ALIGN
        && IPCX_SEM_VALUE_MAX == sem::VALUE_MAX
        && IPCX_SEM_NAME_MAX == sem::NAME_MAX
        && IPCX_OPEN_CREATE == sem::CREATE
        && IPCX_OPEN_EXCLUSIVE == sem::EXCL
        && super::common::IPCX_KEY_PRIVATE == libc::IPC_PRIVATE
        && IPCX_SEMSET_UNDO == sysv::UNDO
        && IPCX_SEMSET_VALUE_MAX == sysv::SEMVMX
);

/// Store a new semaphore handle in `o`.
fn give(o: &mut *mut ipcx_sem, s: Sem) -> Result<()> {
    *o = handle::into_raw(ipcx_sem(s))?;
    Ok(())
}

/// A typed C array of `n` elements (NULL only with `n` 0).
///
/// # Safety
/// `p` must be NULL or valid for reading `n` elements.
unsafe fn array<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T]> {
    let len = n
        .checked_mul(size_of::<T>())
        .ok_or_else(|| Error::invalid(format!("{what}: {n} elements is too many")))?;
    let b = unsafe { bytes(p.cast::<c_void>(), len, what) }?;
    // SAFETY: the caller's array of n T (bytes() checked NULL and the size).
    Ok(unsafe { std::slice::from_raw_parts(b.as_ptr().cast::<T>(), n) })
}

/// Open or create a named POSIX semaphore.
///
/// Arguments: `name`: "/something" (one leading slash, no other, at most
/// `IPCX_SEM_NAME_MAX` bytes); `flags`: 0 opens an existing semaphore, `IPCX_OPEN_CREATE`
/// creates it if missing, `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` insists on creating it;
/// `value`: the initial value if this call creates it (0 .. `IPCX_SEM_VALUE_MAX`; checked
/// whenever `IPCX_OPEN_CREATE` is given, ignored without it); `opts` may be NULL, honoured:
/// mode (default 0600, applied exactly, whatever the umask, when this call creates the
/// semaphore).
/// Errors: `IPCX_ERR_INVALID` (NULL or malformed name, unknown flags, `IPCX_OPEN_EXCLUSIVE`
/// without `IPCX_OPEN_CREATE`, negative `value`, unsupported option, NULL `out`),
/// `IPCX_ERR_LIMIT` (`value` above `IPCX_SEM_VALUE_MAX`; out of descriptors or /dev/shm
/// space), `IPCX_ERR_NOT_FOUND` (no such semaphore and no `IPCX_OPEN_CREATE`),
/// `IPCX_ERR_EXISTS` (`IPCX_OPEN_EXCLUSIVE` and it exists), `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out` is NULL.
/// Ownership: close the handle with `ipcx_sem_close`; the semaphore itself lives until
/// `ipcx_sem_remove` and the last close (or reboot).
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_open(
    name: *const c_char,
    flags: u32,
    value: i64,
    opts: *const super::common::ipcx_options,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_open", || {
        let o = unsafe { out(out_sem, "out") }?;
        let name = unsafe { str_arg(name, "name", IPCX_SEM_NAME_MAX) }?;
        give(
            o,
            Sem::open(name, flags, value, &unsafe { options(opts) }?)?,
        )
    })
}

/// Remove a named semaphore's name. Processes that have it open keep using it; it is freed
/// after the last close. A later `ipcx_sem_open` with `IPCX_OPEN_CREATE` makes a new one.
///
/// Errors: `IPCX_ERR_INVALID` (NULL or malformed name), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_remove(name: *const c_char) -> ipcx_status {
    call("ipcx_sem_remove", || {
        Sem::unlink(unsafe { str_arg(name, "name", IPCX_SEM_NAME_MAX) }?)
    })
}

/// Initialise a process-shared unnamed semaphore at `offset` of `region` and return a
/// handle to it. Do this once, in one process, before any other process attaches
/// (`ipcx_sem_attach`) or uses it; children forked afterwards inherit the handle.
///
/// Arguments: `offset`: a multiple of `IPCX_SEM_ALIGN`, with `IPCX_SEM_SIZE` bytes inside
/// the region; `value`: 0 .. `IPCX_SEM_VALUE_MAX`.
/// Errors: `IPCX_ERR_INVALID` (NULL region or `out`, misaligned offset, slot outside the
/// region, negative value), `IPCX_ERR_LIMIT` (value above `IPCX_SEM_VALUE_MAX`),
/// `IPCX_ERR_EXISTS` (the slot already holds an initialised semaphore, mutex or condition
/// variable: attach to it, or destroy it first), `IPCX_ERR_PERMISSION` (read-only region),
/// `IPCX_ERR_BAD_HANDLE` (closed region). On failure `*out` is NULL.
/// Ownership: the handle maps the semaphore's page on its own, so it stays valid even after
/// `ipcx_region_close`. `ipcx_sem_close` releases the handle and leaves the semaphore for
/// others; `ipcx_sem_destroy` destroys it.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_init(
    region: *const ipcx_region,
    offset: usize,
    value: i64,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_init", || {
        let o = unsafe { out(out_sem, "out") }?;
        let r = handle::pin(region)?;
        give(o, Sem::init_in(&r.0, offset, value)?)
    })
}

/// Like `ipcx_sem_init`, at an address of memory the caller mapped (a file or POSIX
/// shared memory mapped with MAP_SHARED, for example), for programs that do not hold an
/// `ipcx_region`. `addr` must be a multiple of `IPCX_SEM_ALIGN` and lie in a writable shared
/// mapping: private memory (a stack, the heap, a MAP_PRIVATE mapping) is refused with
/// `IPCX_ERR_INVALID`, as an object there would not be shared; use
/// `ipcx_sem_create` for a thread-only semaphore. Only the alignment and the
/// mapping are checked: the caller guarantees `IPCX_SEM_SIZE` bytes at `addr`.
///
/// Errors and ownership as for `ipcx_sem_init` (the handle keeps its own mapping of the
/// page, so the caller may unmap its own).
///
/// # Safety
/// `addr` must be NULL or point to `IPCX_SEM_SIZE` bytes of mapped shared memory reserved
/// for this semaphore; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_init_at(
    addr: *mut c_void,
    value: i64,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_init_at", || {
        let o = unsafe { out(out_sem, "out") }?;
        give(o, Sem::init_at(addr.cast(), value)?)
    })
}

/// Attach to an unnamed semaphore another process initialised at `offset` of `region`
/// (for example in POSIX or System V shared memory this process mapped itself).
///
/// Errors: `IPCX_ERR_NOT_FOUND` (no semaphore initialised there: never initialised,
/// destroyed, or still being initialised), `IPCX_ERR_INVALID` (another kind of object lives
/// there; misaligned or out-of-region offset; NULL arguments), `IPCX_ERR_PERMISSION`
/// (read-only region), `IPCX_ERR_BAD_HANDLE`. On failure `*out` is NULL.
/// Ownership: as for `ipcx_sem_init`; `ipcx_sem_close` detaches.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_attach(
    region: *const ipcx_region,
    offset: usize,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_attach", || {
        let o = unsafe { out(out_sem, "out") }?;
        let r = handle::pin(region)?;
        give(o, Sem::attach_in(&r.0, offset)?)
    })
}

/// Attach to an unnamed semaphore initialised at `addr` (see `ipcx_sem_init_at`).
///
/// Errors: as for `ipcx_sem_attach`, plus `IPCX_ERR_INVALID` for memory that is not a
/// shared mapping. On failure `*out` is NULL.
///
/// # Safety
/// `addr` must be NULL or point to mapped memory of `IPCX_SEM_SIZE` bytes; `out` NULL or
/// valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_attach_at(
    addr: *mut c_void,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_attach_at", || {
        let o = unsafe { out(out_sem, "out") }?;
        give(o, Sem::attach_at(addr.cast())?)
    })
}

/// Create a thread-only unnamed semaphore (`sem_init` with pshared = 0) in memory ipcx
/// allocates: the seed's semaphore for threads of one process.
///
/// Arguments: `value`: 0 .. `IPCX_SEM_VALUE_MAX`.
/// Errors: `IPCX_ERR_INVALID` (negative value, NULL `out`), `IPCX_ERR_LIMIT` (value above
/// `IPCX_SEM_VALUE_MAX`). On failure `*out` is NULL.
/// Ownership: `ipcx_sem_close` (or `ipcx_sem_destroy`) destroys and frees it.
/// Fork: a child gets an independent copy (private memory); it does not synchronise with
/// the parent.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_create(value: i64, out_sem: *mut *mut ipcx_sem) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_create", || {
        let o = unsafe { out(out_sem, "out") }?;
        give(o, Sem::private(value)?)
    })
}

/// P: wait until the value is above zero, then decrement it.
///
/// Arguments: `timeout_ms`: `IPCX_FOREVER` (sem_wait), `IPCX_NOWAIT` (the try-wait:
/// sem_trywait), or a positive timeout on the monotonic clock (sem_clockwait with
/// CLOCK_MONOTONIC: wall-clock changes do not affect it).
/// Errors: `IPCX_ERR_TIMEOUT` (the value stayed 0), `IPCX_ERR_INTERRUPTED` (a signal, on a
/// thread that asked for it; otherwise the wait resumes until the same deadline),
/// `IPCX_ERR_INVALID` (timeout below -1, NULL handle), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_wait(s: *const ipcx_sem, timeout_ms: i64) -> ipcx_status {
    call_ref("ipcx_sem_wait", s, |s| s.0.wait(timeout_ms))
}

/// V: increment the value, waking one waiter if there is one. Never blocks. (Unlike
/// sem_post, it is not async-signal-safe: a handle lookup may take a lock.)
///
/// Errors: `IPCX_ERR_LIMIT` (the value is already `IPCX_SEM_VALUE_MAX`; it is unchanged),
/// `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_post(s: *const ipcx_sem) -> ipcx_status {
    call_ref("ipcx_sem_post", s, |s| s.0.post())
}

/// The current value. On Linux it is never negative: with processes waiting it is 0 (the
/// count of waiters that some systems report as a negative value is not available).
///
/// Errors: `IPCX_ERR_INVALID` (NULL handle or `value`), `IPCX_ERR_BAD_HANDLE`. On failure
/// `*value` is 0.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx; `value` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_value(s: *const ipcx_sem, value: *mut i32) -> ipcx_status {
    unsafe { set_opt(value, 0) };
    call_ref("ipcx_sem_value", s, |s| {
        let v = unsafe { out(value, "value") }?;
        *v = s.0.value()?;
        Ok(())
    })
}

/// Destroy an unnamed semaphore and free the handle. For a semaphore in shared memory, no
/// process may use it afterwards (other processes' handles must be closed, not used; their
/// attaches fail with `IPCX_ERR_NOT_FOUND`); the slot may be initialised again. For a
/// thread-only semaphore this is `ipcx_sem_close`. NULL is a no-op.
///
/// Errors: `IPCX_ERR_INVALID` (a named semaphore: use `ipcx_sem_close` and
/// `ipcx_sem_remove`; the handle stays open), `IPCX_ERR_NOT_FOUND` (another process
/// destroyed it already; the handle stays open: close it), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_destroy(s: *mut ipcx_sem) -> ipcx_status {
    call("ipcx_sem_destroy", || {
        if s.is_null() {
            return Ok(());
        }
        handle::pin(s)?.0.destroy()?;
        handle::close(s)
    })
}

/// Release the handle. A named semaphore is closed (sem_close; the name stays until
/// `ipcx_sem_remove`); an unnamed one in shared memory stays for the other processes (the
/// handle's own mapping of it is removed); a thread-only one is destroyed and freed. NULL is
/// a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `s` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_close(s: *mut ipcx_sem) -> ipcx_status {
    call("ipcx_sem_close", || handle::close(s))
}

/// Create a new System V semaphore set of `nsems` semaphores under `key`, exclusively, and
/// initialise it before any other ipcx caller can use it.
///
/// Arguments: `key`: from `ipcx_sysv_key`, any number agreed between programs, or
/// `IPCX_KEY_PRIVATE` for a new set only reachable through this handle (and fork);
/// `nsems`: 1 .. SEMMSL (/proc/sys/kernel/sem, field 1); `values`: NULL (all 0) or an array
/// of `nsems` initial values, each 0 .. `IPCX_SEMSET_VALUE_MAX`; `opts` may be NULL,
/// honoured: mode (default 0600; System V does not apply the umask).
/// Semantics: semget(IPC_CREAT | IPC_EXCL), SETALL, then one operation that changes no value
/// but sets sem_otime, which `ipcx_semset_open` waits for (the classic creation race).
/// Errors: `IPCX_ERR_EXISTS` (a set has this key: open it instead), `IPCX_ERR_INVALID`
/// (`nsems` 0, negative value, unsupported option, NULL `out`), `IPCX_ERR_LIMIT` (`nsems`
/// above SEMMSL, a value above SEMVMX, too many sets (SEMMNI) or semaphores (SEMMNS): the
/// message names the limit and its value), `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`
/// (closed options). On failure `*out` is NULL and no set is left behind.
/// Ownership: close the handle with `ipcx_semset_close`; the set lives until
/// `ipcx_semset_remove` (or reboot), whoever closes what.
///
/// # Safety
/// `values` must be NULL or point to `nsems` values; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_create(
    key: i32,
    nsems: u32,
    values: *const i32,
    opts: *const super::common::ipcx_options,
    out_set: *mut *mut ipcx_semset,
) -> ipcx_status {
    unsafe { set_opt(out_set, std::ptr::null_mut()) };
    call("ipcx_semset_create", || {
        let o = unsafe { out(out_set, "out") }?;
        let values = if values.is_null() {
            None
        } else {
            Some(unsafe { array(values, nsems as usize, "values") }?)
        };
        let s = SemSet::create(key, nsems, values, &unsafe { options(opts) }?)?;
        *o = handle::into_raw(ipcx_semset(s))?;
        Ok(())
    })
}

/// Open the existing System V semaphore set under `key`.
///
/// Arguments: `nsems_min`: the set must have at least this many semaphores (0: any);
/// `timeout_ms`: how long to wait for the set's creator to finish initialising it (a set
/// is ready once some operation was done on it, as `ipcx_semset_create` does; checked
/// every 1-10 ms). A set made by another program becomes ready at its first semop.
/// Errors: `IPCX_ERR_NOT_FOUND` (no set has this key), `IPCX_ERR_TIMEOUT` (it exists but
/// was never operated on), `IPCX_ERR_INVALID` (`IPCX_KEY_PRIVATE`, fewer semaphores than
/// `nsems_min`, timeout below -1, NULL `out`), `IPCX_ERR_PERMISSION`. On failure `*out` is
/// NULL.
/// Ownership: close with `ipcx_semset_close`.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_open(
    key: i32,
    nsems_min: u32,
    timeout_ms: i64,
    out_set: *mut *mut ipcx_semset,
) -> ipcx_status {
    unsafe { set_opt(out_set, std::ptr::null_mut()) };
    call("ipcx_semset_open", || {
        let o = unsafe { out(out_set, "out") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        *o = handle::into_raw(ipcx_semset(SemSet::open(key, nsems_min, &deadline)?))?;
        Ok(())
    })
}

/// The kernel id of the set (what `ipcs -s` shows) and its number of semaphores. Either
/// pointer may be NULL.
///
/// Errors: `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`. On failure the outputs
/// are -1 and 0.
///
/// # Safety
/// `id`/`nsems` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_id(
    s: *const ipcx_semset,
    id: *mut i32,
    nsems: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(id, -1);
        set_opt(nsems, 0);
    }
    call_ref("ipcx_semset_id", s, |s| {
        unsafe {
            set_opt(id, s.0.id());
            set_opt(nsems, s.0.nsems());
        }
        Ok(())
    })
}

/// Apply several operations to the set atomically: either all happen, or (while any would
/// block) none. Each `ipcx_semop` adds `delta` to semaphore `index`: a positive delta
/// increments (V), a negative one waits until the value is at least `-delta` and subtracts
/// it (P), 0 waits until the value is 0. `IPCX_SEMSET_UNDO` in an operation's flags makes
/// the kernel revert it when this process exits, even by SIGKILL.
///
/// Arguments: `ops`/`nops`: 1 .. SEMOPM operations (/proc/sys/kernel/sem, field 3);
/// `timeout_ms`: `IPCX_FOREVER`, `IPCX_NOWAIT` (IPC_NOWAIT), or a positive timeout
/// (semtimedop; after an EINTR the wait resumes with the time that remains).
/// Errors: `IPCX_ERR_TIMEOUT` (would block / timed out: nothing was applied),
/// `IPCX_ERR_REMOVED` (the set was removed, also while waiting), `IPCX_ERR_INVALID` (NULL
/// or empty array, index out of range, delta outside -32768..32767, unknown flags: the
/// message names the operation), `IPCX_ERR_LIMIT` (more than SEMOPM operations; a value
/// would exceed SEMVMX; undo memory), `IPCX_ERR_PERMISSION`, `IPCX_ERR_INTERRUPTED`,
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `ops` must be NULL or point to `nops` operations.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_op(
    s: *const ipcx_semset,
    ops: *const ipcx_semop,
    nops: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_ref("ipcx_semset_op", s, |s| {
        s.0.op(unsafe { array(ops, nops, "ops") }?, timeout_ms)
    })
}

/// P on one semaphore: wait until it is above 0 and decrement it (`ipcx_semset_op` with one
/// operation of delta -1).
///
/// Arguments: `flags`: 0 or `IPCX_SEMSET_UNDO` (use the same on the matching V, or the undo
/// adjustment drifts); `timeout_ms` as for `ipcx_semset_op`.
/// Errors: as for `ipcx_semset_op`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_p(
    s: *const ipcx_semset,
    index: u32,
    flags: u32,
    timeout_ms: i64,
) -> ipcx_status {
    call_ref("ipcx_semset_p", s, |s| {
        s.0.add(index, -1, flags, timeout_ms)
    })
}

/// V on one semaphore: increment it (never blocks).
///
/// Arguments: `flags`: 0 or `IPCX_SEMSET_UNDO`.
/// Errors: `IPCX_ERR_LIMIT` (the value is already `IPCX_SEMSET_VALUE_MAX`),
/// `IPCX_ERR_REMOVED`, `IPCX_ERR_INVALID` (index out of range, unknown flags),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_v(
    s: *const ipcx_semset,
    index: u32,
    flags: u32,
) -> ipcx_status {
    call_ref("ipcx_semset_v", s, |s| {
        s.0.add(index, 1, flags, crate::time::FOREVER)
    })
}

/// Set one semaphore's value (SETVAL). Waiters that can now proceed are woken; undo
/// adjustments recorded for this semaphore are cleared in every process (kernel behaviour).
///
/// Errors: `IPCX_ERR_INVALID` (index out of range, negative value), `IPCX_ERR_LIMIT` (above
/// `IPCX_SEMSET_VALUE_MAX`), `IPCX_ERR_REMOVED`, `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_set(
    s: *const ipcx_semset,
    index: u32,
    value: i32,
) -> ipcx_status {
    call_ref("ipcx_semset_set", s, |s| s.0.set(index, value))
}

/// One semaphore's value (GETVAL).
///
/// Errors: `IPCX_ERR_INVALID` (index out of range, NULL `value`), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure `*value` is 0.
///
/// # Safety
/// `value` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_get(
    s: *const ipcx_semset,
    index: u32,
    value: *mut i32,
) -> ipcx_status {
    unsafe { set_opt(value, 0) };
    call_ref("ipcx_semset_get", s, |s| {
        let v = unsafe { out(value, "value") }?;
        *v = s.0.get(index)?;
        Ok(())
    })
}

/// Set every value at once (SETALL); clears every undo adjustment of the set.
///
/// Arguments: `values`/`count`: exactly one value per semaphore.
/// Errors: `IPCX_ERR_INVALID` (NULL values, `count` not the set's size, negative value),
/// `IPCX_ERR_LIMIT` (a value above `IPCX_SEMSET_VALUE_MAX`), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. Nothing is changed on error.
///
/// # Safety
/// `values` must be NULL or point to `count` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_set_all(
    s: *const ipcx_semset,
    values: *const i32,
    count: usize,
) -> ipcx_status {
    call_ref("ipcx_semset_set_all", s, |s| {
        s.0.set_all(unsafe { array(values, count, "values") }?)
    })
}

/// Every value at once (GETALL).
///
/// Arguments: `values` receives the values; `count` in: the capacity of `values`, out: the
/// number of semaphores written (or, with `IPCX_ERR_TOO_BIG`, the capacity needed).
/// Errors: `IPCX_ERR_TOO_BIG` (capacity below the set's size), `IPCX_ERR_INVALID` (NULL
/// `count`, NULL `values` with a capacity), `IPCX_ERR_REMOVED`, `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `count` must be NULL or valid; `values` valid for writing `*count` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_get_all(
    s: *const ipcx_semset,
    values: *mut i32,
    count: *mut usize,
) -> ipcx_status {
    call_ref("ipcx_semset_get_all", s, |s| {
        let count = unsafe { out(count, "count") }?;
        let n = *count;
        let len = n
            .checked_mul(size_of::<i32>())
            .ok_or_else(|| Error::invalid("count is too large"))?;
        let b = unsafe { super::bytes_mut(values.cast(), len, "values") }?;
        // SAFETY: the caller's array of n int32 values.
        let dst = unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast::<i32>(), n) };
        match s.0.get_all(dst) {
            Ok(w) => {
                *count = w;
                Ok(())
            }
            Err(e) => {
                if e.needed > 0 {
                    *count = e.needed;
                }
                Err(e)
            }
        }
    })
}

/// How many processes wait for semaphore `index` to increase (`ncnt`, GETNCNT) and to
/// become zero (`zcnt`, GETZCNT). Either pointer may be NULL. This is the waiter count the
/// seed describes as a negative semaphore value.
///
/// Errors: `IPCX_ERR_INVALID` (index out of range), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure both outputs are 0.
///
/// # Safety
/// `ncnt`/`zcnt` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_waiters(
    s: *const ipcx_semset,
    index: u32,
    ncnt: *mut u32,
    zcnt: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(ncnt, 0);
        set_opt(zcnt, 0);
    }
    call_ref("ipcx_semset_waiters", s, |s| {
        let (n, z) = s.0.waiters(index)?;
        unsafe {
            set_opt(ncnt, n);
            set_opt(zcnt, z);
        }
        Ok(())
    })
}

/// The pid of the last process that operated on semaphore `index` (GETPID). Linux also
/// records the caller of SETVAL and SETALL. A set made by `ipcx_semset_create` starts with
/// its creator's pid on semaphore 0 (the initialisation operation) and, when initial values
/// were given, on every semaphore; 0 elsewhere.
///
/// Errors: `IPCX_ERR_INVALID` (index out of range, NULL `pid`), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure `*pid` is 0.
///
/// # Safety
/// `pid` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_pid(
    s: *const ipcx_semset,
    index: u32,
    pid: *mut i32,
) -> ipcx_status {
    unsafe { set_opt(pid, 0) };
    call_ref("ipcx_semset_pid", s, |s| {
        let p = unsafe { out(pid, "pid") }?;
        *p = s.0.pid(index)?;
        Ok(())
    })
}

/// Remove the set (IPC_RMID) at once: every process waiting on it wakes with
/// `IPCX_ERR_REMOVED`, and later calls on any handle to it return `IPCX_ERR_REMOVED`. The
/// handle stays open: close it with `ipcx_semset_close`.
///
/// Errors: `IPCX_ERR_REMOVED` (already removed), `IPCX_ERR_PERMISSION` (not the owner or
/// creator), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_remove(s: *const ipcx_semset) -> ipcx_status {
    call_ref("ipcx_semset_remove", s, |s| s.0.remove())
}

/// Free the handle. The set stays (remove it with `ipcx_semset_remove`); this process's
/// undo adjustments stay until it exits. NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_close(s: *mut ipcx_semset) -> ipcx_status {
    call("ipcx_semset_close", || handle::close(s))
}
