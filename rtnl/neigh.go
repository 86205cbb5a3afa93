package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/neigh"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

var (
	hNewNeigh = handlers{doit: newNeigh, hdrLen: unix.SizeofNdMsg}
	hDelNeigh = handlers{doit: delNeigh, hdrLen: unix.SizeofNdMsg}
	hGetNeigh = handlers{doit: getNeigh, dumpit: dumpNeigh, hdrLen: unix.SizeofNdMsg}
)

func decodeNeigh(c *call) (*rtmsg.Neigh, error) {
	var n rtmsg.Neigh
	if err := n.UnmarshalBinary(c.data()); err != nil {
		return nil, decodeErr(err, "neighbour request")
	}
	return &n, nil
}

// neighTarget checks what neigh_add and neigh_delete check first: the
// table of the family, the destination, the device.
func (c *call) neighTarget(n *rtmsg.Neigh) (*netdev.Device, error) {
	if !n.Dst.IsValid() {
		return nil, errMsg(syscall.EINVAL, "Network address not specified")
	}
	if n.Index != 0 {
		d := c.st.ns.Dev.ByIndex(int(n.Index))
		if d == nil {
			return nil, syscall.ENODEV
		}
		return d, nil
	}
	return nil, nil
}

// newNeigh is neigh_add.
func newNeigh(c *call) error {
	n, err := decodeNeigh(c)
	if err != nil {
		return err
	}
	if n.Family != unix.AF_INET || c.st.ns.Neigh == nil {
		return syscall.EAFNOSUPPORT
	}
	if n.Dst.IsValid() && !n.Dst.Is4() {
		return errMsg(syscall.EINVAL, "Invalid network address")
	}
	d, err := c.neighTarget(n)
	if err != nil {
		return err
	}
	r := neigh.AddRequest{Dev: d, Addr: n.Dst, State: neigh.State(n.State), Flags: neigh.Flags(n.Flags),
		Protocol: n.Protocol, Create: c.h.Flags&unix.NLM_F_CREATE != 0, Excl: c.h.Flags&unix.NLM_F_EXCL != 0,
		Replace: c.h.Flags&unix.NLM_F_REPLACE != 0}
	if n.Attrs.Has(unix.NDA_LLADDR) {
		if d != nil && len(n.LLAddr) < 6 {
			return errMsg(syscall.EINVAL, "Invalid link address")
		}
		if len(n.LLAddr) >= 6 {
			ll := [6]byte(n.LLAddr[:6])
			r.LLAddr = &ll
		}
	}
	if n.Flags&unix.NTF_PROXY != 0 {
		// pneigh_create: no device means every device, the NLM_F
		// flags do not matter, and no notification is sent.
		return c.st.ns.Neigh.Add(r)
	}
	if d == nil {
		return errMsg(syscall.EINVAL, "Device not specified")
	}
	return c.st.ns.Neigh.Add(r)
}

// delNeigh is neigh_delete.
func delNeigh(c *call) error {
	n, err := decodeNeigh(c)
	if err != nil {
		return err
	}
	if n.Family != unix.AF_INET || c.st.ns.Neigh == nil {
		return syscall.EAFNOSUPPORT
	}
	d, err := c.neighTarget(n)
	if err != nil {
		return err
	}
	if n.Flags&unix.NTF_PROXY != 0 {
		return c.st.ns.Neigh.DeleteProxy(d, n.Dst) // pneigh_delete: exact device, no notification
	}
	if d == nil {
		return syscall.EINVAL
	}
	return c.st.ns.Neigh.Delete(d, n.Dst)
}

