// SPDX-License-Identifier: MIT OR Apache-2.0
//! The handle table: what a C handle is, and how a call gets from it to its object safely.
//!
//! A handle is an identifier dressed as an opaque pointer: the index of a slot in a table
//! (plus one, so that NULL is never a handle) and the slot's generation, which grows every
//! time the slot is freed. It is never dereferenced. A lookup is a few loads and does not
//! depend on how many handles are alive: the table is a list of chunks that double in size
//! (chunk `c` holds `BASE << c` slots), found from the index with one leading-zeros count;
//! chunks are never freed.
//!
//! Each slot holds a `tag` (generation, handle kind, state). A call pins its handle for its
//! whole duration: it publishes the handle in one of its thread's hazard words (see
//! [`hazard`](super::hazard); where that is not available, it adds 1 to the slot's pin
//! count) and then compares the tag with the one the handle expects. A stale handle (its
//! slot was freed and reused: the generation differs), a closed one, one of another type or
//! a poisoned one fails the comparison and gets a defined error. A call on a one-thread type
//! also takes the slot's `busy` flag (a compare-and-swap; a load and a store while glibc
//! says the process has one thread, see [`take_busy`]); if another call holds it, the call
//! fails at once with `IPCX_ERR_IN_USE` instead of aliasing a `&mut`.
//!
//! Close moves the tag to CLOSING, so no new call gets in, and frees the object at once if
//! nothing holds it; otherwise the last call to unpin frees it. The pinner publishes then
//! reads the tag; the closer writes the tag, makes every thread execute a barrier, then
//! looks for pins: whichever comes second sees the other, so exactly one of them reclaims (a
//! compare-and-swap of the tag decides) and nobody ever uses a freed object.
//!
//! Slots are reused oldest-freed first, so a stale handle meets the same slot again only
//! after every other free slot was used; its generation then still differs unless the slot
//! went round 2^24 generations (2^12 on 32-bit targets, whose handles have 20 bits of
//! index and 12 of generation). A slot's first generation is scattered per process, so
//! that a small integer or another stray value is almost never a live handle.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::hazard;
use crate::error::{Error, Result, Status};

/// A type that C sees as an opaque handle. Calls on it are exclusive: one thread at a time.
pub(crate) trait Handle: Sized + Send + 'static {
    /// Distinct per handle type, 1..=63 (checked at compile time).
    const KIND: u32;
    /// The C type name, for messages.
    const NAME: &'static str;
}

/// A handle type whose calls only need `&self` and may run on several threads at once.
pub(crate) trait Shared: Handle + Sync {}

// ---------------------------------------------------------------- encoding

/// Bits of the slot index (plus one) in a handle value; the generation takes the rest.
const IDX_BITS: u32 = if usize::BITS >= 64 { 32 } else { 20 };
const IDX_MASK: usize = (1usize << IDX_BITS) - 1;
/// Bits of generation a handle carries (and the modulus of a slot's generation).
const GEN_BITS: u32 = if usize::BITS >= 64 { 24 } else { 12 };
const GEN_MASK: u32 = (1u32 << GEN_BITS) - 1;
/// The most slots the table can have. Index + 1 stays below `IDX_MASK`, so no handle value
/// is ever `usize::MAX` (the notifier table uses that value as its "reserved" key).
const MAX_SLOTS: usize = IDX_MASK - 1;

// Tag: generation << 8 | kind << 2 | state.
const FREE: u32 = 0;
const LIVE: u32 = 1;
const POISONED: u32 = 2;
const CLOSING: u32 = 3;
const STATE_MASK: u32 = 3;

#[inline(always)]
const fn tag(generation: u32, kind: u32, state: u32) -> u32 {
    generation << 8 | kind << 2 | state
}

#[inline(always)]
fn tag_gen(t: u32) -> u32 {
    t >> 8
}

#[inline(always)]
fn tag_kind(t: u32) -> u32 {
    (t >> 2) & 63
}

// ---------------------------------------------------------------- the table

