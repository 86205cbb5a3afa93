package rtnl

import (
	"encoding/binary"
	"slices"
	"syscall"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// AF_BRIDGE neighbour messages are the forwarding databases
// (rtnl_fdb_add, rtnl_fdb_del, rtnl_fdb_dump): a bridge's FDB through its
// ports (NTF_MASTER) or the bridge itself (NTF_SELF), a vxlan device's
// own FDB (NTF_SELF, see kind_vxlan.go).
func init() {
	registerFamilyHandlers(unix.RTM_NEWNEIGH, unix.AF_BRIDGE, &handlers{doit: brFDBAdd, hdrLen: unix.SizeofNdMsg})
	registerFamilyHandlers(unix.RTM_DELNEIGH, unix.AF_BRIDGE, &handlers{doit: brFDBDel, hdrLen: unix.SizeofNdMsg})
	registerFamilyHandlers(unix.RTM_GETNEIGH, unix.AF_BRIDGE, &handlers{dumpit: brFDBDump, hdrLen: unix.SizeofNdMsg})
}

// brFDBTarget decodes a request and finds its device (the checks at the
// top of rtnl_fdb_add/rtnl_fdb_del).
func brFDBTarget(c *call) (*rtmsg.Neigh, *netdev.Device, uint16, error) {
	var n rtmsg.Neigh
	if err := n.UnmarshalBinary(c.data()); err != nil {
		return nil, nil, 0, syscall.EINVAL
	}
	if n.Index == 0 {
		return nil, nil, 0, errMsg(syscall.EINVAL, "invalid ifindex")
	}
	d := c.st.ns.Dev.ByIndex(int(n.Index))
	if d == nil {
		return nil, nil, 0, errMsg(syscall.ENODEV, "unknown ifindex")
	}
	if len(n.LLAddr) != 6 {
		return nil, nil, 0, errMsg(syscall.EINVAL, "invalid address")
	}
	if d.Type() != netdev.ARPHRDEther {
		return nil, nil, 0, errMsg(syscall.EINVAL, "FDB add only supported for Ethernet devices")
	}
	var vid uint16
	if n.Attrs.Has(unix.NDA_VLAN) {
		vid = n.VLAN
		if vid == 0 || vid >= 4095 {
			return nil, nil, 0, errMsg(syscall.EINVAL, "invalid vlan id")
		}
	}
	c.st.bridgeAttachAll()
	return &n, d, vid, nil
}

// brFDBVids lists the VLANs an entry without NDA_VLAN goes to: 0 and
// every VLAN of the port (br_fdb_add, br_fdb_delete).
func brFDBVids(br *bridge.Bridge, d *netdev.Device, vid uint16, hasVid bool) []uint16 {
	if hasVid {
		return []uint16{vid}
	}
	vids := []uint16{0}
	for _, v := range br.Vlans(d) {
		vids = append(vids, v.VID)
	}
	return vids
}

func brFDBAdd(c *call) error {
	n, d, vid, err := brFDBTarget(c)
	if err != nil {
		return err
	}
	err = syscall.EOPNOTSUPP
	flags := n.Flags
	if (flags == 0 || flags&unix.NTF_MASTER != 0) && bridge.PortOf(d) != nil {
		if err = brFDBAddTo(c, bridge.Of(d.Master()), d, n, vid); err != nil {
			return err
		}
		flags &^= unix.NTF_MASTER
	}
	if flags&unix.NTF_SELF != 0 {
		switch {
		case d.Kind() == "vxlan":
			err = vxlanFDBAdd(d, n, c.h.Flags)
		case bridge.Of(d) != nil:
			err = brFDBAddTo(c, bridge.Of(d), d, n, vid)
		default:
			// Linux adds the address to the device's unicast or
			// multicast list (ndo_dflt_fdb_add); usnet devices have
			// none.
			err = syscall.EOPNOTSUPP
		}
	}
	return err
}

// brFDBAddTo is br_fdb_add on bridge br for device d (a port, or br's
// own device).
func brFDBAddTo(c *call, br *bridge.Bridge, d *netdev.Device, n *rtmsg.Neigh, vid uint16) error {
	if n.State&(unix.NUD_PERMANENT|unix.NUD_NOARP|unix.NUD_REACHABLE) == 0 {
		return syscall.EINVAL
	}
	hasVid := n.Attrs.Has(unix.NDA_VLAN)
	if hasVid && !slices.ContainsFunc(br.Vlans(d), func(v bridge.VlanInfo) bool { return v.VID == vid }) {
		return syscall.EINVAL
	}
	local := n.State&unix.NUD_PERMANENT != 0
	static := !local && n.State&unix.NUD_NOARP != 0
	excl := c.h.Flags&unix.NLM_F_EXCL != 0
	replace := c.h.Flags&unix.NLM_F_REPLACE != 0
	mac := [6]byte(n.LLAddr)
	for _, v := range brFDBVids(br, d, vid, hasVid) {
		if _, ok := br.Lookup(mac, v); !ok && c.h.Flags&unix.NLM_F_CREATE == 0 {
			return syscall.ENOENT
		}
		if err := br.FDBAdd(mac, v, d, local, static, excl, replace); err != nil {
			return err
		}
	}
	return nil
}

func brFDBDel(c *call) error {
	n, d, vid, err := brFDBTarget(c)
	if err != nil {
		return err
	}
	err = syscall.EOPNOTSUPP
	flags := n.Flags
	if (flags == 0 || flags&unix.NTF_MASTER != 0) && bridge.PortOf(d) != nil {
		if err = brFDBDelFrom(bridge.Of(d.Master()), d, n, vid); err != nil {
			return err
		}
		flags &^= unix.NTF_MASTER
	}
	if flags&unix.NTF_SELF != 0 {
		switch {
		case d.Kind() == "vxlan":
			err = vxlanFDBDel(d, n)
		case bridge.Of(d) != nil:
			err = brFDBDelFrom(bridge.Of(d), d, n, vid)
		default:
			err = syscall.EOPNOTSUPP
		}
	}
	return err
}

// brFDBDelFrom is br_fdb_delete: ENOENT unless some entry went.
func brFDBDelFrom(br *bridge.Bridge, d *netdev.Device, n *rtmsg.Neigh, vid uint16) error {
	mac := [6]byte(n.LLAddr)
	deleted := false
	for _, v := range brFDBVids(br, d, vid, n.Attrs.Has(unix.NDA_VLAN)) {
		if br.FDBDel(mac, v, d) == nil {
			deleted = true
		}
	}
	if !deleted {
		return syscall.ENOENT
	}
	return nil
}

// brFDBDump is rtnl_fdb_dump: device by device in ifindex order, a port's
// entries through its bridge, a bridge's own entries, a vxlan device's
// table. The request header is an ifinfomsg (iproute2) or an ndmsg; the
// filters are the port index and IFLA_MASTER / NDA_MASTER.
func brFDBDump(c *call) error {
	data := c.data()
	var brIdx, portIdx uint32
	if len(data) >= unix.SizeofIfInfomsg {
		portIdx = binary.NativeEndian.Uint32(data[4:])
		attrs, _ := rtmsg.ParseBridgeAttrs(data[unix.SizeofIfInfomsg:])
		if b, ok := rtmsg.FindBridgeAttr(attrs, unix.IFLA_MASTER); ok && len(b) == 4 {
			brIdx = binary.NativeEndian.Uint32(b)
		}
	} else if len(data) >= unix.SizeofNdMsg {
		portIdx = binary.NativeEndian.Uint32(data[4:])
		attrs, _ := rtmsg.ParseBridgeAttrs(data[unix.SizeofNdMsg:])
		if b, ok := rtmsg.FindBridgeAttr(attrs, unix.NDA_MASTER); ok && len(b) == 4 {
			brIdx = binary.NativeEndian.Uint32(b)
		}
	}
	c.st.bridgeAttachAll()
	now := c.st.ns.Exec().Now()
	for _, d := range c.st.ns.Dev.Devices() {
		if portIdx != 0 && uint32(d.Ifindex()) != portIdx {
			continue
		}
		if p := bridge.PortOf(d); p != nil {
			br := p.Bridge()
			if brIdx == 0 || uint32(br.Device().Ifindex()) == brIdx {
				for _, e := range brFDBSorted(br, d) {
					c.dumpMsg(unix.RTM_NEWNEIGH, func(enc *netlink.AttributeEncoder) { brFDBFill(enc, br, e, now) })
				}
			}
		}
		if brIdx != 0 && uint32(d.Ifindex()) != brIdx {
			continue
		}
		switch {
		case bridge.Of(d) != nil:
			br := bridge.Of(d)
			for _, e := range brFDBSorted(br, d) {
				c.dumpMsg(unix.RTM_NEWNEIGH, func(enc *netlink.AttributeEncoder) { brFDBFill(enc, br, e, now) })
			}
		case d.Kind() == "vxlan" && brIdx == 0:
			vxlanFDBDump(d, func(fill func(e *netlink.AttributeEncoder)) { c.dumpMsg(unix.RTM_NEWNEIGH, fill) })
		}
	}
	c.finishDump()
	return nil
}

// brFDBSorted returns br's entries on d (the bridge device: its own
// entries) in (VLAN, address) order; Linux's order is its hash chains'.
func brFDBSorted(br *bridge.Bridge, d *netdev.Device) []bridge.FDBEntry {
	var out []bridge.FDBEntry
	for _, e := range br.FDB() {
		if e.Port == d {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b bridge.FDBEntry) int {
		if a.VID != b.VID {
			return int(a.VID) - int(b.VID)
		}
		return slices.Compare(a.Addr[:], b.Addr[:])
	})
	return out
}

// brFDBNud is fdb_to_nud.
func brFDBNud(br *bridge.Bridge, e bridge.FDBEntry, now time.Duration) uint16 {
	switch {
	case e.Local:
		return unix.NUD_PERMANENT
	case e.Static:
		return unix.NUD_NOARP
	case br.AgeingTime() > 0 && now-e.Updated >= br.AgeingTime():
		return unix.NUD_STALE
	}
	return unix.NUD_REACHABLE
}

// brFDBFill is fdb_fill_info: ndmsg, NDA_LLADDR, NDA_MASTER,
// NDA_FLAGS_EXT, NDA_CACHEINFO, NDA_VLAN.
func brFDBFill(e *netlink.AttributeEncoder, br *bridge.Bridge, f bridge.FDBEntry, now time.Duration) {
	var h [unix.SizeofNdMsg]byte
	h[0] = unix.AF_BRIDGE
	binary.NativeEndian.PutUint32(h[4:], uint32(f.Port.Ifindex()))
	binary.NativeEndian.PutUint16(h[8:], brFDBNud(br, f, now))
	e.Append(h[:])
	e.PutBytes(unix.NDA_LLADDR, f.Addr[:])
	e.Uint32(unix.NDA_MASTER, uint32(br.Device().Ifindex()))
	e.Uint32(ndaFlagsExt, 0)
	var ci [16]byte
	binary.NativeEndian.PutUint32(ci[4:], uint32(clockT(now-f.Used)))
	binary.NativeEndian.PutUint32(ci[8:], uint32(clockT(now-f.Updated)))
	e.PutBytes(unix.NDA_CACHEINFO, ci[:])
	if f.VID != 0 {
		e.Uint16(unix.NDA_VLAN, f.VID)
	}
}

// bridgeSubscribe makes every bridge of st's namespace, present and
// future, send its FDB changes as RTM_NEWNEIGH/RTM_DELNEIGH (AF_BRIDGE)
// to RTNLGRP_NEIGH, as br_fdb's fdb_notify does; nsState.subscribe
// calls it. Executor only.
func (st *nsState) bridgeSubscribe() {
	if st.bridgeSubscribed {
		return
	}
	st.bridgeSubscribed = true
	st.ns.Dev.Subscribe(func(ev netdev.Event, d *netdev.Device) {
		if ev == netdev.EventRegister {
			if br := bridge.Of(d); br != nil {
				br.SubscribeFDB(st, st.bridgeFDBEvent(br))
			}
		}
	})
	for _, d := range st.ns.Dev.Devices() {
		if br := bridge.Of(d); br != nil {
			br.SubscribeFDB(st, st.bridgeFDBEvent(br))
		}
	}
}

func (st *nsState) bridgeAttachAll() { st.bridgeSubscribe() }

func (st *nsState) bridgeFDBEvent(br *bridge.Bridge) func(bridge.FDBEntry, bool) {
	return func(f bridge.FDBEntry, deleted bool) {
		if !st.wants(unix.RTNLGRP_NEIGH) {
			return
		}
		typ := uint16(unix.RTM_NEWNEIGH)
		if deleted {
			typ = unix.RTM_DELNEIGH
		}
		e := st.begin()
		m := e.BeginMessage(netlink.Header{Type: typ})
		brFDBFill(e, br, f, st.ns.Exec().Now())
		e.EndMessage(m)
		st.multicast(unix.RTNLGRP_NEIGH, e.Bytes())
	}
}

// ndaFlagsExt is NDA_FLAGS_EXT (include/uapi/linux/neighbour.h), which
// golang.org/x/sys/unix does not define.
const ndaFlagsExt = 15
