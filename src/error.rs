// SPDX-License-Identifier: MIT OR Apache-2.0
//! The one error model of ipcx.
//!
//! Every failure inside the crate is an [`Error`]: a status code from the single C enum
//! [`ipcx_status`], the OS `errno` when one was involved, and a message for a person (which
//! operation, on which name, what the kernel said, which limit was hit). The C boundary
//! returns the code and stores the rest in a thread-local "last error" (see
//! [`set_last_error`]), so `ipcx_strerror(code)` is always static and
//! `ipcx_last_error()` carries the detail.
//!
//! The errno → status mapping lives here and nowhere else ([`status_for_errno`]).

use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::fmt;

use nix::errno::Errno;

/// Status code returned by every fallible ipcx function. `IPCX_OK` (0) is success.
///
/// Codes are stable: new codes are only ever appended. `ipcx_strerror()` describes each one;
/// `ipcx_last_error()` gives the detail of the last failure on the calling thread and
/// `ipcx_last_errno()` the operating-system errno behind it (0 when there was none).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ipcx_status {
    /// Success.
    IPCX_OK = 0,
    /// An argument is invalid: NULL pointer, zero or oversized length, malformed name,
    /// out-of-range value, option not supported by this mechanism.
    IPCX_ERR_INVALID = 1,
    /// The operation would block (timeout 0) or the timeout expired.
    IPCX_ERR_TIMEOUT = 2,
    /// The peer closed its end or died: end of file, broken pipe, connection reset.
    IPCX_ERR_CLOSED = 3,
    /// A signal interrupted a blocking call on a thread that asked for that
    /// (see `ipcx_thread_set_interruptible`).
    IPCX_ERR_INTERRUPTED = 4,
    /// The named object (path, name, key, id) does not exist.
    IPCX_ERR_NOT_FOUND = 5,
    /// The object already exists (exclusive create), or a path is taken by something else.
    IPCX_ERR_EXISTS = 6,
    /// Permission denied by the object's mode or by the kernel.
    IPCX_ERR_PERMISSION = 7,
    /// A system or configured limit was reached; the message names the limit and its value.
    IPCX_ERR_LIMIT = 8,
    /// The object was removed while in use (for example a System V object, EIDRM).
    IPCX_ERR_REMOVED = 9,
    /// The message is larger than the buffer or the configured maximum; the size needed
    /// is returned where the function has a length out-parameter, and in the message.
    IPCX_ERR_TOO_BIG = 10,
    /// The operation or option is not supported by this mechanism or kernel.
    IPCX_ERR_UNSUPPORTED = 11,
    /// Another operating-system error; `ipcx_last_errno()` has the errno.
    IPCX_ERR_SYSTEM = 12,
    /// The handle was closed already, or is not a handle of the type the function takes.
    IPCX_ERR_BAD_HANDLE = 13,
    /// The peer sent malformed data (a frame length beyond the maximum, a corrupted shared
    /// region). The stream or region is no longer usable.
    IPCX_ERR_PROTOCOL = 14,
    /// The address or resource is in use (EADDRINUSE, EBUSY).
    IPCX_ERR_IN_USE = 15,
    /// A robust lock was acquired, but its previous owner died holding it. The protected
    /// state may be inconsistent; mark it consistent or the lock becomes unusable.
    IPCX_ERR_OWNER_DEAD = 16,
    /// A robust lock is unusable because its owner died and the state was never marked
    /// consistent.
    IPCX_ERR_NOT_RECOVERABLE = 17,
    /// An internal error (a bug in ipcx, caught at the boundary). The handle involved is
    /// poisoned: every later call on it returns this code. Please report it.
    IPCX_ERR_INTERNAL = 18,
}

/// Short Rust-side name for the status enum.
pub use ipcx_status as Status;

