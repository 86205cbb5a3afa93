package offload

import (
	"encoding/binary"

	"github.com/usnet/usnet/header"
	"github.com/usnet/usnet/skb"
)

// Framing says where the IP header of a received frame starts.
type Framing uint8

const (
	// Ethernet frames carry a 14-byte Ethernet II header in front of IP,
	// as netdev.NAPI hands them to Device.Receive.
	Ethernet Framing = iota
	// IP frames start at the IPv4 header (tun-like devices, or a caller
	// that has pulled the link header already).
	IP
)

// MaxGROSize bounds a coalesced packet: its IP total length fits the
// 16-bit field (gro_max_size 65536 minus one).
const MaxGROSize = header.IPv4MaxPacket

// GRO coalesces the TCP/IPv4 segments of a received batch (Linux's
// napi_gro_receive with inet_gro_receive and tcp4_gro_receive). A run of
// consecutive frames of one flow whose sequence numbers continue one
// another, with identical link, IP (but for length, ID and checksum) and
// TCP headers (but for sequence number, checksum and PSH), becomes one
// packet of up to MaxGROSize bytes: the first frame's headers, every
// frame's payload, GSOSize the first payload's size and GSOType
// GSOTCPv4, as if the peer had sent a GSO super-packet. Each segment's
// checksum is verified (unless its Csum state says it was already) and
// the result carries a correct TCP checksum and CsumUnnecessary.
//
// A frame with SYN, FIN, RST, URG or CWR, without ACK, with IP options, a
// fragment, an empty or bad-checksum segment or anything not TCP/IPv4
// passes through unchanged, in order; so does any frame that does not
// continue the run before it. A segment shorter than the first, or with
// PSH, is merged and ends the run, as in Linux.
//
// The zero value is ready for Ethernet frames. A GRO is not safe for
// concurrent use: give each NAPI context its own.
type GRO struct {
	Framing Framing

	cur   *skb.Buf // the run being built, nil if none
	s     seg      // its headers, over cur's bytes
	n     int      // segments merged into cur
	mss   int      // payload size of the first segment
	next  uint32   // sequence number that continues the run
	id    uint16   // IP ID of the last segment merged
	psum  uint16   // Sum of cur's TCP payload so far
	ended bool     // the last segment ended the run (short or PSH)
}

// Receive moves every frame of in to out, coalescing as described on GRO.
// It takes ownership of in's Bufs and leaves in empty; out, a different
// batch, receives the result after whatever it already holds.
func (g *GRO) Receive(in, out *skb.Batch) {
	l2 := 0
	if g.Framing == Ethernet {
		l2 = ethHdrLen
	}
	for _, b := range in.Bufs() {
		s, sum, ok := g.candidate(b, l2)
		if !ok {
			g.flush(out)
			out.Add(b)
			continue
		}
		if g.cur != nil && g.canMerge(b, &s) && g.append(b, &s, sum) {
			b.Free()
			continue
		}
		g.flush(out)
		g.start(b, s, sum)
	}
	g.flush(out)
	in.Reset()
}

// candidate reports whether b can take part in coalescing and returns its
// headers and the Sum of its TCP payload.
func (g *GRO) candidate(b *skb.Buf, l2 int) (seg, uint16, bool) {
	if b.GSOSize != 0 {
		return seg{}, 0, false
	}
	data := b.Bytes()
	if l2 == ethHdrLen && (len(data) < ethHdrLen || binary.BigEndian.Uint16(data[12:14]) != etherTypeIPv4) {
		return seg{}, 0, false
	}
	s, ok := parseTCP4(data, l2)
	if !ok || s.ihl != header.IPv4MinLen || s.payloadLen() == 0 || s.l2+s.tot != len(data) {
		return seg{}, 0, false
	}
	t := s.tcp()
	const never = header.TCPFlagSYN | header.TCPFlagFIN | header.TCPFlagRST | header.TCPFlagURG | header.TCPFlagCWR
	if f := t.Flags(); f&never != 0 || f&header.TCPFlagACK == 0 {
		return seg{}, 0, false
	}
	psum := header.Sum(s.payload(), 0)
	if b.Csum == skb.CsumNone {
		// Verify now (tcp_v4_rcv would): a bad segment is left for TCP
		// to drop and count, never hidden inside a merged one.
		sum := csumAdd(s.ip().PseudoSum(len(t)), header.Sum(t[:s.thl], 0))
		if csumAdd(sum, psum) != 0xffff {
			return seg{}, 0, false
		}
	}
	return s, psum, true
}

