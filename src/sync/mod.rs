// SPDX-License-Identifier: MIT OR Apache-2.0
//! Synchronisation between processes: POSIX semaphores ([`sem`]), System V semaphore
//! sets ([`sysv`]), and robust process-shared mutexes and condition variables ([`lock`]).
//!
//! # Objects placed in shared memory
//!
//! Unnamed semaphores, mutexes and condition variables live in memory shared by the
//! processes that use them. ipcx gives each one a *slot* of [`SLOT_SIZE`] bytes aligned to
//! [`SLOT_ALIGN`] (published to C as `IPCX_SEM_SIZE`, `IPCX_MUTEX_SIZE`, ...), so that a C
//! program can lay out a region without knowing glibc's struct sizes, and so that the
//! sizes can change without breaking that layout:
//!
//! ```text
//! offset 0                         SLOT_SIZE - 8        SLOT_SIZE
//! | native object (sem_t, pthread_...) ... | tag (8 bytes) |
//! ```
//!
//! The native object sits at offset 0, so a program that does not use ipcx can use it with
//! the raw calls at the same address. The tag, written last by the initialising process
//! (release) and checked by every attaching process (acquire), says which kind of object
//! the slot holds: attaching to a slot that was never initialised, was destroyed, or holds
//! another kind of object is an error instead of undefined behaviour, and two processes
//! racing to initialise the same slot cannot both succeed (the tag is claimed first with a
//! compare-and-swap).
//!
//! # Lifetime: a handle maps its object on its own
//!
//! A handle to a placed object does not borrow the region (or the caller's mapping) it was
//! placed through: it maps the page that holds the object a second time (`mremap` with an
//! old size of 0, which duplicates a shared mapping) and unmaps that page when the handle
//! is closed. Closing the region before the handle is therefore harmless: the object stays
//! reachable through the handle. The same call rejects memory that is not a shared mapping
//! (a process-shared object in private memory would not be shared: `IPCX_ERR_INVALID`) or
//! not mapped at all.

pub mod lock;
pub mod sem;
pub mod sysv;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::mman::{self, MRemapFlags, ProtFlags};

use crate::error::{Error, Result, Status};
use crate::shm::region::Region;

/// Bytes reserved for one placed object (semaphore, mutex, condition variable).
pub(crate) const SLOT_SIZE: usize = 64;
/// Alignment required for a placed object (a cache line: no false sharing between slots).
pub(crate) const SLOT_ALIGN: usize = 64;
/// Where the tag lives in a slot.
const TAG_OFFSET: usize = SLOT_SIZE - 8;

// Every native object fits in front of the tag, and its alignment divides the slot's.
const _: () = assert!(
    size_of::<libc::sem_t>() <= TAG_OFFSET
        && size_of::<libc::pthread_mutex_t>() <= TAG_OFFSET
        && size_of::<libc::pthread_cond_t>() <= TAG_OFFSET
        && SLOT_ALIGN % align_of::<libc::sem_t>() == 0
        && SLOT_ALIGN % align_of::<libc::pthread_mutex_t>() == 0
        && SLOT_ALIGN % align_of::<libc::pthread_cond_t>() == 0
        && SLOT_ALIGN % align_of::<AtomicU64>() == 0
        && 4096 % SLOT_ALIGN == 0
);

/// The kind of object a slot holds, recorded in its tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A POSIX unnamed semaphore (`sem_t`, pshared).
    Sem,
    /// A robust process-shared mutex (`pthread_mutex_t`).
    Mutex,
    /// A process-shared condition variable (ipcx's futex sequence word).
    Cond,
}

/// Tag of a slot some process is initialising right now.
const TAG_BUSY: u64 = u64::from_le_bytes(*b"ipcxBUSY");

impl Kind {
    const fn tag(self) -> u64 {
        match self {
            Kind::Sem => u64::from_le_bytes(*b"ipcxSEM1"),
            Kind::Mutex => u64::from_le_bytes(*b"ipcxMTX1"),
            Kind::Cond => u64::from_le_bytes(*b"ipcxCND2"),
        }
    }

