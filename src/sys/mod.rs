// SPDX-License-Identifier: MIT OR Apache-2.0
//! The C library calls and types that differ between the targets ipcx builds for: glibc
//! and musl, 64-bit and 32-bit, current and old C libraries (docs/portability.md). Code
//! elsewhere names these instead of the `libc` items, so a difference is handled once.
//!
//! - Files: on glibc the LFS calls (`fstat64`, `ftruncate64`, ...), whose sizes, offsets and
//!   inode numbers are 64-bit on 32-bit targets too (the plain ones fail with EOVERFLOW on
//!   a large file or inode number there, and truncate offsets). musl's plain calls are
//!   64-bit everywhere.
//! - Calls newer than the oldest supported C libraries (glibc 2.28, musl 1.2.3): the
//!   `clock` waits `sem_clockwait` and `pthread_mutex_clocklock` (glibc 2.30, not in musl)
//!   are looked up at run time, with a correct fallback; `gettid`, `tgkill` (glibc 2.30,
//!   not in musl), `statx`, `preadv2` and `pwritev2` (musl 1.2.5) are made as system calls,
//!   which the kernel refuses with ENOSYS where it is older than the call.
//! - Calls whose C library wrapper behaves differently: musl's `sigtimedwait` retries EINTR
//!   itself with the whole timeout again, so ipcx makes the system call.
//! - System V structures the `libc` crate spells differently or lacks on musl.
//!
//! - futex(2), which neither the C library nor nix wraps: [`futex`]; process liveness from
//!   /proc: [`proc`].
//!
//! cbindgen:ignore

pub(crate) mod futex;
pub(crate) mod proc;

use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(target_env = "gnu"))]
pub(crate) use libc::{
    fallocate, fstat, fstatat, fstatvfs, ftruncate, lstat, off_t, pread, pwrite, stat, statfs,
    statvfs,
};
#[cfg(target_env = "gnu")]
pub(crate) use libc::{
    fallocate64 as fallocate, fstat64 as fstat, fstatat64 as fstatat, fstatvfs64 as fstatvfs,
    ftruncate64 as ftruncate, lstat64 as lstat, off64_t as off_t, pread64 as pread,
    pwrite64 as pwrite, stat64 as stat, statfs64 as statfs, statvfs64 as statvfs,
};

/// `time_t`. The `libc` crate deprecates its alias on musl because 32-bit musl 1.2 made
/// `time_t` 64-bit while the crate still declares 32 bits there; on the targets ipcx
/// supports it matches the structures the crate declares, which is what matters here.
#[allow(deprecated)]
pub(crate) type TimeT = libc::time_t;

/// A C integer whose width depends on the target (`time_t`, `long`, `unsigned long`,
/// `rlim_t`: 32 bits on 32-bit targets) as an `i64`; `as i64` would be a no-op cast on
/// 64-bit targets.
pub(crate) fn wide_i64<T: Into<i64>>(v: T) -> i64 {
    v.into()
}

/// An unsigned C integer whose width depends on the target, as a `u64` (see [`wide_i64`]).
pub(crate) fn wide_u64<T: Into<u64>>(v: T) -> u64 {
    v.into()
}

/// The resource argument of `getrlimit` (an enum in glibc, an int in musl).
#[cfg(target_env = "gnu")]
pub(crate) type Resource = libc::__rlimit_resource_t;
/// The resource argument of `getrlimit` (an enum in glibc, an int in musl).
#[cfg(not(target_env = "gnu"))]
pub(crate) type Resource = libc::c_int;

/// The page size (4096 if sysconf cannot tell).
pub(crate) fn page_size() -> usize {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(n)) if n > 0 => n as usize,
        _ => 4096,
    }
}

