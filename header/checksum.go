package header

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// The Internet checksum (RFC 1071) is the ones' complement of the ones'
// complement sum of the data taken as big-endian 16-bit words. Sum returns
// the folded sum (not complemented) so partial sums over scattered data
// can be added; Checksum returns the value that goes on the wire.

// Sum returns the 16-bit ones' complement sum of b added to initial. It is
// the equivalent of Linux's csum_partial folded with csum_fold (without
// the final complement).
func Sum(b []byte, initial uint16) uint16 {
	// The ones' complement sum commutes with byte swapping (RFC 1071
	// section 2(B)), so the data is read as little-endian 64-bit words,
	// which is a plain load on the common hosts, and the folded result is
	// swapped back once at the end.
	s := fold64(sumLE(b))
	s = bits.ReverseBytes16(s)
	return add16(s, initial)
}

// Checksum returns the Internet checksum of b: the complement of Sum(b, 0).
func Checksum(b []byte) uint16 { return ^Sum(b, 0) }

// sumLE adds b as little-endian 64-bit words with end-around carry.
func sumLE(b []byte) uint64 {
	var acc, c uint64
	// Four independent loads per iteration feed one carry chain; the
	// compiler turns bits.Add64 into ADC, so the loop runs at about one
	// word per cycle.
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, c, 0)
	// The tail: at most 7 bytes. Word boundaries stay even relative to the
	// start of b, so a lone last byte is the low byte of a little-endian
	// 16-bit word, which is the zero-padded high byte once swapped.
	var t uint64
	var sh uint
	if len(b) >= 4 {
		t = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
		sh = 32
	}
	if len(b) >= 2 {
		t |= uint64(binary.LittleEndian.Uint16(b)) << sh
		b = b[2:]
		sh += 16
	}
	if len(b) == 1 {
		t |= uint64(b[0]) << sh
	}
	acc, c = bits.Add64(acc, t, c)
	return acc + c
}

// fold64 folds a 64-bit end-around-carry accumulator to 16 bits.
func fold64(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}

// add16 is ones' complement addition of two 16-bit values.
func add16(a, b uint16) uint16 {
	s := uint32(a) + uint32(b)
	return uint16(s + s>>16)
}

// Combine adds sumB, the Sum of a block that starts offset bytes after
// the block whose sum is sumA, to sumA (Linux's csum_block_add). A block
// starting at an odd offset has its bytes in the other halves of the
// 16-bit words, so its sum is byte-swapped first.
func Combine(sumA, sumB uint16, offset int) uint16 {
	if offset&1 != 0 {
		sumB = bits.ReverseBytes16(sumB)
	}
	return add16(sumA, sumB)
}

// Update16 returns checksum check updated for one 16-bit word of the
// covered data changing from old to new, per RFC 1624 equation 3:
// HC' = ~(~HC + ~m + m'). Unlike RFC 1141's form it never produces
// 0x0000 from a valid checksum of non-zero data.
func Update16(check, old, new uint16) uint16 {
	return ^add16(add16(^check, ^old), new)
}

// Update32 is Update16 for a 32-bit aligned value such as an IPv4 address
// rewritten by NAT.
func Update32(check uint16, old, new uint32) uint16 {
	s := add16(^check, ^uint16(old>>16))
	s = add16(s, ^uint16(old))
	s = add16(s, uint16(new>>16))
	s = add16(s, uint16(new))
	return ^s
}

// PseudoHeaderSum returns the Sum of the TCP/UDP pseudo-header: the
// source and destination addresses, the protocol and the transport
// length. IPv4 addresses (or IPv4-mapped IPv6 ones) give the RFC 793
// 12-byte form; IPv6 addresses give the RFC 8200 40-byte form. An invalid
// address counts as zeros.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint16 {
	src, dst = src.Unmap(), dst.Unmap()
	var s uint16
	if src.Is4() || dst.Is4() {
		s = addrSum4(src)
		s = add16(s, addrSum4(dst))
		s = add16(s, uint16(proto))
		return add16(s, uint16(length))
	}
	if src.Is6() {
		a := src.As16()
		s = Sum(a[:], s)
	}
	if dst.Is6() {
		a := dst.As16()
		s = Sum(a[:], s)
	}
	s = add16(s, uint16(uint32(length)>>16))
	s = add16(s, uint16(length))
	return add16(s, uint16(proto))
}

func addrSum4(a netip.Addr) uint16 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return add16(uint16(b[0])<<8|uint16(b[1]), uint16(b[2])<<8|uint16(b[3]))
}
