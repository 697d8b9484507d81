// SPDX-License-Identifier: MIT OR Apache-2.0
//! Copies into and out of mappings whose backing store may shrink, without SIGBUS and
//! without a signal handler.
//!
//! A plain `memcpy` that touches a page past the end of a truncated file or POSIX object
//! raises SIGBUS in the calling thread. The kernel's own accessors do not: when
//! `process_vm_readv`/`process_vm_writev` (here on our own process) or a read/write of
//! `/proc/self/mem` meet such a page, get_user_pages fails and the call returns a short
//! count or EFAULT/EIO. So the copy is one system call instead of a `memcpy`.
//!
//! Options weighed (measured on the 2-vCPU development VM, 64 B / 4 KiB / 1 MiB / 64 MiB,
//! against memcpy into the same tmpfs mapping: 3 ns / 43 ns / 27 us / 5.8 ms):
//! - `process_vm_writev`/`readv` on our own pid: 1.15 us / 1.3 us / 84 us / 13 ms.
//!   Chosen: one system call, no descriptor, nothing to set up.
//! - `pread`/`pwrite` on `/proc/self/mem`: 1.36 us / 1.47 us / 177 us / 16 ms, and it needs
//!   a descriptor, which cannot be cached because after fork it would still name the
//!   parent. Kept as the fallback when a seccomp filter refuses `process_vm_*`.
//! - `pread` on the backing descriptor: safe for reads only (a `pwrite` past the new end
//!   would silently grow the file back), and needs the descriptor kept open.
//! - `fstat` to learn the size, then `memcpy`: racy (the truncation can land between the
//!   two), so it still crashes, just less often.
//! - A SIGBUS handler with sigsetjmp: changes process-wide signal state, which ipcx never
//!   does behind the caller's back.
//!
//! The pid given to `process_vm_*` is cached in a page marked `MADV_WIPEONFORK`: a forked
//! child (by fork(2), or a raw clone without CLONE_VM) sees the page zeroed and looks its
//! pid up again, so the copy never targets the parent by mistake. If the thread-group
//! leader has exited (ESRCH), the calling thread's tid is used instead.

use std::sync::atomic::{AtomicU8, Ordering};

use nix::errno::Errno;

use crate::sys::proc::own_pid;

/// Which way the bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// From the region into the caller's buffer.
    FromRegion,
    /// From the caller's buffer into the region.
    ToRegion,
}

/// Why a fault-safe copy stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A page could not be reached: the backing store shrank (or the caller's buffer is not
    /// valid memory). `copied` bytes were transferred before it.
    Lost { copied: usize, errno: Errno },
    /// Neither `process_vm_*` nor `/proc/self/mem` can be used in this process.
    Unavailable { errno: Errno },
    /// Any other error of the underlying call.
    Other { errno: Errno },
}

const PVM: u8 = 0;
const PROC_MEM: u8 = 1;
/// The method in use: `process_vm_*` until it is found refused, then `/proc/self/mem`.
static METHOD: AtomicU8 = AtomicU8::new(PVM);

/// One `process_vm_readv`/`writev` call on process `pid`: the region side is the
/// "remote" one, so its pages are reached through get_user_pages.
fn pvm(dir: Dir, pid: i32, region: *mut u8, buf: *mut u8, len: usize) -> isize {
    let local = libc::iovec {
        iov_base: buf.cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: region.cast(),
        iov_len: len,
    };
    // SAFETY: one iovec each; the kernel validates both ranges and never faults us.
    unsafe {
        match dir {
            Dir::FromRegion => libc::process_vm_readv(pid, &local, 1, &remote, 1, 0),
            Dir::ToRegion => libc::process_vm_writev(pid, &local, 1, &remote, 1, 0),
        }
    }
}

