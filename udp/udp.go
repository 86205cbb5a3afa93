// Package udp is UDP over IPv4 for a namespace (net/ipv4/udp.c): the
// socket table with bind, connect, SO_REUSEADDR/SO_REUSEPORT and ephemeral
// ports from ip_local_port_range, receive demultiplexing (connected
// 4-tuple first, then the bound address, then the wildcard), bounded
// receive queues, checksums, ICMP port-unreachable for datagrams nobody
// wants, and ICMP errors surfaced on connected sockets.
//
// Sockets here are sans-IO endpoints on the namespace executor; package
// socket wraps them in net.PacketConn and net.Conn.
package udp

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// DefaultRcvBuf is net.core.rmem_default: the receive queue bound in bytes.
const DefaultRcvBuf = 212992

// Stats are the "Udp:" SNMP counters.
type Stats struct {
	InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors uint64
}

// Datagram is a received datagram: payload and the peer.
type Datagram struct {
	Buf  *skb.Buf // starts at the payload
	From netip.AddrPort
	To   netip.Addr
}

// Sock is a UDP socket endpoint. Its methods run on the executor.
type Sock struct {
	t         *Table
	Local     netip.AddrPort
	Remote    netip.AddrPort // valid when connected
	ReuseAddr bool
	ReusePort bool
	Broadcast bool
	RcvBuf    int
	queue     []Datagram
	queued    int   // truesize charged to the socket (sk_rmem_alloc)
	err       error // pending ICMP error (sk_err)
	bound     bool
	closed    bool
	// OnReadable is called when a datagram or an error arrives.
	OnReadable func()
	// OnQueue, when set, takes every accepted datagram instead of the
	// socket's own queue: package socket hands datagrams straight to its
	// reader, as a kernel socket's receive queue is shared with the reader
	// under a lock, so a read costs no call onto the executor. The
	// datagram stays charged (truesize) until Uncharge; OnQueue raises
	// readiness itself.
	OnQueue func(Datagram)
	// OnError is called when an ICMP error is recorded: an OnQueue reader
	// then asks TakeErr before its queue, as Linux checks sk_err first.
	OnError func()
	encap   EncapRcv // tunnel socket: datagrams bypass the queue (encap.go)
}

// Table is the UDP state of a namespace.
type Table struct {
	ip     *ipv4.Layer
	socks  map[uint16][]*Sock
	nextEp uint16
	Stats  Stats
}

// New creates the UDP layer of a namespace and registers protocol 17.
func New(ip *ipv4.Layer) *Table {
	t := &Table{ip: ip, socks: map[uint16][]*Sock{}}
	t.nextEp = uint16(ip.Exec().Rand().Uint32())
	ip.Register(17, t)
	return t
}

// NewSock returns an unbound socket.
func (t *Table) NewSock() *Sock { return &Sock{t: t, RcvBuf: DefaultRcvBuf} }

// conflict reports whether binding s to a would clash with o (the rules of
// udp_lib_lport_inuse: same port, overlapping addresses, unless both set
// SO_REUSEADDR or both SO_REUSEPORT).
func conflict(s, o *Sock, a netip.Addr) bool {
	if o.Local.Addr().IsValid() && !o.Local.Addr().IsUnspecified() && !a.IsUnspecified() && o.Local.Addr() != a {
		return false
	}
	return !(s.ReuseAddr && o.ReuseAddr) && !(s.ReusePort && o.ReusePort)
}

// Bind binds s to addr (port 0: an ephemeral port). EADDRINUSE on a clash,
// EADDRNOTAVAIL for an address that is not local.
func (s *Sock) Bind(addr netip.AddrPort) error {
	t := s.t
	if s.bound {
		return syscall.EINVAL
	}
	a := addr.Addr()
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	if !a.IsUnspecified() && !t.ip.IsLocal(a) && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return syscall.EADDRNOTAVAIL
	}
	port := addr.Port()
	if port == 0 {
		lo, hi := t.ip.Sysctl.LocalPortLow, t.ip.Sysctl.LocalPortHigh
		n := int(hi) - int(lo) + 1
		for i := 0; i < n; i++ {
			t.nextEp++
			p := lo + uint16(int(t.nextEp)%n)
			if !t.inUse(s, a, p) {
				port = p
				break
			}
		}
		if port == 0 {
			return syscall.EAGAIN
		}
	} else if t.inUse(s, a, port) {
		return syscall.EADDRINUSE
	}
	s.Local = netip.AddrPortFrom(a, port)
	s.bound = true
	t.socks[port] = append(t.socks[port], s)
	return nil
}

