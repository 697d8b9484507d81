// SPDX-License-Identifier: MIT OR Apache-2.0
//! The shared object behind a ring: creating, opening, checking, mapping and removing the
//! POSIX shared-memory object of a named ring, the sealed memfd of an anonymous one, and
//! the header written at creation.

use super::*;

/// Fill a fresh header (the object is exclusively ours: just created, or being
/// re-initialised under the open lock with nobody attached).
pub(super) fn init_header(r: &Region, g: &Geometry) {
    // SAFETY: the header area and the first data word are inside the mapping; nobody
    // else uses them now.
    unsafe {
        std::ptr::write_bytes(r.base(), 0, DATA_OFFSET + 8);
    }
    // SAFETY: the region holds a header.
    let h = unsafe { &*(r.base() as *const Header) };
    let id = &h.ident.0;
    id.state.store(STATE_INITIALISING, Ordering::Release);
    id.magic.store(MAGIC, Ordering::Release);
    id.version.store(VERSION, Ordering::Relaxed);
    id.flags.store(
        if g.mpmc { layout::FLAG_MPMC } else { 0 },
        Ordering::Relaxed,
    );
    id.data_offset.store(DATA_OFFSET as u32, Ordering::Relaxed);
    id.capacity.store(g.capacity, Ordering::Relaxed);
    id.max_message.store(g.max_message, Ordering::Relaxed);
    let mut nonce = 0u64;
    // SAFETY: 8 writable bytes.
    unsafe { libc::getrandom((&mut nonce as *mut u64).cast(), 8, 0) };
    if nonce == 0 {
        nonce = Instant::now().elapsed().as_nanos() as u64 ^ std::process::id() as u64;
    }
    id.nonce.store(nonce, Ordering::Relaxed);
    // SAFETY: getpid cannot fail.
    id.creator_pid
        .store(unsafe { libc::getpid() } as u32, Ordering::Relaxed);
    id.creator_start
        .store(crate::sys::proc::own_start(), Ordering::Relaxed);
    id.state.store(STATE_READY, Ordering::Release);
}

/// Attach to an existing named ring (the open lock is held). `Ok(None)`: the object is
/// still empty (being created).
#[allow(clippy::too_many_arguments)]
pub(super) fn attach_existing(
    fd: OwnedFd,
    name: &str,
    role: Role,
    opts: &Options,
    mpmc: bool,
    want: &Geometry,
    what: &str,
    spin: u64,
) -> Result<Option<Ring>> {
    let size = object_size(fd.as_fd(), what)?;
    if size == 0 {
        return Ok(None);
    }
    let not_ring = |why: &str| {
        Err(Error::new(
            Status::IPCX_ERR_EXISTS,
            format!("{what} exists but is not an ipcx ring ({why}); it is left untouched"),
        ))
    };
    if !(DATA_OFFSET + layout::MIN_CAPACITY..=DATA_OFFSET + layout::MAX_CAPACITY).contains(&size) {
        return not_ring(&format!("size {size}"));
    }
    let region = map_named(fd.as_fd(), size, name)?;
    // SAFETY: the region holds at least a header.
    let h = unsafe { &*(region.base() as *const Header) };
    if h.ident.0.magic.load(Ordering::Acquire) != MAGIC {
        return not_ring("bad magic");
    }
    let version = h.ident.0.version.load(Ordering::Acquire);
    if version != VERSION {
        return Err(Error::unsupported(format!(
            "{what} has ring layout version {version}; this ipcx understands {VERSION}"
        )));
    }
    let state = h.ident.0.state.load(Ordering::Acquire);
    let geometry = if state == STATE_READY {
        Geometry::read(&h.ident.0, size)
    } else {
        Err(Error::protocol("its creator died while initialising it"))
    };
    let g = match geometry {
        Ok(g) => g,
        Err(e) => {
            // Ours (the magic says so) but unusable: re-initialise it if nobody is
            // attached, never under a live user.
            if (Peers { hdr: h }).anyone_alive(fd.as_fd(), usize::MAX) {
                return Err(e.context(what));
            }
            drop(region);
            let g = *want;
            shm::set_size(fd.as_fd(), g.region_len(), what, "/dev/shm")?;
            let r = map_named(fd.as_fd(), g.region_len(), name)?;
            init_header(&r, &g);
            let mut ring = Ring::new(r, fd, role, g, what.to_string(), spin, true)?;
            ring.claim_use()?;
            return Ok(Some(ring));
        }
    };
    // Options the caller set explicitly must match the existing ring.
    let mismatch = |o: &str, have: u64, asked: u64| {
        Err(Error::invalid(format!(
            "{what} exists with {o} {have}, the options ask for {asked} (remove it to \
             re-create it)"
        )))
    };
    if opts.capacity.is_some() && want.capacity != g.capacity {
        return mismatch("capacity", g.capacity, want.capacity);
    }
    if opts.max_message.is_some() && want.max_message != g.max_message {
        return mismatch("max_message", g.max_message, want.max_message);
    }
    if mpmc && !g.mpmc {
        return Err(Error::invalid(format!(
            "{what} exists as a single-producer/single-consumer ring, and a multi-producer end \
             was asked (IPCX_RING_MPMC; over a shm: channel, IPCX_CHAN_MULTI_SENDER)"
        )));
    }
    let mut ring = Ring::new(region, fd, role, g, what.to_string(), spin, true)?;
    ring.claim_use()?;
    Ok(Some(ring))
}

