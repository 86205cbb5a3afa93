package header

import "encoding/binary"

// MAC is an IEEE 802 48-bit hardware address.
type MAC [6]byte

// BroadcastMAC returns ff:ff:ff:ff:ff:ff.
func BroadcastMAC() MAC { return MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// String formats m as Linux does (%pM): six lowercase hex pairs joined by
// colons.
func (m MAC) String() string {
	const hexdigits = "0123456789abcdef"
	var b [17]byte
	for i, x := range m {
		if i > 0 {
			b[i*3-1] = ':'
		}
		b[i*3] = hexdigits[x>>4]
		b[i*3+1] = hexdigits[x&0xf]
	}
	return string(b[:])
}

// ParseMAC parses the six-group hex form "aa:bb:cc:dd:ee:ff" (either
// case; '-' is accepted as separator if used throughout). Like the
// kernel's mac_pton, each group must be exactly two digits.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	if len(s) != 17 {
		return m, errMACSyntax
	}
	sep := s[2]
	if sep != ':' && sep != '-' {
		return m, errMACSyntax
	}
	for i := range m {
		if i > 0 && s[i*3-1] != sep {
			return m, errMACSyntax
		}
		hi, ok1 := unhex(s[i*3])
		lo, ok2 := unhex(s[i*3+1])
		if !ok1 || !ok2 {
			return m, errMACSyntax
		}
		m[i] = hi<<4 | lo
	}
	return m, nil
}

var errMACSyntax = newErr("mac: want xx:xx:xx:xx:xx:xx", ErrBadField)

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == BroadcastMAC() }

// IsMulticast reports whether the group bit is set. Broadcast is a
// multicast address too, as in is_multicast_ether_addr.
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsValid reports whether m may be a station's address: neither multicast
// nor zero (is_valid_ether_addr).
func (m MAC) IsValid() bool { return !m.IsMulticast() && !m.IsZero() }

// IsLocal reports whether the locally administered bit is set.
func (m MAC) IsLocal() bool { return m[0]&2 != 0 }

// EtherType is the 16-bit protocol identifier of an Ethernet II frame.
type EtherType uint16

// EtherType values (include/uapi/linux/if_ether.h).
const (
	EtherTypeIPv4 EtherType = 0x0800
	EtherTypeARP  EtherType = 0x0806
	EtherTypeVLAN EtherType = 0x8100 // 802.1Q customer tag
	EtherTypeIPv6 EtherType = 0x86dd
	EtherTypeSlow EtherType = 0x8809 // LACP, marker (802.3 slow protocols)
	EtherTypeQinQ EtherType = 0x88a8 // 802.1ad service tag
	EtherTypeLLDP EtherType = 0x88cc
)

// EtherTypeMin is the smallest value that is an EtherType rather than an
// 802.3 length (ETH_P_802_3_MIN).
const EtherTypeMin = 0x0600

// IsVLAN reports whether t is a VLAN tag protocol identifier
// (eth_type_vlan).
func (t EtherType) IsVLAN() bool { return t == EtherTypeVLAN || t == EtherTypeQinQ }

// String names the well-known types and prints the rest in hex.
func (t EtherType) String() string {
	switch t {
	case EtherTypeIPv4:
		return "IPv4"
	case EtherTypeARP:
		return "ARP"
	case EtherTypeVLAN:
		return "802.1Q"
	case EtherTypeIPv6:
		return "IPv6"
	case EtherTypeSlow:
		return "Slow"
	case EtherTypeQinQ:
		return "802.1ad"
	case EtherTypeLLDP:
		return "LLDP"
	}
	const hexdigits = "0123456789abcdef"
	return string([]byte{'0', 'x', hexdigits[t>>12], hexdigits[t>>8&0xf], hexdigits[t>>4&0xf], hexdigits[t&0xf]})
}

// EthernetLen is the length of an untagged Ethernet II header.
const EthernetLen = 14

// Ethernet is a view of an Ethernet II header followed by its payload.
type Ethernet []byte

var errEthShort = newErr("ethernet: frame shorter than 14 bytes", ErrTruncated)

// ParseEthernet checks that b holds an Ethernet header and returns the
// view. Use ParseFrame to look through VLAN tags.
func ParseEthernet(b []byte) (Ethernet, error) {
	if len(b) < EthernetLen {
		return nil, errEthShort
	}
	return Ethernet(b), nil
}

// Dst returns the destination address.
func (e Ethernet) Dst() MAC { return MAC(e[0:6]) }

// Src returns the source address.
func (e Ethernet) Src() MAC { return MAC(e[6:12]) }

// EtherType returns the type field (a TPID if the frame is tagged).
func (e Ethernet) EtherType() EtherType { return EtherType(binary.BigEndian.Uint16(e[12:14])) }

// Payload returns the bytes after the 14-byte header.
func (e Ethernet) Payload() []byte { return e[EthernetLen:] }

// SetDst sets the destination address.
func (e Ethernet) SetDst(m MAC) { copy(e[0:6], m[:]) }

// SetSrc sets the source address.
func (e Ethernet) SetSrc(m MAC) { copy(e[6:12], m[:]) }

// SetEtherType sets the type field.
func (e Ethernet) SetEtherType(t EtherType) { binary.BigEndian.PutUint16(e[12:14], uint16(t)) }

// EthernetFields are the fields of an untagged Ethernet II header.
type EthernetFields struct {
	Dst, Src MAC
	Type     EtherType
}

// BuildEthernet writes f into b[:14] and returns b as a view.
func BuildEthernet(b []byte, f EthernetFields) (Ethernet, error) {
	if len(b) < EthernetLen {
		return nil, errEthShort
	}
	e := Ethernet(b)
	e.SetDst(f.Dst)
	e.SetSrc(f.Src)
	e.SetEtherType(f.Type)
	return e, nil
}

// Fields returns the header's fields.
func (e Ethernet) Fields() EthernetFields {
	return EthernetFields{Dst: e.Dst(), Src: e.Src(), Type: e.EtherType()}
}
