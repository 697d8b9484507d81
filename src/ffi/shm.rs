//! C functions for shared memory: System V segments (`ipcx_shm_segment`), POSIX shared
//! memory objects (`ipcx_shm`) and shared file mappings (`ipcx_file_map`). Every kind is
//! accessed through an `ipcx_region` (see `src/ffi/region.rs`).

use std::ffi::c_int;

use super::common::ipcx_options;
use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ};
use super::region::ipcx_region;
use super::{call, call_on, handle, options, out, set_opt, str_arg};
use crate::error::ipcx_status;
use crate::shm::{self, file, posix, sysv};

const _: () = assert!(
    IPCX_OPEN_CREATE == shm::CREATE
        && IPCX_OPEN_EXCLUSIVE == shm::EXCLUSIVE
        && IPCX_OPEN_READ == shm::READ_ONLY
        && super::common::IPCX_KEY_PRIVATE == sysv::KEY_PRIVATE
);

/// A System V shared memory segment (the kernel object: an id and a key). Opaque.
///
/// It is separate from its attachments: `ipcx_shm_segment_map` gives an `ipcx_region`
/// (closing the region detaches it). Closing the segment handle frees the handle only: the
/// segment stays in the system until `ipcx_shm_segment_remove` (kernel persistence, as
/// `ipcs -m` shows), and attachments are unaffected.
/// Thread safety: one thread at a time per handle.
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
/// Thread safety: one thread at a time per handle.
/// Fork: the child inherits the handle and its descriptor and may use them; each process
/// closes its own. The descriptor is close-on-exec.
#[allow(non_camel_case_types)]
pub struct ipcx_shm(posix::PosixShm);

impl handle::Handle for ipcx_shm {
    const KIND: u32 = 21;
    const NAME: &'static str = "ipcx_shm";
}

pub use crate::shm::sysv::ipcx_shm_segment_info;

/// Create or open the System V segment of `key` (shmget).
///
/// Arguments:
/// - `key`: from `ipcx_sysv_key`, a number agreed on, or `IPCX_KEY_PRIVATE` (a new segment
///   every time; requires `IPCX_OPEN_CREATE`).
/// - `size`: bytes. When creating, at least 1 (SHMMIN) and at most
///   /proc/sys/kernel/shmmax. When opening an existing segment, 0 accepts any size; a
///   larger size than the segment's is an error.
/// - `flags`: 0 (open an existing segment), `IPCX_OPEN_CREATE` (create if missing),
///   `IPCX_OPEN_CREATE | IPCX_OPEN_EXCLUSIVE` (create, fail if it exists).
/// - `opts`: NULL or options; honoured: mode (default 0600, applied exactly; used only
///   when the segment is created).
///
/// Returns: `IPCX_OK` with `*out` set. Errors: `IPCX_ERR_INVALID` (size 0 when creating,
/// size above the existing segment's, private key without create, unknown flags, NULL
/// `out`, unsupported option), `IPCX_ERR_NOT_FOUND` (no segment has the key),
/// `IPCX_ERR_EXISTS` (exclusive create of an existing key), `IPCX_ERR_LIMIT` (size above
/// /proc/sys/kernel/shmmax, named with its value; shmmni or shmall reached; not enough
/// memory), `IPCX_ERR_PERMISSION` (the segment's mode), `IPCX_ERR_BAD_HANDLE` (closed
/// options). On failure `*out` is NULL.
/// Ownership: close the handle with `ipcx_shm_segment_close`; the segment itself stays
/// until `ipcx_shm_segment_remove`.
///
/// # Safety
/// `out` must be NULL or valid for writing; `opts` NULL or a live options handle.
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
        let o = unsafe { out(out_segment, "out") }?;
        let seg = sysv::open(key, size, flags, &unsafe { options(opts) }?)?;
        *o = handle::into_raw(ipcx_shm_segment(seg))?;
        Ok(())
    })
}

/// Open an existing System V segment by its id (as `ipcs -m` shows, or as passed on by the
/// process that created a private segment).
///
/// Errors: `IPCX_ERR_INVALID` (negative id, NULL `out`), `IPCX_ERR_NOT_FOUND` (no segment
/// has this id), `IPCX_ERR_REMOVED` (it was removed and waits for its last detach),
/// `IPCX_ERR_PERMISSION` (its mode does not allow reading its status). On failure `*out` is
/// NULL.
/// Ownership: close with `ipcx_shm_segment_close`.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_open_id(
    id: c_int,
    out_segment: *mut *mut ipcx_shm_segment,
) -> ipcx_status {
    unsafe { set_opt(out_segment, std::ptr::null_mut()) };
    call("ipcx_shm_segment_open_id", || {
        let o = unsafe { out(out_segment, "out") }?;
        *o = handle::into_raw(ipcx_shm_segment(sysv::open_id(id)?))?;
        Ok(())
    })
}

