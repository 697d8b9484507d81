// SPDX-License-Identifier: MIT OR Apache-2.0
//! The iceoryx2 side of bench_ring: an iceoryx2 0.10 publish/subscribe pair measured the way
//! bench_ring measures its rings, so that bench_ring can print same-run ratios.
//!
//!   bench_iceoryx2 rt  SIZE ITERS CHILD_CPU   round trips: the parent (CPU0) publishes on
//!                                             "ping", the child echoes on "pong"; busy
//!                                             polling on both sides; warm-up ITERS/10+10
//!   bench_iceoryx2 thr SIZE COUNT CHILD_CPU   one way: the child publishes COUNT messages,
//!                                             the parent receives them busy-polling and
//!                                             checks the sequence number in every one
//!
//! SIZE is 64 or 65536 (a `[u8; SIZE]` payload). The subscriber's buffer holds as many
//! messages as bench_ring's rings (1 MiB of data: 16384 x 64 B, 16 x 64 KiB), overflow is
//! off and the publisher retries until delivered (back-pressure instead of loss). The
//! sender copies the whole message into the loaned sample; the receiver reads the
//! sequence number in place (zero-copy, like ipcx_ring_borrow).
//!
//! Prints one machine-readable line on stdout:
//!   iceoryx2 rt size=64 iters=20000 median_us=0.512 p99_us=0.900
//!   iceoryx2 thr size=64 count=1000000 msg_per_s=2345678.0
//! and exits non-zero (with the reason on stderr) if anything fails.

use core::fmt::Debug;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe::PortFactory as PsFactory;
use iceoryx2_bb_system_types::{file_name::FileName, path::Path};
use std::process::{Command, ExitCode};
use std::time::Instant;

const RING_BYTES: usize = 1 << 20;

