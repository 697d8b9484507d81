// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for anonymous pipes and FIFOs. Both give an `ipcx_pipe` handle.

use std::ffi::{c_char, c_int, c_void};

use super::common::{IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, IPCX_OPEN_READ, IPCX_OPEN_WRITE};
use super::common::{iov_arg, ipcx_iov};
use super::stream;
use super::{call, call_on, handle, options, out, set_opt, str_arg};
use crate::error::{Error, Result, ipcx_status};
use crate::flags::{Access, Disposition};
use crate::name;
use crate::pipe::PipeEnd;
use crate::pipe::fifo;
use crate::time::Deadline;

/// One end of a pipe or FIFO: readable, writable, or both (duplex). Opaque.
///
/// Made by `ipcx_pipe_pair` (anonymous pipes) and `ipcx_fifo_open` (FIFOs), released by
/// `ipcx_pipe_close`.
/// Thread safety: used by one thread at a time; a call made while another thread is
/// inside a call on the same handle returns `IPCX_ERR_IN_USE` (the handle keeps read-ahead
/// bytes and the tail of a partly written message). Hand it to another thread freely
/// between calls.
/// Fork: the child inherits the handle and its descriptors. As with raw pipes, each
/// process closes the ends it does not use (`ipcx_pipe_close`), or readers never see end
/// of file. Bytes a reader has already buffered are duplicated by fork, so use a given
/// end in one process only. Descriptors are close-on-exec: an exec'd program does not
/// inherit them.
#[allow(non_camel_case_types)]
pub struct ipcx_pipe(PipeEnd);

stream::impl_stream!(ipcx_pipe);

impl handle::Handle for ipcx_pipe {
    const KIND: u32 = 2;
    const NAME: &'static str = "ipcx_pipe";
}

/// Flag (`ipcx_fifo_open`, readers only): keep a write reference open too, so reads never
/// report end of file while writers come and go (a server reading from many clients).
pub const IPCX_FIFO_KEEP_OPEN: u32 = 0x20000;
/// PIPE_BUF: a write of at most this many bytes to a pipe or FIFO is atomic.
pub const IPCX_PIPE_BUF: usize = 4096;
/// The largest message a FIFO shared by several writers delivers whole (PIPE_BUF minus
/// the 4-byte frame header).
pub const IPCX_FIFO_ATOMIC_MAX: usize = 4092;
const _: () = assert!(
    IPCX_PIPE_BUF == crate::pipe::PIPE_BUF
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
        let a = unsafe { out(a, "out_read") }?;
        let b = unsafe { out(b, "out_write") }?;
        let (x, y) = make()?;
        (*a, *b) = handle::into_raw_pair(ipcx_pipe(x), ipcx_pipe(y))?;
        Ok(())
    })
}

/// Flag (`ipcx_pipe_pair`): make a full-duplex pair of two pipes instead of one pipe.
pub const IPCX_PIPE_DUPLEX: u32 = 0x10000;
const _: () = assert!(IPCX_PIPE_DUPLEX == crate::flags::family(0));

/// Create an anonymous pipe (pipe(2)) and return its two ends, to share across fork.
///
/// Half-duplex (`flags` 0): what is written to `*out_write` is read from `*out_read`, as
/// pipe(2) gives `fds[1]` and `fds[0]`. The usual pattern: create, fork, then the writer
/// closes its read end and the reader closes its write end.
/// Full-duplex (`IPCX_PIPE_DUPLEX`): two pipes, and each end reads and writes: what
/// `*out_read` writes, `*out_write` reads, and the other way round (the names only say
/// which out-parameter is which: call them `a` and `b`). After fork, one process keeps one
/// end and closes the other.
///
/// Arguments: `flags`: 0 or `IPCX_PIPE_DUPLEX`; `opts` may be NULL (honoured:
/// max_message, capacity, sigpipe_guard); `out_read`, `out_write` receive the two ends.
/// Returns: `IPCX_OK` with both handles set.
/// Errors: `IPCX_ERR_INVALID` (NULL out-parameter, unknown flags, an option pipes do not
/// support), `IPCX_ERR_LIMIT` (out of descriptors, capacity above
/// /proc/sys/fs/pipe-max-size, too many handles), `IPCX_ERR_BAD_HANDLE` (closed options).
/// On failure both out-handles are NULL (those that are not NULL pointers themselves).
/// Ownership: the caller closes each end with `ipcx_pipe_close`.
/// Fork: see `ipcx_pipe`.
///
/// # Safety
/// `out_read` and `out_write` must be NULL or valid for writing a pointer; `opts` NULL or
/// a handle from ipcx.
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

