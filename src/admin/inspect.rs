// SPDX-License-Identifier: MIT OR Apache-2.0
//! Inspecting the IPC objects of the machine, telling ipcx's from others', finding the
//! stale ones, and removing them.
//!
//! Sources: System V objects from /proc/sysvipc/{msg,shm,sem}; POSIX shared memory and
//! named semaphores from /dev/shm (`sem.NAME` files are semaphores); POSIX message queues
//! from /dev/mqueue when it is mounted, otherwise only through ipcx's records (the kernel
//! offers no other way to enumerate them); FIFOs and socket files through ipcx's records,
//! and other programs' under the directories the caller names; ipcx's records
//! ([`crate::admin::provenance`]).
//!
//! An object is ipcx's when a trusted record names it and the object matches the record
//! (same owner; same inode, or for System V the same key, creator uid and, for segments,
//! creator pid). It is *stale* when it is ipcx's, its creator is dead (pid gone, a zombie,
//! or reused by a process with another start time) and nothing is attached:
//! - System V segments: nattch is 0;
//! - System V queues: neither the last sender nor the last receiver is alive;
//! - System V semaphore sets: no waiter, and no live process among the last to operate on
//!   each semaphore;
//! - POSIX shared memory, rings, named semaphores, queues and FIFOs: no process has it open
//!   (/proc/PID/fd) or mapped (/proc/PID/maps), what `lsof` does;
//! - socket files: no socket is bound to it (a datagram connect probe is refused).
//!
//! When some process's /proc entries cannot be read (another user's, as non-root), an
//! object whose mode lets other users open it has an unknown attachment count and is never
//! stale. A record whose object is gone is reported as *vanished* (removed by someone else,
//! or by systemd-logind's RemoveIPC=, see docs/inspect.md).

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use nix::errno::Errno;

use crate::admin::provenance::{self, FileInfo, ObjKind, Record, Stamp};
use crate::error::{Error, Result, Status};

crate::flags::option_set! {
    /// What a listing knows about an object beyond its fields.
    pub struct InfoFlags {
        /// A trusted ipcx record names this object and the object matches it.
        const IPCX = 0;
        /// ipcx's, its creator is dead and nothing is attached.
        const STALE = 1;
        /// Only the record is left; the object it names is gone.
        const VANISHED = 2;
        /// Clean results: removed (the object and its record, or the vanished record).
        const REMOVED = 3;
    }
}

/// What is known about one object, as a listing reports it (`ipcx_object_info` in C).
#[derive(Clone, Debug)]
pub struct ObjectInfo {
    /// The kind.
    pub kind: ObjKind,
    /// What else is known.
    pub flags: InfoFlags,
    /// POSIX name ("/orders") or absolute path; empty for System V objects. NUL-free
    /// (object names and paths cannot hold a NUL), kept as a C string for the C view.
    pub name: CString,
    /// System V key (0 for IPC_PRIVATE and for other kinds).
    pub key: i32,
    /// System V id; -1 for other kinds.
    pub id: i32,
    /// Owner uid.
    pub uid: u32,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes (segments, shared memory objects, rings; bytes queued in queues).
    pub bytes: u64,
    /// Messages queued, semaphores in a set; -1 where it does not apply.
    pub depth: i64,
    /// Processes attached; -1 unknown.
    pub attached: i64,
    /// The creator's pid; 0 unknown.
    pub creator_pid: i32,
    /// 1 running, 0 gone, -1 unknown.
    pub creator_alive: i32,
    /// The last process to use it; 0 unknown.
    pub last_pid: i32,
    /// Creation time, seconds since the epoch; 0 unknown.
    pub created: i64,
    /// Age in seconds; -1 unknown.
    pub age: i64,
}

/// One object, as the listing builds it.
#[derive(Clone, Debug)]
struct Obj {
    kind: ObjKind,
    name: String,
    key: i32,
    id: i32,
    uid: u32,
    /// System V creator uid.
    cuid: u32,
    mode: u32,
    size: u64,
    depth: i64,
    attached: i64,
    creator_pid: i32,
    creator_alive: i32,
    last_pid: i32,
    /// Live processes among these count as attached (System V queues and sets).
    users: Vec<i32>,
    /// Someone is blocked on it (System V semaphore waiters).
    waiters: bool,
    created: i64,
    flags: InfoFlags,
    stamp: Option<Stamp>,
    record: Option<Record>,
    /// The record is on the object's inode (an extended attribute): it goes with the object.
    on_inode: bool,
}

impl Obj {
    fn new(kind: ObjKind, name: String) -> Obj {
        Obj {
            kind,
            name,
            key: 0,
            id: -1,
            uid: 0,
            cuid: 0,
            mode: 0,
            size: 0,
            depth: -1,
            attached: -1,
            creator_pid: 0,
            creator_alive: -1,
            last_pid: 0,
            users: Vec::new(),
            waiters: false,
            created: 0,
            flags: InfoFlags::NONE,
            stamp: None,
            record: None,
            on_inode: false,
        }
    }

    fn from_file(kind: ObjKind, name: String, fi: &FileInfo) -> Obj {
        let mut o = Obj::new(kind, name);
        o.uid = fi.uid;
        o.mode = fi.mode & 0o777;
        o.size = if kind.is_path() { 0 } else { fi.size };
        o.stamp = Some(fi.stamp);
        o.created = fi.stamp.btime.map_or(0, |b| b.0);
        o
    }

    /// What messages call it.
    fn describe(&self) -> String {
        if self.kind.is_sysv() {
            format!("{} id {}", self.kind.name(), self.id)
        } else {
            format!("{} {:?}", self.kind.name(), self.name)
        }
    }

