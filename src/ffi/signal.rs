// SPDX-License-Identifier: MIT OR Apache-2.0
//! C functions for signals: sets, dispositions, masks, sending, synchronous waits, the
//! signalfd receiver (`ipcx_signalfd`) and the async-signal-safe notifier (`ipcx_notifier`).

use std::ffi::{c_int, c_void};

use super::{Info, call, call_on, call_ref, handle, info_out, options, out, set_opt};
use crate::error::ipcx_status;
use crate::signal::notifier::{self, Notifier};
use crate::signal::signalfd::SignalFd;
use crate::signal::{self, Action, Disposition, HandlerFlags, How, SigInfo, SigSet};
use crate::time::Deadline;

/// A set of signals: bit `n - 1` stands for signal `n` (1..64), the layout of the
/// kernel's own signal set. Build one with `ipcx_sigset_add` or with
/// `(ipcx_sigset)1 << (signo - 1)`; 0 is the empty set. Signals 32 and 33 are reserved by
/// the C library for its threads and refused by every function that takes a set, except
/// the mask functions, which drop them silently (as `sigprocmask` does), so
/// `~(ipcx_sigset)0` blocks every signal that can be blocked.
#[allow(non_camel_case_types)]
pub type ipcx_sigset = u64;

/// The payload of a real-time signal: an `int` or a pointer-sized value, laid out exactly
/// like `union sigval` (set one member; the receiver reads the one the sender set).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub union ipcx_sigval {
    /// The payload as an `int` (`sival_int`).
    pub as_int: c_int,
    /// The payload as a pointer (`sival_ptr`); only meaningful inside the sender's
    /// address space (or a shared mapping at the same address).
    pub as_ptr: *mut c_void,
}

/// A signal handler of the siginfo form, as `sa_sigaction`: `info` is a `siginfo_t *`
/// and `context` a `ucontext_t *` (declared `void *` so that this header needs no
/// `<signal.h>`; write the handler with `void *info` and use `siginfo_t *si = info;`).
///
/// A handler may only call async-signal-safe functions (signal-safety(7)). Of ipcx,
/// exactly these are async-signal-safe: `ipcx_notifier_poke`, `ipcx_sigset_has`,
/// `ipcx_signal_rtmin`, `ipcx_signal_rtmax`, `ipcx_strerror`, `ipcx_status_name`,
/// `ipcx_version`. Every
/// other ipcx function may allocate (error messages) or take a lock (the handle
/// registry) and must not be called from a handler. The way out of a handler is to poke
/// an `ipcx_notifier` and do the work in a thread that waits on it.
#[allow(non_camel_case_types)]
pub type ipcx_signal_handler =
    Option<unsafe extern "C" fn(signo: c_int, info: *mut c_void, context: *mut c_void)>;

/// `ipcx_signal_disposition.action`: the signal's default action (terminate, core dump,
/// stop, continue, or ignore, depending on the signal).
pub const IPCX_SIGNAL_DEFAULT: u32 = 0;
/// `ipcx_signal_disposition.action`: the signal is discarded.
pub const IPCX_SIGNAL_IGNORE: u32 = 1;
/// `ipcx_signal_disposition.action`: a handler runs.
pub const IPCX_SIGNAL_CATCH: u32 = 2;

/// Flag (`ipcx_signal_catch`, SA_RESTART): system calls interrupted by the handler are restarted.
pub const IPCX_SIGNAL_RESTART: u32 = 0x10000;
/// Flag (`ipcx_signal_catch`, SA_NODEFER): the signal is not blocked while its handler runs.
pub const IPCX_SIGNAL_NODEFER: u32 = 0x20000;
/// Flag (`ipcx_signal_catch`, SA_RESETHAND): the disposition returns to the default once the handler
/// has been entered (one-shot).
pub const IPCX_SIGNAL_RESETHAND: u32 = 0x40000;
/// Flag (`ipcx_signal_catch`, SA_ONSTACK): run the handler on the alternate stack (sigaltstack).
pub const IPCX_SIGNAL_ONSTACK: u32 = 0x80000;
/// Flag for SIGCHLD (SA_NOCLDSTOP): no SIGCHLD when a child stops or continues.
pub const IPCX_SIGNAL_NOCLDSTOP: u32 = 0x100000;
/// Flag for SIGCHLD (SA_NOCLDWAIT): children do not become zombies.
pub const IPCX_SIGNAL_NOCLDWAIT: u32 = 0x200000;
/// Flag (SA_SIGINFO): the handler takes three arguments. Always set by
/// `ipcx_signal_catch`; absent in a queried disposition whose one-argument handler was
/// installed by other code (`ipcx_signal_set_disposition` then restores it as such).
pub const IPCX_SIGNAL_SIGINFO: u32 = 0x400000;
/// The handler flags, C and Rust.
const HANDLER_FLAGS: [(u32, HandlerFlags); 7] = [
    (IPCX_SIGNAL_RESTART, HandlerFlags::RESTART),
    (IPCX_SIGNAL_NODEFER, HandlerFlags::NODEFER),
    (IPCX_SIGNAL_RESETHAND, HandlerFlags::RESETHAND),
    (IPCX_SIGNAL_ONSTACK, HandlerFlags::ONSTACK),
    (IPCX_SIGNAL_NOCLDSTOP, HandlerFlags::NOCLDSTOP),
    (IPCX_SIGNAL_NOCLDWAIT, HandlerFlags::NOCLDWAIT),
    (IPCX_SIGNAL_SIGINFO, HandlerFlags::SIGINFO),
];
/// Every handler flag.
const ALL_HANDLER_FLAGS: u32 = IPCX_SIGNAL_RESTART
    | IPCX_SIGNAL_NODEFER
    | IPCX_SIGNAL_RESETHAND
    | IPCX_SIGNAL_ONSTACK
    | IPCX_SIGNAL_NOCLDSTOP
    | IPCX_SIGNAL_NOCLDWAIT
    | IPCX_SIGNAL_SIGINFO;