/// Make a pipe end handle of descriptors the program already has: the read end of a pipe
/// or FIFO, its write end, or both (a duplex end: what it sends goes out on `write_fd`,
/// what it receives comes in on `read_fd`).
///
/// Arguments: `read_fd`: a pipe or FIFO descriptor open for reading, or -1 (none);
/// `write_fd`: one open for writing, or -1 (none); at least one is given, and a FIFO open
/// for reading and writing is given once; `flags`: 0 (no flags are defined yet); `opts`
/// may be NULL (honoured: max_message, sigpipe_guard; the capacity is set afterwards with
/// `ipcx_pipe_set_capacity`); `out_pipe` receives the handle.
/// The end then behaves as one ipcx made: sends and receives carry framed messages (the
/// other end must be ipcx, or speak its framing: docs/pipes.md), writes and reads raw
/// bytes. As for its own descriptors, the library makes them close-on-exec; it leaves their
/// O_NONBLOCK flag as it finds it and switches it as its calls need.
/// Returns: `IPCX_OK` with the handle in `*out_pipe`.
/// Errors: `IPCX_ERR_INVALID` (both -1; the same descriptor twice; a descriptor that is
/// negative other than -1, not open, not a pipe or FIFO (a regular file, a socket), or
/// not open in its direction; unknown flags; an option adopted pipe ends do not honour;
/// NULL `out_pipe`), `IPCX_ERR_LIMIT` (too many handles), `IPCX_ERR_BAD_HANDLE` (closed
/// options), `IPCX_ERR_SYSTEM`. On failure `*out_pipe` is NULL.
/// Ownership: on success the handle owns the descriptors given: `ipcx_pipe_close` closes
/// them, and the program no longer closes, reads or writes them (`ipcx_pipe_fds` gives
/// them back, borrowed, for polling). On failure the caller keeps them, open
/// (close-on-exec may have been set before a late failure).
/// Fork: see `ipcx_pipe`.
///
/// # Safety
/// `out_pipe` must be NULL or valid for writing a pointer; `opts` NULL or a handle from
/// ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_adopt(
    read_fd: c_int,
    write_fd: c_int,
    flags: u32,
    opts: *const super::common::ipcx_options,
    out_pipe: *mut *mut ipcx_pipe,
) -> ipcx_status {
    unsafe { set_opt(out_pipe, std::ptr::null_mut()) };
    call("ipcx_pipe_adopt", || {
        let o = unsafe { out(out_pipe, "out_pipe") }?;
        crate::flags::check(flags, 0, "0 (no flags are defined yet)")?;
        for (fd, what) in [(read_fd, "read_fd"), (write_fd, "write_fd")] {
            if fd < -1 {
                return Err(crate::error::Error::invalid(format!(
                    "{what} is {fd}: a descriptor, or -1 for none"
                )));
            }
        }
        let end = PipeEnd::adopt(read_fd, write_fd, &unsafe { options(opts) }?)?;
        match handle::try_into_raw(ipcx_pipe(end)) {
            Ok(h) => {
                *o = h;
                Ok(())
            }
            Err((e, ipcx_pipe(end))) => {
                // The caller keeps its descriptors.
                let (r, w) = end.into_fds();
                for fd in [r, w].into_iter().flatten() {
                    let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
                }
                Err(e)
            }
        }
    })
}

