// SPDX-License-Identifier: MIT OR Apache-2.0
//! Provenance: how ipcx recognises the objects it created, without ever claiming one it
//! did not create.
//!
//! Every object ipcx creates (System V queue, segment or semaphore set; POSIX shared memory
//! object, message queue or named semaphore; FIFO; Unix socket file; named ring) gets a
//! *record*. A POSIX shared memory object, ring or named semaphore that only its owner may
//! write carries it on its inode, as the extended attribute [`XATTR`] (it goes with the
//! object); every other object's record is one small file in a per-user directory,
//! `/dev/shm/.ipcx-<euid>/` (tmpfs, so records vanish at reboot like the objects; mode
//! 0700, owned by the user). A record holds
//! the kind and identity of the object (System V id and key, POSIX name, absolute path),
//! the identity of the inode behind it where there is one (device, inode number, birth
//! time), the creator's pid and start time (field 22 of /proc/PID/stat, so that a reused
//! pid is not mistaken for the creator), its effective uid, the creation time and the ipcx
//! version. Removing the object through ipcx deletes its record file.
//!
//! Records are best effort: creating the object never fails because its record could not be
//! written (no /dev/shm, a full tmpfs, an untrusted directory); the object is then simply
//! not recognised as ipcx's. They cost the creating call a few system calls (open the
//! directory, write a temporary file, rename it; on the inode: one `fsetxattr`), never the
//! send/receive paths.
//!
//! Trust: the directory is used only if it is a real directory (opened with O_NOFOLLOW),
//! owned by the user, with mode 0700; a record only if it is a regular file (opened with
//! O_NOFOLLOW relative to the verified directory) owned by that user, with one link, at most
//! [`RECORD_MAX`] bytes, that parses. A record never proves anything by itself: the object
//! it names must still exist, be owned by the same user and (where it has an inode) be the
//! same inode. See docs/inspect.md.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use nix::errno::Errno;

use crate::error::{Error, Result, Status};

/// Where the per-user record directories live.
pub(crate) const RECORDS_PARENT: &str = "/dev/shm";
/// Name prefix of a record directory (followed by the decimal uid).
pub(crate) const DIR_PREFIX: &str = ".ipcx-";
/// First line of every record.
const MAGIC_LINE: &str = "ipcx-record 1";
/// Largest record accepted.
pub(crate) const RECORD_MAX: usize = 4096;
/// Record file names longer than this are replaced by a hash of the identity.
const FILE_NAME_MAX: usize = 200;

/// The kinds of objects ipcx creates and inspects (`IPCX_OBJECT_*` in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjKind {
    /// System V message queue.
    SysvMsq = 1,
    /// System V shared memory segment.
    SysvShm = 2,
    /// System V semaphore set.
    SysvSem = 3,
    /// POSIX shared memory object.
    PosixShm = 4,
    /// POSIX message queue.
    PosixMq = 5,
    /// POSIX named semaphore.
    PosixSem = 6,
    /// FIFO (named pipe).
    Fifo = 7,
    /// Unix domain socket file.
    Socket = 8,
    /// Named shared-memory ring (a POSIX shared memory object with a ring header).
    Ring = 9,
}

/// Every kind, in code order.
pub(crate) const ALL_KINDS: [ObjKind; 9] = [
    ObjKind::SysvMsq,
    ObjKind::SysvShm,
    ObjKind::SysvSem,
    ObjKind::PosixShm,
    ObjKind::PosixMq,
    ObjKind::PosixSem,
    ObjKind::Fifo,
    ObjKind::Socket,
    ObjKind::Ring,
];

