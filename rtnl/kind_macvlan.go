package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/drivers/macvlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The macvlan kind (drivers/net/macvlan.c) and macvtap, the same with
// its frames going to a program (drivers/net/macvtap.c; the program's
// port is macvlan.TapPort of the device).
func init() {
	registerLinkKind("macvlan", &linkOps{
		newLink:    macvlanNewLink,
		changeLink: macvlanChangeLink,
		fillData:   macvlanFill,
	})
	registerLinkKind("macvtap", &linkOps{
		defaultName: "macvtap%d",
		newLink: func(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device) (*netdev.Device, error) {
			return macvlanCreate(t, name, l, lower, true)
		},
		changeLink: macvlanChangeLink,
		fillData:   macvlanFill,
	})
}

// macvlanDecode decodes and validates (macvlan_validate).
func macvlanDecode(data []byte) (rtmsg.MacvlanInfo, error) {
	var m rtmsg.MacvlanInfo
	if data == nil {
		return m, nil
	}
	m, err := rtmsg.DecodeMacvlan(data)
	if err != nil {
		return m, decodeErr(err, "macvlan")
	}
	if m.HasFlags && m.Flags&^(macvlan.FlagNoPromisc|macvlan.FlagNoDst) != 0 {
		return m, syscall.EINVAL
	}
	if m.HasMode {
		switch m.Mode {
		case macvlan.ModePrivate, macvlan.ModeVEPA, macvlan.ModeBridge, macvlan.ModePassthru, macvlan.ModeSource:
		default:
			return m, syscall.EINVAL
		}
	}
	if m.HasMACAddrMode && m.MACAddrMode > macvlan.MACAddrSet {
		return m, syscall.EINVAL
	}
	if m.HasBCQueueUsed {
		return m, errMsg(syscall.EINVAL, "Attribute failed policy validation")
	}
	return m, nil
}

func macvlanNewLink(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device) (*netdev.Device, error) {
	return macvlanCreate(t, name, l, lower, false)
}

func macvlanCreate(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device, tap bool) (*netdev.Device, error) {
	var data []byte
	if l.Info != nil {
		data = l.Info.Data
	}
	m, err := macvlanDecode(data)
	if err != nil {
		return nil, err
	}
	if lower == nil {
		return nil, syscall.EINVAL // macvlan_newlink says nothing more
	}
	if lower.Table() != t {
		return nil, errMsg(syscall.EOPNOTSUPP, "macvlan: the lower device must be in the same namespace")
	}
	c := macvlan.Config{Name: name, Lower: lower, Mode: m.Mode, Flags: m.Flags}
	if m.HasBCQueueLen {
		c.BCQueueLen = &m.BCQueueLen
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		if int(l.MTU) > lower.MTU() {
			return nil, syscall.EINVAL
		}
		c.MTU = int(l.MTU)
	}
	if len(l.Address) == 6 {
		c.Addr = [6]byte(l.Address)
	}
	if m.HasMACAddrMode && c.Mode != macvlan.ModeSource {
		return nil, syscall.EINVAL
	}
	var d *netdev.Device
	if tap {
		d, _, err = macvlan.NewTap(c)
	} else {
		d, err = macvlan.New(c)
	}
	if err != nil {
		return nil, err
	}
	if m.HasMACAddrMode {
		if err := macvlanSources(d, &m); err != nil {
			t.Unregister(d)
			return nil, err
		}
	}
	return d, nil
}

// macvlanSources applies a source-list request (macvlan_changelink_sources).
func macvlanSources(d *netdev.Device, m *rtmsg.MacvlanInfo) error {
	v, _ := macvlan.Of(d)
	var addrs [][6]byte
	switch m.MACAddrMode {
	case macvlan.MACAddrAdd, macvlan.MACAddrDel:
		if !m.HasMACAddr {
			return syscall.EINVAL
		}
		addrs = [][6]byte{m.MACAddr}
	case macvlan.MACAddrSet:
		addrs = m.MACAddrs
	}
	return v.ChangeSources(m.MACAddrMode, addrs)
}

func macvlanChangeLink(d *netdev.Device, data []byte) error {
	v, ok := macvlan.Of(d)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	m, err := macvlanDecode(data)
	if err != nil {
		return err
	}
	if m.HasMode && m.Mode != v.Mode() {
		if err := v.SetMode(m.Mode); err != nil {
			return err
		}
	}
	if m.HasFlags {
		if err := v.SetFlags(m.Flags); err != nil {
			return err
		}
	}
	if m.HasMACAddrMode {
		if err := macvlanSources(d, &m); err != nil {
			return err
		}
	}
	if m.HasBCQueueLen {
		v.SetBCQueueLen(m.BCQueueLen)
	}
	return nil
}

// macvlanFill is macvlan_fill_info.
func macvlanFill(e *netlink.AttributeEncoder, d *netdev.Device) {
	v, ok := macvlan.Of(d)
	if !ok {
		return
	}
	src := v.Sources()
	m := rtmsg.MacvlanInfo{
		Mode: v.Mode(), Flags: v.Flags(), Count: uint32(len(src)), MACAddrs: src,
		BCQueueLen: v.BCQueueLen(), BCQueueUsed: v.BCQueueLenUsed(),
		HasMode: true, HasFlags: true, HasCount: true, HasMACAddrs: len(src) > 0,
		HasBCQueueLen: true, HasBCQueueUsed: true,
	}
	m.Encode(e)
}