/// Remove the named ring. Only an ipcx ring is ever removed: checked by its magic, or,
/// for an object too damaged to carry one (truncated by a peer), by the provenance record
/// of the ring ipcx created under that name, which must name this very inode.
pub fn unlink(name: &str) -> Result<()> {
    let c = check_name(name)?;
    let fd = open_object(name, &c)?;
    flock(fd.as_fd(), libc::LOCK_EX)?;
    let what = format!("ring {name:?}");
    // Read the magic with pread rather than through a mapping: the object may be shrunk
    // by someone else at any moment, and a read past its end only returns less.
    let mut magic = [0u8; 8];
    let n = nix::sys::uio::pread(fd.as_fd(), &mut magic, 0)
        .map_err(|e| Error::os(e, format_args!("pread({what})")))?;
    let size = object_size(fd.as_fd(), &what)?;
    let damaged = if n != 8 || size < DATA_OFFSET {
        Some(format!("size {size}"))
    } else if u64::from_le_bytes(magic) != MAGIC {
        Some("bad magic".to_string())
    } else {
        None
    };
    if let Some(why) = damaged {
        if !crate::hook::proves_named(crate::hook::ObjKind::Ring, name, fd.as_fd()) {
            return Err(Error::invalid(format!(
                "{what} is not an ipcx ring ({why}) and no provenance record shows that ipcx \
                 created it; not removed"
            )));
        }
    }
    nix::sys::mman::shm_unlink(c.as_ref())
        .map_err(|e| Error::os(e, format_args!("shm_unlink({name:?})")))?;
    crate::hook::removed_named(crate::hook::ObjKind::Ring, name);
    Ok(())
}

/// Check a ring name (a POSIX shared-memory name of at most [`NAME_MAX`] bytes) and make
/// its C string.
pub(crate) fn check_name(name: &str) -> Result<CString> {
    crate::name::posix_name(name, NAME_MAX)?;
    CString::new(name).map_err(|_| Error::invalid(format!("name {name:?} contains a NUL byte")))
}

/// Create the POSIX shared-memory object `name` exclusively, with exactly `mode`
/// (`IPCX_ERR_EXISTS` if it exists). It is recorded (provenance) as a ring by the caller,
/// once initialised.
pub(super) fn create_object(name: &str, c: &CStr, mode: u32) -> Result<OwnedFd> {
    let what = format!("ring {name:?}");
    let (fd, _) = shm::open_exact(
        &what,
        crate::flags::Disposition::CreateNew,
        mode,
        libc::O_RDWR | libc::O_CLOEXEC,
        // SAFETY: a valid C string.
        |of, mode| shm::owned(unsafe { libc::shm_open(c.as_ptr(), of, mode as libc::mode_t) }),
        // SAFETY: a valid C string; this call created the object a moment ago.
        || unsafe {
            libc::shm_unlink(c.as_ptr());
        },
    )?;
    Ok(fd)
}

/// Remove the object this process just created and failed to initialise.
pub(super) fn discard_object(c: &CStr) {
    let _ = nix::sys::mman::shm_unlink(c);
}

