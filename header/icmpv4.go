package header

import (
	"encoding/binary"
	"net/netip"
)

// ICMPv4HeaderLen is the length of the fixed ICMP header (struct icmphdr).
const ICMPv4HeaderLen = 8

// ICMPv4 types (include/uapi/linux/icmp.h).
const (
	ICMPv4EchoReply      = 0
	ICMPv4DestUnreach    = 3
	ICMPv4SourceQuench   = 4
	ICMPv4Redirect       = 5
	ICMPv4Echo           = 8
	ICMPv4RouterAdvert   = 9
	ICMPv4RouterSolicit  = 10
	ICMPv4TimeExceeded   = 11
	ICMPv4ParamProblem   = 12
	ICMPv4Timestamp      = 13
	ICMPv4TimestampReply = 14
	ICMPv4InfoRequest    = 15
	ICMPv4InfoReply      = 16
	ICMPv4AddressMask    = 17
	ICMPv4AddressReply   = 18
	ICMPv4MaxType        = 18 // NR_ICMP_TYPES
)

// Destination unreachable codes.
const (
	ICMPv4NetUnreach     = 0
	ICMPv4HostUnreach    = 1
	ICMPv4ProtUnreach    = 2
	ICMPv4PortUnreach    = 3
	ICMPv4FragNeeded     = 4
	ICMPv4SRFailed       = 5
	ICMPv4NetUnknown     = 6
	ICMPv4HostUnknown    = 7
	ICMPv4HostIsolated   = 8
	ICMPv4NetAno         = 9
	ICMPv4HostAno        = 10
	ICMPv4NetUnrTOS      = 11
	ICMPv4HostUnrTOS     = 12
	ICMPv4PktFiltered    = 13
	ICMPv4PrecViolation  = 14
	ICMPv4PrecCutoff     = 15
	ICMPv4MaxUnreachCode = 15 // NR_ICMP_UNREACH
)

// Redirect, time exceeded and parameter problem codes.
const (
	ICMPv4RedirNet       = 0
	ICMPv4RedirHost      = 1
	ICMPv4RedirNetTOS    = 2
	ICMPv4RedirHostTOS   = 3
	ICMPv4ExcTTL         = 0
	ICMPv4ExcFragTime    = 1
	ICMPv4ParamPointer   = 0
	ICMPv4ParamOptMiss   = 1
	ICMPv4ParamBadLength = 2
)

// ICMPv4 is a view of an ICMP message.
type ICMPv4 []byte

var (
	errICMPShort     = newErr("icmp: message shorter than 8 bytes", ErrTruncated)
	errICMPCsum      = newErr("icmp: checksum", ErrBadChecksum)
	errICMPNotError  = newErr("icmp: type carries no original datagram", ErrBadField)
	errICMPOrigShort = newErr("icmp: quoted datagram lacks 8 bytes of transport header", ErrTruncated)
)

// ParseICMPv4 validates b as icmp_rcv does: at least the 8-byte header
// and a checksum over the whole message that verifies. Unknown types are
// not an error here; icmp_rcv drops types above ICMPv4MaxType, which the
// caller decides by Type.
func ParseICMPv4(b []byte) (ICMPv4, error) {
	if len(b) < ICMPv4HeaderLen {
		return nil, errICMPShort
	}
	if Sum(b, 0) != 0xffff {
		return nil, errICMPCsum
	}
	return ICMPv4(b), nil
}

// Type returns the message type.
func (m ICMPv4) Type() uint8 { return m[0] }

// Code returns the message code.
func (m ICMPv4) Code() uint8 { return m[1] }

// Checksum returns the checksum field.
func (m ICMPv4) Checksum() uint16 { return binary.BigEndian.Uint16(m[2:4]) }

// Rest returns the four type-specific bytes after the checksum as one
// word (icmphdr.un).
func (m ICMPv4) Rest() uint32 { return binary.BigEndian.Uint32(m[4:8]) }

// ID returns the echo, timestamp or information identifier.
func (m ICMPv4) ID() uint16 { return binary.BigEndian.Uint16(m[4:6]) }

