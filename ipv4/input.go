package ipv4

import (
	"errors"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// rcv is the EtherType 0x0800 handler (ip_rcv + ip_rcv_finish), per batch.
//
// Packets of one flow arrive back to back in a batch, so the input route
// of the previous packet is kept for the rest of the batch and reused
// when the next packet's flow key is the same (the listified receive of
// ip_list_rcv_finish, which hands same-route sublists on together). The
// reuse never outlives the batch: configuration changes run on the
// executor too, so they cannot happen in between. The same holds for the
// device's effective configuration (rxConf).
func (l *Layer) rcv(dev *netdev.Device, bt *skb.Batch) {
	l.batchRT.valid = false
	l.rxConf.valid = false
	for _, b := range bt.Bufs() {
		l.rcvOne(dev, b)
	}
	l.batchRT.valid = false
	l.rxConf.valid = false
	bt.Reset()
}

// rxConf is the effective configuration (conf.all combined with the
// device's own) of the device a batch arrives on, computed once per
// batch: Linux reads a device's in_device settings directly on every
// packet, which here would be a map lookup and the combination of two
// configurations per packet. Effective and Forwarding answer from it
// while it is valid; it is dropped at the end of the batch, by Conf
// (whose pointer may be written through), SetForwarding and local
// delivery (which runs protocol code).
type rxConf struct {
	valid   bool
	ifindex int
	c       DevConf
}

// inConf returns dev's effective configuration for the batch being
// received.
func (l *Layer) inConf(dev *netdev.Device) *DevConf {
	c := &l.rxConf
	if !c.valid || c.ifindex != dev.Ifindex() {
		c.c, c.ifindex, c.valid = effective(l.All, *l.conf1(dev.Ifindex())), dev.Ifindex(), true
	}
	return &c.c
}

// batchRoute is the input route of the previous packet of a batch.
type batchRoute struct {
	valid bool
	key   FlowKey
	rt    Route
	err   error
}

// routeInput is the input route lookup for l.key, reusing the previous
// packet's answer within a batch. The route is the batch's copy: it
// stays valid until the next routeInput, which cannot happen while this
// packet is handled (nothing receives synchronously from inside output).
func (l *Layer) routeInput(dev *netdev.Device) (*Route, error) {
	c := &l.batchRT
	if c.valid && sameFlow(&c.key, &l.key) {
		return &c.rt, c.err
	}
	c.key = l.key
	c.err = l.router.RouteInput(&c.key, dev, &c.rt)
	c.valid = true
	return &c.rt, c.err
}

// sameFlow is a == b, comparing first the fields that tell flows apart
// (the generated comparison runs memequal over the whole key). Keep it in
// step with FlowKey: TestSameFlow checks every field.
func sameFlow(a, b *FlowKey) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.Iif == b.Iif && a.Oif == b.Oif && a.Mark == b.Mark &&
		a.TOS == b.TOS && a.Proto == b.Proto && a.Sport == b.Sport && a.Dport == b.Dport
}

// validate checks the header as ip_rcv_core does, trims link padding and
// returns the header, or nil after counting and freeing b.
func (l *Layer) validate(b *skb.Buf) hdr {
	data := b.Bytes()
	if len(data) < hdrLen || data[0]>>4 != 4 || data[0]&0x0f < 5 {
		l.Stats.InHdrErrors++
		b.Free()
		return nil
	}
	h := hdr(data)
	ihl := h.ihl()
	if len(data) < ihl || Checksum(data[:ihl]) != 0 {
		l.Stats.InHdrErrors++
		b.Free()
		return nil
	}
	tot := h.totLen()
	if tot > len(data) {
		l.Stats.InTruncatedPkts++
		b.Free()
		return nil
	}
	if tot < ihl {
		l.Stats.InHdrErrors++
		b.Free()
		return nil
	}
	b.Trim(tot)
	return hdr(b.Bytes())
}

func (l *Layer) rcvOne(dev *netdev.Device, b *skb.Buf) {
	l.Stats.InReceives++
	h := l.validate(b)
	if h == nil {
		return
	}
	b.SetL3()
	if h.ihl() > hdrLen {
		if off := checkOptions(h[hdrLen:h.ihl()]); off >= 0 {
			l.Stats.InHdrErrors++
			l.icmpSend(b, dev, icmpParamProb, 0, uint32(off)<<24)
			b.Free()
			return
		}
	}
	src, dst := h.src(), h.dst()
	if isMartianSource(src, dev) {
		l.Stats.InMartians++
		b.Free()
		return
	}
	var rt *Route
	var typ uint8
	var err error
	switch {
	case dst == limitedBroadcast:
		typ = unix.RTN_BROADCAST
	case dst.IsMulticast():
		typ = unix.RTN_MULTICAST
	case dst.As4()[0] == 0 || (dst.IsLoopback() && dev.Flags()&netdev.FlagLoopback == 0):
		l.Stats.InMartians++ // martian destination
		b.Free()
		return
	default:
		// Field by field rather than a composite literal, which the
		// compiler builds in a temporary and copies (see fib's input).
		k := &l.key
		k.Dst, k.Src, k.Oif, k.Iif, k.Mark = dst, src, 0, dev.Ifindex(), b.Mark
		k.TOS, k.Proto, k.Sport, k.Dport = h.tos(), h.proto(), 0, 0
		if l.router == nil {
			err = syscall.ENETUNREACH
		} else if l.earlyDemux(h, dev) {
			typ = unix.RTN_LOCAL
		} else {
			rt, err = l.routeInput(dev)
			typ = rt.Type
		}
	}
	if err != nil {
		l.inputError(b, dev, err)
		return
	}
	switch typ {
	case unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_MULTICAST:
		l.localDeliver(b, dev, typ != unix.RTN_LOCAL)
	case unix.RTN_UNICAST:
		l.forward(b, dev, rt)
	default:
		l.Stats.InAddrErrors++
		b.Free()
	}
}