impl ObjKind {
    /// The short name used by records, the tool and messages.
    pub fn name(self) -> &'static str {
        match self {
            ObjKind::SysvMsq => "sysv-msq",
            ObjKind::SysvShm => "sysv-shm",
            ObjKind::SysvSem => "sysv-sem",
            ObjKind::PosixShm => "posix-shm",
            ObjKind::PosixMq => "posix-mq",
            ObjKind::PosixSem => "posix-sem",
            ObjKind::Fifo => "fifo",
            ObjKind::Socket => "socket",
            ObjKind::Ring => "ring",
        }
    }

    /// The NUL-terminated name, for C.
    pub fn c_name(self) -> &'static CStr {
        match self {
            ObjKind::SysvMsq => c"sysv-msq",
            ObjKind::SysvShm => c"sysv-shm",
            ObjKind::SysvSem => c"sysv-sem",
            ObjKind::PosixShm => c"posix-shm",
            ObjKind::PosixMq => c"posix-mq",
            ObjKind::PosixSem => c"posix-sem",
            ObjKind::Fifo => c"fifo",
            ObjKind::Socket => c"socket",
            ObjKind::Ring => c"ring",
        }
    }

    /// The kind with this short name.
    pub fn from_name(s: &str) -> Option<ObjKind> {
        ALL_KINDS.into_iter().find(|k| k.name() == s)
    }

    /// The kind with this C code.
    pub fn from_code(code: u32) -> Option<ObjKind> {
        ALL_KINDS.into_iter().find(|k| *k as u32 == code)
    }

    /// System V kinds are identified by id (and key), the others by name or path.
    pub fn is_sysv(self) -> bool {
        matches!(self, ObjKind::SysvMsq | ObjKind::SysvShm | ObjKind::SysvSem)
    }

    /// Kinds whose identity is a filesystem path.
    pub fn is_path(self) -> bool {
        matches!(self, ObjKind::Fifo | ObjKind::Socket)
    }

    /// Kinds that share one namespace share a record file name prefix: a ring is a POSIX
    /// shared memory object, a FIFO and a socket file are both paths.
    fn namespace(self) -> &'static str {
        match self {
            ObjKind::SysvMsq => "sysv-msq",
            ObjKind::SysvShm => "sysv-shm",
            ObjKind::SysvSem => "sysv-sem",
            ObjKind::PosixShm | ObjKind::Ring => "shm",
            ObjKind::PosixMq => "mq",
            ObjKind::PosixSem => "sem",
            ObjKind::Fifo | ObjKind::Socket => "path",
        }
    }
}

/// The identity of an inode: device, inode number and, where the filesystem keeps it,
/// birth time (inode numbers are reused as soon as a file is deleted on some filesystems).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Stamp {
    /// st_dev.
    pub dev: u64,
    /// st_ino.
    pub ino: u64,
    /// Birth time (seconds, nanoseconds), when known.
    pub btime: Option<(i64, u32)>,
}

/// What statx says about a file, for the checks ipcx makes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FileInfo {
    pub stamp: Stamp,
    pub mode: u32,
    pub uid: u32,
    pub nlink: u32,
    pub size: u64,
}

impl FileInfo {
    /// The file type bits (S_IFMT).
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

fn statx_at(
    dirfd: libc::c_int,
    path: &CStr,
    flags: libc::c_int,
) -> std::result::Result<FileInfo, Errno> {
    // SAFETY: a zeroed statx buffer and a valid C string.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let mask = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
    if unsafe { crate::sys::statx(dirfd, path.as_ptr(), flags, mask, &mut stx) } < 0 {
        return Err(Errno::last());
    }
    let btime = (stx.stx_mask & libc::STATX_BTIME != 0 && stx.stx_btime.tv_sec != 0)
        .then_some((stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec));
    Ok(FileInfo {
        stamp: Stamp {
            dev: libc::makedev(stx.stx_dev_major, stx.stx_dev_minor),
            ino: stx.stx_ino,
            btime,
        },
        mode: u32::from(stx.stx_mode),
        uid: stx.stx_uid,
        nlink: stx.stx_nlink,
        size: stx.stx_size,
    })
}

/// statx of an open descriptor.
pub(crate) fn file_info_fd(fd: BorrowedFd<'_>) -> std::result::Result<FileInfo, Errno> {
    statx_at(fd.as_raw_fd(), c"", libc::AT_EMPTY_PATH)
}

/// statx of a path, not following a final symbolic link.
pub(crate) fn file_info_path(path: &CStr) -> std::result::Result<FileInfo, Errno> {
    statx_at(libc::AT_FDCWD, path, libc::AT_SYMLINK_NOFOLLOW)
}

/// statx of `name` in the directory `dir`, not following a symbolic link.
pub(crate) fn file_info_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
) -> std::result::Result<FileInfo, Errno> {
    statx_at(dir.as_raw_fd(), name, libc::AT_SYMLINK_NOFOLLOW)
}