    fn info(&self, now: i64) -> ObjectInfo {
        ObjectInfo {
            kind: self.kind,
            flags: self.flags,
            // Names and paths come from the kernel or from records, which cannot hold a
            // NUL; one that did would be shown up to it.
            name: CString::new(self.name.split('\0').next().unwrap_or_default())
                .unwrap_or_default(),
            key: self.key,
            id: self.id,
            uid: self.uid,
            mode: self.mode,
            bytes: self.size,
            depth: self.depth,
            attached: self.attached,
            creator_pid: self.creator_pid,
            creator_alive: self.creator_alive,
            last_pid: self.last_pid,
            created: self.created,
            age: if self.created > 0 {
                (now - self.created).max(0)
            } else {
                -1
            },
        }
    }
}

/// The result of a listing or a clean: objects and warnings (untrusted record directories
/// or records, unreadable sources, removals that failed).
#[derive(Debug, Default)]
pub struct Listing {
    /// The objects, in a stable order (kind, then name or id).
    pub objects: Vec<ObjectInfo>,
    /// Warnings, one per line, NUL-terminated for C.
    pub warnings: CString,
}

fn realtime_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn euid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() }
}

// ------------------------------------------------------------------ sources

/// The rows of a /proc/sysvipc file, as maps from column name to value.
fn sysvipc(file: &str, warnings: &mut Vec<String>) -> Vec<HashMap<String, String>> {
    let path = format!("/proc/sysvipc/{file}");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(format!("{path}: {e}"));
            return Vec::new();
        }
    };
    let mut lines = text.lines();
    let cols: Vec<String> = match lines.next() {
        Some(h) => h.split_whitespace().map(str::to_string).collect(),
        None => return Vec::new(),
    };
    lines
        .map(|l| {
            cols.iter()
                .cloned()
                .zip(l.split_whitespace().map(str::to_string))
                .collect()
        })
        .collect()
}

