package rtmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// IFLA_VXLAN_RESERVED_BITS (Linux 6.14) is not in x/sys/unix yet.
const IFLA_VXLAN_RESERVED_BITS = 0x21

// VXLANInfo is a vxlan device's IFLA_INFO_DATA (IFLA_VXLAN_*). Has holds
// one bit per attribute type present (1<<IFLA_VXLAN_ID …); IPv6
// endpoints are decoded but usnet does not tunnel over IPv6.
type VXLANInfo struct {
	ID             uint32
	Group, Local   netip.Addr // IFLA_VXLAN_GROUP/LOCAL or their 6 variants
	Link           uint32
	TTL            uint8
	TTLInherit     uint8
	TOS            uint8
	DF             uint8
	Label          uint32 // host order (sent big-endian)
	LabelPolicy    uint32
	Learning       uint8
	Proxy          uint8
	RSC            uint8
	L2Miss         uint8
	L3Miss         uint8
	CollectMeta    uint8
	Ageing         uint32
	Limit          uint32
	Port           uint16 // host order (sent big-endian)
	UDPCsum        uint8
	UDPZeroCsum6Tx uint8
	UDPZeroCsum6Rx uint8
	RemCsumTx      uint8
	RemCsumRx      uint8
	LocalBypass    uint8
	PortLow        uint16 // IFLA_VXLAN_PORT_RANGE, host order
	PortHigh       uint16
	VNIFilter      uint8
	ReservedBits   [8]byte
	Has            uint64
}

// Set records that attribute typ is present.
func (v *VXLANInfo) Set(typ uint16) { v.Has |= 1 << typ }

// Present reports whether attribute typ was present.
func (v *VXLANInfo) Present(typ uint16) bool { return v.Has&(1<<typ) != 0 }

// DecodeVXLAN reads IFLA_INFO_DATA of a vxlan device.
func DecodeVXLAN(data []byte) (VXLANInfo, error) {
	var v VXLANInfo
	d := netlink.NewAttributeDecoder(data)
	for d.Next() {
		b := d.Bytes()
		typ := d.Type()
		if typ >= 64 {
			continue
		}
		need := 0
		switch typ {
		case unix.IFLA_VXLAN_ID, unix.IFLA_VXLAN_LINK, unix.IFLA_VXLAN_LABEL, unix.IFLA_VXLAN_LABEL_POLICY,
			unix.IFLA_VXLAN_AGEING, unix.IFLA_VXLAN_LIMIT, unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_PORT_RANGE:
			need = 4
		case unix.IFLA_VXLAN_PORT:
			need = 2
		case unix.IFLA_VXLAN_GROUP6, unix.IFLA_VXLAN_LOCAL6:
			need = 16
		case IFLA_VXLAN_RESERVED_BITS:
			need = 8
		case unix.IFLA_VXLAN_GBP, unix.IFLA_VXLAN_GPE, unix.IFLA_VXLAN_REMCSUM_NOPARTIAL, unix.IFLA_VXLAN_TTL_INHERIT:
			// TTL_INHERIT is a flag in requests (iproute2 sends it
			// empty) and a u8 in dumps.
			need = 0
		default:
			need = 1
		}
		if len(b) < need {
			return v, &SizeError{Type: typ, Got: len(b), Want: need, Min: true}
		}
		v.Set(typ)
		switch typ {
		case unix.IFLA_VXLAN_ID:
			v.ID = binary.NativeEndian.Uint32(b)
		case unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_LOCAL:
			a := netip.AddrFrom4([4]byte(b[:4]))
			if typ == unix.IFLA_VXLAN_GROUP {
				v.Group = a
			} else {
				v.Local = a
			}
		case unix.IFLA_VXLAN_GROUP6, unix.IFLA_VXLAN_LOCAL6:
			a := netip.AddrFrom16([16]byte(b[:16]))
			if typ == unix.IFLA_VXLAN_GROUP6 {
				v.Group = a
			} else {
				v.Local = a
			}
		case unix.IFLA_VXLAN_LINK:
			v.Link = binary.NativeEndian.Uint32(b)
		case unix.IFLA_VXLAN_TTL:
			v.TTL = b[0]
		case unix.IFLA_VXLAN_TTL_INHERIT:
			v.TTLInherit = 1
			if len(b) > 0 {
				v.TTLInherit = b[0]
			}
		case unix.IFLA_VXLAN_TOS:
			v.TOS = b[0]
		case unix.IFLA_VXLAN_DF:
			v.DF = b[0]
		case unix.IFLA_VXLAN_LABEL:
			v.Label = binary.BigEndian.Uint32(b)
		case unix.IFLA_VXLAN_LABEL_POLICY:
			v.LabelPolicy = binary.NativeEndian.Uint32(b)
		case unix.IFLA_VXLAN_LEARNING:
			v.Learning = b[0]
		case unix.IFLA_VXLAN_PROXY:
			v.Proxy = b[0]
		case unix.IFLA_VXLAN_RSC:
			v.RSC = b[0]
		case unix.IFLA_VXLAN_L2MISS:
			v.L2Miss = b[0]
		case unix.IFLA_VXLAN_L3MISS:
			v.L3Miss = b[0]
		case unix.IFLA_VXLAN_COLLECT_METADATA:
			v.CollectMeta = b[0]
		case unix.IFLA_VXLAN_AGEING:
			v.Ageing = binary.NativeEndian.Uint32(b)
		case unix.IFLA_VXLAN_LIMIT:
			v.Limit = binary.NativeEndian.Uint32(b)
		case unix.IFLA_VXLAN_PORT:
			v.Port = binary.BigEndian.Uint16(b)
		case unix.IFLA_VXLAN_UDP_CSUM:
			v.UDPCsum = b[0]
		case unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX:
			v.UDPZeroCsum6Tx = b[0]
		case unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX:
			v.UDPZeroCsum6Rx = b[0]
		case unix.IFLA_VXLAN_REMCSUM_TX:
			v.RemCsumTx = b[0]
		case unix.IFLA_VXLAN_REMCSUM_RX:
			v.RemCsumRx = b[0]
		case unix.IFLA_VXLAN_LOCALBYPASS:
			v.LocalBypass = b[0]
		case unix.IFLA_VXLAN_PORT_RANGE:
			v.PortLow = binary.BigEndian.Uint16(b)
			v.PortHigh = binary.BigEndian.Uint16(b[2:])
		case unix.IFLA_VXLAN_VNIFILTER:
			v.VNIFilter = b[0]
		case IFLA_VXLAN_RESERVED_BITS:
			copy(v.ReservedBits[:], b)
		}
	}
	return v, d.Err()
}

