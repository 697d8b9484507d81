// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for POSIX semaphores (`ipcx_sem`: named, unnamed in shared memory,
//! thread-only) and System V semaphore sets (`ipcx_semset`).

use std::ffi::{c_char, c_void};

use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE};
use super::region::ipcx_region;
use super::{
    array, array_mut, call, call_ref, disposition, handle, options, out, set_opt, str_arg,
};
use crate::error::{Error, Result, ipcx_status};
use crate::name;
use crate::sync::sem::{self, Sem};
use crate::sync::sysv::{self, OpFlags, SemSet, ipcx_semop};
use crate::sync::{SLOT_ALIGN, SLOT_SIZE};
use crate::time::Deadline;
use crate::time::Timeout;

/// A POSIX semaphore: named (`ipcx_sem_open`), unnamed in shared memory
/// (`ipcx_sem_init` / `ipcx_sem_attach`, or `_at` for memory the caller mapped), or
/// thread-only (`ipcx_sem_create`). Opaque.
///
/// Thread safety: a thread-safe handle: any number of threads may use it at once (that is
/// its purpose), `ipcx_sem_destroy` and `ipcx_sem_close` included (a close waits for no
/// one: calls already inside finish first, see docs/conventions.md).
/// Destroy: `ipcx_sem_destroy` destroys an unnamed semaphore but leaves the handle open;
/// every later call on a handle to a destroyed semaphore (through this handle, or for one
/// in shared memory through any handle in any process) fails with `IPCX_ERR_REMOVED`,
/// until the handle is closed with `ipcx_sem_close`.
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
/// Thread safety: a thread-safe handle: any number of threads may use it at once (a close
/// waits for no one: calls already inside finish first, see docs/conventions.md).
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
/// The longest name of a named semaphore, the leading slash included, the NUL excluded: a
/// slash and 251 bytes (glibc stores "/name" as the file /dev/shm/sem.name, whose name is
/// limited to NAME_MAX, 255 bytes).
pub const IPCX_SEM_NAME_MAX: usize = 252;
/// Flag (`ipcx_semop` operations, `ipcx_semset_p`, `ipcx_semset_v`): undo the operation when the process exits (SEM_UNDO),
/// even if it is killed.
pub const IPCX_SEMSET_UNDO: u32 = 0x10000;
/// The largest value of a System V semaphore (SEMVMX, fixed by the kernel).
pub const IPCX_SEMSET_VALUE_MAX: i32 = 32767;

const _: () = assert!(
    IPCX_SEM_SIZE == SLOT_SIZE
        && IPCX_SEM_ALIGN == SLOT_ALIGN
        && IPCX_SEM_VALUE_MAX == sem::VALUE_MAX
        && IPCX_SEM_NAME_MAX == sem::NAME_MAX
        && IPCX_SEM_NAME_MAX == name::SEM_NAME_MAX
        && super::common::IPCX_KEY_PRIVATE == sysv::PRIVATE
        && IPCX_SEMSET_UNDO == sysv::UNDO
        && IPCX_SEMSET_VALUE_MAX == sysv::SEMVMX
);

/// The flags `ipcx_sem_open` and `ipcx_semset_open` take.
const OPEN_FLAGS: u32 = IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE;
/// How their unknown-flags message names them.
const OPEN_ACCEPTS: &str = "IPCX_OPEN_CREATE and IPCX_OPEN_EXCLUSIVE";

/// The options of a P or V from its C flags. An index out of range is the set's error
/// (checked first), so unknown flags are refused here only for an index in range.
fn op_flags(s: &SemSet, index: u32, flags: u32) -> Result<OpFlags> {
    if flags & !IPCX_SEMSET_UNDO != 0 && index < s.nsems() {
        return Err(Error::invalid(format!(
            "operation 0: unknown flags {flags:#x} (only IPCX_SEMSET_UNDO)"
        )));
    }
    Ok(OpFlags::NONE.with(OpFlags::UNDO, flags & IPCX_SEMSET_UNDO != 0))
}

