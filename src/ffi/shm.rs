// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for shared memory: System V segments (`ipcx_shm_segment`), POSIX shared
//! memory objects (`ipcx_shm`) and shared file mappings (`ipcx_file_map`). Every kind is
//! accessed through an `ipcx_region` (see `src/ffi/region.rs`).

use super::common::ipcx_options;
use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::region::ipcx_region;
use super::{Info, call, call_on, disposition, handle, info_out, options, out, set_opt, str_arg};
use crate::error::{Result, ipcx_status};
use crate::flags::Disposition;
use crate::name;
use crate::shm::{Protection, file, posix, sysv};

/// The longest POSIX shared memory object name, the leading slash included, the NUL
/// excluded: a slash and 255 bytes (NAME_MAX, the kernel's limit for the file in /dev/shm).
pub const IPCX_SHM_NAME_MAX: usize = 256;

const _: () = assert!(
    super::common::IPCX_KEY_PRIVATE == sysv::KEY_PRIVATE && IPCX_SHM_NAME_MAX == name::SHM_NAME_MAX
);

/// Refuse bits of `flags` outside `allowed` (the message names the accepted flags), and
/// `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`; returns the disposition.
fn shm_flags(flags: u32, allowed: u32) -> Result<Disposition> {
    let names: Vec<&str> = [
        (IPCX_OPEN_CREATE, "IPCX_OPEN_CREATE"),
        (IPCX_OPEN_EXCLUSIVE, "IPCX_OPEN_EXCLUSIVE"),
        (IPCX_OPEN_READ, "IPCX_OPEN_READ"),
        (IPCX_OPEN_WRITE, "IPCX_OPEN_WRITE"),
    ]
    .iter()
    .filter(|(b, _)| allowed & b != 0)
    .map(|(_, n)| *n)
    .collect();
    let accepts = match names.len() {
        0 => "no flags".into(),
        1 => names[0].into(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    };
    disposition(flags, allowed, &accepts)
}

/// The protection `flags` ask for: read-only for `IPCX_OPEN_READ` without
/// `IPCX_OPEN_WRITE`, else read-write (no access flag, WRITE, or both; docs/conventions.md,
/// "Flags").
fn protection(flags: u32) -> Protection {
    if flags & (IPCX_OPEN_READ | IPCX_OPEN_WRITE) == IPCX_OPEN_READ {
        Protection::ReadOnly
    } else {
        Protection::ReadWrite
    }
}

/// The flags of `ipcx_shm_open` and `ipcx_file_map`.
const OPEN_FLAGS: u32 = IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE | IPCX_OPEN_READ | IPCX_OPEN_WRITE;

/// A System V shared memory segment (the kernel object: an id and a key). Opaque.
///
/// It is separate from its attachments: `ipcx_shm_segment_map` gives an `ipcx_region`
/// (closing the region detaches it). Closing the segment handle frees the handle only: the
/// segment stays in the system until `ipcx_shm_segment_remove` (kernel persistence, as
/// `ipcs -m` shows), and attachments are unaffected.
/// Thread safety: a one-thread handle: used by one thread at a time; a call made while
/// another thread is inside a call on the same handle returns `IPCX_ERR_IN_USE`.
/// Fork: the handle holds no descriptor; the child may use its copy and must close it.
#[allow(non_camel_case_types)]
pub struct ipcx_shm_segment(sysv::Segment);

impl handle::Handle for ipcx_shm_segment {
    const KIND: u32 = 20;
    const NAME: &'static str = "ipcx_shm_segment";
}

/// A POSIX shared memory object (its descriptor). Opaque.
///
/// `ipcx_shm_map` maps it into an `ipcx_region` that stays valid after the object handle is
/// closed. The object lives until `ipcx_shm_remove` and the last descriptor and mapping.
/// Thread safety: a one-thread handle: used by one thread at a time; a call made while
/// another thread is inside a call on the same handle returns `IPCX_ERR_IN_USE`. (The
/// regions mapped from it are thread-safe handles.)
/// Fork: the child inherits the handle and its descriptor and may use them; each process
/// closes its own. The descriptor is close-on-exec.
#[allow(non_camel_case_types)]
pub struct ipcx_shm(posix::PosixShm);

impl handle::Handle for ipcx_shm {
    const KIND: u32 = 21;
    const NAME: &'static str = "ipcx_shm";
}

/// What `ipcx_shm_segment_stat` reports about a System V segment (shmctl IPC_STAT). A
/// growable struct: set `size` to `sizeof(ipcx_shm_segment_info)` before the call
/// (`ipcx_shm_segment_info info = { sizeof info };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ipcx_shm_segment_info {
    /// In: the size of the caller's struct. Out: the number of bytes the library wrote.
    pub size: u32,
    /// The segment id.
    pub id: i32,
    /// Its key (0, `IPCX_KEY_PRIVATE`, for private segments and once removed).
    pub key: i32,
    /// The segment's size in bytes, as given at creation (shm_segsz).
    pub segment_size: usize,
    /// Number of attachments in all processes (a fork adds the child's).
    pub attach_count: u64,
    /// Pid of the process that created it.
    pub creator_pid: i32,
    /// Pid of the process that last attached or detached it.
    pub last_pid: i32,
    /// Time of the last attach, seconds since the epoch (0: never).
    pub attach_time: i64,
    /// Time of the last detach, seconds since the epoch (0: never).
    pub detach_time: i64,
    /// Time of creation or of the last change, seconds since the epoch.
    pub change_time: i64,
    /// Permission bits (for example 0600).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id.
    pub creator_uid: u32,
    /// Creator group id.
    pub creator_gid: u32,
    /// True once removed (IPC_RMID) while still attached somewhere: it disappears at the
    /// last detach.
    pub removed: bool,
}