/// The calling thread's id (the `gettid` system call: the glibc wrapper is 2.30).
pub(crate) fn gettid() -> libc::pid_t {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// `tgkill(tgid, tid, sig)` as a system call (the glibc wrapper is 2.30; musl has none).
/// Returns 0 or -1 with errno set.
pub(crate) fn tgkill(tgid: libc::pid_t, tid: libc::pid_t, sig: libc::c_int) -> libc::c_int {
    // SAFETY: plain system call with integer arguments.
    unsafe {
        libc::syscall(
            libc::SYS_tgkill,
            libc::c_long::from(tgid),
            libc::c_long::from(tid),
            libc::c_long::from(sig),
        ) as libc::c_int
    }
}

/// `statx` as a system call; on kernels before 4.11 (ENOSYS), `fstatat`, which gives the
/// basic fields (`stx_mask` says which; no birth time). Returns 0 or -1 with errno set.
///
/// # Safety
/// `path` is a NUL-terminated string; `buf` is valid for writes.
pub(crate) unsafe fn statx(
    dirfd: libc::c_int,
    path: *const libc::c_char,
    flags: libc::c_int,
    mask: libc::c_uint,
    buf: *mut libc::statx,
) -> libc::c_int {
    // SAFETY: the caller's pointers, as above.
    let r = unsafe {
        libc::syscall(
            libc::SYS_statx,
            libc::c_long::from(dirfd),
            path,
            libc::c_long::from(flags),
            mask as libc::c_long,
            buf,
        )
    };
    if r == 0 || nix::errno::Errno::last() != nix::errno::Errno::ENOSYS {
        return r as libc::c_int;
    }
    // SAFETY: a zeroed stat buffer; the caller's pointers, as above.
    unsafe {
        let mut st: stat = std::mem::zeroed();
        let f = flags & (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW);
        if fstatat(dirfd, path, &mut st, f) < 0 {
            return -1;
        }
        let mut x: libc::statx = std::mem::zeroed();
        x.stx_mask = libc::STATX_BASIC_STATS;
        x.stx_dev_major = libc::major(st.st_dev) as u32;
        x.stx_dev_minor = libc::minor(st.st_dev) as u32;
        x.stx_ino = st.st_ino as u64;
        x.stx_mode = st.st_mode as u16;
        x.stx_uid = st.st_uid;
        x.stx_nlink = st.st_nlink as u32;
        x.stx_size = st.st_size as u64;
        buf.write(x);
    }
    0
}

/// `sigtimedwait(set, info, timeout)` as the system call: one wait, EINTR returned (musl's
/// wrapper restarts the whole relative timeout after every signal handler, so a stream of
/// signals would make it wait for ever). `None` waits without limit, as `sigwaitinfo`.
/// Returns the signal number or -1 with errno set.
///
/// # Safety
/// `set` and `info` are valid.
pub(crate) unsafe fn sigtimedwait(
    set: *const libc::sigset_t,
    info: *mut libc::siginfo_t,
    timeout: Option<&libc::timespec>,
) -> libc::c_int {
    let ts = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // The kernel's sigset is _NSIG / 8 bytes (64 signals), the first bytes of the C
    // library's larger sigset_t.
    const KERNEL_SIGSET: libc::size_t = 8;
    // SAFETY: the caller's pointers, as above.
    unsafe { libc::syscall(libc::SYS_rt_sigtimedwait, set, info, ts, KERNEL_SIGSET) as libc::c_int }
}

/// `sendmsg` (glibc's). The kernel's `struct msghdr` and `struct cmsghdr` are the C
/// library's, whose padding ipcx keeps zeroed.
///
/// # Safety
/// `msg` describes valid buffers.
#[cfg(not(target_env = "musl"))]
pub(crate) unsafe fn sendmsg(
    fd: libc::c_int,
    msg: *const libc::msghdr,
    flags: libc::c_int,
) -> libc::ssize_t {
    // SAFETY: the caller's message, as above.
    unsafe { libc::sendmsg(fd, msg, flags) }
}

/// `sendmsg` as the system call: musl's wrapper copies the control messages into a
/// 1024-byte buffer (to clear the padding of 64-bit `cmsghdr`s) and fails with ENOMEM
/// beyond it, below the 253 descriptors (SCM_MAX_FD) one message may carry. ipcx zeroes
/// that padding itself ([`crate::sock::cmsg`]).
///
/// # Safety
/// `msg` describes valid buffers; the padding of the msghdr and its control messages is
/// zero.
#[cfg(target_env = "musl")]
pub(crate) unsafe fn sendmsg(
    fd: libc::c_int,
    msg: *const libc::msghdr,
    flags: libc::c_int,
) -> libc::ssize_t {
    // SAFETY: the caller's message, as above.
    unsafe {
        libc::syscall(
            libc::SYS_sendmsg,
            libc::c_long::from(fd),
            msg,
            libc::c_long::from(flags),
        ) as libc::ssize_t
    }
}

/// The two halves of a file offset as the `preadv2`/`pwritev2` system calls take them
/// (the high half is ignored on 64-bit targets).
fn offset_halves(offset: i64) -> (libc::c_long, libc::c_long) {
    if std::mem::size_of::<libc::c_long>() == 8 {
        (offset as libc::c_long, 0)
    } else {
        (offset as libc::c_long, (offset >> 32) as libc::c_long)
    }
}

/// `preadv2` as a system call (kernel 4.6; `RWF_NOWAIT` 4.14). Returns the bytes read or
/// -1 with errno set; `offset` -1 reads at the file position.
///
/// # Safety
/// `iov` points to `cnt` iovecs describing writable memory.
pub(crate) unsafe fn preadv2(
    fd: libc::c_int,
    iov: *const libc::iovec,
    cnt: libc::c_int,
    offset: i64,
    flags: libc::c_int,
) -> isize {
    let (lo, hi) = offset_halves(offset);
    // Every argument is passed as a full register (`long`): the variadic `syscall` would
    // leave the upper half of an `int` undefined.
    // SAFETY: the caller's iovecs, as above.
    unsafe {
        libc::syscall(
            libc::SYS_preadv2,
            libc::c_long::from(fd),
            iov,
            libc::c_long::from(cnt),
            lo,
            hi,
            libc::c_long::from(flags),
        ) as isize
    }
}

/// `pwritev2` as a system call (kernel 4.6; `RWF_NOWAIT` 4.14). Returns the bytes written
/// or -1 with errno set; `offset` -1 writes at the file position.
///
/// # Safety
/// `iov` points to `cnt` iovecs describing readable memory.
pub(crate) unsafe fn pwritev2(
    fd: libc::c_int,
    iov: *const libc::iovec,
    cnt: libc::c_int,
    offset: i64,
    flags: libc::c_int,
) -> isize {
    let (lo, hi) = offset_halves(offset);
    // Every argument is passed as a full register (`long`): the variadic `syscall` would
    // leave the upper half of an `int` undefined.
    // SAFETY: the caller's iovecs, as above.
    unsafe {
        libc::syscall(
            libc::SYS_pwritev2,
            libc::c_long::from(fd),
            iov,
            libc::c_long::from(cnt),
            lo,
            hi,
            libc::c_long::from(flags),
        ) as isize
    }
}

/// The key of a System V object (`ipc_perm.__key`; musl names the field differently in
/// different `libc` versions, but it is the first member of `struct ipc_perm` in every
/// Linux C library, as in the kernel's `ipc64_perm`).
pub(crate) fn ipc_key(p: &libc::ipc_perm) -> libc::key_t {
    #[cfg(target_env = "gnu")]
    {
        p.__key
    }
    #[cfg(not(target_env = "gnu"))]
    {
        // SAFETY: `key_t` is the first member of `struct ipc_perm` (see above); the
        // reference is valid and aligned for the whole struct.
        unsafe { std::ptr::from_ref(p).cast::<libc::key_t>().read() }
    }
}

/// Whether the C library keeps a thread's robust mutexes in a singly linked list that it
/// searches for the address being unlocked (glibc on 32-bit targets): a robust mutex mapped
/// at two addresses must then be unlocked at the address it was locked at, or the search
/// never ends. 64-bit glibc links the list both ways and unlinks in place.
pub(crate) const ROBUST_LIST_BY_ADDRESS: bool =
    cfg!(all(target_env = "gnu", target_pointer_width = "32"));

/// The prefix of a named semaphore's file in /dev/shm: glibc stores the semaphore "/name"
/// as /dev/shm/sem.name, musl as /dev/shm/name, in the namespace of POSIX shared memory
/// (a semaphore and a shared memory object of one name are then one file).
#[cfg(target_env = "gnu")]
pub(crate) const SEM_FILE_PREFIX: &str = "sem.";
/// The prefix of a named semaphore's file in /dev/shm: glibc stores the semaphore "/name"
/// as /dev/shm/sem.name, musl as /dev/shm/name, in the namespace of POSIX shared memory
/// (a semaphore and a shared memory object of one name are then one file).
#[cfg(not(target_env = "gnu"))]
pub(crate) const SEM_FILE_PREFIX: &str = "";

/// The index, in `int`s, of the futex word (owner thread id, waiters bit) in a
/// `pthread_mutex_t`: glibc's `__lock` is the first member, musl's `_m_lock` the second.
#[cfg(target_env = "gnu")]
pub(crate) const MUTEX_FUTEX_INDEX: usize = 0;
/// The index, in `int`s, of the futex word (owner thread id, waiters bit) in a
/// `pthread_mutex_t`: glibc's `__lock` is the first member, musl's `_m_lock` the second.
#[cfg(target_env = "musl")]
pub(crate) const MUTEX_FUTEX_INDEX: usize = 1;

/// `struct semid_ds` (glibc: the `libc` crate's).
#[cfg(target_env = "gnu")]
pub(crate) use libc::semid_ds;

/// `struct semid_ds` of musl on x86_64 (arch/x86_64/bits/sem.h; the `libc` crate does not
/// declare it for musl). Only the fields ipcx reads are public.
#[cfg(all(target_env = "musl", target_arch = "x86_64"))]
#[repr(C)]
#[allow(non_camel_case_types)]
pub(crate) struct semid_ds {
    pub sem_perm: libc::ipc_perm,
    pub sem_otime: i64,
    __unused1: libc::c_long,
    pub sem_ctime: i64,
    __unused2: libc::c_long,
    pub sem_nsems: libc::c_ushort,
    __pad: [u8; 6],
    __unused3: libc::c_long,
    __unused4: libc::c_long,
}

/// `struct semid_ds` of musl on 64-bit targets other than x86_64 (arch/generic/bits/sem.h;
/// little-endian).
#[cfg(all(
    target_env = "musl",
    target_pointer_width = "64",
    target_endian = "little",
    not(target_arch = "x86_64")
))]
#[repr(C)]
#[allow(non_camel_case_types)]
pub(crate) struct semid_ds {
    pub sem_perm: libc::ipc_perm,
    pub sem_otime: i64,
    pub sem_ctime: i64,
    pub sem_nsems: libc::c_ushort,
    __pad: [u8; 6],
    __unused3: i64,
    __unused4: i64,
}