/// How many notifiers a process may have open at once.
pub const IPCX_NOTIFIER_MAX: usize = 128;
const _: () = assert!(IPCX_NOTIFIER_MAX == notifier::SLOTS);

/// A signal's disposition, as `struct sigaction` holds it. `ipcx_signal_get_disposition`
/// fills one; every function that changes a disposition returns the previous one in this
/// form, and `ipcx_signal_set_disposition` installs one (to restore it, or to set a
/// handler mask). Set `size` to `sizeof` the struct before passing it
/// (`ipcx_signal_disposition d = { .size = sizeof d };`), for output and for input.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ipcx_signal_disposition {
    /// `sizeof(ipcx_signal_disposition)` as the caller knows it. Output: the library
    /// writes at most this many bytes and sets it to the number it wrote. Input
    /// (`ipcx_signal_set_disposition`): the library reads at most this many bytes.
    pub size: u32,
    /// `IPCX_SIGNAL_DEFAULT`, `IPCX_SIGNAL_IGNORE` or `IPCX_SIGNAL_CATCH`.
    pub action: u32,
    /// `IPCX_SIGNAL_*` handler flags. Flags ipcx does not know (SA_RESTORER, managed by
    /// the C library) are not reported.
    pub flags: u32,
    /// The handler: non-NULL exactly when the action is `IPCX_SIGNAL_CATCH`. Without
    /// `IPCX_SIGNAL_SIGINFO` in `flags`, it is a one-argument `void (*)(int)` handler.
    pub handler: ipcx_signal_handler,
    /// Signals blocked while the handler runs, besides the signal itself.
    pub mask: ipcx_sigset,
}

// SAFETY: repr(C), starts with the u32 size; the padding before `handler` is never read.
unsafe impl Info for ipcx_signal_disposition {
    fn failed() -> Self {
        ipcx_signal_disposition {
            size: 0,
            action: IPCX_SIGNAL_DEFAULT,
            flags: 0,
            handler: None,
            mask: 0,
        }
    }
}

/// A received signal, from `ipcx_signal_wait` or `ipcx_signalfd_recv` (the same record
/// for both). Set `size` to `sizeof` the struct before the call
/// (`ipcx_siginfo si = { .size = sizeof si };`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ipcx_siginfo {
    /// In: `sizeof(ipcx_siginfo)` as the caller knows it. Out: the bytes written.
    pub size: u32,
    /// The signal number.
    pub signo: i32,
    /// Where it came from (`si_code`, values of `<signal.h>`): SI_USER (0: kill),
    /// SI_QUEUE (-1: sigqueue), SI_TKILL (-6: tgkill; recent kernels report SI_USER),
    /// SI_KERNEL (0x80), CLD_* for SIGCHLD, and the other kernel codes.
    pub code: i32,
    /// The sender's process ID, for signals sent by a process (kill, sigqueue, tgkill,
    /// mq_notify) and SIGCHLD; 0 otherwise.
    pub pid: i32,
    /// The sender's real user ID, when `pid` is set; 0 otherwise.
    pub uid: u32,
    /// SIGCHLD: the child's exit status or the signal that ended it; 0 otherwise.
    pub status: i32,
    /// The payload of a queued signal (SI_QUEUE, timers, mq_notify); zero otherwise.
    pub value: ipcx_sigval,
}

// SAFETY: repr(C), starts with the u32 size, no padding on 64-bit targets (6 x 4 bytes,
// then the 8-byte union).
unsafe impl Info for ipcx_siginfo {
    fn failed() -> Self {
        ipcx_siginfo {
            size: 0,
            signo: 0,
            code: 0,
            pid: 0,
            uid: 0,
            status: 0,
            value: ipcx_sigval {
                as_ptr: std::ptr::null_mut(),
            },
        }
    }
}

/// Build a disposition from the raw values a C caller gave, checking each.
fn disposition_from_c(
    action: u32,
    flags: u32,
    handler: ipcx_signal_handler,
    mask: u64,
) -> crate::error::Result<Disposition> {
    if flags & !ALL_HANDLER_FLAGS != 0 {
        return Err(crate::error::Error::invalid(format!(
            "flags {flags:#x} has bits outside the IPCX_SIGNAL_* flags ({ALL_HANDLER_FLAGS:#x})"
        )));
    }
    let action = match (action, handler) {
        (IPCX_SIGNAL_DEFAULT, None) => Action::Default,
        (IPCX_SIGNAL_IGNORE, None) => Action::Ignore,
        (IPCX_SIGNAL_CATCH, Some(h)) => Action::Catch(h),
        (IPCX_SIGNAL_CATCH, None) => {
            return Err(crate::error::Error::invalid(
                "action IPCX_SIGNAL_CATCH needs a handler",
            ));
        }
        (IPCX_SIGNAL_DEFAULT | IPCX_SIGNAL_IGNORE, Some(_)) => {
            return Err(crate::error::Error::invalid(
                "a handler is given but the action is not IPCX_SIGNAL_CATCH",
            ));
        }
        (a, _) => {
            return Err(crate::error::Error::invalid(format!(
                "action {a} is not IPCX_SIGNAL_DEFAULT (0), IPCX_SIGNAL_IGNORE (1) or \
                 IPCX_SIGNAL_CATCH (2)"
            )));
        }
    };
    let flags = HANDLER_FLAGS
        .iter()
        .filter(|(c, _)| flags & c != 0)
        .fold(HandlerFlags::NONE, |acc, (_, ours)| acc | *ours);
    Ok(Disposition {
        action,
        flags,
        mask: SigSet(mask),
    })
}

fn disposition_to_c(d: &Disposition) -> ipcx_signal_disposition {
    ipcx_signal_disposition {
        size: 0,
        action: match d.action {
            Action::Default => IPCX_SIGNAL_DEFAULT,
            Action::Ignore => IPCX_SIGNAL_IGNORE,
            Action::Catch(_) => IPCX_SIGNAL_CATCH,
        },
        flags: HANDLER_FLAGS
            .iter()
            .filter(|(_, ours)| d.flags.contains(*ours))
            .fold(0, |acc, (c, _)| acc | c),
        handler: d.handler(),
        mask: d.mask.0,
    }
}

