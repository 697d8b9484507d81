// SPDX-License-Identifier: MIT OR Apache-2.0
//! Descriptor passing (control data, hand-over): see src/fuzz/cmsg.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::cmsg::run(data));
