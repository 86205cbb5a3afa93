package bench

import (
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/drivers/veth"
	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/stack"
)

// usnetFIB inserts n seeded random prefixes into a usnet namespace's FIB
// (fib.FIB.Add, the call rtnetlink's RTM_NEWROUTE handler makes), then
// times route-output lookups for seeded addresses (the full
// ip_route_output path: rules, table, source selection) and charges the
// heap growth to the routes.
func usnetFIB(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		n := fibSize(env, n)
		prefixes := RandomPrefixes(n)
		s, err := stack.NewSim(1)
		if err != nil {
			return nil, "", err
		}
		ns, _ := s.Add("fib")
		peer, _ := s.Add("peer")
		d, p, err := veth.Create(veth.End{Table: ns.Dev, Name: "eth0"}, veth.End{Table: peer.Dev, Name: "eth0"})
		if err != nil {
			return nil, "", err
		}
		d.Up()
		p.Up()
		pa := netip.PrefixFrom(addrA, 24)
		if _, err := ns.IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: addrA, Prefix: pa}); err != nil {
			return nil, "", err
		}
		s.Sim.RunFor(time.Millisecond)
		idx := d.Ifindex()
		// A default route, as the gVisor runner has: lookups always succeed.
		def := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: unix.RTN_UNICAST,
			Scope: unix.RT_SCOPE_LINK, Nexthops: []fib.Nexthop{{Ifindex: idx}}}
		if err := ns.FIB.Add(def, unix.NLM_F_CREATE, fib.Info{}); err != nil {
			return nil, "", err
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		for _, pf := range prefixes {
			r := fib.Route{Table: unix.RT_TABLE_MAIN, Dst: pf, Type: unix.RTN_UNICAST, Scope: unix.RT_SCOPE_LINK,
				Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{{Ifindex: idx}}}
			if err := ns.FIB.Add(r, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); err != nil {
				return nil, "", fmt.Errorf("add %v: %w", pf, err)
			}
		}
		ins := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		mem := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
		addrs := LookupAddrs(prefixes, 100000)
		budget := Pick(env, 2*time.Second, 200*time.Millisecond)
		t0 = time.Now()
		k := 0
		for k < len(addrs) && (k < 10 || time.Since(t0) < budget) {
			if _, err := ns.IPv4.RouteOutput(&ipv4.FlowKey{Dst: addrs[k]}); err != nil {
				return nil, "", fmt.Errorf("lookup %v: %w", addrs[k], err)
			}
			k++
		}
		look := time.Since(t0)
		runtime.KeepAlive(s)
		return Figures{
			"insert":  float64(ins.Nanoseconds()) / float64(n),
			"lookup":  float64(look.Nanoseconds()) / float64(k),
			"memory":  mem,
			"total-s": ins.Seconds(),
		}, fmt.Sprintf("%d routes via fib.FIB.Add in %.2fs; %d RouteOutput lookups (rules, table, source selection)", n, ins.Seconds(), k), nil
	}
}
