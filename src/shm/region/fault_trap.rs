// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fault-safe copies at memory speed, for programs that ask for them: a SIGBUS handler
//! (installed only by `ipcx_fault_trap_install`, never behind the caller's back) and a copy
//! routine whose faults it recovers from.
//!
//! The default fault-safe copy ([`super::fault_safe`]) is a system call per copy. With the
//! trap installed, a checked copy is one small assembly routine instead ([`copy`]): a
//! word loop for small copies and `rep movsb` for large ones on x86_64, a word loop on
//! aarch64. If it touches a page that another
//! process truncated away, the kernel raises SIGBUS on that instruction; the handler sees
//! that the faulting instruction is inside the routine (its address range is known, so
//! no state per thread and nothing that is not async-signal-safe) and resumes execution at
//! the routine's exit with the count of bytes not copied, exactly as the kernel recovers
//! its own user copies (exception tables). The copy then reports `IPCX_ERR_REMOVED` as
//! before.
//!
//! A SIGBUS anywhere else is passed on as if the trap were not there: to the handler
//! that was installed before (called with the same arguments, honouring its SA_SIGINFO),
//! or, when there was none (SIG_DFL, or SIG_IGN, which the kernel does not honour for a
//! fault), by restoring the default action and returning, so that the faulting
//! instruction runs again and the process dies of SIGBUS as it would have.
//!
//! Other targets (32-bit x86, ...) have no routine: installing reports
//! `IPCX_ERR_UNSUPPORTED` and copies stay on the system-call path.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result, Status};

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".pushsection .text.ipcx_trap_copy,\"ax\",@progbits",
    ".p2align 4",
    ".globl ipcx_trap_copy",
    ".hidden ipcx_trap_copy",
    ".type ipcx_trap_copy,@function",
    // size_t ipcx_trap_copy(void *dst, const void *src, size_t len): the bytes NOT copied.
    // rcx counts what is left and is decremented only after a store (the word loops) or
    // by the instruction itself (rep movsb, restartable per byte), so at a fault it says
    // exactly what was not copied (the non-temporal loop stores a 64-byte block only after
    // loading all of it; a fault while storing into the region counts the block as not
    // copied). Small copies use the word loop (rep movsb has a start-up cost), middle
    // ones rep movsb, large ones non-temporal stores.
    "ipcx_trap_copy:",
    ".globl ipcx_trap_copy_insn",
    ".hidden ipcx_trap_copy_insn",
    "ipcx_trap_copy_insn:",
    "mov rcx, rdx",
    "cmp rdx, 512",
    "jae 4f",
    "2:",
    "cmp rcx, 8",
    "jb 3f",
    "mov rax, qword ptr [rsi]",
    "mov qword ptr [rdi], rax",
    "add rsi, 8",
    "add rdi, 8",
    "sub rcx, 8",
    "jmp 2b",
    "3:",
    "test rcx, rcx",
    "jz 5f",
    "mov al, byte ptr [rsi]",
    "mov byte ptr [rdi], al",
    "inc rsi",
    "inc rdi",
    "dec rcx",
    "jmp 3b",
    "4:",
    // Large copies (>= 4 MiB): non-temporal stores, as the C library's memcpy uses at
    // these sizes, so that the copy does not evict the caches.
    "cmp rdx, 4194304",
    "jb 8f",
    "6:",
    "test rdi, 15",
    "jz 7f",
    "mov al, byte ptr [rsi]",
    "mov byte ptr [rdi], al",
    "inc rsi",
    "inc rdi",
    "dec rcx",
    "jmp 6b",
    "7:",
    "cmp rcx, 64",
    "jb 9f",
    "movdqu xmm0, xmmword ptr [rsi]",
    "movdqu xmm1, xmmword ptr [rsi + 16]",
    "movdqu xmm2, xmmword ptr [rsi + 32]",
    "movdqu xmm3, xmmword ptr [rsi + 48]",
    "movntdq xmmword ptr [rdi], xmm0",
    "movntdq xmmword ptr [rdi + 16], xmm1",
    "movntdq xmmword ptr [rdi + 32], xmm2",
    "movntdq xmmword ptr [rdi + 48], xmm3",
    "add rsi, 64",
    "add rdi, 64",
    "sub rcx, 64",
    "jmp 7b",
    "9:",
    "sfence",
    "8:",
    "rep movsb",
    "5:",
    ".globl ipcx_trap_copy_insn_end",
    ".hidden ipcx_trap_copy_insn_end",
    "ipcx_trap_copy_insn_end:",
    "xor eax, eax",
    "ret",
    ".globl ipcx_trap_copy_fixup",
    ".hidden ipcx_trap_copy_fixup",
    "ipcx_trap_copy_fixup:",
    "sfence",
    "mov rax, rcx",
    "ret",
    ".size ipcx_trap_copy, . - ipcx_trap_copy",
    ".popsection",
);