#[repr(align(64))]
struct Slot {
    tag: AtomicU32,
    /// Pins that did not go to a hazard word.
    pins: AtomicU64,
    /// 1 while a call on a one-thread type is inside.
    busy: AtomicU32,
    obj: AtomicPtr<()>,
    /// The `unsafe fn(*mut ())` that drops the boxed object.
    drop_fn: AtomicPtr<()>,
    /// This slot's index (fixed when its chunk is made).
    idx: usize,
}

/// A slot's first generation: scattered (per process and per slot), so that small integers
/// and other garbage a program might pass are almost never a live handle's value.
fn first_generation(idx: usize) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    static SEED: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut h = SEED.get_or_init(Default::default).build_hasher();
    h.write_usize(idx);
    h.finish() as u32 & GEN_MASK
}

impl Slot {
    fn new(idx: usize) -> Slot {
        Slot {
            tag: AtomicU32::new(tag(first_generation(idx), 0, FREE)),
            pins: AtomicU64::new(0),
            busy: AtomicU32::new(0),
            obj: AtomicPtr::new(std::ptr::null_mut()),
            drop_fn: AtomicPtr::new(std::ptr::null_mut()),
            idx,
        }
    }
}

/// Slots in chunk 0; chunk `c` holds `BASE << c`.
const BASE: usize = 64;
const NCHUNKS: usize = (usize::BITS - BASE.trailing_zeros()) as usize;
static CHUNKS: [AtomicPtr<Slot>; NCHUNKS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; NCHUNKS];

/// Chunk and offset of slot `idx`.
#[inline(always)]
fn place(idx: usize) -> (usize, usize) {
    let q = idx / BASE + 1;
    let c = (usize::BITS - 1 - q.leading_zeros()) as usize;
    (c, idx - BASE * ((1 << c) - 1))
}

#[inline(always)]
fn slot_at(idx: usize) -> Option<&'static Slot> {
    let (c, off) = place(idx);
    let chunk = CHUNKS.get(c)?.load(Ordering::Acquire);
    if chunk.is_null() {
        return None;
    }
    // SAFETY: a published chunk holds `BASE << c` initialised slots and is never freed;
    // `place` gives an offset below that.
    Some(unsafe { &*chunk.add(off) })
}

/// Allocation state: the free slots, oldest-freed first, and the next never-used index.
struct Alloc {
    free: VecDeque<u32>,
    next: usize,
}

static ALLOC: Mutex<Alloc> = Mutex::new(Alloc {
    free: VecDeque::new(),
    next: 0,
});

fn alloc_lock() -> std::sync::MutexGuard<'static, Alloc> {
    ALLOC.lock().unwrap_or_else(|e| e.into_inner())
}

/// A free slot index (the caller makes it live).
fn alloc_slot() -> Result<usize> {
    let mut a = alloc_lock();
    hazard::init_mode();
    if !cfg!(miri) && SINGLE_THREADED.load(Ordering::Relaxed).is_null() {
        if let Some(f) = crate::sys::single_threaded_flag() {
            SINGLE_THREADED.store(std::ptr::from_ref(f).cast_mut(), Ordering::SeqCst);
        }
    }
    if let Some(i) = a.free.pop_front() {
        return Ok(i as usize);
    }
    let idx = a.next;
    if idx >= MAX_SLOTS {
        return Err(Error::new(
            Status::IPCX_ERR_LIMIT,
            format!("too many open ipcx handles ({MAX_SLOTS}): close some"),
        ));
    }
    let (c, off) = place(idx);
    if off == 0 && CHUNKS[c].load(Ordering::Relaxed).is_null() {
        let chunk: Box<[Slot]> = (idx..idx + (BASE << c)).map(Slot::new).collect();
        CHUNKS[c].store(Box::leak(chunk).as_mut_ptr(), Ordering::Release);
    }
    a.next = idx + 1;
    Ok(idx)
}

fn free_slot(idx: usize) {
    alloc_lock().free.push_back(idx as u32);
}

// ---------------------------------------------------------------- handle values