/// The segment's id (for `ipcs`, for `ipcx_shm_segment_open_id` in another process).
///
/// Errors: `IPCX_ERR_INVALID` (NULL argument), `IPCX_ERR_BAD_HANDLE`. On failure `*id` is -1.
///
/// # Safety
/// `id` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_id(
    seg: *const ipcx_shm_segment,
    id: *mut c_int,
) -> ipcx_status {
    unsafe { set_opt(id, -1) };
    call_on("ipcx_shm_segment_id", seg, |s| {
        *unsafe { out(id, "id") }? = s.0.id();
        Ok(())
    })
}

/// Attach the segment (shmat) and return it as a region of the segment's size. Close the
/// region (`ipcx_region_close`) to detach it (shmdt).
///
/// Arguments: `flags` 0 (read-write) or `IPCX_OPEN_READ`.
/// Errors: `IPCX_ERR_REMOVED` (the segment was removed, through this handle or elsewhere:
/// ipcx does not attach removed segments, although their existing attachments stay valid),
/// `IPCX_ERR_PERMISSION` (the segment's mode), `IPCX_ERR_LIMIT` (no address space),
/// `IPCX_ERR_INVALID` (unknown flags, NULL `out`), `IPCX_ERR_BAD_HANDLE`. On failure `*out`
/// is NULL.
/// Ownership: the region is independent of the segment handle (close them in any order).
/// Fork: a forked child inherits the attachment (the attach count grows by one); it may
/// use and must close its copy of the region.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_map(
    seg: *const ipcx_shm_segment,
    flags: u32,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call_on("ipcx_shm_segment_map", seg, |s| {
        let o = unsafe { out(out_region, "out") }?;
        *o = handle::into_raw(ipcx_region(s.0.attach(flags)?))?;
        Ok(())
    })
}

/// The segment's status: size, attach count, creator and last pids, times, mode, owner,
/// and whether it was removed (shmctl IPC_STAT).
///
/// Errors: `IPCX_ERR_REMOVED` (the segment no longer exists), `IPCX_ERR_PERMISSION` (its
/// mode does not allow reading), `IPCX_ERR_INVALID` (NULL argument), `IPCX_ERR_BAD_HANDLE`.
/// On failure `*info` is zeroed.
///
/// # Safety
/// `info` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_segment_stat(
    seg: *const ipcx_shm_segment,
    info: *mut ipcx_shm_segment_info,
) -> ipcx_status {
    unsafe { set_opt(info, ipcx_shm_segment_info::default()) };
    call_on("ipcx_shm_segment_stat", seg, |s| {
        let o = unsafe { out(info, "info") }?;
        *o = s.0.stat()?;
        Ok(())
    })
}

