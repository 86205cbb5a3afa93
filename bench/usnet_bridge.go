package bench

import (
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"github.com/usnet/usnet/drivers/bridge"
	"github.com/usnet/usnet/netdev"
	"github.com/usnet/usnet/skb"
	"github.com/usnet/usnet/stack"
)

// Bridge forwarding: 4 ports, 1,000 learned MACs (250 behind each port),
// 64-byte frames each addressed to a known MAC behind another port. Both
// stacks get ready-made frames injected into one port at a time in
// batches of 64, as a packet generator would, and count what their other
// ports transmit.
const (
	bridgePorts = 4
	bridgeMACs  = 1000
	// kernelBridgeForwardReason is why the kernel has no figure.
	kernelBridgeForwardReason = "offering the kernel's bridge ready-made frames needs pktgen or AF_PACKET/AF_XDP generators not in this suite"
)

// bridgeMAC is the i-th host MAC of the bridge scenario.
func bridgeMAC(i int) [6]byte { return [6]byte{0x02, 0, 0, 1, byte(i >> 8), byte(i)} }

// bridgeFrames builds the frames of one round: for every MAC, a frame
// from it to the next MAC behind another port.
func bridgeFrames() [][]byte {
	src, dst := netip.MustParseAddr("10.202.0.1"), netip.MustParseAddr("10.202.0.2")
	out := make([][]byte, bridgeMACs)
	for i := range out {
		out[i] = udpFrame64(bridgeMAC((i+1)%bridgeMACs), bridgeMAC(i), src, dst)
	}
	return out
}

// bridgeSink is a port device that counts and frees what the bridge
// sends it.
type bridgeSink struct{ n int }

func (*bridgeSink) Kind() string                           { return "sink" }
func (*bridgeSink) Open(*netdev.Device) error              { return nil }
func (*bridgeSink) Stop(*netdev.Device)                    {}
func (*bridgeSink) Uninit(*netdev.Device)                  {}
func (s *bridgeSink) Xmit(_ *netdev.Device, bt *skb.Batch) { s.n += bt.Len(); bt.Free() }

// usnetBridgeForward runs usnet's bridge on a simulation (one goroutine):
// frames enter a port's receive path (netdev.Device.Receive, where a
// driver's NAPI poll hands them over) and leave through the sink ports.
func usnetBridgeForward(env *Env) (Figures, string, error) {
	s, err := stack.NewSim(1)
	if err != nil {
		return nil, "", err
	}
	ns, err := s.Add("sw")
	if err != nil {
		return nil, "", err
	}
	var br *bridge.Bridge
	ports := make([]*netdev.Device, bridgePorts)
	sinks := make([]*bridgeSink, bridgePorts)
	if br, err = bridge.New(ns.Dev, "br0"); err != nil {
		return nil, "", err
	}
	for i := range ports {
		sinks[i] = &bridgeSink{}
		ports[i], err = ns.Dev.Register(netdev.Config{Name: fmt.Sprintf("p%d", i), MTU: 1500, MaxMTU: 65535,
			Addr: [6]byte{0x02, 0, 0, 2, 0, byte(i)}, Broadcast: netdev.BroadcastMAC, Type: netdev.ARPHRDEther}, sinks[i], 0)
		if err != nil {
			return nil, "", err
		}
		if err := br.AddPort(ports[i]); err != nil {
			return nil, "", err
		}
		if err := ports[i].Up(); err != nil {
			return nil, "", err
		}
	}
	if err := br.Device().Up(); err != nil {
		return nil, "", err
	}
	frames := bridgeFrames()
	pool := s.Pool()
	const batch = 64
	bt := skb.NewBatch(batch)
	// MAC i sits behind port i%4: one frame from each teaches the bridge.
	for i, f := range frames {
		b := pool.Get(skb.DefaultHeadroom, len(f))
		copy(b.Put(len(f)), f)
		bt.Add(b)
		ports[i%bridgePorts].Receive(bt)
	}
	if n := br.Learned(); n != bridgeMACs {
		return nil, "", fmt.Errorf("usnet bridge learned %d of %d MACs", n, bridgeMACs)
	}
	count := func() int {
		n := 0
		for _, k := range sinks {
			n += k.n
		}
		return n
	}
	before := count()
	budget := Pick(env, 2*time.Second, 100*time.Millisecond)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	sent, next := 0, 0
	start := time.Now()
	for sent < 1024 || time.Since(start) < budget {
		for range 16 {
			// A batch comes in on one port: MACs next, next+4, … all
			// sit behind port next%4.
			in := ports[next%bridgePorts]
			for j := range batch {
				f := frames[(next+j*bridgePorts)%bridgeMACs]
				b := pool.Get(skb.DefaultHeadroom, len(f))
				copy(b.Put(len(f)), f)
				bt.Add(b)
			}
			in.Receive(bt)
			sent += batch
			next = (next + 1) % bridgeMACs
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	got := count() - before
	if got != sent {
		return nil, "", fmt.Errorf("usnet bridge forwarded %d of %d frames", got, sent)
	}
	allocs := float64(m1.Mallocs-m0.Mallocs) / float64(sent)
	return Figures{"forward": float64(sent) / el.Seconds()},
		fmt.Sprintf("%d frames in batches of %d into one of %d ports, %d learned MACs, %.2f allocs/frame, one goroutine", sent, batch, bridgePorts, bridgeMACs, allocs), nil
}
