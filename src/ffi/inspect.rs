// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions to inspect the IPC objects of the machine, find ipcx's stale ones and remove
//! them (the `ipcx` command-line tool is built on these).

use std::ffi::c_char;

use super::{Info, call, call_ref, handle, info_out, out, set_opt, str_arg};
use crate::admin::inspect::{self, InfoFlags, Listing, ObjectInfo};
use crate::admin::provenance::ObjKind;
use crate::error::{Error, Result, ipcx_status};

/// A list of objects made by `ipcx_inspect_list` or `ipcx_inspect_clean`. Opaque; a
/// snapshot (it does not change when the objects do).
///
/// Thread safety: a thread-safe handle: any number of threads may read a list at once
/// (it never changes).
/// Fork: the child gets a copy it may read and must close separately.
#[allow(non_camel_case_types)]
pub struct ipcx_object_list(Listing);

impl handle::Handle for ipcx_object_list {
    const KIND: u32 = 8;
    const NAME: &'static str = "ipcx_object_list";
}
impl handle::Shared for ipcx_object_list {}

/// Object kind: System V message queue (named by its id).
pub const IPCX_OBJECT_SYSV_MSQ: u32 = 1;
/// Object kind: System V shared memory segment (named by its id).
pub const IPCX_OBJECT_SYSV_SHM: u32 = 2;
/// Object kind: System V semaphore set (named by its id).
pub const IPCX_OBJECT_SYSV_SEM: u32 = 3;
/// Object kind: POSIX shared memory object ("/name").
pub const IPCX_OBJECT_POSIX_SHM: u32 = 4;
/// Object kind: POSIX message queue ("/name").
pub const IPCX_OBJECT_POSIX_MQ: u32 = 5;
/// Object kind: POSIX named semaphore ("/name").
pub const IPCX_OBJECT_POSIX_SEM: u32 = 6;
/// Object kind: FIFO (absolute path).
pub const IPCX_OBJECT_FIFO: u32 = 7;
/// Object kind: Unix domain socket file (absolute path).
pub const IPCX_OBJECT_SOCKET: u32 = 8;
/// Object kind: named shared-memory ring ("/name").
pub const IPCX_OBJECT_RING: u32 = 9;

/// `ipcx_object_info.flags`: ipcx created it (a trusted record names it and matches it).
pub const IPCX_OBJECT_IPCX: u32 = 1;
/// `ipcx_object_info.flags`: stale: ipcx's, its creator is gone and nothing is attached.
pub const IPCX_OBJECT_STALE: u32 = 2;
/// `ipcx_object_info.flags`: only ipcx's record is left; the object was removed by
/// something else (another program, systemd-logind's RemoveIPC=, a reboot of /tmp...).
pub const IPCX_OBJECT_VANISHED: u32 = 4;
/// `ipcx_object_info.flags`, in `ipcx_inspect_clean` results: removed by this clean.
pub const IPCX_OBJECT_REMOVED: u32 = 8;

/// Flag (`ipcx_inspect_list`): also list other programs' objects (without
/// `IPCX_OBJECT_IPCX`).
pub const IPCX_INSPECT_ALL: u32 = 0x10000;
/// Flag (`ipcx_inspect_clean`): remove nothing, only report what would be removed.
pub const IPCX_INSPECT_DRY_RUN: u32 = 0x20000;
/// Flag (`ipcx_inspect_clean`): remove no object, only the records whose objects vanished.
pub const IPCX_INSPECT_RECORDS_ONLY: u32 = 0x40000;
/// Flag (`ipcx_inspect_remove`): remove the object even though ipcx did not create it.
pub const IPCX_INSPECT_FOREIGN: u32 = 0x80000;

/// The most directories one call scans.
const DIRS_MAX: usize = 64;

const _: () = assert!(
    IPCX_OBJECT_SYSV_MSQ == ObjKind::SysvMsq as u32
        && IPCX_OBJECT_SYSV_SHM == ObjKind::SysvShm as u32
        && IPCX_OBJECT_SYSV_SEM == ObjKind::SysvSem as u32
        && IPCX_OBJECT_POSIX_SHM == ObjKind::PosixShm as u32
        && IPCX_OBJECT_POSIX_MQ == ObjKind::PosixMq as u32
        && IPCX_OBJECT_POSIX_SEM == ObjKind::PosixSem as u32
        && IPCX_OBJECT_FIFO == ObjKind::Fifo as u32
        && IPCX_OBJECT_SOCKET == ObjKind::Socket as u32
        && IPCX_OBJECT_RING == ObjKind::Ring as u32
);