fn num<T: std::str::FromStr + Default>(row: &HashMap<String, String>, col: &str) -> T {
    row.get(col)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

fn sysv_objects(warnings: &mut Vec<String>) -> Vec<Obj> {
    let mut out = Vec::new();
    for (file, kind) in [
        ("msg", ObjKind::SysvMsq),
        ("shm", ObjKind::SysvShm),
        ("sem", ObjKind::SysvSem),
    ] {
        let idcol = match kind {
            ObjKind::SysvMsq => "msqid",
            ObjKind::SysvShm => "shmid",
            _ => "semid",
        };
        for row in sysvipc(file, warnings) {
            let mut o = Obj::new(kind, String::new());
            o.key = num::<i64>(&row, "key") as i32;
            o.id = num(&row, idcol);
            o.uid = num(&row, "uid");
            o.cuid = num(&row, "cuid");
            o.mode = row
                .get("perms")
                .and_then(|p| u32::from_str_radix(p, 8).ok())
                .unwrap_or(0)
                & 0o777;
            o.created = num(&row, "ctime");
            match kind {
                ObjKind::SysvMsq => {
                    o.size = num(&row, "cbytes");
                    o.depth = num(&row, "qnum");
                    o.last_pid = num(&row, "lspid");
                    o.users = vec![num(&row, "lspid"), num(&row, "lrpid")];
                }
                ObjKind::SysvShm => {
                    o.size = num(&row, "size");
                    o.attached = num(&row, "nattch");
                    o.creator_pid = num(&row, "cpid");
                    o.last_pid = num(&row, "lpid");
                    o.creator_alive = alive_code(crate::sys::proc::process_alive(o.creator_pid, 0));
                }
                _ => {
                    o.depth = num(&row, "nsems");
                    sem_users(&mut o);
                }
            }
            out.push(o);
        }
    }
    out
}

/// The last process to operate on each semaphore of a set, and whether anyone waits.
fn sem_users(o: &mut Obj) {
    let n = o.depth.clamp(0, 4096) as libc::c_int;
    for i in 0..n {
        // SAFETY: plain system calls on an id; errors (no permission) give -1.
        let pid = unsafe { libc::semctl(o.id, i, libc::GETPID) };
        if pid > 0 {
            o.users.push(pid);
            o.last_pid = o.last_pid.max(pid);
        }
        let waiting =
            unsafe { libc::semctl(o.id, i, libc::GETNCNT) + libc::semctl(o.id, i, libc::GETZCNT) };
        if waiting > 0 {
            o.waiters = true;
        }
    }
}

fn alive_code(a: Option<bool>) -> i32 {
    match a {
        Some(true) => 1,
        Some(false) => 0,
        None => -1,
    }
}

/// POSIX shared memory objects and named semaphores in /dev/shm.
/// The warning for an object whose name is not valid UTF-8: ipcx names are text, so it is
/// not listed (nor removable through ipcx); the warning shows it with U+FFFD.
fn not_utf8(p: &std::path::Path) -> String {
    format!(
        "{}: the name is not valid UTF-8: not listed (ipcx cannot name it; remove it with rm \
         or the system call)",
        p.to_string_lossy()
    )
}

fn dev_shm_objects(warnings: &mut Vec<String>) -> Vec<Obj> {
    let me = euid();
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(provenance::RECORDS_PARENT) {
        Ok(rd) => rd,
        Err(e) => {
            warnings.push(format!("{}: {e}", provenance::RECORDS_PARENT));
            return out;
        }
    };
    for e in rd.flatten() {
        let Ok(n) = e.file_name().into_string() else {
            warnings.push(not_utf8(
                &std::path::Path::new(provenance::RECORDS_PARENT).join(e.file_name()),
            ));
            continue;
        };
        if n.starts_with('.') {
            continue;
        }
        // With musl a semaphore's file is named like a shared memory object: the records
        // tell them apart (collect).
        let (kind, name) = match n.strip_prefix(crate::sys::SEM_FILE_PREFIX) {
            Some(s) if !s.is_empty() && !crate::sys::SEM_FILE_PREFIX.is_empty() => {
                (ObjKind::PosixSem, format!("/{s}"))
            }
            _ => (ObjKind::PosixShm, format!("/{n}")),
        };
        let Ok(c) = CString::new(format!("{}/{n}", provenance::RECORDS_PARENT)) else {
            continue;
        };
        // The record on the inode, where this process may read it.
        let Some((fi, rec)) = provenance::read_xattr_path(&c) else {
            continue;
        };
        if fi.file_type() != libc::S_IFREG {
            continue;
        }
        let mut o = Obj::from_file(kind, name, &fi);
        match rec {
            // Others' records are read only by root, as with record files.
            _ if fi.uid != me && me != 0 => {}
            Some(Ok(r)) if r.name == o.name && file_kind_fits(kind, r.kind) => {
                adopt(&mut o, r);
                o.on_inode = true;
            }
            Some(Ok(r)) => warnings.push(format!(
                "record on {} is not trusted and was ignored: it describes {} {:?}",
                c.to_string_lossy(),
                r.kind.name(),
                r.name
            )),
            Some(Err(why)) => warnings.push(format!(
                "record on {} is not trusted and was ignored: {why}",
                c.to_string_lossy()
            )),
            None => {}
        }
        out.push(o);
    }
    out
}

/// Whether a record of `rec` kind may stand on a /dev/shm file taken for `file` kind: a
/// shared memory file holds a shared memory object or a ring (or, with musl, whose
/// semaphores are files named like shared memory objects, a semaphore).
fn file_kind_fits(file: ObjKind, rec: ObjKind) -> bool {
    match rec {
        ObjKind::PosixShm | ObjKind::Ring => file == ObjKind::PosixShm,
        ObjKind::PosixSem => file == ObjKind::PosixSem || crate::sys::SEM_FILE_PREFIX.is_empty(),
        _ => false,
    }
}

const MQUEUE_DIR: &str = "/dev/mqueue";
const MQUEUE_MAGIC: i64 = 0x1980_0202;

fn mqueue_mounted() -> bool {
    let Ok(c) = CString::new(MQUEUE_DIR) else {
        return false;
    };
    // SAFETY: a zeroed statfs buffer and a valid C string.
    let mut s: crate::sys::statfs = unsafe { std::mem::zeroed() };
    let r = unsafe { crate::sys::statfs(c.as_ptr(), &mut s) };
    r == 0 && s.f_type as i64 == MQUEUE_MAGIC
}

/// Bytes queued, from /dev/mqueue/NAME ("QSIZE:N ...").
fn mqueue_qsize(name: &str) -> u64 {
    std::fs::read_to_string(format!("{MQUEUE_DIR}{name}"))
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .next()?
                .strip_prefix("QSIZE:")?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// POSIX message queues in /dev/mqueue, when it is mounted.
fn mqueue_objects(warnings: &mut Vec<String>) -> Vec<Obj> {
    let mut out = Vec::new();
    if !mqueue_mounted() {
        return out;
    }
    let Ok(rd) = std::fs::read_dir(MQUEUE_DIR) else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(n) = e.file_name().into_string() else {
            warnings.push(not_utf8(
                &std::path::Path::new(MQUEUE_DIR).join(e.file_name()),
            ));
            continue;
        };
        if let Some(o) = mq_probe(&format!("/{n}")) {
            out.push(o);
        }
    }
    out
}

/// Open a POSIX queue just to look at it (identity, depth); `None` when it does not exist.
/// The descriptor is closed at once (before any /proc scan).
fn mq_probe(name: &str) -> Option<Obj> {
    let c = CString::new(name).ok()?;
    let mut fd = -1;
    for acc in [libc::O_RDONLY, libc::O_WRONLY] {
        // SAFETY: a valid C string; no O_CREAT, so no mode or attributes are read.
        fd = unsafe { libc::mq_open(c.as_ptr(), acc | libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if fd >= 0 || Errno::last() != Errno::EACCES {
            break;
        }
    }
    if fd < 0 {
        if Errno::last() == Errno::EACCES {
            // It exists but even its owner may not open it: identity unknown.
            let mut o = Obj::new(ObjKind::PosixMq, name.to_string());
            o.mode = 0;
            return Some(o);
        }
        return None;
    }
    // SAFETY: a fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let fi = provenance::file_info_fd(fd.as_fd()).ok()?;
    let mut o = Obj::from_file(ObjKind::PosixMq, name.to_string(), &fi);
    o.size = if mqueue_mounted() {
        mqueue_qsize(name)
    } else {
        0
    };
    // SAFETY: mq_getattr fills an mq_attr.
    let mut a: libc::mq_attr = unsafe { std::mem::zeroed() };
    if unsafe { libc::mq_getattr(fd.as_raw_fd(), &mut a) } == 0 {
        o.depth = crate::sys::wide_i64(a.mq_curmsgs);
    }
    Some(o)
}

/// FIFOs and socket files under `dir` (recursively; symbolic links are not followed and
/// other filesystems are not entered).
fn scan_dir(dir: &str, out: &mut Vec<Obj>, warnings: &mut Vec<String>) {
    let root_dev = match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => m.dev(),
        Ok(_) => {
            warnings.push(format!("{dir:?} is not a directory"));
            return;
        }
        Err(e) => {
            warnings.push(format!("{dir:?}: {e}"));
            return;
        }
    };
    let mut stack = vec![(std::path::PathBuf::from(dir), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let p = e.path();
            if ft.is_dir() {
                if depth < 32 && e.metadata().is_ok_and(|m| m.dev() == root_dev) {
                    stack.push((p, depth + 1));
                }
                continue;
            }
            let kind = if ft.is_fifo() {
                ObjKind::Fifo
            } else if ft.is_socket() {
                ObjKind::Socket
            } else {
                continue;
            };
            let Some(abs) = p.to_str().and_then(provenance::canonical_path) else {
                if p.to_str().is_none() {
                    warnings.push(not_utf8(&p));
                }
                continue;
            };
            if let Some(o) = path_object(kind, &abs) {
                out.push(o);
            }
        }
    }
}

/// The FIFO or socket file at `path`, if there is one of that kind.
fn path_object(kind: ObjKind, path: &str) -> Option<Obj> {
    let c = CString::new(path).ok()?;
    let fi = provenance::file_info_path(&c).ok()?;
    let want = if kind == ObjKind::Fifo {
        libc::S_IFIFO
    } else {
        libc::S_IFSOCK
    };
    (fi.file_type() == want).then(|| Obj::from_file(kind, path.to_string(), &fi))
}

/// Every trusted record readable by this process: the caller's own directory, and every
/// user's when running as root. Problems become warnings.
fn read_records(warnings: &mut Vec<String>) -> Vec<Record> {
    let me = euid();
    let mut uids = vec![me];
    if me == 0 {
        if let Ok(rd) = std::fs::read_dir(provenance::RECORDS_PARENT) {
            for e in rd.flatten() {
                let n = e.file_name();
                let uid = n
                    .to_str()
                    .and_then(|n| n.strip_prefix(provenance::DIR_PREFIX))
                    .and_then(|u| u.parse::<u32>().ok());
                if let Some(u) = uid.filter(|&u| u != me) {
                    uids.push(u);
                }
            }
        }
    }
    let mut out = Vec::new();
    for uid in uids {
        let dir = match provenance::open_dir(uid, false) {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(e) => {
                warnings.push(e.msg);
                continue;
            }
        };
        let names = match dir.names() {
            Ok(n) => n,
            Err(e) => {
                warnings.push(e.msg);
                continue;
            }
        };
        for n in names {
            match dir.read(&n) {
                Ok(r) => out.push(r),
                Err(why) => warnings.push(format!(
                    "record {}/{n} is not trusted and was ignored: {why}",
                    dir.path
                )),
            }
        }
    }
    out
}

// ------------------------------------------------------------------ matching

/// Whether `o` is the object `r` describes.
fn matches(r: &Record, o: &Obj) -> bool {
    if r.kind.is_sysv() {
        return o.kind == r.kind
            && o.id == r.id
            && o.key == r.key
            && o.cuid == r.uid
            && (r.kind != ObjKind::SysvShm || o.creator_pid == r.pid);
    }
    let same_kind = match r.kind {
        ObjKind::Ring => matches!(o.kind, ObjKind::PosixShm | ObjKind::Ring),
        k => o.kind == k,
    };
    same_kind
        && o.name == r.name
        && o.uid == r.uid
        && matches!((&r.stamp, &o.stamp), (Some(a), Some(b)) if a.same(b))
}

/// Mark `o` as the object of `r`.
fn adopt(o: &mut Obj, r: Record) {
    o.kind = r.kind;
    o.flags |= InfoFlags::IPCX;
    o.creator_pid = r.pid;
    o.creator_alive = alive_code(crate::sys::proc::process_alive(r.pid, r.start));
    o.created = r.created.0;
    o.record = Some(r);
}

/// The entry for a record whose object is gone.
fn vanished(r: Record) -> Obj {
    let mut o = Obj::new(r.kind, r.name.clone());
    o.key = r.key;
    o.id = r.id;
    o.uid = r.uid;
    o.flags = InfoFlags::VANISHED;
    o.creator_pid = r.pid;
    o.creator_alive = alive_code(crate::sys::proc::process_alive(r.pid, r.start));
    o.created = r.created.0;
    o.record = Some(r);
    o
}

/// Look up the object a record names when the scans did not list it.
fn find_for(r: &Record) -> Option<Obj> {
    match r.kind {
        ObjKind::PosixMq => mq_probe(&r.name),
        ObjKind::Fifo | ObjKind::Socket => path_object(r.kind, &r.name),
        _ => None,
    }
}

// ------------------------------------------------------------------ attachments

/// Which processes have which inodes open or mapped.
#[derive(Default)]
struct Holders {
    pids: HashMap<(u64, u64), HashSet<i32>>,
    /// Some process's entries could not be read.
    hidden: bool,
}

fn scan_holders(wanted: &HashSet<(u64, u64)>) -> Holders {
    let mut h = Holders::default();
    if wanted.is_empty() {
        return h;
    }
    let Ok(rd) = std::fs::read_dir("/proc") else {
        h.hidden = true;
        return h;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        match std::fs::read_dir(format!("/proc/{pid}/fd")) {
            Ok(fds) => {
                for f in fds.flatten() {
                    if let Ok(m) = std::fs::metadata(f.path()) {
                        if wanted.contains(&(m.dev(), m.ino())) {
                            h.pids.entry((m.dev(), m.ino())).or_default().insert(pid);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => h.hidden = true,
            Err(_) => continue, // exited meanwhile
        }
        match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            Ok(maps) => {
                for line in maps.lines() {
                    let mut f = line.split_whitespace().skip(3);
                    let (Some(dev), Some(ino)) = (f.next(), f.next()) else {
                        continue;
                    };
                    let Ok(ino) = ino.parse::<u64>() else {
                        continue;
                    };
                    if ino == 0 {
                        continue;
                    }
                    let Some((maj, min)) = dev.split_once(':') else {
                        continue;
                    };
                    let (Ok(maj), Ok(min)) =
                        (u32::from_str_radix(maj, 16), u32::from_str_radix(min, 16))
                    else {
                        continue;
                    };
                    let key = (libc::makedev(maj, min), ino);
                    if wanted.contains(&key) {
                        h.pids.entry(key).or_default().insert(pid);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => h.hidden = true,
            Err(_) => {}
        }
    }
    h
}

/// Whether a socket is bound to the socket file at `path`: `None` when it cannot be told.
fn socket_bound(path: &str) -> Option<bool> {
    crate::sock::unix::path_is_bound(path).ok()
}

/// Fill `attached` for every object, then the stale flag.
fn settle(objs: &mut [Obj]) {
    let wanted: HashSet<(u64, u64)> = objs
        .iter()
        .filter(|o| {
            !o.flags.contains(InfoFlags::VANISHED)
                && matches!(
                    o.kind,
                    ObjKind::PosixShm
                        | ObjKind::Ring
                        | ObjKind::PosixSem
                        | ObjKind::PosixMq
                        | ObjKind::Fifo
                )
        })
        .filter_map(|o| o.stamp.map(|s| (s.dev, s.ino)))
        .collect();
    let holders = scan_holders(&wanted);
    for o in objs.iter_mut() {
        if o.flags.contains(InfoFlags::VANISHED) {
            continue;
        }
        match o.kind {
            ObjKind::SysvShm => {}
            ObjKind::SysvMsq | ObjKind::SysvSem => {
                let mut live: Vec<i32> = o
                    .users
                    .iter()
                    .copied()
                    .filter(|&p| p > 0 && crate::sys::proc::process_alive(p, 0) != Some(false))
                    .collect();
                live.sort_unstable();
                live.dedup();
                o.attached = live.len() as i64 + i64::from(o.waiters && live.is_empty());
            }
            ObjKind::Socket => {
                o.attached = match socket_bound(&o.name) {
                    Some(true) => 1,
                    Some(false) => 0,
                    None => -1,
                };
            }
            _ => {
                o.attached = match o.stamp {
                    Some(s) => {
                        let n = holders.pids.get(&(s.dev, s.ino)).map_or(0, |p| p.len());
                        // Hidden processes could have it open only if its mode lets them.
                        if n == 0 && holders.hidden && o.mode & 0o077 != 0 {
                            -1
                        } else {
                            n as i64
                        }
                    }
                    None => -1,
                };
            }
        }
        if o.flags.contains(InfoFlags::IPCX) && o.creator_alive == 0 && o.attached == 0 {
            o.flags |= InfoFlags::STALE;
        }
    }
}

// ------------------------------------------------------------------ systemd RemoveIPC

/// Where logind reads its configuration, in order (later files override earlier ones).
fn logind_conf_files() -> Vec<std::path::PathBuf> {
    let mut files = vec![std::path::PathBuf::from("/etc/systemd/logind.conf")];
    let mut drop_ins = Vec::new();
    for d in [
        "/usr/lib/systemd/logind.conf.d",
        "/run/systemd/logind.conf.d",
        "/etc/systemd/logind.conf.d",
    ] {
        if let Ok(rd) = std::fs::read_dir(d) {
            drop_ins.extend(
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "conf")),
            );
        }
    }
    // Drop-ins apply in the lexical order of their file names, whatever their directory.
    drop_ins.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    files.extend(drop_ins);
    files
}

/// The RemoveIPC= setting the configuration texts give (logind's default is yes).
fn remove_ipc_setting(confs: &[String]) -> bool {
    let mut on = true;
    for text in confs {
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                continue;
            };
            if k.trim() == "RemoveIPC" {
                on = matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "yes" | "y" | "true" | "t" | "on" | "1"
                );
            }
        }
    }
    on
}

/// SYS_UID_MAX from a login.defs text (999 when unset).
fn sys_uid_max(login_defs: &str) -> u32 {
    login_defs
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some("SYS_UID_MAX")).then(|| f.next()?.parse().ok())?
        })
        .next_back()
        .unwrap_or(999)
}

