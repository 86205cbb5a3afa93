package rtnl

import (
	"sync"
	"syscall"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// DefaultRcvBuf is the receive queue limit of a new socket in bytes
// (net.core.rmem_default).
const DefaultRcvBuf = 212992

// maxGroup is the highest RTNLGRP_* a socket may join.
const maxGroup = 63

// Socket is one client's netlink socket (struct netlink_sock).
type Socket struct {
	srv  *Server
	ns   *nsState
	cred Cred
	port uint32

	sendMu  sync.Mutex // one batch at a time, as the socket lock
	scratch []byte     // reply scratch, sendMu held
	call    call       // the message being handled, sendMu held
	ctx     reqCtx

	mu      sync.Mutex
	cond    sync.Cond
	q       [][]byte // datagrams waiting for Recv (a ring)
	qhead   int
	qlen    int
	qbytes  int
	rcvbuf  int
	overrun bool          // a datagram was dropped: the next Recv says ENOBUFS
	sockErr syscall.Errno // sk_err: returned once by the next Recv
	closed  bool
	free    [][]byte // recycled datagram buffers

	// groups is the multicast membership; read by notifiers under ns.mu.
	groups uint64

	capAck, extAck, strict bool

	// dump is the running dump: datagrams not yet queued (netlink_dump
	// fills the queue as the reader drains it).
	dump    netlink.DumpWriter
	dumpIdx int
	dumpRun bool
}

func newSocket(srv *Server, ns *nsState, cred Cred) *Socket {
	s := &Socket{srv: srv, ns: ns, cred: cred, rcvbuf: DefaultRcvBuf, q: make([][]byte, 16)}
	s.cond.L = &s.mu
	return s
}

// PortID returns the socket's netlink port id (nl_pid of getsockname).
func (s *Socket) PortID() uint32 { return s.port }

// Namespace returns the name of the namespace the socket is bound in.
func (s *Socket) Namespace() string { return s.ns.ns.Name() }

// SetRcvBuf sets the receive queue limit (SO_RCVBUF).
func (s *Socket) SetRcvBuf(n int) {
	s.mu.Lock()
	s.rcvbuf = max(n, 1024)
	s.mu.Unlock()
}

// Join adds the socket to multicast group g (RTNLGRP_*),
// NETLINK_ADD_MEMBERSHIP. Groups beyond the protocol's are EINVAL.
func (s *Socket) Join(g int) error {
	if g <= 0 || g > maxGroup {
		return syscall.EINVAL
	}
	s.ns.mu.Lock()
	s.groups |= 1 << uint(g)
	s.ns.mu.Unlock()
	return nil
}

// Leave removes the socket from group g (NETLINK_DROP_MEMBERSHIP).
func (s *Socket) Leave(g int) error {
	if g <= 0 || g > maxGroup {
		return syscall.EINVAL
	}
	s.ns.mu.Lock()
	s.groups &^= 1 << uint(g)
	s.ns.mu.Unlock()
	return nil
}

// SetOption sets a SOL_NETLINK boolean option: NETLINK_CAP_ACK,
// NETLINK_EXT_ACK or NETLINK_GET_STRICT_CHK (others: ENOPROTOOPT).
func (s *Socket) SetOption(opt int, on bool) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	switch opt {
	case unix.NETLINK_CAP_ACK:
		s.capAck = on
	case unix.NETLINK_EXT_ACK:
		s.extAck = on
	case unix.NETLINK_GET_STRICT_CHK:
		s.strict = on
	default:
		return syscall.ENOPROTOOPT
	}
	return nil
}

// Close unbinds the socket; a blocked Recv returns EBADF.
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return syscall.EBADF
	}
	s.closed = true
	s.q, s.qlen, s.qbytes, s.free = nil, 0, 0, nil
	s.cond.Broadcast()
	s.mu.Unlock()
	s.ns.removeSocket(s)
	s.srv.release(s)
	return nil
}

