package ipv4

import (
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// SendOpts describe a locally generated datagram.
type SendOpts struct {
	TOS  uint8
	TTL  uint8 // 0: net.ipv4.ip_default_ttl
	DF   bool
	Mark uint32
}

// RouteOutput looks up the route for locally generated traffic
// (ip_route_output_key) and fills in the source when the key has none.
func (l *Layer) RouteOutput(k *FlowKey) (Route, error) {
	if l.router == nil {
		return Route{}, syscall.ENETUNREACH
	}
	rt, err := l.router.RouteOutput(k)
	if err != nil {
		return rt, err
	}
	switch rt.Type {
	case unix.RTN_UNICAST, unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_MULTICAST:
	default:
		return rt, fmt.Errorf("route type %d: %w", rt.Type, syscall.ENETUNREACH)
	}
	if !rt.Src.IsValid() {
		if k.Src.IsValid() {
			rt.Src = k.Src
		} else {
			rt.Src = l.SelectSource(rt.Dev, k.Dst, rt.Scope)
		}
	}
	return rt, nil
}

// NextID returns an IP identification value (ip_select_ident): one
// namespace-wide counter, started at a random value.
func (l *Layer) NextID() uint16 {
	l.ident++
	return uint16(l.ident)
}

// Output sends a transport datagram: b starts at the transport header and
// has headroom for the IP and link headers (ip_queue_xmit /
// ip_build_and_send_pkt). It takes ownership of b. EMSGSIZE reports a DF
// datagram larger than the path MTU (unless it is a GSO super-packet).
func (l *Layer) Output(b *skb.Buf, src, dst netip.Addr, proto uint8, rt *Route, o SendOpts) error {
	ttl := o.TTL
	if ttl == 0 {
		ttl = l.Sysctl.DefaultTTL
	}
	var frag uint16
	if o.DF {
		frag = flagDF
	}
	h := b.Push(hdrLen)
	if h == nil {
		if !b.Expand(hdrLen+skb.DefaultHeadroom, 0) {
			b.Free()
			l.Stats.OutDiscards++
			return syscall.ENOBUFS
		}
		h = b.Push(hdrLen)
	}
	b.SetL3()
	b.Protocol = 0x0800
	b.Mark = o.Mark
	fillHeader(h, o.TOS, b.Len(), l.NextID(), frag, ttl, proto, src, dst)
	l.Stats.OutRequests++
	if o.DF && b.Len() > rt.mtu() && b.GSOSize == 0 {
		l.Stats.FragFails++
		b.Free()
		return syscall.EMSGSIZE
	}
	l.finishOutput(b, rt, dst)
	return nil
}

// OutputRaw sends a datagram that already has its IP header (forwarded
// packets, ICMP errors built here).
func (l *Layer) OutputRaw(b *skb.Buf, rt *Route) {
	l.finishOutput(b, rt, hdr(b.Bytes()).dst())
}

// finishOutput is ip_finish_output: fragment when needed, then the
// neighbour layer, into the device's pending batch.
func (l *Layer) finishOutput(b *skb.Buf, rt *Route, dst netip.Addr) {
	dev := rt.Dev
	if dev == nil || !dev.IsUp() {
		l.Stats.OutDiscards++
		b.Free()
		return
	}
	mtu := rt.mtu()
	if b.Len() > mtu {
		if b.GSOSize > 0 {
			if f := dev.Features(); f.GSOMaxSize >= b.Len() {
				l.neighOutput(b, rt, dst)
				return
			}
			if l.Segment != nil {
				l.Segment(b, mtu, func(seg *skb.Buf) { l.neighOutput(seg, rt, dst) })
				return
			}
			l.Stats.OutDiscards++
			b.Free()
			return
		}
		l.fragment(b, mtu, rt, dst)
		return
	}
	l.neighOutput(b, rt, dst)
}

func (l *Layer) neighOutput(b *skb.Buf, rt *Route, dst netip.Addr) {
	l.Stats.OutTransmits++
	dev := rt.Dev
	bt := l.pending[dev]
	if bt == nil {
		bt = skb.NewBatch(64)
		l.pending[dev] = bt
	}
	if bt.Len() == 0 {
		l.pendingList = append(l.pendingList, dev)
	}
	if l.neigh == nil {
		l.Stats.OutDiscards++
		b.Free()
		return
	}
	l.neigh.Output(dev, rt.NextHop(dst), b, bt)
	if !l.flush.Pending() {
		l.exec.Kick(l.flush)
	}
}

// flushPending hands each device its batch once per executor event.
//
// A device's Xmit may send IP output again (a tunnel device encapsulates
// and routes the outer packet; an L3 upper device hands its packets on),
// which queues onto a fresh list: the list being walked is kept apart,
// and the new one is sent in the next round. Rounds are bounded; output
// left after them goes out on the next executor event (the flush timer
// neighOutput kicked).
func (l *Layer) flushPending() {
	for round := 0; round < 8 && len(l.pendingList) > 0; round++ {
		list := l.pendingList
		l.pendingList = l.pendingSpare[:0]
		for _, d := range list {
			if bt := l.pending[d]; bt != nil && bt.Len() > 0 {
				d.Xmit(bt)
			}
		}
		l.pendingSpare = list[:0]
	}
}

// Flush sends pending output now (tests and callers that need the frames
// out before returning).
func (l *Layer) Flush() { l.flushPending() }

// fragment is ip_do_fragment: split b into fragments whose payload is a
// multiple of 8 bytes and that fit mtu. A DF datagram is refused with an
// ICMP frag-needed to its source (forwarding checks this earlier; local
// senders get EMSGSIZE).
func (l *Layer) fragment(b *skb.Buf, mtu int, rt *Route, dst netip.Addr) {
	h := hdr(b.Bytes())
	if h.fragOff()&flagDF != 0 {
		l.Stats.FragFails++
		b.Free()
		return
	}
	if b.Csum == skb.CsumPartial {
		// Fragments cannot carry an unfinished checksum (skb_checksum_help).
		if !b.Unshare() {
			l.Stats.FragFails++
			b.Free()
			return
		}
		frame := b.Bytes()
		netdev.CompleteChecksum(frame, int(b.CsumStart-b.Pos()), int(b.CsumOffset))
		b.Csum = skb.CsumNone
		h = hdr(frame)
	}
	ihl := h.ihl()
	per := (mtu - ihl) &^ 7
	if per < 8 {
		l.Stats.FragFails++
		b.Free()
		return
	}
	data := b.Bytes()
	payload := data[ihl:]
	baseOff := int(h.fragOff()&offMask) * 8
	moreAfter := h.fragOff()&flagMF != 0
	for off := 0; off < len(payload); off += per {
		n := min(per, len(payload)-off)
		f := l.pool.Get(skb.DefaultHeadroom, ihl+n)
		if f == nil {
			l.Stats.FragFails++
			break
		}
		f.Mark, f.Priority, f.Protocol = b.Mark, b.Priority, b.Protocol
		fh := f.Put(ihl)
		copy(fh, data[:ihl])
		f.Append(payload[off : off+n])
		f.SetL3()
		fo := uint16((baseOff + off) / 8)
		if off+n < len(payload) || moreAfter {
			fo |= flagMF
		}
		fo |= h.fragOff() & flagDF
		hf := hdr(f.Bytes())
		hf[2], hf[3] = byte((ihl+n)>>8), byte(ihl+n)
		hf[6], hf[7] = byte(fo>>8), byte(fo)
		hf.setChecksum()
		l.Stats.FragCreates++
		l.neighOutput(f, rt, dst)
	}
	l.Stats.FragOKs++
	b.Free()
}

// SegmentFunc splits a GSO super-packet into MTU-sized packets for a device
// that cannot take it (skb_gso_segment); the transport layer provides it.
type SegmentFunc func(b *skb.Buf, mtu int, out func(*skb.Buf))
