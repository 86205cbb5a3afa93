package iproute

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// `bridge fdb` (iproute2's bridge/fdb.c).
func (s *session) cmdBridgeFDB(args []string) error {
	if len(args) == 0 {
		return s.bridgeFDBShow(nil)
	}
	cmd, rest := args[0], args[1:]
	switch {
	case matches(cmd, "add"):
		return s.bridgeFDBModify(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_EXCL, rest)
	case matches(cmd, "append"):
		return s.bridgeFDBModify(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_APPEND, rest)
	case matches(cmd, "replace"):
		return s.bridgeFDBModify(unix.RTM_NEWNEIGH, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rest)
	case matches(cmd, "delete"):
		return s.bridgeFDBModify(unix.RTM_DELNEIGH, 0, rest)
	case matches(cmd, "show"), matches(cmd, "lst"), matches(cmd, "list"):
		return s.bridgeFDBShow(rest)
	}
	return fail(exitUsage, "Command \"%s\" is unknown, try \"bridge fdb help\".", cmd)
}

// bridgeFDBModify is fdb_modify: the defaults are NTF_SELF and
// NUD_NOARP|NUD_PERMANENT, as iproute2 assumes them.
func (s *session) bridgeFDBModify(typ, flags uint16, args []string) error {
	state := uint16(unix.NUD_NOARP)
	var ndmFlags uint8
	var addr, dev string
	var extra []func(e *netlink.AttributeEncoder)
	vid := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", incomplete()
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "dev":
			v, err := next()
			if err != nil {
				return err
			}
			dev = v
		case a == "dst":
			v, err := next()
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(v)
			if err != nil {
				return invarg("invalid address", v)
			}
			extra = append(extra, func(e *netlink.AttributeEncoder) { e.Addr(unix.NDA_DST, ip) })
		case a == "port":
			v, err := next()
			if err != nil {
				return err
			}
			n, ok := parseU(v, 16)
			if !ok {
				return invarg("invalid port\n", v)
			}
			extra = append(extra, func(e *netlink.AttributeEncoder) { e.Uint16BE(unix.NDA_PORT, uint16(n)) })
		case a == "vni":
			v, err := next()
			if err != nil {
				return err
			}
			n, ok := parseU(v, 24)
			if !ok {
				return invarg("invalid VNI\n", v)
			}
			extra = append(extra, func(e *netlink.AttributeEncoder) { e.Uint32(unix.NDA_VNI, uint32(n)) })
		case a == "via":
			v, err := next()
			if err != nil {
				return err
			}
			idx, err := s.ifindex(v)
			if err != nil {
				return err
			}
			if idx == 0 {
				return invarg("invalid device\n", v)
			}
			extra = append(extra, func(e *netlink.AttributeEncoder) { e.Uint32(unix.NDA_IFINDEX, uint32(idx)) })
		case a == "self":
			ndmFlags |= unix.NTF_SELF
		case matches(a, "master"):
			ndmFlags |= unix.NTF_MASTER
		case matches(a, "router"):
			ndmFlags |= unix.NTF_ROUTER
		case matches(a, "local"), matches(a, "permanent"):
			state |= unix.NUD_PERMANENT
		case matches(a, "temp"), matches(a, "static"):
			state |= unix.NUD_REACHABLE
		case matches(a, "dynamic"):
			state |= unix.NUD_REACHABLE
			state &^= unix.NUD_NOARP
		case matches(a, "vlan"):
			if vid >= 0 {
				return garbage("vlan", a)
			}
			v, err := next()
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(v)
			vid = n
		case matches(a, "use"):
			ndmFlags |= unix.NTF_USE
		default:
			if a == "to" {
				v, err := next()
				if err != nil {
					return err
				}
				a = v
			}
			if addr != "" {
				return garbage("to", a)
			}
			addr = a
		}
	}
	if dev == "" || addr == "" {
		return fail(exitUsage, "Device and address are required arguments.")
	}
	if ndmFlags&(unix.NTF_SELF|unix.NTF_MASTER) == 0 {
		ndmFlags |= unix.NTF_SELF
	}
	if state&(unix.NUD_PERMANENT|unix.NUD_REACHABLE) == 0 {
		state |= unix.NUD_PERMANENT
	}
	mac, ok := parseMAC(addr)
	if !ok || len(mac) != 6 {
		return fail(exitUsage, "Invalid mac address %s", addr)
	}
	idx, err := s.ifindex(dev)
	if err != nil {
		return err
	}
	if idx == 0 {
		return fail(exitUsage, "Cannot find device \"%s\"", dev)
	}
	e := netlink.NewAttributeEncoder(nil)
	var h [unix.SizeofNdMsg]byte
	h[0] = unix.AF_BRIDGE
	binary.NativeEndian.PutUint32(h[4:], uint32(idx))
	binary.NativeEndian.PutUint16(h[8:], state)
	h[10] = ndmFlags
	e.Append(h[:])
	e.PutBytes(unix.NDA_LLADDR, mac)
	for _, f := range extra {
		f(e)
	}
	if vid >= 0 {
		e.Uint16(unix.NDA_VLAN, uint16(vid))
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	_, err = c.Do(typ, flags, e.Bytes())
	return err
}

