package vxlan

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/usnet/usnet/ipv4"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// ring is a bounded FIFO of frames waiting for encapsulation (the
// device's txqueuelen).
type ring struct {
	buf  []*skb.Buf
	r, n int
}

func (q *ring) init(n int) {
	if n <= 0 {
		n = 1000
	}
	q.buf = make([]*skb.Buf, n)
}

func (q *ring) push(b *skb.Buf) bool {
	if q.n == len(q.buf) {
		return false
	}
	q.buf[(q.r+q.n)%len(q.buf)] = b
	q.n++
	return true
}

func (q *ring) pop() *skb.Buf {
	if q.n == 0 {
		return nil
	}
	b := q.buf[q.r]
	q.buf[q.r] = nil
	q.r = (q.r + 1) % len(q.buf)
	q.n--
	return b
}

func (q *ring) purge() {
	for b := q.pop(); b != nil; b = q.pop() {
		b.Free()
	}
}

// Xmit queues the frames and schedules their encapsulation for the next
// executor event: the IP output it calls must not run inside the IP
// layer's own flush of this device's batch.
func (v *Dev) Xmit(d *netdev.Device, bt *skb.Batch) {
	for _, b := range bt.Bufs() {
		if !v.txq.push(b) {
			v.Stats.TxQueueFull++
			d.Stats.TxDropped++
			b.Free()
		}
	}
	bt.Reset()
	if v.txq.n > 0 && !v.txRun.Pending() {
		v.dev.Table().Net().Exec().Kick(v.txRun)
	}
}

// xmitQueued is vxlan_xmit for each queued frame: FDB lookup of the inner
// destination, then one encapsulated copy per destination.
func (v *Dev) xmitQueued() {
	for b := v.txq.pop(); b != nil; b = v.txq.pop() {
		v.xmitOne(b)
	}
	v.vn.ip.Flush()
}

func (v *Dev) xmitOne(b *skb.Buf) {
	d := v.dev
	data := b.Bytes()
	if len(data) < 14 {
		d.Stats.TxErrors++
		b.Free()
		return
	}
	if b.Csum == skb.CsumPartial {
		// The outer checksum covers the inner packet: finish it now
		// (skb_checksum_help; Linux would use local checksum offload).
		if !b.Unshare() {
			d.Stats.TxDropped++
			b.Free()
			return
		}
		data = b.Bytes()
		netdev.CompleteChecksum(data, int(b.CsumStart-b.Pos()), int(b.CsumOffset))
		b.Csum = skb.CsumNone
	}
	dst := [6]byte(data[0:6])
	e := v.fdb.m[dst]
	if e == nil {
		// Unknown or multicast destination: the default destinations.
		// (With l2miss the kernel also sends an RTM_GETNEIGH miss
		// notification; usnet does not.)
		e = v.fdb.m[ZeroMAC]
	}
	if e == nil || len(e.remotes) == 0 {
		v.Stats.TxNoDest++
		d.Stats.TxDropped++
		b.Free()
		return
	}
	e.used = v.now()
	sport := v.srcPort(data)
	last := len(e.remotes) - 1
	for i := 0; i < last; i++ {
		c := v.vn.ip.Pool().Get(skb.DefaultHeadroom, len(data))
		if c == nil {
			d.Stats.TxDropped++
			continue
		}
		c.Append(data)
		c.Mark, c.Priority = b.Mark, b.Priority
		v.encap(c, e.remotes[i], sport)
	}
	v.encap(b, e.remotes[last], sport)
}

