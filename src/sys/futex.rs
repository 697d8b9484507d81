// SPDX-License-Identifier: MIT OR Apache-2.0
//! The few futex(2) operations ipcx needs on process-shared words (the ring's sleep and
//! wake, the shared-memory lock, the condition variable). Shared, not private, futexes:
//! waiters and wakers are in different processes. Every futex call of the library is made
//! here: neither the C library nor nix wraps futex(2).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

use nix::errno::Errno;

use crate::time;

/// FUTEX_WAIT on a shared (not private) word for at most `d`.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, d: Duration) -> Errno {
    let ts = time::duration_to_timespec(d);
    // SAFETY: the word lives in a mapping that outlives the call; a valid timespec.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0,
        )
    };
    if r == 0 {
        Errno::UnknownErrno
    } else {
        Errno::last()
    }
}

/// FUTEX_WAKE up to `n` waiters of a shared word.
pub(crate) fn futex_wake(word: &AtomicU32, n: i32) {
    // SAFETY: the word lives in a mapping that outlives the call; no other pointers.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            n,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0,
        );
    }
}

/// FUTEX_WAKE every waiter of a shared word.
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    futex_wake(word, i32::MAX);
}

/// FUTEX_WAKE one waiter.
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    futex_wake(word, 1);
}

/// FUTEX_WAIT_BITSET (any bit) on a shared word until the absolute CLOCK_MONOTONIC time
/// `abs`, or without limit when `abs` is `None`. Returns `UnknownErrno` when woken, else
/// the call's errno (ETIMEDOUT at the deadline, EAGAIN when the word no longer held
/// `expected`, EINTR after a signal).
pub(crate) fn futex_wait_until(
    word: &AtomicU32,
    expected: u32,
    abs: Option<&libc::timespec>,
) -> Errno {
    let ts = abs.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: the word lives in a mapping that outlives the call; `ts` is NULL or a valid
    // absolute CLOCK_MONOTONIC time (FUTEX_WAIT_BITSET without FUTEX_CLOCK_REALTIME).
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT_BITSET,
            expected,
            ts,
            std::ptr::null::<u32>(),
            libc::FUTEX_BITSET_MATCH_ANY,
        )
    };
    if r == 0 {
        Errno::UnknownErrno
    } else {
        Errno::last()
    }
}
