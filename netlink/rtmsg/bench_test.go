package rtmsg

import (
	"testing"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

func BenchmarkRouteEncode(b *testing.B) {
	r := &Route{Family: unix.AF_INET, DstLen: 24, Table8: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNICAST,
		Table: unix.RT_TABLE_MAIN, Dst: v4("198.51.100.0"), Gateway: v4("192.0.2.254"), OIF: 3}
	e := netlink.NewAttributeEncoder(make([]byte, 0, 256))
	b.ReportAllocs()
	for b.Loop() {
		e.Reset(e.Bytes()[:0])
		m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWROUTE, Flags: unix.NLM_F_MULTI})
		r.Encode(e)
		e.EndMessage(m)
	}
}

func BenchmarkRouteDecode(b *testing.B) {
	r := &Route{Family: unix.AF_INET, DstLen: 24, Table: unix.RT_TABLE_MAIN, Dst: v4("198.51.100.0"), Gateway: v4("192.0.2.254"), OIF: 3}
	p, _ := r.MarshalBinary()
	var out Route
	b.ReportAllocs()
	for b.Loop() {
		if err := out.UnmarshalBinary(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLinkDecodeKernel(b *testing.B) {
	t := &testing.T{}
	msgs := refMessages(t, "dump-link.txt")
	if len(msgs) == 0 {
		b.Skip("no recording")
	}
	p := msgs[1].Data // veth1, 1480 bytes of attributes
	var l Link
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if err := l.UnmarshalBinary(p); err != nil {
			b.Fatal(err)
		}
	}
}