impl Stamp {
    /// Whether two stamps name the same inode: same device and inode number, and the same
    /// birth time when both know it.
    pub fn same(&self, other: &Stamp) -> bool {
        self.dev == other.dev
            && self.ino == other.ino
            && match (self.btime, other.btime) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

// ------------------------------------------------------------------ records

/// One record: what ipcx created, when, and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The kind of object.
    pub kind: ObjKind,
    /// POSIX name ("/x") or absolute path; empty for System V objects.
    pub name: String,
    /// System V key (0 otherwise).
    pub key: i32,
    /// System V id (-1 otherwise).
    pub id: i32,
    /// Effective uid of the creator (the owner of the record directory).
    pub uid: u32,
    /// Creator pid.
    pub pid: i32,
    /// Creator start time (clock ticks since boot; 0 unknown).
    pub start: u64,
    /// Creation time, CLOCK_REALTIME (seconds, nanoseconds).
    pub created: (i64, u32),
    /// The inode created, where there is one.
    pub stamp: Option<Stamp>,
    /// The ipcx version that wrote it.
    pub version: String,
}

/// Percent-escape every byte outside `[A-Za-z0-9._-]` (and `/` when `slash` is allowed).
fn escape(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') || (slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// FNV-1a, 64 bits, from a given offset basis (two bases give a 128-bit name).
fn fnv(data: &[u8], basis: u64) -> u64 {
    data.iter().fold(basis, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The record file name of an object: `<namespace>.<identity>`, e.g. `sysv-shm.32769`,
/// `shm.orders` (for "/orders"), `path.%2Ftmp%2Fs.sock`; identities that would make the
/// name longer than 200 bytes become `<namespace>.~<32 hex digits>` (a hash; the record
/// itself holds the full identity and is always checked against it).
pub fn file_name(kind: ObjKind, name: &str, id: i32) -> String {
    let ident = if kind.is_sysv() {
        id.to_string()
    } else if kind.is_path() {
        escape(name, false)
    } else {
        escape(name.strip_prefix('/').unwrap_or(name), false)
    };
    let ns = kind.namespace();
    if ns.len() + 1 + ident.len() <= FILE_NAME_MAX {
        return format!("{ns}.{ident}");
    }
    let b = name.as_bytes();
    format!(
        "{ns}.~{:016x}{:016x}",
        fnv(b, 0xcbf2_9ce4_8422_2325),
        fnv(b, 0x6c62_272e_07bb_0142)
    )
}

impl Record {
    /// The record's file name.
    pub fn file_name(&self) -> String {
        file_name(self.kind, &self.name, self.id)
    }

    /// The text written to the record file.
    pub fn to_text(&self) -> String {
        let mut t = format!(
            "{MAGIC_LINE}\nkind={}\nname={}\nkey={}\nid={}\nuid={}\npid={}\nstart={}\n\
             created={}.{:09}\n",
            self.kind.name(),
            escape(&self.name, true),
            self.key,
            self.id,
            self.uid,
            self.pid,
            self.start,
            self.created.0,
            self.created.1,
        );
        if let Some(s) = &self.stamp {
            t.push_str(&format!("dev={}\nino={}\n", s.dev, s.ino));
            if let Some((sec, ns)) = s.btime {
                t.push_str(&format!("btime={sec}.{ns:09}\n"));
            }
        }
        t.push_str(&format!("version={}\n", escape(&self.version, false)));
        t
    }

    /// Parse a record; the error says what is wrong with it.
    pub fn parse(text: &str) -> std::result::Result<Record, String> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC_LINE) {
            return Err(format!("does not start with \"{MAGIC_LINE}\""));
        }
        let mut kind = None;
        let (mut name, mut key, mut id, mut uid, mut pid) = (None, 0, -1, None, None);
        let (mut start, mut created, mut version) = (0, None, String::new());
        let (mut dev, mut ino, mut btime) = (None, None, None);
        let time = |v: &str| -> Option<(i64, u32)> {
            let (s, n) = v.split_once('.')?;
            let n: u32 = n.parse().ok()?;
            (n < 1_000_000_000).then_some((s.parse().ok()?, n))
        };
        for line in lines {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("line {line:?} is not key=value"))?;
            let bad = || format!("bad value {v:?} for {k}");
            match k {
                "kind" => kind = Some(ObjKind::from_name(v).ok_or_else(bad)?),
                "name" => name = Some(unescape(v).ok_or_else(bad)?),
                "key" => key = v.parse().map_err(|_| bad())?,
                "id" => id = v.parse().map_err(|_| bad())?,
                "uid" => uid = Some(v.parse().map_err(|_| bad())?),
                "pid" => pid = Some(v.parse().map_err(|_| bad())?),
                "start" => start = v.parse().map_err(|_| bad())?,
                "created" => created = Some(time(v).ok_or_else(bad)?),
                "dev" => dev = Some(v.parse().map_err(|_| bad())?),
                "ino" => ino = Some(v.parse().map_err(|_| bad())?),
                "btime" => btime = Some(time(v).ok_or_else(bad)?),
                "version" => version = unescape(v).ok_or_else(bad)?,
                _ => {} // later versions may add fields
            }
        }
        let kind = kind.ok_or("no kind")?;
        let name = name.ok_or("no name")?;
        if kind.is_sysv() && id < 0 {
            return Err("a System V record without an id".into());
        }
        if !kind.is_sysv() && !name.starts_with('/') {
            return Err(format!("name {name:?} is not absolute"));
        }
        Ok(Record {
            kind,
            name,
            key,
            id,
            uid: uid.ok_or("no uid")?,
            pid: pid.ok_or("no pid")?,
            start,
            created: created.ok_or("no creation time")?,
            stamp: match (dev, ino) {
                (Some(dev), Some(ino)) => Some(Stamp { dev, ino, btime }),
                _ => None,
            },
            version,
        })
    }
}

// ------------------------------------------------------------------ the directory

/// The record directory of `uid`.
pub fn dir_path(uid: u32) -> String {
    format!("{RECORDS_PARENT}/{DIR_PREFIX}{uid}")
}

/// A verified record directory: a real directory owned by `uid`, mode 0700.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    /// The owner.
    pub uid: u32,
    /// Its path, for messages.
    pub path: String,
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(format!("{s:?} contains a NUL byte")))
}

