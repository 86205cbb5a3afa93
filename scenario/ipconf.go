package scenario

import (
	"fmt"
	"net/netip"

	"github.com/usnet/usnet/client"
)

// Addr is an IPv4 address on a device (`ip addr add PREFIX dev DEV`).
type Addr struct {
	NS, Dev string
	Prefix  netip.Prefix
}

// Route is a route in table main (`ip route add DST [via VIA] [dev DEV]`).
type Route struct {
	NS  string
	Dst netip.Prefix
	Via netip.Addr
	Dev string
}

// configureIP brings lo up and applies addresses, forwarding and routes:
// `ip link set lo up`, `ip addr add P brd + dev D`, the ip_forward sysctl
// and `ip route add`, as rtnetlink requests.
func configureIP(topo Topology, w *World) error {
	for _, name := range topo.Namespaces {
		// Which gives it 127.0.0.1/8, as on Linux.
		if err := w.Client.Namespace(name).SetLinkUp("lo"); err != nil {
			return fmt.Errorf("scenario: %s: lo up: %w", name, err)
		}
	}
	for _, a := range topo.Addrs {
		if w.NS[a.NS] == nil {
			return fmt.Errorf("scenario: address %v: no namespace %s", a.Prefix, a.NS)
		}
		brd := lastAddr(a.Prefix.Masked())
		if err := w.Client.Namespace(a.NS).AddAddrBroadcast(a.Dev, a.Prefix, brd); err != nil {
			return fmt.Errorf("scenario: %s/%s address %v: %w", a.NS, a.Dev, a.Prefix, err)
		}
	}
	for _, name := range topo.Forwarding {
		ns := w.NS[name]
		if ns == nil {
			return fmt.Errorf("scenario: forwarding: no namespace %s", name)
		}
		ns.IPv4.SetForwarding(true)
	}
	for _, r := range topo.Routes {
		if w.NS[r.NS] == nil {
			return fmt.Errorf("scenario: route %v: no namespace %s", r.Dst, r.NS)
		}
		rt := client.Route{Dst: r.Dst.Masked(), Gateway: r.Via, Dev: r.Dev}
		if err := w.Client.Namespace(r.NS).AddRoute(rt); err != nil {
			return fmt.Errorf("scenario: %s: route %v: %w", r.NS, r.Dst, err)
		}
	}
	return nil
}

// lastAddr is the subnet broadcast address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if p.Bits() < 32 {
		v |= ^uint32(0) >> p.Bits()
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