fn info_to_c(i: &SigInfo) -> ipcx_siginfo {
    ipcx_siginfo {
        size: 0,
        signo: i.signo,
        code: i.code,
        pid: i.pid,
        uid: i.uid,
        status: i.status,
        value: ipcx_sigval {
            as_ptr: i.value as *mut c_void,
        },
    }
}

/// Read a disposition the caller passed in: its `size` must be at least the 0.2 size;
/// at most `size` bytes are read (fields a newer library added and an older caller does
/// not know keep their failure values).
///
/// # Safety
/// `p` must be NULL or valid for reading its `size` field and `size` bytes.
unsafe fn disposition_in(
    p: *const ipcx_signal_disposition,
) -> crate::error::Result<ipcx_signal_disposition> {
    if p.is_null() {
        return Err(crate::error::Error::invalid("disposition is NULL"));
    }
    // SAFETY: per the contract, the first field is a readable u32.
    let size = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    if size < <ipcx_signal_disposition as Info>::MIN_SIZE {
        return Err(crate::error::Error::invalid(format!(
            "disposition->size is {size}: set it to sizeof the struct ({} here)",
            size_of::<ipcx_signal_disposition>()
        )));
    }
    let mut d = ipcx_signal_disposition::failed();
    let n = size.min(size_of::<ipcx_signal_disposition>());
    // SAFETY: the caller's struct holds `size` readable bytes, ours `size_of` bytes; `n` is
    // at most both. Every bit pattern read is then checked field by field (the handler is
    // a nullable function pointer: any value is a valid Option<fn>).
    unsafe {
        std::ptr::copy_nonoverlapping(
            p.cast::<u8>(),
            (&mut d as *mut ipcx_signal_disposition).cast::<u8>(),
            n,
        );
    }
    Ok(d)
}

/// Check an optional info out-parameter before anything changes: NULL is fine; otherwise
/// its `size` must be set.
///
/// # Safety
/// `p` must be NULL or valid for reading its `size` field.
unsafe fn check_info_size<T: Info>(p: *mut T, what: &str) -> crate::error::Result<()> {
    if p.is_null() {
        return Ok(());
    }
    // SAFETY: per the contract.
    let size = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    if size < T::MIN_SIZE {
        return Err(crate::error::Error::invalid(format!(
            "{what}->size is {size}: set it to sizeof the struct ({} here) before the call",
            size_of::<T>()
        )));
    }
    Ok(())
}

fn sigval_raw(v: ipcx_sigval) -> usize {
    // SAFETY: the union arrives by value from C: its bytes are the caller's union sigval.
    unsafe { v.as_ptr as usize }
}

// ------------------------------------------------------------------------ sets

/// Add signal `signo` to `*set`.
///
/// Arguments: `set` (required) is read and written.
/// Returns: `IPCX_OK` with the signal in `*set`.
/// Errors: `IPCX_ERR_INVALID` (NULL `set`; `signo` 0, out of 1..64, or 32/33, which the
/// C library reserves). `*set` is unchanged on error.
///
/// # Safety
/// `set` must be NULL or valid for reading and writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sigset_add(set: *mut ipcx_sigset, signo: c_int) -> ipcx_status {
    call("ipcx_sigset_add", || {
        let s = unsafe { out(set, "set") }?;
        let mut v = SigSet(*s);
        v.add(signo)?;
        *s = v.0;
        Ok(())
    })
}

/// Remove signal `signo` from `*set`.
///
/// Arguments: `set` (required) is read and written.
/// Returns: `IPCX_OK` with the signal out of `*set`.
/// Errors: as for `ipcx_sigset_add`. `*set` is unchanged on error.
///
/// # Safety
/// `set` must be NULL or valid for reading and writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_sigset_del(set: *mut ipcx_sigset, signo: c_int) -> ipcx_status {
    call("ipcx_sigset_del", || {
        let s = unsafe { out(set, "set") }?;
        let mut v = SigSet(*s);
        v.del(signo)?;
        *s = v.0;
        Ok(())
    })
}

/// Whether `signo` is in `set`; false for numbers outside 1..64.
/// Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_sigset_has(set: ipcx_sigset, signo: c_int) -> bool {
    SigSet(set).contains(signo)
}

/// The first real-time signal available to applications (SIGRTMIN: 34 with glibc, which
/// keeps 32 and 33 for its threads; 35 with musl, which keeps 32 to 34). Real-time signals are `ipcx_signal_rtmin()` to
/// `ipcx_signal_rtmax()`. Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_rtmin() -> c_int {
    signal::rtmin()
}

/// The last real-time signal (SIGRTMAX: 64 on Linux). Async-signal-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_rtmax() -> c_int {
    signal::rtmax()
}

// ------------------------------------------------------------------------ dispositions

/// Install `d` (already checked) for `signo` and report the previous disposition in
/// `out_old` (optional; its `size` is checked before anything changes).
unsafe fn change(
    func: &'static str,
    signo: c_int,
    d: crate::error::Result<Disposition>,
    out_old: *mut ipcx_signal_disposition,
) -> ipcx_status {
    call(func, || {
        let fill_failed = || {
            if !out_old.is_null() {
                // SAFETY: per the contract; the size was checked (or is refused here).
                let _ = unsafe { info_out(out_old, "out_old", || Ok(Info::failed())) };
            }
        };
        if let Err(e) = unsafe { check_info_size(out_old, "out_old") }.and_then(|()| {
            let prev = signal::set_disposition(signo, &d?)?;
            if !out_old.is_null() {
                // SAFETY: per the contract; the size was checked above.
                unsafe { info_out(out_old, "out_old", || Ok(disposition_to_c(&prev))) }?;
            }
            Ok(())
        }) {
            fill_failed();
            return Err(e);
        }
        Ok(())
    })
}