/// The C value of an object's info flags.
fn info_flags_to_c(f: InfoFlags) -> u32 {
    [
        (InfoFlags::IPCX, IPCX_OBJECT_IPCX),
        (InfoFlags::STALE, IPCX_OBJECT_STALE),
        (InfoFlags::VANISHED, IPCX_OBJECT_VANISHED),
        (InfoFlags::REMOVED, IPCX_OBJECT_REMOVED),
    ]
    .iter()
    .filter(|(ours, _)| f.contains(*ours))
    .fold(0, |acc, (_, c)| acc | c)
}

/// What is known about one object: `ipcx_object_list_get` fills it. Set `size` to
/// `sizeof` the struct before the call (`ipcx_object_info o = { .size = sizeof o };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ipcx_object_info {
    /// In: `sizeof(ipcx_object_info)` as the caller knows it. Out: the bytes written.
    pub size: u32,
    /// The kind, one of `IPCX_OBJECT_*`.
    pub kind: u32,
    /// `IPCX_OBJECT_IPCX`, `IPCX_OBJECT_STALE`, `IPCX_OBJECT_VANISHED`,
    /// `IPCX_OBJECT_REMOVED`.
    pub flags: u32,
    /// System V key (0 for IPC_PRIVATE and for other kinds).
    pub key: i32,
    /// System V id; -1 for other kinds.
    pub id: i32,
    /// Owner uid.
    pub uid: u32,
    /// Permission bits (e.g. 0600).
    pub mode: u32,
    /// The creator's pid (from the record; System V segments: shm_cpid); 0 unknown.
    pub creator_pid: i32,
    /// 1 the creator is running, 0 it is gone, -1 unknown.
    pub creator_alive: i32,
    /// The last process to use it (System V: last sender, last attach/detach); 0 unknown.
    pub last_pid: i32,
    /// POSIX name ("/orders") or absolute path, NUL-terminated, whole; "" (never NULL)
    /// for System V objects. Owned by the list: valid until `ipcx_object_list_close`.
    pub name: *const c_char,
    /// Size in bytes: segments, shared memory objects and rings; bytes queued in System V
    /// queues and (when /dev/mqueue is mounted) POSIX queues; 0 otherwise.
    pub bytes: u64,
    /// Depth: messages queued (queues), semaphores in a set; -1 where it does not apply or
    /// cannot be read.
    pub depth: i64,
    /// Processes attached: System V segments: nattch; queues and semaphore sets: live
    /// processes among their last users; others: processes that have it open or mapped
    /// (socket files: 1 if a socket is bound to it); -1 unknown.
    pub attached: i64,
    /// Creation time, seconds since the epoch (System V without a record: the last change
    /// time); 0 unknown.
    pub created: i64,
    /// Age in seconds (now - created); -1 unknown.
    pub age: i64,
}

// SAFETY: repr(C), starts with the u32 size, no padding on 64-bit targets (ten 4-byte
// fields, then 8-byte ones).
unsafe impl Info for ipcx_object_info {
    fn failed() -> Self {
        ipcx_object_info {
            size: 0,
            kind: 0,
            flags: 0,
            key: 0,
            id: -1,
            uid: 0,
            mode: 0,
            creator_pid: 0,
            creator_alive: -1,
            last_pid: 0,
            name: c"".as_ptr(),
            bytes: 0,
            depth: -1,
            attached: -1,
            created: 0,
            age: -1,
        }
    }
}

/// The C view of one object of a list (its name points into the list).
fn object_to_c(o: &ObjectInfo) -> ipcx_object_info {
    ipcx_object_info {
        size: 0,
        kind: o.kind as u32,
        flags: info_flags_to_c(o.flags),
        key: o.key,
        id: o.id,
        uid: o.uid,
        mode: o.mode,
        creator_pid: o.creator_pid,
        creator_alive: o.creator_alive,
        last_pid: o.last_pid,
        name: o.name.as_ptr(),
        bytes: o.bytes,
        depth: o.depth,
        attached: o.attached,
        created: o.created,
        age: o.age,
    }
}

