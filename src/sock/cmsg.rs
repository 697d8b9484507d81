// SPDX-License-Identifier: MIT OR Apache-2.0
//! Descriptor passing (SCM_RIGHTS): the control messages of sendmsg/recvmsg, and handing
//! received descriptors over to the caller without ever leaking one.
//!
//! Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC) and owned (`OwnedFd`) until
//! the moment they are handed over, so every path that does not hand them over (an error,
//! a caller array that is too small, a receive that did not ask for descriptors) closes
//! them by dropping.
//!
//! Raw: the SCM_RIGHTS encoding and decoding, not nix's `ControlMessage`: nix's `sendmsg`
//! allocates the control buffer on every call (`vec![0u8; capacity]`) and its received
//! `ScmRights` is a `Vec<RawFd>` per message, where this module uses one fixed buffer and
//! turns each descriptor into an `OwnedFd` at once. `getrlimit` goes through nix.

use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

/// SCM_MAX_FD: the most descriptors one message may carry (Linux).
pub(crate) const FDS_MAX: usize = 253;

const INT: usize = std::mem::size_of::<libc::c_int>();

/// Room for one SCM_RIGHTS message of [`FDS_MAX`] descriptors, suitably aligned.
#[repr(C, align(8))]
pub struct CmsgBuf([u8; 1280]);

const _: () = assert!(CMSG_MAX_SPACE <= 1280);
// CMSG_SPACE(FDS_MAX * sizeof(int)) on 64-bit Linux: a 16-byte header plus the aligned data.
const CMSG_MAX_SPACE: usize = 16 + (FDS_MAX * INT).div_ceil(8) * 8;

impl Default for CmsgBuf {
    fn default() -> CmsgBuf {
        CmsgBuf::new()
    }
}

impl CmsgBuf {
    /// A zeroed buffer.
    pub fn new() -> CmsgBuf {
        CmsgBuf([0; 1280])
    }

    /// Pointer for msg_control.
    pub fn ptr(&mut self) -> *mut libc::c_void {
        self.0.as_mut_ptr().cast()
    }

    /// Length for msg_control when receiving (room for [`FDS_MAX`] descriptors).
    pub fn recv_len(&self) -> usize {
        // SAFETY: CMSG_SPACE is arithmetic.
        unsafe { libc::CMSG_SPACE((FDS_MAX * INT) as libc::c_uint) as usize }
    }

    /// Write one SCM_RIGHTS message carrying `fds`; returns the msg_controllen to use.
    pub fn encode(&mut self, fds: &[RawFd]) -> usize {
        debug_assert!(!fds.is_empty() && fds.len() <= FDS_MAX);
        let data = fds.len() * INT;
        // SAFETY: CMSG_* are arithmetic; the buffer holds CMSG_SPACE(data) bytes (checked
        // by the const assertion) and is aligned for cmsghdr.
        unsafe {
            let space = libc::CMSG_SPACE(data as libc::c_uint) as usize;
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_control = self.ptr();
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            // Padding included (musl's 64-bit cmsghdr has some, the kernel reads it).
            c.write(std::mem::zeroed());
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(data as libc::c_uint) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(c), data);
            space
        }
    }
}