    fn from_tag(t: u64) -> Option<Kind> {
        [Kind::Sem, Kind::Mutex, Kind::Cond]
            .into_iter()
            .find(|k| k.tag() == t)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Sem => "semaphore",
            Kind::Mutex => "mutex",
            Kind::Cond => "condition variable",
        }
    }
}

/// Where a placed object was asked for, for messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Site {
    /// At an offset in a region.
    Region(usize),
    /// At an address given by the caller.
    Addr(usize),
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Site::Region(o) => write!(f, "offset {o} of the region"),
            Site::Addr(a) => write!(f, "address {a:#x}"),
        }
    }
}

/// A slot of shared memory holding one placed object, mapped by its handle alone (see the
/// module documentation). Dropping it unmaps the handle's page; the object itself stays.
#[derive(Debug)]
pub(crate) struct Placement {
    /// The handle's own mapping of the object's page; `None` when it borrows the caller's.
    page: Option<(NonNull<u8>, usize)>,
    obj: NonNull<u8>,
}

// SAFETY: a private mapping of shared memory; the objects in it are made for concurrent use
// by threads and processes (that is their purpose), and the struct is never mutated.
unsafe impl Send for Placement {}
// SAFETY: as above.
unsafe impl Sync for Placement {}

impl Placement {
    /// The slot at `offset` of `region`: bounds, alignment and writability checked.
    pub(crate) fn in_region(region: &Region, offset: usize) -> Result<Placement> {
        let p = region.range(offset, SLOT_SIZE, SLOT_ALIGN)?;
        if !region.writable() {
            return Err(Error::new(
                Status::IPCX_ERR_PERMISSION,
                "the region is mapped read-only; a semaphore, mutex or condition variable needs write access",
            ));
        }
        Placement::map(p, Site::Region(offset))
    }

    /// The slot at `addr`, which must be [`SLOT_ALIGN`]-aligned and lie in a writable
    /// shared mapping of this process.
    pub(crate) fn at(addr: *mut u8) -> Result<Placement> {
        if addr.is_null() {
            return Err(Error::invalid("address is NULL"));
        }
        if addr as usize % SLOT_ALIGN != 0 {
            return Err(Error::invalid(format!(
                "address {addr:p} is not aligned to {SLOT_ALIGN} bytes"
            )));
        }
        Placement::map(addr, Site::Addr(addr as usize))
    }

    /// Map the page holding the slot at `p` a second time (mremap with old size 0 duplicates
    /// a shared mapping; a private or missing mapping is refused by the kernel). Where the
    /// duplication is not supported although the memory is a shared mapping (valgrind does
    /// not emulate it), the placement borrows the caller's mapping instead.
    fn map(p: *mut u8, site: Site) -> Result<Placement> {
        let ps = crate::sys::page_size();
        let start = p as usize & !(ps - 1);
        // A slot never crosses a page: SLOT_ALIGN divides the page size.
        let page_len = ps;
        let start_ptr =
            NonNull::new(start as *mut libc::c_void).ok_or_else(|| Error::internal("NULL slot"))?;
        // SAFETY: mremap with old_size 0 only creates a new mapping; it changes nothing else.
        let q = unsafe { mman::mremap(start_ptr, 0, page_len, MRemapFlags::MREMAP_MAYMOVE, None) };
        let q = match q {
            Ok(q) => q,
            Err(e) => return Self::refused(p, e, site),
        };
        // The caller's mapping may be read-only: our page must be writable (this fails for a
        // file opened read-only; a writable file mapped PROT_READ is fine).
        // SAFETY: our own new mapping.
        if unsafe { mman::mprotect(q, page_len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE) }
            .is_err()
        {
            // SAFETY: our own new mapping.
            let _ = unsafe { mman::munmap(q, page_len) };
            return Err(read_only(site));
        }
        let page = q.cast::<u8>();
        // SAFETY: the offset is inside the new page.
        let obj = unsafe { NonNull::new_unchecked(page.as_ptr().add(p as usize - start)) };
        Ok(Placement {
            page: Some((page, page_len)),
            obj,
        })
    }

