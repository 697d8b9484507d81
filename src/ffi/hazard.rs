// SPDX-License-Identifier: MIT OR Apache-2.0
//! Hazard slots: how a call tells a racing close "I am inside this handle" without an atomic
//! read-modify-write on a shared cache line.
//!
//! Every thread that calls ipcx gets a record with a few hazard words (one per nested pin:
//! a call that takes two handles pins both; a signal handler's call nests in the call it
//! interrupted; beyond them, pins go to the slot's counter). A pin stores the handle's value in the next
//! word with a plain store and then reads the handle's tag; an unpin stores 0 and reads the
//! tag again. A close changes the tag, then makes every thread of the process execute a full
//! memory barrier (`membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`), then scans the records.
//! The barrier orders each thread's plain store before its read for the closer: either the
//! closer sees the hazard, or the pinner sees the new tag. This is the asymmetric fence of
//! folly's hazard pointers and of the Linux `membarrier` man page's example.
//!
//! Without membarrier (an old kernel, a seccomp filter), the pins use the slot's counter
//! instead (`handle.rs`); under Miri, whose interpreter has no membarrier, pinners and
//! closers use real sequentially consistent fences, the symmetric form of the same protocol.
//! `IPCX_HANDLE_PINS=count` in the environment forces the counter (to test that path).
//!
//! A record belongs to one live thread at a time: it is claimed on the thread's first pin
//! and given back when the thread exits (a pthread key's destructor), then reused by the next
//! new thread. Records are never freed, so a closer can scan them without locks.
//!
//! The record of the current thread is found through one thread-local word. On x86-64
//! Linux that word uses the initial-exec TLS model (two instructions, no `__tls_get_addr`
//! call; the library is then marked STATIC_TLS, which costs 8 bytes of the static TLS
//! surplus glibc keeps for dlopen'ed libraries); elsewhere a plain `thread_local!`.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};

/// Nested pins one call may hold in hazard words (more go to the slot's counter).
pub(super) const DEPTH: usize = 4;

pub(super) struct Rec {
    /// Handle values pinned by the owning thread, 0 for a free word. Only that thread
    /// writes them; closers read them.
    hazards: [AtomicUsize; DEPTH],
    in_use: AtomicBool,
    next: AtomicPtr<Rec>,
}

impl Rec {
    /// A free hazard word of this thread's record (the first one, unless a nested pin of
    /// this call, or of the call a signal handler interrupted, holds it).
    #[inline(always)]
    pub(super) fn free_word(&self) -> Option<&AtomicUsize> {
        self.hazards.iter().find(|w| w.load(Ordering::Relaxed) == 0)
    }
}

/// Every record ever made, newest first.
static RECS: AtomicPtr<Rec> = AtomicPtr::new(std::ptr::null_mut());
/// Records claimed by live threads.
static LIVE_THREADS: AtomicUsize = AtomicUsize::new(0);

// ---------------------------------------------------------------- the mode

/// How this process pins, decided once, before the first handle exists.
pub(super) const UNSET: u8 = 0;
/// Hazard words, compiler fences in the pinners, membarrier in the closers.
pub(super) const HAZARD: u8 = 1;
/// The slot's counter (no membarrier available).
pub(super) const COUNT: u8 = 3;
static MODE: AtomicU8 = AtomicU8::new(UNSET);

#[inline(always)]
pub(super) fn mode() -> u8 {
    MODE.load(Ordering::Relaxed)
}

/// Decide the mode (called with the allocation lock held, before a handle is published).
/// `IPCX_HANDLE_PINS=count` in the environment forces the counter, to test that path.
pub(super) fn init_mode() {
    if MODE.load(Ordering::Relaxed) != UNSET {
        return;
    }
    let m = if cfg!(miri) {
        HAZARD
    } else if std::env::var_os("IPCX_HANDLE_PINS").is_some_and(|v| v == "count") {
        COUNT
    } else if membarrier::register() {
        HAZARD
    } else {
        COUNT
    };
    MODE.store(m, Ordering::SeqCst);
}

