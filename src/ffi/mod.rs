// SPDX-License-Identifier: MIT OR Apache-2.0
//! The C boundary. Each exported function only converts: it checks its arguments, calls
//! the safe core, and maps the result (see [`call`]). Nothing here decides semantics.
//!
//! One file per mechanism family; argument helpers and the panic boundary live here, the
//! handle registry in [`handle`].

pub mod chan;
pub mod common;
pub(crate) mod handle;
mod hazard;
pub mod inspect;
pub mod lock;
pub mod msgq;
pub mod pipe;
pub mod region;
pub mod ring;
pub mod sem;
pub mod shm;
pub mod signal;
pub mod sock;
mod stream;

use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, Result, Status, set_last_error};
use crate::flags::Disposition;
use crate::options::Options;

/// Run the body of an exported function: catch panics (`IPCX_ERR_INTERNAL`), turn errors
/// into their status and record the thread's last error, prefixed with the C function name.
pub(crate) fn call(func: &'static str, body: impl FnOnce() -> Result<()>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish(func, r, 0),
    }
}

/// Like [`call`] for a function working on one handle of a one-thread type: the handle is
/// pinned exclusively first (NULL, closed, stale, foreign, poisoned or busy handles are
/// reported), then `body` runs on it; if `body` panics, the handle is poisoned.
#[inline(always)]
pub(crate) fn call_on<T: handle::Handle>(
    func: &'static str,
    h: *const T,
    body: impl FnOnce(&mut T) -> Result<()>,
) -> Status {
    let r = catch_unwind(AssertUnwindSafe(|| match handle::try_pin_mut(h) {
        Some(mut pinned) => body(pinned.get_mut()),
        None => body(handle::pin_mut_slow(h)?.get_mut()),
    }));
    // The success path stays inline; failures go to the out-of-line `finish`.
    match r {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish(func, r, h as usize),
    }
}

/// Like [`call_on`] for handles of thread-safe types (their core type only needs `&self`,
/// with its own synchronisation): the body gets a shared reference, and calls on other
/// threads may run at the same time.
#[inline(always)]
pub(crate) fn call_ref<T: handle::Shared>(
    func: &'static str,
    h: *const T,
    body: impl FnOnce(&T) -> Result<()>,
) -> Status {
    let r = catch_unwind(AssertUnwindSafe(|| match handle::try_pin(h) {
        Some(pinned) => body(&pinned),
        None => body(&*handle::pin_slow(h)?),
    }));
    match r {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish(func, r, h as usize),
    }
}

/// The success path stays in the caller (no move of the large error type); failures and
/// panics are handled out of line.
#[inline(always)]
fn finish(func: &'static str, r: std::thread::Result<Result<()>>, handle_addr: usize) -> Status {
    match r {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish_failed(func, r, handle_addr),
    }
}

#[cold]
#[inline(never)]
fn finish_failed(
    func: &'static str,
    r: std::thread::Result<Result<()>>,
    handle_addr: usize,
) -> Status {
    match r {
        Ok(Ok(())) => Status::IPCX_OK,
        Ok(Err(e)) => {
            set_last_error(func, &e);
            e.status
        }
        Err(panic) => {
            if handle_addr != 0 {
                handle::poison(handle_addr);
            }
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(
                func,
                &Error::internal(format!("internal error (panic): {what}")),
            );
            Status::IPCX_ERR_INTERNAL
        }
    }
}

/// A required out-parameter.
///
/// # Safety
/// `p` must be NULL or valid for writing a `T`.
#[inline]
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: per the contract.
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// Clear an optional out-parameter (set it to `value` when not NULL).
///
/// # Safety
/// `p` must be NULL or valid for writing a `T`.
#[inline]
pub(crate) unsafe fn set_opt<T>(p: *mut T, value: T) {
    // SAFETY: per the contract.
    if let Some(r) = unsafe { p.as_mut() } {
        *r = value;
    }
}

#[cold]
fn check_len(len: usize, what: &str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(too_long(len, what));
    }
    Ok(())
}

#[cold]
fn too_long(len: usize, what: &str) -> Error {
    Error::invalid(format!("{what} length {len} is larger than SSIZE_MAX"))
}