// encap wraps the frame in VXLAN, UDP and IPv4 towards r
// (vxlan_xmit_one) and hands it to the IP output.
func (v *Dev) encap(b *skb.Buf, r Remote, sport uint16) {
	d := v.dev
	inner := b.Bytes()
	dport := r.Port
	if dport == 0 {
		dport = v.cfg.Port
	}
	vni := v.cfg.VNI
	if r.HasVNI {
		vni = r.VNI
	}
	ifindex := r.Ifindex
	if ifindex == 0 && v.cfg.Lower != nil {
		ifindex = v.cfg.Lower.Ifindex()
	}
	tos := v.cfg.TOS
	if tos == 1 {
		tos = innerTOS(inner)
	}
	// The key lives in the device: a pointer to a local would escape
	// through the Router interface and allocate per packet.
	v.key = ipv4.FlowKey{Dst: r.IP, Src: v.cfg.Local, Oif: ifindex, TOS: tos &^ 3, Proto: unix.IPPROTO_UDP, Sport: sport, Dport: dport}
	rt, err := v.vn.ip.RouteOutput(&v.key)
	if err != nil {
		v.Stats.TxRouteErr++
		d.Stats.TxCarrierErrors++
		d.Stats.TxErrors++
		b.Free()
		return
	}
	if rt.Dev == d {
		// A route through ourselves would loop (vxlan_xmit_one's
		// "circular route").
		v.Stats.TxLoop++
		d.Stats.Collisions++
		b.Free()
		return
	}
	if rt.Type == unix.RTN_LOCAL && !v.cfg.NoLocalBypass {
		v.bypass(b, dport, vni)
		return
	}
	// ECN of the inner packet shows in the outer header
	// (ip_tunnel_ecn_encap).
	tos = ecnEncap(tos, innerTOS(inner))
	ttl := v.cfg.TTL
	if ttl == 0 && r.IP.IsMulticast() {
		ttl = 1
	}
	if v.cfg.TTLInherit {
		ttl = innerTTL(inner)
	}
	df := false
	switch v.cfg.DF {
	case DFSet:
		df = true
	case DFInherit:
		df = innerDF(inner)
	}
	h := b.Push(8 + HdrLen)
	if h == nil {
		if !b.Expand(Headroom+skb.DefaultHeadroom, 0) {
			d.Stats.TxDropped++
			b.Free()
			return
		}
		h = b.Push(8 + HdrLen)
	} else if b.Shared() {
		b.Pull(8 + HdrLen)
		if !b.Unshare() {
			d.Stats.TxDropped++
			b.Free()
			return
		}
		h = b.Push(8 + HdrLen)
	}
	src := rt.Src
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(b.Len()))
	h[6], h[7] = 0, 0
	binary.BigEndian.PutUint32(h[8:], flagI)
	binary.BigEndian.PutUint32(h[12:], vni<<8)
	b.SetL4()
	b.GSOSize, b.GSOType = 0, 0
	if !v.cfg.NoUDPCsum {
		c := ipv4.TransportChecksum(src, r.IP, unix.IPPROTO_UDP, b.Bytes())
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(h[6:], c)
	}
	if err := v.vn.ip.Output(b, src, r.IP, unix.IPPROTO_UDP, &rt, ipv4.SendOpts{TOS: tos, TTL: ttl, DF: df, Mark: b.Mark}); err != nil {
		d.Stats.TxErrors++
	}
}

// bypass delivers a frame whose tunnel endpoint is local straight to the
// device of that port and VNI (vxlan_encap_bypass).
func (v *Dev) bypass(b *skb.Buf, port uint16, vni uint32) {
	dst := v.vn.find(port, vni, netip.Addr{})
	if dst == nil || !dst.dev.IsUp() {
		v.dev.Stats.TxDropped++
		b.Free()
		return
	}
	b.Csum = skb.CsumNone
	bt := dst.rx
	bt.Add(b)
	dst.napi.Enqueue(bt)
}

// innerTOS returns the DS field of an inner IPv4 packet (0 otherwise).
func innerTOS(frame []byte) uint8 {
	if len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 {
		return frame[15]
	}
	return 0
}

func innerTTL(frame []byte) uint8 {
	if len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 {
		return frame[22]
	}
	return 0
}

func innerDF(frame []byte) bool {
	return len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 && frame[20]&0x40 != 0
}

// ecnEncap is INET_ECN_encapsulate: the outer ECN field copies the
// inner one, except that CE becomes ECT(0).
func ecnEncap(outer, inner uint8) uint8 {
	outer &^= 3
	ecn := inner & 3
	if ecn == 3 {
		ecn = 2
	}
	return outer | ecn
}

// srcPort picks the UDP source port from a hash of the inner flow, in
// the configured range or ip_local_port_range (udp_flow_src_port): one
// flow keeps one port, so the underlay's ECMP keeps it in order.
func (v *Dev) srcPort(frame []byte) uint16 {
	h := flowHash(frame, v.vn.salt)
	h ^= h << 16
	lo, hi := uint32(v.cfg.PortMin), uint32(v.cfg.PortMax)
	if lo >= hi {
		lo, hi = uint32(v.vn.ip.Sysctl.LocalPortLow), uint32(v.vn.ip.Sysctl.LocalPortHigh)+1
	}
	return uint16(uint64(h)*uint64(hi-lo)>>32 + uint64(lo))
}

// flowHash hashes the inner IPv4 addresses, protocol and ports, or the
// Ethernet header for other frames (skb_get_hash, then eth_get_headlen's
// fallback in udp_flow_src_port).
func flowHash(frame []byte, seed uint32) uint32 {
	h := seed ^ 2166136261
	mix := func(p []byte) {
		for _, c := range p {
			h ^= uint32(c)
			h *= 16777619
		}
	}
	if len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 {
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		mix(ip[12:20])
		mix(ip[9:10])
		frag := binary.BigEndian.Uint16(ip[6:]) & 0x3fff
		if (ip[9] == 6 || ip[9] == 17) && frag == 0 && len(ip) >= ihl+4 && ihl >= 20 {
			mix(ip[ihl : ihl+4])
		}
	} else {
		mix(frame[:14])
	}
	// final avalanche (murmur3 fmix32)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