/// Ignore signal `signo` from now on (sigaction with SIG_IGN): it is discarded when it
/// arrives, and a pending one is discarded too.
///
/// Arguments: `out_old` (may be NULL; if not, set its `size` first) receives the previous
/// disposition, to restore it later with `ipcx_signal_set_disposition`.
/// Returns: `IPCX_OK` once the disposition is installed.
/// Errors: `IPCX_ERR_INVALID` (`signo` 0, out of range, 32/33, SIGKILL or SIGSTOP;
/// `out_old->size` below the 0.2 size of the struct). On error nothing changes and
/// `*out_old` holds the failure values (`IPCX_SIGNAL_DEFAULT`, no flags, no handler, empty
/// mask; nothing is written when its `size` is refused).
/// Fork and exec: a forked child inherits the disposition; an ignored signal stays
/// ignored across exec.
///
/// # Safety
/// `out_old` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_ignore(
    signo: c_int,
    out_old: *mut ipcx_signal_disposition,
) -> ipcx_status {
    let d = Disposition {
        action: Action::Ignore,
        flags: HandlerFlags::NONE,
        mask: SigSet::EMPTY,
    };
    unsafe { change("ipcx_signal_ignore", signo, Ok(d), out_old) }
}

/// Restore the default action of signal `signo` (sigaction with SIG_DFL): for most
/// signals, termination of the process.
///
/// Arguments, returns, errors, fork: as for `ipcx_signal_ignore`.
///
/// # Safety
/// `out_old` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_default(
    signo: c_int,
    out_old: *mut ipcx_signal_disposition,
) -> ipcx_status {
    let d = Disposition {
        action: Action::Default,
        flags: HandlerFlags::NONE,
        mask: SigSet::EMPTY,
    };
    unsafe { change("ipcx_signal_default", signo, Ok(d), out_old) }
}

/// Catch signal `signo` with `handler` (sigaction with SA_SIGINFO; the handler mask is
/// empty: only the signal itself is blocked while the handler runs, unless
/// `IPCX_SIGNAL_NODEFER`). Use `ipcx_signal_set_disposition` for a handler mask.
///
/// Arguments: `handler` (required): see `ipcx_signal_handler` for what it may call;
/// `flags`: 0 or `IPCX_SIGNAL_RESTART`, `IPCX_SIGNAL_NODEFER`, `IPCX_SIGNAL_RESETHAND`,
/// `IPCX_SIGNAL_ONSTACK`, `IPCX_SIGNAL_NOCLDSTOP`, `IPCX_SIGNAL_NOCLDWAIT`
/// (`IPCX_SIGNAL_RESTART` is usually wanted; `IPCX_SIGNAL_SIGINFO` is implied);
/// `out_old` (may be NULL; if not, set its `size` first) receives the previous
/// disposition.
/// Returns: `IPCX_OK` once the handler is installed.
/// Errors: `IPCX_ERR_INVALID` (NULL handler, unknown flag bits, `signo` 0, out of range,
/// 32/33, SIGKILL or SIGSTOP, `out_old->size` below the 0.2 size). On error nothing
/// changes and `*out_old` holds the failure values (as for `ipcx_signal_ignore`).
/// Fork and exec: a forked child inherits the handler (same address in its copy of the
/// program); exec resets caught signals to the default.
///
/// # Safety
/// `handler` must be a function of the siginfo form that stays valid while installed;
/// `out_old` must be NULL or valid for reading its `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_catch(
    signo: c_int,
    handler: ipcx_signal_handler,
    flags: u32,
    out_old: *mut ipcx_signal_disposition,
) -> ipcx_status {
    let d = disposition_from_c(IPCX_SIGNAL_CATCH, flags | IPCX_SIGNAL_SIGINFO, handler, 0);
    unsafe { change("ipcx_signal_catch", signo, d, out_old) }
}

/// The current disposition of signal `signo` (sigaction, nothing changed). SIGKILL and
/// SIGSTOP may be queried (always `IPCX_SIGNAL_DEFAULT`).
///
/// Arguments: `out_disposition` (required; set its `size` first) receives it.
/// Returns: `IPCX_OK` with `*out_disposition` filled.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_disposition` or its `size` below the 0.2 size:
/// nothing written; `signo` 0, out of range, 32/33). On error `*out_disposition` holds
/// the failure values (as for `ipcx_signal_ignore`).
///
/// # Safety
/// `out_disposition` must be NULL or valid for reading its `size` field and writing
/// `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_get_disposition(
    signo: c_int,
    out_disposition: *mut ipcx_signal_disposition,
) -> ipcx_status {
    call("ipcx_signal_get_disposition", || unsafe {
        info_out(out_disposition, "out_disposition", || {
            Ok(disposition_to_c(&signal::disposition(signo)?))
        })
    })
}

/// Install a disposition for signal `signo` exactly as `disposition` describes it
/// (sigaction): restore one saved by `out_old`, or set a handler with a handler mask.
///
/// Arguments: `disposition` (required): `size` at least the 0.2 size of the struct (at
/// most `size` bytes are read); `action` one of `IPCX_SIGNAL_DEFAULT`,
/// `IPCX_SIGNAL_IGNORE`, `IPCX_SIGNAL_CATCH`; `handler` non-NULL exactly for
/// `IPCX_SIGNAL_CATCH`; `flags` `IPCX_SIGNAL_*` handler flags (include
/// `IPCX_SIGNAL_SIGINFO` for a siginfo-form handler); `mask` the handler mask (SIGKILL,
/// SIGSTOP, 32 and 33 dropped silently). `out_old` (may be NULL, may equal
/// `disposition`; if not NULL, set its `size`) receives the previous disposition.
/// Returns: `IPCX_OK` once the disposition is installed.
/// Errors: `IPCX_ERR_INVALID` (NULL `disposition`; its `size` or `out_old->size` below
/// the 0.2 size; unknown action or flag bits; handler and action disagree; `signo` 0, out
/// of range, 32/33, SIGKILL or SIGSTOP). On error nothing changes and `*out_old` holds
/// the failure values (as for `ipcx_signal_ignore`).
///
/// # Safety
/// `disposition` must be NULL or valid for reading its `size` field and `size` bytes, its
/// handler valid while installed; `out_old` NULL or valid for reading its `size` field
/// and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_set_disposition(
    signo: c_int,
    disposition: *const ipcx_signal_disposition,
    out_old: *mut ipcx_signal_disposition,
) -> ipcx_status {
    // Read before `out_old` is written: the two may be the same record.
    let d = unsafe { disposition_in(disposition) }
        .and_then(|n| disposition_from_c(n.action, n.flags, n.handler, n.mask));
    unsafe { change("ipcx_signal_set_disposition", signo, d, out_old) }
}