/// Close a pipe end and free the handle. NULL is a no-op.
///
/// A message tail left by a send that timed out midway is written if the pipe has room
/// right now; call `ipcx_pipe_flush` first to wait for it. A FIFO stays in the file system
/// (`ipcx_fifo_remove` removes it).
/// Arguments: `p` the pipe end; NULL does nothing.
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if the handle was already closed (nothing is
/// freed twice). A close racing calls on other threads never waits: the descriptors are
/// closed when the last of those calls returns.
/// Errors: `IPCX_ERR_BAD_HANDLE` only (see Returns).
/// Ownership: releases the handle and its descriptors; `p` must not be used again.
/// Fork: closes the calling process's descriptors only.
///
/// # Safety
/// None beyond the C contract: `p` is NULL or a value ipcx returned (anything else is
/// reported, never dereferenced).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_close(p: *mut ipcx_pipe) -> ipcx_status {
    call("ipcx_pipe_close", || handle::close(p))
}

/// Send one message (framed: a 4-byte big-endian length, then the bytes). The receiver
/// gets it whole with `ipcx_pipe_recv`. A zero-length message is valid.
///
/// Arguments: `buf`/`len` the message (`buf` may be NULL when `len` is 0); `timeout_ms`
/// bounds the wait for room in the pipe.
/// Returns: `IPCX_OK` once the message is accepted: written, or, if the timeout expired
/// after its first byte, its tail kept to be written before anything else (see
/// `ipcx_pipe_flush`), so messages are never cut or interleaved by this writer.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing was written; the message was not accepted),
/// `IPCX_ERR_CLOSED` (no reader left; no SIGPIPE is raised), `IPCX_ERR_TOO_BIG` (above
/// max_message, or above `IPCX_FIFO_ATOMIC_MAX` in atomic mode), `IPCX_ERR_INVALID` (NULL
/// handle, not a write end, NULL buffer with a length, length above SSIZE_MAX, bad
/// timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE` (another thread is inside a call on
/// this handle), `IPCX_ERR_INTERRUPTED`.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_pipe`; a writer shared by several processes writes whole messages of at
/// most PIPE_BUF - 4 bytes without interleaving (atomic mode refuses larger ones).
///
/// # Safety
/// `buf` must be NULL or valid for reading `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_send(
    p: *mut ipcx_pipe,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe { stream::send("ipcx_pipe_send", p, buf, len, timeout_ms) }
}

/// Send several messages in order, as one call: as many messages per system call as fit
/// (one write of up to 512 frames under one SIGPIPE guard), so that a writer with several
/// messages queued pays one system call for them instead of three each (the guard's two
/// and the write). Each message arrives whole and separately, exactly as if sent by
/// `ipcx_pipe_send` one after the other; nothing is delayed or held back: the call writes
/// at once and returns when every message is accepted or the timeout expires. In atomic
/// mode (`ipcx_options_set_atomic`) every message is still one write of its own, so that
/// writers sharing a FIFO never interleave.
///
/// Arguments: `msgs`/`count` the messages (`msgs` may be NULL when `count` is 0; an entry's
/// `buf` may be NULL when its `len` is 0); `timeout_ms` bounds the whole call; `out_sent`
/// (may be NULL) receives how many messages were accepted, the first `*out_sent` of the
/// array, also on failure.
/// Returns: `IPCX_OK` when all `count` messages are accepted (`*out_sent` is `count`); as
/// with `ipcx_pipe_send`, a message cut by the timeout midway is accepted, its tail kept
/// and written first by the next send (see `ipcx_pipe_flush`).
/// Errors: those of `ipcx_pipe_send`, for the first message not accepted: `*out_sent`
/// tells which (`IPCX_ERR_TIMEOUT`: messages from `*out_sent` on were not sent, send them
/// again; `IPCX_ERR_CLOSED`: no reader left after `*out_sent` messages were written whole;
/// no SIGPIPE is raised). `IPCX_ERR_TOO_BIG` (a message above max_message, or in atomic
/// mode above `IPCX_FIFO_ATOMIC_MAX`: the sizes are checked first, nothing is sent),
/// `IPCX_ERR_INVALID` also for a NULL `msgs` with a count or an entry with a NULL `buf`
/// and a length (nothing is sent).
/// Ownership: the caller keeps `msgs` and the bytes.
/// Fork: see `ipcx_pipe`; a writer shared by several processes: see `ipcx_pipe_send`
/// (atomic mode).
///
/// # Safety
/// `msgs` must be NULL or valid for reading `count` entries, each entry's `buf` NULL or
/// valid for reading its `len` bytes; `out_sent` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_send_many(
    p: *mut ipcx_pipe,
    msgs: *const ipcx_iov,
    count: usize,
    timeout_ms: i64,
    out_sent: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_sent, 0) };
    call_on("ipcx_pipe_send_many", p, |p| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let msgs = unsafe { iov_arg(msgs, count) }?;
        let (n, r) = p.0.send_many(&msgs, &deadline);
        unsafe { set_opt(out_sent, n) };
        r
    })
}

