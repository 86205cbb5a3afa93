package ipv4

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/netdev"
)

// IfAddr is an IPv4 interface address (struct in_ifaddr).
type IfAddr struct {
	Dev       *netdev.Device
	Local     netip.Addr   // IFA_LOCAL
	Address   netip.Addr   // IFA_ADDRESS: the peer on point-to-point links, else Local
	Prefix    netip.Prefix // Local with its prefix length
	Broadcast netip.Addr   // IFA_BROADCAST, invalid when not set
	Label     string
	Scope     uint8  // RT_SCOPE_*
	Flags     uint32 // IFA_F_*
	Priority  uint32 // IFA_RT_PRIORITY: metric of the prefix route
	Proto     uint8  // IFA_PROTO

	// ValidLft and PreferredLft are the lifetimes in seconds
	// (InfinityLifeTime: forever) counted from Tstamp, the executor time
	// of their last update; Cstamp is the time the address was added.
	// AddAddr takes a zero ValidLft as "no lifetimes" (the kernel
	// refuses a zero valid lifetime): the address is IFA_F_PERMANENT.
	ValidLft, PreferredLft uint32
	Cstamp, Tstamp         time.Duration
	stamped                bool
}

// Secondary reports IFA_F_SECONDARY.
func (a *IfAddr) Secondary() bool { return a.Flags&unix.IFA_F_SECONDARY != 0 }

// Subnet returns the masked prefix.
func (a *IfAddr) Subnet() netip.Prefix { return netip.PrefixFrom(a.Address, a.Prefix.Bits()).Masked() }

// sameSubnet is inet_ifa_match on the other's address with equal masks.
func (a *IfAddr) sameSubnet(b *IfAddr) bool {
	return a.Prefix.Bits() == b.Prefix.Bits() && a.Subnet() == b.Subnet()
}

// AddrEvent tells what happened to an address.
type AddrEvent int

// Address events, emitted as RTM_NEWADDR / RTM_DELADDR by rtnetlink.
const (
	AddrNew AddrEvent = iota
	AddrDel
)

// AddrNotifier is told of address changes (inetaddr_chain).
type AddrNotifier func(ev AddrEvent, a *IfAddr)

// SubscribeAddrs adds an address notifier.
func (l *Layer) SubscribeAddrs(f AddrNotifier) { l.addrNotify = append(l.addrNotify, f) }

func (l *Layer) notifyAddr(ev AddrEvent, a *IfAddr) {
	for _, f := range l.addrNotify {
		f(ev, a)
	}
}

// Addrs returns the addresses of a device in Linux's list order (primaries
// first in scope order, then secondaries). The slice must not be changed.
func (l *Layer) Addrs(ifindex int) []*IfAddr { return l.addrs[ifindex] }

// AddAddr adds an address (`ip addr add`, __inet_insert_ifa). An address in
// the subnet of an existing one becomes its secondary. Errors: EEXIST for
// the same local address and prefix length, EINVAL for a scope mismatch
// with the primary of the subnet.
func (l *Layer) AddAddr(a IfAddr) (*IfAddr, error) {
	l.confGen++ // source selection and locality change: cached routes are stale
	d := a.Dev
	if d == nil || l.devs.ByIndex(d.Ifindex()) != d {
		return nil, fmt.Errorf("no such device: %w", syscall.ENODEV)
	}
	if !a.Local.Is4() || !a.Prefix.IsValid() {
		return nil, fmt.Errorf("bad address %v: %w", a.Local, syscall.EINVAL)
	}
	if !a.Address.IsValid() {
		a.Address = a.Local
	}
	if a.Label == "" {
		a.Label = d.Name()
	}
	if d.Flags()&netdev.FlagLoopback != 0 && a.Scope == unix.RT_SCOPE_UNIVERSE && a.Local.As4()[0] == 127 {
		a.Scope = unix.RT_SCOPE_HOST // the kernel gives 127/8 on lo host scope
	}
	a.Flags &^= unix.IFA_F_SECONDARY
	if a.ValidLft == 0 {
		a.ValidLft, a.PreferredLft = InfinityLifeTime, InfinityLifeTime
	}
	if a.PreferredLft > a.ValidLft {
		return nil, &netdev.ExtError{Errno: syscall.EINVAL, Msg: "ipv4: address lifetime invalid"}
	}
	na := &a
	list := l.addrs[d.Ifindex()]
	for _, o := range list {
		if o.sameSubnet(na) {
			if o.Local == na.Local {
				return nil, &netdev.ExtError{Errno: syscall.EEXIST, Msg: "ipv4: Address already assigned"}
			}
			if o.Scope != na.Scope {
				return nil, fmt.Errorf("scope differs from the subnet's primary: %w", syscall.EINVAL)
			}
			na.Flags |= unix.IFA_F_SECONDARY
		}
	}
	a.stamped = false
	l.setLifetime(na, a.ValidLft, a.PreferredLft)
	l.insert(na)
	l.notifyAddr(AddrNew, na)
	l.addKernelRoutes(na)
	if na.Flags&unix.IFA_F_PERMANENT == 0 {
		l.kickLifetimes()
	}
	return na, nil
}

