package client

import (
	"net/netip"
	"testing"
)

// BenchmarkAddRoute adds /32 routes through the client in process: one
// RTM_NEWROUTE request and its acknowledgement per route, the client's
// encoding and decoding included.
func BenchmarkAddRoute(b *testing.B) {
	c := newInProcess(b)
	ns := c.Namespace("")
	if err := ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}); err != nil {
		b.Fatal(err)
	}
	if err := ns.AddAddr("d0", netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		b.Fatal(err)
	}
	gw := netip.MustParseAddr("10.0.0.2")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(20 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		if err := ns.AddRoute(Route{Dst: dst, Gateway: gw}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "routes/s")
}

// BenchmarkAddRoutes is BenchmarkAddRoute with AddRoutes: 256 requests
// per datagram, as rtnl's BenchmarkRouteAdd sends them.
func BenchmarkAddRoutes(b *testing.B) {
	c := newInProcess(b)
	ns := c.Namespace("")
	if err := ns.AddLink(LinkSpec{Name: "d0", Kind: "dummy", Up: true}); err != nil {
		b.Fatal(err)
	}
	if err := ns.AddAddr("d0", netip.MustParsePrefix("10.0.0.1/24")); err != nil {
		b.Fatal(err)
	}
	gw := netip.MustParseAddr("10.0.0.2")
	rs := make([]Route, 0, batchSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(20 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		rs = append(rs, Route{Dst: dst, Gateway: gw})
		if len(rs) == batchSize {
			if err := ns.AddRoutes(rs); err != nil {
				b.Fatal(err)
			}
			rs = rs[:0]
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "routes/s")
}
