// SPDX-License-Identifier: MIT OR Apache-2.0
//! Robust process-shared mutexes and process-shared condition variables, placed in shared
//! memory (see [`super`] for slots and lifetimes).
//!
//! The mutex is a glibc `pthread_mutex_t` with `PTHREAD_PROCESS_SHARED`,
//! `PTHREAD_MUTEX_ROBUST` and `PTHREAD_MUTEX_ERRORCHECK`:
//! - robust: when the owner dies holding it (even by SIGKILL), the kernel releases it and the
//!   next locker gets it with `EOWNERDEAD` (`IPCX_ERR_OWNER_DEAD`). That locker repairs the
//!   protected data and calls [`Mutex::consistent`]; if it unlocks without doing so, the mutex
//!   becomes unusable and every later lock fails with `ENOTRECOVERABLE`
//!   (`IPCX_ERR_NOT_RECOVERABLE`).
//! - error checking: unlocking a mutex the calling thread does not hold is an error (EPERM),
//!   never undefined behaviour; locking it twice from one thread is an error (EDEADLK), not a
//!   deadlock.
//!
//! The condition variable is ipcx's own (a futex sequence word, see [`Cond`]): glibc's
//! process-shared `pthread_cond_t` hangs every signaller once a waiter was killed.

use nix::errno::Errno;

use std::mem::size_of;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::time::Duration;

use super::{Kind, Placement, Site, os};
use crate::error::{Error, Result, Status};
use crate::shm::region::Region;
use crate::sys::mutex_clocklock_monotonic;
use crate::time::Timeout;

/// The owner-TID bits of a robust futex word (the kernel's robust-futex protocol; where the
/// word lies in a `pthread_mutex_t` depends on the C library: [`crate::sys::MUTEX_FUTEX_INDEX`]).
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// The waiters bit of a robust futex word.
const FUTEX_WAITERS: u32 = 0x8000_0000;

/// A robust process-shared mutex in a slot of shared memory.
#[derive(Debug)]
pub struct Mutex {
    place: Placement,
    site: Site,
    /// Destroyed through this handle; a destroy through another handle shows in the tag.
    destroyed: AtomicBool,
    /// The thread that holds the mutex through this handle (0: none), where the C library
    /// needs the unlock at the address of the lock ([`crate::sys::ROBUST_LIST_BY_ADDRESS`]).
    holder: AtomicI32,
}

fn check(code: libc::c_int, what: &str) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(os(code, what))
    }
}

impl Mutex {
    fn new(place: Placement, site: Site) -> Mutex {
        Mutex {
            place,
            site,
            destroyed: AtomicBool::new(false),
            holder: AtomicI32::new(0),
        }
    }

    /// After a lock call: remember the holder where unlocks must use this handle (the lock
    /// is held after success and after IPCX_ERR_OWNER_DEAD).
    #[inline(always)]
    fn locked(&self, r: Result<()>) -> Result<()> {
        if crate::sys::ROBUST_LIST_BY_ADDRESS
            && r.as_ref()
                .map_or_else(|e| e.status == Status::IPCX_ERR_OWNER_DEAD, |_| true)
        {
            self.holder.store(crate::sys::gettid(), Ordering::Relaxed);
        }
        r
    }

    #[inline(always)]
    fn ptr(&self) -> *mut libc::pthread_mutex_t {
        self.place.ptr()
    }

    /// `IPCX_ERR_REMOVED` once the mutex was destroyed, through any handle in any process.
    #[inline(always)]
    fn live(&self) -> Result<()> {
        if !self.destroyed.load(Ordering::Relaxed) && self.place.holds(Kind::Mutex) {
            return Ok(());
        }
        Err(super::destroyed(
            format_args!("the mutex at {}", self.site),
            "ipcx_mutex_destroy",
        ))
    }