// insert puts a into its device's list where __inet_insert_ifa does: a
// primary after the last primary of the same or wider scope, a secondary
// at the end.
func (l *Layer) insert(a *IfAddr) {
	idx := a.Dev.Ifindex()
	list := l.addrs[idx]
	pos := len(list)
	if !a.Secondary() {
		pos = 0
		for i, o := range list {
			if !o.Secondary() && a.Scope <= o.Scope {
				pos = i + 1
			}
		}
	}
	list = append(list, nil)
	copy(list[pos+1:], list[pos:])
	list[pos] = a
	l.addrs[idx] = list
	l.local[addrKey(a.Local)]++
}

// primaryFor returns the primary address of a's subnet (a itself for a
// primary): the prefsrc of the routes a secondary implies.
func (l *Layer) primaryFor(a *IfAddr) *IfAddr {
	if !a.Secondary() {
		return a
	}
	for _, o := range l.addrs[a.Dev.Ifindex()] {
		if !o.Secondary() && o.sameSubnet(a) {
			return o
		}
	}
	return a
}

// addKernelRoutes is fib_add_ifaddr: the local route always; with the
// device up, the explicit broadcast, the prefix route (unless secondary,
// noprefixroute or a /32 host address) and the subnet broadcast.
func (l *Layer) addKernelRoutes(a *IfAddr) {
	if l.routes == nil {
		return
	}
	prim := l.primaryFor(a)
	idx := a.Dev.Ifindex()
	kr := func(table uint32, typ uint8, dst netip.Prefix, prio uint32) {
		scope := uint8(unix.RT_SCOPE_LINK)
		if typ == unix.RTN_LOCAL {
			scope = unix.RT_SCOPE_HOST
		}
		l.routes.AddKernelRoute(KernelRoute{Table: table, Type: typ, Dst: dst, Ifindex: idx, Prefsrc: prim.Local, Scope: scope, Priority: prio})
	}
	kr(unix.RT_TABLE_LOCAL, unix.RTN_LOCAL, netip.PrefixFrom(a.Local, 32), 0)
	if !a.Dev.IsUp() {
		return
	}
	if a.Broadcast.IsValid() && a.Broadcast != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		kr(unix.RT_TABLE_LOCAL, unix.RTN_BROADCAST, netip.PrefixFrom(a.Broadcast, 32), 0)
	}
	sub := a.Subnet()
	zero := sub.Addr() == netip.AddrFrom4([4]byte{})
	if !zero && !a.Secondary() && (sub.Addr() != a.Local || sub.Bits() < 32) {
		if a.Flags&unix.IFA_F_NOPREFIXROUTE == 0 {
			typ, table := uint8(unix.RTN_UNICAST), uint32(unix.RT_TABLE_MAIN)
			if a.Dev.Flags()&netdev.FlagLoopback != 0 {
				typ, table = unix.RTN_LOCAL, unix.RT_TABLE_LOCAL
			}
			kr(table, typ, sub, a.Priority)
		}
		if sub.Bits() < 31 {
			kr(unix.RT_TABLE_LOCAL, unix.RTN_BROADCAST, netip.PrefixFrom(lastAddr(sub), 32), 0)
		}
	}
}

// lastAddr returns the all-ones host address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= ^uint32(0) >> p.Bits()
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// DelAddr removes an address (`ip addr del`, __inet_del_ifa) matching local
// and prefix length. Deleting a primary removes its secondaries, or
// promotes the first of them when promote_secondaries is on.
func (l *Layer) DelAddr(d *netdev.Device, local netip.Addr, bits int) error {
	l.confGen++ // source selection and locality change: cached routes are stale
	for _, a := range l.addrs[d.Ifindex()] {
		if a.Local == local && (bits < 0 || a.Prefix.Bits() == bits) {
			l.removeAddr(d, a, l.Effective(d.Ifindex()).PromoteSecondaries)
			return nil
		}
	}
	return &netdev.ExtError{Errno: syscall.EADDRNOTAVAIL, Msg: "ipv4: Address not found"}
}

