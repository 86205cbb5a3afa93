package netdev

import "encoding/binary"

// CompleteChecksum fills in a checksum left unfinished by an offloading
// sender (skb_checksum_help): frame[start:] is the transport segment and
// the 16-bit field at start+off holds the folded pseudo-header sum, as
// Linux leaves it for CHECKSUM_PARTIAL. Out-of-range offsets leave the
// frame untouched.
func CompleteChecksum(frame []byte, start, off int) {
	if start < 0 || off < 0 || start+off+2 > len(frame) {
		return
	}
	seg := frame[start:]
	var sum uint64
	for len(seg) >= 8 {
		sum += uint64(binary.BigEndian.Uint32(seg)) + uint64(binary.BigEndian.Uint32(seg[4:]))
		seg = seg[8:]
	}
	for len(seg) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(seg))
		seg = seg[2:]
	}
	if len(seg) == 1 {
		sum += uint64(seg[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	c := ^uint16(sum)
	if c == 0 && off == 6 { // UDP transmits an all-zero result as 0xffff
		c = 0xffff
	}
	binary.BigEndian.PutUint16(frame[start+off:], c)
}