/// Store a new semaphore handle in `o`.
fn give(o: &mut *mut ipcx_sem, s: Sem) -> Result<()> {
    *o = handle::into_raw(ipcx_sem(s))?;
    Ok(())
}

/// Open or create a named POSIX semaphore.
///
/// Arguments: `name`: "/something" (one leading slash, no other, at most
/// `IPCX_SEM_NAME_MAX` (252) bytes with the slash); `value`: the initial value if this call
/// creates it (0 .. `IPCX_SEM_VALUE_MAX`; checked whenever `IPCX_OPEN_CREATE` is given,
/// ignored without it); `flags`: 0 opens an existing semaphore, `IPCX_OPEN_CREATE` creates
/// it if missing, `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` insists on creating it; `opts`
/// may be NULL, honoured: mode (default 0600, applied exactly, whatever the umask, when
/// this call creates the semaphore); `out_sem` receives the handle.
/// Returns: `IPCX_OK` with `*out_sem` set.
/// Errors: `IPCX_ERR_INVALID` (NULL, malformed or too long name: the message names it;
/// unknown flags, `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`, negative `value`,
/// unsupported option, NULL `out_sem`), `IPCX_ERR_LIMIT` (`value` above
/// `IPCX_SEM_VALUE_MAX`; out of descriptors or /dev/shm space), `IPCX_ERR_NOT_FOUND` (no
/// such semaphore and no `IPCX_OPEN_CREATE`), `IPCX_ERR_EXISTS` (`IPCX_OPEN_EXCLUSIVE` and
/// it exists), `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE` (closed options). On failure
/// `*out_sem` is NULL.
/// Ownership: close the handle with `ipcx_sem_close`; the semaphore itself lives until
/// `ipcx_sem_remove` and the last close (or reboot).
/// Fork: see `ipcx_sem`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out_sem` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_open(
    name: *const c_char,
    value: i64,
    flags: u32,
    opts: *const super::common::ipcx_options,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_open", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
        let name = unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?;
        let opts = unsafe { options(opts) }?;
        Sem::check_open(name, &opts)?;
        let how = disposition(flags, OPEN_FLAGS, OPEN_ACCEPTS)?;
        give(o, Sem::open(name, value, how, &opts)?)
    })
}

/// Remove a named semaphore's name. Processes that have it open keep using it; it is freed
/// after the last close. A later `ipcx_sem_open` with `IPCX_OPEN_CREATE` makes a new one.
///
/// Returns: `IPCX_OK` once the name is removed.
/// Errors: `IPCX_ERR_INVALID` (NULL, malformed or too long name), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_remove(name: *const c_char) -> ipcx_status {
    call("ipcx_sem_remove", || {
        Sem::unlink(unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?)
    })
}

/// Initialise a process-shared unnamed semaphore at `offset` of `region` and return a
/// handle to it. Do this once, in one process, before any other process attaches
/// (`ipcx_sem_attach`) or uses it; children forked afterwards inherit the handle.
///
/// Arguments: `region`: the region holding the semaphore; `offset`: a multiple of
/// `IPCX_SEM_ALIGN`, with `IPCX_SEM_SIZE` bytes inside the region; `value`: 0 ..
/// `IPCX_SEM_VALUE_MAX`; `out_sem` receives the handle.
/// Returns: `IPCX_OK` with `*out_sem` set.
/// Errors: `IPCX_ERR_INVALID` (NULL region or `out_sem`, misaligned offset, slot outside
/// the region, negative value), `IPCX_ERR_LIMIT` (value above `IPCX_SEM_VALUE_MAX`),
/// `IPCX_ERR_EXISTS` (the slot already holds an initialised semaphore, mutex or condition
/// variable: attach to it, or destroy it first), `IPCX_ERR_PERMISSION` (read-only region),
/// `IPCX_ERR_BAD_HANDLE` (closed region). On failure `*out_sem` is NULL.
/// Ownership: the handle maps the semaphore's page on its own, so it stays valid even after
/// `ipcx_region_close`. `ipcx_sem_close` releases the handle and leaves the semaphore for
/// others; `ipcx_sem_destroy` destroys it (the handle then still needs `ipcx_sem_close`).
/// Fork: see `ipcx_sem`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_sem` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_init(
    region: *const ipcx_region,
    offset: usize,
    value: i64,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_init", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
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
/// Returns, errors and ownership as for `ipcx_sem_init` (the handle keeps its own mapping
/// of the page, so the caller may unmap its own); `*out_sem` is NULL on failure.
///
/// # Safety
/// `addr` must be NULL or point to `IPCX_SEM_SIZE` bytes of mapped shared memory reserved
/// for this semaphore; `out_sem` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_init_at(
    addr: *mut c_void,
    value: i64,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_init_at", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
        give(o, Sem::init_at(addr.cast(), value)?)
    })
}

