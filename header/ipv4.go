package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv4 header sizes.
const (
	IPv4MinLen     = 20 // header without options
	IPv4MaxLen     = 60 // IHL 15
	IPv4MaxOptLen  = 40
	IPv4MaxPacket  = 65535
	IPv4DefaultTTL = 64 // net.ipv4.ip_default_ttl
)

// IP protocol numbers used by usnet (include/uapi/linux/in.h).
const (
	IPProtoICMP = 1
	IPProtoIGMP = 2
	IPProtoTCP  = 6
	IPProtoUDP  = 17
	IPProtoGRE  = 47
	IPProtoSCTP = 132
)

// IPv4Flags are the three flag bits before the fragment offset, as a
// 3-bit value.
type IPv4Flags uint8

// IPv4 flag bits (IP_CE, IP_DF, IP_MF shifted down by 13).
const (
	IPv4FlagMF       IPv4Flags = 1 // more fragments
	IPv4FlagDF       IPv4Flags = 2 // don't fragment
	IPv4FlagReserved IPv4Flags = 4 // "congestion" bit; must be zero
)

// IPv4 is a view of an IPv4 header and the rest of the datagram.
type IPv4 []byte

var (
	errIPv4Short    = newErr("ipv4: packet shorter than 20 bytes", ErrTruncated)
	errIPv4Version  = newErr("ipv4: version is not 4", ErrBadVersion)
	errIPv4IHL      = newErr("ipv4: IHL below 5", ErrBadLength)
	errIPv4HdrShort = newErr("ipv4: packet shorter than IHL", ErrTruncated)
	errIPv4Csum     = newErr("ipv4: header checksum", ErrBadChecksum)
	errIPv4TotShort = newErr("ipv4: packet shorter than total length", ErrTruncated)
	errIPv4TotLen   = newErr("ipv4: total length below header length", ErrBadLength)
	errIPv4FragBig  = newErr("ipv4: fragment ends beyond 65535", ErrBadLength)
	errIPv4FragNull = newErr("ipv4: non-final fragment with under 8 bytes", ErrBadLength)
	errIPv4OptLen   = newErr("ipv4: options not a multiple of 4 or over 40 bytes", ErrBadLength)
	errIPv4Build    = newErr("ipv4: buffer shorter than header", ErrTruncated)
	errIPv4BuildTot = newErr("ipv4: total length out of range", ErrBadLength)
	errIPv4Frag     = newErr("ipv4: fragment offset not a multiple of 8 or over 65528", ErrBadField)
	errIPv4Addr     = newErr("ipv4: address is not IPv4", ErrBadField)
)

// ParseIPv4 validates b as ip_rcv_core does and returns the datagram
// trimmed to its total length (Ethernet padding removed):
//   - at least 20 bytes, version 4, IHL >= 5, at least IHL*4 bytes;
//   - the header checksum verifies;
//   - total length <= len(b) (else truncated) and >= IHL*4.
//
// Options are not examined; call ParseOptions for that.
func ParseIPv4(b []byte) (IPv4, error) {
	h, err := ParseIPv4Quoted(b)
	if err != nil {
		return nil, err
	}
	hl := h.HeaderLen()
	if Sum(h[:hl], 0) != 0xffff {
		return nil, errIPv4Csum
	}
	tot := int(h.TotalLength())
	if len(b) < tot {
		return nil, errIPv4TotShort
	}
	if tot < hl {
		return nil, errIPv4TotLen
	}
	return h[:tot], nil
}

// ParseIPv4Quoted checks only what is needed to read a header: 20 bytes,
// version 4, IHL >= 5 and IHL*4 bytes present. It is for headers quoted
// inside ICMP errors, which are truncated and may carry stale checksums.
// On such a view TotalLength may exceed len; Payload is clamped.
func ParseIPv4Quoted(b []byte) (IPv4, error) {
	if len(b) < IPv4MinLen {
		return nil, errIPv4Short
	}
	h := IPv4(b)
	if h.Version() != 4 {
		return nil, errIPv4Version
	}
	if b[0]&0xf < 5 {
		return nil, errIPv4IHL
	}
	if len(b) < h.HeaderLen() {
		return nil, errIPv4HdrShort
	}
	return h, nil
}