// Encode appends the attributes that are present, in the order
// vxlan_fill_info puts them.
func (v *VXLANInfo) Encode(e *netlink.AttributeEncoder) {
	u8 := func(typ uint16, x uint8) {
		if v.Present(typ) {
			e.Uint8(typ, x)
		}
	}
	u32 := func(typ uint16, x uint32) {
		if v.Present(typ) {
			e.Uint32(typ, x)
		}
	}
	u32(unix.IFLA_VXLAN_ID, v.ID)
	addr := func(t4, t6 uint16, a netip.Addr) {
		switch {
		case v.Present(t4):
			b := a.As4()
			e.PutBytes(t4, b[:])
		case v.Present(t6):
			b := a.As16()
			e.PutBytes(t6, b[:])
		}
	}
	addr(unix.IFLA_VXLAN_GROUP, unix.IFLA_VXLAN_GROUP6, v.Group)
	u32(unix.IFLA_VXLAN_LINK, v.Link)
	addr(unix.IFLA_VXLAN_LOCAL, unix.IFLA_VXLAN_LOCAL6, v.Local)
	u8(unix.IFLA_VXLAN_TTL, v.TTL)
	u8(unix.IFLA_VXLAN_TTL_INHERIT, v.TTLInherit)
	u8(unix.IFLA_VXLAN_TOS, v.TOS)
	u8(unix.IFLA_VXLAN_DF, v.DF)
	if v.Present(unix.IFLA_VXLAN_LABEL) {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], v.Label)
		e.PutBytes(unix.IFLA_VXLAN_LABEL, b[:])
	}
	u32(unix.IFLA_VXLAN_LABEL_POLICY, v.LabelPolicy)
	u8(unix.IFLA_VXLAN_LEARNING, v.Learning)
	u8(unix.IFLA_VXLAN_PROXY, v.Proxy)
	u8(unix.IFLA_VXLAN_RSC, v.RSC)
	u8(unix.IFLA_VXLAN_L2MISS, v.L2Miss)
	u8(unix.IFLA_VXLAN_L3MISS, v.L3Miss)
	u8(unix.IFLA_VXLAN_COLLECT_METADATA, v.CollectMeta)
	u32(unix.IFLA_VXLAN_AGEING, v.Ageing)
	u32(unix.IFLA_VXLAN_LIMIT, v.Limit)
	if v.Present(unix.IFLA_VXLAN_PORT) {
		e.Uint16BE(unix.IFLA_VXLAN_PORT, v.Port)
	}
	u8(unix.IFLA_VXLAN_UDP_CSUM, v.UDPCsum)
	u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, v.UDPZeroCsum6Tx)
	u8(unix.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, v.UDPZeroCsum6Rx)
	u8(unix.IFLA_VXLAN_REMCSUM_TX, v.RemCsumTx)
	u8(unix.IFLA_VXLAN_REMCSUM_RX, v.RemCsumRx)
	u8(unix.IFLA_VXLAN_LOCALBYPASS, v.LocalBypass)
	if v.Present(unix.IFLA_VXLAN_PORT_RANGE) {
		var b [4]byte
		binary.BigEndian.PutUint16(b[:], v.PortLow)
		binary.BigEndian.PutUint16(b[2:], v.PortHigh)
		e.PutBytes(unix.IFLA_VXLAN_PORT_RANGE, b[:])
	}
	for _, f := range []uint16{unix.IFLA_VXLAN_GBP, unix.IFLA_VXLAN_GPE, unix.IFLA_VXLAN_REMCSUM_NOPARTIAL} {
		if v.Present(f) {
			e.Flag(f)
		}
	}
	u8(unix.IFLA_VXLAN_VNIFILTER, v.VNIFilter)
	if v.Present(IFLA_VXLAN_RESERVED_BITS) {
		e.PutBytes(IFLA_VXLAN_RESERVED_BITS, v.ReservedBits[:])
	}
}