/// Receive one message sent with `ipcx_pipe_send`.
///
/// Arguments: `buf` receives the message; `len` in: the capacity of `buf`, out: the
/// message length (or, with `IPCX_ERR_TOO_BIG`, the capacity needed); `timeout_ms`.
/// Returns: `IPCX_OK` with one whole message in `buf` and its length in `*len`.
/// Errors: `IPCX_ERR_TIMEOUT` (nothing consumed, or a partly received message kept for
/// the next call), `IPCX_ERR_CLOSED` (end of file: every writer is gone),
/// `IPCX_ERR_TOO_BIG` (`*len` set to the size needed; the message stays queued),
/// `IPCX_ERR_PROTOCOL` (the peer announced a length above max_message: the stream is
/// unusable and nothing was allocated; every later receive returns it too),
/// `IPCX_ERR_INVALID` (NULL handle or `len`, NULL `buf` with a capacity, not a read end,
/// bad timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`. On
/// failure `*len` is unchanged, except with `IPCX_ERR_TOO_BIG`, and what `buf` holds is
/// unspecified: the receive reads part of a message into it before it knows the message
/// is whole; the handle keeps those bytes and the message stays queued whole.
/// Ownership: the caller keeps `buf`; nothing of it is retained after the call.
/// Fork: see `ipcx_pipe`: receive on a given end in one process only.
///
/// # Safety
/// `len` must be NULL or valid; `buf` NULL or valid for writing `*len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_recv(
    p: *mut ipcx_pipe,
    buf: *mut c_void,
    len: *mut usize,
    timeout_ms: i64,
) -> ipcx_status {
    unsafe { stream::recv("ipcx_pipe_recv", p, buf, len, timeout_ms) }
}

/// Write raw bytes (stream mode, no framing) until all `len` bytes are written or the
/// timeout expires.
///
/// Arguments: `buf`/`len` the bytes (`len` > 0); `timeout_ms`; `out_written` (optional,
/// may be NULL) receives how many bytes were written, also on error.
/// Returns: `IPCX_OK` when all `len` bytes were written (`*out_written` is `len`).
/// Errors: `IPCX_ERR_INVALID` (NULL handle, `len` 0 or above SSIZE_MAX, NULL buffer, not
/// a write end, bad timeout), `IPCX_ERR_TIMEOUT` (`*out_written` tells how far it got),
/// `IPCX_ERR_CLOSED` (no reader; no SIGPIPE), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`,
/// `IPCX_ERR_INTERRUPTED`. On failure `*out_written` is the count written before it (0 when
/// nothing was).
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_pipe`.
///
/// # Safety
/// `buf` must be NULL or valid for reading `len` bytes; `out_written` NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_write(
    p: *mut ipcx_pipe,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
    out_written: *mut usize,
) -> ipcx_status {
    unsafe { stream::write("ipcx_pipe_write", p, buf, len, timeout_ms, out_written) }
}

/// Read raw bytes (stream mode): waits until at least one byte is available, then returns
/// what is there, up to `len`.
///
/// Arguments: `buf`/`len` where to put the bytes (`len` > 0); `timeout_ms`; `out_nread`
/// (required) receives the count.
/// Returns: `IPCX_OK` with 1 to `len` bytes in `buf` (`*out_nread`).
/// Errors: `IPCX_ERR_CLOSED` (end of file), `IPCX_ERR_TIMEOUT`, `IPCX_ERR_INVALID` (NULL
/// handle or `out_nread`, `len` 0 or above SSIZE_MAX, NULL buffer, not a read end, bad
/// timeout), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`. On failure
/// `*out_nread` is 0.
/// Ownership: the caller keeps `buf`.
/// Fork: see `ipcx_pipe`: read a given end in one process only.
///
/// # Safety
/// `buf` must be NULL or valid for writing `len` bytes; `out_nread` NULL or valid for
/// writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_read(
    p: *mut ipcx_pipe,
    buf: *mut c_void,
    len: usize,
    timeout_ms: i64,
    out_nread: *mut usize,
) -> ipcx_status {
    unsafe { stream::read("ipcx_pipe_read", p, buf, len, timeout_ms, out_nread) }
}

