// SPDX-License-Identifier: MIT OR Apache-2.0
//! Listening sockets and the calls that make sockets: listen, accept, connect, bind, pairs.

use super::*;

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
    kind: Kind,
    unix: bool,
    name: String,
    cfg: Config,
    _bound: Option<unix::BoundPath>,
}

impl Listener {
    /// The descriptor (readable when a connection waits). Owned by the listener.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The descriptor, borrowed.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The bound address (the real port when listening on port 0).
    pub fn local_address(&self) -> Result<SockAddr> {
        name_of(self.fd.as_fd(), false)
            .map_err(|e| e.context(format_args!("address of {}", self.name)))
    }

    /// Accept one connection, waiting until the deadline.
    pub fn accept(&mut self, deadline: &Deadline) -> Result<Sock> {
        let raw = self.fd.as_raw_fd();
        loop {
            let mut peer = SockAddr::empty();
            let (p, l) = peer.raw_mut();
            // SAFETY: storage and its length; the new descriptor is close-on-exec and
            // blocking (see the module documentation).
            let fd = unsafe { libc::accept4(raw, p, l, libc::SOCK_CLOEXEC) };
            if fd >= 0 {
                // SAFETY: a fresh descriptor.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                let tcp = !self.unix;
                self.cfg.apply(fd.as_fd(), tcp)?;
                let name = if tcp {
                    format!("TCP connection from {peer} (accepted on {})", self.name)
                } else {
                    format!(
                        "Unix {} connection accepted on {}",
                        self.kind.name(),
                        self.name
                    )
                };
                return Ok(Sock::new(
                    fd, self.kind, self.unix, true, name, self.cfg, None,
                ));
            }
            match Errno::last() {
                Errno::EAGAIN => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLIN,
                        deadline,
                        On("accept on", &self.name),
                    )?;
                }
                Errno::EINTR => time::on_eintr(deadline, "accept")?,
                // A connection reset before it was accepted: wait for the next one.
                Errno::ECONNABORTED | Errno::EPROTO => {}
                e => {
                    return Err(socket_error(e, &format!("accept on {}", self.name)));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ constructors

/// A connected pair of Unix sockets (socketpair).
pub fn pair(kind: Kind, opts: &Options) -> Result<(Sock, Sock)> {
    opts.only(UNIX_OPTIONS, "socket pairs")?;
    let cfg = Config::new(opts);
    let (a, b) = unix::pair(kind)?;
    cfg.apply(a.as_fd(), false)?;
    cfg.apply(b.as_fd(), false)?;
    let name = format!("Unix {} socket pair", kind.name());
    Ok((
        Sock::new(a, kind, true, true, name.clone(), cfg, None),
        Sock::new(b, kind, true, true, name, cfg, None),
    ))
}

/// Listen on a Unix path or abstract name.
pub fn listen_unix(name: &str, kind: Kind, opts: &Options) -> Result<Listener> {
    let un = UnixName::parse(name)?;
    check_unix_options(opts, &un, "Unix listeners")?;
    if kind == Kind::Dgram {
        return Err(Error::invalid(
            "datagram sockets do not listen: use ipcx_sock_bind_unix",
        ));
    }
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, kind, true)?;
    let bound = unix::bind(&fd, un, opts.mode())?;
    // SAFETY: listen on an owned, bound descriptor.
    if unsafe { libc::listen(fd.as_raw_fd(), libc::SOMAXCONN) } < 0 {
        return Err(Error::last_os(format_args!("listen({un})")));
    }
    Ok(Listener {
        fd,
        kind,
        unix: true,
        name: format!("Unix {} listener {un}", kind.name()),
        cfg,
        _bound: bound,
    })
}

/// Connect to a Unix path or abstract name. A datagram socket is also bound to an
/// automatic abstract name, so that the peer can answer it.
pub fn connect_unix(name: &str, kind: Kind, opts: &Options, deadline: &Deadline) -> Result<Sock> {
    let un = UnixName::parse(name)?;
    opts.only(UNIX_OPTIONS, "Unix connections")?;
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, kind, false)?;
    if kind == Kind::Dgram {
        autobind(&fd)?;
    }
    connect(&fd, &SockAddr::unix(un), deadline, &un.to_string())
        .map_err(|e| unix::refused_by_non_socket(e, &un))?;
    cfg.apply(fd.as_fd(), false)?;
    let name = format!("Unix {} socket connected to {un}", kind.name());
    Ok(Sock::new(fd, kind, true, true, name, cfg, None))
}

fn autobind(fd: &OwnedFd) -> Result<()> {
    let auto = SockAddr::unix_autobind();
    let (p, l) = auto.raw();
    // SAFETY: an address of family only: the kernel picks a unique abstract name.
    if unsafe { libc::bind(fd.as_raw_fd(), p, l) } < 0 {
        return Err(Error::last_os("bind(AF_UNIX, automatic abstract name)"));
    }
    Ok(())
}

/// A Unix datagram socket bound to a path or abstract name, or (`None`) to an automatic
/// abstract name.
pub fn bind_unix(name: Option<&str>, opts: &Options) -> Result<Sock> {
    let un = name.map(UnixName::parse).transpose()?;
    match &un {
        Some(un) => check_unix_options(opts, un, "Unix datagram sockets")?,
        None => opts.only(UNIX_OPTIONS, "Unix datagram sockets with an automatic name")?,
    }
    let cfg = Config::new(opts);
    let fd = new_socket(libc::AF_UNIX, Kind::Dgram, false)?;
    let bound = match un {
        Some(un) => unix::bind(&fd, un, opts.mode())?,
        None => {
            autobind(&fd)?;
            None
        }
    };
    cfg.apply(fd.as_fd(), false)?;
    let shown = name_of(fd.as_fd(), false)?;
    let name = format!("Unix datagram socket {shown}");
    Ok(Sock::new(fd, Kind::Dgram, true, false, name, cfg, bound))
}

/// Try `f` on each address in turn; the first success wins, else the last error.
fn each_addr<T>(addrs: &[SockAddr], mut f: impl FnMut(&SockAddr) -> Result<T>) -> Result<T> {
    let mut last = None;
    for a in addrs {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => {
                let stop = e.status == Status::IPCX_ERR_TIMEOUT
                    || e.status == Status::IPCX_ERR_INTERRUPTED;
                last = Some(e);
                if stop {
                    break;
                }
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::internal("no address to try")))
}

fn bind_inet(fd: &OwnedFd, a: &SockAddr, proto: &str) -> Result<()> {
    let (p, l) = a.raw();
    // SAFETY: a valid address of length l.
    if unsafe { libc::bind(fd.as_raw_fd(), p, l) } < 0 {
        let e = Errno::last();
        return Err(match e {
            Errno::EADDRINUSE => Error::os_as(
                Status::IPCX_ERR_IN_USE,
                e,
                format!("bind({proto} {a}): the port is in use"),
            ),
            Errno::EACCES => Error::os(
                e,
                format_args!(
                    "bind({proto} {a}): ports below /proc/sys/net/ipv4/ip_unprivileged_port_start \
                     need CAP_NET_BIND_SERVICE"
                ),
            ),
            _ => Error::os(e, format_args!("bind({proto} {a})")),
        });
    }
    Ok(())
}

/// Check the options, resolve `host_port` and try `make` on each address in turn.
fn on_each_inet<T>(
    host_port: &str,
    opts: &Options,
    allowed: &[Opt],
    what: &str,
    socktype: libc::c_int,
    passive: bool,
    mut make: impl FnMut(&SockAddr, Config) -> Result<T>,
) -> Result<T> {
    opts.only(allowed, what)?;
    let cfg = Config::new(opts);
    let addrs = addr::resolve(host_port, socktype, passive)?;
    each_addr(&addrs, |a| make(a, cfg))
}

/// Listen for TCP connections on `host:port`.
pub fn listen_tcp(host_port: &str, opts: &Options) -> Result<Listener> {
    let (ty, allowed) = (libc::SOCK_STREAM, TCP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "TCP listeners",
        ty,
        true,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Stream, true)?;
            inet::set_reuseaddr(fd.as_fd())?;
            if let Some(cap) = cfg.capacity {
                // Before listen, so that the window scale of connections reflects it.
                set_buffers(fd.as_fd(), cap)?;
            }
            bind_inet(&fd, a, "TCP")?;
            // SAFETY: listen on an owned, bound descriptor.
            if unsafe { libc::listen(fd.as_raw_fd(), libc::SOMAXCONN) } < 0 {
                return Err(Error::last_os(format_args!("listen(TCP {a})")));
            }
            let bound = name_of(fd.as_fd(), false)?;
            Ok(Listener {
                fd,
                kind: Kind::Stream,
                unix: false,
                name: format!("TCP listener {bound}"),
                cfg,
                _bound: None,
            })
        },
    )
}

