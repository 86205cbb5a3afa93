package pcapng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// Section is what a Section Header Block says about the capture.
type Section struct {
	UserAppl string // shb_userappl
	Comment  string // first opt_comment
	Hardware string // shb_hardware
	OS       string // shb_os
}

// Packet is one Enhanced Packet Block.
type Packet struct {
	Interface int    // index into Reader.Interfaces
	Timestamp int64  // nanoseconds since the Unix epoch
	Data      []byte // captured bytes; the packet's own copy
	OrigLen   int    // length on the wire
	Flags     uint32 // the whole epb_flags word (0 if absent)
	Direction Direction
	Comment   string // first opt_comment
}

// clock turns an interface's raw timestamps into nanoseconds.
type clock struct {
	resol  uint8 // if_tsresol: 10^-n, or 2^-n with the top bit set
	offset int64 // if_tsoffset, seconds
}

// Reader reads a pcapng file block by block, keeping the section and
// interface descriptions it has passed.
type Reader struct {
	r       io.Reader
	order   binary.ByteOrder
	section Section
	ifaces  []Interface
	clocks  []clock
	hdr     [12]byte
	body    []byte // reused for every block
}

// NewReader reads the Section Header Block that must open the file.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: r}
	typ, body, err := rd.block()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: empty file", ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if typ != blockSHB {
		return nil, fmt.Errorf("%w: file does not start with a section header", ErrFormat)
	}
	if err := rd.parseSHB(body); err != nil {
		return nil, err
	}
	return rd, nil
}

// Section returns the current section's header.
func (r *Reader) Section() Section { return r.section }

// Interfaces returns the interfaces described so far in the current
// section, indexed by id. The slice must not be modified.
func (r *Reader) Interfaces() []Interface { return r.ifaces }

// Next returns the next packet, reading interface and section blocks on
// the way and skipping blocks it does not know. It returns io.EOF at the
// clean end of the file.
func (r *Reader) Next() (Packet, error) {
	for {
		typ, body, err := r.block()
		if err != nil {
			return Packet{}, err
		}
		switch typ {
		case blockSHB:
			err = r.parseSHB(body)
		case blockIDB:
			err = r.parseIDB(body)
		case blockEPB:
			return r.parseEPB(body)
		}
		if err != nil {
			return Packet{}, err
		}
	}
}

// block reads one whole block and returns its type and the bytes between
// the length field and the trailing length.
func (r *Reader) block() (uint32, []byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:8]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, truncated(err)
	}
	typ := binary.LittleEndian.Uint32(r.hdr[:4]) // the SHB type reads the same either way
	have := 8
	if typ == blockSHB {
		// A section may switch byte order: its magic number says which.
		if _, err := io.ReadFull(r.r, r.hdr[8:12]); err != nil {
			return 0, nil, truncated(err)
		}
		switch {
		case binary.LittleEndian.Uint32(r.hdr[8:]) == byteOrderMagic:
			r.order = binary.LittleEndian
		case binary.BigEndian.Uint32(r.hdr[8:]) == byteOrderMagic:
			r.order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("%w: bad byte-order magic", ErrFormat)
		}
		have = 12
	} else if r.order == nil {
		return 0, nil, fmt.Errorf("%w: block before any section header", ErrFormat)
	} else {
		typ = r.order.Uint32(r.hdr[:4])
	}
	n := int(r.order.Uint32(r.hdr[4:8]))
	if n < 12 || n%4 != 0 || n > maxBlockLen || (typ == blockSHB && n < 28) {
		return 0, nil, fmt.Errorf("%w: block length %d", ErrFormat, n)
	}
	if cap(r.body) < n-8 {
		r.body = make([]byte, n-8)
	}
	body := r.body[:n-8]
	copy(body, r.hdr[8:have])
	if _, err := io.ReadFull(r.r, body[have-8:]); err != nil {
		return 0, nil, truncated(err)
	}
	if int(r.order.Uint32(body[len(body)-4:])) != n {
		return 0, nil, fmt.Errorf("%w: trailing length differs from leading length %d", ErrFormat, n)
	}
	return typ, body[:len(body)-4], nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated block: %w", ErrFormat, io.ErrUnexpectedEOF)
	}
	return err
}

func (r *Reader) parseSHB(b []byte) error {
	// b: magic(4) major(2) minor(2) section length(8) options
	if major := r.order.Uint16(b[4:6]); major != 1 {
		return fmt.Errorf("%w: pcapng version %d", ErrFormat, major)
	}
	r.section = Section{}
	r.ifaces, r.clocks = nil, nil // fresh: callers may hold the old section's slice
	return r.options(b[16:], func(code uint16, v []byte) error {
		switch code {
		case optComment:
			if r.section.Comment == "" {
				r.section.Comment = string(v)
			}
		case optSHBHardware:
			r.section.Hardware = string(v)
		case optSHBOS:
			r.section.OS = string(v)
		case optSHBUserAppl:
			r.section.UserAppl = string(v)
		}
		return nil
	})
}