/// Open the existing POSIX shared-memory object `name` read-write.
pub(super) fn open_object(name: &str, c: &CStr) -> Result<OwnedFd> {
    let what = format!("ring {name:?}");
    let (fd, _) = shm::open_exact(
        &what,
        crate::flags::Disposition::Existing,
        0,
        libc::O_RDWR | libc::O_CLOEXEC,
        // SAFETY: a valid C string.
        |of, mode| shm::owned(unsafe { libc::shm_open(c.as_ptr(), of, mode as libc::mode_t) }),
        || {},
    )?;
    Ok(fd)
}

pub(super) fn object_size(fd: std::os::fd::BorrowedFd<'_>, what: &str) -> Result<usize> {
    Ok(shm::fstat(fd, what)?.st_size as usize)
}

/// The object's size when it no longer covers a ring of geometry `g` (a named ring's
/// object truncated by someone), else None. A failing fstat says nothing.
pub(super) fn object_shrunk(fd: std::os::fd::BorrowedFd<'_>, g: &Geometry) -> Option<u64> {
    // SAFETY: a zeroed stat buffer and a live descriptor.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::fstat(fd.as_raw_fd(), &mut st) } < 0 {
        return None;
    }
    let size = st.st_size.max(0) as u64;
    (size < g.region_len() as u64).then_some(size)
}

/// The memory of an anonymous ring: a memfd of `len` bytes (allocated now), sealed so
/// that nobody can change its size: a process holding the descriptor (a forked child,
/// or anyone who opens /proc/PID/fd/N) that shrank it would make every access past the
/// new end raise SIGBUS in both ends. `F_SEAL_GROW` too (a ring never grows), and
/// `F_SEAL_SEAL` so that the seals cannot be changed.
pub(super) fn sealed_memfd(len: usize, what: &str) -> Result<OwnedFd> {
    use nix::fcntl::{FcntlArg, SealFlag, fcntl};
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let fd = memfd_create(
        c"ipcx-ring",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .map_err(|e| crate::fd::new_fd_error(e, "memfd_create(\"ipcx-ring\")"))?;
    shm::set_size(fd.as_fd(), len, what, "memory (memfd)")?;
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL;
    fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| {
        Error::os(
            e,
            format_args!("fcntl(F_ADD_SEALS) on the memfd of an {what}"),
        )
    })?;
    Ok(fd)
}

/// Map `len` bytes of a named ring's object, read-write.
pub(super) fn map_named(fd: std::os::fd::BorrowedFd<'_>, len: usize, name: &str) -> Result<Region> {
    map_apart(fd, len, Kind::Posix, name)
}

/// Map `len` bytes of the ring's object through an open file description of its own, not
/// `fd`'s. A mapping keeps the description it was made from alive until it is unmapped,
/// and `fd`'s description holds the attachment's liveness lock: mapped from it, the lock
/// would outlive the close of the handle's descriptor until the mapping goes, after the
/// close has told the peers to look (`Drop`), and a peer woken by that (a poll
/// descriptor's datagram) would find the closed end still alive and wait for a wake-up
/// that never comes. Without /proc (no second description), `fd` itself.
pub(super) fn map_apart(
    fd: std::os::fd::BorrowedFd<'_>,
    len: usize,
    kind: Kind,
    what: &str,
) -> Result<Region> {
    match shm::reopen(fd, what) {
        Ok(own) => shm::map_fd(own.as_fd(), len, true, kind, what),
        Err(_) => shm::map_fd(fd, len, true, kind, what),
    }
}

/// flock(fd, LOCK_EX / LOCK_UN), retrying EINTR: the open/recovery lock of a named ring
/// (released by the kernel if its holder dies). Raw: nix's `Flock` takes ownership of the
/// descriptor, and this lock is taken and released on one the ring keeps.
pub(super) fn flock(fd: std::os::fd::BorrowedFd<'_>, op: libc::c_int) -> Result<()> {
    loop {
        // SAFETY: valid descriptor.
        if unsafe { libc::flock(fd.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = nix::errno::Errno::last();
        if e != nix::errno::Errno::EINTR {
            return Err(Error::os(e, "flock(ring)"));
        }
    }
}
