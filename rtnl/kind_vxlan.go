package rtnl

import (
	"encoding/binary"
	"errors"
	"github.com/usnet/usnet/stack"
	"net/netip"
	"syscall"
	"time"

	"github.com/usnet/usnet/drivers/vxlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The vxlan kind (drivers/net/vxlan/vxlan_core.c's rtnl_link_ops):
// IFLA_INFO_DATA ↔ vxlan.Config.
func init() {
	registerLinkKind("vxlan", &linkOps{
		initNet:     func(ns *stack.Namespace) { vxlan.Attach(ns.Dev, ns.IPv4, ns.UDP) },
		defaultName: "vxlan%d",
		newLink:     newVXLAN,
		changeLink:  changeVXLAN,
		fillData:    fillVXLAN,
	})
}

// vxlanConf is vxlan_nl2conf: start from base and apply the attributes
// present in data. Errors carry the kernel's extack texts.
func vxlanConf(t *netdev.Table, base vxlan.Config, data []byte, change bool) (vxlan.Config, error) {
	c := base
	v, err := rtmsg.DecodeVXLAN(data)
	if err != nil {
		return c, decodeErr(err, "vxlan")
	}
	has := v.Present
	if has(unix.IFLA_VXLAN_ID) {
		if v.ID > vxlan.MaxVNI {
			return c, errMsg(syscall.ERANGE, "VXLAN ID must be lower than 16777216")
		}
		if change && v.ID != base.VNI {
			return c, errMsg(syscall.EOPNOTSUPP, "Cannot change VNI")
		}
		c.VNI = v.ID
	}
	if has(unix.IFLA_VXLAN_GROUP6) || has(unix.IFLA_VXLAN_LOCAL6) {
		return c, errMsg(syscall.EAFNOSUPPORT, "IPv6 support not enabled in the kernel")
	}
	if has(unix.IFLA_VXLAN_GROUP) {
		c.Remote = v.Group
		if c.Remote == netip.IPv4Unspecified() {
			c.Remote = netip.Addr{}
		}
	}
	if has(unix.IFLA_VXLAN_LOCAL) {
		if change && v.Local != base.Local && base.Local.IsValid() {
			return c, errMsg(syscall.EOPNOTSUPP, "New local address family does not match old")
		}
		c.Local = v.Local
		if c.Local == netip.IPv4Unspecified() {
			c.Local = netip.Addr{}
		}
	}
	if has(unix.IFLA_VXLAN_LINK) {
		if v.Link == 0 {
			c.Lower = nil
		} else if c.Lower = t.ByIndex(int(v.Link)); c.Lower == nil {
			return c, errMsg(syscall.ENODEV, "Invalid local interface, device not found")
		}
	}
	if has(unix.IFLA_VXLAN_TOS) {
		c.TOS = v.TOS
	}
	if has(unix.IFLA_VXLAN_TTL) {
		c.TTL = v.TTL
	}
	if has(unix.IFLA_VXLAN_TTL_INHERIT) {
		c.TTLInherit = v.TTLInherit != 0
	}
	if has(unix.IFLA_VXLAN_LABEL) {
		c.Label = v.Label & 0xfffff
	}
	if has(unix.IFLA_VXLAN_LEARNING) {
		c.Learning = v.Learning != 0
	}
	if has(unix.IFLA_VXLAN_AGEING) {
		c.Ageing = v.Ageing
	}
	if has(unix.IFLA_VXLAN_PROXY) {
		c.Proxy = v.Proxy != 0
	}
	if has(unix.IFLA_VXLAN_RSC) {
		c.RSC = v.RSC != 0
	}
	if has(unix.IFLA_VXLAN_L2MISS) {
		c.L2Miss = v.L2Miss != 0
	}
	if has(unix.IFLA_VXLAN_L3MISS) {
		c.L3Miss = v.L3Miss != 0
	}
	if has(unix.IFLA_VXLAN_LIMIT) {
		if change && v.Limit != base.Limit {
			return c, errMsg(syscall.EOPNOTSUPP, "Cannot change limit")
		}
		c.Limit = v.Limit
	}
	if has(unix.IFLA_VXLAN_COLLECT_METADATA) && v.CollectMeta != 0 {
		return c, errMsg(syscall.EOPNOTSUPP, "vxlan: external (collect metadata) mode is not supported by usnet")
	}
	if has(unix.IFLA_VXLAN_PORT_RANGE) {
		if change {
			return c, errMsg(syscall.EOPNOTSUPP, "Cannot change port range")
		}
		if v.PortHigh < v.PortLow {
			return c, errMsg(syscall.EINVAL, "Invalid source port range")
		}
		c.PortMin, c.PortMax = v.PortLow, v.PortHigh
	}
	if has(unix.IFLA_VXLAN_PORT) {
		if change && v.Port != base.Port {
			return c, errMsg(syscall.EOPNOTSUPP, "Cannot change destination port")
		}
		c.Port = v.Port
	}
	if has(unix.IFLA_VXLAN_UDP_CSUM) {
		if change && (v.UDPCsum == 0) != base.NoUDPCsum {
			return c, errMsg(syscall.EOPNOTSUPP, "Cannot change UDP_CSUM flag")
		}
		c.NoUDPCsum = v.UDPCsum == 0
	}
	if has(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX) {
		c.UDP6ZeroCsumTx = v.UDPZeroCsum6Tx != 0
	}
	if has(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX) {
		c.UDP6ZeroCsumRx = v.UDPZeroCsum6Rx != 0
	}
	if has(unix.IFLA_VXLAN_REMCSUM_TX) {
		c.RemCsumTx = v.RemCsumTx != 0
	}
	if has(unix.IFLA_VXLAN_REMCSUM_RX) {
		c.RemCsumRx = v.RemCsumRx != 0
	}
	if has(unix.IFLA_VXLAN_GBP) || has(unix.IFLA_VXLAN_GPE) || has(unix.IFLA_VXLAN_REMCSUM_NOPARTIAL) || has(unix.IFLA_VXLAN_VNIFILTER) && v.VNIFilter != 0 {
		return c, errMsg(syscall.EOPNOTSUPP, "vxlan: GBP, GPE, remote checksum and VNI filtering are not supported by usnet")
	}
	if has(unix.IFLA_VXLAN_DF) {
		if v.DF > vxlan.DFInherit {
			return c, errMsg(syscall.EINVAL, "Invalid DF attribute")
		}
		c.DF = v.DF
	}
	if has(unix.IFLA_VXLAN_LOCALBYPASS) {
		c.NoLocalBypass = v.LocalBypass == 0
	}
	if c.Remote.IsValid() && c.Remote.IsMulticast() && c.Lower == nil {
		return c, errMsg(syscall.EINVAL, "Local interface required for multicast remote destination")
	}
	if c.Local.IsValid() && c.Local.IsMulticast() {
		return c, errMsg(syscall.EINVAL, "Local address cannot be multicast")
	}
	return c, nil
}

func newVXLAN(t *netdev.Table, name string, l *rtmsg.Link, _ *netdev.Device) (*netdev.Device, error) {
	vn := vxlan.Lookup(t.Net())
	if vn == nil {
		return nil, errMsg(syscall.EOPNOTSUPP, "vxlan: not attached in this namespace")
	}
	var data []byte
	if l.Info != nil {
		data = l.Info.Data
	}
	c, err := vxlanConf(t, vxlan.Default(0), data, false)
	if err != nil {
		return nil, err
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		c.MTU = int(l.MTU)
	}
	v, err := vxlan.New(vn, name, c)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && errno == syscall.EEXIST {
			return nil, errMsg(syscall.EEXIST, "A VXLAN device with the specified VNI already exists")
		}
		return nil, err
	}
	return v.Device(), nil
}