/// Open the record directory of `uid`, creating it (mode 0700) when `create` is set.
/// `Ok(None)` when it does not exist. A directory that is not trustworthy (a symbolic link,
/// not a directory, another owner, group or other permissions) is `IPCX_ERR_PERMISSION`
/// and is never used: another user may have planted it to read or forge records.
pub fn open_dir(uid: u32, create: bool) -> Result<Option<Dir>> {
    let path = dir_path(uid);
    let c = cstring(&path)?;
    let open = || {
        // SAFETY: a valid C string; the caller owns the descriptor returned.
        unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        }
    };
    // Open first (the directory usually exists: one system call saved per creation), make
    // it only when it is missing.
    let mut made = false;
    let mut fd = open();
    if fd < 0 && create && Errno::last() == Errno::ENOENT {
        // SAFETY: a valid C string.
        if unsafe { libc::mkdir(c.as_ptr(), 0o700) } == 0 {
            made = true;
        } else if Errno::last() != Errno::EEXIST {
            return Err(Error::last_os(format_args!("mkdir({path:?}, 0700)")));
        }
        fd = open();
    }
    if fd < 0 {
        let e = Errno::last();
        return match e {
            Errno::ENOENT => Ok(None),
            Errno::ELOOP | Errno::ENOTDIR => Err(Error::os_as(
                Status::IPCX_ERR_PERMISSION,
                e,
                format!(
                    "record directory {path:?} is not a directory (a symbolic link or a file \
                     someone else may have planted); it is not used"
                ),
            )),
            _ => Err(Error::os(e, format_args!("open({path:?})"))),
        };
    }
    // SAFETY: just opened.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let info =
        file_info_fd(fd.as_fd()).map_err(|e| Error::os(e, format_args!("fstat({path:?})")))?;
    if info.uid != uid {
        return Err(Error::new(
            Status::IPCX_ERR_PERMISSION,
            format!(
                "record directory {path:?} is owned by uid {}, not {uid}: it is not used (another \
                 user may have created it to read or forge records; remove it)",
                info.uid
            ),
        ));
    }
    if made {
        // The umask may have removed owner bits: set exactly 0700.
        // SAFETY: fchmod on the directory we just created and opened.
        unsafe { libc::fchmod(fd.as_raw_fd(), 0o700) };
    } else if info.mode & 0o7777 != 0o700 {
        return Err(Error::new(
            Status::IPCX_ERR_PERMISSION,
            format!(
                "record directory {path:?} has mode {:04o}, not 0700: it is not used (others \
                 could read or forge records; fix it with chmod 0700 if you made it)",
                info.mode & 0o7777
            ),
        ));
    }
    Ok(Some(Dir { fd, uid, path }))
}

