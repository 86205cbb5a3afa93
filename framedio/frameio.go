package framedio

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
)

// Vec is one vector of a frame (frameio's framevec_t): Buf is the storage,
// its length the capacity (fv_buflen); Len is how many bytes of it the
// frame uses (fv_actlen). A reader sets Len; a writer reads it.
type Vec struct {
	Buf []byte
	Len int
}

// Offload flags of a frame's Meta (VIRTIO_NET_HDR_F_*).
const (
	// MetaNeedsCsum: the L4 checksum is unfinished; the field at
	// CsumStart+CsumOffset holds the pseudo-header sum.
	MetaNeedsCsum uint8 = 1
	// MetaDataValid: the checksum was verified by the sender's side.
	MetaDataValid uint8 = 2
)

// Meta is the offload state of one frame, struct virtio_net_hdr in Go
// terms. Offsets are from the start of the frame (the Ethernet header).
// GSOType uses the skb.GSO* constants; GSOSize is the segment payload
// size, HdrLen the length of the headers in front of the payload.
type Meta struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
}

// FrameIO is a batch of frames (frameio_t). Vecs holds VecsPerFrame
// vectors per frame, so len(Vecs)/VecsPerFrame frames at most. A Read
// fills frames from the first and sets each vector's Len (unused vectors
// of a frame get Len 0); a Write sends frames from the first. Meta, if not
// nil, has one entry per frame and carries offload state both ways; a Port
// that cannot carry it ignores it on write and zeroes it on read.
type FrameIO struct {
	VecsPerFrame int
	Vecs         []Vec
	Meta         []Meta
}

// Frames returns how many frames the vectors describe.
func (f *FrameIO) Frames() int {
	if f.VecsPerFrame <= 0 {
		return 0
	}
	return len(f.Vecs) / f.VecsPerFrame
}

// Frame returns the vectors of frame i.
func (f *FrameIO) Frame(i int) []Vec {
	return f.Vecs[i*f.VecsPerFrame : (i+1)*f.VecsPerFrame]
}

// FrameLen returns the length of frame i: the sum of its vectors' Len.
func (f *FrameIO) FrameLen(i int) int {
	n := 0
	for _, v := range f.Frame(i) {
		n += v.Len
	}
	return n
}

// Cap returns the capacity of frame i's vectors.
func (f *FrameIO) Cap(i int) int {
	n := 0
	for _, v := range f.Frame(i) {
		n += len(v.Buf)
	}
	return n
}

// Scatter copies p into frame i's vectors, setting their Len; it reports
// false (and sets nothing) when p does not fit.
func (f *FrameIO) Scatter(i int, p []byte) bool {
	if len(p) > f.Cap(i) {
		return false
	}
	for k := range f.Frame(i) {
		v := &f.Vecs[i*f.VecsPerFrame+k]
		v.Len = copy(v.Buf, p)
		p = p[v.Len:]
	}
	return true
}

// Gather appends frame i's bytes to dst.
func (f *FrameIO) Gather(dst []byte, i int) []byte {
	for _, v := range f.Frame(i) {
		dst = append(dst, v.Buf[:v.Len]...)
	}
	return dst
}

// check validates the shape of a FrameIO before a Port uses it.
func (f *FrameIO) check() error {
	if f.VecsPerFrame <= 0 || len(f.Vecs)%f.VecsPerFrame != 0 {
		return fmt.Errorf("framedio: %d vectors, %d per frame: %w", len(f.Vecs), f.VecsPerFrame, syscall.EINVAL)
	}
	if f.Meta != nil && len(f.Meta) < f.Frames() {
		return fmt.Errorf("framedio: %d metas for %d frames: %w", len(f.Meta), f.Frames(), syscall.EINVAL)
	}
	return nil
}

// Check is check for Port implementations in other packages.
func (f *FrameIO) Check() error { return f.check() }

// FlowControl is the caller's choice of what a Read or Write does when
// nothing can move.
type FlowControl uint8

const (
	// NonBlock returns ErrWouldBlock (vnd's default).
	NonBlock FlowControl = iota
	// Block waits until at least one frame moves or the port closes.
	Block
)