    fn init(place: Placement, site: Site) -> Result<Mutex> {
        let m = place.ptr::<libc::pthread_mutex_t>();
        place.init(Kind::Mutex, site, || {
            // SAFETY: attribute calls on a local attribute object; the mutex slot is mapped,
            // aligned and large enough.
            unsafe {
                let mut a: libc::pthread_mutexattr_t = std::mem::zeroed();
                check(
                    libc::pthread_mutexattr_init(&mut a),
                    "pthread_mutexattr_init",
                )?;
                let r = (|| {
                    check(
                        libc::pthread_mutexattr_setpshared(&mut a, libc::PTHREAD_PROCESS_SHARED),
                        "pthread_mutexattr_setpshared",
                    )?;
                    check(
                        libc::pthread_mutexattr_setrobust(&mut a, libc::PTHREAD_MUTEX_ROBUST),
                        "pthread_mutexattr_setrobust",
                    )?;
                    check(
                        libc::pthread_mutexattr_settype(&mut a, libc::PTHREAD_MUTEX_ERRORCHECK),
                        "pthread_mutexattr_settype",
                    )?;
                    check(libc::pthread_mutex_init(m, &a), "pthread_mutex_init")
                })();
                libc::pthread_mutexattr_destroy(&mut a);
                r
            }
        })?;
        Ok(Mutex::new(place, site))
    }

    /// Initialise a mutex at `offset` of `region` (once, by one process).
    pub fn init_in(region: &Region, offset: usize) -> Result<Mutex> {
        Mutex::init(Placement::in_region(region, offset)?, Site::Region(offset))
    }

    /// Initialise a mutex at `addr` (in a shared mapping of this process).
    pub fn init_at(addr: *mut u8) -> Result<Mutex> {
        Mutex::init(Placement::at(addr)?, Site::Addr(addr as usize))
    }

    fn attach(place: Placement, site: Site) -> Result<Mutex> {
        place.attach(Kind::Mutex, site)?;
        Ok(Mutex::new(place, site))
    }

    /// Attach to the mutex at `offset` of `region`.
    pub fn attach_in(region: &Region, offset: usize) -> Result<Mutex> {
        Mutex::attach(Placement::in_region(region, offset)?, Site::Region(offset))
    }

    /// Attach to the mutex at `addr`.
    pub fn attach_at(addr: *mut u8) -> Result<Mutex> {
        Mutex::attach(Placement::at(addr)?, Site::Addr(addr as usize))
    }

    /// Lock: -1 forever (`pthread_mutex_lock`), 0 no wait (`pthread_mutex_trylock`), else
    /// `pthread_mutex_clocklock` on the monotonic clock. `IPCX_ERR_OWNER_DEAD` means the lock
    /// *was* acquired.
    #[inline]
    pub fn lock(&self, timeout: Timeout) -> Result<()> {
        self.live()?;
        self.locked(self.lock_raw(timeout))
    }

    #[inline(always)]
    fn lock_raw(&self, timeout: Timeout) -> Result<()> {
        match timeout {
            Timeout::Forever => {
                // SAFETY: a live mutex for as long as the handle lives.
                let r = unsafe { libc::pthread_mutex_lock(self.ptr()) };
                if r == 0 {
                    return Ok(());
                }
                Err(lock_error(r, self.site, "pthread_mutex_lock"))
            }
            Timeout::NoWait => {
                // SAFETY: as above.
                let r = unsafe { libc::pthread_mutex_trylock(self.ptr()) };
                if r == 0 {
                    return Ok(());
                }
                if r == libc::ENOTRECOVERABLE {
                    self.release_after_failed_trylock();
                }
                // glibc reports a mutex the calling thread holds as EDEADLK, musl as EBUSY.
                let r = if r == libc::EBUSY && self.owner_tid() == crate::sys::gettid() as u32 {
                    libc::EDEADLK
                } else {
                    r
                };
                Err(lock_error(r, self.site, "pthread_mutex_trylock"))
            }
            Timeout::After(d) => self.lock_timed(d),
        }
    }

    #[inline(never)]
    fn lock_timed(&self, d: Duration) -> Result<()> {
        let (_, abs) = super::abstime(d)?;
        // SAFETY: a live mutex, a valid absolute time.
        let r = unsafe { mutex_clocklock_monotonic(self.ptr(), &abs) };
        if r == 0 {
            return Ok(());
        }
        Err(lock_error(
            r,
            self.site,
            "pthread_mutex_clocklock(CLOCK_MONOTONIC)",
        ))
    }

    /// Unlock. A thread that does not hold the mutex gets `IPCX_ERR_PERMISSION`.
    #[inline]
    pub fn unlock(&self) -> Result<()> {
        self.live()?;
        if crate::sys::ROBUST_LIST_BY_ADDRESS {
            let me = crate::sys::gettid();
            if self.holder.load(Ordering::Relaxed) != me && self.owner_tid() == me as u32 {
                return Err(Error::new(
                    Status::IPCX_ERR_INVALID,
                    format!(
                        "mutex at {}: the calling thread locked it through another handle; unlock \
                         it through that one (this C library finds a robust mutex by the address \
                         it was locked at)",
                        self.site
                    ),
                ));
            }
        }
        // SAFETY: a live mutex; error checking makes a non-owner's unlock an error.
        let r = unsafe { libc::pthread_mutex_unlock(self.ptr()) };
        if r == 0 {
            if crate::sys::ROBUST_LIST_BY_ADDRESS {
                self.holder.store(0, Ordering::Relaxed);
            }
            return Ok(());
        }
        Err(lock_error(r, self.site, "pthread_mutex_unlock"))
    }