func changeVXLAN(d *netdev.Device, data []byte) error {
	v := vxlan.Of(d)
	if v == nil {
		return syscall.EOPNOTSUPP
	}
	c, err := vxlanConf(d.Table(), v.Config(), data, true)
	if err != nil {
		return err
	}
	return v.Change(c)
}

// fillVXLAN is vxlan_fill_info.
func fillVXLAN(e *netlink.AttributeEncoder, d *netdev.Device) {
	v := vxlan.Of(d)
	if v == nil {
		return
	}
	i := vxlanInfo(v.Config())
	i.Encode(e)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// vxlanInfo lists what vxlan_fill_info reports for c (kernel 6.18): every
// attribute except the optional group, link, local and flags.
func vxlanInfo(c vxlan.Config) rtmsg.VXLANInfo {
	i := rtmsg.VXLANInfo{
		ID: c.VNI, TTL: c.TTL, TTLInherit: b2u(c.TTLInherit), TOS: c.TOS, DF: c.DF, Label: c.Label,
		Learning: b2u(c.Learning), Proxy: b2u(c.Proxy), RSC: b2u(c.RSC), L2Miss: b2u(c.L2Miss), L3Miss: b2u(c.L3Miss),
		Ageing: c.Ageing, Limit: c.Limit, Port: c.Port, UDPCsum: b2u(!c.NoUDPCsum),
		UDPZeroCsum6Tx: b2u(c.UDP6ZeroCsumTx), UDPZeroCsum6Rx: b2u(c.UDP6ZeroCsumRx),
		RemCsumTx: b2u(c.RemCsumTx), RemCsumRx: b2u(c.RemCsumRx), LocalBypass: b2u(!c.NoLocalBypass),
		PortLow: c.PortMin, PortHigh: c.PortMax,
		// The reserved bits that no extension uses: all but the I flag
		// and the VNI (vxlan_nl2conf's default).
		ReservedBits: [8]byte{0xf7, 0xff, 0xff, 0xff, 0, 0, 0, 0xff},
	}
	for _, a := range []uint16{unix.IFLA_VXLAN_ID, unix.IFLA_VXLAN_TTL, unix.IFLA_VXLAN_TTL_INHERIT, unix.IFLA_VXLAN_TOS,
		unix.IFLA_VXLAN_DF, unix.IFLA_VXLAN_LABEL, unix.IFLA_VXLAN_LABEL_POLICY, unix.IFLA_VXLAN_LEARNING, unix.IFLA_VXLAN_PROXY,
		unix.IFLA_VXLAN_RSC, unix.IFLA_VXLAN_L2MISS, unix.IFLA_VXLAN_L3MISS, unix.IFLA_VXLAN_COLLECT_METADATA,
		unix.IFLA_VXLAN_AGEING, unix.IFLA_VXLAN_LIMIT, unix.IFLA_VXLAN_PORT, unix.IFLA_VXLAN_UDP_CSUM,
		unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, unix.IFLA_VXLAN_REMCSUM_TX,
		unix.IFLA_VXLAN_REMCSUM_RX, unix.IFLA_VXLAN_LOCALBYPASS, unix.IFLA_VXLAN_PORT_RANGE, rtmsg.IFLA_VXLAN_RESERVED_BITS} {
		i.Set(a)
	}
	if c.Remote.IsValid() {
		i.Group = c.Remote
		i.Set(unix.IFLA_VXLAN_GROUP)
	}
	if c.Lower != nil {
		i.Link = uint32(c.Lower.Ifindex())
		i.Set(unix.IFLA_VXLAN_LINK)
	}
	if c.Local.IsValid() {
		i.Local = c.Local
		i.Set(unix.IFLA_VXLAN_LOCAL)
	}
	return i
}

// The VXLAN FDB is reached with AF_BRIDGE neighbour messages whose
// ndm_ifindex is the vxlan device (`bridge fdb add|append|del|show dev
// vx0 … self`), as vxlan's ndo_fdb_add/ndo_fdb_del/ndo_fdb_dump. The
// AF_BRIDGE RTM_*NEIGH handlers (rtnl/bridge_*.go) call these three
// functions when the target device's Kind() is "vxlan".

// vxlanFDBAdd is vxlan_fdb_add: n is the decoded request, nlflags its
// NLM_F_* (CREATE, EXCL, REPLACE, APPEND). Executor only.
func vxlanFDBAdd(d *netdev.Device, n *rtmsg.Neigh, nlflags uint16) error {
	v := vxlan.Of(d)
	if v == nil {
		return syscall.EOPNOTSUPP
	}
	if n.State&(unix.NUD_PERMANENT|unix.NUD_REACHABLE) == 0 {
		return errMsg(syscall.EINVAL, "")
	}
	if !n.Attrs.Has(unix.NDA_DST) {
		return syscall.EINVAL
	}
	mac, r, err := vxlanFDBParse(v, n)
	if err != nil {
		return err
	}
	return v.FDBAdd(mac, r, n.State, int(nlflags))
}

// vxlanFDBDel is vxlan_fdb_delete: without NDA_DST the whole entry goes,
// with it only that destination. Executor only.
func vxlanFDBDel(d *netdev.Device, n *rtmsg.Neigh) error {
	v := vxlan.Of(d)
	if v == nil {
		return syscall.EOPNOTSUPP
	}
	mac, r, err := vxlanFDBParse(v, n)
	if err != nil {
		return err
	}
	return v.FDBDel(mac, r)
}

// vxlanFDBParse is vxlan_fdb_parse: MAC, destination, port, VNI and
// underlay ifindex of a request.
func vxlanFDBParse(v *vxlan.Dev, n *rtmsg.Neigh) ([6]byte, vxlan.Remote, error) {
	var mac [6]byte
	var r vxlan.Remote
	if len(n.LLAddr) != 6 {
		return mac, r, syscall.EINVAL
	}
	mac = [6]byte(n.LLAddr)
	if n.Attrs.Has(unix.NDA_DST) {
		if !n.Dst.Is4() {
			return mac, r, syscall.EAFNOSUPPORT
		}
		r.IP = n.Dst
	}
	for _, a := range n.Unknown {
		switch a.Type {
		case unix.NDA_PORT:
			if len(a.Data) != 2 {
				return mac, r, syscall.EINVAL
			}
			r.Port = uint16(a.Data[0])<<8 | uint16(a.Data[1])
		case unix.NDA_VNI:
			if len(a.Data) != 4 {
				return mac, r, syscall.EINVAL
			}
			r.VNI, r.HasVNI = binaryU32(a.Data), true
			if r.VNI == v.Config().VNI {
				r.HasVNI = false // the device's own VNI is the default
			}
		case unix.NDA_IFINDEX:
			if len(a.Data) != 4 {
				return mac, r, syscall.EINVAL
			}
			idx := int(binaryU32(a.Data))
			if v.Device().Table().ByIndex(idx) == nil {
				return mac, r, syscall.EADDRNOTAVAIL
			}
			r.Ifindex = idx
		}
	}
	return mac, r, nil
}

func binaryU32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }

