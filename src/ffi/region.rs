// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for shared regions (`ipcx_region`), whatever created them.

use std::ffi::c_void;

use super::{Info, bytes, bytes_mut, call, call_ref, handle, info_out, out, set_opt};
use crate::error::ipcx_status;
use crate::shm::region::{Kind, Region};

/// `ipcx_region_info.kind`: an anonymous shared mapping (`ipcx_region_create`).
pub const IPCX_REGION_ANONYMOUS: u32 = 1;
/// `ipcx_region_info.kind`: an attached System V segment (`ipcx_shm_segment_map`).
pub const IPCX_REGION_SYSV: u32 = 2;
/// `ipcx_region_info.kind`: a mapped POSIX shared memory object (`ipcx_shm_map`).
pub const IPCX_REGION_POSIX: u32 = 3;
/// `ipcx_region_info.kind`: a mapped file (`ipcx_file_map`).
pub const IPCX_REGION_FILE: u32 = 4;
/// Flag (`ipcx_region_sync`): schedule the write-back and return (MS_ASYNC) instead of
/// waiting for it (MS_SYNC, the default).
pub const IPCX_REGION_SYNC_ASYNC: u32 = 0x10000;

/// A mapped shared memory region: an anonymous shared mapping, a System V segment, a
/// POSIX shared memory object or a mapped file. Opaque.
///
/// Access: `ipcx_region_base` gives the raw pointer; `ipcx_region_read` /
/// `ipcx_region_write` copy with bounds checks. The memory itself is not synchronised:
/// use a semaphore or lock (or a pipe) to hand data over between processes.
///
/// SIGBUS: the backing store of a POSIX object or of a file can be shrunk by any process
/// that can open it (ftruncate). Touching a page past the new end through the raw pointer
/// then raises SIGBUS, which kills the process unless it handles it. Agree with every
/// process sharing the object never to shrink it while it is mapped. ipcx's own copies
/// cannot crash that way: for those two kinds they report `IPCX_ERR_REMOVED` (at the cost of
/// one system call per copy; anonymous and System V regions cannot shrink and copy with a
/// plain memcpy).
/// Thread safety: a thread-safe handle: any number of threads may call functions on it at
/// once (bounded copies, sync, stat, placing objects); only `ipcx_region_close` ends its
/// use (calls already inside finish first, see docs/conventions.md). The memory itself may
/// be used by any number of threads and processes under the caller's synchronisation.
/// Fork: the child inherits the mapping at the same address and may use the handle;
/// each process closes (unmaps) its own.
#[allow(non_camel_case_types)]
pub struct ipcx_region(pub(crate) Region);

impl handle::Handle for ipcx_region {
    const KIND: u32 = 3;
    const NAME: &'static str = "ipcx_region";
}
impl handle::Shared for ipcx_region {}

/// What `ipcx_region_stat` reports about a region. A growable struct: set `size` to
/// `sizeof(ipcx_region_info)` before the call (`ipcx_region_info info = { sizeof info };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ipcx_region_info {
    /// In: the size of the caller's struct. Out: the number of bytes the library wrote.
    pub size: u32,
    /// The first byte of the mapping in this process (valid until `ipcx_region_close`).
    pub base: *mut c_void,
    /// The length of the mapping in bytes.
    pub len: usize,
    /// What created it: `IPCX_REGION_ANONYMOUS`, `IPCX_REGION_SYSV`, `IPCX_REGION_POSIX` or
    /// `IPCX_REGION_FILE`.
    pub kind: u32,
    /// Mapped writable (false for read-only mappings).
    pub writable: bool,
}

// SAFETY: repr(C), starts with the u32 size, plain values.
unsafe impl Info for ipcx_region_info {
    fn failed() -> Self {
        ipcx_region_info {
            size: 0,
            base: std::ptr::null_mut(),
            len: 0,
            kind: 0,
            writable: false,
        }
    }
}