    /// Mark the state protected by a mutex whose owner died as consistent again (after a
    /// lock returned `IPCX_ERR_OWNER_DEAD`); the caller still holds the lock.
    pub fn consistent(&self) -> Result<()> {
        self.live()?;
        // SAFETY: a live mutex.
        let r = unsafe { libc::pthread_mutex_consistent(self.ptr()) };
        if r == 0 {
            return Ok(());
        }
        if r == libc::EINVAL {
            return Err(Error::os_as(
                Status::IPCX_ERR_INVALID,
                Errno::EINVAL,
                format!(
                    "pthread_mutex_consistent(mutex at {}): the mutex is not in the owner-died state (only the thread that got IPCX_ERR_OWNER_DEAD may call this, before unlocking)",
                    self.site
                ),
            ));
        }
        Err(os(
            r,
            format_args!("pthread_mutex_consistent(mutex at {})", self.site),
        ))
    }

    /// glibc (2.36 at least) returns ENOTRECOVERABLE from `pthread_mutex_trylock` on a
    /// robust mutex but leaves the futex word holding the caller's thread id, so every
    /// later lock fails with EDEADLK in this thread and blocks in the others. Undo that: if
    /// the word names the calling thread, release it as glibc's own unlock would (swap in 0,
    /// wake a waiter if the waiters bit was set). A fixed glibc leaves the word alone, and
    /// this does nothing; so does every other C library (musl has no such bug).
    #[cold]
    #[inline(never)]
    fn release_after_failed_trylock(&self) {
        if !cfg!(target_env = "gnu") {
            return;
        }
        let tid = crate::sys::gettid() as u32 & FUTEX_TID_MASK;
        let w = self.futex_word();
        let cur = w.load(std::sync::atomic::Ordering::Acquire);
        if cur & FUTEX_TID_MASK != tid {
            return;
        }
        // Only the owner clears its id; others may only add the waiters bit meanwhile.
        let old = w.swap(0, std::sync::atomic::Ordering::Release);
        if old & FUTEX_WAITERS != 0 {
            crate::sys::futex::futex_wake_one(w);
        }
    }

    /// The futex word of the mutex (owner thread id, waiters bit).
    fn futex_word(&self) -> &AtomicU32 {
        // SAFETY: the futex word is a 4-aligned `int` member of the mapped mutex, at the
        // C library's index; used atomically, as the kernel and the C library update it
        // atomically. The mapping lives as long as `self`.
        unsafe {
            &*self
                .ptr()
                .cast::<AtomicU32>()
                .add(crate::sys::MUTEX_FUTEX_INDEX)
        }
    }

    /// The thread id in the mutex's futex word: 0 when nobody holds it. All id bits set is
    /// no thread (ids stop at 2^22): musl marks a mutex that is not recoverable so.
    /// Whether the calling thread holds the mutex (its id is in the lock word).
    fn held_by_caller(&self) -> bool {
        self.owner_tid() == crate::sys::gettid() as u32 & FUTEX_TID_MASK
    }

    fn owner_tid(&self) -> u32 {
        let w = self.futex_word();
        match w.load(std::sync::atomic::Ordering::Acquire) & FUTEX_TID_MASK {
            FUTEX_TID_MASK => 0,
            tid => tid,
        }
    }

    /// `IPCX_ERR_IN_USE` if a thread of this process holds the mutex: the handle's mapping
    /// must not go away under the thread's robust list (glibc and the kernel walk it).
    pub fn check_closable(&self) -> Result<()> {
        if self.live().is_err() {
            // Destroyed: nobody holds it (destroy refuses a held mutex).
            return Ok(());
        }
        let tid = self.owner_tid();
        if tid == 0 {
            return Ok(());
        }
        // tgkill with signal 0 only checks that the thread is in our thread group.
        // SAFETY: getpid has no preconditions.
        let ours = crate::sys::tgkill(unsafe { libc::getpid() }, tid as libc::pid_t, 0) == 0;
        if ours {
            return Err(Error::new(
                Status::IPCX_ERR_IN_USE,
                format!(
                    "mutex at {}: thread {tid} of this process holds it; unlock it before closing the handle",
                    self.site
                ),
            ));
        }
        Ok(())
    }