/// Remove the segment (shmctl IPC_RMID). Its key is released at once (opening the key
/// finds nothing, or a new segment); every existing attachment, in any process, stays valid
/// and usable; the memory is freed at the last detach. New attaches are refused.
///
/// Errors: `IPCX_ERR_REMOVED` (already removed, through this handle or elsewhere),
/// `IPCX_ERR_PERMISSION` (only the owner or creator may remove it), `IPCX_ERR_INVALID`
/// (NULL), `IPCX_ERR_BAD_HANDLE`. The handle stays open: close it as usual.
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
/// - `name`: "/name": one leading slash, no other, at most 255 bytes.
/// - `flags`: `IPCX_OPEN_CREATE` (create if missing), `IPCX_OPEN_EXCLUSIVE` (with create:
///   fail if it exists), `IPCX_OPEN_READ` (open read-only: map read-only, no resize).
/// - `opts`: NULL or options; honoured: mode (default 0600, applied exactly, the umask does
///   not remove bits; used only when this call creates the object).
///
/// A new object is empty: set its size with `ipcx_shm_set_size` before mapping it.
/// Errors: `IPCX_ERR_INVALID` (bad name, unknown flags, NULL argument, unsupported option),
/// `IPCX_ERR_NOT_FOUND` (missing, without create), `IPCX_ERR_EXISTS` (exclusive create),
/// `IPCX_ERR_PERMISSION` (the object's mode), `IPCX_ERR_LIMIT` (descriptors, or no room in
/// /dev/shm), `IPCX_ERR_BAD_HANDLE` (closed options). On failure `*out` is NULL.
/// Ownership: close with `ipcx_shm_close`; remove the name with `ipcx_shm_remove`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string; `out` NULL or valid for writing; `opts`
/// NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_open(
    name: *const std::ffi::c_char,
    flags: u32,
    opts: *const ipcx_options,
    out_shm: *mut *mut ipcx_shm,
) -> ipcx_status {
    unsafe { set_opt(out_shm, std::ptr::null_mut()) };
    call("ipcx_shm_open", || {
        let n = unsafe { str_arg(name, "name", crate::name::POSIX_NAME_MAX) }?;
        let o = unsafe { out(out_shm, "out") }?;
        let shm = posix::open(n, flags, &unsafe { options(opts) }?)?;
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
/// Errors: `IPCX_ERR_PERMISSION` (opened read-only), `IPCX_ERR_LIMIT` (/dev/shm full,
/// named with the space left; above RLIMIT_FSIZE, refused before the kernel would send
/// SIGXFSZ), `IPCX_ERR_INVALID` (size above 2^63 - 1, NULL), `IPCX_ERR_BAD_HANDLE`.
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
/// Errors: `IPCX_ERR_INVALID` (NULL argument), `IPCX_ERR_BAD_HANDLE`. On failure `*size` is 0.
///
/// # Safety
/// `size` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_size(shm: *const ipcx_shm, size: *mut usize) -> ipcx_status {
    unsafe { set_opt(size, 0) };
    call_on("ipcx_shm_size", shm, |s| {
        let o = unsafe { out(size, "size") }?;
        *o = s.0.size()?;
        Ok(())
    })
}

/// Map a whole POSIX shared memory object (its current size), shared, as a region.
///
/// Arguments: `flags` 0 (read-write; the object must have been opened read-write) or
/// `IPCX_OPEN_READ`.
/// The region's copies (`ipcx_region_read`/`write`) are safe against another process
/// shrinking the object (`IPCX_ERR_REMOVED` instead of SIGBUS), at the cost of one system
/// call per copy; see docs/shm.md.
/// Errors: `IPCX_ERR_INVALID` (the object is empty, unknown flags, NULL `out`),
/// `IPCX_ERR_PERMISSION` (read-write map of a read-only handle), `IPCX_ERR_LIMIT` (address
/// space, max_map_count), `IPCX_ERR_BAD_HANDLE`. On failure `*out` is NULL.
/// Ownership: the region is independent of the handle (close them in any order).
/// Fork: a forked child inherits the mapping and may use its copy of the region.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_map(
    shm: *const ipcx_shm,
    flags: u32,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call_on("ipcx_shm_map", shm, |s| {
        let o = unsafe { out(out_region, "out") }?;
        *o = handle::into_raw(ipcx_region(s.0.map(flags)?))?;
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
/// Errors: `IPCX_ERR_INVALID` (bad or NULL name), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_shm_remove(name: *const std::ffi::c_char) -> ipcx_status {
    call("ipcx_shm_remove", || {
        let n = unsafe { str_arg(name, "name", crate::name::POSIX_NAME_MAX) }?;
        posix::unlink(n)
    })
}

/// Map a file shared (MAP_SHARED): every process that maps the same file, related or not,
/// sees the same bytes; `ipcx_region_sync` writes them to the file (msync); closing the
/// region unmaps it.
///
/// Arguments:
/// - `path`: the file (NUL-terminated, < PATH_MAX). Only regular files are mapped.
/// - `flags`: `IPCX_OPEN_CREATE` (create the file if missing, mode from the options,
///   default 0600 applied exactly; and extend it to `size` if it is shorter, reserving the
///   space), `IPCX_OPEN_EXCLUSIVE` (with create: fail if it exists), `IPCX_OPEN_READ`.
/// - `size`: bytes to map from the start of the file; 0 maps the whole current file. A
///   file shorter than `size` is an error unless `IPCX_OPEN_CREATE` extends it: touching a
///   mapping past the end of a file raises SIGBUS. Files are never shrunk.
/// - `opts`: NULL or options; honoured: mode.
///
/// The region's copies are safe against another process truncating the file
/// (`IPCX_ERR_REMOVED` instead of SIGBUS); see docs/shm.md.
/// Errors: `IPCX_ERR_INVALID` (bad path, not a regular file, empty file with size 0, file
/// shorter than `size` without create, size above SSIZE_MAX, unknown flags, NULL
/// argument), `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_EXISTS` (exclusive create),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_LIMIT` (no space to extend the file, RLIMIT_FSIZE,
/// descriptors, address space). On failure `*out` is NULL, and a file this call created is
/// removed again.
/// Ownership: close the region with `ipcx_region_close`. The file is the caller's: ipcx
/// never removes it after a successful call.
/// Fork: a forked child inherits the mapping and may use its copy of the region.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out` NULL or valid for writing; `opts`
/// NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_file_map(
    path: *const std::ffi::c_char,
    flags: u32,
    size: usize,
    opts: *const ipcx_options,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call("ipcx_file_map", || {
        let p = unsafe { str_arg(path, "path", crate::name::PATH_MAX) }?;
        let o = unsafe { out(out_region, "out") }?;
        let r = file::map(p, flags, size, &unsafe { options(opts) }?)?;
        *o = handle::into_raw(ipcx_region(r))?;
        Ok(())
    })
}