impl Status {
    /// Static, NUL-terminated description of a status code. Never allocates.
    pub fn describe(self) -> &'static CStr {
        use ipcx_status::*;
        match self {
            IPCX_OK => c"success",
            IPCX_ERR_INVALID => c"invalid argument",
            IPCX_ERR_TIMEOUT => c"timed out or would block",
            IPCX_ERR_CLOSED => c"peer closed (end of file)",
            IPCX_ERR_INTERRUPTED => c"interrupted by a signal",
            IPCX_ERR_NOT_FOUND => c"not found",
            IPCX_ERR_EXISTS => c"already exists",
            IPCX_ERR_PERMISSION => c"permission denied",
            IPCX_ERR_LIMIT => c"limit reached",
            IPCX_ERR_REMOVED => c"removed while in use",
            IPCX_ERR_TOO_BIG => c"message too large",
            IPCX_ERR_UNSUPPORTED => c"not supported",
            IPCX_ERR_SYSTEM => c"system error",
            IPCX_ERR_BAD_HANDLE => c"bad handle (closed or wrong type)",
            IPCX_ERR_PROTOCOL => c"malformed data from peer",
            IPCX_ERR_IN_USE => c"in use",
            IPCX_ERR_OWNER_DEAD => c"owner died holding the lock",
            IPCX_ERR_NOT_RECOVERABLE => c"lock not recoverable",
            IPCX_ERR_INTERNAL => c"internal error in ipcx",
        }
    }

    /// The enumerator's name, as C spells it (`"IPCX_ERR_TIMEOUT"`).
    pub fn name(self) -> &'static CStr {
        use ipcx_status::*;
        match self {
            IPCX_OK => c"IPCX_OK",
            IPCX_ERR_INVALID => c"IPCX_ERR_INVALID",
            IPCX_ERR_TIMEOUT => c"IPCX_ERR_TIMEOUT",
            IPCX_ERR_CLOSED => c"IPCX_ERR_CLOSED",
            IPCX_ERR_INTERRUPTED => c"IPCX_ERR_INTERRUPTED",
            IPCX_ERR_NOT_FOUND => c"IPCX_ERR_NOT_FOUND",
            IPCX_ERR_EXISTS => c"IPCX_ERR_EXISTS",
            IPCX_ERR_PERMISSION => c"IPCX_ERR_PERMISSION",
            IPCX_ERR_LIMIT => c"IPCX_ERR_LIMIT",
            IPCX_ERR_REMOVED => c"IPCX_ERR_REMOVED",
            IPCX_ERR_TOO_BIG => c"IPCX_ERR_TOO_BIG",
            IPCX_ERR_UNSUPPORTED => c"IPCX_ERR_UNSUPPORTED",
            IPCX_ERR_SYSTEM => c"IPCX_ERR_SYSTEM",
            IPCX_ERR_BAD_HANDLE => c"IPCX_ERR_BAD_HANDLE",
            IPCX_ERR_PROTOCOL => c"IPCX_ERR_PROTOCOL",
            IPCX_ERR_IN_USE => c"IPCX_ERR_IN_USE",
            IPCX_ERR_OWNER_DEAD => c"IPCX_ERR_OWNER_DEAD",
            IPCX_ERR_NOT_RECOVERABLE => c"IPCX_ERR_NOT_RECOVERABLE",
            IPCX_ERR_INTERNAL => c"IPCX_ERR_INTERNAL",
        }
    }

    /// The status for a raw integer code, if it is one (C passes codes as `int`).
    pub fn from_code(code: i32) -> Option<Status> {
        use ipcx_status::*;
        const ALL: [Status; 19] = [
            IPCX_OK,
            IPCX_ERR_INVALID,
            IPCX_ERR_TIMEOUT,
            IPCX_ERR_CLOSED,
            IPCX_ERR_INTERRUPTED,
            IPCX_ERR_NOT_FOUND,
            IPCX_ERR_EXISTS,
            IPCX_ERR_PERMISSION,
            IPCX_ERR_LIMIT,
            IPCX_ERR_REMOVED,
            IPCX_ERR_TOO_BIG,
            IPCX_ERR_UNSUPPORTED,
            IPCX_ERR_SYSTEM,
            IPCX_ERR_BAD_HANDLE,
            IPCX_ERR_PROTOCOL,
            IPCX_ERR_IN_USE,
            IPCX_ERR_OWNER_DEAD,
            IPCX_ERR_NOT_RECOVERABLE,
            IPCX_ERR_INTERNAL,
        ];
        ALL.iter().copied().find(|s| *s as i32 == code)
    }
}

