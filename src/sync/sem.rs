// SPDX-License-Identifier: MIT OR Apache-2.0
//! POSIX semaphores: named (`sem_open`), unnamed in shared memory (`sem_init` with
//! pshared = 1, placed in a slot, see [`super`]), and thread-only unnamed semaphores in
//! memory ipcx allocates (`sem_init` with pshared = 0, the seed's case for threads).
//!
//! Every kind answers the same calls: wait (P) with a timeout (`sem_wait` forever,
//! `sem_trywait` for no wait, `sem_clockwait` on `CLOCK_MONOTONIC` otherwise), post (V),
//! value. The hot paths are one glibc call each, with nothing allocated or formatted
//! unless the call fails.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::errno::Errno;

use super::{Kind, Placement, PrivateSlot, Site};
use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::name;
use crate::options::{Opt, Options};
use crate::shm::region::Region;
use crate::sys::sem_clockwait_monotonic;
use crate::time::{self, Deadline, Timeout};

/// The largest value of a POSIX semaphore (glibc's SEM_VALUE_MAX).
pub(crate) const VALUE_MAX: i64 = i32::MAX as i64;

/// Longest named-semaphore name, leading slash included: glibc stores "/name" as
/// /dev/shm/sem.name, and that file name may have at most NAME_MAX (255) bytes.
pub(crate) const NAME_MAX: usize = name::SEM_NAME_MAX;

/// Who owns the memory of the `sem_t`.
#[derive(Debug)]
enum Owner {
    /// Mapped by `sem_open`; released by `sem_close`.
    Named(String),
    /// A slot in shared memory, mapped by the handle.
    Placed(Placement, Site),
    /// Thread-only, allocated by ipcx (`Box::into_raw`, so that no `Box` asserts unique
    /// access while threads use the `sem_t` inside); destroyed and freed with the handle.
    Private(std::ptr::NonNull<PrivateSlot>),
}

/// A POSIX semaphore of any kind.
#[derive(Debug)]
pub struct Sem {
    ptr: *mut libc::sem_t,
    owner: Owner,
    /// Destroyed through this handle ([`Sem::destroy`]): every later call fails. (A placed
    /// semaphore destroyed through another handle is seen in its slot's tag.)
    destroyed: AtomicBool,
}

// SAFETY: a sem_t is made for concurrent use; the struct is not mutated after creation
// except `destroyed`, an atomic.
unsafe impl Send for Sem {}
// SAFETY: as above.
unsafe impl Sync for Sem {}

fn check_value(value: i64) -> Result<libc::c_uint> {
    if value < 0 {
        return Err(Error::invalid(format!(
            "initial value {value} is negative (a semaphore counts from 0 to SEM_VALUE_MAX)"
        )));
    }
    if value > VALUE_MAX {
        return Err(Error::limit(format!(
            "initial value {value} is above SEM_VALUE_MAX ({VALUE_MAX})"
        )));
    }
    Ok(value as libc::c_uint)
}

/// The file of the named semaphore `name` (see [`crate::sys::SEM_FILE_PREFIX`]).
pub(crate) fn shm_path(name: &str) -> String {
    format!("/dev/shm/{}{}", crate::sys::SEM_FILE_PREFIX, &name[1..])
}

/// The file behind the name, opened without following links, if it is the one mapped at
/// `p` (the semaphore this process created): checked by inode, so that a name unlinked and
/// re-created by another process meanwhile is left alone.
fn open_if_ours(name: &str, p: *mut libc::sem_t) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let path = CString::new(shm_path(name)).ok()?;
    // SAFETY: a valid C string; a fresh descriptor, owned right away.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: just opened.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: fstat into a zeroed buffer.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return None;
    }
    let ours = super::mapping_of(p as usize).is_some_and(|m| m.inode == st.st_ino);
    ours.then_some(fd)
}

fn still_ours(name: &str, p: *mut libc::sem_t) -> bool {
    open_if_ours(name, p).is_some()
}