    /// Destroy the mutex (no process may use it afterwards). The handle stays (the caller
    /// closes it); every later call on it fails with `IPCX_ERR_REMOVED`. A mutex that some
    /// thread holds is `IPCX_ERR_IN_USE` and is kept.
    pub fn destroy(&self) -> Result<()> {
        self.live()?;
        let tid = self.owner_tid();
        if tid != 0 {
            return Err(Error::new(
                Status::IPCX_ERR_IN_USE,
                format!(
                    "mutex at {}: it is locked (by thread {tid}); unlock it first",
                    self.site
                ),
            ));
        }
        // Only one destroy wins the slot's tag, in any process.
        self.place
            .retire(Kind::Mutex, self.site)
            .map_err(|_| self.live().err().unwrap_or_else(|| self.gone()))?;
        // SAFETY: a live, unlocked mutex.
        let r = unsafe { libc::pthread_mutex_destroy(self.ptr()) };
        if r != 0 {
            self.place.unretire(Kind::Mutex);
            return Err(lock_error(r, self.site, "pthread_mutex_destroy"));
        }
        self.destroyed.store(true, Ordering::Release);
        Ok(())
    }

    #[cold]
    fn gone(&self) -> Error {
        super::destroyed(
            format_args!("the mutex at {}", self.site),
            "ipcx_mutex_destroy",
        )
    }
}

#[cold]
#[inline(never)]
fn lock_error(r: libc::c_int, site: Site, what: &str) -> Error {
    let e = Errno::from_raw(r);
    let obj = format!("{what}(mutex at {site})");
    match e {
        Errno::EOWNERDEAD => Error::os_as(
            Status::IPCX_ERR_OWNER_DEAD,
            e,
            format!(
                "{obj}: the previous owner died holding it; the calling thread holds it now: repair the protected data and call ipcx_mutex_consistent, or unlock it to make it unusable"
            ),
        ),
        Errno::ENOTRECOVERABLE => Error::os_as(
            Status::IPCX_ERR_NOT_RECOVERABLE,
            e,
            format!(
                "{obj}: an owner died holding it and the state was never marked consistent; destroy and initialise it again"
            ),
        ),
        Errno::EDEADLK => Error::os_as(
            Status::IPCX_ERR_IN_USE,
            e,
            format!("{obj}: the calling thread already holds it"),
        ),
        Errno::EPERM => Error::os_as(
            Status::IPCX_ERR_PERMISSION,
            e,
            format!("{obj}: the calling thread does not hold it"),
        ),
        Errno::EBUSY if what == "pthread_mutex_trylock" => {
            Error::timeout(format!("{obj}: held by another thread"))
        }
        Errno::EBUSY => Error::os_as(Status::IPCX_ERR_IN_USE, e, format!("{obj}: in use")),
        Errno::ETIMEDOUT => Error::timeout(format!("{obj}: timed out")),
        Errno::EINVAL => Error::os_as(
            Status::IPCX_ERR_INVALID,
            e,
            format!("{obj}: not a valid mutex (destroyed?)"),
        ),
        _ => Error::os(e, obj),
    }
}

/// A process-shared condition variable (monotonic clock) in a slot of shared memory.
///
/// Not a `pthread_cond_t`: glibc's process-shared condition variable counts its waiters in
/// the shared object (`__g_refs`, glibc 2.25-2.40), and a waiter killed inside
/// `pthread_cond_wait` never gives its count back, after which every later
/// `pthread_cond_signal`/`_broadcast` blocks for ever in every process (found by the
/// stress driver's crash trials). This one is a sequence word and a waiter count
/// ([`CondWord`]): a waiter reads the sequence, releases the mutex and sleeps on the word
/// (FUTEX_WAIT_BITSET, shared, absolute CLOCK_MONOTONIC deadline); signal and broadcast
/// bump the sequence and wake one or every sleeper. A dead waiter leaves at most a stale
/// count behind (a wake-up call too many), never a hang.
#[derive(Debug)]
pub struct Cond {
    place: Placement,
    site: Site,
    /// Destroyed through this handle; a destroy through another handle shows in the tag.
    destroyed: AtomicBool,
}