// SAFETY: repr(C), starts with the u32 size, plain values.
unsafe impl Info for ipcx_shm_segment_info {
    fn failed() -> Self {
        Self::default()
    }
}

/// Create or open the System V segment of `key` (shmget).
///
/// Arguments:
/// - `key`: from `ipcx_sysv_key`, a number agreed on, or `IPCX_KEY_PRIVATE` (a new segment
///   every time, so it needs `IPCX_OPEN_CREATE`; other processes open it by its id).
/// - `size`: bytes. When creating, at least 1 (SHMMIN) and at most
///   /proc/sys/kernel/shmmax. When opening an existing segment, 0 accepts any size; a
///   larger size than the segment's is an error.
/// - `flags`: 0 (open an existing segment), `IPCX_OPEN_CREATE` (create if missing),
///   `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` (create, fail if it exists).
/// - `opts`: NULL or options; honoured: mode (default 0600, applied exactly; used only
///   when the segment is created).
/// - `out_segment` receives the handle.
///
/// Permissions (the rule of every System V family): opening by key or by id checks no
/// permission; the kernel checks each operation against the segment's mode (mapping needs
/// read permission, read-write mapping read and write; `ipcx_shm_segment_stat` read).
///
/// Returns: `IPCX_OK` with `*out_segment` set.
/// Errors: `IPCX_ERR_INVALID` (size 0 when creating, size above the existing segment's,
/// `IPCX_KEY_PRIVATE` without `IPCX_OPEN_CREATE`, unknown flags, `IPCX_OPEN_EXCLUSIVE`
/// without `IPCX_OPEN_CREATE`, NULL `out_segment`, unsupported option),
/// `IPCX_ERR_NOT_FOUND` (no segment has the key), `IPCX_ERR_EXISTS` (exclusive create of an
/// existing key), `IPCX_ERR_LIMIT` (size above /proc/sys/kernel/shmmax, named with its
/// value; shmmni or shmall reached; not enough memory), `IPCX_ERR_BAD_HANDLE` (closed
/// options). On failure `*out_segment` is NULL.
/// Ownership: close the handle with `ipcx_shm_segment_close`; the segment itself stays
/// until `ipcx_shm_segment_remove`.
/// Fork: see `ipcx_shm_segment`.
///
/// # Safety
/// `out_segment` must be NULL or valid for writing; `opts` NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_open(
    key: i32,
    size: usize,
    flags: u32,
    opts: *const ipcx_options,
    out_segment: *mut *mut ipcx_shm_segment,
) -> ipcx_status {
    unsafe { set_opt(out_segment, std::ptr::null_mut()) };
    call("ipcx_shm_segment_open", || {
        let o = unsafe { out(out_segment, "out_segment") }?;
        let opts = unsafe { options(opts) }?;
        sysv::check_options(&opts)?;
        let how = shm_flags(flags, IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE)?;
        let seg = sysv::open(key, size, how, &opts)?;
        *o = handle::into_raw(ipcx_shm_segment(seg))?;
        Ok(())
    })
}

