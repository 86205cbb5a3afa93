package fib_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/stack"
)

// rig is a namespace with eth0 (10.0.0.1/24) and eth1 (10.0.1.1/24), both
// up with carrier, on a simulation.
func rig(t *testing.T) (*stack.Stack, *stack.Namespace) {
	t.Helper()
	s, err := stack.NewSim(1)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := s.Add("a")
	peer, _ := s.Add("b")
	for i, name := range []string{"eth0", "eth1"} {
		d, p, err := veth.Create(veth.End{Table: ns.Dev, Name: name}, veth.End{Table: peer.Dev, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		d.Up()
		p.Up()
		pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 1}), 24)
		if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: pfx.Addr(), Prefix: pfx}); err != nil {
			t.Fatal(err)
		}
	}
	s.Sim.RunFor(time.Millisecond)
	return s, ns
}

func TestAddFlagsAndErrors(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	mk := func(gw string, prio uint32) fib.Route {
		return fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("192.0.2.0/24"), Priority: prio,
			Type: unix.RTN_UNICAST, Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr(gw)}}}
	}
	create := uint16(unix.NLM_F_CREATE)
	if err := f.Add(mk("10.0.0.2", 0), create|unix.NLM_F_EXCL, fib.Info{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(mk("10.0.0.3", 0), create|unix.NLM_F_EXCL, fib.Info{}); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("EXCL on an existing route: %v", err)
	}
	if err := f.Add(mk("10.0.0.3", 0), unix.NLM_F_REPLACE, fib.Info{}); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if err := f.Add(mk("10.0.0.9", 7), unix.NLM_F_REPLACE, fib.Info{}); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("replace of a missing route without CREATE: %v", err)
	}
	if err := f.Add(mk("10.0.1.2", 0), create|unix.NLM_F_APPEND, fib.Info{}); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := f.Add(mk("172.16.0.1", 9), create, fib.Info{}); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("unreachable gateway: %v", err)
	}
	// A local address as gateway is accepted, as Linux 6.x does (the
	// gateway resolves through the connected route).
	if err := f.Add(mk("10.0.0.1", 9), create, fib.Info{}); err != nil {
		t.Fatalf("local gateway: %v", err)
	}
	rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("192.0.2.7")})
	if err != nil || rt.Gateway.String() != "10.0.0.3" || rt.Src.String() != "10.0.0.1" {
		t.Fatalf("lookup after replace and append: %+v %v (the first alias wins)", rt, err)
	}
	if err := f.Delete(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("192.0.2.0/24"), Scope: unix.RT_SCOPE_NOWHERE}, fib.Info{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("198.51.100.0/24"), Scope: unix.RT_SCOPE_NOWHERE}, fib.Info{}); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("delete of a missing route: %v", err)
	}
}

func TestMultipathSpreadsFlowsByWeight(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	f.Sysctl().MultipathHashPolicy = 1
	err := f.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: unix.RTN_UNICAST,
		Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.2"), Weight: 1}, {Gateway: netip.MustParseAddr("10.0.1.2"), Weight: 3}}},
		unix.NLM_F_CREATE, fib.Info{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for port := 0; port < 4000; port++ {
		rt, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("203.0.113.9"), Proto: 6, Sport: uint16(10000 + port), Dport: 80})
		if err != nil {
			t.Fatal(err)
		}
		count[rt.Dev.Name()]++
	}
	// Weights 1:3 → about 1000 and 3000 flows.
	if count["eth0"] < 800 || count["eth0"] > 1200 || count["eth1"] < 2800 {
		t.Fatalf("flows per path %v, want about 1000/3000", count)
	}
	// Policy 0 (L3) ignores ports: one path for all.
	f.Sysctl().MultipathHashPolicy = 0
	first := ""
	for port := 0; port < 100; port++ {
		rt, _ := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("203.0.113.9"), Proto: 6, Sport: uint16(10000 + port), Dport: 80})
		if first == "" {
			first = rt.Dev.Name()
		} else if rt.Dev.Name() != first {
			t.Fatalf("L3 hash moved a flow between paths by port")
		}
	}
}