#[inline(always)]
fn encode(idx: usize, generation: u32) -> usize {
    ((generation as usize) << IDX_BITS) | (idx + 1)
}

/// The slot and the generation a handle value names, if it could name one at all.
#[inline(always)]
fn decode(v: usize) -> Option<(usize, u32)> {
    let i = v & IDX_MASK;
    let generation = v >> IDX_BITS;
    if i == 0 || generation > GEN_MASK as usize {
        return None;
    }
    Some((i - 1, generation as u32))
}

#[inline(always)]
fn find<T: Handle>(p: *const T) -> Option<(&'static Slot, u32)> {
    let (idx, generation) = decode(p as usize)?;
    Some((slot_at(idx)?, tag(generation, T::KIND, LIVE)))
}

/// Turn a value into a handle. `IPCX_ERR_LIMIT` when the table is full.
pub(crate) fn into_raw<T: Handle>(value: T) -> Result<*mut T> {
    try_into_raw(value).map_err(|(e, _)| e)
}

/// [`into_raw`], giving the value back when no handle can be made (adopt functions return
/// the caller's descriptors that way).
pub(crate) fn try_into_raw<T: Handle>(value: T) -> std::result::Result<*mut T, (Error, T)> {
    const { assert!(T::KIND >= 1 && T::KIND < 64, "handle kinds are 1..=63") };
    let idx = match alloc_slot() {
        Ok(i) => i,
        Err(e) => return Err((e, value)),
    };
    let slot = slot_at(idx).expect("allocated slots exist");
    let generation = tag_gen(slot.tag.load(Ordering::Relaxed));
    slot.obj
        .store(Box::into_raw(Box::new(value)).cast(), Ordering::Relaxed);
    let d: unsafe fn(*mut ()) = drop_box::<T>;
    slot.drop_fn.store(d as *mut (), Ordering::Relaxed);
    // Publishes obj and drop_fn to whoever reads the tag.
    slot.tag
        .store(tag(generation, T::KIND, LIVE), Ordering::SeqCst);
    Ok(encode(idx, generation) as *mut T)
}

/// Turn two values into handles (the two ends of a pair): both, or neither.
pub(crate) fn into_raw_pair<A: Handle, B: Handle>(a: A, b: B) -> Result<(*mut A, *mut B)> {
    let ha = into_raw(a)?;
    match into_raw(b) {
        Ok(hb) => Ok((ha, hb)),
        Err(e) => {
            let _ = close(ha);
            Err(e)
        }
    }
}

/// # Safety
/// `p` must come from `Box::<T>::into_raw`, and be dropped once.
unsafe fn drop_box<T>(p: *mut ()) {
    // SAFETY: per the contract.
    drop(unsafe { Box::from_raw(p.cast::<T>()) });
}

// ---------------------------------------------------------------- pins

/// A pinned handle: the object stays alive (and, for one-thread types, exclusive) until the
/// guard is dropped.
pub(crate) struct Pin<T: Handle> {
    slot: &'static Slot,
    obj: *mut T,
    /// The hazard word used, or `None` for the slot's counter.
    hazard: Option<&'static AtomicUsize>,
    excl: bool,
}

impl<T: Handle> std::ops::Deref for Pin<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: pinned: the object is not freed before the guard drops.
        unsafe { &*self.obj }
    }
}

impl<T: Handle> Pin<T> {
    /// The object, mutably: only through an exclusive pin.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        debug_assert!(self.excl);
        // SAFETY: an exclusive pin: no other call holds this object.
        unsafe { &mut *self.obj }
    }
}

impl<T: Handle> Drop for Pin<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.excl {
            self.slot.busy.store(0, Ordering::Release);
        }
        unpin(self.slot, self.hazard);
    }
}

