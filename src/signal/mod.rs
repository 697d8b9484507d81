// SPDX-License-Identifier: MIT OR Apache-2.0
//! Signals: dispositions (ignore, default, catch), thread masks, sending (process, process
//! group, thread; real-time signals with a payload), synchronous waiting, and the two ways
//! to receive without a handler or out of one: a pollable `signalfd` receiver
//! ([`signalfd`]) and an async-signal-safe notifier a handler may poke ([`notifier`]).
//!
//! The semantics are the kernel's, unchanged: standard signals (1..=31) are a pending
//! *bit* and coalesce while blocked; real-time signals (SIGRTMIN..=SIGRTMAX) are *queued*,
//! in order, each with its payload, up to the receiver's RLIMIT_SIGPENDING.
//!
//! What ipcx adds: validation (signal 0 only where it means "probe", no SIGKILL/SIGSTOP
//! dispositions, no signals reserved by the C library), a plain 64-bit signal set that
//! needs no `<signal.h>`, portable flag values, monotonic timeouts with EINTR retried
//! against the remaining time, and errors that say what failed (the RLIMIT_SIGPENDING value
//! when a queue is full).
//!
//! Nothing here installs a handler or changes a mask unless that is the function's whole
//! purpose: ipcx installs no handler of its own at all.
//!
//! System calls: the thread mask (`pthread_sigmask`), `signalfd`, `eventfd` and the
//! process ids go through nix. Raw: `sigaction`, `kill`, `killpg` and the signal-set
//! operations, because nix's `Signal` enum lacks the real-time signals (SIGRTMIN..SIGRTMAX)
//! that these calls must take, and nix's `sigaction` cannot query a disposition without
//! installing one; `sigqueue`, `rt_tgsigqueueinfo`, `sigpending`, `prlimit` and
//! `sigtimedwait` (in `crate::sys`), which nix lacks.

pub mod notifier;
pub mod signalfd;

use std::ffi::{c_int, c_void};
use std::fmt;

use nix::errno::Errno;
use nix::sys::signal::SigmaskHow;

use crate::error::{Error, Result, Status};
use crate::time::{self, Deadline};

/// The highest signal number a 64-bit signal set holds (Linux: signals 1..=64).
pub(crate) const MAX_SIGNAL: i32 = 64;

/// The first real-time signal the C library leaves to applications (glibc reserves 32 and
/// 33 for its threads, so this is 34 there).
pub fn rtmin() -> i32 {
    libc::SIGRTMIN()
}

/// The last real-time signal (64).
pub fn rtmax() -> i32 {
    libc::SIGRTMAX()
}

/// True for 32..SIGRTMIN: signals the C library uses internally (thread cancellation,
/// setxid). Nothing in ipcx accepts them.
fn reserved(signo: i32) -> bool {
    signo > 31 && signo < rtmin()
}

/// A signal's name for messages: `SIGUSR1`, `SIGRTMIN+1`, `signal 99`.
pub fn name(signo: i32) -> String {
    if (1..=31).contains(&signo) {
        if let Ok(s) = nix::sys::signal::Signal::try_from(signo) {
            return s.as_str().to_string();
        }
    }
    if signo >= rtmin() && signo <= rtmax() {
        return format!("SIGRTMIN+{}", signo - rtmin());
    }
    format!("signal {signo}")
}

/// Check a signal number: 1..=64 and not reserved by the C library.
pub fn check(signo: i32) -> Result<()> {
    if signo == 0 {
        return Err(Error::invalid(
            "signal 0 is not a signal (it only probes a process in the send functions)",
        ));
    }
    if !(1..=MAX_SIGNAL).contains(&signo) {
        return Err(Error::invalid(format!(
            "signal {signo} is out of range (1..={MAX_SIGNAL}; real-time signals are {}..={})",
            rtmin(),
            rtmax()
        )));
    }
    if reserved(signo) {
        return Err(Error::invalid(format!(
            "signal {signo} is reserved by the C library for its threads (real-time signals \
             for applications start at SIGRTMIN = {})",
            rtmin()
        )));
    }
    Ok(())
}

