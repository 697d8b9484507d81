// SPDX-License-Identifier: MIT OR Apache-2.0
//! System V shared memory segments: shmget, shmat, shmdt, shmctl.
//!
//! A [`Segment`] is the kernel object (its id and key); attaching it gives a
//! [`Region`] whose release is `shmdt`. The two are separate because the kernel keeps them
//! separate: a segment exists without being attached (created by one process, attached
//! later by others), may be attached several times, is stat'ed and removed without an
//! attachment, and its attachments outlive its removal.
//!
//! Permissions: opening by key or by id checks none (shmget with no permission bits asks
//! for nothing); attaching, stat and removal are checked by the kernel, as for every System
//! V family.
//!
//! Removal (IPC_RMID) only marks the segment: the key is released at once (a new segment
//! may take it), existing attachments stay valid, and the memory is freed at the last
//! detach. Linux would even let a process attach a marked segment by id; ipcx refuses that
//! (`IPCX_ERR_REMOVED`), as other systems do: "removed" means no new users.

use std::ptr::NonNull;

use nix::errno::Errno;

use crate::error::{Error, Result, Status};
use crate::flags::Disposition;
use crate::options::{Opt, Options};
use crate::shm::Protection;
use crate::shm::region::{Kind, Region, Release};
use crate::sys::{wide_i64, wide_u64};

/// The private key: always a new segment, reachable by its id only.
pub(crate) const KEY_PRIVATE: i32 = libc::IPC_PRIVATE;

/// Mode bit of a segment marked for removal (`SHM_DEST` in `<linux/shm.h>`).
const SHM_DEST: u32 = 0o1000;

/// A System V shared memory segment, by id.
#[derive(Debug)]
pub struct Segment {
    id: i32,
    /// Removed through this handle.
    removed: bool,
}

/// What [`Segment::stat`] reports (shmctl IPC_STAT).
#[derive(Clone, Copy, Debug, Default)]
pub struct SegmentInfo {
    /// The segment id.
    pub id: i32,
    /// Its key (0, IPC_PRIVATE, for private segments and once removed).
    pub key: i32,
    /// Size in bytes, as given at creation.
    pub segment_size: usize,
    /// Number of attachments in all processes (a fork adds the child's).
    pub attach_count: u64,
    /// Pid of the process that created it.
    pub creator_pid: i32,
    /// Pid of the process that last attached or detached it.
    pub last_pid: i32,
    /// Time of the last attach, seconds since the epoch (0: never).
    pub attach_time: i64,
    /// Time of the last detach, seconds since the epoch (0: never).
    pub detach_time: i64,
    /// Time of creation or of the last change, seconds since the epoch.
    pub change_time: i64,
    /// Permission bits (for example 0600).
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Creator user id.
    pub creator_uid: u32,
    /// Creator group id.
    pub creator_gid: u32,
    /// True once removed (IPC_RMID) while still attached somewhere: it disappears at the
    /// last detach.
    pub removed: bool,
}

fn shm_stat(id: i32) -> std::result::Result<libc::shmid_ds, Errno> {
    // SAFETY: a zeroed shmid_ds buffer; the kernel validates the id.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    if unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) } < 0 {
        return Err(Errno::last());
    }
    Ok(ds)
}

/// Read a `/proc/sys/kernel/...` value for a message ("?" when unreadable).
fn sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn shmmax() -> Option<u128> {
    sysctl("shmmax").parse().ok()
}

fn key_text(key: i32) -> String {
    if key == KEY_PRIVATE {
        "IPC_PRIVATE".into()
    } else {
        format!("{:#010x}", key as u32)
    }
}

/// `size` is above SHMMAX: the message names the limit and its value.
fn above_shmmax(size: usize, key: i32) -> Option<Error> {
    match shmmax() {
        Some(max) if size as u128 > max => Some(Error::limit(format!(
            "shmget(key {}, {size} bytes): the size is above the largest segment allowed, \
             /proc/sys/kernel/shmmax ({max})",
            key_text(key)
        ))),
        _ => None,
    }
}

/// The first check of [`open`]: the options System V shared memory supports.
pub(crate) fn check_options(opts: &Options) -> Result<()> {
    opts.only(&[Opt::Mode], "System V shared memory")
}

