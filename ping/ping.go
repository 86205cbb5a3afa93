// Package ping is Linux's ICMP echo socket (net/ipv4/ping.c, socket(AF_INET,
// SOCK_DGRAM, IPPROTO_ICMP)): an unprivileged socket that sends echo
// requests and receives the matching replies. The socket's "port" is the
// echo identifier; the layer fills it in and computes the checksum.
package ping

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/skb"
)

// Reply is a received echo reply: b starts at the ICMP header.
type Reply struct {
	Buf  *skb.Buf
	From netip.Addr
	// TTL of the reply's IP header.
	TTL uint8
}

// Sock is a ping socket endpoint (executor only).
type Sock struct {
	t      *Table
	ID     uint16
	Local  netip.Addr
	Remote netip.Addr
	queue  []Reply
	queued int
	RcvBuf int
	err    error
	closed bool
	// OnReadable is called when a reply or an error arrives.
	OnReadable func()
}

// Table holds a namespace's ping sockets.
type Table struct {
	ip    *ipv4.Layer
	socks map[uint16]*Sock
	next  uint16
}

// New attaches ping sockets to the IPv4 layer (it takes the echo-reply hook).
func New(ip *ipv4.Layer) *Table {
	t := &Table{ip: ip, socks: map[uint16]*Sock{}, next: uint16(ip.Exec().Rand().Uint32())}
	ip.SetEchoHandler(t.receive)
	ip.SetEchoErrorHandler(t.icmpError)
	return t
}

// NewSock binds a socket to an identifier (0: a free one).
func (t *Table) NewSock(id uint16) (*Sock, error) {
	if id == 0 {
		for i := 0; i < 65536 && id == 0; i++ {
			t.next++
			if t.next != 0 && t.socks[t.next] == nil {
				id = t.next
			}
		}
		if id == 0 {
			return nil, syscall.EAGAIN
		}
	} else if t.socks[id] != nil {
		return nil, syscall.EADDRINUSE
	}
	s := &Sock{t: t, ID: id, RcvBuf: 212992}
	t.socks[id] = s
	return s, nil
}

// SendEcho sends an echo request with the given sequence number and
// payload to dst (the connected peer when dst is invalid).
func (s *Sock) SendEcho(dst netip.Addr, seq uint16, payload []byte, ttl uint8) error {
	if s.closed {
		return syscall.EBADF
	}
	if !dst.IsValid() {
		dst = s.Remote
	}
	if !dst.IsValid() {
		return syscall.EDESTADDRREQ
	}
	ip := s.t.ip
	rt, err := ip.RouteOutput(&ipv4.FlowKey{Dst: dst, Src: s.Local, Proto: 1})
	if err != nil {
		return err
	}
	b := ip.Pool().Get(skb.DefaultHeadroom, 8+len(payload))
	if b == nil {
		return syscall.ENOBUFS
	}
	h := b.Put(8)
	h[0], h[1] = 8, 0
	h[2], h[3] = 0, 0
	binary.BigEndian.PutUint16(h[4:], s.ID)
	binary.BigEndian.PutUint16(h[6:], seq)
	b.Append(payload)
	binary.BigEndian.PutUint16(h[2:], ipv4.Checksum(b.Bytes()))
	ip.Stats.IcmpOutMsgs++
	ip.Stats.IcmpOutEchos++
	return ip.Output(b, rt.Src, dst, 1, &rt, ipv4.SendOpts{TTL: ttl})
}

// SendMsg sends an ICMP echo request given as the whole ICMP message, as a
// program writes it to a ping socket (ping_v4_sendmsg): type must be echo
// (8) with code 0 (EINVAL otherwise); the identifier and checksum are
// overwritten.
func (s *Sock) SendMsg(msg []byte, dst netip.Addr, ttl uint8) error {
	if len(msg) < 8 || msg[0] != 8 || msg[1] != 0 {
		return syscall.EINVAL
	}
	return s.SendEcho(dst, binary.BigEndian.Uint16(msg[6:]), msg[8:], ttl)
}

// Recv pops the next reply (or a pending error).
func (s *Sock) Recv() (r Reply, err error, ok bool) {
	if s.err != nil {
		err, s.err = s.err, nil
		return r, err, true
	}
	if len(s.queue) == 0 {
		return r, nil, false
	}
	r = s.queue[0]
	s.queue[0] = Reply{}
	s.queue = s.queue[1:]
	s.queued -= r.Buf.Len()
	return r, nil, true
}

// Close releases the identifier and queued replies.
func (s *Sock) Close() {
	if s.closed {
		return
	}
	s.closed = true
	delete(s.t.socks, s.ID)
	for _, r := range s.queue {
		r.Buf.Free()
	}
	s.queue = nil
}

// receive matches an echo reply to its socket by identifier.
func (t *Table) receive(b *skb.Buf, src, dst netip.Addr) {
	m := b.Bytes()
	id := binary.BigEndian.Uint16(m[4:])
	s := t.socks[id]
	if s == nil || (s.Remote.IsValid() && s.Remote != src) || s.queued+b.Len() > s.RcvBuf {
		b.Free()
		return
	}
	ttl := uint8(0)
	if l3 := b.From(b.L3); len(l3) > 8 {
		ttl = l3[8]
	}
	s.queue = append(s.queue, Reply{Buf: b, From: src, TTL: ttl})
	s.queued += b.Len()
	if s.OnReadable != nil {
		s.OnReadable()
	}
}

// icmpError reports an ICMP error about one of our echo requests to its
// socket (ping_err). Linux queues it on the socket's error queue when
// IP_RECVERR is set, which every ping program sets; usnet's ping sockets
// behave as if it always were: the next Recv returns the error.
func (t *Table) icmpError(typ, code uint8, info uint32, inner []byte) {
	ihl := int(inner[0]&0x0f) * 4
	id := binary.BigEndian.Uint16(inner[ihl+4:])
	s := t.socks[id]
	if s == nil {
		return
	}
	dst := netip.AddrFrom4([4]byte(inner[16:20]))
	if s.Remote.IsValid() && s.Remote != dst {
		return
	}
	s.err = ipv4.ICMPErrno(typ, code)
	if s.OnReadable != nil {
		s.OnReadable()
	}
}