/// A warning when systemd-logind will remove `uid`'s IPC objects (and its ipcx records,
/// which live in /dev/shm) at the end of its last login session: systemd is the init
/// system, RemoveIPC= is on, and `uid` is a regular user (above SYS_UID_MAX).
fn remove_ipc_warning(uid: u32) -> Option<String> {
    if uid == 0 || !std::path::Path::new("/run/systemd/system").is_dir() {
        return None;
    }
    let max = sys_uid_max(&std::fs::read_to_string("/etc/login.defs").unwrap_or_default());
    if uid <= max {
        return None;
    }
    let confs: Vec<String> = logind_conf_files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    remove_ipc_setting(&confs).then(|| {
        format!(
            "systemd-logind RemoveIPC=yes applies to uid {uid} (a regular user: above \
             SYS_UID_MAX {max}): when its last login session ends, logind removes its System V \
             and POSIX IPC objects and its ipcx records ({}); run long-lived services as a \
             system user or set RemoveIPC=no in /etc/systemd/logind.conf (docs/inspect.md)",
            provenance::dir_path(uid)
        )
    })
}

// ------------------------------------------------------------------ listing

/// Everything known: (objects, warnings). Without `all`, only ipcx's objects and vanished
/// records are kept.
fn collect(dirs: &[String], all: bool) -> (Vec<Obj>, Vec<String>) {
    let mut warnings = Vec::new();
    let records = read_records(&mut warnings);
    let mut uids: Vec<u32> = records.iter().map(|r| r.uid).collect();
    uids.push(euid());
    uids.sort_unstable();
    uids.dedup();
    warnings.extend(uids.into_iter().filter_map(remove_ipc_warning));
    let mut objs = sysv_objects(&mut warnings);
    objs.extend(dev_shm_objects(&mut warnings));
    objs.extend(mqueue_objects(&mut warnings));
    for d in dirs {
        scan_dir(d, &mut objs, &mut warnings);
    }
    if crate::sys::SEM_FILE_PREFIX.is_empty() {
        // musl: the file of a semaphore ipcx recorded is that semaphore.
        for r in records.iter().filter(|r| r.kind == ObjKind::PosixSem) {
            if let Some(o) = objs
                .iter_mut()
                .find(|o| o.kind == ObjKind::PosixShm && o.name == r.name)
            {
                o.kind = ObjKind::PosixSem;
            }
        }
    }
    let mut extra = Vec::new();
    for r in records {
        if let Some(o) = objs
            .iter_mut()
            .find(|o| !o.flags.contains(InfoFlags::IPCX) && matches(&r, o))
        {
            adopt(o, r);
            continue;
        }
        match find_for(&r) {
            Some(mut o) if matches(&r, &o) => {
                adopt(&mut o, r);
                extra.push(o);
            }
            _ => extra.push(vanished(r)),
        }
    }
    objs.extend(extra);
    // An object found twice (a directory scan and a record lookup): keep one.
    let mut seen = HashSet::new();
    objs.retain(|o| {
        o.kind.is_sysv()
            || o.flags.contains(InfoFlags::VANISHED)
            || seen.insert((
                o.kind.is_path(),
                o.name.clone(),
                o.flags.contains(InfoFlags::IPCX),
            ))
    });
    if !all {
        objs.retain(|o| o.flags.intersects(InfoFlags::IPCX | InfoFlags::VANISHED));
    }
    settle(&mut objs);
    objs.sort_by(|a, b| {
        (a.kind, &a.name, a.id, a.flags.contains(InfoFlags::VANISHED)).cmp(&(
            b.kind,
            &b.name,
            b.id,
            b.flags.contains(InfoFlags::VANISHED),
        ))
    });
    (objs, warnings)
}