#[cfg(all(
    target_env = "musl",
    not(all(target_pointer_width = "64", target_endian = "little"))
))]
compile_error!(
    "ipcx: struct semid_ds is not declared for this musl target (src/sys/mod.rs); 64-bit \
     little-endian musl targets are supported"
);

#[cfg(target_env = "musl")]
const _: () = assert!(std::mem::size_of::<semid_ds>() == 104);

// ---------------------------------------------------------------- calls looked up at run time

type ClockWait =
    unsafe extern "C" fn(*mut libc::sem_t, libc::clockid_t, *const libc::timespec) -> libc::c_int;
type ClockLock = unsafe extern "C" fn(
    *mut libc::pthread_mutex_t,
    libc::clockid_t,
    *const libc::timespec,
) -> libc::c_int;

/// Not looked up yet.
const UNKNOWN: usize = 0;
/// Looked up: the C library does not have it.
const MISSING: usize = 1;

/// The address of the C library's `name` (a NUL-terminated symbol name), looked up once
/// and cached in `slot`; `None` when the library does not have it.
fn lookup(slot: &AtomicUsize, name: &'static [u8]) -> Option<usize> {
    let mut v = slot.load(Ordering::Acquire);
    if v == UNKNOWN {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the loaded objects. A
        // statically linked program (musl) has no dynamic symbols and gets NULL.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr().cast()) } as usize;
        v = if p == 0 { MISSING } else { p };
        slot.store(v, Ordering::Release);
    }
    (v != MISSING).then_some(v)
}

