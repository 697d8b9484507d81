// SPDX-License-Identifier: MIT OR Apache-2.0
//! A small Rust static library with its own copy of std (allocator, panics and unwinding,
//! threads), linked into the same C program as libipcx.a by tests/downstream/run.sh.

use std::panic;

/// The sum 1 + 2 + ... + n, computed on another thread; 0 when n is 0 (a panic caught
/// inside this library: its unwinder and personality routine at work).
#[no_mangle]
pub extern "C" fn other_rust_sum(n: u32) -> u64 {
    panic::set_hook(Box::new(|_| {}));
    let r = panic::catch_unwind(|| {
        if n == 0 {
            panic!("nothing to add");
        }
        std::thread::spawn(move || (1..=u64::from(n)).collect::<Vec<_>>().iter().sum())
            .join()
            .unwrap_or(0)
    });
    r.unwrap_or(0)
}