#[inline(always)]
fn unpin(slot: &'static Slot, hazard: Option<&'static AtomicUsize>) {
    match hazard {
        Some(word) => {
            word.store(0, Ordering::Release);
            hazard::reader_fence();
            let t = slot.tag.load(Ordering::Relaxed);
            if t & STATE_MASK == CLOSING {
                reclaim_if_unpinned(slot, t);
            }
        }
        None => {
            if slot.pins.fetch_sub(1, Ordering::SeqCst) == 1 {
                let t = slot.tag.load(Ordering::SeqCst);
                if t & STATE_MASK == CLOSING {
                    reclaim_if_unpinned(slot, t);
                }
            }
        }
    }
}

/// Pin a handle of a thread-safe type for a call. NULL is `IPCX_ERR_INVALID`; closed,
/// stale or foreign is `IPCX_ERR_BAD_HANDLE`; poisoned is `IPCX_ERR_INTERNAL`.
#[inline(always)]
pub(crate) fn pin<T: Shared>(p: *const T) -> Result<Pin<T>> {
    match try_pin(p) {
        Some(pinned) => Ok(pinned),
        None => pin_slow(p),
    }
}

/// Pin a handle of a one-thread type for a call: as [`pin`], and `IPCX_ERR_IN_USE` if
/// another call is inside it.
#[inline(always)]
pub(crate) fn pin_mut<T: Handle>(p: *const T) -> Result<Pin<T>> {
    match try_pin_mut(p) {
        Some(pinned) => Ok(pinned),
        None => pin_mut_slow(p),
    }
}

/// The fast path of [`pin`]: `None` when anything is unusual (the caller then calls
/// [`pin_slow`] for the error). Small, so that it inlines into every boundary function.
#[inline(always)]
pub(crate) fn try_pin<T: Shared>(p: *const T) -> Option<Pin<T>> {
    try_pin_with(p, false)
}

/// The fast path of [`pin_mut`], as [`try_pin`].
#[inline(always)]
pub(crate) fn try_pin_mut<T: Handle>(p: *const T) -> Option<Pin<T>> {
    try_pin_with(p, true)
}

#[inline(always)]
fn try_pin_with<T: Handle>(p: *const T, excl: bool) -> Option<Pin<T>> {
    let (slot, want) = find(p)?;
    let hazard = publish(slot, p as usize);
    if slot.tag.load(Ordering::SeqCst) == want && (!excl || take_busy(&slot.busy)) {
        let obj = slot.obj.load(Ordering::Relaxed).cast::<T>();
        return Some(Pin {
            slot,
            obj,
            hazard,
            excl,
        });
    }
    unpin(slot, hazard);
    None
}

/// Take a slot's `busy` flag (0 → 1); false if a call holds it. While the C library says
/// the process has one thread, no other thread can race for it: a load and a store do,
/// which a signal handler interrupting between them (the only other caller on this
/// thread) cannot break, as it runs to its end, restoring 0, before the interrupted call
/// goes on. Otherwise a compare-and-swap, whose locked instruction costs an uncontended
/// small call 2-3 ns (about a sixth of a 64-byte ring send in one process).
#[inline(always)]
fn take_busy(busy: &AtomicU32) -> bool {
    let one = SINGLE_THREADED.load(Ordering::Relaxed);
    // SAFETY: null, or the C library's flag (static, see `single_threaded_flag`).
    if !one.is_null() && unsafe { &*one }.load(Ordering::Relaxed) != 0 {
        if busy.load(Ordering::Relaxed) != 0 {
            return false;
        }
        busy.store(1, Ordering::Relaxed);
        // Keep the object's accesses after the store (a signal handler's view).
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
        return true;
    }
    busy.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
}

/// The C library's single-thread flag (null: unknown, always use the compare-and-swap);
/// set once, before the first handle is published.
static SINGLE_THREADED: AtomicPtr<AtomicU8> = AtomicPtr::new(std::ptr::null_mut());