// earlyDemux is ip_rcv_finish_core's early demux: an established TCP
// socket that received this flow on dev under the current route
// generation saves the input route lookup (whose answer could only be
// the same local route). Fragments take the lookup.
func (l *Layer) earlyDemux(h hdr, dev *netdev.Device) bool {
	if l.demux == nil || h.proto() != 6 || !l.Sysctl.TCPEarlyDemux || h.isFragment() {
		return false
	}
	gen, ok := l.RouteGen()
	return ok && l.demux(h, dev.Ifindex(), gen)
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// isMartianSource rejects sources no host may use (ip_route_input_slow):
// multicast, limited broadcast, 0/8 (except for the unspecified 0.0.0.0 of
// DHCP, allowed) and 127/8 arriving on a non-loopback device
// (route_localnet off).
func isMartianSource(src netip.Addr, dev *netdev.Device) bool {
	if src.IsMulticast() || src == limitedBroadcast {
		return true
	}
	a := src.As4()
	if a[0] == 0 && src != netip.AddrFrom4([4]byte{}) {
		return true
	}
	return a[0] == 127 && dev.Flags()&netdev.FlagLoopback == 0
}

// inputError is ip_error: routing failed for a received packet.
func (l *Layer) inputError(b *skb.Buf, dev *netdev.Device, err error) {
	var code uint8 = 255
	switch {
	case errors.Is(err, syscall.EHOSTUNREACH):
		l.Stats.InAddrErrors++
		code = icmpHostUnreach
	case errors.Is(err, syscall.ENETUNREACH):
		l.Stats.InAddrErrors++
		code = icmpNetUnreach
	case errors.Is(err, syscall.EACCES):
		code = icmpPktFiltered
	case errors.Is(err, syscall.EXDEV):
		l.Stats.InMartians++ // rp_filter
	default: // blackhole and the rest: silent
		l.Stats.InDiscards++
	}
	if code != 255 && l.inConf(dev).Forwarding {
		l.icmpSend(b, dev, icmpDestUnreach, code, 0)
	}
	b.Free()
}

// localDeliver is ip_local_deliver: reassemble, then hand the payload to
// the transport protocol (ip_protocol_deliver_rcu).
func (l *Layer) localDeliver(b *skb.Buf, dev *netdev.Device, bcast bool) {
	// A delivered packet may change routing state (an ICMP frag-needed
	// adds a PMTU exception): later packets of the batch look up afresh.
	l.batchRT.valid = false
	l.rxConf.valid = false
	h := hdr(b.Bytes())
	if h.isFragment() {
		b = l.frags.add(b, dev)
		if b == nil {
			return
		}
		h = hdr(b.Bytes())
	}
	src, dst, proto := h.src(), h.dst(), h.proto()
	b.Pull(h.ihl())
	b.SetL4()
	handler := l.handler(proto)
	if handler == nil {
		l.Stats.InUnknownProtos++
		if !bcast {
			b.Push(h.ihl())
			l.icmpSend(b, dev, icmpDestUnreach, icmpProtUnreach, 0)
		}
		b.Free()
		return
	}
	l.Stats.InDelivers++
	handler.Receive(b, src, dst, dev)
}

// forward is ip_forward: TTL, MTU, redirects, then output.
func (l *Layer) forward(b *skb.Buf, dev *netdev.Device, rt *Route) {
	conf := l.inConf(dev)
	if !conf.Forwarding {
		l.Stats.InAddrErrors++
		b.Free()
		return
	}
	if b.PktType != skb.PacketHost {
		l.Stats.InDiscards++
		b.Free()
		return
	}
	h := hdr(b.Bytes())
	if h.ttl() <= 1 {
		l.icmpSend(b, dev, icmpTimeExceeded, 0, 0)
		l.Stats.InHdrErrors++
		b.Free()
		return
	}
	mtu := rt.mtu()
	if h.totLen() > mtu && h.fragOff()&flagDF != 0 && (b.GSOSize == 0 || gsoSegLen(h, b) > mtu) {
		l.Stats.FragFails++
		l.icmpSend(b, dev, icmpDestUnreach, icmpFragNeeded, uint32(mtu))
		b.Free()
		return
	}
	if !b.Unshare() {
		l.Stats.OutDiscards++
		b.Free()
		return
	}
	h = hdr(b.Bytes())
	h.decTTL()
	if rt.Dev == dev && conf.SendRedirects && rt.Gateway.IsValid() {
		l.maybeRedirect(b, dev, rt)
	}
	l.Stats.ForwDatagrams++
	l.finishOutput(b, rt, h.dst())
}

// gsoSegLen is the network length of each segment a GSO packet stands
// for: IP header, transport header and gso_size (skb_gso_network_seglen).
// A forwarded super-packet fits the MTU when its segments do
// (ip_exceeds_mtu); when they do not and DF is set, the sender learns the
// MTU as for any other packet.
func gsoSegLen(h hdr, b *skb.Buf) int {
	n := h.ihl() + int(b.GSOSize)
	switch t := []byte(h)[h.ihl():]; {
	case h.proto() == 6 && len(t) >= 13:
		n += int(t[12]>>4) * 4
	case h.proto() == 17:
		n += 8
	}
	return n
}

// mtu returns the route's effective MTU.
func (r *Route) mtu() int {
	if r.MTU > 0 && r.MTU < r.Dev.MTU() {
		return r.MTU
	}
	return r.Dev.MTU()
}