func (t *Table) inUse(s *Sock, a netip.Addr, port uint16) bool {
	for _, o := range t.socks[port] {
		if conflict(s, o, a) {
			return true
		}
	}
	return false
}

// Connect sets the default peer; it binds an ephemeral port and picks the
// source address from the route when unbound (ip4_datagram_connect).
func (s *Sock) Connect(to netip.AddrPort) error {
	rt, err := s.t.ip.RouteOutput(&ipv4.FlowKey{Dst: to.Addr(), Src: s.srcAddr(), Proto: 17, Dport: to.Port()})
	if err != nil {
		return err
	}
	if !s.bound {
		if err := s.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0)); err != nil {
			return err
		}
	}
	if s.Local.Addr().IsUnspecified() {
		s.Local = netip.AddrPortFrom(rt.Src, s.Local.Port())
	}
	s.Remote = to
	return nil
}

func (s *Sock) srcAddr() netip.Addr {
	if s.Local.Addr().IsValid() && !s.Local.Addr().IsUnspecified() {
		return s.Local.Addr()
	}
	return netip.Addr{}
}

// SendTo sends p to dst (the connected peer when dst is invalid).
// EDESTADDRREQ when neither is set, EACCES for a broadcast without
// SO_BROADCAST, EMSGSIZE over 65507 bytes.
func (s *Sock) SendTo(p []byte, dst netip.AddrPort) error {
	t := s.t
	if s.closed {
		return syscall.EBADF
	}
	if !dst.IsValid() {
		if !s.Remote.IsValid() {
			return syscall.EDESTADDRREQ
		}
		dst = s.Remote
	}
	if len(p) > 65507 {
		return syscall.EMSGSIZE
	}
	if !s.bound {
		if err := s.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0)); err != nil {
			return err
		}
	}
	rt, err := t.ip.RouteOutput(&ipv4.FlowKey{Dst: dst.Addr(), Src: s.srcAddr(), Proto: 17, Sport: s.Local.Port(), Dport: dst.Port()})
	if err != nil {
		return err
	}
	if rt.Type == 3 /* RTN_BROADCAST */ && !s.Broadcast {
		return syscall.EACCES
	}
	b := t.ip.Pool().Get(skb.DefaultHeadroom, 8+len(p))
	if b == nil {
		return syscall.ENOBUFS
	}
	h := b.Put(8)
	b.Append(p)
	binary.BigEndian.PutUint16(h[0:], s.Local.Port())
	binary.BigEndian.PutUint16(h[2:], dst.Port())
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(p)))
	h[6], h[7] = 0, 0
	c := ipv4.TransportChecksum(rt.Src, dst.Addr(), 17, b.Bytes())
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(h[6:], c)
	t.Stats.OutDatagrams++
	return t.ip.Output(b, rt.Src, dst.Addr(), 17, &rt, ipv4.SendOpts{})
}

// Recv pops the next datagram; ok is false when the queue is empty. A
// pending ICMP error is returned first (and cleared), as recvmsg does.
func (s *Sock) Recv() (d Datagram, err error, ok bool) {
	if s.err != nil {
		err, s.err = s.err, nil
		return d, err, true
	}
	if len(s.queue) == 0 {
		return d, nil, false
	}
	d = s.queue[0]
	s.queue[0] = Datagram{}
	s.queue = s.queue[1:]
	s.queued -= d.Buf.Truesize()
	return d, nil, true
}

// Uncharge releases n bytes of truesize of datagrams that OnQueue's
// consumer has read (udp_rmem_release).
func (s *Sock) Uncharge(n int) { s.queued = max(0, s.queued-n) }

// TakeErr returns and clears the pending error (sock_error).
func (s *Sock) TakeErr() error {
	err := s.err
	s.err = nil
	return err
}

// Readable reports whether Recv would return something.
func (s *Sock) Readable() bool { return s.err != nil || len(s.queue) > 0 }