// Version returns the version nibble.
func (h IPv4) Version() uint8 { return h[0] >> 4 }

// HeaderLen returns IHL*4, in bytes.
func (h IPv4) HeaderLen() int { return int(h[0]&0xf) * 4 }

// TOS returns the type-of-service byte (DSCP and ECN).
func (h IPv4) TOS() uint8 { return h[1] }

// DSCP returns the differentiated services code point.
func (h IPv4) DSCP() uint8 { return h[1] >> 2 }

// ECN returns the ECN field (INET_ECN_*).
func (h IPv4) ECN() uint8 { return h[1] & 3 }

// TotalLength returns the total length field.
func (h IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(h[2:4]) }

// ID returns the identification field.
func (h IPv4) ID() uint16 { return binary.BigEndian.Uint16(h[4:6]) }

// Flags returns the three flag bits.
func (h IPv4) Flags() IPv4Flags { return IPv4Flags(h[6] >> 5) }

// FragmentOffset returns the fragment offset in bytes.
func (h IPv4) FragmentOffset() int { return int(binary.BigEndian.Uint16(h[6:8])&0x1fff) * 8 }

// IsFragment reports whether the datagram is a fragment: MF set or a
// non-zero offset (ip_is_fragment).
func (h IPv4) IsFragment() bool { return binary.BigEndian.Uint16(h[6:8])&0x3fff != 0 }

// TTL returns the time to live.
func (h IPv4) TTL() uint8 { return h[8] }

// Protocol returns the payload's protocol number.
func (h IPv4) Protocol() uint8 { return h[9] }

// Checksum returns the header checksum field.
func (h IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(h[10:12]) }

// Src returns the source address.
func (h IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(h[12:16])) }

// Dst returns the destination address.
func (h IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(h[16:20])) }

// Options returns the option bytes (empty when IHL is 5).
func (h IPv4) Options() []byte { return h[IPv4MinLen:h.HeaderLen()] }

// Payload returns the bytes after the header up to the total length (or
// to the end of the view, if shorter).
func (h IPv4) Payload() []byte {
	end := min(int(h.TotalLength()), len(h))
	hl := h.HeaderLen()
	if end < hl {
		return h[hl:hl]
	}
	return h[hl:end]
}

// ValidChecksum reports whether the header checksum verifies.
func (h IPv4) ValidChecksum() bool { return Sum(h[:h.HeaderLen()], 0) == 0xffff }

// PseudoSum returns the transport pseudo-header Sum for this datagram's
// addresses, its protocol and the given transport length, read straight
// from the header bytes.
func (h IPv4) PseudoSum(length int) uint16 {
	s := Sum(h[12:20], 0)
	s = add16(s, uint16(h[9]))
	return add16(s, uint16(length))
}

// SetTOS sets the type-of-service byte.
func (h IPv4) SetTOS(v uint8) { h[1] = v }

// SetTotalLength sets the total length field.
func (h IPv4) SetTotalLength(v uint16) { binary.BigEndian.PutUint16(h[2:4], v) }

// SetID sets the identification field.
func (h IPv4) SetID(v uint16) { binary.BigEndian.PutUint16(h[4:6], v) }

// SetFlagsOffset sets the flags and the fragment offset (in bytes; the
// low three bits are dropped).
func (h IPv4) SetFlagsOffset(f IPv4Flags, offset int) {
	binary.BigEndian.PutUint16(h[6:8], uint16(f&7)<<13|uint16(offset>>3)&0x1fff)
}

// SetTTL sets the time to live.
func (h IPv4) SetTTL(v uint8) { h[8] = v }

// SetProtocol sets the protocol number.
func (h IPv4) SetProtocol(v uint8) { h[9] = v }

// SetChecksum sets the header checksum field.
func (h IPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(h[10:12], v) }

// SetSrc sets the source address; it fails unless a is IPv4.
func (h IPv4) SetSrc(a netip.Addr) error { return putAddr4(h[12:16], a, errIPv4Addr) }