    /// Why the kernel refused to duplicate the page at `p` (`e`): no mapping there, a
    /// private or read-only one; or a shared writable one it cannot duplicate (valgrind),
    /// where the placement borrows the caller's mapping.
    #[cold]
    fn refused(p: *mut u8, e: Errno, site: Site) -> Result<Placement> {
        let m = mapping_of(p as usize).map(|m| (m.shared, m.writable));
        match (e, m) {
            (Errno::EINVAL | Errno::EFAULT, None) => Err(Error::os_as(
                Status::IPCX_ERR_INVALID,
                e,
                format!("{site}: no memory is mapped there"),
            )),
            (Errno::EINVAL | Errno::EFAULT, Some((false, _))) => Err(Error::os_as(
                Status::IPCX_ERR_INVALID,
                e,
                format!(
                    "{site}: the memory is not a shared mapping (MAP_SHARED); an object placed there would not be shared with other processes"
                ),
            )),
            (Errno::EINVAL, Some((true, false))) => Err(read_only(site)),
            (Errno::EINVAL, Some((true, true))) => Ok(Placement {
                page: None,
                // SAFETY: not NULL (checked by the callers).
                obj: unsafe { NonNull::new_unchecked(p) },
            }),
            _ => Err(Error::os(
                e,
                format_args!("{site}: mremap (mapping the object's page)"),
            )),
        }
    }

    /// The native object (offset 0 of the slot).
    #[inline(always)]
    pub(crate) fn ptr<T>(&self) -> *mut T {
        self.obj.as_ptr().cast()
    }

    fn tag(&self) -> &AtomicU64 {
        // SAFETY: the tag is 8-aligned inside the mapped slot, and only accessed atomically.
        unsafe { &*self.obj.as_ptr().add(TAG_OFFSET).cast::<AtomicU64>() }
    }