/// Copy `len` bytes between `region` and `buf` in direction `dir`, reporting a lost page
/// instead of raising SIGBUS.
pub(crate) fn copy(dir: Dir, region: *mut u8, buf: *mut u8, len: usize) -> Result<(), Failure> {
    let mut done = 0usize;
    let mut pid = own_pid();
    let mut tried_tid = false;
    while done < len {
        if METHOD.load(Ordering::Relaxed) == PROC_MEM {
            return proc_mem(
                dir,
                region.wrapping_add(done),
                buf.wrapping_add(done),
                len - done,
            )
            .map_err(|f| match f {
                Failure::Lost { copied, errno } => Failure::Lost {
                    copied: done + copied,
                    errno,
                },
                other => other,
            });
        }
        let n = pvm(
            dir,
            pid,
            region.wrapping_add(done),
            buf.wrapping_add(done),
            len - done,
        );
        if n > 0 {
            done += n as usize;
            continue;
        }
        if n == 0 {
            return Err(Failure::Lost {
                copied: done,
                errno: Errno::EFAULT,
            });
        }
        match Errno::last() {
            Errno::EINTR => {}
            Errno::EFAULT => {
                return Err(Failure::Lost {
                    copied: done,
                    errno: Errno::EFAULT,
                });
            }
            // The thread-group leader has exited (its mm is gone): name this thread.
            Errno::ESRCH if !tried_tid => {
                tried_tid = true;
                pid = crate::sys::gettid();
            }
            // Refused by a seccomp filter or absent: fall back for good.
            Errno::ENOSYS | Errno::EPERM => METHOD.store(PROC_MEM, Ordering::Relaxed),
            errno => return Err(Failure::Other { errno }),
        }
    }
    Ok(())
}

/// The fallback: read or write `/proc/self/mem` at the region's address. The descriptor is
/// opened per copy (a cached one would name the parent after fork).
pub(crate) fn proc_mem(dir: Dir, region: *mut u8, buf: *mut u8, len: usize) -> Result<(), Failure> {
    let flags = match dir {
        Dir::FromRegion => libc::O_RDONLY,
        Dir::ToRegion => libc::O_WRONLY,
    } | libc::O_CLOEXEC
        | libc::O_LARGEFILE; // offsets are addresses: above 2^31 on 32-bit targets
    // SAFETY: a constant C string.
    let fd = unsafe { libc::open(c"/proc/self/mem".as_ptr(), flags) };
    if fd < 0 {
        return Err(Failure::Unavailable {
            errno: Errno::last(),
        });
    }
    let mut done = 0usize;
    let result = loop {
        if done == len {
            break Ok(());
        }
        let at = (region as usize + done) as u64 as crate::sys::off_t;
        // SAFETY: `buf` is valid for `len` bytes (caller contract); the region side is
        // reached by the kernel, which reports lost pages as EIO or a short count.
        let n = unsafe {
            match dir {
                Dir::FromRegion => crate::sys::pread(fd, buf.add(done).cast(), len - done, at),
                Dir::ToRegion => crate::sys::pwrite(fd, buf.add(done).cast(), len - done, at),
            }
        };
        if n > 0 {
            done += n as usize;
            continue;
        }
        let errno = if n == 0 { Errno::EIO } else { Errno::last() };
        match errno {
            Errno::EINTR => continue,
            Errno::EIO | Errno::EFAULT => {
                break Err(Failure::Lost {
                    copied: done,
                    errno,
                });
            }
            errno => break Err(Failure::Other { errno }),
        }
    };
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A 3-page shared file mapping whose file is then cut to one page.
    fn truncated() -> (std::fs::File, *mut u8) {
        let path = format!("/tmp/ipcx-unit-fault-safe-{}", std::process::id());
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f.set_len(3 * 4096).unwrap();
        // SAFETY: a fresh shared mapping of our own file.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                3 * 4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        f.set_len(4096).unwrap();
        (f, p.cast())
    }

    #[test]
    fn both_methods_copy_and_report_lost_pages() {
        let (_f, p) = truncated();
        for m in [
            copy as fn(Dir, *mut u8, *mut u8, usize) -> Result<(), Failure>,
            proc_mem,
        ] {
            let mut buf = *b"0123456789";
            m(Dir::ToRegion, p.wrapping_add(100), buf.as_mut_ptr(), 10).unwrap();
            let mut back = [0u8; 10];
            m(Dir::FromRegion, p.wrapping_add(100), back.as_mut_ptr(), 10).unwrap();
            assert_eq!(&back, b"0123456789");
            // Straddling the new end: the first 96 bytes go, then the lost page stops it.
            let mut big = [7u8; 200];
            match m(Dir::FromRegion, p.wrapping_add(4000), big.as_mut_ptr(), 200) {
                Err(Failure::Lost { copied, .. }) => assert_eq!(copied, 96),
                other => panic!("expected a lost page, got {other:?}"),
            }
            match m(Dir::ToRegion, p.wrapping_add(8192), big.as_mut_ptr(), 10) {
                Err(Failure::Lost { copied: 0, .. }) => {}
                other => panic!("expected a lost page, got {other:?}"),
            }
        }
        // SAFETY: unmapping the test mapping.
        unsafe { libc::munmap(p.cast(), 3 * 4096) };
    }
}
