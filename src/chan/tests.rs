// SPDX-License-Identifier: MIT OR Apache-2.0
use super::*;

fn pid_name(tag: &str) -> String {
    format!("/ipcx-unit-chan-{}-{tag}", std::process::id())
}

#[test]
fn pairs_carry_messages_and_close() {
    for a in ["pipe:", "unix:", "shm:"] {
        let o = Options {
            capacity: Some(64 * 1024),
            ..Options::default()
        };
        let (mut s, mut r) = Chan::pair(a, &o).unwrap();
        for i in 0..100u32 {
            s.send(&i.to_le_bytes(), 1000).unwrap();
        }
        let mut buf = [0u8; 16];
        for i in 0..100u32 {
            let n = r.recv(&mut buf, 1000).unwrap();
            assert_eq!(&buf[..n], &i.to_le_bytes(), "{a}");
        }
        // Wrong role.
        assert_eq!(
            s.recv(&mut buf, 0).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        assert_eq!(
            r.send(b"x", 0).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        assert!(r.recv(&mut buf, 0).unwrap_err().is_timeout());
        drop(s);
        let e = r.recv(&mut buf, 5000).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{a}: {}", e.msg);
    }
}

#[test]
fn fan_in_serves_every_sender_in_order() {
    let addr = format!("unix:@ipcx-unit-chan-{}", std::process::id());
    let mut r = Chan::open(&addr, RECV, &Options::default(), &Deadline::now()).unwrap();
    // Every sender connects before any sends: a receiver whose senders have all come and
    // gone reports CLOSED, so a sender that connected late could find the receiver done.
    let all_connected = std::sync::Arc::new(std::sync::Barrier::new(3));
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let addr = addr.clone();
            let all_connected = all_connected.clone();
            std::thread::spawn(move || {
                let dl = Deadline::from_ms(5000).unwrap();
                let mut s = Chan::open(&addr, SEND, &Options::default(), &dl).unwrap();
                all_connected.wait();
                for i in 0..500u32 {
                    let mut m = [0u8; 8];
                    m[..4].copy_from_slice(&t.to_le_bytes());
                    m[4..].copy_from_slice(&i.to_le_bytes());
                    s.send(&m, 5000).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u32; 3];
    let mut buf = [0u8; 8];
    for _ in 0..1500 {
        let n = r.recv(&mut buf, 5000).unwrap();
        assert_eq!(n, 8);
        let t = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
        let i = u32::from_le_bytes(buf[4..].try_into().unwrap());
        assert_eq!(i, next[t]);
        next[t] += 1;
    }
    for t in threads {
        t.join().unwrap();
    }
    let e = r.recv(&mut buf, 5000).unwrap_err();
    assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{}", e.msg);
}

#[test]
fn sender_waits_for_the_object_then_times_out() {
    let addr = format!("mq:{}", pid_name("absent"));
    let t0 = std::time::Instant::now();
    let e = Chan::open(
        &addr,
        SEND,
        &Options::default(),
        &Deadline::from_ms(50).unwrap(),
    )
    .err()
    .unwrap();
    assert!(e.is_timeout(), "{}", e.msg);
    assert!(e.msg.contains("nothing to open"), "{}", e.msg);
    assert!(t0.elapsed() >= Duration::from_millis(50));
}

#[test]
fn receiver_removes_what_it_created() {
    let name = pid_name("ring");
    let addr = format!("shm:{name}");
    let o = Options {
        capacity: Some(4096),
        ..Options::default()
    };
    let r = Chan::open(&addr, RECV, &o, &Deadline::now()).unwrap();
    assert!(r.removes_on_close());
    let mut s = Chan::open(&addr, SEND, &o, &Deadline::now()).unwrap();
    s.send(b"hi", 0).unwrap();
    r.close().unwrap();
    let e = Chan::open(&addr, SEND, &o, &Deadline::now()).err().unwrap();
    assert!(e.is_timeout(), "{}", e.msg);
}

#[test]
fn unsupported_options_name_the_transport() {
    let o = Options {
        spin_ns: Some(0),
        ..Options::default()
    };
    let e = Chan::pair("pipe:", &o).err().unwrap();
    assert!(
        e.msg.contains("'spin'") && e.msg.contains("pipe: pairs"),
        "{}",
        e.msg
    );
    let o = Options {
        max_message: Some(5000),
        ..Options::default()
    };
    let e = Chan::open("fifo:/tmp/ipcx-unit-nope", RECV, &o, &Deadline::now())
        .err()
        .unwrap();
    assert!(e.msg.contains("4092"), "{}", e.msg);
}
