package rtnl

import (
	"net/netip"
	"testing"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"github.com/usnet/usnet/stack"
	"golang.org/x/sys/unix"
)

// benchEnv is a real-time stack with a dummy device carrying 10.0.0.1/8,
// so that routes via 10.x gateways resolve.
func benchEnv(b *testing.B) (*stack.Stack, *Socket) {
	st, err := stack.NewRealtime()
	if err != nil {
		b.Fatal(err)
	}
	srv := New(st)
	s, err := srv.Open("", Cred{Admin: true})
	if err != nil {
		b.Fatal(err)
	}
	s.SetRcvBuf(1 << 30)
	l := rtmsg.Link{Name: "d0", Info: &rtmsg.LinkInfo{Kind: "dummy"}, Flags: unix.IFF_UP, Change: unix.IFF_UP}
	send(b, s, unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&l))
	a := rtmsg.Addr{Family: unix.AF_INET, PrefixLen: 8, Index: 2, Local: netip.MustParseAddr("10.0.0.1"), Address: netip.MustParseAddr("10.0.0.1")}
	send(b, s, unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, enc(&a))
	return st, s
}

func send(b *testing.B, s *Socket, typ, flags uint16, p []byte) {
	if err := s.Send(netlink.AppendMessage(nil, netlink.Header{Type: typ, Flags: flags | unix.NLM_F_REQUEST}, p)); err != nil {
		b.Fatal(err)
	}
}

func routeMsg(b []byte, i int, seq uint32) []byte {
	dst := netip.AddrFrom4([4]byte{byte(20 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
	r := rtmsg.Route{Family: unix.AF_INET, DstLen: 32, Table8: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_STATIC,
		Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST, Dst: dst, Gateway: netip.MustParseAddr("10.0.0.2")}
	start := len(b)
	b = netlink.AppendHeader(b, netlink.Header{Type: unix.RTM_NEWROUTE, Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL, Seq: seq})
	b, _ = r.AppendBinary(b)
	e := netlink.NewAttributeEncoder(b)
	e.EndMessage(start)
	return e.Bytes()
}

// BenchmarkRouteAdd adds routes through netlink in batches of 256
// RTM_NEWROUTE messages with NLM_F_ACK, as `ip -batch` would; one op is
// one route.
func BenchmarkRouteAdd(b *testing.B) {
	_, s := benchEnv(b)
	const batch = 256
	var buf []byte
	rbuf := make([]byte, 1<<16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			buf = buf[:0]
			for j := range batch {
				buf = routeMsg(buf, i+j, uint32(i+j))
			}
			if err := s.Send(buf); err != nil {
				b.Fatal(err)
			}
			for s.Pending() > 0 {
				s.Recv(rbuf)
			}
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "routes/s")
}

// BenchmarkDumpRoutes1M dumps a FIB of 1,000,000 routes through netlink;
// one op is the whole dump.
func BenchmarkDumpRoutes1M(b *testing.B) {
	st, s := benchEnv(b)
	ns := st.Default()
	ns.Exec().Do(func() {
		for i := range 1_000_000 {
			dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(20 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)}), 32)
			ns.FIB.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: dst, Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_STATIC,
				Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.2"), Ifindex: 2, Weight: 1}}}, unix.NLM_F_CREATE, fib.Info{})
		}
	})
	s.SetRcvBuf(DefaultRcvBuf)
	rbuf := make([]byte, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		send(b, s, unix.RTM_GETROUTE, unix.NLM_F_DUMP, make([]byte, unix.SizeofRtMsg))
		n := 0
		for done := false; !done; {
			k, err := s.Recv(rbuf)
			if err != nil {
				b.Fatal(err)
			}
			it := netlink.NewMessageIter(rbuf[:k])
			for it.Next() {
				if it.Header().Type == unix.NLMSG_DONE {
					done = true
				}
				n++
			}
		}
		if n < 1_000_000 {
			b.Fatalf("dumped %d", n)
		}
	}
}