/// Map an errno to the status a C caller should see. The one place that decides this.
pub fn status_for_errno(errno: Errno) -> Status {
    use ipcx_status::*;
    match errno {
        Errno::EINVAL | Errno::EBADF | Errno::ENAMETOOLONG | Errno::EFAULT | Errno::ENOTDIR => {
            IPCX_ERR_INVALID
        }
        Errno::EAGAIN | Errno::ETIMEDOUT | Errno::EINPROGRESS => IPCX_ERR_TIMEOUT,
        Errno::EPIPE
        | Errno::ECONNRESET
        | Errno::ENOTCONN
        | Errno::ESHUTDOWN
        | Errno::ECONNABORTED => IPCX_ERR_CLOSED,
        Errno::EINTR => IPCX_ERR_INTERRUPTED,
        Errno::ENOENT | Errno::ESRCH | Errno::ENXIO | Errno::ECONNREFUSED => IPCX_ERR_NOT_FOUND,
        Errno::EEXIST | Errno::EISDIR => IPCX_ERR_EXISTS,
        Errno::EACCES | Errno::EPERM | Errno::EROFS => IPCX_ERR_PERMISSION,
        Errno::EMFILE
        | Errno::ENFILE
        | Errno::ENOSPC
        | Errno::ENOMEM
        | Errno::ENOBUFS
        | Errno::EDQUOT
        | Errno::ERANGE
        | Errno::EOVERFLOW => IPCX_ERR_LIMIT,
        Errno::EIDRM => IPCX_ERR_REMOVED,
        Errno::E2BIG | Errno::EMSGSIZE => IPCX_ERR_TOO_BIG,
        Errno::ENOSYS
        | Errno::EOPNOTSUPP
        | Errno::EPROTONOSUPPORT
        | Errno::EAFNOSUPPORT
        | Errno::ESOCKTNOSUPPORT
        | Errno::EPROTOTYPE => IPCX_ERR_UNSUPPORTED,
        Errno::EADDRINUSE | Errno::EBUSY | Errno::ETXTBSY => IPCX_ERR_IN_USE,
        Errno::EOWNERDEAD => IPCX_ERR_OWNER_DEAD,
        Errno::ENOTRECOVERABLE => IPCX_ERR_NOT_RECOVERABLE,
        _ => IPCX_ERR_SYSTEM,
    }
}

/// An ipcx error: a status, the errno behind it (0 if none), a human message, and for
/// `IPCX_ERR_TOO_BIG` the size that would have been needed.
#[derive(Debug, Clone)]
pub struct Error {
    /// The C status code.
    pub status: Status,
    /// The OS errno behind the failure, 0 when the failure was detected by ipcx itself.
    pub errno: i32,
    /// What failed, on what, and why, for a person.
    pub msg: String,
    /// For `IPCX_ERR_TOO_BIG`: the size in bytes needed. 0 otherwise.
    pub needed: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error detected by ipcx itself (no errno).
    pub fn new(status: Status, msg: impl Into<String>) -> Error {
        Error {
            status,
            errno: 0,
            msg: msg.into(),
            needed: 0,
        }
    }

    /// An OS error: `what` names the operation and object, e.g. `open("/tmp/f")`.
    /// The message becomes `what: <strerror> (ENAME)`.
    pub fn os(errno: Errno, what: impl fmt::Display) -> Error {
        Error {
            status: status_for_errno(errno),
            errno: errno as i32,
            msg: format!("{what}: {} ({})", errno.desc(), errno_name(errno)),
            needed: 0,
        }
    }

    /// An OS error from the current `errno`.
    pub fn last_os(what: impl fmt::Display) -> Error {
        Error::os(Errno::last(), what)
    }

    /// An OS error reported with a specific status (when the errno alone is ambiguous,
    /// e.g. EAGAIN meaning "limit reached" for a queue).
    pub fn os_as(status: Status, errno: Errno, msg: impl fmt::Display) -> Error {
        Error {
            status,
            errno: errno as i32,
            msg: format!("{msg} ({})", errno_name(errno)),
            needed: 0,
        }
    }