/// Give the semaphore this process just created (mapped at `p`) exactly `mode`.
fn set_mode(name: &str, p: *mut libc::sem_t, mode: u32) -> Result<()> {
    use std::os::fd::AsRawFd;
    // Gone or replaced already (another process unlinked the name): nothing to fix.
    let Some(fd) = open_if_ours(name, p) else {
        return Ok(());
    };
    // SAFETY: fchmod on an owned descriptor.
    if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } < 0 {
        return Err(Error::last_os(format_args!(
            "fchmod({:?}, {mode:o}) after creating semaphore {name:?}",
            shm_path(name)
        )));
    }
    Ok(())
}

impl Sem {
    /// The checks of [`Sem::open`] that come before its disposition: the options, then the
    /// name.
    pub(crate) fn check_open(name: &str, opts: &Options) -> Result<()> {
        opts.only(&[Opt::Mode], "named semaphores")?;
        name::posix_name(name, NAME_MAX).map_err(|e| {
            e.context(format_args!(
                "named semaphore (at most {NAME_MAX} bytes with the slash)"
            ))
        })?;
        Ok(())
    }

    fn new(ptr: *mut libc::sem_t, owner: Owner) -> Sem {
        Sem {
            ptr,
            owner,
            destroyed: AtomicBool::new(false),
        }
    }

    /// Open the named semaphore `name` (`/something`), creating it with `value` and the
    /// options' mode (default 0600, applied exactly) when `how` creates.
    pub fn open(name: &str, value: i64, how: Disposition, opts: &Options) -> Result<Sem> {
        Sem::check_open(name, opts)?;
        let create = how.creates();
        let value = if create { check_value(value)? } else { 0 };
        let mode = opts.mode();
        let c = CString::new(name).map_err(|_| Error::invalid("name contains a NUL byte"))?;
        // Create exclusively first, so that we know whether this call created it (only then
        // is the mode applied); fall back to opening an existing one.
        loop {
            if create {
                // SAFETY: valid C string; mode and value as the variadic sem_open expects.
                let p = unsafe {
                    libc::sem_open(
                        c.as_ptr(),
                        libc::O_CREAT | libc::O_EXCL,
                        mode as libc::c_uint,
                        value,
                    )
                };
                if p != libc::SEM_FAILED {
                    let sem = Sem::new(p, Owner::Named(name.to_string()));
                    // sem_open applied the umask: set the mode exactly.
                    if let Err(e) = set_mode(name, p, mode) {
                        // We created it a moment ago: do not leave it with a wrong mode,
                        // if the name still refers to it (checked while it is mapped).
                        let ours = still_ours(name, p);
                        drop(sem);
                        if ours {
                            // SAFETY: valid C string.
                            unsafe { libc::sem_unlink(c.as_ptr()) };
                        }
                        return Err(e);
                    }
                    if let Some(fd) = open_if_ours(name, p) {
                        use std::os::fd::AsFd;
                        crate::hook::created_named(
                            crate::hook::ObjKind::PosixSem,
                            name,
                            Some(fd.as_fd()),
                        );
                    }
                    return Ok(sem);
                }
                let e = Errno::last();
                if e != Errno::EEXIST || how.exclusive() {
                    return Err(open_error(e, name, true));
                }
            }
            // SAFETY: valid C string.
            let p = unsafe { libc::sem_open(c.as_ptr(), 0) };
            if p != libc::SEM_FAILED {
                return Ok(Sem::new(p, Owner::Named(name.to_string())));
            }
            let e = Errno::last();
            if !(e == Errno::ENOENT && create) {
                return Err(open_error(e, name, false));
            }
            // Unlinked between our two attempts: try to create it again.
        }
    }

    /// Remove the name `name`; processes that have it open keep using it.
    pub fn unlink(name: &str) -> Result<()> {
        name::posix_name(name, NAME_MAX)?;
        let c = CString::new(name).map_err(|_| Error::invalid("name contains a NUL byte"))?;
        // SAFETY: valid C string.
        if unsafe { libc::sem_unlink(c.as_ptr()) } < 0 {
            return Err(Error::last_os(format_args!("sem_unlink({name:?})")));
        }
        crate::hook::removed_named(crate::hook::ObjKind::PosixSem, name);
        Ok(())
    }

