package fib_test

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
)

// TestRouteGenBumps: every kind of change that can change a lookup's
// answer moves the namespace's route generation (rt_cache_flush), so a
// socket's cached route is known stale; lookups alone do not.
func TestRouteGenBumps(t *testing.T) {
	s, ns := rig(t)
	f, l := ns.FIB, ns.IPv4
	eth0 := ns.Dev.ByName("eth0")
	gw := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("192.0.2.0/24"), Type: unix.RTN_UNICAST,
		Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.2")}}}
	rule := fib.Rule{Priority: 100, Action: unix.FR_ACT_TO_TBL, Table: 100, SuppressPrefixLen: -1, SuppressIfgroup: -1}
	steps := []struct {
		name string
		do   func() error
	}{
		{"route add", func() error { return f.Add(gw, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}) }},
		{"route replace", func() error {
			r := gw
			r.Nexthops = []fib.Nexthop{{Gateway: netip.MustParseAddr("10.0.0.3")}}
			return f.Add(r, unix.NLM_F_REPLACE, fib.Info{})
		}},
		{"route del", func() error { return f.Delete(fib.Route{Table: gw.Table, Dst: gw.Dst}, fib.Info{}) }},
		{"rule add", func() error { return f.AddRule(rule, unix.NLM_F_CREATE, fib.Info{}) }},
		{"rule del", func() error { return f.DelRule(rule, fib.Info{}) }},
		{"pmtu", func() error { f.UpdatePMTU(netip.MustParseAddr("10.0.0.2"), 1400, s.Sim.Now()); return nil }},
		{"pmtu expiry", func() error { s.Sim.RunFor(601 * time.Second); return nil }},
		{"address add", func() error {
			p := netip.MustParsePrefix("10.9.0.1/24")
			_, err := l.AddAddr(ipv4.IfAddr{Dev: eth0, Local: p.Addr(), Prefix: p})
			return err
		}},
		{"address del", func() error { return l.DelAddr(eth0, netip.MustParseAddr("10.9.0.1"), 24) }},
		{"accept_local", func() error { return l.SetConf(eth0.Ifindex(), ipv4.ConfAcceptLocal, 1) }},
		{"accept_local 0", func() error { return l.SetConf(eth0.Ifindex(), ipv4.ConfAcceptLocal, 0) }},
		{"link down", func() error { eth0.Down(); return nil }},
		{"link up", func() error { eth0.Up(); return nil }},
	}
	for _, st := range steps {
		before, ok := l.RouteGen()
		if !ok {
			t.Fatal("the FIB keeps no route generation")
		}
		for range 3 {
			if _, err := l.RouteOutput(&ipv4.FlowKey{Dst: netip.MustParseAddr("192.0.2.1"), Proto: 6}); err != nil && st.name == "route add" {
				break
			}
		}
		if g, _ := l.RouteGen(); g != before {
			t.Fatalf("before %s: lookups moved the generation", st.name)
		}
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if g, _ := l.RouteGen(); g == before {
			t.Errorf("%s: route generation unchanged", st.name)
		}
	}
}
