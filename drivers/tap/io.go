package tap

import (
	"github.com/usnet/usnet/framedio"
	"golang.org/x/sys/unix"
)

// Read reads up to fio.Frames() frames, one readv each (the header into
// the port, the frame into the caller's vectors), until the kernel has no
// more (EAGAIN). With Block it waits in Go's poller for the first one.
func (p *Port) Read(fio *framedio.FrameIO, fc framedio.FlowControl) (int, error) {
	if err := fio.Check(); err != nil {
		return 0, err
	}
	st := &p.rd
	st.fio, st.fc, st.n, st.err = fio, fc, 0, nil
	err := p.rc.Read(st.fn)
	n, e := st.n, st.err
	st.fio = nil
	if err != nil {
		return n, ioErr(err)
	}
	return n, e
}

// readSome is the poller callback: false asks to wait for readability.
func (p *Port) readSome(fd uintptr) bool {
	st := &p.rd
	for st.n < st.fio.Frames() {
		k := st.iovec(st.n, false)
		r, e := rw(unix.SYS_READV, fd, st.iov[:], k)
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if st.n == 0 && st.fc == framedio.Block {
				return false
			}
			if st.n == 0 {
				st.err = framedio.ErrWouldBlock
			}
			return true
		default:
			st.err = e
			return true
		}
		if r < vnetHdrLen {
			p.ctr.RxErrors.Add(1)
			continue
		}
		flen := r - vnetHdrLen
		if flen > st.fio.Cap(st.n) || flen < 14 {
			// Truncated by too small vectors, or a runt.
			p.ctr.RxErrors.Add(1)
			continue
		}
		m, ok := parseVnetHdr(st.hdr[:])
		if !ok {
			p.ctr.RxErrors.Add(1)
			continue
		}
		rest := flen
		for j := range st.fio.Frame(st.n) {
			v := &st.fio.Vecs[st.n*st.fio.VecsPerFrame+j]
			v.Len = min(len(v.Buf), rest)
			rest -= v.Len
		}
		if st.fio.Meta != nil {
			st.fio.Meta[st.n] = m
		}
		p.ctr.RxFrames.Add(1)
		p.ctr.RxBytes.Add(uint64(flen))
		st.n++
	}
	return true
}

// Write writes the frames of fio, one writev each with its virtio header.
// When the kernel's send buffer is full (EAGAIN) it returns what went out
// and ErrWouldBlock, or with Block waits for room. A frame the kernel
// rejects (a malformed GSO header: EINVAL) is consumed and counted in
// TxErrors; one refused because the host interface is down (EIO) in
// TxDrops.
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
		var m *framedio.Meta
		if st.fio.Meta != nil {
			m = &st.fio.Meta[st.n]
		}
		putVnetHdr(st.hdr[:], m)
		k := st.iovec(st.n, true)
		r, e := rw(unix.SYS_WRITEV, fd, st.iov[:], k)
		switch e {
		case 0:
			p.ctr.TxFrames.Add(1)
			p.ctr.TxBytes.Add(uint64(r - vnetHdrLen))
		case unix.EINTR:
			continue
		case unix.EAGAIN:
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
		case unix.EIO:
			p.ctr.TxDrops.Add(1)
		case unix.EBADFD:
			st.err = framedio.ErrClosed
			return true
		default:
			p.ctr.TxErrors.Add(1)
		}
		st.n++
	}
	return true
}

var _ framedio.Port = (*Port)(nil)