// ------------------------------------------------------------------------ masks

unsafe fn mask(
    func: &'static str,
    how: How,
    set: ipcx_sigset,
    out_old: *mut ipcx_sigset,
) -> ipcx_status {
    unsafe { set_opt(out_old, 0) };
    call(func, || {
        let prev = signal::mask(how, SigSet(set))?;
        unsafe { set_opt(out_old, prev.0) };
        Ok(())
    })
}

/// Block the signals of `set` in the calling thread (pthread_sigmask SIG_BLOCK): they
/// stay pending until unblocked, waited for (`ipcx_signal_wait`) or read from a
/// signalfd (`ipcx_signalfd_recv`). This is the helper to call before waiting or
/// creating a signalfd: the signals must be blocked in every thread, so block them in the
/// main thread before creating other threads (threads inherit the mask).
///
/// Arguments: `set` (SIGKILL, SIGSTOP, 32 and 33 are dropped silently, as the kernel
/// and glibc do); `out_old` (may be NULL) receives the previous mask.
/// Returns: `IPCX_OK` once the mask is changed.
/// Errors: none expected (`IPCX_ERR_SYSTEM` if the kernel refuses). On error `*out_old`
/// is 0.
/// Fork and exec: a forked child and an exec'd program inherit the mask.
///
/// # Safety
/// `out_old` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_block(
    set: ipcx_sigset,
    out_old: *mut ipcx_sigset,
) -> ipcx_status {
    unsafe { mask("ipcx_signal_block", How::Block, set, out_old) }
}

/// Unblock the signals of `set` in the calling thread (pthread_sigmask SIG_UNBLOCK); a
/// pending one is delivered at once.
///
/// Arguments, returns, errors, fork: as for `ipcx_signal_block`.
///
/// # Safety
/// `out_old` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_unblock(
    set: ipcx_sigset,
    out_old: *mut ipcx_sigset,
) -> ipcx_status {
    unsafe { mask("ipcx_signal_unblock", How::Unblock, set, out_old) }
}

/// Replace the calling thread's mask with `set` (pthread_sigmask SIG_SETMASK), e.g. to
/// restore a mask saved by `out_old`.
///
/// Arguments, returns, errors, fork: as for `ipcx_signal_block`.
///
/// # Safety
/// `out_old` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_set_mask(
    set: ipcx_sigset,
    out_old: *mut ipcx_sigset,
) -> ipcx_status {
    unsafe { mask("ipcx_signal_set_mask", How::Set, set, out_old) }
}

/// The calling thread's signal mask.
///
/// Arguments: `out_set` (required) receives it.
/// Returns: `IPCX_OK` with `*out_set` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_set`). On error `*out_set` is 0.
/// Fork: a forked child starts with its parent's mask.
///
/// # Safety
/// `out_set` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_get_mask(out_set: *mut ipcx_sigset) -> ipcx_status {
    unsafe { set_opt(out_set, 0) };
    call("ipcx_signal_get_mask", || {
        *unsafe { out(out_set, "out_set") }? = signal::current_mask()?.0;
        Ok(())
    })
}

/// The signals pending for the calling thread or its process (sigpending): blocked
/// signals that arrived and were not taken yet. A standard signal appears once however
/// often it was sent. A forked child starts with none.
///
/// Arguments: `out_set` (required) receives the set.
/// Returns: `IPCX_OK` with `*out_set` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_set`). On error `*out_set` is 0.
///
/// # Safety
/// `out_set` must be NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_pending(out_set: *mut ipcx_sigset) -> ipcx_status {
    unsafe { set_opt(out_set, 0) };
    call("ipcx_signal_pending", || {
        *unsafe { out(out_set, "out_set") }? = signal::pending()?.0;
        Ok(())
    })
}

// ------------------------------------------------------------------------ sending

/// Send signal `signo` to process `pid` (kill). Signal 0 sends nothing and only checks
/// that the process exists and may be signalled.
///
/// Returns: `IPCX_OK` once the signal is sent (pending at the receiver, or delivered).
/// A standard signal already pending at the receiver is merged with it (sent twice,
/// seen once); a real-time signal is queued (without payload: use `ipcx_signal_queue`).
/// Errors: `IPCX_ERR_INVALID` (`pid` <= 0: use `ipcx_signal_send_group` for groups;
/// `signo` out of range or 32/33), `IPCX_ERR_NOT_FOUND` (no such process),
/// `IPCX_ERR_PERMISSION` (not allowed to signal it).
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_send(pid: i32, signo: c_int) -> ipcx_status {
    call("ipcx_signal_send", || signal::send(pid, signo))
}

/// Send signal `signo` to every process of process group `pgid` (killpg); 0 is the
/// caller's own group (the caller included). Signal 0 only probes.
///
/// Returns: `IPCX_OK` once the signal is sent to at least one member.
/// Errors: `IPCX_ERR_INVALID` (`pgid` < 0, `signo` out of range or 32/33),
/// `IPCX_ERR_NOT_FOUND` (no such group), `IPCX_ERR_PERMISSION` (no member may be
/// signalled).
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_send_group(pgid: i32, signo: c_int) -> ipcx_status {
    call("ipcx_signal_send_group", || signal::send_group(pgid, signo))
}

/// Send signal `signo` to one thread: thread `tid` (its kernel thread ID, gettid()) of
/// process `tgid` (tgkill). Only that thread can take it; other threads never see it
/// pending. Signal 0 only probes.
///
/// Returns: `IPCX_OK` once the signal is sent.
/// Errors: `IPCX_ERR_INVALID` (`tgid` or `tid` <= 0, `signo` out of range or 32/33),
/// `IPCX_ERR_NOT_FOUND` (no such thread in that process), `IPCX_ERR_PERMISSION`.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_send_thread(tgid: i32, tid: i32, signo: c_int) -> ipcx_status {
    call("ipcx_signal_send_thread", || {
        signal::send_thread(tgid, tid, signo)
    })
}

