// SPDX-License-Identifier: MIT OR Apache-2.0
//! The C functions every byte-stream handle shares (pipes and sockets): send and receive
//! framed messages, write and read raw bytes, flush a kept tail. Each handle type
//! implements [`Stream`] once; its C functions are one call to a shim here, so the
//! conversions (buffers, lengths, timeouts, out-parameters) are written once.

use std::ffi::c_void;

use super::{bytes, bytes_mut, call_on, handle, out, recv_into, set_opt};
use crate::error::{Result, ipcx_status};
use crate::time::Deadline;

/// A handle over a byte stream: what the shims call.
pub(crate) trait Stream: handle::Handle {
    /// Send one framed message.
    fn send(&mut self, msg: &[u8], deadline: &Deadline) -> Result<()>;
    /// Receive one framed message (or record) into `out`; its length.
    fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize>;
    /// Write raw bytes; how many were written, also on failure.
    fn write(&mut self, data: &[u8], deadline: &Deadline) -> (usize, Result<()>);
    /// Read raw bytes: at least one, at most `out.len()`.
    fn read(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize>;
    /// Write out the kept tail of a message.
    fn flush(&mut self, deadline: &Deadline) -> Result<()>;
}

/// `ipcx_<x>_send`.
///
/// # Safety
/// `buf` NULL or valid for reading `len` bytes; `h` NULL or a value ipcx returned.
#[inline(always)]
pub(crate) unsafe fn send<H: Stream>(
    func: &'static str,
    h: *mut H,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on(func, h, |h| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        h.send(unsafe { bytes(buf, len, "buf") }?, &deadline)
    })
}

/// `ipcx_<x>_recv`.
///
/// # Safety
/// `len` NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[inline(always)]
pub(crate) unsafe fn recv<H: Stream>(
    func: &'static str,
    h: *mut H,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on(func, h, |h| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        unsafe { recv_into(buf, len, |dst| h.recv(dst, &deadline)) }
    })
}

/// `ipcx_<x>_write`: `*out_written` (optional) is the count written, also on failure.
///
/// # Safety
/// `buf` NULL or valid for reading `len` bytes; `out_written` NULL or valid for writing.
#[inline(always)]
pub(crate) unsafe fn write<H: Stream>(
    func: &'static str,
    h: *mut H,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
    out_written: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_written, 0) };
    call_on(func, h, |h| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let (n, r) = h.write(unsafe { bytes(buf, len, "buf") }?, &deadline);
        unsafe { set_opt(out_written, n) };
        r
    })
}

/// `ipcx_<x>_read`: `*out_nread` (required) is the count, 0 on failure.
///
/// # Safety
/// `buf` NULL or valid for writing `len` bytes; `out_nread` NULL or valid for writing.
#[inline(always)]
pub(crate) unsafe fn read<H: Stream>(
    func: &'static str,
    h: *mut H,
    buf: *mut c_void,
    len: usize,
    timeout_ms: i64,
    out_nread: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_nread, 0) };
    call_on(func, h, |h| {
        let nread = unsafe { out(out_nread, "out_nread") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        *nread = h.read(unsafe { bytes_mut(buf, len, "buf") }?, &deadline)?;
        Ok(())
    })
}

/// `ipcx_<x>_flush`.
#[inline(always)]
pub(crate) fn flush<H: Stream>(func: &'static str, h: *mut H, timeout_ms: i64) -> ipcx_status {
    call_on(func, h, |h| h.flush(&Deadline::from_ms(timeout_ms)?))
}

/// Implement [`Stream`] for a handle type `$h` whose field `.0` has the five methods.
macro_rules! impl_stream {
    ($h:ty) => {
        impl $crate::ffi::stream::Stream for $h {
            fn send(
                &mut self,
                msg: &[u8],
                d: &$crate::time::Deadline,
            ) -> $crate::error::Result<()> {
                self.0.send(msg, d)
            }
            fn recv(
                &mut self,
                out: &mut [u8],
                d: &$crate::time::Deadline,
            ) -> $crate::error::Result<usize> {
                self.0.recv(out, d)
            }
            fn write(
                &mut self,
                data: &[u8],
                d: &$crate::time::Deadline,
            ) -> (usize, $crate::error::Result<()>) {
                self.0.write(data, d)
            }
            fn read(
                &mut self,
                out: &mut [u8],
                d: &$crate::time::Deadline,
            ) -> $crate::error::Result<usize> {
                self.0.read(out, d)
            }
            fn flush(&mut self, d: &$crate::time::Deadline) -> $crate::error::Result<()> {
                self.0.flush(d)
            }
        }
    };
}
pub(crate) use impl_stream;
