// SPDX-License-Identifier: MIT OR Apache-2.0
//! Address strings and sockaddrs, both ways: see src/fuzz/addr.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::addr::run(data));
