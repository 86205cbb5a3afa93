package netdev

import (
	"encoding/binary"

	"github.com/usnet/usnet/skb"
)

// ProtoHandler receives a batch of packets of one EtherType from dev, with
// the link-layer header pulled (L2 recorded in each Buf's Meta) and
// PktType set. It takes ownership of the Bufs and must leave bt empty.
type ProtoHandler func(dev *Device, bt *skb.Batch)

// RxResult tells the core what an RxHandler did with a frame.
type RxResult int

const (
	// RxPass: continue normal delivery on this device.
	RxPass RxResult = iota
	// RxConsumed: the handler took the Buf (forwarded or freed it).
	RxConsumed
)

// RxHandler sees each received frame before protocol demux (bridge port,
// bond slave, macvlan lower device), with the Ethernet header still on.
type RxHandler func(dev *Device, b *skb.Buf) RxResult

type protoEntry struct {
	etherType uint16
	handler   ProtoHandler
	batch     *skb.Batch
}

// AddProtocol registers the handler for an EtherType (dev_add_pack). One
// handler per EtherType; a second registration replaces the first.
func (t *Table) AddProtocol(etherType uint16, h ProtoHandler) {
	for i := range t.protos {
		if t.protos[i].etherType == etherType {
			t.protos[i].handler = h
			return
		}
	}
	t.protos = append(t.protos, protoEntry{etherType: etherType, handler: h, batch: skb.NewBatch(64)})
}

// Receive delivers a batch of frames that arrived on d
// (netif_receive_skb_list): statistics, taps, the rx handler, link-layer
// demux and the protocol handlers, which run once per EtherType with every
// matching frame of the batch. It takes ownership of the Bufs and leaves
// bt empty.
func (d *Device) Receive(bt *skb.Batch) {
	t := d.table
	now := t.net.Exec().Now()
	for _, b := range bt.Bufs() {
		d.Stats.RxPackets++
		d.Stats.RxBytes += uint64(b.Len())
		b.Ifindex = d.ifindex
		b.Stamp = int64(now)
		if !d.IsUp() {
			d.Stats.RxDropped++
			b.Free()
			continue
		}
		if len(t.taps) > 0 {
			t.deliverTaps(d, b, DirIn)
		}
		if d.rxHandler != nil {
			if d.rxHandler(d, b) == RxConsumed {
				continue
			}
		}
		d.demux(b)
	}
	bt.Reset()
	for i := range t.protos {
		p := &t.protos[i]
		if p.batch.Len() > 0 {
			p.handler(d, p.batch)
		}
	}
}

// demux parses the link-layer header (eth_type_trans) and queues the
// frame for its protocol.
func (d *Device) demux(b *skb.Buf) {
	var proto uint16
	switch d.typ {
	case ARPHRDEther, ARPHRDLoopback:
		data := b.Bytes()
		if len(data) < 14 {
			d.Stats.RxLengthErrors++
			d.Stats.RxErrors++
			b.Free()
			return
		}
		b.SetL2()
		dst := [6]byte(data[0:6])
		switch {
		case dst[0]&1 == 0:
			if dst == d.addr || d.typ == ARPHRDLoopback {
				b.PktType = skb.PacketHost
			} else {
				b.PktType = skb.PacketOtherHost
			}
		case dst == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}:
			b.PktType = skb.PacketBroadcast
		default:
			b.PktType = skb.PacketMulticast
			d.Stats.Multicast++
		}
		proto = binary.BigEndian.Uint16(data[12:14])
		b.Pull(14)
		if proto < 0x600 { // 802.3 length field: LLC frames, not handled
			d.Stats.RxNoHandler++
			b.Free()
			return
		}
	default:
		proto = b.Protocol
	}
	b.Protocol = proto
	if b.PktType == skb.PacketOtherHost && d.promisc == 0 {
		// Only taps and rx handlers see other hosts' frames; the IP
		// layer would drop them anyway (ip_rcv), counted there in Linux.
		d.Stats.RxOtherhostDropped++
		b.Free()
		return
	}
	t := d.table
	for i := range t.protos {
		if t.protos[i].etherType == proto {
			t.protos[i].batch.Add(b)
			return
		}
	}
	d.Stats.RxNoHandler++
	b.Free()
}