/// Check a signal to send: 0 (probe: existence and permission only) or a valid signal.
fn check_send(signo: i32) -> Result<()> {
    if signo == 0 { Ok(()) } else { check(signo) }
}

/// SIGKILL and SIGSTOP: never caught, ignored, blocked or waited for.
fn untouchable(signo: i32) -> bool {
    signo == libc::SIGKILL || signo == libc::SIGSTOP
}

/// Check a signal whose disposition is changed: valid, and not SIGKILL or SIGSTOP.
fn check_settable(signo: i32) -> Result<()> {
    check(signo)?;
    if untouchable(signo) {
        return Err(Error::invalid(format!(
            "the disposition of {} cannot be changed (the kernel always applies the default)",
            name(signo)
        )));
    }
    Ok(())
}

/// A set of signals: bit `n - 1` stands for signal `n` (the layout of the kernel's own
/// 64-bit signal set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    /// The empty set.
    pub(crate) const EMPTY: SigSet = SigSet(0);

    /// The bit of `signo` (which must be 1..=64).
    fn bit(signo: i32) -> u64 {
        1u64 << (signo - 1)
    }

    /// The set holding only `signo`.
    pub fn of(signo: i32) -> Result<SigSet> {
        check(signo)?;
        Ok(SigSet(Self::bit(signo)))
    }

    /// Add a valid signal.
    pub fn add(&mut self, signo: i32) -> Result<()> {
        check(signo)?;
        self.0 |= Self::bit(signo);
        Ok(())
    }

    /// Remove a valid signal.
    pub fn del(&mut self, signo: i32) -> Result<()> {
        check(signo)?;
        self.0 &= !Self::bit(signo);
        Ok(())
    }

    /// Whether `signo` is in the set (false for numbers that are not signals).
    pub fn contains(self, signo: i32) -> bool {
        (1..=MAX_SIGNAL).contains(&signo) && self.0 & Self::bit(signo) != 0
    }

    /// True when no signal is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signals of the set, in increasing order.
    pub fn signals(self) -> impl Iterator<Item = i32> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let n = bits.trailing_zeros();
            bits &= bits - 1;
            Some(n as i32 + 1)
        })
    }

    /// The set a thread mask or a handler mask can hold: SIGKILL, SIGSTOP and the C
    /// library's reserved signals dropped silently, as `sigprocmask` and glibc do.
    pub fn maskable(self) -> SigSet {
        let mut s = self.0 & !(Self::bit(libc::SIGKILL) | Self::bit(libc::SIGSTOP));
        for r in 32..rtmin() {
            s &= !Self::bit(r);
        }
        SigSet(s)
    }

    /// Check a set to wait for: not empty, and every member can actually arrive there
    /// (no SIGKILL, SIGSTOP, nor reserved signals).
    pub fn check_waitable(self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid("the signal set is empty"));
        }
        match self
            .signals()
            .find(|&s| check(s).is_err() || untouchable(s))
        {
            Some(s) if untouchable(s) => Err(Error::invalid(format!(
                "{} can never be waited for or received (it cannot be blocked)",
                name(s)
            ))),
            Some(s) => check(s),
            None => Ok(()),
        }
    }

    /// The C library's `sigset_t` for this set (reserved signals left out).
    pub fn to_libc(self) -> libc::sigset_t {
        // SAFETY: sigemptyset initialises the set; sigaddset only reads valid numbers.
        unsafe {
            let mut s: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut s);
            for n in self.signals() {
                libc::sigaddset(&mut s, n);
            }
            s
        }
    }

    /// The set as nix's signal set, real-time signals included (built from the
    /// `sigset_t`: nix's own `add` takes only the standard signals).
    pub fn to_nix(self) -> nix::sys::signal::SigSet {
        // SAFETY: `to_libc` returns an initialised set.
        unsafe { nix::sys::signal::SigSet::from_sigset_t_unchecked(self.to_libc()) }
    }

    /// The set a `sigset_t` holds (signals 1..=64).
    pub fn from_libc(s: &libc::sigset_t) -> SigSet {
        let mut bits = 0u64;
        for n in 1..=MAX_SIGNAL {
            // SAFETY: reads an initialised set.
            if unsafe { libc::sigismember(s, n) } == 1 {
                bits |= Self::bit(n);
            }
        }
        SigSet(bits)
    }
}

