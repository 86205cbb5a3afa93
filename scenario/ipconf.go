package scenario

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/fib"
	"github.com/usnet/usnet/ipv4"
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

// configureIP brings lo up and applies addresses, forwarding and routes.
func configureIP(topo Topology, w *World) error {
	for _, name := range topo.Namespaces {
		w.NS[name].Lo.Up() // which gives it 127.0.0.1/8, as on Linux
	}
	for _, a := range topo.Addrs {
		d := w.Dev(a.NS, a.Dev)
		if d == nil {
			return fmt.Errorf("scenario: address %v: no device %s/%s", a.Prefix, a.NS, a.Dev)
		}
		brd := lastAddr(a.Prefix.Masked())
		if _, err := w.NS[a.NS].IPv4.AddAddr(ipv4.IfAddr{Dev: d, Local: a.Prefix.Addr(), Prefix: a.Prefix, Broadcast: brd}); err != nil {
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
		ns := w.NS[r.NS]
		if ns == nil {
			return fmt.Errorf("scenario: route %v: no namespace %s", r.Dst, r.NS)
		}
		nh := fib.Nexthop{Gateway: r.Via}
		if r.Dev != "" {
			d := ns.Dev.ByName(r.Dev)
			if d == nil {
				return fmt.Errorf("scenario: route %v: no device %s/%s", r.Dst, r.NS, r.Dev)
			}
			nh.Ifindex = d.Ifindex()
		}
		rt := fib.Route{
			Table: unix.RT_TABLE_MAIN, Dst: r.Dst.Masked(), Type: unix.RTN_UNICAST, Scope: unix.RT_SCOPE_UNIVERSE,
			Protocol: unix.RTPROT_BOOT, Nexthops: []fib.Nexthop{nh},
		}
		if !r.Via.IsValid() {
			rt.Scope = unix.RT_SCOPE_LINK
		}
		if err := ns.FIB.Add(rt, unix.NLM_F_CREATE|unix.NLM_F_EXCL, fib.Info{}); err != nil {
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