    /// Initialise the slot as `kind`: claim the tag, run `init` on the native object, then
    /// publish the tag. A slot that already holds an object (or is being initialised) is
    /// `IPCX_ERR_EXISTS`; if `init` fails the slot is left free.
    pub(crate) fn init(
        &self,
        kind: Kind,
        site: Site,
        init: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let tag = self.tag();
        let cur = tag.load(Ordering::Acquire);
        if cur == TAG_BUSY || Kind::from_tag(cur).is_some() {
            return Err(busy_or_live(cur, kind, site));
        }
        if let Err(now) = tag.compare_exchange(cur, TAG_BUSY, Ordering::Acquire, Ordering::Acquire)
        {
            return Err(busy_or_live(now, kind, site));
        }
        match init() {
            Ok(()) => {
                tag.store(kind.tag(), Ordering::Release);
                Ok(())
            }
            Err(e) => {
                tag.store(0, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Whether the slot still holds an initialised object of `kind` (not destroyed through
    /// any handle, in any process). One atomic load: the calls on placed objects check it.
    #[inline(always)]
    pub(crate) fn holds(&self, kind: Kind) -> bool {
        self.tag().load(Ordering::Acquire) == kind.tag()
    }

    /// Check that the slot holds an initialised object of `kind`.
    pub(crate) fn attach(&self, kind: Kind, site: Site) -> Result<()> {
        let cur = self.tag().load(Ordering::Acquire);
        if cur == kind.tag() {
            return Ok(());
        }
        Err(not_there(cur, kind, site))
    }

    /// Mark the slot free before the native object is destroyed. Fails if the slot does not
    /// hold a live object of `kind` (already destroyed by another process).
    pub(crate) fn retire(&self, kind: Kind, site: Site) -> Result<()> {
        self.tag()
            .compare_exchange(kind.tag(), 0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|cur| not_there(cur, kind, site))
    }

    /// Put the tag back (a destroy that was refused after [`Placement::retire`]).
    pub(crate) fn unretire(&self, kind: Kind) {
        self.tag().store(kind.tag(), Ordering::Release);
    }
}

fn busy_or_live(cur: u64, kind: Kind, site: Site) -> Error {
    let what = match Kind::from_tag(cur) {
        Some(k) if k == kind => format!(
            "{site}: a {} is already initialised there (attach to it, or destroy it first)",
            k.name()
        ),
        Some(k) => format!("{site}: a {} is initialised there", k.name()),
        None => format!(
            "{site}: another process is initialising an object there (if it died doing so, zero the {SLOT_SIZE}-byte slot and initialise again)"
        ),
    };
    Error::new(Status::IPCX_ERR_EXISTS, what)
}

fn not_there(cur: u64, kind: Kind, site: Site) -> Error {
    match Kind::from_tag(cur) {
        Some(k) => Error::invalid(format!(
            "{site}: a {} is initialised there, not a {}",
            k.name(),
            kind.name()
        )),
        None if cur == TAG_BUSY => Error::new(
            Status::IPCX_ERR_NOT_FOUND,
            format!(
                "{site}: the {} there is still being initialised by another process",
                kind.name()
            ),
        ),
        None => Error::new(
            Status::IPCX_ERR_NOT_FOUND,
            format!(
                "{site}: no {} is initialised there (never initialised, or destroyed)",
                kind.name()
            ),
        ),
    }
}

impl Drop for Placement {
    fn drop(&mut self) {
        if let Some((page, len)) = self.page {
            // SAFETY: the page was mapped by `map` and is owned by this placement alone.
            let _ = unsafe { mman::munmap(page.cast(), len) };
        }
    }
}

/// The error of a call on a handle whose object was destroyed (`_destroy` through this
/// handle or another one, in any process): `IPCX_ERR_REMOVED`, the same for semaphores,
/// mutexes and condition variables.
#[cold]
#[inline(never)]
pub(crate) fn destroyed(what: impl std::fmt::Display, func: &str) -> Error {
    Error::new(
        Status::IPCX_ERR_REMOVED,
        format!("{what} was destroyed ({func}); the handle only serves to be closed"),
    )
}

fn read_only(site: Site) -> Error {
    Error::new(
        Status::IPCX_ERR_PERMISSION,
        format!(
            "{site}: the memory cannot be written (mapped from a read-only file or region); a semaphore, mutex or condition variable needs write access"
        ),
    )
}

/// What /proc/self/maps says about the mapping holding an address. Cold paths only.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MapInfo {
    /// MAP_SHARED.
    pub(crate) shared: bool,
    /// Mapped writable.
    pub(crate) writable: bool,
    /// Inode of the mapped file (0 for anonymous memory).
    pub(crate) inode: u64,
}

/// The mapping holding `addr`, from /proc/self/maps; `None` if nothing is mapped there.
pub(crate) fn mapping_of(addr: usize) -> Option<MapInfo> {
    use std::io::Read;
    // Read through a buffer on the stack, never the heap: a heap buffer large enough to
    // be a mapping of its own could land on `addr` itself (a page the caller has just
    // unmapped) and be reported as what is mapped there.
    let mut f = std::fs::File::open("/proc/self/maps").ok()?;
    let mut buf = [0u8; 8192];
    let mut have = 0;
    loop {
        let n = f.read(&mut buf[have..]).ok()?;
        have += n;
        let mut start = 0;
        while let Some(nl) = buf[start..have].iter().position(|&b| b == b'\n') {
            if let Some(m) = map_line(&buf[start..start + nl], addr) {
                return Some(m);
            }
            start += nl + 1;
        }
        if n == 0 {
            return map_line(&buf[start..have], addr);
        }
        buf.copy_within(start..have, 0);
        have -= start;
        if have == buf.len() {
            return None; // a line longer than any /proc/self/maps line can be
        }
    }
}

/// One line of /proc/self/maps (start-end perms offset dev inode [path]), if its range
/// holds `addr`.
fn map_line(line: &[u8], addr: usize) -> Option<MapInfo> {
    let line = std::str::from_utf8(line).ok()?;
    let mut f = line.split_whitespace();
    let (lo, hi) = f.next()?.split_once('-')?;
    let (lo, hi) = (
        usize::from_str_radix(lo, 16).ok()?,
        usize::from_str_radix(hi, 16).ok()?,
    );
    let perms = f.next()?.as_bytes();
    let inode = f.nth(2)?.parse().ok()?;
    (lo..hi).contains(&addr).then_some(MapInfo {
        shared: perms.get(3) == Some(&b's'),
        writable: perms.get(1) == Some(&b'w'),
        inode,
    })
}

/// A slot in ordinary, process-private memory, for thread-only objects ipcx allocates.
#[repr(C, align(64))]
pub(crate) struct PrivateSlot(std::cell::UnsafeCell<[u8; SLOT_SIZE]>);

impl PrivateSlot {
    pub(crate) fn new() -> Box<PrivateSlot> {
        Box::new(PrivateSlot(std::cell::UnsafeCell::new([0; SLOT_SIZE])))
    }

    #[inline(always)]
    pub(crate) fn ptr<T>(&self) -> *mut T {
        self.0.get().cast()
    }
}

impl std::fmt::Debug for PrivateSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateSlot({:p})", self.0.get())
    }
}

// SAFETY: the slot holds a native object made for concurrent use by threads.
unsafe impl Sync for PrivateSlot {}
// SAFETY: as above.
unsafe impl Send for PrivateSlot {}

/// C library functions the libc crate does not declare (yet). The `clock` variants of the
/// timed waits (glibc 2.30) are looked up at run time: see [`crate::sys`].
///
/// cbindgen:ignore
mod sys {
    unsafe extern "C" {
        pub(crate) fn semtimedop(
            semid: libc::c_int,
            sops: *mut libc::sembuf,
            nsops: libc::size_t,
            timeout: *const libc::timespec,
        ) -> libc::c_int;
    }
}

/// The deadline of a timeout (not -1: callers handle forever themselves) and the same
/// deadline as an absolute CLOCK_MONOTONIC time, for the `clock*` calls.
pub(crate) fn abstime(t: Duration) -> Result<(crate::time::Deadline, libc::timespec)> {
    let d = crate::time::Deadline::after(t);
    let abs = d
        .abstime_monotonic()
        .ok_or_else(|| Error::internal("a finite timeout without a deadline"))?;
    Ok((d, abs))
}

/// Build an error from a pthread-style return code (the errno value itself).
pub(crate) fn os(code: libc::c_int, what: impl std::fmt::Display) -> Error {
    Error::os(Errno::from_raw(code), what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_outlives_the_region_and_checks_tags() {
        let r = Region::anonymous(8192).unwrap();
        assert!(Placement::in_region(&r, 8).is_err()); // misaligned
        assert!(Placement::in_region(&r, 8192 - 32).is_err()); // out of the region
        let p = Placement::in_region(&r, 4096 + 128).unwrap();
        let q = Placement::in_region(&r, 4096 + 128).unwrap();
        assert_eq!(
            q.attach(Kind::Sem, Site::Region(0)).unwrap_err().status,
            Status::IPCX_ERR_NOT_FOUND
        );
        p.init(Kind::Sem, Site::Region(0), || Ok(())).unwrap();
        assert_eq!(
            q.init(Kind::Sem, Site::Region(0), || Ok(()))
                .unwrap_err()
                .status,
            Status::IPCX_ERR_EXISTS
        );
        q.attach(Kind::Sem, Site::Region(0)).unwrap();
        assert_eq!(
            q.attach(Kind::Mutex, Site::Region(0)).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        drop(r);
        // The region is gone; the handle's own page still maps the slot.
        q.attach(Kind::Sem, Site::Region(0)).unwrap();
        q.retire(Kind::Sem, Site::Region(0)).unwrap();
        assert!(p.retire(Kind::Sem, Site::Region(0)).is_err());
    }

    #[test]
    fn private_memory_is_refused() {
        let mut v = vec![0u8; 256];
        let a = ((v.as_mut_ptr() as usize + 63) & !63) as *mut u8;
        let e = Placement::at(a).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_INVALID);
        assert!(e.msg.contains("not a shared mapping"), "{}", e.msg);
    }
}