impl fmt::Display for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, s) in self.signals().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&name(s))?;
        }
        f.write_str("}")
    }
}

// ------------------------------------------------------------------------ dispositions

/// A handler of the siginfo form: `void (*)(int signo, siginfo_t *info, void *ucontext)`.
pub type Handler = unsafe extern "C" fn(c_int, *mut c_void, *mut c_void);

crate::flags::option_set! {
    /// Handler flags: the `sigaction` options ipcx knows (`SA_*`).
    pub struct HandlerFlags {
        /// SA_RESTART: system calls interrupted by the handler are restarted.
        const RESTART = 0;
        /// SA_NODEFER: the signal is not blocked while its handler runs.
        const NODEFER = 1;
        /// SA_RESETHAND: the disposition returns to the default once the handler runs.
        const RESETHAND = 2;
        /// SA_ONSTACK: the handler runs on the alternate stack.
        const ONSTACK = 3;
        /// SA_NOCLDSTOP (SIGCHLD): no SIGCHLD when a child stops or continues.
        const NOCLDSTOP = 4;
        /// SA_NOCLDWAIT (SIGCHLD): children do not become zombies.
        const NOCLDWAIT = 5;
        /// SA_SIGINFO: the handler takes three arguments.
        const SIGINFO = 6;
    }
}
const FLAG_MAP: [(HandlerFlags, c_int); 7] = [
    (HandlerFlags::RESTART, libc::SA_RESTART),
    (HandlerFlags::NODEFER, libc::SA_NODEFER),
    (HandlerFlags::RESETHAND, libc::SA_RESETHAND),
    (HandlerFlags::ONSTACK, libc::SA_ONSTACK),
    (HandlerFlags::NOCLDSTOP, libc::SA_NOCLDSTOP),
    (HandlerFlags::NOCLDWAIT, libc::SA_NOCLDWAIT),
    (HandlerFlags::SIGINFO, libc::SA_SIGINFO),
];

/// What the kernel does when a signal is delivered.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// The default action (terminate, core dump, stop, continue or ignore, per signal).
    Default,
    /// Discard the signal.
    Ignore,
    /// Run a handler. Without `SA_SIGINFO` in the flags it is a one-argument handler
    /// installed by other code, stored here with the three-argument type.
    Catch(Handler),
}

/// A signal's disposition: the action, the handler flags, and the signals blocked while
/// the handler runs.
#[derive(Clone, Copy, Debug)]
pub struct Disposition {
    /// What happens on delivery.
    pub action: Action,
    /// The handler flags.
    pub flags: HandlerFlags,
    /// Signals blocked while the handler runs (besides the signal itself, unless
    /// `SA_NODEFER`).
    pub mask: SigSet,
}

impl Disposition {
    /// The handler, if the action is to catch.
    pub fn handler(&self) -> Option<Handler> {
        match self.action {
            Action::Catch(h) => Some(h),
            _ => None,
        }
    }

    fn to_libc(self) -> libc::sigaction {
        // SAFETY: an all-zero sigaction is valid (SIG_DFL, no flags, empty mask).
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = match self.action {
            Action::Default => libc::SIG_DFL,
            Action::Ignore => libc::SIG_IGN,
            Action::Catch(h) => h as usize,
        };
        sa.sa_flags = FLAG_MAP
            .iter()
            .filter(|(ours, _)| self.flags.contains(*ours))
            .fold(0, |acc, (_, theirs)| acc | theirs);
        sa.sa_mask = self.mask.maskable().to_libc();
        sa
    }

    fn from_libc(sa: &libc::sigaction) -> Disposition {
        let action = match sa.sa_sigaction {
            libc::SIG_DFL => Action::Default,
            libc::SIG_IGN => Action::Ignore,
            // SAFETY: a non-null handler address installed by sigaction; a one-argument
            // handler is told apart by the absence of SA_SIGINFO (see `Action::Catch`).
            h => Action::Catch(unsafe { std::mem::transmute::<usize, Handler>(h) }),
        };
        let flags = FLAG_MAP
            .iter()
            .filter(|(_, theirs)| sa.sa_flags & theirs != 0)
            .fold(HandlerFlags::NONE, |acc, (ours, _)| acc | *ours);
        Disposition {
            action,
            flags,
            mask: SigSet::from_libc(&sa.sa_mask),
        }
    }
}

