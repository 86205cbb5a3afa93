package netdev

import (
	"encoding/binary"

	"github.com/usnet/usnet/header"
)

// CompleteChecksum fills in a checksum left unfinished by an offloading
// sender (skb_checksum_help): frame[start:] is the transport segment and
// the 16-bit field at start+off holds the folded pseudo-header sum, as
// Linux leaves it for CHECKSUM_PARTIAL. Out-of-range offsets leave the
// frame untouched.
func CompleteChecksum(frame []byte, start, off int) {
	if start < 0 || off < 0 || start+off+2 > len(frame) {
		return
	}
	c := header.Checksum(frame[start:])
	if c == 0 && off == 6 { // UDP transmits an all-zero result as 0xffff
		c = 0xffff
	}
	binary.BigEndian.PutUint16(frame[start+off:], c)
}