// getNeigh is neigh_get.
func getNeigh(c *call) error {
	n, err := decodeNeigh(c)
	if err != nil {
		return err
	}
	if n.Family != unix.AF_INET || c.st.ns.Neigh == nil {
		return syscall.EAFNOSUPPORT
	}
	if c.s.strict && n.Flags&^unix.NTF_PROXY != 0 {
		return errMsg(syscall.EINVAL, "Invalid flags in header for neighbor get request")
	}
	var d *netdev.Device
	if n.Index != 0 {
		if d = c.st.ns.Dev.ByIndex(int(n.Index)); d == nil {
			return errMsg(syscall.ENODEV, "Unknown device ifindex")
		}
	}
	if !n.Dst.IsValid() {
		return errMsg(syscall.EINVAL, "Network address not specified")
	}
	if n.Flags&unix.NTF_PROXY != 0 {
		p := c.st.ns.Neigh.LookupProxy(d, n.Dst)
		if p == nil {
			return errMsg(syscall.ENOENT, "Proxy neighbour entry not found")
		}
		c.reply(unix.RTM_NEWNEIGH, func(e *netlink.AttributeEncoder) { fillProxy(e, p) })
		return nil
	}
	if d == nil {
		return errMsg(syscall.EINVAL, "No device specified")
	}
	ent := c.st.ns.Neigh.Lookup(d.Ifindex(), n.Dst)
	if ent == nil {
		return errMsg(syscall.ENOENT, "Neighbour entry not found")
	}
	c.reply(unix.RTM_NEWNEIGH, func(e *netlink.AttributeEncoder) { c.st.fillNeigh(e, ent) })
	return nil
}

// fillProxy appends a proxy entry's ndmsg (pneigh_fill_info): state
// NONE, the entry's flags with NTF_PROXY, no link-layer address, probes
// or cacheinfo.
func fillProxy(e *netlink.AttributeEncoder, p *neigh.Proxy) {
	rn := rtmsg.Neigh{
		Family: unix.AF_INET, Index: int32(p.Ifindex()), Flags: uint8(p.Flags | neigh.FlagProxy),
		Type: unix.RTN_UNICAST, Dst: p.Addr, Protocol: p.Protocol,
	}
	rn.Encode(e)
}

// dumpNeigh is neigh_dump_info with its ifindex and master filters:
// the proxy table when ndm_flags is exactly NTF_PROXY
// (pneigh_dump_table), the neighbour entries otherwise.
func dumpNeigh(c *call) error {
	var index, master int
	proxy := false
	if len(c.data()) >= unix.SizeofNdMsg {
		proxy = c.data()[10] == unix.NTF_PROXY
		n, err := decodeNeigh(c)
		if err != nil {
			if c.s.strict {
				return err
			}
		} else {
			if c.s.strict {
				if n.State != 0 || n.Type != 0 {
					return errMsg(syscall.EINVAL, "Invalid values in header for neighbor dump request")
				}
				if n.Flags&^unix.NTF_PROXY != 0 {
					return errMsg(syscall.EINVAL, "Invalid flags in header for neighbor dump request")
				}
				index = int(n.Index)
			}
			if n.Attrs.Has(unix.NDA_IFINDEX) {
				index = int(n.IfIndex)
			}
			if n.Attrs.Has(unix.NDA_MASTER) {
				master = int(n.Master)
			}
		}
	} else if c.s.strict {
		return errMsg(syscall.EINVAL, "Invalid header for neighbor dump request")
	}
	if index != 0 || master != 0 {
		c.s.dump.Flags = unix.NLM_F_DUMP_FILTERED
	}
	f := c.family()
	if (f != unix.AF_UNSPEC && f != unix.AF_INET) || c.st.ns.Neigh == nil {
		return c.emptyDump()
	}
	filtered := func(d *netdev.Device) bool { // neigh_ifindex_filtered, neigh_master_filtered
		if index != 0 && (d == nil || d.Ifindex() != index) {
			return true
		}
		return master != 0 && (d == nil || d.Master() == nil || d.Master().Ifindex() != master)
	}
	if proxy {
		for _, p := range c.st.ns.Neigh.DumpProxy() {
			if !filtered(p.Dev) {
				c.dumpMsg(unix.RTM_NEWNEIGH, func(e *netlink.AttributeEncoder) { fillProxy(e, p) })
			}
		}
		c.finishDump()
		return nil
	}
	for _, ent := range c.st.ns.Neigh.Dump() {
		if !filtered(ent.Dev) {
			c.dumpMsg(unix.RTM_NEWNEIGH, func(e *netlink.AttributeEncoder) { c.st.fillNeigh(e, ent) })
		}
	}
	c.finishDump()
	return nil
}
