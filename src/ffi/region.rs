//! C functions for shared regions (`ipcx_region`), whatever created them.

use std::ffi::c_void;

use super::{bytes, bytes_mut, call, call_on, handle, out, set_opt};
use crate::error::ipcx_status;
use crate::region::Region;

/// A mapped shared memory region: an anonymous shared mapping, a System V segment, a
/// POSIX shared memory object or a mapped file. Opaque.
///
/// Access: `ipcx_region_base` gives the raw pointer; `ipcx_region_read` /
/// `ipcx_region_write` copy with bounds checks. The memory itself is not synchronised:
/// use a semaphore or lock (or a pipe) to hand data over between processes.
/// Thread safety: the handle may be used by one thread at a time; the memory may be used
/// by any number of threads and processes under the caller's synchronisation.
/// Fork: the child inherits the mapping at the same address and may use the handle;
/// each process closes (unmaps) its own.
#[allow(non_camel_case_types)]
pub struct ipcx_region(pub(crate) Region);

impl handle::Handle for ipcx_region {
    const KIND: u32 = 3;
    const NAME: &'static str = "ipcx_region";
}

/// Map `size` bytes of anonymous shared memory, zero-filled. It is shared with every child
/// forked afterwards (the seed's "anonymous shared mapping over fork") and disappears when
/// the last process unmaps it.
///
/// Errors: `IPCX_ERR_INVALID` (size 0, above SSIZE_MAX, NULL `out`), `IPCX_ERR_LIMIT`
/// (not enough memory or address space). On failure `*out` is NULL.
/// Ownership: close with `ipcx_region_close`.
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_create_anonymous(
    size: usize,
    out_region: *mut *mut ipcx_region,
) -> ipcx_status {
    unsafe { set_opt(out_region, std::ptr::null_mut()) };
    call("ipcx_region_create_anonymous", || {
        let o = unsafe { out(out_region, "out") }?;
        *o = handle::into_raw(ipcx_region(Region::anonymous(size)?));
        Ok(())
    })
}

/// Unmap a region in this process and free the handle. NULL is a no-op. Pointers obtained
/// from `ipcx_region_base` become invalid. Other processes keep their mappings.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed.
///
/// # Safety
/// `r` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_close(r: *mut ipcx_region) -> ipcx_status {
    call("ipcx_region_close", || unsafe { handle::close(r) })
}

/// The base address and size of a region. Either out-pointer may be NULL.
///
/// The pointer stays valid until `ipcx_region_close`. Writing through it to a read-only
/// region raises SIGSEGV, as with any read-only mapping.
/// Errors: `IPCX_ERR_INVALID` (NULL region), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `base`/`size` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_region_info(
    r: *const ipcx_region,
    base: *mut *mut c_void,
    size: *mut usize,
) -> ipcx_status {
    unsafe {
        set_opt(base, std::ptr::null_mut());
        set_opt(size, 0);
    }
    call_on("ipcx_region_info", r, |r| {
        unsafe {
            set_opt(base, r.0.base().cast());
            set_opt(size, r.0.len());
        }
        Ok(())
    })
}

/// Copy `len` bytes from `buf` into the region at `offset`, with bounds checks.
///
/// Errors: `IPCX_ERR_INVALID` (the range leaves the region, NULL buffer with a length),
/// `IPCX_ERR_PERMISSION` (read-only region), `IPCX_ERR_BAD_HANDLE`. Nothing is written on
/// error. A length of 0 copies nothing.
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
    call_on("ipcx_region_write", r, |r| {
        r.0.write(offset, unsafe { bytes(buf, len, "buf") }?)
    })
}

/// Copy `len` bytes of the region at `offset` into `buf`, with bounds checks.
///
/// Errors: `IPCX_ERR_INVALID` (the range leaves the region, NULL buffer with a length),
/// `IPCX_ERR_BAD_HANDLE`. Nothing is copied on error.
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
    call_on("ipcx_region_read", r, |r| {
        r.0.read(offset, unsafe { bytes_mut(buf, len, "buf") }?)
    })
}