/// glibc's `__libc_single_threaded` (2.32 and later): non-zero while the process
/// certainly has one thread (it turns zero before a second thread is created and, in glibc
/// 2.36, stays zero, in a fork's child too). `None`: not this C library (musl, an older
/// glibc, a static program), or `IPCX_FORCE_FALLBACKS=1`; the callers then assume threads.
pub(crate) fn single_threaded_flag() -> Option<&'static std::sync::atomic::AtomicU8> {
    static FLAG: AtomicUsize = AtomicUsize::new(UNKNOWN);
    if forced_fallback() {
        return None;
    }
    // SAFETY: the symbol is a `char` that glibc keeps for the life of the process; reading
    // it concurrently with glibc's own writes is what it is published for.
    lookup(&FLAG, b"__libc_single_threaded\0")
        .map(|a| unsafe { &*(a as *const std::sync::atomic::AtomicU8) })
}

static SEM_CLOCKWAIT: AtomicUsize = AtomicUsize::new(UNKNOWN);
static MUTEX_CLOCKLOCK: AtomicUsize = AtomicUsize::new(UNKNOWN);

/// `IPCX_FORCE_FALLBACKS=1` in the environment (read once) makes ipcx use the fallbacks
/// even where the C library has the calls, so that tests on a current system exercise them.
pub(crate) fn forced_fallback() -> bool {
    static FORCED: AtomicUsize = AtomicUsize::new(0);
    match FORCED.load(Ordering::Relaxed) {
        0 => {
            let f = std::env::var_os("IPCX_FORCE_FALLBACKS").is_some_and(|v| v == "1");
            FORCED.store(if f { 2 } else { 1 }, Ordering::Relaxed);
            f
        }
        v => v == 2,
    }
}