/// Announce a pin on `slot` (handle value `v`): in a hazard word of this thread when the
/// process uses them, else in the slot's counter. The tag is read after this returns.
#[inline(always)]
fn publish(slot: &'static Slot, v: usize) -> Option<&'static AtomicUsize> {
    if hazard::mode() != hazard::COUNT {
        if let Some(word) = hazard::current().and_then(hazard::Rec::free_word) {
            word.store(v, Ordering::Relaxed);
            hazard::reader_fence();
            return Some(word);
        }
    }
    slot.pins.fetch_add(1, Ordering::SeqCst);
    None
}

/// The slow path of [`pin`]: the full check, with the error when it fails.
#[inline(never)]
#[cold]
pub(crate) fn pin_slow<T: Shared>(p: *const T) -> Result<Pin<T>> {
    pin_with(p, false)
}

/// The slow path of [`pin_mut`].
#[inline(never)]
#[cold]
pub(crate) fn pin_mut_slow<T: Handle>(p: *const T) -> Result<Pin<T>> {
    pin_with(p, true)
}

#[inline(always)]
fn pin_with<T: Handle>(p: *const T, excl: bool) -> Result<Pin<T>> {
    if let Some(pinned) = try_pin_with(p, excl) {
        return Ok(pinned);
    }
    let slot = find(p).map(|(s, _)| s);
    let busy = excl && slot.is_some_and(|s| s.busy.load(Ordering::Relaxed) != 0);
    Err(refused::<T>(p, slot, busy))
}

/// Why `p` cannot be used as a `T`.
#[cold]
#[inline(never)]
fn refused<T: Handle>(p: *const T, slot: Option<&Slot>, busy: bool) -> Error {
    if p.is_null() {
        return Error::invalid(format!("{} handle is NULL", T::NAME));
    }
    let Some(slot) = slot else {
        return Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("{p:p} is not an {} handle (never created)", T::NAME),
        );
    };
    let generation = decode(p as usize).map_or(0, |d| d.1);
    let t = slot.tag.load(Ordering::SeqCst);
    if tag_gen(t) != generation || t & STATE_MASK == FREE {
        return Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("{} handle {p:p} is closed", T::NAME),
        );
    }
    if tag_kind(t) != T::KIND {
        return Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("handle {p:p} is not an {}", T::NAME),
        );
    }
    match t & STATE_MASK {
        POISONED => Error::internal(format!(
            "{} handle {p:p} is poisoned by an earlier internal error; close it",
            T::NAME
        )),
        CLOSING => Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("{} handle {p:p} is closed", T::NAME),
        ),
        _ if busy => Error::new(
            Status::IPCX_ERR_IN_USE,
            format!(
                "{} handle {p:p} is in use by a call on another thread (a handle of this \
                 type is used by one thread at a time)",
                T::NAME
            ),
        ),
        _ => Error::new(
            Status::IPCX_ERR_BAD_HANDLE,
            format!("{} handle {p:p} changed while it was looked up", T::NAME),
        ),
    }
}

// ---------------------------------------------------------------- close

/// Close a handle: NULL is a no-op; closed, stale or foreign is `IPCX_ERR_BAD_HANDLE` and
/// nothing is freed. The object is dropped now, or by the last call still inside it.
pub(crate) fn close<T: Handle>(p: *mut T) -> Result<()> {
    drop(take(p)?);
    Ok(())
}

/// Close a handle and give its object back when nothing else holds it (for a close that
/// can report what releasing it did). `Ok(None)`: NULL, or calls on other threads are
/// still inside the object and the last of them drops it.
pub(crate) fn take<T: Handle>(p: *mut T) -> Result<Option<Box<T>>> {
    if p.is_null() {
        return Ok(None);
    }
    let Some((slot, live)) = find(p) else {
        return Err(refused::<T>(p, None, false));
    };
    let poisoned = live - LIVE + POISONED;
    let closing = live - LIVE + CLOSING;
    let mut cur = slot.tag.load(Ordering::SeqCst);
    loop {
        if cur != live && cur != poisoned {
            return Err(refused::<T>(p, Some(slot), false));
        }
        match slot
            .tag
            .compare_exchange(cur, closing, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => break,
            Err(t) => cur = t,
        }
    }
    if unpinned(slot, closing) {
        if let Some(obj) = claim(slot, closing) {
            free_slot(slot.idx);
            // SAFETY: claimed: this thread alone owns the object, a `T` by its kind.
            return Ok(Some(unsafe { Box::from_raw(obj.cast::<T>()) }));
        }
    }
    Ok(None)
}