/// A caller-owned input buffer. NULL is allowed only with length 0.
///
/// # Safety
/// `p` must be NULL or valid for reading `len` bytes for the duration of the call.
#[inline]
pub(crate) unsafe fn bytes<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8]> {
    if !p.is_null() && len <= isize::MAX as usize {
        // SAFETY: per the contract (the hot path; the checks below only explain errors).
        return Ok(unsafe { std::slice::from_raw_parts(p.cast(), len) });
    }
    check_len(len, what)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL with length {len}")));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p.cast(), len) })
}

/// A caller-owned output buffer. NULL is allowed only with length 0.
///
/// # Safety
/// `p` must be NULL or valid for writing `len` bytes for the duration of the call.
#[inline]
pub(crate) unsafe fn bytes_mut<'a>(p: *mut c_void, len: usize, what: &str) -> Result<&'a mut [u8]> {
    if !p.is_null() && len <= isize::MAX as usize {
        // SAFETY: per the contract (the hot path; the checks below only explain errors).
        return Ok(unsafe { std::slice::from_raw_parts_mut(p.cast(), len) });
    }
    check_len(len, what)?;
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL with length {len}")));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast(), len) })
}

/// A receive into a caller's buffer: `*len` in: the capacity of `buf`; out: what `recv`
/// returned, or with `IPCX_ERR_TOO_BIG` the size needed (the message stays queued).
///
/// # Safety
/// `len` must be NULL or valid; `buf` NULL or valid for writing `*len` bytes.
pub(crate) unsafe fn recv_into(
    buf: *mut c_void,
    len: *mut usize,
    recv: impl FnOnce(&mut [u8]) -> Result<usize>,
) -> Result<()> {
    // SAFETY: per the contract.
    let len = unsafe { out(len, "len") }?;
    let dst = unsafe { bytes_mut(buf, *len, "buf") }?;
    match recv(dst) {
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
}

/// A NUL-terminated UTF-8 string argument, scanned for at most `max` bytes.
///
/// # Safety
/// `p` must be NULL or point to readable memory up to its NUL or `max + 1` bytes.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str, max: usize) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: per the contract, strnlen reads at most max + 1 bytes.
    let n = unsafe { libc::strnlen(p, max + 1) };
    if n > max {
        return Err(Error::invalid(format!("{what} is longer than {max} bytes")));
    }
    // SAFETY: n bytes are readable.
    let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) };
    std::str::from_utf8(b).map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// A copy of the options behind an optional `ipcx_options` handle (NULL = defaults).
///
/// # Safety
/// None beyond the C contract: `p` is NULL or a value ipcx returned (anything else is
/// reported, never dereferenced).
pub(crate) unsafe fn options(p: *const common::ipcx_options) -> Result<Options> {
    if p.is_null() {
        return Ok(Options::default());
    }
    Ok(handle::pin(p)?.get())
}

/// The open disposition that `flags` selects with `IPCX_OPEN_CREATE` and
/// `IPCX_OPEN_EXCLUSIVE`, after refusing bits outside `allowed` (the message names
/// `accepts`); for calls that take no other flag.
pub(crate) fn disposition(flags: u32, allowed: u32, accepts: &str) -> Result<Disposition> {
    crate::flags::check(flags, allowed, accepts)?;
    Disposition::from_c(flags)
}