impl Dir {
    /// The directory descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The names of the record files (temporary files excluded).
    pub fn names(&self) -> Result<Vec<String>> {
        let rd = std::fs::read_dir(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
            .map_err(|e| Error::new(Status::IPCX_ERR_SYSTEM, format!("read {}: {e}", self.path)))?;
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Read and check the record file `name`: a regular file owned by the directory's
    /// owner, one link, at most [`RECORD_MAX`] bytes, a valid record of the same uid, stored
    /// under its own file name. The error says why it is not trusted.
    pub fn read(&self, name: &str) -> std::result::Result<Record, String> {
        let c = CString::new(name).map_err(|_| "bad name".to_string())?;
        // SAFETY: a valid C string relative to a directory we hold; a fresh descriptor.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(match Errno::last() {
                Errno::ELOOP => "it is a symbolic link".into(),
                e => format!("open: {}", e.desc()),
            });
        }
        // SAFETY: just opened.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let info = file_info_fd(fd.as_fd()).map_err(|e| format!("fstat: {}", e.desc()))?;
        if info.file_type() != libc::S_IFREG {
            return Err("it is not a regular file".into());
        }
        if info.uid != self.uid {
            return Err(format!("it is owned by uid {}, not {}", info.uid, self.uid));
        }
        if info.nlink != 1 {
            return Err(format!("it has {} links", info.nlink));
        }
        if info.size as usize > RECORD_MAX {
            return Err(format!("it is {} bytes, more than {RECORD_MAX}", info.size));
        }
        let mut buf = vec![0u8; RECORD_MAX + 1];
        // SAFETY: reading into a buffer we own.
        let n = unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(format!("read: {}", Errno::last().desc()));
        }
        let n = n as usize;
        if n > RECORD_MAX {
            return Err(format!("it is more than {RECORD_MAX} bytes"));
        }
        let text = std::str::from_utf8(&buf[..n]).map_err(|_| "it is not text".to_string())?;
        let rec = Record::parse(text)?;
        if rec.uid != self.uid {
            return Err(format!("it names uid {}, not {}", rec.uid, self.uid));
        }
        if rec.file_name() != name {
            return Err(format!(
                "its content describes {} {:?}, which belongs under another file name",
                rec.kind.name(),
                if rec.kind.is_sysv() {
                    rec.id.to_string()
                } else {
                    rec.name.clone()
                }
            ));
        }
        Ok(rec)
    }

    /// Write `rec` atomically (a temporary file created O_EXCL|O_NOFOLLOW, mode 0600, then
    /// renamed over any older record of the same identity: ipcx has just created the object
    /// exclusively, so an older record describes an object that is gone).
    pub fn write(&self, rec: &Record) -> Result<()> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let tmp = format!(
            ".tmp-{}-{}",
            crate::sys::proc::own_pid(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let ctmp = cstring(&tmp)?;
        let cname = cstring(&rec.file_name())?;
        let dfd = self.fd.as_raw_fd();
        // SAFETY: a valid C string relative to a directory we hold; a fresh descriptor.
        let fd = unsafe {
            libc::openat(
                dfd,
                ctmp.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0o600 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(Error::last_os(format_args!(
                "create record in {}",
                self.path
            )));
        }
        // SAFETY: just opened.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let text = rec.to_text();
        // SAFETY: writing from a buffer we own.
        let n = unsafe { libc::write(fd.as_raw_fd(), text.as_ptr().cast(), text.len()) };
        drop(fd);
        // SAFETY: names relative to a directory we hold.
        let renamed = n == text.len() as isize
            && unsafe { libc::renameat(dfd, ctmp.as_ptr(), dfd, cname.as_ptr()) } == 0;
        if !renamed {
            let err = Error::last_os(format_args!("write record in {}", self.path));
            // SAFETY: as above.
            unsafe { libc::unlinkat(dfd, ctmp.as_ptr(), 0) };
            return Err(err);
        }
        Ok(())
    }

    /// Delete the record file `name`, and the directory with it when that was the last
    /// record. With `only_if`, only when the record there describes that inode (or no
    /// inode): a record written meanwhile for a new object of the same name is kept.
    pub fn delete(&self, name: &str, only_if: Option<&Stamp>) -> bool {
        if let Some(removed) = only_if {
            if let Ok(rec) = self.read(name) {
                if rec.stamp.is_some_and(|s| !s.same(removed)) {
                    return false;
                }
            }
        }
        let Ok(c) = CString::new(name) else {
            return false;
        };
        // SAFETY: a valid C string relative to a directory we hold.
        if unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            return false;
        }
        // Leave nothing behind: the directory goes with its last record (rmdir refuses while
        // any other record, or a creator's temporary file, is in it; a creator that opened it
        // just before retries in a new one, see `created`).
        if let Ok(path) = CString::new(self.path.as_str()) {
            // SAFETY: a valid C string.
            unsafe { libc::rmdir(path.as_ptr()) };
        }
        true
    }
}

