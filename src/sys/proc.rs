// SPDX-License-Identifier: MIT OR Apache-2.0
//! Processes: whether one is still running (its pid not reused), this process's start
//! time (read from /proc, which neither the C library nor nix parses), and its pid, cached
//! in a page that fork wipes.

use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, Ordering};

use nix::errno::Errno;

static OWN_START: AtomicU64 = AtomicU64::new(0);
static OWN_START_PID: AtomicU32 = AtomicU32::new(0);

/// State letter and start time (clock ticks since boot) of a process, from
/// /proc/PID/stat; `None` if it cannot be read.
pub(crate) fn proc_stat(pid: i32) -> Option<(u8, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 1..];
    let mut f = after.split_whitespace();
    let state = f.next()?.bytes().next()?;
    // Fields after the command start at field 3 (the state); starttime is field 22.
    let start = f.nth(22 - 4)?.parse().ok()?;
    Some((state, start))
}

/// This process's start time (cached per pid: a forked child reads its own).
pub(crate) fn own_start() -> u64 {
    own_pid_start().1
}

/// This process's pid ([`own_pid`]) and start time.
pub(crate) fn own_pid_start() -> (i32, u64) {
    let pid = own_pid() as u32;
    if OWN_START_PID.load(Ordering::Acquire) == pid {
        return (pid as i32, OWN_START.load(Ordering::Relaxed));
    }
    let start = proc_stat(pid as i32).map_or(0, |(_, s)| s);
    OWN_START.store(start, Ordering::Relaxed);
    OWN_START_PID.store(pid, Ordering::Release);
    (pid as i32, start)
}

/// The page holding the cached pid (0 = not looked up since the last fork).
static PID_PAGE: AtomicPtr<AtomicI32> = AtomicPtr::new(ptr::null_mut());
/// Set when MADV_WIPEONFORK is unavailable: then the pid is looked up on every call.
static NO_PID_CACHE: AtomicBool = AtomicBool::new(false);

fn getpid() -> i32 {
    // SAFETY: no preconditions.
    unsafe { libc::getpid() }
}

#[cold]
fn pid_page() -> Option<&'static AtomicI32> {
    if NO_PID_CACHE.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: a fresh private anonymous page; nothing else is affected.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: `p` is our fresh page.
    if unsafe { libc::madvise(p, 4096, libc::MADV_WIPEONFORK) } < 0 {
        // SAFETY: unmapping the page we just mapped.
        unsafe { libc::munmap(p, 4096) };
        NO_PID_CACHE.store(true, Ordering::Relaxed);
        return None;
    }
    let fresh = p.cast::<AtomicI32>();
    match PID_PAGE.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: the page lives for the rest of the process (never unmapped).
        Ok(_) => Some(unsafe { &*fresh }),
        Err(other) => {
            // Another thread installed its page first: use that one.
            // SAFETY: unmapping our unused page; `other` is the live one.
            unsafe { libc::munmap(p, 4096) };
            Some(unsafe { &*other })
        }
    }
}

/// This process's pid, from a cache in a page marked `MADV_WIPEONFORK`: a forked child
/// (by fork(2), or a raw clone without CLONE_VM) sees the page zeroed and looks its pid up
/// again. Without MADV_WIPEONFORK (Linux 4.14), getpid on every call.
#[inline]
pub(crate) fn own_pid() -> i32 {
    let page = PID_PAGE.load(Ordering::Acquire);
    let slot = if page.is_null() {
        match pid_page() {
            Some(s) => s,
            None => return getpid(),
        }
    } else {
        // SAFETY: installed pages are never unmapped.
        unsafe { &*page }
    };
    match slot.load(Ordering::Relaxed) {
        0 => {
            let pid = getpid();
            slot.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

/// Whether the process `pid` that started at `start` (0: unknown) is still running:
/// `Some(false)` when it is gone, a zombie, or another process has its pid now;
/// `None` when that cannot be told (its /proc entry is hidden from us).
pub(crate) fn process_alive(pid: i32, start: u64) -> Option<bool> {
    if pid <= 0 {
        return None;
    }
    // SAFETY: signal 0 only checks existence and permission.
    if unsafe { libc::kill(pid, 0) } < 0 && Errno::last() == Errno::ESRCH {
        return Some(false);
    }
    match proc_stat(pid) {
        Some((b'Z' | b'X', _)) => Some(false),
        Some((_, s)) if start != 0 && s != start => Some(false),
        Some(_) => Some(true),
        // It exists (kill did not say ESRCH) but /proc hides it (hidepid): unknown.
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_known_and_stable() {
        let a = own_start();
        assert!(a > 0);
        assert_eq!(a, own_start());
        assert_eq!(process_alive(std::process::id() as i32, a), Some(true));
        assert_eq!(process_alive(std::process::id() as i32, a + 1), Some(false));
    }

    #[test]
    fn pid_cache_matches_getpid() {
        assert_eq!(own_pid(), getpid());
        assert_eq!(own_pid(), getpid());
    }
}