/// The barrier a pinner executes between publishing its hazard and reading the tag (and
/// between clearing it and reading the tag again): only the compiler's, since the closer's
/// membarrier orders the processor; a real fence under Miri (no membarrier there).
#[inline(always)]
pub(super) fn reader_fence() {
    if cfg!(miri) {
        std::sync::atomic::fence(Ordering::SeqCst);
    } else {
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
    }
}

/// The barrier a closer executes after changing a tag and before scanning the hazards:
/// every thread of the process has executed a full barrier when it returns true. False:
/// no barrier could be made (membarrier refused after it was first accepted, for example by
/// a seccomp filter installed since): the caller must then not free anything.
pub(super) fn closer_barrier() -> bool {
    std::sync::atomic::fence(Ordering::SeqCst);
    if mode() != HAZARD || cfg!(miri) {
        return true;
    }
    // A process whose only registered thread is the caller needs none: no other thread can
    // be inside a call (a signal handler runs on this thread, in program order). Nor does
    // one where no thread is registered (no hazard word is in use): a thread that registers
    // from now on does so with a SeqCst read-modify-write of the count, after this load in
    // the single total order, and its SeqCst load of the tag comes after that, so it sees
    // the tag the caller changed and does not pin the slot.
    let live = LIVE_THREADS.load(Ordering::SeqCst);
    if live == 0 || (live == 1 && current_is_registered()) {
        return true;
    }
    membarrier::barrier()
}

/// Whether any thread holds a hazard on handle value `v`.
pub(super) fn held(v: usize) -> bool {
    let mut r = RECS.load(Ordering::Acquire);
    while !r.is_null() {
        // SAFETY: records are leaked, never freed.
        let rec = unsafe { &*r };
        if rec.hazards.iter().any(|h| h.load(Ordering::SeqCst) == v) {
            return true;
        }
        r = rec.next.load(Ordering::Acquire);
    }
    false
}

// ---------------------------------------------------------------- the current thread

/// This thread's record, registering one on its first call. `None` while the thread is
/// being torn down (its thread-locals destroyed): the caller then uses the counter.
#[inline(always)]
pub(super) fn current() -> Option<&'static Rec> {
    let p = tls::get();
    if !p.is_null() {
        // SAFETY: records are leaked, never freed; this one belongs to this thread.
        return Some(unsafe { &*p });
    }
    register()
}

fn current_is_registered() -> bool {
    !tls::get().is_null()
}

#[cold]
#[inline(never)]
fn register() -> Option<&'static Rec> {
    // A pthread key's destructor gives the record back when the thread exits (a key, not a
    // Rust thread-local with Drop: registering that allocates in the C library, and memcheck
    // reports the allocation of a thread still running at exit as lost). Without a key the
    // thread pins through the counter instead.
    let key = exit_key()?;
    let rec = claim_free().unwrap_or_else(|| {
        let rec: &'static Rec = Box::leak(Box::new(Rec {
            hazards: [const { AtomicUsize::new(0) }; DEPTH],
            in_use: AtomicBool::new(true),
            next: AtomicPtr::new(std::ptr::null_mut()),
        }));
        let mut head = RECS.load(Ordering::Acquire);
        loop {
            rec.next.store(head, Ordering::Relaxed);
            match RECS.compare_exchange(
                head,
                rec as *const Rec as *mut Rec,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break rec,
                Err(h) => head = h,
            }
        }
    });
    LIVE_THREADS.fetch_add(1, Ordering::SeqCst);
    tls::set(rec);
    // SAFETY: a key from pthread_key_create; the value is only read by `thread_exit`.
    if unsafe { libc::pthread_setspecific(key, (rec as *const Rec).cast()) } != 0 {
        release(rec);
        return None;
    }
    Some(rec)
}

/// The key whose destructor runs [`thread_exit`], created once.
fn exit_key() -> Option<libc::pthread_key_t> {
    static KEY: std::sync::OnceLock<Option<libc::pthread_key_t>> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: a valid out-pointer and a destructor of the right type.
        (unsafe { libc::pthread_key_create(&mut key, Some(thread_exit)) } == 0).then_some(key)
    })
}