/// Take ownership of every descriptor in the SCM_RIGHTS messages of `msg` (after a
/// successful recvmsg), appending them to `out`.
///
/// The walk checks every `cmsg_len` against `msg_controllen` itself instead of using
/// CMSG_NXTHDR: the kernel writes well-formed control data, but a length out of range
/// must neither send the walk outside the buffer nor overflow the CMSG_ALIGN arithmetic
/// (which loops forever on `cmsg_len` near `usize::MAX`; found by the cmsg fuzz target).
pub fn decode(msg: &libc::msghdr, out: &mut Vec<OwnedFd>) {
    if msg.msg_control.is_null() {
        return;
    }
    let base = msg.msg_control.cast::<u8>().cast_const();
    #[allow(clippy::unnecessary_cast)] // socklen_t in musl, size_t in glibc
    let total = msg.msg_controllen as usize;
    // CMSG_LEN(0): the aligned header, where CMSG_DATA starts.
    // SAFETY: CMSG_LEN is arithmetic.
    let head = unsafe { libc::CMSG_LEN(0) } as usize;
    let align = std::mem::size_of::<usize>();
    let mut at = 0;
    while total - at >= head {
        // SAFETY: `head` bytes at `at` lie inside the control buffer, which the caller
        // aligned for cmsghdr (`at` stays a multiple of the alignment).
        let c = unsafe { std::ptr::read_unaligned(base.add(at).cast::<libc::cmsghdr>()) };
        let len = c.cmsg_len as usize;
        if len < head || len > total - at {
            break;
        }
        if c.cmsg_level == libc::SOL_SOCKET && c.cmsg_type == libc::SCM_RIGHTS {
            for i in 0..(len - head) / INT {
                // SAFETY: inside this message's `len` bytes, checked above.
                let fd = unsafe {
                    std::ptr::read_unaligned(base.add(at + head + i * INT).cast::<RawFd>())
                };
                if fd >= 0 {
                    // SAFETY: the kernel installed this descriptor for us.
                    out.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        // CMSG_ALIGN(len) without overflow: len <= total.
        let step = len.div_ceil(align) * align;
        if step > total - at {
            break;
        }
        at += step;
    }
}

/// Descriptors received with one message: what arrived, and whether the kernel cut some
/// (MSG_CTRUNC).
#[derive(Debug, Default)]
pub struct Received {
    /// Owned until handed over.
    pub fds: Vec<OwnedFd>,
    /// The kernel reported MSG_CTRUNC.
    pub cut: bool,
}

impl Received {
    /// Add another batch (several reads of one stream message).
    pub fn merge(&mut self, other: Received) {
        self.fds.extend(other.fds);
        self.cut |= other.cut;
    }

    /// Hand up to `out.len()` descriptors to the caller (who owns them from now on) and
    /// close the rest. Returns how many were handed over, and the `IPCX_ERR_LIMIT` error
    /// to report when descriptors were cut (by the kernel or for lack of room in `out`).
    pub fn hand_over(self, out: &mut [RawFd]) -> (usize, Option<Error>) {
        let total = self.fds.len();
        let mut given = 0;
        for (slot, fd) in out.iter_mut().zip(self.fds) {
            *slot = fd.into_raw_fd();
            given += 1;
        }
        // Descriptors beyond `out` were dropped (closed) by the zip above ending.
        let err = if total > out.len() {
            Some(Error::limit(format!(
                "the message carried {total} descriptors, the array holds {}: {} were \
                 handed over, the other {} closed",
                out.len(),
                given,
                total - given
            )))
        } else if self.cut {
            Some(Error::limit(format!(
                "the kernel cut the descriptors of this message (MSG_CTRUNC): {given} \
                 arrived, the others were closed by the kernel; the receiving process is \
                 probably at its descriptor limit (RLIMIT_NOFILE, {})",
                nofile_limit()
            )))
        } else {
            None
        };
        (given, err)
    }
}

/// The soft RLIMIT_NOFILE of this process, as text.
pub(crate) fn nofile_limit() -> String {
    use nix::sys::resource::{Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE)
        .map_or_else(|_| "unknown".into(), |(soft, _)| soft.to_string())
}

/// Check a caller's descriptor count for sending.
pub fn check_send_count(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid(
            "nfds is 0: a message with descriptors carries at least one (use ipcx_sock_send \
             for a message without)",
        ));
    }
    if n > FDS_MAX {
        return Err(Error::invalid(format!(
            "nfds {n} is above {FDS_MAX}, the most descriptors one message carries \
             (SCM_MAX_FD)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg_over(buf: &mut CmsgBuf, len: usize) -> libc::msghdr {
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = buf.ptr();
        msg.msg_controllen = len;
        msg
    }

    #[test]
    fn decode_round_trip_and_hostile_lengths() {
        let fd = std::fs::File::open("/dev/null").unwrap();
        let raw = fd.into_raw_fd();
        let mut buf = CmsgBuf::new();
        let n = buf.encode(&[raw]);
        let mut out = Vec::new();
        decode(&msg_over(&mut buf, n), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&out[0]), raw);
        drop(out); // closes raw

        // Out-of-range cmsg_len values: no descriptor, no read outside the buffer, no
        // endless walk (usize::MAX overflowed CMSG_ALIGN in CMSG_NXTHDR).
        for bad in [0, 1, 15, n + 8, usize::MAX, usize::MAX - 6] {
            let mut buf = CmsgBuf::new();
            buf.encode(&[-1]);
            // SAFETY: the buffer holds a cmsghdr at its start.
            unsafe { (*buf.ptr().cast::<libc::cmsghdr>()).cmsg_len = bad as _ };
            let mut out = Vec::new();
            decode(&msg_over(&mut buf, n), &mut out);
            assert!(out.is_empty(), "cmsg_len {bad}");
        }
    }
}
