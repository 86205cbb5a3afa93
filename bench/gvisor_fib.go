package bench

import (
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// gvisorFIB inserts n seeded random prefixes into a gVisor stack's route
// table with AddRoute, then times FindRoute for seeded addresses and
// charges the heap growth to the routes. gVisor keeps routes in a linked
// list sorted by prefix length, so both insert and lookup are linear.
func gvisorFIB(n int) Runner {
	return func(env *Env) (Figures, string, error) {
		n := fibSize(env, n)
		prefixes := RandomPrefixes(n)
		s := stack.New(stack.Options{NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol}})
		defer func() { s.Close(); s.Wait() }()
		if err := s.CreateNIC(1, channel.New(0, 1500, "")); err != nil {
			return nil, "", fmt.Errorf("CreateNIC: %v", err)
		}
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
			AddressWithPrefix: tcpip.AddressWithPrefix{Address: gvAddr(addrA), PrefixLen: 24}}
		if err := s.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
			return nil, "", fmt.Errorf("AddProtocolAddress: %v", err)
		}
		s.AddRoute(tcpip.Route{Destination: gvSubnet(netip.MustParsePrefix("0.0.0.0/0")), NIC: 1})
		routes := make([]tcpip.Route, n)
		for i, p := range prefixes {
			routes[i] = tcpip.Route{Destination: gvSubnet(p), NIC: 1}
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		for _, r := range routes {
			s.AddRoute(r)
		}
		ins := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(routes) // its size was allocated before m0
		mem := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)

		addrs := LookupAddrs(prefixes, 100000)
		budget := Pick(env, 2*time.Second, 200*time.Millisecond)
		t0 = time.Now()
		k := 0
		for k < len(addrs) && (k < 10 || time.Since(t0) < budget) {
			r, err := s.FindRoute(0, tcpip.Address{}, gvAddr(addrs[k]), ipv4.ProtocolNumber, false)
			if err != nil {
				return nil, "", fmt.Errorf("FindRoute %v: %v", addrs[k], err)
			}
			r.Release()
			k++
		}
		look := time.Since(t0)
		return Figures{
				"insert":  float64(ins.Nanoseconds()) / float64(n),
				"lookup":  float64(look.Nanoseconds()) / float64(k),
				"memory":  mem,
				"total-s": ins.Seconds(),
			}, fmt.Sprintf("%d routes inserted in %.2fs with AddRoute (sorted linked list), %d FindRoute lookups (includes Route object)",
				n, ins.Seconds(), k), nil
	}
}

// fibSize scales a FIB size down for smoke runs.
func fibSize(env *Env, n int) int { return Pick(env, n, max(100, n/100)) }