/// The shared state of a [`Cond`] (offset 0 of its slot).
#[repr(C)]
struct CondWord {
    /// Bumped by every signal and broadcast; the futex word.
    seq: AtomicU32,
    /// Waiters that may sleep on `seq` (an over-count after a waiter died is harmless).
    waiters: AtomicU32,
}

const _: () = assert!(size_of::<CondWord>() <= super::SLOT_SIZE - 8);

impl Cond {
    fn new(place: Placement, site: Site) -> Cond {
        Cond {
            place,
            site,
            destroyed: AtomicBool::new(false),
        }
    }

    /// `IPCX_ERR_REMOVED` once the condition variable was destroyed, through any handle in
    /// any process.
    #[inline(always)]
    fn live(&self) -> Result<()> {
        if !self.destroyed.load(Ordering::Relaxed) && self.place.holds(Kind::Cond) {
            return Ok(());
        }
        Err(super::destroyed(
            format_args!("the condition variable at {}", self.site),
            "ipcx_cond_destroy",
        ))
    }

    #[inline(always)]
    fn word(&self) -> &CondWord {
        // SAFETY: the slot is mapped for as long as the handle lives, aligned, and the
        // words are only accessed atomically.
        unsafe { &*self.place.ptr::<CondWord>() }
    }

    fn init(place: Placement, site: Site) -> Result<Cond> {
        let w = place.ptr::<CondWord>();
        place.init(Kind::Cond, site, || {
            // SAFETY: the slot is mapped, aligned and large enough; nobody uses it yet.
            unsafe {
                w.write(CondWord {
                    seq: AtomicU32::new(0),
                    waiters: AtomicU32::new(0),
                })
            };
            Ok(())
        })?;
        Ok(Cond::new(place, site))
    }

    /// Initialise a condition variable at `offset` of `region` (once, by one process).
    pub fn init_in(region: &Region, offset: usize) -> Result<Cond> {
        Cond::init(Placement::in_region(region, offset)?, Site::Region(offset))
    }

    /// Initialise a condition variable at `addr` (in a shared mapping of this process).
    pub fn init_at(addr: *mut u8) -> Result<Cond> {
        Cond::init(Placement::at(addr)?, Site::Addr(addr as usize))
    }

    fn attach(place: Placement, site: Site) -> Result<Cond> {
        place.attach(Kind::Cond, site)?;
        Ok(Cond::new(place, site))
    }

    /// Attach to the condition variable at `offset` of `region`.
    pub fn attach_in(region: &Region, offset: usize) -> Result<Cond> {
        Cond::attach(Placement::in_region(region, offset)?, Site::Region(offset))
    }

    /// Attach to the condition variable at `addr`.
    pub fn attach_at(addr: *mut u8) -> Result<Cond> {
        Cond::attach(Placement::at(addr)?, Site::Addr(addr as usize))
    }

    /// Release `m` (held by the caller), wait for a signal, and take `m` again. -1 waits
    /// forever; 0 returns `IPCX_ERR_TIMEOUT` at once without releasing `m` (after checking
    /// that the caller holds it, as a wait does); otherwise until a deadline on the
    /// monotonic clock. Whatever the outcome except `IPCX_ERR_PERMISSION`,
    /// `IPCX_ERR_NOT_RECOVERABLE` and `IPCX_ERR_INVALID`, the caller holds `m` again when
    /// this returns; `IPCX_ERR_OWNER_DEAD` means the mutex was taken back from a dead owner
    /// (it wins over a timeout). Wake-ups may be spurious: wait in a loop that checks the
    /// condition. A signal handler does not end the wait (it resumes until the same
    /// deadline), except on a thread made interruptible (`time::interruptible`): then the
    /// wait ends with `IPCX_ERR_INTERRUPTED`, `m` taken back.
    pub fn wait(&self, m: &Mutex, timeout: Timeout) -> Result<()> {
        self.live()?;
        m.live()?;
        let abs = match timeout {
            Timeout::Forever => None,
            Timeout::NoWait => {
                if !m.held_by_caller() {
                    return Err(self.not_held());
                }
                return Err(Error::timeout(format!(
                    "condition variable at {}: not waiting (timeout 0)",
                    self.site
                )));
            }
            Timeout::After(d) => Some(super::abstime(d)?.1),
        };
        let w = self.word();
        w.waiters.fetch_add(1, Ordering::SeqCst);
        let seq = w.seq.load(Ordering::SeqCst);
        if let Err(e) = m.unlock() {
            w.waiters.fetch_sub(1, Ordering::SeqCst);
            if e.status == Status::IPCX_ERR_PERMISSION {
                return Err(self.not_held());
            }
            return Err(e);
        }
        enum End {
            Woken,
            TimedOut,
            Interrupted,
        }
        let end = loop {
            match crate::sys::futex::futex_wait_until(&w.seq, seq, abs.as_ref()) {
                Errno::UnknownErrno => break End::Woken,
                Errno::EINTR if w.seq.load(Ordering::SeqCst) == seq => {
                    if crate::time::interruptible() {
                        break End::Interrupted;
                    }
                }
                Errno::ETIMEDOUT => break End::TimedOut,
                _ => break End::Woken, // EAGAIN: signalled before the sleep; EINTR after a signal
            }
        };
        w.waiters.fetch_sub(1, Ordering::SeqCst);
        // Take the mutex back whatever happened (as pthread_cond_wait does).
        m.lock(Timeout::Forever)?;
        match end {
            End::Woken => Ok(()),
            End::TimedOut => Err(Error::timeout(format!(
                "condition variable at {}: timed out",
                self.site
            ))),
            End::Interrupted => Err(Error::os(
                Errno::EINTR,
                format_args!(
                    "condition variable at {}: wait interrupted by a signal handler (the mutex \
                     is held again)",
                    self.site
                ),
            )),
        }
    }