/// Wait until the tail of a message accepted by a send that timed out midway is written.
/// Returns `IPCX_OK` at once when there is nothing pending or the end is not writable.
///
/// Arguments: `p` the pipe end; `timeout_ms` bounds the wait for room.
/// Errors: `IPCX_ERR_TIMEOUT` (the tail is still pending), `IPCX_ERR_CLOSED` (no reader
/// left; the tail is dropped, so a later flush returns `IPCX_OK`), `IPCX_ERR_INVALID` (NULL handle, bad timeout), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`, `IPCX_ERR_INTERRUPTED`.
/// Ownership: nothing changes hands.
/// Fork: the tail belongs to the process whose send timed out.
///
/// # Safety
/// None beyond the C contract: `p` is NULL or a value ipcx returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_flush(p: *mut ipcx_pipe, timeout_ms: i64) -> ipcx_status {
    stream::flush("ipcx_pipe_flush", p, timeout_ms)
}

/// The kernel buffer size of the pipe in bytes (F_GETPIPE_SZ; the outgoing pipe of a
/// duplex end).
///
/// Arguments: `out_bytes` receives the size.
/// Returns: `IPCX_OK` with the size in `*out_bytes`.
/// Errors: `IPCX_ERR_INVALID` (NULL handle or `out_bytes`), `IPCX_ERR_BAD_HANDLE`,
/// `IPCX_ERR_IN_USE`. On failure `*out_bytes` is 0.
/// Ownership: nothing changes hands.
/// Fork: the kernel pipe is shared: its size is the same in every process.
///
/// # Safety
/// `out_bytes` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_capacity(
    p: *const ipcx_pipe,
    out_bytes: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_bytes, 0) };
    call_on("ipcx_pipe_capacity", p, |p| {
        *unsafe { out(out_bytes, "out_bytes") }? = p.0.capacity()?;
        Ok(())
    })
}

/// Set the kernel buffer size of the pipe (F_SETPIPE_SZ; both pipes of a duplex end).
/// The kernel rounds up to a power-of-two number of pages.
///
/// Arguments: `bytes` the size asked for (1 to INT_MAX); `out_actual` (optional, may be
/// NULL) receives the size the kernel chose.
/// Returns: `IPCX_OK` with the size chosen in `*out_actual`.
/// Errors: `IPCX_ERR_LIMIT` (above /proc/sys/fs/pipe-max-size or the per-user pipe limit
/// without CAP_SYS_RESOURCE; the message gives the limit), `IPCX_ERR_IN_USE` (smaller than
/// the data in the pipe; or another thread is inside a call on this handle),
/// `IPCX_ERR_INVALID` (NULL handle, `bytes` 0 or above INT_MAX), `IPCX_ERR_BAD_HANDLE`. On
/// failure `*out_actual` is 0.
/// Ownership: nothing changes hands.
/// Fork: the kernel pipe is shared: the new size applies in every process.
///
/// # Safety
/// `out_actual` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_set_capacity(
    p: *mut ipcx_pipe,
    bytes: usize,
    out_actual: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_actual, 0) };
    call_on("ipcx_pipe_set_capacity", p, |p| {
        let n = p.0.set_capacity(bytes)?;
        unsafe { set_opt(out_actual, n) };
        Ok(())
    })
}