/// Open an existing System V segment by its id (as `ipcs -m` shows, or as passed on by the
/// process that created a private segment).
///
/// Arguments: `id` the segment id; `out_segment` receives the handle.
/// Permissions: none are checked here (as for `ipcx_shm_segment_open`); mapping and stat
/// are checked by the kernel.
/// Returns: `IPCX_OK` with `*out_segment` set.
/// Errors: `IPCX_ERR_INVALID` (negative id, NULL `out_segment`), `IPCX_ERR_NOT_FOUND` (no
/// segment has this id), `IPCX_ERR_REMOVED` (it was removed and waits for its last
/// detach; known only when this process may read its status). On failure `*out_segment`
/// is NULL.
/// Ownership: close with `ipcx_shm_segment_close`.
/// Fork: see `ipcx_shm_segment`.
///
/// # Safety
/// `out_segment` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_open_id(
    id: i32,
    out_segment: *mut *mut ipcx_shm_segment,
) -> ipcx_status {
    unsafe { set_opt(out_segment, std::ptr::null_mut()) };
    call("ipcx_shm_segment_open_id", || {
        let o = unsafe { out(out_segment, "out_segment") }?;
        *o = handle::into_raw(ipcx_shm_segment(sysv::open_id(id)?))?;
        Ok(())
    })
}

/// The segment's id (for `ipcs`, for `ipcx_shm_segment_open_id` in another process).
///
/// Returns: `IPCX_OK` with `*out_id` set.
/// Errors: `IPCX_ERR_INVALID` (NULL argument), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`
/// (another thread is inside a call on `seg`). On failure `*out_id` is -1.
///
/// # Safety
/// `out_id` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_id(
    seg: *const ipcx_shm_segment,
    out_id: *mut i32,
) -> ipcx_status {
    unsafe { set_opt(out_id, -1) };
    call_on("ipcx_shm_segment_id", seg, |s| {
        *unsafe { out(out_id, "out_id") }? = s.0.id();
        Ok(())
    })
}

/// Attach the segment (shmat) and return it as a region of the segment's size. Close the
/// region (`ipcx_region_close`) to detach it (shmdt).
///
/// Arguments: `flags`: `IPCX_OPEN_READ` without `IPCX_OPEN_WRITE` attaches read-only;
/// anything else (0, `IPCX_OPEN_WRITE`, both) read-write. `out_region` receives the region.
/// Returns: `IPCX_OK` with `*out_region` set.
/// Errors: `IPCX_ERR_REMOVED` (the segment was removed, through this handle or elsewhere:
/// ipcx does not attach removed segments, although their existing attachments stay valid),
/// `IPCX_ERR_PERMISSION` (the segment's mode: read-only needs read permission, read-write
/// read and write), `IPCX_ERR_LIMIT` (no address space), `IPCX_ERR_INVALID` (unknown
/// flags, NULL `out_region`), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. On failure
/// `*out_region` is NULL.
/// Ownership: the region is independent of the segment handle (close them in any order).
/// Fork: a forked child inherits the attachment (the attach count grows by one); it may
/// use and must close its copy of the region.
///
/// # Safety
/// `out_region` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_map(
    seg: *const ipcx_shm_segment,
    flags: u32,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call_on("ipcx_shm_segment_map", seg, |s| {
        let o = unsafe { out(out_region, "out_region") }?;
        shm_flags(flags, IPCX_OPEN_READ | IPCX_OPEN_WRITE)?;
        *o = handle::into_raw(ipcx_region(s.0.attach(protection(flags))?))?;
        Ok(())
    })
}

