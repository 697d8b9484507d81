// SPDX-License-Identifier: MIT OR Apache-2.0
//! The few futex(2) operations ipcx needs on process-shared words (the ring's sleep and
//! wake, the shared-memory lock, the condition variable). Shared, not private, futexes:
//! waiters and wakers are in different processes.

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