/// The directory arguments as strings.
///
/// # Safety
/// `dirs` must be NULL or point to `ndirs` pointers, each NULL or a NUL-terminated string.
unsafe fn dir_args(dirs: *const *const c_char, ndirs: usize) -> Result<Vec<String>> {
    if ndirs == 0 {
        return Ok(Vec::new());
    }
    if dirs.is_null() {
        return Err(Error::invalid(format!("dirs is NULL with ndirs {ndirs}")));
    }
    if ndirs > DIRS_MAX {
        return Err(Error::invalid(format!(
            "ndirs {ndirs} is more than {DIRS_MAX} directories"
        )));
    }
    (0..ndirs)
        .map(|i| {
            // SAFETY: per the contract, `dirs` has `ndirs` readable pointers.
            let p = unsafe { *dirs.add(i) };
            // SAFETY: per the contract.
            unsafe { str_arg(p, &format!("dirs[{i}]"), crate::name::PATH_MAX) }.map(str::to_string)
        })
        .collect()
}

/// List the IPC objects of the machine: System V queues, segments and semaphore sets
/// (/proc/sysvipc), POSIX shared memory objects and named semaphores (/dev/shm), POSIX
/// message queues (through ipcx's records, and /dev/mqueue when it is mounted), named
/// rings, and FIFOs and socket files (ipcx's through their records, wherever they are;
/// other programs' under `dirs`).
///
/// Arguments: `dirs`/`ndirs`: up to 64 directories scanned (recursively, without following
/// symbolic links or entering other filesystems) for other programs' FIFOs and socket
/// files; `dirs` may be NULL when `ndirs` is 0. `flags`: 0 lists ipcx's objects and the
/// records whose objects vanished; `IPCX_INSPECT_ALL` adds every other object found (no
/// other flag is taken). `out_list` receives the list.
/// Returns: `IPCX_OK` with the list; problems that did not stop the listing (an untrusted
/// record directory or record, an unreadable source, systemd-logind's RemoveIPC= applying
/// to a user whose records were read) are in `ipcx_object_list_warnings`.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_list`, `dirs` NULL with `ndirs` > 0, more than
/// 64 directories, a directory that is not one, unknown flags: the message names
/// `IPCX_INSPECT_ALL`), `IPCX_ERR_NOT_FOUND` (no such directory), `IPCX_ERR_PERMISSION`
/// (a directory cannot be read). On failure `*out_list` is NULL.
/// Ownership: the caller closes the list with `ipcx_object_list_close`.
/// Notes: what "attached" and "stale" mean for each kind, and their limits, are in
/// docs/inspect.md. As a regular user, only your own records are read (your record
/// directory, and the records on your objects in /dev/shm) and other users' processes
/// cannot be examined (objects others could open are then never stale).
/// Fork: safe to call in a child.
///
/// # Safety
/// `dirs` NULL or `ndirs` pointers, each NULL or a NUL-terminated string; `out_list` NULL
/// or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_inspect_list(
    dirs: *const *const c_char,
    ndirs: usize,
    flags: u32,
    out_list: *mut *mut ipcx_object_list,
) -> ipcx_status {
    unsafe { set_opt(out_list, std::ptr::null_mut()) };
    call("ipcx_inspect_list", || {
        let o = unsafe { out(out_list, "out_list") }?;
        crate::flags::check(flags, IPCX_INSPECT_ALL, "IPCX_INSPECT_ALL")?;
        let dirs = unsafe { dir_args(dirs, ndirs) }?;
        let l = inspect::list(&dirs, flags & IPCX_INSPECT_ALL != 0)?;
        *o = handle::into_raw(ipcx_object_list(l))?;
        Ok(())
    })
}

