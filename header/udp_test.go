package header_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

var (
	src4 = netip.MustParseAddr("192.0.2.1")
	dst4 = netip.MustParseAddr("198.51.100.2")
)

// refTransportChecksum computes a transport checksum the slow way over an
// explicit IPv4 pseudo-header.
func refTransportChecksum(src, dst netip.Addr, proto uint8, seg []byte) uint16 {
	s, d := src.As4(), dst.As4()
	ph := append(append(append([]byte(nil), s[:]...), d[:]...), 0, proto, byte(len(seg)>>8), byte(len(seg)))
	return ^refSum(append(ph, seg...))
}

func TestUDP(t *testing.T) {
	b := make([]byte, 8+5, 20)
	copy(b[8:], "hello")
	u, err := header.BuildUDP(b, header.UDPFields{SrcPort: 5353, DstPort: 53})
	if err != nil {
		t.Fatal(err)
	}
	u.FillChecksum(src4, dst4)
	want := refTransportChecksum(src4, dst4, header.IPProtoUDP, append(b[:6:6], 0, 0, 'h', 'e', 'l', 'l', 'o'))
	if u.Checksum() != want {
		t.Fatalf("checksum %#x want %#x", u.Checksum(), want)
	}
	// Trailing bytes beyond the length field are trimmed.
	p, err := header.ParseUDP(b[:cap(b)])
	if err != nil {
		t.Fatal(err)
	}
	if p.SrcPort() != 5353 || p.DstPort() != 53 || p.Length() != 13 || string(p.Payload()) != "hello" {
		t.Fatal("fields")
	}
	if err := p.VerifyChecksum(src4, dst4); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifyChecksum(src4, netip.MustParseAddr("198.51.100.3")); !errors.Is(err, header.ErrBadChecksum) {
		t.Fatalf("wrong address: %v", err)
	}
	// Zero checksum: none over IPv4, invalid over IPv6.
	p.SetChecksum(0)
	if err := p.VerifyChecksum(src4, dst4); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifyChecksum(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")); !errors.Is(err, header.ErrBadChecksum) {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", b[:7], header.ErrTruncated},
		{"len > buffer", []byte{0, 1, 0, 2, 0, 9, 0, 0}, header.ErrTruncated},
		{"len < 8", []byte{0, 1, 0, 2, 0, 7, 0, 0}, header.ErrBadLength},
	} {
		if _, err := header.ParseUDP(tt.b); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestUDPChecksumZeroBecomesOnes(t *testing.T) {
	// Find a payload whose checksum computes to zero; it must go out as
	// 0xffff, which still verifies.
	b := make([]byte, 10)
	u, _ := header.BuildUDP(b, header.UDPFields{SrcPort: 1, DstPort: 2})
	for x := range 1 << 16 {
		b[8], b[9] = byte(x>>8), byte(x)
		u.FillChecksum(src4, dst4)
		if u.Checksum() == 0xffff {
			if err := u.VerifyChecksum(src4, dst4); err != nil {
				t.Fatal(err)
			}
			return
		}
		if u.Checksum() == 0 {
			t.Fatal("sent a zero checksum")
		}
	}
	t.Fatal("no payload gave a zero checksum")
}
