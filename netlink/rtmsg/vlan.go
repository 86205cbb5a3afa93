package rtmsg

import (
	"encoding/binary"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// VLANQoSMapping is struct ifla_vlan_qos_mapping.
type VLANQoSMapping struct{ From, To uint32 }

// VLANInfo is a vlan device's IFLA_INFO_DATA (IFLA_VLAN_*). The Has*
// fields tell which attributes were present.
type VLANInfo struct {
	Protocol         uint16 // IFLA_VLAN_PROTOCOL, an EtherType (sent big-endian)
	ID               uint16 // IFLA_VLAN_ID
	Flags, FlagsMask uint32 // IFLA_VLAN_FLAGS (struct ifla_vlan_flags)
	Ingress, Egress  []VLANQoSMapping

	HasProtocol, HasID, HasFlags, HasIngress, HasEgress bool
}

// DecodeVLAN reads IFLA_INFO_DATA of a vlan device.
func DecodeVLAN(data []byte) (VLANInfo, error) {
	var v VLANInfo
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		b := d.Bytes()
		switch d.Type() {
		case unix.IFLA_VLAN_PROTOCOL:
			if len(b) < 2 {
				return v, &SizeError{Type: unix.IFLA_VLAN_PROTOCOL, Got: len(b), Want: 2, Min: true}
			}
			v.Protocol, v.HasProtocol = binary.BigEndian.Uint16(b), true
		case unix.IFLA_VLAN_ID:
			if len(b) < 2 {
				return v, &SizeError{Type: unix.IFLA_VLAN_ID, Got: len(b), Want: 2, Min: true}
			}
			v.ID, v.HasID = binary.NativeEndian.Uint16(b), true
		case unix.IFLA_VLAN_FLAGS:
			if len(b) < 8 {
				return v, &SizeError{Type: unix.IFLA_VLAN_FLAGS, Got: len(b), Want: 8, Min: true}
			}
			v.Flags = binary.NativeEndian.Uint32(b)
			v.FlagsMask = binary.NativeEndian.Uint32(b[4:])
			v.HasFlags = true
		case unix.IFLA_VLAN_INGRESS_QOS, unix.IFLA_VLAN_EGRESS_QOS:
			m, err := decodeQoS(b)
			if err != nil {
				return v, err
			}
			if d.Type() == unix.IFLA_VLAN_INGRESS_QOS {
				v.Ingress, v.HasIngress = m, true
			} else {
				v.Egress, v.HasEgress = m, true
			}
		}
	}
	return v, d.Err()
}

// maxQoSMappings bounds the mappings decoded from one attribute.
const maxQoSMappings = 4096

func decodeQoS(b []byte) ([]VLANQoSMapping, error) {
	var l []VLANQoSMapping
	d := netlink.NewAttributeDecoder(b)
	for d.Next() {
		if d.Type() != unix.IFLA_VLAN_QOS_MAPPING {
			continue
		}
		p := d.Bytes()
		if len(p) < 8 {
			return nil, &SizeError{Type: unix.IFLA_VLAN_QOS_MAPPING, Got: len(p), Want: 8, Min: true}
		}
		if len(l) >= maxQoSMappings {
			break
		}
		l = append(l, VLANQoSMapping{From: binary.NativeEndian.Uint32(p), To: binary.NativeEndian.Uint32(p[4:])})
	}
	return l, d.Err()
}

// Encode appends the attributes that are present, in the order
// vlan_fill_info puts them: protocol, id, flags, ingress map, egress map.
func (v *VLANInfo) Encode(e *netlink.AttributeEncoder) {
	if v.HasProtocol {
		e.Uint16BE(unix.IFLA_VLAN_PROTOCOL, v.Protocol)
	}
	if v.HasID {
		e.Uint16(unix.IFLA_VLAN_ID, v.ID)
	}
	if v.HasFlags {
		var f [8]byte
		binary.NativeEndian.PutUint32(f[:], v.Flags)
		binary.NativeEndian.PutUint32(f[4:], v.FlagsMask)
		e.PutBytes(unix.IFLA_VLAN_FLAGS, f[:])
	}
	if v.HasIngress {
		encodeQoS(e, unix.IFLA_VLAN_INGRESS_QOS, v.Ingress)
	}
	if v.HasEgress {
		encodeQoS(e, unix.IFLA_VLAN_EGRESS_QOS, v.Egress)
	}
}

func encodeQoS(e *netlink.AttributeEncoder, typ uint16, l []VLANQoSMapping) {
	n := e.BeginNest(typ)
	for _, m := range l {
		var b [8]byte
		binary.NativeEndian.PutUint32(b[:], m.From)
		binary.NativeEndian.PutUint32(b[4:], m.To)
		e.PutBytes(unix.IFLA_VLAN_QOS_MAPPING, b[:])
	}
	e.EndNest(n)
}