fn monotonic_now() -> libc::timespec {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t
}

/// The CLOCK_REALTIME time at which `abs` (a CLOCK_MONOTONIC time) will come, read now;
/// `None` once `abs` has passed.
fn realtime_for(abs: &libc::timespec) -> Option<libc::timespec> {
    let now = monotonic_now();
    let ns = |t: &libc::timespec| i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec);
    let left = ns(abs) - ns(&now);
    if left <= 0 {
        return None;
    }
    let mut rt = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: as above.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut rt) };
    let at = ns(&rt) + left;
    let secs = (at / 1_000_000_000).min(i128::from(TimeT::MAX));
    Some(libc::timespec {
        tv_sec: secs as TimeT,
        tv_nsec: (at % 1_000_000_000) as libc::c_long,
    })
}

/// `sem_clockwait(sem, CLOCK_MONOTONIC, abs)`: 0, or -1 with errno set (ETIMEDOUT once
/// the monotonic time `abs` has passed, never before).
///
/// Without `sem_clockwait` (glibc before 2.30, musl): `sem_timedwait` towards the same
/// moment on CLOCK_REALTIME, converted anew after every early return, so the wait never
/// ends early. musl turns the absolute time into a relative one when the call starts, so
/// a change of the wall clock does not move the end; on old glibc a wall clock set back
/// during the wait makes it end that much later.
///
/// # Safety
/// `sem` is a live semaphore.
pub(crate) unsafe fn sem_clockwait_monotonic(
    sem: *mut libc::sem_t,
    abs: &libc::timespec,
) -> libc::c_int {
    if !forced_fallback() {
        if let Some(f) = lookup(&SEM_CLOCKWAIT, b"sem_clockwait\0") {
            // SAFETY: the C library's sem_clockwait, which has this signature.
            let f: ClockWait = unsafe { std::mem::transmute::<usize, ClockWait>(f) };
            // SAFETY: the caller's semaphore; a valid timespec.
            return unsafe { f(sem, libc::CLOCK_MONOTONIC, abs) };
        }
    }
    // SAFETY: the caller's semaphore.
    unsafe { sem_wait_realtime(sem, abs) }
}

/// The fallback of [`sem_clockwait_monotonic`].
///
/// # Safety
/// `sem` is a live semaphore.
unsafe fn sem_wait_realtime(sem: *mut libc::sem_t, abs: &libc::timespec) -> libc::c_int {
    use nix::errno::Errno;
    loop {
        let Some(rt) = realtime_for(abs) else {
            // The deadline passed: one last try, as sem_clockwait tries before it times out.
            // SAFETY: the caller's semaphore.
            if unsafe { libc::sem_trywait(sem) } == 0 {
                return 0;
            }
            if Errno::last() == Errno::EAGAIN {
                Errno::set(Errno::ETIMEDOUT);
            }
            return -1;
        };
        // SAFETY: the caller's semaphore; a valid timespec.
        let r = unsafe { libc::sem_timedwait(sem, &rt) };
        if r == 0 || Errno::last() != Errno::ETIMEDOUT {
            return r;
        }
    }
}

/// `pthread_mutex_clocklock(m, CLOCK_MONOTONIC, abs)`: 0 or an error number (ETIMEDOUT once
/// the monotonic time `abs` has passed, never before).
///
/// Without `pthread_mutex_clocklock` (glibc before 2.30, musl): `pthread_mutex_timedlock`
/// towards the same moment on CLOCK_REALTIME, as [`sem_clockwait_monotonic`] does.
///
/// # Safety
/// `m` is a live mutex.
pub(crate) unsafe fn mutex_clocklock_monotonic(
    m: *mut libc::pthread_mutex_t,
    abs: &libc::timespec,
) -> libc::c_int {
    if !forced_fallback() {
        if let Some(f) = lookup(&MUTEX_CLOCKLOCK, b"pthread_mutex_clocklock\0") {
            // SAFETY: the C library's pthread_mutex_clocklock, which has this signature.
            let f: ClockLock = unsafe { std::mem::transmute::<usize, ClockLock>(f) };
            // SAFETY: the caller's mutex; a valid timespec.
            return unsafe { f(m, libc::CLOCK_MONOTONIC, abs) };
        }
    }
    // SAFETY: the caller's mutex.
    unsafe { mutex_lock_realtime(m, abs) }
}

