package iproute

import (
	"encoding/binary"
	"strconv"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `bridge link` (iproute2's bridge/link.c).
func (s *session) cmdBridgeLink(args []string) error {
	if len(args) == 0 {
		return s.bridgeLinkShow(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "set"), matches(cmd, "change"):
		return s.bridgeLinkSet(rest)
	case matches(cmd, "show"), matches(cmd, "lst"), matches(cmd, "list"):
		return s.bridgeLinkShow(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"bridge link help\".", cmd)
}

// brLinkOnOff are link set's on/off switches and their IFLA_BRPORT_*.
var brLinkOnOff = []struct {
	word string
	attr uint16
}{
	{"guard", unix.IFLA_BRPORT_GUARD},
	{"hairpin", unix.IFLA_BRPORT_MODE},
	{"fastleave", unix.IFLA_BRPORT_FAST_LEAVE},
	{"root_block", unix.IFLA_BRPORT_PROTECT},
	{"learning", unix.IFLA_BRPORT_LEARNING},
	{"learning_sync", unix.IFLA_BRPORT_LEARNING_SYNC},
	{"flood", unix.IFLA_BRPORT_UNICAST_FLOOD},
	{"mcast_flood", unix.IFLA_BRPORT_MCAST_FLOOD},
	{"bcast_flood", unix.IFLA_BRPORT_BCAST_FLOOD},
	{"mcast_to_unicast", unix.IFLA_BRPORT_MCAST_TO_UCAST},
	{"neigh_suppress", unix.IFLA_BRPORT_NEIGH_SUPPRESS},
	{"vlan_tunnel", unix.IFLA_BRPORT_VLAN_TUNNEL},
	{"isolated", unix.IFLA_BRPORT_ISOLATED},
	{"locked", unix.IFLA_BRPORT_LOCKED},
	{"mab", unix.IFLA_BRPORT_MAB},
}

// bridgeLinkSet is brlink_modify: RTM_SETLINK (AF_BRIDGE) with the port
// options in a nested IFLA_PROTINFO and self/master in IFLA_AF_SPEC.
func (s *session) bridgeLinkSet(args []string) error {
	pi := netlink.NewAttributeEncoder(nil)
	var dev string
	var brFlags uint16
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		done := false
		for _, o := range brLinkOnOff {
			if a != o.word {
				continue
			}
			v, err := next()
			if err != nil {
				return err
			}
			switch v {
			case "on":
				pi.Uint8(o.attr, 1)
			case "off":
				pi.Uint8(o.attr, 0)
			default:
				return fail(exitUsage, "Error: argument of \"%s\" must be \"on\" or \"off\"", o.word)
			}
			done = true
		}
		if done {
			continue
		}
		switch a {
		case "dev":
			v, err := next()
			if err != nil {
				return err
			}
			dev = v
		case "cost", "priority", "state", "mcast_router":
			v, err := next()
			if err != nil {
				return err
			}
			switch a {
			case "cost":
				n, ok := parseU(v, 32)
				if !ok {
					return invarg("cost is invalid", v)
				}
				if n > 0 { // iproute2 sends no cost for 0
					pi.Uint32(unix.IFLA_BRPORT_COST, uint32(n))
				}
			case "priority":
				n, ok := parseU(v, 16)
				if !ok {
					return invarg("priority is invalid", v)
				}
				pi.Uint16(unix.IFLA_BRPORT_PRIORITY, uint16(n))
			case "state":
				st := -1
				for k, name := range brLinkStateNames {
					if v == name {
						st = k
					}
				}
				if st < 0 {
					n, ok := parseU(v, 8)
					if !ok {
						return invarg("state is invalid", v)
					}
					st = int(n)
				}
				pi.Uint8(unix.IFLA_BRPORT_STATE, uint8(st))
			default:
				n, ok := parseU(v, 8)
				if !ok {
					return invarg("invalid mcast_router", v)
				}
				pi.Uint8(unix.IFLA_BRPORT_MULTICAST_ROUTER, uint8(n))
			}
		case "self":
			brFlags |= rtmsg.BridgeFlagsSelf
		case "master":
			brFlags |= rtmsg.BridgeFlagsMaster
		default:
			return fail(exitUsage, "bridge link: unknown argument \"%s\"", a)
		}
	}
	if dev == "" {
		return fail(exitUsage, "Device is a required argument.")
	}
	idx, err := s.ifindex(dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return fail(exitUsage, "Cannot find bridge device \"%s\"", dev)
	}
	e := netlink.NewAttributeEncoder(nil)
	ifi := ifinfomsg(unix.AF_BRIDGE)
	binary.NativeEndian.PutUint32(ifi[4:], uint32(idx))
	e.Append(ifi)
	n := e.BeginNest(unix.IFLA_PROTINFO | unix.NLA_F_NESTED)
	e.Append(pi.Bytes())
	e.EndNest(n)
	if brFlags != 0 {
		n := e.BeginNest(unix.IFLA_AF_SPEC)
		e.Uint16(rtmsg.IflaBridgeFlags, brFlags)
		e.EndNest(n)
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	_, err = c.Do(unix.RTM_SETLINK, 0, e.Bytes())
	return err
}

// bridgeLinkShow is `bridge link show [dev DEV]` (print_linkinfo of
// bridge/link.c).
func (s *session) bridgeLinkShow(args []string) error {
	var dev string
	for i := 0; i < len(args); i++ {
		if args[i] == "dev" && i+1 < len(args) {
			i++
			dev = args[i]
		} else if args[i] != "dev" {
			dev = args[i]
		}
	}
	var filter int32
	if dev != "" {
		i, err := s.ifindex(dev)
		if err != nil {
			return err
		}
		if i == 0 {
			return fail(exitFail, "Cannot find device \"%s\"", dev)
		}
		filter = i
	}
	if err := s.loadLinks(); err != nil {
		return err
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	p := s.out
	p.openArray("")
	err = c.Dump(unix.RTM_GETLINK, ifinfomsg(unix.AF_BRIDGE), func(h netlink.Header, data []byte) error {
		if h.Type != unix.RTM_NEWLINK || len(data) < unix.SizeofIfInfomsg || data[0] != unix.AF_BRIDGE {
			return nil
		}
		idx := int32(binary.NativeEndian.Uint32(data[4:]))
		if filter != 0 && idx != filter {
			return nil
		}
		s.printBridgeLink(data)
		return nil
	})
	p.closeArray()
	if s.json {
		p.b.WriteByte('\n')
	}
	return err
}

func (s *session) printBridgeLink(data []byte) {
	p := s.out
	ne := binary.NativeEndian
	idx := int32(ne.Uint32(data[4:]))
	flags := ne.Uint32(data[8:])
	m := newBrAttrs(data[unix.SizeofIfInfomsg:])
	p.openObject("")
	p.uint(anyOut, "ifindex", "%d: ", uint64(idx))
	name := ""
	if b, ok := m[unix.IFLA_IFNAME]; ok {
		name = netlink.String(b)
	}
	mdown := false
	if v, ok := m.u(unix.IFLA_LINK); ok && int32(v) != idx {
		ln := s.ifname(int32(v))
		p.str(jsonOnly, "link", "", ln)
		p.str(anyOut, "ifname", "%s", name)
		p.text("@%s: ", ln)
		if pl, ok := s.links[int32(v)]; ok && pl.Flags&unix.IFF_UP == 0 {
			mdown = true
		}
	} else {
		p.str(anyOut, "ifname", "%s: ", name)
	}
	s.printLinkFlags(flags, mdown)
	if v, ok := m.u(unix.IFLA_MTU); ok {
		p.uint(anyOut, "mtu", "mtu %d ", v)
	}
	if v, ok := m.u(unix.IFLA_MASTER); ok {
		p.str(anyOut, "master", "master %s ", s.ifname(int32(v)))
	}
	pi, hasPI := m[unix.IFLA_PROTINFO]
	if hasPI {
		pm := newBrAttrs(pi)
		if v, ok := pm.u(unix.IFLA_BRPORT_STATE); ok {
			name := strconv.FormatUint(v, 10)
			if int(v) < len(brLinkStateNames) {
				name = brLinkStateNames[v]
			}
			p.str(anyOut, "state", "state %s ", name)
		}
		pm.printUint(p, unix.IFLA_BRPORT_PRIORITY, "priority", "priority")
		pm.printUint(p, unix.IFLA_BRPORT_COST, "cost", "cost")
		if s.details {
			p.text("\n    ")
			pm.printOnOff(p, unix.IFLA_BRPORT_MODE, "hairpin", "hairpin", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_GUARD, "guard", "guard", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_PROTECT, "root_block", "root_block", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_FAST_LEAVE, "fastleave", "fastleave", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_LEARNING, "learning", "learning", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_LEARNING_SYNC, "learning_sync", "learning_sync", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_UNICAST_FLOOD, "flood", "flood", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_MCAST_FLOOD, "mcast_flood", "mcast_flood", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_BCAST_FLOOD, "bcast_flood", "bcast_flood", anyOut)
			pm.printUint(p, unix.IFLA_BRPORT_MULTICAST_ROUTER, "mcast_router", "mcast_router")
			pm.printOnOff(p, unix.IFLA_BRPORT_MCAST_TO_UCAST, "mcast_to_unicast", "mcast_to_unicast", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_NEIGH_SUPPRESS, "neigh_suppress", "neigh_suppress", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_VLAN_TUNNEL, "vlan_tunnel", "vlan_tunnel", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_ISOLATED, "isolated", "isolated", anyOut)
			pm.printOnOff(p, unix.IFLA_BRPORT_LOCKED, "locked", "locked", anyOut)
		}
	}
	p.text("\n")
	p.closeObject()
}