// bridgeFDBShow is fdb_show with print_fdb.
func (s *session) bridgeFDBShow(args []string) error {
	var br, dev string
	var vlan int
	var state uint16
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
		case "brport", "dev":
			v, err := next()
			if err != nil {
				return err
			}
			dev = v
		case "br":
			v, err := next()
			if err != nil {
				return err
			}
			br = v
		case "vlan":
			v, err := next()
			if err != nil {
				return err
			}
			vlan, _ = strconv.Atoi(v)
		case "state":
			v, err := next()
			if err != nil {
				return err
			}
			st, ok := bridgeStateA2N(v)
			if !ok {
				return invarg("invalid state", v)
			}
			state |= st
		}
	}
	req := netlink.NewAttributeEncoder(nil)
	ifi := ifinfomsg(unix.AF_BRIDGE)
	var filterIdx int32
	if dev != "" {
		i, err := s.ifindex(dev)
		if err != nil {
			return err
		}
		if i == 0 {
			return fail(exitFail, "Cannot find device \"%s\"", dev)
		}
		filterIdx = i
		binary.NativeEndian.PutUint32(ifi[4:], uint32(i))
	}
	req.Append(ifi)
	// Device names come from the link cache, filled now: the dump
	// callback must not send requests on its own socket.
	if err := s.loadLinks(); err != nil {
		return err
	}
	if br != "" {
		i, err := s.ifindex(br)
		if err != nil {
			return err
		}
		if i == 0 {
			return fail(exitFail, "Cannot find bridge device \"%s\"", br)
		}
		req.Uint32(unix.IFLA_MASTER, uint32(i))
	}
	c, err := s.rtnl()
	if err != nil {
		return err
	}
	p := s.out
	p.openArray("")
	err = c.Dump(unix.RTM_GETNEIGH, req.Bytes(), func(h netlink.Header, data []byte) error {
		var n rtmsg.Neigh
		if n.UnmarshalBinary(data) != nil || n.Family != unix.AF_BRIDGE {
			return nil
		}
		if filterIdx != 0 && n.Index != filterIdx {
			return nil
		}
		if state != 0 && n.State&state == 0 {
			return nil
		}
		if vlan != 0 && int(n.VLAN) != vlan {
			return nil
		}
		s.printBridgeFDB(h.Type, &n, filterIdx != 0)
		return nil
	})
	p.closeArray()
	if s.json {
		p.textRaw("")
		p.b.WriteByte('\n')
	}
	return err
}

func bridgeStateA2N(v string) (uint16, bool) {
	switch {
	case matches(v, "permanent"):
		return unix.NUD_PERMANENT, true
	case matches(v, "static"), matches(v, "temp"):
		return unix.NUD_NOARP, true
	case matches(v, "stale"):
		return unix.NUD_STALE, true
	case matches(v, "reachable"), matches(v, "dynamic"):
		return unix.NUD_REACHABLE, true
	case v == "all":
		return 0xffff, true
	}
	n, ok := parseU(v, 16)
	return uint16(n), ok
}

// bridgeFDBState is state_n2a.
func bridgeFDBState(st uint16) string {
	switch {
	case st&unix.NUD_PERMANENT != 0:
		return "permanent"
	case st&unix.NUD_NOARP != 0:
		return "static"
	case st&unix.NUD_STALE != 0:
		return "stale"
	case st&unix.NUD_REACHABLE != 0:
		return ""
	}
	return fmt.Sprintf("state=%#x", st)
}

// printBridgeFDB is print_fdb of iproute2 6.1.
func (s *session) printBridgeFDB(typ uint16, n *rtmsg.Neigh, filtered bool) {
	p := s.out
	p.openObject("")
	if typ == unix.RTM_DELNEIGH {
		p.str(anyOut, "opCode", "%s ", "Deleted")
	}
	if len(n.LLAddr) > 0 {
		p.str(anyOut, "mac", "%s ", formatMAC(n.LLAddr))
	}
	if !filtered && n.Index != 0 {
		p.str(anyOut, "ifname", "dev %s ", s.ifname(n.Index))
	}
	if n.Dst.IsValid() {
		p.str(anyOut, "dst", "dst %s ", n.Dst.String())
	}
	if n.VLAN != 0 {
		p.uint(anyOut, "vlan", "vlan %d ", uint64(n.VLAN))
	}
	if b, ok := unknownAttr(n.Unknown, unix.NDA_PORT); ok && len(b) == 2 {
		p.uint(anyOut, "port", "port %d ", uint64(binary.BigEndian.Uint16(b)))
	}
	if b, ok := unknownAttr(n.Unknown, unix.NDA_VNI); ok && len(b) == 4 {
		p.uint(anyOut, "vni", "vni %d ", uint64(binary.NativeEndian.Uint32(b)))
	}
	if b, ok := unknownAttr(n.Unknown, unix.NDA_IFINDEX); ok && len(b) == 4 {
		if i := int32(binary.NativeEndian.Uint32(b)); i != 0 {
			p.str(anyOut, "viaIf", "via %s ", s.ifname(i))
		}
	}
	if s.stats > 0 && n.Cacheinfo != nil {
		p.uint(jsonOnly, "used", "", uint64(n.Cacheinfo.Used/100))
		p.uint(jsonOnly, "updated", "", uint64(n.Cacheinfo.Updated/100))
		p.text("used %d/%d ", n.Cacheinfo.Used/100, n.Cacheinfo.Updated/100)
	}
	p.openArray("flags")
	for _, f := range []struct {
		bit  uint8
		name string
	}{{unix.NTF_SELF, "self"}, {unix.NTF_ROUTER, "router"}, {unix.NTF_EXT_LEARNED, "extern_learn"}, {unix.NTF_OFFLOADED, "offload"}} {
		if n.Flags&f.bit != 0 {
			p.str(anyOut, "", "%s ", f.name)
		}
	}
	if n.Flags&unix.NTF_MASTER != 0 && n.Master == 0 {
		p.str(anyOut, "", "%s ", "master")
	}
	p.closeArray()
	if n.Master != 0 {
		p.str(anyOut, "master", "master %s ", s.ifname(int32(n.Master)))
	}
	st := bridgeFDBState(n.State)
	p.str(anyOut, "state", "%s\n", st)
	p.closeObject()
}
