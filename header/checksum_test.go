package header_test

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

// refSum is RFC 1071's reference algorithm: 16-bit big-endian words, a
// zero-padded odd byte, carries folded at the end.
func refSum(b []byte) uint16 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func TestSumRFC1071Example(t *testing.T) {
	// RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := header.Sum(b, 0); got != 0xddf2 {
		t.Fatalf("Sum = %#04x, want 0xddf2", got)
	}
	if got := header.Checksum(b); got != ^uint16(0xddf2) {
		t.Fatalf("Checksum = %#04x", got)
	}
}

func TestSumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 70000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	lengths := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 1499, 1500, 1501, 9001, 65535, 65536}
	for off := 0; off < 8; off++ {
		for _, n := range lengths {
			b := buf[off : off+n]
			if got, want := header.Sum(b, 0), refSum(b); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
				t.Fatalf("off %d len %d: Sum %#04x, ref %#04x", off, n, got, want)
			}
		}
	}
	for range 2000 {
		off, n := r.IntN(64), r.IntN(3000)
		b := buf[off : off+n]
		init := uint16(r.Uint32())
		got := header.Sum(b, init)
		want := refSum(append(binary.BigEndian.AppendUint16(nil, init), b...))
		if got != want {
			t.Fatalf("off %d len %d init %#x: Sum %#04x, ref %#04x", off, n, init, got, want)
		}
	}
}

func TestSumAllOnes(t *testing.T) {
	// Maximal carries: every 64-bit add overflows.
	b := make([]byte, 4096+3)
	for i := range b {
		b[i] = 0xff
	}
	for n := range len(b) {
		if got, want := header.Sum(b[:n], 0), refSum(b[:n]); got != want {
			t.Fatalf("len %d: %#x want %#x", n, got, want)
		}
	}
}

func TestCombine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 2000)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for range 500 {
		n := r.IntN(len(b))
		cut := r.IntN(n + 1)
		whole := header.Sum(b[:n], 0)
		parts := header.Combine(header.Sum(b[:cut], 0), header.Sum(b[cut:n], 0), cut)
		if whole != parts && !(whole == 0xffff && parts == 0) && !(whole == 0 && parts == 0xffff) {
			t.Fatalf("n %d cut %d: whole %#x, combined %#x", n, cut, whole, parts)
		}
	}
}

func TestUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		b := make([]byte, 20)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		binary.BigEndian.PutUint16(b[10:], 0)
		check := header.Checksum(b)
		binary.BigEndian.PutUint16(b[10:], check)

		// 16-bit change.
		old := binary.BigEndian.Uint16(b[8:])
		nw := uint16(r.Uint32())
		binary.BigEndian.PutUint16(b[8:], nw)
		check = header.Update16(check, old, nw)
		binary.BigEndian.PutUint16(b[10:], check)
		if header.Sum(b, 0) != 0xffff {
			t.Fatalf("Update16 left an invalid checksum")
		}
		// 32-bit change (NAT of an address).
		old32 := binary.BigEndian.Uint32(b[12:])
		nw32 := r.Uint32()
		binary.BigEndian.PutUint32(b[12:], nw32)
		check = header.Update32(check, old32, nw32)
		binary.BigEndian.PutUint16(b[10:], check)
		if header.Sum(b, 0) != 0xffff {
			t.Fatalf("Update32 left an invalid checksum")
		}
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	ph := []byte{192, 0, 2, 1, 198, 51, 100, 7, 0, 17, 0x05, 0xdc}
	if got, want := header.PseudoHeaderSum(src, dst, 17, 1500), refSum(ph); got != want {
		t.Fatalf("v4: %#x want %#x", got, want)
	}
	if got, want := header.PseudoHeaderSum(netip.AddrFrom16(src.As16()), dst, 17, 1500), refSum(ph); got != want {
		t.Fatalf("v4-mapped: %#x want %#x", got, want)
	}
	s6, d6 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	a, b := s6.As16(), d6.As16()
	ph6 := append(append(a[:], b[:]...), 0, 1, 0, 0, 0, 0, 0, 6)
	if got, want := header.PseudoHeaderSum(s6, d6, 6, 65536), refSum(ph6); got != want {
		t.Fatalf("v6: %#x want %#x", got, want)
	}
	// Invalid addresses must not panic.
	_ = header.PseudoHeaderSum(netip.Addr{}, netip.Addr{}, 6, 20)
}
