// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz harnesses (compiled with `--cfg fuzzing` by the `fuzz/` package, and into the
//! unit tests, which replay the committed corpus; see docs/testing.md). Each `run` takes
//! the fuzzer's bytes, drives one parser of peer-controlled data, and checks what it
//! returned against a model: any difference, a panic (overflow checks and debug
//! assertions are on in the fuzz build), or an out-of-bounds access is a finding. Nothing
//! here is part of the library's release build or its header.
//!
//! The ring's harness lives in `src/ring/fuzz.rs` (it needs the ring's private items).

pub mod addr;
pub mod cmsg;
pub mod frame;
pub mod msgq;
pub mod names;
pub mod peer;

pub use crate::ring::fuzz as ring;

/// A cursor over the fuzzer's bytes; reads past the end give zeroes.
pub(crate) struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data, at: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.at >= self.data.len()
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) | (self.u32() as u64) << 32
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.at.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.at = end.max(self.at.saturating_add(0));
        &self.data[start..end]
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(usize::MAX)
    }
}

/// The largest single allocation a harness may see. A parser that sizes an allocation
/// from a peer's length field (a 4 GiB frame header, a ring index past the end) trips it.
const ALLOC_LIMIT: usize = 4 << 20;

/// A global allocator for the fuzz binaries: the system allocator, aborting (libFuzzer
/// reports the input as a crash) on any allocation above [`ALLOC_LIMIT`].
pub struct LimitAlloc;

// SAFETY: forwards to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for LimitAlloc {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        check_size(l.size());
        // SAFETY: same contract.
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        check_size(l.size());
        // SAFETY: same contract.
        unsafe { std::alloc::System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        // SAFETY: same contract.
        unsafe { std::alloc::System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        check_size(n);
        // SAFETY: same contract.
        unsafe { std::alloc::System.realloc(p, l, n) }
    }
}

fn check_size(n: usize) {
    if n > ALLOC_LIMIT {
        // No allocation (and no formatting that allocates) from inside the allocator.
        let msg = b"ipcx fuzz: allocation above ALLOC_LIMIT\n";
        // SAFETY: writing a static buffer to stderr.
        unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    type Harness = (&'static str, fn(&[u8]));

    /// The harnesses and their corpus directories.
    const TARGETS: [Harness; 8] = [
        ("frame", super::frame::run),
        ("ring", super::ring::run),
        ("names", super::names::run),
        ("addr", super::addr::run),
        ("msgq", super::msgq::run),
        ("cmsg", super::cmsg::run),
        ("sp", super::peer::run_sp),
        ("zmtp", super::peer::run_zmtp),
    ];

    /// Every committed corpus input (seeds, and the regression inputs of past findings)
    /// through its harness, without libFuzzer. Runs in a child process (this test binary
    /// again, one test, one thread): the cmsg harness counts the process's descriptors,
    /// which other tests running in parallel would change.
    #[test]
    fn fuzz_corpus_replays() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "fuzz::tests::replay_child",
                "--ignored",
                "--test-threads=1",
            ])
            .args(["--nocapture", "-q"])
            .env("IPCX_FUZZ_REPLAY", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "corpus replay failed:\n{text}");
        assert!(text.contains("1 passed"), "the replay did not run:\n{text}");
    }

    #[test]
    #[ignore = "run by fuzz_corpus_replays in a child process"]
    fn replay_child() {
        if std::env::var_os("IPCX_FUZZ_REPLAY").is_none() {
            return;
        }
        // Removes the System V queue of the msgq harness even when an input fails.
        struct Close;
        impl Drop for Close {
            fn drop(&mut self) {
                super::msgq::close();
            }
        }
        let _close = Close;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in TARGETS {
            let mut files: Vec<_> = std::fs::read_dir(root.join(target))
                .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
            for f in files {
                println!("{}", f.display());
                run(&std::fs::read(&f).unwrap());
            }
        }
    }
}