// ------------------------------------------------------------------ hooks for creators

fn euid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() }
}

fn now_realtime() -> (i64, u32) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (crate::sys::wide_i64(ts.tv_sec), ts.tv_nsec as u32)
}

/// Record an object this process has just created (best effort: failures are ignored,
/// see the module documentation).
fn created(kind: ObjKind, name: String, key: i32, id: i32, stamp: Option<Stamp>) {
    let uid = euid();
    let rec = new_record(kind, name, key, id, uid, stamp);
    // A remover may delete the directory when its last record goes (see `forget`) between
    // our open and our write: the write then fails with ENOENT and is retried once in a
    // fresh directory.
    for _ in 0..2 {
        match open_dir(uid, true) {
            Ok(Some(dir)) => match dir.write(&rec) {
                Err(e) if e.errno == libc::ENOENT => continue,
                _ => return,
            },
            _ => return,
        }
    }
}

/// Forget the record of an object this process has just removed (best effort).
fn forget(kind: ObjKind, name: &str, id: i32, removed: Option<&Stamp>) {
    if let Ok(Some(dir)) = open_dir(euid(), false) {
        dir.delete(&file_name(kind, name, id), removed);
    }
}

/// A System V object was created.
pub(crate) fn created_sysv(kind: ObjKind, key: i32, id: i32) {
    created(kind, String::new(), key, id, None);
}

/// A System V object was removed.
pub(crate) fn removed_sysv(kind: ObjKind, id: i32) {
    forget(kind, "", id, None);
}

/// A POSIX-named object (shared memory, ring, queue, semaphore) was created; `fd` is a
/// descriptor of it (for its inode), when there is one. An object in /dev/shm that only its
/// owner may write gets its record on the inode (see [`XATTR`]); any other, or one whose
/// filesystem refuses the attribute, a record file.
pub(crate) fn created_named(kind: ObjKind, name: &str, fd: Option<BorrowedFd<'_>>) {
    let info = fd.and_then(|fd| file_info_fd(fd).ok());
    if let (Some(fd), Some(info)) = (fd, &info) {
        if on_inode(kind, info)
            && write_xattr(
                fd,
                &new_record(kind, name.to_string(), 0, -1, info.uid, Some(info.stamp)),
            )
        {
            return;
        }
    }
    created(kind, name.to_string(), 0, -1, info.map(|i| i.stamp));
}

/// Whether a provenance record proves that ipcx created the POSIX-named object open on
/// `fd`: the record on its inode, or the record of (`kind`, `name`) in its owner's record
/// directory, names this very inode (device, inode number and, where known, birth time). A
/// record without an inode proves nothing.
pub(crate) fn proves_named(kind: ObjKind, name: &str, fd: BorrowedFd<'_>) -> bool {
    let Ok(info) = file_info_fd(fd) else {
        return false;
    };
    let names_it = |r: &Record| {
        r.kind == kind && r.name == name && r.stamp.is_some_and(|st| st.same(&info.stamp))
    };
    if let Some(Ok(r)) = read_xattr(fd, &info) {
        return names_it(&r);
    }
    let Ok(Some(dir)) = open_dir(info.uid, false) else {
        return false;
    };
    dir.read(&file_name(kind, name, -1))
        .is_ok_and(|r| names_it(&r))
}

// ------------------------------------------------------------------ records on the inode

/// The extended attribute that holds the record of an object in /dev/shm (POSIX shared
/// memory, rings, named semaphores): the same text as a record file. tmpfs keeps `user.`
/// attributes since Linux 6.6; the record then lives and dies with the object: one system
/// call to write, none to delete, and it can never outlive or describe another object.
pub(crate) const XATTR: &CStr = c"user.ipcx.record";

