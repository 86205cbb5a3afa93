package tsharktest

import (
	"encoding/binary"
	"net/netip"
)

// Hand-built frames for the tests: the checker must be judged against
// bytes we control completely, not against another package's encoder.

var (
	macA = [6]byte{0x02, 0, 0, 0, 0, 0x0a}
	macB = [6]byte{0x02, 0, 0, 0, 0, 0x0b}
	ipA  = netip.MustParseAddr("10.0.0.1")
	ipB  = netip.MustParseAddr("10.0.0.2")
)

func ethHeader(dst, src [6]byte, etherType uint16) []byte {
	b := append(dst[:], src[:]...)
	return binary.BigEndian.AppendUint16(b, etherType)
}

// arpRequest asks who has target, from sender.
func arpRequest(srcMAC [6]byte, sender, target netip.Addr) []byte {
	b := ethHeader([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, srcMAC, 0x0806)
	b = append(b, 0, 1, 0x08, 0, 6, 4, 0, 1) // Ethernet, IPv4, sizes, request
	b = append(b, srcMAC[:]...)
	b = append(b, sender.AsSlice()...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, target.AsSlice()...)
	return append(b, make([]byte, 18)...) // pad to the 60-byte minimum
}

// ipv4 wraps an already finished transport segment in an IPv4 header
// and an Ethernet header. When breakSum is set the IPv4 header checksum
// is off by one.
func ipv4(dst, src [6]byte, from, to netip.Addr, proto byte, l4 []byte, breakSum bool) []byte {
	ip := []byte{0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0}
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	ip = append(ip, from.AsSlice()...)
	ip = append(ip, to.AsSlice()...)
	sum := checksum(ip)
	if breakSum {
		sum++
	}
	binary.BigEndian.PutUint16(ip[10:], sum)
	b := ethHeader(dst, src, 0x0800)
	b = append(b, ip...)
	return append(b, l4...)
}

// l4Sum fills in a UDP (proto 17) or TCP (proto 6) checksum at offset
// off of seg, over the IPv4 pseudo-header and the segment.
func l4Sum(seg []byte, off int, proto byte, from, to netip.Addr) {
	ph := append(from.AsSlice(), to.AsSlice()...)
	ph = append(ph, 0, proto, byte(len(seg)>>8), byte(len(seg)))
	sum := checksum(append(ph, seg...))
	if proto == 17 && sum == 0 {
		sum = 0xffff // 0 means "no checksum" in UDP
	}
	binary.BigEndian.PutUint16(seg[off:], sum)
}

// udp builds a UDP datagram in IPv4 in Ethernet, its checksum broken by
// one when breakSum is set.
func udp(from, to netip.Addr, breakSum bool) []byte {
	seg := []byte{0x30, 0x39, 0x30, 0x3a, 0, 0, 0, 0}
	seg = append(seg, "usnet udp"...)
	binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)))
	l4Sum(seg, 6, 17, from, to)
	if breakSum {
		seg[6]++
	}
	return ipv4(macB, macA, from, to, 17, seg, false)
}

// tcpSYN builds a bare TCP SYN in IPv4 in Ethernet, its checksum broken
// by one when breakSum is set.
func tcpSYN(from, to netip.Addr, breakSum bool) []byte {
	seg := []byte{
		0x30, 0x39, 0, 80, // ports 12345 -> 80
		0, 0, 0, 1, 0, 0, 0, 0, // seq 1, ack 0
		0x50, 0x02, 0xff, 0xff, // 20-byte header, SYN, window
		0, 0, 0, 0, // checksum, urgent pointer
	}
	l4Sum(seg, 16, 6, from, to)
	if breakSum {
		seg[16]++
	}
	return ipv4(macB, macA, from, to, 6, seg, false)
}

// icmpEcho builds an echo request (or reply) in IPv4 in Ethernet. When
// breakIPSum is set the IPv4 header checksum is off by one.
func icmpEcho(dst, src [6]byte, from, to netip.Addr, reply bool, seq uint16, breakIPSum bool) []byte {
	payload := []byte("usnet tsharktest payload 0123456789")
	icmp := []byte{8, 0, 0, 0, 0x12, 0x34, byte(seq >> 8), byte(seq)}
	if reply {
		icmp[0] = 0
	}
	icmp = append(icmp, payload...)
	binary.BigEndian.PutUint16(icmp[2:], checksum(icmp))
	return ipv4(dst, src, from, to, 1, icmp, breakIPSum)
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