/// Attach to an unnamed semaphore another process initialised at `offset` of `region`
/// (for example in POSIX or System V shared memory this process mapped itself).
///
/// Returns: `IPCX_OK` with `*out_sem` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (no semaphore initialised there: never initialised,
/// destroyed, or still being initialised), `IPCX_ERR_INVALID` (another kind of object lives
/// there; misaligned or out-of-region offset; NULL arguments), `IPCX_ERR_PERMISSION`
/// (read-only region), `IPCX_ERR_BAD_HANDLE`. On failure `*out_sem` is NULL.
/// Ownership: as for `ipcx_sem_init`; `ipcx_sem_close` detaches.
/// Fork: see `ipcx_sem`.
///
/// # Safety
/// `region` must be NULL or a handle from ipcx; `out_sem` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_attach(
    region: *const ipcx_region,
    offset: usize,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_attach", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
        let r = handle::pin(region)?;
        give(o, Sem::attach_in(&r.0, offset)?)
    })
}

/// Attach to an unnamed semaphore initialised at `addr` (see `ipcx_sem_init_at`).
///
/// Returns: `IPCX_OK` with `*out_sem` set.
/// Errors: as for `ipcx_sem_attach`, plus `IPCX_ERR_INVALID` for memory that is not a
/// shared mapping. On failure `*out_sem` is NULL.
///
/// # Safety
/// `addr` must be NULL or point to mapped memory of `IPCX_SEM_SIZE` bytes; `out_sem` NULL
/// or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_attach_at(
    addr: *mut c_void,
    out_sem: *mut *mut ipcx_sem,
) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_attach_at", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
        give(o, Sem::attach_at(addr.cast())?)
    })
}

/// Create a thread-only unnamed semaphore (`sem_init` with pshared = 0) in memory ipcx
/// allocates: the seed's semaphore for threads of one process.
///
/// Arguments: `value`: 0 .. `IPCX_SEM_VALUE_MAX`; `out_sem` receives the handle.
/// Returns: `IPCX_OK` with `*out_sem` set.
/// Errors: `IPCX_ERR_INVALID` (negative value, NULL `out_sem`), `IPCX_ERR_LIMIT` (value
/// above `IPCX_SEM_VALUE_MAX`). On failure `*out_sem` is NULL.
/// Ownership: `ipcx_sem_close` destroys it (if `ipcx_sem_destroy` did not) and frees it.
/// Fork: a child gets an independent copy (private memory); it does not synchronise with
/// the parent.
///
/// # Safety
/// `out_sem` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_create(value: i64, out_sem: *mut *mut ipcx_sem) -> ipcx_status {
    unsafe { set_opt(out_sem, std::ptr::null_mut()) };
    call("ipcx_sem_create", || {
        let o = unsafe { out(out_sem, "out_sem") }?;
        give(o, Sem::private(value)?)
    })
}