/// Remove ipcx's stale objects (ipcx created them, their creator is gone, nothing is
/// attached: see docs/inspect.md) with their records, and the records whose objects
/// vanished. Other programs' objects are never touched.
///
/// Arguments: `dirs`/`ndirs`: when given (up to 64), only FIFOs and socket files under
/// these directories are considered (the other kinds are not affected); NULL/0 considers
/// every stale FIFO and socket file ipcx recorded. `flags`: `IPCX_INSPECT_DRY_RUN` removes
/// nothing; `IPCX_INSPECT_RECORDS_ONLY` only forgets records whose objects vanished (no
/// other flag is taken). `out_list` receives the list of what was removed
/// (`IPCX_OBJECT_REMOVED` set) or, in a dry run, what would be; an entry without
/// `IPCX_OBJECT_REMOVED` after a real clean could not be removed (the reason is in
/// `ipcx_object_list_warnings`).
/// Returns: `IPCX_OK` with the list.
/// Errors: as for `ipcx_inspect_list` (unknown flags: the message names
/// `IPCX_INSPECT_DRY_RUN` and `IPCX_INSPECT_RECORDS_ONLY`). On failure `*out_list` is
/// NULL and nothing was removed.
/// Races: an object is checked just before its removal only for System V segments (nattch);
/// a process that attaches to another kind of stale object between the scan and the
/// removal keeps its mapping or descriptor, but the name is gone.
/// Ownership: the caller closes the list with `ipcx_object_list_close`.
/// Fork: safe to call in a child.
///
/// # Safety
/// As for `ipcx_inspect_list`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_inspect_clean(
    dirs: *const *const c_char,
    ndirs: usize,
    flags: u32,
    out_list: *mut *mut ipcx_object_list,
) -> ipcx_status {
    unsafe { set_opt(out_list, std::ptr::null_mut()) };
    call("ipcx_inspect_clean", || {
        let o = unsafe { out(out_list, "out_list") }?;
        crate::flags::check(
            flags,
            IPCX_INSPECT_DRY_RUN | IPCX_INSPECT_RECORDS_ONLY,
            "IPCX_INSPECT_DRY_RUN and IPCX_INSPECT_RECORDS_ONLY",
        )?;
        let dirs = unsafe { dir_args(dirs, ndirs) }?;
        let l = inspect::clean(
            &dirs,
            flags & IPCX_INSPECT_DRY_RUN != 0,
            flags & IPCX_INSPECT_RECORDS_ONLY != 0,
        )?;
        *o = handle::into_raw(ipcx_object_list(l))?;
        Ok(())
    })
}

/// The number of objects in a list.
///
/// Arguments: `out_count` (required) receives it.
/// Returns: `IPCX_OK` with `*out_count` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `list` or `out_count`), `IPCX_ERR_BAD_HANDLE` (closed
/// list). On error `*out_count` is 0.
///
/// # Safety
/// `list` NULL or a value from ipcx; `out_count` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_object_list_count(
    list: *const ipcx_object_list,
    out_count: *mut usize,
) -> ipcx_status {
    unsafe { set_opt(out_count, 0) };
    call_ref("ipcx_object_list_count", list, |l| {
        *unsafe { out(out_count, "out_count") }? = l.0.objects.len();
        Ok(())
    })
}

/// Describe the object at `index` (0 ≤ index < count) in the caller's `out_info`.
///
/// Arguments: `out_info` (required): set its `size` to `sizeof(ipcx_object_info)` first;
/// the library writes at most `size` bytes and sets `size` to what it wrote.
/// Returns: `IPCX_OK` with `*out_info` filled. Its `name` points into the list (valid
/// until `ipcx_object_list_close`; copy it to keep it longer); the other fields are
/// copies.
/// Errors: `IPCX_ERR_INVALID` (NULL `list` or `out_info`; `out_info->size` below the 0.2
/// size: nothing written; `index` out of range: the message gives the count),
/// `IPCX_ERR_BAD_HANDLE` (closed list). On other errors `*out_info` holds the failure
/// values: kind 0, `name` "" (a static empty string, never NULL), id -1, depth,
/// attached, age and creator_alive -1, the rest 0.
///
/// # Safety
/// `list` NULL or a value from ipcx; `out_info` NULL or valid for reading its `size`
/// field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_object_list_get(
    list: *const ipcx_object_list,
    index: usize,
    out_info: *mut ipcx_object_info,
) -> ipcx_status {
    // The failure values first, for when the handle is refused before the body runs.
    let _ = unsafe { info_out(out_info, "out_info", || Ok(ipcx_object_info::failed())) };
    call_ref("ipcx_object_list_get", list, |l| unsafe {
        info_out(out_info, "out_info", || {
            let n = l.0.objects.len();
            l.0.objects.get(index).map(object_to_c).ok_or_else(|| {
                Error::invalid(format!(
                    "index {index} is out of range (the list has {n} objects)"
                ))
            })
        })
    })
}

/// The warnings of a list, one per line (an empty string when there were none): record
/// directories or records that are not trusted and were ignored (wrong owner or mode, a
/// symbolic link, a malformed record), sources that could not be read, and for
/// `ipcx_inspect_clean` the objects that could not be removed, with the reason.
///
/// Arguments: `out_text` (required) receives a NUL-terminated string owned by the list,
/// valid until the list is closed.
/// Returns: `IPCX_OK` with `*out_text` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `list` or `out_text`), `IPCX_ERR_BAD_HANDLE` (closed
/// list). On error `*out_text` is NULL.
///
/// # Safety
/// `list` NULL or a value from ipcx; `out_text` NULL or valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_object_list_warnings(
    list: *const ipcx_object_list,
    out_text: *mut *const c_char,
) -> ipcx_status {
    unsafe { set_opt(out_text, std::ptr::null()) };
    call_ref("ipcx_object_list_warnings", list, |l| {
        *unsafe { out(out_text, "out_text") }? = l.0.warnings.as_ptr();
        Ok(())
    })
}