/// Map `size` bytes of anonymous shared memory, zero-filled. It is shared with every child
/// forked afterwards (the seed's "anonymous shared mapping over fork") and disappears when
/// the last process unmaps it.
///
/// Arguments: `size` in bytes (1 .. SSIZE_MAX); `out_region` receives the handle.
/// Returns: `IPCX_OK` with `*out_region` set.
/// Errors: `IPCX_ERR_INVALID` (size 0, above SSIZE_MAX, NULL `out_region`),
/// `IPCX_ERR_LIMIT` (not enough memory or address space). On failure `*out_region` is NULL.
/// Ownership: close with `ipcx_region_close`.
/// Fork: children forked afterwards share the memory (see `ipcx_region`).
///
/// # Safety
/// `out_region` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_create(
    size: usize,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call("ipcx_region_create", || {
        let o = unsafe { out(out_region, "out_region") }?;
        *o = handle::into_raw(ipcx_region(Region::anonymous(size)?))?;
        Ok(())
    })
}

/// Unmap a region in this process and free the handle. NULL is a no-op. Pointers obtained
/// from `ipcx_region_base` become invalid. Other processes keep their mappings. Calls on
/// other threads already inside the region finish first (the unmap happens when the last
/// returns); later calls get `IPCX_ERR_BAD_HANDLE`.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_close(r: *mut ipcx_region) -> ipcx_status {
    call("ipcx_region_close", || handle::close(r))
}

/// The base address and length of a region. Either out-parameter is optional (may be
/// NULL).
///
/// The pointer stays valid until `ipcx_region_close`. Writing through it to a read-only
/// region raises SIGSEGV, as with any read-only mapping.
/// Returns: `IPCX_OK` with `*out_base` and `*out_len` set.
/// Errors: `IPCX_ERR_INVALID` (NULL region), `IPCX_ERR_BAD_HANDLE`. On failure `*out_base`
/// is NULL and `*out_len` 0.
///
/// # Safety
/// `out_base`/`out_len` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_base(
    r: *const ipcx_region,
    out_base: *mut *mut c_void,
    out_len: *mut usize,
) -> ipcx_status {
    unsafe {
        set_opt(out_base, std::ptr::null_mut());
        set_opt(out_len, 0);
    }
    call_ref("ipcx_region_base", r, |r| {
        unsafe {
            set_opt(out_base, r.0.base().cast());
            set_opt(out_len, r.0.len());
        }
        Ok(())
    })
}

/// Copy `len` bytes from `buf` into the region at `offset`, with bounds checks.
///
/// Errors: `IPCX_ERR_INVALID` (the range leaves the region, NULL buffer with a length),
/// `IPCX_ERR_PERMISSION` (read-only region), `IPCX_ERR_BAD_HANDLE`: nothing is written.
/// `IPCX_ERR_REMOVED` (POSIX and file regions only): part of the range is no longer backed
/// because another process shrank the object or file (a raw write there would raise
/// SIGBUS), or `buf` is not valid memory; the bytes before the lost page may have been
/// written, and the message says how many. `IPCX_ERR_UNSUPPORTED`: no fault-safe copy is
/// possible in this process (a seccomp filter refusing process_vm_writev, and no
/// /proc/self/mem). A length of 0 copies nothing.
/// Returns: `IPCX_OK` once the bytes are copied.
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_write(
    r: *mut ipcx_region,
    offset: usize,
    buf: *const c_void,
    len: usize,
) -> ipcx_status {
    call_ref("ipcx_region_write", r, |r| {
        r.0.write(offset, unsafe { bytes(buf, len, "buf") }?)
    })
}