func TestPMTUExpiresAndIsBounded(t *testing.T) {
	s, ns := rig(t)
	f := ns.FIB
	dst := netip.MustParseAddr("10.0.0.2")
	f.UpdatePMTU(dst, 1200, s.Sim.Now())
	if rt, _ := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: dst}); rt.MTU != 1200 {
		t.Fatalf("mtu %d after frag-needed 1200", rt.MTU)
	}
	f.UpdatePMTU(dst, 100, s.Sim.Now())
	if rt, _ := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: dst}); rt.MTU != 552 {
		t.Fatalf("mtu %d below min_pmtu, want 552", rt.MTU)
	}
	s.Sim.RunFor(601 * time.Second)
	if rt, _ := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: dst}); rt.MTU != 0 {
		t.Fatalf("mtu %d after mtu_expires, want the device's (0)", rt.MTU)
	}
	for i := 0; i < 10000; i++ {
		f.UpdatePMTU(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1000, s.Sim.Now())
	}
	if n := f.PMTUEntries(); n > f.Sysctl().MaxPMTUEntries {
		t.Fatalf("%d exceptions held, bound %d", n, f.Sysctl().MaxPMTUEntries)
	}
}

func TestLinkDownFlushesSilently(t *testing.T) {
	_, ns := rig(t)
	f := ns.FIB
	var events int
	f.Subscribe(func(ev fib.Event, r *fib.Route, rule *fib.Rule, info fib.Info) { events++ })
	eth1 := ns.Dev.ByName("eth1")
	eth1.Down()
	if events != 0 {
		t.Fatalf("%d notifications for a link-down flush, Linux sends none", events)
	}
	n := 0
	f.Walk(0, func(r *fib.Route) bool {
		if r.Nexthops[0].Ifindex == eth1.Ifindex() && r.Type != unix.RTN_LOCAL {
			n++
		}
		return true
	})
	if n != 0 {
		t.Fatalf("%d routes through the down link remain (only local ones should)", n)
	}
	if _, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("10.0.1.9")}); !errors.Is(err, syscall.ENETUNREACH) {
		t.Fatalf("lookup through a down link: %v", err)
	}
}

// BenchmarkRouteOutput is the per-packet output lookup of a namespace
// with a few routes (list-backed tables) and a default route.
func BenchmarkRouteOutput(b *testing.B) {
	s, err := stack.NewSim(1)
	if err != nil {
		b.Fatal(err)
	}
	ns, _ := s.Add("a")
	peer, _ := s.Add("b")
	d, p, err := veth.Create(veth.End{Table: ns.Dev, Name: "eth0"}, veth.End{Table: peer.Dev, Name: "eth0"})
	if err != nil {
		b.Fatal(err)
	}
	d.Up()
	p.Up()
	pfx := netip.MustParsePrefix("10.0.0.1/24")
	if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: pfx.Addr(), Prefix: pfx}); err != nil {
		b.Fatal(err)
	}
	err = ns.FIB.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: unix.RTN_UNICAST,
		Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.254")}}}, unix.NLM_F_CREATE, fib.Info{})
	if err != nil {
		b.Fatal(err)
	}
	k := ipv4.FlowKey{Dst: netip.MustParseAddr("8.8.8.8"), Src: netip.MustParseAddr("10.0.0.1")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ns.IPv4.RouteOutput(&k); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPMTULockedMetric: a route whose MTU metric is locked ignores
// frag-needed (ip_rt_update_pmtu with RTAX_MTU locked).
func TestPMTULockedMetric(t *testing.T) {
	s, ns := rig(t)
	f := ns.FIB
	err := f.Add(fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("192.0.2.0/24"), Type: unix.RTN_UNICAST,
		Metrics:  fib.Metrics{Lock: 1 << unix.RTAX_MTU, MTU: 1400},
		Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.2")}}}, unix.NLM_F_CREATE, fib.Info{})
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.MustParseAddr("192.0.2.9")
	f.UpdatePMTU(dst, 1000, s.Sim.Now())
	if rt, _ := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: dst}); rt.MTU != 1400 {
		t.Fatalf("mtu %d after frag-needed on a locked route, want the metric 1400", rt.MTU)
	}
	if n := f.PMTUEntries(); n != 0 {
		t.Fatalf("%d exceptions recorded for a locked route", n)
	}
}