fn sigaction(signo: i32, new: Option<&libc::sigaction>) -> Result<Disposition> {
    // SAFETY: an all-zero sigaction is a valid out-buffer.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    let newp = new.map_or(std::ptr::null(), |n| n as *const libc::sigaction);
    // SAFETY: valid pointers; the handler address is the caller's responsibility (C API).
    if unsafe { libc::sigaction(signo, newp, &mut old) } < 0 {
        return Err(Error::last_os(format_args!("sigaction({})", name(signo))));
    }
    Ok(Disposition::from_libc(&old))
}

/// The current disposition of `signo` (SIGKILL and SIGSTOP may be queried).
pub fn disposition(signo: i32) -> Result<Disposition> {
    check(signo)?;
    sigaction(signo, None)
}

/// Install `d` for `signo`; returns the previous disposition.
pub fn set_disposition(signo: i32, d: &Disposition) -> Result<Disposition> {
    check_settable(signo)?;
    sigaction(signo, Some(&d.to_libc()))
}

/// Catch `signo` with a siginfo-form handler and `flags` ([`HandlerFlags::SIGINFO`] is
/// implied); returns the previous disposition.
pub fn catch(signo: i32, handler: Handler, flags: HandlerFlags) -> Result<Disposition> {
    let d = Disposition {
        action: Action::Catch(handler),
        flags: flags | HandlerFlags::SIGINFO,
        mask: SigSet::EMPTY,
    };
    set_disposition(signo, &d)
}

// ------------------------------------------------------------------------ masks

/// How [`mask`] changes the calling thread's mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Add the set to the mask.
    Block,
    /// Remove the set from the mask.
    Unblock,
    /// Replace the mask with the set.
    Set,
}

fn pthread_sigmask(how: SigmaskHow, set: Option<SigSet>, what: &str) -> Result<SigSet> {
    let mut old = nix::sys::signal::SigSet::empty();
    let set = set.map(SigSet::to_nix);
    nix::sys::signal::pthread_sigmask(how, set.as_ref(), Some(&mut old))
        .map_err(|e| Error::os(e, what))?;
    Ok(SigSet::from_libc(old.as_ref()))
}

/// Change the calling thread's signal mask; returns the previous mask. SIGKILL, SIGSTOP
/// and the C library's reserved signals are left out silently, as the kernel and glibc do.
pub fn mask(how: How, set: SigSet) -> Result<SigSet> {
    let (h, what) = match how {
        How::Block => (SigmaskHow::SIG_BLOCK, "pthread_sigmask(SIG_BLOCK)"),
        How::Unblock => (SigmaskHow::SIG_UNBLOCK, "pthread_sigmask(SIG_UNBLOCK)"),
        How::Set => (SigmaskHow::SIG_SETMASK, "pthread_sigmask(SIG_SETMASK)"),
    };
    pthread_sigmask(h, Some(set.maskable()), what)
}

/// The calling thread's signal mask.
pub fn current_mask() -> Result<SigSet> {
    pthread_sigmask(SigmaskHow::SIG_BLOCK, None, "pthread_sigmask")
}

/// Signals pending for the calling thread or its process (blocked and not yet taken).
pub fn pending() -> Result<SigSet> {
    // SAFETY: an all-zero sigset is a valid out-buffer.
    let mut s: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer.
    if unsafe { libc::sigpending(&mut s) } < 0 {
        return Err(Error::last_os("sigpending"));
    }
    Ok(SigSet::from_libc(&s))
}

// ------------------------------------------------------------------------ sending

/// Where a signal goes, for messages and for the RLIMIT_SIGPENDING lookup.
#[derive(Clone, Copy, Debug)]
enum Target {
    Process(i32),
    Group(i32),
    Thread(i32, i32),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Process(p) => write!(f, "process {p}"),
            Target::Group(0) => write!(f, "the caller's process group"),
            Target::Group(g) => write!(f, "process group {g}"),
            Target::Thread(p, t) => write!(f, "thread {t} of process {p}"),
        }
    }
}

