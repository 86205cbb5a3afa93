package rtmsg

import (
	"encoding/binary"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// IPVlanInfo is an ipvlan's IFLA_INFO_DATA (IFLA_IPVLAN_MODE and
// IFLA_IPVLAN_FLAGS, both u16).
type IPVlanInfo struct {
	Mode, Flags       uint16
	HasMode, HasFlags bool
}

// DecodeIPVlan reads IFLA_INFO_DATA of an ipvlan.
func DecodeIPVlan(data []byte) (IPVlanInfo, error) {
	var v IPVlanInfo
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		b := d.Bytes()
		t := d.Type()
		if t != unix.IFLA_IPVLAN_MODE && t != unix.IFLA_IPVLAN_FLAGS {
			continue
		}
		if len(b) < 2 {
			return v, &SizeError{Type: t, Got: len(b), Want: 2, Min: true}
		}
		if t == unix.IFLA_IPVLAN_MODE {
			v.Mode, v.HasMode = binary.NativeEndian.Uint16(b), true
		} else {
			v.Flags, v.HasFlags = binary.NativeEndian.Uint16(b), true
		}
	}
	return v, d.Err()
}

// Encode appends the attributes present, mode first (ipvlan_nl_fillinfo).
func (v *IPVlanInfo) Encode(e *netlink.AttributeEncoder) {
	if v.HasMode {
		e.Uint16(unix.IFLA_IPVLAN_MODE, v.Mode)
	}
	if v.HasFlags {
		e.Uint16(unix.IFLA_IPVLAN_FLAGS, v.Flags)
	}
}