// Close unbinds the socket and frees queued datagrams.
func (s *Sock) Close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, d := range s.queue {
		d.Buf.Free()
	}
	s.queue = nil
	if s.bound {
		l := s.t.socks[s.Local.Port()]
		for i, o := range l {
			if o == s {
				s.t.socks[s.Local.Port()] = append(l[:i], l[i+1:]...)
				break
			}
		}
		if len(s.t.socks[s.Local.Port()]) == 0 {
			delete(s.t.socks, s.Local.Port())
		}
	}
}

// lookup finds the socket for a datagram (__udp4_lib_lookup): the best
// score wins — connected match over bound address over wildcard.
func (t *Table) lookup(src netip.AddrPort, dst netip.AddrPort) *Sock {
	var best *Sock
	bestScore := -1
	for _, s := range t.socks[dst.Port()] {
		score := 0
		if a := s.Local.Addr(); !a.IsUnspecified() {
			if a != dst.Addr() {
				continue
			}
			score += 2
		}
		if s.Remote.IsValid() {
			if s.Remote != src {
				continue
			}
			score += 4
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

// Receive is the protocol handler (udp_rcv).
func (t *Table) Receive(b *skb.Buf, src, dst netip.Addr, dev *netdev.Device) {
	data := b.Bytes()
	if len(data) < 8 {
		t.Stats.InErrors++
		b.Free()
		return
	}
	ulen := int(binary.BigEndian.Uint16(data[4:]))
	if ulen < 8 || ulen > len(data) {
		t.Stats.InErrors++
		b.Free()
		return
	}
	b.Trim(ulen)
	data = b.Bytes()
	if binary.BigEndian.Uint16(data[6:]) != 0 && b.Csum == skb.CsumNone &&
		ipv4.TransportChecksum(src, dst, 17, data) != 0 {
		t.Stats.InCsumErrors++
		t.Stats.InErrors++
		b.Free()
		return
	}
	sport, dport := binary.BigEndian.Uint16(data[0:]), binary.BigEndian.Uint16(data[2:])
	from := netip.AddrPortFrom(src, sport)
	s := t.lookup(from, netip.AddrPortFrom(dst, dport))
	if s == nil {
		t.Stats.NoPorts++
		if b.PktType == skb.PacketHost {
			b.Push(int(b.Pos() - b.L3)) // back to the IP header for the quote
			t.ip.PortUnreachable(b, dev)
		}
		b.Free()
		return
	}
	if s.encap != nil {
		t.encapDeliver(s, b, from, netip.AddrPortFrom(dst, dport), dev)
		return
	}
	// The bound is on truesize, as __udp_enqueue_schedule_skb's: a
	// flood of tiny datagrams costs what their buffers cost. An empty
	// socket takes one datagram whatever its size.
	if s.queued > 0 && s.queued+b.Truesize() > s.RcvBuf {
		t.Stats.RcvbufErrors++
		t.Stats.InErrors++
		b.Free()
		return
	}
	b.Pull(8)
	t.Stats.InDatagrams++
	s.queued += b.Truesize()
	if s.OnQueue != nil {
		s.OnQueue(Datagram{Buf: b, From: from, To: dst})
		return
	}
	s.queue = append(s.queue, Datagram{Buf: b, From: from, To: dst})
	if s.OnReadable != nil {
		s.OnReadable()
	}
}

// Error is told of ICMP errors about datagrams we sent (__udp4_lib_err):
// a connected socket records it for its next receive.
func (t *Table) Error(typ, code uint8, info uint32, inner []byte) {
	ihl := int(inner[0]&0x0f) * 4
	if len(inner) < ihl+8 {
		return
	}
	src := netip.AddrFrom4([4]byte(inner[12:16]))
	dst := netip.AddrFrom4([4]byte(inner[16:20]))
	u := inner[ihl:]
	sport, dport := binary.BigEndian.Uint16(u[0:]), binary.BigEndian.Uint16(u[2:])
	s := t.lookup(netip.AddrPortFrom(dst, dport), netip.AddrPortFrom(src, sport))
	if s == nil || !s.Remote.IsValid() {
		return
	}
	s.err = ipv4.ICMPErrno(typ, code)
	if s.OnError != nil {
		s.OnError()
	}
	if s.OnReadable != nil {
		s.OnReadable()
	}
}
