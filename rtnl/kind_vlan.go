package rtnl

import (
	"syscall"

	"github.com/usnet/usnet/drivers/vlan"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/netlink"
	"github.com/usnet/usnet/netlink/rtmsg"
	"golang.org/x/sys/unix"
)

// The vlan kind (net/8021q/vlan_netlink.c).
func init() {
	registerLinkKind("vlan", &linkOps{
		newLink:    vlanNewLink,
		changeLink: vlanChangeLink,
		fillData:   vlanFill,
	})
}

// vlanValidate is vlan_validate: protocol, id and flags.
func vlanValidate(v *rtmsg.VLANInfo) error {
	if v.HasProtocol && v.Protocol != unix.ETH_P_8021Q && v.Protocol != unix.ETH_P_8021AD {
		return errMsg(syscall.EPROTONOSUPPORT, "Invalid VLAN protocol")
	}
	if v.HasID && v.ID > vlan.VIDMax {
		return errMsg(syscall.ERANGE, "Invalid VLAN id")
	}
	if v.HasFlags && v.Flags&v.FlagsMask&^(vlan.FlagReorderHdr|vlan.FlagGVRP|vlan.FlagLooseBinding|vlan.FlagMVRP|vlan.FlagBridgeBinding) != 0 {
		return errMsg(syscall.EINVAL, "Invalid VLAN flags")
	}
	return nil
}

func vlanNewLink(t *netdev.Table, name string, l *rtmsg.Link, lower *netdev.Device) (*netdev.Device, error) {
	var info rtmsg.VLANInfo
	if l.Info != nil && l.Info.Data != nil {
		var err error
		if info, err = rtmsg.DecodeVLAN(l.Info.Data); err != nil {
			return nil, decodeErr(err, "vlan")
		}
	}
	if err := vlanValidate(&info); err != nil {
		return nil, err
	}
	if !info.HasID {
		return nil, errMsg(syscall.EINVAL, "VLAN id not specified")
	}
	if lower == nil {
		return nil, errMsg(syscall.EINVAL, "link not specified")
	}
	if lower.Table() != t {
		return nil, errMsg(syscall.EOPNOTSUPP, "vlan: the lower device must be in the same namespace")
	}
	c := vlan.Config{Name: name, Lower: lower, ID: info.ID, Protocol: info.Protocol}
	if info.HasFlags {
		c.Flags, c.FlagsMask = info.Flags, info.FlagsMask
	}
	for _, m := range info.Ingress {
		c.Ingress = append(c.Ingress, vlan.QoSMapping{From: m.From, To: m.To})
	}
	for _, m := range info.Egress {
		c.Egress = append(c.Egress, vlan.QoSMapping{From: m.From, To: m.To})
	}
	if l.Attrs.Has(unix.IFLA_MTU) {
		if int(l.MTU) > lower.MTU() {
			return nil, syscall.EINVAL
		}
		c.MTU = int(l.MTU)
	}
	return vlan.New(c)
}

func vlanChangeLink(d *netdev.Device, data []byte) error {
	v, ok := vlan.Of(d)
	if !ok {
		return syscall.EOPNOTSUPP
	}
	info, err := rtmsg.DecodeVLAN(data)
	if err != nil {
		return decodeErr(err, "vlan")
	}
	if err := vlanValidate(&info); err != nil {
		return err
	}
	if info.HasFlags {
		if err := v.ChangeFlags(info.Flags, info.FlagsMask); err != nil {
			return err
		}
	}
	for _, m := range info.Ingress {
		v.SetIngress(m.From, m.To)
	}
	for _, m := range info.Egress {
		if err := v.SetEgress(m.From, m.To); err != nil {
			return err
		}
	}
	return nil
}

// vlanFill is vlan_fill_info.
func vlanFill(e *netlink.AttributeEncoder, d *netdev.Device) {
	v, ok := vlan.Of(d)
	if !ok {
		return
	}
	info := rtmsg.VLANInfo{
		Protocol: v.Protocol(), ID: v.ID(), HasProtocol: true, HasID: true,
		Flags: v.Flags(), FlagsMask: ^uint32(0), HasFlags: v.Flags() != 0,
	}
	for _, m := range v.Ingress() {
		info.Ingress = append(info.Ingress, rtmsg.VLANQoSMapping{From: m.From, To: m.To})
	}
	for _, m := range v.Egress() {
		info.Egress = append(info.Egress, rtmsg.VLANQoSMapping{From: m.From, To: m.To})
	}
	info.HasIngress, info.HasEgress = len(info.Ingress) > 0, len(info.Egress) > 0
	info.Encode(e)
}
