//! The one place for validating names: filesystem paths (FIFOs, socket files, mapped
//! files, ftok), POSIX IPC names (`/name` for shm, mq, named semaphores) and Linux abstract
//! socket names. Every validator returns `IPCX_ERR_INVALID` with a message naming the
//! offending name and the rule it broke.

use crate::error::{Error, Result};

/// Longest path accepted (PATH_MAX including the NUL).
pub(crate) const PATH_MAX: usize = libc::PATH_MAX as usize - 1;

/// Longest POSIX IPC name accepted, including the leading slash. NAME_MAX (255) is the
/// limit of the final component under /dev/shm and /dev/mqueue; the glibc helpers for
/// named semaphores prepend "sem." so their limit is 251.
#[allow(dead_code)] // used by the POSIX shm, mq and semaphore modules
pub(crate) const POSIX_NAME_MAX: usize = 255;

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
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(c.as_ptr(), &mut st) } < 0 {
        return Err(Error::last_os(format_args!("ftok({p:?}, {proj_id}): stat")));
    }
    let key = (st.st_ino & 0xffff) as u32
        | ((st.st_dev & 0xff) as u32) << 16
        | ((proj_id as u32) & 0xff) << 24;
    Ok(key as i32)
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
        assert!(posix_name("/ok", 255).is_ok());
        for bad in ["", "/", "noslash", "/a/b", "/.", "/.."] {
            assert!(posix_name(bad, 255).is_err(), "{bad}");
        }
        let long = format!("/{}", "x".repeat(255));
        assert!(posix_name(&long, 255).is_err());
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
