package stack

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/arp"
	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
)

// inetAddrs answers ARP's questions about the namespace's IPv4 state
// (arp.Addrs) from the IPv4 layer and the FIB: the devinet.c and
// fib_frontend.c helpers arp.c calls.
type inetAddrs struct {
	l      *ipv4.Layer
	router ipv4.Router
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// AddrType is inet_addr_type_dev_table: what table local says of ip.
func (a *inetAddrs) AddrType(dev *netdev.Device, ip netip.Addr) uint8 {
	switch {
	case ip.IsMulticast():
		return unix.RTN_MULTICAST
	case ip == limitedBroadcast || ip.IsUnspecified():
		return unix.RTN_BROADCAST
	case a.l.IsLocal(ip):
		return unix.RTN_LOCAL
	}
	for _, d := range a.l.Devices().Devices() {
		if !d.IsUp() {
			continue
		}
		for _, ifa := range a.l.Addrs(d.Ifindex()) {
			if ifa.Broadcast == ip {
				return unix.RTN_BROADCAST
			}
			sub := ifa.Subnet()
			if !ifa.Secondary() && sub.Bits() < 31 && lastAddr(sub) == ip {
				return unix.RTN_BROADCAST
			}
		}
	}
	return unix.RTN_UNICAST
}

// lastAddr returns the all-ones host address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= ^uint32(0) >> p.Bits()
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// SelectSource is inet_select_addr.
func (a *inetAddrs) SelectSource(dev *netdev.Device, dst netip.Addr, scope uint8) (netip.Addr, bool) {
	s := a.l.SelectSource(dev, dst, scope)
	return s, s.IsValid()
}

// ConfirmAddr is inet_confirm_addr.
func (a *inetAddrs) ConfirmAddr(dev *netdev.Device, dst, local netip.Addr, scope uint8) bool {
	check := func(d *netdev.Device) bool {
		for _, ifa := range a.l.Addrs(d.Ifindex()) {
			if ifa.Scope > scope {
				continue
			}
			if local.IsValid() && ifa.Local != local {
				continue
			}
			if dst.IsValid() && !ifa.Subnet().Contains(dst) {
				continue
			}
			return true
		}
		return false
	}
	if dev != nil {
		return check(dev)
	}
	for _, d := range a.l.Devices().Devices() {
		if check(d) {
			return true
		}
	}
	return false
}

// OnLink is inet_addr_onlink.
func (a *inetAddrs) OnLink(dev *netdev.Device, x, y netip.Addr) bool {
	for _, ifa := range a.l.Addrs(dev.Ifindex()) {
		if s := ifa.Subnet(); s.Contains(x) && (!y.IsValid() || s.Contains(y)) {
			return true
		}
	}
	return false
}

// DevAddrs lists dev's addresses for gratuitous ARP.
func (a *inetAddrs) DevAddrs(dev *netdev.Device) []netip.Prefix {
	var out []netip.Prefix
	for _, ifa := range a.l.Addrs(dev.Ifindex()) {
		out = append(out, ifa.Prefix)
	}
	return out
}

// RouteInput is ip_route_input as arp_process uses it.
func (a *inetAddrs) RouteInput(dev *netdev.Device, dst, src netip.Addr) (uint8, *netdev.Device, bool) {
	if a.router == nil {
		return 0, nil, false
	}
	var rt ipv4.Route
	if err := a.router.RouteInput(&ipv4.FlowKey{Dst: dst, Src: src, Iif: dev.Ifindex()}, dev, &rt); err != nil {
		return 0, nil, false
	}
	return rt.Type, rt.Dev, true
}

// RouteOutput is ip_route_output as arp_filter uses it.
func (a *inetAddrs) RouteOutput(dst, src netip.Addr) (*netdev.Device, bool) {
	if a.router == nil {
		return nil, false
	}
	rt, err := a.router.RouteOutput(&ipv4.FlowKey{Dst: dst, Src: src})
	if err != nil {
		return nil, false
	}
	return rt.Dev, true
}

// Conf maps the device's effective net.ipv4.conf values to ARP's.
func (a *inetAddrs) Conf(dev *netdev.Device) arp.Conf {
	e := a.l.Effective(dev.Ifindex())
	accept := 0
	if e.ARPAccept {
		accept = 1
	}
	return arp.Conf{
		Ignore: e.ARPIgnore, Announce: e.ARPAnnounce, Accept: accept, Filter: e.ARPFilter,
		Notify: e.ARPNotify, ProxyARP: e.ProxyARP, Forwarding: e.Forwarding,
	}
}