/// Queue signal `signo` with a payload to process `pid` (sigqueue). Real-time signals
/// are queued in order, each with its payload; a standard signal already pending is
/// merged (its payload lost). The receiver sees code SI_QUEUE, the sender's pid and uid.
///
/// Arguments: `value`: set `as_int` or `as_ptr`.
/// Returns: `IPCX_OK` once the signal is queued.
/// Errors: `IPCX_ERR_LIMIT` (the receiver's queue is full: the message names
/// RLIMIT_SIGPENDING and its value for the receiver), `IPCX_ERR_INVALID` (`pid` <= 0,
/// `signo` out of range or 32/33), `IPCX_ERR_NOT_FOUND`, `IPCX_ERR_PERMISSION`.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_queue(pid: i32, signo: c_int, value: ipcx_sigval) -> ipcx_status {
    call("ipcx_signal_queue", || {
        signal::queue(pid, signo, sigval_raw(value))
    })
}

/// Queue signal `signo` with a payload to thread `tid` of process `tgid`
/// (rt_tgsigqueueinfo, as pthread_sigqueue does, but for a thread of any process the
/// caller may signal). The receiver sees code SI_QUEUE, the sender's pid and uid.
///
/// Returns: `IPCX_OK` once the signal is queued.
/// Errors: as for `ipcx_signal_queue`, and `IPCX_ERR_INVALID` for `tid` <= 0.
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_signal_queue_thread(
    tgid: i32,
    tid: i32,
    signo: c_int,
    value: ipcx_sigval,
) -> ipcx_status {
    call("ipcx_signal_queue_thread", || {
        signal::queue_thread(tgid, tid, signo, sigval_raw(value))
    })
}

// ------------------------------------------------------------------------ waiting

/// Wait for one signal of `set` and take it (sigtimedwait; sigwaitinfo for
/// `IPCX_FOREVER`): no handler runs. The signals of `set` must be blocked in every thread
/// (`ipcx_signal_block`); a signal that is not blocked may be delivered normally instead,
/// and may kill the process. Standard signals come before real-time ones, lower numbers
/// first; real-time signals of one number come in the order they were sent.
///
/// Arguments: `timeout_ms` (monotonic; an interruption by a handler for another signal is
/// retried for the time that remains, unless the thread is interruptible); `out_info`
/// (required; set its `size` first) receives the signal, code, sender pid and uid, and
/// payload.
/// Returns: `IPCX_OK` with `*out_info` filled; the signal is no longer pending.
/// Errors: `IPCX_ERR_TIMEOUT` (no signal of `set` arrived in time), `IPCX_ERR_INVALID`
/// (NULL `out_info` or its `size` below the 0.2 size: nothing written; empty set,
/// SIGKILL/SIGSTOP/32/33 in the set, timeout below -1), `IPCX_ERR_INTERRUPTED`. On error
/// `*out_info` holds zeros (besides `size`).
/// Fork: waits for the calling process's own signals.
///
/// # Safety
/// `out_info` must be NULL or valid for reading its `size` field and writing `size`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signal_wait(
    set: ipcx_sigset,
    timeout_ms: i64,
    out_info: *mut ipcx_siginfo,
) -> ipcx_status {
    call("ipcx_signal_wait", || unsafe {
        info_out(out_info, "out_info", || {
            let deadline = Deadline::from_ms(timeout_ms)?;
            Ok(info_to_c(&signal::wait(SigSet(set), &deadline)?))
        })
    })
}

// ------------------------------------------------------------------------ signalfd

/// A pollable signal receiver (signalfd). Opaque.
///
/// Its descriptor (`ipcx_signalfd_fd`) is readable while a signal of its set is pending
/// for the process or the reading thread; `ipcx_signalfd_recv` takes one. Signals sent to
/// the process are shared by all its threads (whichever reads first takes it); signals
/// sent to one thread are seen only when that thread reads. The signals must be blocked
/// in EVERY thread (`ipcx_signal_block`, in the main thread before other threads exist:
/// threads and forked children inherit the mask), or they are delivered normally
/// instead (handler or default action) and never reach the receiver.
/// Thread safety: a one-thread handle. A call made while another thread is inside a call
/// on the same receiver returns `IPCX_ERR_IN_USE` at once; hand it to another thread
/// between calls (a receiver reads the signals pending for the thread that calls it).
/// Fork: the child inherits the receiver; read in the child, it returns the child's own
/// signals (the kernel reads the pending signals of the reading process). Add it to an
/// epoll set in the process that reads it. Close-on-exec.
#[allow(non_camel_case_types)]
pub struct ipcx_signalfd(SignalFd);

impl handle::Handle for ipcx_signalfd {
    const KIND: u32 = 41;
    const NAME: &'static str = "ipcx_signalfd";
}

/// Create a receiver for the signals of `set`.
///
/// Arguments: `set`: not empty, no SIGKILL/SIGSTOP/32/33, every signal blocked in the
/// calling thread (checked); `opts` may be NULL (no option applies); `out_receiver`
/// receives the handle.
/// Returns: `IPCX_OK` with `*out_receiver` set.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_receiver`, bad set, a signal of the set not
/// blocked in the calling thread: the message names it, an option set),
/// `IPCX_ERR_LIMIT` (out of descriptors), `IPCX_ERR_BAD_HANDLE` (closed options). On
/// error `*out_receiver` is NULL.
/// Ownership: close with `ipcx_signalfd_close`.
/// Fork: see `ipcx_signalfd`.
///
/// # Safety
/// `out_receiver` must be NULL or valid for writing; `opts` NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signalfd_create(
    set: ipcx_sigset,
    opts: *const super::common::ipcx_options,
    out_receiver: *mut *mut ipcx_signalfd,
) -> ipcx_status {
    unsafe { set_opt(out_receiver, std::ptr::null_mut()) };
    call("ipcx_signalfd_create", || {
        let o = unsafe { out(out_receiver, "out_receiver") }?;
        unsafe { options(opts) }?.only(&[], "signalfd receivers")?;
        *o = handle::into_raw(ipcx_signalfd(SignalFd::new(SigSet(set))?))?;
        Ok(())
    })
}

