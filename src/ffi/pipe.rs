//! C functions for anonymous pipes and FIFOs. Both give an `ipcx_pipe` handle.

use std::ffi::{c_char, c_int, c_void};

use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::{bytes, bytes_mut, call, call_on, handle, options, out, recv_into, set_opt, str_arg};
use crate::error::ipcx_status;
use crate::fifo;
use crate::name;
use crate::pipe::PipeEnd;
use crate::time::Deadline;

/// One end of a pipe or FIFO: readable, writable, or both (duplex). Opaque.
///
/// Thread safety: a handle may be used by one thread at a time.
/// Fork: the child inherits the handle and its descriptors. As with raw pipes, each
/// process closes the ends it does not use (`ipcx_pipe_close`), or readers never see end
/// of file. Bytes a reader has already buffered are duplicated by fork, so use a given
/// end in one process only. Descriptors are close-on-exec: an exec'd program does not
/// inherit them.
#[allow(non_camel_case_types)]
pub struct ipcx_pipe(PipeEnd);

impl handle::Handle for ipcx_pipe {
    const KIND: u32 = 2;
    const NAME: &'static str = "ipcx_pipe";
}

/// `ipcx_fifo_open` flag, readers only: keep a write reference open too, so reads never
/// report end of file while writers come and go (a server reading from many clients).
pub const IPCX_FIFO_KEEP_OPEN: u32 = 0x20000;
/// PIPE_BUF: a write of at most this many bytes to a pipe or FIFO is atomic.
pub const IPCX_PIPE_BUF: usize = 4096;
/// The largest message a FIFO shared by several writers delivers whole (PIPE_BUF minus
/// the 4-byte frame header).
pub const IPCX_FIFO_ATOMIC_MAX: usize = 4092;
const _: () = assert!(
    IPCX_OPEN_READ == fifo::READ
        && IPCX_OPEN_WRITE == fifo::WRITE
        && IPCX_OPEN_CREATE == fifo::CREATE
        && IPCX_FIFO_KEEP_OPEN == fifo::KEEP_OPEN
        && IPCX_PIPE_BUF == crate::pipe::PIPE_BUF
        && IPCX_FIFO_ATOMIC_MAX == crate::pipe::PIPE_BUF - crate::frame::HEADER
);

unsafe fn pair_out(
    func: &'static str,
    a: *mut *mut ipcx_pipe,
    b: *mut *mut ipcx_pipe,
    make: impl FnOnce() -> crate::error::Result<(PipeEnd, PipeEnd)>,
) -> ipcx_status {
    // On failure every out-handle is NULL.
    unsafe {
        set_opt(a, std::ptr::null_mut());
        set_opt(b, std::ptr::null_mut());
    }
    call(func, || {
        let a = unsafe { out(a, "first out-handle") }?;
        let b = unsafe { out(b, "second out-handle") }?;
        let (x, y) = make()?;
        (*a, *b) = handle::into_raw_pair(ipcx_pipe(x), ipcx_pipe(y))?;
        Ok(())
    })
}

/// Flag (`ipcx_pipe_pair`): make a full-duplex pair of two pipes instead of one pipe.
pub const IPCX_PIPE_DUPLEX: u32 = 0x10000;