/// Copy `len` bytes of the region at `offset` into `buf`, with bounds checks.
///
/// Errors: `IPCX_ERR_INVALID` (the range leaves the region, NULL buffer with a length),
/// `IPCX_ERR_BAD_HANDLE`: nothing is copied. `IPCX_ERR_REMOVED` (POSIX and file regions
/// only): part of the range is no longer backed because another process shrank the object
/// or file (a raw read there would raise SIGBUS), or `buf` is not valid memory; `buf` may
/// hold part of the data. `IPCX_ERR_UNSUPPORTED`: as for `ipcx_region_write`.
/// Returns: `IPCX_OK` once the bytes are copied.
///
/// # Safety
/// `buf` must be valid for writing `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_read(
    r: *const ipcx_region,
    offset: usize,
    buf: *mut c_void,
    len: usize,
) -> ipcx_status {
    call_ref("ipcx_region_read", r, |r| {
        r.0.read(offset, unsafe { bytes_mut(buf, len, "buf") }?)
    })
}

/// Flush a range of a region to its backing store (msync): for a mapped file, write the
/// modified pages of `[offset, offset + len)` back to the file. Other processes mapping the
/// file see changes at once anyway (same pages); this is about the data on disk (and
/// `read(2)` after a crash). For other kinds it succeeds and has no effect worth paying for.
///
/// Arguments: `flags` 0 (wait until written, MS_SYNC) or `IPCX_REGION_SYNC_ASYNC` (schedule and
/// return, MS_ASYNC). The range is widened to whole pages; `len` 0 does nothing.
/// Returns: `IPCX_OK` once written back (or scheduled).
/// Errors: `IPCX_ERR_INVALID` (the range leaves the region, unknown flags),
/// `IPCX_ERR_SYSTEM` (an I/O error writing back, `ipcx_last_errno` EIO),
/// `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_sync(
    r: *mut ipcx_region,
    offset: usize,
    len: usize,
    flags: u32,
) -> ipcx_status {
    call_ref("ipcx_region_sync", r, |r| {
        crate::flags::check(flags, IPCX_REGION_SYNC_ASYNC, "IPCX_REGION_SYNC_ASYNC")?;
        r.0.sync(offset, len, flags & IPCX_REGION_SYNC_ASYNC != 0)
    })
}

/// Describe a region: its base address and length (as `ipcx_region_base`), what created it
/// and whether it is mapped writable.
///
/// Arguments: `out_info`: the caller's struct with `size` set to `sizeof(ipcx_region_info)`
/// (`ipcx_region_info info = { sizeof info };`); the library writes at most `size` bytes and
/// sets `size` to the number it wrote. `kind` is `IPCX_REGION_ANONYMOUS`,
/// `IPCX_REGION_SYSV`, `IPCX_REGION_POSIX` or `IPCX_REGION_FILE`.
/// Returns: `IPCX_OK` with `*out_info` filled.
/// Errors: `IPCX_ERR_INVALID` (NULL region or `out_info`; `out_info->size` below the 0.2
/// size of the struct: then nothing is written), `IPCX_ERR_BAD_HANDLE`. On other errors
/// the fields of `*out_info` are zeroed (base NULL, kind 0, writable false).
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_stat(
    r: *const ipcx_region,
    out_info: *mut ipcx_region_info,
) -> ipcx_status {
    call("ipcx_region_stat", || unsafe {
        info_out(out_info, "out_info", || {
            let r = handle::pin(r)?;
            Ok(ipcx_region_info {
                size: 0,
                base: r.0.base().cast(),
                len: r.0.len(),
                kind: match r.0.kind() {
                    Kind::Anonymous => IPCX_REGION_ANONYMOUS,
                    Kind::SysV => IPCX_REGION_SYSV,
                    Kind::Posix => IPCX_REGION_POSIX,
                    Kind::File => IPCX_REGION_FILE,
                },
                writable: r.0.writable(),
            })
        })
    })
}