/// Take one signal from the receiver, waiting up to `timeout_ms`.
///
/// Arguments: `timeout_ms`; `out_info` (required; set its `size` first) receives the
/// same record as `ipcx_signal_wait`.
/// Returns: `IPCX_OK` with `*out_info` filled; the signal is no longer pending.
/// Errors: `IPCX_ERR_TIMEOUT`, `IPCX_ERR_INVALID` (NULL receiver or `out_info`, its
/// `size` below the 0.2 size: nothing written; timeout below -1), `IPCX_ERR_IN_USE`
/// (another thread is inside a call on the receiver), `IPCX_ERR_BAD_HANDLE` (closed
/// receiver), `IPCX_ERR_INTERRUPTED`. On error `*out_info` holds zeros (besides
/// `size`).
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_info` NULL or valid for reading its
/// `size` field and writing `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signalfd_recv(
    r: *mut ipcx_signalfd,
    timeout_ms: i64,
    out_info: *mut ipcx_siginfo,
) -> ipcx_status {
    // The failure values first, for when the handle is refused before the body runs.
    let _ = unsafe { info_out(out_info, "out_info", || Ok(ipcx_siginfo::failed())) };
    call_on("ipcx_signalfd_recv", r, |r| unsafe {
        info_out(out_info, "out_info", || {
            let deadline = Deadline::from_ms(timeout_ms)?;
            Ok(info_to_c(&r.0.recv(&deadline)?))
        })
    })
}

/// Replace the set of signals the receiver takes (same rules as at creation).
///
/// Returns: `IPCX_OK` once the set is replaced.
/// Errors: `IPCX_ERR_INVALID` (NULL receiver, bad set, a signal not blocked in the
/// calling thread), `IPCX_ERR_IN_USE` (another thread is inside a call on the receiver),
/// `IPCX_ERR_BAD_HANDLE`. On error the receiver keeps its set.
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signalfd_update(
    r: *mut ipcx_signalfd,
    set: ipcx_sigset,
) -> ipcx_status {
    call_on("ipcx_signalfd_update", r, |r| r.0.update(SigSet(set)))
}

/// The receiver's descriptor, for poll/epoll (readable when a signal can be taken).
///
/// Arguments: `out_fd` (required) receives it.
/// Returns: `IPCX_OK` with `*out_fd` set.
/// Errors: `IPCX_ERR_INVALID` (NULL receiver or `out_fd`), `IPCX_ERR_IN_USE` (another
/// thread is inside a call on the receiver), `IPCX_ERR_BAD_HANDLE`. On error `*out_fd`
/// is -1.
/// Ownership: it stays owned by the receiver: do not close it; reading it directly takes
/// signals the receiver would have returned.
///
/// # Safety
/// `r` must be NULL or a value from ipcx; `out_fd` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signalfd_fd(
    r: *const ipcx_signalfd,
    out_fd: *mut c_int,
) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_on("ipcx_signalfd_fd", r, |r| {
        *unsafe { out(out_fd, "out_fd") }? = r.0.fd();
        Ok(())
    })
}

/// Close a receiver. NULL is a no-op. The signals stay blocked (ipcx does not touch the
/// mask); pending ones stay pending. A close racing a call on another thread never
/// waits: the descriptor is closed when that call returns.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed, stale or not a receiver
/// (nothing freed twice).
///
/// # Safety
/// `r` must be NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_signalfd_close(r: *mut ipcx_signalfd) -> ipcx_status {
    call("ipcx_signalfd_close", || handle::close(r))
}

// ------------------------------------------------------------------------ notifier

/// A notifier: the safe way out of a signal handler. Opaque.
///
/// A handler calls `ipcx_notifier_poke` (async-signal-safe: one write to an eventfd, no
/// allocation, no lock, errno preserved); a thread waits with `ipcx_notifier_wait` or
/// polls `ipcx_notifier_fd` and does the real work outside the handler. Pokes coalesce
/// into a count.
/// Thread safety: a thread-safe handle: any number of threads may poke, wait and get the
/// descriptor at once (`ipcx_notifier_poke` also from signal handlers); one waiter takes
/// all the pokes pending when it wakes. Close a notifier only once no handler can poke it
/// any more (restore the disposition first); a poke racing with close is safe: it
/// completes before the descriptor is closed, or returns `IPCX_ERR_BAD_HANDLE`.
/// Fork: the child inherits the notifier and shares the counter with the parent (same
/// eventfd): poke and wait in one process, or close it in the other. Close-on-exec.
#[allow(non_camel_case_types)]
pub struct ipcx_notifier(Notifier);

impl handle::Handle for ipcx_notifier {
    const KIND: u32 = 40;
    const NAME: &'static str = "ipcx_notifier";
}
impl handle::Shared for ipcx_notifier {}

/// Create a notifier (an eventfd, close-on-exec, non-blocking).
///
/// Arguments: `opts` may be NULL (no option applies); `out_notifier` receives the handle.
/// Returns: `IPCX_OK` with `*out_notifier` set; pokes reach it from then on.
/// Errors: `IPCX_ERR_INVALID` (NULL `out_notifier`, an option set), `IPCX_ERR_LIMIT`
/// (more than `IPCX_NOTIFIER_MAX` notifiers open in the process, out of descriptors),
/// `IPCX_ERR_BAD_HANDLE` (closed options). On error `*out_notifier` is NULL.
/// Ownership: close with `ipcx_notifier_close`.
/// Fork: see `ipcx_notifier`.
///
/// # Safety
/// `out_notifier` must be NULL or valid for writing; `opts` NULL or a value from ipcx.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_notifier_create(
    opts: *const super::common::ipcx_options,
    out_notifier: *mut *mut ipcx_notifier,
) -> ipcx_status {
    unsafe { set_opt(out_notifier, std::ptr::null_mut()) };
    call("ipcx_notifier_create", || {
        let o = unsafe { out(out_notifier, "out_notifier") }?;
        unsafe { options(opts) }?.only(&[], "notifiers")?;
        let p = handle::into_raw(ipcx_notifier(Notifier::new()?))?;
        // The poke table is keyed by the handle's full value (slot and generation): a
        // stale copy of a closed notifier's handle never reaches a new notifier that
        // reuses its slot.
        match handle::pin(p) {
            Ok(n) => n.0.publish(p as usize),
            Err(e) => {
                let _ = handle::close(p);
                return Err(e);
            }
        }
        *o = p;
        Ok(())
    })
}