/// Create or open (as `how` says) the segment of `key` (see `ipcx_shm_segment_open`).
pub fn open(key: i32, size: usize, how: Disposition, opts: &Options) -> Result<Segment> {
    check_options(opts)?;
    let create = how.creates();
    let k = key_text(key);
    if key == KEY_PRIVATE && !create {
        return Err(crate::name::private_key_needs_create(
            "segment",
            "another process opens an existing private segment by its id \
             (ipcx_shm_segment_id, ipcx_shm_segment_open_id)",
        ));
    }
    if create && size == 0 {
        return Err(Error::invalid(format!(
            "shmget(key {k}): size 0 is below the smallest segment, SHMMIN (1 byte); the \
             largest is /proc/sys/kernel/shmmax ({})",
            sysctl("shmmax")
        )));
    }
    if size > isize::MAX as usize {
        return Err(above_shmmax(size, key).unwrap_or_else(|| {
            Error::invalid(format!(
                "shmget(key {k}): size {size} is larger than SSIZE_MAX"
            ))
        }));
    }
    // SAFETY: plain system call. System V modes are not filtered by the umask: the mode is
    // applied exactly.
    let get = |flg: libc::c_int| match unsafe { libc::shmget(key, size, flg) } {
        id if id < 0 => Err(Errno::last()),
        id => Ok(id),
    };
    // Create exclusively first, so that we know whether this call created the segment (its
    // provenance is recorded only then); fall back to opening the existing one.
    let (id, created) = loop {
        if create {
            match get(libc::IPC_CREAT | libc::IPC_EXCL | opts.mode() as libc::c_int) {
                Ok(id) => break (id, true),
                Err(Errno::EEXIST) if !how.exclusive() && key != KEY_PRIVATE => {}
                Err(e) => return Err(get_error(e, key, size, create)),
            }
        }
        // No permission bits: opening checks no permission (the kernel checks attach, stat
        // and removal), as for the other System V families.
        match get(0) {
            Ok(id) => break (id, false),
            // Removed between the two calls: create it after all.
            Err(Errno::ENOENT) if create => continue,
            Err(e) => return Err(get_error(e, key, size, create)),
        }
    };
    if created {
        crate::hook::created_sysv(crate::hook::ObjKind::SysvShm, key, id);
    }
    Ok(Segment { id, removed: false })
}

#[cold]
fn get_error(e: Errno, key: i32, size: usize, create: bool) -> Error {
    let k = key_text(key);
    match e {
        Errno::ENOENT => Error::os(e, format_args!("shmget(key {k}): no segment has this key")),
        Errno::EEXIST => Error::os(
            e,
            format_args!("shmget(key {k}): a segment with this key already exists"),
        ),
        Errno::EINVAL => {
            if let Some(err) = above_shmmax(size, key).filter(|_| create) {
                return Error {
                    errno: e as i32,
                    ..err
                };
            }
            // The segment exists and is smaller than the size asked for.
            // SAFETY: plain system call (size 0: any size).
            let id = unsafe { libc::shmget(key, 0, 0) };
            match shm_stat(id) {
                Ok(ds) if size > ds.shm_segsz => Error::os_as(
                    Status::IPCX_ERR_INVALID,
                    e,
                    format_args!(
                        "shmget(key {k}, {size} bytes): the existing segment (id {id}) is only {} \
                         bytes; ask for at most that, or 0 for any size",
                        ds.shm_segsz
                    ),
                ),
                _ => Error::os(e, format_args!("shmget(key {k}, {size} bytes)")),
            }
        }
        Errno::ENOSPC => Error::os(
            e,
            format_args!(
                "shmget(key {k}, {size} bytes): the system limit on segments, \
                 /proc/sys/kernel/shmmni ({}), or on shared memory pages in total, \
                 /proc/sys/kernel/shmall ({} pages), is reached",
                sysctl("shmmni"),
                sysctl("shmall")
            ),
        ),
        Errno::ENOMEM => Error::os(
            e,
            format_args!(
                "shmget(key {k}, {size} bytes): not enough memory for the segment \
                 (/proc/sys/vm/overcommit_memory is {})",
                std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|_| "?".into())
            ),
        ),
        Errno::EACCES => Error::os(
            e,
            format_args!("shmget(key {k}): the segment's mode does not allow this process"),
        ),
        _ => Error::os(e, format_args!("shmget(key {k}, {size} bytes)")),
    }
}

/// Errors of IPC_STAT on an id given by the caller.
#[cold]
fn stat_error(e: Errno, id: i32, what: &str) -> Error {
    match e {
        Errno::EINVAL | Errno::EIDRM => Error::os_as(
            Status::IPCX_ERR_REMOVED,
            e,
            format_args!("{what}: segment id {id} no longer exists (it was removed)"),
        ),
        Errno::EACCES => Error::os(
            e,
            format_args!("{what}: segment id {id}: its mode does not allow reading"),
        ),
        _ => Error::os(e, format_args!("{what}: shmctl({id}, IPC_STAT)")),
    }
}

/// Open an existing segment by id (for example a private segment whose id was passed on).
/// No permission is checked (as when opening by key): a segment whose status this process
/// may not read is opened all the same, and its mode is checked at attach.
pub fn open_id(id: i32) -> Result<Segment> {
    if id < 0 {
        return Err(Error::invalid(format!("segment id {id} is negative")));
    }
    match shm_stat(id) {
        Ok(ds) if ds.shm_perm.mode as u32 & SHM_DEST != 0 => Err(Error::new(
            Status::IPCX_ERR_REMOVED,
            format!("segment id {id} was removed and only waits for its last detach"),
        )),
        // EACCES: the segment exists, and its mode does not let this process read its
        // status; attach decides what it may do.
        Ok(_) | Err(Errno::EACCES) => Ok(Segment { id, removed: false }),
        Err(e @ (Errno::EINVAL | Errno::EIDRM)) => Err(Error::os_as(
            Status::IPCX_ERR_NOT_FOUND,
            e,
            format_args!("shmctl({id}, IPC_STAT): no segment has id {id}"),
        )),
        Err(e) => Err(stat_error(e, id, "open")),
    }
}