fn die<E: Debug>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, core::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("bench_iceoryx2: sched_setaffinity({cpu}) failed");
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn ticks() -> u64 {
    // SAFETY: rdtsc has no preconditions.
    unsafe { core::arch::x86_64::_rdtsc() }
}
#[cfg(not(target_arch = "x86_64"))]
fn ticks() -> u64 {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn ns_per_tick() -> f64 {
    let n0 = Instant::now();
    let t0 = ticks();
    while n0.elapsed().as_millis() < 50 {}
    n0.elapsed().as_nanos() as f64 / (ticks() - t0) as f64
}

type Ps<const N: usize> = PsFactory<ipc::Service, [u8; N], ()>;

fn service<const N: usize>(
    node: &Node<ipc::Service>,
    name: &str,
    create: bool,
) -> Result<Ps<N>, String> {
    let sn: ServiceName = name.try_into().map_err(die("service name"))?;
    let b = node
        .service_builder(&sn)
        .publish_subscribe::<[u8; N]>()
        .enable_safe_overflow(false)
        .subscriber_max_buffer_size((RING_BYTES / N).max(2))
        .history_size(0)
        .max_publishers(1)
        .max_subscribers(1);
    if create {
        b.create().map_err(die("service create"))
    } else {
        b.open().map_err(die("service open"))
    }
}

/// The run's name: the parent's `ipcx-bench-PID`.
fn run_base() -> String {
    format!("ipcx-bench-{}", std::process::id())
}

/// The default configuration, except where it keeps its files: a prefix of the run's own in
/// /dev/shm (`iox2_BASE_`) and a root directory of its own (`/tmp/BASE/`), which the parent
/// removes at the end ([`cleanup`]). iceoryx2 keeps machine-wide state there (its global
/// management segment, node and service directories) that outlives its nodes; with the
/// defaults a run would leave it behind and share it with every other iceoryx2 program.
fn config(base: &str) -> Result<Config, String> {
    let mut c = Config::default();
    c.global.prefix = FileName::new(format!("iox2_{base}_").as_bytes()).map_err(die("prefix"))?;
    c.global
        .set_root_path(&Path::new(format!("/tmp/{base}/").as_bytes()).map_err(die("root path"))?);
    Ok(c)
}

/// Remove what the run's iceoryx2 nodes left: the files with its prefix in /dev/shm and its
/// root directory.
fn cleanup(base: &str) {
    let prefix = format!("iox2_{base}_");
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        for e in dir.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir_all(format!("/tmp/{base}"));
}

fn node(base: &str) -> Result<Node<ipc::Service>, String> {
    NodeBuilder::new()
        .config(&config(base)?)
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<ipc::Service>()
        .map_err(die("node"))
}

/// Publish `src` with `seq` in its first 8 bytes; `Ok(false)` if no subscriber got it.
fn publish<const N: usize>(
    p: &iceoryx2::port::publisher::Publisher<ipc::Service, [u8; N], ()>,
    src: &[u8; N],
    seq: u64,
) -> Result<bool, String> {
    let mut s = p.loan_uninit().map_err(die("loan"))?;
    let d = s.payload_mut().as_mut_ptr() as *mut u8;
    // SAFETY: the loaned payload is N writable bytes; all of them are written before
    // assume_init.
    let s = unsafe {
        core::ptr::copy_nonoverlapping(src.as_ptr(), d, N);
        core::ptr::copy_nonoverlapping(seq.to_ne_bytes().as_ptr(), d, 8);
        s.assume_init()
    };
    Ok(s.send().map_err(die("send"))? > 0)
}

/// Busy-poll for the next message; returns its sequence number.
fn take<const N: usize>(
    s: &iceoryx2::port::subscriber::Subscriber<ipc::Service, [u8; N], ()>,
) -> Result<u64, String> {
    loop {
        if let Some(m) = s.receive().map_err(die("receive"))? {
            let mut b = [0u8; 8];
            b.copy_from_slice(&m.payload()[..8]);
            return Ok(u64::from_ne_bytes(b));
        }
        core::hint::spin_loop();
    }
}

/// Publish until a subscriber has it: the first message (the other side may still be
/// connecting) and, one way, every message (a full buffer of 64 KiB samples can make send
/// report no delivery: the message is then sent again, so none is lost).
fn publish_first<const N: usize>(
    p: &iceoryx2::port::publisher::Publisher<ipc::Service, [u8; N], ()>,
    src: &[u8; N],
    seq: u64,
) -> Result<(), String> {
    let t0 = Instant::now();
    while !publish(p, src, seq)? {
        if t0.elapsed().as_secs() > 20 {
            return Err("no subscriber connected within 20 s".into());
        }
        std::thread::yield_now();
    }
    Ok(())
}

fn spawn_child(
    mode: &str,
    size: usize,
    count: usize,
    cpu: usize,
    base: &str,
) -> Result<std::process::Child, String> {
    let exe = std::env::current_exe().map_err(die("current_exe"))?;
    Command::new(exe)
        .args([
            "child",
            mode,
            &size.to_string(),
            &count.to_string(),
            &cpu.to_string(),
            base,
        ])
        .spawn()
        .map_err(die("spawn child"))
}

fn wait_child(mut c: std::process::Child) -> Result<(), String> {
    let st = c.wait().map_err(die("wait child"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("child: {st}"))
    }
}

fn parent_rt<const N: usize>(iters: usize, cpu: usize) -> Result<(), String> {
    pin(0);
    let base = run_base();
    let node = node(&base)?;
    let ping = service::<N>(&node, &format!("{base}/ping"), true)?;
    let pong = service::<N>(&node, &format!("{base}/pong"), true)?;
    let tx = ping
        .publisher_builder()
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(die("publisher"))?;
    let rx = pong
        .subscriber_builder()
        .create()
        .map_err(die("subscriber"))?;
    let child = spawn_child("rt", N, iters, cpu, &base)?;
    // The child announces itself on pong once its ping subscriber exists.
    if take(&rx)? != u64::MAX {
        return Err("handshake".into());
    }
    let npt = ns_per_tick();
    let src = Box::new([0u8; N]);
    let warm = iters / 10 + 10;
    let mut t = Vec::with_capacity(iters);
    for i in 0..warm + iters {
        let t0 = ticks();
        if !publish(&tx, &src, i as u64)? {
            return Err("ping not delivered".into());
        }
        if take(&rx)? != i as u64 {
            return Err("echo sequence".into());
        }
        if i >= warm {
            t.push(ticks() - t0);
        }
    }
    wait_child(child)?;
    t.sort_unstable();
    let us = |x: u64| x as f64 * npt / 1000.0;
    println!(
        "iceoryx2 rt size={N} iters={iters} median_us={:.4} p99_us={:.4}",
        us(t[iters / 2]),
        us(t[iters * 99 / 100])
    );
    Ok(())
}

fn child_rt<const N: usize>(iters: usize, base: &str) -> Result<(), String> {
    let node = node(base)?;
    let ping = service::<N>(&node, &format!("{base}/ping"), false)?;
    let pong = service::<N>(&node, &format!("{base}/pong"), false)?;
    let rx = ping
        .subscriber_builder()
        .create()
        .map_err(die("subscriber"))?;
    let tx = pong
        .publisher_builder()
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(die("publisher"))?;
    let mut buf = Box::new([0u8; N]);
    publish_first(&tx, &buf, u64::MAX)?;
    let warm = iters / 10 + 10;
    for _ in 0..warm + iters {
        // Echo: the received bytes copied into the reply, like bench_ring's copy echo.
        let m = loop {
            if let Some(m) = rx.receive().map_err(die("receive"))? {
                break m;
            }
            core::hint::spin_loop();
        };
        buf.copy_from_slice(m.payload());
        drop(m);
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[..8]);
        if !publish(&tx, &buf, u64::from_ne_bytes(b))? {
            return Err("pong not delivered".into());
        }
    }
    Ok(())
}