/// P: wait until the value is above zero, then decrement it.
///
/// Arguments: `timeout_ms`: `IPCX_FOREVER` (sem_wait), `IPCX_NOWAIT` (the try-wait:
/// sem_trywait), or a positive timeout on the monotonic clock (sem_clockwait with
/// CLOCK_MONOTONIC: wall-clock changes do not affect it).
/// Returns: `IPCX_OK` once the value was decremented.
/// Errors: `IPCX_ERR_TIMEOUT` (the value stayed 0), `IPCX_ERR_INTERRUPTED` (a signal, on a
/// thread that asked for it; otherwise the wait resumes until the same deadline),
/// `IPCX_ERR_INVALID` (timeout below -1, NULL handle), `IPCX_ERR_REMOVED` (the semaphore
/// was destroyed), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_wait(s: *const ipcx_sem, timeout_ms: i64) -> ipcx_status {
    call_ref("ipcx_sem_wait", s, |s| {
        s.0.wait(Timeout::from_ms(timeout_ms)?)
    })
}

/// V: increment the value, waking one waiter if there is one. Never blocks. (Unlike
/// sem_post, it is not async-signal-safe: a handle lookup may take a lock.)
///
/// Returns: `IPCX_OK` once the value was incremented.
/// Errors: `IPCX_ERR_LIMIT` (the value is already `IPCX_SEM_VALUE_MAX`; it is unchanged),
/// `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_REMOVED` (the semaphore was destroyed),
/// `IPCX_ERR_BAD_HANDLE`.
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
/// Returns: `IPCX_OK` with `*out_value` set.
/// Errors: `IPCX_ERR_INVALID` (NULL handle or `out_value`), `IPCX_ERR_REMOVED` (the
/// semaphore was destroyed), `IPCX_ERR_BAD_HANDLE`. On failure `*out_value` is 0.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx; `out_value` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_value(s: *const ipcx_sem, out_value: *mut i32) -> ipcx_status {
    unsafe { set_opt(out_value, 0) };
    call_ref("ipcx_sem_value", s, |s| {
        let v = unsafe { out(out_value, "out_value") }?;
        *v = s.0.value()?;
        Ok(())
    })
}

/// Destroy an unnamed semaphore (sem_destroy). The handle stays open: close it with
/// `ipcx_sem_close`. Every later call on it, and for a semaphore in shared memory on any
/// other handle to it in any process, fails with `IPCX_ERR_REMOVED` (a call already
/// waiting is not woken: destroy a semaphore nobody waits on); new attaches fail with
/// `IPCX_ERR_NOT_FOUND`, and the slot may be initialised again. A thread-only semaphore's
/// memory is freed by `ipcx_sem_close`.
///
/// Returns: `IPCX_OK` once destroyed.
/// Errors: `IPCX_ERR_INVALID` (NULL handle; a named semaphore: use `ipcx_sem_close` and
/// `ipcx_sem_remove`), `IPCX_ERR_REMOVED` (destroyed already, through this handle or
/// another one), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_destroy(s: *mut ipcx_sem) -> ipcx_status {
    call_ref("ipcx_sem_destroy", s, |s| s.0.destroy())
}

/// Release the handle. A named semaphore is closed (sem_close; the name stays until
/// `ipcx_sem_remove`); an unnamed one in shared memory stays for the other processes (the
/// handle's own mapping of it is removed); a thread-only one is destroyed (if
/// `ipcx_sem_destroy` did not) and freed. A handle to a destroyed semaphore is closed the
/// same way. NULL is a no-op. Calls on other threads already inside finish first.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sem_close(s: *mut ipcx_sem) -> ipcx_status {
    call("ipcx_sem_close", || handle::close(s))
}