/// Set once this process saw the filesystem of /dev/shm refuse `user.` attributes
/// (EOPNOTSUPP: an older kernel): records go to files from then on.
static NO_XATTR: AtomicBool = AtomicBool::new(false);

/// The kinds that are files in /dev/shm, whose records may be on their inodes.
pub(crate) fn in_dev_shm(kind: ObjKind) -> bool {
    matches!(kind, ObjKind::PosixShm | ObjKind::Ring | ObjKind::PosixSem)
}

/// Whether the record of this object goes on its inode: a regular file in /dev/shm that
/// nobody but its owner may write (anyone who may write a file may set its `user.`
/// attributes, so only such a record can be trusted).
fn on_inode(kind: ObjKind, info: &FileInfo) -> bool {
    in_dev_shm(kind)
        && info.file_type() == libc::S_IFREG
        && info.mode & 0o022 == 0
        && !NO_XATTR.load(Ordering::Relaxed)
}

/// The record of an object this process has just created, for the user `uid`.
fn new_record(
    kind: ObjKind,
    name: String,
    key: i32,
    id: i32,
    uid: u32,
    stamp: Option<Stamp>,
) -> Record {
    let (pid, start) = crate::sys::proc::own_pid_start();
    Record {
        kind,
        name,
        key,
        id,
        uid,
        pid,
        start,
        created: now_realtime(),
        stamp,
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Set `rec` as the record on the inode open on `fd`; false when it could not be set.
fn write_xattr(fd: BorrowedFd<'_>, rec: &Record) -> bool {
    let text = rec.to_text();
    // SAFETY: a descriptor the caller holds, a valid C string and a buffer we own.
    let r = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            XATTR.as_ptr(),
            text.as_ptr().cast(),
            text.len(),
            0,
        )
    };
    if r != 0 && Errno::last() == Errno::EOPNOTSUPP {
        NO_XATTR.store(true, Ordering::Relaxed);
    }
    r == 0
}

/// The record on the inode open on `fd`, whose statx is `info`: `None` when there is none
/// (or it cannot be read), `Some(Err(why))` when there is one that is not trusted: the file
/// is not a regular file, or group or others may write it, or the record names another uid
/// than the owner's or another inode than this one, or does not parse.
pub(crate) fn read_xattr(
    fd: BorrowedFd<'_>,
    info: &FileInfo,
) -> Option<std::result::Result<Record, String>> {
    xattr_record(info, |buf| {
        // SAFETY: a descriptor the caller holds, a valid C string and a buffer we own.
        unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                XATTR.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        }
    })
}