/// Whether no call holds the CLOSING slot any more (after the closer's barrier).
fn unpinned(slot: &'static Slot, closing: u32) -> bool {
    hazard::closer_barrier()
        && slot.pins.load(Ordering::SeqCst) == 0
        && !hazard::held(encode(slot.idx, tag_gen(closing)))
}

/// Move a CLOSING slot to FREE (next generation) and take its object: `None` if someone
/// else already did.
fn claim(slot: &'static Slot, closing: u32) -> Option<*mut ()> {
    let next = tag((tag_gen(closing) + 1) & GEN_MASK, 0, FREE);
    slot.tag
        .compare_exchange(closing, next, Ordering::SeqCst, Ordering::Relaxed)
        .ok()?;
    Some(slot.obj.swap(std::ptr::null_mut(), Ordering::AcqRel))
}

#[cold]
#[inline(never)]
fn reclaim_if_unpinned(slot: &'static Slot, closing: u32) {
    if !unpinned(slot, closing) {
        return;
    }
    if let Some(obj) = claim(slot, closing) {
        let d = slot.drop_fn.load(Ordering::Relaxed);
        // SAFETY: `drop_fn` was stored with this object by `into_raw` (the tag's SeqCst
        // store published it) from an `unsafe fn(*mut ())` that drops it.
        let d: unsafe fn(*mut ()) = unsafe { std::mem::transmute::<*mut (), _>(d) };
        // A release deferred to the last call: its errors cannot be reported, and a panic
        // must not escape into that call.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { d(obj) }));
        free_slot(slot.idx);
    }
}

// ---------------------------------------------------------------- poison