/// The descriptors of a pipe end, for poll/epoll: `*out_read_fd` is readable when a
/// receive or read would not block, `*out_write_fd` writable when a send would make
/// progress; -1 where the end has no such direction.
///
/// Arguments: `out_read_fd`, `out_write_fd`: either may be NULL (not wanted).
/// The descriptors stay owned by the handle: do not close them, and do not read or write
/// them directly (bytes taken behind the handle's back break its framing). ipcx switches
/// their O_NONBLOCK flag as its calls need. A receive may take several messages from the
/// kernel at once (it reads ahead, as far as its buffer allows) and serve the later ones
/// without the descriptor becoming readable again: after a wake-up, receive with
/// `IPCX_NOWAIT` until `IPCX_ERR_TIMEOUT`. A receive may also return `IPCX_ERR_TIMEOUT`
/// after a wake-up when only part of a message has arrived.
/// Returns: `IPCX_OK` with the descriptors.
/// Errors: `IPCX_ERR_INVALID` (NULL handle), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_IN_USE`
/// (another thread is inside a call on this handle, for example a receive). On failure
/// both are -1.
/// Ownership: the descriptors stay the handle's: they are lent, valid until the handle is
/// closed; to keep one beyond that, dup(2) it.
/// Fork: a child's copy of the handle has the same descriptor numbers.
///
/// # Safety
/// `out_read_fd`/`out_write_fd` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_pipe_fds(
    p: *const ipcx_pipe,
    out_read_fd: *mut c_int,
    out_write_fd: *mut c_int,
) -> ipcx_status {
    unsafe {
        set_opt(out_read_fd, -1);
        set_opt(out_write_fd, -1);
    }
    call_on("ipcx_pipe_fds", p, |p| {
        let (r, w) = p.0.fds();
        unsafe {
            set_opt(out_read_fd, r);
            set_opt(out_write_fd, w);
        }
        Ok(())
    })
}

/// Create a FIFO (named pipe) at `path`: mkfifo(3), without opening it.
///
/// Arguments: `path` the FIFO's path (shorter than PATH_MAX, UTF-8); `opts` may be NULL
/// (honoured: mode, default 0600, applied exactly: the umask does not remove bits).
/// Returns: `IPCX_OK` once the FIFO exists with the mode asked.
/// Errors: `IPCX_ERR_EXISTS` (something exists at `path`; the message says whether it is a
/// FIFO; nothing is removed or changed), `IPCX_ERR_NOT_FOUND` (missing directory),
/// `IPCX_ERR_PERMISSION`, `IPCX_ERR_INVALID` (NULL, empty, too long or non-UTF-8 path; an
/// option other than mode), `IPCX_ERR_BAD_HANDLE` (closed options).
/// Ownership: the FIFO stays in the file system until `ipcx_fifo_remove`.
/// Fork: any process may open the FIFO by its path.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx.
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
/// Arguments:
/// - `path`: the FIFO's path;
/// - `flags`: exactly one of `IPCX_OPEN_READ` / `IPCX_OPEN_WRITE`; optionally
///   `IPCX_OPEN_CREATE` (make the FIFO if nothing is at `path`; an existing FIFO is used),
///   `IPCX_OPEN_EXCLUSIVE` (with CREATE: fail with `IPCX_ERR_EXISTS` if anything is at
///   `path`) and, for readers, `IPCX_FIFO_KEEP_OPEN`;
/// - `opts` may be NULL (honoured: mode for CREATE, max_message, capacity, atomic,
///   sigpipe_guard);
/// - `timeout_ms` bounds the wait of a writer for a reader;
/// - `out_end` receives the pipe end.
///
/// Semantics: opening for reading returns at once; a reader sees end of file only after
/// a writer connected and all writers left. Opening for writing waits until some process
/// has the FIFO open for reading (checked every 1-10 ms) or the timeout expires.
/// Returns: `IPCX_OK` with the pipe end in `*out_end`.
/// Errors: `IPCX_ERR_TIMEOUT` (no reader in time), `IPCX_ERR_NOT_FOUND` (no FIFO at
/// `path` and no CREATE; missing directory), `IPCX_ERR_EXISTS` (a file of another kind is
/// at `path`, which is left untouched; or anything with CREATE | EXCLUSIVE),
/// `IPCX_ERR_INVALID` (NULL or bad path, NULL `out_end`, unknown flags, not exactly one of
/// READ/WRITE, KEEP_OPEN for a writer, EXCLUSIVE without CREATE, an unsupported option,
/// bad timeout), `IPCX_ERR_PERMISSION`, `IPCX_ERR_LIMIT` (descriptors, capacity),
/// `IPCX_ERR_BAD_HANDLE` (closed options), `IPCX_ERR_INTERRUPTED`. On failure `*out_end`
/// is NULL; a FIFO this call created stays (remove it with `ipcx_fifo_remove`).
/// Ownership: close with `ipcx_pipe_close`; the FIFO itself stays until
/// `ipcx_fifo_remove`.
/// Fork: see `ipcx_pipe`; an unrelated process opens the same path.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `opts` NULL or a handle from ipcx;
/// `out_end` NULL or valid for writing a pointer.
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
        let o = unsafe { out(out_end, "out_end") }?;
        let deadline = Deadline::from_ms(timeout_ms)?;
        let path = unsafe { str_arg(path, "path", name::PATH_MAX) }?;
        let opts = unsafe { options(opts) }?;
        fifo::check_options(&opts)?;
        let (side, how) = fifo_flags(flags)?;
        let end = fifo::open(path, side, how, &opts, &deadline)?;
        *o = handle::into_raw(ipcx_pipe(end))?;
        Ok(())
    })
}

