package rtnl

import (
	"encoding/binary"
	"syscall"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// AF_BRIDGE link messages (rtnl_bridge_getlink, rtnl_bridge_setlink,
// rtnl_bridge_dellink → br_getlink, br_setlink, br_dellink): bridge ports
// with their IFLA_PROTINFO, and VLANs in IFLA_AF_SPEC (`bridge link`,
// `bridge vlan`).
func init() {
	registerFamilyHandlers(unix.RTM_GETLINK, unix.AF_BRIDGE, &handlers{dumpit: brLinkDump, hdrLen: unix.SizeofIfInfomsg})
	registerFamilyHandlers(unix.RTM_SETLINK, unix.AF_BRIDGE, &handlers{doit: brSetLink, hdrLen: unix.SizeofIfInfomsg})
	registerFamilyHandlers(unix.RTM_DELLINK, unix.AF_BRIDGE, &handlers{doit: brDelLink, hdrLen: unix.SizeofIfInfomsg})
}

// brLinkDump sends every bridge port, and with a VLAN filter in
// IFLA_EXT_MASK every bridge too, as br_getlink does.
func brLinkDump(c *call) error {
	data := c.data()
	var mask uint32
	if len(data) >= unix.SizeofIfInfomsg {
		attrs, _ := rtmsg.ParseBridgeAttrs(data[unix.SizeofIfInfomsg:])
		if b, ok := rtmsg.FindBridgeAttr(attrs, unix.IFLA_EXT_MASK); ok && len(b) == 4 {
			mask = binary.NativeEndian.Uint32(b)
		}
	}
	vlans := mask&(rtmsg.RTExtFilterBrVlan|rtmsg.RTExtFilterBrVlanCompressed) != 0
	for _, d := range c.st.ns.Dev.Devices() {
		p := bridge.PortOf(d)
		br := bridge.Of(d)
		if p == nil && (br == nil || !vlans) {
			continue
		}
		c.dumpMsg(unix.RTM_NEWLINK, func(e *netlink.AttributeEncoder) { brLinkFill(e, d, p, br, mask) })
	}
	c.finishDump()
	return nil
}

// brLinkFill is br_fill_ifinfo.
func brLinkFill(e *netlink.AttributeEncoder, d *netdev.Device, p *bridge.Port, br *bridge.Bridge, mask uint32) {
	var ifi [unix.SizeofIfInfomsg]byte
	ne := binary.NativeEndian
	ifi[0] = unix.AF_BRIDGE
	ne.PutUint16(ifi[2:], d.Type())
	ne.PutUint32(ifi[4:], uint32(d.Ifindex()))
	ne.PutUint32(ifi[8:], ifFlags(d, linkState{}))
	e.Append(ifi[:])
	e.String(unix.IFLA_IFNAME, d.Name())
	if m := d.Master(); m != nil {
		e.Uint32(unix.IFLA_MASTER, uint32(m.Ifindex()))
	}
	e.Uint32(unix.IFLA_MTU, uint32(d.MTU()))
	e.Uint8(unix.IFLA_OPERSTATE, uint8(d.OperState()))
	a := d.Addr()
	e.PutBytes(unix.IFLA_ADDRESS, a[:])
	if l, _ := d.Link(); l != 0 && l != d.Ifindex() {
		e.Uint32(unix.IFLA_LINK, uint32(l))
	}
	if p != nil {
		n := e.BeginNest(unix.IFLA_PROTINFO | unix.NLA_F_NESTED)
		bridgePortFill(e, p)
		e.EndNest(n)
		br = p.Bridge()
	}
	if mask&(rtmsg.RTExtFilterBrVlan|rtmsg.RTExtFilterBrVlanCompressed) != 0 && br != nil {
		vl := br.Vlans(d)
		if len(vl) == 0 {
			return
		}
		n := e.BeginNest(unix.IFLA_AF_SPEC)
		if mask&rtmsg.RTExtFilterBrVlanCompressed != 0 {
			brVlanFillCompressed(e, vl)
		} else {
			for _, v := range vl {
				e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: brVlanFlags(v), VID: v.VID}.MarshalBinary())
			}
		}
		e.EndNest(n)
	}
}

func brVlanFlags(v bridge.VlanInfo) uint16 {
	var f uint16
	if v.PVID {
		f |= rtmsg.BridgeVlanInfoPVID
	}
	if v.Untagged {
		f |= rtmsg.BridgeVlanInfoUntagged
	}
	return f
}

// brVlanFillCompressed sends runs of consecutive VLANs with equal flags
// as ranges (br_fill_ifvlaninfo_compressed); the PVID is always alone.
func brVlanFillCompressed(e *netlink.AttributeEncoder, vl []bridge.VlanInfo) {
	put := func(start, end bridge.VlanInfo) {
		f := brVlanFlags(start)
		if start.VID == end.VID {
			e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: f, VID: start.VID}.MarshalBinary())
			return
		}
		e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: f | rtmsg.BridgeVlanInfoRangeBegin, VID: start.VID}.MarshalBinary())
		e.PutBytes(rtmsg.IflaBridgeVlanInfo, rtmsg.BridgeVlanInfo{Flags: f | rtmsg.BridgeVlanInfoRangeEnd, VID: end.VID}.MarshalBinary())
	}
	start, last := vl[0], vl[0]
	for _, v := range vl[1:] {
		if v.VID == last.VID+1 && !v.PVID && !start.PVID && v.Untagged == start.Untagged {
			last = v
			continue
		}
		put(start, last)
		start, last = v, v
	}
	put(start, last)
}

