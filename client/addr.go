package client

import (
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// Addr is an interface address as RTM_NEWADDR describes it.
type Addr struct {
	Index     int
	Label     string       // IFA_LABEL: the device name, or NAME:ALIAS
	Prefix    netip.Prefix // IFA_LOCAL with the prefix length
	Peer      netip.Addr   // IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point)
	Broadcast netip.Addr
	Scope     uint8  // RT_SCOPE_*
	Flags     uint32 // IFA_F_*

	Raw *rtmsg.Addr
}

func addrFrom(m *rtmsg.Addr) Addr {
	local := m.Local
	if !local.IsValid() {
		local = m.Address
	}
	a := Addr{
		Index:     int(m.Index),
		Label:     m.Label,
		Broadcast: m.Broadcast,
		Scope:     m.Scope,
		Flags:     m.AllFlags(),
		Raw:       m,
	}
	if local.IsValid() {
		a.Prefix = netip.PrefixFrom(local, int(m.PrefixLen))
	}
	if m.Address.IsValid() && m.Address != local {
		a.Peer = m.Address
	}
	return a
}

func decodeAddrMsg(data []byte) (Addr, error) {
	m := new(rtmsg.Addr)
	if err := m.UnmarshalBinary(data); err != nil {
		return Addr{}, err
	}
	return addrFrom(m), nil
}

// Addrs lists the IPv4 addresses of every device (`ip -4 address show`).
func (n *Namespace) Addrs() ([]Addr, error) {
	var out []Addr
	hdr := rtmsg.Addr{Family: unix.AF_INET}
	p, _ := hdr.MarshalBinary()
	err := n.request(func(c *conn) error {
		return c.dump(unix.RTM_GETADDR, p, func(h netlink.Header, data []byte) error {
			if h.Type != unix.RTM_NEWADDR {
				return nil
			}
			a, err := decodeAddrMsg(data)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, wrap("address show", err)
}

// AddAddr adds prefix (the address and its prefix length) to device dev,
// as `ip address add PREFIX dev DEV`: no broadcast address, scope global,
// EEXIST when the device has it already. The kernel adds the local and
// prefix routes.
func (n *Namespace) AddAddr(dev string, prefix netip.Prefix) error {
	return n.addrReq("address add", unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, dev, prefix)
}

// AddAddrBroadcast is AddAddr with a broadcast address
// (`ip address add PREFIX brd BRD dev DEV`).
func (n *Namespace) AddAddrBroadcast(dev string, prefix netip.Prefix, brd netip.Addr) error {
	return n.addrReqBrd("address add", unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, dev, prefix, brd)
}

// DelAddr removes prefix from dev (`ip address del PREFIX dev DEV`).
func (n *Namespace) DelAddr(dev string, prefix netip.Prefix) error {
	return n.addrReq("address del", unix.RTM_DELADDR, 0, dev, prefix)
}

func (n *Namespace) addrReq(op string, typ, flags uint16, dev string, prefix netip.Prefix) error {
	return n.addrReqBrd(op, typ, flags, dev, prefix, netip.Addr{})
}

func (n *Namespace) addrReqBrd(op string, typ, flags uint16, dev string, prefix netip.Prefix, brd netip.Addr) error {
	idx, err := n.index(dev)
	if err != nil {
		return wrap(op, err)
	}
	a := prefix.Addr()
	m := rtmsg.Addr{
		Family:    family(a),
		PrefixLen: uint8(prefix.Bits()),
		Index:     uint32(idx),
		Local:     a,
		Address:   a,
		Broadcast: brd,
	}
	p, err := m.MarshalBinary()
	if err != nil {
		return wrap(op, err)
	}
	return wrap(op, n.request(func(c *conn) error { return c.do(typ, flags, p, nil) }))
}

func family(a netip.Addr) uint8 {
	if a.Is6() && !a.Is4In6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}
