package header

import "encoding/binary"

// TCP option kinds (include/net/tcp.h).
const (
	TCPOptEOL       = 0
	TCPOptNOP       = 1
	TCPOptMSS       = 2
	TCPOptWindow    = 3
	TCPOptSACKPerm  = 4
	TCPOptSACK      = 5
	TCPOptTimestamp = 8
	TCPOptMD5       = 19
	TCPOptFastOpen  = 34
)

// TCPMaxWScale is the largest window scale RFC 7323 allows; Linux clamps
// larger received values to it (the parser reports the raw value).
const TCPMaxWScale = 14

// TCPMaxSACKBlocks is the most SACK blocks that fit in the option space.
const TCPMaxSACKBlocks = 4

// SACKBlock is one selective acknowledgment range [Start, End).
type SACKBlock struct{ Start, End uint32 }

// TCPOptions holds the options usnet's TCP understands. ParseTCPOptions
// fills it without allocating.
type TCPOptions struct {
	HasMSS        bool
	MSS           uint16
	HasWScale     bool
	WScale        uint8
	SACKPermitted bool
	HasTimestamps bool
	TSVal, TSEcr  uint32
	NumSACK       int
	SACK          [TCPMaxSACKBlocks]SACKBlock
}

// Option lengths (TCPOLEN_*).
const (
	tcpOptLenMSS       = 4
	tcpOptLenWindow    = 3
	tcpOptLenSACKPerm  = 2
	tcpOptLenTimestamp = 10
	tcpOptLenSACKBase  = 2
	tcpOptLenSACKBlock = 8
)

var (
	errTCPOptTLV  = newErr("tcp: option length byte missing, below 2 or past the header", ErrBadOption)
	errTCPOptFit  = newErr("tcp: options exceed 40 bytes or the buffer", ErrBadOption)
	errTCPOptSACK = newErr("tcp: more than 4 SACK blocks", ErrBadOption)
)

// ParseTCPOptions parses an option area into o. It walks the area as
// tcp_parse_options does: EOL ends it, NOP is skipped, options of unknown
// kind are skipped by their length, and a known option whose length is
// wrong for its kind is ignored. Where Linux silently stops at a
// malformed length (missing length byte, length below 2 or past the end),
// this returns an error wrapping ErrBadOption; what was parsed before it
// stays in o, so a caller may still act as Linux does. Whether an option
// is acceptable in a segment (MSS only on SYN, ...) is the caller's rule.
func ParseTCPOptions(b []byte, o *TCPOptions) error {
	*o = TCPOptions{}
	for len(b) > 0 {
		kind := b[0]
		switch kind {
		case TCPOptEOL:
			return nil
		case TCPOptNOP:
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return errTCPOptTLV
		}
		d := b[:b[1]]
		b = b[len(d):]
		switch kind {
		case TCPOptMSS:
			if len(d) == tcpOptLenMSS {
				o.HasMSS, o.MSS = true, binary.BigEndian.Uint16(d[2:])
			}
		case TCPOptWindow:
			if len(d) == tcpOptLenWindow {
				o.HasWScale, o.WScale = true, d[2]
			}
		case TCPOptSACKPerm:
			if len(d) == tcpOptLenSACKPerm {
				o.SACKPermitted = true
			}
		case TCPOptTimestamp:
			if len(d) == tcpOptLenTimestamp {
				o.HasTimestamps = true
				o.TSVal = binary.BigEndian.Uint32(d[2:])
				o.TSEcr = binary.BigEndian.Uint32(d[6:])
			}
		case TCPOptSACK:
			n := (len(d) - tcpOptLenSACKBase) / tcpOptLenSACKBlock
			if n == 0 || (len(d)-tcpOptLenSACKBase)%tcpOptLenSACKBlock != 0 {
				break
			}
			// At most 4 blocks fit in 40 bytes, so n <= 4 here.
			o.NumSACK = n
			for i := range n {
				p := d[tcpOptLenSACKBase+i*tcpOptLenSACKBlock:]
				o.SACK[i] = SACKBlock{binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:])}
			}
		}
	}
	return nil
}

// EncodedLen returns the number of bytes Encode writes: always a multiple
// of 4.
func (o *TCPOptions) EncodedLen() int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	if o.HasTimestamps {
		n += 12
	}
	if o.SACKPermitted && !o.HasTimestamps {
		n += 4
	}
	if o.HasWScale {
		n += 4
	}
	if o.NumSACK > 0 {
		n += 4 + 8*o.NumSACK
	}
	return n
}

// Encode writes the options into b in the order and NOP padding of
// Linux's tcp_options_write (MSS; SACK-permitted with timestamps, or
// timestamps alone; SACK-permitted alone; window scale; SACK blocks) and
// returns the length written. It fails when the options exceed 40 bytes
// (timestamps leave room for 3 SACK blocks) or b.
func (o *TCPOptions) Encode(b []byte) (int, error) {
	if o.NumSACK < 0 || o.NumSACK > TCPMaxSACKBlocks {
		return 0, errTCPOptSACK
	}
	n := o.EncodedLen()
	if n > TCPMaxOptLen || n > len(b) {
		return 0, errTCPOptFit
	}
	p := b[:n]
	put := func(w uint32) {
		binary.BigEndian.PutUint32(p, w)
		p = p[4:]
	}
	if o.HasMSS {
		put(TCPOptMSS<<24 | tcpOptLenMSS<<16 | uint32(o.MSS))
	}
	if o.HasTimestamps {
		if o.SACKPermitted {
			put(TCPOptSACKPerm<<24 | tcpOptLenSACKPerm<<16 | TCPOptTimestamp<<8 | tcpOptLenTimestamp)
		} else {
			put(TCPOptNOP<<24 | TCPOptNOP<<16 | TCPOptTimestamp<<8 | tcpOptLenTimestamp)
		}
		put(o.TSVal)
		put(o.TSEcr)
	} else if o.SACKPermitted {
		put(TCPOptNOP<<24 | TCPOptNOP<<16 | TCPOptSACKPerm<<8 | tcpOptLenSACKPerm)
	}
	if o.HasWScale {
		put(TCPOptNOP<<24 | TCPOptWindow<<16 | tcpOptLenWindow<<8 | uint32(o.WScale))
	}
	if o.NumSACK > 0 {
		put(TCPOptNOP<<24 | TCPOptNOP<<16 | TCPOptSACK<<8 | uint32(tcpOptLenSACKBase+tcpOptLenSACKBlock*o.NumSACK))
		for _, s := range o.SACK[:o.NumSACK] {
			put(s.Start)
			put(s.End)
		}
	}
	return n, nil
}