/// A caller-owned array of `n` values of `T` (`const T *p, size_t n`). NULL is allowed only
/// with `n` 0; a misaligned pointer is refused (building a slice from it would be undefined
/// behaviour).
///
/// # Safety
/// `p` must be NULL or valid for reading `n` values for the duration of the call.
#[allow(dead_code)] // until every family uses it (0.2 port)
pub(crate) unsafe fn array<'a, T>(p: *const T, n: usize, what: &str) -> Result<&'a [T]> {
    check_array::<T>(p as usize, n, what)?;
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: per the contract; non-NULL, aligned, and the byte length fits.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Like [`array`], for an array the call writes.
///
/// # Safety
/// `p` must be NULL or valid for writing `n` values for the duration of the call.
#[allow(dead_code)] // until every family uses it (0.2 port)
pub(crate) unsafe fn array_mut<'a, T>(p: *mut T, n: usize, what: &str) -> Result<&'a mut [T]> {
    check_array::<T>(p as usize, n, what)?;
    if n == 0 {
        return Ok(&mut []);
    }
    // SAFETY: per the contract; non-NULL, aligned, and the byte length fits.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

#[allow(dead_code)] // until every family uses it (0.2 port)
fn check_array<T>(addr: usize, n: usize, what: &str) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    if addr == 0 {
        return Err(Error::invalid(format!(
            "{what} is NULL with a count of {n}"
        )));
    }
    if addr % align_of::<T>() != 0 {
        return Err(Error::invalid(format!(
            "{what} ({addr:#x}) is not aligned to {} bytes",
            align_of::<T>()
        )));
    }
    if n.checked_mul(size_of::<T>().max(1))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(Error::invalid(format!(
            "{what}: a count of {n} is too large"
        )));
    }
    Ok(())
}

/// A text out-buffer (`char *buf, size_t *len`): in, `*len` is the capacity of `buf`; out,
/// always the length of `text` without its NUL, with `IPCX_OK` when `buf` held the text and
/// its NUL, `IPCX_ERR_TOO_BIG` otherwise (then `buf` needs `*len + 1` bytes and holds `""`
/// if it has room for anything).
///
/// # Safety
/// `len` must be NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[allow(dead_code)] // until every family uses it (0.2 port)
pub(crate) unsafe fn text_out(buf: *mut c_char, len: *mut usize, text: &str) -> Result<()> {
    // SAFETY: per the contract.
    let len = unsafe { out(len, "len") }?;
    let dst = unsafe { bytes_mut(buf.cast(), *len, "buf") }?;
    let need = text.len();
    *len = need;
    if dst.len() <= need {
        if let Some(first) = dst.first_mut() {
            *first = 0;
        }
        return Err(Error::too_big(
            need,
            format!(
                "the buffer holds {} bytes; the text needs {}",
                dst.len(),
                need + 1
            ),
        ));
    }
    dst[..need].copy_from_slice(text.as_bytes());
    dst[need] = 0;
    Ok(())
}

/// A struct the library fills, whose first field is `uint32_t size` (docs/conventions.md,
/// "Structs that grow"): the caller sets `size`; the library writes at most that many
/// bytes and sets `size` to what it wrote.
///
/// # Safety
/// Implementors are `#[repr(C)]`, start with a `u32` size field, and hold no padding that
/// matters (they are copied bytewise).
#[allow(dead_code)] // until every family uses it (0.2 port)
pub(crate) unsafe trait Info: Copy {
    /// The struct's size in the first release that had it: a caller's `size` below it is
    /// refused.
    const MIN_SIZE: usize = size_of::<Self>();
    /// A value with every field at its failure value (zero, NULL, -1 for ids).
    fn failed() -> Self;
}