// Recv returns the next datagram, blocking until there is one. A
// datagram longer than buf is truncated (the rest is lost, as recvmsg
// without MSG_TRUNC). After the queue overflowed, Recv fails once with
// ENOBUFS, as the kernel reports a netlink overrun.
func (s *Socket) Recv(buf []byte) (int, error) { return s.recv(buf, nil) }

// RecvAppend appends the next datagram to b, whatever its size, and
// returns the extended slice: for a pump that must pass datagrams on
// whole (the daemon), as iproute2 sizes its buffer with MSG_PEEK|MSG_TRUNC.
func (s *Socket) RecvAppend(b []byte) ([]byte, error) {
	_, err := s.recv(nil, &b)
	return b, err
}

// recv dequeues a datagram into buf (truncating) or, with grow, onto
// *grow.
func (s *Socket) recv(buf []byte, grow *[]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.qlen == 0 && !s.overrun && s.sockErr == 0 && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return 0, syscall.EBADF
	}
	if e := s.sockErr; e != 0 {
		s.sockErr = 0
		return 0, e
	}
	if s.overrun {
		s.overrun = false
		return 0, syscall.ENOBUFS
	}
	d := s.q[s.qhead]
	s.q[s.qhead] = nil
	s.qhead = (s.qhead + 1) % len(s.q)
	s.qlen--
	s.qbytes -= len(d)
	var n int
	if grow != nil {
		*grow = append(*grow, d...)
		n = len(d)
	} else {
		n = copy(buf, d)
	}
	if cap(d) <= 64<<10 && len(s.free) < 16 {
		s.free = append(s.free, d[:0])
	}
	if s.dumpRun && s.qbytes <= s.rcvbuf/2 {
		s.fillDumpLocked()
	}
	return n, nil
}

// Pending returns the number of datagrams waiting (for tests and ss).
func (s *Socket) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.qlen
}

// setErr sets the socket's pending error (sk_err), which the next Recv
// returns once. Called with the namespace state's lock, not s.mu.
func (s *Socket) setErr(e syscall.Errno) {
	s.mu.Lock()
	s.sockErr = e
	s.cond.Signal()
	s.mu.Unlock()
}

// enqueue copies a datagram into the receive queue. A full queue drops it
// and marks the overrun unless force is set (dump data is only queued
// when there is room, so it passes force).
func (s *Socket) enqueue(d []byte) {
	s.mu.Lock()
	s.enqueueLocked(d, false)
	s.mu.Unlock()
}

func (s *Socket) enqueueLocked(d []byte, force bool) {
	if s.closed {
		return
	}
	if !force && s.qbytes+len(d) > s.rcvbuf {
		s.overrun = true
		s.cond.Signal()
		return
	}
	var b []byte
	if n := len(s.free); n > 0 && cap(s.free[n-1]) >= len(d) {
		b = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		b = make([]byte, 0, max(len(d), 256))
	}
	b = append(b[:0], d...)
	if s.qlen == len(s.q) {
		nq := make([][]byte, 2*len(s.q))
		for i := range s.qlen {
			nq[i] = s.q[(s.qhead+i)%len(s.q)]
		}
		s.q, s.qhead = nq, 0
	}
	s.q[(s.qhead+s.qlen)%len(s.q)] = b
	s.qlen++
	s.qbytes += len(b)
	s.cond.Signal()
}

// startDump queues the first datagrams of a dump just written into
// s.dump; s.mu not held.
func (s *Socket) startDump() {
	s.mu.Lock()
	s.dumpIdx, s.dumpRun = 0, true
	s.fillDumpLocked()
	s.mu.Unlock()
}

// fillDumpLocked moves dump datagrams into the queue while it is below
// the receive buffer, always at least one (netlink_dump).
func (s *Socket) fillDumpLocked() {
	for s.dumpIdx < s.dump.NumDatagrams() {
		d := s.dump.Datagram(s.dumpIdx)
		if s.qlen > 0 && s.qbytes+len(d) > s.rcvbuf {
			return
		}
		s.enqueueLocked(d, true)
		s.dumpIdx++
	}
	s.dumpRun = false
}

// dumping reports whether a dump is still being delivered.
func (s *Socket) dumping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dumpRun
}
