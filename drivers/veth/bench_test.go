package veth_test

import (
	"testing"
	"time"

	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// BenchmarkVethBatch64 moves batches of 64 1500-byte frames from one
// namespace to another over veth on the simulation executor: transmit,
// NAPI ring, poll, receive demux and a protocol handler that frees them.
// ns/op is per batch; the frames/s metric is the rate per core.
func BenchmarkVethBatch64(b *testing.B) {
	s, _ := stack.NewSim(1)
	na, nb, da, db := pair(b, s)
	_ = na
	nb.Dev.AddProtocol(etherTest, func(dev *netdev.Device, bt *skb.Batch) { bt.Free() })
	da.Up()
	db.Up()
	s.Sim.RunFor(time.Millisecond)
	pool := s.Pool()
	bt := skb.NewBatch(64)
	dst, src := db.Addr(), da.Addr()
	fill := func() {
		for range 64 {
			p := pool.Get(skb.DefaultHeadroom, 1500)
			h := p.Put(1500)
			copy(h[0:6], dst[:])
			copy(h[6:12], src[:])
			h[12], h[13] = etherTest>>8, etherTest&0xff
			bt.Add(p)
		}
	}
	fill()
	da.Xmit(bt)
	s.Sim.RunFor(time.Millisecond)
	b.ReportAllocs()
	b.SetBytes(64 * 1500)
	for b.Loop() {
		fill()
		da.Xmit(bt)
		for s.Sim.Step() {
		}
	}
	b.ReportMetric(float64(b.N)*64/b.Elapsed().Seconds(), "frames/s")
	if db.Stats.RxPackets == 0 || pool.Live() != 0 {
		b.Fatalf("rx %d live %d", db.Stats.RxPackets, pool.Live())
	}
}
