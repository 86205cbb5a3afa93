package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/stack"

	"github.com/usnet/usnet/drivers/ipvlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The ipvlan kind (drivers/net/ipvlan/ipvlan_main.c). Slaves learn their
// addresses from the IPv4 layer of their namespace once ipvlan.Attach has
// been called for it (see the package).
func init() {
	registerLinkKind("ipvlan", &linkOps{
		initNet:    func(ns *stack.Namespace) { ipvlan.Attach(ns.Dev, ns.IPv4) },
		newLink:    ipvlanNewLink,
		changeLink: ipvlanChangeLink,
		fillData:   ipvlanFill,
	})
}

func ipvlanDecode(data []byte) (rtmsg.IPVlanInfo, error) {
	if data == nil {
		return rtmsg.IPVlanInfo{}, nil
	}
	v, err := rtmsg.DecodeIPVlan(data)
	if err != nil {
		return v, decodeErr(err, "ipvlan")
	}
	// ipvlan_nl_validate.
	if v.HasMode && v.Mode > ipvlan.ModeL3S {
		return v, syscall.EINVAL
	}
	if v.HasFlags && (v.Flags&^(ipvlan.FlagPrivate|ipvlan.FlagVEPA) != 0 || v.Flags == ipvlan.FlagPrivate|ipvlan.FlagVEPA) {
		return v, syscall.EINVAL
	}
	return v, nil
}

func ipvlanNewLink(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device) (*netdev.Device, error) {
	var data []byte
	if l.Info != nil {
		data = l.Info.Data
	}
	v, err := ipvlanDecode(data)
	if err != nil {
		return nil, err
	}
	if lower == nil {
		return nil, syscall.EINVAL
	}
	if lower.Table() != t {
		return nil, errMsg(syscall.EOPNOTSUPP, "ipvlan: create the slave next to its lower device, then move it")
	}
	c := ipvlan.Config{Name: name, Lower: lower, Mode: ipvlan.ModeL3, Flags: v.Flags}
	if v.HasMode {
		c.Mode = v.Mode
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		c.MTU = int(l.MTU)
	}
	return ipvlan.New(c)
}

func ipvlanChangeLink(d *netdev.Device, data []byte) error {
	s, ok := ipvlan.Of(d)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	v, err := ipvlanDecode(data)
	if err != nil {
		return err
	}
	mode, flags := s.Mode(), s.Flags()
	if v.HasMode {
		mode = v.Mode
	}
	if v.HasFlags {
		flags = v.Flags
	}
	if d.Table() != s.Lower().Table() {
		return errMsg(syscall.EOPNOTSUPP, "ipvlan: change the mode in the lower device's namespace")
	}
	return s.SetMode(mode, flags)
}

// ipvlanFill is ipvlan_nl_fillinfo.
func ipvlanFill(e *netlink.AttributeEncoder, d *netdev.Device) {
	s, ok := ipvlan.Of(d)
	if !ok {
		return
	}
	v := rtmsg.IPVlanInfo{Mode: s.Mode(), Flags: s.Flags(), HasMode: true, HasFlags: true}
	v.Encode(e)
}