/// The segment's status: size, attach count, creator and last pids, times, mode, owner,
/// and whether it was removed (shmctl IPC_STAT).
///
/// Arguments: `out_info`: the caller's struct with `size` set to
/// `sizeof(ipcx_shm_segment_info)` (`ipcx_shm_segment_info info = { sizeof info };`); the
/// library writes at most `size` bytes and sets `size` to the number it wrote.
/// Returns: `IPCX_OK` with `*out_info` filled.
/// Errors: `IPCX_ERR_REMOVED` (the segment no longer exists), `IPCX_ERR_PERMISSION` (its
/// mode does not allow reading), `IPCX_ERR_INVALID` (NULL argument; `out_info->size` below
/// the 0.2 size of the struct: then nothing is written), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`. On other errors the fields of `*out_info` are zeroed.
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_stat(
    seg: *const ipcx_shm_segment,
    out_info: *mut ipcx_shm_segment_info,
) -> ipcx_status {
    call("ipcx_shm_segment_stat", || unsafe {
        info_out(out_info, "out_info", || {
            let s = handle::pin_mut(seg)?;
            let i = s.0.stat()?;
            Ok(ipcx_shm_segment_info {
                size: 0,
                id: i.id,
                key: i.key,
                segment_size: i.segment_size,
                attach_count: i.attach_count,
                creator_pid: i.creator_pid,
                last_pid: i.last_pid,
                attach_time: i.attach_time,
                detach_time: i.detach_time,
                change_time: i.change_time,
                mode: i.mode,
                uid: i.uid,
                gid: i.gid,
                creator_uid: i.creator_uid,
                creator_gid: i.creator_gid,
                removed: i.removed,
            })
        })
    })
}

/// Remove the segment (shmctl IPC_RMID). Its key is released at once (opening the key
/// finds nothing, or a new segment); every existing attachment, in any process, stays valid
/// and usable; the memory is freed at the last detach. New attaches are refused.
///
/// Returns: `IPCX_OK` once removed.
/// Errors: `IPCX_ERR_REMOVED` (already removed, through this handle or elsewhere),
/// `IPCX_ERR_PERMISSION` (only the owner or creator may remove it), `IPCX_ERR_INVALID`
/// (NULL), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. The handle stays open: close it as
/// usual.
///
/// # Safety
/// `seg` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_remove(seg: *mut ipcx_shm_segment) -> ipcx_status {
    call_on("ipcx_shm_segment_remove", seg, |s| s.0.remove())
}

/// Free a segment handle. The segment and its attachments are unaffected (see
/// `ipcx_shm_segment_remove`). NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `seg` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_close(seg: *mut ipcx_shm_segment) -> ipcx_status {
    call("ipcx_shm_segment_close", || handle::close(seg))
}

/// Open or create a POSIX shared memory object (shm_open).
///
/// Arguments:
/// - `name`: "/name": one leading slash, no other, at most `IPCX_SHM_NAME_MAX` (256) bytes
///   with the slash (the kernel's limit: a slash and 255 bytes).
/// - `flags`: `IPCX_OPEN_CREATE` (create if missing), `IPCX_OPEN_EXCLUSIVE` (with create:
///   fail if it exists), and the access: `IPCX_OPEN_READ` without `IPCX_OPEN_WRITE` opens
///   read-only (map read-only, no resize); anything else (no access flag,
///   `IPCX_OPEN_WRITE`, both) read-write.
/// - `opts`: NULL or options; honoured: mode (default 0600, applied exactly, the umask does
///   not remove bits; used only when this call creates the object).
/// - `out_shm` receives the handle.
///
/// A new object is empty: set its size with `ipcx_shm_set_size` before mapping it.
/// Returns: `IPCX_OK` with `*out_shm` set.
/// Errors: `IPCX_ERR_INVALID` (NULL, malformed or too long name: the message names it;
/// unknown flags, `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`, NULL `out_shm`,
/// unsupported option), `IPCX_ERR_NOT_FOUND` (missing, without create), `IPCX_ERR_EXISTS`
/// (exclusive create), `IPCX_ERR_PERMISSION` (the object's mode), `IPCX_ERR_LIMIT`
/// (descriptors, or no room in /dev/shm), `IPCX_ERR_BAD_HANDLE` (closed options). On
/// failure `*out_shm` is NULL.
/// Ownership: close with `ipcx_shm_close`; remove the name with `ipcx_shm_remove`.
/// Fork: see `ipcx_shm`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out_shm` NULL or valid for writing;
/// `opts` NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_open(
    name: *const std::ffi::c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_shm: *mut *mut ipcx_shm,
) -> ipcx_status {
    unsafe { set_opt(out_shm, std::ptr::null_mut()) };
    call("ipcx_shm_open", || {
        let n = unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?;
        let o = unsafe { out(out_shm, "out_shm") }?;
        let opts = unsafe { options(opts) }?;
        posix::check_options(&opts)?;
        let how = shm_flags(flags, OPEN_FLAGS)?;
        let shm = posix::open(n, how, protection(flags), &opts)?;
        *o = handle::into_raw(ipcx_shm(shm))?;
        Ok(())
    })
}

