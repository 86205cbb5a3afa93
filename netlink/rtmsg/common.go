package rtmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/usnet/usnet/netlink"
	"golang.org/x/sys/unix"
)

// ErrTruncated: the payload is shorter than the message's fixed header.
// The kernel answers EINVAL ("Invalid header for ... request").
var ErrTruncated = errors.New("rtmsg: payload shorter than fixed header")

// SizeError reports a known attribute whose payload has the wrong size.
type SizeError struct {
	Type uint16 // attribute type, flags masked
	Got  int    // payload length received
	Want int    // payload length required (minimum when Min)
	Min  bool   // Want is a minimum rather than an exact size
}

func (e *SizeError) Error() string {
	if e.Min {
		return fmt.Sprintf("rtmsg: attribute %d: payload %d bytes, want at least %d", e.Type, e.Got, e.Want)
	}
	return fmt.Sprintf("rtmsg: attribute %d: payload %d bytes, want %d", e.Type, e.Got, e.Want)
}

// Errno is the kernel's answer to the same attribute: ERANGE when the
// payload is too short, EINVAL when it is too long.
func (e *SizeError) Errno() unix.Errno {
	if e.Got < e.Want {
		return unix.ERANGE
	}
	return unix.EINVAL
}

// AttrSet is the set of attribute types (0..255) a message carries.
type AttrSet [4]uint64

// Has reports whether attribute type t is in the set.
func (s *AttrSet) Has(t uint16) bool { return t < 256 && s[t>>6]&(1<<(t&63)) != 0 }

// Set adds attribute type t to the set.
func (s *AttrSet) Set(t uint16) {
	if t < 256 {
		s[t>>6] |= 1 << (t & 63)
	}
}

// RawAttr is an attribute kept as received: Type includes flag bits.
type RawAttr struct {
	Type uint16
	Data []byte
}

func raw(d *netlink.AttributeDecoder) RawAttr {
	return RawAttr{Type: d.RawType(), Data: clone(d.Bytes())}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func encodeUnknown(e *netlink.AttributeEncoder, u []RawAttr) {
	for _, a := range u {
		e.PutBytes(a.Type, a.Data)
	}
}

func sizeErr(d *netlink.AttributeDecoder, want int) error {
	return &SizeError{Type: d.Type(), Got: len(d.Bytes()), Want: want}
}

func getU8(d *netlink.AttributeDecoder) (uint8, error) {
	v, err := d.Uint8()
	if err != nil {
		return 0, sizeErr(d, 1)
	}
	return v, nil
}

func getU16(d *netlink.AttributeDecoder) (uint16, error) {
	v, err := d.Uint16()
	if err != nil {
		return 0, sizeErr(d, 2)
	}
	return v, nil
}

// getBE16 reads a network-order u16 (RTA_SPORT, RTA_DPORT).
func getBE16(d *netlink.AttributeDecoder) (uint16, error) {
	if len(d.Bytes()) != 2 {
		return 0, sizeErr(d, 2)
	}
	return binary.BigEndian.Uint16(d.Bytes()), nil
}

func getU32(d *netlink.AttributeDecoder) (uint32, error) {
	v, err := d.Uint32()
	if err != nil {
		return 0, sizeErr(d, 4)
	}
	return v, nil
}

func getS32(d *netlink.AttributeDecoder) (int32, error) {
	v, err := getU32(d)
	return int32(v), err
}

func getU64(d *netlink.AttributeDecoder) (uint64, error) {
	v, err := d.Uint64()
	if err != nil {
		return 0, sizeErr(d, 8)
	}
	return v, nil
}

// getAddr reads an address attribute whose size must match the family
// (AF_INET: 4, AF_INET6: 16; any other family: either).
func getAddr(d *netlink.AttributeDecoder, family uint8) (netip.Addr, error) {
	n := len(d.Bytes())
	switch family {
	case unix.AF_INET:
		if n != 4 {
			return netip.Addr{}, sizeErr(d, 4)
		}
	case unix.AF_INET6:
		if n != 16 {
			return netip.Addr{}, sizeErr(d, 16)
		}
	}
	a, err := d.Addr()
	if err != nil {
		return netip.Addr{}, &SizeError{Type: d.Type(), Got: n, Want: 4, Min: true}
	}
	return a, nil
}

// getFixed copies a fixed-size structure's payload, requiring exactly n
// bytes.
func getFixed(d *netlink.AttributeDecoder, n int) ([]byte, error) {
	if len(d.Bytes()) != n {
		return nil, sizeErr(d, n)
	}
	return d.Bytes(), nil
}

// putU32 writes attribute t when v is non-zero or t is marked present.
func putU32(e *netlink.AttributeEncoder, s *AttrSet, t uint16, v uint32) {
	if v != 0 || s.Has(t) {
		e.Uint32(t, v)
	}
}

func putU8(e *netlink.AttributeEncoder, s *AttrSet, t uint16, v uint8) {
	if v != 0 || s.Has(t) {
		e.Uint8(t, v)
	}
}

func putU16(e *netlink.AttributeEncoder, s *AttrSet, t uint16, v uint16) {
	if v != 0 || s.Has(t) {
		e.Uint16(t, v)
	}
}

func putString(e *netlink.AttributeEncoder, s *AttrSet, t uint16, v string) {
	if v != "" || s.Has(t) {
		e.String(t, v)
	}
}

func putBytes(e *netlink.AttributeEncoder, s *AttrSet, t uint16, v []byte) {
	if len(v) > 0 || s.Has(t) {
		e.PutBytes(t, v)
	}
}

func putAddr(e *netlink.AttributeEncoder, t uint16, a netip.Addr) {
	if a.IsValid() {
		e.Addr(t, a)
	}
}

// marshal runs an Encode method into a fresh slice.
func marshal(enc func(*netlink.AttributeEncoder)) ([]byte, error) {
	e := netlink.NewAttributeEncoder(make([]byte, 0, 256))
	enc(e)
	return e.Bytes(), e.Err()
}

// appendTo runs an Encode method appending to b.
func appendTo(b []byte, enc func(*netlink.AttributeEncoder)) ([]byte, error) {
	e := netlink.NewAttributeEncoder(b)
	enc(e)
	return e.Bytes(), e.Err()
}
