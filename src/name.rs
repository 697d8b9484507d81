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

/// A System V IPC key from a path and a project id (`ftok`): the same path (which must
/// exist; its device and inode are used) and id give the same key in every process.
/// `proj_id` must be 1..=255 (ftok uses its low 8 bits, and 0 is reserved by POSIX).
pub fn sysv_key(p: &str, proj_id: i32) -> Result<i32> {
    path(p)?;
    if !(1..=255).contains(&proj_id) {
        return Err(Error::invalid(format!(
            "project id {proj_id} is out of range (1..=255: ftok keeps only the low 8 bits)"
        )));
    }
    let c = std::ffi::CString::new(p).map_err(|_| Error::invalid("path contains a NUL byte"))?;
    // SAFETY: a valid C string.
    let key = unsafe { libc::ftok(c.as_ptr(), proj_id) };
    if key == -1 {
        return Err(Error::last_os(format_args!("ftok({p:?}, {proj_id})")));
    }
    Ok(key)
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
    fn sysv_keys() {
        let a = sysv_key("/tmp", 7).unwrap();
        assert_eq!(a, sysv_key("/tmp", 7).unwrap());
        assert_ne!(a, sysv_key("/tmp", 8).unwrap());
        assert!(sysv_key("/tmp", 0).is_err());
        assert!(sysv_key("/tmp", 256).is_err());
        assert!(sysv_key("/nonexistent-ipcx", 1).is_err());
    }

    #[test]
    fn paths() {
        assert!(path("/tmp/x").is_ok());
        assert!(path("").is_err());
        assert!(path(&"a".repeat(5000)).is_err());
    }
}