/// Set the size of a POSIX shared memory object. Growing reserves the memory in /dev/shm
/// at once (fallocate), so a full /dev/shm is reported here instead of as SIGBUS when a
/// page is first touched; the new bytes read as zero. Shrinking (ftruncate) while other
/// processes have it mapped makes their pages past the new end disappear: raw access there
/// raises SIGBUS, `ipcx_region_read`/`write` return `IPCX_ERR_REMOVED`. Existing regions
/// keep their length; map again to see the new size.
///
/// Returns: `IPCX_OK` once the object has the new size.
/// Errors: `IPCX_ERR_PERMISSION` (opened read-only), `IPCX_ERR_LIMIT` (/dev/shm full,
/// named with the space left; above RLIMIT_FSIZE, refused before the kernel would send
/// SIGXFSZ), `IPCX_ERR_INVALID` (size above 2^63 - 1, NULL), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`.
///
/// # Safety
/// `shm` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_set_size(shm: *mut ipcx_shm, size: usize) -> ipcx_status {
    call_on("ipcx_shm_set_size", shm, |s| s.0.set_size(size))
}

/// The current size of a POSIX shared memory object in bytes (fstat): what another process
/// set, too.
///
/// Returns: `IPCX_OK` with `*out_size` set.
/// Errors: `IPCX_ERR_INVALID` (NULL argument), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`.
/// On failure `*out_size` is 0.
///
/// # Safety
/// `out_size` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_size(shm: *const ipcx_shm, out_size: *mut usize) -> ipcx_status {
    unsafe { set_opt(out_size, 0) };
    call_on("ipcx_shm_size", shm, |s| {
        let o = unsafe { out(out_size, "out_size") }?;
        *o = s.0.size()?;
        Ok(())
    })
}

/// Map a whole POSIX shared memory object (its current size), shared, as a region.
///
/// Arguments: `flags`: `IPCX_OPEN_READ` without `IPCX_OPEN_WRITE` maps read-only; anything
/// else (0, `IPCX_OPEN_WRITE`, both) read-write, which needs a handle opened read-write.
/// `out_region` receives the region.
/// The region's copies (`ipcx_region_read`/`write`) are safe against another process
/// shrinking the object (`IPCX_ERR_REMOVED` instead of SIGBUS), at the cost of one system
/// call per copy; see docs/shm.md.
/// Returns: `IPCX_OK` with `*out_region` set.
/// Errors: `IPCX_ERR_INVALID` (the object is empty, unknown flags, NULL `out_region`),
/// `IPCX_ERR_PERMISSION` (read-write map of a read-only handle), `IPCX_ERR_LIMIT` (address
/// space, max_map_count), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`. On failure
/// `*out_region` is NULL.
/// Ownership: the region is independent of the handle (close them in any order).
/// Fork: a forked child inherits the mapping and may use its copy of the region.
///
/// # Safety
/// `out_region` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_map(
    shm: *const ipcx_shm,
    flags: u32,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call_on("ipcx_shm_map", shm, |s| {
        let o = unsafe { out(out_region, "out_region") }?;
        shm_flags(flags, IPCX_OPEN_READ | IPCX_OPEN_WRITE)?;
        *o = handle::into_raw(ipcx_region(s.0.map(protection(flags))?))?;
        Ok(())
    })
}