/// Connect over TCP to `host:port`, trying each resolved address within the deadline.
pub fn connect_tcp(host_port: &str, opts: &Options, deadline: &Deadline) -> Result<Sock> {
    let (ty, allowed) = (libc::SOCK_STREAM, TCP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "TCP connections",
        ty,
        false,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Stream, false)?;
            let shown = a.to_string();
            connect(&fd, a, deadline, &shown)?;
            cfg.apply(fd.as_fd(), true)?;
            let name = format!("TCP connection to {shown}");
            Ok(Sock::new(fd, Kind::Stream, false, true, name, cfg, None))
        },
    )
}

/// Start a TCP connect to the numeric address `host_port` without waiting: the socket is
/// returned with the handshake in progress; its descriptor becomes writable when the
/// handshake ends, and [`Sock::connect_finish`] then says how it went. Names are refused
/// (the resolver cannot be bounded).
pub fn connect_tcp_start(host_port: &str, opts: &Options) -> Result<Sock> {
    opts.only(TCP_OPTIONS, "TCP connections")?;
    let a = addr::numeric(host_port).ok_or_else(|| {
        Error::invalid(format!(
            "{host_port:?}: a connect that does not wait takes a numeric address, \
             a.b.c.d:port or [v6]:port (a name goes through the resolver, which no timeout \
             bounds: resolve it beforehand, or use ipcx_sock_connect_tcp)"
        ))
    })?;
    let cfg = Config::new(opts);
    let fd = new_socket(a.family(), Kind::Stream, true)?;
    if let Some(cap) = cfg.capacity {
        set_buffers(fd.as_fd(), cap)?; // before connect: the window scale reflects it
    }
    let shown = a.to_string();
    let (p, l) = a.raw();
    // SAFETY: a valid address of length l, on a non-blocking socket.
    if unsafe { libc::connect(fd.as_raw_fd(), p, l) } < 0 {
        match Errno::last() {
            // EINTR: the connect goes on asynchronously, as EINPROGRESS.
            Errno::EINPROGRESS | Errno::EINTR => {}
            e => return Err(connect_error(e, &shown)),
        }
    }
    let name = format!("TCP connection to {shown}");
    let mut s = Sock::new(fd, Kind::Stream, false, true, name, cfg, None);
    s.connecting = Some(Connecting {
        shown,
        failed: None,
    });
    Ok(s)
}