/// Create an anonymous pipe and return its two ends.
///
/// Half-duplex (`flags` 0): bytes written to `*out_a` (the write end, `out_write`) are
/// read from `*out_b`... see below; the ends are `out_read` and `out_write`: what is
/// written to `*out_write` is read from `*out_read`, as pipe(2) gives `fds[0]` and
/// `fds[1]`. The seed's pattern: create, fork, then the writer closes its read end and the
/// reader closes its write end.
/// Full-duplex (`IPCX_PIPE_DUPLEX`): two pipes; what `*out_read` writes, `*out_write`
/// reads, and the other way round (call them `a` and `b`). After fork, one process keeps
/// one end and closes the other.
///
/// Arguments: `flags`: 0 or `IPCX_PIPE_DUPLEX`; `opts` may be NULL (honoured:
/// max_message, capacity, sigpipe_guard).
/// Returns: `IPCX_OK` with both handles set.
/// Errors: `IPCX_ERR_INVALID` (NULL out-handle, unknown flags, unsupported option),
/// `IPCX_ERR_LIMIT` (out of descriptors, capacity above /proc/sys/fs/pipe-max-size, too
/// many handles), `IPCX_ERR_BAD_HANDLE` (closed options). On failure both out-handles are
/// NULL.
/// Ownership: the caller closes each end with `ipcx_pipe_close`.
///
/// # Safety
/// Out-pointers must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_pair(
    flags: u32,
    opts: *const super::common::ipcx_options,
    out_read: *mut *mut ipcx_pipe,
    out_write: *mut *mut ipcx_pipe,
) -> ipcx_status {
    unsafe {
        pair_out("ipcx_pipe_pair", out_read, out_write, || {
            crate::flags::check(flags, IPCX_PIPE_DUPLEX, "0 or IPCX_PIPE_DUPLEX")?;
            if flags & IPCX_PIPE_DUPLEX != 0 {
                PipeEnd::duplex(&options(opts)?)
            } else {
                PipeEnd::pipe(&options(opts)?)
            }
        })
    }
}

/// Close a pipe end and free the handle. NULL is a no-op.
///
/// A message tail left by a send that timed out midway is written if the pipe has room
/// right now; call `ipcx_pipe_flush` first to wait for it.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed (nothing is freed twice).
///
/// # Safety
/// `p` must be NULL or a handle from ipcx; no other thread may be using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_close(p: *mut ipcx_pipe) -> ipcx_status {
    call("ipcx_pipe_close", || handle::close(p))
}

/// Send one message (framed: a 4-byte length, then the bytes). The receiver gets it whole
/// with `ipcx_pipe_recv`. A zero-length message is valid.
///
/// Arguments: `buf`/`len` the message (`buf` may be NULL when `len` is 0); `timeout_ms`.
/// Returns: `IPCX_OK` once the message is accepted: written, or, if the timeout expired
/// after its first byte, its tail kept to be written before anything else (see
/// `ipcx_pipe_flush`), so messages are never cut or interleaved by this writer.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing was written; the message was not accepted),
/// `IPCX_ERR_CLOSED` (no reader left; no SIGPIPE is raised), `IPCX_ERR_TOO_BIG` (above
/// max_message, or above `IPCX_FIFO_ATOMIC_MAX` in atomic mode), `IPCX_ERR_INVALID` (not
/// a write end, NULL buffer), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_INTERRUPTED`.
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_send(
    p: *mut ipcx_pipe,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_pipe_send", p, |p| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        p.0.send(unsafe { bytes(buf, len, "buf") }?, &deadline)
    })
}

/// Receive one message sent with `ipcx_pipe_send`.
///
/// Arguments: `buf` receives the message; `len` in: the capacity of `buf`, out: the
/// message length (or, with `IPCX_ERR_TOO_BIG`, the capacity needed); `timeout_ms`.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing consumed, or a partly received message kept for
/// the next call), `IPCX_ERR_CLOSED` (end of file: every writer is gone),
/// `IPCX_ERR_TOO_BIG` (`*len` set to the size needed; the message stays queued),
/// `IPCX_ERR_PROTOCOL` (the peer announced a length above max_message: the stream is
/// unusable and nothing was allocated), `IPCX_ERR_INVALID`, `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_INTERRUPTED`.
///
/// # Safety
/// `len` must be valid; `buf` valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_recv(
    p: *mut ipcx_pipe,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    call_on("ipcx_pipe_recv", p, |p| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        unsafe { recv_into(buf, len, |dst| p.0.recv(dst, &deadline)) }
    })
}

