package afpacket

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/skb"
)

// txBatch bounds the messages of one sendmmsg; maxVecs the vectors of one
// frame, the virtio header included.
const (
	txBatch = 64
	maxVecs = 8
)

// wrState holds one Write call's sendmmsg arrays, reused across calls.
type wrState struct {
	fio  *framedio.FrameIO
	fc   framedio.FlowControl
	n    int
	err  error
	fcev bool
	fn   func(fd uintptr) bool
	hdr  [txBatch][10]byte
	iov  [txBatch][maxVecs]unix.Iovec
	msgs [txBatch]unix.Mmsghdr
}

// Write sends the frames of fio in batches of up to 64 per sendmmsg.
// When the send buffer is full (EAGAIN) it returns what went out and
// ErrWouldBlock, or with Block waits for room. A frame the kernel refuses
// is consumed and counted in TxErrors.
func (p *Port) Write(fio *framedio.FrameIO, fc framedio.FlowControl) (int, error) {
	if err := fio.Check(); err != nil {
		return 0, err
	}
	st := &p.wr
	st.fio, st.fc, st.n, st.err, st.fcev = fio, fc, 0, nil, false
	err := p.rc.Write(st.fn)
	n, e := st.n, st.err
	st.fio = nil
	if err != nil {
		return n, ioErr(err)
	}
	return n, e
}

func (p *Port) writeSome(fd uintptr) bool {
	st := &p.wr
	for st.n < st.fio.Frames() {
		k := 0
		for ; k < txBatch && st.n+k < st.fio.Frames(); k++ {
			p.message(st, k, st.n+k)
		}
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&st.msgs[0])), uintptr(k), unix.MSG_DONTWAIT, 0, 0)
		switch {
		case e == 0:
			for i := 0; i < int(r); i++ {
				p.ctr.TxFrames.Add(1)
				p.ctr.TxBytes.Add(uint64(st.fio.FrameLen(st.n + i)))
			}
			st.n += int(r)
		case e == unix.EINTR:
		case e == unix.EAGAIN || e == unix.ENOBUFS:
			if !st.fcev {
				st.fcev = true
				p.ctr.FlowControl.Add(1)
			}
			if st.fc == framedio.Block && st.n == 0 {
				return false
			}
			if st.fc == framedio.NonBlock {
				st.err = framedio.ErrWouldBlock
			}
			return true
		case e == unix.ENETDOWN || e == unix.ENXIO:
			p.ctr.TxDrops.Add(1) // the host interface is down or gone
			st.n++
		default:
			p.ctr.TxErrors.Add(1) // the first message was refused
			st.n++
		}
	}
	return true
}

// message fills st.msgs[k] for frame i.
func (p *Port) message(st *wrState, k, i int) {
	iov := &st.iov[k]
	n := 0
	if p.vnet {
		var m *framedio.Meta
		if st.fio.Meta != nil {
			m = &st.fio.Meta[i]
		}
		putVnet(st.hdr[k][:], m)
		iov[0] = unix.Iovec{Base: &st.hdr[k][0], Len: 10}
		n = 1
	}
	for _, v := range st.fio.Frame(i) {
		if v.Len > 0 && n < maxVecs {
			iov[n] = unix.Iovec{Base: &v.Buf[0], Len: uint64(v.Len)}
			n++
		}
	}
	st.msgs[k] = unix.Mmsghdr{Hdr: unix.Msghdr{Iov: &iov[0], Iovlen: uint64(n)}}
}

// putVnet encodes a frame's offload state as a virtio_net_hdr.
func putVnet(h []byte, m *framedio.Meta) {
	clear(h)
	if m == nil {
		return
	}
	h[0] = m.Flags & framedio.MetaNeedsCsum
	switch m.GSOType {
	case skb.GSOTCPv4:
		h[1] = 1
	case skb.GSOTCPv6:
		h[1] = 4
	case skb.GSOUDP:
		h[1] = 5
	}
	if h[1] != 0 {
		binary.LittleEndian.PutUint16(h[2:], m.HdrLen)
		binary.LittleEndian.PutUint16(h[4:], m.GSOSize)
	}
	if h[0] != 0 {
		binary.LittleEndian.PutUint16(h[6:], m.CsumStart)
		binary.LittleEndian.PutUint16(h[8:], m.CsumOffset)
	}
}