/// The record on the /dev/shm file `path` (see [`read_xattr`]), with the file's statx;
/// `None` when the file is gone. The file is never opened (opening could break a lease
/// another process holds on it): its attribute is read by path, without following a
/// symbolic link, and trusted only if it names the inode the statx found.
pub(crate) fn read_xattr_path(
    path: &CStr,
) -> Option<(FileInfo, Option<std::result::Result<Record, String>>)> {
    let info = file_info_path(path).ok()?;
    if info.file_type() != libc::S_IFREG {
        return Some((info, None));
    }
    let rec = xattr_record(&info, |buf| {
        // SAFETY: a valid C string and a buffer we own.
        unsafe {
            libc::lgetxattr(
                path.as_ptr(),
                XATTR.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        }
    });
    Some((info, rec))
}

/// Read the attribute with `get` (the bytes, or -1 and errno) and check it against `info`.
fn xattr_record(
    info: &FileInfo,
    get: impl FnOnce(&mut [u8]) -> isize,
) -> Option<std::result::Result<Record, String>> {
    let mut buf = vec![0u8; RECORD_MAX];
    let n = get(&mut buf);
    if n < 0 {
        return match Errno::last() {
            Errno::ERANGE => Some(Err(format!("it is more than {RECORD_MAX} bytes"))),
            _ => None,
        };
    }
    Some((|| {
        if info.file_type() != libc::S_IFREG {
            return Err("it is not on a regular file".to_string());
        }
        if info.mode & 0o022 != 0 {
            return Err(format!(
                "the object has mode {:04o}: group or others may write it, and so its record",
                info.mode & 0o7777
            ));
        }
        let text = std::str::from_utf8(&buf[..n as usize]).map_err(|_| "it is not text")?;
        let rec = Record::parse(text)?;
        if rec.uid != info.uid {
            return Err(format!(
                "it names uid {}, but the object is owned by uid {}",
                rec.uid, info.uid
            ));
        }
        if !rec.stamp.is_some_and(|s| s.same(&info.stamp)) {
            return Err("it describes another inode (copied from another file)".to_string());
        }
        Ok(rec)
    })())
}

/// A POSIX-named object was removed.
pub(crate) fn removed_named(kind: ObjKind, name: &str) {
    forget(kind, name, -1, None);
}

/// The absolute form of `path` that records use: the parent directory resolved
/// (symbolic links included), the last component as given.
pub fn canonical_path(path: &str) -> Option<String> {
    let p = std::path::Path::new(path);
    let base = p.file_name()?;
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let dir = std::fs::canonicalize(parent).ok()?;
    dir.join(base).into_os_string().into_string().ok()
}

/// A FIFO or socket file was created at `path`.
pub(crate) fn created_path(kind: ObjKind, path: &str) {
    let Some(abs) = canonical_path(path) else {
        return;
    };
    let Ok(c) = CString::new(abs.as_str()) else {
        return;
    };
    let stamp = file_info_path(&c).ok().map(|i| i.stamp);
    created(kind, abs, 0, -1, stamp);
}

/// The FIFO or socket file at `path`, whose inode was `stamp`, was removed.
pub(crate) fn removed_path(kind: ObjKind, path: &str, stamp: Option<&Stamp>) {
    if let Some(abs) = canonical_path(path) {
        forget(kind, &abs, -1, stamp);
    }
}

/// The identity of the file at `path` (for [`removed_path`]), read before removing it.
pub(crate) fn path_stamp(path: &str) -> Option<Stamp> {
    let c = CString::new(path).ok()?;
    file_info_path(&c).ok().map(|i| i.stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kind: ObjKind, name: &str, id: i32) -> Record {
        Record {
            kind,
            name: name.into(),
            key: 0x1234,
            id,
            uid: 1000,
            pid: 42,
            start: 777,
            created: (1_700_000_000, 5),
            stamp: Some(Stamp {
                dev: 25,
                ino: 99,
                btime: Some((1_700_000_000, 123)),
            }),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn records_round_trip() {
        for r in [
            sample(ObjKind::SysvShm, "", 32769),
            sample(ObjKind::PosixShm, "/orders", -1),
            sample(ObjKind::Fifo, "/tmp/a b\n%c", -1),
            sample(ObjKind::Ring, &format!("/{}", "x".repeat(250)), -1),
        ] {
            let back = Record::parse(&r.to_text()).unwrap();
            assert_eq!(back, r);
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name(ObjKind::SysvMsq, "", 7), "sysv-msq.7");
        assert_eq!(file_name(ObjKind::PosixShm, "/orders", -1), "shm.orders");
        assert_eq!(file_name(ObjKind::Ring, "/orders", -1), "shm.orders");
        assert_eq!(file_name(ObjKind::PosixSem, "/a.b", -1), "sem.a.b");
        assert_eq!(
            file_name(ObjKind::Socket, "/tmp/s.sock", -1),
            "path.%2Ftmp%2Fs.sock"
        );
        let long = file_name(ObjKind::Fifo, &format!("/tmp/{}", "y".repeat(300)), -1);
        assert!(long.starts_with("path.~") && long.len() == 6 + 32, "{long}");
    }

    #[test]
    fn hostile_records_are_refused() {
        assert!(Record::parse("").is_err());
        assert!(Record::parse("ipcx-record 2\nkind=fifo\n").is_err());
        assert!(Record::parse("ipcx-record 1\nkind=nope\n").is_err());
        let mut t = sample(ObjKind::Fifo, "/tmp/x", -1).to_text();
        t = t.replace("name=/tmp/x", "name=tmp/x");
        assert!(Record::parse(&t).unwrap_err().contains("not absolute"));
        let t = sample(ObjKind::SysvSem, "", 3)
            .to_text()
            .replace("id=3", "id=-1");
        assert!(Record::parse(&t).is_err());
        assert!(Record::parse("ipcx-record 1\nkind=fifo\nname=%zz\n").is_err());
    }
}
