package ipv4

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/header"
)

// Header field offsets and constants of the IPv4 header (RFC 791).
const (
	hdrLen    = 20
	flagDF    = 0x4000
	flagMF    = 0x2000
	offMask   = 0x1fff
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// Checksum returns the internet checksum of data.
func Checksum(data []byte) uint16 { return header.Checksum(data) }

// TransportChecksum computes the TCP/UDP/ICMP-style checksum over seg with
// the pseudo-header (proto 1, ICMP, has none: pass an invalid src).
func TransportChecksum(src, dst netip.Addr, proto uint8, seg []byte) uint16 {
	var acc uint16
	if src.IsValid() {
		acc = header.PseudoHeaderSum(src, dst, proto, len(seg))
	}
	return ^header.Sum(seg, acc)
}

// hdr is a validated IPv4 header view.
type hdr []byte

func (h hdr) ihl() int        { return int(h[0]&0x0f) * 4 }
func (h hdr) tos() uint8      { return h[1] }
func (h hdr) totLen() int     { return int(binary.BigEndian.Uint16(h[2:])) }
func (h hdr) id() uint16      { return binary.BigEndian.Uint16(h[4:]) }
func (h hdr) fragOff() uint16 { return binary.BigEndian.Uint16(h[6:]) }
func (h hdr) ttl() uint8      { return h[8] }
func (h hdr) proto() uint8    { return h[9] }
func (h hdr) src() netip.Addr { return netip.AddrFrom4([4]byte(h[12:16])) }
func (h hdr) dst() netip.Addr { return netip.AddrFrom4([4]byte(h[16:20])) }
func (h hdr) isFragment() bool {
	return h.fragOff()&(flagMF|offMask) != 0
}

// setChecksum recomputes the header checksum.
func (h hdr) setChecksum() {
	h[10], h[11] = 0, 0
	binary.BigEndian.PutUint16(h[10:], Checksum(h[:h.ihl()]))
}

// decTTL decrements the TTL with the incremental checksum update of
// RFC 1624 (ip_decrease_ttl).
func (h hdr) decTTL() { header.IPv4(h).DecTTL() }

// fillHeader writes a 20-byte header with its checksum.
func fillHeader(h []byte, tos uint8, totLen int, id uint16, frag uint16, ttl, proto uint8, src, dst netip.Addr) {
	h[0] = 0x45
	h[1] = tos
	binary.BigEndian.PutUint16(h[2:], uint16(totLen))
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = ttl
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:16], s[:])
	copy(h[16:20], d[:])
	hdr(h).setChecksum()
}

// checkOptions walks the options of a header with ihl > 5 as
// ip_options_compile does for safety: lengths must fit, and it returns the
// offset of the first bad byte (for an ICMP parameter problem), or -1.
func checkOptions(opts []byte) int {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0: // end of list
			return -1
		case 1: // no-op
			i++
			continue
		}
		if i+1 >= len(opts) {
			return hdrLen + i
		}
		l := int(opts[i+1])
		if l < 2 || i+l > len(opts) {
			return hdrLen + i + 1
		}
		i += l
	}
	return -1
}
