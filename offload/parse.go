package offload

import (
	"encoding/binary"

	"github.com/usnet/usnet/header"
)

const (
	etherTypeIPv4 = 0x0800
	ethHdrLen     = 14
	tcpCsumOff    = 16 // checksum field within the TCP header
	flagDF        = 0x4000
	fragMask      = 0x3fff // MF and the fragment offset
)

// seg locates the headers of one TCP/IPv4 packet within a frame.
type seg struct {
	l2   int // bytes of link header in front of IP
	ihl  int // IP header length
	thl  int // TCP header length
	tot  int // IP total length; the frame is l2+tot bytes
	data []byte
}

func (s *seg) ip() header.IPv4 { return header.IPv4(s.data[s.l2 : s.l2+s.tot]) }
func (s *seg) tcp() header.TCP { return header.TCP(s.data[s.l2+s.ihl : s.l2+s.tot]) }
func (s *seg) hdrLen() int     { return s.l2 + s.ihl + s.thl }
func (s *seg) payload() []byte { return s.data[s.hdrLen() : s.l2+s.tot] }
func (s *seg) payloadLen() int { return s.tot - s.ihl - s.thl }
func (s *seg) tcpOff() int     { return s.l2 + s.ihl }

// parseTCP4 checks that frame[l2:] is an unfragmented IPv4 datagram
// carrying a whole TCP header, as ip_rcv_core and tcp_v4_rcv would
// before looking further, and records where the headers are. Frames
// longer than the IP total length (link padding) are accepted; the
// caller decides what to do with the padding.
func parseTCP4(frame []byte, l2 int) (seg, bool) {
	if l2 < 0 || len(frame) < l2 {
		return seg{}, false
	}
	h, err := header.ParseIPv4(frame[l2:])
	if err != nil || h.Protocol() != header.IPProtoTCP || h.IsFragment() {
		return seg{}, false
	}
	ihl := h.HeaderLen()
	t, err := header.ParseTCP(h[ihl:])
	if err != nil {
		return seg{}, false
	}
	return seg{l2: l2, ihl: ihl, thl: t.HeaderLen(), tot: len(h), data: frame}, true
}

// csumAdd is ones' complement addition.
func csumAdd(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// tcpHeaderSum is the Sum of a TCP header taken with a zero checksum
// field, whatever the field holds.
func tcpHeaderSum(t header.TCP, thl int) uint16 {
	return csumAdd(header.Sum(t[:thl], 0), ^binary.BigEndian.Uint16(t[tcpCsumOff:]))
}
