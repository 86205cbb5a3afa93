package rtnl

import (
	"net/netip"
	"syscall"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

var (
	hNewAddr = handlers{doit: newAddr, hdrLen: unix.SizeofIfAddrmsg}
	hDelAddr = handlers{doit: delAddr, hdrLen: unix.SizeofIfAddrmsg}
	hGetAddr = handlers{dumpit: dumpAddrs, hdrLen: unix.SizeofIfAddrmsg}
)

func decodeAddr(c *call) (*rtmsg.Addr, error) {
	var a rtmsg.Addr
	if err := a.UnmarshalBinary(c.data()); err != nil {
		return nil, decodeErr(err, "address request")
	}
	return &a, nil
}

// newAddr is inet_rtm_newaddr.
func newAddr(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	a, err := decodeAddr(c)
	if err != nil {
		return err
	}
	if a.PrefixLen > 32 {
		return errMsg(syscall.EINVAL, "ipv4: Invalid prefix length")
	}
	local := a.Local
	if !local.IsValid() {
		local = a.Address
	}
	if !local.IsValid() {
		return errMsg(syscall.EINVAL, "ipv4: Local address is not supplied")
	}
	d := c.st.ns.Dev.ByIndex(int(a.Index))
	if d == nil {
		return errMsg(syscall.ENODEV, "ipv4: Device not found")
	}
	valid, preferred := ipv4.InfinityLifeTime, ipv4.InfinityLifeTime
	if ci := a.Cacheinfo; ci != nil {
		if ci.Valid == 0 || ci.Preferred > ci.Valid {
			return errMsg(syscall.EINVAL, "ipv4: address lifetime invalid")
		}
		valid, preferred = ci.Valid, ci.Preferred
	}
	l4 := c.st.ns.IPv4
	for _, o := range l4.Addrs(d.Ifindex()) {
		if o.Local == local && o.Prefix.Bits() == int(a.PrefixLen) {
			if c.h.Flags&unix.NLM_F_EXCL != 0 || c.h.Flags&unix.NLM_F_REPLACE == 0 {
				return errMsg(syscall.EEXIST, "ipv4: Address already assigned")
			}
			// A replace takes the request's metric, protocol and
			// lifetimes (not its flags) and is announced again.
			if err := l4.ReplaceAddr(o, a.RtPriority, a.Proto, valid, preferred); err != nil {
				return err
			}
			c.st.addrEvent(ipv4.AddrNew, o)
			return nil
		}
	}
	ia := ipv4.IfAddr{
		Dev: d, Local: local, Address: a.Address, Prefix: netip.PrefixFrom(local, int(a.PrefixLen)),
		Broadcast: a.Broadcast, Label: a.Label, Scope: a.Scope, Flags: a.AllFlags(),
		Priority: a.RtPriority, Proto: a.Proto, ValidLft: valid, PreferredLft: preferred,
	}
	ia.Flags &^= unix.IFA_F_SECONDARY | unix.IFA_F_PERMANENT | unix.IFA_F_DEPRECATED
	_, err = l4.AddAddr(ia)
	return err
}

// delAddr is inet_rtm_deladdr: the first address matching the local
// address, label and prefix given.
func delAddr(c *call) error {
	if c.family() != unix.AF_INET {
		return syscall.EOPNOTSUPP
	}
	a, err := decodeAddr(c)
	if err != nil {
		return err
	}
	d := c.st.ns.Dev.ByIndex(int(a.Index))
	if d == nil {
		return errMsg(syscall.ENODEV, "ipv4: Device not found")
	}
	l4 := c.st.ns.IPv4
	for _, o := range l4.Addrs(d.Ifindex()) {
		if a.Local.IsValid() && o.Local != a.Local {
			continue
		}
		if a.Attrs.Has(unix.IFA_LABEL) && o.Label != a.Label {
			continue
		}
		if a.Address.IsValid() && (int(a.PrefixLen) != o.Prefix.Bits() || !o.Subnet().Contains(a.Address)) {
			continue
		}
		return l4.DelAddr(d, o.Local, o.Prefix.Bits())
	}
	return errMsg(syscall.EADDRNOTAVAIL, "ipv4: Address not found")
}

// dumpAddrs is inet_dump_ifaddr.
func dumpAddrs(c *call) error {
	index := 0
	if c.s.strict {
		if len(c.data()) < unix.SizeofIfAddrmsg {
			return errMsg(syscall.EINVAL, "ipv4: Invalid header for address dump request")
		}
		a, err := decodeAddr(c)
		if err != nil {
			return err
		}
		if a.PrefixLen != 0 || a.Flags8 != 0 || a.Scope != 0 {
			return errMsg(syscall.EINVAL, "ipv4: Invalid values in header for address dump request")
		}
		if a.Attrs != (rtmsg.AttrSet{}) {
			return errMsg(syscall.EINVAL, "ipv4: Unsupported attribute in dump request")
		}
		for _, u := range a.Unknown {
			if u.Type != unix.IFA_TARGET_NETNSID {
				return errMsg(syscall.EINVAL, "ipv4: Unsupported attribute in dump request")
			}
		}
		index = int(a.Index)
		if index != 0 {
			c.s.dump.Flags = unix.NLM_F_DUMP_FILTERED
			if c.st.ns.Dev.ByIndex(index) == nil {
				return syscall.ENODEV
			}
		}
	}
	if !familyIncluded(c.family()) {
		return c.emptyDump()
	}
	for _, d := range c.st.ns.Dev.Devices() {
		if index != 0 && d.Ifindex() != index {
			continue
		}
		for _, a := range c.st.ns.IPv4.Addrs(d.Ifindex()) {
			c.dumpMsg(unix.RTM_NEWADDR, func(e *netlink.AttributeEncoder) { c.st.fillAddr(e, a) })
		}
	}
	c.finishDump()
	return nil
}
