// SPDX-License-Identifier: MIT OR Apache-2.0
//! Messages: framed records on byte streams, datagrams and seqpackets (one kernel record
//! per message), with descriptors and sender addresses.

use super::*;

/// A record (datagram or seqpacket message) taken from the kernel but not yet delivered,
/// because the caller's buffer was too small.
#[derive(Debug)]
pub(super) struct Record {
    data: Vec<u8>,
    got: Received,
    from: Option<SockAddr>,
}

/// What a record receive brought besides the bytes.
pub(super) struct RecordMeta {
    len: usize,
    got: Received,
    from: Option<SockAddr>,
}

impl Sock {
    pub(super) fn record_limit(&self) -> usize {
        if self.unix {
            self.cfg.max
        } else {
            self.cfg.max.min(inet::UDP_MAX)
        }
    }

    pub(super) fn stream_only(&self, op: &str) -> Result<()> {
        if self.kind != Kind::Stream {
            return Err(Error::invalid(format!(
                "{op}: raw bytes need a stream socket; {} is a {} socket: use \
                 ipcx_sock_send/ipcx_sock_recv (one message per record)",
                self.name,
                self.kind.name()
            )));
        }
        Ok(())
    }

    pub(super) fn unix_only(&self, op: &str) -> Result<()> {
        if !self.unix {
            return Err(Error::unsupported(format!(
                "{op}: {} is not a Unix domain socket (descriptors and credentials travel \
                 only between processes of one host, over Unix sockets)",
                self.name
            )));
        }
        Ok(())
    }

    pub(super) fn check_len(&self, len: usize) -> Result<()> {
        if len > self.cfg.max {
            return Err(Error::too_big(
                len,
                format!(
                    "message of {len} bytes exceeds the maximum message size of {} bytes \
                     (ipcx_options_set_max_message)",
                    self.cfg.max
                ),
            ));
        }
        Ok(())
    }

    /// Send one message (framed on streams, one record otherwise) to the connected peer.
    pub fn send(&mut self, msg: &[u8], deadline: &Deadline) -> Result<()> {
        self.ready("send")?;
        if self.kind == Kind::Stream {
            let (_, writer, mut io) = self.parts(None);
            return writer.send(&mut io, msg, deadline).map_err(conn_error);
        }
        self.send_record(msg, deadline, None, None)
    }

    /// Send several messages: on streams as many frames per write as fit (see
    /// `FrameWriter::send_many`), otherwise one record each. How many were accepted,
    /// and the error that stopped it early.
    pub fn send_many(&mut self, msgs: &[&[u8]], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.ready("send") {
            return (0, Err(e));
        }
        if self.kind == Kind::Stream {
            let (_, writer, mut io) = self.parts(None);
            let (n, r) = writer.send_many(&mut io, msgs, deadline);
            return (n, r.map_err(conn_error));
        }
        for (k, m) in msgs.iter().enumerate() {
            if let Err(e) = self.send_record(m, deadline, None, None) {
                return (k, Err(e));
            }
        }
        (msgs.len(), Ok(()))
    }

    /// Send one message carrying descriptors (Unix sockets).
    pub fn send_fds(&mut self, msg: &[u8], fds: &[RawFd], deadline: &Deadline) -> Result<()> {
        self.ready("send with descriptors")?;
        self.unix_only("send descriptors")?;
        cmsg::check_send_count(fds.len())?;
        if self.kind != Kind::Stream {
            return self.send_record(msg, deadline, None, Some(fds));
        }
        if msg.is_empty() {
            return Err(Error::invalid(
                "a message carrying descriptors over a stream socket needs at least one byte \
                 (the kernel attaches descriptors to bytes)",
            ));
        }
        self.check_len(msg.len())?;
        // The tail of an earlier message goes first, without the descriptors, so that they
        // are attached to the first bytes of this message's frame.
        let (_, writer, mut io) = self.parts(None);
        writer.flush(&mut io, deadline)?;
        let (_, writer, mut io) = self.parts(Some(fds));
        writer.send(&mut io, msg, deadline).map_err(conn_error)
    }

