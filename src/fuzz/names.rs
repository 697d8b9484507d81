// SPDX-License-Identifier: MIT OR Apache-2.0
//! Names (src/name.rs and the C string argument helper): every validator against the
//! rules it documents, written out here independently.
//!
//! Input: one selector byte, then the name's bytes. The bytes go through the C boundary's
//! `str_arg` (NUL-terminated, length limit, UTF-8) and, when they are text, through each
//! validator; an accepted name must satisfy every rule and a refused one break at least
//! one, with `IPCX_ERR_INVALID`.

use crate::error::Status;
use crate::name;
use crate::sock::addr::UnixName;

fn posix_rules(n: &str, max: usize) -> bool {
    n.starts_with('/')
        && n.len() >= 2
        && n.len() <= max
        && !n[1..].contains('/')
        && n != "/."
        && n != "/.."
        && !n.contains('\0')
}

fn path_rules(p: &str) -> bool {
    !p.is_empty() && p.len() <= name::PATH_MAX && !p.contains('\0')
}

fn abstract_rules(n: &str) -> bool {
    !n.is_empty() && n.len() <= name::ABSTRACT_MAX
}

fn agree<T: std::fmt::Debug>(what: &str, n: &str, got: crate::error::Result<T>, ok: bool) {
    match got {
        Ok(_) => assert!(ok, "{what} accepted {n:?}"),
        Err(e) => {
            assert!(!ok, "{what} refused {n:?}: {}", e.msg);
            assert_eq!(e.status, Status::IPCX_ERR_INVALID, "{what}: {}", e.msg);
        }
    }
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    // Lengths near the limits are what matters: stretch short inputs by repeating them.
    let mut owned;
    let bytes = if sel & 0x80 != 0 && !bytes.is_empty() {
        let want = [100, 106, 107, 108, 250, 251, 252, 255, 256, 4095, 4096][sel as usize % 11];
        owned = bytes.repeat(want / bytes.len() + 1);
        owned.truncate(want);
        if sel & 0x40 != 0 {
            owned[0] = b'/';
        }
        &owned[..]
    } else {
        bytes
    };

    // The C boundary: a NUL-terminated string with a length limit.
    let max = [0usize, 1, 7, 107, 255, 4095][sel as usize % 6];
    let mut c = bytes.to_vec();
    c.push(0);
    // SAFETY: a NUL-terminated buffer.
    let r = unsafe { crate::ffi::str_arg(c.as_ptr().cast(), "name", max) };
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    match r {
        Ok(s) => {
            assert!(len <= max);
            assert_eq!(s.as_bytes(), &bytes[..len]);
        }
        Err(e) => {
            assert_eq!(e.status, Status::IPCX_ERR_INVALID);
            assert!(
                len > max || std::str::from_utf8(&bytes[..len]).is_err(),
                "{}",
                e.msg
            );
        }
    }

    let Ok(n) = std::str::from_utf8(bytes) else {
        return;
    };
    agree("path", n, name::path(n), path_rules(n));
    for max in [name::POSIX_NAME_MAX, 251, 31] {
        agree(
            "posix_name",
            n,
            name::posix_name(n, max),
            posix_rules(n, max),
        );
    }
    agree(
        "abstract_name",
        n,
        name::abstract_name(n),
        abstract_rules(n),
    );
    let unix_ok = match n.strip_prefix('@') {
        Some(a) => abstract_rules(a),
        None => path_rules(n) && n.len() <= 107,
    };
    let parsed = UnixName::parse(n);
    if let Ok(u) = &parsed {
        // The address built from it must print back as the same name.
        let a = crate::sock::addr::SockAddr::unix(*u);
        if !n.contains('\0') && !n.chars().any(|c| c.is_control() || c == '\\') {
            assert_eq!(a.text(), n, "unix address text");
        }
    }
    agree("UnixName::parse", n, parsed, unix_ok);
    // ftok's project id range (the path is fixed: no file system traffic from the input).
    let proj = i32::from(sel) - 8;
    let k = name::sysv_key("/", proj);
    assert_eq!(k.is_ok(), (1..=255).contains(&proj), "proj_id {proj}");
}
