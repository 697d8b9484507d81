// SPDX-License-Identifier: MIT OR Apache-2.0
use super::*;
use crate::error::Status;
use crate::time::ms;

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
            s.send(&i.to_le_bytes(), ms(1000)).unwrap();
        }
        let mut buf = [0u8; 16];
        for i in 0..100u32 {
            let n = r.recv(&mut buf, ms(1000)).unwrap();
            assert_eq!(&buf[..n], &i.to_le_bytes(), "{a}");
        }
        // Wrong role.
        assert_eq!(
            s.recv(&mut buf, ms(0)).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        assert_eq!(
            r.send(b"x", ms(0)).unwrap_err().status,
            Status::IPCX_ERR_INVALID
        );
        assert!(r.recv(&mut buf, ms(0)).unwrap_err().is_timeout());
        drop(s);
        let e = r.recv(&mut buf, ms(5000)).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{a}: {}", e.msg);
    }
}

#[test]
fn fan_in_serves_every_sender_in_order() {
    let addr = format!("unix:@ipcx-unit-chan-{}", std::process::id());
    let mut r = open_default(&addr, Role::Recv, ChanFlags::NONE, &Deadline::now()).unwrap();
    // Every sender connects before any sends: a receiver whose senders have all come and
    // gone reports CLOSED, so a sender that connected late could find the receiver done.
    let all_connected = std::sync::Arc::new(std::sync::Barrier::new(3));
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let addr = addr.clone();
            let all_connected = all_connected.clone();
            std::thread::spawn(move || {
                let dl = Deadline::from_ms(5000).unwrap();
                let mut s =
                    Chan::open(&addr, Role::Send, ChanFlags::NONE, &Options::default(), &dl)
                        .unwrap();
                all_connected.wait();
                for i in 0..500u32 {
                    let mut m = [0u8; 8];
                    m[..4].copy_from_slice(&t.to_le_bytes());
                    m[4..].copy_from_slice(&i.to_le_bytes());
                    s.send(&m, ms(5000)).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0u32; 3];
    let mut buf = [0u8; 8];
    for _ in 0..1500 {
        let n = r.recv(&mut buf, ms(5000)).unwrap();
        assert_eq!(n, 8);
        let t = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
        let i = u32::from_le_bytes(buf[4..].try_into().unwrap());
        assert_eq!(i, next[t]);
        next[t] += 1;
    }
    for t in threads {
        t.join().unwrap();
    }
    let e = r.recv(&mut buf, ms(5000)).unwrap_err();
    assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{}", e.msg);
}

#[test]
fn sender_waits_for_the_object_then_times_out() {
    let addr = format!("mq:{}", pid_name("absent"));
    let t0 = std::time::Instant::now();
    let e = open_default(
        &addr,
        Role::Send,
        ChanFlags::NONE,
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
    let r = Chan::open(&addr, Role::Recv, ChanFlags::NONE, &o, &Deadline::now()).unwrap();
    assert!(r.removes_on_close());
    let mut s = Chan::open(&addr, Role::Send, ChanFlags::NONE, &o, &Deadline::now()).unwrap();
    s.send(b"hi", ms(0)).unwrap();
    r.close().unwrap();
    let e = Chan::open(&addr, Role::Send, ChanFlags::NONE, &o, &Deadline::now())
        .err()
        .unwrap();
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
    let e = Chan::open(
        "fifo:/tmp/ipcx-unit-nope",
        Role::Recv,
        ChanFlags::NONE,
        &o,
        &Deadline::now(),
    )
    .err()
    .unwrap();
    assert!(e.msg.contains("4092"), "{}", e.msg);
}

/// Every peer scheme, ipcx on both ends, over TCP and IPC.
fn peer_addrs(tag: &str) -> Vec<String> {
    let pid = std::process::id();
    vec![
        "nng+tcp:127.0.0.1:0".to_string(),
        format!("nng+ipc:@ipcx-unit-{pid}-{tag}-n"),
        format!("nng+ipc:/tmp/ipcx-unit-{pid}-{tag}-n"),
        "zmq+tcp:127.0.0.1:0".to_string(),
        format!("zmq+ipc:@ipcx-unit-{pid}-{tag}-z"),
        format!("zmq+ipc:/tmp/ipcx-unit-{pid}-{tag}-z"),
    ]
}

fn address_of(c: &Chan) -> String {
    c.address().to_str().unwrap().to_string()
}

/// Open one end with the default options.
fn open_default(a: &str, role: Role, flags: ChanFlags, dl: &Deadline) -> Result<Chan> {
    Chan::open(a, role, flags, &Options::default(), dl)
}

#[test]
fn peer_wires_carry_messages_both_ways_round() {
    for a in peer_addrs("both") {
        // The channel model: the receiver listens, senders connect.
        let mut r = open_default(&a, Role::Recv, ChanFlags::NONE, &Deadline::now()).unwrap();
        let at = address_of(&r);
        let mut s = open_default(
            &at,
            Role::Send,
            ChanFlags::NONE,
            &Deadline::from_ms(5000).unwrap(),
        )
        .unwrap();
        // The receiver accepts (and answers the handshake) when it receives: a ZMTP
        // sender's first send waits for that answer.
        assert!(r.recv(&mut [0u8; 1], ms(0)).unwrap_err().is_timeout());
        let big = vec![7u8; 300_000];
        let msgs: Vec<Vec<u8>> = vec![b"hello".to_vec(), vec![], big, vec![1; 255], vec![2; 256]];
        let sent = msgs.clone();
        let t = std::thread::spawn(move || {
            for m in &sent {
                s.send(m, ms(5000)).unwrap();
            }
            s
        });
        let mut buf = vec![0u8; 400_000];
        for m in &msgs {
            let n = r.recv(&mut buf, ms(5000)).unwrap();
            assert_eq!(&buf[..n], &m[..], "{a}");
        }
        let mut s = t.join().unwrap();
        // Too small a buffer: the size needed, the message stays.
        s.send(b"0123456789", ms(5000)).unwrap();
        let e = r.recv(&mut buf[..3], ms(5000)).unwrap_err();
        assert_eq!((e.status, e.needed), (Status::IPCX_ERR_TOO_BIG, 10), "{a}");
        assert_eq!(r.recv(&mut buf, ms(5000)).unwrap(), 10);
        drop(s);
        let e = r.recv(&mut buf, ms(5000)).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{a}: {}", e.msg);
        drop(r);
        // Reversed: the sender listens, the receiver connects.
        let mut s = open_default(&a, Role::Send, ChanFlags::LISTEN, &Deadline::now()).unwrap();
        let at = address_of(&s);
        let mut r = open_default(
            &at,
            Role::Recv,
            ChanFlags::DIAL,
            &Deadline::from_ms(5000).unwrap(),
        )
        .unwrap();
        for i in 0..100u32 {
            s.send(&i.to_le_bytes(), ms(5000)).unwrap();
        }
        for i in 0..100u32 {
            let n = r.recv(&mut buf, ms(5000)).unwrap();
            assert_eq!(&buf[..n], &i.to_le_bytes(), "{a}");
        }
        drop(s);
        let e = r.recv(&mut buf, ms(5000)).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{a}: {}", e.msg);
    }
}

#[test]
fn peer_wires_refuse_the_wrong_peer() {
    for a in peer_addrs("wrong") {
        // Two senders: one listens, the other connects to it; both are PUSH sockets.
        let mut s = open_default(&a, Role::Send, ChanFlags::LISTEN, &Deadline::now()).unwrap();
        let at = address_of(&s);
        let mut s2 = open_default(
            &at,
            Role::Send,
            ChanFlags::NONE,
            &Deadline::from_ms(2000).unwrap(),
        )
        .unwrap();
        // The listening sender reads the hello, refuses the PUSH peer and closes: the
        // connecting one learns it from the first send that reads the answer.
        assert!(s.send(b"x", ms(100)).unwrap_err().is_timeout());
        let e = loop {
            match s2.send(&[0u8; 1000], ms(100)) {
                Ok(()) => {}
                Err(e) => break e,
            }
        };
        assert!(
            matches!(
                e.status,
                Status::IPCX_ERR_PROTOCOL | Status::IPCX_ERR_CLOSED
            ),
            "{a}: {:?} {}",
            e.status,
            e.msg
        );
        drop(s);
        drop(s2);
        // The other library's wire: nng against ZeroMQ.
        let other = if a.starts_with("nng") {
            a.replacen("nng", "zmq", 1)
        } else {
            a.replacen("zmq", "nng", 1)
        };
        let mut r = open_default(&a, Role::Recv, ChanFlags::NONE, &Deadline::now()).unwrap();
        let at = address_of(&r).replacen(&a[..3], &other[..3], 1);
        let mut s = open_default(
            &at,
            Role::Send,
            ChanFlags::NONE,
            &Deadline::from_ms(2000).unwrap(),
        )
        .unwrap();
        let _ = s.send(b"first", ms(100));
        let mut buf = [0u8; 64];
        let e = r.recv(&mut buf, ms(2000)).unwrap_err();
        assert_eq!(
            e.status,
            Status::IPCX_ERR_PROTOCOL,
            "{a} vs {at}: {}",
            e.msg
        );
    }
}

#[test]
fn a_sender_gone_before_it_was_accepted_is_still_received() {
    // A sender that writes its messages right after its SP header and closes (an ipcx
    // sender waits for the receiver's header first; another implementation may not) can be
    // done and gone before the receiver accepts its connection (writing our header to it
    // then fails): what it sent is delivered all the same.
    use std::io::Write;
    for a in peer_addrs("gone")
        .into_iter()
        .filter(|a| a.starts_with("nng") && !a.contains('@'))
    {
        let mut r = open_default(&a, Role::Recv, ChanFlags::NONE, &Deadline::now()).unwrap();
        let at = address_of(&r);
        let ipc = at.starts_with("nng+ipc:");
        let sp = crate::frame::sp::Sp::new(true, ipc);
        let mut wire = sp.hello().to_vec();
        for m in [&b"before"[..], &b"closing"[..]] {
            let mut h = [0u8; 16];
            let n = sp.header(m.len(), &mut h);
            wire.extend_from_slice(&h[..n]);
            wire.extend_from_slice(m);
        }
        if ipc {
            let path = &at["nng+ipc:".len()..];
            let mut c = std::os::unix::net::UnixStream::connect(path).unwrap();
            c.write_all(&wire).unwrap();
        } else {
            let mut c = std::net::TcpStream::connect(&at["nng+tcp:".len()..]).unwrap();
            c.write_all(&wire).unwrap();
        }
        // The sender's socket is closed here, before the receiver has accepted it.
        let mut buf = [0u8; 16];
        assert_eq!(r.recv(&mut buf, ms(5000)).unwrap(), 6, "{a}");
        assert_eq!(&buf[..6], b"before", "{a}");
        assert_eq!(r.recv(&mut buf, ms(5000)).unwrap(), 7, "{a}");
        let e = r.recv(&mut buf, ms(5000)).unwrap_err();
        assert_eq!(e.status, Status::IPCX_ERR_CLOSED, "{a}: {}", e.msg);
    }
}
