// SPDX-License-Identifier: MIT OR Apache-2.0
//! The creation hook: what the mechanisms tell the administration tree ([`crate::admin`])
//! about the objects they create and remove, so that `ipcx_inspect_*` and the `ipcx` tool
//! can recognise them later. It is the only path from the rest of the library into
//! `admin/`. Every call is best effort and never fails the operation that makes it.

use std::os::fd::BorrowedFd;

use crate::admin::provenance;
pub use crate::admin::provenance::ObjKind;
pub(crate) use crate::admin::provenance::Stamp;

/// A System V object was created with `key` (IPC_PRIVATE included) and got `id`.
pub(crate) fn created_sysv(kind: ObjKind, key: i32, id: i32) {
    provenance::created_sysv(kind, key, id);
}

/// The System V object `id` was removed.
pub(crate) fn removed_sysv(kind: ObjKind, id: i32) {
    provenance::removed_sysv(kind, id);
}

/// A POSIX-named object (shared memory, ring, queue, semaphore) was created; `fd` is a
/// descriptor of it (for its inode), when there is one.
pub(crate) fn created_named(kind: ObjKind, name: &str, fd: Option<BorrowedFd<'_>>) {
    provenance::created_named(kind, name, fd);
}

/// The POSIX-named object was removed.
pub(crate) fn removed_named(kind: ObjKind, name: &str) {
    provenance::removed_named(kind, name);
}

/// Whether a record proves ipcx created the POSIX-named object open on `fd` (the record
/// names this very inode): the condition for removing an object that no longer looks like
/// one of ours (a truncated ring).
pub(crate) fn proves_named(kind: ObjKind, name: &str, fd: BorrowedFd<'_>) -> bool {
    provenance::proves_named(kind, name, fd)
}

/// A FIFO or socket file was created at `path`.
pub(crate) fn created_path(kind: ObjKind, path: &str) {
    provenance::created_path(kind, path);
}

/// The identity of the file at `path`, read before removing it (for [`removed_path`]).
pub(crate) fn path_stamp(path: &str) -> Option<Stamp> {
    provenance::path_stamp(path)
}

/// The FIFO or socket file at `path`, whose inode was `stamp`, was removed.
pub(crate) fn removed_path(kind: ObjKind, path: &str, stamp: Option<&Stamp>) {
    provenance::removed_path(kind, path, stamp);
}

/// The FIFO or socket file ipcx created at `path`, still open on `fd`, is no longer there
/// (removed or replaced by someone else's file, which is left alone): forget its record if
/// the record names the inode `fd` is open on.
pub(crate) fn gone_path(kind: ObjKind, path: &str, fd: std::os::fd::RawFd) {
    if fd < 0 {
        return;
    }
    // SAFETY: the caller's descriptor, open for the duration of the call.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    if let Ok(info) = provenance::file_info_fd(b) {
        provenance::removed_path(kind, path, Some(&info.stamp));
    }
}