/// Open, or create, the System V semaphore set of `key` (semget), initialised before any
/// other ipcx caller can use it.
///
/// Arguments:
/// - `key`: from `ipcx_sysv_key`, any number agreed between programs, or
///   `IPCX_KEY_PRIVATE` (always a new set, so it needs `IPCX_OPEN_CREATE`; only reachable
///   through this handle, inherited across fork).
/// - `nsems`: without `IPCX_OPEN_CREATE`, the set must have at least this many semaphores
///   (0: any). With `IPCX_OPEN_CREATE`, the number of semaphores of a new set: 1 .. SEMMSL
///   (/proc/sys/kernel/sem, field 1); an existing set must have at least this many.
/// - `values`: NULL (all 0) or an array of `nsems` initial values, each 0 ..
///   `IPCX_SEMSET_VALUE_MAX`. They only matter when this call creates the set (they are
///   checked whenever `IPCX_OPEN_CREATE` is given, and not read without it).
/// - `flags`: 0 opens an existing set; `IPCX_OPEN_CREATE` creates it if no set has the
///   key, else opens it as without the flag; `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` must
///   create it.
/// - `opts` may be NULL; honoured: mode (default 0600, applied exactly: System V does not
///   apply the umask; used only when this call creates the set).
/// - `timeout_ms`: how long to wait, when the set exists, for its creator to finish
///   initialising it (`IPCX_FOREVER`, `IPCX_NOWAIT`, or milliseconds; checked every 1-10
///   ms). A set is ready once some operation was done on it: ipcx's creation does one
///   (semget(IPC_CREAT | IPC_EXCL), SETALL, then one operation that changes no value but
///   sets sem_otime, the classic cure of the creation race); a set made by another program
///   becomes ready at its first semop.
/// - `out_set` receives the handle.
///
/// Permissions (the rule of every System V family): opening checks no permission of its
/// own, and the kernel checks each operation against the set's mode (semop needs write
/// permission to change values and read permission to wait; get, waiters and pid need
/// read). But opening an existing set reads its status to wait for its initialisation,
/// which needs read permission: without it the open fails with `IPCX_ERR_PERMISSION`.
///
/// Returns: `IPCX_OK` with `*out_set` set.
/// Errors: `IPCX_ERR_NOT_FOUND` (no set has the key and no `IPCX_OPEN_CREATE`),
/// `IPCX_ERR_EXISTS` (`IPCX_OPEN_EXCLUSIVE` and a set has the key), `IPCX_ERR_TIMEOUT`
/// (the set exists but was never operated on before the deadline), `IPCX_ERR_PERMISSION`
/// (no read permission on an existing set), `IPCX_ERR_INVALID` (unknown flags,
/// `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`, `IPCX_KEY_PRIVATE` without
/// `IPCX_OPEN_CREATE`, `nsems` 0 with `IPCX_OPEN_CREATE`, an existing set with fewer than
/// `nsems` semaphores, a negative value, timeout below -1, unsupported option, NULL
/// `out_set`), `IPCX_ERR_LIMIT` (`nsems` above SEMMSL, a value above SEMVMX, too many sets
/// (SEMMNI) or semaphores (SEMMNS): the message names the limit and its value),
/// `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out_set` is NULL and no set this
/// call created is left behind.
/// Ownership: close the handle with `ipcx_semset_close`; the set lives until
/// `ipcx_semset_remove` (or reboot), whoever closes what.
/// Fork: see `ipcx_semset`.
///
/// # Safety
/// `values` must be NULL or point to `nsems` values; `opts` NULL or a live options handle;
/// `out_set` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_open(
    key: i32,
    nsems: u32,
    values: *const i32,
    flags: u32,
    opts: *const super::common::ipcx_options,
    timeout_ms: i64,
    out_set: *mut *mut ipcx_semset,
) -> ipcx_status {
    unsafe { set_opt(out_set, std::ptr::null_mut()) };
    call("ipcx_semset_open", || {
        let o = unsafe { out(out_set, "out_set") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        // Read only when this call may create the set.
        let values: &[i32] = if values.is_null() || flags & IPCX_OPEN_CREATE == 0 {
            &[]
        } else {
            unsafe { array(values, nsems as usize, "values") }?
        };
        let opts = unsafe { options(opts) }?;
        SemSet::check_options(&opts)?;
        let how = disposition(flags, OPEN_FLAGS, OPEN_ACCEPTS)?;
        let s = SemSet::open(key, nsems, values, how, &opts, &deadline)?;
        *o = handle::into_raw(ipcx_semset(s))?;
        Ok(())
    })
}

/// The kernel id of the set (what `ipcs -s` shows) and its number of semaphores. Either
/// out-parameter is optional (may be NULL).
///
/// Returns: `IPCX_OK` with `*out_id` and `*out_nsems` set.
/// Errors: `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`. On failure the outputs
/// are -1 and 0.
///
/// # Safety
/// `out_id`/`out_nsems` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_id(
    s: *const ipcx_semset,
    out_id: *mut i32,
    out_nsems: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(out_id, -1);
        set_opt(out_nsems, 0);
    }
    call_ref("ipcx_semset_id", s, |s| {
        unsafe {
            set_opt(out_id, s.0.id());
            set_opt(out_nsems, s.0.nsems());
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
/// Arguments: `ops`/`nops`: 1 .. SEMOPM operations (/proc/sys/kernel/sem, field 3); `ops`
/// may be NULL only with `nops` 0, which is refused like any empty list; `timeout_ms`:
/// `IPCX_FOREVER`, `IPCX_NOWAIT` (IPC_NOWAIT), or a positive timeout (semtimedop; after an
/// EINTR the wait resumes with the time that remains).
/// Returns: `IPCX_OK` once every operation was applied.
/// Errors: `IPCX_ERR_TIMEOUT` (would block / timed out: nothing was applied),
/// `IPCX_ERR_REMOVED` (the set was removed, also while waiting), `IPCX_ERR_INVALID` (no
/// operation (`nops` 0), NULL `ops` with `nops` > 0, a misaligned `ops`, index out of
/// range, delta outside -32768..32767, unknown flags: the message names the operation),
/// `IPCX_ERR_LIMIT` (more than SEMOPM operations; a value would exceed SEMVMX; undo
/// memory), `IPCX_ERR_PERMISSION`, `IPCX_ERR_INTERRUPTED`, `IPCX_ERR_BAD_HANDLE`.
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
        s.0.op(
            unsafe { array(ops, nops, "ops") }?,
            Timeout::from_ms(timeout_ms)?,
        )
    })
}