/// Choose how `ipcx_region_read` / `ipcx_region_write` copy for this region.
///
/// POSIX shared memory and mapped files can be shrunk by another process (ftruncate);
/// touching the lost pages raises SIGBUS. By default ipcx's bounded copies on those kinds
/// are fault-safe: they go through the kernel (process_vm_readv/writev on the own process)
/// and report `IPCX_ERR_REMOVED` instead of faulting. That costs a system call per copy
/// (about 1 µs here, see bench_shm). With `checked` false, copies are plain memcpy: as fast
/// as raw access, and as exposed to SIGBUS. Turn it off only when every process mapping the
/// object is trusted never to shrink it. Anonymous and System V regions cannot shrink and
/// always copy directly; for them this call changes nothing.
///
/// Arguments: `checked`: true (the default for POSIX and file regions) or false.
/// Returns: `IPCX_OK` once set (it applies to copies that start afterwards, on any thread).
/// Errors: `IPCX_ERR_INVALID` (NULL region), `IPCX_ERR_BAD_HANDLE`.
/// Fork: the setting belongs to the handle; a child inherits it with the handle.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_set_checked_copies(
    r: *mut ipcx_region,
    checked: bool,
) -> ipcx_status {
    call_ref("ipcx_region_set_checked_copies", r, |r| {
        r.0.set_checked_copies(checked);
        Ok(())
    })
}

/// Make checked copies (`ipcx_region_read`/`ipcx_region_write` on POSIX and file regions)
/// run at memory speed by installing a SIGBUS handler that recovers from a lost page
/// inside ipcx's own copy routine. Without it (the default) each checked copy is a system
/// call (process_vm_readv/writev, about 1 µs here); with it, a copy is a plain copy loop
/// and a truncated page still gives `IPCX_ERR_REMOVED`, never a crash.
///
/// ipcx never installs a handler unasked: this call is the program's decision. The
/// handler is process-wide and takes over SIGBUS only for faults inside ipcx's copy
/// routine; every other SIGBUS goes to the action installed before (its handler is called
/// with the same arguments; with SIG_DFL or SIG_IGN the default action is restored and the
/// process dies of SIGBUS as it would have). A handler the program installs later must
/// chain to the previous one (as this one does), or ipcx's copies lose their protection.
/// Installing twice is harmless. With the trap, a copy whose caller buffer is invalid
/// memory crashes with SIGSEGV, as memcpy would (the system-call path returned
/// `IPCX_ERR_REMOVED` for it).
///
/// Arguments: `flags`: 0 (no flag is defined yet).
/// Returns: `IPCX_OK` once installed (copies that start afterwards, on any thread, use it).
/// Errors: `IPCX_ERR_INVALID` (unknown flags), `IPCX_ERR_UNSUPPORTED` (no copy routine for
/// this processor: x86_64 and aarch64 have one; copies stay on the system-call path),
/// `IPCX_ERR_SYSTEM` (sigaction failed; `ipcx_last_errno` has the errno).
/// Ownership: nothing changes hands; the handler stays until `ipcx_region_trap_remove`.
/// Fork: a forked child inherits the handler and the setting; exec resets SIGBUS to its
/// default.
///
/// # Safety
/// None beyond the C contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_trap_install(flags: u32) -> ipcx_status {
    call("ipcx_region_trap_install", || {
        crate::flags::check(flags, 0, "no flags: pass 0")?;
        crate::shm::region::fault_trap::install()
    })
}

/// Remove the handler of `ipcx_region_trap_install`, restoring the SIGBUS action that was
/// there before it; checked copies go back to the system-call path. Call it only while no
/// other thread is inside an `ipcx_region_read`/`ipcx_region_write`: a copy already running
/// when the handler goes away is unprotected.
///
/// Returns: `IPCX_OK` (also when the trap was not installed).
/// Errors: `IPCX_ERR_IN_USE` (the program installed another SIGBUS handler after the trap:
/// nothing is changed), `IPCX_ERR_SYSTEM` (sigaction failed; `ipcx_last_errno` has the errno).
/// Ownership: nothing changes hands.
/// Fork: affects the calling process only.
///
/// # Safety
/// None beyond the C contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_trap_remove() -> ipcx_status {
    call(
        "ipcx_region_trap_remove",
        crate::shm::region::fault_trap::remove,
    )
}