// SetDst sets the destination address; it fails unless a is IPv4.
func (h IPv4) SetDst(a netip.Addr) error { return putAddr4(h[16:20], a, errIPv4Addr) }

// FillChecksum recomputes the header checksum (ip_send_check).
func (h IPv4) FillChecksum() {
	h.SetChecksum(0)
	h.SetChecksum(Checksum(h[:h.HeaderLen()]))
}

// DecTTL decrements the TTL and patches the checksum incrementally, as a
// router does (ip_decrease_ttl), and returns the new TTL. The caller
// checks for TTL <= 1 first.
func (h IPv4) DecTTL() uint8 {
	old := binary.BigEndian.Uint16(h[8:10])
	h[8]--
	h.SetChecksum(Update16(h.Checksum(), old, binary.BigEndian.Uint16(h[8:10])))
	return h[8]
}

// CheckFragment applies the reassembly-time sanity checks Linux makes on
// a fragment (ip_frag_queue, ip_frag_reasm): the fragment must not reach
// past 65535 bytes of reassembled datagram, and a non-final fragment must
// carry at least 8 bytes (its length is rounded down to 8).
func (h IPv4) CheckFragment() error {
	n := len(h.Payload())
	end := h.FragmentOffset() + n
	if h.HeaderLen()+end > IPv4MaxPacket {
		return errIPv4FragBig
	}
	if h.Flags()&IPv4FlagMF != 0 && n&^7 == 0 {
		return errIPv4FragNull
	}
	return nil
}

// IPv4Fields are the fields of an IPv4 header.
type IPv4Fields struct {
	TOS uint8
	// TotalLength is the datagram length; zero means len(b) of the
	// buffer given to BuildIPv4.
	TotalLength uint16
	ID          uint16
	Flags       IPv4Flags
	FragOffset  int // bytes, a multiple of 8
	TTL         uint8
	Protocol    uint8
	Src, Dst    netip.Addr
	Options     []byte // raw, a multiple of 4 bytes, at most 40
}

// Fields returns the header's fields; Options aliases the view.
func (h IPv4) Fields() IPv4Fields {
	return IPv4Fields{TOS: h.TOS(), TotalLength: h.TotalLength(), ID: h.ID(), Flags: h.Flags(),
		FragOffset: h.FragmentOffset(), TTL: h.TTL(), Protocol: h.Protocol(),
		Src: h.Src(), Dst: h.Dst(), Options: h.Options()}
}

// BuildIPv4 writes a header described by f, checksum included, at the
// start of b and returns b[:TotalLength] (or all of b when the header
// buffer is separate from a longer payload) as a view.
func BuildIPv4(b []byte, f *IPv4Fields) (IPv4, error) {
	if len(f.Options)%4 != 0 || len(f.Options) > IPv4MaxOptLen {
		return nil, errIPv4OptLen
	}
	hl := IPv4MinLen + len(f.Options)
	if len(b) < hl {
		return nil, errIPv4Build
	}
	tot := int(f.TotalLength)
	if tot == 0 {
		tot = len(b)
	}
	if tot < hl || tot > IPv4MaxPacket {
		return nil, errIPv4BuildTot
	}
	if f.FragOffset%8 != 0 || f.FragOffset < 0 || f.FragOffset > 0x1fff*8 || f.Flags > 7 {
		return nil, errIPv4Frag
	}
	h := IPv4(b)
	if tot <= len(b) {
		h = h[:tot]
	}
	if err := h.SetSrc(f.Src); err != nil {
		return nil, err
	}
	if err := h.SetDst(f.Dst); err != nil {
		return nil, err
	}
	h[0] = 4<<4 | uint8(hl/4)
	h.SetTOS(f.TOS)
	h.SetTotalLength(uint16(tot))
	h.SetID(f.ID)
	h.SetFlagsOffset(f.Flags, f.FragOffset)
	h.SetTTL(f.TTL)
	h.SetProtocol(f.Protocol)
	copy(h[IPv4MinLen:hl], f.Options)
	h.FillChecksum()
	return h, nil
}
