package header_test

import (
	"net/netip"
	"testing"

	"github.com/usnet/usnet/header"
)

func benchSum(b *testing.B, n, off int) {
	buf := make([]byte, n+off)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	data := buf[off:]
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var s uint16
	for b.Loop() {
		s = header.Sum(data, s)
	}
	_ = s
}

func BenchmarkChecksum1500(b *testing.B)     { benchSum(b, 1500, 0) }
func BenchmarkChecksum1500Odd(b *testing.B)  { benchSum(b, 1500, 1) }
func BenchmarkChecksum65536(b *testing.B)    { benchSum(b, 65536, 0) }
func BenchmarkChecksum65536Odd(b *testing.B) { benchSum(b, 65536, 1) }
func BenchmarkChecksum40(b *testing.B)       { benchSum(b, 40, 0) }

// ipTCPPacket is an IPv4 datagram carrying a TCP SYN-ACK with Linux's
// options (mss, sackOK, TS, nop, wscale) and 100 bytes of data.
func ipTCPPacket(tb testing.TB) []byte {
	tb.Helper()
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	tf := header.TCPFields{SrcPort: 80, DstPort: 40000, Seq: 1, Ack: 2, Flags: header.TCPFlagSYN | header.TCPFlagACK,
		Window: 65160, Options: header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true,
			HasTimestamps: true, TSVal: 100, TSEcr: 200, HasWScale: true, WScale: 7}}
	pkt := make([]byte, 20+tf.HeaderLen()+100)
	seg, err := header.BuildTCP(pkt[20:], &tf)
	if err != nil {
		tb.Fatal(err)
	}
	seg.FillChecksum(src, dst)
	ipf := header.IPv4Fields{TTL: 64, Protocol: header.IPProtoTCP, Src: src, Dst: dst, Flags: header.IPv4FlagDF}
	if _, err := header.BuildIPv4(pkt, &ipf); err != nil {
		tb.Fatal(err)
	}
	return pkt
}

// parseIPTCP is the receive path's header work for one segment.
func parseIPTCP(pkt []byte, o *header.TCPOptions) error {
	h, err := header.ParseIPv4(pkt)
	if err != nil {
		return err
	}
	var io header.IPv4Options
	if _, err := h.ParseOptions(&io); err != nil {
		return err
	}
	seg, err := header.ParseTCP(h.Payload())
	if err != nil {
		return err
	}
	if err := seg.VerifyChecksumSum(h.PseudoSum(len(seg))); err != nil {
		return err
	}
	return seg.ParseOptions(o)
}

func TestParseIPTCPNoAlloc(t *testing.T) {
	pkt := ipTCPPacket(t)
	var o header.TCPOptions
	allocs := testing.AllocsPerRun(100, func() {
		if err := parseIPTCP(pkt, &o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || !o.HasTimestamps || o.TSEcr != 200 || o.WScale != 7 {
		t.Fatalf("allocs %v options %+v", allocs, o)
	}
	// Rejecting garbage must not allocate either.
	bad := append([]byte(nil), pkt...)
	bad[8]++
	allocs = testing.AllocsPerRun(100, func() {
		if parseIPTCP(bad, &o) == nil {
			t.Fatal("accepted a bad checksum")
		}
	})
	if allocs != 0 {
		t.Fatalf("error path allocates %v", allocs)
	}
}

func BenchmarkParseIPv4TCP(b *testing.B) {
	pkt := ipTCPPacket(b)
	var o header.TCPOptions
	b.ReportAllocs()
	for b.Loop() {
		if err := parseIPTCP(pkt, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildTCPOptions(b *testing.B) {
	o := header.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 1, HasWScale: true, WScale: 7}
	var buf [40]byte
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Encode(buf[:]); err != nil {
			b.Fatal(err)
		}
	}
}