/// Poison a handle: a call on it panicked. Later calls get `IPCX_ERR_INTERNAL`; close
/// still works.
pub(crate) fn poison(v: usize) {
    let Some((idx, generation)) = decode(v) else {
        return;
    };
    let Some(slot) = slot_at(idx) else { return };
    let t = slot.tag.load(Ordering::SeqCst);
    if tag_gen(t) == generation && t & STATE_MASK == LIVE {
        let _ =
            slot.tag
                .compare_exchange(t, t - LIVE + POISONED, Ordering::SeqCst, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    /// Counts its drops, to prove an object is released exactly once.
    struct Obj(Arc<AtomicUsize>, u64);
    impl Drop for Obj {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    impl Handle for Obj {
        const KIND: u32 = 61;
        const NAME: &'static str = "obj";
    }
    impl Shared for Obj {}

    struct Other;
    impl Handle for Other {
        const KIND: u32 = 62;
        const NAME: &'static str = "other";
    }

    fn status<T>(r: Result<T>) -> Status {
        match r {
            Ok(_) => Status::IPCX_OK,
            Err(e) => e.status,
        }
    }

    fn scale(n: usize) -> usize {
        if cfg!(miri) { (n / 100).max(4) } else { n }
    }

    #[test]
    fn stale_handle_after_reuse_is_refused() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = into_raw(Obj(drops.clone(), 1)).unwrap();
        close(a).unwrap();
        // Reuse until the same slot comes back (oldest-freed first: it may take a while
        // when other tests freed slots meanwhile).
        let mut held = Vec::new();
        let b = loop {
            let b = into_raw(Obj(drops.clone(), 2)).unwrap();
            if decode(b as usize).unwrap().0 == decode(a as usize).unwrap().0 {
                break b;
            }
            held.push(b);
        };
        assert_ne!(a, b);
        assert_eq!(status(pin(a)), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(status(pin_mut(a)), Status::IPCX_ERR_BAD_HANDLE);
        // The stale handle cannot close the new object.
        assert_eq!(status(close(a)), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(pin(b).unwrap().1, 2);
        close(b).unwrap();
        for h in held {
            close(h).unwrap();
        }
    }

    #[test]
    fn double_close_wrong_type_null_and_garbage() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = into_raw(Obj(drops.clone(), 1)).unwrap();
        assert_eq!(
            status(pin_mut(a as *const Other)),
            Status::IPCX_ERR_BAD_HANDLE
        );
        assert_eq!(status(close(a as *mut Other)), Status::IPCX_ERR_BAD_HANDLE);
        close(a).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(status(close(a)), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(
            status(pin::<Obj>(std::ptr::null())),
            Status::IPCX_ERR_INVALID
        );
        assert!(close::<Obj>(std::ptr::null_mut()).is_ok());
        for v in [1usize, 0x7fff_ffff, usize::MAX, 12345 << IDX_BITS] {
            assert_eq!(
                status(pin(v as *const Obj)),
                Status::IPCX_ERR_BAD_HANDLE,
                "{v:#x}"
            );
            assert_eq!(status(close(v as *mut Obj)), Status::IPCX_ERR_BAD_HANDLE);
        }
    }

    #[test]
    fn exclusive_calls_exclude_each_other() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = into_raw(Obj(drops.clone(), 1)).unwrap();
        let p = pin_mut(a).unwrap();
        assert_eq!(status(pin_mut(a)), Status::IPCX_ERR_IN_USE);
        drop(p);
        drop(pin_mut(a).unwrap());
        close(a).unwrap();
    }

    #[test]
    fn close_while_pinned_defers_the_release() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = into_raw(Obj(drops.clone(), 1)).unwrap();
        let p1 = pin(a).unwrap();
        let p2 = pin(a).unwrap();
        assert!(take(a).unwrap().is_none());
        assert_eq!(status(pin(a)), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!(status(close(a)), Status::IPCX_ERR_BAD_HANDLE);
        assert_eq!((p1.1, p2.1), (1, 1));
        drop(p1);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(p2);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn poisoned_handles_report_internal_and_still_close() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = into_raw(Obj(drops.clone(), 1)).unwrap();
        poison(a as usize);
        assert_eq!(status(pin(a)), Status::IPCX_ERR_INTERNAL);
        close(a).unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn many_handles_every_one_found() {
        let drops = Arc::new(AtomicUsize::new(0));
        let n = scale(20_000);
        let hs: Vec<*mut Obj> = (0..n)
            .map(|i| into_raw(Obj(drops.clone(), i as u64)).unwrap())
            .collect();
        for (i, &h) in hs.iter().enumerate() {
            assert_eq!(pin(h).unwrap().1, i as u64);
        }
        for &h in &hs {
            close(h).unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), n);
    }

    #[test]
    fn slot_placement_is_dense() {
        let mut next = 0;
        for c in 0..6 {
            for off in 0..BASE << c {
                assert_eq!(place(next), (c, off));
                next += 1;
            }
        }
    }

    /// Four threads call on one handle while a fifth closes it: every call either gets in
    /// and sees a live object, or is refused with BAD_HANDLE; the object is dropped once,
    /// after the last call.
    #[test]
    fn close_racing_four_calling_threads() {
        for _round in 0..scale(200) {
            let drops = Arc::new(AtomicUsize::new(0));
            let a = into_raw(Obj(drops.clone(), 42)).unwrap() as usize;
            let stop = Arc::new(AtomicBool::new(false));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (stop, drops) = (stop.clone(), drops.clone());
                    std::thread::spawn(move || {
                        let mut ok = 0;
                        loop {
                            match pin(a as *const Obj) {
                                Ok(p) => {
                                    assert_eq!(p.1, 42);
                                    assert_eq!(drops.load(Ordering::SeqCst), 0);
                                    ok += 1;
                                }
                                Err(e) => {
                                    assert_eq!(e.status, Status::IPCX_ERR_BAD_HANDLE);
                                    return ok;
                                }
                            }
                            if stop.load(Ordering::Relaxed) && ok > 1_000_000 {
                                return ok;
                            }
                        }
                    })
                })
                .collect();
            std::thread::yield_now();
            close(a as *mut Obj).unwrap();
            stop.store(true, Ordering::Relaxed);
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    }
}