    fn placed(place: Placement, site: Site) -> Sem {
        Sem::new(place.ptr(), Owner::Placed(place, site))
    }

    /// Initialise a process-shared semaphore in the slot `place` (once, by one process).
    pub(crate) fn init(place: Placement, site: Site, value: i64) -> Result<Sem> {
        let v = check_value(value)?;
        let p = place.ptr::<libc::sem_t>();
        place.init(Kind::Sem, site, || {
            // SAFETY: the slot is mapped, aligned and large enough for a sem_t.
            if unsafe { libc::sem_init(p, 1, v) } < 0 {
                return Err(Error::last_os("sem_init(pshared=1)"));
            }
            Ok(())
        })?;
        Ok(Sem::placed(place, site))
    }

    /// Initialise a semaphore at `offset` of `region`.
    pub fn init_in(region: &Region, offset: usize, value: i64) -> Result<Sem> {
        check_value(value)?;
        Sem::init(
            Placement::in_region(region, offset)?,
            Site::Region(offset),
            value,
        )
    }

    /// Initialise a semaphore at `addr` (in a shared mapping of this process).
    pub fn init_at(addr: *mut u8, value: i64) -> Result<Sem> {
        check_value(value)?;
        Sem::init(Placement::at(addr)?, Site::Addr(addr as usize), value)
    }

    /// Attach to a semaphore another process initialised in the slot `place`.
    pub(crate) fn attach(place: Placement, site: Site) -> Result<Sem> {
        place.attach(Kind::Sem, site)?;
        Ok(Sem::placed(place, site))
    }

    /// Attach to the semaphore at `offset` of `region`.
    pub fn attach_in(region: &Region, offset: usize) -> Result<Sem> {
        Sem::attach(Placement::in_region(region, offset)?, Site::Region(offset))
    }

    /// Attach to the semaphore at `addr`.
    pub fn attach_at(addr: *mut u8) -> Result<Sem> {
        Sem::attach(Placement::at(addr)?, Site::Addr(addr as usize))
    }

    /// A thread-only semaphore in memory ipcx allocates (pshared = 0).
    pub fn private(value: i64) -> Result<Sem> {
        let v = check_value(value)?;
        let slot = PrivateSlot::new();
        let p = slot.ptr::<libc::sem_t>();
        // SAFETY: a fresh, aligned slot large enough for a sem_t.
        if unsafe { libc::sem_init(p, 0, v) } < 0 {
            return Err(Error::last_os("sem_init(pshared=0)"));
        }
        // SAFETY: Box::into_raw never returns NULL.
        let raw = unsafe { std::ptr::NonNull::new_unchecked(Box::into_raw(slot)) };
        Ok(Sem::new(p, Owner::Private(raw)))
    }

    /// `IPCX_ERR_REMOVED` once the semaphore was destroyed: through this handle, or (for a
    /// placed one) through any handle in any process. The hot paths check it first: one
    /// relaxed load, plus the slot's tag for a placed semaphore.
    #[inline(always)]
    fn live(&self) -> Result<()> {
        let ok = !self.destroyed.load(Ordering::Relaxed)
            && match &self.owner {
                Owner::Placed(place, _) => place.holds(Kind::Sem),
                _ => true,
            };
        if ok {
            return Ok(());
        }
        Err(super::destroyed(self.describe(), "ipcx_sem_destroy"))
    }