#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".pushsection .text.ipcx_trap_copy,\"ax\",@progbits",
    ".p2align 4",
    ".globl ipcx_trap_copy",
    ".hidden ipcx_trap_copy",
    ".type ipcx_trap_copy,%function",
    // x0 = dst, x1 = src, x2 = len; returns the bytes NOT copied. x2 is decremented only
    // after a store, so at a fault it counts exactly what is left.
    "ipcx_trap_copy:",
    ".globl ipcx_trap_copy_insn",
    ".hidden ipcx_trap_copy_insn",
    "ipcx_trap_copy_insn:",
    "1:",
    "cmp x2, #16",
    "b.lo 2f",
    "ldp x3, x4, [x1]",
    "stp x3, x4, [x0]",
    "add x1, x1, #16",
    "add x0, x0, #16",
    "sub x2, x2, #16",
    "b 1b",
    "2:",
    "cbz x2, 3f",
    "ldrb w3, [x1]",
    "strb w3, [x0]",
    "add x1, x1, #1",
    "add x0, x0, #1",
    "sub x2, x2, #1",
    "b 2b",
    ".globl ipcx_trap_copy_insn_end",
    ".hidden ipcx_trap_copy_insn_end",
    "ipcx_trap_copy_insn_end:",
    "3:",
    "mov x0, #0",
    "ret",
    ".globl ipcx_trap_copy_fixup",
    ".hidden ipcx_trap_copy_fixup",
    "ipcx_trap_copy_fixup:",
    "mov x0, x2",
    "ret",
    ".size ipcx_trap_copy, . - ipcx_trap_copy",
    ".popsection",
);

/// The routine and its labels (not part of the C API).
/// cbindgen:ignore
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod routine {
    unsafe extern "C" {
        pub(super) fn ipcx_trap_copy(dst: *mut u8, src: *const u8, len: usize) -> usize;
        pub(super) static ipcx_trap_copy_insn: u8;
        pub(super) static ipcx_trap_copy_insn_end: u8;
        pub(super) static ipcx_trap_copy_fixup: u8;
    }
}
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use routine::{ipcx_trap_copy, ipcx_trap_copy_fixup, ipcx_trap_copy_insn, ipcx_trap_copy_insn_end};

/// Whether the trap is installed: checked copies then use [`copy`].
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The SIGBUS action before ours (valid while [`ACTIVE`]; written before our handler is
/// installed, read by the handler).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static PREVIOUS: Previous = Previous(std::cell::UnsafeCell::new(std::mem::MaybeUninit::zeroed()));

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
struct Previous(std::cell::UnsafeCell<std::mem::MaybeUninit<libc::sigaction>>);
// SAFETY: written under LOCK before the handler that reads it is installed, and only
// rewritten after that handler is gone (see `install` and `remove`).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
unsafe impl Sync for Previous {}
/// Serialises install and remove.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether checked copies go through the trap.
#[inline(always)]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Copy `len` bytes; `Err(copied)` when a page was lost (SIGBUS recovered).
///
/// # Safety
/// `src` readable and `dst` writable for `len` bytes, except for pages of a mapping whose
/// backing store shrank; the trap must be installed ([`active`]).
#[inline]
pub(crate) unsafe fn copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
) -> std::result::Result<(), usize> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        // SAFETY: as the caller promised; faults on lost pages are recovered by the handler.
        let left = unsafe { ipcx_trap_copy(dst, src, len) };
        if left == 0 { Ok(()) } else { Err(len - left) }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (dst, src, len);
        Err(0)
    }
}