/// Runs when a thread that used ipcx exits: gives its record back.
extern "C" fn thread_exit(p: *mut libc::c_void) {
    // SAFETY: the value `register` stored: a leaked record, owned by this thread.
    release(unsafe { &*p.cast::<Rec>() });
}

fn release(rec: &'static Rec) {
    for h in &rec.hazards {
        h.store(0, Ordering::SeqCst);
    }
    if std::ptr::eq(tls::get(), rec) {
        tls::set(std::ptr::null());
    }
    LIVE_THREADS.fetch_sub(1, Ordering::SeqCst);
    rec.in_use.store(false, Ordering::Release);
}

fn claim_free() -> Option<&'static Rec> {
    let mut r = RECS.load(Ordering::Acquire);
    while !r.is_null() {
        // SAFETY: records are leaked, never freed.
        let rec = unsafe { &*r };
        if !rec.in_use.load(Ordering::Relaxed)
            && rec
                .in_use
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return Some(rec);
        }
        r = rec.next.load(Ordering::Acquire);
    }
    None
}

/// The thread-local word holding the current thread's record.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
mod tls {
    use super::Rec;

    // One 8-byte thread-local variable, hidden (not exported), accessed with the
    // initial-exec model.
    std::arch::global_asm!(
        ".pushsection .tbss,\"awT\",@nobits",
        ".p2align 3",
        ".globl ipcx_hazard_tls",
        ".hidden ipcx_hazard_tls",
        ".type ipcx_hazard_tls, @object",
        ".size ipcx_hazard_tls, 8",
        "ipcx_hazard_tls:",
        ".zero 8",
        ".popsection",
    );

    #[inline(always)]
    fn addr() -> *mut *const Rec {
        let a: usize;
        // SAFETY: computes the address of this thread's copy of `ipcx_hazard_tls` (its
        // offset from the thread pointer, through the GOT); reads no other memory.
        unsafe {
            std::arch::asm!(
                "mov {a}, qword ptr [rip + ipcx_hazard_tls@GOTTPOFF]",
                "add {a}, qword ptr fs:0",
                a = out(reg) a,
                options(nostack, preserves_flags, readonly, pure),
            );
        }
        a as *mut *const Rec
    }

    #[inline(always)]
    pub(super) fn get() -> *const Rec {
        // SAFETY: this thread's own variable, only ever written by this thread.
        unsafe { addr().read() }
    }

    pub(super) fn set(r: *const Rec) {
        // SAFETY: as above.
        unsafe { addr().write(r) }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(miri))))]
mod tls {
    use super::Rec;
    use std::cell::Cell;

    thread_local! {
        static CURRENT: Cell<*const Rec> = const { Cell::new(std::ptr::null()) };
    }

    #[inline(always)]
    pub(super) fn get() -> *const Rec {
        CURRENT.try_with(|c| c.get()).unwrap_or(std::ptr::null())
    }

    pub(super) fn set(r: *const Rec) {
        let _ = CURRENT.try_with(|c| c.set(r));
    }
}

/// The process-private expedited memory barrier.
mod membarrier {
    const CMD_QUERY: libc::c_int = 0;
    const CMD_GLOBAL: libc::c_int = 1;
    const CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn call(cmd: libc::c_int) -> libc::c_long {
        // SAFETY: membarrier takes no pointers.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) }
    }

    /// Register the process for the private expedited barrier: false when the kernel (or a
    /// seccomp filter) does not offer it.
    pub(super) fn register() -> bool {
        let q = call(CMD_QUERY);
        q >= 0
            && q & libc::c_long::from(CMD_PRIVATE_EXPEDITED) != 0
            && call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    /// Make every running thread of the process execute a full memory barrier; false if
    /// no form of it is available any more.
    pub(super) fn barrier() -> bool {
        if call(CMD_PRIVATE_EXPEDITED) == 0 {
            return true;
        }
        // A forked child is not registered (the registration belongs to the parent's
        // address space): register again. If even that fails, the global barrier (slow:
        // it waits for a grace period) gives the same guarantee.
        (call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0 && call(CMD_PRIVATE_EXPEDITED) == 0)
            || call(CMD_GLOBAL) == 0
    }
}
