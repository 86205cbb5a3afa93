package bridge_test

import (
	"testing"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// sink is a port device that counts and frees what it is given.
type sink struct{ n int }

func (*sink) Kind() string                           { return "sink" }
func (*sink) Open(*netdev.Device) error              { return nil }
func (*sink) Stop(*netdev.Device)                    {}
func (*sink) Uninit(*netdev.Device)                  {}
func (s *sink) Xmit(_ *netdev.Device, bt *skb.Batch) { s.n += bt.Len(); bt.Free() }

func mac(i int) [6]byte { return [6]byte{0x02, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)} }

// BenchmarkBridgeForward forwards 64-byte frames between 4 ports with
// 1,000 learned MACs (250 behind each port); each frame goes to a known
// MAC on another port.
func BenchmarkBridgeForward(b *testing.B) {
	const nPorts, nMACs = 4, 1000
	s, _ := stack.NewSim(1)
	ns, _ := s.Add("sw")
	var br *bridge.Bridge
	var ports [nPorts]*netdev.Device
	sinks := [nPorts]*sink{}
	ns.Exec().Do(func() {
		br, _ = bridge.New(ns.Dev, "br0")
		for i := range ports {
			sinks[i] = &sink{}
			ports[i], _ = ns.Dev.Register(netdev.Config{Name: "p%d", MTU: 1500, MaxMTU: 65535,
				Addr: mac(0x100000 + i), Broadcast: netdev.BroadcastMAC, Type: netdev.ARPHRDEther}, sinks[i], 0)
			if err := br.AddPort(ports[i]); err != nil {
				b.Fatal(err)
			}
			ports[i].Up()
		}
		br.Device().Up()
	})
	pool := ns.Dev.Pool()
	bt := skb.NewBatch(64)
	frame := func(src, dst int) *skb.Buf {
		f := pool.Get(skb.DefaultHeadroom, 64)
		h := f.Put(64)
		d, sm := mac(dst), mac(src)
		copy(h[0:6], d[:])
		copy(h[6:12], sm[:])
		h[12], h[13] = 0x08, 0x00
		return f
	}
	// Learn: MAC i sits behind port i%4.
	ns.Exec().Do(func() {
		for i := range nMACs {
			bt.Add(frame(i, 0x200000))
			ports[i%nPorts].Receive(bt)
		}
	})
	if br.Learned() != nMACs {
		b.Fatalf("learned %d", br.Learned())
	}
	before := sinks[0].n + sinks[1].n + sinks[2].n + sinks[3].n
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	ns.Exec().Do(func() {
		for i := 0; i < b.N; i += 64 {
			src := i % nMACs
			in := ports[src%nPorts]
			for j := 0; j < 64; j++ {
				s := (src + j*nPorts) % nMACs // same port
				bt.Add(frame(s, (s+1)%nMACs))
			}
			in.Receive(bt)
		}
	})
	b.StopTimer()
	fwd := sinks[0].n + sinks[1].n + sinks[2].n + sinks[3].n - before
	if fwd < b.N {
		b.Fatalf("forwarded %d of %d", fwd, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
}
