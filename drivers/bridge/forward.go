package bridge

import (
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
)

// handle is the rx handler of every port (br_handle_frame): it consumes
// every frame, forwarding, flooding, delivering it to the bridge's own
// stack or dropping it.
func (p *Port) handle(_ *netdev.Device, b *skb.Buf) netdev.RxResult {
	br := p.br
	data := b.Bytes()
	if len(data) < 14 {
		br.Stats.InvalidDrops++
		b.Free()
		return netdev.RxConsumed
	}
	dst := [6]byte(data[0:6])
	src := [6]byte(data[6:12])
	if src[0]&1 != 0 || src == ([6]byte{}) {
		br.Stats.InvalidDrops++
		b.Free()
		return netdev.RxConsumed
	}
	if dst[0] == 0x01 && dst[1] == 0x80 && dst[2] == 0xc2 && dst[3] == 0 && dst[4] == 0 && dst[5]&0xf0 == 0 {
		// Link-local group addresses are never forwarded, except the
		// STP group address when STP is off (so that loops of STP
		// bridges still see each other) and what group_fwd_mask allows.
		switch {
		case dst == br.groupAddr && br.stp:
			br.rcvBPDU(p, b)
			return netdev.RxConsumed
		case dst == br.groupAddr, br.groupFwdMask&(1<<dst[5]) != 0:
		default:
			br.Stats.LocalDrops++
			b.Free()
			return netdev.RxConsumed
		}
	}
	if p.state != StateLearning && p.state != StateForwarding {
		br.Stats.StateDrops++
		b.Free()
		return netdev.RxConsumed
	}
	vid, ok := br.ingressVlan(&p.vlans, b)
	if !ok {
		br.Stats.VlanDrops++
		b.Free()
		return netdev.RxConsumed
	}
	// Device.Receive stamped the frame with the namespace clock: no
	// second clock read per frame.
	now := time.Duration(b.Stamp)
	if p.flags&FlagLearning != 0 {
		br.learn(p, src, vid, now)
	}
	if p.state == StateLearning {
		b.Free()
		return netdev.RxConsumed
	}
	br.forward(p, b, dst, vid, now)
	return netdev.RxConsumed
}

// Xmit sends frames from the bridge's own stack (br_dev_xmit): known
// unicast to its port, the rest flooded.
func (br *Bridge) Xmit(d *netdev.Device, bt *skb.Batch) {
	now := br.exec.Now()
	for _, b := range bt.Bufs() {
		data := b.Bytes()
		if len(data) < 14 {
			br.Stats.InvalidDrops++
			b.Free()
			continue
		}
		vid, ok := br.ingressVlan(&br.vlans, b)
		if !ok {
			br.Stats.VlanDrops++
			b.Free()
			continue
		}
		br.forward(nil, b, [6]byte(b.Bytes()[0:6]), vid, now)
	}
	bt.Reset()
}

// forward sends b, which came in on in (nil: from the bridge itself),
// on its way (br_handle_frame_finish, br_forward, br_flood).
func (br *Bridge) forward(in *Port, b *skb.Buf, dst [6]byte, vid uint16, now time.Duration) {
	if dst[0]&1 != 0 {
		flag := FlagMcastFlood
		if dst == netdev.BroadcastMAC {
			flag = FlagBcastFlood
		}
		br.flood(in, b, vid, flag, in != nil)
		return
	}
	e := br.fdb.lookup(dst, vid)
	if e == nil {
		br.flood(in, b, vid, FlagFlood, false)
		return
	}
	if e.local {
		if in != nil {
			br.deliverUp(b, vid)
		} else {
			b.Free()
		}
		return
	}
	if e.used != now {
		e.used = now
	}
	if !br.shouldDeliver(in, e.port, vid) {
		br.Stats.StateDrops++
		b.Free()
		return
	}
	br.Stats.Forwarded++
	br.egress(e.port, b, vid)
}

// shouldDeliver is should_deliver: q forwards, is not where the frame
// came from (unless hairpin), carries the VLAN, and is not isolated from
// the ingress port.
func (br *Bridge) shouldDeliver(in, q *Port, vid uint16) bool {
	if q.state != StateForwarding {
		return false
	}
	if q == in && q.flags&FlagHairpin == 0 {
		return false
	}
	if br.vlanFiltering && !q.vlans.has(vid) {
		return false
	}
	if in != nil && in != q && in.flags&q.flags&FlagIsolated != 0 {
		return false
	}
	return true
}

// flood sends b to every port that allows flag; with local a copy goes to
// the bridge's own stack.
func (br *Bridge) flood(in *Port, b *skb.Buf, vid uint16, flag PortFlags, local bool) {
	var last *Port
	for _, q := range br.ports {
		if q.flags&flag == 0 || !br.shouldDeliver(in, q, vid) {
			continue
		}
		if last != nil {
			br.egress(last, b.Clone(), vid)
		}
		last = q
	}
	if last != nil {
		br.Stats.Flooded++
		if local {
			br.egress(last, b.Clone(), vid)
			br.deliverUp(b, vid)
			return
		}
		br.egress(last, b, vid)
		return
	}
	if local {
		br.deliverUp(b, vid)
		return
	}
	b.Free()
}

// egress hands b to port q, tagged unless q sends vid untagged
// (br_handle_vlan, br_dev_queue_push_xmit).
func (br *Bridge) egress(q *Port, b *skb.Buf, vid uint16) {
	if b.GSOSize == 0 && b.Len()-14 > q.dev.MTU() {
		q.dev.Stats.TxDropped++
		b.Free()
		return
	}
	if br.vlanFiltering && !q.vlans.isUntagged(vid) && !pushTag(b, br.vlanProto, vid) {
		b.Free()
		return
	}
	br.tx.Add(b)
	q.dev.Xmit(br.tx)
}

// deliverUp passes b to the bridge device's own stack (br_pass_frame_up).
func (br *Bridge) deliverUp(b *skb.Buf, vid uint16) {
	if br.vlanFiltering {
		if !br.vlans.has(vid) {
			br.Stats.VlanDrops++
			b.Free()
			return
		}
		if !br.vlans.isUntagged(vid) && !pushTag(b, br.vlanProto, vid) {
			b.Free()
			return
		}
	}
	br.Stats.Delivered++
	br.up.Add(b)
	br.dev.Receive(br.up)
}