// start makes b the first segment of a new run.
func (g *GRO) start(b *skb.Buf, s seg, psum uint16) {
	g.cur, g.s, g.n = b, s, 1
	g.mss = s.payloadLen()
	t := s.tcp()
	g.next = t.Seq() + uint32(g.mss)
	g.id = s.ip().ID()
	g.psum = psum
	g.ended = t.Flags()&header.TCPFlagPSH != 0
}

// canMerge compares b's headers with the run's, as inet_gro_receive and
// tcp_gro_receive decide between merging and flushing.
func (g *GRO) canMerge(b *skb.Buf, s *seg) bool {
	c := &g.s
	if g.ended || s.thl != c.thl || s.payloadLen() > g.mss || c.tot+s.payloadLen() > MaxGROSize {
		return false
	}
	x, y := s.data, c.data
	// Link header: same addresses and type.
	for i := range s.l2 {
		if x[i] != y[i] {
			return false
		}
	}
	ip, cip := s.ip(), c.ip()
	// Version/IHL, TOS; flags/fragment; TTL, protocol; addresses.
	if ip[0] != cip[0] || ip[1] != cip[1] || ip[6] != cip[6] || ip[7] != cip[7] ||
		ip[8] != cip[8] || ip[9] != cip[9] || [8]byte(ip[12:20]) != [8]byte(cip[12:20]) {
		return false
	}
	// IDs count up by one per segment; a DF sender may also repeat one.
	if id := ip.ID(); id != g.id+1 && !(id == g.id && ip.Flags()&header.IPv4FlagDF != 0) {
		return false
	}
	t, ct := s.tcp(), c.tcp()
	if t.Seq() != g.next {
		return false
	}
	// Ports, ACK number, data offset, flags but PSH, window.
	if [4]byte(t[0:4]) != [4]byte(ct[0:4]) || [4]byte(t[8:12]) != [4]byte(ct[8:12]) ||
		t[12] != ct[12] || (t[13]^ct[13])&^byte(header.TCPFlagPSH) != 0 ||
		[2]byte(t[14:16]) != [2]byte(ct[14:16]) {
		return false
	}
	// Options byte for byte: timestamps included.
	for i := header.TCPMinLen; i < s.thl; i++ {
		if t[i] != ct[i] {
			return false
		}
	}
	return true
}

// append adds b's payload to the run, growing the first segment's
// buffer to the largest size class on the first merge. It reports false
// if the buffer cannot grow.
func (g *GRO) append(b *skb.Buf, s *seg, psum uint16) bool {
	cur := g.cur
	p := s.payload()
	if cur.Tailroom() < len(p) {
		if !cur.Expand(cur.Headroom(), g.s.l2+MaxGROSize-cur.Len()) {
			return false
		}
		// Expand moved the data: rebase the header view.
		g.s.data = cur.Bytes()
	}
	// The payload sum of data placed at an odd offset is byte-swapped.
	g.psum = header.Combine(g.psum, psum, g.s.payloadLen())
	cur.Append(p)
	g.s.data = cur.Bytes()
	g.s.tot += len(p)
	g.n++
	g.next += uint32(len(p))
	g.id = s.ip().ID()
	t := s.tcp()
	if t.Flags()&header.TCPFlagPSH != 0 {
		g.s.tcp()[13] |= byte(header.TCPFlagPSH)
		g.ended = true
	}
	if len(p) < g.mss {
		g.ended = true
	}
	return true
}

// flush finishes the run, if any, and adds it to out (napi_gro_complete):
// a single segment goes out untouched, a merged one gets its new length,
// header checksums and GSO marking.
func (g *GRO) flush(out *skb.Batch) {
	cur := g.cur
	if cur == nil {
		return
	}
	g.cur = nil
	if g.n > 1 {
		s := &g.s
		ip := s.ip()
		ip.SetTotalLength(uint16(s.tot))
		ip.FillChecksum()
		t := s.tcp()
		sum := csumAdd(ip.PseudoSum(len(t)), tcpHeaderSum(t, s.thl))
		t.SetChecksum(^csumAdd(sum, g.psum))
		cur.Csum = skb.CsumUnnecessary
		cur.GSOSize = uint16(g.mss)
		cur.GSOType = skb.GSOTCPv4
		pos := cur.Pos()
		if s.l2 > 0 {
			cur.L2 = pos
		}
		cur.L3 = pos + int32(s.l2)
		cur.L4 = cur.L3 + int32(s.ihl)
	}
	out.Add(cur)
	g.s = seg{}
}