    /// Send one datagram to `to` (datagram sockets).
    pub fn sendto(&mut self, msg: &[u8], to: &str, deadline: &Deadline) -> Result<()> {
        if self.kind != Kind::Dgram {
            return Err(Error::invalid(format!(
                "sendto: {} is a {} socket; only datagram sockets send to an address",
                self.name,
                self.kind.name()
            )));
        }
        if self.unix {
            let un = UnixName::parse(to)?;
            return self
                .send_record(msg, deadline, Some(&SockAddr::unix(un)), None)
                .map_err(|e| unix::refused_by_non_socket(e, &un));
        }
        let dest = {
            match addr::numeric(to) {
                Some(a) => a,
                None => {
                    let all = addr::resolve(to, libc::SOCK_DGRAM, false)?;
                    let mine = self.local_addr().map(|a| a.family()).unwrap_or(0);
                    *all.iter().find(|a| a.family() == mine).unwrap_or(&all[0])
                }
            }
        };
        self.send_record(msg, deadline, Some(&dest), None)
    }

    pub(super) fn send_record(
        &mut self,
        msg: &[u8],
        deadline: &Deadline,
        to: Option<&SockAddr>,
        fds: Option<&[RawFd]>,
    ) -> Result<()> {
        if to.is_none() && !self.connected {
            return Err(Error::invalid(format!(
                "send: {} is not connected: use ipcx_sock_sendto with an address",
                self.name
            )));
        }
        if msg.is_empty() && self.kind == Kind::SeqPacket {
            return Err(Error::invalid(
                "an empty message cannot be sent over a seqpacket socket: the receiver could \
                 not tell it from end of file",
            ));
        }
        self.check_len(msg.len())?;
        let raw = self.fd.as_raw_fd();
        let mut cbuf = CmsgBuf::new();
        let mut pause = Duration::from_millis(1);
        loop {
            let flags = libc::MSG_NOSIGNAL | dontwait(deadline);
            let r = if to.is_none() && fds.is_none() {
                // SAFETY: the message is valid for reading.
                ret(unsafe { libc::send(raw, msg.as_ptr().cast(), msg.len(), flags) })
            } else {
                let mut iov = libc::iovec {
                    iov_base: msg.as_ptr() as *mut libc::c_void,
                    iov_len: msg.len(),
                };
                // SAFETY: msghdr is plain data.
                let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
                m.msg_iov = &mut iov;
                m.msg_iovlen = 1;
                if let Some(a) = to {
                    let (p, l) = a.raw();
                    m.msg_name = p as *mut libc::c_void;
                    m.msg_namelen = l;
                }
                if let Some(fds) = fds {
                    m.msg_controllen = cbuf.encode(fds) as _;
                    m.msg_control = cbuf.ptr();
                }
                // SAFETY: every pointer in `m` is valid for the call; nothing is written.
                ret(unsafe { crate::sys::sendmsg(raw, &m, flags) })
            };
            match r {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => time::on_eintr(deadline, "send")?,
                Err(Errno::EAGAIN) if to.is_some() && !self.connected => {
                    // An unconnected datagram socket is writable even when the receiver's
                    // queue is full (poll cannot see it): retry every 1 to 10 ms.
                    let left = deadline.remaining().unwrap_or(pause);
                    if left.is_zero() {
                        return Err(deadline.timeout_error(On("send on", &self.name)));
                    }
                    std::thread::sleep(left.min(pause));
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                Err(Errno::EAGAIN) => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLOUT,
                        deadline,
                        On("send on", &self.name),
                    )?;
                }
                Err(e) => return Err(self.record_send_error(e, msg.len(), to)),
            }
        }
    }

    #[cold]
    pub(super) fn record_send_error(&self, e: Errno, len: usize, to: Option<&SockAddr>) -> Error {
        let dest = to.map_or_else(String::new, |a| format!(" to {a}"));
        match e {
            Errno::EMSGSIZE => {
                let sndbuf = inet::get_int(
                    self.fd.as_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    "SO_SNDBUF",
                )
                .unwrap_or(0);
                let why = if self.unix {
                    format!(
                        "larger than this socket's send buffer allows (SO_SNDBUF {sndbuf}; \
                         raise it with ipcx_options_set_capacity up to \
                         /proc/sys/net/core/wmem_max)"
                    )
                } else {
                    "larger than a UDP datagram can be (65507 bytes over IPv4, 65527 over IPv6)"
                        .to_string()
                };
                Error::os_as(
                    Status::IPCX_ERR_TOO_BIG,
                    e,
                    format!(
                        "send on {}{dest}: message of {len} bytes is {why}",
                        self.name
                    ),
                )
            }
            Errno::ECONNREFUSED if to.is_none() => Error::os_as(
                Status::IPCX_ERR_CLOSED,
                e,
                format!("send on {}: the peer is gone", self.name),
            ),
            Errno::EPIPE | Errno::ECONNRESET => Error::os_as(
                Status::IPCX_ERR_CLOSED,
                e,
                format!("send on {}: the peer closed", self.name),
            ),
            Errno::ECONNREFUSED | Errno::ENOENT => Error::os(
                e,
                format_args!("send on {}{dest}: nobody receives there", self.name),
            ),
            _ => conn_error(Error::os(e, format_args!("send on {}{dest}", self.name))),
        }
    }

    /// Receive one message into `out`; returns its length.
    ///
    /// Records (datagram, seqpacket) never get lost to a small buffer, and cost one system
    /// call: a buffer at least as large as the socket's maximum message receives directly;
    /// a small one (up to 4 KiB) receives into the socket's internal buffer (one plain
    /// recv, then a copy); a larger one receives with recvmsg into the buffer followed by
    /// the internal buffer. A record longer than the caller's buffer stays in the internal
    /// buffer (`IPCX_ERR_TOO_BIG` with the size) for the next receive. MSG_TRUNC reveals
    /// records above the maximum message size: those are discarded (`IPCX_ERR_PROTOCOL`).
    pub fn recv(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.ready("receive")?;
        if self.kind != Kind::Stream {
            return self.recv_record(out, deadline, false, false).map(|m| m.len);
        }
        let start = self.rx.total - self.reader.buffered() as u64;
        let (reader, _, mut io) = self.parts(None);
        let n = reader.recv(&mut io, out, deadline).map_err(conn_error)?;
        if self.rx.fd_mode {
            // Descriptors sent with this message are not wanted: close them.
            drop(self.rx.take(start + (HEADER + n) as u64));
        }
        Ok(n)
    }

    /// Receive one message and the descriptors sent with it (Unix sockets).
    pub fn recv_fds(
        &mut self,
        out: &mut [u8],
        fds: FdsOut<'_>,
        deadline: &Deadline,
    ) -> Result<RecvFds> {
        self.ready("receive")?;
        self.unix_only("receive descriptors")?;
        if fds.fds.is_empty() {
            return Err(Error::invalid(
                "the descriptor array holds 0: use ipcx_sock_recv for messages without \
                 descriptors",
            ));
        }
        let (len, got) = if self.kind == Kind::Stream {
            self.rx.fd_mode = true;
            let start = self.rx.total - self.reader.buffered() as u64;
            let (reader, _, mut io) = self.parts(None);
            let n = reader.recv(&mut io, out, deadline).map_err(conn_error)?;
            (n, self.rx.take(start + (HEADER + n) as u64))
        } else {
            let m = self.recv_record(out, deadline, true, false)?;
            (m.len, m.got)
        };
        let (nfds, cut) = got.hand_over(fds.fds);
        Ok(RecvFds { len, nfds, cut })
    }

    /// Receive one datagram and its sender's address (datagram sockets). An unnamed Unix
    /// sender's address is empty (it prints as `""`).
    ///
    /// `accept` is given the datagram's length and its sender once the datagram is in
    /// `out`; if it fails, the datagram stays queued (as with a buffer too small) and its
    /// error is returned. With `IPCX_ERR_TOO_BIG` (the datagram does not fit `out`),
    /// `accept` is also called, its result ignored, so the caller learns the sender too.
    pub fn recvfrom(
        &mut self,
        out: &mut [u8],
        deadline: &Deadline,
        accept: impl FnOnce(usize, &SockAddr) -> Result<()>,
    ) -> Result<usize> {
        if self.kind != Kind::Dgram {
            return Err(Error::invalid(format!(
                "recvfrom: {} is a {} socket; only datagram sockets have a sender per message",
                self.name,
                self.kind.name()
            )));
        }
        match self.recv_record(out, deadline, false, true) {
            Ok(m) => {
                let from = m.from.unwrap_or_else(SockAddr::unix_autobind);
                if let Err(e) = accept(m.len, &from) {
                    // Keep the datagram for the next receive, with its sender.
                    self.pending = Some(Record {
                        data: out[..m.len].to_vec(),
                        got: m.got,
                        from: Some(from),
                    });
                    return Err(e);
                }
                Ok(m.len)
            }
            Err(e) if e.status == Status::IPCX_ERR_TOO_BIG => {
                if let Some(p) = &self.pending {
                    let from = p.from.unwrap_or_else(SockAddr::unix_autobind);
                    let _ = accept(p.data.len(), &from);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn recv_record(
        &mut self,
        out: &mut [u8],
        deadline: &Deadline,
        want_fds: bool,
        want_from: bool,
    ) -> Result<RecordMeta> {
        if let Some(p) = &self.pending {
            if p.data.len() > out.len() {
                return Err(too_small(p.data.len(), out.len()));
            }
            let p = self.pending.take().expect("checked");
            out[..p.data.len()].copy_from_slice(&p.data);
            return Ok(RecordMeta {
                len: p.data.len(),
                got: if want_fds { p.got } else { Received::default() },
                from: p.from,
            });
        }
        if self.shut_rd {
            return Err(Error::closed(format!(
                "receive on {}: reading was shut down",
                self.name
            )));
        }
        let limit = self.record_limit();
        loop {
            match self.recv_record_once(out, limit, deadline, want_fds, want_from) {
                Ok(m) => return Ok(m),
                Err(Errno::EAGAIN) => {
                    time::wait_fd(
                        self.fd.as_fd(),
                        libc::POLLIN,
                        deadline,
                        On("wait on", &self.name),
                    )?;
                }
                Err(Errno::EINTR) => time::on_eintr(deadline, "receive")?,
                Err(Errno::EMSGSIZE) => {
                    // Sentinel from recv_record_once: the record did not fit in `out`.
                    let n = self.pending.as_ref().map_or(0, |p| p.data.len());
                    return Err(too_small(n, out.len()));
                }
                Err(Errno::E2BIG) => {
                    return Err(Error::protocol(format!(
                        "receive on {}: a message above the maximum message size of {limit} \
                         bytes arrived (ipcx_options_set_max_message); it was discarded",
                        self.name
                    )));
                }
                Err(Errno::ESHUTDOWN) => {
                    return Err(Error::closed(format!(
                        "receive on {}: end of file (the peer closed)",
                        self.name
                    )));
                }
                Err(e) => {
                    return Err(conn_error(Error::os(
                        e,
                        format_args!("receive on {}", self.name),
                    )));
                }
            }
        }
    }

    /// A sender's address as the kernel reported it. An unnamed Unix socket comes with no
    /// address at all (length 0): it is the unnamed Unix address, which prints as `""`.
    pub(super) fn sender(&self, from: SockAddr) -> SockAddr {
        if self.unix && (from.byte_len() < size_of::<libc::sa_family_t>() || from.family() == 0) {
            return SockAddr::unix_autobind();
        }
        from
    }

    /// One receive system call. Errors are raw errnos, with three sentinels: EMSGSIZE (the
    /// record is kept in `pending`, too big for `out`), E2BIG (above `limit`, discarded),
    /// ESHUTDOWN (end of file on a seqpacket socket).
    pub(super) fn recv_record_once(
        &mut self,
        out: &mut [u8],
        limit: usize,
        deadline: &Deadline,
        want_fds: bool,
        want_from: bool,
    ) -> std::result::Result<RecordMeta, Errno> {
        let raw = self.fd.as_raw_fd();
        let flags = libc::MSG_TRUNC | dontwait(deadline);
        let eof = |n: usize, kind: Kind| n == 0 && kind == Kind::SeqPacket;
        // Datagram sockets always learn the sender (recv(2) is the recvfrom system call
        // anyway), so a record kept after IPCX_ERR_TOO_BIG still tells recvfrom who sent it.
        let track = want_from || self.kind == Kind::Dgram;
        let direct = out.len() >= limit;
        if !direct && self.ibuf.len() < limit {
            self.ibuf = vec![0; limit];
        }
        // A Unix record that may not fit `out` is received with its descriptors, so that a
        // record kept after IPCX_ERR_TOO_BIG keeps them for the next receive (a plain
        // receive that gets them closes them, as documented). recvfrom would let the
        // kernel drop them unseen.
        let capture = want_fds || (self.unix && !direct);
        if !capture && (direct || out.len() <= SMALL) {
            // One recvfrom: straight into `out` when it holds any record, else into the
            // internal buffer.
            let (ptr, len) = if direct {
                (out.as_mut_ptr(), out.len())
            } else {
                (self.ibuf.as_mut_ptr(), limit)
            };
            let mut from = SockAddr::empty();
            let (fp, fl) = if track {
                let (p, l) = from.raw_mut();
                (p, l as *mut libc::socklen_t)
            } else {
                (std::ptr::null_mut(), std::ptr::null_mut())
            };
            // SAFETY: `ptr` is valid for writing `len` bytes; the address slot is NULL or
            // a sockaddr_storage with its length.
            let n = ret(unsafe { libc::recvfrom(raw, ptr.cast(), len, flags, fp, fl) })?;
            if eof(n, self.kind) {
                return Err(Errno::ESHUTDOWN);
            }
            if n > limit {
                return Err(Errno::E2BIG);
            }
            let from = track.then(|| self.sender(from));
            if !direct {
                if n > out.len() {
                    self.pending = Some(Record {
                        data: self.ibuf[..n].to_vec(),
                        got: Received::default(),
                        from,
                    });
                    return Err(Errno::EMSGSIZE);
                }
                out[..n].copy_from_slice(&self.ibuf[..n]);
            }
            return Ok(RecordMeta {
                len: n,
                got: Received::default(),
                from,
            });
        }
        // General case: recvmsg into `out` then the internal buffer, with the sender's
        // address and descriptors as asked.
        let cap = out.len();
        let spare = limit.saturating_sub(cap);
        let mut iov = [
            libc::iovec {
                iov_base: out.as_mut_ptr().cast(),
                iov_len: cap,
            },
            libc::iovec {
                iov_base: self.ibuf.as_mut_ptr().cast(),
                iov_len: spare,
            },
        ];
        let mut from = SockAddr::empty();
        let mut cbuf = CmsgBuf::new();
        // SAFETY: msghdr is plain data.
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_iov = iov.as_mut_ptr();
        m.msg_iovlen = if spare > 0 { 2 } else { 1 };
        if track {
            let (p, l) = from.raw_mut();
            m.msg_name = p.cast();
            m.msg_namelen = *l;
        }
        if capture {
            m.msg_control = cbuf.ptr();
            m.msg_controllen = cbuf.recv_len() as _;
        }
        // SAFETY: every buffer in `m` is valid for writing with its length.
        let n = ret(unsafe { libc::recvmsg(raw, &mut m, flags | libc::MSG_CMSG_CLOEXEC) })?;
        let mut got = Received::default();
        if capture {
            cmsg::decode(&m, &mut got.fds);
            got.cut = m.msg_flags & libc::MSG_CTRUNC != 0;
        }
        if eof(n, self.kind) && got.fds.is_empty() {
            return Err(Errno::ESHUTDOWN);
        }
        let from = track.then(|| {
            from.set_len(m.msg_namelen);
            self.sender(from)
        });
        if n > limit {
            return Err(Errno::E2BIG); // `got` is dropped: its descriptors are closed
        }
        if n > cap {
            let mut data = Vec::with_capacity(n);
            data.extend_from_slice(out);
            data.extend_from_slice(&self.ibuf[..n - cap]);
            self.pending = Some(Record { data, got, from });
            return Err(Errno::EMSGSIZE);
        }
        Ok(RecordMeta { len: n, got, from })
    }
}

pub(super) fn too_small(len: usize, cap: usize) -> Error {
    Error::too_big(
        len,
        format!(
            "the next message is {len} bytes, the buffer holds {cap}; it stays queued for a \
             receive with a larger buffer"
        ),
    )
}
