// SPDX-License-Identifier: MIT OR Apache-2.0
//! Names (paths, POSIX IPC names, abstract names, C strings): see src/fuzz/names.rs.
#![no_main]
#[global_allocator]
static ALLOC: ipcx::fuzz::LimitAlloc = ipcx::fuzz::LimitAlloc;
libfuzzer_sys::fuzz_target!(|data: &[u8]| ipcx::fuzz::names::run(data));
