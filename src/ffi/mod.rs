//! The C boundary. Each exported function only converts: it checks its arguments, calls
//! the safe core, and maps the result (see [`call`]). Nothing here decides semantics.
//!
//! One file per mechanism family; argument helpers and the panic boundary live here, the
//! handle registry in [`handle`].

pub mod chan;
pub mod common;
pub(crate) mod handle;
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

use std::ffi::{c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, Result, Status, set_last_error};
use crate::options::Options;

/// Run the body of an exported function: catch panics (`IPCX_ERR_INTERNAL`), turn errors
/// into their status and record the thread's last error, prefixed with the C function name.
pub(crate) fn call(func: &'static str, body: impl FnOnce() -> Result<()>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish(func, r, 0),
    }
}

/// Like [`call`] for a function working on one handle: the handle is looked up first
/// (NULL, closed, foreign or poisoned handles are reported), then `body` runs on it; if
/// `body` panics, the handle is poisoned.
pub(crate) fn call_on<T: handle::Handle>(
    func: &'static str,
    h: *const T,
    body: impl FnOnce(&mut T) -> Result<()>,
) -> Status {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the C contract: `h` is NULL or a pointer ipcx returned; `get` validates it.
        let obj = unsafe { handle::get(h) }?;
        body(obj)
    }));
    // The success path stays inline; failures go to the out-of-line `finish`.
    match r {
        Ok(Ok(())) => Status::IPCX_OK,
        r => finish(func, r, h as usize),
    }
}

/// Like [`call_on`] for handles that may be used by several threads at once (their core
/// type only needs `&self`, with its own synchronisation): the body gets a shared
/// reference, so concurrent calls never alias a `&mut`.
#[inline(always)]
pub(crate) fn call_ref<T: handle::Handle>(
    func: &'static str,
    h: *const T,
    body: impl FnOnce(&T) -> Result<()>,
) -> Status {
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the C contract: `h` is NULL or a pointer ipcx returned; `get_ref` validates it.
        let obj = unsafe { handle::get_ref(h) }?;
        body(obj)
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

/// The options behind an optional `ipcx_options` pointer (NULL = defaults).
///
/// # Safety
/// As for [`handle::get`].
pub(crate) unsafe fn options<'a>(p: *const common::ipcx_options) -> Result<&'a Options> {
    static DEFAULT: Options = Options {
        mode: None,
        max_message: None,
        capacity: None,
        atomic: None,
        sigpipe_guard: None,
        max_messages: None,
        keepalive: None,
        spin_ns: None,
    };
    if p.is_null() {
        return Ok(&DEFAULT);
    }
    // SAFETY: per the contract.
    Ok(&unsafe { handle::get(p) }?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy(u32);
    impl handle::Handle for Dummy {
        const KIND: u32 = 0xD0;
        const NAME: &'static str = "dummy";
    }
    struct Other;
    impl handle::Handle for Other {
        const KIND: u32 = 0xD1;
        const NAME: &'static str = "other";
    }

    #[test]
    fn panic_poisons_the_handle_and_close_still_works() {
        let h = handle::into_raw(Dummy(7));
        assert_eq!(
            call_on("t", h, |d| if d.0 == 7 {
                Ok(())
            } else {
                Err(Error::invalid("x"))
            }),
            Status::IPCX_OK
        );
        let s = call_on("t", h, |_d: &mut Dummy| -> Result<()> { panic!("boom") });
        assert_eq!(s, Status::IPCX_ERR_INTERNAL);
        assert_eq!(call_on("t", h, |_| Ok(())), Status::IPCX_ERR_INTERNAL);
        assert!(unsafe { handle::close(h) }.is_ok());
        assert_eq!(call_on("t", h, |_| Ok(())), Status::IPCX_ERR_BAD_HANDLE);
    }

    #[test]
    fn many_handles_beyond_the_fast_table() {
        // More handles than the lock-free table holds near one hash: the map answers.
        let hs: Vec<*mut Dummy> = (0..20_000).map(|i| handle::into_raw(Dummy(i))).collect();
        for (i, &h) in hs.iter().enumerate() {
            assert_eq!(unsafe { handle::get(h) }.unwrap().0, i as u32);
            assert_eq!(
                unsafe { handle::get(h as *const Other) }
                    .err()
                    .unwrap()
                    .status,
                Status::IPCX_ERR_BAD_HANDLE
            );
        }
        for &h in &hs {
            unsafe { handle::close(h) }.unwrap();
            assert!(unsafe { handle::close(h) }.is_err());
        }
    }
}