func (r *Reader) parseIDB(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: interface block too short", ErrFormat)
	}
	ifc := Interface{LinkType: r.order.Uint16(b[0:2]), SnapLen: r.order.Uint32(b[4:8])}
	ck := clock{resol: 6} // the default: microseconds
	err := r.options(b[8:], func(code uint16, v []byte) error {
		switch code {
		case optIfName:
			ifc.Name = string(v)
		case optIfDesc:
			ifc.Description = string(v)
		case optIfTsresol:
			if len(v) != 1 {
				return fmt.Errorf("%w: if_tsresol length %d", ErrFormat, len(v))
			}
			ck.resol = v[0]
		case optIfTsoffset:
			if len(v) != 8 {
				return fmt.Errorf("%w: if_tsoffset length %d", ErrFormat, len(v))
			}
			ck.offset = int64(r.order.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.ifaces = append(r.ifaces, ifc)
	r.clocks = append(r.clocks, ck)
	return nil
}

func (r *Reader) parseEPB(b []byte) (Packet, error) {
	if len(b) < 20 {
		return Packet{}, fmt.Errorf("%w: packet block too short", ErrFormat)
	}
	id := r.order.Uint32(b[0:4])
	if uint64(id) >= uint64(len(r.ifaces)) {
		return Packet{}, fmt.Errorf("%w: packet on undeclared interface %d", ErrFormat, id)
	}
	raw := uint64(r.order.Uint32(b[4:8]))<<32 | uint64(r.order.Uint32(b[8:12]))
	capLen := uint64(r.order.Uint32(b[12:16]))
	if capLen > uint64(len(b)-20) {
		return Packet{}, fmt.Errorf("%w: captured length %d overruns its block", ErrFormat, capLen)
	}
	ts, err := r.clocks[id].nanos(raw)
	if err != nil {
		return Packet{}, err
	}
	p := Packet{
		Interface: int(id),
		Timestamp: ts,
		Data:      append([]byte(nil), b[20:20+capLen]...),
		OrigLen:   int(r.order.Uint32(b[16:20])),
	}
	err = r.options(b[20+pad4(int(capLen)):], func(code uint16, v []byte) error {
		switch code {
		case optComment:
			if p.Comment == "" {
				p.Comment = string(v)
			}
		case optEPBFlags:
			if len(v) != 4 {
				return fmt.Errorf("%w: epb_flags length %d", ErrFormat, len(v))
			}
			p.Flags = r.order.Uint32(v)
			p.Direction = Direction(p.Flags & 3)
		}
		return nil
	})
	if err != nil {
		return Packet{}, err
	}
	return p, nil
}

// options walks an options area, calling fn for each option up to the
// end-of-options marker or the end of the area.
func (r *Reader) options(b []byte, fn func(code uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: %d stray bytes after options", ErrFormat, len(b))
		}
		code, n := r.order.Uint16(b[0:2]), int(r.order.Uint16(b[2:4]))
		if code == optEnd {
			return nil
		}
		if 4+pad4(n) > len(b) {
			return fmt.Errorf("%w: option %d overruns its block", ErrFormat, code)
		}
		if err := fn(code, b[4:4+n]); err != nil {
			return err
		}
		b = b[4+pad4(n):]
	}
	return nil
}

// nanos converts a raw timestamp in the interface's units to nanoseconds
// since the epoch, refusing results that do not fit an int64.
func (c clock) nanos(raw uint64) (int64, error) {
	var ns uint64
	n := uint(c.resol & 0x7F)
	if c.resol&0x80 != 0 { // 2^-n seconds
		hi, lo := bits.Mul64(raw, 1e9)
		if n >= 64 {
			ns, hi = hi>>(n-64), 0
		} else {
			ns, hi = lo>>n|hi<<(64-n), hi>>n
		}
		if hi != 0 {
			return 0, errTimestamp
		}
	} else if n <= 9 { // 10^-n seconds
		mul := pow10(9 - n)
		if raw > math.MaxUint64/mul {
			return 0, errTimestamp
		}
		ns = raw * mul
	} else if n-9 <= 19 {
		ns = raw / pow10(n-9)
	}
	if ns > math.MaxInt64 {
		return 0, errTimestamp
	}
	off := c.offset
	if off > math.MaxInt64/nsPerSec || off < math.MinInt64/nsPerSec {
		return 0, errTimestamp
	}
	sum := int64(ns) + off*nsPerSec
	if off > 0 && sum < int64(ns) {
		return 0, errTimestamp
	}
	return sum, nil
}

const nsPerSec int64 = 1e9

var errTimestamp = fmt.Errorf("%w: timestamp out of range", ErrFormat)

func pow10(n uint) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}
