package netlink

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// ErrAttrTooLong: an attribute or nest grew past nla_len's 65535 bytes.
var ErrAttrTooLong = errors.New("netlink: attribute longer than 65535 bytes")

// AttributeEncoder appends messages and TLV attributes to a reusable
// buffer. It allocates only when the buffer must grow. Length errors are
// sticky and reported by Err, so a sequence of calls needs one check.
//
//	e := netlink.NewAttributeEncoder(buf[:0])
//	m := e.BeginMessage(netlink.Header{Type: unix.RTM_NEWLINK})
//	e.Append(fixedHeader)
//	e.String(unix.IFLA_IFNAME, "eth0")
//	n := e.BeginNest(unix.IFLA_LINKINFO)
//	e.String(unix.IFLA_INFO_KIND, "veth")
//	e.EndNest(n)
//	e.EndMessage(m)
//	out, err := e.Bytes(), e.Err()
type AttributeEncoder struct {
	b   []byte
	err error
}

// NewAttributeEncoder returns an encoder appending to b.
func NewAttributeEncoder(b []byte) *AttributeEncoder { return &AttributeEncoder{b: b} }

// Reset makes the encoder append to b and clears its error.
func (e *AttributeEncoder) Reset(b []byte) { e.b, e.err = b, nil }

// Bytes returns the encoded buffer.
func (e *AttributeEncoder) Bytes() []byte { return e.b }

// Len returns the number of bytes in the buffer.
func (e *AttributeEncoder) Len() int { return len(e.b) }

// Err returns the first length error, if any.
func (e *AttributeEncoder) Err() error { return e.err }

// Append appends raw bytes (a fixed header such as ifinfomsg) followed by
// alignment padding.
func (e *AttributeEncoder) Append(p []byte) {
	e.b = append(e.b, p...)
	e.b = appendPad(e.b, len(p))
}

// BeginMessage appends h with a placeholder length and returns the
// message's start for EndMessage.
func (e *AttributeEncoder) BeginMessage(h Header) int {
	start := len(e.b)
	e.b = AppendHeader(e.b, h)
	return start
}

// EndMessage sets nlmsg_len of the message begun at start.
func (e *AttributeEncoder) EndMessage(start int) {
	if start < 0 || start+HeaderLen > len(e.b) {
		return
	}
	binary.NativeEndian.PutUint32(e.b[start:], uint32(len(e.b)-start))
}

// header appends an attribute header for a payload of n bytes.
func (e *AttributeEncoder) header(typ uint16, n int) {
	if AttrHeaderLen+n > 0xffff {
		if e.err == nil {
			e.err = ErrAttrTooLong
		}
	}
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(AttrHeaderLen+n))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
}

// PutBytes appends an attribute with payload p.
func (e *AttributeEncoder) PutBytes(typ uint16, p []byte) {
	e.header(typ, len(p))
	e.b = append(e.b, p...)
	e.b = appendPad(e.b, len(p))
}

// Flag appends an attribute with an empty payload (NLA_FLAG).
func (e *AttributeEncoder) Flag(typ uint16) { e.header(typ, 0) }

// Uint8 appends a u8 attribute (padded to 4 bytes).
func (e *AttributeEncoder) Uint8(typ uint16, v uint8) {
	e.header(typ, 1)
	e.b = append(e.b, v, 0, 0, 0)
}

// Uint16 appends a host-order u16 attribute.
func (e *AttributeEncoder) Uint16(typ uint16, v uint16) {
	e.header(typ, 2)
	e.b = binary.NativeEndian.AppendUint16(e.b, v)
	e.b = append(e.b, 0, 0)
}

// Uint16BE appends a network-order u16 attribute (e.g. RTA_SPORT); the
// kernel does not set NLA_F_NET_BYTEORDER on these, so neither does this.
func (e *AttributeEncoder) Uint16BE(typ uint16, v uint16) {
	e.header(typ, 2)
	e.b = binary.BigEndian.AppendUint16(e.b, v)
	e.b = append(e.b, 0, 0)
}

// Uint32 appends a host-order u32 attribute.
func (e *AttributeEncoder) Uint32(typ uint16, v uint32) {
	e.header(typ, 4)
	e.b = binary.NativeEndian.AppendUint32(e.b, v)
}

// Int32 appends a host-order s32 attribute.
func (e *AttributeEncoder) Int32(typ uint16, v int32) { e.Uint32(typ, uint32(v)) }

// Uint64 appends a host-order u64 attribute. Like nla_put_u64_64bit
// without a pad attribute: x86-64 needs no 8-byte alignment.
func (e *AttributeEncoder) Uint64(typ uint16, v uint64) {
	e.header(typ, 8)
	e.b = binary.NativeEndian.AppendUint64(e.b, v)
}

// String appends a NUL-terminated string attribute, as nla_put_string.
func (e *AttributeEncoder) String(typ uint16, s string) {
	e.header(typ, len(s)+1)
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	e.b = appendPad(e.b, len(s)+1)
}

// Addr appends an address attribute: 4 bytes for IPv4, 16 for IPv6 (an
// IPv4-mapped IPv6 address stays 16 bytes). An invalid address appends
// nothing.
func (e *AttributeEncoder) Addr(typ uint16, a netip.Addr) {
	switch {
	case a.Is4():
		b := a.As4()
		e.PutBytes(typ, b[:])
	case a.Is6():
		b := a.As16()
		e.PutBytes(typ, b[:])
	}
}

// BeginNest starts a nested attribute. NLA_F_NESTED is not added: rtnetlink
// nests are sent without it by the kernel; pass it in typ if wanted.
// The returned value goes to EndNest.
func (e *AttributeEncoder) BeginNest(typ uint16) int {
	start := len(e.b)
	e.header(typ, 0)
	return start
}

// EndNest sets the length of the nest begun at start.
func (e *AttributeEncoder) EndNest(start int) {
	if start < 0 || start+AttrHeaderLen > len(e.b) {
		return
	}
	n := len(e.b) - start
	if n > 0xffff && e.err == nil {
		e.err = ErrAttrTooLong
	}
	binary.NativeEndian.PutUint16(e.b[start:], uint16(n))
}

// FlagNested is NLA_F_NESTED, for callers that want it on a nest.
const FlagNested = unix.NLA_F_NESTED