/// P on one semaphore: wait until it is above 0 and decrement it (`ipcx_semset_op` with one
/// operation of delta -1).
///
/// Arguments: `flags`: 0 or `IPCX_SEMSET_UNDO` (use the same on the matching V, or the undo
/// adjustment drifts); `timeout_ms` as for `ipcx_semset_op`.
/// Returns: `IPCX_OK` once decremented.
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
        let timeout = Timeout::from_ms(timeout_ms)?;
        s.0.add(index, -1, op_flags(&s.0, index, flags)?, timeout)
    })
}

/// V on one semaphore: increment it (never blocks).
///
/// Arguments: `flags`: 0 or `IPCX_SEMSET_UNDO`.
/// Returns: `IPCX_OK` once incremented.
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
        s.0.add(index, 1, op_flags(&s.0, index, flags)?, Timeout::Forever)
    })
}

/// Set one semaphore's value (SETVAL). Waiters that can now proceed are woken; undo
/// adjustments recorded for this semaphore are cleared in every process (kernel behaviour).
///
/// Returns: `IPCX_OK` once set.
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
/// Returns: `IPCX_OK` with `*out_value` set.
/// Errors: `IPCX_ERR_INVALID` (index out of range, NULL `out_value`), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure `*out_value` is 0.
///
/// # Safety
/// `out_value` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_get(
    s: *const ipcx_semset,
    index: u32,
    out_value: *mut i32,
) -> ipcx_status {
    unsafe { set_opt(out_value, 0) };
    call_ref("ipcx_semset_get", s, |s| {
        let v = unsafe { out(out_value, "out_value") }?;
        *v = s.0.get(index)?;
        Ok(())
    })
}

