// SPDX-License-Identifier: MIT OR Apache-2.0
//! System V message selection against a model of msgrcv(2): see src/fuzz/msgq.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::msgq::run(data));
