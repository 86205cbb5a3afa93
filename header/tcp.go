package header

import (
	"encoding/binary"
	"net/netip"
)

// TCP header sizes.
const (
	TCPMinLen    = 20
	TCPMaxLen    = 60
	TCPMaxOptLen = 40
)

// TCPFlags are the control bits: the eight of byte 13 plus AE (the
// accurate-ECN bit, formerly NS) from byte 12.
type TCPFlags uint16

// TCP control bits.
const (
	TCPFlagFIN TCPFlags = 1 << iota
	TCPFlagSYN
	TCPFlagRST
	TCPFlagPSH
	TCPFlagACK
	TCPFlagURG
	TCPFlagECE
	TCPFlagCWR
	TCPFlagAE
)

// String lists the set flags in tcpdump's letters ("S.", "FP.", ...),
// with E, W and A for ECE, CWR and AE.
func (f TCPFlags) String() string {
	var b [9]byte
	n := 0
	for _, x := range [...]struct {
		f TCPFlags
		c byte
	}{{TCPFlagFIN, 'F'}, {TCPFlagSYN, 'S'}, {TCPFlagRST, 'R'}, {TCPFlagPSH, 'P'},
		{TCPFlagURG, 'U'}, {TCPFlagECE, 'E'}, {TCPFlagCWR, 'W'}, {TCPFlagAE, 'A'}, {TCPFlagACK, '.'}} {
		if f&x.f != 0 {
			b[n] = x.c
			n++
		}
	}
	if n == 0 {
		return "none"
	}
	return string(b[:n])
}

// TCP is a view of a TCP header and its payload.
type TCP []byte

var (
	errTCPShort    = newErr("tcp: segment shorter than 20 bytes", ErrTruncated)
	errTCPDoff     = newErr("tcp: data offset below 5", ErrBadLength)
	errTCPDoffLong = newErr("tcp: segment shorter than data offset", ErrTruncated)
	errTCPCsum     = newErr("tcp: checksum", ErrBadChecksum)
	errTCPBuildLen = newErr("tcp: buffer shorter than header", ErrTruncated)
)

// ParseTCP validates b as tcp_v4_rcv does before the checksum: at least 20
// bytes, a data offset of at least 5 and no more than len(b)/4. The view
// covers all of b (TCP has no length field; the IP layer trimmed it).
// Verify the checksum with VerifyChecksum and the options with
// ParseOptions.
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPMinLen {
		return nil, errTCPShort
	}
	t := TCP(b)
	if b[12]>>4 < 5 {
		return nil, errTCPDoff
	}
	if t.HeaderLen() > len(b) {
		return nil, errTCPDoffLong
	}
	return t, nil
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:2]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:4]) }

// Seq returns the sequence number.
func (t TCP) Seq() uint32 { return binary.BigEndian.Uint32(t[4:8]) }

// Ack returns the acknowledgment number.
func (t TCP) Ack() uint32 { return binary.BigEndian.Uint32(t[8:12]) }

// HeaderLen returns the data offset in bytes.
func (t TCP) HeaderLen() int { return int(t[12]>>4) * 4 }

// Flags returns the control bits.
func (t TCP) Flags() TCPFlags { return TCPFlags(t[12]&1)<<8 | TCPFlags(t[13]) }

// Reserved returns the three reserved bits between the data offset and
// AE, which senders must leave zero and receivers ignore.
func (t TCP) Reserved() uint8 { return t[12] >> 1 & 7 }

// Window returns the raw (unscaled) window.
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[14:16]) }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:18]) }

// Urgent returns the urgent pointer.
func (t TCP) Urgent() uint16 { return binary.BigEndian.Uint16(t[18:20]) }

// Options returns the raw option bytes.
func (t TCP) Options() []byte { return t[TCPMinLen:t.HeaderLen()] }

// Payload returns the data after the header.
func (t TCP) Payload() []byte { return t[t.HeaderLen():] }

// ParseOptions parses the options into o (see ParseTCPOptions).
func (t TCP) ParseOptions(o *TCPOptions) error { return ParseTCPOptions(t.Options(), o) }

// SetSrcPort sets the source port.
func (t TCP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(t[0:2], p) }

// SetDstPort sets the destination port.
func (t TCP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(t[2:4], p) }

// SetSeq sets the sequence number.
func (t TCP) SetSeq(v uint32) { binary.BigEndian.PutUint32(t[4:8], v) }

// SetAck sets the acknowledgment number.
func (t TCP) SetAck(v uint32) { binary.BigEndian.PutUint32(t[8:12], v) }

// SetFlags sets the control bits, keeping the data offset and clearing
// the reserved bits.
func (t TCP) SetFlags(f TCPFlags) {
	t[12] = t[12]&0xf0 | uint8(f>>8)&1
	t[13] = uint8(f)
}

// SetWindow sets the raw window.
func (t TCP) SetWindow(v uint16) { binary.BigEndian.PutUint16(t[14:16], v) }

// SetChecksum sets the checksum field.
func (t TCP) SetChecksum(v uint16) { binary.BigEndian.PutUint16(t[16:18], v) }

// SetUrgent sets the urgent pointer.
func (t TCP) SetUrgent(v uint16) { binary.BigEndian.PutUint16(t[18:20], v) }

// VerifyChecksum checks the checksum over the pseudo-header, header and
// payload.
func (t TCP) VerifyChecksum(src, dst netip.Addr) error {
	return t.VerifyChecksumSum(PseudoHeaderSum(src, dst, IPProtoTCP, len(t)))
}

// VerifyChecksumSum is VerifyChecksum with a precomputed pseudo-header
// sum (see IPv4.PseudoSum).
func (t TCP) VerifyChecksumSum(pseudo uint16) error {
	if Sum(t, pseudo) != 0xffff {
		return errTCPCsum
	}
	return nil
}

// FillChecksum computes the checksum over the pseudo-header and the whole
// view, which must hold the payload.
func (t TCP) FillChecksum(src, dst netip.Addr) {
	t.FillChecksumSum(PseudoHeaderSum(src, dst, IPProtoTCP, len(t)))
}

// FillChecksumSum is FillChecksum with a precomputed pseudo-header sum.
func (t TCP) FillChecksumSum(pseudo uint16) {
	t.SetChecksum(0)
	t.SetChecksum(^Sum(t, pseudo))
}

// TCPFields are the fields of a TCP header.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            TCPFlags
	Window           uint16
	Urgent           uint16
	Options          TCPOptions
}

// HeaderLen returns the header length BuildTCP will write for f, so a
// caller can place the payload before building.
func (f *TCPFields) HeaderLen() int { return TCPMinLen + f.Options.EncodedLen() }

// BuildTCP writes the header described by f at the start of b, options
// encoded as Linux orders them, with a zero checksum, and returns all of
// b as the segment; call FillChecksum once the payload is in place after
// HeaderLen bytes.
func BuildTCP(b []byte, f *TCPFields) (TCP, error) {
	if len(b) < TCPMinLen {
		return nil, errTCPBuildLen
	}
	n, err := f.Options.Encode(b[TCPMinLen:])
	if err != nil {
		return nil, err
	}
	t := TCP(b)
	t.SetSrcPort(f.SrcPort)
	t.SetDstPort(f.DstPort)
	t.SetSeq(f.Seq)
	t.SetAck(f.Ack)
	t[12] = uint8((TCPMinLen+n)/4) << 4
	t.SetFlags(f.Flags)
	t.SetWindow(f.Window)
	t.SetChecksum(0)
	t.SetUrgent(f.Urgent)
	return t, nil
}