/// The error for a failed send: a full queue names RLIMIT_SIGPENDING and its value.
#[cold]
fn send_error(e: Errno, call: &str, to: Target, signo: i32) -> Error {
    let what = format!("{call}({}, {}): ", to, name(signo));
    match e {
        Errno::EAGAIN => {
            let pid = match to {
                Target::Process(p) | Target::Thread(p, _) => p,
                Target::Group(_) => 0,
            };
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: reads the target's limit into a local (pid 0 = this process).
            let value = if unsafe {
                libc::prlimit(pid, libc::RLIMIT_SIGPENDING, std::ptr::null(), &mut lim)
            } == 0
            {
                if lim.rlim_cur == libc::RLIM_INFINITY {
                    "unlimited".to_string()
                } else {
                    lim.rlim_cur.to_string()
                }
            } else {
                "unknown".to_string()
            };
            let whose = if pid > 0 {
                format!("of process {pid}")
            } else {
                "of this process".to_string()
            };
            Error::os_as(
                Status::IPCX_ERR_LIMIT,
                e,
                format!(
                    "{what}the receiver's queue of pending signals is full: RLIMIT_SIGPENDING \
                     {whose} is {value} (queued signals counted per user; ulimit -i, \
                     /proc/<pid>/limits \"Max pending signals\")"
                ),
            )
        }
        e => Error::os(e, what.trim_end_matches(": ")),
    }
}

fn result(rc: c_int, call: &str, to: Target, signo: i32) -> Result<()> {
    if rc < 0 {
        return Err(send_error(Errno::last(), call, to, signo));
    }
    Ok(())
}

fn check_pid(pid: i32, what: &str, hint: &str) -> Result<()> {
    if pid <= 0 {
        return Err(Error::invalid(format!(
            "{what} {pid} is not a process ID (must be > 0){hint}"
        )));
    }
    Ok(())
}

/// Send `signo` to process `pid` (kill). Signal 0 only checks that the process exists
/// and may be signalled.
pub fn send(pid: i32, signo: i32) -> Result<()> {
    check_pid(
        pid,
        "pid",
        "; use ipcx_signal_send_group for a process group",
    )?;
    check_send(signo)?;
    // SAFETY: plain system call.
    result(
        unsafe { libc::kill(pid, signo) },
        "kill",
        Target::Process(pid),
        signo,
    )
}

/// Send `signo` to every process of group `pgid` (killpg); 0 is the caller's group.
pub fn send_group(pgid: i32, signo: i32) -> Result<()> {
    if pgid < 0 {
        return Err(Error::invalid(format!(
            "process group {pgid} is invalid (must be >= 0; 0 is the caller's group)"
        )));
    }
    check_send(signo)?;
    // SAFETY: plain system call.
    result(
        unsafe { libc::killpg(pgid, signo) },
        "killpg",
        Target::Group(pgid),
        signo,
    )
}

/// Send `signo` to thread `tid` of process `tgid` (tgkill).
pub fn send_thread(tgid: i32, tid: i32, signo: i32) -> Result<()> {
    check_pid(tgid, "process ID", "")?;
    check_pid(tid, "thread ID", "")?;
    check_send(signo)?;
    result(
        crate::sys::tgkill(tgid, tid, signo),
        "tgkill",
        Target::Thread(tgid, tid),
        signo,
    )
}

/// Queue `signo` with a payload to process `pid` (sigqueue). `value` is the raw content
/// of the `union sigval` (pointer-sized).
pub fn queue(pid: i32, signo: i32, value: usize) -> Result<()> {
    check_pid(
        pid,
        "pid",
        "; signals with a payload go to one process or thread",
    )?;
    check_send(signo)?;
    let v = libc::sigval {
        sival_ptr: value as *mut c_void,
    };
    // SAFETY: plain library call.
    result(
        unsafe { libc::sigqueue(pid, signo, v) },
        "sigqueue",
        Target::Process(pid),
        signo,
    )
}