/// The program counter of a signal context, and where to set it.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
unsafe fn pc(ctx: *mut libc::ucontext_t) -> *mut usize {
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
    unsafe { (&raw mut (*ctx).uc_mcontext.gregs[libc::REG_RIP as usize]).cast() }
}

#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
unsafe fn pc(ctx: *mut libc::ucontext_t) -> *mut usize {
    // SAFETY: as above.
    unsafe { (&raw mut (*ctx).uc_mcontext.pc).cast() }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: a valid context from the kernel; the label addresses are constants.
    unsafe {
        let pc = pc(ctx.cast());
        let at = *pc;
        let start = &raw const ipcx_trap_copy_insn as usize;
        let end = &raw const ipcx_trap_copy_insn_end as usize;
        if at >= start && at < end {
            *pc = &raw const ipcx_trap_copy_fixup as usize;
            return;
        }
        chain(sig, info, ctx);
    }
}

/// Pass a SIGBUS that is not ours to the action that was there before.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: PREVIOUS was written before our handler was installed and is not written
    // while it is (remove restores it first).
    let prev = unsafe { (*PREVIOUS.0.get()).assume_init_ref() };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // Restore the default action; returning runs the faulting instruction again, which
        // now kills the process with SIGBUS, as without the trap.
        // SAFETY: sigaction is async-signal-safe; a zeroed action is SIG_DFL.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
        return;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed as an SA_SIGINFO handler.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: a plain handler.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}

/// Install the trap (idempotent).
pub(crate) fn install() -> Result<()> {
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        return Err(Error::new(
            Status::IPCX_ERR_UNSUPPORTED,
            "no trapping copy routine for this processor: checked copies stay on the \
             system-call path",
        ));
    }
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if ACTIVE.load(Ordering::Relaxed) {
            return Ok(());
        }
        // SAFETY: sigaction with valid structures; PREVIOUS is written before the handler
        // that reads it exists, under the lock.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) < 0 {
                return Err(Error::last_os("sigaction(SIGBUS) query"));
            }
            (*PREVIOUS.0.get()).write(old);
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as usize;
            // SA_NODEFER: a SIGBUS inside a chained handler is not held back by ours.
            act.sa_flags =
                libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            if libc::sigaction(libc::SIGBUS, &act, std::ptr::null_mut()) < 0 {
                return Err(Error::last_os("sigaction(SIGBUS)"));
            }
        }
        ACTIVE.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// Remove the trap: the previous action comes back, if the trap's handler is still the one
/// installed; otherwise (the program installed another one since) nothing is changed and
/// `IPCX_ERR_IN_USE` says so.
pub(crate) fn remove() -> Result<()> {
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        return Ok(());
    }
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if !ACTIVE.load(Ordering::Relaxed) {
            return Ok(());
        }
        // SAFETY: sigaction with valid structures.
        unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut cur) < 0 {
                return Err(Error::last_os("sigaction(SIGBUS) query"));
            }
            if cur.sa_sigaction != on_sigbus as *const () as usize {
                return Err(Error::new(
                    Status::IPCX_ERR_IN_USE,
                    "another SIGBUS handler was installed after the trap: it is left in \
                     place (remove it first, restoring the trap's)",
                ));
            }
            // Checked copies stop using the trap before the handler goes away.
            ACTIVE.store(false, Ordering::SeqCst);
            let prev = (*PREVIOUS.0.get()).assume_init_ref();
            if libc::sigaction(libc::SIGBUS, prev, std::ptr::null_mut()) < 0 {
                ACTIVE.store(true, Ordering::SeqCst);
                return Err(Error::last_os("sigaction(SIGBUS) restore"));
            }
        }
        Ok(())
    }
}
