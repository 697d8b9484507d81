// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared-memory rings under a hostile peer: see src/ring/fuzz.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::ring::run(data));