/// The kernel's siginfo layout for a queued signal (`_rt`: pid, uid, value), 128 bytes.
#[repr(C)]
struct RtSigInfo {
    signo: c_int,
    errno: c_int,
    code: c_int,
    #[cfg(target_pointer_width = "64")]
    _pad: c_int,
    pid: libc::pid_t,
    uid: libc::uid_t,
    value: usize,
    #[cfg(target_pointer_width = "64")]
    _rest: [u8; 128 - 32],
    #[cfg(target_pointer_width = "32")]
    _rest: [u8; 128 - 24],
}
const _: () = assert!(std::mem::size_of::<RtSigInfo>() == std::mem::size_of::<libc::siginfo_t>());

/// Queue `signo` with a payload to thread `tid` of process `tgid` (rt_tgsigqueueinfo,
/// what pthread_sigqueue does, but for a thread of any process).
pub fn queue_thread(tgid: i32, tid: i32, signo: i32, value: usize) -> Result<()> {
    check_pid(tgid, "process ID", "")?;
    check_pid(tid, "thread ID", "")?;
    check_send(signo)?;
    let info = RtSigInfo {
        signo,
        errno: 0,
        code: libc::SI_QUEUE,
        #[cfg(target_pointer_width = "64")]
        _pad: 0,
        pid: nix::unistd::getpid().as_raw(),
        uid: nix::unistd::getuid().as_raw(),
        value,
        _rest: [0; _],
    };
    // SAFETY: the kernel reads 128 bytes of siginfo.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_rt_tgsigqueueinfo,
            tgid,
            tid,
            signo,
            &info as *const RtSigInfo,
        )
    };
    result(
        rc as c_int,
        "rt_tgsigqueueinfo",
        Target::Thread(tgid, tid),
        signo,
    )
}

// ------------------------------------------------------------------------ receiving

/// A received signal: number, origin code (`SI_USER`, `SI_QUEUE`, `SI_TKILL`, kernel
/// codes), sender pid and real uid (0 when the origin has none), exit status (SIGCHLD)
/// and payload (raw content of the `union sigval`, 0 when none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    /// The signal number.
    pub signo: i32,
    /// `si_code`.
    pub code: i32,
    /// The sender's process ID, 0 when the origin carries none.
    pub pid: i32,
    /// The sender's real user ID, 0 when the origin carries none.
    pub uid: u32,
    /// SIGCHLD: the exit status or signal of the child. 0 otherwise.
    pub status: i32,
    /// The payload (`SI_QUEUE`, `SI_TIMER`, `SI_MESGQ`), 0 otherwise.
    pub value: usize,
}

impl SigInfo {
    /// Keep only the fields the origin (`code`) defines, so every path reports alike.
    fn new(signo: i32, code: i32, pid: i32, uid: u32, status: i32, value: usize) -> SigInfo {
        let chld = signo == libc::SIGCHLD && code > 0 && code != libc::SI_KERNEL;
        let sender = chld
            || matches!(
                code,
                libc::SI_USER | libc::SI_QUEUE | libc::SI_TKILL | libc::SI_MESGQ
            );
        let payload = matches!(code, libc::SI_QUEUE | libc::SI_TIMER | libc::SI_MESGQ);
        SigInfo {
            signo,
            code,
            pid: if sender { pid } else { 0 },
            uid: if sender { uid } else { 0 },
            status: if chld { status } else { 0 },
            value: if payload { value } else { 0 },
        }
    }

    fn from_siginfo(si: &libc::siginfo_t) -> SigInfo {
        // SAFETY: the union views are read only as the code allows (see `new`); the
        // others are discarded.
        unsafe {
            SigInfo::new(
                si.si_signo,
                si.si_code,
                si.si_pid(),
                si.si_uid(),
                si.si_status(),
                si.si_value().sival_ptr as usize,
            )
        }
    }

    fn from_signalfd(s: &libc::signalfd_siginfo) -> SigInfo {
        SigInfo::new(
            s.ssi_signo as i32,
            s.ssi_code,
            s.ssi_pid as i32,
            s.ssi_uid,
            s.ssi_status,
            s.ssi_ptr as usize,
        )
    }
}