var (
	// ErrWouldBlock: nothing could move without waiting (EAGAIN).
	ErrWouldBlock = fmt.Errorf("framedio: would block: %w", syscall.EAGAIN)
	// ErrClosed: the port, or its peer, is closed.
	ErrClosed = errors.New("framedio: port closed")
	// ErrFrameTooBig: a frame does not fit in its vectors or the buffer
	// (EMSGSIZE); it was dropped and counted.
	ErrFrameTooBig = fmt.Errorf("framedio: frame too big: %w", syscall.EMSGSIZE)
)

// Buffer bounds, in bytes.
const (
	// DefaultBuf is a port's rxbuf and txbuf until set.
	DefaultBuf = 1 << 20
	// MaxBuf is the enforced maximum (vnd's vnd_max_bufsize).
	MaxBuf = 32 << 20
	// MinBuf is the smallest buffer: one Ethernet frame.
	MinBuf = 1514
)

// CheckBuf validates a buffer size: ERANGE outside [MinBuf, MaxBuf].
func CheckBuf(n int) error {
	if n < MinBuf || n > MaxBuf {
		return fmt.Errorf("framedio: buffer size %d outside [%d, %d]: %w", n, MinBuf, MaxBuf, syscall.ERANGE)
	}
	return nil
}

// Stats are a port's counters. Drops are frames lost inside the port or
// the host below it because a buffer was full (or, for TxErrors and
// RxErrors, because they were malformed); FlowControl counts the calls
// that found no room and returned ErrWouldBlock or waited.
type Stats struct {
	RxFrames, RxBytes  uint64
	TxFrames, TxBytes  uint64
	RxDrops, TxDrops   uint64
	RxErrors, TxErrors uint64
	FlowControl        uint64
}

// Counters is a Stats that goroutines update concurrently.
type Counters struct {
	RxFrames, RxBytes  atomic.Uint64
	TxFrames, TxBytes  atomic.Uint64
	RxDrops, TxDrops   atomic.Uint64
	RxErrors, TxErrors atomic.Uint64
	FlowControl        atomic.Uint64
}

// Snapshot returns the current values.
func (c *Counters) Snapshot() Stats {
	return Stats{
		RxFrames: c.RxFrames.Load(), RxBytes: c.RxBytes.Load(),
		TxFrames: c.TxFrames.Load(), TxBytes: c.TxBytes.Load(),
		RxDrops: c.RxDrops.Load(), TxDrops: c.TxDrops.Load(),
		RxErrors: c.RxErrors.Load(), TxErrors: c.TxErrors.Load(),
		FlowControl: c.FlowControl.Load(),
	}
}

// Info describes a port to the device that bridges it.
type Info struct {
	// Kind is the link kind the device reports ("tun", "afpacket").
	Kind string
	// MaxFrame is the largest frame Read may return, headers included.
	MaxFrame int
	// MTU is the MTU the device should start with.
	MTU int
	// Offload: the port carries Meta both ways (checksum offload and
	// GSO frames up to MaxFrame).
	Offload bool
	// Addr is the MAC the device should use; zero for a random one.
	Addr [6]byte
}

// Port moves batches of frames across usnet's boundary. One goroutine may
// Read while another Writes; two concurrent Reads (or Writes) are not
// allowed. Read returns the number of frames read and Write the number of
// frames consumed from the front of fio (sent, or rejected as malformed
// and counted); with NonBlock they return ErrWouldBlock with what moved
// when the buffer runs out.
type Port interface {
	Read(fio *FrameIO, fc FlowControl) (int, error)
	Write(fio *FrameIO, fc FlowControl) (int, error)
	// SetBufs sets rxbuf and txbuf in bytes (0 leaves one unchanged).
	SetBufs(rx, tx int) error
	// Bufs returns rxbuf and txbuf.
	Bufs() (rx, tx int)
	Stats() Stats
	Info() Info
	// Close ends the port: blocked calls return ErrClosed. Idempotent.
	Close() error
}