fn parent_thr<const N: usize>(count: usize, cpu: usize) -> Result<(), String> {
    pin(0);
    let base = run_base();
    let node = node(&base)?;
    let s = service::<N>(&node, &format!("{base}/data"), true)?;
    let rx = s.subscriber_builder().create().map_err(die("subscriber"))?;
    let child = spawn_child("thr", N, count, cpu, &base)?;
    if take(&rx)? != 0 {
        return Err("sequence".into());
    }
    let t0 = Instant::now(); // from the first message on, like bench_ring
    for i in 1..count {
        if take(&rx)? != i as u64 {
            return Err(format!("sequence at {i}"));
        }
    }
    let rate = (count - 1) as f64 / t0.elapsed().as_secs_f64();
    wait_child(child)?;
    println!("iceoryx2 thr size={N} count={count} msg_per_s={rate:.1}");
    Ok(())
}

fn child_thr<const N: usize>(count: usize, base: &str) -> Result<(), String> {
    let node = node(base)?;
    let s = service::<N>(&node, &format!("{base}/data"), false)?;
    let tx = s
        .publisher_builder()
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(die("publisher"))?;
    let src = Box::new([0u8; N]);
    publish_first(&tx, &src, 0)?;
    for i in 1..count {
        publish_first(&tx, &src, i as u64)?;
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    let usage = || "usage: bench_iceoryx2 rt|thr SIZE(64|65536) COUNT CHILD_CPU".to_string();
    let num = |i: usize| -> Result<usize, String> {
        args.get(i).and_then(|s| s.parse().ok()).ok_or_else(usage)
    };
    if args.get(1).map(String::as_str) == Some("child") {
        let (mode, size, count, cpu) = (
            args.get(2).cloned().unwrap_or_default(),
            num(3)?,
            num(4)?,
            num(5)?,
        );
        let base = args.get(6).ok_or_else(usage)?;
        pin(cpu);
        return match (mode.as_str(), size) {
            ("rt", 64) => child_rt::<64>(count, base),
            ("rt", 65536) => child_rt::<65536>(count, base),
            ("thr", 64) => child_thr::<64>(count, base),
            ("thr", 65536) => child_thr::<65536>(count, base),
            _ => Err(usage()),
        };
    }
    let (mode, size, count, cpu) = (
        args.get(1).cloned().unwrap_or_default(),
        num(2)?,
        num(3)?,
        num(4)?,
    );
    if count < 2 {
        return Err(usage());
    }
    let r = match (mode.as_str(), size) {
        ("rt", 64) => parent_rt::<64>(count, cpu),
        ("rt", 65536) => parent_rt::<65536>(count, cpu),
        ("thr", 64) => parent_thr::<64>(count, cpu),
        ("thr", 65536) => parent_thr::<65536>(count, cpu),
        _ => Err(usage()),
    };
    // The nodes are gone (the child has exited, the parent's node was dropped).
    cleanup(&run_base());
    r
}

fn main() -> ExitCode {
    // Errors only: the default configuration (no config file) is what is measured, with
    // the run's files in places of its own (see `config`).
    set_log_level(LogLevel::Error);
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_iceoryx2: {e}");
            ExitCode::FAILURE
        }
    }
}