/// Fill the caller's info struct at `p` with what `make` returns (or its failure value if
/// `make` fails, whose error is then returned).
///
/// # Safety
/// `p` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[allow(dead_code)] // until every family uses it (0.2 port)
pub(crate) unsafe fn info_out<T: Info>(
    p: *mut T,
    what: &str,
    make: impl FnOnce() -> Result<T>,
) -> Result<()> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: per the contract, the first field is a readable u32.
    let size = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    if size < T::MIN_SIZE {
        return Err(Error::invalid(format!(
            "{what}->size is {size}: set it to sizeof the struct ({} here) before the call",
            size_of::<T>()
        )));
    }
    let (value, r) = match make() {
        Ok(v) => (v, Ok(())),
        Err(e) => (T::failed(), Err(e)),
    };
    let n = size.min(size_of::<T>());
    // SAFETY: `value` is a T of `size_of::<T>()` bytes; the caller's struct has room for
    // `size` bytes, and `n` is at most both.
    unsafe {
        std::ptr::copy_nonoverlapping((&value as *const T).cast::<u8>(), p.cast::<u8>(), n);
        p.cast::<u32>().write_unaligned(n as u32);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy(u32);
    impl handle::Handle for Dummy {
        const KIND: u32 = 63;
        const NAME: &'static str = "dummy";
    }

    #[test]
    fn panic_poisons_the_handle_and_close_still_works() {
        let h = handle::into_raw(Dummy(7)).unwrap();
        let ok = call_on("t", h, |d| {
            if d.0 == 7 {
                Ok(())
            } else {
                Err(Error::invalid("x"))
            }
        });
        assert_eq!(ok, Status::IPCX_OK);
        let s = call_on("t", h, |_d: &mut Dummy| -> Result<()> { panic!("boom") });
        assert_eq!(s, Status::IPCX_ERR_INTERNAL);
        assert_eq!(call_on("t", h, |_| Ok(())), Status::IPCX_ERR_INTERNAL);
        assert!(handle::close(h).is_ok());
        assert_eq!(call_on("t", h, |_| Ok(())), Status::IPCX_ERR_BAD_HANDLE);
    }

    #[test]
    fn array_arguments() {
        assert!(
            unsafe { array::<i32>(std::ptr::null(), 0, "a") }
                .unwrap()
                .is_empty()
        );
        assert!(unsafe { array::<i32>(std::ptr::null(), 1, "a") }.is_err());
        let v = [1i32, 2, 3];
        let misaligned = v.as_ptr().cast::<u8>().wrapping_add(1).cast::<i32>();
        assert!(unsafe { array(misaligned, 2, "a") }.is_err());
        // A dangling, misaligned pointer with a count of 0 is never turned into a slice.
        assert!(unsafe { array(misaligned, 0, "a") }.unwrap().is_empty());
        assert_eq!(unsafe { array(v.as_ptr(), 3, "a") }.unwrap(), &v);
        assert!(unsafe { array_mut::<i32>(std::ptr::null_mut(), 2, "a") }.is_err());
    }

    #[test]
    fn text_out_reports_the_length_both_ways() {
        let mut buf = [0x55u8; 8];
        let mut len = buf.len();
        unsafe { text_out(buf.as_mut_ptr().cast(), &mut len, "abc") }.unwrap();
        assert_eq!((len, &buf[..4]), (3, &b"abc\0"[..]));
        let mut len = 3;
        let e = unsafe { text_out(buf.as_mut_ptr().cast(), &mut len, "abc") }.unwrap_err();
        assert_eq!((e.status, len, buf[0]), (Status::IPCX_ERR_TOO_BIG, 3, 0));
        let mut len = 0;
        let e = unsafe { text_out(std::ptr::null_mut(), &mut len, "abcd") }.unwrap_err();
        assert_eq!((e.status, len), (Status::IPCX_ERR_TOO_BIG, 4));
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    #[repr(C)]
    struct Inf {
        size: u32,
        a: u32,
        b: u64,
    }
    unsafe impl Info for Inf {
        const MIN_SIZE: usize = 8;
        fn failed() -> Inf {
            Inf {
                size: 0,
                a: 0,
                b: u64::MAX,
            }
        }
    }

    #[test]
    fn info_structs_honour_the_callers_size() {
        let inf = |size, a, b| Inf { size, a, b };
        let fill = |i: &mut Inf| unsafe { info_out(i, "info", || Ok(inf(0, 1, 2))) };
        let mut i = inf(16, 0, 0);
        fill(&mut i).unwrap();
        assert_eq!(i, inf(16, 1, 2));
        // An older caller: only the fields it knows are written.
        let mut i = inf(8, 0, 9);
        fill(&mut i).unwrap();
        assert_eq!(i, inf(8, 1, 9));
        // A caller that did not set the size.
        let mut i = inf(0, 5, 9);
        assert_eq!(fill(&mut i).unwrap_err().status, Status::IPCX_ERR_INVALID);
        assert_eq!(i, inf(0, 5, 9));
        // A failure writes the failure values.
        let mut i = inf(16, 5, 9);
        let e = unsafe { info_out(&mut i, "info", || Err::<Inf, _>(Error::invalid("x"))) };
        assert!(e.is_err());
        assert_eq!(i, inf(16, 0, u64::MAX));
    }
}