/// Close a POSIX shared memory handle (its descriptor). Regions mapped from it stay valid;
/// the object stays until unlinked. NULL is a no-op.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `shm` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_close(shm: *mut ipcx_shm) -> ipcx_status {
    call("ipcx_shm_close", || handle::close(shm))
}

/// Remove the name of a POSIX shared memory object (shm_unlink). Processes that have it
/// open or mapped keep using it; the memory is freed when the last one lets go. The name
/// can then be created anew. Only POSIX shared memory objects are removed by this call.
///
/// Returns: `IPCX_OK` once the name is removed.
/// Errors: `IPCX_ERR_INVALID` (bad, too long or NULL name), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_remove(name: *const std::ffi::c_char) -> ipcx_status {
    call("ipcx_shm_remove", || {
        let n = unsafe { str_arg(name, "name", name::NAME_SCAN_MAX) }?;
        posix::unlink(n)
    })
}

/// Map a file shared (MAP_SHARED): every process that maps the same file, related or not,
/// sees the same bytes; `ipcx_region_sync` writes them to the file (msync); closing the
/// region unmaps it.
///
/// Arguments:
/// - `path`: the file (NUL-terminated, < PATH_MAX). Only regular files are mapped.
/// - `size`: bytes to map from the start of the file; 0 maps the whole current file. A
///   file shorter than `size` is an error unless `IPCX_OPEN_CREATE` extends it: touching a
///   mapping past the end of a file raises SIGBUS. Files are never shrunk.
/// - `flags`: `IPCX_OPEN_CREATE` (create the file if missing, mode from the options,
///   default 0600 applied exactly; and extend it to `size` if it is shorter, reserving the
///   space), `IPCX_OPEN_EXCLUSIVE` (with create: fail if it exists), and the access:
///   `IPCX_OPEN_READ` without `IPCX_OPEN_WRITE` maps read-only (and never extends the
///   file); anything else (no access flag, `IPCX_OPEN_WRITE`, both) read-write.
/// - `opts`: NULL or options; honoured: mode.
/// - `out_region` receives the region.
///
/// The region's copies are safe against another process truncating the file
/// (`IPCX_ERR_REMOVED` instead of SIGBUS); see docs/shm.md.
/// Returns: `IPCX_OK` with `*out_region` set.
/// Errors: `IPCX_ERR_INVALID` (bad path, not a regular file, empty file with size 0, file
/// shorter than `size` without create, size above SSIZE_MAX, unknown flags,
/// `IPCX_OPEN_EXCLUSIVE` without `IPCX_OPEN_CREATE`, NULL argument), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_EXISTS` (exclusive create), `IPCX_ERR_PERMISSION`, `IPCX_ERR_LIMIT` (no space
/// to extend the file, RLIMIT_FSIZE, descriptors, address space), `IPCX_ERR_BAD_HANDLE`
/// (closed options). On failure `*out_region` is NULL, and a file this call created is
/// removed again.
/// Ownership: close the region with `ipcx_region_close`. The file is the caller's: ipcx
/// never removes it after a successful call.
/// Fork: a forked child inherits the mapping and may use its copy of the region.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out_region` NULL or valid for writing;
/// `opts` NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_file_map(
    path: *const std::ffi::c_char,
    size: usize,
    flags: u32,
    opts: *const ipcx_options,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call("ipcx_file_map", || {
        let p = unsafe { str_arg(path, "path", name::PATH_MAX) }?;
        let o = unsafe { out(out_region, "out_region") }?;
        let opts = unsafe { options(opts) }?;
        file::check_options(&opts)?;
        let how = shm_flags(flags, OPEN_FLAGS)?;
        let r = file::map(p, size, how, protection(flags), &opts)?;
        *o = handle::into_raw(ipcx_region(r))?;
        Ok(())
    })
}
