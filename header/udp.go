package header

import (
	"encoding/binary"
	"net/netip"
)

// UDPLen is the length of a UDP header.
const UDPLen = 8

// UDP is a view of a UDP header and its payload.
type UDP []byte

var (
	errUDPShort    = newErr("udp: datagram shorter than 8 bytes", ErrTruncated)
	errUDPLenShort = newErr("udp: datagram shorter than its length field", ErrTruncated)
	errUDPLen      = newErr("udp: length field below 8", ErrBadLength)
	errUDPCsum     = newErr("udp: checksum", ErrBadChecksum)
	errUDPBuildLen = newErr("udp: datagram over 65535 bytes", ErrBadLength)
)

// ParseUDP validates b as __udp4_lib_rcv does before the checksum: at
// least 8 bytes, a length field between 8 and len(b); the view is trimmed
// to the length field. Verify the checksum with VerifyChecksum.
func ParseUDP(b []byte) (UDP, error) {
	if len(b) < UDPLen {
		return nil, errUDPShort
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if n > len(b) {
		return nil, errUDPLenShort
	}
	if n < UDPLen {
		return nil, errUDPLen
	}
	return UDP(b[:n]), nil
}

// SrcPort returns the source port.
func (u UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(u[0:2]) }

// DstPort returns the destination port.
func (u UDP) DstPort() uint16 { return binary.BigEndian.Uint16(u[2:4]) }

// Length returns the length field.
func (u UDP) Length() uint16 { return binary.BigEndian.Uint16(u[4:6]) }

// Checksum returns the checksum field.
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:8]) }

// Payload returns the data after the header.
func (u UDP) Payload() []byte { return u[UDPLen:] }

// SetSrcPort sets the source port.
func (u UDP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(u[0:2], p) }

// SetDstPort sets the destination port.
func (u UDP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(u[2:4], p) }

// SetLength sets the length field.
func (u UDP) SetLength(n uint16) { binary.BigEndian.PutUint16(u[4:6], n) }

// SetChecksum sets the checksum field.
func (u UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(u[6:8], c) }

// VerifyChecksum checks the checksum over the pseudo-header, header and
// payload. Over IPv4 a zero checksum means "none" and is accepted (RFC
// 768, udp4_csum_init); over IPv6 it is an error (RFC 8200).
func (u UDP) VerifyChecksum(src, dst netip.Addr) error {
	return u.VerifyChecksumSum(PseudoHeaderSum(src, dst, IPProtoUDP, len(u)), src.Unmap().Is4())
}

// VerifyChecksumSum is VerifyChecksum with a precomputed pseudo-header
// sum (see IPv4.PseudoSum); zeroOK says whether a zero checksum field
// means "not computed".
func (u UDP) VerifyChecksumSum(pseudo uint16, zeroOK bool) error {
	if u.Checksum() == 0 {
		if zeroOK {
			return nil
		}
		return errUDPCsum
	}
	if Sum(u, pseudo) != 0xffff {
		return errUDPCsum
	}
	return nil
}

// FillChecksum computes the checksum over the pseudo-header and the whole
// view, which must hold the payload. A computed zero is sent as 0xffff,
// since zero means "no checksum" (udp4_hwcsum, CSUM_MANGLED_0).
func (u UDP) FillChecksum(src, dst netip.Addr) {
	u.FillChecksumSum(PseudoHeaderSum(src, dst, IPProtoUDP, len(u)))
}

// FillChecksumSum is FillChecksum with a precomputed pseudo-header sum.
func (u UDP) FillChecksumSum(pseudo uint16) {
	u.SetChecksum(0)
	c := ^Sum(u, pseudo)
	if c == 0 {
		c = 0xffff
	}
	u.SetChecksum(c)
}

// UDPFields are the ports of a UDP header; length and checksum follow
// from the buffer.
type UDPFields struct {
	SrcPort, DstPort uint16
}

// BuildUDP writes a header at the start of b with the length field set to
// len(b) and a zero checksum; call FillChecksum once the payload is in
// b[8:].
func BuildUDP(b []byte, f UDPFields) (UDP, error) {
	if len(b) < UDPLen {
		return nil, errUDPShort
	}
	if len(b) > 0xffff {
		return nil, errUDPBuildLen
	}
	u := UDP(b)
	u.SetSrcPort(f.SrcPort)
	u.SetDstPort(f.DstPort)
	u.SetLength(uint16(len(b)))
	u.SetChecksum(0)
	return u, nil
}