/// Write raw bytes (stream mode, no framing) until all `len` bytes are written or the
/// timeout expires.
///
/// Arguments: `written` (may be NULL) receives how many bytes were written, also on error.
/// Errors: `IPCX_ERR_INVALID` (`len` 0, NULL buffer, not a write end), `IPCX_ERR_TIMEOUT`
/// (`*written` tells how far it got), `IPCX_ERR_CLOSED` (no reader; no SIGPIPE),
/// `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_INTERRUPTED`.
///
/// # Safety
/// `buf` must be valid for reading `len` bytes; `written` NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_write(
    p: *mut ipcx_pipe,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
    written: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(written, 0) };
    call_on("ipcx_pipe_write", p, |p| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let (n, r) = p.0.write(unsafe { bytes(buf, len, "buf") }?, &deadline);
        unsafe { set_opt(written, n) };
        r
    })
}

/// Read raw bytes (stream mode): waits until at least one byte is available, then returns
/// what is there, up to `len`.
///
/// Arguments: `nread` receives the count (required).
/// Errors: `IPCX_ERR_CLOSED` (end of file), `IPCX_ERR_TIMEOUT`, `IPCX_ERR_INVALID` (`len`
/// 0, NULL buffer, not a read end), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_INTERRUPTED`.
///
/// # Safety
/// `buf` must be valid for writing `len` bytes; `nread` valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_read(
    p: *mut ipcx_pipe,
    buf: *mut c_void,
    len: usize,
    timeout_ms: i64,
    nread: *mut usize,
) -> ipcx_status {
    call_on("ipcx_pipe_read", p, |p| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let nread = unsafe { out(nread, "nread") }?;
        *nread = 0;
        *nread =
            p.0.read(unsafe { bytes_mut(buf, len, "buf") }?, &deadline)?;
        Ok(())
    })
}

/// Wait until the tail of a message accepted by a send that timed out midway is written.
/// Returns `IPCX_OK` at once when there is nothing pending or the end is not writable.
///
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_CLOSED`, `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `p` must be NULL or a handle from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_flush(p: *mut ipcx_pipe, timeout_ms: i64) -> ipcx_status {
    call_on("ipcx_pipe_flush", p, |p| {
        p.0.flush(&Deadline::from_ms(timeout_ms)?)
    })
}

/// The kernel buffer size of the pipe in bytes (F_GETPIPE_SZ; the outgoing pipe of a
/// duplex end).
///
/// Errors: `IPCX_ERR_INVALID` (NULL `bytes`), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `bytes` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_capacity(p: *const ipcx_pipe, bytes: *mut usize) -> ipcx_status {
    call_on("ipcx_pipe_capacity", p, |p| {
        *unsafe { out(bytes, "bytes") }? = p.0.capacity()?;
        Ok(())
    })
}

/// Set the kernel buffer size of the pipe (F_SETPIPE_SZ; both pipes of a duplex end).
/// The kernel rounds up to a power-of-two number of pages.
///
/// Arguments: `actual` (may be NULL) receives the size chosen.
/// Errors: `IPCX_ERR_LIMIT` (above /proc/sys/fs/pipe-max-size or the per-user pipe limit
/// without CAP_SYS_RESOURCE; the message gives the limit), `IPCX_ERR_IN_USE` (smaller than
/// the data in the pipe), `IPCX_ERR_INVALID` (0 or above INT_MAX), `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `actual` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_set_capacity(
    p: *mut ipcx_pipe,
    bytes: usize,
    actual: *mut usize,
) -> ipcx_status {
    call_on("ipcx_pipe_set_capacity", p, |p| {
        let n = p.0.set_capacity(bytes)?;
        unsafe { set_opt(actual, n) };
        Ok(())
    })
}