// brLinkTarget decodes an AF_BRIDGE link request: the device, its
// IFLA_PROTINFO and IFLA_AF_SPEC.
func brLinkTarget(c *call) (*netdev.Device, []rtmsg.RawAttr, error) {
	data := c.data()
	if len(data) < unix.SizeofIfInfomsg {
		return nil, nil, syscall.EINVAL
	}
	d := c.st.ns.Dev.ByIndex(int(binary.NativeEndian.Uint32(data[4:])))
	if d == nil {
		return nil, nil, syscall.ENODEV
	}
	attrs, err := rtmsg.ParseBridgeAttrs(data[unix.SizeofIfInfomsg:])
	if err != nil {
		return nil, nil, syscall.EINVAL
	}
	return d, attrs, nil
}

// brAFSpec splits IFLA_AF_SPEC into its IFLA_BRIDGE_FLAGS (MASTER when
// absent) and VLAN records.
func brAFSpec(b []byte) (uint16, []rtmsg.BridgeVlanInfo, error) {
	attrs, err := rtmsg.ParseBridgeAttrs(b)
	if err != nil {
		return 0, nil, syscall.EINVAL
	}
	flags := uint16(rtmsg.BridgeFlagsMaster)
	var vl []rtmsg.BridgeVlanInfo
	for _, a := range attrs {
		switch a.Type &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER) {
		case rtmsg.IflaBridgeFlags:
			if len(a.Data) < 2 {
				return 0, nil, syscall.EINVAL
			}
			flags = binary.NativeEndian.Uint16(a.Data)
		case rtmsg.IflaBridgeVlanInfo:
			v, err := rtmsg.UnmarshalBridgeVlanInfo(a.Data)
			if err != nil {
				return 0, nil, syscall.EINVAL
			}
			vl = append(vl, v)
		}
	}
	return flags, vl, nil
}

// brVlanApply runs add (or delete) over VLAN records, expanding ranges
// (br_process_vlan_info).
func brVlanApply(br *bridge.Bridge, d *netdev.Device, vl []rtmsg.BridgeVlanInfo, add bool) error {
	var begin *rtmsg.BridgeVlanInfo
	for i := range vl {
		v := vl[i]
		if v.VID == 0 || v.VID >= 4095 {
			return syscall.EINVAL
		}
		if v.Flags&rtmsg.BridgeVlanInfoRangeBegin != 0 {
			if begin != nil || v.Flags&rtmsg.BridgeVlanInfoPVID != 0 {
				return syscall.EINVAL
			}
			begin = &vl[i]
			continue
		}
		lo := v.VID
		if begin != nil {
			if v.Flags&rtmsg.BridgeVlanInfoRangeEnd == 0 || v.VID <= begin.VID {
				return syscall.EINVAL
			}
			lo = begin.VID
			begin = nil
		}
		for vid := lo; vid <= v.VID; vid++ {
			var err error
			if add {
				err = br.VlanAdd(d, vid, v.Flags&rtmsg.BridgeVlanInfoPVID != 0, v.Flags&rtmsg.BridgeVlanInfoUntagged != 0)
			} else {
				err = br.VlanDel(d, vid)
			}
			if err != nil {
				return err
			}
		}
	}
	if begin != nil {
		return syscall.EINVAL
	}
	return nil
}

// brSetLink is rtnl_bridge_setlink → br_setlink: port options from
// IFLA_PROTINFO, VLANs from IFLA_AF_SPEC for the port (MASTER) or the
// bridge itself (SELF).
func brSetLink(c *call) error { return brLinkChange(c, true) }

// brDelLink is rtnl_bridge_dellink → br_dellink: VLAN removal.
func brDelLink(c *call) error { return brLinkChange(c, false) }

func brLinkChange(c *call, set bool) error {
	d, attrs, err := brLinkTarget(c)
	if err != nil {
		return err
	}
	flags := uint16(rtmsg.BridgeFlagsMaster)
	var vl []rtmsg.BridgeVlanInfo
	spec, hasSpec := rtmsg.FindBridgeAttr(attrs, unix.IFLA_AF_SPEC)
	if hasSpec {
		if flags, vl, err = brAFSpec(spec); err != nil {
			return err
		}
	}
	p := bridge.PortOf(d)
	if flags&rtmsg.BridgeFlagsMaster != 0 {
		if p == nil {
			return syscall.EOPNOTSUPP
		}
		if set {
			if pi, ok := rtmsg.FindBridgeAttr(attrs, unix.IFLA_PROTINFO); ok {
				if err := brProtinfo(p, attrs, pi); err != nil {
					return err
				}
			}
		}
		if hasSpec {
			if err := brVlanApply(p.Bridge(), d, vl, set); err != nil {
				return err
			}
		}
	}
	if flags&rtmsg.BridgeFlagsSelf != 0 {
		br := bridge.Of(d)
		if br == nil {
			return syscall.EOPNOTSUPP
		}
		if err := brVlanApply(br, d, vl, set); err != nil {
			return err
		}
	}
	return nil
}

// brProtinfo applies IFLA_PROTINFO: nested IFLA_BRPORT_* (br_setport), or
// the legacy single state byte.
func brProtinfo(p *bridge.Port, attrs []rtmsg.RawAttr, pi []byte) error {
	for _, a := range attrs {
		if a.Type&^unix.NLA_F_NESTED == unix.IFLA_PROTINFO && a.Type&unix.NLA_F_NESTED == 0 {
			if len(pi) < 1 {
				return syscall.EINVAL
			}
			return p.SetState(pi[0])
		}
	}
	return bridgePortChange(p, pi)
}
