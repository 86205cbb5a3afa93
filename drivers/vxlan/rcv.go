package vxlan

import (
	"encoding/binary"
	"net/netip"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

type skbBuf = skb.Buf

// rcv is the tunnel socket's receiver (vxlan_rcv): b starts at the VXLAN
// header. Checks the header, finds the device by VNI, learns the inner
// source, strips the header and queues the inner frame on the device's
// NAPI.
func (vn *Net) rcv(s *sock, b *skb.Buf, from, to netip.AddrPort, lower *netdev.Device) {
	data := b.Bytes()
	if len(data) < HdrLen+14 {
		b.Free()
		return
	}
	flags := binary.BigEndian.Uint32(data[0:])
	word := binary.BigEndian.Uint32(data[4:])
	v := s.vnis[word>>8]
	if v == nil {
		b.Free()
		return
	}
	if flags != flagI || word&0xff != 0 {
		// Reserved bits set, or no I flag (vxlan_rcv drops these
		// unless an extension claims them).
		v.Stats.RxBadHeader++
		v.dev.Stats.RxFrameErrors++
		v.dev.Stats.RxErrors++
		b.Free()
		return
	}
	if !v.dev.IsUp() {
		v.dev.Stats.RxDropped++
		b.Free()
		return
	}
	b.Pull(HdrLen)
	inner := b.Bytes()
	src := [6]byte(inner[6:12])
	if src == v.dev.Addr() {
		// Our own frame came back (vxlan_set_mac: loop).
		v.Stats.RxLoop++
		v.dev.Stats.RxDropped++
		b.Free()
		return
	}
	if v.cfg.Learning && !isMulticast(src) && src != ZeroMAC {
		v.learn(src, from.Addr(), lower.Ifindex())
	}
	// An unfinished checksum inside the inner packet (a sender's
	// offload: the kernel's vxlan over TAP leaves the inner TCP checksum
	// to the device) travels on, as it does between in-process stacks;
	// any other verdict was about the outer packet only.
	if b.Csum != skb.CsumPartial || b.CsumStart < b.Pos() {
		b.Csum = skb.CsumNone
	}
	b.GSOSize, b.GSOType = 0, 0
	b.L3, b.L4 = -1, -1
	bt := v.rx
	bt.Add(b)
	if n := v.napi.Enqueue(bt); n > 0 {
		v.dev.Stats.RxDropped += uint64(n)
	}
}