/// Set every value at once (SETALL); clears every undo adjustment of the set.
///
/// Arguments: `values`/`count`: exactly one value per semaphore (`values` may be NULL
/// only with `count` 0, which is refused: a set has at least one semaphore).
/// Returns: `IPCX_OK` once set.
/// Errors: `IPCX_ERR_INVALID` (NULL `values` with `count` > 0, a misaligned `values`,
/// `count` not the set's size (0 included), negative value), `IPCX_ERR_LIMIT` (a value
/// above `IPCX_SEMSET_VALUE_MAX`), `IPCX_ERR_REMOVED`, `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_BAD_HANDLE`. Nothing is changed on error.
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
/// Arguments: `values` receives the values (NULL only with a capacity of 0); `count` in:
/// the capacity of `values`, out: the number of semaphores written (or, with
/// `IPCX_ERR_TOO_BIG`, the capacity needed). A capacity of 0 asks for the size: the call
/// fails with `IPCX_ERR_TOO_BIG` and `*count` the set's number of semaphores.
/// Returns: `IPCX_OK` with `*count` values written.
/// Errors: `IPCX_ERR_TOO_BIG` (capacity below the set's size, 0 included; `values` is left
/// unchanged), `IPCX_ERR_INVALID` (NULL `count`, NULL `values` with a capacity, a
/// misaligned `values`), `IPCX_ERR_REMOVED`, `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`.
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
        let dst = unsafe { array_mut(values, *count, "values") }?;
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

/// How many processes wait for semaphore `index` to increase (`out_ncnt`, GETNCNT) and to
/// become zero (`out_zcnt`, GETZCNT). Either out-parameter is optional (may be NULL). This
/// is the waiter count the seed describes as a negative semaphore value.
///
/// Returns: `IPCX_OK` with the counts set.
/// Errors: `IPCX_ERR_INVALID` (index out of range), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure both outputs are 0.
///
/// # Safety
/// `out_ncnt`/`out_zcnt` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_waiters(
    s: *const ipcx_semset,
    index: u32,
    out_ncnt: *mut u32,
    out_zcnt: *mut u32,
) -> ipcx_status {
    unsafe {
        set_opt(out_ncnt, 0);
        set_opt(out_zcnt, 0);
    }
    call_ref("ipcx_semset_waiters", s, |s| {
        let (n, z) = s.0.waiters(index)?;
        unsafe {
            set_opt(out_ncnt, n);
            set_opt(out_zcnt, z);
        }
        Ok(())
    })
}

/// The pid of the last process that operated on semaphore `index` (GETPID). Linux also
/// records the caller of SETVAL and SETALL. A set created by `ipcx_semset_open` starts with
/// its creator's pid on semaphore 0 (the initialisation operation) and, when initial values
/// were given, on every semaphore; 0 elsewhere.
///
/// Returns: `IPCX_OK` with `*out_pid` set.
/// Errors: `IPCX_ERR_INVALID` (index out of range, NULL `out_pid`), `IPCX_ERR_REMOVED`,
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_BAD_HANDLE`. On failure `*out_pid` is 0.
///
/// # Safety
/// `out_pid` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_pid(
    s: *const ipcx_semset,
    index: u32,
    out_pid: *mut i32,
) -> ipcx_status {
    unsafe { set_opt(out_pid, 0) };
    call_ref("ipcx_semset_pid", s, |s| {
        let p = unsafe { out(out_pid, "out_pid") }?;
        *p = s.0.pid(index)?;
        Ok(())
    })
}

/// Remove the set (IPC_RMID) at once: every process waiting on it wakes with
/// `IPCX_ERR_REMOVED`, and later calls on any handle to it return `IPCX_ERR_REMOVED`. The
/// handle stays open: close it with `ipcx_semset_close`.
///
/// Returns: `IPCX_OK` once removed.
/// Errors: `IPCX_ERR_REMOVED` (already removed), `IPCX_ERR_PERMISSION` (not the owner or
/// creator), `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_remove(s: *mut ipcx_semset) -> ipcx_status {
    call_ref("ipcx_semset_remove", s, |s| s.0.remove())
}

/// Free the handle. The set stays (remove it with `ipcx_semset_remove`); this process's
/// undo adjustments stay until it exits. NULL is a no-op. Calls on other threads already
/// inside finish first.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `s` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_semset_close(s: *mut ipcx_semset) -> ipcx_status {
    call("ipcx_semset_close", || handle::close(s))
}
