package netlink

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"
)

// AttrHeaderLen is the size of struct nlattr / struct rtattr.
const AttrHeaderLen = unix.NLA_HDRLEN

// MaxNestDepth bounds nested attribute decoding, as the kernel's
// MAX_POLICY_RECURSION_DEPTH bounds policy recursion: a request nested
// deeper than this is rejected rather than walked.
const MaxNestDepth = 16

// typeMask removes the NLA_F_NESTED and NLA_F_NET_BYTEORDER flag bits.
const typeMask = ^uint16(unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)

// Attribute decoding errors.
var (
	// ErrAttrLen: an attribute's nla_len is below 4 or past the buffer end.
	ErrAttrLen = errors.New("netlink: bad attribute length")
	// ErrNestDepth: attributes nest deeper than MaxNestDepth.
	ErrNestDepth = errors.New("netlink: attributes nested too deeply")
	// ErrAttrSize: an attribute's payload has the wrong size for its type.
	ErrAttrSize = errors.New("netlink: attribute payload has wrong size")
	// ErrNoNUL: a string attribute that must be NUL-terminated is not.
	ErrNoNUL = errors.New("netlink: string attribute not NUL-terminated")
)

// AttributeDecoder iterates over a run of TLV attributes. It is a value
// type and allocates nothing; nested runs are decoded with Nested, which
// counts depth so that hostile nesting cannot recurse without bound.
type AttributeDecoder struct {
	b     []byte
	off   int // offset of the next attribute
	cur   int // offset of the current attribute
	depth int
	typ   uint16 // raw nla_type including flag bits
	data  []byte
	err   error
}

// NewAttributeDecoder returns a decoder over the attributes in b.
func NewAttributeDecoder(b []byte) AttributeDecoder { return AttributeDecoder{b: b} }

// Next advances to the next attribute. Like the kernel's nla_for_each_attr
// it stops at trailing bytes shorter than an attribute header; an
// attribute whose length is below 4 or beyond the buffer stops the walk
// with ErrAttrLen.
func (d *AttributeDecoder) Next() bool {
	if d.err != nil {
		return false
	}
	rest := d.b[d.off:]
	if len(rest) < AttrHeaderLen {
		return false
	}
	n := int(binary.NativeEndian.Uint16(rest[0:2]))
	if n < AttrHeaderLen || n > len(rest) {
		d.err = ErrAttrLen
		return false
	}
	d.typ = binary.NativeEndian.Uint16(rest[2:4])
	d.data = rest[AttrHeaderLen:n:n]
	d.cur = d.off
	d.off += min(Align(n), len(rest))
	return true
}

// Type returns the attribute type with NLA_F_NESTED and
// NLA_F_NET_BYTEORDER masked off.
func (d *AttributeDecoder) Type() uint16 { return d.typ & typeMask }

// RawType returns nla_type as sent, flag bits included.
func (d *AttributeDecoder) RawType() uint16 { return d.typ }

// NestedFlag reports whether NLA_F_NESTED was set on the attribute.
func (d *AttributeDecoder) NestedFlag() bool { return d.typ&unix.NLA_F_NESTED != 0 }

// NetByteOrder reports whether NLA_F_NET_BYTEORDER was set.
func (d *AttributeDecoder) NetByteOrder() bool { return d.typ&unix.NLA_F_NET_BYTEORDER != 0 }

// Bytes returns the attribute payload; it aliases the buffer.
func (d *AttributeDecoder) Bytes() []byte { return d.data }

// Offset returns the offset of the current attribute's header within the
// buffer given to NewAttributeDecoder (or, for a nested decoder, within
// the outermost buffer), which is what NLMSGERR_ATTR_OFFS reports once the
// offset of that buffer in the message is added.
func (d *AttributeDecoder) Offset() int { return d.cur }

// Depth returns the nesting depth: 0 for a top-level decoder.
func (d *AttributeDecoder) Depth() int { return d.depth }

// Err returns the error that stopped the iteration, if any.
func (d *AttributeDecoder) Err() error { return d.err }

// Nested returns a decoder over the current attribute's payload, one level
// deeper. Beyond MaxNestDepth it returns ErrNestDepth.
func (d *AttributeDecoder) Nested() (AttributeDecoder, error) {
	if d.depth+1 > MaxNestDepth {
		return AttributeDecoder{}, ErrNestDepth
	}
	// The child shares the parent's buffer so its offsets stay relative
	// to the outermost run.
	start := d.cur + AttrHeaderLen
	if start+len(d.data) > len(d.b) { // Nested before any Next
		return AttributeDecoder{depth: d.depth + 1}, nil
	}
	return AttributeDecoder{b: d.b[:start+len(d.data)], off: start, cur: start, depth: d.depth + 1}, nil
}

// Uint8 returns the payload as a u8.
func (d *AttributeDecoder) Uint8() (uint8, error) { return Uint8(d.data) }

// Uint16 returns the payload as a host-order u16.
func (d *AttributeDecoder) Uint16() (uint16, error) { return Uint16(d.data) }

// Uint32 returns the payload as a host-order u32.
func (d *AttributeDecoder) Uint32() (uint32, error) { return Uint32(d.data) }

// Uint64 returns the payload as a host-order u64.
func (d *AttributeDecoder) Uint64() (uint64, error) { return Uint64(d.data) }

// Int32 returns the payload as a host-order s32.
func (d *AttributeDecoder) Int32() (int32, error) { return Int32(d.data) }

// String returns the payload as a string; see String.
func (d *AttributeDecoder) String() string { return String(d.data) }

// Addr returns the payload as an IPv4 or IPv6 address; see Addr.
func (d *AttributeDecoder) Addr() (netip.Addr, error) { return Addr(d.data) }

// Uint8 decodes a 1-byte payload.
func Uint8(b []byte) (uint8, error) {
	if len(b) != 1 {
		return 0, ErrAttrSize
	}
	return b[0], nil
}

// Uint16 decodes a 2-byte host-order payload.
func Uint16(b []byte) (uint16, error) {
	if len(b) != 2 {
		return 0, ErrAttrSize
	}
	return binary.NativeEndian.Uint16(b), nil
}

// Uint32 decodes a 4-byte host-order payload.
func Uint32(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, ErrAttrSize
	}
	return binary.NativeEndian.Uint32(b), nil
}

// Uint64 decodes an 8-byte host-order payload.
func Uint64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, ErrAttrSize
	}
	return binary.NativeEndian.Uint64(b), nil
}

// Int32 decodes a 4-byte host-order signed payload.
func Int32(b []byte) (int32, error) {
	v, err := Uint32(b)
	return int32(v), err
}

// String returns a string payload up to its first NUL, or the whole
// payload when it has none, as nla_strscpy reads NLA_STRING attributes
// (which need not be NUL-terminated).
func String(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// NulString is String for NLA_NUL_STRING attributes, whose payload must
// contain a terminating NUL.
func NulString(b []byte) (string, error) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return "", ErrNoNUL
}

// Addr decodes a 4-byte IPv4 or 16-byte IPv6 address payload.
func Addr(b []byte) (netip.Addr, error) {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)), nil
	case 16:
		return netip.AddrFrom16([16]byte(b)), nil
	}
	return netip.Addr{}, ErrAttrSize
}