// Seq returns the echo, timestamp or information sequence number.
func (m ICMPv4) Seq() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// MTU returns the next-hop MTU of a fragmentation-needed unreachable
// (RFC 1191); zero from routers that predate it.
func (m ICMPv4) MTU() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// Pointer returns a parameter problem's pointer: the offset of the byte
// at fault in the original IP header.
func (m ICMPv4) Pointer() uint8 { return m[4] }

// Gateway returns a redirect's gateway address.
func (m ICMPv4) Gateway() netip.Addr { return netip.AddrFrom4([4]byte(m[4:8])) }

// Payload returns the bytes after the 8-byte header: echo data or the
// quoted original datagram.
func (m ICMPv4) Payload() []byte { return m[ICMPv4HeaderLen:] }

// IsError reports whether the type is an error that quotes the datagram
// that caused it (icmp_is_err).
func (m ICMPv4) IsError() bool { return IsICMPv4Error(m[0]) }

// IsICMPv4Error reports whether typ is an ICMP error type.
func IsICMPv4Error(typ uint8) bool {
	switch typ {
	case ICMPv4DestUnreach, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// Original returns the quoted datagram of an error message: its IP
// header, checked as icmp_unreach and icmp_socket_deliver do (a readable
// header with IHL >= 5 followed by at least 8 bytes, enough for the
// ports), and the transport bytes that follow it. The quoted header's
// checksum and total length are not checked: the datagram is truncated
// and was possibly changed in flight.
func (m ICMPv4) Original() (IPv4, []byte, error) {
	if !m.IsError() {
		return nil, nil, errICMPNotError
	}
	ip, err := ParseIPv4Quoted(m.Payload())
	if err != nil {
		return nil, nil, err
	}
	rest := ip[ip.HeaderLen():]
	if len(rest) < 8 {
		return nil, nil, errICMPOrigShort
	}
	return ip, rest, nil
}

// SetType sets the message type.
func (m ICMPv4) SetType(t uint8) { m[0] = t }

// SetCode sets the message code.
func (m ICMPv4) SetCode(c uint8) { m[1] = c }

// SetChecksum sets the checksum field.
func (m ICMPv4) SetChecksum(v uint16) { binary.BigEndian.PutUint16(m[2:4], v) }

// SetRest sets the four type-specific bytes.
func (m ICMPv4) SetRest(v uint32) { binary.BigEndian.PutUint32(m[4:8], v) }

// SetID sets the echo identifier.
func (m ICMPv4) SetID(v uint16) { binary.BigEndian.PutUint16(m[4:6], v) }

// SetSeq sets the echo sequence number.
func (m ICMPv4) SetSeq(v uint16) { binary.BigEndian.PutUint16(m[6:8], v) }

// SetMTU sets the next-hop MTU of a fragmentation-needed message.
func (m ICMPv4) SetMTU(v uint16) { binary.BigEndian.PutUint16(m[6:8], v) }

// SetPointer sets a parameter problem's pointer (and clears the unused
// bytes after it).
func (m ICMPv4) SetPointer(p uint8) { m.SetRest(uint32(p) << 24) }

// FillChecksum computes the checksum over the whole view, which must
// already hold the payload.
func (m ICMPv4) FillChecksum() {
	m.SetChecksum(0)
	m.SetChecksum(Checksum(m))
}

// ICMPv4Fields are the fixed fields of an ICMP message.
type ICMPv4Fields struct {
	Type, Code uint8
	Rest       uint32 // id<<16|seq, mtu, pointer<<24, gateway
}

// Fields returns the message's fixed fields.
func (m ICMPv4) Fields() ICMPv4Fields {
	return ICMPv4Fields{Type: m.Type(), Code: m.Code(), Rest: m.Rest()}
}

// BuildICMPv4 writes the fixed header into b[:8] and the checksum over
// all of b, so the payload must be in place in b[8:] first.
func BuildICMPv4(b []byte, f ICMPv4Fields) (ICMPv4, error) {
	if len(b) < ICMPv4HeaderLen {
		return nil, errICMPShort
	}
	m := ICMPv4(b)
	m.SetType(f.Type)
	m.SetCode(f.Code)
	m.SetRest(f.Rest)
	m.FillChecksum()
	return m, nil
}
