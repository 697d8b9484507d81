// SPDX-License-Identifier: MIT OR Apache-2.0
//! Byte streams (Unix stream, TCP): raw reads and writes, the framing transport, and the
//! descriptors that arrive with stream bytes.

use super::*;

/// Descriptors a stream read brought, with the stream offset where that read ended.
#[derive(Debug)]
pub(super) struct FdBatch {
    end: u64,
    got: Received,
}

/// Receive-side state of a stream socket for descriptor passing.
#[derive(Debug, Default)]
pub(super) struct Rx {
    /// Bytes received from the kernel so far.
    pub(super) total: u64,
    /// Reads use recvmsg with room for descriptors (set by the first `recv_fds`).
    pub(super) fd_mode: bool,
    /// Descriptors not yet handed over, in stream order.
    batches: VecDeque<FdBatch>,
}

impl Rx {
    /// Take the descriptors that arrived with bytes before stream offset `upto`.
    ///
    /// The kernel ends a read right after the chunk that carries descriptors, and an ipcx
    /// sender attaches them to the first chunk of their message's frame: so descriptors
    /// whose read ended inside a frame belong to that frame.
    pub(super) fn take(&mut self, upto: u64) -> Received {
        let mut r = Received::default();
        while self.batches.front().is_some_and(|b| b.end <= upto) {
            if let Some(b) = self.batches.pop_front() {
                r.merge(b.got);
            }
        }
        r
    }
}

/// A stream socket as a framing transport.
pub(super) struct Io<'a> {
    pub(super) fd: BorrowedFd<'a>,
    pub(super) rx: &'a mut Rx,
    /// Descriptors to attach to the next write (then cleared).
    pub(super) send_fds: Option<&'a [RawFd]>,
    pub(super) name: &'a str,
}

impl Transport for Io<'_> {
    fn read(
        &mut self,
        bufs: &mut [IoSliceMut<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        let fd = self.fd.as_raw_fd();
        let flags = dontwait(deadline);
        let n = if self.rx.fd_mode {
            let mut cbuf = CmsgBuf::new();
            // SAFETY: msghdr is plain data.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = bufs.as_mut_ptr().cast();
            msg.msg_iovlen = bufs.len() as _;
            msg.msg_control = cbuf.ptr();
            msg.msg_controllen = cbuf.recv_len() as _;
            // SAFETY: iovecs valid for writing (IoSliceMut is ABI-compatible), control
            // buffer of the given length.
            let n = ret(unsafe { libc::recvmsg(fd, &mut msg, flags | libc::MSG_CMSG_CLOEXEC) })?;
            let mut got = Received::default();
            cmsg::decode(&msg, &mut got.fds);
            got.cut = msg.msg_flags & libc::MSG_CTRUNC != 0;
            if !got.fds.is_empty() || got.cut {
                self.rx.batches.push_back(FdBatch {
                    end: self.rx.total + n as u64,
                    got,
                });
            }
            n
        } else if let [one] = bufs {
            // SAFETY: the slice is valid for writing.
            ret(unsafe { libc::recv(fd, one.as_mut_ptr().cast(), one.len(), flags) })?
        } else {
            // SAFETY: msghdr is plain data; iovecs valid for writing.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = bufs.as_mut_ptr().cast();
            msg.msg_iovlen = bufs.len() as _;
            ret(unsafe { libc::recvmsg(fd, &mut msg, flags) })?
        };
        self.rx.total += n as u64;
        Ok(n)
    }

    fn write(
        &mut self,
        bufs: &[IoSlice<'_>],
        deadline: &Deadline,
    ) -> std::result::Result<usize, Errno> {
        let fd = self.fd.as_raw_fd();
        let flags = libc::MSG_NOSIGNAL | dontwait(deadline);
        if let [one] = bufs {
            if self.send_fds.is_none() {
                // SAFETY: the slice is valid for reading.
                return ret(unsafe { libc::send(fd, one.as_ptr().cast(), one.len(), flags) });
            }
        }
        let mut cbuf = CmsgBuf::new();
        // SAFETY: msghdr is plain data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len() as _;
        if let Some(fds) = self.send_fds {
            msg.msg_controllen = cbuf.encode(fds) as _;
            msg.msg_control = cbuf.ptr();
        }
        // SAFETY: iovecs valid for reading; the kernel does not write through msg_iov.
        let n = ret(unsafe { crate::sys::sendmsg(fd, &msg, flags) })?;
        self.send_fds = None;
        Ok(n)
    }

    fn wait(&mut self, readable: bool, deadline: &Deadline) -> Result<()> {
        let ev = if readable {
            libc::POLLIN
        } else {
            libc::POLLOUT
        };
        time::wait_fd_again(self.fd, ev, deadline, On("wait on", self.name))
    }

    fn describe(&self) -> String {
        self.name.to_string()
    }
}

impl Sock {
    /// The connection as a plain byte stream (stream sockets), for the wire formats of
    /// other messaging libraries (`crate::frame::peer`): reads and writes go straight to
    /// the kernel, with this socket's blocking rules and MSG_NOSIGNAL; its own framing
    /// state is not used (do not mix with [`Sock::send`] and [`Sock::recv`]).
    pub(crate) fn stream(&mut self) -> impl Transport + '_ {
        Io {
            fd: self.fd.as_fd(),
            rx: &mut self.rx,
            send_fds: None,
            name: &self.name,
        }
    }

    /// Write raw bytes (stream sockets) until all are written or the deadline passes.
    pub fn write(&mut self, data: &[u8], deadline: &Deadline) -> (usize, Result<()>) {
        if let Err(e) = self.ready("write") {
            return (0, Err(e));
        }
        if let Err(e) = self.stream_only("write") {
            return (0, Err(e));
        }
        let (_, writer, mut io) = self.parts(None);
        let (n, r) = writer.write_all(&mut io, data, deadline);
        (n, r.map_err(conn_error))
    }

    /// Read at least one and at most `out.len()` raw bytes (stream sockets).
    pub fn read(&mut self, out: &mut [u8], deadline: &Deadline) -> Result<usize> {
        self.ready("read")?;
        self.stream_only("read")?;
        let (reader, _, mut io) = self.parts(None);
        let n = reader
            .read_some(&mut io, out, deadline)
            .map_err(conn_error)?;
        if self.rx.fd_mode {
            let pos = self.rx.total - self.reader.buffered() as u64;
            drop(self.rx.take(pos));
        }
        Ok(n)
    }

    /// Write out the tail of a message accepted by a send that timed out midway.
    pub fn flush(&mut self, deadline: &Deadline) -> Result<()> {
        self.ready("flush")?;
        if self.kind != Kind::Stream {
            return Ok(());
        }
        let (_, writer, mut io) = self.parts(None);
        writer.flush(&mut io, deadline).map_err(conn_error)
    }

    /// Bytes of an accepted message not yet written.
    pub fn backlog(&self) -> usize {
        self.writer.backlog()
    }
}
