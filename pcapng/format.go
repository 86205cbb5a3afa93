package pcapng

import (
	"errors"
	"unicode/utf8"
)

// Link types (the LINKTYPE_ registry) an interface may carry.
const (
	LinkTypeNull     uint16 = 0   // BSD loopback: 4-byte host-order family, then the packet
	LinkTypeEthernet uint16 = 1   // Ethernet II / 802.3 frames
	LinkTypeRaw      uint16 = 101 // raw IPv4 or IPv6, no link header
)

// Direction is the epb_flags direction of a packet, from the capturing
// interface's point of view.
type Direction uint8

// Directions, with the values epb_flags bits 0-1 use.
const (
	DirUnknown Direction = 0
	Inbound    Direction = 1
	Outbound   Direction = 2
)

// String names the direction the way tshark shows it.
func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	case DirUnknown:
		return "unknown"
	}
	return "invalid"
}

// Block types.
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockEPB = 0x00000006
)

// Option codes; the same number means different things in different
// blocks.
const (
	optEnd         = 0
	optComment     = 1
	optSHBHardware = 2
	optSHBOS       = 3
	optSHBUserAppl = 4
	optIfName      = 2
	optIfDesc      = 3
	optIfTsresol   = 9
	optIfTsoffset  = 14
	optEPBFlags    = 2
)

const (
	byteOrderMagic = 0x1A2B3C4D
	tsresolNanos   = 9 // 10^-9 s

	// MaxCapLen bounds a packet's captured length. It keeps every block
	// well under the 16 MiB Wireshark accepts, and lets the reader refuse
	// absurd lengths before allocating.
	MaxCapLen = 8 << 20

	// maxBlockLen is the largest block the reader accepts.
	maxBlockLen = 16 << 20

	// maxOptLen is the largest option value: its length field is 16 bits.
	maxOptLen = 0xFFFF
)

// ErrFormat is wrapped by every error the reader returns for malformed
// input, and by the writer for arguments it cannot encode.
var ErrFormat = errors.New("pcapng: malformed")

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("pcapng: writer closed")

// checkString reports whether s can be a pcapng string option: the
// format says UTF-8, and the length must fit 16 bits.
func checkString(s string) bool {
	return len(s) <= maxOptLen && utf8.ValidString(s)
}

// pad4 is n rounded up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }
