package rtmsg

import (
	"encoding/binary"
	"fmt"

	"github.com/usnet/usnet/netlink"
)

// Bridge attributes golang.org/x/sys/unix does not define
// (include/uapi/linux/if_bridge.h): the IFLA_AF_SPEC nest of AF_BRIDGE
// link messages and its VLAN records.
const (
	IflaBridgeFlags          = 0 // IFLA_BRIDGE_FLAGS: BRIDGE_FLAGS_MASTER / SELF
	IflaBridgeMode           = 1 // IFLA_BRIDGE_MODE
	IflaBridgeVlanInfo       = 2 // IFLA_BRIDGE_VLAN_INFO: struct bridge_vlan_info
	BridgeFlagsMaster        = 1
	BridgeFlagsSelf          = 2
	BridgeVlanInfoMaster     = 1 << 0 // BRIDGE_VLAN_INFO_MASTER
	BridgeVlanInfoPVID       = 1 << 1 // BRIDGE_VLAN_INFO_PVID
	BridgeVlanInfoUntagged   = 1 << 2
	BridgeVlanInfoRangeBegin = 1 << 3
	BridgeVlanInfoRangeEnd   = 1 << 4
	BridgeVlanInfoBRentry    = 1 << 5
	// RTEXT_FILTER_BRVLAN and _COMPRESSED: IFLA_EXT_MASK bits asking an
	// AF_BRIDGE link dump for the VLANs.
	RTExtFilterBrVlan           = 1 << 1
	RTExtFilterBrVlanCompressed = 1 << 2
)

// BridgeID is struct ifla_bridge_id: priority (big-endian) then MAC.
type BridgeID [8]byte

// String prints it as iproute2 does: "8000.aa:bb:cc:dd:ee:ff".
func (id BridgeID) String() string {
	return fmt.Sprintf("%02x%02x.%02x:%02x:%02x:%02x:%02x:%02x", id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7])
}

// BridgeVlanInfo is struct bridge_vlan_info (flags, vid; host order).
type BridgeVlanInfo struct {
	Flags uint16
	VID   uint16
}

// MarshalBinary encodes the 4-byte struct.
func (v BridgeVlanInfo) MarshalBinary() []byte {
	var b [4]byte
	binary.NativeEndian.PutUint16(b[0:], v.Flags)
	binary.NativeEndian.PutUint16(b[2:], v.VID)
	return b[:]
}

// UnmarshalBridgeVlanInfo decodes struct bridge_vlan_info.
func UnmarshalBridgeVlanInfo(b []byte) (BridgeVlanInfo, error) {
	if len(b) < 4 {
		return BridgeVlanInfo{}, ErrTruncated
	}
	return BridgeVlanInfo{Flags: binary.NativeEndian.Uint16(b[0:]), VID: binary.NativeEndian.Uint16(b[2:])}, nil
}

// ParseBridgeAttrs splits a flat attribute payload (IFLA_INFO_DATA,
// IFLA_PROTINFO …) into its attributes in order, without copying; Type
// keeps the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits.
func ParseBridgeAttrs(data []byte) ([]RawAttr, error) {
	var out []RawAttr
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		out = append(out, RawAttr{Type: d.RawType(), Data: d.Bytes()})
	}
	return out, d.Err()
}

// FindBridgeAttr returns the payload of the first attribute of type t
// (flag bits ignored).
func FindBridgeAttr(attrs []RawAttr, t uint16) ([]byte, bool) {
	for _, a := range attrs {
		if a.Type&^(1<<15|1<<14) == t {
			return a.Data, true
		}
	}
	return nil, false
}