/// Close a list. NULL is a no-op. The names from `ipcx_object_list_get` and the text from
/// `ipcx_object_list_warnings` die with it. A close racing a call on another thread
/// never waits: the list is freed when that call returns.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if it was already closed, stale or not a
/// list (nothing is freed twice).
///
/// # Safety
/// `list` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_object_list_close(list: *mut ipcx_object_list) -> ipcx_status {
    call("ipcx_object_list_close", || handle::close(list))
}

/// Remove one object, given its kind and exact identity.
///
/// Arguments: `kind`: an `IPCX_OBJECT_*` value. `name`: System V kinds: the id as a
/// decimal number ("32769", as ipcs shows it); POSIX kinds and rings: the name ("/orders");
/// FIFOs and socket files: the absolute path. No patterns. `flags`: 0 removes the object
/// only if ipcx created it (a matching record); `IPCX_INSPECT_FOREIGN` removes it whoever
/// created it (no other flag is taken).
/// Returns: `IPCX_OK` once the object (and its record, if any) is removed. An object of
/// ipcx's is removed even if it is in use, as `ipcrm` or `rm` would: check
/// `ipcx_inspect_list` first if that matters.
/// Errors: `IPCX_ERR_INVALID` (NULL or malformed `name`, relative path, unknown `kind`,
/// unknown flags: the message names `IPCX_INSPECT_FOREIGN`, a path that is not of the
/// kind given: a regular file is never removed), `IPCX_ERR_NOT_FOUND` (no such object; a
/// record left behind for it is removed too), `IPCX_ERR_PERMISSION` (not ipcx's and
/// `IPCX_INSPECT_FOREIGN` not given, or the kernel refused: only the owner, creator or a
/// privileged process may remove it), `IPCX_ERR_IN_USE` (a socket file was replaced while
/// it was being removed).
/// Fork: safe to call in a child.
///
/// # Safety
/// `name` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_inspect_remove(
    kind: u32,
    name: *const c_char,
    flags: u32,
) -> ipcx_status {
    call("ipcx_inspect_remove", || {
        let k = ObjKind::from_code(kind)
            .ok_or_else(|| Error::invalid(format!("unknown object kind {kind}")))?;
        crate::flags::check(flags, IPCX_INSPECT_FOREIGN, "IPCX_INSPECT_FOREIGN")?;
        let name = unsafe { str_arg(name, "name", crate::name::PATH_MAX) }?;
        inspect::remove(k, name, flags & IPCX_INSPECT_FOREIGN != 0)
    })
}

/// The short name of an object kind ("sysv-msq", "sysv-shm", "sysv-sem", "posix-shm",
/// "posix-mq", "posix-sem", "fifo", "socket", "ring"), as the `ipcx` tool prints and
/// accepts it.
///
/// Returns: a static NUL-terminated string, never NULL; "unknown" for a value that is not a
/// kind. Never fails, never allocates.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_object_kind_name(kind: u32) -> *const c_char {
    ObjKind::from_code(kind).map_or(c"unknown".as_ptr(), |k| k.c_name().as_ptr())
}

/// The kind whose short name is `name` (see `ipcx_object_kind_name`).
///
/// Arguments: `out_kind` (required) receives the `IPCX_OBJECT_*` value.
/// Returns: `IPCX_OK` with `*out_kind` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `name` or `out_kind`, or no kind has that name: the
/// message lists the names). On error `*out_kind` is 0.
///
/// # Safety
/// `name` NULL or a NUL-terminated string; `out_kind` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_object_kind_from_name(
    name: *const c_char,
    out_kind: *mut u32,
) -> ipcx_status {
    unsafe { set_opt(out_kind, 0) };
    call("ipcx_object_kind_from_name", || {
        let k = unsafe { out(out_kind, "out_kind") }?;
        let n = unsafe { str_arg(name, "name", 64) }?;
        let found = ObjKind::from_name(n).ok_or_else(|| {
            let names: Vec<&str> = crate::admin::provenance::ALL_KINDS
                .iter()
                .map(|k| k.name())
                .collect();
            Error::invalid(format!(
                "unknown object kind {n:?} (kinds: {})",
                names.join(", ")
            ))
        })?;
        *k = found as u32;
        Ok(())
    })
}