/// A UDP socket bound to `host:port` (port 0: any free port), or connected to it (its
/// default destination and only source).
fn udp(host_port: &str, opts: &Options, connected: bool) -> Result<Sock> {
    let (ty, allowed) = (libc::SOCK_DGRAM, UDP_OPTIONS);
    on_each_inet(
        host_port,
        opts,
        allowed,
        "UDP sockets",
        ty,
        !connected,
        |a, cfg| {
            let fd = new_socket(a.family(), Kind::Dgram, false)?;
            cfg.apply(fd.as_fd(), false)?;
            let name = if connected {
                let shown = a.to_string();
                connect(&fd, a, &Deadline::forever(), &shown)?;
                format!("UDP socket connected to {shown}")
            } else {
                bind_inet(&fd, a, "UDP")?;
                format!("UDP socket {}", name_of(fd.as_fd(), false)?)
            };
            Ok(Sock::new(
                fd,
                Kind::Dgram,
                false,
                connected,
                name,
                cfg,
                None,
            ))
        },
    )
}

/// A UDP socket bound to `host:port` (port 0: any free port).
pub fn bind_udp(host_port: &str, opts: &Options) -> Result<Sock> {
    udp(host_port, opts, false)
}

/// A UDP socket connected to `host:port` (its default destination and only source).
pub fn connect_udp(host_port: &str, opts: &Options) -> Result<Sock> {
    udp(host_port, opts, true)
}