/// Poke the notifier: add 1 to its count and make its descriptor readable.
///
/// Async-signal-safe, by construction: it does not go through the handle table (whose
/// release of a handle being closed may free memory and take a lock) and never
/// dereferences the handle; it finds the notifier in a fixed table of its own, keyed by
/// the handle's value (which names one notifier only: slot and generation), with atomic
/// loads, makes one write(2), and preserves errno. It never allocates, never blocks, and
/// never sets the last-error message (read the returned code only).
/// Returns: `IPCX_OK` (a count at its maximum, 2^64 - 2 unconsumed pokes, stays there).
/// Errors: `IPCX_ERR_INVALID` (NULL), `IPCX_ERR_BAD_HANDLE` (closed, being closed, stale,
/// or not a notifier), `IPCX_ERR_SYSTEM` (the write failed; not expected).
/// Fork: a child's poke reaches the same counter (see `ipcx_notifier`).
#[unsafe(no_mangle)]
pub extern "C" fn ipcx_notifier_poke(n: *const ipcx_notifier) -> ipcx_status {
    notifier::poke(n as usize)
}

/// Wait until the notifier has been poked, then consume the pokes.
///
/// Arguments: `timeout_ms`; `out_count` (may be NULL) receives the number of pokes since
/// the last successful wait (at least 1).
/// Returns: `IPCX_OK` once pokes were consumed.
/// Errors: `IPCX_ERR_TIMEOUT` (no poke in time), `IPCX_ERR_INVALID` (NULL notifier,
/// timeout below -1), `IPCX_ERR_BAD_HANDLE`, `IPCX_ERR_INTERRUPTED`. On error
/// `*out_count` is 0.
/// Thread safety: several threads may wait at once; each poke wakes at least one, and
/// the pokes are consumed by exactly one of them.
///
/// # Safety
/// `n` must be NULL or a value from ipcx; `out_count` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_notifier_wait(
    n: *const ipcx_notifier,
    timeout_ms: i64,
    out_count: *mut u64,
) -> ipcx_status {
    unsafe { set_opt(out_count, 0) };
    call_ref("ipcx_notifier_wait", n, |n| {
        let deadline = Deadline::from_ms(timeout_ms)?;
        let c = n.0.wait(&deadline)?;
        unsafe { set_opt(out_count, c) };
        Ok(())
    })
}

/// The notifier's descriptor, for poll/epoll: readable while pokes are pending.
///
/// Arguments: `out_fd` (required) receives it.
/// Returns: `IPCX_OK` with `*out_fd` set.
/// Errors: `IPCX_ERR_INVALID` (NULL notifier or `out_fd`), `IPCX_ERR_BAD_HANDLE`. On
/// error `*out_fd` is -1.
/// Ownership: it stays owned by the notifier: do not close it, read it, or write it.
///
/// # Safety
/// `n` must be NULL or a value from ipcx; `out_fd` NULL or valid for writing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_notifier_fd(
    n: *const ipcx_notifier,
    out_fd: *mut c_int,
) -> ipcx_status {
    unsafe { set_opt(out_fd, -1) };
    call_ref("ipcx_notifier_fd", n, |n| {
        *unsafe { out(out_fd, "out_fd") }? = n.0.fd();
        Ok(())
    })
}

/// Close a notifier. NULL is a no-op. Pokes that start after this call get
/// `IPCX_ERR_BAD_HANDLE`; a poke running in another thread's handler is waited for (a
/// few microseconds at most) before the descriptor is closed. A wait in progress on
/// another thread finishes normally (it may still be woken by a poke made before the
/// close); the descriptor is closed when it returns.
///
/// Returns: `IPCX_OK`; `IPCX_ERR_BAD_HANDLE` if already closed, stale or not a notifier
/// (nothing freed twice).
///
/// # Safety
/// `n` must be NULL or a value from ipcx; not to be called from a signal handler.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ipcx_notifier_close(n: *mut ipcx_notifier) -> ipcx_status {
    call("ipcx_notifier_close", || {
        if n.is_null() {
            return Ok(());
        }
        // Unpublish first, so that no poke starts once close has begun, even when a wait
        // on another thread defers the release of the notifier itself. A poisoned
        // notifier cannot be pinned: it is unpublished when it drops, and close still
        // works (the rule for poisoned handles).
        match handle::pin(n) {
            Ok(p) => p.0.unpublish(),
            Err(e) if e.status == crate::error::Status::IPCX_ERR_INTERNAL => {}
            Err(e) => return Err(e),
        }
        handle::close(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_parts_are_checked() {
        assert!(disposition_from_c(3, 0, None, 0).is_err());
        assert!(disposition_from_c(IPCX_SIGNAL_CATCH, 0, None, 0).is_err());
        assert!(disposition_from_c(IPCX_SIGNAL_IGNORE, 1 << 9, None, 0).is_err());
        let mask = SigSet::of(libc::SIGUSR2).unwrap().0;
        let flags = IPCX_SIGNAL_RESTART | IPCX_SIGNAL_NODEFER;
        let d = disposition_from_c(IPCX_SIGNAL_IGNORE, flags, None, mask).unwrap();
        assert!(matches!(d.action, Action::Ignore));
        let c = disposition_to_c(&d);
        assert_eq!(
            (c.action, c.flags, c.mask),
            (IPCX_SIGNAL_IGNORE, flags, mask)
        );
    }
}
