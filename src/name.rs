// SPDX-License-Identifier: MIT OR Apache-2.0
//! The one place for validating names: filesystem paths (FIFOs, socket files, mapped
//! files, ftok), POSIX IPC names (`/name` for shm, mq, named semaphores) and Linux abstract
//! socket names. Every validator returns `IPCX_ERR_INVALID` with a message naming the
//! offending name and the rule it broke.

use crate::error::{Error, Result};

/// Longest path accepted (PATH_MAX including the NUL).
pub(crate) const PATH_MAX: usize = libc::PATH_MAX as usize - 1;

/// Longest POSIX IPC name accepted, including the leading slash and excluding the NUL: a
/// slash and NAME_MAX (255) bytes, the kernel's limit for the file under /dev/mqueue and
/// /dev/shm (glibc's shm_open and the kernel's mq_open strip the slash). Python's
/// posix_ipc creates names that long.
pub(crate) const POSIX_NAME_MAX: usize = 256;
/// Longest POSIX message queue name (`IPCX_MQ_NAME_MAX`).
pub(crate) const MQ_NAME_MAX: usize = POSIX_NAME_MAX;
/// Longest POSIX shared memory object name (`IPCX_SHM_NAME_MAX`); rings are shared memory
/// objects and share the limit.
pub(crate) const SHM_NAME_MAX: usize = POSIX_NAME_MAX;
/// Longest named semaphore name (`IPCX_SEM_NAME_MAX`): a slash and 251 bytes, since glibc
/// stores "/name" as the file /dev/shm/sem.name, whose name has at most NAME_MAX bytes.
pub(crate) const SEM_NAME_MAX: usize = POSIX_NAME_MAX - 4;
/// How far a name argument is scanned for its NUL: far enough that a name a few bytes too
/// long is still read, so that the error message can name it.
pub(crate) const NAME_SCAN_MAX: usize = PATH_MAX;

/// Check a filesystem path: non-empty, no NUL, at most [`PATH_MAX`] bytes.
pub fn path(p: &str) -> Result<&str> {
    if p.is_empty() {
        return Err(Error::invalid("path is empty"));
    }
    if p.len() > PATH_MAX {
        return Err(Error::invalid(format!(
            "path is {} bytes long, more than PATH_MAX ({PATH_MAX})",
            p.len()
        )));
    }
    if p.contains('\0') {
        return Err(Error::invalid(format!("path {p:?} contains a NUL byte")));
    }
    Ok(p)
}

/// Check a POSIX IPC name: exactly one leading slash, no other slash, 2..=`max` bytes,
/// not "/." or "/..".
pub fn posix_name(n: &str, max: usize) -> Result<&str> {
    let bad = |why: &str| Err(Error::invalid(format!("name {n:?} is invalid: {why}")));
    if !n.starts_with('/') {
        return bad("it must start with '/' (for example \"/myqueue\")");
    }
    if n.len() < 2 {
        return bad("it needs at least one character after '/'");
    }
    if n.len() > max {
        return bad(&format!("it is {} bytes long, the limit is {max}", n.len()));
    }
    if n[1..].contains('/') {
        return bad("only the leading '/' is allowed");
    }
    if n == "/." || n == "/.." {
        return bad("'.' and '..' are not names");
    }
    if n.contains('\0') {
        return bad("it contains a NUL byte");
    }
    Ok(n)
}

/// The System V IPC key of an existing file and a project id (ftok(3)): `proj_id` must be
/// 1..=255 (ftok keeps its low 8 bits; 0 is not portable). A missing path is
/// `IPCX_ERR_NOT_FOUND`.
pub fn sysv_key(p: &str, proj_id: i32) -> Result<i32> {
    if !(1..=255).contains(&proj_id) {
        return Err(Error::invalid(format!(
            "project id (proj_id) {proj_id} is out of range (1..=255: ftok keeps 8 bits)"
        )));
    }
    let c = std::ffi::CString::new(path(p)?)
        .map_err(|_| Error::invalid(format!("path {p:?} contains a NUL byte")))?;
    // ftok(3) is stat(2) plus this arithmetic (glibc's formula); done here so that a key
    // of -1 is not mistaken for an error.
    // SAFETY: a valid C string and a zeroed stat buffer.
    let mut st: crate::sys::stat = unsafe { std::mem::zeroed() };
    if unsafe { crate::sys::stat(c.as_ptr(), &mut st) } < 0 {
        return Err(Error::last_os(format_args!("ftok({p:?}, {proj_id}): stat")));
    }
    let key = (st.st_ino & 0xffff) as u32
        | ((st.st_dev & 0xff) as u32) << 16
        | ((proj_id as u32) & 0xff) << 24;
    Ok(key as i32)
}

/// The error for `IPCX_KEY_PRIVATE` without `IPCX_OPEN_CREATE`, worded the same in every
/// System V family: the private key always makes a new object, so opening it is meaningless.
/// `what` names the object ("message queue"); `reach` says how another process reaches an
/// existing private one.
pub(crate) fn private_key_needs_create(what: &str, reach: &str) -> Error {
    Error::invalid(format!(
        "key IPCX_KEY_PRIVATE always makes a new {what}, so it needs IPCX_OPEN_CREATE; {reach}"
    ))
}

/// Longest abstract socket name (sun_path is 108 bytes, the first is the NUL marker).
pub(crate) const ABSTRACT_MAX: usize = 107;

/// Check a Linux abstract socket name (given without the leading NUL): 1..=107 bytes.
pub fn abstract_name(n: &str) -> Result<&str> {
    if n.is_empty() {
        return Err(Error::invalid("abstract socket name is empty"));
    }
    if n.len() > ABSTRACT_MAX {
        return Err(Error::invalid(format!(
            "abstract socket name is {} bytes long, the limit is {ABSTRACT_MAX}",
            n.len()
        )));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_names() {
        assert!(posix_name("/ok", POSIX_NAME_MAX).is_ok());
        for bad in ["", "/", "noslash", "/a/b", "/.", "/.."] {
            assert!(posix_name(bad, POSIX_NAME_MAX).is_err(), "{bad}");
        }
        // The kernel's limit: a slash and 255 bytes; one more is refused, naming the name.
        let longest = format!("/{}", "x".repeat(255));
        assert!(posix_name(&longest, POSIX_NAME_MAX).is_ok());
        let long = format!("/{}", "x".repeat(256));
        let e = posix_name(&long, POSIX_NAME_MAX).unwrap_err();
        assert!(e.msg.contains(&long) && e.msg.contains("257"), "{}", e.msg);
        assert_eq!(SEM_NAME_MAX, 252);
    }

    #[test]
    fn sysv_key_is_ftok() {
        let k = sysv_key("/tmp", 7).unwrap();
        assert_eq!(k, unsafe { libc::ftok(c"/tmp".as_ptr(), 7) });
        assert!(sysv_key("/tmp", 0).is_err() && sysv_key("/tmp", 256).is_err());
        let e = sysv_key("/nonexistent/ipcx", 1).unwrap_err();
        assert_eq!(e.status, crate::error::Status::IPCX_ERR_NOT_FOUND);
    }

    #[test]
    fn paths() {
        assert!(path("/tmp/x").is_ok());
        assert!(path("").is_err());
        assert!(path(&"a".repeat(5000)).is_err());
    }
}
