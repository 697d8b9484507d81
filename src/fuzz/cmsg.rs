// SPDX-License-Identifier: MIT OR Apache-2.0
//! Descriptor passing (src/sock/cmsg.rs): control data after recvmsg, and handing the
//! received descriptors over to the caller.
//!
//! The kernel writes the control data, so its structure is trusted in production; the
//! harness still gives `decode` arbitrary bytes (any `cmsg_len`, any number of headers)
//! placed just before a guard page, so that a read past the control buffer faults. The
//! descriptor numbers it finds are not ours, so they are never closed here.
//!
//! `hand_over` gets real descriptors (any count, any caller array size, with or without
//! MSG_CTRUNC): afterwards exactly the handed-over ones are open, in order, and none is
//! leaked or closed twice.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};

use super::Input;
use crate::error::Status;
use crate::sock::cmsg::{self, Received};

const PAGE: usize = 4096;

struct Guarded {
    base: *mut u8,
}

impl Guarded {
    fn new() -> Guarded {
        // SAFETY: a fresh private mapping of two pages; the second one made inaccessible.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                2 * PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            assert_eq!(
                libc::mprotect(p.cast::<u8>().add(PAGE).cast(), PAGE, libc::PROT_NONE),
                0
            );
            Guarded { base: p.cast() }
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: our mapping.
        unsafe { libc::munmap(self.base.cast(), 2 * PAGE) };
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let sel = inp.u8();
    if sel & 1 == 0 {
        let len = (inp.u16() as usize % 1281).min(PAGE);
        let g = Guarded::new();
        // 8-aligned (cmsghdr alignment), ending at most 7 bytes before the guard page.
        let start = (PAGE - len) & !7;
        let bytes = inp.rest();
        // SAFETY: inside the first page.
        let buf = unsafe { std::slice::from_raw_parts_mut(g.base.add(start), len) };
        for (i, b) in buf.iter_mut().enumerate() {
            *b = bytes.get(i).copied().unwrap_or(0);
        }
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = buf.as_mut_ptr().cast();
        msg.msg_controllen = len;
        let mut out = Vec::new();
        cmsg::decode(&msg, &mut out);
        let n = out.len();
        // Not our descriptors: never close them.
        for fd in out {
            let _ = fd.into_raw_fd();
        }
        assert!(
            n <= len / 4,
            "{n} descriptors from {len} bytes of control data"
        );
        return;
    }
    // hand_over with real descriptors.
    let total = inp.u8() as usize % 40;
    let room = inp.u8() as usize % 48;
    let cut = inp.u8() & 1 != 0;
    let before = open_fds();
    let mut fds = Vec::with_capacity(total);
    for _ in 0..total {
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: just created.
        fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let nums: Vec<RawFd> = fds.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
    let mut out = vec![-1; room];
    let (given, err) = Received { fds, cut }.hand_over(&mut out);
    assert_eq!(given, total.min(room));
    assert_eq!(&out[..given], &nums[..given], "handed over in order");
    assert!(
        out[given..].iter().all(|&f| f == -1),
        "nothing written past the count"
    );
    match err {
        Some(e) => {
            assert!(total > room || cut);
            assert_eq!(e.status, Status::IPCX_ERR_LIMIT);
        }
        None => assert!(total <= room && !cut),
    }
    assert_eq!(open_fds(), before + given, "descriptors leaked or closed");
    for fd in &out[..given] {
        // SAFETY: handed over to us.
        assert_eq!(
            unsafe { libc::close(*fd) },
            0,
            "fd {fd} handed over but not open"
        );
    }
}