    #[cold]
    fn not_held(&self) -> Error {
        Error::os_as(
            Status::IPCX_ERR_PERMISSION,
            Errno::EPERM,
            format!(
                "condition variable at {}: the calling thread does not hold the mutex",
                self.site
            ),
        )
    }

    fn wake(&self, n: i32) {
        let w = self.word();
        w.seq.fetch_add(1, Ordering::SeqCst);
        if w.waiters.load(Ordering::SeqCst) == 0 {
            return;
        }
        crate::sys::futex::futex_wake(&w.seq, n);
    }

    /// Wake one waiter.
    pub fn signal(&self) -> Result<()> {
        self.live()?;
        self.wake(1);
        Ok(())
    }

    /// Wake every waiter.
    pub fn broadcast(&self) -> Result<()> {
        self.live()?;
        self.wake(i32::MAX);
        Ok(())
    }

    /// Destroy the condition variable. The handle stays (the caller closes it); every later
    /// call on it fails with `IPCX_ERR_REMOVED`. No process may wait on it afterwards.
    pub fn destroy(&self) -> Result<()> {
        self.live()?;
        // Only one destroy wins the slot's tag, in any process.
        self.place.retire(Kind::Cond, self.site).map_err(|_| {
            super::destroyed(
                format_args!("the condition variable at {}", self.site),
                "ipcx_cond_destroy",
            )
        })?;
        self.destroyed.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ms;

    #[test]
    fn mutex_errors_and_timeouts() {
        let r = Region::anonymous(4096).unwrap();
        let m = Mutex::init_in(&r, 0).unwrap();
        let c = Cond::init_in(&r, 64).unwrap();
        assert_eq!(m.unlock().unwrap_err().status, Status::IPCX_ERR_PERMISSION);
        m.lock(ms(-1)).unwrap();
        assert_eq!(m.lock(ms(0)).unwrap_err().status, Status::IPCX_ERR_IN_USE);
        assert_eq!(
            m.check_closable().unwrap_err().status,
            Status::IPCX_ERR_IN_USE
        );
        let t = std::time::Instant::now();
        assert!(c.wait(&m, ms(30)).unwrap_err().is_timeout());
        assert!(t.elapsed() >= std::time::Duration::from_millis(30));
        assert_eq!(m.consistent().unwrap_err().status, Status::IPCX_ERR_INVALID);
        assert_eq!(m.destroy().unwrap_err().status, Status::IPCX_ERR_IN_USE);
        m.unlock().unwrap();
        m.check_closable().unwrap();
        let m2 = Mutex::attach_in(&r, 0).unwrap();
        m.destroy().unwrap();
        c.destroy().unwrap();
        // Every later call fails the same way, through this handle or another one.
        for e in [
            m.lock(ms(0)),
            m.unlock(),
            m.destroy(),
            m2.lock(ms(-1)),
            c.signal(),
            c.destroy(),
        ] {
            assert_eq!(e.unwrap_err().status, Status::IPCX_ERR_REMOVED);
        }
        m.check_closable().unwrap();
    }
}