    /// Destroy an unnamed semaphore (`sem_destroy`). The handle stays (the caller closes
    /// it); every later call on it fails with `IPCX_ERR_REMOVED`. A placed semaphore's slot
    /// is freed for a new object; a thread-only semaphore's memory is freed with the
    /// handle. A named one is refused (its name is removed with [`Sem::unlink`]).
    pub fn destroy(&self) -> Result<()> {
        match &self.owner {
            Owner::Named(n) => Err(Error::invalid(format!(
                "semaphore {n:?} is named: close it, and remove the name with ipcx_sem_remove"
            ))),
            Owner::Placed(place, site) => {
                self.live()?;
                // Only one destroy wins the slot's tag, in any process.
                place
                    .retire(Kind::Sem, *site)
                    .map_err(|_| super::destroyed(self.describe(), "ipcx_sem_destroy"))?;
                self.destroyed.store(true, Ordering::Release);
                // SAFETY: a live semaphore (the tag said so); glibc's sem_destroy only checks.
                unsafe { libc::sem_destroy(self.ptr) };
                Ok(())
            }
            Owner::Private(_) => {
                if self.destroyed.swap(true, Ordering::AcqRel) {
                    return Err(super::destroyed(self.describe(), "ipcx_sem_destroy"));
                }
                // SAFETY: initialised by sem_init, destroyed once (the swap above); the
                // memory stays until the handle is dropped.
                unsafe { libc::sem_destroy(self.ptr) };
                Ok(())
            }
        }
    }

    /// P: wait until the value is above zero and decrement it. `timeout` as in the C
    /// API: -1 forever (`sem_wait`), 0 no wait (`sem_trywait`), else `sem_clockwait` on the
    /// monotonic clock. Signals: see [`time::on_eintr`].
    #[inline]
    pub fn wait(&self, timeout: Timeout) -> Result<()> {
        self.live()?;
        match timeout {
            Timeout::Forever => loop {
                // SAFETY: a live semaphore for as long as the handle lives.
                if unsafe { libc::sem_wait(self.ptr) } == 0 {
                    return Ok(());
                }
                self.wait_failed(&Deadline::forever(), "sem_wait")?;
            },
            Timeout::NoWait => {
                // SAFETY: as above.
                if unsafe { libc::sem_trywait(self.ptr) } == 0 {
                    return Ok(());
                }
                Err(self.error(Errno::last(), "sem_trywait"))
            }
            Timeout::After(d) => self.wait_timed(d),
        }
    }

    #[inline(never)]
    fn wait_timed(&self, d: Duration) -> Result<()> {
        let (deadline, abs) = super::abstime(d)?;
        loop {
            // SAFETY: a live semaphore; a valid absolute timespec.
            if unsafe { sem_clockwait_monotonic(self.ptr, &abs) } == 0 {
                return Ok(());
            }
            self.wait_failed(&deadline, "sem_clockwait(CLOCK_MONOTONIC)")?;
        }
    }

    /// After a failed wait: `Ok` to retry (EINTR), else the error.
    #[cold]
    #[inline(never)]
    fn wait_failed(&self, deadline: &Deadline, what: &str) -> Result<()> {
        let e = Errno::last();
        if e == Errno::EINTR {
            return time::on_eintr(deadline, format_args!("{what}({})", self.describe()));
        }
        Err(self.error(e, what))
    }

    /// V: increment the value, waking one waiter.
    #[inline]
    pub fn post(&self) -> Result<()> {
        self.live()?;
        // SAFETY: a live semaphore.
        if unsafe { libc::sem_post(self.ptr) } == 0 {
            return Ok(());
        }
        Err(self.error(Errno::last(), "sem_post"))
    }

    /// The current value (0 when processes are waiting: Linux never reports a negative
    /// count of waiters).
    pub fn value(&self) -> Result<i32> {
        self.live()?;
        let mut v: libc::c_int = 0;
        // SAFETY: a live semaphore, a valid out-pointer.
        if unsafe { libc::sem_getvalue(self.ptr, &mut v) } < 0 {
            return Err(self.error(Errno::last(), "sem_getvalue"));
        }
        Ok(v)
    }

    fn describe(&self) -> String {
        match &self.owner {
            Owner::Named(n) => format!("{n:?}"),
            Owner::Placed(_, site) => format!("unnamed semaphore at {site}"),
            Owner::Private(_) => "thread-only semaphore".to_string(),
        }
    }