func putNativeU32(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
func putNativeU16(b []byte, v uint16) { binary.NativeEndian.PutUint16(b, v) }

// vxlanFDBDump is vxlan_fdb_dump: one RTM_NEWNEIGH per destination of
// every entry, each written by the fill function handed to emit (which
// wraps it in a message, e.g. c.dumpMsg(unix.RTM_NEWNEIGH, fill)).
// Executor only.
func vxlanFDBDump(d *netdev.Device, emit func(fill func(e *netlink.AttributeEncoder))) {
	v := vxlan.Of(d)
	if v == nil {
		return
	}
	now := d.Table().Net().Exec().Now()
	for _, ent := range v.FDBDump() {
		for _, r := range ent.Remotes {
			emit(func(e *netlink.AttributeEncoder) { vxlanFDBFill(e, v, ent, r, now) })
		}
	}
}

// vxlanFDBFill is vxlan_fdb_info: ndmsg, then NDA_LLADDR, NDA_DST,
// NDA_PORT (when not the device's), NDA_VNI (when not the device's),
// NDA_IFINDEX, NDA_CACHEINFO, in that order.
func vxlanFDBFill(e *netlink.AttributeEncoder, v *vxlan.Dev, ent vxlan.FDBEntry, r vxlan.Remote, now time.Duration) {
	var h [unix.SizeofNdMsg]byte
	h[0] = unix.AF_BRIDGE
	putNativeU32(h[4:], uint32(v.Device().Ifindex()))
	putNativeU16(h[8:], ent.State)
	h[10], h[11] = ent.Flags, unix.RTN_UNICAST
	e.Append(h[:])
	e.PutBytes(unix.NDA_LLADDR, ent.MAC[:])
	e.Addr(unix.NDA_DST, r.IP)
	c := v.Config()
	if r.Port != 0 && r.Port != c.Port {
		e.Uint16BE(unix.NDA_PORT, r.Port)
	}
	if r.HasVNI && r.VNI != c.VNI {
		e.Uint32(unix.NDA_VNI, r.VNI)
	}
	if r.Ifindex != 0 {
		e.Uint32(unix.NDA_IFINDEX, uint32(r.Ifindex))
	}
	var ci [16]byte
	putNativeU32(ci[4:], uint32((now-ent.Used)/(10*time.Millisecond)))    // ndm_used, USER_HZ ticks
	putNativeU32(ci[8:], uint32((now-ent.Updated)/(10*time.Millisecond))) // ndm_updated
	e.PutBytes(unix.NDA_CACHEINFO, ci[:])
}