/// The descriptors of a pipe end, for poll/epoll: `read_fd` is readable when a receive or
/// read would not block, `write_fd` writable when a send would make progress. -1 where
/// the end has no such direction. Either pointer may be NULL.
///
/// The descriptors stay owned by the handle: do not close them, and do not read or write
/// them directly (bytes taken behind the handle's back break its framing). ipcx switches
/// their O_NONBLOCK flag as its calls need. A receive may still return
/// `IPCX_ERR_TIMEOUT` after a wake-up when only part of a message has arrived.
///
/// Errors: `IPCX_ERR_BAD_HANDLE`.
///
/// # Safety
/// `read_fd`/`write_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_fds(
    p: *const ipcx_pipe,
    read_fd: *mut c_int,
    write_fd: *mut c_int,
) -> ipcx_status {
    unsafe {
        set_opt(read_fd, -1);
        set_opt(write_fd, -1);
    }
    call_on("ipcx_pipe_fds", p, |p| {
        let (r, w) = p.0.fds();
        unsafe {
            set_opt(read_fd, r);
            set_opt(write_fd, w);
        }
        Ok(())
    })
}

/// Create a FIFO (named pipe) at `path`.
///
/// Arguments: `opts` may be NULL; honoured: mode (default 0600, applied exactly).
/// Errors: `IPCX_ERR_EXISTS` (something exists at `path`; the message says whether it is a
/// FIFO; nothing is removed or changed), `IPCX_ERR_NOT_FOUND` (missing directory),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_INVALID` (NULL, empty, too long or non-UTF-8 path).
/// Ownership: the FIFO stays in the filesystem until `ipcx_fifo_remove`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_fifo_make(
    path: *const c_char,
    opts: *const super::common::ipcx_options,
) -> ipcx_status {
    call("ipcx_fifo_make", || {
        let path = unsafe { str_arg(path, "path", name::PATH_MAX) }?;
        fifo::create(path, &unsafe { options(opts) }?)
    })
}

/// Open a FIFO for reading or writing; the result is a pipe end used with the
/// `ipcx_pipe_*` calls.
///
/// Arguments: `flags`: exactly one of `IPCX_OPEN_READ` / `IPCX_OPEN_WRITE`, optionally
/// `IPCX_OPEN_CREATE` and (readers) `IPCX_FIFO_KEEP_OPEN`; `opts` may be NULL (honoured:
/// mode, max_message, capacity, atomic, sigpipe_guard); `timeout_ms` bounds the wait of a
/// writer for a reader.
/// Semantics: opening for reading returns at once; a reader sees end of file only after
/// a writer connected and all writers left. Opening for writing waits until some process
/// has the FIFO open for reading (checked every 1-10 ms) or the timeout expires.
/// Errors: `IPCX_ERR_TIMEOUT` (no reader in time), `IPCX_ERR_NOT_FOUND`,
/// `IPCX_ERR_INVALID` (bad flags; path exists but is not a FIFO), `IPCX_ERR_PERMISSION`,
/// `IPCX_ERR_LIMIT`. On failure `*out` is NULL.
/// Ownership: close with `ipcx_pipe_close`; the FIFO itself stays until
/// `ipcx_fifo_remove`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `out` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_fifo_open(
    path: *const c_char,
    flags: u32,
    opts: *const super::common::ipcx_options,
    timeout_ms: i64,
    out_end: *mut *mut ipcx_pipe,
) -> ipcx_status {
    unsafe { set_opt(out_end, std::ptr::null_mut()) };
    call("ipcx_fifo_open", || {
        let o = unsafe { out(out_end, "out") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        let path = unsafe { str_arg(path, "path", name::PATH_MAX) }?;
        let end = fifo::open(path, flags, &unsafe { options(opts) }?, &deadline)?;
        *o = handle::into_raw(ipcx_pipe(end))?;
        Ok(())
    })
}

/// Remove the FIFO at `path`. Only a FIFO is ever removed: any other kind of file gets
/// `IPCX_ERR_INVALID` and stays. Open ends keep working until closed.
///
/// Errors: `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_INVALID`, `IPCX_ERR_PERMISSION`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_fifo_remove(path: *const c_char) -> ipcx_status {
    call("ipcx_fifo_remove", || {
        fifo::unlink(unsafe { str_arg(path, "path", name::PATH_MAX) }?)
    })
}