/// The fallback of [`mutex_clocklock_monotonic`].
///
/// # Safety
/// `m` is a live mutex.
unsafe fn mutex_lock_realtime(m: *mut libc::pthread_mutex_t, abs: &libc::timespec) -> libc::c_int {
    loop {
        let Some(rt) = realtime_for(abs) else {
            // SAFETY: the caller's mutex.
            let r = unsafe { libc::pthread_mutex_trylock(m) };
            return if r == libc::EBUSY { libc::ETIMEDOUT } else { r };
        };
        // SAFETY: the caller's mutex; a valid timespec.
        let r = unsafe { libc::pthread_mutex_timedlock(m, &rt) };
        if r != libc::ETIMEDOUT {
            return r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_for_is_in_the_future_until_the_deadline() {
        let mut abs = monotonic_now();
        abs.tv_sec += 2;
        let rt = realtime_for(&abs).unwrap();
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid out-pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
        let d = wide_i64(rt.tv_sec - now.tv_sec);
        assert!((1..=2).contains(&d), "{d}");
        assert!((0..1_000_000_000).contains(&rt.tv_nsec));
        let past = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        assert!(realtime_for(&past).is_none());
    }

    fn in_ms(ms: i64) -> libc::timespec {
        let mut t = monotonic_now();
        let ns = wide_i64(t.tv_nsec) + ms * 1_000_000;
        t.tv_sec += (ns / 1_000_000_000) as TimeT;
        t.tv_nsec = (ns % 1_000_000_000) as libc::c_long;
        t
    }

    #[test]
    fn the_semaphore_fallback_never_ends_early() {
        let mut s: libc::sem_t = unsafe { std::mem::zeroed() };
        // SAFETY: a local semaphore, destroyed below; every call gets it live.
        unsafe {
            assert_eq!(libc::sem_init(&mut s, 0, 0), 0);
            let start = std::time::Instant::now();
            assert_eq!(sem_wait_realtime(&mut s, &in_ms(50)), -1);
            assert_eq!(nix::errno::Errno::last(), nix::errno::Errno::ETIMEDOUT);
            assert!(start.elapsed() >= std::time::Duration::from_millis(50));
            libc::sem_post(&mut s);
            assert_eq!(sem_wait_realtime(&mut s, &in_ms(50)), 0);
            // A deadline in the past still takes a posted semaphore.
            libc::sem_post(&mut s);
            assert_eq!(sem_wait_realtime(&mut s, &in_ms(-10)), 0);
            libc::sem_post(&mut s);
            assert_eq!(sem_clockwait_monotonic(&mut s, &in_ms(50)), 0);
            libc::sem_destroy(&mut s);
        }
    }

    #[test]
    fn the_mutex_fallback_never_ends_early() {
        let mut mx: libc::pthread_mutex_t = libc::PTHREAD_MUTEX_INITIALIZER;
        let p = std::ptr::addr_of_mut!(mx) as usize;
        // SAFETY: a local mutex, live for the whole test; the other thread only locks it.
        unsafe {
            assert_eq!(mutex_lock_realtime(&mut mx, &in_ms(50)), 0);
            let held = std::thread::spawn(move || {
                let start = std::time::Instant::now();
                let r = mutex_lock_realtime(p as *mut libc::pthread_mutex_t, &in_ms(50));
                (r, start.elapsed())
            })
            .join()
            .unwrap();
            assert_eq!(held.0, libc::ETIMEDOUT);
            assert!(held.1 >= std::time::Duration::from_millis(50));
            assert_eq!(libc::pthread_mutex_unlock(&mut mx), 0);
            assert_eq!(mutex_clocklock_monotonic(&mut mx, &in_ms(50)), 0);
            assert_eq!(libc::pthread_mutex_unlock(&mut mx), 0);
        }
    }
}