impl Segment {
    /// The segment id (what `ipcs -m` shows).
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Attach the segment (shmat): a region of the segment's size, released by shmdt.
    pub fn attach(&self, prot: Protection) -> Result<Region> {
        let id = self.id;
        if self.removed {
            return Err(Error::new(
                Status::IPCX_ERR_REMOVED,
                format!("segment id {id} was removed through this handle; it cannot be attached"),
            ));
        }
        // The status needs read permission, as every attachment does (shmat read-only
        // needs read, read-write needs read and write).
        let ds = shm_stat(id).map_err(|e| match e {
            Errno::EACCES => Error::os(
                e,
                format_args!(
                    "shmat({id}): the segment's mode does not allow this process to attach it"
                ),
            ),
            e => stat_error(e, id, "attach"),
        })?;
        if ds.shm_perm.mode as u32 & SHM_DEST != 0 {
            return Err(Error::new(
                Status::IPCX_ERR_REMOVED,
                format!(
                    "segment id {id} was removed (IPC_RMID); existing attachments stay valid \
                     but ipcx does not make new ones"
                ),
            ));
        }
        let writable = prot.writable();
        let shmflg = if writable { 0 } else { libc::SHM_RDONLY };
        // SAFETY: the kernel picks the address; nothing existing is affected.
        let p = unsafe { libc::shmat(id, std::ptr::null(), shmflg) };
        if p as isize == -1 {
            let e = Errno::last();
            return Err(match e {
                Errno::EINVAL | Errno::EIDRM => stat_error(e, id, "shmat"),
                Errno::EACCES => Error::os(
                    e,
                    format_args!(
                        "shmat({id}, {}): the segment's mode ({:o}) does not allow it",
                        if writable { "read-write" } else { "read-only" },
                        ds.shm_perm.mode & 0o777
                    ),
                ),
                Errno::ENOMEM => Error::os(
                    e,
                    format_args!("shmat({id}): no room in the address space (RLIMIT_AS)"),
                ),
                _ => Error::os(e, format_args!("shmat({id})")),
            });
        }
        let base = NonNull::new(p.cast()).ok_or_else(|| Error::internal("shmat returned NULL"))?;
        // SAFETY: a live attachment of `shm_segsz` bytes that shmdt releases, owned by nobody
        // else. The segment's size never changes, so the region cannot shrink.
        let mut r =
            unsafe { Region::from_raw(base, ds.shm_segsz, writable, Kind::SysV, Release::Shmdt) };
        r.set_origin(format!("id {id}"));
        Ok(r)
    }

    /// shmctl(IPC_STAT).
    pub fn stat(&self) -> Result<SegmentInfo> {
        let ds = shm_stat(self.id).map_err(|e| stat_error(e, self.id, "stat"))?;
        let p = &ds.shm_perm;
        Ok(SegmentInfo {
            id: self.id,
            key: crate::sys::ipc_key(p),
            segment_size: ds.shm_segsz,
            attach_count: wide_u64(ds.shm_nattch),
            creator_pid: ds.shm_cpid,
            last_pid: ds.shm_lpid,
            attach_time: wide_i64(ds.shm_atime),
            detach_time: wide_i64(ds.shm_dtime),
            change_time: wide_i64(ds.shm_ctime),
            mode: p.mode as u32 & 0o777,
            uid: p.uid,
            gid: p.gid,
            creator_uid: p.cuid,
            creator_gid: p.cgid,
            removed: p.mode as u32 & SHM_DEST != 0,
        })
    }

    /// shmctl(IPC_RMID): the key is released now, the memory at the last detach.
    pub fn remove(&mut self) -> Result<()> {
        let id = self.id;
        if self.removed {
            return Err(Error::new(
                Status::IPCX_ERR_REMOVED,
                format!("segment id {id} was already removed through this handle"),
            ));
        }
        // Removed elsewhere while still attached: the segment is only marked (SHM_DEST), and
        // IPC_RMID would succeed again. A status this process may not read says nothing.
        if matches!(shm_stat(id), Ok(ds) if ds.shm_perm.mode as u32 & SHM_DEST != 0) {
            return Err(Error::new(
                Status::IPCX_ERR_REMOVED,
                format!(
                    "segment id {id} was already removed (it is marked for destruction and \
                     goes with its last attachment)"
                ),
            ));
        }
        // SAFETY: plain system call on the id this handle refers to.
        if unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) } < 0 {
            let e = Errno::last();
            return Err(match e {
                Errno::EINVAL | Errno::EIDRM => stat_error(e, id, "remove"),
                Errno::EPERM => Error::os(
                    e,
                    format_args!(
                        "shmctl({id}, IPC_RMID): only the owner or creator of the segment (or a \
                         process with CAP_SYS_ADMIN) may remove it"
                    ),
                ),
                _ => Error::os(e, format_args!("shmctl({id}, IPC_RMID)")),
            });
        }
        crate::hook::removed_sysv(crate::hook::ObjKind::SysvShm, id);
        self.removed = true;
        Ok(())
    }
}
