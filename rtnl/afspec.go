package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/addrconf"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// linkAF is the per-family part (IFLA_AF_SPEC) of a link request.
type linkAF struct {
	present bool
	genMode *addrconf.AddrGenMode // AF_INET6 IFLA_INET6_ADDR_GEN_MODE
}

// parseLinkAF validates IFLA_AF_SPEC as validate_linkmsg and the
// families' validate_link_af do: EAFNOSUPPORT for a family without
// per-link data, EINVAL for an AF_INET6 nest that sets nothing or a bad
// mode. AF_INET (IFLA_INET_CONF) is accepted and not applied: usnet
// changes IPv4 device settings through its sysctl-like API only. An IPv6
// token (IFLA_INET6_TOKEN) is refused with EOPNOTSUPP: usnet has no IPv6
// to use it (package addrconf).
func parseLinkAF(b []byte) (linkAF, error) {
	a := linkAF{present: b != nil}
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		switch d.Type() {
		case unix.AF_INET:
		case unix.AF_INET6:
			n, err := d.Nested()
			if err != nil {
				return a, syscall.EINVAL
			}
			set := false
			for n.Next() {
				switch n.Type() {
				case unix.IFLA_INET6_ADDR_GEN_MODE:
					if len(n.Bytes()) < 1 {
						return a, errMsg(syscall.EINVAL, "Attribute failed policy validation")
					}
					m := addrconf.AddrGenMode(n.Bytes()[0])
					a.genMode, set = &m, true
				case unix.IFLA_INET6_TOKEN:
					return a, errMsg(syscall.EOPNOTSUPP, "IPv6 tokens are not supported (usnet has no IPv6)")
				case unix.IFLA_INET6_RA_MTU:
					return a, errMsg(syscall.EINVAL, "Attribute failed policy validation")
				}
			}
			if n.Err() != nil {
				return a, syscall.EINVAL
			}
			if !set {
				return a, syscall.EINVAL
			}
		default:
			return a, syscall.EAFNOSUPPORT
		}
	}
	if d.Err() != nil {
		return a, syscall.EINVAL
	}
	return a, nil
}

// validate is the rest of inet6_validate_link_af: the mode must be one
// the device can take.
func (a linkAF) validate() error {
	if a.genMode == nil {
		return nil
	}
	switch *a.genMode {
	case addrconf.AddrGenEUI64, addrconf.AddrGenNone, addrconf.AddrGenRandom:
		return nil
	}
	return syscall.EINVAL
}

// apply is do_setlink's set_link_af loop; any IFLA_AF_SPEC makes the
// change announced (DO_SETLINK_NOTIFY → netdev_state_change).
func (a linkAF) apply(d *netdev.Device) error {
	if !a.present {
		return nil
	}
	if a.genMode != nil {
		if err := addrconf.For(d.Table()).SetAddrGenMode(d, *a.genMode); err != nil {
			return err
		}
	}
	d.StateChange()
	return nil
}
