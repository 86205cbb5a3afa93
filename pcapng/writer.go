package pcapng

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

var le = binary.LittleEndian

// flushAt is how much the writer gathers before one Write to the
// underlying writer: big enough that a capture costs few system calls,
// small enough to keep memory flat.
const flushAt = 64 << 10

// Options describe the section a Writer starts.
type Options struct {
	// UserAppl is written as shb_userappl (for example "usnet"); empty
	// omits it. Nothing else about the machine goes into the file, so
	// identical calls give identical bytes.
	UserAppl string
	// Comment is the section's opt_comment; empty omits it.
	Comment string
}

// Interface describes one capturing device.
type Interface struct {
	Name        string // if_name, e.g. "veth0"; empty omits it
	Description string // if_description; empty omits it
	LinkType    uint16 // LinkTypeEthernet, LinkTypeNull, LinkTypeRaw, ...
	SnapLen     uint32 // largest captured length; 0 means no limit
}

// Writer encodes a pcapng section. It buffers blocks and hands them to
// the underlying writer in large pieces; call Flush or Close to push out
// the rest. A Writer is not safe for concurrent use. After a write error
// every call returns that error.
type Writer struct {
	out     io.Writer
	buf     []byte
	snaplen []uint32 // per interface id
	err     error
	closed  bool
}

// NewWriter starts a section on out: it buffers the Section Header Block
// (nothing is written until Flush, Close or enough packets).
func NewWriter(out io.Writer, opts Options) (*Writer, error) {
	if !checkString(opts.UserAppl) || !checkString(opts.Comment) {
		return nil, fmt.Errorf("%w: section option not UTF-8 or longer than %d bytes", ErrFormat, maxOptLen)
	}
	w := &Writer{out: out, buf: make([]byte, 0, flushAt+4096)}
	b := w.buf
	start := len(b)
	b = le.AppendUint32(b, blockSHB)
	b = le.AppendUint32(b, 0) // total length, patched by endBlock
	b = le.AppendUint32(b, byteOrderMagic)
	b = le.AppendUint16(b, 1)              // major version
	b = le.AppendUint16(b, 0)              // minor version
	b = le.AppendUint64(b, math.MaxUint64) // section length: not known in advance
	n := len(b)
	b = appendOptString(b, optComment, opts.Comment)
	b = appendOptString(b, optSHBUserAppl, opts.UserAppl)
	w.buf = endBlock(b, start, len(b) > n)
	return w, nil
}

// AddInterface writes an Interface Description Block and returns the id
// that WritePacket takes for it. Ids count from 0 in the order added.
func (w *Writer) AddInterface(ifc Interface) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if !checkString(ifc.Name) || !checkString(ifc.Description) {
		return 0, fmt.Errorf("%w: interface name or description not UTF-8 or longer than %d bytes", ErrFormat, maxOptLen)
	}
	b := w.buf
	start := len(b)
	b = le.AppendUint32(b, blockIDB)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, ifc.LinkType)
	b = le.AppendUint16(b, 0) // reserved
	b = le.AppendUint32(b, ifc.SnapLen)
	b = appendOptString(b, optIfName, ifc.Name)
	b = appendOptString(b, optIfDesc, ifc.Description)
	b = le.AppendUint16(b, optIfTsresol)
	b = le.AppendUint16(b, 1)
	b = append(b, tsresolNanos, 0, 0, 0)
	w.buf = endBlock(b, start, true)
	w.snaplen = append(w.snaplen, ifc.SnapLen)
	return len(w.snaplen) - 1, w.maybeFlush()
}

// WritePacket writes an Enhanced Packet Block: data captured on
// interface id at tsNanos (nanoseconds since the Unix epoch, on whatever
// clock the caller keeps), origLen bytes long on the wire, travelling in
// direction dir, with an optional comment. data may be shorter than
// origLen (truncated to the snaplen) but not longer. It does not
// allocate and does not keep data.
func (w *Writer) WritePacket(id int, tsNanos int64, data []byte, origLen int, dir Direction, comment string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if id < 0 || id >= len(w.snaplen) {
		return fmt.Errorf("pcapng: no interface %d (have %d)", id, len(w.snaplen))
	}
	switch {
	case tsNanos < 0:
		return fmt.Errorf("%w: timestamp %d before the epoch", ErrFormat, tsNanos)
	case len(data) > MaxCapLen:
		return fmt.Errorf("%w: captured length %d over %d", ErrFormat, len(data), MaxCapLen)
	case snap(w.snaplen[id]) < len(data):
		return fmt.Errorf("%w: captured length %d over interface snaplen %d", ErrFormat, len(data), w.snaplen[id])
	case origLen < len(data) || uint64(origLen) > math.MaxUint32:
		return fmt.Errorf("%w: original length %d with %d bytes captured", ErrFormat, origLen, len(data))
	case dir > Outbound:
		return fmt.Errorf("%w: direction %d", ErrFormat, dir)
	case comment != "" && !checkString(comment):
		return fmt.Errorf("%w: comment not UTF-8 or longer than %d bytes", ErrFormat, maxOptLen)
	}
	b := w.buf
	start := len(b)
	b = le.AppendUint32(b, blockEPB)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(id))
	b = le.AppendUint32(b, uint32(uint64(tsNanos)>>32))
	b = le.AppendUint32(b, uint32(tsNanos))
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint32(b, uint32(origLen))
	b = append(b, data...)
	b = appendZeros(b, pad4(len(data))-len(data))
	n := len(b)
	b = appendOptString(b, optComment, comment)
	if dir != DirUnknown {
		b = le.AppendUint16(b, optEPBFlags)
		b = le.AppendUint16(b, 4)
		b = le.AppendUint32(b, uint32(dir))
	}
	w.buf = endBlock(b, start, len(b) > n)
	return w.maybeFlush()
}

// Flush writes everything buffered to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.out.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// Close flushes and retires the writer. It does not close the
// underlying writer, which belongs to the caller.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	return err
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

func (w *Writer) maybeFlush() error {
	if len(w.buf) < flushAt {
		return nil
	}
	return w.Flush()
}

// snap is an interface's snaplen as a bound on captured length.
func snap(s uint32) int {
	if s == 0 {
		return MaxCapLen
	}
	return int(s)
}

// endBlock closes the block that began at start: the end-of-options
// marker if it has options, the trailing length, and the length field
// after the block type.
func endBlock(b []byte, start int, hasOpts bool) []byte {
	if hasOpts {
		b = le.AppendUint32(b, optEnd) // code 0, length 0
	}
	b = le.AppendUint32(b, uint32(len(b)+4-start))
	le.PutUint32(b[start+4:], uint32(len(b)-start))
	return b
}

// appendOptString appends a string option padded to 4 bytes, or nothing
// for an empty string. The caller has checked the length.
func appendOptString(b []byte, code uint16, s string) []byte {
	if s == "" {
		return b
	}
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(s)))
	b = append(b, s...)
	return appendZeros(b, pad4(len(s))-len(s))
}

func appendZeros(b []byte, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	return b
}