/// Wait for one signal of `set` (which must be blocked in the calling thread) until the
/// deadline; the signal is taken from the pending set (sigtimedwait / sigwaitinfo).
pub fn wait(set: SigSet, deadline: &Deadline) -> Result<SigInfo> {
    set.check_waitable()?;
    let ls = set.to_libc();
    // SAFETY: an all-zero siginfo is a valid out-buffer.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        let r = time::retry_eintr(deadline, "sigtimedwait", || {
            let ts = deadline.remaining_timespec();
            // SAFETY: valid pointers; the timeout is relative (CLOCK_MONOTONIC), none for
            // an unbounded wait (what sigwaitinfo does).
            let rc = unsafe { crate::sys::sigtimedwait(&ls, &mut si, ts.as_ref()) };
            if rc < 0 { Err(Errno::last()) } else { Ok(rc) }
        })
        .map_err(|e| e.context(format_args!("wait for {set}")))?;
        match r {
            Ok(_) => return Ok(SigInfo::from_siginfo(&si)),
            // The kernel may round a timeout; never report it before the deadline.
            Err(Errno::EAGAIN) if !deadline.expired() => continue,
            Err(Errno::EAGAIN) => {
                return Err(deadline.timeout_error(format_args!("sigtimedwait for {set}")));
            }
            Err(e) => return Err(Error::os(e, format_args!("sigtimedwait for {set}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ranges() {
        assert_eq!(name(libc::SIGUSR1), "SIGUSR1");
        assert_eq!(name(rtmin() + 1), "SIGRTMIN+1");
        assert_eq!(name(99), "signal 99");
        assert!(check(0).is_err());
        assert!(check(65).is_err());
        assert!(check(-1).is_err());
        assert!(check(32).is_err());
        assert!(check(rtmin()).is_ok());
        assert!(check(rtmax()).is_ok());
        assert!(check_settable(libc::SIGKILL).is_err());
        assert!(check_settable(libc::SIGSTOP).is_err());
        assert!(check_send(0).is_ok());
    }

    #[test]
    fn sets_round_trip_through_sigset_t() {
        let mut s = SigSet::EMPTY;
        s.add(libc::SIGUSR1).unwrap();
        s.add(rtmax()).unwrap();
        assert!(s.add(33).is_err());
        assert_eq!(SigSet::from_libc(&s.to_libc()), s);
        assert_eq!(
            s.signals().collect::<Vec<_>>(),
            vec![libc::SIGUSR1, rtmax()]
        );
        assert_eq!(s.to_string(), "{SIGUSR1, SIGRTMIN+30}");
        assert_eq!(
            SigSet(u64::MAX).maskable().0 & SigSet::bit(libc::SIGKILL),
            0
        );
        assert!(!SigSet(u64::MAX).maskable().contains(32));
        assert!(SigSet(0).check_waitable().is_err());
        assert!(SigSet::of(libc::SIGKILL).unwrap().check_waitable().is_err());
    }

    #[test]
    fn rt_siginfo_layout_matches_the_c_library() {
        let info = RtSigInfo {
            signo: 40,
            errno: 0,
            code: libc::SI_QUEUE,
            #[cfg(target_pointer_width = "64")]
            _pad: 0,
            pid: 1234,
            uid: 567,
            value: 0xdead_beef,
            _rest: [0; _],
        };
        // SAFETY: same size (asserted), plain data.
        let si: &libc::siginfo_t = unsafe { &*(&info as *const RtSigInfo).cast() };
        unsafe {
            assert_eq!(si.si_signo, 40);
            assert_eq!(si.si_code, libc::SI_QUEUE);
            assert_eq!(si.si_pid(), 1234);
            assert_eq!(si.si_uid(), 567);
            assert_eq!(si.si_value().sival_ptr as usize, 0xdead_beef);
        }
    }

    #[test]
    fn disposition_survives_the_libc_form() {
        let mask = SigSet::of(libc::SIGUSR2).unwrap();
        let flags = HandlerFlags::RESTART | HandlerFlags::NODEFER;
        let d = Disposition {
            action: Action::Ignore,
            flags,
            mask,
        };
        let back = Disposition::from_libc(&d.to_libc());
        assert!(matches!(back.action, Action::Ignore));
        assert_eq!((back.flags, back.mask), (flags, mask));
    }
}