    /// `IPCX_ERR_INVALID`.
    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_INVALID, msg)
    }

    /// `IPCX_ERR_TIMEOUT`.
    pub fn timeout(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_TIMEOUT, msg)
    }

    /// `IPCX_ERR_CLOSED`.
    pub fn closed(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_CLOSED, msg)
    }

    /// `IPCX_ERR_LIMIT`; the message must name the limit and its value.
    pub fn limit(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_LIMIT, msg)
    }

    /// `IPCX_ERR_UNSUPPORTED`.
    pub fn unsupported(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_UNSUPPORTED, msg)
    }

    /// `IPCX_ERR_PROTOCOL`: the peer sent something malformed.
    pub fn protocol(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_PROTOCOL, msg)
    }

    /// `IPCX_ERR_TOO_BIG` with the size needed.
    pub fn too_big(needed: usize, msg: impl Into<String>) -> Error {
        Error {
            status: Status::IPCX_ERR_TOO_BIG,
            errno: 0,
            msg: msg.into(),
            needed,
        }
    }

    /// `IPCX_ERR_INTERNAL` (a bug).
    pub fn internal(msg: impl Into<String>) -> Error {
        Error::new(Status::IPCX_ERR_INTERNAL, msg)
    }

    /// Prefix the message with more context: `"{ctx}: {msg}"`.
    pub fn context(mut self, ctx: impl fmt::Display) -> Error {
        self.msg = format!("{ctx}: {}", self.msg);
        self
    }

    /// True when this is a timeout / would-block error.
    pub fn is_timeout(&self) -> bool {
        self.status == Status::IPCX_ERR_TIMEOUT
    }
}

/// A kernel limit named for an error message: its /proc file and current value, e.g.
/// `/proc/sys/kernel/msgmax (8192)`. Reads the file (error paths only).
pub fn proc_limit(path: &str) -> String {
    let value = std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unreadable".into());
    format!("{path} ({value})")
}

/// The symbolic name of an errno ("ENOENT"), falling back to the number.
pub fn errno_name(errno: Errno) -> String {
    let dbg = format!("{errno:?}");
    if dbg.starts_with('E') {
        dbg
    } else {
        format!("errno {}", errno as i32)
    }
}

struct LastError {
    /// NUL-terminated message, empty (no NUL) before the first failure.
    msg: Vec<u8>,
    errno: i32,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> =
        const { RefCell::new(LastError { msg: Vec::new(), errno: 0 }) };
}

/// Record `err` as the calling thread's last error, prefixed with the C function name.
pub fn set_last_error(func: &str, err: &Error) {
    let text = format!("{func}: {}", err.msg).replace('\0', "\\0");
    let msg = CString::new(text).unwrap_or_default().into_bytes_with_nul();
    // try_with: during thread teardown the slot may be gone; then there is nobody to tell.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.msg = msg;
            slot.errno = err.errno;
        }
    });
}

/// Pointer to the calling thread's last error message (empty string when none yet).
/// Valid until the next failing ipcx call on this thread.
pub fn last_error_ptr() -> *const std::ffi::c_char {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(s) if !s.msg.is_empty() => s.msg.as_ptr().cast(),
            _ => c"".as_ptr(),
        })
        .unwrap_or(c"".as_ptr())
}

/// The errno recorded with the calling thread's last error (0 when none).
pub fn last_errno() -> i32 {
    LAST_ERROR
        .try_with(|slot| slot.try_borrow().map(|s| s.errno).unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_text() {
        for code in 0..19 {
            let s = Status::from_code(code).expect("dense codes");
            assert_eq!(s as i32, code);
            assert!(!s.describe().to_bytes().is_empty());
        }
        assert!(Status::from_code(19).is_none());
        assert!(Status::from_code(-1).is_none());
    }

    #[test]
    fn errno_mapping() {
        assert_eq!(status_for_errno(Errno::ENOENT), Status::IPCX_ERR_NOT_FOUND);
        assert_eq!(status_for_errno(Errno::EPIPE), Status::IPCX_ERR_CLOSED);
        assert_eq!(status_for_errno(Errno::EIDRM), Status::IPCX_ERR_REMOVED);
        assert_eq!(status_for_errno(Errno::EIO), Status::IPCX_ERR_SYSTEM);
        let e = Error::os(Errno::ENOENT, "open(\"/x\")");
        assert_eq!(e.errno, libc::ENOENT);
        assert!(e.msg.contains("ENOENT"), "{}", e.msg);
    }

    #[test]
    fn last_error_is_thread_local() {
        set_last_error("ipcx_test", &Error::invalid("bad"));
        let here = unsafe { CStr::from_ptr(last_error_ptr()) }
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(here, "ipcx_test: bad");
        std::thread::spawn(|| {
            assert_eq!(unsafe { CStr::from_ptr(last_error_ptr()) }.to_bytes(), b"");
        })
        .join()
        .unwrap();
    }
}
