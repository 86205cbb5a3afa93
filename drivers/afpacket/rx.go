package afpacket

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/framedio"
	"github.com/usnet/usnet/skb"
)

// rdState is the reader's position in the ring and the current call.
type rdState struct {
	fio   *framedio.FrameIO
	fc    framedio.FlowControl
	n     int
	err   error
	fn    func(fd uintptr) bool
	cur   int  // current block
	open  bool // cur is being consumed
	left  int  // frames left in cur
	off   int  // offset of the next frame in cur
	parts [3][]byte
}

// Read copies up to fio.Frames() frames out of the ring, releasing each
// block as soon as its last frame is taken. With Block it waits in Go's
// poller until the kernel retires a block.
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

func (p *Port) readSome(fd uintptr) bool {
	st := &p.rd
	r := &p.r
	for st.n < st.fio.Frames() {
		b := r.block(st.cur)
		if !st.open {
			if r.status(b)&unix.TP_STATUS_USER == 0 {
				// Ring empty: learn what the kernel dropped meanwhile.
				p.fetchDrops(int(fd))
				if st.n > 0 {
					return true
				}
				if st.fc == framedio.Block {
					return false
				}
				st.err = framedio.ErrWouldBlock
				return true
			}
			st.open, st.left, st.off = true, int(le32(b, offNumPkts)), int(le32(b, offFirstPkt))
		}
		if st.left > 0 {
			p.frame(b, st)
			st.left--
		}
		if st.left == 0 {
			r.release(b)
			st.open = false
			st.cur = (st.cur + 1) % r.blocks
		}
	}
	return true
}

// frame takes the frame at st.off in block b into the caller's vectors.
func (p *Port) frame(b []byte, st *rdState) {
	h := st.off
	if h < 0 || h+48 > len(b) {
		st.left = 1 // corrupt block: skip the rest of it
		p.ctr.RxErrors.Add(1)
		return
	}
	snap, flen := int(le32(b, h+offSnaplen)), int(le32(b, h+offLen))
	status := le32(b, h+offStatus)
	mac := h + int(le16(b, h+offMac))
	if next := int(le32(b, h+offNext)); next > 0 {
		st.off += next
	}
	if snap < flen || snap < 14 || mac+snap > len(b) || mac < h {
		p.ctr.RxErrors.Add(1) // truncated: bigger than a block
		return
	}
	data := b[mac : mac+snap]
	var m framedio.Meta
	if p.vnet && mac-h >= 10 {
		m = vnetMeta(b[mac-10 : mac])
	}
	// The kernel took the 802.1Q tag out of the frame (VLAN
	// acceleration); put it back where it was.
	parts := st.parts[:1]
	parts[0] = data
	var tag [4]byte
	if status&unix.TP_STATUS_VLAN_VALID != 0 {
		tpid := le16(b, h+offTPID)
		if status&unix.TP_STATUS_VLAN_TPID_VALID == 0 || tpid == 0 {
			tpid = 0x8100
		}
		binary.BigEndian.PutUint16(tag[0:], tpid)
		binary.BigEndian.PutUint16(tag[2:], uint16(le32(b, h+offVlanTCI)))
		parts = st.parts[:3]
		parts[0], parts[1], parts[2] = data[:12], tag[:], data[12:]
		if m.Flags&framedio.MetaNeedsCsum != 0 {
			m.CsumStart += 4
		}
		if m.HdrLen != 0 {
			m.HdrLen += 4
		}
	}
	if !scatter(st.fio, st.n, parts) {
		p.ctr.RxErrors.Add(1)
		return
	}
	if st.fio.Meta != nil {
		st.fio.Meta[st.n] = m
	}
	p.ctr.RxFrames.Add(1)
	p.ctr.RxBytes.Add(uint64(st.fio.FrameLen(st.n)))
	st.n++
}

// scatter copies the parts of one frame into frame i's vectors.
func scatter(fio *framedio.FrameIO, i int, parts [][]byte) bool {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	if total > fio.Cap(i) {
		return false
	}
	vs := fio.Vecs[i*fio.VecsPerFrame : (i+1)*fio.VecsPerFrame]
	for k := range vs {
		vs[k].Len = 0
	}
	k := 0
	for _, p := range parts {
		for len(p) > 0 {
			v := &vs[k]
			c := copy(v.Buf[v.Len:], p)
			v.Len += c
			p = p[c:]
			if v.Len == len(v.Buf) {
				k++
			}
		}
	}
	return true
}

// fetchDrops adds the kernel's count of frames it dropped for want of
// ring space (reading PACKET_STATISTICS resets it).
func (p *Port) fetchDrops(fd int) {
	s, err := unix.GetsockoptTpacketStatsV3(fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err == nil && s.Drops > 0 {
		p.ctr.RxDrops.Add(uint64(s.Drops))
	}
}

// vnetMeta decodes the virtio_net_hdr the kernel put in front of a frame.
func vnetMeta(h []byte) framedio.Meta {
	m := framedio.Meta{
		Flags:      h[0] & (framedio.MetaNeedsCsum | framedio.MetaDataValid),
		HdrLen:     binary.LittleEndian.Uint16(h[2:]),
		GSOSize:    binary.LittleEndian.Uint16(h[4:]),
		CsumStart:  binary.LittleEndian.Uint16(h[6:]),
		CsumOffset: binary.LittleEndian.Uint16(h[8:]),
	}
	switch h[1] &^ 0x80 {
	case 1:
		m.GSOType = skb.GSOTCPv4
	case 4:
		m.GSOType = skb.GSOTCPv6
	case 5:
		m.GSOType = skb.GSOUDP
	default:
		m.GSOSize = 0
	}
	return m
}