/// The end and disposition `ipcx_fifo_open`'s flags select, checked in this order:
/// unknown bits, the role, KEEP_OPEN for a writer, EXCLUSIVE without CREATE.
fn fifo_flags(flags: u32) -> Result<(fifo::Side, Disposition)> {
    crate::flags::check(
        flags,
        IPCX_OPEN_READ
            | IPCX_OPEN_WRITE
            | IPCX_OPEN_CREATE
            | IPCX_OPEN_EXCLUSIVE
            | IPCX_FIFO_KEEP_OPEN,
        "IPCX_OPEN_READ or IPCX_OPEN_WRITE, IPCX_OPEN_CREATE, IPCX_OPEN_EXCLUSIVE, \
         IPCX_FIFO_KEEP_OPEN",
    )?;
    let keep = flags & IPCX_FIFO_KEEP_OPEN != 0;
    let side = match Access::from_c(flags) {
        Some(Access::Read) if keep => fifo::Side::KeepOpenReader,
        Some(Access::Read) => fifo::Side::Reader,
        Some(Access::Write) if keep => {
            return Err(Error::invalid(
                "IPCX_FIFO_KEEP_OPEN applies to readers only",
            ));
        }
        Some(Access::Write) => fifo::Side::Writer,
        _ => {
            return Err(Error::invalid(
                "FIFO open flags must contain exactly one of IPCX_OPEN_READ and IPCX_OPEN_WRITE",
            ));
        }
    };
    let how = Disposition::from_c_or(
        flags,
        "IPCX_OPEN_EXCLUSIVE needs IPCX_OPEN_CREATE (it makes the creation exclusive)",
    )?;
    Ok((side, how))
}

/// Remove the FIFO at `path`. Only a FIFO is ever removed: any other kind of file gets
/// `IPCX_ERR_EXISTS` and stays. Open ends keep working until closed.
///
/// Arguments: `path` the FIFO's path.
/// Returns: `IPCX_OK` once the FIFO is removed.
/// Errors: `IPCX_ERR_NOT_FOUND` (nothing at `path`), `IPCX_ERR_EXISTS` (not a FIFO),
/// `IPCX_ERR_INVALID` (NULL, empty, too long or non-UTF-8 path), `IPCX_ERR_PERMISSION`.
/// Ownership: only the name goes; handles keep their descriptors.
/// Fork: affects every process (the name is shared).
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_fifo_remove(path: *const c_char) -> ipcx_status {
    call("ipcx_fifo_remove", || {
        fifo::unlink(unsafe { str_arg(path, "path", name::PATH_MAX) }?)
    })
}
