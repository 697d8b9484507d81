// SPDX-License-Identifier: MIT OR Apache-2.0
//! Address strings (src/sock/addr.rs), both ways.
//!
//! Input: a selector byte, then bytes. Text goes through `resolve` (the resolver itself is
//! stubbed out in fuzz builds: numeric forms and the host:port split are what is parsed
//! here) and `numeric`; raw bytes become a `sockaddr` as the kernel would report it (any
//! family, any length, any sun_path bytes: the peer chooses its own name) and are
//! printed with `text` and `write_text` into buffers of every size.
//!
//! Oracles: no panic on any text or bytes; what `numeric`/`resolve` return prints back to
//! text that parses to the same address ("a printed address can be passed back");
//! `write_text` returns the same text as `text`, NUL-terminated, or exactly the size
//! needed.

use std::net::SocketAddr;

use super::Input;
use crate::error::Status;
use crate::sock::addr::{self, SockAddr};

/// The channel address parser (src/chan/addr.rs): no panic on any text; an accepted
/// address names its scheme, and its parts pass the transports' own checks; a refused one
/// is `IPCX_ERR_INVALID`.
fn channel(s: &str) {
    use crate::chan::addr::{self as chan, Addr};
    match chan::parse(s) {
        Ok(a) => {
            let scheme = a.transport().scheme();
            assert!(!s.starts_with("unix-abstract:"), "{s:?}");
            assert!(
                s.starts_with(scheme) && s[scheme.len()..].starts_with(':'),
                "{s:?}"
            );
            match a {
                Addr::Fifo(p) => assert!(crate::name::path(p).is_ok(), "{s:?}"),
                Addr::Unix(Some(p)) => assert!(addr::UnixName::parse(p).is_ok(), "{s:?}"),
                Addr::UnixAbstract(n) => {
                    // One spelling: `unix:@name`, the name never starting with a second '@'.
                    assert!(s.starts_with("unix:@") && !n.starts_with('@'), "{s:?}");
                    assert!(addr::UnixName::parse(&s["unix:".len()..]).is_ok(), "{s:?}");
                }
                Addr::Tcp(hp) => assert!(!hp.is_empty() && s.ends_with(hp), "{s:?}"),
                Addr::Mq(n) | Addr::Shm(Some(n)) => assert!(n.starts_with('/'), "{s:?}"),
                Addr::SysvMq { key, mtype } => assert!(key != 0 && mtype > 0, "{s:?}"),
                Addr::Pipe | Addr::Unix(None) | Addr::Shm(None) => {}
                Addr::Peer(_, chan::Link::Tcp(hp)) => {
                    assert!(!hp.is_empty() && s.ends_with(hp), "{s:?}")
                }
                Addr::Peer(_, chan::Link::Ipc(n)) => {
                    // The name passes the socket functions' own check, as they write it.
                    let text = match n {
                        addr::UnixName::Path(p) => p.to_string(),
                        addr::UnixName::Abstract(a) => format!("@{a}"),
                    };
                    assert!(s.ends_with(&text), "{s:?}");
                    assert!(addr::UnixName::parse(&text).is_ok(), "{s:?}");
                }
            }
        }
        Err(e) => assert_eq!(e.status, Status::IPCX_ERR_INVALID, "{s:?}: {}", e.msg),
    }
}

/// What the text form keeps: address, port and (IPv6) scope; not the flow label.
fn key(a: &SockAddr) -> Option<(std::net::IpAddr, u16, u32)> {
    a.socket_addr().map(|sa| match sa {
        SocketAddr::V4(v4) => ((*v4.ip()).into(), v4.port(), 0),
        SocketAddr::V6(v6) => ((*v6.ip()).into(), v6.port(), v6.scope_id()),
    })
}

fn round_trip(a: &SockAddr) {
    let t = a.text();
    let b = addr::numeric(&t).unwrap_or_else(|| panic!("{t:?} does not parse back"));
    assert_eq!(key(a), key(&b), "{t:?}");
}

fn check_text(a: &SockAddr, sizes: &[usize]) {
    let t = a.text();
    for &n in sizes {
        let mut out = vec![0xaau8; n];
        match addr::write_text(a, &mut out) {
            Ok(k) => {
                assert!(k < n && out[k] == 0);
                assert_eq!(&out[..k], t.as_bytes());
            }
            Err(need) => {
                assert_eq!(need, t.len() + 1);
                assert!(need > n);
            }
        }
    }
    assert!(
        t.len() < 512,
        "address text of {} bytes (ADDR_TEXT_MAX)",
        t.len()
    );
}

/// The fuzz entry point.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let sel = inp.u8();
    if sel & 1 == 0 {
        let Ok(s) = std::str::from_utf8(inp.rest()) else {
            return;
        };
        channel(s);
        if let Some(a) = addr::numeric(s) {
            assert_eq!(
                key(&a),
                s.parse::<SocketAddr>()
                    .ok()
                    .map(|sa| key(&SockAddr::inet(sa)).unwrap())
            );
            round_trip(&a);
        }
        let types = [libc::SOCK_STREAM, libc::SOCK_DGRAM];
        match addr::resolve(s, types[(sel >> 1) as usize & 1], sel & 4 != 0) {
            Ok(list) => {
                assert!(!list.is_empty());
                for a in &list {
                    round_trip(a);
                    check_text(a, &[0, 1, 8, 64]);
                }
            }
            Err(e) => assert!(
                matches!(
                    e.status,
                    Status::IPCX_ERR_INVALID | Status::IPCX_ERR_NOT_FOUND
                ),
                "{:?}: {}",
                e.status,
                e.msg
            ),
        }
        if let Ok(u) = addr::UnixName::parse(s) {
            check_text(&SockAddr::unix(u), &[0, 1, 20, 200]);
        }
        return;
    }
    // A sockaddr as a peer (or the kernel on its behalf) reports it.
    let family = match (sel >> 1) % 4 {
        0 => libc::AF_UNIX,
        1 => libc::AF_INET,
        2 => libc::AF_INET6,
        _ => inp.u16() as i32,
    };
    let len = inp.u16() as libc::socklen_t;
    let mut a = SockAddr::empty();
    let (p, _) = a.raw_mut();
    let body = inp.rest();
    let room = std::mem::size_of::<libc::sockaddr_storage>() - 2;
    // SAFETY: the storage holds sockaddr_storage bytes; we write inside it.
    unsafe {
        let base = p.cast::<u8>();
        std::ptr::copy_nonoverlapping(body.as_ptr(), base.add(2), body.len().min(room));
        (*p).sa_family = family as libc::sa_family_t;
    }
    a.set_len(len);
    assert!(a.byte_len() <= std::mem::size_of::<libc::sockaddr_storage>());
    check_text(&a, &[0, 1, 2, 16, 108, 511, 512]);
    if a.socket_addr().is_some() {
        round_trip(&a);
    }
}
