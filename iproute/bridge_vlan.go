package iproute

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `bridge vlan` (iproute2's bridge/vlan.c): add, del and show.
func (s *session) cmdBridgeVlan(args []string) error {
	if len(args) == 0 {
		return s.bridgeVlanShow(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.bridgeVlanModify(unix.RTM_SETLINK, rest)
	case matches(cmd, "delete"):
		return s.bridgeVlanModify(unix.RTM_DELLINK, rest)
	case matches(cmd, "show"), matches(cmd, "lst"), matches(cmd, "list"):
		return s.bridgeVlanShow(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"bridge vlan help\".", cmd)
}

// bridgeVlanModify is vlan_modify: IFLA_AF_SPEC with IFLA_BRIDGE_FLAGS
// (self/master, when given) and one VLAN record, or a begin/end pair for
// a range.
func (s *session) bridgeVlanModify(typ uint16, args []string) error {
	var dev string
	var lo, hi int = -1, -1
	var vflags, brFlags uint16
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		switch a {
		case "dev":
			v, err := next()
			if err != nil {
				return err
			}
			dev = v
		case "vid":
			v, err := next()
			if err != nil {
				return err
			}
			l, h, found := strings.Cut(v, "-")
			n, err1 := strconv.Atoi(l)
			if err1 != nil {
				return invarg("invalid VLAN ID", v)
			}
			lo, hi = n, n
			if found {
				m, err2 := strconv.Atoi(h)
				if err2 != nil {
					return invarg("invalid VLAN ID", v)
				}
				hi = m
			}
		case "self":
			brFlags |= rtmsg.BridgeFlagsSelf
		case "master":
			brFlags |= rtmsg.BridgeFlagsMaster
		case "pvid":
			vflags |= rtmsg.BridgeVlanInfoPVID
		case "untagged":
			vflags |= rtmsg.BridgeVlanInfoUntagged
		default:
			return fail(exitUsage, "bridge vlan: unknown argument \"%s\"", a)
		}
	}
	if dev == "" || lo < 0 {
		return fail(exitUsage, "Device and VLAN ID are required arguments.")
	}
	if lo >= 4096 || hi >= 4096 || hi < lo {
		return fail(exitUsage, "Invalid VLAN range \"%d-%d\"", lo, hi)
	}
	if lo != hi && vflags&rtmsg.BridgeVlanInfoPVID != 0 {
		return fail(exitUsage, "pvid cannot be configured for a vlan range")
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
	n := e.BeginNest(unix.IFLA_AF_SPEC)
	if brFlags != 0 {
		e.Uint16(rtmsg.IflaBridgeFlags, brFlags)
	}
	if lo == hi {
		e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: vflags, VID: uint16(lo)}.MarshalBinary())
	} else {
		e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: vflags | rtmsg.BridgeVlanInfoRangeBegin, VID: uint16(lo)}.MarshalBinary())
		e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: vflags | rtmsg.BridgeVlanInfoRangeEnd, VID: uint16(hi)}.MarshalBinary())
	}
	e.EndNest(n)
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, 0, e.Bytes())
	return err
}

// bridgeVlanShow is `bridge vlan show [dev DEV] [vid VID]`: the compressed
// VLAN dump, one block per device.
func (s *session) bridgeVlanShow(args []string) error {
	var dev string
	vid := -1
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "dev":
			dev = args[i+1]
		case "vid":
			n, err := strconv.Atoi(args[i+1])
			if err != nil {
				return invarg("invalid VLAN ID", args[i+1])
			}
			vid = n
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
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	req := netlink.NewAttributeEncoder(nil)
	req.Append(ifinfomsg(unix.AF_BRIDGE))
	req.Uint32(unix.IFLA_EXT_MASK, rtmsg.RTExtFilterBrVlanCompressed)
	p := s.out
	p.openArray("")
	p.text("%-16s  %-9s\n", "port", "vlan-id")
	err = c.Dump(unix.RTM_GETLINK, req.Bytes(), func(h netlink.Header, data []byte) error {
		if h.Type != unix.RTM_NEWLINK || len(data) < unix.SizeofIfInfomsg || data[0] != unix.AF_BRIDGE {
			return nil
		}
		idx := int32(binary.NativeEndian.Uint32(data[4:]))
		if filter != 0 && idx != filter {
			return nil
		}
		m := newBrAttrs(data[unix.SizeofIfInfomsg:])
		spec, ok := m[unix.IFLA_AF_SPEC]
		if !ok {
			return nil
		}
		attrs, _ := rtmsg.ParseBridgeAttrs(spec)
		var vl []rtmsg.BridgeVlanInfo
		for _, a := range attrs {
			if a.Type&^unix.NLA_F_NESTED == rtmsg.IflaBridgeVlanInfo {
				if v, err := rtmsg.UnmarshalBridgeVlanInfo(a.Data); err == nil {
					vl = append(vl, v)
				}
			}
		}
		s.printBridgeVlans(netlink.String(m[unix.IFLA_IFNAME]), vl, vid)
		return nil
	})
	p.closeArray()
	if s.json {
		p.b.WriteByte('\n')
	}
	return err
}

// printBridgeVlans prints one device's VLANs: the name on the first line,
// then one VLAN or range per line.
func (s *session) printBridgeVlans(name string, vl []rtmsg.BridgeVlanInfo, only int) {
	p := s.out
	first := true
	var begin uint16
	for _, v := range vl {
		if v.Flags&rtmsg.BridgeVlanInfoRangeBegin != 0 {
			begin = v.VID
			continue
		}
		lo := v.VID
		if v.Flags&rtmsg.BridgeVlanInfoRangeEnd != 0 {
			lo = begin
		}
		if only >= 0 && (only < int(lo) || only > int(v.VID)) {
			continue
		}
		if first {
			p.openObject("")
			p.str(anyOut, "ifname", "%-16s", name)
			p.openArray("vlans")
			first = false
		} else {
			p.text("%-16s", "")
		}
		p.openObject("")
		p.uint(anyOut, "vlan", "  %d", uint64(lo))
		if lo != v.VID {
			p.uint(anyOut, "vlanEnd", "-%d", uint64(v.VID))
		}
		if v.Flags&(rtmsg.BridgeVlanInfoPVID|rtmsg.BridgeVlanInfoUntagged) != 0 {
			p.openArray("flags")
			if v.Flags&rtmsg.BridgeVlanInfoPVID != 0 {
				p.str(anyOut, "", " %s", "PVID")
			}
			if v.Flags&rtmsg.BridgeVlanInfoUntagged != 0 {
				p.str(anyOut, "", " %s", "Egress Untagged")
			}
			p.closeArray()
		}
		p.closeObject()
		p.text("\n")
	}
	if !first {
		p.closeArray()
		p.closeObject()
	}
}

var _ = fmt.Sprint