func (l *Layer) removeAddr(d *netdev.Device, a *IfAddr, promote bool) {
	var promoted *IfAddr
	if !a.Secondary() {
		for _, o := range append([]*IfAddr(nil), l.addrs[d.Ifindex()]...) {
			if o == a || !o.Secondary() || !o.sameSubnet(a) {
				continue
			}
			if promote && promoted == nil {
				promoted = o
				continue
			}
			if !promote {
				l.unlink(d, o)
			}
		}
	}
	if promoted != nil && l.routes != nil {
		// The subnet's secondaries change their primary: their local
		// routes, which name the old one as source, go first (as
		// __inet_del_ifa does before announcing the deletion) and come
		// back with the new source below.
		for _, o := range l.addrs[d.Ifindex()] {
			if o.Secondary() && o.sameSubnet(a) {
				l.routes.DelKernelRoute(KernelRoute{Table: unix.RT_TABLE_LOCAL, Type: unix.RTN_LOCAL,
					Dst: netip.PrefixFrom(o.Local, 32), Ifindex: d.Ifindex(), Prefsrc: a.Local})
			}
		}
	}
	l.unlink(d, a)
	if promoted != nil {
		promoted.Flags &^= unix.IFA_F_SECONDARY
		// The promoted address moves to the primaries' part of the list.
		l.unlinkQuiet(d, promoted)
		l.insert(promoted)
		l.notifyAddr(AddrNew, promoted)
		l.addKernelRoutes(promoted)
		for _, o := range l.addrs[d.Ifindex()] {
			if o.Secondary() && o.sameSubnet(promoted) {
				l.addKernelRoutes(o) // their local routes take the new primary as source
			}
		}
	}
}

// unlink removes a from the list, notifies and removes its routes
// (fib_del_ifaddr), and silently flushes routes that used it as source.
func (l *Layer) unlink(d *netdev.Device, a *IfAddr) {
	l.unlinkQuiet(d, a)
	l.notifyAddr(AddrDel, a)
	if l.routes == nil {
		return
	}
	prim := l.primaryFor(a)
	idx := d.Ifindex()
	still := func(match func(o *IfAddr) bool) bool {
		for _, o := range l.addrs[idx] {
			if match(o) {
				return true
			}
		}
		return false
	}
	del := func(table uint32, typ uint8, dst netip.Prefix) {
		l.routes.DelKernelRoute(KernelRoute{Table: table, Type: typ, Dst: dst, Ifindex: idx, Prefsrc: prim.Local})
	}
	// fib_del_ifaddr's order: the prefix route, the explicit broadcast,
	// the subnet broadcast, the local route.
	if !a.Secondary() {
		sub := a.Subnet()
		subGone := !still(func(o *IfAddr) bool { return !o.Secondary() && o.Subnet() == sub })
		if subGone {
			typ, table := uint8(unix.RTN_UNICAST), uint32(unix.RT_TABLE_MAIN)
			if d.Flags()&netdev.FlagLoopback != 0 {
				typ, table = unix.RTN_LOCAL, unix.RT_TABLE_LOCAL
			}
			del(table, typ, sub)
		}
		if a.Broadcast.IsValid() && !still(func(o *IfAddr) bool { return o.Broadcast == a.Broadcast }) {
			del(unix.RT_TABLE_LOCAL, unix.RTN_BROADCAST, netip.PrefixFrom(a.Broadcast, 32))
		}
		if subGone && sub.Bits() < 31 {
			del(unix.RT_TABLE_LOCAL, unix.RTN_BROADCAST, netip.PrefixFrom(lastAddr(sub), 32))
		}
	}
	if !still(func(o *IfAddr) bool { return o.Local == a.Local }) {
		del(unix.RT_TABLE_LOCAL, unix.RTN_LOCAL, netip.PrefixFrom(a.Local, 32))
	}
	if !l.IsLocal(a.Local) {
		l.routes.FlushPrefsrc(a.Local)
	}
}

func (l *Layer) unlinkQuiet(d *netdev.Device, a *IfAddr) {
	list := l.addrs[d.Ifindex()]
	for i, o := range list {
		if o == a {
			l.addrs[d.Ifindex()] = append(list[:i], list[i+1:]...)
			k := addrKey(a.Local)
			if l.local[k]--; l.local[k] <= 0 {
				delete(l.local, k)
			}
			return
		}
	}
}

// IsLocal reports whether ip is configured on any device of the namespace
// (a set kept by insert and unlinkQuiet: this is on the per-packet path,
// keyed by the address as a uint32 because hashing a netip.Addr costs
// several times more).
func (l *Layer) IsLocal(ip netip.Addr) bool { return ip.Is4() && l.local[addrKey(ip)] > 0 }

// addrKey is an IPv4 address as a map key.
func addrKey(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// SelectSource picks a source address for dst out of dev within scope
// (inet_select_addr): a primary of dev in dst's subnet, else dev's first
// primary of acceptable scope, else the first global primary of any other
// device.
func (l *Layer) SelectSource(dev *netdev.Device, dst netip.Addr, scope uint8) netip.Addr {
	var addr netip.Addr
	if dev != nil {
		for _, a := range l.addrs[dev.Ifindex()] {
			if a.Secondary() || a.Scope > scope {
				continue
			}
			if !dst.IsValid() || a.Subnet().Contains(dst) {
				return a.Local
			}
			if !addr.IsValid() {
				addr = a.Local
			}
		}
		if addr.IsValid() {
			return addr
		}
	}
	for _, d := range l.devs.Devices() {
		for _, a := range l.addrs[d.Ifindex()] {
			if !a.Secondary() && a.Scope < unix.RT_SCOPE_LINK && a.Scope <= scope {
				return a.Local
			}
		}
	}
	return addr
}