fn listing(objs: &[Obj], warnings: Vec<String>) -> Listing {
    let now = realtime_now();
    Listing {
        objects: objs.iter().map(|o| o.info(now)).collect(),
        warnings: CString::new(warnings.join("\n").replace('\0', "\\0")).unwrap_or_default(),
    }
}

fn check_dirs(dirs: &[String]) -> Result<()> {
    for d in dirs {
        crate::name::path(d)?;
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(Error::invalid(format!("{d:?} is not a directory"))),
            Err(e) => {
                return Err(Error::os(
                    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                    format_args!("directory {d:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// List the objects of the machine (see the module documentation). `dirs`: where to look
/// for other programs' FIFOs and socket files; `all`: include other programs' objects.
pub fn list(dirs: &[String], all: bool) -> Result<Listing> {
    check_dirs(dirs)?;
    let (objs, warnings) = collect(dirs, all);
    Ok(listing(&objs, warnings))
}

// ------------------------------------------------------------------ removal

/// Delete the record of `o` from its owner's directory (best effort).
fn drop_record(o: &Obj) {
    let Some(r) = o.record.as_ref().filter(|_| !o.on_inode) else {
        return;
    };
    if let Ok(Some(dir)) = provenance::open_dir(r.uid, false) {
        dir.delete(&r.file_name(), r.stamp.as_ref());
    }
}

/// Unlink the socket file at `path` if it is (still) a socket file with identity `expect`
/// (when given): checked and removed relative to the same directory descriptor.
fn unlink_socket(path: &str, expect: Option<&Stamp>) -> Result<()> {
    let p = std::path::Path::new(path);
    let (Some(parent), Some(base)) = (p.parent(), p.file_name()) else {
        return Err(Error::invalid(format!(
            "{path:?} is not a socket file path"
        )));
    };
    let cp = CString::new(parent.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::invalid("path contains a NUL byte"))?;
    let cb = CString::new(base.as_encoded_bytes())
        .map_err(|_| Error::invalid("path contains a NUL byte"))?;
    // SAFETY: a valid C string; a fresh descriptor, owned at once.
    let d = unsafe {
        libc::open(
            cp.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if d < 0 {
        return Err(Error::last_os(format_args!("open directory of {path:?}")));
    }
    // SAFETY: just opened.
    let d = unsafe { OwnedFd::from_raw_fd(d) };
    let fi = provenance::file_info_at(d.as_fd(), &cb)
        .map_err(|e| Error::os(e, format_args!("remove socket file {path:?}")))?;
    if fi.file_type() != libc::S_IFSOCK {
        return Err(Error::invalid(format!(
            "{path:?} is not a socket file; not removed"
        )));
    }
    if expect.is_some_and(|s| !s.same(&fi.stamp)) {
        return Err(Error::new(
            Status::IPCX_ERR_IN_USE,
            format!("{path:?} was replaced by another socket file meanwhile; not removed"),
        ));
    }
    // SAFETY: a name relative to the directory just checked.
    if unsafe { libc::unlinkat(d.as_raw_fd(), cb.as_ptr(), 0) } < 0 {
        return Err(Error::last_os(format_args!("unlink({path:?})")));
    }
    Ok(())
}

fn rmid(kind: ObjKind, id: i32) -> Result<()> {
    // SAFETY: plain system calls on an id.
    let r = unsafe {
        match kind {
            ObjKind::SysvMsq => libc::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()),
            ObjKind::SysvShm => libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()),
            _ => libc::semctl(id, 0, libc::IPC_RMID),
        }
    };
    if r < 0 {
        let e = Errno::last();
        return Err(match e {
            Errno::EINVAL | Errno::EIDRM => Error::os_as(
                Status::IPCX_ERR_NOT_FOUND,
                e,
                format!("{} id {id} no longer exists", kind.name()),
            ),
            Errno::EPERM => Error::os_as(
                Status::IPCX_ERR_PERMISSION,
                e,
                format!(
                    "{} id {id}: only its owner or creator (or CAP_SYS_ADMIN) may remove it",
                    kind.name()
                ),
            ),
            _ => Error::os(e, format_args!("IPC_RMID {} id {id}", kind.name())),
        });
    }
    provenance::removed_sysv(kind, id);
    Ok(())
}

/// Remove the object `o` (already identified), then its record.
fn remove_obj(kind: ObjKind, o: &Obj) -> Result<()> {
    let stamp = o.stamp.as_ref();
    match kind {
        ObjKind::SysvMsq | ObjKind::SysvShm | ObjKind::SysvSem => rmid(kind, o.id)?,
        ObjKind::PosixShm => crate::shm::posix::unlink(&o.name)?,
        ObjKind::Ring => crate::ring::unlink(&o.name)?,
        ObjKind::PosixMq => crate::msgq::posix::unlink(&o.name)?,
        ObjKind::PosixSem => crate::sync::sem::Sem::unlink(&o.name)?,
        ObjKind::Fifo => crate::pipe::fifo::unlink(&o.name)?,
        ObjKind::Socket => {
            unlink_socket(&o.name, stamp)?;
            provenance::removed_path(ObjKind::Socket, &o.name, stamp);
        }
    }
    drop_record(o);
    Ok(())
}

/// The file in /dev/shm of a POSIX shared memory object, ring or named semaphore.
fn dev_shm_file(kind: ObjKind, name: &str) -> String {
    if kind == ObjKind::PosixSem {
        crate::sync::sem::shm_path(name)
    } else {
        format!("{}{name}", provenance::RECORDS_PARENT)
    }
}

/// The object named by (kind, name) now, if it exists.
fn find_one(kind: ObjKind, name: &str, id: i32) -> Option<Obj> {
    match kind {
        ObjKind::SysvMsq | ObjKind::SysvShm | ObjKind::SysvSem => {
            let mut w = Vec::new();
            sysv_objects(&mut w)
                .into_iter()
                .find(|o| o.kind == kind && o.id == id)
        }
        ObjKind::PosixShm | ObjKind::Ring | ObjKind::PosixSem => {
            let c = CString::new(dev_shm_file(kind, name)).ok()?;
            let fi = provenance::file_info_path(&c).ok()?;
            (fi.file_type() == libc::S_IFREG).then(|| Obj::from_file(kind, name.to_string(), &fi))
        }
        ObjKind::PosixMq => mq_probe(name),
        ObjKind::Fifo | ObjKind::Socket => {
            let c = CString::new(name).ok()?;
            let fi = provenance::file_info_path(&c).ok()?;
            Some(Obj::from_file(kind, name.to_string(), &fi))
        }
    }
}

/// Check a name given for `kind`: a System V id, a POSIX name, an absolute path.
fn parse_identity(kind: ObjKind, name: &str) -> Result<i32> {
    if kind.is_sysv() {
        return match name.parse::<i32>() {
            Ok(id) if id >= 0 => Ok(id),
            _ => Err(Error::invalid(format!(
                "{} objects are named by their id (a number, as ipcs shows it), not {name:?}",
                kind.name()
            ))),
        };
    }
    if kind.is_path() {
        crate::name::path(name)?;
        if !name.starts_with('/') {
            return Err(Error::invalid(format!(
                "path {name:?} is not absolute: give the exact path"
            )));
        }
        return Ok(-1);
    }
    let max = match kind {
        ObjKind::PosixSem => crate::sync::sem::NAME_MAX,
        ObjKind::Ring => crate::ring::NAME_MAX,
        _ => crate::name::POSIX_NAME_MAX,
    };
    crate::name::posix_name(name, max)?;
    Ok(-1)
}

/// Remove one object given its kind and exact identity (System V: the id as a decimal
/// number; POSIX kinds: "/name"; FIFOs and socket files: the absolute path). Without
/// `foreign`, only an object with a matching ipcx record is removed
/// (`IPCX_ERR_PERMISSION` otherwise); with it, anything of that kind and exact name.
pub fn remove(kind: ObjKind, name: &str, foreign: bool) -> Result<()> {
    let id = parse_identity(kind, name)?;
    let name = if kind.is_sysv() {
        String::new()
    } else if kind.is_path() {
        provenance::canonical_path(name).unwrap_or_else(|| name.to_string())
    } else {
        name.to_string()
    };
    let what = if kind.is_sysv() {
        format!("{} id {id}", kind.name())
    } else {
        format!("{} {name:?}", kind.name())
    };
    let found = find_one(kind, &name, id);
    // The record lives in the directory of the object's owner (or ours, if it is gone).
    let owner = match &found {
        Some(o) if kind.is_sysv() => o.cuid,
        Some(o) => o.uid,
        None => euid(),
    };
    let fname = provenance::file_name(kind, &name, id);
    let dir = provenance::open_dir(owner, false).ok().flatten();
    // The record on the inode of a /dev/shm object (if it is still the inode found), else
    // the record file.
    let inode_record = found
        .as_ref()
        .filter(|_| provenance::in_dev_shm(kind))
        .and_then(|o| {
            let c = CString::new(dev_shm_file(kind, &name)).ok()?;
            let (fi, r) = provenance::read_xattr_path(&c)?;
            let same = o.stamp.is_some_and(|s| s.same(&fi.stamp));
            r?.ok().filter(|_| same)
        });
    let on_inode = inode_record.is_some();
    let record = inode_record.or_else(|| dir.as_ref().and_then(|d| d.read(&fname).ok()));
    let Some(mut o) = found else {
        let mut msg = format!("{what} does not exist");
        if let (Some(d), Some(r)) = (&dir, &record) {
            if d.delete(&fname, r.stamp.as_ref()) {
                msg.push_str(" (its ipcx record, left behind, was removed)");
            }
        }
        return Err(Error::new(Status::IPCX_ERR_NOT_FOUND, msg));
    };
    if kind.is_path() {
        let want = if kind == ObjKind::Fifo {
            libc::S_IFIFO
        } else {
            libc::S_IFSOCK
        };
        let is = o.stamp.map(|_| ()).and_then(|_| {
            let c = CString::new(name.as_str()).ok()?;
            provenance::file_info_path(&c).ok()
        });
        if is.is_none_or(|fi| fi.file_type() != want) {
            return Err(Error::invalid(format!(
                "{name:?} is not a {}; not removed",
                if kind == ObjKind::Fifo {
                    "FIFO"
                } else {
                    "socket file"
                }
            )));
        }
    }
    match record {
        Some(r) if matches(&r, &o) => {
            o.record = Some(r);
            o.on_inode = on_inode;
        }
        _ if foreign => {}
        _ => {
            // A ring is a POSIX shared-memory object: named as the other kind, say so rather
            // than call an ipcx object foreign.
            let sibling = match kind {
                ObjKind::Ring => Some(ObjKind::PosixShm),
                ObjKind::PosixShm => Some(ObjKind::Ring),
                _ => None,
            };
            if let Some(other) = sibling {
                let theirs = match (record, &dir) {
                    (Some(r), _) if on_inode => Ok(r),
                    (_, Some(d)) => d.read(&provenance::file_name(other, &name, id)),
                    _ => Err(String::new()),
                };
                let as_other = Obj {
                    kind: other,
                    ..o.clone()
                };
                if theirs.is_ok_and(|r| r.kind == other && matches(&r, &as_other)) {
                    return Err(Error::invalid(format!(
                        "{what}: ipcx created {name:?} as a {} object, not a {}: remove it as \
                         that kind (ipcx rm {} {name})",
                        other.name(),
                        kind.name(),
                        other.name()
                    )));
                }
            }
            return Err(Error::new(
                Status::IPCX_ERR_PERMISSION,
                format!(
                    "{what} was not created by ipcx (no matching record in {}); it is left \
                     alone: pass IPCX_INSPECT_FOREIGN (ipcx rm --foreign) to remove it anyway",
                    provenance::dir_path(owner)
                ),
            ));
        }
    }
    remove_obj(kind, &o)
}

/// Whether `path` lies under one of `dirs` (canonical forms).
fn under(path: &str, dirs: &[String]) -> bool {
    dirs.iter().any(|d| {
        let d = std::fs::canonicalize(d)
            .ok()
            .and_then(|p| p.into_os_string().into_string().ok())
            .unwrap_or_else(|| d.clone());
        let d = d.trim_end_matches('/');
        path.strip_prefix(d)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Remove the stale ipcx objects and forget the records whose objects vanished; with
/// `dry_run`, only report them; with `records_only`, only forget vanished records. With
/// `dirs`, FIFOs and socket files are considered only under those directories. Returns
/// what was (or would be) removed; removals that failed are left unflagged and explained
/// in the warnings.
pub fn clean(dirs: &[String], dry_run: bool, records_only: bool) -> Result<Listing> {
    check_dirs(dirs)?;
    let (objs, mut warnings) = collect(&[], false);
    let mut out: Vec<Obj> = objs
        .into_iter()
        .filter(|o| {
            let wanted = o.flags.contains(InfoFlags::VANISHED)
                || (!records_only && o.flags.contains(InfoFlags::STALE));
            wanted && (dirs.is_empty() || !o.kind.is_path() || under(&o.name, dirs))
        })
        .collect();
    if dry_run {
        return Ok(listing(&out, warnings));
    }
    for o in out.iter_mut() {
        let r = if o.flags.contains(InfoFlags::VANISHED) {
            let removed = o.record.as_ref().is_some_and(|r| {
                provenance::open_dir(r.uid, false)
                    .ok()
                    .flatten()
                    .is_some_and(|d| d.delete(&r.file_name(), r.stamp.as_ref()))
            });
            if removed {
                Ok(())
            } else {
                Err(Error::new(
                    Status::IPCX_ERR_SYSTEM,
                    "its record could not be removed",
                ))
            }
        } else if o.kind == ObjKind::SysvShm
            && find_one(o.kind, "", o.id).is_none_or(|now| now.attached != 0)
        {
            Err(Error::new(
                Status::IPCX_ERR_IN_USE,
                "it was attached meanwhile",
            ))
        } else {
            remove_obj(o.kind, o)
        };
        match r {
            Ok(()) => o.flags |= InfoFlags::REMOVED,
            Err(e) => warnings.push(format!("{}: not removed: {}", o.describe(), e.msg)),
        }
    }
    Ok(listing(&out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysvipc_columns_parse() {
        let mut w = Vec::new();
        // Whatever exists, every row has the columns ipcx reads.
        for row in sysvipc("shm", &mut w) {
            assert!(row.contains_key("shmid") && row.contains_key("nattch"));
        }
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn remove_ipc_configuration() {
        assert!(remove_ipc_setting(&[]));
        assert!(remove_ipc_setting(&["[Login]\n#RemoveIPC=no\n".into()]));
        assert!(!remove_ipc_setting(&["[Login]\nRemoveIPC=no\n".into()]));
        assert!(remove_ipc_setting(&[
            "RemoveIPC=no\n".into(),
            "[Login]\n RemoveIPC = yes\n".into()
        ]));
        assert_eq!(sys_uid_max(""), 999);
        assert_eq!(sys_uid_max("#SYS_UID_MAX 10\nSYS_UID_MAX\t\t499\n"), 499);
    }

    #[test]
    fn identities() {
        assert!(parse_identity(ObjKind::SysvShm, "12").is_ok());
        assert!(parse_identity(ObjKind::SysvShm, "-1").is_err());
        assert!(parse_identity(ObjKind::SysvShm, "x").is_err());
        assert!(parse_identity(ObjKind::Fifo, "rel/p").is_err());
        assert!(parse_identity(ObjKind::PosixShm, "noslash").is_err());
        assert!(under("/tmp/a/b", &["/tmp/a".into()]));
        assert!(!under("/tmp/ab", &["/tmp/a".into()]));
    }
}