    #[cold]
    #[inline(never)]
    fn error(&self, e: Errno, what: &str) -> Error {
        let obj = self.describe();
        match e {
            Errno::EAGAIN => Error::timeout(format!("{what}({obj}): the value is 0")),
            Errno::ETIMEDOUT => Error::timeout(format!("{what}({obj}): timed out")),
            Errno::EOVERFLOW => Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!("{what}({obj}): the value is already SEM_VALUE_MAX ({VALUE_MAX})"),
            ),
            _ => Error::os(e, format_args!("{what}({obj})")),
        }
    }
}

fn open_error(e: Errno, name: &str, create: bool) -> Error {
    let call = if create {
        format!("sem_open({name:?}, O_CREAT | O_EXCL)")
    } else {
        format!("sem_open({name:?})")
    };
    match e {
        Errno::ENOENT if !create => Error::os_as(
            Status::IPCX_ERR_NOT_FOUND,
            e,
            format!("{call}: no semaphore has this name"),
        ),
        Errno::EEXIST => Error::os_as(
            Status::IPCX_ERR_EXISTS,
            e,
            format!("{call}: a semaphore with this name already exists"),
        ),
        Errno::EMFILE | Errno::ENFILE => Error::os_as(
            Status::IPCX_ERR_LIMIT,
            e,
            format!("{call}: out of file descriptors (RLIMIT_NOFILE or /proc/sys/fs/file-max)"),
        ),
        Errno::ENOSPC | Errno::ENOMEM => Error::os_as(
            Status::IPCX_ERR_LIMIT,
            e,
            format!("{call}: /dev/shm is full or out of memory"),
        ),
        _ => Error::os(e, call),
    }
}

impl Drop for Sem {
    fn drop(&mut self) {
        match &self.owner {
            // SAFETY: opened by sem_open, closed once.
            Owner::Named(_) => unsafe {
                libc::sem_close(self.ptr);
            },
            Owner::Placed(..) => {} // the placement unmaps its page
            // SAFETY: initialised by sem_init (destroyed once: here unless `destroy` did);
            // nobody else can reach the private slot, which came from Box::into_raw and is
            // freed once.
            Owner::Private(slot) => unsafe {
                if !*self.destroyed.get_mut() {
                    libc::sem_destroy(self.ptr);
                }
                drop(Box::from_raw(slot.as_ptr()));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ms;

    #[test]
    fn private_semaphore_counts_and_times_out() {
        let s = Sem::private(2).unwrap();
        s.wait(ms(0)).unwrap();
        s.wait(ms(-1)).unwrap();
        assert!(s.wait(ms(0)).unwrap_err().is_timeout());
        let t = std::time::Instant::now();
        assert!(s.wait(ms(30)).unwrap_err().is_timeout());
        assert!(t.elapsed() >= std::time::Duration::from_millis(30));
        s.post().unwrap();
        assert_eq!(s.value().unwrap(), 1);
        assert_eq!(
            Sem::private(-1).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        assert_eq!(
            Sem::private(VALUE_MAX + 1).unwrap_err().status,
            Status::IPCX_ERR_LIMIT
        );
        let full = Sem::private(VALUE_MAX).unwrap();
        assert_eq!(full.post().unwrap_err().status, Status::IPCX_ERR_LIMIT);
        // Destroy leaves a handle whose calls fail; the memory goes with the handle.
        s.destroy().unwrap();
        for e in [s.post(), s.wait(ms(0)), s.value().map(|_| ()), s.destroy()] {
            assert_eq!(e.unwrap_err().status, Status::IPCX_ERR_REMOVED);
        }
    }

    #[test]
    fn placed_semaphore_destroyed_through_another_handle() {
        let r = Region::anonymous(4096).unwrap();
        let a = Sem::init_in(&r, 64, 1).unwrap();
        let b = Sem::attach_in(&r, 64).unwrap();
        b.destroy().unwrap();
        assert_eq!(a.post().unwrap_err().status, Status::IPCX_ERR_REMOVED);
        assert_eq!(a.destroy().unwrap_err().status, Status::IPCX_ERR_REMOVED);
        assert_eq!(
            Sem::attach_in(&r, 64).unwrap_err().status,
            Status::IPCX_ERR_NOT_FOUND
        );
    }
}
